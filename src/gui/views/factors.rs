//! Factors: the columns of W as images, on a diverging colour map centred at 0.
//!
//! The snapshot carries the current sample of W. Factors are identified only up to rotation,
//! so they are shown as they are now, not averaged.

use egui::{RichText, Vec2};

use super::slot_version;
use crate::gui::live::LiveState;
use crate::gui::texture::{
    ColourMap, TextureCache, best_grid, colour_bar, colour_image, fitted_size, max_abs,
    pixel_image, value_text,
};

/// Factors shown by default (a 5 x 5 grid).
const DEFAULT_SHOWN: usize = 25;
const GAP: f32 = 6.0;
/// Height of the caption under each factor.
const CAPTION: f32 = 16.0;

/// UI state of the factors view.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct FactorsView {
    /// How many factors to show (clamped to M when drawn).
    shown: usize,
    /// One colour range for all factors (magnitudes comparable) instead of one per factor
    /// (shapes visible even for weak factors).
    shared_range: bool,
}

impl Default for FactorsView {
    fn default() -> Self {
        FactorsView {
            shown: DEFAULT_SHOWN,
            shared_range: false,
        }
    }
}

impl FactorsView {
    pub fn ui(&mut self, ui: &mut egui::Ui, live: &LiveState, textures: &mut TextureCache) {
        super::restored_note(ui, live);
        let Some(snapshot) = live.snapshot() else {
            ui.heading("Factors");
            ui.label("The columns of W appear with the sampler's first snapshot: start a run.");
            return;
        };
        let m = snapshot.m;
        let d = snapshot.d;
        let (height, width) = live.image_shape();
        if m == 0 || d == 0 || height * width != d {
            ui.label(format!(
                "Nothing to show: M = {m}, D = {d}, images {height} x {width}."
            ));
            return;
        }
        let shown = self.shown.clamp(1, m);
        ui.horizontal_wrapped(|ui| {
            let label = ui.label("Factors shown:");
            ui.add(egui::DragValue::new(&mut self.shown).range(1..=m))
                .labelled_by(label.id);
            if ui
                .button(format!("First {}", DEFAULT_SHOWN.min(m)))
                .clicked()
            {
                self.shown = DEFAULT_SHOWN;
            }
            if ui.button(format!("All {m}")).clicked() {
                self.shown = m;
            }
            ui.separator();
            ui.checkbox(&mut self.shared_range, "Same colour range for all factors");
        });
        ui.label(format!(
            "Columns of W (D x M = {d} x {m}), current sample at sweep {}; factors can rotate, \
             so they are not averaged. Showing {shown} of {m}.",
            snapshot.iteration
        ));
        let shared_max = max_abs(&snapshot.w);
        let (bar_map, range_text) = if self.shared_range {
            (
                ColourMap::Diverging {
                    max_abs: shared_max,
                },
                format!(
                    "Colour range: one symmetric range ±{shared_max:.3} shared by all factors (red positive, blue negative, white 0)."
                ),
            )
        } else {
            (
                ColourMap::Diverging { max_abs: 1.0 },
                "Colour range: each factor on its own symmetric range ±max|w_k| (red positive, blue negative, white 0); hover for values.".to_owned(),
            )
        };
        ui.horizontal_wrapped(|ui| {
            colour_bar(
                ui,
                &bar_map,
                220.0,
                if self.shared_range {
                    "w"
                } else {
                    "w / max|w_k|"
                },
            );
            ui.label(RichText::new(range_text).small());
        });

        let available = ui.available_size();
        let (columns, side) = best_grid(
            shown,
            Vec2::new(available.x - 16.0, available.y),
            GAP,
            CAPTION + GAP,
            48.0,
            200.0,
        );
        let version = slot_version(
            live,
            live.snapshot_version() * 2 + u64::from(self.shared_range),
        );
        let ctx = ui.ctx().clone();
        egui::ScrollArea::vertical()
            .id_salt("factor_grid")
            .auto_shrink([false, false])
            .show(ui, |ui| {
                egui::Grid::new("factor_grid_cells")
                    .spacing([GAP, GAP])
                    .show(ui, |ui| {
                        for k in 0..shown {
                            let values = snapshot.factor(k).unwrap_or(&[]);
                            let map = if self.shared_range {
                                ColourMap::Diverging {
                                    max_abs: shared_max,
                                }
                            } else {
                                ColourMap::diverging_over(values)
                            };
                            let tex =
                                textures.texture(&ctx, &format!("factor/{k}"), version, || {
                                    colour_image(values, width, height, &map)
                                });
                            ui.vertical(|ui| {
                                pixel_image(
                                    ui,
                                    tex,
                                    fitted_size(side, (width, height)),
                                    (width, height),
                                    &format!("factor {k}"),
                                    |r, c| {
                                        let v = values.get(r * width + c).copied();
                                        format!("factor {k}, {}", value_text(r, c, v))
                                    },
                                );
                                let range = match map {
                                    ColourMap::Diverging { max_abs } => max_abs,
                                    _ => 0.0,
                                };
                                ui.small(format!("W[:, {k}]  ±{range:.3}"));
                            });
                            if (k + 1) % columns == 0 {
                                ui.end_row();
                            }
                        }
                    });
            });
    }
}
