//! Built-in handwritten-looking digits: the offline default when MNIST is not found.
//!
//! Each digit is a few strokes (polylines, arcs, curves) in a unit-height frame. Every sample
//! gets its own shape variation (a smooth random warp, a random variant for 1, 4 and 7), a random
//! affine jitter (rotation, slant, scale), a stroke thickness, and is centred on its centre of
//! mass in 28 x 28 like MNIST. Strokes are drawn anti-aliased, lightly blurred, and scaled to
//! integer values 0..255 (light digit on a dark background). Image `i` has label `i % 10` and is
//! drawn from its own generator derived from the seed and `i`, so results do not depend on the
//! number of threads.

use rand::prelude::*;
use rayon::prelude::*;

use super::{DataError, DataOrigin, Dataset, stream_seed};

/// Side of a synthetic image, as in MNIST.
pub const SIDE: usize = 28;

/// Most images [`generate`] makes in one call (about 3 GB of f32 at the limit).
pub const MAX_IMAGES: usize = 1_000_000;

type Pt = (f32, f32);
type Stroke = Vec<Pt>;

/// `n` synthetic digits of 28 x 28 with labels `0, 1, ..., 9, 0, ...`, reproducible for a seed.
pub fn generate(n: usize, seed: u64) -> Result<Dataset, DataError> {
    if n == 0 || n > MAX_IMAGES {
        return Err(DataError::InvalidArgument(format!(
            "the number of synthetic digits must be in 1..={MAX_IMAGES}, got {n}"
        )));
    }
    let d = SIDE * SIDE;
    let mut pixels = vec![0f32; n * d];
    pixels.par_chunks_mut(d).enumerate().for_each(|(i, image)| {
        let mut rng = SmallRng::seed_from_u64(stream_seed(seed, i as u64));
        draw_digit((i % 10) as u8, &mut rng, image);
    });
    Ok(Dataset {
        n,
        height: SIDE,
        width: SIDE,
        pixels,
        labels: Some((0..n).map(|i| (i % 10) as u8).collect()),
        origin: DataOrigin::Synthetic,
    })
}

/// Draws one digit (0..=9; other values draw a 0) into a 28 x 28 image (values 0..255).
pub fn draw_digit(digit: u8, rng: &mut SmallRng, image: &mut [f32]) {
    let strokes = skeleton(digit, rng);
    let strokes = warp(strokes, rng);
    let radius = rng.random_range(1.0f32..1.9);
    let strokes = to_pixels(strokes, radius, rng);
    let ink = rng.random_range(0.92f32..1.0);
    let mut canvas = vec![0f32; SIDE * SIDE];
    for stroke in &strokes {
        for seg in stroke.windows(2) {
            stamp_segment(&mut canvas, seg[0], seg[1], radius);
        }
    }
    let blurred = blur(&canvas);
    for (out, v) in image.iter_mut().zip(blurred) {
        *out = (255.0 * (v * 1.25 * ink).min(1.0)).round();
    }
}

