//! The window's frame around the views: the top bar (run controls, export menu, theme, zoom),
//! the status bar, the banner about settings that restart the chain, and the overlay shown
//! while files are dragged over the window. Each only draws and queues [`AppCommand`]s.
//!
//! UI thread; nothing here blocks.

use crate::sampler::RunState;
use egui::{Color32, RichText, Ui};

use super::chain::{Chain, ChainManager};
use super::command::Purpose;
use super::command::{AppCommand, Commands};
use super::controls::{self, FRAME_WINDOW, FrameStats, RunStatus};
use super::export::{Exporter, MenuChoice};
use super::files::Dropped;

/// What the export menu needs to know.
pub struct ExportMenu {
    /// A chain exists to export from.
    pub enabled: bool,
    /// An export is on its way (one at a time).
    pub busy: bool,
    /// Posterior samples for the conditional completion exist.
    pub has_samples: bool,
}

/// The top bar: title, run controls, export menu; theme, zoom and frame times at the right.
pub fn top_bar(
    ui: &mut Ui,
    status: &RunStatus,
    menu: ExportMenu,
    show_frame_times: &mut bool,
    commands: &mut Commands,
) {
    // The right side is laid out first; the run controls wrap onto a second line when the
    // window is narrow or zoomed in, instead of running under the theme buttons.
    egui::containers::Sides::new().shrink_left().show(
        ui,
        |ui| {
            ui.horizontal_wrapped(|ui| {
                ui.label(RichText::new("gibbs-fa").strong().size(16.0))
                    .on_hover_text("Bayesian factor analysis with missing data, by Gibbs sampling");
                ui.separator();
                if let Some(action) = controls::ui(ui, status) {
                    commands.push(AppCommand::Run(action));
                }
                ui.separator();
                ui.add_enabled_ui(menu.enabled, |ui| {
                    ui.menu_button("Export", |ui| {
                        match Exporter::menu_ui(ui, menu.busy, menu.has_samples) {
                            Some(MenuChoice::Export(kind)) => {
                                commands.push(AppCommand::Ask(Purpose::Export(kind)));
                            }
                            Some(MenuChoice::OpenSession) => {
                                commands.push(AppCommand::Ask(Purpose::OpenSession));
                            }
                            None => {}
                        }
                    })
                    .response
                    .on_hover_text(
                        "Save the view as PNG, the traces as CSV, the imputed data or the \
                         masks as IDX; save or open a session",
                    );
                });
            });
        },
        |ui| {
            theme_switch(ui);
            zoom_switch(ui);
            ui.toggle_value(show_frame_times, "Frame times")
                .on_hover_text("Show how long the UI takes per frame (debug readout)");
        },
    );
}

/// The status bar: the data, the experiment's size, painted masks, the run state and, on
/// demand, the frame times.
pub fn status_bar(
    ui: &mut Ui,
    data: &str,
    synthetic: bool,
    chain: Option<&Chain>,
    frames: Option<&FrameStats>,
    commands: &mut Commands,
) {
    ui.horizontal_wrapped(|ui| {
        let colour = if synthetic {
            ui.visuals().warn_fg_color
        } else {
            ui.visuals().text_color()
        };
        ui.label(RichText::new(format!("Data: {data}")).color(colour));
        match chain {
            Some(c) => {
                let e = c.experiment();
                ui.label(format!(
                    "N = {}, D = {} ({} x {}), M = {}, {:.1}% missing",
                    e.n,
                    e.d(),
                    e.height,
                    e.width,
                    c.settings.model.hyper.m,
                    100.0 * c.live.missing_fraction()
                ));
                let painted = c.settings.painted.len();
                if painted > 0 {
                    let plural = if painted == 1 { "" } else { "s" };
                    ui.label(
                        RichText::new(format!("{painted} painted mask{plural}"))
                            .color(ui.visuals().warn_fg_color),
                    )
                    .on_hover_text("Digits whose mask was painted in the mask editor");
                }
                let chains = c.others.as_ref().and_then(|o| o.live.state());
                ui.label(state_label(c.state(), chains));
                if let Some(others) = &c.others
                    && super::chains_live::status(ui, &others.live).clicked()
                {
                    commands.push(AppCommand::ShowView(super::views::ViewTab::Diagnostics));
                }
                fallbacks(ui, &c.handle.fallbacks());
            }
            None => {
                ui.label("no chain yet");
            }
        }
        if let Some(frames) = frames {
            frame_times(ui, frames);
        }
    });
}

