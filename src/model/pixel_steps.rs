//! The notebook schedule's per-pixel steps (SPEC 5.2 to 5.4): W's rows, mu and sigma^2, drawn
//! block by block of pixels in one parallel section.
//!
//! Why: given Z and X, the rows w_d, the means mu_d and the variances sigma_d^2 of different
//! pixels are conditionally independent (W's posterior precision Z^T Z + Sigma_c^-1 is shared
//! by all rows), so W, then mu, then sigma^2 for one block of pixels and then the next is the
//! same Markov kernel as three passes over all the pixels. Taken as three passes, they were
//! serial loops between small parallel products, most of a millisecond a sweep with a core
//! idle. The random numbers are drawn first, from each step's stream in pixel order exactly
//! as the three passes drew them (W's normals, one normal per mu_d, one unit Gamma per
//! sigma_d^2), so the draws are the passes' draws and do not depend on the thread count.
//!
//! Runs on the caller's thread and rayon's current pool; never blocks.

use super::linalg::{SharedFactor, gemm, view, view_mut};
use super::rng::StepRng;
use super::state::ModelState;
use super::suffstats::{ColumnSums, CrossStats};
use super::{Fallbacks, Hyperparameters};
use faer::Accum;
use nalgebra::DMatrix;
use rand_distr::{Distribution, StandardNormal};

/// Each step's random numbers for all pixels, drawn before the blocks.
#[derive(Default)]
struct Randomness {
    /// W's standard normals, D x M column-major (empty when W is not drawn).
    w: Vec<f32>,
    /// One standard normal per mu_d.
    mu: Vec<f64>,
    /// One Gamma(nu / 2, 1) draw per sigma_d^2.
    sigmasq: Vec<Option<f64>>,
}

impl Randomness {
    /// Each chosen step's random numbers for D pixels and M factors, from its stream in pixel
    /// order, as the three passes drew them.
    fn draw(steps: Steps, d: usize, m: usize, nu: f64) -> Randomness {
        let mut random = Randomness::default();
        if let Some(rng) = steps.w {
            random.w = vec![0.0; d * m];
            rng.fill_standard_normal(&mut random.w);
        }
        if let Some(rng) = steps.mu {
            let mut r = rng.chunk(0);
            random.mu = (0..d).map(|_| StandardNormal.sample(&mut r)).collect();
        }
        if let Some(rng) = steps.sigmasq {
            let mut r = rng.chunk(0);
            random.sigmasq = (0..d)
                .map(|_| super::conditionals::unit_gamma(nu, &mut r))
                .collect();
        }
        random
    }
}

/// Pixels per block: fixed, so the draws do not depend on the thread count.
const PIXEL_BLOCK: usize = 64;

/// Which steps a call draws, in this order, each with its step's stream.
#[derive(Clone, Copy, Default)]
pub(crate) struct Steps<'a> {
    pub w: Option<&'a StepRng>,
    pub mu: Option<&'a StepRng>,
    pub sigmasq: Option<&'a StepRng>,
}

/// What every block reads.
struct Shared<'a> {
    stats: &'a CrossStats,
    columns: &'a ColumnSums,
    /// Sigma_c^-1's diagonal.
    precision: &'a [f64],
    /// W's shared factor, when W is drawn.
    factor: Option<&'a SharedFactor>,
    random: &'a Randomness,
    hyper: &'a Hyperparameters,
    d: usize,
    m: usize,
    n: usize,
}

/// One block of pixels: its first pixel, W's rows as one run of each column, mu and sigma^2.
pub(super) struct Block<'a> {
    pub start: usize,
    pub w: Vec<&'a mut [f32]>,
    pub mu: &'a mut [f32],
    pub sigmasq: &'a mut [f32],
}

