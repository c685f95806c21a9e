//! The shared engine of hard-impute and SoftImpute: the column-centred data with its missing
//! entries holding the current low-rank fit, and one step of "fit a truncated SVD, shrink its
//! singular values, write the fit back into the missing entries".
//!
//! The truncated SVD is one step of subspace (block power) iteration per imputation step,
//! warm-started from the previous step's right singular vectors: Y = X V, Q = orth(Y),
//! B = Q^T X (k x D), SVD of the small B in f64, fit = Q C with C = U_B shrink(S) V_B^T.
//! Three GEMMs of N x D x k per step (X V, Q^T X, Q C; Q^T is a small k x N copy, never
//! nalgebra's slow `tr_mul`), plus k x k and k x D work. Because the data change little from
//! one step to the next, one power step per imputation step tracks the leading subspace; a few
//! extra columns (oversampling) keep the top ones accurate. Orthonormalising through the
//! eigenvectors of Y^T Y, twice, drops directions Y does not span instead of failing on them.

use nalgebra::{DMatrix, SymmetricEigen};
use rand::SeedableRng;
use rand::rngs::SmallRng;
use rand_distr::{Distribution, StandardNormal};

use super::column_means::column_means;
use super::{BaselineError, check_problem};
use crate::model::Problem;

/// Extra basis columns beyond the rank kept, for the accuracy of the leading ones.
pub(crate) const OVERSAMPLE: usize = 5;

/// Column-centred data whose missing entries hold the current fit.
pub(crate) struct Filled {
    /// N x D, column-major: observed entries minus their column mean, missing entries at the fit.
    pub x: DMatrix<f32>,
    /// Column-major linear indices (i + j N) of the missing entries.
    pub missing: Vec<usize>,
    /// Observed column means added back by [`Filled::completed`].
    pub means: Vec<f32>,
    /// D x k warm-start basis (right singular vectors of the last step).
    basis: DMatrix<f32>,
    /// N x D scratch for the fit.
    fit: DMatrix<f32>,
    rng: SmallRng,
}

/// What one step found.
pub(crate) struct StepResult {
    /// The singular values of the subspace's fit, descending, before shrinking.
    pub singular: Vec<f64>,
    /// Number of nonzero singular values kept after shrinking.
    pub rank: usize,
    /// ||new fit - old fit|| / ||old fit|| over the missing entries (1 when the old was 0).
    pub change: f64,
}

impl Filled {
    /// Centres the observed data by column means; missing entries start at 0 (the mean).
    pub fn new(problem: &Problem, seed: u64) -> Result<Filled, BaselineError> {
        check_problem(problem)?;
        let means = column_means(problem)?;
        let (n, d) = (problem.n, problem.d);
        let x = DMatrix::<f32>::from_fn(n, d, |i, j| {
            let k = i * d + j;
            if problem.missing[k] {
                0.0
            } else {
                problem.x_observed[k] - means[j]
            }
        });
        // Column-major order, as `x` stores them.
        let missing: Vec<usize> = (0..n * d)
            .filter(|&c| problem.missing[(c % n) * d + c / n])
            .collect();
        Ok(Filled {
            x,
            missing,
            means,
            basis: DMatrix::zeros(d, 0),
            fit: DMatrix::zeros(n, d),
            rng: SmallRng::seed_from_u64(seed),
        })
    }

    /// Observed entries as given and missing ones at fit plus mean, N x D row-major.
    pub fn completed(&self, problem: &Problem) -> Vec<f32> {
        let (n, d) = (problem.n, problem.d);
        let mut out = problem.x_observed.clone();
        for &k in &self.missing {
            let (i, j) = (k % n, k / n);
            out[i * d + j] = self.x[k] + self.means[j];
        }
        out
    }

