//! The X_miss step (SPEC 5.5) without the dense fitted values: w_d^T z_n is formed only at the
//! missing entries.
//!
//! A tenth of the entries missing means a tenth of a GEMM's multiply-adds, but as scattered dot
//! products they ran at a tenth of a GEMM's speed: gathering z_n for each missing row of a
//! column walks all of Z (2 MB at N = 10,000) once per column, and the default x86-64 target
//! has neither AVX2 nor FMA. So the loop is tiled: columns in groups (the units of parallel
//! work, several per thread), each group walking the images in blocks of [`ROW_BLOCK`] rows, whose z_n (Z^T, one
//! row per image, 200 KB a block at M = 50) stay in cache while every column of the group draws
//! its missing entries in that block; and the dot products use AVX2 and FMA when the CPU has
//! them (checked at run time, as faer does for its GEMM).
//!
//! Each column keeps one generator for the whole step and draws its entries in row order, so
//! the draws do not depend on the tiling or on the number of threads. Runs on the sampler's
//! thread and rayon's current pool; never blocks.

use super::Fallbacks;
use super::moments::Sample;
use super::rng::StepRng;
use super::state::{MissingIndex, ModelState};
use super::suffstats::ColumnSums;
use rand::rngs::SmallRng;
use rand_distr::{Distribution, StandardNormal};

/// Images per tile: a block of Z^T (ROW_BLOCK x M f32) stays in L2 while a group uses it.
const ROW_BLOCK: usize = 1024;

/// Units of parallel work per thread. Each column draws from its own generator, so how the
/// columns are grouped changes only the speed, never the draws: bigger groups read each block
/// of Z^T fewer times, more groups balance better when a core is busy elsewhere.
const GROUPS_PER_THREAD: usize = 4;

/// What the X_miss pass also does with each value it draws: folds it into the running moments
/// and scores it against the true pixel (one pass over the missing entries, not two).
pub struct Tally<'a> {
    /// The sample of the missing entries' running moments (entry order).
    pub sample: Sample<'a>,
    /// True values of the missing entries in entry order; empty when unknown.
    pub truth: &'a [f32],
}

/// X_miss | W, Z, mu, sigma^2: each missing x_nd ~ N(w_d^T z_n + mu_d, sigma_d^2)
/// independently (SPEC 5.5). In the same pass X and X~, the column sums and the residual sums
/// are updated from the old and new values of the changed entries.
pub fn sample_x_missing(state: &mut ModelState, rng: &StepRng) {
    sample_x_missing_tallied(state, rng, None);
}

/// [`sample_x_missing`], folding each new value into `tally`'s moments as it is drawn. Returns
/// the sums of squared errors against the truth of the sample and of the running mean after
/// it (zeros without a truth or a tally).
pub fn sample_x_missing_tallied(
    state: &mut ModelState,
    rng: &StepRng,
    tally: Option<Tally>,
) -> (f64, f64) {
    let n = state.x.nrows();
    let parts = state.x_missing_parts();
    let (d, m) = parts.w.shape();
    let zt = parts.z.transpose(); // M x N: column n is z_n, contiguous
    let wt = parts.w.transpose(); // M x D: column d is w_d, contiguous
    let sd: Vec<f32> = parts.sigmasq.iter().map(|s| s.sqrt()).collect();
    let group = d
        .div_ceil(GROUPS_PER_THREAD * rayon::current_num_threads())
        .max(1);
    let groups = d.div_ceil(group);
    let missing = parts.missing;
    let (samples, truth): (Vec<Option<Sample>>, &[f32]) = match tally {
        Some(t) => {
            let ends = (0..groups).map(|g| missing.column_range(((g + 1) * group).min(d) - 1).end);
            let truth = if t.truth.len() == missing.len() {
                t.truth
            } else {
                &[]
            };
            (t.sample.split(ends).into_iter().map(Some).collect(), truth)
        }
        None => ((0..groups).map(|_| None).collect(), &[]),
    };
    let inputs = Inputs {
        n,
        m,
        zt: zt.as_slice(),
        wt: wt.as_slice(),
        mu: parts.mu,
        sd: &sd,
        shift: &parts.columns.shift,
        missing,
        truth,
        rng,
    };
    let fma = fma_available();
    let work: Vec<_> = parts
        .x
        .as_mut_slice()
        .chunks_mut(group * n)
        .zip(parts.xs.as_mut_slice().chunks_mut(group * n))
        .zip(samples)
        .collect();
    let results = super::par::map_items(work, n * d, |g, ((x, xs), sample)| {
        let first = g * group;
        let columns = first..(first + group).min(d);
        draw_group(&inputs, columns, x, xs, sample, fma)
    });
    let mut residual = parts.residual;
    // Summed column by column in column order: the same total on any grouping.
    let deltas: Vec<ColumnDeltas> = results.into_iter().flatten().collect();
    let scores = deltas.iter().fold((0.0, 0.0), |(a, b), delta| {
        (a + delta.scores.0, b + delta.scores.1)
    });
    apply(
        deltas.into_iter(),
        parts.columns,
        &mut residual,
        parts.fallbacks,
    );
    *parts.residual_out = Some(residual);
    scores
}

