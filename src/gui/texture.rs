//! Pixel images on screen: colour maps, a texture cache that uploads only on change, image
//! widgets that report the value under the pointer, and colour bars.
//!
//! Textures are created once per slot and updated in place with `TextureHandle::set` only when
//! the slot's version changes, so nothing is uploaded every frame. Images use nearest filtering
//! so 28 x 28 pixels stay crisp at any size.

use std::collections::HashMap;

use crate::figures::Colormap;

use egui::{
    Color32, ColorImage, Context, Rect, Response, Sense, TextureHandle, TextureId, Ui, Vec2,
};

/// Colour of a value that is NaN or infinite: loud, so a numerical problem is seen, never hidden.
pub const INVALID: Color32 = Color32::from_rgb(255, 0, 255);
/// Colour of a missing pixel in a masked digit.
pub const MISSING: Color32 = Color32::from_rgb(196, 64, 48);

/// How values become colours. Every map sends NaN and infinities to [`INVALID`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ColourMap {
    /// Black at `lo`, white at `hi` (digits: MNIST ink is bright).
    Gray { lo: f32, hi: f32 },
    /// Viridis from `lo` to `hi` (standard deviations, variances).
    Sequential { lo: f32, hi: f32 },
    /// Centred at zero, symmetric: blue at `-max_abs`, white at 0, red at `max_abs`.
    Diverging { max_abs: f32 },
}

impl ColourMap {
    /// The colour of one value (the figures' colour maps, so the app and the PNGs agree).
    pub fn colour(&self, value: f32) -> Color32 {
        if !value.is_finite() {
            return INVALID;
        }
        let (map, range) = match *self {
            ColourMap::Gray { lo, hi } => (Colormap::Gray, (lo, hi)),
            ColourMap::Sequential { lo, hi } => (Colormap::Sequential, (lo, hi)),
            ColourMap::Diverging { max_abs } => (Colormap::Diverging, (-max_abs, max_abs)),
        };
        let [r, g, b] = map.color_in(value, range);
        Color32::from_rgb(r, g, b)
    }

    /// The values at the two ends of the map.
    pub fn range(&self) -> (f32, f32) {
        match *self {
            ColourMap::Gray { lo, hi } | ColourMap::Sequential { lo, hi } => (lo, hi),
            ColourMap::Diverging { max_abs } => (-max_abs, max_abs),
        }
    }

    /// A diverging map symmetric about 0 covering the largest finite |value|.
    pub fn diverging_over(values: &[f32]) -> Self {
        ColourMap::Diverging {
            max_abs: max_abs(values),
        }
    }
}

/// Smallest and largest finite value, or `None` when there is no finite value.
pub fn finite_range(values: &[f32]) -> Option<(f32, f32)> {
    values
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// Largest finite |value|, or 1 when there is none or all are zero (so a map is never empty).
pub fn max_abs(values: &[f32]) -> f32 {
    let m = values
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(0.0f32, |acc, v| acc.max(v.abs()));
    if m > 0.0 { m } else { 1.0 }
}

/// A `width x height` image of `values` (row-major) through `map`. Missing values (a short
/// slice) are drawn as [`INVALID`] rather than failing.
pub fn colour_image(values: &[f32], width: usize, height: usize, map: &ColourMap) -> ColorImage {
    let pixels = (0..width * height)
        .map(|i| values.get(i).map_or(INVALID, |&v| map.colour(v)))
        .collect();
    ColorImage::new([width, height], pixels)
}

/// Like [`colour_image`], but pixels flagged in `missing` are drawn as [`MISSING`].
pub fn masked_image(
    values: &[f32],
    missing: &[bool],
    width: usize,
    height: usize,
    map: &ColourMap,
) -> ColorImage {
    let pixels = (0..width * height)
        .map(|i| {
            if missing.get(i).copied().unwrap_or(false) {
                MISSING
            } else {
                values.get(i).map_or(INVALID, |&v| map.colour(v))
            }
        })
        .collect();
    ColorImage::new([width, height], pixels)
}

/// One cached texture and the version of the data it shows.
struct Slot {
    handle: TextureHandle,
    version: u64,
    last_used: u64,
}

/// Textures keyed by slot name; each is uploaded when created and re-uploaded only when the
/// version its caller passes changes. Slots unused for a while are dropped (scrolled away).
#[derive(Default)]
pub struct TextureCache {
    slots: HashMap<String, Slot>,
    frame: u64,
    uploads: u64,
}

impl TextureCache {
    /// Marks the start of a frame; slots untouched for `max_idle` frames are dropped.
    pub fn begin_frame(&mut self, max_idle: u64) {
        self.frame += 1;
        let frame = self.frame;
        self.slots
            .retain(|_, slot| frame.saturating_sub(slot.last_used) <= max_idle);
    }

    /// The texture of slot `key` showing data of `version`; `make` runs only on a miss or a
    /// version change.
    pub fn texture(
        &mut self,
        ctx: &Context,
        key: &str,
        version: u64,
        make: impl FnOnce() -> ColorImage,
    ) -> TextureId {
        let frame = self.frame;
        if let Some(slot) = self.slots.get_mut(key) {
            if slot.version != version {
                slot.handle.set(make(), egui::TextureOptions::NEAREST);
                slot.version = version;
                self.uploads += 1;
            }
            slot.last_used = frame;
            return slot.handle.id();
        }
        let handle = ctx.load_texture(key, make(), egui::TextureOptions::NEAREST);
        let id = handle.id();
        self.uploads += 1;
        self.slots.insert(
            key.to_owned(),
            Slot {
                handle,
                version,
                last_used: frame,
            },
        );
        id
    }

    /// Textures created or updated since the cache was made (tests check nothing re-uploads).
    #[cfg(test)]
    pub fn uploads(&self) -> u64 {
        self.uploads
    }

    /// Number of live texture slots.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.slots.len()
    }
}

