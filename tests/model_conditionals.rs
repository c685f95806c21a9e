//! Each complete conditional against dense brute-force algebra on tiny dimensions: the
//! sampler's draws must match means and covariances computed another way (Gaussian
//! conditioning with N x N or D x D matrices, quadrature of an independently written
//! density), within Monte Carlo error. Also the log joint against dense multivariate normal
//! densities.

mod model_common;

use gibbs_fa::model::conditionals::{
    sample_mu, sample_sigmasq, sample_w, sample_w_mu_sigmasq_blocked, sample_x_missing, sample_z,
};
use gibbs_fa::model::log_joint::{ln_gamma, log_joint};
use gibbs_fa::model::rng::{Step, StepRng};
use gibbs_fa::model::{Hyperparameters, ModelState, Prior};
use model_common::*;
use nalgebra::{DMatrix, DVector};

// Every dimension above 5, so the products take nalgebra's GEMM (matrixmultiply) path, the
// one the full-size sampler uses.
const N: usize = 12;
const D: usize = 8;
const M: usize = 6;
const DRAWS: usize = 20_000;
/// Largest accepted |z| of one compared moment.
const Z_MAX: f64 = 4.5;

fn hyper() -> Hyperparameters {
    Hyperparameters {
        m: M,
        nu0: 3.0,
        sigmasq0: 0.7,
        kappa0: 0.5,
        lambda0: 0.3,
    }
}

fn decaying() -> Prior {
    Prior::Decaying {
        tau0: 1.5,
        rho: 0.4,
    }
}

fn mask() -> Vec<bool> {
    let mut m = vec![false; N * D];
    m[1] = true;
    m[D + 2] = true;
    m[3 * D] = true;
    m[3 * D + 1] = true;
    for d in 0..D {
        m[5 * D + d] = true; // a wholly masked image
    }
    m
}

/// A state away from the prior's centre (non-zero mu, uneven sigma^2), so missing terms show.
fn tiny_state(seed: u64) -> ModelState {
    state_with(N, &mask(), seed)
}

/// [`tiny_state`]'s kind of state with `rows` images and the missing entries `miss`.
fn state_with(rows: usize, miss: &[bool], seed: u64) -> ModelState {
    let mut r = rng(seed);
    let x: Vec<f32> = (0..rows * D)
        .map(|_| (2.0 + 1.5 * normal(&mut r)) as f32)
        .collect();
    let mut s = ModelState::new(rows, D, &x, miss, M).expect("state");
    s.set_z(DMatrix::from_fn(rows, M, |_, _| normal(&mut r) as f32))
        .expect("z");
    s.set_w(DMatrix::from_fn(D, M, |_, _| (0.8 * normal(&mut r)) as f32))
        .expect("w");
    let mu: Vec<f32> = (0..D).map(|d| [1.5, -2.0, 3.0][d % 3]).collect();
    let sigmasq: Vec<f32> = (0..D).map(|d| [0.5, 1.3, 0.8, 2.1][d % 4]).collect();
    s.set_mu(&mu).expect("mu");
    s.set_sigmasq(&sigmasq).expect("sigmasq");
    s
}

/// Running sums for means and covariances of a vector of draws.
struct Moments {
    count: f64,
    sum: DVector<f64>,
    outer: DMatrix<f64>,
}

impl Moments {
    fn new(k: usize) -> Self {
        Moments {
            count: 0.0,
            sum: DVector::zeros(k),
            outer: DMatrix::zeros(k, k),
        }
    }
    fn add(&mut self, v: &[f64]) {
        let v = DVector::from_column_slice(v);
        self.count += 1.0;
        self.sum += &v;
        self.outer += &v * v.transpose();
    }
    fn mean(&self) -> DVector<f64> {
        &self.sum / self.count
    }
    fn cov(&self) -> DMatrix<f64> {
        let m = self.mean();
        &self.outer / self.count - &m * m.transpose()
    }
}

