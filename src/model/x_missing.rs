//! The X_miss step (SPEC 5.5) without the dense fitted values: w_d^T z_n is formed only at the
//! missing entries.
//!
//! A tenth of the entries missing means a tenth of a GEMM's multiply-adds, but as scattered dot
//! products they ran at a tenth of a GEMM's speed: gathering z_n for each missing row of a column
//! walks all of Z (2 MB at N = 10,000) once per column, and the default x86-64 target has neither
//! AVX2 nor FMA. So the loop is tiled: columns in groups of about equal work (the units of parallel
//! work, several per thread), each group walking the images in blocks of [`ROW_BLOCK`] rows, whose
//! z_n (Z^T, one row per image, 200 KB a block at M = 50) stay in cache while every column of the
//! group draws its missing entries in that block; and the dot products use AVX2 and FMA when the
//! CPU has them (checked at run time, as faer does for its GEMM). The missing index keeps its
//! entries in the same order (blocks, then columns, then rows), so a group reads the current
//! values, the moments and the truth of a block as one run each.
//!
//! Each column keeps one generator for the whole step and draws its entries in row order, so
//! the draws do not depend on the tiling or on the number of threads. Runs on the sampler's
//! thread and rayon's current pool; never blocks.

use super::Fallbacks;
use super::moments::Sample;
use super::rng::StepRng;
use super::segment::{ColumnDeltas, Segment};
use super::state::{MissingIndex, ModelState};
use super::suffstats::ColumnSums;
use super::z_setup::ZSetup;
use crate::diagnostics::HalfDraw;
use nalgebra::DMatrix;
use rand::rngs::SmallRng;

/// Images per tile: a block of Z^T (ROW_BLOCK x M f32) stays in L2 while a group uses it.
const ROW_BLOCK: usize = super::state::INDEX_BLOCK;

/// Units of parallel work per thread. Each column draws from its own generator, so how the
/// columns are grouped changes only the speed, never the draws: bigger groups read each block
/// of Z^T fewer times, more groups balance better when a core is busy elsewhere.
const GROUPS_PER_THREAD: usize = 4;

/// The cost of a column in the X_miss pass, in missing entries, beside one per entry: a
/// column's draws touch up to all the cache lines of its columns of X and X~ (2 x 40 KB at
/// N = 10,000, read and written), so a column with many missing entries costs less per entry.
/// Fitted to the groups' times at N = 10,000 (4.5 us a column, 16 ns an entry, on two cores).
const COLUMN_COST: usize = 280;

/// Splits columns `0..d` into `groups` consecutive runs of about equal cost (missing entries
/// plus [`COLUMN_COST`] a column): the first column of each run, then `d`. The notebook's masks
/// hide the middle of the digits far more often than the border, so runs of equal length
/// left one core with most of the work. Every run has at least one column (fewer runs when
/// `d < groups`).
fn balanced_groups(missing: &MissingIndex, d: usize, groups: usize) -> Vec<usize> {
    if d == 0 {
        return vec![0];
    }
    let lengths: Vec<usize> = (0..d).map(|dd| missing.column_len(dd)).collect();
    let cost = |dd: usize| lengths[dd] + COLUMN_COST;
    let total: usize = (0..d).map(cost).sum();
    let groups = groups.clamp(1, d);
    let mut starts = vec![0];
    let mut done = 0;
    for dd in 0..d {
        // Run g ends once the columns so far cost at least g / groups of the total, and
        // enough columns remain for the runs after it.
        let g = starts.len();
        if dd > starts[g - 1] && g < groups && done * groups >= g * total && d - dd >= groups - g {
            starts.push(dd);
        }
        done += cost(dd);
    }
    starts.push(d);
    starts
}

/// What the X_miss pass also does with each value it draws: folds it into the running moments
/// and scores it against the true pixel (one pass over the missing entries, not two).
pub struct Tally<'a> {
    /// The sample of the missing entries' running moments (entry order).
    pub sample: Sample<'a, f32>,
    /// True values of the missing entries in entry order; empty when unknown.
    pub truth: &'a [f32],
    /// A chain's half moments of the missing entries (entry order), when this sweep's draw
    /// belongs in them; ignored unless it holds one quantity per missing entry.
    pub halves: Option<HalfDraw<'a>>,
}