/// The strokes of a digit in a frame of height 1 centred on the origin (y down), with the
/// per-sample choices of proportions and variants.
fn skeleton(digit: u8, rng: &mut SmallRng) -> Vec<Stroke> {
    let mut u = |a: f32, b: f32| rng.random_range(a..b);
    match digit {
        1 => {
            let lean = u(-0.08, 0.08);
            let mut strokes = vec![vec![(lean, -0.5), (-lean, 0.5)]];
            if u(0.0, 1.0) < 0.35 {
                strokes[0].insert(0, (lean - u(0.12, 0.22), -0.5 + u(0.1, 0.2)));
            }
            if u(0.0, 1.0) < 0.12 {
                strokes.push(vec![(-lean - 0.16, 0.5), (-lean + 0.16, 0.5)]);
            }
            strokes
        }
        2 => {
            let r = u(0.24, 0.3);
            let top = arc((0.0, -0.5 + r), r * u(0.95, 1.15), r, 195.0, 395.0);
            let end = *top.last().unwrap_or(&(0.2, -0.1));
            let base_y = 0.5;
            let corner = (-0.3 + u(-0.05, 0.05), base_y);
            let mut stroke = top;
            stroke.extend(quad(end, (u(-0.05, 0.1), u(0.0, 0.2)), corner, 10));
            if u(0.0, 1.0) < 0.3 {
                // A small loop at the corner, as many people write it.
                stroke.extend(arc(
                    (corner.0 + 0.06, base_y - 0.05),
                    0.07,
                    0.06,
                    180.0,
                    450.0,
                ));
            }
            stroke.push((u(0.25, 0.38), base_y + u(-0.04, 0.02)));
            vec![stroke]
        }
        3 => {
            let ru = u(0.22, 0.27);
            let rl = u(0.26, 0.31);
            let mid = -0.5 + 2.0 * ru;
            let mut stroke = arc((0.0, mid - ru), ru * u(1.0, 1.2), ru, 200.0, 450.0);
            stroke.extend(arc(
                (0.02, mid + rl - 0.01),
                rl * u(1.0, 1.15),
                rl,
                -90.0,
                155.0,
            ));
            vec![stroke]
        }
        4 => {
            let bar = u(0.02, 0.18);
            if u(0.0, 1.0) < 0.4 {
                vec![
                    vec![(0.15, -0.5), (-0.32, bar), (0.36, bar)],
                    vec![(0.17, -0.25), (0.15, 0.5)],
                ]
            } else {
                vec![
                    vec![(-0.24, -0.5), (-0.27, bar), (0.34, bar - 0.02)],
                    vec![(0.2, -0.45), (0.16, 0.5)],
                ]
            }
        }
        5 => {
            let r = u(0.26, 0.31);
            let centre = (0.0, 0.5 - r);
            let bowl = arc(centre, r * u(1.0, 1.15), r, -150.0, 155.0);
            let start = *bowl.first().unwrap_or(&(-0.2, 0.0));
            let corner = (-0.2 + u(-0.05, 0.05), -0.5);
            vec![vec![(u(0.22, 0.34), -0.5 + u(-0.03, 0.03)), corner], {
                let mut s = vec![corner, start];
                s.extend(bowl);
                s
            }]
        }
        6 => {
            let r = u(0.22, 0.27);
            let centre = (0.0, 0.5 - r);
            let left = (centre.0 - r * 1.05, centre.1);
            let mut stroke = quad((u(0.15, 0.3), -0.5), (-0.28, -0.25), left, 14);
            stroke.extend(arc(centre, r * 1.05, r, 180.0, -175.0));
            vec![stroke]
        }
        7 => {
            let top = -0.5;
            let right = (u(0.25, 0.34), top);
            let mut strokes = vec![vec![(-0.3, top + u(-0.03, 0.05)), right]];
            strokes[0].extend(quad(right, (0.1, 0.0), (u(-0.12, 0.05), 0.5), 12));
            if u(0.0, 1.0) < 0.15 {
                strokes.push(vec![(-0.05, 0.0), (0.25, -0.02)]);
            }
            strokes
        }
        8 => {
            let ru = u(0.2, 0.24);
            let rl = 0.5 - ru;
            let mid = -0.5 + 2.0 * ru;
            vec![
                arc((0.0, mid - ru), ru * u(0.95, 1.15), ru, 0.0, 365.0),
                arc((0.0, mid + rl), rl * u(0.95, 1.15), rl, -90.0, 275.0),
            ]
        }
        9 => {
            let r = u(0.22, 0.27);
            let centre = (-0.03, -0.5 + r);
            let rx = r * u(1.0, 1.2);
            let mut stroke = arc(centre, rx, r, 0.0, -355.0);
            let join = (centre.0 + rx, centre.1);
            stroke.push(join);
            stroke.extend(quad(join, (join.0, 0.1), (join.0 - u(0.0, 0.12), 0.5), 10));
            vec![stroke]
        }
        _ => {
            let rx = u(0.24, 0.36);
            vec![arc((0.0, 0.0), rx, 0.5, -95.0, 275.0)]
        }
    }
}