/// Compares empirical moments with exact mean and covariance; returns the largest |z|.
fn check_gaussian(what: &str, mom: &Moments, mean: &DVector<f64>, cov: &DMatrix<f64>) -> f64 {
    let (em, ec) = (mom.mean(), mom.cov());
    // Finiteness first: `f64::max` skips NaN, so a conditional drawing NaN would pass below.
    assert_finite(what, "empirical means", em.iter());
    assert_finite(what, "empirical covariances", ec.iter());
    assert_finite(
        what,
        "exact means and covariances",
        mean.iter().chain(cov.iter()),
    );
    let k = mean.len();
    let n = mom.count;
    let mut worst: f64 = 0.0;
    for a in 0..k {
        let z = (em[a] - mean[a]) / (cov[(a, a)] / n).sqrt();
        assert!(z.is_finite(), "{what}: z of mean {a} is {z}");
        worst = worst.max(z.abs());
        for b in 0..=a {
            // Var of an empirical covariance of Gaussians: (S_aa S_bb + S_ab^2) / n.
            let se = ((cov[(a, a)] * cov[(b, b)] + cov[(a, b)].powi(2)) / n).sqrt();
            let z = (ec[(a, b)] - cov[(a, b)]) / se;
            assert!(z.is_finite(), "{what}: z of covariance ({a}, {b}) is {z}");
            worst = worst.max(z.abs());
        }
    }
    eprintln!("{what}: largest |z| = {worst:.2} over {k} means and their covariances");
    assert!(worst < Z_MAX, "{what}: |z| = {worst:.2}");
    worst
}

/// Fails when any value is NaN or infinite (statistical checks must not skip them).
fn assert_finite<'a>(what: &str, which: &str, values: impl Iterator<Item = &'a f64>) {
    for (k, v) in values.enumerate() {
        assert!(v.is_finite(), "{what}: {which}: value {k} is {v}");
    }
}

fn state_f64(s: &ModelState) -> (DMatrix<f64>, Params) {
    let x = mat_f64(&s.completed_x());
    let p = Params {
        w: mat_f64(s.w()),
        z: mat_f64(s.z()),
        mu: s.mu().iter().map(|&v| v as f64).collect(),
        sigmasq: s.sigmasq().iter().map(|&v| v as f64).collect(),
    };
    (x, p)
}

fn inv(a: &DMatrix<f64>) -> DMatrix<f64> {
    a.clone().try_inverse().expect("invertible")
}

fn stream(sweep: usize, step: Step) -> StepRng {
    StepRng::new(99, sweep as u64, step)
}

#[test]
fn z_matches_gaussian_conditioning() {
    let mut s = tiny_state(1);
    let (x, p) = state_f64(&s);
    // Joint of (z_n, x_n): cov [[I, W^T], [W, W W^T + S]]; condition on x_n.
    let sigma =
        &p.w * p.w.transpose() + DMatrix::from_diagonal(&DVector::from_vec(p.sigmasq.clone()));
    let si = inv(&sigma);
    let cov_row = DMatrix::identity(M, M) - p.w.transpose() * &si * &p.w;
    let mut mean = DVector::zeros(N * M);
    let mut cov = DMatrix::zeros(N * M, N * M);
    for i in 0..N {
        let xc = DVector::from_fn(D, |j, _| x[(i, j)] - p.mu[j]);
        let mi = p.w.transpose() * &si * xc;
        for a in 0..M {
            mean[i * M + a] = mi[a];
            for b in 0..M {
                cov[(i * M + a, i * M + b)] = cov_row[(a, b)];
            }
        }
    }
    let mut mom = Moments::new(N * M);
    for t in 0..DRAWS {
        sample_z(&mut s, &stream(t, Step::Z));
        let z = s.z();
        let v: Vec<f64> = (0..N * M).map(|k| z[(k / M, k % M)] as f64).collect();
        mom.add(&v);
    }
    check_gaussian("Z", &mom, &mean, &cov);
}

/// w_d | rest by regression conditioning with an N x N matrix: prior w ~ N(0, s2 C),
/// y = Z w + e, e ~ N(0, s2 I).
fn w_posterior(
    z: &DMatrix<f64>,
    c: &DMatrix<f64>,
    y: &DVector<f64>,
    s2: f64,
) -> (DVector<f64>, DMatrix<f64>) {
    let k = inv(&(z * c * z.transpose() + DMatrix::identity(z.nrows(), z.nrows())));
    let mean = c * z.transpose() * &k * y;
    let cov = (c - c * z.transpose() * &k * z * c) * s2;
    (mean, cov)
}

