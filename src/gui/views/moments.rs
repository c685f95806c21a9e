//! Mean and variance: the posterior mean of mu and of sigma (the square root of the posterior
//! mean of sigma^2) as images with colour bars. During burn-in the snapshot's "posterior mean"
//! is the current sample, and the titles say so.

use egui::RichText;

use super::slot_version;
use crate::gui::live::LiveState;
use crate::gui::texture::{
    ColourMap, TextureCache, colour_bar, colour_image, finite_range, fitted_size, pixel_image,
    value_text,
};

const GAP: f32 = 24.0;

/// UI state of the mean-and-variance view (nothing to persist yet beyond the defaults).
#[derive(Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct MomentsView {}

impl MomentsView {
    pub fn ui(&mut self, ui: &mut egui::Ui, live: &LiveState, textures: &mut TextureCache) {
        super::restored_note(ui, live);
        let Some(snapshot) = live.snapshot() else {
            ui.heading("Mean and variance");
            ui.label("mu and sigma appear with the sampler's first snapshot: start a run.");
            return;
        };
        let (height, width) = live.image_shape();
        let d = snapshot.d;
        if d == 0 || height * width != d {
            ui.label(format!(
                "Nothing to show: D = {d}, images {height} x {width}."
            ));
            return;
        }
        let posterior = snapshot.samples_in_moments > 0;
        let mu = &snapshot.posterior_mu.mean;
        let sigma: Vec<f32> = snapshot
            .posterior_sigmasq
            .mean
            .iter()
            .map(|&s| if s >= 0.0 { s.sqrt() } else { f32::NAN })
            .collect();
        let (mu_title, sigma_title) = if posterior {
            (
                format!(
                    "Posterior mean of mu ({} samples after burn-in)",
                    snapshot.samples_in_moments
                ),
                format!(
                    "sigma: square root of the posterior mean of sigma^2 ({} samples)",
                    snapshot.samples_in_moments
                ),
            )
        } else {
            (
                format!(
                    "mu: current sample at sweep {} (burn-in)",
                    snapshot.iteration
                ),
                format!(
                    "sigma: current sample at sweep {} (burn-in)",
                    snapshot.iteration
                ),
            )
        };
        if !posterior {
            ui.label(
                RichText::new(format!(
                    "Burn-in: these are the current samples; posterior means replace them after \
                     sweep {}.",
                    live.burn_in()
                ))
                .italics(),
            );
        }
        let (mu_lo, mu_hi) = finite_range(mu).unwrap_or((0.0, 1.0));
        let mu_map = ColourMap::Gray {
            lo: mu_lo,
            hi: mu_hi,
        };
        let sigma_map = ColourMap::Sequential {
            lo: 0.0,
            hi: finite_range(&sigma).map_or(1.0, |(_, hi)| if hi > 0.0 { hi } else { 1.0 }),
        };
        let available = ui.available_size();
        let spacing = ui.spacing().item_spacing.x;
        let side = ((available.x - GAP - 2.0 * spacing - 8.0) / 2.0)
            .min(available.y - 110.0)
            .clamp(64.0, 640.0);
        let version = slot_version(live, live.snapshot_version());
        let ctx = ui.ctx().clone();
        let size = fitted_size(side, (width, height));
        // Each column as wide as its image, so a long title wraps under it rather than
        // widening the column (the sigma image then ran off the window's right edge).
        ui.horizontal_top(|ui| {
            ui.vertical(|ui| {
                ui.set_width(size.x);
                ui.label(RichText::new(&mu_title).strong());
                let tex = textures.texture(&ctx, "moments/mu", version, || {
                    colour_image(mu, width, height, &mu_map)
                });
                pixel_image(ui, tex, size, (width, height), "image of mu", |r, c| {
                    format!("mu at {}", value_text(r, c, mu.get(r * width + c).copied()))
                });
                colour_bar(ui, &mu_map, side, "mu (pixel intensity)");
            });
            ui.add_space(GAP);
            ui.vertical(|ui| {
                ui.set_width(size.x);
                ui.label(RichText::new(&sigma_title).strong());
                let tex = textures.texture(&ctx, "moments/sigma", version, || {
                    colour_image(&sigma, width, height, &sigma_map)
                });
                pixel_image(ui, tex, size, (width, height), "image of sigma", |r, c| {
                    format!(
                        "sigma at {}",
                        value_text(r, c, sigma.get(r * width + c).copied())
                    )
                });
                colour_bar(ui, &sigma_map, side, "sigma (noise std per pixel)");
            });
        });
    }
}
