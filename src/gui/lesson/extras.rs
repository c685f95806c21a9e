//! Posterior draws and dreams from the main chain: the flip-book of a chosen digit's last
//! imputations (played at a speed the teacher sets, beside the chain's posterior mean and
//! std), dream digits drawn from the newest W, mu, sigma^2, and a straight walk in latent
//! space between two chosen digits.
//!
//! Runs on the UI thread within a frame. The flip-book copies one 784-value image per new
//! snapshot of the main chain; dreams and walks are computed on a click from the newest
//! snapshot (a few hundred thousand multiply-adds at D = 784, M = 50: well under a
//! millisecond), never per frame.

use egui::{RichText, Ui};
use nalgebra::{DMatrix, DVector};

use super::super::live::LiveState;
use super::super::texture::{self, ColourMap, TextureCache};
use crate::lesson::{Flipbook, dream_digits, latent_walk};
use crate::reconstruct::FactorParams;

/// Frames a flip-book keeps.
const FRAMES: usize = 200;
/// Side of one image in points.
const IMAGE: f32 = 96.0;

/// The flip-book of one digit, fed from the main chain's snapshots.
pub struct FlipView {
    pub digit: usize,
    pub frames_per_second: f64,
    pub playing: bool,
    book: Flipbook,
    /// The chain (generation) and snapshot last read.
    seen: (u64, u64),
    /// The frame shown while paused.
    held: usize,
}

impl Default for FlipView {
    fn default() -> Self {
        FlipView {
            digit: 0,
            frames_per_second: 4.0,
            playing: true,
            book: Flipbook::new(0, FRAMES).expect("a valid capacity"),
            seen: (u64::MAX, u64::MAX),
            held: 0,
        }
    }
}

impl FlipView {
    /// Asks the main chain to summarise the digit and keeps its newest draw (once a frame
    /// while shown).
    pub fn observe(&mut self, live: &mut LiveState) {
        let n = live.n_images();
        if n == 0 {
            return;
        }
        self.digit = self.digit.min(n - 1);
        if self.book.digit() != self.digit || self.seen.0 != live.generation() {
            self.book = Flipbook::new(self.digit, FRAMES).expect("a valid capacity");
            self.seen = (live.generation(), u64::MAX);
        }
        live.set_visible_images(self.digit..self.digit + 1);
        let version = live.snapshot_version();
        if self.seen.1 == version {
            return;
        }
        let sweep = live.snapshot().map(|s| s.iteration);
        if let (Some(sweep), Some(summary)) = (sweep, live.image_summary(self.digit)) {
            self.book.push(sweep, summary);
            self.seen.1 = version;
        }
    }

