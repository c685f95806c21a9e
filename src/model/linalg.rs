//! Small dense helpers: the shared M x M Cholesky factors of the Z and W steps, and the big
//! products of a sweep through faer's GEMM on nalgebra's storage (no copies: both are
//! column-major, and faer's transposes are views).

use super::Fallbacks;
use nalgebra::DMatrix;

/// A symmetric positive definite M x M matrix P factored once per step: P^-1 (for means) and
/// L^-1 with P = L L^T (for noise: a row e^T L^-1 with e ~ N(0, I) has covariance P^-1).
pub struct SharedFactor {
    pub inverse: DMatrix<f64>,
    pub l_inverse: DMatrix<f64>,
    /// How the factorisation went (reported as a fallback unless exact).
    pub outcome: FactorOutcome,
}

/// Whether a [`SharedFactor`] needed help.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FactorOutcome {
    /// Factored as given.
    Exact,
    /// Factored after adding this jitter to the diagonal (rounding had made P indefinite).
    Jitter(f64),
    /// Not factorable even with the largest jitter (non-finite entries): identity used.
    Identity,
}

impl SharedFactor {
    /// Factors `p` (symmetrised). The precisions factored here are SPD in exact arithmetic;
    /// if rounding makes one not positive definite, a growing jitter (from 1e-12 to 1e4 times
    /// the largest diagonal entry) is added to the diagonal and reported in `outcome`. Only a
    /// matrix with non-finite entries ends with the identity, so the sampler never panics.
    pub fn new(mut p: DMatrix<f64>) -> SharedFactor {
        let m = p.nrows();
        let pt = p.transpose();
        p = (&p + &pt) * 0.5;
        let scale = (0..m)
            .map(|i| p[(i, i)].abs())
            .fold(0.0f64, f64::max)
            .max(1.0);
        let mut jitter = 0.0;
        for _ in 0..10 {
            let mut q = p.clone();
            for i in 0..m {
                q[(i, i)] += jitter;
            }
            if q.iter().all(|v| v.is_finite())
                && let Some(ch) = nalgebra::Cholesky::new(q)
            {
                let l = ch.l();
                let identity = DMatrix::<f64>::identity(m, m);
                if let Some(l_inverse) = l.solve_lower_triangular(&identity) {
                    let inverse = l_inverse.transpose() * &l_inverse;
                    if inverse.iter().all(|v| v.is_finite()) {
                        let outcome = if jitter == 0.0 {
                            FactorOutcome::Exact
                        } else {
                            FactorOutcome::Jitter(jitter)
                        };
                        return SharedFactor {
                            inverse,
                            l_inverse,
                            outcome,
                        };
                    }
                }
            }
            jitter = if jitter == 0.0 {
                scale * 1e-12
            } else {
                jitter * 100.0
            };
        }
        SharedFactor {
            inverse: DMatrix::identity(m, m),
            l_inverse: DMatrix::identity(m, m),
            outcome: FactorOutcome::Identity,
        }
    }

    /// Counts this factorisation's fallback, if any, into `fallbacks`.
    pub fn record(&self, fallbacks: &mut Fallbacks) {
        match self.outcome {
            FactorOutcome::Exact => {}
            FactorOutcome::Jitter(_) => fallbacks.cholesky_jitter += 1,
            FactorOutcome::Identity => fallbacks.cholesky_identity += 1,
        }
    }
}

/// Converts an f64 matrix to f32.
pub fn to_f32(a: &DMatrix<f64>) -> DMatrix<f32> {
    a.map(|v| v as f32)
}

/// A faer view of a nalgebra matrix (same column-major storage, no copy).
pub fn view(a: &DMatrix<f32>) -> faer::MatRef<'_, f32> {
    faer::MatRef::from_column_major_slice(a.as_slice(), a.nrows(), a.ncols())
}