fn check_w(prior: Prior, seed: u64) {
    let h = hyper();
    let mut s = tiny_state(seed);
    let (x, p) = state_f64(&s);
    let c = DMatrix::from_diagonal(&DVector::from_vec(column_variances(&h, &prior)));
    let mut mean = DVector::zeros(D * M);
    let mut cov = DMatrix::zeros(D * M, D * M);
    for d in 0..D {
        let y = DVector::from_fn(N, |i, _| x[(i, d)] - p.mu[d]);
        let (m, v) = w_posterior(&p.z, &c, &y, p.sigmasq[d]);
        for a in 0..M {
            mean[d * M + a] = m[a];
            for b in 0..M {
                cov[(d * M + a, d * M + b)] = v[(a, b)];
            }
        }
    }
    let mut mom = Moments::new(D * M);
    for t in 0..DRAWS {
        sample_w(&mut s, &h, &prior, &stream(t, Step::W));
        let w = s.w();
        let v: Vec<f64> = (0..D * M).map(|k| w[(k / M, k % M)] as f64).collect();
        mom.add(&v);
    }
    check_gaussian(&format!("W ({prior:?})"), &mom, &mean, &cov);
}

#[test]
fn w_matches_regression_conditioning_isotropic() {
    check_w(Prior::Isotropic, 2);
}

#[test]
fn w_matches_regression_conditioning_decaying() {
    check_w(decaying(), 3);
}

#[test]
fn mu_matches_gaussian_conditioning() {
    let h = hyper();
    let mut s = tiny_state(4);
    let (x, p) = state_f64(&s);
    let mut mean = DVector::zeros(D);
    let mut cov = DMatrix::zeros(D, D);
    for d in 0..D {
        // y_n = x_nd - w_d^T z_n = mu_d + e_n; mu_d ~ N(0, v0).
        let v0 = p.sigmasq[d] / h.lambda0;
        let y = DVector::from_fn(N, |i, _| {
            x[(i, d)] - (0..M).map(|a| p.w[(d, a)] * p.z[(i, a)]).sum::<f64>()
        });
        let ones = DVector::from_element(N, 1.0);
        let k = inv(&(&ones * ones.transpose() * v0 + DMatrix::identity(N, N) * p.sigmasq[d]));
        mean[d] = v0 * (ones.transpose() * &k * &y)[0];
        cov[(d, d)] = v0 - v0 * v0 * (ones.transpose() * &k * &ones)[0];
    }
    let mut mom = Moments::new(D);
    for t in 0..DRAWS {
        sample_mu(&mut s, &h, &stream(t, Step::Mu));
        let v: Vec<f64> = s.mu().iter().map(|&v| v as f64).collect();
        mom.add(&v);
    }
    check_gaussian("mu", &mom, &mean, &cov);
}