/// W (D x M), mu and sigma^2 cut into blocks of [`PIXEL_BLOCK`] pixels: each column of W cut
/// into the blocks' runs, dealt out to the blocks.
pub(super) fn pixel_blocks<'a>(
    w: &'a mut DMatrix<f32>,
    mu: &'a mut [f32],
    sigmasq: &'a mut [f32],
) -> Vec<Block<'a>> {
    let (d, m) = w.shape();
    let mut blocks: Vec<Block> = mu
        .chunks_mut(PIXEL_BLOCK)
        .zip(sigmasq.chunks_mut(PIXEL_BLOCK))
        .enumerate()
        .map(|(b, (mu, sigmasq))| Block {
            start: b * PIXEL_BLOCK,
            w: Vec::with_capacity(m),
            mu,
            sigmasq,
        })
        .collect();
    for column in w.as_mut_slice().chunks_exact_mut(d.max(1)) {
        for (block, run) in blocks.iter_mut().zip(column.chunks_mut(PIXEL_BLOCK)) {
            block.w.push(run);
        }
    }
    blocks
}

/// Draws the chosen steps for every pixel, block by block in parallel, and leaves the residual
/// sums of the new W and mu in the state's cache (the X_miss step reads them next).
/// `precision` is Sigma_c^-1's diagonal (M values; only read when W or sigma^2 is drawn).
pub(crate) fn draw(
    state: &mut ModelState,
    hyper: &Hyperparameters,
    precision: &[f64],
    steps: Steps,
) {
    let (n, d, m) = state.shape();
    let parts = state.pixel_parts();
    let nu = hyper.nu0 + (n + m + 1) as f64;
    // W's shared factor and the random numbers side by side (neither reads the other), so the
    // factor's serial work overlaps the draws.
    let ztz = &parts.stats.ztz;
    let (factor, random) = super::par::join(
        d * m,
        || {
            steps.w.map(|_| {
                let mut b = ztz.clone();
                for (a, p) in precision.iter().enumerate() {
                    b[(a, a)] += p;
                }
                SharedFactor::new(b)
            })
        },
        || Randomness::draw(steps, d, m, nu),
    );
    if let Some(f) = &factor {
        f.record(parts.fallbacks);
    }
    let shared = Shared {
        stats: parts.stats,
        random: &random,
        columns: parts.columns,
        precision,
        factor: factor.as_ref(),
        hyper,
        d,
        m,
        n,
    };
    let blocks = pixel_blocks(parts.w, parts.mu, parts.sigmasq);
    let results = super::par::map_items(blocks, d * m * m * 3, |_, block| {
        draw_block(&shared, steps, block)
    });
    let mut residual = Vec::with_capacity(d);
    for (sums, fallbacks) in results {
        residual.extend(sums);
        parts.fallbacks.add(&fallbacks);
    }
    state.set_residual(residual);
}

/// The chosen steps for one block, in order; returns the block's residual sums at its new W
/// and mu, and what its guards counted.
fn draw_block(shared: &Shared, steps: Steps, mut block: Block) -> (Vec<f64>, Fallbacks) {
    let mut fallbacks = Fallbacks::default();
    if let (Some(_), Some(factor)) = (steps.w, shared.factor) {
        draw_w(shared, factor, &mut block);
    }
    if steps.mu.is_some() {
        draw_mu(shared, &mut block);
    }
    let w = rows_f64(&block.w, block.mu.len(), shared.m);
    let (residual, clamped) = shared
        .stats
        .residual_rows(shared.columns, &w, block.mu, block.start);
    fallbacks.residual_clamped += clamped;
    if steps.sigmasq.is_some() {
        let (n, m, hyper) = (shared.n, shared.m, shared.hyper);
        let nu = hyper.nu0 + (n + m + 1) as f64;
        for (i, s2) in block.sigmasq.iter_mut().enumerate() {
            let w_quad: f64 = (0..m)
                .map(|a| shared.precision[a] * w[(i, a)].powi(2))
                .sum();
            let mu = block.mu[i] as f64;
            let scale_sum =
                hyper.nu0 * hyper.sigmasq0 + residual[i] + w_quad + hyper.lambda0 * mu * mu;
            let unit = shared.random.sigmasq[block.start + i];
            *s2 = super::conditionals::scaled_inv_chi2(nu, scale_sum, unit, &mut fallbacks);
        }
    }
    (residual, fallbacks)
}

