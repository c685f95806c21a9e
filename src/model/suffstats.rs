//! The sufficient statistics of a sweep (SPEC 9), which replace the dense fitted values Z W^T.
//!
//! W, mu, sigma^2 and the log joint need, besides per-column sums of X, only X^T Z (D x M),
//! Z^T Z (M x M) and sum_n z_n. They are kept for a *shifted* X: X~ = X - 1 c^T with c_d the
//! column's mean (the state keeps X~ beside X). A bright column (values near 1e4, residual sd
//! 0.5) then enters the f32 GEMM as values of a few units, so the GEMM's rounding stays far
//! below the residual the sums must resolve; the quadratic forms are then combined in f64.
//!
//! The sums are taken in fixed blocks of images ([`BlockStats`]), which the Z step fills as it
//! draws each block's rows of Z, while that block of X~ is still in cache from its own
//! product: one pass over X~ serves both GEMMs of a sweep.
//!
//! Runs on the sampler's thread; the blocks run on rayon's current pool (single-threaded GEMMs
//! each). Nothing here blocks on anything but computation.

use super::linalg::view;
use nalgebra::DMatrix;

/// X~^T Z, Z^T Z and sum_n z_n for the current X and Z, in f64.
#[derive(Clone, Debug)]
pub(crate) struct CrossStats {
    /// X~^T Z (D x M): row d is sum_n x~_nd z_n.
    pub xtz: DMatrix<f64>,
    /// Z^T Z (M x M).
    pub ztz: DMatrix<f64>,
    /// sum_n z_n (M).
    pub sumz: Vec<f64>,
}

impl CrossStats {
    /// Computes the statistics block by block (see [`BlockStats`]), the blocks in parallel and
    /// added in block order: the same sums on any thread count, and the same numbers the Z
    /// step gives when it forms them beside its draws.
    pub fn compute(xs: &DMatrix<f32>, z: &DMatrix<f32>) -> CrossStats {
        let (n, d) = xs.shape();
        let m = z.ncols();
        let (xs, z) = (view(xs), view(z));
        let blocks: Vec<usize> = (0..block_count(n)).collect();
        let partial = super::par::map_items(blocks, n * d, |_, b| {
            let rows = block_rows(b, n);
            let mut stats = BlockStats::default();
            stats.reset(m, d);
            for pass in passes(rows) {
                stats.add(
                    z.subrows(pass.start, pass.len()),
                    xs.subrows(pass.start, pass.len()),
                );
            }
            stats
        });
        CrossStats::from_blocks(&partial, d, m, None)
    }

    /// Adds the blocks' statistics in f64, in block order. X~^T Z is written into `spare` when
    /// it is D x M (the last statistics' matrix, which every entry overwrites), so a sweep does
    /// not allocate and zero 313 KB on the sampler's thread.
    pub fn from_blocks(
        blocks: &[BlockStats],
        d: usize,
        m: usize,
        spare: Option<DMatrix<f64>>,
    ) -> CrossStats {
        // Z^T X~ as the blocks hold it (M x D: each pixel's M entries contiguous), summed and
        // transposed into X~^T Z (D x M) pixel block by pixel block in parallel: each task sums
        // its pixels' entries over the blocks in order, then writes them into its rows (a
        // transpose of its own, in cache, rather than one on the sampler's thread afterwards).
        const PIXELS: usize = 64;
        let mut xtz = spare
            .filter(|x| x.shape() == (d, m))
            .unwrap_or_else(|| DMatrix::<f64>::zeros(d, m));
        let parts = super::linalg::row_blocks(super::linalg::view_mut(&mut xtz), PIXELS);
        super::par::map_items(parts, m * d * blocks.len(), |_, (start, mut rows)| {
            let range = start * m..(start + rows.nrows()) * m;
            let mut sums = vec![0.0f64; range.len()];
            for b in blocks {
                sums.iter_mut()
                    .zip(&b.ztx[range.clone()])
                    .for_each(|(t, &v)| *t += v as f64);
            }
            for (a, column) in rows.as_mut().col_iter_mut().enumerate() {
                let column = column
                    .try_as_col_major_mut()
                    .expect("the columns of a column-major matrix are contiguous")
                    .as_slice_mut();
                for (i, v) in column.iter_mut().enumerate() {
                    *v = sums[i * m + a];
                }
            }
        });
        let mut ztz = DMatrix::<f64>::zeros(m, m);
        let mut sumz = vec![0.0f64; m];
        for b in blocks {
            ztz.as_mut_slice()
                .iter_mut()
                .zip(&b.ztz)
                .for_each(|(t, v)| *t += v);
            sumz.iter_mut().zip(&b.sumz).for_each(|(t, v)| *t += v);
        }
        CrossStats { xtz, ztz, sumz }
    }