/// W's rows, mu and sigma^2 are drawn block by block of 64 pixels (`model::pixel_steps`); at
/// D = 8 every test above sees one block. Here D = 150 (blocks of 64, 64 and 22): each row's
/// W draws and each pixel's mu draws against their conditional means and variances, and the
/// mean of 1 / sigma_d^2, all formed from X and Z directly, so a block reading another
/// block's statistics, shifts, sums or residuals fails.
#[test]
fn w_mu_and_sigmasq_match_their_conditionals_over_several_pixel_blocks() {
    const ROWS: usize = 30;
    const PIXELS: usize = 150;
    const FACTORS: usize = 2;
    const TIMES: usize = 4000;
    let h = Hyperparameters {
        m: FACTORS,
        ..hyper()
    };
    let prior = decaying();
    let mut r = rng(23);
    let x: Vec<f32> = (0..ROWS * PIXELS)
        .map(|k| (3.0 + (k % PIXELS) as f64 * 0.05 + 1.5 * normal(&mut r)) as f32)
        .collect();
    let mut s =
        ModelState::new(ROWS, PIXELS, &x, &vec![false; ROWS * PIXELS], FACTORS).expect("state");
    s.set_z(DMatrix::from_fn(ROWS, FACTORS, |_, _| {
        normal(&mut r) as f32
    }))
    .expect("z");
    s.set_w(DMatrix::from_fn(PIXELS, FACTORS, |_, _| {
        (0.8 * normal(&mut r)) as f32
    }))
    .expect("w");
    let mu: Vec<f32> = (0..PIXELS)
        .map(|d| (1.0 + 0.02 * d as f64) as f32)
        .collect();
    let sigmasq: Vec<f32> = (0..PIXELS).map(|d| [0.5, 1.3, 0.8, 2.1][d % 4]).collect();
    s.set_mu(&mu).expect("mu");
    s.set_sigmasq(&sigmasq).expect("sigmasq");
    let x = mat_f64(&s.completed_x());
    let z = mat_f64(s.z());
    let precision = prior.column_precision(&h);
    let b = z.transpose() * &z + DMatrix::from_diagonal(&DVector::from_vec(precision));
    let b_inv = inv(&b);
    // W: w_d ~ N(B^-1 Z^T (x_d - mu_d), sigma_d^2 B^-1), at the state's mu.
    let mut w_draws: Vec<Vec<f64>> = (0..PIXELS * FACTORS)
        .map(|_| Vec::with_capacity(TIMES))
        .collect();
    for t in 0..TIMES {
        sample_w(&mut s, &h, &prior, &stream(t, Step::W));
        for (k, &v) in s.w().iter().enumerate() {
            w_draws[k].push(v as f64);
        }
    }
    let mut worst: f64 = 0.0;
    for d in 0..PIXELS {
        let xc = DVector::from_fn(ROWS, |i, _| x[(i, d)] - mu[d] as f64);
        let mean = &b_inv * z.transpose() * xc;
        for a in 0..FACTORS {
            let draws = &w_draws[a * PIXELS + d];
            let var = sigmasq[d] as f64 * b_inv[(a, a)];
            worst = worst.max(moment_z(draws, mean[a], var));
        }
    }
    eprintln!("W over blocks: largest |z| = {worst:.2}");
    assert!(worst < Z_MAX, "W over blocks: |z| = {worst:.2}");
    // Rows of different blocks are independent: a block reusing another's noise would
    // correlate them (the same offset in each block).
    let worst = uncorrelated_across_blocks(&w_draws, PIXELS);
    eprintln!("W across blocks: largest |z| of a correlation = {worst:.2}");
    assert!(worst < Z_MAX, "W across blocks: |z| = {worst:.2}");
    // mu: mu_d ~ N(sum_n (x_nd - w_d^T z_n) / (N + lambda0), sigma_d^2 / (N + lambda0)).
    let w = mat_f64(s.w());
    let mut mu_draws: Vec<Vec<f64>> = (0..PIXELS).map(|_| Vec::with_capacity(TIMES)).collect();
    for t in 0..TIMES {
        sample_mu(&mut s, &h, &stream(t, Step::Mu));
        for (d, &v) in s.mu().iter().enumerate() {
            mu_draws[d].push(v as f64);
        }
    }
    let precision = ROWS as f64 + h.lambda0;
    let mut worst: f64 = 0.0;
    for d in 0..PIXELS {
        let sum: f64 = (0..ROWS)
            .map(|i| x[(i, d)] - (0..FACTORS).map(|a| w[(d, a)] * z[(i, a)]).sum::<f64>())
            .sum();
        let var = sigmasq[d] as f64 / precision;
        worst = worst.max(moment_z(&mu_draws[d], sum / precision, var));
    }
    eprintln!("mu over blocks: largest |z| = {worst:.2}");
    assert!(worst < Z_MAX, "mu over blocks: |z| = {worst:.2}");
    let worst = uncorrelated_across_blocks(&mu_draws, PIXELS);
    eprintln!("mu across blocks: largest |z| of a correlation = {worst:.2}");
    assert!(worst < Z_MAX, "mu across blocks: |z| = {worst:.2}");
    // sigma^2: 1 / sigma_d^2 ~ Gamma(nu / 2, rate S_d / 2), mean nu / S_d and variance
    // 2 nu / S_d^2, with S_d = nu0 sigma0^2 + sum_n r_nd^2 + w_d^T Sigma_c^-1 w_d + lambda0 mu_d^2.
    let mu = s.mu().iter().map(|&v| v as f64).collect::<Vec<_>>();
    let mut precision_draws: Vec<Vec<f64>> =
        (0..PIXELS).map(|_| Vec::with_capacity(TIMES)).collect();
    for t in 0..TIMES {
        sample_sigmasq(&mut s, &h, &prior, &stream(t, Step::Sigmasq));
        for (d, &v) in s.sigmasq().iter().enumerate() {
            precision_draws[d].push(1.0 / v as f64);
        }
    }
    let nu = h.nu0 + (ROWS + FACTORS + 1) as f64;
    let prior_precision = prior.column_precision(&h);
    let mut worst: f64 = 0.0;
    for d in 0..PIXELS {
        let residual: f64 = (0..ROWS)
            .map(|i| {
                let fit: f64 = (0..FACTORS).map(|a| w[(d, a)] * z[(i, a)]).sum();
                (x[(i, d)] - mu[d] - fit).powi(2)
            })
            .sum();
        let w_quad: f64 = (0..FACTORS)
            .map(|a| prior_precision[a] * w[(d, a)].powi(2))
            .sum();
        let scale_sum = h.nu0 * h.sigmasq0 + residual + w_quad + h.lambda0 * mu[d] * mu[d];
        let draws = &precision_draws[d];
        assert_finite("sigma^2 over blocks", "draws", draws.iter());
        let mean = draws.iter().sum::<f64>() / TIMES as f64;
        let se = (2.0 * nu / scale_sum.powi(2) / TIMES as f64).sqrt();
        worst = worst.max(((mean - nu / scale_sum) / se).abs());
    }
    eprintln!("sigma^2 over blocks: largest |z| = {worst:.2}");
    assert!(worst < Z_MAX, "sigma^2 over blocks: |z| = {worst:.2}");
}

