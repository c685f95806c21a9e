//! Grids of small images: digits, masks, factors, components, and masked | reconstructed
//! pairs, scaled up with thin gaps so 28 x 28 pixels are visible.

use super::text::{draw_text, text_size};
use super::{Colormap, FigureError, Scaling, checked_size, value_range};
use image::{Rgb, RgbImage};
use plotters::style::text_anchor::{HPos, VPos};

/// One image of a grid, with the pixels to draw as missing (in the style's missing colour).
#[derive(Clone, Copy, Debug)]
pub struct Tile<'a> {
    pub values: &'a [f32],
    pub missing: Option<&'a [bool]>,
}

impl<'a> Tile<'a> {
    /// An image with nothing missing.
    pub fn plain(values: &'a [f32]) -> Self {
        Tile {
            values,
            missing: None,
        }
    }

    /// An image whose `missing` pixels are drawn in the missing colour and left out of the
    /// colour range.
    pub fn masked(values: &'a [f32], missing: &'a [bool]) -> Self {
        Tile {
            values,
            missing: Some(missing),
        }
    }

    fn is_missing(&self, k: usize) -> bool {
        self.missing.is_some_and(|m| m[k]) || !self.values[k].is_finite()
    }

    /// The values not missing (and finite), which set the colour range.
    pub(crate) fn observed(&self) -> impl Iterator<Item = &f32> {
        self.values
            .iter()
            .enumerate()
            .filter(|&(k, _)| !self.is_missing(k))
            .map(|(_, v)| v)
    }
}

/// Layout and colours of a grid.
#[derive(Clone, Debug, PartialEq)]
pub struct GridStyle {
    /// Cells per row.
    pub cols: usize,
    /// Screen pixels per image pixel.
    pub upscale: u32,
    /// Pixels between cells (pairs get a wider gap between cells than inside a pair).
    pub gap: u32,
    pub colormap: Colormap,
    pub scaling: Scaling,
    pub background: [u8; 3],
    /// Colour of missing pixels and non-finite values.
    pub missing_color: [u8; 3],
    /// Optional caption above each cell ("PC 1", "Factor 3"); cells past the end get none.
    pub labels: Vec<String>,
}

impl Default for GridStyle {
    fn default() -> Self {
        GridStyle {
            cols: 5,
            upscale: 4,
            gap: 2,
            colormap: Colormap::Gray,
            scaling: Scaling::Grid,
            background: [255, 255, 255],
            missing_color: [220, 50, 47],
            labels: Vec::new(),
        }
    }
}

impl GridStyle {
    /// The default layout with this colour map and scaling.
    pub fn new(colormap: Colormap, scaling: Scaling) -> Self {
        GridStyle {
            colormap,
            scaling,
            ..GridStyle::default()
        }
    }

    /// The same style with a caption per cell.
    pub fn with_labels(mut self, labels: impl IntoIterator<Item = String>) -> Self {
        self.labels = labels.into_iter().collect();
        self
    }
}

/// A grid of images with nothing missing.
pub fn image_grid(
    images: &[&[f32]],
    height: usize,
    width: usize,
    style: &GridStyle,
) -> Result<RgbImage, FigureError> {
    let tiles: Vec<Tile> = images.iter().map(|v| Tile::plain(v)).collect();
    tile_grid(&tiles, height, width, style)
}

/// A grid of images, each possibly with missing pixels.
pub fn tile_grid(
    tiles: &[Tile],
    height: usize,
    width: usize,
    style: &GridStyle,
) -> Result<RgbImage, FigureError> {
    let cells: Vec<Vec<Tile>> = tiles.iter().map(|t| vec![*t]).collect();
    render(&cells, height, width, style)
}

/// A grid of side-by-side pairs (e.g. masked | reconstructed); both sides share the scaling.
pub fn pair_grid(
    pairs: &[(Tile, Tile)],
    height: usize,
    width: usize,
    style: &GridStyle,
) -> Result<RgbImage, FigureError> {
    let cells: Vec<Vec<Tile>> = pairs.iter().map(|(a, b)| vec![*a, *b]).collect();
    render(&cells, height, width, style)
}

