//! Colour bars with tick labels, and single-image figures (posterior mean image, per-pixel
//! standard deviation) drawn large with a title and a colour bar.

use super::grid::Tile;
use super::plot::format_tick;
use super::text::{blit, draw_text, text_size, titled};
use super::{Colormap, FigureError, GridStyle, Scaling, checked_size, tile_grid, value_range};
use image::{Rgb, RgbImage};
use plotters::style::text_anchor::{HPos, VPos};

/// `img` with a vertical colour bar for `colormap` over `range` on its right, ticks at round
/// values and an optional label above the bar.
pub fn with_colorbar(
    img: &RgbImage,
    colormap: Colormap,
    range: (f32, f32),
    label: &str,
) -> Result<RgbImage, FigureError> {
    let (lo, hi) = if range.0.is_finite() && range.1.is_finite() && range.1 > range.0 {
        range
    } else {
        (range.0.min(range.1) - 0.5, range.0.max(range.1) + 0.5)
    };
    let tick_size = 13.0;
    let ticks = nice_ticks(f64::from(lo), f64::from(hi), 5);
    let mut tick_w = 0;
    for &t in &ticks {
        tick_w = tick_w.max(text_size(&format_tick(t), tick_size)?.0);
    }
    let label_h = if label.is_empty() {
        0
    } else {
        text_size(label, tick_size)?.1 + 6
    };
    let (bar_w, pad) = (16u32, 12u32);
    let top = 8 + label_h;
    let bar_h = img.height().max(140).saturating_sub(top + 8).max(60);
    let label_w = if label.is_empty() {
        0
    } else {
        text_size(label, tick_size)?.0
    };
    let side_w = (bar_w + 11 + tick_w).max(label_w) + pad;
    let height = u64::from(img.height().max(top + bar_h + 8));
    let (w, h) = checked_size(u64::from(img.width()) + u64::from(pad + side_w), height)?;
    let mut out = RgbImage::from_pixel(w, h, Rgb([255, 255, 255]));
    blit(&mut out, img, 0, (h - img.height()) / 2);

    let bx = img.width() + pad;
    for y in 0..bar_h {
        let t = 1.0 - y as f32 / (bar_h - 1).max(1) as f32;
        let color = colormap.color(t);
        for x in 0..bar_w {
            out.put_pixel(bx + x, top + y, Rgb(color));
        }
    }
    // A frame just outside the bar, so its end rows keep the map's end colours.
    let dark = Rgb([40, 40, 40]);
    for y in top - 1..=top + bar_h {
        out.put_pixel(bx - 1, y, dark);
        out.put_pixel(bx + bar_w, y, dark);
    }
    for x in bx - 1..=bx + bar_w {
        out.put_pixel(x, top - 1, dark);
        out.put_pixel(x, top + bar_h, dark);
    }
    let span = f64::from(hi) - f64::from(lo);
    for &t in &ticks {
        let frac = (t - f64::from(lo)) / span;
        let y = top + ((1.0 - frac) * f64::from(bar_h - 1)).round() as u32;
        for x in bx + bar_w + 1..bx + bar_w + 5 {
            out.put_pixel(x, y, dark);
        }
        draw_text(
            &mut out,
            &format_tick(t),
            tick_size,
            ((bx + bar_w + 10) as i32, y as i32),
            (HPos::Left, VPos::Center),
            [30, 30, 30],
        )?;
    }
    if !label.is_empty() {
        draw_text(
            &mut out,
            label,
            tick_size,
            (bx as i32, 4),
            (HPos::Left, VPos::Top),
            [30, 30, 30],
        )?;
    }
    Ok(out)
}

/// A grid on one shared range (the style's fixed range, else the grid's) with a colour bar
/// for it: per-pixel standard deviations of several digits, say.
pub fn tile_grid_with_colorbar(
    tiles: &[Tile],
    height: usize,
    width: usize,
    style: &GridStyle,
    label: &str,
) -> Result<RgbImage, FigureError> {
    let range = match style.scaling {
        Scaling::Fixed { lo, hi } => (lo, hi),
        Scaling::Grid | Scaling::Image => {
            value_range(tiles.iter().flat_map(Tile::observed), style.colormap)
        }
    };
    let shared = GridStyle {
        scaling: Scaling::Fixed {
            lo: range.0,
            hi: range.1,
        },
        ..style.clone()
    };
    let grid = tile_grid(tiles, height, width, &shared)?;
    with_colorbar(&grid, style.colormap, range, label)
}

/// Round tick values inside [lo, hi], about `target` of them.
fn nice_ticks(lo: f64, hi: f64, target: usize) -> Vec<f64> {
    let span = hi - lo;
    if span.is_nan() || span <= 0.0 || !span.is_finite() {
        return vec![lo];
    }
    let raw = span / target.max(1) as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|&s| s >= raw)
        .unwrap_or(10.0 * magnitude);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last)
        .map(|k| {
            let v = k as f64 * step;
            if v.abs() < step * 1e-9 { 0.0 } else { v }
        })
        .collect()
}

/// How to draw one image on its own.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageFigure {
    pub title: String,
    pub colormap: Colormap,
    /// `Scaling::Image` and `Scaling::Grid` both mean the image's own range here.
    pub scaling: Scaling,
    /// Screen pixels per image pixel (10 makes a 28 x 28 image 280 pixels wide).
    pub upscale: u32,
    /// Draw a colour bar beside the image.
    pub colorbar: bool,
    /// Label above the colour bar (units), may be empty.
    pub colorbar_label: String,
}

impl ImageFigure {
    /// A titled figure with a colour bar, 10x upscaling and the image's own range.
    pub fn new(title: impl Into<String>, colormap: Colormap) -> Self {
        ImageFigure {
            title: title.into(),
            colormap,
            scaling: Scaling::Image,
            upscale: 10,
            colorbar: true,
            colorbar_label: String::new(),
        }
    }
}

/// One image drawn large, with its title and (optionally) a colour bar.
pub fn image_figure(
    values: &[f32],
    height: usize,
    width: usize,
    figure: &ImageFigure,
) -> Result<RgbImage, FigureError> {
    let range = match figure.scaling {
        Scaling::Fixed { lo, hi } => (lo, hi),
        Scaling::Grid | Scaling::Image => value_range(values, figure.colormap),
    };
    let style = GridStyle {
        cols: 1,
        upscale: figure.upscale,
        gap: 8,
        colormap: figure.colormap,
        scaling: Scaling::Fixed {
            lo: range.0,
            hi: range.1,
        },
        ..GridStyle::default()
    };
    let mut img = tile_grid(&[Tile::plain(values)], height, width, &style)?;
    if figure.colorbar {
        img = with_colorbar(&img, figure.colormap, range, &figure.colorbar_label)?;
    }
    if figure.title.is_empty() {
        Ok(img)
    } else {
        titled(&img, &figure.title)
    }
}
