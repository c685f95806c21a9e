//! Small dense helpers: the shared M x M Cholesky factors of the Z and W steps, and faer views
//! of nalgebra's storage for the big products (no copies: both are column-major, and faer's
//! transposes are views).

use super::Fallbacks;
use nalgebra::DMatrix;

/// A symmetric positive definite M x M matrix P factored once per step: P^-1 (for means) and
/// L^-1 with P = L L^T (for noise: a row e^T L^-1 with e ~ N(0, I) has covariance P^-1).
#[derive(Debug)]
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
pub fn view<T: nalgebra::Scalar>(a: &DMatrix<T>) -> faer::MatRef<'_, T> {
    faer::MatRef::from_column_major_slice(a.as_slice(), a.nrows(), a.ncols())
}

/// A B, or A^T B when `transpose_a`, in f64 through faer's kernels: they pick the machine's
/// widest SIMD at run time, where nalgebra's products (matrixmultiply) stop at AVX2. For the
/// D x M by M x M products of the small steps (0.1-0.2 ms each through nalgebra at D = 784,
/// M = 50; 0.09 ms through faer on one core). A tall product is cut into fixed blocks of
/// [`PRODUCT_ROWS`] rows of the result, on rayon's pool: the blocks never depend on the thread
/// count, and each entry is the same dot product over the inner dimension either way.
pub fn product(a: &DMatrix<f64>, transpose_a: bool, b: &DMatrix<f64>) -> DMatrix<f64> {
    blocked_product(lhs_view(a, transpose_a), view(b), true)
}

/// [`product`] on the calling thread: for a product whose operands the caller has just written
/// and whose result it reads next, which on the pool would travel to other cores and back (the
/// same blocks, so the same bits).
pub fn product_here(a: &DMatrix<f64>, transpose_a: bool, b: &DMatrix<f64>) -> DMatrix<f64> {
    blocked_product(lhs_view(a, transpose_a), view(b), false)
}

/// A view of `a`, or of A^T when `transpose_a`.
fn lhs_view(a: &DMatrix<f64>, transpose_a: bool) -> faer::MatRef<'_, f64> {
    if transpose_a {
        view(a).transpose()
    } else {
        view(a)
    }
}

/// lhs rhs in fixed blocks of [`PRODUCT_ROWS`] rows of the result, on rayon's pool when
/// `parallel`.
fn blocked_product(
    lhs: faer::MatRef<'_, f64>,
    rhs: faer::MatRef<'_, f64>,
    parallel: bool,
) -> DMatrix<f64> {
    let (r, c) = (lhs.nrows(), rhs.ncols());
    let mut out = DMatrix::<f64>::zeros(r, c);
    let blocks = row_blocks(view_mut(&mut out), PRODUCT_ROWS);
    let work = if parallel { r * c * lhs.ncols() } else { 0 };
    super::par::map_items(blocks, work, |_, (start, block)| {
        let rows = lhs.subrows(start, block.nrows());
        gemm(block, faer::Accum::Replace, rows, rhs, 1.0);
    });
    out
}

/// `a` cut into consecutive blocks of `size` rows (the last one shorter), each with its first
/// row: disjoint views that parallel tasks can write.
pub fn row_blocks<T>(a: faer::MatMut<'_, T>, size: usize) -> Vec<(usize, faer::MatMut<'_, T>)> {
    let r = a.nrows();
    let mut blocks = Vec::with_capacity(r.div_ceil(size.max(1)));
    let (mut rest, mut start) = (a, 0);
    while start < r {
        let len = size.max(1).min(r - start);
        let (top, bottom) = rest.split_at_row_mut(len);
        blocks.push((start, top));
        rest = bottom;
        start += len;
    }
    blocks
}

/// Rows of the result per block of [`product`].
const PRODUCT_ROWS: usize = 256;

/// dst = (or +=) alpha lhs rhs through faer's kernels on the calling thread, then the upper
/// register halves cleared (see [`clear_upper_vector_state`]): every product of the sampler
/// goes through here, so none can leave the state dirty.
pub fn gemm<T: faer::traits::ComplexField + faer::traits::Conjugate<Canonical = T>>(
    dst: faer::MatMut<'_, T>,
    accum: faer::Accum,
    lhs: faer::MatRef<'_, T>,
    rhs: faer::MatRef<'_, T>,
    alpha: T,
) {
    faer::linalg::matmul::matmul(dst, accum, lhs, rhs, alpha, faer::Par::Seq);
    clear_upper_vector_state();
}

