//! The complete conditionals of the mixture of factor analysers (SPEC 11), one named function
//! for each conditional's parameters and one for its draw, so the parameters can be checked
//! against dense algebra.
//!
//! 1. (c_n, z_n) jointly: [`component_log_posterior`] (z integrated out; Woodbury identity and
//!    the matrix determinant lemma, one GEMM over X for all components), [`z_posterior`],
//!    [`sample_c_z`];
//! 2. pi: [`sample_pi`];
//! 3. W_k then mu_k from the images of component k: [`w_posterior`], [`sample_w`],
//!    [`mu_posterior`], [`sample_mu`] (an empty component draws from the prior);
//! 4. sigma^2: [`sigmasq_posterior`], [`sample_sigmasq`];
//! 5. X_miss: [`x_missing_mean`], [`sample_x_missing`].

use nalgebra::{Cholesky, DMatrix, DVector, Dyn};
use rand::{Rng, RngExt};
use rand_distr::{Distribution, Gamma, StandardNormal};

use super::{MfaHyper, MfaState};

/// Per component: J_k = I + W_k^T S^-1 W_k factored, and log det J_k.
struct Precisions {
    chol: Vec<Cholesky<f64, Dyn>>,
    log_det: Vec<f64>,
}

fn precisions(state: &MfaState) -> Precisions {
    let (_, d, m, _) = state.shape();
    let mut chol = Vec::new();
    let mut log_det = Vec::new();
    for w in &state.w {
        let ws = DMatrix::from_fn(d, m, |r, a| w[(r, a)] / state.sigmasq[r].sqrt());
        let j = DMatrix::identity(m, m) + ws.transpose() * &ws;
        let ch = Cholesky::new(j).expect("I + W^T S^-1 W is positive definite");
        log_det.push(2.0 * ch.l_dirty().diagonal().iter().map(|v| v.ln()).sum::<f64>());
        chol.push(ch);
    }
    Precisions { chol, log_det }
}

/// b_nk = W_k^T S^-1 (x_n - mu_k) for every image and component: N x (K M), block k in
/// columns k M .. (k + 1) M. One GEMM: X [S^-1 W_1 ... S^-1 W_K], minus mu_k^T S^-1 W_k.
fn projections(state: &MfaState) -> DMatrix<f64> {
    let (n, d, m, k) = state.shape();
    let mut g = DMatrix::<f64>::zeros(d, k * m);
    for (c, w) in state.w.iter().enumerate() {
        for a in 0..m {
            for r in 0..d {
                g[(r, c * m + a)] = w[(r, a)] / state.sigmasq[r];
            }
        }
    }
    let mut b = DMatrix::<f64>::zeros(n, k * m);
    b.gemm(1.0, &state.x, &g, 0.0);
    for (c, mu) in state.mu.iter().enumerate() {
        let offset = mu.transpose() * g.columns(c * m, m);
        for a in 0..m {
            b.column_mut(c * m + a).add_scalar_mut(-offset[a]);
        }
    }
    b
}

/// log p(c_n = k | x_n, W, mu, sigma^2, pi) with z_n integrated out, normalised over k
/// (N x K). Up to a constant in k,
/// log pi_k - 1/2 [sum_d log sigma_d^2 + log det J_k + (x_n - mu_k)^T S^-1 (x_n - mu_k)
///                 - b_nk^T J_k^-1 b_nk],
/// the quadratic expanded as x^T S^-1 x - 2 mu_k^T S^-1 x + mu_k^T S^-1 mu_k (a second small
/// GEMM), then normalised in log space after subtracting each row's maximum.
pub fn component_log_posterior(state: &MfaState) -> DMatrix<f64> {
    log_posterior_with(state, &precisions(state), &projections(state))
}

