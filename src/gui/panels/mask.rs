//! The Masks section: the notebook's mix or a single kind, each generator's parameters, the
//! seed, a button for a fresh draw, and the fraction of pixels the masks hide.

use crate::experiment::NOTEBOOK_SEED;
use crate::masks::{MaskKind, MaskParams};
use egui::{RichText, Ui};
use serde::{Deserialize, Serialize};

use super::{Effect, row};

/// The mask settings, remembered between runs. Every change draws new masks, which restarts
/// the chain.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MaskSettings {
    pub params: MaskParams,
    pub seed: u64,
}

impl Default for MaskSettings {
    fn default() -> Self {
        MaskSettings {
            params: MaskParams::default(),
            seed: NOTEBOOK_SEED,
        }
    }
}

fn kind_label(kind: MaskKind) -> &'static str {
    match kind {
        MaskKind::Mix => "Mix (notebook)",
        MaskKind::Line => "Lines",
        MaskKind::Circle => "Circles",
        MaskKind::Speckle => "Speckle",
    }
}

/// Draws the section. `missing_fraction` is that of the masks the chain uses, when built;
/// `current` says whether those masks match these settings.
pub fn ui(ui: &mut Ui, settings: &mut MaskSettings, missing_fraction: Option<f64>, current: bool) {
    let p = &mut settings.params;
    let (line, circle, speckle) = match p.kind {
        MaskKind::Mix => (true, true, true),
        MaskKind::Line => (true, false, false),
        MaskKind::Circle => (false, true, false),
        MaskKind::Speckle => (false, false, true),
    };
    egui::Grid::new("mask_grid")
        .num_columns(2)
        .spacing([8.0, 6.0])
        .show(ui, |ui| {
            row(
                ui,
                "Kind",
                "Which generator hides pixels. The notebook's mix gives a third of the images a \
                 line, a third a circle and the rest speckle.",
                Effect::Restart,
                |ui| {
                    egui::ComboBox::from_id_salt("mask_kind")
                        .selected_text(kind_label(p.kind))
                        .show_ui(ui, |ui| {
                            for kind in MaskKind::ALL {
                                ui.selectable_value(&mut p.kind, kind, kind_label(kind));
                            }
                        })
                        .response
                },
            );
            if line {
                row(
                    ui,
                    "Line width",
                    "A pixel is hidden when its distance to a random line through the centre \
                     is below this (pixels).",
                    Effect::Restart,
                    |ui| ui.add(egui::Slider::new(&mut p.line_width, 0.1..=10.0).max_decimals(2)),
                );
            }
            if circle {
                row(
                    ui,
                    "Circle radius",
                    "Mean of the Gamma-distributed part of a circle's radius (pixels).",
                    Effect::Restart,
                    |ui| {
                        ui.add(
                            egui::Slider::new(&mut p.circle_mean_radius, 0.1..=14.0)
                                .max_decimals(2),
                        )
                    },
                );
                row(
                    ui,
                    "Radius df",
                    "Degrees of freedom of the radius distribution: large values make all \
                     circles about the same size.",
                    Effect::Restart,
                    |ui| {
                        ui.add(
                            egui::Slider::new(&mut p.circle_df, 0.5..=1000.0)
                                .logarithmic(true)
                                .max_decimals(2),
                        )
                    },
                );
                row(
                    ui,
                    "Centre spread",
                    "Standard deviation of a circle's centre around the image centre (pixels).",
                    Effect::Restart,
                    |ui| {
                        ui.add(
                            egui::Slider::new(&mut p.circle_centre_std, 0.0..=14.0).max_decimals(2),
                        )
                    },
                );
            }
            if speckle {
                row(
                    ui,
                    "Speckle p",
                    "Probability that a pixel of a speckle mask is hidden.",
                    Effect::Restart,
                    |ui| ui.add(egui::Slider::new(&mut p.speckle_p, 0.0..=1.0).max_decimals(3)),
                );
            }
            row(
                ui,
                "Mask seed",
                "Seed of the random masks: the same seed gives the same masks.",
                Effect::Restart,
                |ui| ui.add(egui::DragValue::new(&mut settings.seed)),
            );
        });
    ui.horizontal(|ui| {
        if ui
            .button("New masks")
            .on_hover_text("Draw a fresh set of masks (next seed); restarts the chain")
            .clicked()
        {
            settings.seed = settings.seed.wrapping_add(1);
        }
        if ui
            .button("Notebook masks")
            .on_hover_text("Back to the notebook's mix, parameters and seed")
            .clicked()
        {
            *settings = MaskSettings::default();
        }
    });
    match missing_fraction {
        Some(f) => {
            let text = format!("{:.1}% of all pixels are missing", 100.0 * f);
            let text = if current {
                text
            } else {
                format!("{text} (masks in use; the new ones come with the restart)")
            };
            ui.label(RichText::new(text).strong());
        }
        None => {
            ui.label(RichText::new("Masks are drawn when the experiment is built.").weak());
        }
    }
}
