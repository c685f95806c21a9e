//! Text on figures: the built-in font (registered with plotters once) and title bands.

use super::{FigureError, checked_size};
use image::{Rgb, RgbImage};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::sync::OnceLock;

/// The font family name figures use; registered from egui's bundled Hack (monospace), so
/// text renders the same on every machine without system fonts. Monospace because plotters'
/// ab_glyph backend ignores glyph side bearings, which leaves uneven gaps in proportional
/// fonts ("1 0" for "10").
pub const FONT_FAMILY: &str = "gibbs-fa-sans";

/// Registers the built-in font with plotters (once per process).
pub(crate) fn ensure_font() -> Result<(), FigureError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(
            FONT_FAMILY,
            FontStyle::Normal,
            epaint_default_fonts::HACK_REGULAR,
        )
        .is_ok()
    });
    if ok { Ok(()) } else { Err(FigureError::Font) }
}

pub(crate) fn draw_error(err: impl std::fmt::Display) -> FigureError {
    FigureError::Draw(err.to_string())
}

/// Width and height of `text` at `size` pixels.
pub(crate) fn text_size(text: &str, size: f64) -> Result<(u32, u32), FigureError> {
    ensure_font()?;
    let font = (FONT_FAMILY, size).into_font();
    font.box_size(text).map_err(draw_error)
}

/// Draws `text` onto `img` with its anchor (`h`, `v`) at `pos`.
pub(crate) fn draw_text(
    img: &mut RgbImage,
    text: &str,
    size: f64,
    pos: (i32, i32),
    anchor: (HPos, VPos),
    color: [u8; 3],
) -> Result<(), FigureError> {
    ensure_font()?;
    let (w, h) = img.dimensions();
    let buffer: &mut [u8] = img;
    let root = BitMapBackend::with_buffer(buffer, (w, h)).into_drawing_area();
    let rgb = RGBColor(color[0], color[1], color[2]);
    let style = TextStyle::from((FONT_FAMILY, size).into_font())
        .color(&rgb)
        .pos(Pos::new(anchor.0, anchor.1));
    root.draw_text(text, &style, pos).map_err(draw_error)?;
    root.present().map_err(draw_error)
}

/// Copies `src` into `dst` with its top-left corner at (x, y), clipping at the edges.
pub(crate) fn blit(dst: &mut RgbImage, src: &RgbImage, x: u32, y: u32) {
    for (sx, sy, p) in src.enumerate_pixels() {
        let (dx, dy) = (x + sx, y + sy);
        if dx < dst.width() && dy < dst.height() {
            dst.put_pixel(dx, dy, *p);
        }
    }
}

/// `img` under a band holding `title`, centred; widened when the title is wider.
pub fn titled(img: &RgbImage, title: &str) -> Result<RgbImage, FigureError> {
    let size = 20.0;
    let (tw, th) = text_size(title, size)?;
    let band = th + 16;
    let width = img.width().max(tw + 20);
    let (w, h) = checked_size(u64::from(width), u64::from(img.height()) + u64::from(band))?;
    let mut out = RgbImage::from_pixel(w, h, Rgb([255, 255, 255]));
    blit(&mut out, img, (w - img.width()) / 2, band);
    draw_text(
        &mut out,
        title,
        size,
        ((w / 2) as i32, 8),
        (HPos::Center, VPos::Top),
        [20, 20, 20],
    )?;
    Ok(out)
}