/// The run's state for the status bar: chain 1's (the one the views show), and the K chains'
/// when they are elsewhere (chain 1 often finishes a few sweeps before the others, which share
/// the cores with it).
fn state_label(chain_1: RunState, chains: Option<RunState>) -> String {
    match chains {
        Some(all) if all != chain_1 => {
            format!("state: {} (chain 1 {})", all.name(), chain_1.name())
        }
        _ => format!("state: {}", chain_1.name()),
    }
}

/// The numerical fallbacks of the run so far: zero in a healthy run, said plainly otherwise.
fn fallbacks(ui: &mut Ui, fallbacks: &crate::model::Fallbacks) {
    let tip = "Times the sampler had to bend its numerics (a Cholesky needing jitter, a \
               sigma^2 draw clamped, a prior precision clamped...). Each one means the chain \
               sampled something slightly other than the model for a moment.";
    if fallbacks.total() == 0 {
        ui.label("numerical fallbacks: 0").on_hover_text(tip);
    } else {
        ui.label(RichText::new(fallbacks.describe()).color(ui.visuals().warn_fg_color))
            .on_hover_text(tip);
    }
}

fn frame_times(ui: &mut Ui, frames: &FrameStats) {
    let (last, worst) = (frames.last(), frames.worst());
    ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
        let over = worst.cpu.max(worst.ui) > 33.0;
        let text = RichText::new(format!(
            "ui {:.1} ms, worst {:.1} ms; frame CPU worst {:.1} ms (last {} s)",
            last.ui,
            worst.ui,
            worst.cpu,
            FRAME_WINDOW.as_secs()
        ))
        .monospace()
        .small();
        let text = if over {
            text.color(ui.visuals().warn_fg_color)
        } else {
            text
        };
        ui.label(text).on_hover_text(
            "Time spent building the UI each frame, and eframe's CPU time per frame \
             (UI plus tessellation and painting); 33 ms is 30 frames a second.",
        );
    });
}

/// The banner saying that changed settings restart the chain, with the choice for a long run.
pub fn restart_banner(
    ui: &mut Ui,
    reasons: &[&'static str],
    chains: &ChainManager,
    commands: &mut Commands,
) {
    let Some(chain) = chains.chain() else {
        return;
    };
    let opening = chains.opening();
    if reasons.is_empty() && opening.is_none() {
        return;
    }
    let colour = Color32::from_rgb(220, 130, 40);
    egui::Frame::group(ui.style())
        .stroke(egui::Stroke::new(1.5, colour))
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.horizontal_wrapped(|ui| {
                if !reasons.is_empty() {
                    ui.label(
                        RichText::new(format!("Changed: {}.", reasons.join(", "))).color(colour),
                    );
                }
                if let Some(name) = opening {
                    ui.spinner();
                    ui.label(format!(
                        "Opening the session {name}: {}…",
                        chains.build_status().unwrap_or("starting")
                    ));
                    cancel_button(ui, commands);
                } else if chains.is_building() {
                    ui.spinner();
                    ui.label(format!(
                        "Restarting the chain with the new settings: {}…",
                        chains.build_status().unwrap_or("starting")
                    ));
                    cancel_button(ui, commands);
                } else if chains.is_long_run() && !chains.restart_confirmed() {
                    ui.label(format!(
                        "Applying restarts the chain and discards its {} sweeps.",
                        chain.live.iteration()
                    ));
                    if ui
                        .button("Restart now")
                        .on_hover_text("Discard this chain and start one with the new settings")
                        .clicked()
                    {
                        commands.push(AppCommand::ConfirmRestart);
                    }
                    if ui
                        .button("Keep this chain")
                        .on_hover_text("Undo the changes that need a restart")
                        .clicked()
                    {
                        commands.push(AppCommand::KeepChain);
                    }
                } else {
                    ui.label("The chain restarts with them in a moment.");
                }
            });
        });
}

