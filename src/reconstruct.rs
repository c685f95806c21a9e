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
    #[error(
        "parameter samples disagree in shape: {expected_d} x {expected_m} vs {got_d} x {got_m}"
    )]
    SampleShapeMismatch {
        expected_d: usize,
        expected_m: usize,
        got_d: usize,
        got_m: usize,
    },
    #[error(
        "the latent precision I + W_o^T S_o^-1 W_o is not positive definite (numerical breakdown)"
    )]
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
    /// S^-1/2 W row-major in f64 (row d is w_d / sigma_d), made once so that each stroke's
    /// computation streams through contiguous rows.
    scaled_rows: Vec<f64>,
    /// 1 / sigma_d.
    inv_sd: Vec<f64>,
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
        let inv_sd: Vec<f64> = sigma2.iter().map(|&s| 1.0 / f64::from(s).sqrt()).collect();
        let m = w.ncols();
        let mut scaled_rows = vec![0.0f64; d * m];
        for (k, column) in w.column_iter().enumerate() {
            for (row, &v) in column.iter().enumerate() {
                scaled_rows[row * m + k] = f64::from(v) * inv_sd[row];
            }
        }
        Ok(FactorParams {
            w,
            mu,
            sigma2,
            scaled_rows,
            inv_sd,
        })
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
    let rows = |d: usize| &params.scaled_rows[d * m..(d + 1) * m];

    // With g_d = w_d / sigma_d and r_d = (x_d - mu_d) / sigma_d over the observed pixels:
    // J = I + sum g_d g_d^T and b = sum r_d g_d. Plain loops on purpose: a GEMM call would go
    // through matrixmultiply's thread pool, which the sampler's own products keep busy.
    let mut j = DMatrix::<f64>::identity(m, m);
    let mut b = DVector::<f64>::zeros(m);
    let mut upper = vec![0.0f64; m * m];
    for d in (0..params.d()).filter(|&d| !missing[d]) {
        let g = rows(d);
        let r = (f64::from(values[d]) - f64::from(params.mu[d])) * params.inv_sd[d];
        for (a, &ga) in g.iter().enumerate() {
            b[a] += r * ga;
            let out = &mut upper[a * m + a..(a + 1) * m];
            for (o, &gb) in out.iter_mut().zip(&g[a..]) {
                *o += ga * gb;
            }
        }
    }
    for a in 0..m {
        for c in a..m {
            let v = upper[a * m + c];
            j[(a, c)] += v;
            if c != a {
                j[(c, a)] += v;
            }
        }
    }
    let chol = j.cholesky().ok_or(ReconstructError::NotPositiveDefinite)?;
    let ez = chol.solve(&b);
    // L column-major (as nalgebra stores it): forward substitution in axpy form walks down
    // contiguous columns, with independent updates the compiler can vectorise.
    let l = chol.l_dirty();
    let l_cols = l.as_slice();
    if (0..m).any(|a| l_cols[a * m + a].is_nan() || l_cols[a * m + a] <= 0.0) {
        return Err(ReconstructError::NotPositiveDefinite);
    }

    // Per hidden pixel: mean w_d^T E[z] + mu_d and variance ||L^-1 w_d||^2 + sigma_d^2, the
    // latter by forward substitution on g_d (= w_d / sigma_d, rescaled after).
    let hidden = (0..params.d()).filter(|&d| missing[d]);
    let count = missing.iter().filter(|&&h| h).count();
    let mut mean = Vec::with_capacity(count);
    let mut var = Vec::with_capacity(count);
    let mut y = vec![0.0f64; m];
    for d in hidden {
        let g = rows(d);
        let sd = 1.0 / params.inv_sd[d];
        let dot: f64 = g.iter().zip(ez.iter()).map(|(a, b)| a * b).sum();
        mean.push(dot * sd + f64::from(params.mu[d]));
        y.copy_from_slice(g);
        let mut norm2 = 0.0;
        for a in 0..m {
            let column = &l_cols[a * m..(a + 1) * m];
            let ya = y[a] / column[a];
            norm2 += ya * ya;
            for (yc, lc) in y[a + 1..].iter_mut().zip(&column[a + 1..]) {
                *yc -= lc * ya;
            }
        }
        var.push(norm2 * sd * sd + f64::from(params.sigma2[d]));
    }
    Ok(Moments { mean, var })
}

/// Puts the missing pixels' moments back into a full image.
fn assemble(values: &[f32], missing: &[bool], mean: &[f64], var: &[f64]) -> Reconstruction {
    let mut out_mean = values.to_vec();
    let mut out_std = vec![0.0f32; values.len()];
    let hidden = missing
        .iter()
        .enumerate()
        .filter(|(_, m)| **m)
        .map(|(d, _)| d);
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

/// Completes every image of a row-major `n` x D data set (as [`conditional_mixture`] does for
/// one image), in parallel, returning N x D means and stds. `progress`, when given, counts
/// finished images so a front end can show how far it got.
pub fn complete_dataset(
    samples: &[&FactorParams],
    x: &[f32],
    missing: &[bool],
    n: usize,
    progress: Option<&std::sync::atomic::AtomicUsize>,
) -> Result<Reconstruction, ReconstructError> {
    use rayon::prelude::*;
    let d = samples.first().ok_or(ReconstructError::NoSamples)?.d();
    let total = n.saturating_mul(d);
    check_len("data", total, x.len())?;
    check_len("masks", total, missing.len())?;
    if d == 0 {
        return Ok(Reconstruction {
            mean: Vec::new(),
            std: Vec::new(),
        });
    }
    let mut mean = vec![0.0f32; total];
    let mut std = vec![0.0f32; total];
    mean.par_chunks_mut(d)
        .zip(std.par_chunks_mut(d))
        .enumerate()
        .try_for_each(|(i, (mean_row, std_row))| {
            let row = i * d..(i + 1) * d;
            let rec = conditional_mixture(samples, &x[row.clone()], &missing[row]).map_err(
                |e| match e {
                    // Say which image, not only which pixel within it.
                    ReconstructError::NotFinite { what, index } => ReconstructError::NotFinite {
                        what,
                        index: i * d + index,
                    },
                    other => other,
                },
            )?;
            mean_row.copy_from_slice(&rec.mean);
            std_row.copy_from_slice(&rec.std);
            if let Some(p) = progress {
                p.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            Ok(())
        })?;
    Ok(Reconstruction { mean, std })
}
