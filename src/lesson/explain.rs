//! The numbers behind one draw, for one chosen digit n and pixel d, so that a student can
//! check the draw by hand.
//!
//! Every function reads the state *before* the step (the values the conditional conditions
//! on) and the state *after* it (the drawn values). Means, covariances and the sigma_d^2
//! posterior are computed as the conditionals of [`crate::model::conditionals`] compute them
//! (the sigma_d^2 and mu_d numbers with the same floating-point operations, so the reported
//! posterior is the one the draw came from); the Gaussian means and covariances of z_n and
//! w_d are formed densely in f64 for this one row.

use nalgebra::{DMatrix, DVector};

use super::LessonError;
use super::ellipse::Ellipse;
use super::step::Conditional;
use crate::model::conditionals::blocked_scale_sums;
use crate::model::{ModelState, SamplerSettings};

/// The digit, pixel and pair of factors a lesson watches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Focus {
    /// Image n.
    pub digit: usize,
    /// Pixel d.
    pub pixel: usize,
    /// The two factors of z_n whose ellipse is drawn (ignored when M = 1).
    pub factors: (usize, usize),
}

impl Default for Focus {
    fn default() -> Self {
        Focus {
            digit: 0,
            pixel: 0,
            factors: (0, 1),
        }
    }
}

/// z_n | W, mu, sigma^2, x_n ~ N(mean, covariance), with J = I + W^T S^-1 W,
/// covariance = J^-1 and mean = J^-1 W^T S^-1 (x_n - mu).
#[derive(Clone, Debug, PartialEq)]
pub struct LatentDraw {
    pub digit: usize,
    pub mean: Vec<f64>,
    /// M x M.
    pub covariance: DMatrix<f64>,
    /// The ellipse of the focus's two factors (None when M = 1).
    pub ellipse: Option<Ellipse>,
    /// z_n before and after the draw.
    pub before: Vec<f32>,
    pub after: Vec<f32>,
}

/// w_d | Z, mu, sigma^2, X ~ N(mean, covariance), with B = Z^T Z + Sigma_c^-1,
/// mean = B^-1 Z^T (x_d - mu_d) and covariance = sigma_d^2 B^-1.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadingDraw {
    pub pixel: usize,
    /// The diagonal of Sigma_c^-1 (kappa0 under the isotropic prior).
    pub prior_precision: Vec<f64>,
    /// The sigma_d^2 the draw conditions on.
    pub sigmasq: f64,
    pub mean: Vec<f64>,
    /// M x M.
    pub covariance: DMatrix<f64>,
    /// w_d before and after the draw.
    pub before: Vec<f32>,
    pub after: Vec<f32>,
}

/// mu_d | W, Z, sigma^2, X ~ N(mean, variance) with precision N + lambda0:
/// mean = sum_n (x_nd - w_d^T z_n) / (N + lambda0), variance = sigma_d^2 / (N + lambda0).
#[derive(Clone, Debug, PartialEq)]
pub struct MeanDraw {
    pub pixel: usize,
    pub n: usize,
    pub lambda0: f64,
    /// sum_n (x_nd - w_d^T z_n).
    pub residual_sum: f64,
    /// N + lambda0.
    pub precision: f64,
    pub sigmasq: f64,
    pub mean: f64,
    pub variance: f64,
    pub before: f32,
    pub after: f32,
}

impl MeanDraw {
    /// The standard normal the draw used: (after - mean) / sd (up to the f32 rounding of
    /// the stored value).
    pub fn standardised(&self) -> f64 {
        (self.after as f64 - self.mean) / self.variance.sqrt()
    }
}

