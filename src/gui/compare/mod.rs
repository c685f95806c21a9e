//! The Compare view: every imputer of `gibbs-fa compare` (column means, hard-impute,
//! SoftImpute, k-NN, factor analysis over M, the mixture of factor analysers) on the chain's
//! own data and masks, each method's size chosen on held-out pixels, beside the running
//! factor-analysis chain. A table of RMSEs and wall times, and the chosen digits
//! reconstructed by each method side by side.
//!
//! The parts: [`run`] the comparison job and its settings; [`table`] the table and the
//! pictures. A result is kept with the data version of the experiment it was computed on
//! (as the PCA view keys its cache), and is marked stale once the data or masks change.
//!
//! Threads: everything here runs on the UI thread within a frame. "Run comparison" queues a
//! command; the app then calls [`CompareView::start`], which spawns one [`Job`] sharing the
//! experiment's `Arc` (no copy in the frame). The view polls it each frame, never waiting.
//! Textures are made once per result (the cache's version changes only when one arrives).

mod run;
mod table;

use std::sync::Arc;

use crate::experiment::Experiment;
use crate::model::SamplerSettings;

use super::command::{AppCommand, Commands, Purpose};
use super::job::{Job, Outcome};
use super::job_slot::JobSlot;
use super::live::LiveState;
use super::texture::TextureCache;

pub use run::{CompareOptions, Finished};

/// Images shown side by side when the reconstructions view watches none.
pub const DEFAULT_IMAGES: usize = 6;

/// What the app knows of the running factor-analysis chain, for its row of the table.
#[derive(Clone, Copy, Debug)]
pub struct ChainRow {
    pub m: usize,
    pub sweeps: usize,
    pub rmse_posterior_mean: Option<f64>,
    pub seconds: f64,
}

/// The Compare view's state: options, the job in progress, the newest result.
#[derive(Default)]
pub struct CompareView {
    options: CompareOptions,
    /// The running comparison, the newest result and the last failure (or why it could not
    /// start), each with its data version.
    slot: JobSlot<Finished>,
    /// Set when the user cancelled, until the next start.
    cancelled: bool,
    textures: TextureCache,
    /// The table being written to a file, and what the last write said.
    saving: Option<Job<String>>,
    saved: Option<Result<String, String>>,
}

impl CompareView {
    /// Starts a comparison on `experiment` (data version `data`) with the chain's `model`
    /// settings, keeping the images the reconstructions view watches (`watched`), or the
    /// first [`DEFAULT_IMAGES`]. A comparison already running is left alone.
    pub fn start(
        &mut self,
        ctx: &egui::Context,
        experiment: &Arc<Experiment>,
        data: u64,
        model: &SamplerSettings,
        watched: &[usize],
    ) {
        if self.slot.pending.is_some() {
            return;
        }
        let keep: Vec<usize> = if watched.is_empty() {
            (0..experiment.n.min(DEFAULT_IMAGES)).collect()
        } else {
            watched.iter().copied().take(DEFAULT_IMAGES).collect()
        };
        let settings = match run::settings_for(model, &self.options, keep) {
            Ok(s) => s,
            Err(message) => {
                self.slot.error = Some((data, message));
                return;
            }
        };
        self.slot.error = None;
        self.cancelled = false;
        let experiment = Arc::clone(experiment);
        let job = Job::spawn("comparing imputers", ctx, move |p| {
            run::run_comparison(experiment, &settings, p)
        });
        self.slot.pending = Some((data, job));
    }

    /// Stops the running comparison: the job is dropped at once (its thread stops at its
    /// next check and its result, if any, is dropped off the UI thread).
    pub fn cancel(&mut self) {
        if self.slot.pending.take().is_some() {
            self.cancelled = true;
        }
    }

    /// Collects a finished comparison, if any.
    pub fn poll(&mut self) {
        if self.slot.poll() {
            self.cancelled = true;
        }
    }

    /// Writes the newest result's table to `path` on a job: a JSON list with one object per
    /// fit, as `gibbs-fa compare` writes compare.json.
    pub fn save(&mut self, ctx: &egui::Context, path: std::path::PathBuf) {
        let Some((_, result)) = &self.slot.result else {
            self.saved = Some(Err("there is no comparison to save yet".into()));
            return;
        };
        let result = Arc::clone(result);
        self.saved = None;
        self.saving = Some(Job::spawn("saving the comparison", ctx, move |_| {
            let text = serde_json::to_string_pretty(&result.comparison.entries)
                .map_err(|e| e.to_string())?;
            crate::atomic_write::write_bytes(&path, (text + "\n").as_bytes())
                .map_err(|e| format!("{e}\n\nFile: {}", path.display()))?;
            Ok(path.display().to_string())
        }));
    }

    /// Collects a finished save, if any.
    fn poll_save(&mut self) {
        if let Some(job) = &mut self.saving
            && let Some(outcome) = job.poll()
        {
            self.saving = None;
            self.saved = match outcome {
                Outcome::Finished(path) => Some(Ok(path)),
                Outcome::Failed(detail) => Some(Err(detail)),
                Outcome::Cancelled => None,
            };
        }
    }

    /// What the last save said (the path written, or why not), once it has ended.
    #[cfg(test)]
    pub fn saved(&mut self) -> Option<&Result<String, String>> {
        self.poll_save();
        self.saved.as_ref()
    }