/// What every group reads.
struct Inputs<'a> {
    n: usize,
    m: usize,
    zt: &'a [f32],
    wt: &'a [f32],
    mu: &'a [f32],
    sd: &'a [f32],
    shift: &'a [f32],
    missing: &'a MissingIndex,
    /// True values in entry order, or empty.
    truth: &'a [f32],
    rng: &'a StepRng,
}

/// Changes one column's X_miss draws make to its sums.
#[derive(Clone, Copy, Default)]
struct ColumnDeltas {
    sum: f64,
    shifted_sum: f64,
    shifted_sumsq: f64,
    residual: f64,
    /// Squared errors against the truth of the new values and of the running means.
    scores: (f64, f64),
}

/// Adds each column's deltas to the column sums and residual sums, in column order. A residual
/// sum that rounding left negative is set to 0 and counted.
fn apply(
    deltas: impl Iterator<Item = ColumnDeltas>,
    columns: &mut ColumnSums,
    residual: &mut [f64],
    fallbacks: &mut Fallbacks,
) {
    for (dd, delta) in deltas.enumerate() {
        columns.sum[dd] += delta.sum;
        columns.shifted_sum[dd] += delta.shifted_sum;
        columns.shifted_sumsq[dd] = (columns.shifted_sumsq[dd] + delta.shifted_sumsq).max(0.0);
        residual[dd] += delta.residual;
        if residual[dd] < 0.0 {
            residual[dd] = 0.0;
            fallbacks.residual_clamped += 1;
        }
    }
}