/// Side of the largest square cells that fit `columns x rows` cells with `gap` between them
/// in `available`, never below `min` (the area scrolls then) nor above `max`.
pub fn cell_side(
    available: Vec2,
    columns: usize,
    rows: usize,
    gap: f32,
    min: f32,
    max: f32,
) -> f32 {
    let columns = columns.max(1) as f32;
    let rows = rows.max(1) as f32;
    let by_width = (available.x - gap * (columns - 1.0)) / columns;
    let by_height = (available.y - gap * (rows - 1.0)) / rows;
    by_width.min(by_height).clamp(min, max.max(min))
}

/// The number of columns (and the cell side) that shows `count` square cells largest in
/// `available`, each cell needing `caption` extra points of height; the side stays within
/// `min..=max` (below `min` the area scrolls).
pub fn best_grid(
    count: usize,
    available: Vec2,
    gap: f32,
    caption: f32,
    min: f32,
    max: f32,
) -> (usize, f32) {
    let count = count.max(1);
    let mut best = (1, f32::MIN);
    for columns in 1..=count {
        let rows = count.div_ceil(columns) as f32;
        let by_width = (available.x - gap * (columns as f32 - 1.0)) / columns as f32;
        let by_height = (available.y - gap * (rows - 1.0)) / rows - caption;
        let side = by_width.min(by_height);
        if side > best.1 {
            best = (columns, side);
        }
    }
    let side = best.1.clamp(min, max.max(min));
    if best.1 >= min {
        return (best.0, side);
    }
    // Too little room even at the best shape: cells of the smallest side, as many columns as
    // fit the width, and the rest scrolls. (The best shape's column count at the larger side
    // ran off the right edge: nine factors a row in projector mode at 1280 x 720.)
    let fit = ((available.x + gap) / (side + gap)).floor().max(1.0) as usize;
    (fit.min(count), side)
}

/// Draws a `width x height` pixel texture into a square-pixel box of `size`, labelled for
/// screen readers, and shows `hover(row, col)` in a tooltip while the pointer is over a pixel.
pub fn pixel_image(
    ui: &mut Ui,
    texture: TextureId,
    size: Vec2,
    (width, height): (usize, usize),
    label: &str,
    hover: impl FnOnce(usize, usize) -> String,
) -> Response {
    let (rect, response) = ui.allocate_exact_size(size, Sense::hover());
    let uv = Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0));
    ui.painter().image(texture, rect, uv, Color32::WHITE);
    // A thin frame, so an image with a white edge (a factor near 0) stays visible on a light
    // background.
    let frame = ui.visuals().widgets.noninteractive.bg_stroke;
    ui.painter()
        .rect_stroke(rect, 0.0, frame, egui::StrokeKind::Outside);
    let label = label.to_owned();
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Image, true, &label));
    let Some(pointer) = response.hover_pos() else {
        return response;
    };
    if width == 0 || height == 0 || rect.width() <= 0.0 || rect.height() <= 0.0 {
        return response;
    }
    let col = (((pointer.x - rect.left()) / rect.width()) * width as f32).floor();
    let row = (((pointer.y - rect.top()) / rect.height()) * height as f32).floor();
    let col = (col.max(0.0) as usize).min(width - 1);
    let row = (row.max(0.0) as usize).min(height - 1);
    let text = hover(row, col);
    response.on_hover_text_at_pointer(text)
}

/// The size of a `(width, height)`-pixel image fitted into a `side` x `side` box at its own
/// aspect (images need not be square: a folder of PNGs can hold any one size).
pub fn fitted_size(side: f32, (width, height): (usize, usize)) -> Vec2 {
    if width == 0 || height == 0 {
        return Vec2::splat(side);
    }
    let aspect = width as f32 / height as f32;
    if aspect >= 1.0 {
        Vec2::new(side, side / aspect)
    } else {
        Vec2::new(side * aspect, side)
    }
}