/// The block's rows of W as stored (f32), in f64 (rows x M).
pub(super) fn rows_f64(w: &[&mut [f32]], rows: usize, m: usize) -> DMatrix<f64> {
    let mut out = DMatrix::<f64>::zeros(rows, m);
    for (column, run) in out.as_mut_slice().chunks_exact_mut(rows.max(1)).zip(w) {
        for (o, &v) in column.iter_mut().zip(run.iter()) {
            *o = v as f64;
        }
    }
    out
}

/// W | Z, mu, sigma^2, X for the block's rows (SPEC 5.2 and 8): B = Z^T Z + Sigma_c^-1,
/// w_d = B^-1 Xc^T z_d + sigma_d (e_d L^-1), with Xc^T Z = X~^T Z - (mu - c) (sum z)^T.
fn draw_w(shared: &Shared, factor: &SharedFactor, block: &mut Block) {
    let (d, m) = (shared.d, shared.m);
    let rows = block.mu.len();
    let start = block.start;
    let (stats, columns) = (shared.stats, shared.columns);
    let mut cross = DMatrix::<f64>::zeros(rows, m);
    for (a, column) in cross.as_mut_slice().chunks_exact_mut(rows).enumerate() {
        let xtz = &stats.xtz.as_slice()[a * d + start..a * d + start + rows];
        for (i, (c, &x)) in column.iter_mut().zip(xtz).enumerate() {
            let centre = block.mu[i] as f64 - columns.shift[start + i] as f64;
            *c = x - centre * stats.sumz[a];
        }
    }
    let mut scaled = DMatrix::<f64>::zeros(rows, m);
    for (a, column) in scaled.as_mut_slice().chunks_exact_mut(rows).enumerate() {
        let e = &shared.random.w[a * d + start..a * d + start + rows];
        for ((s, &e), &s2) in column.iter_mut().zip(e).zip(block.sigmasq.iter()) {
            *s = (s2 as f64).sqrt() * e as f64;
        }
    }
    let mut draw = DMatrix::<f64>::zeros(rows, m);
    gemm(
        view_mut(&mut draw),
        Accum::Replace,
        view(&cross),
        view(&factor.inverse),
        1.0,
    );
    gemm(
        view_mut(&mut draw),
        Accum::Add,
        view(&scaled),
        view(&factor.l_inverse),
        1.0,
    );
    for (run, column) in block.w.iter_mut().zip(draw.as_slice().chunks_exact(rows)) {
        for (w, &v) in run.iter_mut().zip(column) {
            *w = v as f32;
        }
    }
}

/// mu | W, Z, sigma^2, X for the block's pixels (SPEC 5.3): mu_d ~ N((sum_n x_nd - w_d^T sum z)
/// / (N + lambda0), sigma_d^2 / (N + lambda0)).
fn draw_mu(shared: &Shared, block: &mut Block) {
    let precision = shared.n as f64 + shared.hyper.lambda0;
    let rows = block.mu.len();
    let mut wz = vec![0.0f64; rows];
    for (run, &s) in block.w.iter().zip(&shared.stats.sumz) {
        for (t, &w) in wz.iter_mut().zip(run.iter()) {
            *t += w as f64 * s;
        }
    }
    for (i, (mu, &wz)) in block.mu.iter_mut().zip(&wz).enumerate() {
        let mean = (shared.columns.sum[block.start + i] - wz) / precision;
        let sd = (block.sigmasq[i] as f64 / precision).sqrt();
        let e = shared.random.mu[block.start + i];
        *mu = (mean + sd * e) as f32;
    }
}
