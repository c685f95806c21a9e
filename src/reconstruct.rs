//! Conditional reconstruction of one image's missing pixels from its observed ones under the
//! factor model, for interactive use (a painted mask is re-filled at every brush stroke).
//!
//! Under x ~ N(mu, W W^T + S) the missing block given the observed block is Gaussian. Going
//! through the latent keeps the work at M x M: with J = I + W_o^T S_o^-1 W_o = L L^T,
//! E[z | x_o] = J^-1 W_o^T S_o^-1 (x_o - mu_o) and
//! x_m | x_o ~ N(W_m E[z | x_o] + mu_m, W_m J^-1 W_m^T + S_m). Only the diagonal of that
//! covariance is needed (a per-pixel std), which is ||L^-1 w_d||^2 + s_d. No D x D matrix is
//! ever formed. Work is done in f64; inputs and outputs are f32 like the rest of the crate.

use nalgebra::{DMatrix, DVector};

/// Why a reconstruction could not be computed.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ReconstructError {
    #[error("{what} has {got} values, expected {expected}")]
    ShapeMismatch {
        what: &'static str,
        expected: usize,
        got: usize,
    },
    #[error("{what} is not finite at index {index}")]
    NotFinite { what: &'static str, index: usize },
    #[error("noise variance sigma^2 must be positive, got {value} at pixel {index}")]
    NonPositiveVariance { index: usize, value: f32 },
    #[error("no parameter samples to average over")]
    NoSamples,
    #[error("parameter samples disagree in shape: {expected_d} x {expected_m} vs {got_d} x {got_m}")]
    SampleShapeMismatch {
        expected_d: usize,
        expected_m: usize,
        got_d: usize,
        got_m: usize,
    },
    #[error("the latent precision I + W_o^T S_o^-1 W_o is not positive definite (numerical breakdown)")]
    NotPositiveDefinite,
}

/// One set of factor-model parameters (one posterior sample or a posterior mean), checked once
/// so that the per-stroke computation need not re-validate: W is D x M, mu and sigma^2 have D
/// finite entries and every sigma^2 is positive.
#[derive(Clone, Debug, PartialEq)]
pub struct FactorParams {
    w: DMatrix<f32>,
    mu: Vec<f32>,
    sigma2: Vec<f32>,
}

impl FactorParams {
    /// Checks shapes and values; W has one row per pixel and one column per factor.
    pub fn new(
        w: DMatrix<f32>,
        mu: Vec<f32>,
        sigma2: Vec<f32>,
    ) -> Result<FactorParams, ReconstructError> {
        let d = w.nrows();
        check_len("mu", d, mu.len())?;
        check_len("sigma^2", d, sigma2.len())?;
        // nalgebra stores column-major, so this index is (row + col * D); report the row.
        if let Some(k) = w.iter().position(|v| !v.is_finite()) {
            return Err(ReconstructError::NotFinite {
                what: "W",
                index: k % d.max(1),
            });
        }
        check_finite("mu", &mu)?;
        check_finite("sigma^2", &sigma2)?;
        if let Some((index, &value)) = sigma2.iter().enumerate().find(|(_, s)| **s <= 0.0) {
            return Err(ReconstructError::NonPositiveVariance { index, value });
        }
        Ok(FactorParams { w, mu, sigma2 })
    }

    /// Pixels per image (D).
    pub fn d(&self) -> usize {
        self.w.nrows()
    }

    /// Number of factors (M).
    pub fn m(&self) -> usize {
        self.w.ncols()
    }

    /// The loadings, D x M.
    pub fn w(&self) -> &DMatrix<f32> {
        &self.w
    }

    /// The pixel means.
    pub fn mu(&self) -> &[f32] {
        &self.mu
    }

    /// The per-pixel noise variances.
    pub fn sigma2(&self) -> &[f32] {
        &self.sigma2
    }
}

/// A completed image: observed pixels keep their values (std 0), missing pixels hold the
/// conditional mean and their conditional standard deviation.
#[derive(Clone, Debug, PartialEq)]
pub struct Reconstruction {
    /// D values, row-major like the image.
    pub mean: Vec<f32>,
    /// D standard deviations; 0 at observed pixels.
    pub std: Vec<f32>,
}

/// The Gaussian conditional of the missing pixels of one image (`missing[d]` true) given its
/// observed pixels, under one parameter set. Values at missing pixels are ignored (they may
/// be anything, NaN included); an observed NaN is an error. A wholly masked image gives the
/// prior predictive N(mu, diag(W W^T + S)); an image with nothing masked comes back as is.
pub fn conditional(
    params: &FactorParams,
    values: &[f32],
    missing: &[bool],
) -> Result<Reconstruction, ReconstructError> {
    check_image(params.d(), values, missing)?;
    let moments = conditional_moments(params, values, missing)?;
    Ok(assemble(values, missing, &moments.mean, &moments.var))
}