/// The standard hover text of a pixel value.
pub fn value_text(row: usize, col: usize, value: Option<f32>) -> String {
    match value {
        Some(v) if v.is_finite() => format!("row {row}, col {col}: {v:.3}"),
        Some(v) => format!("row {row}, col {col}: {v} (not finite)"),
        None => format!("row {row}, col {col}: no value"),
    }
}

/// A horizontal colour bar for `map`, `width` points wide, with its range and a caption.
pub fn colour_bar(ui: &mut Ui, map: &ColourMap, width: f32, caption: &str) -> Response {
    let (lo, hi) = map.range();
    ui.vertical(|ui| {
        let height = 12.0;
        let (rect, response) =
            ui.allocate_exact_size(egui::vec2(width.max(20.0), height), Sense::hover());
        let steps = 64;
        let painter = ui.painter();
        for i in 0..steps {
            let t0 = i as f32 / steps as f32;
            let t1 = (i + 1) as f32 / steps as f32;
            let value = lo + (hi - lo) * (t0 + t1) * 0.5;
            let cell = Rect::from_min_max(
                egui::pos2(rect.left() + rect.width() * t0, rect.top()),
                egui::pos2(rect.left() + rect.width() * t1, rect.bottom()),
            );
            painter.rect_filled(cell, 0.0, map.colour(value));
        }
        painter.rect_stroke(
            rect,
            0.0,
            egui::Stroke::new(1.0, ui.visuals().weak_text_color()),
            egui::StrokeKind::Inside,
        );
        let bar_label = format!(
            "{caption}: colour bar from {} to {}",
            format_value(lo),
            format_value(hi)
        );
        response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Image, true, &bar_label));
        // Tick labels painted under the ends (and under 0 for a diverging map); the labels
        // are also in the bar's accessible name above.
        let (ticks, _) = ui.allocate_exact_size(egui::vec2(rect.width(), 14.0), Sense::hover());
        let font = egui::TextStyle::Small.resolve(ui.style());
        let colour = ui.visuals().text_color();
        let painter = ui.painter();
        painter.text(
            ticks.left_top(),
            egui::Align2::LEFT_TOP,
            format_value(lo),
            font.clone(),
            colour,
        );
        painter.text(
            ticks.right_top(),
            egui::Align2::RIGHT_TOP,
            format_value(hi),
            font.clone(),
            colour,
        );
        if matches!(map, ColourMap::Diverging { .. }) {
            painter.text(
                ticks.center_top(),
                egui::Align2::CENTER_TOP,
                "0",
                font,
                colour,
            );
        }
        ui.small(caption);
        response
    })
    .inner
}

/// A short rendering of a value for colour-bar ends: about four significant digits, trailing
/// zeros dropped, scientific when large or tiny.
pub fn format_value(v: f32) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    let a = v.abs();
    if a == 0.0 {
        return "0".to_owned();
    }
    if !(1e-2..1e4).contains(&a) {
        return format!("{v:.2e}");
    }
    let decimals = (3 - a.log10().floor() as i32).clamp(0, 4) as usize;
    let text = format!("{v:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Square images fill the box; others fill it along their longer side and keep their
    /// aspect; an empty shape falls back to the box.
    #[test]
    fn images_are_fitted_into_the_box_at_their_aspect() {
        let close = |a: Vec2, b: Vec2| (a - b).length() < 1e-3;
        assert!(close(fitted_size(112.0, (28, 28)), Vec2::splat(112.0)));
        assert!(close(fitted_size(120.0, (20, 24)), Vec2::new(100.0, 120.0)));
        assert!(close(fitted_size(120.0, (24, 20)), Vec2::new(120.0, 100.0)));
        assert!(close(fitted_size(50.0, (0, 7)), Vec2::splat(50.0)));
    }

    /// A grid's columns fit its width, also when the height would ask for cells below the
    /// smallest side (then the cells take that side and the rows scroll); with room enough the
    /// grid shows every cell, as large as fits.
    #[test]
    fn grid_columns_fit_the_width() {
        let (gap, caption, min, max) = (8.0, 30.0, 48.0, 200.0);
        for (count, width, height) in [
            (25, 464.0, 220.0),
            (25, 464.0, 900.0),
            (50, 300.0, 100.0),
            (3, 1000.0, 50.0),
            (1, 20.0, 20.0),
            (25, 1400.0, 900.0),
        ] {
            let (columns, side) =
                best_grid(count, Vec2::new(width, height), gap, caption, min, max);
            assert!(
                (1..=count).contains(&columns),
                "{count} in {width} x {height}: {columns}"
            );
            assert!(
                (min..=max).contains(&side),
                "{count} in {width} x {height}: side {side}"
            );
            let used = columns as f32 * (side + gap) - gap;
            assert!(
                used <= width.max(min) + 1e-3,
                "{count} in {width} x {height}: {columns} columns of {side} take {used}"
            );
            let rows = count.div_ceil(columns) as f32;
            if side > min {
                assert!(rows * (side + caption + gap) - gap <= height + 1e-3);
            }
        }
    }
}