fn cancel_button(ui: &mut Ui, commands: &mut Commands) {
    if ui
        .small_button("Cancel")
        .on_hover_text("Stop building; the current chain goes on")
        .clicked()
    {
        commands.push(AppCommand::CancelBuild);
    }
}

/// Files dragged over the window: what dropping them will do. Dropped files become commands.
pub fn drops(ctx: &egui::Context, commands: &mut Commands) {
    let (hovered, dropped) = ctx.input(|i| {
        let hovered: Vec<_> = i
            .raw
            .hovered_files
            .iter()
            .filter_map(|f| f.path.clone())
            .collect();
        let dropped: Vec<_> = i
            .raw
            .dropped_files
            .iter()
            .map(|f| f.path().to_path_buf())
            .collect();
        (hovered, dropped)
    });
    for path in dropped {
        commands.push(Dropped::classify(&path).command());
    }
    if hovered.is_empty() {
        return;
    }
    let text = hovered
        .iter()
        .map(|p| format!("Drop to {}", Dropped::classify(p).describe()))
        .collect::<Vec<_>>()
        .join("\n");
    let painter = ctx.layer_painter(egui::LayerId::new(
        egui::Order::Foreground,
        egui::Id::unique("file_drop_overlay"),
    ));
    let screen = ctx.content_rect();
    painter.rect_filled(screen, 0.0, Color32::from_black_alpha(170));
    painter.text(
        screen.center(),
        egui::Align2::CENTER_CENTER,
        text,
        egui::TextStyle::Heading.resolve(&ctx.global_style()),
        Color32::WHITE,
    );
}

/// Zoom levels offered in the top bar (ctrl +/- and ctrl 0 work too): 150% and more for a
/// projector in a classroom. egui remembers the zoom between runs.
const ZOOM_LEVELS: [f32; 5] = [1.0, 1.25, 1.5, 1.75, 2.0];

/// The zoom menu of the top bar.
fn zoom_switch(ui: &mut Ui) {
    let ctx = ui.ctx().clone();
    let current = ctx.zoom_factor();
    let mut chosen = current;
    egui::ComboBox::from_label("Zoom")
        .selected_text(format!("{:.0}%", current * 100.0))
        .show_ui(ui, |ui| {
            for level in ZOOM_LEVELS {
                ui.selectable_value(&mut chosen, level, format!("{:.0}%", level * 100.0));
            }
        })
        .response
        .on_hover_text("Size of everything in the window (also ctrl + and ctrl -)");
    if chosen != current {
        ctx.set_zoom_factor(chosen);
    }
}

/// Dark and light theme buttons (text only: the app ships no emoji font).
fn theme_switch(ui: &mut Ui) {
    let mut preference = ui.options(|o| o.theme_preference);
    let before = preference;
    // Right-to-left layout: the last added is leftmost.
    ui.selectable_value(&mut preference, egui::ThemePreference::Light, "Light")
        .on_hover_text("Light theme");
    ui.selectable_value(&mut preference, egui::ThemePreference::Dark, "Dark")
        .on_hover_text("Dark theme");
    if preference != before {
        ui.ctx().set_theme(preference);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The status bar names the K chains' state when it is not chain 1's: at the end of a run
    /// chain 1 has finished while the others still sweep, and "finished" alone said otherwise.
    #[test]
    fn status_names_the_chains_state_when_it_differs_from_chain_1() {
        use RunState::*;
        assert_eq!(
            state_label(Finished, Some(Running)),
            "state: running (chain 1 finished)"
        );
        assert_eq!(state_label(Finished, Some(Finished)), "state: finished");
        assert_eq!(state_label(Paused, None), "state: paused");
    }
}