/// The conditional averaged over several parameter samples (a mixture of Gaussians): the mean
/// is the mean of the means and the variance is mean(var + mean^2) - mean^2, so the spread
/// between samples adds to the uncertainty.
pub fn conditional_mixture(
    samples: &[&FactorParams],
    values: &[f32],
    missing: &[bool],
) -> Result<Reconstruction, ReconstructError> {
    let first = samples.first().ok_or(ReconstructError::NoSamples)?;
    for s in samples {
        if s.d() != first.d() || s.m() != first.m() {
            return Err(ReconstructError::SampleShapeMismatch {
                expected_d: first.d(),
                expected_m: first.m(),
                got_d: s.d(),
                got_m: s.m(),
            });
        }
    }
    check_image(first.d(), values, missing)?;
    let n_missing = missing.iter().filter(|&&m| m).count();
    let mut sum_mean = vec![0.0f64; n_missing];
    let mut sum_second = vec![0.0f64; n_missing];
    for s in samples {
        let moments = conditional_moments(s, values, missing)?;
        for k in 0..n_missing {
            let (m, v) = (moments.mean[k], moments.var[k]);
            sum_mean[k] += m;
            sum_second[k] += v + m * m;
        }
    }
    let count = samples.len() as f64;
    let mean: Vec<f64> = sum_mean.iter().map(|s| s / count).collect();
    let var: Vec<f64> = sum_second
        .iter()
        .zip(&mean)
        .map(|(s, m)| (s / count - m * m).max(0.0))
        .collect();
    Ok(assemble(values, missing, &mean, &var))
}

/// Conditional means and variances of the missing pixels, in pixel order.
struct Moments {
    mean: Vec<f64>,
    var: Vec<f64>,
}

fn conditional_moments(
    params: &FactorParams,
    values: &[f32],
    missing: &[bool],
) -> Result<Moments, ReconstructError> {
    let m = params.m();
    let observed: Vec<usize> = (0..params.d()).filter(|&d| !missing[d]).collect();
    let hidden: Vec<usize> = (0..params.d()).filter(|&d| missing[d]).collect();
    let w = &params.w;

    // G = S_o^-1/2 W_o and r = S_o^-1/2 (x_o - mu_o), so J = I + G^T G and b = G^T r.
    let mut g = DMatrix::<f64>::zeros(observed.len(), m);
    let mut r = DVector::<f64>::zeros(observed.len());
    for (row, &d) in observed.iter().enumerate() {
        let inv_sd = 1.0 / f64::from(params.sigma2[d]).sqrt();
        for k in 0..m {
            g[(row, k)] = f64::from(w[(d, k)]) * inv_sd;
        }
        r[row] = (f64::from(values[d]) - f64::from(params.mu[d])) * inv_sd;
    }
    let gt = g.transpose();
    let mut j = &gt * &g;
    for k in 0..m {
        j[(k, k)] += 1.0;
    }
    let chol = j.cholesky().ok_or(ReconstructError::NotPositiveDefinite)?;
    let ez = chol.solve(&(&gt * &r));

    // W_m^T, M x |missing|; L^-1 W_m^T gives each pixel's w_d^T J^-1 w_d as a column norm.
    let mut wmt = DMatrix::<f64>::zeros(m, hidden.len());
    for (col, &d) in hidden.iter().enumerate() {
        for k in 0..m {
            wmt[(k, col)] = f64::from(w[(d, k)]);
        }
    }
    let mean: Vec<f64> = hidden
        .iter()
        .enumerate()
        .map(|(col, &d)| wmt.column(col).dot(&ez) + f64::from(params.mu[d]))
        .collect();
    if !chol.l_dirty().solve_lower_triangular_mut(&mut wmt) {
        return Err(ReconstructError::NotPositiveDefinite);
    }
    let var: Vec<f64> = hidden
        .iter()
        .enumerate()
        .map(|(col, &d)| wmt.column(col).norm_squared() + f64::from(params.sigma2[d]))
        .collect();
    Ok(Moments { mean, var })
}

/// Puts the missing pixels' moments back into a full image.
fn assemble(values: &[f32], missing: &[bool], mean: &[f64], var: &[f64]) -> Reconstruction {
    let mut out_mean = values.to_vec();
    let mut out_std = vec![0.0f32; values.len()];
    let hidden = missing.iter().enumerate().filter(|(_, m)| **m).map(|(d, _)| d);
    for (k, d) in hidden.enumerate() {
        out_mean[d] = mean[k] as f32;
        out_std[d] = var[k].max(0.0).sqrt() as f32;
    }
    Reconstruction {
        mean: out_mean,
        std: out_std,
    }
}

fn check_image(d: usize, values: &[f32], missing: &[bool]) -> Result<(), ReconstructError> {
    check_len("image", d, values.len())?;
    check_len("mask", d, missing.len())?;
    match values
        .iter()
        .zip(missing)
        .position(|(v, &m)| !m && !v.is_finite())
    {
        Some(index) => Err(ReconstructError::NotFinite {
            what: "observed pixel",
            index,
        }),
        None => Ok(()),
    }
}

fn check_len(what: &'static str, expected: usize, got: usize) -> Result<(), ReconstructError> {
    if expected == got {
        Ok(())
    } else {
        Err(ReconstructError::ShapeMismatch {
            what,
            expected,
            got,
        })
    }
}

fn check_finite(what: &'static str, v: &[f32]) -> Result<(), ReconstructError> {
    match v.iter().position(|x| !x.is_finite()) {
        Some(index) => Err(ReconstructError::NotFinite { what, index }),
        None => Ok(()),
    }
}
