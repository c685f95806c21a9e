//! Recovery: data simulated from the model with known W, mu, sigma^2. The posterior must
//! recover the covariance W W^T + S (W itself only up to rotation), mu and sigma^2, and its
//! posterior-mean imputation must be close to the oracle E[x_miss | x_obs] under the true
//! parameters.

mod model_common;

use gibbs_fa::model::{GibbsSampler, Hyperparameters, Prior, Problem, SamplerSettings, Schedule};
use model_common::*;
use nalgebra::{DMatrix, DVector};

const N: usize = 2000;
const D: usize = 20;
const M: usize = 3;

struct Truth {
    w: DMatrix<f64>,
    mu: Vec<f64>,
    sigmasq: Vec<f64>,
    x: Vec<f64>,
    missing: Vec<bool>,
}

fn simulate(seed: u64) -> Truth {
    let mut r = rng(seed);
    let w = DMatrix::from_fn(D, M, |_, _| normal(&mut r));
    let mu: Vec<f64> = (0..D).map(|_| 3.0 * normal(&mut r)).collect();
    let sigmasq: Vec<f64> = (0..D).map(|d| 0.2 + 0.8 * (d as f64 / D as f64)).collect();
    let z = DMatrix::from_fn(N, M, |_, _| normal(&mut r));
    let p = Params {
        w: w.clone(),
        z,
        mu: mu.clone(),
        sigmasq: sigmasq.clone(),
    };
    let x = draw_data(&mut r, &p);
    // 15% speckle, plus every tenth image missing its first half.
    let missing: Vec<bool> = (0..N * D)
        .map(|k| {
            let (i, d) = (k / D, k % D);
            (i % 10 == 0 && d < D / 2) || rand::RngExt::random_bool(&mut r, 0.15)
        })
        .collect();
    Truth {
        w,
        mu,
        sigmasq,
        x,
        missing,
    }
}

fn covariance(t: &Truth) -> DMatrix<f64> {
    &t.w * t.w.transpose() + DMatrix::from_diagonal(&DVector::from_vec(t.sigmasq.clone()))
}

/// E[x_miss | x_obs] under the true Gaussian N(mu, W W^T + S), row-major N x D (observed
/// entries copied).
fn oracle_imputation(t: &Truth) -> Vec<f64> {
    let c = covariance(t);
    let mut out = t.x.clone();
    for i in 0..N {
        let obs: Vec<usize> = (0..D).filter(|&d| !t.missing[i * D + d]).collect();
        let mis: Vec<usize> = (0..D).filter(|&d| t.missing[i * D + d]).collect();
        if mis.is_empty() {
            continue;
        }
        let coo = DMatrix::from_fn(obs.len(), obs.len(), |a, b| c[(obs[a], obs[b])]);
        let cmo = DMatrix::from_fn(mis.len(), obs.len(), |a, b| c[(mis[a], obs[b])]);
        let xo = DVector::from_fn(obs.len(), |a, _| t.x[i * D + obs[a]] - t.mu[obs[a]]);
        let sol = coo.cholesky().expect("pd").solve(&xo);
        let cond = cmo * sol;
        for (a, &d) in mis.iter().enumerate() {
            out[i * D + d] = t.mu[d] + cond[a];
        }
    }
    out
}

fn rmse_missing(a: &[f64], b: &[f64], missing: &[bool]) -> f64 {
    let (mut s, mut n) = (0.0, 0.0);
    for k in 0..a.len() {
        if missing[k] {
            s += (a[k] - b[k]).powi(2);
            n += 1.0;
        }
    }
    (s / n).sqrt()
}

