//! PCA of a data matrix (SPEC section 3): column-centred, through the D x D scatter matrix
//! and a symmetric eigen-decomposition, which is cheap when D (784) is far below N.

use nalgebra::{DMatrix, SymmetricEigen};

/// Largest number of columns accepted: the scatter matrix is D x D in f64 (134 MB at 4096).
pub const MAX_PCA_COLUMNS: usize = 4096;

/// Why PCA could not run.
#[derive(Debug, thiserror::Error)]
pub enum PcaError {
    #[error("PCA needs at least 2 rows and 1 column (got {n} x {d})")]
    TooSmall { n: usize, d: usize },
    #[error("PCA supports at most {MAX_PCA_COLUMNS} columns (got {0})")]
    TooManyColumns(usize),
    #[error("expected {expected} values for the data matrix, got {got}")]
    LengthMismatch { expected: usize, got: usize },
    #[error("the data matrix has a non-finite value at row {row}, column {col}")]
    NonFinite { row: usize, col: usize },
    /// Cannot happen for f32 input (the scatter is summed in f64); kept so a NaN never
    /// reaches the eigen-solver.
    #[error("the data's values are too large: their scatter matrix overflows")]
    Overflow,
    #[error("the eigen-decomposition of the scatter matrix did not converge")]
    NoConvergence,
}

/// Principal components of a data matrix, sorted by variance, largest first.
#[derive(Clone, Debug, PartialEq)]
pub struct Pca {
    /// Column means that were subtracted (length D).
    pub mean: Vec<f32>,
    /// D unit-length components of length D. Each one's sign is fixed so that its entry of
    /// largest magnitude is positive (the first such entry on ties), so runs agree.
    pub components: Vec<Vec<f32>>,
    /// Variance along each component (eigenvalue of the scatter matrix / (N - 1)).
    pub variances: Vec<f64>,
    /// Fraction of the total variance each component explains (s_k^2 / sum s^2).
    pub explained_fraction: Vec<f64>,
    /// Running sum of `explained_fraction`.
    pub cumulative: Vec<f64>,
}

impl Pca {
    /// PCA of the row-major `n` x `d` matrix `x`.
    pub fn fit(x: &[f32], n: usize, d: usize) -> Result<Pca, PcaError> {
        if n < 2 || d == 0 {
            return Err(PcaError::TooSmall { n, d });
        }
        if d > MAX_PCA_COLUMNS {
            return Err(PcaError::TooManyColumns(d));
        }
        let expected = n.saturating_mul(d);
        if x.len() != expected {
            return Err(PcaError::LengthMismatch {
                expected,
                got: x.len(),
            });
        }
        if let Some(pos) = x.iter().position(|v| !v.is_finite()) {
            return Err(PcaError::NonFinite {
                row: pos / d,
                col: pos % d,
            });
        }

        let mut mean = vec![0.0f64; d];
        for row in x.chunks_exact(d) {
            for (m, &v) in mean.iter_mut().zip(row) {
                *m += f64::from(v);
            }
        }
        mean.iter_mut().for_each(|m| *m /= n as f64);

        // Centred data, then its scatter by GEMM on an explicit transpose (nalgebra's
        // `tr_mul` does not use the fast kernel).
        let xc = DMatrix::<f64>::from_fn(n, d, |i, j| f64::from(x[i * d + j]) - mean[j]);
        let mut scatter = xc.transpose() * &xc;
        drop(xc);
        scatter = (&scatter + scatter.transpose()) * 0.5;

        if scatter.iter().any(|v| !v.is_finite()) {
            return Err(PcaError::Overflow);
        }
        // A bound on the QR iterations (a few per eigenvalue are typical) so no input can hang.
        let eigen = SymmetricEigen::try_new(scatter, f64::EPSILON, 1000 * d)
            .ok_or(PcaError::NoConvergence)?;
        let mut order: Vec<usize> = (0..d).collect();
        order.sort_by(|&a, &b| eigen.eigenvalues[b].total_cmp(&eigen.eigenvalues[a]));

        let eigenvalues: Vec<f64> = order
            .iter()
            .map(|&k| eigen.eigenvalues[k].max(0.0))
            .collect();
        let total: f64 = eigenvalues.iter().sum();
        let explained_fraction: Vec<f64> = eigenvalues
            .iter()
            .map(|&l| if total > 0.0 { l / total } else { 0.0 })
            .collect();
        let cumulative = explained_fraction
            .iter()
            .scan(0.0, |acc, &f| {
                *acc += f;
                Some(*acc)
            })
            .collect();
        let components = order
            .iter()
            .map(|&k| signed_component(eigen.eigenvectors.column(k).iter().copied()))
            .collect();
        let variances = eigenvalues.iter().map(|&l| l / (n - 1) as f64).collect();
        Ok(Pca {
            mean: mean.iter().map(|&m| m as f32).collect(),
            components,
            variances,
            explained_fraction,
            cumulative,
        })
    }

    /// Number of components D.
    pub fn len(&self) -> usize {
        self.components.len()
    }

    /// True when there are no components (never the case for a fitted PCA).
    pub fn is_empty(&self) -> bool {
        self.components.is_empty()
    }

    /// Component `k` (0 = largest variance), if there is one.
    pub fn component(&self, k: usize) -> Option<&[f32]> {
        self.components.get(k).map(Vec::as_slice)
    }

    /// The fewest components whose cumulative explained fraction reaches `fraction`
    /// (clamped to [0, 1]; NaN counts as 1). Data with no variance needs 0 components.
    pub fn components_for(&self, fraction: f64) -> usize {
        let target = if fraction.is_nan() {
            1.0
        } else {
            fraction.clamp(0.0, 1.0)
        };
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        if target <= 0.0 || total <= 0.0 {
            return 0;
        }
        // Rounding can leave the last cumulative value a hair below 1.
        let target = target.min(total) - 1e-12;
        self.cumulative
            .iter()
            .position(|&c| c >= target)
            .map_or(self.cumulative.len(), |k| k + 1)
    }
}

/// A component as f32 with its largest-magnitude entry made positive.
fn signed_component(values: impl Iterator<Item = f64>) -> Vec<f32> {
    let v: Vec<f64> = values.collect();
    let mut pivot = 0.0f64;
    for &x in &v {
        if x.abs() > pivot.abs() {
            pivot = x;
        }
    }
    let sign = if pivot < 0.0 { -1.0 } else { 1.0 };
    v.iter().map(|&x| (sign * x) as f32).collect()
}