/// True when the CPU runs AVX2 and FMA (x86-64 only).
fn fma_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Draws the missing entries of `columns` (X's columns `x`, X~'s `xs`, each N long, one after
/// the other), through the AVX2 + FMA build of the loop when `fma`.
fn draw_group(
    inputs: &Inputs,
    columns: std::ops::Range<usize>,
    x: &mut [f32],
    xs: &mut [f32],
    sample: Option<Sample>,
    fma: bool,
) -> Vec<ColumnDeltas> {
    #[cfg(target_arch = "x86_64")]
    if fma {
        // SAFETY: the CPU was checked to have AVX2 and FMA.
        return unsafe { draw_group_avx2_fma(inputs, columns, x, xs, sample) };
    }
    let _ = fma;
    draw_group_generic::<false>(inputs, columns, x, xs, sample)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn draw_group_avx2_fma(
    inputs: &Inputs,
    columns: std::ops::Range<usize>,
    x: &mut [f32],
    xs: &mut [f32],
    sample: Option<Sample>,
) -> Vec<ColumnDeltas> {
    draw_group_generic::<true>(inputs, columns, x, xs, sample)
}

/// The tiled loop: for each block of images, each column of the group draws its missing
/// entries in that block, with the column's own generator, in row order.
#[inline(always)]
fn draw_group_generic<const FMA: bool>(
    inputs: &Inputs,
    columns: std::ops::Range<usize>,
    x: &mut [f32],
    xs: &mut [f32],
    mut sample: Option<Sample>,
) -> Vec<ColumnDeltas> {
    let (n, m) = (inputs.n, inputs.m);
    let rows = inputs.missing.rows();
    // Entry k of the group is quantity k - base of its part of the moments.
    let base = inputs.missing.column_range(columns.start).start;
    let mut rngs: Vec<SmallRng> = columns
        .clone()
        .map(|dd| inputs.rng.chunk(dd as u64))
        .collect();
    let mut cursor: Vec<usize> = columns
        .clone()
        .map(|dd| inputs.missing.column_range(dd).start)
        .collect();
    let mut deltas = vec![ColumnDeltas::default(); columns.len()];
    let mut fits = Vec::with_capacity(ROW_BLOCK);
    let mut block_end = 0;
    while block_end < n {
        let block_start = block_end;
        block_end = (block_end + ROW_BLOCK).min(n);
        // Bring the block's z_n into cache in one sequential sweep, which the hardware
        // prefetcher streams; gathered one row at a time by the dot products below, the first
        // touches each waited for memory.
        for line in inputs.zt[block_start * m..block_end * m].chunks(16) {
            prefetch(&line[0]);
        }
        for (c, dd) in columns.clone().enumerate() {
            // The column's entries in this block: a linear scan (a binary search's scattered
            // probes of the index missed the cache).
            let (start, limit) = (cursor[c], inputs.missing.column_range(dd).end);
            let mut end = start;
            while end < limit && (rows[end] as usize) < block_end {
                end += 1;
            }
            cursor[c] = end;
            let entries = &rows[start..end];
            // The dot products first, in a loop of their own: its loads of z_n are independent,
            // so the CPU overlaps their cache misses (interleaved with the draws, one at a time).
            let wd = &inputs.wt[dd * m..(dd + 1) * m];
            let mu = inputs.mu[dd];
            // (A plain loop, not an iterator adapter: a closure would not inherit the AVX2 and
            // FMA target features and would call the software fmaf.)
            let (xc, xsc) = (&mut x[c * n..(c + 1) * n], &mut xs[c * n..(c + 1) * n]);
            fits.clear();
            for &i in entries {
                let i = i as usize;
                fits.push(dot::<FMA>(wd, &inputs.zt[i * m..(i + 1) * m]) + mu);
                // Ask for the entry's x and x~ now, so the draws below find them in cache.
                prefetch(&xc[i]);
                prefetch(&xsc[i]);
            }
            let (sd, shift) = (inputs.sd[dd], inputs.shift[dd]);
            let delta = &mut deltas[c];
            let rng = &mut rngs[c];
            for (j, (&i, &fit)) in entries.iter().zip(&fits).enumerate() {
                let i = i as usize;
                let e: f32 = StandardNormal.sample(rng);
                let new = fit + sd * e;
                let (old, old_s) = (xc[i], xsc[i]);
                let new_s = new - shift;
                delta.sum += new as f64 - old as f64;
                delta.shifted_sum += new_s as f64 - old_s as f64;
                delta.shifted_sumsq += (new_s as f64).powi(2) - (old_s as f64).powi(2);
                delta.residual += ((new - fit) as f64).powi(2) - ((old - fit) as f64).powi(2);
                xc[i] = new;
                xsc[i] = new_s;
                let k = start + j;
                if let Some(sample) = sample.as_mut() {
                    let mean = sample.fold(k - base, new as f64);
                    if let Some(&t) = inputs.truth.get(k) {
                        delta.scores.0 += (new as f64 - t as f64).powi(2);
                        delta.scores.1 += (mean - t as f64).powi(2);
                    }
                }
            }
        }
    }
    deltas
}

/// A hint to load the cache line holding `value` (no effect off x86-64).
#[inline(always)]
fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: prefetching is only a hint; the pointer comes from a reference.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>(value as *const T as *const i8);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}

/// Dot product in 8 independent lanes; with `FMA`, one AVX register of fused multiply-adds
/// (the caller must then run with AVX2 and FMA enabled).
#[inline(always)]
fn dot<const FMA: bool>(a: &[f32], b: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if FMA {
        // SAFETY: FMA is only instantiated inside `draw_group_avx2_fma` (and its test twin),
        // which run only after the CPU was checked for AVX2 and FMA.
        return unsafe { dot_avx2_fma(a, b) };
    }
    let mut acc = [0.0f32; 8];
    let (ac, bc) = (a.chunks_exact(8), b.chunks_exact(8));
    let mut tail = 0.0f32;
    for (x, y) in ac.remainder().iter().zip(bc.remainder()) {
        tail += x * y;
    }
    for (xs, ys) in ac.zip(bc) {
        for ((s, x), y) in acc.iter_mut().zip(xs).zip(ys) {
            *s += x * y;
        }
    }
    let half = [
        acc[0] + acc[4],
        acc[1] + acc[5],
        acc[2] + acc[6],
        acc[3] + acc[7],
    ];
    (half[0] + half[2]) + (half[1] + half[3]) + tail
}

/// [`dot`] with AVX2 loads and FMA, 8 lanes at a time, the tail one by one.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
fn dot_avx2_fma(a: &[f32], b: &[f32]) -> f32 {
    use std::arch::x86_64::*;
    let len = a.len().min(b.len());
    let lanes = len / 8 * 8;
    let mut acc = _mm256_setzero_ps();
    let mut k = 0;
    while k < lanes {
        // SAFETY: k + 8 <= len, so both 8-float loads are in bounds (unaligned loads).
        unsafe {
            let x = _mm256_loadu_ps(a.as_ptr().add(k));
            let y = _mm256_loadu_ps(b.as_ptr().add(k));
            acc = _mm256_fmadd_ps(x, y, acc);
        }
        k += 8;
    }
    let mut tail = 0.0f32;
    for (x, y) in a[lanes..len].iter().zip(&b[lanes..len]) {
        tail = x.mul_add(*y, tail);
    }
    let half = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps::<1>(acc));
    let pair = _mm_add_ps(half, _mm_movehl_ps(half, half));
    let one = _mm_add_ss(pair, _mm_shuffle_ps::<0b01>(pair, pair));
    _mm_cvtss_f32(one) + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both builds of the dot product agree with f64 algebra, for lengths around the lane count.
    #[test]
    fn dot_products_match_f64() {
        for len in [1, 7, 8, 9, 16, 50, 100] {
            let a: Vec<f32> = (0..len).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..len).map(|i| (i as f32 * 0.11).cos() * 3.0).collect();
            let exact: f64 = a.iter().zip(&b).map(|(x, y)| *x as f64 * *y as f64).sum();
            let plain = dot::<false>(&a, &b) as f64;
            assert!((plain - exact).abs() < 1e-5 * (1.0 + exact.abs()), "{len}");
            if fma_available() {
                // SAFETY: checked just above.
                #[cfg(target_arch = "x86_64")]
                let fused = unsafe { dot_fma_for_test(&a, &b) } as f64;
                #[cfg(not(target_arch = "x86_64"))]
                let fused = plain;
                assert!((fused - exact).abs() < 1e-5 * (1.0 + exact.abs()), "{len}");
            }
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn dot_fma_for_test(a: &[f32], b: &[f32]) -> f32 {
        dot::<true>(a, b)
    }
}
