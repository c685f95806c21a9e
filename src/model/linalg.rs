//! Small dense helpers: the shared M x M Cholesky factors of the Z and W steps, and big
//! products written into preallocated buffers through nalgebra's GEMM (matrixmultiply).

use nalgebra::DMatrix;

/// A symmetric positive definite M x M matrix P factored once per step: P^-1 (for means) and
/// L^-1 with P = L L^T (for noise: a row e^T L^-1 with e ~ N(0, I) has covariance P^-1).
pub struct SharedFactor {
    pub inverse: DMatrix<f64>,
    pub l_inverse: DMatrix<f64>,
}

impl SharedFactor {
    /// Factors `p` (symmetrised). If rounding makes it not positive definite, a growing
    /// jitter is added to the diagonal; as a last resort the identity is used, so the
    /// sampler never panics.
    pub fn new(mut p: DMatrix<f64>) -> SharedFactor {
        let m = p.nrows();
        let pt = p.transpose();
        p = (&p + &pt) * 0.5;
        let scale = (0..m)
            .map(|i| p[(i, i)].abs())
            .fold(0.0f64, f64::max)
            .max(1.0);
        let mut jitter = 0.0;
        for _ in 0..8 {
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
                        return SharedFactor { inverse, l_inverse };
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
        }
    }
}

/// Converts an f64 matrix to f32.
pub fn to_f32(a: &DMatrix<f64>) -> DMatrix<f32> {
    a.map(|v| v as f32)
}

/// c <- a b (shapes must agree; they do by construction inside the model).
pub fn matmul_into(c: &mut DMatrix<f32>, a: &DMatrix<f32>, b: &DMatrix<f32>) {
    c.gemm(1.0, a, b, 0.0);
}