/// The largest |z| (sqrt(T) r, for T draws) of the sample correlation r between the draws of
/// pixel d and of pixel d + 64 (the same place in the next block of 64), over every d with
/// such a partner and every factor; `series` holds one series per pixel for each factor in
/// turn (`pixels` per factor).
fn uncorrelated_across_blocks(series: &[Vec<f64>], pixels: usize) -> f64 {
    let corr = |a: &[f64], b: &[f64]| {
        let n = a.len() as f64;
        let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
        let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
        let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
        let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
        cov / (va * vb).sqrt()
    };
    let mut worst: f64 = 0.0;
    for (k, a) in series.iter().enumerate() {
        let d = k % pixels;
        if d + 64 < pixels {
            let r = corr(a, &series[k + 64]);
            assert!(r.is_finite(), "correlation of series {k}: {r}");
            worst = worst.max(r.abs() * (a.len() as f64).sqrt());
        }
    }
    worst
}

/// The larger |z| of independent draws' mean and variance against the exact `mean` and `var`
/// (the variance's standard error sqrt(2 / n) var, for Gaussian draws).
fn moment_z(draws: &[f64], mean: f64, var: f64) -> f64 {
    assert_finite("draws", "values", draws.iter());
    let n = draws.len() as f64;
    let m = draws.iter().sum::<f64>() / n;
    let v = draws.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
    let z_mean = (m - mean) / (var / n).sqrt();
    let z_var = (v - var) / (var * (2.0 / n).sqrt());
    assert!(z_mean.is_finite() && z_var.is_finite(), "{z_mean} {z_var}");
    z_mean.abs().max(z_var.abs())
}

#[test]
fn x_missing_matches_likelihood() {
    let mut s = tiny_state(5);
    let (x0, _) = state_f64(&s);
    let miss = mask();
    check_x_missing("X_miss", &mut s, &miss);
    // Observed entries never change.
    let x = mat_f64(&s.completed_x());
    for k in (0..N * D).filter(|&k| !miss[k]) {
        assert_eq!(x[(k / D, k % D)], x0[(k / D, k % D)]);
    }
}

/// Draws X_miss DRAWS times from `s` (whose missing entries are `miss`, row-major) and compares
/// the draws' moments with N(w_d^T z_n + mu_d, sigma_d^2), independent across entries, at the
/// state's own (f32) parameters.
fn check_x_missing(what: &str, s: &mut ModelState, miss: &[bool]) {
    let (_, p) = state_f64(s);
    let d = p.w.nrows();
    let m = p.w.ncols();
    let idx: Vec<usize> = (0..miss.len()).filter(|&k| miss[k]).collect();
    let mean = DVector::from_fn(idx.len(), |q, _| {
        let (i, dd) = (idx[q] / d, idx[q] % d);
        (0..m).map(|a| p.w[(dd, a)] * p.z[(i, a)]).sum::<f64>() + p.mu[dd]
    });
    let cov = DMatrix::from_fn(idx.len(), idx.len(), |a, b| {
        if a == b { p.sigmasq[idx[a] % d] } else { 0.0 }
    });
    let mut mom = Moments::new(idx.len());
    for t in 0..DRAWS {
        sample_x_missing(s, &stream(t, Step::XMissing));
        let x = s.completed_x();
        let v: Vec<f64> = idx.iter().map(|&k| x[(k / d, k % d)] as f64).collect();
        mom.add(&v);
    }
    check_gaussian(what, &mom, &mean, &cov);
}