/// X_miss | W, Z, mu, sigma^2: each missing x_nd ~ N(w_d^T z_n + mu_d, sigma_d^2)
/// independently (SPEC 5.5). In the same pass the missing values, X~, the column sums and the
/// residual sums are updated from the old and new values of the changed entries.
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
    let n = state.xs.nrows();
    let parts = state.x_missing_parts();
    let (d, m) = parts.w.shape();
    // z_n and w_d as contiguous rows padded to whole AVX registers (zeros in the padding): Z^T
    // in a buffer kept between sweeps, each group's w_d in one of its own.
    let stride = padded_stride(m);
    // (Z^T as the Z step left it, when it is of the current Z; see `Scratch::zt_current`.)
    if !(parts.scratch.zt_current && parts.scratch.zt.len() == n * stride) {
        transpose_padded(parts.z, stride, &mut parts.scratch.zt);
        parts.scratch.zt_current = true;
    }
    let sd: Vec<f32> = parts.sigmasq.iter().map(|s| s.sqrt()).collect();
    let missing = parts.missing;
    let bounds = balanced_groups(missing, d, GROUPS_PER_THREAD * rayon::current_num_threads());
    let groups = bounds.len() - 1;
    let blocks = missing.blocks();
    // The entries of group g in block b are one run of the index (blocks, then columns): the
    // runs in (block, group) order tile the index, so every array kept in entry order splits
    // into them, and each group takes its run of every block.
    let run_ends: Vec<usize> = (0..blocks)
        .flat_map(|b| {
            bounds[1..]
                .iter()
                .map(move |&e| missing.segment(b, e - 1).end)
        })
        .collect();
    let run_lengths = || {
        let mut start = 0;
        run_ends.iter().map(move |&end| {
            let len = end - start;
            start = end;
            len
        })
    };
    let (samples, truth, halves) = match tally {
        Some(t) => {
            let truth = if t.truth.len() == missing.len() {
                t.truth
            } else {
                &[]
            };
            let halves = match t.halves {
                Some(h) if h.len() == missing.len() => {
                    by_group(h.split(run_ends.iter().copied()), groups, blocks)
                }
                _ => (0..groups).map(|_| Vec::new()).collect(),
            };
            (
                by_group(t.sample.split(run_ends.iter().copied()), groups, blocks),
                truth,
                halves,
            )
        }
        None => (
            (0..groups).map(|_| Vec::new()).collect(),
            &[][..],
            (0..groups).map(|_| Vec::new()).collect(),
        ),
    };
    let inputs = Inputs {
        n,
        stride,
        zt: &parts.scratch.zt,
        w: super::linalg::view(parts.w),
        mu: parts.mu,
        sd: &sd,
        shift: &parts.columns.shift,
        missing,
        truth,
        rng,
    };
    let fma = fma_available();
    let widths = bounds.windows(2).map(|b| (b[1] - b[0]) * n);
    let values = by_group(split_lengths(parts.values, run_lengths()), groups, blocks);
    let work: Vec<_> = values
        .into_iter()
        .zip(split_lengths(parts.xs.as_mut_slice(), widths))
        .zip(samples.into_iter().zip(halves))
        .collect();
    // The next Z step's setup, as one more task beside the groups: its inputs are final now,
    // and on the sampler's thread it would leave a core idle (see `super::z_setup`).
    let (w, mu, sigmasq) = (parts.w, parts.mu, parts.sigmasq);
    let (results, setup) = super::par::join(
        n * d,
        || {
            super::par::map_items(work, n * d, |g, ((values, xs), tallies)| {
                let columns = bounds[g]..bounds[g + 1];
                draw_group(&inputs, columns, values, xs, tallies, fma)
            })
        },
        || ZSetup::compute(w, sigmasq, mu, inputs.shift),
    );
    parts.scratch.z_setup = Some(setup);
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

