//! What the last lesson step changed, before and after side by side, and the numbers behind
//! the draw for the focus digit and pixel (the library's [`Explanation`]), so a student can
//! check one draw by hand.
//!
//! Runs on the UI thread within a frame. Reads a [`Shown`] prepared on the lesson's job;
//! images go through a [`TextureCache`] keyed by the step's version, so nothing is uploaded
//! again until the next step.

use egui::{Grid, RichText, Ui};
use egui_plot::{Legend, Line, Plot, Points};

use super::super::texture::{self, ColourMap, TextureCache};
use super::chain::Shown;
use crate::lesson::{
    BlockedDraw, Ellipse, Explanation, LatentDraw, LoadingDraw, MeanDraw, MissingDraw, NoiseDraw,
    RecentreDraw,
};

/// Side of the box the images are fitted in, in points.
const IMAGE: f32 = 112.0;
/// Rows of a table of per-factor or per-pixel values shown at most.
const MAX_ROWS: usize = 8;

/// Row and column of `pixel` in images `width` pixels wide.
pub(super) fn row_col(pixel: usize, width: usize) -> (usize, usize) {
    let width = width.max(1);
    (pixel / width, pixel % width)
}

/// How every number behind a draw is written (tests read the screen with it).
pub fn num(v: f64) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    let a = v.abs();
    if a == 0.0 || (1e-3..1e6).contains(&a) {
        format!("{v:.6}")
    } else {
        format!("{v:.6e}")
    }
}

/// The before/after pictures and the numbers of the step in `shown`, for images of `shape`
/// (width, height) pixels.
pub fn step_ui(ui: &mut Ui, shown: &Shown, textures: &mut TextureCache, shape: (usize, usize)) {
    let width = shape.0;
    match &shown.explanation {
        Err(e) => {
            ui.colored_label(ui.visuals().error_fg_color, format!("No explanation: {e}"));
        }
        Ok(Explanation::Z(z)) => latent_ui(ui, z),
        Ok(Explanation::W(w)) => loading_ui(ui, w, width),
        Ok(Explanation::Mu(m)) => {
            ui.horizontal_top(|ui| {
                ui.vertical(|ui| vectors_ui(ui, "mu", &shown.mu, shown, textures, shape));
                ui.vertical(|ui| mean_ui(ui, m));
            });
        }
        Ok(Explanation::Sigmasq(s)) => {
            ui.horizontal_top(|ui| {
                ui.vertical(|ui| vectors_ui(ui, "sigma^2", &shown.sigmasq, shown, textures, shape));
                ui.vertical(|ui| noise_ui(ui, s, "sigma-numbers", width));
            });
        }
        Ok(Explanation::Blocked(b)) => {
            vectors_ui(ui, "mu", &shown.mu, shown, textures, shape);
            vectors_ui(ui, "sigma^2", &shown.sigmasq, shown, textures, shape);
            blocked_ui(ui, b, width);
        }
        Ok(Explanation::XMissing(x)) => {
            vectors_ui(ui, "digit", &shown.digit, shown, textures, shape);
            missing_ui(ui, x, width);
        }
        Ok(Explanation::Recentre(r)) => {
            vectors_ui(ui, "mu", &shown.mu, shown, textures, shape);
            recentre_ui(ui, r);
        }
    }
}

/// A name and value row of a numbers grid.
fn row(ui: &mut Ui, name: &str, value: String, note: &str) {
    ui.label(name);
    ui.label(RichText::new(value).monospace().strong());
    ui.label(RichText::new(note).weak());
    ui.end_row();
}