    /// sum_n (x_nd - mu_d - w_d^T z_n)^2 for every column d, from the statistics: with
    /// a = mu_d - c_d (c the shift of X~) and the column's sums s1 = sum x~, s2 = sum x~^2,
    ///   s2 - 2 a s1 + N a^2 - 2 w^T (X~^T Z)_d + 2 a w^T sum z + w^T (Z^T Z) w,
    /// all in f64. Rounding can leave a tiny negative number for a column fitted exactly; such
    /// values are clamped to 0 and counted in the returned count.
    pub fn residual_sums(
        &self,
        columns: &ColumnSums,
        w: &DMatrix<f32>,
        mu: &[f32],
    ) -> (Vec<f64>, u64) {
        // G = W (Z^T Z) as one product (D x M by M x M).
        let w64 = w.map(|v| v as f64);
        let g = super::linalg::product(&w64, false, &self.ztz);
        self.residuals_from(columns, &w64, &g, mu, 0)
    }

    /// [`Self::residual_sums`] for the rows `start..start + w.nrows()` of W (`w`, in f64) and
    /// their `mu`, with G's rows formed on the calling thread.
    pub fn residual_rows(
        &self,
        columns: &ColumnSums,
        w: &DMatrix<f64>,
        mu: &[f32],
        start: usize,
    ) -> (Vec<f64>, u64) {
        let mut g = DMatrix::<f64>::zeros(w.nrows(), w.ncols());
        super::linalg::gemm(
            super::linalg::view_mut(&mut g),
            faer::Accum::Replace,
            super::linalg::view(w),
            super::linalg::view(&self.ztz),
            1.0,
        );
        self.residuals_from(columns, w, &g, mu, start)
    }

    /// The residual sums of the rows `start..start + w.nrows()` from W's rows `w` and G's rows
    /// `g` (both rows x M, f64): column by column over the factors (contiguous runs, which
    /// vectorise), w^T (X~^T Z)_d, w^T sum z and w^T G_d, then the formula above.
    fn residuals_from(
        &self,
        columns: &ColumnSums,
        w: &DMatrix<f64>,
        g: &DMatrix<f64>,
        mu: &[f32],
        start: usize,
    ) -> (Vec<f64>, u64) {
        let (rows, m) = w.shape();
        let d = self.xtz.nrows();
        let n = columns.n as f64;
        let (mut w_cross, mut w_sumz, mut quad) =
            (vec![0.0; rows], vec![0.0; rows], vec![0.0; rows]);
        for k in 0..m {
            let wk = &w.as_slice()[k * rows..(k + 1) * rows];
            let xk = &self.xtz.as_slice()[k * d + start..k * d + start + rows];
            let gk = &g.as_slice()[k * rows..(k + 1) * rows];
            for i in 0..rows {
                w_cross[i] += wk[i] * xk[i];
                w_sumz[i] += wk[i] * self.sumz[k];
                quad[i] += wk[i] * gk[i];
            }
        }
        let mut clamped = 0;
        let sums = (0..rows)
            .map(|i| {
                let dd = start + i;
                let a = mu[i] as f64 - columns.shift[dd] as f64;
                let (s1, s2) = (columns.shifted_sum[dd], columns.shifted_sumsq[dd]);
                let r = s2 - 2.0 * a * s1 + n * a * a - 2.0 * w_cross[i]
                    + 2.0 * a * w_sumz[i]
                    + quad[i];
                if r < 0.0 {
                    clamped += 1;
                    0.0
                } else {
                    r
                }
            })
            .collect();
        (sums, clamped)
    }
}