/// sigma_d^2 ~ Scaled-Inv-chi^2(nu_N, s_d^2), i.e. 1 / sigma_d^2 ~ Gamma(shape nu_N / 2,
/// rate nu_N s_d^2 / 2), with nu_N s_d^2 = nu0 sigma0^2 + residual sum + penalties.
///
/// Notebook step: nu_N = nu0 + N + M + 1, residual sum = sum_n (x_nd - w_d^T z_n - mu_d)^2,
/// w penalty = w_d^T Sigma_c^-1 w_d, mu penalty = lambda0 mu_d^2 (the current w_d, mu_d).
/// Blocked step: nu_N = nu0 + N, and the residual and penalties are taken at the conditional
/// mean m_d of (w_d, mu_d) (so nu_N s_d^2 = nu0 sigma0^2 + x_d^T x_d - m_d^T LN m_d).
#[derive(Clone, Debug, PartialEq)]
pub struct NoiseDraw {
    pub pixel: usize,
    pub nu0: f64,
    pub sigmasq0: f64,
    /// nu0 sigma0^2.
    pub prior_term: f64,
    pub residual_ss: f64,
    pub w_penalty: f64,
    pub mu_penalty: f64,
    /// nu_N.
    pub nu_n: f64,
    /// nu_N s_d^2, the sum of the terms above.
    pub scale_sum: f64,
    /// s_d^2 = scale_sum / nu_N.
    pub scale: f64,
    pub before: f32,
    /// The drawn value.
    pub after: f32,
}

impl NoiseDraw {
    /// Shape nu_N / 2 of the Gamma of 1 / sigma_d^2.
    pub fn gamma_shape(&self) -> f64 {
        self.nu_n / 2.0
    }

    /// Rate nu_N s_d^2 / 2 of the Gamma of 1 / sigma_d^2 (as the draw forms it).
    pub fn gamma_rate(&self) -> f64 {
        self.scale_sum.max(f64::MIN_POSITIVE) / 2.0
    }

    /// Posterior mean of sigma_d^2, nu_N s_d^2 / (nu_N - 2) (None when nu_N <= 2).
    pub fn posterior_mean(&self) -> Option<f64> {
        (self.nu_n > 2.0).then(|| self.scale_sum / (self.nu_n - 2.0))
    }
}

/// The blocked step at pixel d: sigma_d^2 as in [`NoiseDraw`], then
/// (w_d, mu_d) ~ N(m_d, sigma_d^2 LN^-1) with the sigma_d^2 just drawn.
#[derive(Clone, Debug, PartialEq)]
pub struct BlockedDraw {
    pub noise: NoiseDraw,
    /// m_d = LN^-1 Zh^T x_d: the first M entries for w_d, the last for mu_d.
    pub mean: Vec<f64>,
    /// (M+1) x (M+1): sigma_d^2 (drawn) times LN^-1.
    pub covariance: DMatrix<f64>,
    pub w_before: Vec<f32>,
    pub w_after: Vec<f32>,
    pub mu_before: f32,
    pub mu_after: f32,
}

/// One missing pixel of the focus digit: x_nd ~ N(w_d^T z_n + mu_d, sigma_d^2).
#[derive(Clone, Debug, PartialEq)]
pub struct MissingPixel {
    pub pixel: usize,
    pub mean: f64,
    pub sd: f64,
    pub before: f32,
    pub after: f32,
}

/// The missing pixels of digit n before and after the X_miss step.
#[derive(Clone, Debug, PartialEq)]
pub struct MissingDraw {
    pub digit: usize,
    /// In pixel order; empty when the digit has no missing pixel.
    pub pixels: Vec<MissingPixel>,
}

/// The recentring move: c | Z, W, mu, sigma^2 ~ N(P^-1 b, P^-1) with
/// P = N I + lambda0 W^T S^-1 W and b = sum_n z_n - lambda0 W^T S^-1 mu, then z_n -> z_n - c
/// for every n and mu -> mu + W c. The fit mu + W z_n of every image stays as it was.
#[derive(Clone, Debug, PartialEq)]
pub struct RecentreDraw {
    pub n: usize,
    pub lambda0: f64,
    /// P^-1 b: where the draw is centred (close to the mean of the z_n).
    pub mean: Vec<f64>,
    /// P^-1 (M x M).
    pub covariance: DMatrix<f64>,
    /// The c drawn, read off the focus digit's z_n before and after.
    pub drawn: Vec<f64>,
    /// The mean of the z_n before and after the move.
    pub zbar_before: Vec<f64>,
    pub zbar_after: Vec<f64>,
    /// The focus pixel's mu_d before and after (it moves by w_d^T c).
    pub pixel: usize,
    pub mu_before: f32,
    pub mu_after: f32,
}