    pub fn ui(&mut self, ui: &mut Ui, live: &LiveState, textures: &mut TextureCache) {
        let n = live.n_images();
        let (h, w) = live.image_shape();
        ui.horizontal_wrapped(|ui| {
            let l = ui.label("Flip-book of digit");
            ui.add(egui::DragValue::new(&mut self.digit).range(0..=n.saturating_sub(1)))
                .labelled_by(l.id);
            let l = ui.label("frames per second");
            let slider =
                egui::Slider::new(&mut self.frames_per_second, 0.5..=30.0).logarithmic(true);
            crate::gui::wrap::add_whole(ui, crate::gui::wrap::slider_width(ui, ""), slider)
                .labelled_by(l.id);
            let text = if self.playing {
                "Pause flip-book"
            } else {
                "Play flip-book"
            };
            if ui.button(text).clicked() {
                self.playing = !self.playing;
            }
        });
        if self.book.is_empty() {
            ui.label(
                "No draws of this digit yet: start the main chain (Space) and its imputations \
                 appear here, one per snapshot.",
            );
            return;
        }
        let time = ui.input(|i| i.time);
        let frame = if self.playing {
            let f = self.book.frame_at(time, self.frames_per_second);
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_secs_f64(
                    1.0 / self.frames_per_second.max(0.5),
                ));
            self.held = f.map_or(0, |f| {
                (0..self.book.len())
                    .find(|&k| self.book.frame(k).map(|g| g.sweep) == Some(f.sweep))
                    .unwrap_or(0)
            });
            f
        } else {
            self.book.frame(self.held.min(self.book.len() - 1))
        };
        let Some(frame) = frame else {
            return;
        };
        let ctx = ui.ctx().clone();
        let gray = ColourMap::Gray { lo: 0.0, hi: 255.0 };
        let summary = live.image_summary(self.digit);
        let mask = live.mask(self.digit).unwrap_or(&[]);
        ui.horizontal(|ui| {
            let masked = live.experiment().masked_image(self.digit);
            if let Some(masked) = &masked {
                image(
                    ui,
                    textures,
                    &ctx,
                    "flip-input",
                    0,
                    "what the sampler sees",
                    (w, h),
                    |_| texture::masked_image(masked, mask, w, h, &gray),
                );
            }
            let caption = format!("draw at sweep {}", frame.sweep);
            image(
                ui,
                textures,
                &ctx,
                "flip-frame",
                frame.sweep as u64,
                &caption,
                (w, h),
                |_| texture::colour_image(&frame.image, w, h, &gray),
            );
            if let Some(s) = summary {
                let v = live.snapshot_version();
                image(
                    ui,
                    textures,
                    &ctx,
                    "flip-mean",
                    v,
                    "posterior mean",
                    (w, h),
                    |_| texture::colour_image(&s.posterior_mean, w, h, &gray),
                );
                let top = live.std_scale().max(1e-6);
                let map = ColourMap::Sequential { lo: 0.0, hi: top };
                image(
                    ui,
                    textures,
                    &ctx,
                    "flip-std",
                    v,
                    "posterior std",
                    (w, h),
                    |_| texture::colour_image(&s.posterior_std, w, h, &map),
                );
            }
        });
        ui.label(format!(
            "{} draws held (one per snapshot of the main chain). Each frame is one sample of \
             the missing pixels given everything else: where the posterior std is large the \
             frames disagree, and that disagreement is what uncertainty looks like.",
            self.book.len()
        ));
    }
}

/// A captioned image of `make`'s picture of `(w, h)` pixels, fitted into an `IMAGE` box.
#[allow(clippy::too_many_arguments)]
fn image(
    ui: &mut Ui,
    textures: &mut TextureCache,
    ctx: &egui::Context,
    key: &str,
    version: u64,
    caption: &str,
    (w, h): (usize, usize),
    make: impl FnOnce(()) -> egui::ColorImage,
) {
    let size = texture::fitted_size(IMAGE, (w, h));
    ui.vertical(|ui| {
        // As wide as the image: a longer caption wraps rather than widening the column.
        ui.set_width(size.x);
        ui.label(caption);
        let id = textures.texture(ctx, key, version, || make(()));
        texture::pixel_image(ui, id, size, (w, h), caption, |r, c| {
            format!("row {r}, column {c}")
        });
    });
}

/// The newest W, mu, sigma^2 of the main chain as model parameters.
fn params(live: &LiveState) -> Result<FactorParams, String> {
    let s = live
        .snapshot()
        .ok_or("no snapshot of the main chain yet: start it first")?;
    let w = DMatrix::from_column_slice(s.d, s.m, &s.w);
    FactorParams::new(w, s.mu.clone(), s.sigmasq.clone()).map_err(|e| e.to_string())
}

/// The posterior mean of z for the observed pixels of `values` under `params`:
/// (I + W_o^T S_o^-1 W_o)^-1 W_o^T S_o^-1 (x_o - mu_o).
fn latent_of(params: &FactorParams, values: &[f32], missing: &[bool]) -> Result<Vec<f32>, String> {
    let (w, mu, s) = (params.w(), params.mu(), params.sigma2());
    let m = params.m();
    let mut j = DMatrix::<f64>::identity(m, m);
    let mut b = DVector::<f64>::zeros(m);
    for d in 0..params.d() {
        if missing.get(d).copied().unwrap_or(true) {
            continue;
        }
        let inv = 1.0 / s[d] as f64;
        let xc = values[d] as f64 - mu[d] as f64;
        for a in 0..m {
            let wa = w[(d, a)] as f64 * inv;
            b[a] += wa * xc;
            for c in 0..m {
                j[(a, c)] += wa * w[(d, c)] as f64;
            }
        }
    }
    let ch = nalgebra::Cholesky::new(j).ok_or("the latent precision is not positive definite")?;
    Ok(ch.solve(&b).iter().map(|&v| v as f32).collect())
}