/// Images per block of the statistics, at least: the units of parallel work of the Z step and
/// of [`CrossStats::compute`]. Blocks depend on N only, and are added in order, so the sums
/// never depend on the number of threads. Few and big (4 at N = 10,000): adding up the
/// blocks' M x D partial sums reads each from the core that wrote it, which took 0.35-0.45 ms
/// for 512-image blocks (20 at N = 10,000); with these the Z step's median went from 12.7-13.6
/// to 12.3-12.8 ms in five interleaved runs of the sweep bench, on two cores.
pub(crate) const STATS_BLOCK: usize = 2560;

/// Blocks at most: each keeps an M x D partial sum until all are added, so at N = 60,000 and
/// M = 100 the blocks grow past [`STATS_BLOCK`] images rather than hold 37 MB of partial sums.
const MAX_BLOCKS: usize = 32;

/// Images per pass within a block: a pass's rows of X~ (400 KB at D = 784) stay in the core's
/// L2 cache from the Z step's product, which reads them, to the statistics', which read them
/// again. Passes of 256 images (800 KB) overflowed a 1 MB L2 beside K and the products' packed
/// panels: the Z step took 0.1 to 0.4 ms longer on a Zen 4 (64: 0.4 ms longer, per-pass costs).
pub(crate) const PASS_ROWS: usize = 128;

/// Number of blocks of N images: one per [`STATS_BLOCK`] images, rounded up to an even count
/// when there is more than one (so two cores get the same number of equal blocks), and at
/// most [`MAX_BLOCKS`].
pub(crate) fn block_count(n: usize) -> usize {
    match n.div_ceil(STATS_BLOCK) {
        0 | 1 => 1,
        count => count.next_multiple_of(2).min(MAX_BLOCKS),
    }
}

/// The rows of block `b` of `n` images: the images in [`block_count`] runs whose lengths
/// differ by at most one. Blocks of whole passes left the last one short (2,320 images of 4
/// blocks at N = 10,000), and the core that took it idled for 0.2-0.4 ms of every Z step.
pub(crate) fn block_rows(b: usize, n: usize) -> std::ops::Range<usize> {
    let count = block_count(n);
    let (len, longer) = (n / count, n % count);
    let start = b * len + b.min(longer);
    start..start + len + usize::from(b < longer)
}

/// The passes of a block's rows, in order.
pub(crate) fn passes(rows: std::ops::Range<usize>) -> impl Iterator<Item = std::ops::Range<usize>> {
    let end = rows.end;
    rows.step_by(PASS_ROWS)
        .map(move |start| start..(start + PASS_ROWS).min(end))
}

/// One block's share of the statistics, and the scratch space of its passes. The Z step keeps
/// one per block between sweeps, so a sweep allocates none of it.
#[derive(Clone, Debug, Default)]
pub(crate) struct BlockStats {
    /// Z_b^T X~_b (M x D, column-major), summed in f32 within the block (a single GEMM's
    /// rounding over one block of images), in f64 across blocks.
    ztx: Vec<f32>,
    /// Z_b^T Z_b (M x M), summed in f64 over the block's passes: each pass's off-diagonal
    /// entries from one f32 GEMM ([`PASS_ROWS`] products each, as Z^T X~'s entries are summed over a
    /// block), its diagonal in f64 (sum |z_n|^2, which the log joint takes as the trace).
    ztz: Vec<f64>,
    /// sum of z_n over the block, in f64.
    sumz: Vec<f64>,
    /// A pass's Z^T Z in f32 (M x M).
    ztz32: Vec<f32>,
    /// A pass's noise for the Z step.
    pub noise: Vec<f32>,
}

impl BlockStats {
    /// Zeroes the sums for M factors and D columns.
    pub fn reset(&mut self, m: usize, d: usize) {
        for (v, len) in [(&mut self.ztz, m * m), (&mut self.sumz, m)] {
            v.clear();
            v.resize(len, 0.0);
        }
        self.ztx.clear();
        self.ztx.resize(m * d, 0.0);
    }