/// Splits `values` into consecutive parts of the given lengths (which must add up to at most
/// its length).
fn split_lengths<T>(values: &mut [T], lengths: impl Iterator<Item = usize>) -> Vec<&mut [T]> {
    let mut rest = values;
    lengths
        .map(|len| {
            let (head, tail) = std::mem::take(&mut rest).split_at_mut(len);
            rest = tail;
            head
        })
        .collect()
}

/// Deals `runs` (in block, then group order) out to the groups: group g gets its run of each
/// block, in block order.
fn by_group<T>(runs: Vec<T>, groups: usize, blocks: usize) -> Vec<Vec<T>> {
    let mut out: Vec<Vec<T>> = (0..groups).map(|_| Vec::with_capacity(blocks)).collect();
    for (r, run) in runs.into_iter().enumerate() {
        out[r % groups].push(run);
    }
    out
}

/// What every group reads.
struct Inputs<'a> {
    n: usize,
    /// Length of the rows of `zt` and `wt`: M rounded up to whole [`LANES`].
    stride: usize,
    /// z_n for every image, one padded row each.
    zt: &'a [f32],
    /// W (D x M); each group copies its pixels' rows w_d into padded rows of its own.
    w: faer::MatRef<'a, f32>,
    mu: &'a [f32],
    sd: &'a [f32],
    shift: &'a [f32],
    missing: &'a MissingIndex,
    /// True values in entry order, or empty.
    truth: &'a [f32],
    rng: &'a StepRng,
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

/// Draws the missing entries of `columns` (their current `values`, one run per block in entry
/// order, and X~'s columns `xs`, each N long, one after the other), through the AVX2 + FMA
/// build of the loop when `fma`.
fn draw_group(
    inputs: &Inputs,
    columns: std::ops::Range<usize>,
    values: Vec<&mut [f32]>,
    xs: &mut [f32],
    tallies: GroupTallies,
    fma: bool,
) -> Vec<ColumnDeltas> {
    #[cfg(target_arch = "x86_64")]
    if fma {
        // SAFETY: the CPU was checked to have AVX2 and FMA.
        return unsafe { draw_group_avx2_fma(inputs, columns, values, xs, tallies) };
    }
    let _ = fma;
    draw_group_generic::<false>(inputs, columns, values, xs, tallies)
}

/// A group's runs of the running moments and of the half moments, one per block (none when
/// not tallied).
type GroupTallies<'a> = (Vec<Sample<'a, f32>>, Vec<HalfDraw<'a>>);

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn draw_group_avx2_fma(
    inputs: &Inputs,
    columns: std::ops::Range<usize>,
    values: Vec<&mut [f32]>,
    xs: &mut [f32],
    tallies: GroupTallies,
) -> Vec<ColumnDeltas> {
    draw_group_generic::<true>(inputs, columns, values, xs, tallies)
}