/// The numbers behind one step.
#[derive(Clone, Debug, PartialEq)]
pub enum Explanation {
    Z(LatentDraw),
    W(LoadingDraw),
    Mu(MeanDraw),
    Sigmasq(NoiseDraw),
    Blocked(BlockedDraw),
    XMissing(MissingDraw),
    Recentre(RecentreDraw),
}

/// The numbers behind `conditional`'s draw from `before` to `after` for the focus digit
/// and pixel, under `settings` (the settings the step ran with).
pub fn explain(
    conditional: Conditional,
    before: &ModelState,
    after: &ModelState,
    settings: &SamplerSettings,
    focus: &Focus,
) -> Result<Explanation, LessonError> {
    let (n, d, m) = before.shape();
    if after.shape() != (n, d, m) {
        return Err(LessonError::InvalidArgument {
            what: "the states before and after",
            reason: "they have different shapes",
        });
    }
    if focus.digit >= n {
        return Err(LessonError::DigitOutOfRange {
            index: focus.digit,
            n,
        });
    }
    if focus.pixel >= d {
        return Err(LessonError::PixelOutOfRange {
            index: focus.pixel,
            d,
        });
    }
    Ok(match conditional {
        Conditional::Z => Explanation::Z(latent(before, after, focus)?),
        Conditional::W => Explanation::W(loading(before, after, settings, focus.pixel)?),
        Conditional::Mu => Explanation::Mu(mean(before, after, settings, focus.pixel)),
        Conditional::Sigmasq => Explanation::Sigmasq(noise(before, after, settings, focus.pixel)),
        Conditional::Blocked => {
            Explanation::Blocked(blocked(before, after, settings, focus.pixel)?)
        }
        Conditional::XMissing => Explanation::XMissing(missing(before, after, focus.digit)),
        Conditional::Recentre => Explanation::Recentre(recentring(before, after, settings, focus)?),
    })
}

fn recentring(
    before: &ModelState,
    after: &ModelState,
    settings: &SamplerSettings,
    focus: &Focus,
) -> Result<RecentreDraw, LessonError> {
    let (n, d, m) = before.shape();
    let (z, w) = (before.z(), before.w());
    let lambda0 = settings.hyper.lambda0;
    let zbar = |s: &ModelState| -> Vec<f64> {
        s.z()
            .column_iter()
            .map(|c| c.iter().map(|&v| v as f64).sum::<f64>() / n as f64)
            .collect()
    };
    // H = S^-1/2 W, densely in f64 for this one draw.
    let h = DMatrix::<f64>::from_fn(d, m, |j, k| {
        w[(j, k)] as f64 / (before.sigmasq()[j] as f64).sqrt()
    });
    let mut p = h.transpose() * &h * lambda0;
    for i in 0..m {
        p[(i, i)] += n as f64;
    }
    let covariance = spd_inverse(p, "N I + lambda0 W^T S^-1 W")?;
    let b = DVector::<f64>::from_fn(m, |k, _| {
        let sum: f64 = z.column(k).iter().map(|&v| v as f64).sum();
        let wtsmu: f64 = (0..d)
            .map(|j| w[(j, k)] as f64 * before.mu()[j] as f64 / before.sigmasq()[j] as f64)
            .sum();
        sum - lambda0 * wtsmu
    });
    let mean = (&covariance * b).iter().copied().collect();
    let drawn = (0..m)
        .map(|k| z[(focus.digit, k)] as f64 - after.z()[(focus.digit, k)] as f64)
        .collect();
    Ok(RecentreDraw {
        n,
        lambda0,
        mean,
        covariance,
        drawn,
        zbar_before: zbar(before),
        zbar_after: zbar(after),
        pixel: focus.pixel,
        mu_before: before.mu()[focus.pixel],
        mu_after: after.mu()[focus.pixel],
    })
}

fn spd_inverse(p: DMatrix<f64>, what: &'static str) -> Result<DMatrix<f64>, LessonError> {
    let bad = LessonError::NotPositiveDefinite { what };
    if !p.iter().all(|v| v.is_finite()) {
        return Err(bad);
    }
    let Some(ch) = nalgebra::Cholesky::new(p) else {
        return Err(bad);
    };
    let inverse = ch.inverse();
    if inverse.iter().all(|v| v.is_finite()) {
        Ok(inverse)
    } else {
        Err(bad)
    }
}