/// Points of an elliptic arc from angle `t0` to `t1` (degrees; 0 = right, 90 = down).
fn arc(c: Pt, rx: f32, ry: f32, t0: f32, t1: f32) -> Stroke {
    let steps = (((t1 - t0).abs() / 12.0).ceil() as usize).max(2);
    (0..=steps)
        .map(|k| {
            let t = (t0 + (t1 - t0) * k as f32 / steps as f32).to_radians();
            (c.0 + rx * t.cos(), c.1 + ry * t.sin())
        })
        .collect()
}

/// Points of a quadratic Bezier curve from `a` to `b` bent towards `ctrl`.
fn quad(a: Pt, ctrl: Pt, b: Pt, steps: usize) -> Stroke {
    (0..=steps)
        .map(|k| {
            let t = k as f32 / steps as f32;
            let (s, w) = ((1.0 - t) * (1.0 - t), 2.0 * t * (1.0 - t));
            let q = t * t;
            (
                s * a.0 + w * ctrl.0 + q * b.0,
                s * a.1 + w * ctrl.1 + q * b.1,
            )
        })
        .collect()
}

/// A smooth random deformation, so no two samples of a digit have the same shape.
fn warp(strokes: Vec<Stroke>, rng: &mut SmallRng) -> Vec<Stroke> {
    let tau = std::f32::consts::TAU;
    // Two waves per axis: a broad bend and a faster wobble.
    let mut wave = |amp: f32, f0: f32, f1: f32| {
        (
            rng.random_range(-amp..amp),
            rng.random_range(f0..f1),
            rng.random_range(0.0..tau),
        )
    };
    let waves = [
        (wave(0.07, 0.4, 1.0), wave(0.07, 0.4, 1.0)),
        (wave(0.025, 1.5, 2.5), wave(0.025, 1.5, 2.5)),
    ];
    strokes
        .into_iter()
        .map(|s| {
            s.into_iter()
                .map(|(x, y)| {
                    waves
                        .iter()
                        .fold((x, y), |(wx, wy), ((ax, fx, px), (ay, fy, py))| {
                            (
                                wx + ax * (tau * fx * y + px).sin(),
                                wy + ay * (tau * fy * x + py).sin(),
                            )
                        })
                })
                .collect()
        })
        .collect()
}

/// Applies rotation, slant and scale, then places the strokes' centre of mass near the image
/// centre, in pixel coordinates (x = column, y = row, pixel centres at k + 0.5).
fn to_pixels(strokes: Vec<Stroke>, radius: f32, rng: &mut SmallRng) -> Vec<Stroke> {
    let angle = rng.random_range(-0.22f32..0.22);
    let slant = rng.random_range(-0.15f32..0.45);
    let height_px = rng.random_range(17.5f32..20.5);
    let sx = height_px * rng.random_range(0.95f32..1.35);
    let sy = height_px;
    let (sin, cos) = angle.sin_cos();
    let transformed: Vec<Stroke> = strokes
        .into_iter()
        .map(|s| {
            s.into_iter()
                .map(|(x, y)| {
                    let (x, y) = (x - slant * y, y);
                    let (x, y) = (x * sx, y * sy);
                    (cos * x - sin * y, sin * x + cos * y)
                })
                .collect()
        })
        .collect();
    // Centre of mass of the ink: segment midpoints weighted by length.
    let (mut mx, mut my, mut total) = (0f32, 0f32, 0f32);
    for s in &transformed {
        for seg in s.windows(2) {
            let len = ((seg[1].0 - seg[0].0).powi(2) + (seg[1].1 - seg[0].1).powi(2)).sqrt();
            mx += len * 0.5 * (seg[0].0 + seg[1].0);
            my += len * 0.5 * (seg[0].1 + seg[1].1);
            total += len;
        }
    }
    let (cx, cy) = if total > 0.0 {
        (mx / total, my / total)
    } else {
        (0.0, 0.0)
    };
    // Keep the ink (points plus stroke width) inside [MARGIN, SIDE - MARGIN]: shrink around the
    // centre of mass if it is too big, then shift it back inside if centring pushed it out.
    const MARGIN: f32 = 1.5;
    let room = SIDE as f32 - 2.0 * MARGIN - 2.0 * radius - 1.0;
    let (mut lo, mut hi) = ((f32::MAX, f32::MAX), (f32::MIN, f32::MIN));
    for &(x, y) in transformed.iter().flatten() {
        lo = (lo.0.min(x), lo.1.min(y));
        hi = (hi.0.max(x), hi.1.max(y));
    }
    let extent = (hi.0 - lo.0).max(hi.1 - lo.1);
    let shrink = if extent > room { room / extent } else { 1.0 };
    let half = SIDE as f32 / 2.0;
    let place = |v: f32, c: f32| c + (v - c) * shrink;
    let (lo, hi) = (
        (place(lo.0, cx), place(lo.1, cy)),
        (place(hi.0, cx), place(hi.1, cy)),
    );
    let inside = |t: f32, lo: f32, hi: f32| {
        let min_t = MARGIN + radius + 0.5 - lo;
        let max_t = SIDE as f32 - MARGIN - radius - 0.5 - hi;
        if min_t <= max_t {
            t.clamp(min_t, max_t)
        } else {
            0.5 * (min_t + max_t)
        }
    };
    let tx = inside(half - cx + rng.random_range(-0.7f32..0.7), lo.0, hi.0);
    let ty = inside(half - cy + rng.random_range(-0.7f32..0.7), lo.1, hi.1);
    transformed
        .into_iter()
        .map(|s| {
            s.into_iter()
                .map(|(x, y)| (place(x, cx) + tx, place(y, cy) + ty))
                .collect()
        })
        .collect()
}