/// The tiled loop: for each block of images, each column of the group draws its missing
/// entries in that block, with the column's own generator, in row order.
#[inline(always)]
fn draw_group_generic<const FMA: bool>(
    inputs: &Inputs,
    columns: std::ops::Range<usize>,
    mut values: Vec<&mut [f32]>,
    xs: &mut [f32],
    (mut samples, mut halves): GroupTallies,
) -> Vec<ColumnDeltas> {
    let (n, stride) = (inputs.n, inputs.stride);
    let z_row = |i: usize| &inputs.zt[i * stride..(i + 1) * stride];
    let missing = inputs.missing;
    let rows = missing.rows();
    let mut rngs: Vec<SmallRng> = columns
        .clone()
        .map(|dd| inputs.rng.chunk(dd as u64))
        .collect();
    // The group's w_d as padded rows, written here in the task rather than for all pixels on
    // the sampler's thread.
    let mut wt = vec![0.0f32; columns.len() * stride];
    write_padded_rows(
        inputs.w.subrows(columns.start, columns.len()),
        stride,
        &mut wt,
    );
    let mut deltas = vec![ColumnDeltas::default(); columns.len()];
    let mut fits = Vec::with_capacity(ROW_BLOCK);
    let mut noise: Vec<f32> = Vec::with_capacity(ROW_BLOCK);
    for (b, current_run) in values.iter_mut().enumerate() {
        let images = missing.block_rows(b);
        // Bring the block's z_n into cache in one sequential sweep, which the hardware
        // prefetcher streams; gathered one row at a time by the dot products below, the first
        // touches each waited for memory.
        for line in inputs.zt[images.start * stride..images.end * stride].chunks(16) {
            crate::prefetch::line(&line[0]);
        }
        // Entry k of the block's run is quantity k - base of this group's parts.
        let base = missing.segment(b, columns.start).start;
        let (mut sample, mut half) = (samples.get_mut(b), halves.get_mut(b));
        for (c, dd) in columns.clone().enumerate() {
            let segment = missing.segment(b, dd);
            let (start, end) = (segment.start, segment.end);
            let entries = &rows[segment];
            // The dot products first, in a loop of their own: its loads of z_n are independent,
            // so the CPU overlaps their cache misses (interleaved with the draws, one at a time).
            // Eight at a time, which share one reduction of their sums across lanes.
            let wd = &wt[c * stride..(c + 1) * stride];
            let mu = inputs.mu[dd];
            // (A plain loop, not an iterator adapter: a closure would not inherit the AVX2 and
            // FMA target features and would call the software fmaf.)
            let xsc = &mut xs[c * n..(c + 1) * n];
            fits.clear();
            fits.resize(entries.len(), 0.0);
            let mut eights = entries.chunks_exact(LANES);
            let mut out = fits.chunks_exact_mut(LANES);
            for (group, out) in eights.by_ref().zip(out.by_ref()) {
                let sums = dots8::<FMA>(wd, std::array::from_fn(|j| z_row(group[j] as usize)));
                for ((&i, sum), fit) in group.iter().zip(sums).zip(out) {
                    *fit = sum + mu;
                    // Ask for the entry's x~ now, so the draws below find its line in cache.
                    crate::prefetch::line(&xsc[i as usize]);
                }
            }
            for (&i, fit) in eights.remainder().iter().zip(out.into_remainder()) {
                let i = i as usize;
                *fit = dot::<FMA>(wd, z_row(i)) + mu;
                crate::prefetch::line(&xsc[i]);
            }
            let (sd, shift) = (inputs.sd[dd], inputs.shift[dd]);
            // The segment's noise in one batch (drawn eight pairs at a time in vector registers).
            noise.clear();
            noise.resize(entries.len(), 0.0);
            super::normals::fill(&mut rngs[c], &mut noise);
            let current = &mut current_run[start - base..end - base];
            let sums = super::segment::draw::<FMA>(Segment {
                rows: entries,
                fits: &fits,
                noise: &noise,
                values: current,
                xs: xsc,
                sd,
                shift,
                moments: sample.as_mut().map(|s| s.run(start - base..end - base)),
                truth: inputs.truth.get(start..end).unwrap_or(&[]),
            });
            if let Some(half) = half.as_mut() {
                for (j, &new) in current_run[start - base..end - base].iter().enumerate() {
                    half.fold(start + j - base, new as f64);
                }
            }
            deltas[c].add(&sums);
        }
    }
    deltas
}

/// Floats per AVX register: the rows of Z^T and W^T are padded to a multiple of this.
const LANES: usize = 8;

/// Length of the padded rows of Z^T and W^T for M factors.
pub(crate) fn padded_stride(m: usize) -> usize {
    m.next_multiple_of(LANES)
}

/// Writes `a` (R x M) transposed into `out`, row r of `a` as `out[r * stride..][..M]`, the
/// padding up to `stride` zero. Keeps `out`'s allocation when the size is unchanged. In
/// parallel over fixed blocks of rows.
fn transpose_padded(a: &DMatrix<f32>, stride: usize, out: &mut Vec<f32>) {
    let a_rows = a.nrows();
    out.resize(a_rows * stride, 0.0);
    let a = super::linalg::view(a);
    super::par::for_each_chunk_mut(out, ROW_BLOCK * stride, |c, chunk| {
        let first = c * ROW_BLOCK;
        write_padded_rows(a.subrows(first, chunk.len() / stride), stride, chunk);
    });
}