fn row(mat: &DMatrix<f32>, i: usize) -> Vec<f32> {
    mat.row(i).iter().copied().collect()
}

fn latent(
    before: &ModelState,
    after: &ModelState,
    focus: &Focus,
) -> Result<LatentDraw, LessonError> {
    let (_, d, m) = before.shape();
    let (w, s, mu) = (before.w(), before.sigmasq(), before.mu());
    let x = before.completed_row(focus.digit);
    let mut j = DMatrix::<f64>::identity(m, m);
    let mut b = DVector::<f64>::zeros(m);
    for dd in 0..d {
        let inv = 1.0 / s[dd] as f64;
        let xc = x[dd] as f64 - mu[dd] as f64;
        for a in 0..m {
            let wa = w[(dd, a)] as f64;
            b[a] += wa * inv * xc;
            for c in 0..m {
                j[(a, c)] += wa * inv * w[(dd, c)] as f64;
            }
        }
    }
    let covariance = spd_inverse(j, "z_n (I + W^T S^-1 W)")?;
    let mean: Vec<f64> = (&covariance * b).iter().copied().collect();
    let ellipse = if m >= 2 {
        Some(Ellipse::of_marginal(&mean, &covariance, focus.factors)?)
    } else {
        None
    };
    Ok(LatentDraw {
        digit: focus.digit,
        mean,
        covariance,
        ellipse,
        before: row(before.z(), focus.digit),
        after: row(after.z(), focus.digit),
    })
}

fn loading(
    before: &ModelState,
    after: &ModelState,
    settings: &SamplerSettings,
    pixel: usize,
) -> Result<LoadingDraw, LessonError> {
    let (n, _, m) = before.shape();
    let (z, x, mu) = (
        before.z(),
        before.completed_column(pixel),
        before.mu()[pixel] as f64,
    );
    let prior_precision = settings.prior.column_precision(&settings.hyper);
    let mut p = DMatrix::<f64>::from_diagonal(&DVector::from_column_slice(&prior_precision));
    let mut b = DVector::<f64>::zeros(m);
    for i in 0..n {
        let xc = x[i] as f64 - mu;
        for a in 0..m {
            let za = z[(i, a)] as f64;
            b[a] += za * xc;
            for c in 0..m {
                p[(a, c)] += za * z[(i, c)] as f64;
            }
        }
    }
    let inverse = spd_inverse(p, "w_d (Z^T Z + Sigma_c^-1)")?;
    let sigmasq = before.sigmasq()[pixel] as f64;
    let mean = (&inverse * b).iter().copied().collect();
    Ok(LoadingDraw {
        pixel,
        prior_precision,
        sigmasq,
        mean,
        covariance: inverse * sigmasq,
        before: row(before.w(), pixel),
        after: row(after.w(), pixel),
    })
}

/// As [`crate::model::conditionals::sample_mu`] computes it, operation for operation.
fn mean(
    before: &ModelState,
    after: &ModelState,
    settings: &SamplerSettings,
    pixel: usize,
) -> MeanDraw {
    let (n, _, m) = before.shape();
    let (z, w) = (before.z(), before.w());
    let sumz: Vec<f64> = z
        .column_iter()
        .map(|c| c.iter().map(|&v| v as f64).sum())
        .collect();
    let lambda0 = settings.hyper.lambda0;
    let precision = n as f64 + lambda0;
    let wz: f64 = (0..m).map(|a| w[(pixel, a)] as f64 * sumz[a]).sum();
    let residual_sum = before.columns.sum[pixel] - wz;
    let sigmasq = before.sigmasq()[pixel] as f64;
    MeanDraw {
        pixel,
        n,
        lambda0,
        residual_sum,
        precision,
        sigmasq,
        mean: residual_sum / precision,
        variance: sigmasq / precision,
        before: before.mu()[pixel],
        after: after.mu()[pixel],
    }
}

