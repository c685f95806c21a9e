//! Times full Gibbs sweeps at the target size N = 10000, D = 784, M = 50 with ~10% of the
//! pixels missing, on synthetic low-rank data. Prints the median, min and max per sweep and
//! the median of each step. Run with `cargo bench --bench sweep` (env SWEEP_SCHEDULE=blocked
//! for the blocked schedule, SWEEP_COUNT to change the number of timed sweeps).

use gibbs_fa::model::{GibbsSampler, Problem, SamplerSettings, Schedule, StepTimes};
use rand::RngExt;
use rand::SeedableRng;
use rand::rngs::SmallRng;
use rand_distr::{Distribution, StandardNormal};

fn synthetic_problem(n: usize, d: usize, rank: usize, missing_p: f64) -> Problem {
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

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let schedule = match std::env::var("SWEEP_SCHEDULE").as_deref() {
        Ok("blocked") => Schedule::Blocked,
        _ => Schedule::Notebook,
    };
    let count: usize = std::env::var("SWEEP_COUNT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let (n, d, m) = (10_000, 784, 50);
    let problem = synthetic_problem(n, d, 20, 0.1);
    let mut settings = SamplerSettings {
        schedule,
        ..SamplerSettings::default()
    };
    settings.hyper.m = m;
    settings.burn_in = 3;
    let mut sampler = match GibbsSampler::new(&problem, &settings) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("cannot build the sampler: {e}");
            std::process::exit(1);
        }
    };
    for _ in 0..5 {
        sampler.sweep();
    }
    let records: Vec<_> = (0..count).map(|_| sampler.sweep()).collect();
    let mut total: Vec<f64> = records.iter().map(|r| r.seconds).collect();
    let step = |f: fn(&StepTimes) -> f64| {
        let mut v: Vec<f64> = records.iter().map(|r| f(&r.steps)).collect();
        median(&mut v) * 1e3
    };
    println!(
        "sweep N={n} D={d} M={m}, {:.1}% missing, schedule {schedule:?}, {count} timed sweeps",
        100.0 * sampler.missing_fraction()
    );
    let med = median(&mut total) * 1e3;
    println!(
        "per sweep: median {med:.1} ms, min {:.1} ms, max {:.1} ms",
        total[0] * 1e3,
        total[total.len() - 1] * 1e3
    );
    println!(
        "step medians (ms): Z {:.1}, W {:.1}, mu {:.1}, sigma^2 {:.1}, X_miss {:.1}, log joint {:.1}, moments+RMSE {:.1}",
        step(|s| s.z),
        step(|s| s.w),
        step(|s| s.mu),
        step(|s| s.sigmasq),
        step(|s| s.x_missing),
        step(|s| s.log_joint),
        step(|s| s.moments)
    );
    if let Some(last) = records.last() {
        println!(
            "last sweep: log joint {:.4e}, RMSE sample {:?}, posterior mean {:?} (mean imputation {:?})",
            last.log_joint,
            last.rmse_sample,
            last.rmse_posterior_mean,
            sampler.rmse_mean_impute()
        );
    }
}