/// Writes the rows of `a` (R x M, column-major: rows of a column-major matrix) into `out`
/// (R x `stride`), row r as `out[r * stride..][..M]` and zeros in the padding after it.
pub(crate) fn write_padded_rows(a: faer::MatRef<'_, f32>, stride: usize, out: &mut [f32]) {
    const TILE: usize = 16;
    let (count, m) = a.shape();
    assert!(m <= stride && out.len() == count * stride);
    // Sixteen rows at a time: their rows of `out` (16 x stride floats) stay in L1 while every
    // column of `a` gives one cache line of its values (one pass of all M columns over a long
    // block wrote each of its rows M times from L2).
    for tile in (0..count).step_by(TILE) {
        let rows = TILE.min(count - tile);
        let out_tile = &mut out[tile * stride..(tile + rows) * stride];
        for k in 0..m {
            let column = a.col(k).subrows(tile, rows);
            let values = column
                .try_as_col_major()
                .expect("the columns of a column-major matrix are contiguous");
            for (r, &v) in values.as_slice().iter().enumerate() {
                out_tile[r * stride + k] = v;
            }
        }
        for row in out_tile.chunks_exact_mut(stride) {
            row[m..].fill(0.0);
        }
    }
}

/// Dot product of two rows padded to whole [`LANES`], in 8 independent lanes; with `FMA`,
/// AVX registers of fused multiply-adds (the caller must then run with AVX2 and FMA enabled).
#[inline(always)]
fn dot<const FMA: bool>(a: &[f32], b: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if FMA {
        // SAFETY: FMA is only instantiated inside `draw_group_avx2_fma` (and its test twin),
        // which run only after the CPU was checked for AVX2 and FMA.
        return unsafe { dot_avx2_fma(a, b) };
    }
    let mut acc = [0.0f32; LANES];
    for (xs, ys) in a.chunks_exact(LANES).zip(b.chunks_exact(LANES)) {
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
    (half[0] + half[2]) + (half[1] + half[3])
}

/// The dot products of `w` with eight rows, all padded to whole [`LANES`].
#[inline(always)]
fn dots8<const FMA: bool>(w: &[f32], rows: [&[f32]; LANES]) -> [f32; LANES] {
    #[cfg(target_arch = "x86_64")]
    if FMA {
        // SAFETY: as for `dot`.
        return unsafe { dots8_avx2_fma(w, rows) };
    }
    rows.map(|row| dot::<false>(w, row))
}

/// [`dot`] with AVX2 loads and FMA, over the whole registers of the shorter row.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
fn dot_avx2_fma(a: &[f32], b: &[f32]) -> f32 {
    use std::arch::x86_64::*;
    let len = a.len().min(b.len()) / LANES * LANES;
    let mut acc = _mm256_setzero_ps();
    let mut k = 0;
    while k < len {
        // SAFETY: k + LANES <= len, so both 8-float loads are in bounds (unaligned loads).
        unsafe {
            let x = _mm256_loadu_ps(a.as_ptr().add(k));
            let y = _mm256_loadu_ps(b.as_ptr().add(k));
            acc = _mm256_fmadd_ps(x, y, acc);
        }
        k += LANES;
    }
    let half = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps::<1>(acc));
    let pair = _mm_add_ps(half, _mm_movehl_ps(half, half));
    let one = _mm_add_ss(pair, _mm_shuffle_ps::<0b01>(pair, pair));
    _mm_cvtss_f32(one)
}

