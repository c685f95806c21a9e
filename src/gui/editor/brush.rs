//! A soft, anti-aliased ink brush for drawing digits: pixels near the stroke get ink in
//! proportion to how much of the brush covers them, so drawn strokes have the soft edges of
//! MNIST digits instead of jagged 0/255 steps.

/// Ink of a fully covered pixel (MNIST's scale).
pub const FULL_INK: f32 = 255.0;

/// Width, in pixels, of the soft edge over which coverage falls from 1 to 0.
const SOFT_EDGE: f32 = 1.5;

/// Adds ink (or, with `erase`, removes it) along the segment from `a` to `b` on a row-major
/// `height` x `width` image of values in 0..=255. Points are (row, col) in continuous image
/// coordinates, pixel (i, j) centred at (i + 0.5, j + 0.5). Coverage is 1 within
/// `radius - SOFT_EDGE / 2` of the segment and falls linearly to 0 at `radius + SOFT_EDGE / 2`;
/// drawing keeps the larger of old and new ink, erasing the smaller, so going over a stroke
/// twice does not saturate it. Returns whether any pixel changed. Non-finite input paints
/// nothing.
pub fn ink_segment(
    values: &mut [f32],
    (height, width): (usize, usize),
    a: (f32, f32),
    b: (f32, f32),
    radius: f32,
    erase: bool,
) -> bool {
    let finite = a.0.is_finite() && a.1.is_finite() && b.0.is_finite() && b.1.is_finite();
    if !finite || !radius.is_finite() || radius < 0.0 || values.len() != height * width {
        return false;
    }
    let reach = radius + SOFT_EDGE / 2.0;
    let rows = span(a.0.min(b.0) - reach, a.0.max(b.0) + reach, height);
    let cols = span(a.1.min(b.1) - reach, a.1.max(b.1) + reach, width);
    let mut changed = false;
    for i in rows.0..rows.1 {
        for j in cols.0..cols.1 {
            let centre = (i as f32 + 0.5, j as f32 + 0.5);
            let coverage =
                ((reach - distance_to_segment(centre, a, b)) / SOFT_EDGE).clamp(0.0, 1.0);
            if coverage <= 0.0 {
                continue;
            }
            let v = &mut values[i * width + j];
            let new = if erase {
                v.min(FULL_INK * (1.0 - coverage))
            } else {
                v.max(FULL_INK * coverage)
            };
            if new != *v {
                *v = new;
                changed = true;
            }
        }
    }
    changed
}

/// Pixel indices (clamped to 0..len) whose centres may fall in [lo, hi].
fn span(lo: f32, hi: f32, len: usize) -> (usize, usize) {
    let start = (lo - 0.5).ceil().max(0.0) as usize;
    let end = ((hi - 0.5).floor() + 1.0).max(0.0) as usize;
    (start.min(len), end.min(len))
}

fn distance_to_segment(p: (f32, f32), a: (f32, f32), b: (f32, f32)) -> f32 {
    let (dr, dc) = (b.0 - a.0, b.1 - a.1);
    let len2 = dr * dr + dc * dc;
    let t = if len2 > 0.0 {
        (((p.0 - a.0) * dr + (p.1 - a.1) * dc) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    (p.0 - (a.0 + t * dr)).hypot(p.1 - (a.1 + t * dc))
}