fn log_posterior_with(state: &MfaState, prec: &Precisions, b: &DMatrix<f64>) -> DMatrix<f64> {
    let (n, d, m, k) = state.shape();
    let inv_s = state.sigmasq.map(|s| 1.0 / s);
    let sum_log_s: f64 = state.sigmasq.iter().map(|s| s.ln()).sum();
    // x^T S^-1 x per image, and X [S^-1 mu_1 ... S^-1 mu_K].
    let xsx: Vec<f64> = (0..n)
        .map(|i| (0..d).map(|r| state.x[(i, r)].powi(2) * inv_s[r]).sum())
        .collect();
    let smu = DMatrix::from_fn(d, k, |r, c| state.mu[c][r] * inv_s[r]);
    let mut xsmu = DMatrix::<f64>::zeros(n, k);
    xsmu.gemm(1.0, &state.x, &smu, 0.0);
    let mut out = DMatrix::<f64>::zeros(n, k);
    for c in 0..k {
        let musmu: f64 = (0..d).map(|r| state.mu[c][r].powi(2) * inv_s[r]).sum();
        // ||L_k^-1 b_nk||^2 = b^T J^-1 b for all images at once.
        let bt = b.columns(c * m, m).transpose();
        let y = prec.chol[c]
            .l_dirty()
            .solve_lower_triangular(&bt)
            .expect("a Cholesky factor has a positive diagonal");
        let log_pi = state.pi[c].max(f64::MIN_POSITIVE).ln();
        for i in 0..n {
            let quad = xsx[i] - 2.0 * xsmu[(i, c)] + musmu;
            let btjb = y.column(i).norm_squared();
            out[(i, c)] = log_pi - 0.5 * (sum_log_s + prec.log_det[c] + quad - btjb);
        }
    }
    for i in 0..n {
        let top = out.row(i).max();
        let log_sum = out.row(i).iter().map(|v| (v - top).exp()).sum::<f64>().ln() + top;
        for c in 0..k {
            out[(i, c)] -= log_sum;
        }
    }
    out
}

/// z_n | c_n = k, x_n, rest ~ N(J_k^-1 b_nk, J_k^-1): returns (mean, covariance).
pub fn z_posterior(state: &MfaState, n: usize, k: usize) -> (DVector<f64>, DMatrix<f64>) {
    let (_, d, m, _) = state.shape();
    let w = &state.w[k];
    let st = DMatrix::from_fn(m, d, |a, r| w[(r, a)] / state.sigmasq[r]);
    let j = DMatrix::identity(m, m) + &st * w;
    let resid = DVector::from_fn(d, |r, _| state.x[(n, r)] - state.mu[k][r]);
    let ch = Cholesky::new(j).expect("I + W^T S^-1 W is positive definite");
    (ch.solve(&(st * resid)), ch.inverse())
}

/// Draws every (c_n, z_n): c_n from [`component_log_posterior`], then z_n from
/// N(J_k^-1 b_nk, J_k^-1) as J^-1 b + L^-T e.
pub fn sample_c_z<R: Rng>(state: &mut MfaState, rng: &mut R) {
    let (n, _, m, k) = state.shape();
    let prec = precisions(state);
    let b = projections(state);
    let logp = log_posterior_with(state, &prec, &b);
    for i in 0..n {
        let u: f64 = rng.random();
        let mut acc = 0.0;
        let mut chosen = k - 1;
        for c in 0..k {
            acc += logp[(i, c)].exp();
            if u < acc {
                chosen = c;
                break;
            }
        }
        state.c[i] = chosen;
        let bn = b.view((i, chosen * m), (1, m)).transpose();
        let mean = prec.chol[chosen].solve(&bn);
        let e = DVector::<f64>::from_fn(m, |_, _| StandardNormal.sample(rng));
        let noise = prec.chol[chosen]
            .l_dirty()
            .tr_solve_lower_triangular(&e)
            .expect("a Cholesky factor has a positive diagonal");
        for a in 0..m {
            state.z[(i, a)] = mean[a] + noise[a];
        }
    }
}