/// The X_miss conditional where a column's missing rows come in runs long enough for the
/// vector lanes (four entries at a time, `model::segment`): in [`mask`] every column hides at
/// most two rows, so only the one-entry code runs there. Here columns 0-2 hide 13 rows each
/// (three whole lane groups and one left over) and one image is wholly hidden.
#[test]
fn x_missing_matches_likelihood_in_long_runs() {
    const ROWS: usize = 40;
    let mut miss = vec![false; ROWS * D];
    for i in 0..13 {
        for d in 0..3 {
            miss[(2 * i + 1) * D + d] = true;
        }
    }
    for d in 0..D {
        miss[30 * D + d] = true;
    }
    let mut s = state_with(ROWS, &miss, 17);
    check_x_missing("X_miss, long runs", &mut s, &miss);
}

const GRID: usize = 4000;

/// E[f(s2)] under an unnormalised log density of log s2, by quadrature on a grid in log s2.
fn quadrature(log_density: impl Fn(f64) -> f64, fs: &[&dyn Fn(f64) -> f64]) -> Vec<f64> {
    let (lo, hi) = (-12.0f64, 8.0f64);
    let step = (hi - lo) / GRID as f64;
    let pts: Vec<f64> = (0..=GRID).map(|k| lo + k as f64 * step).collect();
    // Density of t = log s2 is p(s2) s2.
    let logs: Vec<f64> = pts.iter().map(|&t| log_density(t.exp()) + t).collect();
    let top = logs.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let wts: Vec<f64> = logs.iter().map(|l| (l - top).exp()).collect();
    let total: f64 = wts.iter().sum();
    fs.iter()
        .map(|f| {
            pts.iter()
                .zip(&wts)
                .map(|(&t, &w)| w * f(t.exp()))
                .sum::<f64>()
                / total
        })
        .collect()
}

/// log Scaled-Inv-chi^2(s | nu, t) written from the InvGamma(nu/2, nu t/2) density.
fn log_inv_gamma_scaled(s: f64, nu: f64, t: f64) -> f64 {
    let (a, b) = (nu / 2.0, nu * t / 2.0);
    a * b.ln() - ln_gamma(a) - (a + 1.0) * s.ln() - b / s
}

fn log_mvn(x: &DVector<f64>, mean: &DVector<f64>, cov: &DMatrix<f64>) -> f64 {
    let ch = nalgebra::Cholesky::new(cov.clone()).expect("pd");
    let r = x - mean;
    let sol = ch.solve(&r);
    let logdet: f64 = 2.0 * ch.l().diagonal().iter().map(|v| v.ln()).sum::<f64>();
    -0.5 * (r.dot(&sol) + logdet + x.len() as f64 * (2.0 * std::f64::consts::PI).ln())
}

/// Compares draws of sigma_d^2 with quadrature moments of E[s2], E[log s2], E[1/s2].
fn check_scalar_moments(
    what: &str,
    draws: &[Vec<f64>],
    log_density: &dyn Fn(usize, f64) -> f64,
) -> f64 {
    // Finiteness first: `f64::max` skips NaN, so NaN draws would pass below.
    assert_finite(what, "draws", draws.iter().flatten());
    let mut worst: f64 = 0.0;
    for d in 0..D {
        let fs: [&dyn Fn(f64) -> f64; 3] = [&|s| s, &|s: f64| s.ln(), &|s| 1.0 / s];
        let exact = quadrature(|s| log_density(d, s), &fs);
        assert_finite(what, "quadrature", exact.iter());
        for (j, f) in fs.iter().enumerate() {
            let vals: Vec<f64> = draws.iter().map(|v| f(v[d])).collect();
            let (m, se) = iid_mean_se(&vals);
            let z = (m - exact[j]) / se;
            assert!(
                z.is_finite(),
                "{what}: z of moment {j} of column {d} is {z}"
            );
            worst = worst.max(z.abs());
        }
    }
    eprintln!("{what}: largest |z| = {worst:.2}");
    assert!(worst < Z_MAX, "{what}: |z| = {worst:.2}");
    worst
}