fn recover(schedule: Schedule, seed: u64) {
    let t = simulate(seed);
    let problem = Problem {
        n: N,
        d: D,
        x_observed: to_f32(&t.x),
        missing: t.missing.clone(),
        x_true: Some(to_f32(&t.x)),
    };
    let (sweeps, burn_in) = (600, 200);
    let settings = SamplerSettings {
        hyper: Hyperparameters {
            m: M,
            ..Hyperparameters::default()
        },
        prior: Prior::Isotropic,
        schedule,
        recentre: false,
        sweeps,
        burn_in,
        seed,
    };
    let mut s = GibbsSampler::new(&problem, &settings).expect("sampler");
    let mut cov_sum = DMatrix::<f64>::zeros(D, D);
    for it in 1..=sweeps {
        s.sweep();
        if it > burn_in {
            let w = mat_f64(s.w());
            let sd = DVector::from_iterator(D, s.sigmasq().iter().map(|&v| v as f64));
            cov_sum += &w * w.transpose() + DMatrix::from_diagonal(&sd);
        }
    }
    assert_eq!(s.samples_in_moments(), sweeps - burn_in);
    let cov_post = cov_sum / (sweeps - burn_in) as f64;
    let c = covariance(&t);
    // The complete-data sample covariance: what any estimator is limited by at this N.
    let xm = DMatrix::from_row_slice(N, D, &t.x);
    let mean = xm.row_mean();
    let centred = DMatrix::from_fn(N, D, |i, d| xm[(i, d)] - mean[d]);
    let sample_cov = centred.transpose() * &centred / N as f64;
    let err_post = (&cov_post - &c).norm() / c.norm();
    let err_sample = (&sample_cov - &c).norm() / c.norm();
    eprintln!(
        "{schedule:?}: |C_post - C| / |C| = {err_post:.4}, complete-data sample covariance {err_sample:.4}"
    );
    // The sampling error of a covariance at N = 2000 is ~ sqrt(2/N) per dominant eigenvalue.
    assert!(err_post < 0.15, "covariance not recovered: {err_post}");
    assert!(
        err_post < 2.0 * err_sample + 0.01,
        "covariance worse than 2x the sample covariance"
    );

    // mu: within 4 standard errors of the mean of N draws, sqrt(C_dd / N).
    let mu_post = s.posterior_mu();
    for d in 0..D {
        let se = (c[(d, d)] / N as f64).sqrt();
        let z = (mu_post.mean[d] as f64 - t.mu[d]) / se;
        assert!(
            z.abs() < 4.0,
            "mu_{d}: posterior {} vs true {} (z = {z:.2})",
            mu_post.mean[d],
            t.mu[d]
        );
    }
    // sigma^2: within 4 posterior standard deviations (the posterior's own statement of its
    // uncertainty, here 3-6% of sigma^2), and never off by more than 30%.
    let s_post = s.posterior_sigmasq();
    let mut worst: f64 = 0.0;
    for d in 0..D {
        let (m, sd) = (s_post.mean[d] as f64, s_post.std[d] as f64);
        let z = (m - t.sigmasq[d]) / sd;
        worst = worst.max(z.abs());
        assert!(
            z.abs() < 4.0,
            "sigma^2_{d}: posterior {m:.3} +- {sd:.3} vs true {:.3}",
            t.sigmasq[d]
        );
        assert!(
            (m / t.sigmasq[d] - 1.0).abs() < 0.3,
            "sigma^2_{d} off by more than 30%"
        );
    }
    eprintln!("{schedule:?}: largest |posterior z| of sigma^2 = {worst:.2}");

    // Imputation: close to the oracle conditional mean, and about as accurate.
    let post: Vec<f64> = s.reconstruction().iter().map(|&v| v as f64).collect();
    let oracle = oracle_imputation(&t);
    let to_oracle = rmse_missing(&post, &oracle, &t.missing);
    let oracle_err = rmse_missing(&oracle, &t.x, &t.missing);
    let post_err = rmse_missing(&post, &t.x, &t.missing);
    eprintln!(
        "{schedule:?}: RMSE posterior mean vs oracle {to_oracle:.4}; vs truth: posterior {post_err:.4}, oracle {oracle_err:.4}, mean imputation {:.4}",
        s.rmse_mean_impute().unwrap_or(f64::NAN)
    );
    assert!(
        to_oracle < 0.25 * oracle_err,
        "imputation far from the oracle"
    );
    assert!(
        post_err < 1.05 * oracle_err,
        "imputation much worse than the oracle"
    );
    let reported = s
        .traces()
        .rmse_posterior_mean
        .last()
        .copied()
        .unwrap_or(f64::NAN);
    assert!(
        (reported - post_err).abs() < 1e-4 * post_err,
        "reported RMSE {reported} vs {post_err}"
    );
}

#[test]
fn recovers_parameters_notebook() {
    recover(Schedule::Notebook, 21);
}

#[test]
fn recovers_parameters_blocked() {
    recover(Schedule::Blocked, 22);
}