    /// True while a comparison runs.
    pub fn is_running(&self) -> bool {
        self.slot.pending.is_some()
    }

    /// The newest result and the data version it was computed on.
    #[cfg(test)]
    pub fn result(&self) -> Option<(u64, &Finished)> {
        self.slot.result.as_ref().map(|(v, r)| (*v, r.as_ref()))
    }

    /// Whether the newest result belongs to older data or masks than `data`.
    pub fn is_stale(&self, data: u64) -> bool {
        self.slot.result.as_ref().is_some_and(|(v, _)| *v != data)
    }

    #[cfg(test)]
    pub fn options_mut(&mut self) -> &mut CompareOptions {
        &mut self.options
    }

    /// Draws the view for the chain whose data version is `data`; buttons queue commands.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        live: &LiveState,
        data: u64,
        chain: ChainRow,
        commands: &mut Commands,
    ) {
        self.textures.begin_frame(600);
        self.poll();
        self.poll_save();
        ui.label(
            "Every imputer of \"gibbs-fa compare\" on this chain's data and masks. A further \
             share of the observed pixels is held out: each method is fitted without them, \
             its size (r, lambda, k, M) chosen by the RMSE on them, and scored on the masked \
             pixels.",
        );
        self.controls(ui, commands);
        if let Some((started_on, job)) = &self.slot.pending {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.add(
                    egui::ProgressBar::new(job.fraction().unwrap_or(0.0))
                        .desired_width(260.0)
                        .show_percentage(),
                );
                ui.label(job.status());
            });
            if *started_on != data {
                ui.colored_label(
                    ui.visuals().warn_fg_color,
                    "The data or masks changed after this comparison started: its result \
                     will be stale.",
                );
            }
        } else if self.cancelled {
            ui.label("Comparison cancelled.");
        }
        match &self.saved {
            Some(Ok(path)) => {
                ui.label(format!("Saved the table to {path}"));
            }
            Some(Err(detail)) => {
                ui.colored_label(
                    ui.visuals().error_fg_color,
                    format!("Could not save the table: {detail}"),
                );
            }
            None => {}
        }
        if let Some((_, message)) = &self.slot.error {
            ui.colored_label(
                ui.visuals().error_fg_color,
                format!("The comparison failed: {message}"),
            );
        }
        let Some((_, result)) = self.slot.result.clone() else {
            if self.slot.pending.is_none() {
                ui.label(
                    "No comparison yet. Run one: at N = 2,000 it takes a few minutes on \
                     two cores, at N = 10,000 several times longer.",
                );
            }
            return;
        };
        if self.is_stale(data) {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                "Stale: the data or masks changed since this comparison ran. Run it again \
                 for the current ones.",
            );
        }
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show(ui, |ui| {
                table::table(ui, &result, chain);
                ui.add_space(8.0);
                table::pictures(ui, &result, live, &mut self.textures, self.slot.version);
            });
    }

    fn controls(&mut self, ui: &mut egui::Ui, commands: &mut Commands) {
        let running = self.is_running();
        ui.horizontal_wrapped(|ui| {
            if ui
                .add_enabled(!running, egui::Button::new("Run comparison"))
                .clicked()
            {
                commands.push(AppCommand::RunComparison);
            }
            if ui
                .add_enabled(running, egui::Button::new("Cancel comparison"))
                .clicked()
            {
                commands.push(AppCommand::CancelComparison);
            }
            let can_save = self.slot.result.is_some() && self.saving.is_none();
            if ui
                .add_enabled(can_save, egui::Button::new("Save table as JSON…"))
                .on_hover_text("One object per fit, as gibbs-fa compare writes compare.json")
                .clicked()
            {
                commands.push(AppCommand::Ask(Purpose::SaveComparison));
            }
            ui.separator();
            // Each widget enabled on its own: a scope (`add_enabled_ui`) inside this wrapping
            // row got only the row's remaining width and stacked its widgets in a sliver, the
            // mixture's fields off the window's right edge (projector mode, 1280 x 720).
            let o = &mut self.options;
            let (enabled, mixture) = (!running, !running && o.mixture);
            let value = crate::gui::wrap::value_width(ui);
            crate::gui::wrap::labelled(
                ui,
                enabled,
                "Held out:",
                value,
                egui::DragValue::new(&mut o.holdout_percent)
                    .range(0.5..=40.0)
                    .speed(0.1)
                    .suffix("%"),
            )
            .on_hover_text("Share of the observed pixels hidden to choose each size");
            ui.add_enabled(
                enabled,
                egui::Checkbox::new(&mut o.mixture, "Mixture of FA"),
            )
            .on_hover_text("Also fit a mixture of factor analysers (slowest)");
            for (name, value_ref, max) in [
                ("K:", &mut o.mfa_k, 50),
                ("M per component:", &mut o.mfa_m, 100),
                ("sweeps:", &mut o.mfa_sweeps, 2000),
            ] {
                let min = if name == "sweeps:" { 2 } else { 1 };
                let drag = egui::DragValue::new(value_ref).range(min..=max);
                crate::gui::wrap::labelled(ui, mixture, name, value, drag);
            }
        });
    }
}