/// Clears the upper halves of the vector registers, called after each of faer's products
/// ([`gemm`]): its AVX-512 kernels can leave them dirty, and the plain (SSE-encoded) code that
/// then runs on the thread pays a penalty on every instruction until something clears them
/// (the log joint's loop over the pixels took 0.4 ms instead of 0.06 ms after a product).
#[inline]
fn clear_upper_vector_state() {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") {
        #[target_feature(enable = "avx")]
        fn zero_upper() {
            std::arch::x86_64::_mm256_zeroupper();
        }
        // SAFETY: the CPU was checked to have AVX.
        unsafe { zero_upper() };
    }
}

/// A mutable faer view of a nalgebra matrix (no copy).
pub fn view_mut<T: nalgebra::Scalar>(a: &mut DMatrix<T>) -> faer::MatMut<'_, T> {
    let (r, c) = a.shape();
    faer::MatMut::from_column_major_slice_mut(a.as_mut_slice(), r, c)
}

/// The dot product of `a` and `b` (equal lengths) in f64, summed in [`sum_of_squares`]'s
/// eight interleaved partial sums and fixed order.
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    let mut acc = [0.0f64; 8];
    let (mut a8, mut b8) = (a.chunks_exact(8), b.chunks_exact(8));
    for (x, y) in a8.by_ref().zip(b8.by_ref()) {
        for ((s, &x), &y) in acc.iter_mut().zip(x).zip(y) {
            *s += x * y;
        }
    }
    let tail: f64 = a8
        .remainder()
        .iter()
        .zip(b8.remainder())
        .map(|(x, y)| x * y)
        .sum();
    ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7])) + tail
}

/// Sum of squares of `values` in f64, in eight interleaved partial sums (so the adds
/// pipeline and vectorise; one running sum waits on each add: 0.8 ms for Z at N = 10,000,
/// M = 50). The order is fixed, so the result does not depend on anything but the values.
pub fn sum_of_squares(values: &[f32]) -> f64 {
    let mut acc = [0.0f64; 8];
    let mut chunks = values.chunks_exact(8);
    for chunk in chunks.by_ref() {
        for (a, &v) in acc.iter_mut().zip(chunk) {
            *a += v as f64 * v as f64;
        }
    }
    let tail: f64 = chunks
        .remainder()
        .iter()
        .map(|&v| v as f64 * v as f64)
        .sum();
    ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7])) + tail
}

#[cfg(test)]
mod tests {
    use super::*;

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

    /// The eight partial sums add up to the plain sum of squares for every length around the
    /// lane count (tails included), and a NaN still comes out as NaN.
    #[test]
    fn sum_of_squares_is_the_sum_of_squares() {
        for len in [0usize, 1, 7, 8, 9, 15, 16, 17, 1000, 1003] {
            let v: Vec<f32> = (0..len).map(|i| ((i as f32) * 0.37).sin() * 50.0).collect();
            let plain: f64 = v.iter().map(|&x| x as f64 * x as f64).sum();
            let got = sum_of_squares(&v);
            assert!(got.is_finite());
            assert!(
                (got - plain).abs() <= 1e-12 * plain.max(1.0),
                "{len}: {got} {plain}"
            );
        }
        assert!(sum_of_squares(&[1.0, f32::NAN, 2.0]).is_nan());
    }

    /// The products of the small steps, cut into blocks of rows on the pool, equal one
    /// sequential GEMM bit for bit and do not depend on the number of threads; with A^T too.
    #[test]
    fn products_by_blocks_of_rows_equal_one_product() {
        let f = |r: usize, c: usize, s: f64| {
            DMatrix::<f64>::from_fn(r, c, |i, j| ((i * 31 + j * 7) as f64 * s).sin())
        };
        let whole = |lhs: faer::MatRef<'_, f64>, b: &DMatrix<f64>| {
            let mut out = DMatrix::<f64>::zeros(lhs.nrows(), b.ncols());
            let (r, c) = out.shape();
            gemm(
                faer::MatMut::from_column_major_slice_mut(out.as_mut_slice(), r, c),
                faer::Accum::Replace,
                lhs,
                view(b),
                1.0,
            );
            out
        };
        let bits = |m: &DMatrix<f64>| m.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        for (rows, inner, cols) in [(784, 50, 50), (1000, 101, 51), (255, 50, 50), (3, 4, 5)] {
            let (a, b) = (f(rows, inner, 0.013), f(inner, cols, 0.029));
            let want = whole(view(&a), &b);
            assert!(want.iter().all(|v| v.is_finite()));
            for threads in [1, 2, 3] {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                let got = pool.install(|| product(&a, false, &b));
                assert_eq!(
                    bits(&got),
                    bits(&want),
                    "{rows} x {inner} x {cols}, {threads}"
                );
                let at = a.transpose();
                let got = pool.install(|| product(&at, true, &b));
                assert_eq!(bits(&got), bits(&want), "A^T, {rows}, {threads}");
            }
        }
    }
}