/// Three images: before, after and their difference, for `what` ("mu", "sigma^2", "digit").
fn vectors_ui(
    ui: &mut Ui,
    what: &str,
    pair: &[Vec<f32>; 2],
    shown: &Shown,
    textures: &mut TextureCache,
    (width, height): (usize, usize),
) {
    let ctx = ui.ctx().clone();
    let diff: Vec<f32> = pair[1].iter().zip(&pair[0]).map(|(a, b)| a - b).collect();
    let (lo, hi) = texture::finite_range(&pair[0])
        .into_iter()
        .chain(texture::finite_range(&pair[1]))
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), (a, b)| {
            (l.min(a), h.max(b))
        });
    let (lo, hi) = if lo < hi { (lo, hi) } else { (lo, lo + 1.0) };
    let map = if what == "sigma^2" {
        ColourMap::Sequential { lo, hi }
    } else {
        ColourMap::Gray { lo, hi }
    };
    let diff_map = ColourMap::diverging_over(&diff);
    let changed = diff.iter().filter(|v| **v != 0.0).count();
    let max = diff.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let label = match what {
        "mu" => "μ",
        "sigma^2" => "σ²",
        _ => "digit",
    };
    ui.horizontal(|ui| {
        for (k, (name, values, map)) in [
            ("before", &pair[0], map),
            ("after", &pair[1], map),
            ("after − before", &diff, diff_map),
        ]
        .into_iter()
        .enumerate()
        {
            ui.vertical(|ui| {
                ui.label(format!("{label} {name}"));
                let key = format!("lesson-{what}-{k}");
                let id = textures.texture(&ctx, &key, shown.version, || {
                    texture::colour_image(values, width, height, &map)
                });
                texture::pixel_image(
                    ui,
                    id,
                    texture::fitted_size(IMAGE, (width, height)),
                    (width, height),
                    &format!("{label} {name}"),
                    |r, c| texture::value_text(r, c, values.get(r * width + c).copied()),
                );
            });
        }
        if what == "digit" {
            ui.vertical(|ui| {
                ui.label(format!("{changed} of {} values changed", diff.len()));
                ui.label(format!("largest change {}", texture::format_value(max)));
                let n_missing = shown.digit_missing.iter().filter(|b| **b).count();
                ui.label(format!(
                    "{n_missing} missing pixels of digit {}",
                    shown.focus.digit
                ));
            });
        }
    });
    if what != "digit" {
        ui.label(format!(
            "{changed} of {} values changed, largest change {}",
            diff.len(),
            texture::format_value(max)
        ));
    }
}

fn latent_ui(ui: &mut Ui, z: &LatentDraw) {
    ui.horizontal_top(|ui| {
        if let Some(e) = &z.ellipse {
            ellipse_plot(ui, z, e);
        }
        ui.vertical(|ui| {
            ui.label(format!(
                "z_n of digit {}: before, posterior mean, posterior sd, after",
                z.digit
            ));
            Grid::new("lesson-z-table").striped(true).show(ui, |ui| {
                for h in ["factor", "before", "mean", "sd", "after"] {
                    ui.label(RichText::new(h).strong());
                }
                ui.end_row();
                for k in 0..z.mean.len().min(MAX_ROWS) {
                    ui.label(format!("{k}"));
                    ui.monospace(num(z.before[k] as f64));
                    ui.monospace(num(z.mean[k]));
                    ui.monospace(num(z.covariance[(k, k)].sqrt()));
                    ui.monospace(num(z.after[k] as f64));
                    ui.end_row();
                }
            });
            ui.label(
                "The draw forgets z_n before: the mean and covariance depend on W, μ, σ² and \
                 x_n only, so 'before' and 'after' are two independent draws when W stayed.",
            );
        });
    });
}

fn ellipse_plot(ui: &mut Ui, z: &LatentDraw, e: &Ellipse) {
    let (a, b) = e.factors;
    let r95 = Ellipse::radius_for_probability(0.95);
    let ring: Vec<[f64; 2]> = e.points(r95, 90);
    let ring1: Vec<[f64; 2]> = e.points(1.0, 90);
    let before = [z.before[a] as f64, z.before[b] as f64];
    let after = [z.after[a] as f64, z.after[b] as f64];
    ui.vertical(|ui| {
        ui.label(format!(
            "z_n of digit {}, factors {} and {}: posterior ellipses (1 sd, 95 %)",
            z.digit, a, b
        ));
        // The legend in small text: in body text it covered half of this small plot.
        Plot::new("lesson-z-ellipse")
            .width(320.0)
            .height(230.0)
            .data_aspect(1.0)
            .legend(
                Legend::default()
                    .position(egui_plot::Corner::LeftBottom)
                    .text_style(egui::TextStyle::Small),
            )
            .show(ui, |p| {
                p.line(Line::new("95 %", ring));
                p.line(Line::new("1 sd", ring1));
                p.points(Points::new("posterior mean", vec![e.centre]).radius(4.0));
                p.points(Points::new("before", vec![before]).radius(5.0));
                p.points(Points::new("after (the draw)", vec![after]).radius(5.0));
            });
    });
}

