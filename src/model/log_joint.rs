//! The log joint probability of SPEC 6 (the trace that shows the sampler converging).

use super::state::ModelState;
use super::{Hyperparameters, Prior};

const LN_2PI: f64 = 1.837_877_066_409_345_5;

/// log p(X, Z, W, mu, sigma^2) with X the completed data (the current X_miss sample):
/// Gaussian likelihood, N(0, I) latents, w_d ~ N(0, sigma_d^2 Sigma_c), mu_d ~ N(0,
/// sigma_d^2 / lambda0), sigma_d^2 ~ Scaled-Inv-chi^2(nu0, sigma0^2).
pub fn log_joint(state: &mut ModelState, hyper: &Hyperparameters, prior: &Prior) -> f64 {
    let (n, _, m) = state.shape();
    let residual = state.residual_sums();
    let precision = prior.column_precision(hyper);
    let log_det_prior: f64 = precision.iter().map(|p| p.ln()).sum();
    let z_sq = state.z_sumsq();
    let mut total = -0.5 * (n * m) as f64 * LN_2PI - 0.5 * z_sq;
    // w_d^T Sigma_c^-1 w_d for every row, down W's contiguous columns (the terms of each row in
    // factor order, as a sum along the row would take them).
    let d = residual.len();
    let mut w_quad = vec![0.0f64; d];
    for (column, &p) in state.w.as_slice().chunks_exact(d.max(1)).zip(&precision) {
        for (q, &w) in w_quad.iter_mut().zip(column) {
            *q += p * (w as f64).powi(2);
        }
    }
    // The terms that do not depend on the pixel, once.
    let ln_lambda0 = hyper.lambda0.ln();
    let inv_chi2 = ScaledInvChi2::new(hyper.nu0, hyper.sigmasq0);
    for (dd, (&residual_ss, &w_quad)) in residual.iter().zip(&w_quad).enumerate() {
        let s2 = state.sigmasq[dd] as f64;
        let ln_s2 = s2.ln();
        total += -0.5 * n as f64 * (LN_2PI + ln_s2) - residual_ss / (2.0 * s2);
        total += -0.5 * (m as f64 * (LN_2PI + ln_s2) - log_det_prior) - w_quad / (2.0 * s2);
        let mu = state.mu[dd] as f64;
        total += -0.5 * (LN_2PI + ln_s2 - ln_lambda0) - hyper.lambda0 * mu * mu / (2.0 * s2);
        total += inv_chi2.log_density(s2, ln_s2);
    }
    total
}

/// [`log_scaled_inv_chi2`] for one (nu, t) and many s, with the terms of (nu, t) formed once.
struct ScaledInvChi2 {
    h: f64,
    constant: f64,
    nu_t: f64,
}

impl ScaledInvChi2 {
    fn new(nu: f64, t: f64) -> Self {
        let h = nu / 2.0;
        ScaledInvChi2 {
            h,
            constant: h * (nu * t / 2.0).ln() - ln_gamma(h),
            nu_t: nu * t,
        }
    }

    /// The log density at s, given ln s.
    fn log_density(&self, s: f64, ln_s: f64) -> f64 {
        self.constant - (self.h + 1.0) * ln_s - self.nu_t / (2.0 * s)
    }
}

/// log Scaled-Inv-chi^2(s | nu, t) = (nu/2) log(nu t / 2) - lgamma(nu/2) - (nu/2 + 1) log s
/// - nu t / (2 s).
pub fn log_scaled_inv_chi2(s: f64, nu: f64, t: f64) -> f64 {
    ScaledInvChi2::new(nu, t).log_density(s, s.ln())
}

/// log Gamma(x) for x > 0 (Lanczos approximation, g = 7, 9 terms; ~1e-15 relative).
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Gamma(x) Gamma(1 - x) = pi / sin(pi x).
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, &c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * LN_2PI + (x + 0.5) * t.ln() - t + a.ln()
}
