//! The experiments to show a class ([`crate::lesson::presets`]): a list to choose from, the
//! chosen one's paragraph on what to look for, and one button per run that queues
//! [`AppCommand::ApplyPreset`]; and the settings a run puts in place of the user's.
//!
//! Runs on the UI thread within a frame; plain data, never blocks.

use egui::{RichText, Ui};

use super::super::command::{AppCommand, Commands};
use super::super::settings::Settings;
use crate::lesson::{Preset, PresetRun};

/// The settings that run `run` of a preset applies on top of `current`: its images, noise,
/// masks, sampler settings, seeds and (for a run of several chains) the number of chains; the
/// data source stays and painted masks are dropped.
pub fn preset_settings(current: &Settings, run: &PresetRun) -> Settings {
    let mut s = current.clone();
    let e = &run.experiment;
    s.data.n = e.n;
    s.data.noise_std = e.noise_std;
    s.data.seed = e.noise_seed;
    s.masks.params = e.mask.clone();
    s.masks.seed = e.mask_seed;
    s.model = run.settings.clone();
    s.painted = Default::default();
    // A run of several chains sets K; a one-chain run keeps the user's K (the diagnostics).
    if run.chains > 1 {
        s.chains = run.chains;
    }
    s
}

/// Where to look for a run of several chains (they feed the Diagnostics tab).
pub fn caveat(run: &PresetRun) -> Option<String> {
    (run.chains > 1).then(|| {
        format!(
            "This run restarts with {} chains: their traces overlay in the Traces tab, and the \
             Diagnostics tab says when they agree.",
            run.chains
        )
    })
}

/// The list of experiments and the chosen one's text and run buttons.
pub fn experiments_ui(
    ui: &mut Ui,
    presets: &[Preset],
    chosen: &mut usize,
    applied: Option<(usize, usize)>,
    commands: &mut Commands,
) {
    ui.horizontal_wrapped(|ui| {
        for (k, p) in presets.iter().enumerate() {
            ui.selectable_value(chosen, k, p.title);
        }
    });
    let Some(p) = presets.get(*chosen) else {
        return;
    };
    ui.add_space(4.0);
    ui.label(RichText::new("What to look for, and why").heading());
    ui.label(
        RichText::new(p.look_for).size(ui.style().text_styles[&egui::TextStyle::Body].size * 1.15),
    );
    ui.horizontal_wrapped(|ui| {
        for (k, run) in p.runs.iter().enumerate() {
            let text = format!("Run: {}", run.label);
            let hover = format!(
                "Restart the main chain: N = {}, M = {}, {} sweeps (burn-in {}), seed {}",
                run.experiment.n,
                run.settings.hyper.m,
                run.settings.sweeps,
                run.settings.burn_in,
                run.settings.seed
            );
            if ui.button(text).on_hover_text(hover).clicked() {
                commands.push(AppCommand::ApplyPreset {
                    preset: p.id.to_owned(),
                    run: k,
                });
            }
        }
    });
    // Each caveat once (two runs of four chains each have the same one).
    let mut notes: Vec<String> = p.runs.iter().filter_map(caveat).collect();
    notes.dedup();
    for note in notes {
        ui.label(RichText::new(note).weak());
    }
    if let Some((pk, rk)) = applied
        && let Some(run) = presets.get(pk).and_then(|p| p.runs.get(rk))
    {
        ui.label(format!(
            "Main chain: “{}”, run “{}” (see the Traces and Reconstructions tabs).",
            presets[pk].title, run.label
        ));
    }
}