/// pi ~ Dirichlet(alpha0 + n_1, ..., alpha0 + n_K), through Gamma draws.
pub fn sample_pi<R: Rng>(state: &mut MfaState, hyper: &MfaHyper, rng: &mut R) {
    let k = state.w.len();
    let mut counts = vec![0usize; k];
    for &c in &state.c {
        counts[c] += 1;
    }
    let g: Vec<f64> = counts
        .iter()
        .map(|&nk| {
            Gamma::new(hyper.alpha0 + nk as f64, 1.0)
                .map(|d| d.sample(rng))
                .unwrap_or(0.0)
                .max(f64::MIN_POSITIVE)
        })
        .collect();
    let total: f64 = g.iter().sum();
    state.pi = DVector::from_fn(k, |c, _| g[c] / total);
}

/// W_k | Z_k, X_k, mu_k, sigma^2: rows w_kd ~ N(A^-1 Z_k^T (x_kd - mu_kd), sigma_d^2 A^-1),
/// A = Z_k^T Z_k + kappa0 I over the images of component k. Returns (means D x M, A^-1).
/// An empty component gives the prior (mean 0, A = kappa0 I).
pub fn w_posterior(state: &MfaState, hyper: &MfaHyper, k: usize) -> (DMatrix<f64>, DMatrix<f64>) {
    let (_, d, m, _) = state.shape();
    let members = state.members(k);
    let zk = DMatrix::from_fn(members.len(), m, |i, a| state.z[(members[i], a)]);
    let xc = DMatrix::from_fn(members.len(), d, |i, r| {
        state.x[(members[i], r)] - state.mu[k][r]
    });
    let a = zk.transpose() * &zk + DMatrix::identity(m, m) * hyper.kappa0;
    let a_inv = Cholesky::new(a)
        .expect("Z^T Z + kappa0 I is positive definite")
        .inverse();
    let means = (xc.transpose() * &zk) * &a_inv;
    (means, a_inv)
}

/// Draws every W_k from [`w_posterior`].
pub fn sample_w<R: Rng>(state: &mut MfaState, hyper: &MfaHyper, rng: &mut R) {
    let (_, d, m, k) = state.shape();
    for c in 0..k {
        let (means, a_inv) = w_posterior(state, hyper, c);
        let l = Cholesky::new(a_inv)
            .expect("A^-1 is positive definite")
            .unpack();
        for r in 0..d {
            let e = DVector::<f64>::from_fn(m, |_, _| StandardNormal.sample(rng));
            let noise = &l * e * state.sigmasq[r].sqrt();
            for a in 0..m {
                state.w[c][(r, a)] = means[(r, a)] + noise[a];
            }
        }
    }
}

/// mu_k | W_k, Z_k, X_k, sigma^2: mu_kd ~ N(sum_n (x_nd - w_kd^T z_n) / (n_k + lambda0),
/// sigma_d^2 / (n_k + lambda0)) over the images of component k. Returns (means, variances).
pub fn mu_posterior(state: &MfaState, hyper: &MfaHyper, k: usize) -> (DVector<f64>, DVector<f64>) {
    let members = state.members(k);
    let denom = members.len() as f64 + hyper.lambda0;
    // Column sums of X_k - Z_k W_k^T, the product as one GEMM.
    let resid = member_residuals(state, k, &members, false);
    let means = DVector::from_fn(state.x.ncols(), |r, _| resid.column(r).sum() / denom);
    let vars = state.sigmasq.map(|s| s / denom);
    (means, vars)
}

/// X_k - Z_k W_k^T (and - 1 mu_k^T when `with_mu`) over the images `members` of component k
/// (n_k x D), through one GEMM.
fn member_residuals(state: &MfaState, k: usize, members: &[usize], with_mu: bool) -> DMatrix<f64> {
    let (_, d, m, _) = state.shape();
    let zk = DMatrix::from_fn(members.len(), m, |i, a| state.z[(members[i], a)]);
    let mut out = DMatrix::from_fn(members.len(), d, |i, r| {
        state.x[(members[i], r)] - if with_mu { state.mu[k][r] } else { 0.0 }
    });
    if !members.is_empty() {
        let wt = state.w[k].transpose();
        out.gemm(-1.0, &zk, &wt, 1.0);
    }
    out
}