/// A mutable faer view of a nalgebra matrix (no copy).
pub fn view_mut(a: &mut DMatrix<f32>) -> faer::MatMut<'_, f32> {
    let (r, c) = a.shape();
    faer::MatMut::from_column_major_slice_mut(a.as_mut_slice(), r, c)
}

/// Output blocks of at most this many rows are the units of parallel work (tall outputs).
const ROW_BLOCK: usize = 256;

/// Output blocks of at most this many columns are the units of parallel work (wide outputs:
/// Z^T X has 784 columns, 13 blocks balance better on 2 threads than 4 of 256).
const COL_BLOCK: usize = 64;

/// Products with fewer multiply-adds than this run as one single-threaded GEMM.
const PARALLEL_MIN_FLOPS: usize = 1 << 22;

/// dst <- lhs rhs (`accumulate`: dst <- dst + lhs rhs) through faer's f32 GEMM, which picks
/// the machine's widest SIMD kernels at run time. Shapes must agree (they do by construction).
///
/// Big products are split into fixed blocks of [`ROW_BLOCK`] rows of dst ([`COL_BLOCK`]
/// columns, when dst is wider than tall), each a single-threaded faer GEMM, run on rayon's current pool. Each
/// output entry is then the same sum in the same order whatever the number of threads, and
/// the pool's work stealing copes with cores shared with other processes, where faer's own
/// parallel kernels (`Par::rayon`) slowed down several-fold on the 2-core machines. A chain
/// run inside a one-thread pool gets single-threaded kernels.
pub fn gemm(
    dst: faer::MatMut<'_, f32>,
    accumulate: bool,
    lhs: faer::MatRef<'_, f32>,
    rhs: faer::MatRef<'_, f32>,
) {
    use rayon::prelude::*;
    let accum = if accumulate {
        faer::Accum::Add
    } else {
        faer::Accum::Replace
    };
    let one = |dst: faer::MatMut<'_, f32>, lhs: faer::MatRef<'_, f32>, rhs| {
        faer::linalg::matmul::matmul(dst, accum, lhs, rhs, 1.0f32, faer::Par::Seq);
    };
    let (rows, cols) = (dst.nrows(), dst.ncols());
    if rows * cols * lhs.ncols() < PARALLEL_MIN_FLOPS {
        one(dst, lhs, rhs);
    } else if rows >= cols {
        let mut blocks = Vec::with_capacity(rows.div_ceil(ROW_BLOCK));
        let (mut rest, mut start) = (dst, 0);
        while rest.nrows() > ROW_BLOCK {
            let (top, bottom) = rest.split_at_row_mut(ROW_BLOCK);
            blocks.push((start, top));
            (rest, start) = (bottom, start + ROW_BLOCK);
        }
        blocks.push((start, rest));
        blocks.into_par_iter().for_each(|(start, block)| {
            let lhs = lhs.subrows(start, block.nrows());
            one(block, lhs, rhs)
        });
    } else {
        let mut blocks = Vec::with_capacity(cols.div_ceil(COL_BLOCK));
        let (mut rest, mut start) = (dst, 0);
        while rest.ncols() > COL_BLOCK {
            let (left, right) = rest.split_at_col_mut(COL_BLOCK);
            blocks.push((start, left));
            (rest, start) = (right, start + COL_BLOCK);
        }
        blocks.push((start, rest));
        blocks.into_par_iter().for_each(|(start, block)| {
            let rhs = rhs.subcols(start, block.ncols());
            one(block, lhs, rhs)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool")
            .install(f)
    }

    /// gemm against an f64 triple loop, and bitwise the same on 1, 2 and 3 threads, for
    /// shapes that take both blocked paths (tall and wide outputs), with and without
    /// accumulation, through transposed views.
    #[test]
    fn gemm_matches_dense_algebra_and_ignores_the_thread_count() {
        let value = |i: usize, j: usize, s: usize| ((i * 31 + j * 17 + s) % 23) as f32 * 0.25 - 2.5;
        // (rows of dst, cols of dst, inner): tall, wide, and small (one sequential call).
        for (r, c, k) in [(1100, 40, 300), (30, 700, 900), (7, 5, 3)] {
            let a = DMatrix::<f32>::from_fn(r, k, |i, j| value(i, j, 1));
            let bt = DMatrix::<f32>::from_fn(c, k, |i, j| value(i, j, 2));
            let start = DMatrix::<f32>::from_fn(r, c, |i, j| value(i, j, 3));
            let run = |threads: usize, accumulate: bool| {
                in_pool(threads, || {
                    let mut dst = start.clone();
                    gemm(
                        view_mut(&mut dst),
                        accumulate,
                        view(&a),
                        view(&bt).transpose(),
                    );
                    dst
                })
            };
            for accumulate in [false, true] {
                let one = run(1, accumulate);
                let mut worst = 0.0f64;
                for i in 0..r {
                    for j in 0..c {
                        let mut exact: f64 =
                            (0..k).map(|l| a[(i, l)] as f64 * bt[(j, l)] as f64).sum();
                        if accumulate {
                            exact += start[(i, j)] as f64;
                        }
                        worst = worst.max((one[(i, j)] as f64 - exact).abs() / (1.0 + exact.abs()));
                    }
                }
                assert!(worst < 1e-5, "{r}x{c}x{k}: relative error {worst}");
                for threads in [2, 3] {
                    let other = run(threads, accumulate);
                    let same = one
                        .iter()
                        .zip(other.iter())
                        .all(|(x, y)| x.to_bits() == y.to_bits());
                    assert!(same, "{r}x{c}x{k}, {threads} threads: bits differ");
                }
            }
        }
    }

    #[test]
    fn spd_in_exact_arithmetic_gets_reported_jitter_not_the_identity() {
        // v v^T + 1e-20 I is SPD, but 1e-20 vanishes next to 1 in f64: the stored matrix is the
        // singular all-ones matrix, whose Cholesky fails without jitter.
        let m = 4;
        let p = DMatrix::<f64>::from_fn(m, m, |i, j| 1.0 + if i == j { 1e-20 } else { 0.0 });
        let f = SharedFactor::new(p.clone());
        let FactorOutcome::Jitter(jitter) = f.outcome else {
            panic!("expected jitter, got {:?}", f.outcome);
        };
        assert!(jitter > 0.0 && jitter < 1e-6, "jitter {jitter}");
        // The factor is of P + jitter I: L^-T L^-1 is its inverse.
        let mut q = p;
        for i in 0..m {
            q[(i, i)] += jitter;
        }
        let should_be_identity = &q * &f.inverse;
        let err = (should_be_identity - DMatrix::<f64>::identity(m, m))
            .abs()
            .max();
        assert!(
            err < 1e-2,
            "inverse error {err} (condition number ~ 4 / jitter)"
        );
        let mut fallbacks = Fallbacks::default();
        f.record(&mut fallbacks);
        assert_eq!(fallbacks.cholesky_jitter, 1);
        assert_eq!(fallbacks.total(), 1);
    }

    #[test]
    fn well_conditioned_matrices_are_exact_and_nan_ends_in_the_identity() {
        let p = DMatrix::<f64>::from_fn(3, 3, |i, j| if i == j { 2.0 } else { 0.5 });
        assert_eq!(SharedFactor::new(p).outcome, FactorOutcome::Exact);
        let mut bad = DMatrix::<f64>::identity(3, 3);
        bad[(1, 1)] = f64::NAN;
        let f = SharedFactor::new(bad);
        assert_eq!(f.outcome, FactorOutcome::Identity);
        let mut fallbacks = Fallbacks::default();
        f.record(&mut fallbacks);
        assert_eq!(fallbacks.cholesky_identity, 1);
        assert!(
            fallbacks
                .describe()
                .contains("1 Cholesky replaced by the identity")
        );
    }
}
