//! The chain-count control: how many chains run side by side (a restart setting).
//!
//! UI thread; draws one slider and nothing else.

use egui::Ui;

use super::{Effect, row};
use crate::chains::MAX_CHAINS;

/// Hover text of the control.
const TIP: &str = "Number of chains K run on the same problem, each with its own seed and a \
    dispersed start. Chain 1 feeds every view; with 2 or more chains the Diagnostics tab \
    shows R-hat and effective sample sizes and the Traces overlay all chains. One chain \
    cannot show that it has not converged; several started apart can.";

/// The "Chains K" slider, 1 to [`MAX_CHAINS`].
pub fn ui(ui: &mut Ui, chains: &mut usize) {
    egui::Grid::new("chains_grid")
        .num_columns(2)
        .spacing([8.0, 6.0])
        .show(ui, |ui| {
            row(ui, "Chains K", TIP, Effect::Restart, |ui| {
                ui.add(egui::Slider::new(chains, 1..=MAX_CHAINS))
            });
        });
}
