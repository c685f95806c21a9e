//! Setup shared by the sampler benchmarks (`chains`, `sweep`): the synthetic low-rank problem
//! they time and how they read a size from the environment. Included with `mod common;`; it
//! is not a bench target of its own (cargo only builds `benches/*.rs`).
//!
//! Threads: everything here runs on the caller's thread; nothing blocks beyond its own work
//! (building the problem at N = 10,000, D = 784 takes a few hundred milliseconds).

use gibbs_fa::model::Problem;
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, StandardNormal};

/// N images of D pixels from a rank-`rank` factor model (loadings of scale 30, means around
/// 100, noise std 3), each pixel missing with probability `missing_p`; fixed seeds, so every
/// run and every benchmark times the same data. `x_true` holds the full matrix.
pub fn synthetic_problem(n: usize, d: usize, rank: usize, missing_p: f64) -> Problem {
    let mut rng = SmallRng::seed_from_u64(7);
    let mut normal = || -> f32 { StandardNormal.sample(&mut rng) };
    let w: Vec<f32> = (0..d * rank).map(|_| 30.0 * normal()).collect();
    let mu: Vec<f32> = (0..d).map(|_| 100.0 + 30.0 * normal()).collect();
    let mut x = vec![0.0f32; n * d];
    for i in 0..n {
        let z: Vec<f32> = (0..rank).map(|_| normal()).collect();
        for j in 0..d {
            let wz: f32 = (0..rank).map(|a| w[j * rank + a] * z[a]).sum();
            x[i * d + j] = mu[j] + wz + 3.0 * normal();
        }
    }
    let mut rng = SmallRng::seed_from_u64(8);
    let missing: Vec<bool> = (0..n * d).map(|_| rng.random_bool(missing_p)).collect();
    Problem {
        n,
        d,
        x_observed: x.clone(),
        missing,
        x_true: Some(x),
    }
}

/// A whole number from the environment variable `name`, or `default` when it is unset or not
/// a whole number.
pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}