/// Dream digits and the latent walk.
pub struct DreamView {
    pub count: usize,
    pub noise: bool,
    pub seed: u64,
    pub from: usize,
    pub to: usize,
    pub steps: usize,
    dreams: Vec<Vec<f32>>,
    walk: Vec<Vec<f32>>,
    error: Option<String>,
    version: u64,
}

impl Default for DreamView {
    fn default() -> Self {
        DreamView {
            count: 12,
            noise: false,
            seed: 1,
            from: 0,
            to: 1,
            steps: 8,
            dreams: Vec::new(),
            walk: Vec::new(),
            error: None,
            version: 0,
        }
    }
}

impl DreamView {
    /// Draws new dream digits from the main chain's newest parameters.
    pub fn dream(&mut self, live: &LiveState) {
        self.version += 1;
        match params(live).and_then(|p| {
            dream_digits(&p, self.count, self.noise, self.seed).map_err(|e| e.to_string())
        }) {
            Ok(d) => {
                self.dreams = d;
                self.error = None;
            }
            Err(e) => self.error = Some(e),
        }
    }

    /// Walks from digit `from` to digit `to` through latent space.
    pub fn walk(&mut self, live: &LiveState) {
        self.version += 1;
        let result = params(live).and_then(|p| {
            let e = live.experiment();
            let d = e.d();
            let latent = |k: usize| -> Result<Vec<f32>, String> {
                if k >= e.n {
                    return Err(format!("digit {k} is out of range (N = {})", e.n));
                }
                latent_of(
                    &p,
                    &e.problem.x_observed[k * d..(k + 1) * d],
                    &e.mask.missing[k * d..(k + 1) * d],
                )
            };
            let (a, b) = (latent(self.from)?, latent(self.to)?);
            latent_walk(&p, &a, &b, self.steps).map_err(|e| e.to_string())
        });
        match result {
            Ok(w) => {
                self.walk = w;
                self.error = None;
            }
            Err(e) => self.error = Some(e),
        }
    }

    pub fn ui(&mut self, ui: &mut Ui, live: &LiveState, textures: &mut TextureCache) {
        let n = live.n_images().max(1);
        ui.horizontal_wrapped(|ui| {
            let l = ui.label("Dream digits:");
            ui.add(egui::DragValue::new(&mut self.count).range(1..=48))
                .labelled_by(l.id);
            ui.checkbox(&mut self.noise, "with pixel noise");
            let l = ui.label("seed");
            ui.add(egui::DragValue::new(&mut self.seed))
                .labelled_by(l.id);
            if ui.button("Dream").clicked() {
                self.dream(live);
            }
            ui.separator();
            let l = ui.label("Walk from digit");
            ui.add(egui::DragValue::new(&mut self.from).range(0..=n - 1))
                .labelled_by(l.id);
            let l = ui.label("to digit");
            ui.add(egui::DragValue::new(&mut self.to).range(0..=n - 1))
                .labelled_by(l.id);
            let l = ui.label("steps of the walk");
            ui.add(egui::DragValue::new(&mut self.steps).range(2..=16))
                .labelled_by(l.id);
            if ui.button("Walk").clicked() {
                self.walk(live);
            }
        });
        if let Some(e) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        let ctx = ui.ctx().clone();
        let gray = ColourMap::Gray { lo: 0.0, hi: 255.0 };
        let (h, w) = live.image_shape();
        for (what, images, caption) in [
            (
                "dream",
                &self.dreams,
                "z ~ N(0, I), x = W z + μ: digits the data never held, from the main chain's \
                 newest W, μ, σ².",
            ),
            (
                "walk",
                &self.walk,
                "A straight line between the two digits' posterior means of z: each image is \
                 W z + μ at one point of the line.",
            ),
        ] {
            if images.is_empty() {
                continue;
            }
            ui.label(RichText::new(caption).weak());
            ui.horizontal_wrapped(|ui| {
                for (k, img) in images.iter().enumerate() {
                    let key = format!("lesson-{what}-{k}");
                    let id = textures.texture(&ctx, &key, self.version, || {
                        texture::colour_image(img, w, h, &gray)
                    });
                    texture::pixel_image(
                        ui,
                        id,
                        texture::fitted_size(72.0, (w, h)),
                        (w, h),
                        &format!("{what} {k}"),
                        |r, c| texture::value_text(r, c, img.get(r * w + c).copied()),
                    );
                }
            });
        }
    }
}