/// Draws every mu_k from [`mu_posterior`].
pub fn sample_mu<R: Rng>(state: &mut MfaState, hyper: &MfaHyper, rng: &mut R) {
    for c in 0..state.w.len() {
        let (means, vars) = mu_posterior(state, hyper, c);
        for r in 0..means.len() {
            let e: f64 = StandardNormal.sample(rng);
            state.mu[c][r] = means[r] + vars[r].sqrt() * e;
        }
    }
}

/// sigma_d^2 | rest ~ Scaled-Inv-chi^2(nu_N, s_d^2) with nu_N = nu0 + N + K (M + 1) and
/// nu_N s_d^2 = nu0 sigma0^2 + sum_n (x_nd - w_{c_n d}^T z_n - mu_{c_n d})^2
///            + sum_k (kappa0 ||w_kd||^2 + lambda0 mu_kd^2).
/// Returns (nu_N, nu_N s_d^2 for every d).
pub fn sigmasq_posterior(state: &MfaState, hyper: &MfaHyper) -> (f64, DVector<f64>) {
    let (n, d, m, k) = state.shape();
    let nu = hyper.nu0 + n as f64 + (k * (m + 1)) as f64;
    let mut resid = DVector::<f64>::zeros(d);
    for c in 0..k {
        let r_k = member_residuals(state, c, &state.members(c), true);
        for r in 0..d {
            resid[r] += r_k.column(r).norm_squared();
        }
    }
    let sums = DVector::from_fn(d, |r, _| {
        let prior: f64 = (0..k)
            .map(|c| {
                hyper.kappa0 * state.w[c].row(r).norm_squared()
                    + hyper.lambda0 * state.mu[c][r].powi(2)
            })
            .sum();
        hyper.nu0 * hyper.sigmasq0 + resid[r] + prior
    });
    (nu, sums)
}

/// Draws sigma^2 from [`sigmasq_posterior`]: g ~ Gamma(nu/2, rate nu s^2 / 2), sigma^2 = 1/g.
pub fn sample_sigmasq<R: Rng>(state: &mut MfaState, hyper: &MfaHyper, rng: &mut R) {
    let (nu, sums) = sigmasq_posterior(state, hyper);
    for r in 0..sums.len() {
        let rate = sums[r].max(f64::MIN_POSITIVE) / 2.0;
        if let Ok(g) = Gamma::new(nu / 2.0, 1.0 / rate) {
            state.sigmasq[r] = (1.0 / g.sample(rng)).clamp(1e-12, 1e30);
        }
    }
}

/// The conditional mean w_{c_n d}^T z_n + mu_{c_n d} of every entry (N x D); a missing
/// x_nd ~ N(that, sigma_d^2).
pub fn x_missing_mean(state: &MfaState) -> DMatrix<f64> {
    let (n, d, m, _) = state.shape();
    DMatrix::from_fn(n, d, |i, r| {
        let c = state.c[i];
        (0..m)
            .map(|a| state.w[c][(r, a)] * state.z[(i, a)])
            .sum::<f64>()
            + state.mu[c][r]
    })
}

/// Draws every missing x_nd from its own component's conditional.
pub fn sample_x_missing<R: Rng>(state: &mut MfaState, rng: &mut R) {
    let (_, d, m, _) = state.shape();
    for k in 0..state.missing.len() {
        if state.missing[k] {
            let (i, r) = (k / d, k % d);
            let c = state.c[i];
            let mean = (0..m)
                .map(|a| state.w[c][(r, a)] * state.z[(i, a)])
                .sum::<f64>()
                + state.mu[c][r];
            let e: f64 = StandardNormal.sample(rng);
            state.x[(i, r)] = mean + state.sigmasq[r].sqrt() * e;
        }
    }
}

#[cfg(test)]
mod tests;