fn check_sigmasq(prior: Prior, seed: u64) {
    let h = hyper();
    let mut s = tiny_state(seed);
    let (x, p) = state_f64(&s);
    let cv = column_variances(&h, &prior);
    // log p(s2 | rest) up to a constant, from the model's densities written out one by one.
    let log_density = |d: usize, s2: f64| -> f64 {
        let mut l = log_inv_gamma_scaled(s2, h.nu0, h.sigmasq0);
        for i in 0..N {
            let m = (0..M).map(|a| p.w[(d, a)] * p.z[(i, a)]).sum::<f64>() + p.mu[d];
            l += -0.5 * (2.0 * std::f64::consts::PI * s2).ln()
                - (x[(i, d)] - m).powi(2) / (2.0 * s2);
        }
        for (a, &c) in cv.iter().enumerate() {
            let v = s2 * c;
            l += -0.5 * (2.0 * std::f64::consts::PI * v).ln() - p.w[(d, a)].powi(2) / (2.0 * v);
        }
        let v = s2 / h.lambda0;
        l + -0.5 * (2.0 * std::f64::consts::PI * v).ln() - p.mu[d].powi(2) / (2.0 * v)
    };
    let draws: Vec<Vec<f64>> = (0..DRAWS)
        .map(|t| {
            sample_sigmasq(&mut s, &h, &prior, &stream(t, Step::Sigmasq));
            s.sigmasq().iter().map(|&v| v as f64).collect()
        })
        .collect();
    check_scalar_moments(&format!("sigma^2 ({prior:?})"), &draws, &log_density);
}

#[test]
fn sigmasq_matches_quadrature_isotropic() {
    check_sigmasq(Prior::Isotropic, 6);
}

#[test]
fn sigmasq_matches_quadrature_decaying() {
    check_sigmasq(decaying(), 7);
}

fn check_blocked(prior: Prior, seed: u64) {
    let h = hyper();
    let mut s = tiny_state(seed);
    let (x, p) = state_f64(&s);
    // Prior of (w_d, mu_d) given s2: N(0, s2 V0) with V0 = diag(Sigma_c, 1/lambda0).
    let mut v0d = column_variances(&h, &prior);
    v0d.push(1.0 / h.lambda0);
    let v0 = DMatrix::from_diagonal(&DVector::from_vec(v0d));
    let zh = DMatrix::from_fn(N, M + 1, |i, a| if a < M { p.z[(i, a)] } else { 1.0 });
    let kmat = &zh * &v0 * zh.transpose() + DMatrix::identity(N, N);
    // Marginal of sigma_d^2: prior times N(x_d | 0, s2 (Zh V0 Zh^T + I)).
    let log_density = |d: usize, s2: f64| -> f64 {
        let xd = DVector::from_fn(N, |i, _| x[(i, d)]);
        log_inv_gamma_scaled(s2, h.nu0, h.sigmasq0)
            + log_mvn(&xd, &DVector::zeros(N), &(&kmat * s2))
    };
    let mut draws = Vec::new();
    let mut mom = Moments::new(D * (M + 1));
    for t in 0..DRAWS {
        sample_w_mu_sigmasq_blocked(&mut s, &h, &prior, &stream(t, Step::Blocked));
        draws.push(s.sigmasq().iter().map(|&v| v as f64).collect::<Vec<f64>>());
        let (w, mu) = (s.w(), s.mu());
        let v: Vec<f64> = (0..D * (M + 1))
            .map(|k| {
                let (d, a) = (k / (M + 1), k % (M + 1));
                if a < M {
                    w[(d, a)] as f64
                } else {
                    mu[d] as f64
                }
            })
            .collect();
        mom.add(&v);
    }
    check_scalar_moments(
        &format!("blocked sigma^2 ({prior:?})"),
        &draws,
        &log_density,
    );
    // (w_d, mu_d): mean does not depend on s2; covariance is E[s2] times the unit posterior.
    let ki = inv(&kmat);
    let unit_cov = &v0 - &v0 * zh.transpose() * &ki * &zh * &v0;
    let mut mean = DVector::zeros(D * (M + 1));
    let mut cov = DMatrix::zeros(D * (M + 1), D * (M + 1));
    for d in 0..D {
        let xd = DVector::from_fn(N, |i, _| x[(i, d)]);
        let md = &v0 * zh.transpose() * &ki * xd;
        let es2 = quadrature(|s2| log_density(d, s2), &[&|s| s])[0];
        for a in 0..=M {
            mean[d * (M + 1) + a] = md[a];
            for b in 0..=M {
                cov[(d * (M + 1) + a, d * (M + 1) + b)] = es2 * unit_cov[(a, b)];
            }
        }
    }
    // The draws are a scale mixture of Gaussians: mean and covariance still match exactly;
    // the Gaussian standard errors are close enough for a 4.5 z limit at this size.
    check_gaussian(&format!("blocked (w, mu) ({prior:?})"), &mom, &mean, &cov);
}