    /// Adds a pass's rows: `z` (rows x M) and `xs` (the same rows of X~, rows x D).
    pub fn add(&mut self, z: faer::MatRef<'_, f32>, xs: faer::MatRef<'_, f32>) {
        let m = z.ncols();
        let d = xs.ncols();
        super::linalg::gemm(
            faer::MatMut::from_column_major_slice_mut(&mut self.ztx, m, d),
            faer::Accum::Add,
            z.transpose(),
            xs,
            1.0f32,
        );
        // Z_p^T Z_p of the pass as one f32 GEMM, added in f64 (the scheme of Z^T X~ above, over
        // a pass instead of a block); its diagonal and sum z from the values in f64.
        self.ztz32.clear();
        self.ztz32.resize(m * m, 0.0);
        super::linalg::gemm(
            faer::MatMut::from_column_major_slice_mut(&mut self.ztz32, m, m),
            faer::Accum::Replace,
            z.transpose(),
            z,
            1.0f32,
        );
        for (a, column) in z.col_iter().enumerate() {
            let values = column
                .try_as_col_major()
                .expect("the columns of a column-major matrix are contiguous")
                .as_slice();
            let (sum, sumsq) = sum_and_squares(values);
            self.sumz[a] += sum;
            for b in 0..m {
                self.ztz[a * m + b] += if a == b {
                    sumsq
                } else {
                    self.ztz32[a * m + b] as f64
                };
            }
        }
    }
}

/// The sum and the sum of squares of `values`, in f64 (four lanes each).
fn sum_and_squares(values: &[f32]) -> (f64, f64) {
    let (mut s, mut q) = ([0.0f64; 4], [0.0f64; 4]);
    let mut chunks = values.chunks_exact(4);
    for c in chunks.by_ref() {
        for l in 0..4 {
            let v = c[l] as f64;
            s[l] += v;
            q[l] += v * v;
        }
    }
    for &v in chunks.remainder() {
        s[0] += v as f64;
        q[0] += (v as f64) * (v as f64);
    }
    ((s[0] + s[1]) + (s[2] + s[3]), (q[0] + q[1]) + (q[2] + q[3]))
}

/// Per-column sums of X in f64, kept up to date as X_miss changes: plain column sums (the mu
/// step) and the sum and sum of squares of the shifted column x~_d = x_d - c_d.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ColumnSums {
    pub n: usize,
    /// c_d: the column's mean when the sums were last rebuilt, in f32 (X~ = X - 1 c^T exactly
    /// as the state stores it).
    pub shift: Vec<f32>,
    /// sum_n x_nd.
    pub sum: Vec<f64>,
    /// sum_n x~_nd.
    pub shifted_sum: Vec<f64>,
    /// sum_n x~_nd^2.
    pub shifted_sumsq: Vec<f64>,
}

impl ColumnSums {
    /// sum_n x_nd^2 (unshifted), from the shifted sums: s2 + 2 c s1 + N c^2. For tests and
    /// displays; the sampler itself uses the shifted sums.
    #[cfg(test)]
    pub fn sumsq(&self, d: usize) -> f64 {
        let c = self.shift[d] as f64;
        self.shifted_sumsq[d] + 2.0 * c * self.shifted_sum[d] + self.n as f64 * c * c
    }

