//! Hand-drawn masks: a round brush dragged along a polyline, and the notebook's display of
//! masked images (missing pixels shown as 255).

use super::MaskError;
use super::params::MAX_LENGTH;

/// Sets (`missing = true`) or clears every pixel of one `height` x `width` mask within
/// `radius` of the polyline through `points`; returns how many pixels changed.
///
/// Points are (row, col) in continuous image coordinates: pixel (i, j) covers
/// [i, i+1) x [j, j+1) and its centre is (i + 0.5, j + 0.5), so a front end maps a pointer
/// position by dividing by the displayed pixel size. A pixel is painted when its centre is
/// within `radius` of a segment, and the pixel under each point is always painted, so even a
/// tiny brush marks something. Non-finite points are skipped (they split the stroke).
pub fn paint_stroke(
    mask: &mut [bool],
    height: usize,
    width: usize,
    points: &[(f32, f32)],
    radius: f32,
    missing: bool,
) -> Result<usize, MaskError> {
    let expected = height.saturating_mul(width);
    if mask.len() != expected {
        return Err(MaskError::LengthMismatch {
            expected,
            got: mask.len(),
        });
    }
    if !radius.is_finite() || radius < 0.0 || f64::from(radius) > MAX_LENGTH {
        return Err(MaskError::InvalidParam {
            name: "brush radius",
            value: f64::from(radius),
            reason: "must be a finite number from 0 to the maximum",
            max: MAX_LENGTH,
        });
    }
    let mut changed = 0;
    let mut set = |i: usize, j: usize| {
        let m = &mut mask[i * width + j];
        if *m != missing {
            *m = missing;
            changed += 1;
        }
    };
    let finite = |p: &(f32, f32)| p.0.is_finite() && p.1.is_finite();
    for run in points.split(|p| !finite(p)) {
        for &(r, c) in run {
            if r >= 0.0 && c >= 0.0 && (r as usize) < height && (c as usize) < width {
                set(r as usize, c as usize);
            }
        }
        let segments: Vec<((f32, f32), (f32, f32))> = match run {
            [] => Vec::new(),
            [p] => vec![(*p, *p)],
            _ => run.windows(2).map(|w| (w[0], w[1])).collect(),
        };
        for (a, b) in segments {
            let (i0, i1) = pixel_span(a.0.min(b.0) - radius, a.0.max(b.0) + radius, height);
            let (j0, j1) = pixel_span(a.1.min(b.1) - radius, a.1.max(b.1) + radius, width);
            for i in i0..i1 {
                for j in j0..j1 {
                    let centre = (i as f32 + 0.5, j as f32 + 0.5);
                    if distance_to_segment(centre, a, b) <= radius {
                        set(i, j);
                    }
                }
            }
        }
    }
    Ok(changed)
}

/// Pixel indices whose centres may lie in [lo, hi], clamped to 0..len.
fn pixel_span(lo: f32, hi: f32, len: usize) -> (usize, usize) {
    let start = (lo - 0.5).ceil().max(0.0);
    let end = ((hi - 0.5).floor() + 1.0).max(0.0);
    let clamp = |v: f32| (v as usize).min(len);
    (clamp(start), clamp(end))
}

/// Euclidean distance from `p` to the segment from `a` to `b`.
fn distance_to_segment(p: (f32, f32), a: (f32, f32), b: (f32, f32)) -> f32 {
    let (dr, dc) = (b.0 - a.0, b.1 - a.1);
    let len2 = dr * dr + dc * dc;
    let t = if len2 > 0.0 {
        (((p.0 - a.0) * dr + (p.1 - a.1) * dc) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (qr, qc) = (a.0 + t * dr, a.1 + t * dc);
    (p.0 - qr).hypot(p.1 - qc)
}

/// The notebook's masked matrix: a copy of `x` with missing pixels replaced by 255.
pub fn masked_display(x: &[f32], mask: &[bool]) -> Result<Vec<f32>, MaskError> {
    if x.len() != mask.len() {
        return Err(MaskError::LengthMismatch {
            expected: x.len(),
            got: mask.len(),
        });
    }
    Ok(x.iter()
        .zip(mask)
        .map(|(&v, &m)| if m { 255.0 } else { v })
        .collect())
}
