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
    // Rows of as many images as fit, each column as wide as its image so a title wraps under
    // it. (In a wrapping layout a column started near the row's end got a sliver of width; its
    // title, wrapped a word a line, left a gap of several screens below the images.)
    let size = fitted_size(SIDE, (width, height));
    let spacing = ui.spacing().item_spacing.x;
    let per_row = ((ui.available_width() + spacing) / (size.x + spacing)).floor() as usize;
    // Titles take at least two lines' height, so the images of a row start level.
    let title_height =
        2.0 * ui.text_style_height(&egui::TextStyle::Body) + ui.spacing().item_spacing.y;
    for row in panels.chunks(per_row.max(1)) {
        ui.horizontal_top(|ui| {
            for (key, title, values) in row {
                ui.vertical(|ui| {
                    ui.set_width(size.x);
                    let top = ui.cursor().top();
                    ui.label(title);
                    ui.add_space((title_height - (ui.cursor().top() - top)).max(0.0));
                    let texture =
                        textures.texture(ui.ctx(), key, version, || image(values, width, height));
                    pixel_image(ui, texture, size, (width, height), title, |row, col| {
                        describe(values, width, row, col)
                    });
                });
            }
        });
    }
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

#[cfg(test)]
mod layout_tests {
    use super::*;
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;

    /// At any width every image is drawn at its size, in rows that fit, with the colour bar
    /// right below the last row. At 560 points a wrapping layout once started the fourth
    /// image's column in the row's last sliver: its title stood a word a line, the images
    /// after it were never seen, and a gap several screens high came before the colour bar.
    #[test]
    fn the_images_are_laid_out_in_rows_that_fit() {
        let (width, height) = (28, 28);
        let values = vec![1.05; width * height];
        let images = RhatImages {
            sigmasq: values.clone(),
            mu: values.clone(),
            digits: [3, 2, 7, 11].map(|n| (n, values.clone())).to_vec(),
        };
        for harness_width in [420.0, 560.0, 700.0, 1400.0] {
            let mut textures = TextureCache::default();
            let mut h = Harness::builder()
                .with_size([harness_width, 1200.0])
                .build_ui(|u| ui(u, &images, (height, width), 1, &mut textures));
            h.run();
            let titles = [
                "R-hat of sigma_d^2".to_string(),
                "R-hat of mu_d".to_string(),
            ]
            .into_iter()
            .chain([3, 2, 7, 11].map(|n| format!("R-hat of digit #{n}'s missing pixels")));
            let mut bottom = f32::MIN;
            for title in titles {
                let nodes: Vec<egui::Rect> =
                    h.query_all_by_label(&title).map(|n| n.rect()).collect();
                assert_eq!(nodes.len(), 2, "{title}: its title and its image");
                let (label, picture) = (nodes[0], nodes[1]);
                assert!(
                    (picture.width() - SIDE).abs() < 0.5 && (picture.height() - SIDE).abs() < 0.5,
                    "{title} at width {harness_width}: image {picture:?}"
                );
                assert!(
                    picture.right() <= harness_width,
                    "{title} at width {harness_width}: off the right edge, {picture:?}"
                );
                assert!(
                    label.width() <= SIDE + 0.5 && label.height() < 60.0,
                    "{title} at width {harness_width}: title {label:?}"
                );
                bottom = bottom.max(picture.bottom());
            }
            let bar = h.get_by_label("R-hat (classic, per pixel)").rect();
            assert!(
                bar.top() > bottom && bar.top() - bottom < 40.0,
                "at width {harness_width}: colour bar at {bar:?}, images end at {bottom}"
            );
        }
    }
}