/// [`dots8`] with AVX2 and FMA: one accumulator per row, `w` loaded once for all eight, and
/// the eight horizontal sums done together (three rounds of pairwise additions).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
fn dots8_avx2_fma(w: &[f32], rows: [&[f32]; LANES]) -> [f32; LANES] {
    use std::arch::x86_64::*;
    let len = w.len() / LANES * LANES;
    // Every row at least as long as w's whole registers (panics otherwise, before any load).
    // (A plain loop, not `rows.map`: its closure did not inherit the target features, was not
    // inlined and took 3% of a whole run, as a call per eight entries.)
    for row in &rows {
        assert!(row.len() >= len, "a row shorter than w");
    }
    let mut acc = [_mm256_setzero_ps(); LANES];
    let mut k = 0;
    while k < len {
        // SAFETY: k + LANES <= len and every row (and w) has at least len floats.
        unsafe {
            let wv = _mm256_loadu_ps(w.as_ptr().add(k));
            for (a, row) in acc.iter_mut().zip(&rows) {
                *a = _mm256_fmadd_ps(_mm256_loadu_ps(row.as_ptr().add(k)), wv, *a);
            }
        }
        k += LANES;
    }
    // hadd(a, b) = [a0+a1, a2+a3, b0+b1, b2+b3 | a4+a5, a6+a7, b4+b5, b6+b7]; two rounds give
    // each row's partial sums of the low and of the high half, the permutes then add the halves.
    let s01 = _mm256_hadd_ps(acc[0], acc[1]);
    let s23 = _mm256_hadd_ps(acc[2], acc[3]);
    let s45 = _mm256_hadd_ps(acc[4], acc[5]);
    let s67 = _mm256_hadd_ps(acc[6], acc[7]);
    let s0123 = _mm256_hadd_ps(s01, s23);
    let s4567 = _mm256_hadd_ps(s45, s67);
    let low = _mm256_permute2f128_ps::<0x20>(s0123, s4567);
    let high = _mm256_permute2f128_ps::<0x31>(s0123, s4567);
    let sums = _mm256_add_ps(low, high);
    let mut out = [0.0f32; LANES];
    // SAFETY: out holds exactly LANES floats.
    unsafe { _mm256_storeu_ps(out.as_mut_ptr(), sums) };
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Column groups cover every column once, in order, none empty, at most as many as asked;
    /// with a mask that hides the middle columns far more often than the rest, each group's
    /// cost is within one column's cost of an equal share (groups of equal width were not:
    /// checked by asking for equal widths).
    #[test]
    fn column_groups_cover_the_columns_with_equal_cost() {
        let (n, d) = (400, 60);
        // Columns 25..35 hidden in 3 images out of 4, the rest in 1 out of 20.
        let mask: Vec<bool> = (0..n * d)
            .map(|k| {
                let (i, dd) = (k / d, k % d);
                if (25..35).contains(&dd) {
                    i % 4 != 0
                } else {
                    i % 20 == 0
                }
            })
            .collect();
        let missing = MissingIndex::from_row_major(n, d, &mask);
        let cost = |r: std::ops::Range<usize>| -> usize {
            r.map(|dd| missing.column_len(dd) + COLUMN_COST).sum()
        };
        let biggest = (0..d).map(|dd| cost(dd..dd + 1)).max().unwrap();
        for groups in [1, 2, 3, 8, 16] {
            let bounds = balanced_groups(&missing, d, groups);
            assert_eq!((bounds[0], *bounds.last().unwrap()), (0, d));
            assert!(bounds.windows(2).all(|b| b[0] < b[1]), "{bounds:?}");
            assert!(bounds.len() - 1 <= groups);
            let share = cost(0..d) as f64 / groups as f64;
            for b in bounds.windows(2) {
                let c = cost(b[0]..b[1]) as f64;
                assert!(
                    (c - share).abs() <= biggest as f64,
                    "{groups} groups: {bounds:?}"
                );
            }
        }
        // More groups than columns: one column each. No columns: no groups.
        assert_eq!(balanced_groups(&missing, 3, 8), vec![0, 1, 2, 3]);
        assert_eq!(balanced_groups(&missing, 0, 8), vec![0]);
    }

    /// Both builds of the dot product, single and eight at a time, agree with f64 algebra for
    /// lengths around the lane count, padded with zeros to whole lanes as the step pads them.
    #[test]
    fn dot_products_match_f64() {
        for len in [1usize, 7, 8, 9, 16, 17, 24, 50, 100] {
            let padded = len.next_multiple_of(LANES);
            let row = |f: &dyn Fn(f32) -> f32| -> Vec<f32> {
                (0..padded)
                    .map(|i| if i < len { f(i as f32) } else { 0.0 })
                    .collect()
            };
            let a = row(&|x| (x * 0.37).sin());
            let b = row(&|x| (x * 0.11).cos() * 3.0);
            let others: Vec<Vec<f32>> = (0..LANES)
                .map(|j| row(&move |x| (x * 0.05 + j as f32).sin() * (j as f32 - 3.5)))
                .collect();
            let eight: [&[f32]; LANES] = std::array::from_fn(|j| others[j].as_slice());
            let exact_of =
                |r: &[f32]| -> f64 { a.iter().zip(r).map(|(x, y)| *x as f64 * *y as f64).sum() };
            for (j, got) in dots8::<false>(&a, eight).into_iter().enumerate() {
                let exact = exact_of(&others[j]);
                assert!(
                    (got as f64 - exact).abs() < 1e-5 * (1.0 + exact.abs()),
                    "{len} {j}"
                );
            }
            if fma_available() {
                #[cfg(target_arch = "x86_64")]
                // SAFETY: checked just above.
                for (j, got) in unsafe { dots8_fma_for_test(&a, eight) }
                    .into_iter()
                    .enumerate()
                {
                    let exact = exact_of(&others[j]);
                    assert!(got.is_finite());
                    assert!(
                        (got as f64 - exact).abs() < 1e-5 * (1.0 + exact.abs()),
                        "{len} {j}"
                    );
                }
            }
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

    /// The padded transpose holds every entry where the dot products read it and zeros in
    /// the padding, also when the buffer is reused (the sizes take several parallel blocks).
    #[test]
    fn padded_transpose_is_the_transpose_with_zero_padding() {
        let (rows, m) = (ROW_BLOCK * 40 + 3, 13usize);
        let stride = m.next_multiple_of(LANES);
        let mut out = vec![7.0f32; 5];
        for round in 0..2 {
            let a = DMatrix::<f32>::from_fn(rows, m, |i, k| (i * 31 + k * 7 + round) as f32);
            transpose_padded(&a, stride, &mut out);
            assert_eq!(out.len(), rows * stride);
            for i in 0..rows {
                for k in 0..stride {
                    let want = if k < m { a[(i, k)] } else { 0.0 };
                    assert_eq!(
                        out[i * stride + k],
                        want,
                        "round {round}, row {i}, entry {k}"
                    );
                }
            }
        }
    }

    /// The Z step leaves Z^T in the padded rows the X_miss step reads (so that step skips its
    /// own transpose), over several blocks and passes with a partial last one; replacing Z
    /// marks the copy stale.
    #[test]
    fn z_step_leaves_the_padded_transpose_of_the_new_z() {
        use crate::model::{GibbsSampler, Problem, SamplerSettings};
        let (n, d) = (5_500, 12);
        let x: Vec<f32> = (0..n * d)
            .map(|k| 40.0 + 30.0 * ((k / d) as f32 * 0.21 + (k % d) as f32 * 0.7).sin())
            .collect();
        let missing: Vec<bool> = (0..n * d).map(|k| (k * 2654435761) % 97 < 10).collect();
        let problem = Problem {
            n,
            d,
            x_observed: x,
            missing,
            x_true: None,
        };
        let mut settings = SamplerSettings {
            seed: 5,
            ..SamplerSettings::default()
        };
        settings.hyper.m = 13;
        let stride = padded_stride(13);
        assert_eq!(stride, 16);
        let mut kept = GibbsSampler::new(&problem, &settings).unwrap();
        for _ in 0..3 {
            kept.sweep();
            // What the X_miss step read: it transposes Z itself only when the copy is stale.
            let state = kept.state();
            assert!(state.scratch.zt_current);
            assert_eq!(state.scratch.zt.len(), n * stride);
            for (i, row) in state.scratch.zt.chunks_exact(stride).enumerate() {
                for (k, &v) in row.iter().enumerate() {
                    let want = if k < 13 { state.z[(i, k)] } else { 0.0 };
                    assert_eq!(v.to_bits(), want.to_bits(), "image {i}, entry {k}");
                }
            }
        }
        let z = kept.state().z().clone();
        kept.state_mut().set_z(z).unwrap();
        assert!(!kept.state().scratch.zt_current);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn dots8_fma_for_test(w: &[f32], rows: [&[f32]; LANES]) -> [f32; LANES] {
        dots8::<true>(w, rows)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn dot_fma_for_test(a: &[f32], b: &[f32]) -> f32 {
        dot::<true>(a, b)
    }
}
