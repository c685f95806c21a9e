//! Random mask generators (SPEC section 2). Every image draws from its own generator seeded
//! from the master seed and its index, so a seed reproduces the masks exactly whatever the
//! number of threads.

use super::{MaskError, MaskKind, MaskParams, MaskSet};
use crate::data::stream_seed;
use rand::prelude::*;
use rand_distr::{Gamma, StandardNormal};
use rayon::prelude::*;

/// The largest mask set (N x H x W booleans) the generators build: 1 GiB.
pub const MAX_MASK_PIXELS: usize = 1 << 30;

/// The shape of one image's mask (a mix assigns one of these to every image).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MaskShape {
    Line,
    Circle,
    Speckle,
}

/// Checks image dimensions and the total size; returns N * H * W.
pub fn check_size(n: usize, height: usize, width: usize) -> Result<usize, MaskError> {
    if height == 0 || width == 0 {
        return Err(MaskError::EmptyImage { height, width });
    }
    n.checked_mul(height)
        .and_then(|v| v.checked_mul(width))
        .filter(|&total| total <= MAX_MASK_PIXELS)
        .ok_or(MaskError::TooLarge { n, height, width })
}

/// The shape of every image's mask: all the same for a single kind; for the mix, N/3 lines,
/// N/3 circles and the rest speckle, randomly permuted (the notebook's recipe).
pub fn shapes_for(kind: MaskKind, n: usize, seed: u64) -> Vec<MaskShape> {
    match kind {
        MaskKind::Line => vec![MaskShape::Line; n],
        MaskKind::Circle => vec![MaskShape::Circle; n],
        MaskKind::Speckle => vec![MaskShape::Speckle; n],
        MaskKind::Mix => {
            let third = n / 3;
            let mut shapes = Vec::with_capacity(n);
            shapes.extend(std::iter::repeat_n(MaskShape::Line, third));
            shapes.extend(std::iter::repeat_n(MaskShape::Circle, third));
            shapes.extend(std::iter::repeat_n(MaskShape::Speckle, n - 2 * third));
            let mut rng = SmallRng::seed_from_u64(stream_seed(seed ^ MASK_STREAMS, u64::MAX));
            shapes.shuffle(&mut rng);
            shapes
        }
    }
}

/// N masks of `height` x `width` pixels drawn with `params` (its `kind` picks the generator).
pub fn generate(
    n: usize,
    height: usize,
    width: usize,
    params: &MaskParams,
    seed: u64,
) -> Result<MaskSet, MaskError> {
    params.validate()?;
    let total = check_size(n, height, width)?;
    let shapes = shapes_for(params.kind, n, seed);
    let d = height * width;
    let mut missing = vec![false; total];
    missing
        .par_chunks_mut(d)
        .zip(shapes.par_iter())
        .enumerate()
        .for_each(|(i, (mask, &shape))| {
            let mut rng = image_rng(seed, i);
            draw_shape(mask, height, width, shape, params, &mut rng);
        });
    Ok(MaskSet {
        n,
        height,
        width,
        missing,
    })
}

/// One mask of the given shape, for front ends that redraw a single image.
pub fn generate_one(
    shape: MaskShape,
    height: usize,
    width: usize,
    params: &MaskParams,
    seed: u64,
) -> Result<Vec<bool>, MaskError> {
    params.validate()?;
    let d = check_size(1, height, width)?;
    let mut mask = vec![false; d];
    let mut rng = SmallRng::seed_from_u64(seed);
    draw_shape(&mut mask, height, width, shape, params, &mut rng);
    Ok(mask)
}

/// Keeps mask streams apart from other streams (noise) drawn from the same seed.
const MASK_STREAMS: u64 = 0x6D61_736B_5F67_656E;

/// The generator of image `i`: its own well-mixed stream of the master seed.
fn image_rng(seed: u64, i: usize) -> SmallRng {
    SmallRng::seed_from_u64(stream_seed(seed ^ MASK_STREAMS, i as u64))
}

/// Fills `mask` (all false on entry) with one shape. `params` is already validated.
fn draw_shape(
    mask: &mut [bool],
    height: usize,
    width: usize,
    shape: MaskShape,
    params: &MaskParams,
    rng: &mut SmallRng,
) {
    match shape {
        MaskShape::Line => line(mask, height, width, params.line_width, rng),
        MaskShape::Circle => circle(mask, height, width, params, rng),
        MaskShape::Speckle => {
            for m in mask.iter_mut() {
                *m = rng.random::<f64>() < params.speckle_p;
            }
        }
    }
}

/// Centred coordinates of pixel (i, j): (i - H/2, j - W/2), as in the notebook.
fn centred(i: usize, j: usize, height: usize, width: usize) -> (f64, f64) {
    (
        i as f64 - height as f64 / 2.0,
        j as f64 - width as f64 / 2.0,
    )
}

/// Missing where the distance to the line through the centre along a random unit vector
/// is below `line_width`.
fn line(mask: &mut [bool], height: usize, width: usize, line_width: f64, rng: &mut SmallRng) {
    let (ur, uc) = loop {
        let a: f64 = rng.sample(StandardNormal);
        let b: f64 = rng.sample(StandardNormal);
        let norm = a.hypot(b);
        if norm > 1e-12 {
            break (a / norm, b / norm);
        }
    };
    for i in 0..height {
        for j in 0..width {
            let (r, c) = centred(i, j, height, width);
            // Distance to the line: |p x u| for a unit u.
            mask[i * width + j] = (r * uc - c * ur).abs() < line_width;
        }
    }
}

/// Missing inside a disc: centre ~ N(0, std^2 I), radius 0.1 + Gamma(df/2, rate df/(2 mean)).
fn circle(mask: &mut [bool], height: usize, width: usize, p: &MaskParams, rng: &mut SmallRng) {
    let cr = p.circle_centre_std * rng.sample::<f64, _>(StandardNormal);
    let cc = p.circle_centre_std * rng.sample::<f64, _>(StandardNormal);
    let shape = p.circle_df / 2.0;
    let scale = 2.0 * p.circle_mean_radius / p.circle_df;
    // Validated parameters make the Gamma valid; fall back to the mean radius otherwise.
    let g = Gamma::new(shape, scale)
        .map(|g| rng.sample(g))
        .unwrap_or(p.circle_mean_radius);
    let radius = 0.1 + g;
    let r2 = radius * radius;
    for i in 0..height {
        for j in 0..width {
            let (r, c) = centred(i, j, height, width);
            let (dr, dc) = (r - cr, c - cc);
            mask[i * width + j] = dr * dr + dc * dc < r2;
        }
    }
}
