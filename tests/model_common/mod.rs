//! Helpers shared by the model tests: prior and likelihood simulators written independently
//! of the sampler, batch-means standard errors, and dense Gaussian algebra in f64.
#![allow(dead_code)]

use gibbs_fa::model::{Hyperparameters, Prior};
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand::rngs::SmallRng;
use rand_distr::{Distribution, Gamma, StandardNormal};

/// A draw of every unknown of the model.
#[derive(Clone, Debug)]
pub struct Params {
    /// D x M
    pub w: DMatrix<f64>,
    /// N x M
    pub z: DMatrix<f64>,
    pub mu: Vec<f64>,
    pub sigmasq: Vec<f64>,
}

pub fn rng(seed: u64) -> SmallRng {
    SmallRng::seed_from_u64(seed)
}

pub fn normal(rng: &mut SmallRng) -> f64 {
    StandardNormal.sample(rng)
}

/// Prior variances of the columns of W relative to sigma_d^2 (Sigma_c's diagonal).
pub fn column_variances(hyper: &Hyperparameters, prior: &Prior) -> Vec<f64> {
    match *prior {
        Prior::Isotropic => vec![1.0 / hyper.kappa0; hyper.m],
        Prior::Decaying { tau0, rho } => (0..hyper.m).map(|m| tau0 * rho.powi(m as i32)).collect(),
    }
}

/// Draws (W, Z, mu, sigma^2) from the prior of SPEC 4 / 8.
pub fn draw_prior(
    rng: &mut SmallRng,
    hyper: &Hyperparameters,
    prior: &Prior,
    n: usize,
    d: usize,
) -> Params {
    let m = hyper.m;
    let cv = column_variances(hyper, prior);
    // sigma^2 ~ Scaled-Inv-chi^2(nu0, s0^2): nu0 s0^2 / chi^2_nu0, chi^2_nu = Gamma(nu/2, scale 2).
    let chi2 = Gamma::new(hyper.nu0 / 2.0, 2.0).expect("valid gamma");
    let sigmasq: Vec<f64> = (0..d)
        .map(|_| hyper.nu0 * hyper.sigmasq0 / chi2.sample(rng))
        .collect();
    let mut w = DMatrix::zeros(d, m);
    for dd in 0..d {
        for a in 0..m {
            w[(dd, a)] = (sigmasq[dd] * cv[a]).sqrt() * normal(rng);
        }
    }
    let mu = (0..d)
        .map(|dd| (sigmasq[dd] / hyper.lambda0).sqrt() * normal(rng))
        .collect();
    let z = DMatrix::from_fn(n, m, |_, _| normal(rng));
    Params { w, z, mu, sigmasq }
}

/// Draws X (row-major N x D) from the likelihood x_n ~ N(W z_n + mu, diag(sigma^2)).
pub fn draw_data(rng: &mut SmallRng, p: &Params) -> Vec<f64> {
    let (n, d) = (p.z.nrows(), p.w.nrows());
    let mean = &p.z * p.w.transpose();
    let mut x = vec![0.0; n * d];
    for i in 0..n {
        for j in 0..d {
            x[i * d + j] = mean[(i, j)] + p.mu[j] + p.sigmasq[j].sqrt() * normal(rng);
        }
    }
    x
}

pub fn to_f32(v: &[f64]) -> Vec<f32> {
    v.iter().map(|&x| x as f32).collect()
}

pub fn mat_f32(a: &DMatrix<f64>) -> DMatrix<f32> {
    a.map(|v| v as f32)
}

pub fn mat_f64(a: &DMatrix<f32>) -> DMatrix<f64> {
    a.map(|v| v as f64)
}

/// Mean and standard error of the mean of an autocorrelated series, by batch means.
pub fn batch_mean_se(series: &[f64], batches: usize) -> (f64, f64) {
    let len = series.len() / batches * batches;
    let mean = series[..len].iter().sum::<f64>() / len as f64;
    let size = len / batches;
    let bm: Vec<f64> = series[..len]
        .chunks(size)
        .map(|c| c.iter().sum::<f64>() / size as f64)
        .collect();
    let var = bm.iter().map(|b| (b - mean).powi(2)).sum::<f64>() / (batches - 1) as f64;
    (mean, (var / batches as f64).sqrt())
}

/// Mean and standard error of independent draws.
pub fn iid_mean_se(series: &[f64]) -> (f64, f64) {
    let n = series.len() as f64;
    let mean = series.iter().sum::<f64>() / n;
    let var = series.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (var / n).sqrt())
}

/// The folder of the MNIST files from GIBBS_FA_DATA. None (after printing a note) when it is
/// not set, unless CI=true, where a missing folder fails the test.
pub fn mnist_dir() -> Option<std::path::PathBuf> {
    let dir = std::env::var_os("GIBBS_FA_DATA").map(std::path::PathBuf::from);
    let ok = dir
        .as_ref()
        .is_some_and(|d| d.join("t10k-images-idx3-ubyte.gz").exists());
    if ok {
        return dir;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("CI=true but GIBBS_FA_DATA does not hold t10k-images-idx3-ubyte.gz");
    }
    eprintln!("note: GIBBS_FA_DATA not set (or without MNIST); skipping the MNIST test");
    None
}
