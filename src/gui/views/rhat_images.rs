//! The per-pixel R-hat drawn as images: sigma_d^2, mu_d and the missing pixels of each digit
//! with a watched pixel, so one sees *where* the chains disagree (the table beside it gives
//! only the maximum and the share above 1.01).
//!
//! Threads: UI thread. The R-hat values were computed on the chains' thread; a texture is
//! rebuilt from D values only when a new diagnostics report arrives, never every frame.

use egui::{Color32, ColorImage, RichText, Ui};

use crate::chains::RhatImages;
use crate::gui::texture::{ColourMap, TextureCache, colour_bar, fitted_size, pixel_image};

/// R-hat at or above which a pixel takes the map's top colour.
const TOP: f32 = 1.2;
/// 1.0 (dark) to [`TOP`] (bright).
const MAP: ColourMap = ColourMap::Sequential { lo: 1.0, hi: TOP };
/// A pixel with no R-hat: observed in the digit, or undefined (it does not vary).
const NO_RHAT: Color32 = Color32::from_gray(110);
/// Side of each image on screen, in points.
const SIDE: f32 = 150.0;

/// The colour of one pixel's R-hat.
fn colour(value: f64) -> Color32 {
    if value.is_finite() {
        MAP.colour((value as f32).clamp(1.0, TOP))
    } else {
        NO_RHAT
    }
}

/// A `width x height` image of R-hat values (row-major).
fn image(values: &[f64], width: usize, height: usize) -> ColorImage {
    let pixels = (0..width * height)
        .map(|i| values.get(i).copied().map_or(NO_RHAT, colour))
        .collect();
    ColorImage::new([width, height], pixels)
}

/// Hover text of one pixel.
fn describe(values: &[f64], width: usize, row: usize, col: usize) -> String {
    match values.get(row * width + col) {
        Some(v) if v.is_finite() => format!("R-hat {v:.3} at row {row}, column {col}"),
        _ => format!("no R-hat at row {row}, column {col} (observed, or it does not vary)"),
    }
}

/// Draws the images of `images` for pictures of `shape` (height, width); `version` changes
/// with each diagnostics report.
pub fn ui(
    ui: &mut Ui,
    images: &RhatImages,
    (height, width): (usize, usize),
    version: u64,
    textures: &mut TextureCache,
) {
    let d = images.sigmasq.len();
    if d == 0 || width * height != d {
        return;
    }
    ui.strong("Per-pixel R-hat as images");
    ui.label(
        RichText::new(format!(
            "Dark: R-hat 1.0 (the chains agree); bright: {TOP} or more. Grey: no R-hat (an \
             observed pixel of the digit, or a value that does not vary)."
        ))
        .small(),
    );
    let mut panels: Vec<(String, String, &[f64])> = vec![
        (
            "rhat_sigmasq".into(),
            "R-hat of sigma_d^2".into(),
            &images.sigmasq,
        ),
        ("rhat_mu".into(), "R-hat of mu_d".into(), &images.mu),
    ];
    for (n, values) in &images.digits {
        panels.push((
            format!("rhat_digit_{n}"),
            format!("R-hat of digit #{n}'s missing pixels"),
            values,
        ));
    }
    ui.horizontal_wrapped(|ui| {
        for (key, title, values) in panels {
            ui.vertical(|ui| {
                ui.label(&title);
                let texture =
                    textures.texture(ui.ctx(), &key, version, || image(values, width, height));
                pixel_image(
                    ui,
                    texture,
                    fitted_size(SIDE, (width, height)),
                    (width, height),
                    &title,
                    |row, col| describe(values, width, row, col),
                );
            });
        }
    });
    colour_bar(ui, &MAP, 2.0 * SIDE, "R-hat (classic, per pixel)");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undefined_and_observed_pixels_are_grey_and_large_values_saturate() {
        assert_eq!(colour(f64::NAN), NO_RHAT);
        assert_eq!(colour(f64::INFINITY), NO_RHAT);
        assert_eq!(colour(5.0), colour(TOP as f64));
        assert_eq!(colour(0.98), colour(1.0));
        assert_ne!(colour(1.0), colour(TOP as f64));
        let img = image(&[1.0, f64::NAN, 3.0], 3, 1);
        assert_eq!(img.pixels[1], NO_RHAT);
    }
}