/// Draws a segment of half-width `radius` with a one-pixel anti-aliased edge, keeping the
/// darkest (most inked) value per pixel.
fn stamp_segment(canvas: &mut [f32], a: Pt, b: Pt, radius: f32) {
    let reach = radius + 1.0;
    let lo = |v: f32| ((v - reach - 0.5).floor().max(0.0)) as usize;
    let hi = |v: f32| ((v + reach).ceil().max(0.0) as usize).min(SIDE);
    let (x0, x1) = (lo(a.0.min(b.0)), hi(a.0.max(b.0)));
    let (y0, y1) = (lo(a.1.min(b.1)), hi(a.1.max(b.1)));
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len2 = dx * dx + dy * dy;
    for row in y0..y1 {
        for col in x0..x1 {
            let (px, py) = (col as f32 + 0.5, row as f32 + 0.5);
            let t = if len2 > 0.0 {
                (((px - a.0) * dx + (py - a.1) * dy) / len2).clamp(0.0, 1.0)
            } else {
                0.0
            };
            let (qx, qy) = (a.0 + t * dx - px, a.1 + t * dy - py);
            let dist = (qx * qx + qy * qy).sqrt();
            let v = (radius + 0.5 - dist).clamp(0.0, 1.0);
            if let Some(c) = canvas.get_mut(row * SIDE + col)
                && v > *c
            {
                *c = v;
            }
        }
    }
}

/// A light separable blur (kernel 0.15, 0.7, 0.15), as scanning and resampling give MNIST.
fn blur(canvas: &[f32]) -> Vec<f32> {
    let at = |img: &[f32], r: isize, c: isize| -> f32 {
        if (0..SIDE as isize).contains(&r) && (0..SIDE as isize).contains(&c) {
            img.get(r as usize * SIDE + c as usize)
                .copied()
                .unwrap_or(0.0)
        } else {
            0.0
        }
    };
    let mut tmp = vec![0f32; SIDE * SIDE];
    let mut out = vec![0f32; SIDE * SIDE];
    for r in 0..SIDE as isize {
        for c in 0..SIDE as isize {
            tmp[r as usize * SIDE + c as usize] =
                0.15 * at(canvas, r, c - 1) + 0.7 * at(canvas, r, c) + 0.15 * at(canvas, r, c + 1);
        }
    }
    for r in 0..SIDE as isize {
        for c in 0..SIDE as isize {
            out[r as usize * SIDE + c as usize] =
                0.15 * at(&tmp, r - 1, c) + 0.7 * at(&tmp, r, c) + 0.15 * at(&tmp, r + 1, c);
        }
    }
    out
}