fn loading_ui(ui: &mut Ui, w: &LoadingDraw, width: usize) {
    let (r, c) = row_col(w.pixel, width);
    ui.label(format!(
        "w_d of pixel {} (row {r}, column {c}): before, posterior mean, sd, after",
        w.pixel
    ));
    Grid::new("lesson-w-table").striped(true).show(ui, |ui| {
        for h in ["factor", "before", "mean", "sd", "after", "prior precision"] {
            ui.label(RichText::new(h).strong());
        }
        ui.end_row();
        for k in 0..w.mean.len().min(MAX_ROWS) {
            ui.label(format!("{k}"));
            ui.monospace(num(w.before[k] as f64));
            ui.monospace(num(w.mean[k]));
            ui.monospace(num(w.covariance[(k, k)].sqrt()));
            ui.monospace(num(w.after[k] as f64));
            ui.monospace(num(w.prior_precision[k]));
            ui.end_row();
        }
    });
    ui.label(format!(
        "σ_d² the draw conditions on: {}   (the covariance is σ_d² B^-1)",
        num(w.sigmasq)
    ));
}

fn mean_ui(ui: &mut Ui, m: &MeanDraw) {
    ui.label(format!("The numbers behind μ_d at pixel {}:", m.pixel));
    Grid::new("lesson-mu-numbers").striped(true).show(ui, |ui| {
        row(ui, "N", m.n.to_string(), "images");
        row(ui, "λ0", num(m.lambda0), "prior precision of μ_d");
        row(
            ui,
            "Σn (x_nd − w_d^T z_n)",
            num(m.residual_sum),
            "residual sum",
        );
        row(ui, "N + λ0", num(m.precision), "posterior precision / σ_d²");
        row(ui, "σ_d²", num(m.sigmasq), "conditioned on");
        row(ui, "mean", num(m.mean), "residual sum / (N + λ0)");
        row(ui, "variance", num(m.variance), "σ_d² / (N + λ0)");
        row(ui, "before", num(m.before as f64), "");
        row(ui, "drawn", num(m.after as f64), "");
        row(
            ui,
            "(drawn − mean) / sd",
            num(m.standardised()),
            "the standard normal used",
        );
    });
}

/// The numbers of the recentring move: where c is centred and what was drawn (its first
/// factors), the mean of the z_n before and after, and mu_d at the focus pixel.
fn recentre_ui(ui: &mut Ui, r: &RecentreDraw) {
    const SHOWN: usize = 4;
    let list = |v: &[f64]| {
        let mut s: Vec<String> = v.iter().take(SHOWN).map(|&x| num(x)).collect();
        if v.len() > SHOWN {
            s.push("…".to_owned());
        }
        s.join(", ")
    };
    let sd: Vec<f64> = (0..r.covariance.nrows().min(SHOWN))
        .map(|k| r.covariance[(k, k)].max(0.0).sqrt())
        .collect();
    ui.label(
        "Every z_n moves by −c and μ by W c: no image's fit μ + W z_n changes, and the mean \
         of the z_n goes to about 0, where their prior wants it (the first factors shown).",
    );
    Grid::new("lesson-recentre-numbers")
        .striped(true)
        .show(ui, |ui| {
            row(ui, "N", r.n.to_string(), "images");
            row(ui, "λ0", num(r.lambda0), "prior precision of μ (over σ²)");
            row(ui, "mean of c", list(&r.mean), "P^-1 b");
            row(
                ui,
                "sd of c",
                list(&sd),
                "from P^-1's diagonal: about 1 / sqrt(N)",
            );
            row(
                ui,
                "c drawn",
                list(&r.drawn),
                "read off the focus digit's z_n",
            );
            row(ui, "mean of z_n before", list(&r.zbar_before), "");
            row(ui, "mean of z_n after", list(&r.zbar_after), "before − c");
            row(
                ui,
                &format!("μ_d at pixel {}, before", r.pixel),
                num(r.mu_before as f64),
                "",
            );
            row(ui, "μ_d after", num(r.mu_after as f64), "moved by w_d^T c");
        });
}