    /// One imputation step with a basis of `k` columns: SVD of the current X restricted to
    /// the subspace, singular values mapped by `shrink` (same length, descending in, any out),
    /// fit written into the missing entries.
    pub fn step(&mut self, k: usize, shrink: impl Fn(&[f64]) -> Vec<f64>) -> StepResult {
        let (n, d) = self.x.shape();
        let k = k.clamp(1, n.min(d));
        self.resize_basis(k);
        // Y = X V (N x k), then an orthonormal Q spanning it.
        let mut y = DMatrix::<f32>::zeros(n, k);
        y.gemm(1.0, &self.x, &self.basis, 0.0);
        let q = orthonormalise(y);
        let k = q.ncols();
        // B = Q^T X (k x D); Q^T is a small copy.
        let qt = q.transpose();
        let mut b = DMatrix::<f32>::zeros(k, d);
        b.gemm(1.0, &qt, &self.x, 0.0);
        let b64 = b.map(f64::from);
        let Some(svd) = (b64.iter().all(|v| v.is_finite()))
            .then(|| nalgebra::SVD::try_new(b64, true, true, f64::EPSILON, 0))
            .flatten()
        else {
            return StepResult {
                singular: Vec::new(),
                rank: 0,
                change: 0.0,
            };
        };
        let (Some(ub), Some(vt)) = (svd.u.as_ref(), svd.v_t.as_ref()) else {
            unreachable!("both singular vector sets were asked for")
        };
        let singular: Vec<f64> = svd.singular_values.iter().copied().collect();
        let shrunk = shrink(&singular);
        let rank = shrunk.iter().filter(|&&s| s > 0.0).count();
        // C = U_B diag(shrunk) V_B^T (k x D); fit = Q C.
        let mut ubs = ub.clone();
        for (c, &s) in shrunk.iter().enumerate() {
            ubs.column_mut(c).scale_mut(s);
        }
        let c = (ubs * vt).map(|v| v as f32);
        self.fit.gemm(1.0, &q, &c, 0.0);
        let (mut delta, mut old) = (0.0f64, 0.0f64);
        for &m in &self.missing {
            let (new, prev) = (f64::from(self.fit[m]), f64::from(self.x[m]));
            delta += (new - prev).powi(2);
            old += prev * prev;
            self.x[m] = self.fit[m];
        }
        // The next basis: the right singular vectors, leading first.
        self.basis = vt.transpose().map(|v| v as f32);
        StepResult {
            singular,
            rank,
            change: if old > 0.0 { (delta / old).sqrt() } else { 1.0 },
        }
    }

    /// Keeps the leading `k` basis columns, adding random ones if there are fewer.
    fn resize_basis(&mut self, k: usize) {
        let d = self.x.ncols();
        let have = self.basis.ncols();
        if have > k {
            self.basis = self.basis.columns(0, k).into_owned();
        } else if have < k {
            let mut basis = DMatrix::<f32>::zeros(d, k);
            basis.columns_mut(0, have).copy_from(&self.basis);
            for v in basis.columns_mut(have, k - have).iter_mut() {
                *v = StandardNormal.sample(&mut self.rng);
            }
            self.basis = basis;
        }
    }
}

/// Orthonormal columns spanning `y` (N x k), dropping directions whose share of Y^T Y is below
/// 1e-10 of the largest: Y <- Y P diag(lambda^-1/2) from the eigenvectors of Y^T Y, twice
/// (the second pass repairs the rounding of the first). May return fewer columns.
fn orthonormalise(mut y: DMatrix<f32>) -> DMatrix<f32> {
    for _ in 0..2 {
        let yt = y.transpose();
        let k = y.ncols();
        let mut g = DMatrix::<f32>::zeros(k, k);
        g.gemm(1.0, &yt, &y, 0.0);
        let g = g.map(f64::from);
        if !g.iter().all(|v| v.is_finite()) {
            return DMatrix::zeros(y.nrows(), 0);
        }
        let g = (&g + g.transpose()) * 0.5;
        let eig = SymmetricEigen::new(g);
        let top = eig.eigenvalues.iter().copied().fold(0.0f64, f64::max);
        let keep: Vec<usize> = (0..k)
            .filter(|&c| top > 0.0 && eig.eigenvalues[c] > 1e-10 * top)
            .collect();
        let mut t = DMatrix::<f32>::zeros(k, keep.len());
        for (out, &c) in keep.iter().enumerate() {
            let scale = 1.0 / eig.eigenvalues[c].sqrt();
            for r in 0..k {
                t[(r, out)] = (eig.eigenvectors[(r, c)] * scale) as f32;
            }
        }
        let mut next = DMatrix::<f32>::zeros(y.nrows(), keep.len());
        if !keep.is_empty() {
            next.gemm(1.0, &y, &t, 0.0);
        }
        y = next;
    }
    y
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orthonormalise_gives_orthonormal_columns_spanning_the_input() {
        let mut rng = SmallRng::seed_from_u64(3);
        let mut y = DMatrix::<f32>::from_fn(40, 4, |_, _| StandardNormal.sample(&mut rng));
        // A repeated column: only 4 directions, one of them twice.
        let c0 = y.column(0).into_owned();
        y = y.insert_column(4, 0.0);
        y.column_mut(4).copy_from(&(c0 * 2.0));
        let q = orthonormalise(y.clone());
        assert_eq!(q.ncols(), 4);
        let qtq = q.transpose() * &q;
        assert!((qtq - DMatrix::identity(4, 4)).abs().max() < 1e-4);
        // Y lies in the span of Q: Y - Q Q^T Y = 0.
        let resid = &y - &q * (q.transpose() * &y);
        assert!(
            resid.abs().max() < 1e-3 * y.abs().max(),
            "{}",
            resid.abs().max()
        );
    }
}
