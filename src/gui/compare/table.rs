//! The Compare view's drawing: the table of each method's chosen fit (and the running chain)
//! and the kept digits reconstructed by each method, side by side.
//!
//! UI thread only, within a frame: reads a finished result and the live state; images go
//! through the view's [`TextureCache`] with the result's version, so each is uploaded once
//! per result (the chain's column once per snapshot).

use egui::{RichText, Ui};

use super::super::live::LiveState;
use super::super::texture::{ColourMap, TextureCache, masked_image, pixel_image, value_text};
use super::ChainRow;
use super::run::Finished;

const DIGIT_MAP: ColourMap = ColourMap::Gray { lo: 0.0, hi: 255.0 };
/// Side of one digit in the pictures, in points.
const SIDE: f32 = 84.0;

/// A number for the table; "n/a" when missing or not finite (never NaN on screen).
pub fn number(v: Option<f64>, digits: usize) -> String {
    match v {
        Some(x) if x.is_finite() => format!("{x:.digits$}"),
        _ => "n/a".into(),
    }
}

/// Method, chosen setting, RMSE on the masked and on the validation pixels, seconds: one row
/// per method (its fit with the lowest validation RMSE), then the running chain.
pub fn table(ui: &mut Ui, result: &Finished, chain: ChainRow) {
    let c = &result.comparison;
    ui.label(format!(
        "{} masked pixels scored, {} held-out validation pixels; {:.1} s in all. Each \
         method's size was chosen by the validation RMSE; the fits never saw those pixels.",
        c.masked_pixels, c.validation_pixels, result.seconds
    ));
    egui::Grid::new("compare_table")
        .striped(true)
        .num_columns(5)
        .spacing([18.0, 4.0])
        .show(ui, |ui| {
            for head in [
                "method",
                "chosen setting",
                "RMSE masked",
                "RMSE validation",
                "seconds",
            ] {
                ui.label(RichText::new(head).strong());
            }
            ui.end_row();
            let best = c
                .chosen()
                .filter_map(|e| e.rmse_masked.filter(|v| v.is_finite()))
                .fold(f64::INFINITY, f64::min);
            for e in c.chosen() {
                ui.label(&e.method);
                ui.label(e.setting_label());
                let masked = RichText::new(number(e.rmse_masked, 2));
                ui.label(if e.rmse_masked == Some(best) {
                    masked.strong()
                } else {
                    masked
                });
                ui.label(number(Some(e.rmse_validation), 2));
                // A method's seconds: its chosen fit (for a path, since the previous fit).
                ui.label(number(Some(e.seconds), 1));
                ui.end_row();
            }
            ui.label("FA chain (running)")
                .on_hover_text("The app's own chain: posterior mean so far, fitted on every observed pixel (no validation pixels held out)");
            ui.label(format!("M = {}, {} sweeps", chain.m, chain.sweeps));
            ui.label(number(chain.rmse_posterior_mean, 2));
            ui.label("n/a");
            ui.label(number(Some(chain.seconds), 1));
            ui.end_row();
        });
}

/// The kept digits: truth, masked, the chain's posterior mean, then each method's chosen
/// reconstruction.
pub fn pictures(
    ui: &mut Ui,
    result: &Finished,
    live: &LiveState,
    textures: &mut TextureCache,
    version: u64,
) {
    let (height, width) = (result.height, result.width);
    let d = height * width;
    let chosen: Vec<_> = result
        .comparison
        .chosen()
        .filter(|e| e.rows.len() == result.images.len() * d)
        .collect();
    if result.images.is_empty() || d == 0 {
        return;
    }
    ui.strong("Reconstructions of the chosen digits (missing pixels in red in the masked column)");
    let ctx = ui.ctx().clone();
    let chain_version = {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (live.generation(), live.snapshot_version()).hash(&mut h);
        h.finish()
    };
    egui::ScrollArea::horizontal()
        .id_salt("compare_pictures")
        .show(ui, |ui| {
            egui::Grid::new("compare_pictures_grid")
                .spacing([6.0, 6.0])
                .show(ui, |ui| {
                    ui.strong("image");
                    for head in ["truth", "masked", "FA chain"] {
                        ui.strong(head);
                    }
                    for e in &chosen {
                        ui.strong(&e.method);
                    }
                    ui.end_row();
                    for (row, &image) in result.images.iter().enumerate() {
                        let span = row * d..(row + 1) * d;
                        let truth = &result.truth[span.clone()];
                        let mask = &result.masks[span.clone()];
                        ui.label(format!("#{image}"));
                        let no_mask = vec![false; d];
                        let mut cell = |ui: &mut Ui,
                                        key: String,
                                        ver: u64,
                                        values: &[f32],
                                        missing: &[bool],
                                        what: &str| {
                            let texture = textures.texture(&ctx, &key, ver, || {
                                masked_image(values, missing, width, height, &DIGIT_MAP)
                            });
                            pixel_image(
                                ui,
                                texture,
                                egui::vec2(SIDE, SIDE),
                                (width, height),
                                &format!("{what}, image {image}"),
                                |r, c| value_text(r, c, values.get(r * width + c).copied()),
                            );
                        };
                        cell(
                            ui,
                            format!("cmp/t/{row}"),
                            version,
                            truth,
                            &no_mask,
                            "truth",
                        );
                        cell(ui, format!("cmp/m/{row}"), version, truth, mask, "masked");
                        match live.image_summary(image) {
                            Some(s) if s.posterior_mean.len() == d => cell(
                                ui,
                                format!("cmp/chain/{row}/{image}"),
                                chain_version,
                                &s.posterior_mean,
                                &no_mask,
                                "FA chain posterior mean",
                            ),
                            _ => {
                                ui.small("not watched");
                            }
                        }
                        for e in &chosen {
                            cell(
                                ui,
                                format!("cmp/{}/{row}", e.method),
                                version,
                                &e.rows[span.clone()],
                                &no_mask,
                                &e.method,
                            );
                        }
                        ui.end_row();
                    }
                });
        });
}