#[test]
fn blocked_step_matches_marginal_algebra_isotropic() {
    check_blocked(Prior::Isotropic, 8);
}

#[test]
fn blocked_step_matches_marginal_algebra_decaying() {
    check_blocked(decaying(), 9);
}

/// The log joint of SPEC 6 written with dense multivariate normal densities.
fn brute_log_joint(x: &DMatrix<f64>, p: &Params, h: &Hyperparameters, prior: &Prior) -> f64 {
    let s = DMatrix::from_diagonal(&DVector::from_vec(p.sigmasq.clone()));
    let mut l = 0.0;
    for i in 0..N {
        let xi = DVector::from_fn(D, |j, _| x[(i, j)]);
        let mean = &p.w * p.z.row(i).transpose() + DVector::from_vec(p.mu.clone());
        l += log_mvn(&xi, &mean, &s);
        let zi = p.z.row(i).transpose();
        l += log_mvn(&zi, &DVector::zeros(M), &DMatrix::identity(M, M));
    }
    let cv = column_variances(h, prior);
    for d in 0..D {
        let wd = p.w.row(d).transpose();
        let c = DMatrix::from_diagonal(&DVector::from_vec(cv.clone())) * p.sigmasq[d];
        l += log_mvn(&wd, &DVector::zeros(M), &c);
        let mu = DVector::from_element(1, p.mu[d]);
        l += log_mvn(
            &mu,
            &DVector::zeros(1),
            &DMatrix::from_element(1, 1, p.sigmasq[d] / h.lambda0),
        );
        l += log_inv_gamma_scaled(p.sigmasq[d], h.nu0, h.sigmasq0);
    }
    l
}

#[test]
fn log_joint_matches_dense_densities() {
    let h = hyper();
    for (seed, prior) in [(10, Prior::Isotropic), (11, decaying())] {
        let mut s = tiny_state(seed);
        let (x, p) = state_f64(&s);
        let ours = log_joint(&mut s, &h, &prior);
        let brute = brute_log_joint(&x, &p, &h, &prior);
        eprintln!("log joint {prior:?}: {ours} vs dense {brute}");
        assert!(
            (ours - brute).abs() < 1e-6 * brute.abs().max(1.0),
            "{ours} vs {brute}"
        );
        // After sweeps' worth of updates the cached residual sums (updated incrementally by
        // the X_miss step, or recomputed in its pass) must still give the same log joint.
        for t in 0..3 {
            sample_z(&mut s, &stream(t, Step::Z));
            if t == 1 {
                sample_w_mu_sigmasq_blocked(&mut s, &h, &prior, &stream(t, Step::Blocked));
            } else {
                sample_w(&mut s, &h, &prior, &stream(t, Step::W));
                sample_mu(&mut s, &h, &stream(t, Step::Mu));
                sample_sigmasq(&mut s, &h, &prior, &stream(t, Step::Sigmasq));
            }
            sample_x_missing(&mut s, &stream(t, Step::XMissing));
            let ours = log_joint(&mut s, &h, &prior);
            let (x, p) = state_f64(&s);
            let brute = brute_log_joint(&x, &p, &h, &prior);
            assert!(
                (ours - brute).abs() < 1e-6 * brute.abs().max(1.0),
                "sweep {t}: {ours} vs {brute}"
            );
        }
    }
}

#[test]
fn ln_gamma_matches_known_values() {
    // Gamma(1) = Gamma(2) = 1, Gamma(5) = 24, Gamma(1/2) = sqrt(pi), Gamma(0.1) = 9.5135...
    assert!(ln_gamma(1.0).abs() < 1e-13);
    assert!(ln_gamma(2.0).abs() < 1e-13);
    assert!((ln_gamma(5.0) - 24f64.ln()).abs() < 1e-12);
    assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-12);
    assert!((ln_gamma(0.1) - 9.513_507_698_668_732f64.ln()).abs() < 1e-12);
    assert!((ln_gamma(100.5) - 361.435_540_467_777_6).abs() < 1e-9);
}
