//! Masks: the masks of the first digits in one grid, with the overall missing fraction.
//!
//! The grid is one texture (an atlas of tiles with 1-pixel gaps), rebuilt only when the
//! number shown, the overlay or the experiment changes.

use egui::{Color32, ColorImage, Vec2};

use super::slot_version;
use crate::gui::live::LiveState;
use crate::gui::texture::{MISSING, TextureCache, best_grid, pixel_image};

/// Masks shown by default (10 x 10).
const DEFAULT_SHOWN: usize = 100;
/// Most masks in the grid (a 20 x 20 atlas of 28 x 28 tiles is still small).
const MAX_SHOWN: usize = 400;
const GAP_COLOUR: Color32 = Color32::from_gray(70);
const OBSERVED: Color32 = Color32::from_gray(16);
const MISSING_PLAIN: Color32 = Color32::from_gray(235);

/// UI state of the masks view.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct MasksView {
    shown: usize,
    /// Draw the digit under the mask (missing pixels red) instead of the bare mask.
    overlay: bool,
}

impl Default for MasksView {
    fn default() -> Self {
        MasksView {
            shown: DEFAULT_SHOWN,
            overlay: false,
        }
    }
}

/// Layout of the atlas: `columns x rows` tiles of `height x width` with 1-pixel gaps.
#[derive(Clone, Copy)]
struct Atlas {
    columns: usize,
    rows: usize,
    height: usize,
    width: usize,
}

impl Atlas {
    fn new(count: usize, columns: usize, height: usize, width: usize) -> Atlas {
        let columns = columns.clamp(1, count.max(1));
        Atlas {
            columns,
            rows: count.div_ceil(columns).max(1),
            height,
            width,
        }
    }

    fn pixel_width(self) -> usize {
        self.columns * (self.width + 1) - 1
    }

    fn pixel_height(self) -> usize {
        self.rows * (self.height + 1) - 1
    }

    /// The image, row and column under atlas pixel (y, x); None on a gap.
    fn locate(self, y: usize, x: usize) -> Option<(usize, usize, usize)> {
        let (tile_row, r) = (y / (self.height + 1), y % (self.height + 1));
        let (tile_col, c) = (x / (self.width + 1), x % (self.width + 1));
        (r < self.height && c < self.width).then_some((tile_row * self.columns + tile_col, r, c))
    }
}

impl MasksView {
    pub fn ui(&mut self, ui: &mut egui::Ui, live: &LiveState, textures: &mut TextureCache) {
        let n = live.n_images();
        let (height, width) = live.image_shape();
        let fraction = live.missing_fraction();
        ui.horizontal_wrapped(|ui| {
            let label = ui.label("Masks shown:");
            ui.add(egui::DragValue::new(&mut self.shown).range(1..=MAX_SHOWN))
                .labelled_by(label.id);
            ui.checkbox(&mut self.overlay, "Show the digit under the mask");
        });
        let shown = self.shown.clamp(1, MAX_SHOWN).min(n);
        ui.label(format!(
            "Overall missing fraction: {:.1}% of {n} x {} pixels. Showing the masks of the first \
             {shown} digits; {}.",
            100.0 * fraction,
            height * width,
            if self.overlay {
                "missing pixels in red over the digit"
            } else {
                "missing pixels white, observed black"
            }
        ));
        if shown == 0 || height == 0 || width == 0 {
            ui.label("No masks: load a dataset first.");
            return;
        }
        let available = ui.available_size();
        // Columns that make the tiles largest for this area's shape.
        let (columns, _) = best_grid(shown, available, 1.0, 0.0, 1.0, f32::MAX);
        let atlas = Atlas::new(shown, columns, height, width);
        let version = slot_version(
            live,
            ((shown * MAX_SHOWN + columns) as u64) * 2 + u64::from(self.overlay),
        );
        let overlay = self.overlay;
        let tex = textures.texture(ui.ctx(), "masks/atlas", version, || {
            atlas_image(live, atlas, shown, overlay)
        });
        let (aw, ah) = (atlas.pixel_width() as f32, atlas.pixel_height() as f32);
        let mut scale = (available.x / aw).min(available.y / ah).max(0.5);
        if scale >= 4.0 {
            // Whole screen pixels per mask pixel keep every mask pixel the same size.
            scale = scale.floor();
        }
        pixel_image(
            ui,
            tex,
            Vec2::new(aw * scale, ah * scale),
            (atlas.pixel_width(), atlas.pixel_height()),
            &format!("masks of the first {shown} digits"),
            |y, x| match atlas.locate(y, x) {
                Some((index, r, c)) if index < shown => {
                    let missing = live
                        .mask(index)
                        .and_then(|m| m.get(r * width + c).copied())
                        .unwrap_or(false);
                    let state = if missing { "missing" } else { "observed" };
                    format!("image {index}, row {r}, col {c}: {state}")
                }
                _ => "gap between masks".to_owned(),
            },
        );
    }
}

/// The atlas picture: each tile a mask (or the digit with its missing pixels in red).
fn atlas_image(live: &LiveState, atlas: Atlas, shown: usize, overlay: bool) -> ColorImage {
    let (aw, ah) = (atlas.pixel_width(), atlas.pixel_height());
    let mut pixels = vec![GAP_COLOUR; aw * ah];
    for (y, row) in pixels.chunks_mut(aw).enumerate() {
        for (x, px) in row.iter_mut().enumerate() {
            let tile = (y / (atlas.height + 1)) * atlas.columns + x / (atlas.width + 1);
            if tile >= shown {
                // Past the last mask: background, not an empty grey block.
                *px = Color32::TRANSPARENT;
                continue;
            }
            let Some((index, r, c)) = atlas.locate(y, x) else {
                continue;
            };
            let k = r * atlas.width + c;
            let missing = live
                .mask(index)
                .and_then(|m| m.get(k).copied())
                .unwrap_or(false);
            *px = match (missing, overlay) {
                (true, true) => MISSING,
                (true, false) => MISSING_PLAIN,
                (false, false) => OBSERVED,
                (false, true) => {
                    let v = live.truth(index).and_then(|t| t.get(k).copied());
                    match v {
                        Some(v) if v.is_finite() => Color32::from_gray((v.clamp(0.0, 255.0)) as u8),
                        _ => crate::gui::texture::INVALID,
                    }
                }
            };
        }
    }
    ColorImage::new([aw, ah], pixels)
}
