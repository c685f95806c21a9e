//! The model's completion of the image being edited, with its posterior std: recomputed only
//! when the mask, the image or the posterior samples change, and drawn from cached textures.

use crate::reconstruct::Reconstruction;

use super::recent::RecentParams;
use crate::gui::texture::{
    ColourMap, TextureCache, colour_bar, colour_image, pixel_image, value_text,
};

/// What was last computed, and from what.
#[derive(Default)]
pub struct Preview {
    /// The completion, or why there is none (no snapshot yet, shape mismatch, bad values).
    result: Option<Result<Reconstruction, String>>,
    /// (edit version, params version, averaging) the result was computed for.
    computed_for: Option<(u64, u64, bool)>,
    /// Bumped whenever `result` changes, so textures re-upload.
    version: u64,
    /// Number of samples behind the result and the newest sweep among them.
    samples: usize,
    sweep: Option<usize>,
    /// Wall time of the last computation, for the status line.
    millis: f64,
}

impl Preview {
    /// Recomputes when `edit_version` (the caller's counter of image and mask changes), the
    /// parameter samples or `average` changed since the last call; otherwise does nothing.
    pub fn refresh(
        &mut self,
        params: &RecentParams,
        values: &[f32],
        missing: &[bool],
        edit_version: u64,
        average: bool,
    ) {
        let key = (edit_version, params.version(), average);
        if self.computed_for == Some(key) {
            return;
        }
        self.computed_for = Some(key);
        let start = std::time::Instant::now();
        self.result = match params.reconstruct(values, missing, average) {
            None => None,
            Some(Ok(r)) => Some(Ok(r)),
            Some(Err(e)) => Some(Err(format!("cannot complete this image: {e}"))),
        };
        self.millis = start.elapsed().as_secs_f64() * 1e3;
        self.samples = if average {
            params.len()
        } else {
            params.len().min(1)
        };
        self.sweep = params.newest_iteration();
        self.version += 1;
    }

    /// The last completion, if it succeeded.
    #[cfg(test)]
    pub fn reconstruction(&self) -> Option<&Reconstruction> {
        self.result.as_ref().and_then(|r| r.as_ref().ok())
    }

    /// Draws the completion and its std side by side, `side` points each; `truth` (when given)
    /// adds the RMSE of the completion on the masked pixels to the status line.
    pub fn ui(
        &self,
        ui: &mut egui::Ui,
        textures: &mut TextureCache,
        key: &str,
        (height, width): (usize, usize),
        side: f32,
        truth_and_mask: Option<(&[f32], &[bool])>,
    ) {
        let rec = match &self.result {
            None => {
                ui.label("Waiting for the sampler's first snapshot: start a run to see the model's completion.");
                return;
            }
            Some(Err(message)) => {
                ui.colored_label(ui.visuals().error_fg_color, message);
                return;
            }
            Some(Ok(rec)) => rec,
        };
        let std_map = ColourMap::Sequential {
            lo: 0.0,
            hi: crate::gui::texture::finite_range(&rec.std).map_or(1.0, |(_, hi)| hi.max(1.0)),
        };
        let gray = ColourMap::Gray { lo: 0.0, hi: 255.0 };
        let ctx = ui.ctx().clone();
        let mean_tex = textures.texture(&ctx, &format!("{key}/completion"), self.version, || {
            colour_image(&rec.mean, width, height, &gray)
        });
        let std_tex = textures.texture(&ctx, &format!("{key}/std"), self.version, || {
            colour_image(&rec.std, width, height, &std_map)
        });
        let size = crate::gui::texture::fitted_size(side, (width, height));
        ui.horizontal_top(|ui| {
            ui.vertical(|ui| {
                ui.strong("Model's completion");
                pixel_image(
                    ui,
                    mean_tex,
                    size,
                    (width, height),
                    "model's completion",
                    |r, c| value_text(r, c, rec.mean.get(r * width + c).copied()),
                );
            });
            ui.vertical(|ui| {
                ui.strong("Posterior std");
                pixel_image(
                    ui,
                    std_tex,
                    size,
                    (width, height),
                    "posterior standard deviation",
                    |r, c| value_text(r, c, rec.std.get(r * width + c).copied()),
                );
                colour_bar(ui, &std_map, side, "posterior std");
            });
        });
        let source = match (self.samples, self.sweep) {
            (n, Some(s)) if n > 1 => format!("averaged over the {n} newest samples (to sweep {s})"),
            (_, Some(s)) => format!("from the sample of sweep {s}"),
            _ => String::new(),
        };
        let mut status = format!("{source}; computed in {:.2} ms", self.millis);
        if let Some((truth, mask)) = truth_and_mask
            && let Some(rmse) = masked_rmse(&rec.mean, truth, mask)
        {
            status.push_str(&format!("; RMSE on masked pixels {rmse:.1}"));
        }
        ui.small(status);
    }
}

/// Root mean squared difference over the masked pixels; `None` when none is masked.
pub fn masked_rmse(estimate: &[f32], truth: &[f32], missing: &[bool]) -> Option<f64> {
    let (sum, count) = estimate
        .iter()
        .zip(truth)
        .zip(missing)
        .filter(|(_, m)| **m)
        .fold((0.0f64, 0usize), |(s, c), ((e, t), _)| {
            (s + (f64::from(*e) - f64::from(*t)).powi(2), c + 1)
        });
    (count > 0).then(|| (sum / count as f64).sqrt())
}