/// As [`crate::model::conditionals::sample_sigmasq`] computes it, operation for operation
/// (the residual sums come from the state's own cache, or are formed as the step forms
/// them, on a copy so that `before` is left untouched).
fn noise(
    before: &ModelState,
    after: &ModelState,
    settings: &SamplerSettings,
    pixel: usize,
) -> NoiseDraw {
    let (n, _, m) = before.shape();
    let hyper = &settings.hyper;
    let residual_ss = before.clone().residual_sums()[pixel];
    let precision = settings.prior.column_precision(hyper);
    let w = before.w();
    let w_penalty: f64 = (0..m)
        .map(|a| precision[a] * (w[(pixel, a)] as f64).powi(2))
        .sum();
    let mu = before.mu()[pixel] as f64;
    let prior_term = hyper.nu0 * hyper.sigmasq0;
    let mu_penalty = hyper.lambda0 * mu * mu;
    let nu_n = hyper.nu0 + (n + m + 1) as f64;
    let scale_sum = prior_term + residual_ss + w_penalty + mu_penalty;
    NoiseDraw {
        pixel,
        nu0: hyper.nu0,
        sigmasq0: hyper.sigmasq0,
        prior_term,
        residual_ss,
        w_penalty,
        mu_penalty,
        nu_n,
        scale_sum,
        scale: scale_sum / nu_n,
        before: before.sigmasq()[pixel],
        after: after.sigmasq()[pixel],
    }
}

fn blocked(
    before: &ModelState,
    after: &ModelState,
    settings: &SamplerSettings,
    pixel: usize,
) -> Result<BlockedDraw, LessonError> {
    let (n, _, m) = before.shape();
    let hyper = &settings.hyper;
    let precision = settings.prior.column_precision(hyper);
    // The step's own computation, on a copy: W and mu left at the means, residuals cached.
    let mut at_mean = before.clone();
    let (means, scale_sums) = blocked_scale_sums(&mut at_mean, hyper, &settings.prior);
    let residual_ss = at_mean.residual_sums()[pixel];
    let w_penalty: f64 = (0..m)
        .map(|a| precision[a] * (at_mean.w()[(pixel, a)] as f64).powi(2))
        .sum();
    let mu_penalty = hyper.lambda0 * (at_mean.mu()[pixel] as f64).powi(2);
    let nu_n = hyper.nu0 + n as f64;
    let scale_sum = scale_sums[pixel];
    let noise = NoiseDraw {
        pixel,
        nu0: hyper.nu0,
        sigmasq0: hyper.sigmasq0,
        prior_term: hyper.nu0 * hyper.sigmasq0,
        residual_ss,
        w_penalty,
        mu_penalty,
        nu_n,
        scale_sum,
        scale: scale_sum / nu_n,
        before: before.sigmasq()[pixel],
        after: after.sigmasq()[pixel],
    };
    // LN = Zh^T Zh + L0 with Zh = [Z 1], L0 = diag(Sigma_c^-1, lambda0).
    let z = before.z();
    let mut ln = DMatrix::<f64>::zeros(m + 1, m + 1);
    for i in 0..n {
        for a in 0..m {
            let za = z[(i, a)] as f64;
            for c in 0..m {
                ln[(a, c)] += za * z[(i, c)] as f64;
            }
            ln[(a, m)] += za;
            ln[(m, a)] += za;
        }
    }
    for (a, p) in precision.iter().enumerate() {
        ln[(a, a)] += p;
    }
    ln[(m, m)] = n as f64 + hyper.lambda0;
    let inverse = spd_inverse(ln, "(w_d, mu_d) (Zh^T Zh + L0)")?;
    Ok(BlockedDraw {
        mean: means.column(pixel).iter().copied().collect(),
        covariance: inverse * noise.after as f64,
        noise,
        w_before: row(before.w(), pixel),
        w_after: row(after.w(), pixel),
        mu_before: before.mu()[pixel],
        mu_after: after.mu()[pixel],
    })
}

fn missing(before: &ModelState, after: &ModelState, digit: usize) -> MissingDraw {
    let (_, d, m) = before.shape();
    let (w, z, mu, s) = (before.w(), before.z(), before.mu(), before.sigmasq());
    let pixels = (0..d)
        .filter(|&j| before.missing().position(digit, j).is_some())
        .map(|j| MissingPixel {
            pixel: j,
            mean: (0..m)
                .map(|a| w[(j, a)] as f64 * z[(digit, a)] as f64)
                .sum::<f64>()
                + mu[j] as f64,
            sd: (s[j] as f64).sqrt(),
            before: before.x_at(digit, j),
            after: after.x_at(digit, j),
        })
        .collect();
    MissingDraw { digit, pixels }
}