/// The sigma_d^2 numbers; `id` keeps two grids apart.
pub fn noise_ui(ui: &mut Ui, s: &NoiseDraw, id: &str, width: usize) {
    let (r, c) = row_col(s.pixel, width);
    ui.label(format!(
        "The numbers behind σ_d² at pixel {} (row {r}, column {c}):",
        s.pixel
    ));
    Grid::new(id).striped(true).show(ui, |ui| {
        row(ui, "ν0", num(s.nu0), "prior degrees of freedom");
        row(ui, "σ0²", num(s.sigmasq0), "prior scale");
        row(ui, "ν0 σ0²", num(s.prior_term), "prior term");
        row(
            ui,
            "residual sum",
            num(s.residual_ss),
            "Σn (x_nd − w_d^Tz_n − μ_d)²",
        );
        row(ui, "w penalty", num(s.w_penalty), "w_d^T Σc^-1 w_d");
        row(ui, "μ penalty", num(s.mu_penalty), "λ0 μ_d²");
        row(ui, "ν_N", num(s.nu_n), "posterior degrees of freedom");
        row(ui, "ν_N s_d²", num(s.scale_sum), "sum of the four terms");
        row(ui, "s_d²", num(s.scale), "posterior scale");
        row(ui, "Gamma shape", num(s.gamma_shape()), "ν_N / 2");
        row(ui, "Gamma rate", num(s.gamma_rate()), "ν_N s_d² / 2");
        if let Some(mean) = s.posterior_mean() {
            row(ui, "posterior mean", num(mean), "ν_N s_d² / (ν_N − 2)");
        }
        row(ui, "before", num(s.before as f64), "");
        row(
            ui,
            "drawn σ_d²",
            num(s.after as f64),
            "1 / Gamma(shape, rate)",
        );
    });
}

fn blocked_ui(ui: &mut Ui, b: &BlockedDraw, width: usize) {
    ui.horizontal_top(|ui| {
        ui.vertical(|ui| noise_ui(ui, &b.noise, "blocked-numbers", width));
        ui.vertical(|ui| {
            ui.label("(w_d, μ_d): before, mean m_d, sd, after");
            Grid::new("lesson-blocked-table")
                .striped(true)
                .show(ui, |ui| {
                    for h in ["entry", "before", "mean", "sd", "after"] {
                        ui.label(RichText::new(h).strong());
                    }
                    ui.end_row();
                    let m = b.w_before.len();
                    let shown: Vec<usize> = (0..m.min(MAX_ROWS - 1)).chain([m]).collect();
                    for k in shown {
                        let (name, before, after) = if k < m {
                            (format!("w {}", k + 1), b.w_before[k], b.w_after[k])
                        } else {
                            ("μ_d".to_owned(), b.mu_before, b.mu_after)
                        };
                        ui.label(name);
                        ui.monospace(num(before as f64));
                        ui.monospace(num(b.mean[k]));
                        ui.monospace(num(b.covariance[(k, k)].sqrt()));
                        ui.monospace(num(after as f64));
                        ui.end_row();
                    }
                });
        });
    });
}

fn missing_ui(ui: &mut Ui, x: &MissingDraw, width: usize) {
    if x.pixels.is_empty() {
        ui.label(format!(
            "Digit {} has no missing pixel: choose another digit to see this step.",
            x.digit
        ));
        return;
    }
    ui.label(format!(
        "{} missing pixels of digit {}; the first {}:",
        x.pixels.len(),
        x.digit,
        x.pixels.len().min(MAX_ROWS)
    ));
    Grid::new("lesson-x-table").striped(true).show(ui, |ui| {
        for h in ["pixel", "before", "mean w_d^Tz_n + μ_d", "sd σ_d", "after"] {
            ui.label(RichText::new(h).strong());
        }
        ui.end_row();
        for p in x.pixels.iter().take(MAX_ROWS) {
            let (r, c) = row_col(p.pixel, width);
            ui.label(format!("{} ({r}, {c})", p.pixel));
            ui.monospace(num(p.before as f64));
            ui.monospace(num(p.mean));
            ui.monospace(num(p.sd));
            ui.monospace(num(p.after as f64));
            ui.end_row();
        }
    });
}