    /// Rebuilds the shift from `x`'s column means, writes X~ = X - 1 c^T into `xs` and sums
    /// both, in parallel over columns (fixed per-column order: the same on any thread count).
    pub fn rebuild(x: &DMatrix<f32>, xs: &mut DMatrix<f32>) -> ColumnSums {
        let (n, d) = x.shape();
        if xs.shape() != (n, d) {
            *xs = DMatrix::from_vec(n, d, crate::hugepages::zeroed_f32(n * d));
        }
        let per_column = super::par::map_chunk_pairs_mut(
            xs.as_mut_slice(),
            x.as_slice(),
            n,
            |_, xs_col, x_col| {
                let sum: f64 = x_col.iter().map(|&v| v as f64).sum();
                let shift = (sum / n as f64) as f32;
                let (mut s1, mut s2) = (0.0f64, 0.0f64);
                for (t, &v) in xs_col.iter_mut().zip(x_col) {
                    *t = v - shift;
                    s1 += *t as f64;
                    s2 += (*t as f64) * (*t as f64);
                }
                (shift, sum, s1, s2)
            },
        );
        ColumnSums {
            n,
            shift: per_column.iter().map(|c| c.0).collect(),
            sum: per_column.iter().map(|c| c.1).collect(),
            shifted_sum: per_column.iter().map(|c| c.2).collect(),
            shifted_sumsq: per_column.iter().map(|c| c.3).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::prelude::*;
    use rand::rngs::SmallRng;
    use rand_distr::StandardNormal;

    /// The residual sums from the statistics match the direct f64 sums over every entry, on
    /// columns of very different scale (a bright column near 1e4 with residual sd 0.5, an
    /// ordinary one, a constant one, one all but constant), for parameters at and away from
    /// the fit.
    #[test]
    fn residual_sums_from_statistics_match_the_direct_sums() {
        let (n, d, m) = (3000, 4, 3);
        let mut r = SmallRng::seed_from_u64(11);
        let mut normal = || -> f64 { r.sample(StandardNormal) };
        let z = DMatrix::<f32>::from_fn(n, m, |_, _| normal() as f32);
        let w_true =
            DMatrix::<f64>::from_fn(d, m, |dd, a| [3.0, 1.0, 0.0, 0.1][dd] * (a as f64 + 1.0));
        let mu_true = [1.0e4, 50.0, 7.0, 0.0];
        let noise = [0.5, 2.0, 0.0, 0.01];
        let x = DMatrix::<f32>::from_fn(n, d, |i, dd| {
            let fit: f64 = (0..m).map(|a| w_true[(dd, a)] * z[(i, a)] as f64).sum();
            (mu_true[dd] + fit + noise[dd] * normal()) as f32
        });
        let mut xs = DMatrix::zeros(0, 0);
        let columns = ColumnSums::rebuild(&x, &mut xs);
        let stats = CrossStats::compute(&xs, &z);
        for (label, offset) in [("at the truth", 0.0f64), ("away from it", 0.3)] {
            let w = w_true.map(|v| (v + offset) as f32);
            let mu: Vec<f32> = mu_true
                .iter()
                .map(|&v| (v + 10.0 * offset) as f32)
                .collect();
            let (ours, clamped) = stats.residual_sums(&columns, &w, &mu);
            assert_eq!(clamped, 0, "{label}");
            for dd in 0..d {
                let direct: f64 = (0..n)
                    .map(|i| {
                        let fit: f64 = (0..m).map(|a| w[(dd, a)] as f64 * z[(i, a)] as f64).sum();
                        (x[(i, dd)] as f64 - mu[dd] as f64 - fit).powi(2)
                    })
                    .sum();
                assert!(ours[dd].is_finite() && direct.is_finite(), "{label} {dd}");
                // The f32 GEMM rounds X~^T Z to about 1e-7 of its terms' size, and the statistics
                // cancel terms of the size of s2 and w^T (Z^T Z) w down to the residual: allow
                // 1e-6 of that size (plus 1e-4 of the residual), far below the Monte Carlo
                // error of a sigma^2 draw (relative sd sqrt(2 / N), 2.6% here).
                let wgw: f64 = (0..n)
                    .map(|i| {
                        let fit: f64 = (0..m).map(|a| w[(dd, a)] as f64 * z[(i, a)] as f64).sum();
                        fit * fit
                    })
                    .sum();
                let size = columns.shifted_sumsq[dd] + wgw;
                let err = (ours[dd] - direct).abs();
                eprintln!(
                    "{label}, column {dd}: error {err:.3e}, residual {direct:.4e}, size {size:.3e}"
                );
                assert!(
                    err <= 1e-6 * size + 1e-4 * direct,
                    "{label}, column {dd}: {} vs direct {direct} (error {err:.3e})",
                    ours[dd]
                );
            }
        }
    }

    /// The blocks cover every image once, in order, with lengths within one of each other, an
    /// even number of them past one, and never more than [`MAX_BLOCKS`].
    #[test]
    fn blocks_cover_every_image_once() {
        for n in [
            1, 255, 511, 512, 513, 2_559, 2_560, 2_561, 10_000, 16_384, 16_385, 60_000, 81_920,
            81_921, 100_003,
        ] {
            let count = block_count(n);
            assert!(count <= MAX_BLOCKS, "{n}");
            assert!(count == 1 || count.is_multiple_of(2), "{n}");
            assert!(count == 1 || n > STATS_BLOCK, "{n}");
            assert!(n <= STATS_BLOCK * MAX_BLOCKS || count == MAX_BLOCKS, "{n}");
            let mut next = 0;
            let (shortest, longest) = (n / count, n.div_ceil(count));
            for b in 0..count {
                let rows = block_rows(b, n);
                assert_eq!(rows.start, next, "{n}, block {b}");
                assert!(
                    (shortest..=longest).contains(&rows.len()) && !rows.is_empty(),
                    "{n}, block {b}: {rows:?}"
                );
                next = rows.end;
            }
            assert_eq!(next, n);
        }
    }

    /// X~^T Z, Z^T Z and sum z from the parallel blocks equal the direct f64 sums (X~^T Z to
    /// within f32 rounding), bit for bit on one and two threads (the blocks are fixed and added
    /// in order; N is not a multiple of the block or pass size, and big enough to run in
    /// parallel).
    #[test]
    fn block_statistics_match_direct_sums_on_any_thread_count() {
        let (n, d, m) = (5000, 8, 8);
        assert!(n * d >= super::super::par::PARALLEL_MIN && !n.is_multiple_of(PASS_ROWS));
        let mut r = SmallRng::seed_from_u64(5);
        let z = DMatrix::<f32>::from_fn(n, m, |_, _| r.sample::<f32, _>(StandardNormal) + 0.3);
        let xs = DMatrix::<f32>::from_fn(n, d, |i, j| (i % 13) as f32 - j as f32);
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| CrossStats::compute(&xs, &z))
        };
        let (one, two) = (run(1), run(2));
        let bits = |s: &CrossStats| -> Vec<u64> {
            s.ztz
                .iter()
                .chain(&s.sumz)
                .chain(s.xtz.iter())
                .map(|v| v.to_bits())
                .collect()
        };
        assert_eq!(bits(&one), bits(&two));
        for a in 0..m {
            let sum: f64 = (0..n).map(|i| z[(i, a)] as f64).sum();
            assert!(one.sumz[a].is_finite());
            assert!((one.sumz[a] - sum).abs() <= 1e-9 * n as f64, "sum z {a}");
            for b in 0..m {
                let terms = (0..n).map(|i| z[(i, a)] as f64 * z[(i, b)] as f64);
                let (direct, size) = terms.fold((0.0, 0.0), |(s, t), v| (s + v, t + v.abs()));
                assert!(one.ztz[(a, b)].is_finite());
                // The diagonal is summed in f64; the rest in f32 within each pass of 256
                // images, then in f64.
                let tolerance = if a == b { 1e-12 * size } else { 1e-5 * size };
                assert!(
                    (one.ztz[(a, b)] - direct).abs() <= tolerance,
                    "Z^T Z {a} {b}: {} vs {direct}",
                    one.ztz[(a, b)]
                );
            }
            for dd in 0..d {
                let terms = (0..n).map(|i| xs[(i, dd)] as f64 * z[(i, a)] as f64);
                let (direct, size) = terms.fold((0.0, 0.0), |(s, t), v| (s + v, t + v.abs()));
                assert!(one.xtz[(dd, a)].is_finite());
                // Each block sums 2560 products in f32: error below 1e-5 of
                // the sum of their magnitudes.
                assert!(
                    (one.xtz[(dd, a)] - direct).abs() <= 1e-5 * size,
                    "X~^T Z {dd} {a}: {} vs {direct}",
                    one.xtz[(dd, a)]
                );
            }
        }
    }
}