/// Renders cells of one or more tiles each.
fn render(
    cells: &[Vec<Tile>],
    height: usize,
    width: usize,
    style: &GridStyle,
) -> Result<RgbImage, FigureError> {
    let d = height.saturating_mul(width);
    if cells.is_empty() || d == 0 || style.cols == 0 || style.upscale == 0 {
        return Err(FigureError::EmptyLayout);
    }
    for (index, tile) in cells.iter().flatten().enumerate() {
        let bad = [Some(tile.values.len()), tile.missing.map(<[bool]>::len)]
            .into_iter()
            .flatten()
            .find(|&len| len != d);
        if let Some(got) = bad {
            return Err(FigureError::LengthMismatch {
                index,
                expected: d,
                got,
                height,
                width,
            });
        }
    }

    let per_cell = cells.iter().map(Vec::len).max().unwrap_or(1) as u64;
    let (up, gap) = (u64::from(style.upscale), u64::from(style.gap));
    let tile_w = width as u64 * up;
    let tile_h = height as u64 * up;
    let cell_gap = if per_cell > 1 { gap * 4 } else { gap };
    let cell_w = per_cell * tile_w + (per_cell - 1) * gap;
    let label_size = 13.0;
    let label_h = if style.labels.is_empty() {
        0
    } else {
        u64::from(text_size("Ag", label_size)?.1) + 4
    };
    let cols = style.cols.min(cells.len()) as u64;
    let rows = cells.len().div_ceil(style.cols) as u64;
    let fig_w = 2 * gap + cols * cell_w + (cols - 1) * cell_gap;
    let fig_h = 2 * gap + rows * (label_h + tile_h) + (rows - 1) * cell_gap;
    let (w, h) = checked_size(fig_w, fig_h)?;
    let mut img = RgbImage::from_pixel(w, h, Rgb(style.background));

    let grid_range = match style.scaling {
        Scaling::Grid => Some(value_range(
            cells.iter().flatten().flat_map(Tile::observed),
            style.colormap,
        )),
        Scaling::Fixed { lo, hi } => Some((lo, hi)),
        Scaling::Image => None,
    };

    for (c, cell) in cells.iter().enumerate() {
        let (row, col) = ((c / style.cols) as u64, (c % style.cols) as u64);
        let x0 = gap + col * (cell_w + cell_gap);
        let y0 = gap + row * (label_h + tile_h + cell_gap) + label_h;
        for (t, tile) in cell.iter().enumerate() {
            let range = grid_range.unwrap_or_else(|| value_range(tile.observed(), style.colormap));
            let tx = x0 + t as u64 * (tile_w + gap);
            paint_tile(&mut img, tile, width, (tx, y0), up, range, style);
        }
        if let Some(label) = style.labels.get(c) {
            draw_text(
                &mut img,
                label,
                label_size,
                ((x0 + cell_w / 2) as i32, (y0 - label_h + 1) as i32),
                (HPos::Center, VPos::Top),
                [30, 30, 30],
            )?;
        }
    }
    Ok(img)
}

/// Paints one tile, each image pixel as an `up` x `up` block; the figure size was checked,
/// so every coordinate fits in u32.
fn paint_tile(
    img: &mut RgbImage,
    tile: &Tile,
    width: usize,
    (x0, y0): (u64, u64),
    up: u64,
    range: (f32, f32),
    style: &GridStyle,
) {
    for (k, &v) in tile.values.iter().enumerate() {
        let color = if tile.is_missing(k) {
            style.missing_color
        } else {
            style.colormap.color_in(v, range)
        };
        let (i, j) = ((k / width) as u64, (k % width) as u64);
        for dy in 0..up {
            for dx in 0..up {
                let (x, y) = (x0 + j * up + dx, y0 + i * up + dy);
                img.put_pixel(x as u32, y as u32, Rgb(color));
            }
        }
    }
}
