//! Issue 13's numerics: the blocked step's sufficient statistics are accurate where f32 would
//! lose digits, the blocked and notebook schedules agree on real data, and numerical
//! fallbacks are counted (zero in a healthy run, nonzero when the sampler had to bend).

mod model_common;

use gibbs_fa::data::idx::read_idx_images;
use gibbs_fa::experiment::{self, ExperimentSpec};
use gibbs_fa::model::conditionals::blocked_scale_sums;
use gibbs_fa::model::{
    GibbsSampler, Hyperparameters, ModelState, Prior, Problem, SamplerSettings, Schedule,
};
use model_common::*;
use nalgebra::{DMatrix, DVector};
use rand::prelude::*;
use rand::rngs::SmallRng;
use rand_distr::StandardNormal;

/// A state whose column 0 is bright (around 1e4) and almost perfectly fitted by Z (residual
/// sd 0.5): x^T x ~ N 1e8 while the residual sum is ~ N 0.25, a ratio of 4e8 that an f32
/// difference (7 digits) cannot resolve. Columns 1 and 2 are ordinary.
fn bright_state(n: usize, m: usize, seed: u64) -> ModelState {
    let d = 3;
    let mut r = SmallRng::seed_from_u64(seed);
    let mut normal = || -> f32 { r.sample(StandardNormal) };
    let z: Vec<f32> = (0..n * m).map(|_| normal()).collect();
    let w_true = [[3.0f32, -2.0], [1.0, 0.5], [0.2, 0.1]];
    let mu_true = [1.0e4f32, 50.0, 0.0];
    let noise = [0.5f32, 2.0, 1.0];
    let mut x = vec![0.0f32; n * d];
    for i in 0..n {
        for j in 0..d {
            let fit: f32 = (0..m).map(|a| w_true[j][a] * z[i * m + a]).sum();
            x[i * d + j] = mu_true[j] + fit + noise[j] * normal();
        }
    }
    let mut s = ModelState::new(n, d, &x, &vec![false; n * d], m).expect("state");
    s.set_z(DMatrix::from_fn(n, m, |i, a| z[i * m + a]))
        .expect("z");
    s
}

#[test]
fn blocked_scale_sums_match_f64_on_a_bright_column() {
    let (n, m) = (4000, 2);
    // lambda0 small, so the prior term lambda0 mu^2 (1e-8 x 1e8 = 1) does not hide the
    // residual sum (~1000) that the difference has to resolve.
    let h = Hyperparameters {
        m,
        lambda0: 1e-8,
        ..Hyperparameters::default()
    };
    let prior = Prior::Isotropic;
    let mut s = bright_state(n, m, 7);
    let x = mat_f64(&s.completed_x());
    let z = mat_f64(s.z());
    let (_, ours) = blocked_scale_sums(&mut s, &h, &prior);

    // The same quantity by direct f64 algebra: Zh = [Z 1], LN = Zh^T Zh + L0, m = LN^-1 Zh^T x,
    // nu0 sigma0^2 + x^T x - m^T LN m, evaluated both as written and as ||x - Zh m||^2 + m^T L0 m.
    let zh = DMatrix::from_fn(n, m + 1, |i, a| if a < m { z[(i, a)] } else { 1.0 });
    let mut ln = zh.transpose() * &zh;
    for a in 0..m {
        ln[(a, a)] += h.kappa0;
    }
    ln[(m, m)] += h.lambda0;
    let chol = ln.clone().cholesky().expect("LN is SPD");
    let mut worst_f32_error: f64 = 0.0;
    for j in 0..3 {
        let xj: DVector<f64> = x.column(j).into_owned();
        let b = zh.transpose() * &xj;
        let mj = chol.solve(&b);
        let as_written = h.nu0 * h.sigmasq0 + xj.dot(&xj) - mj.dot(&(&ln * &mj));
        let resid = &xj - &zh * &mj;
        let l0 = (0..m).map(|a| h.kappa0 * mj[a] * mj[a]).sum::<f64>() + h.lambda0 * mj[m] * mj[m];
        let robust = h.nu0 * h.sigmasq0 + resid.dot(&resid) + l0;
        assert!(ours[j].is_finite() && robust.is_finite() && as_written.is_finite());
        let rel = (ours[j] - robust).abs() / robust;
        eprintln!(
            "column {j}: ours {:.6} direct f64 {robust:.6} (as written {as_written:.6}), relative error {rel:.2e}",
            ours[j]
        );
        // Even in f64 the form as written cancels 4e11 against 4e11 - 1e3 and keeps only
        // ~6 digits of the difference; the two f64 forms must still agree to that.
        assert!(
            (as_written - robust).abs() / robust < 1e-5,
            "the two f64 forms disagree"
        );
        assert!(
            rel < 1e-5,
            "column {j}: {} vs {robust} (relative {rel:.2e})",
            ours[j]
        );

        // What the step would get from f32 sufficient statistics: x^T x and Zh^T x summed in
        // f32. On the bright column the difference is wrong by far more than 1e-5.
        let xx32: f32 = (0..n).map(|i| x[(i, j)] as f32 * x[(i, j)] as f32).sum();
        let b32 = DVector::from_fn(m + 1, |a, _| {
            (0..n)
                .map(|i| zh[(i, a)] as f32 * x[(i, j)] as f32)
                .sum::<f32>() as f64
        });
        let m32 = chol.solve(&b32);
        let f32_form = h.nu0 * h.sigmasq0 + xx32 as f64 - m32.dot(&(&ln * &m32));
        if j == 0 {
            worst_f32_error = (f32_form - robust).abs() / robust;
        }
    }
    eprintln!("column 0 from f32 sums: relative error {worst_f32_error:.2e}");
    assert!(
        worst_f32_error > 1e-3,
        "the bright column should defeat f32 sums (else this test shows nothing)"
    );
}

/// A small well-posed problem: data from the model with a speckle mask.
fn small_problem(n: usize, d: usize, seed: u64) -> Problem {
    let mut r = SmallRng::seed_from_u64(seed);
    let k = 3;
    let w: Vec<f64> = (0..d * k)
        .map(|_| r.sample::<f64, _>(StandardNormal) * 20.0)
        .collect();
    let mut x = vec![0.0f32; n * d];
    let mut missing = vec![false; n * d];
    for i in 0..n {
        let zi: Vec<f64> = (0..k).map(|_| r.sample(StandardNormal)).collect();
        for j in 0..d {
            let fit: f64 = (0..k).map(|a| w[j * k + a] * zi[a]).sum();
            x[i * d + j] = (100.0 + fit + 3.0 * r.sample::<f64, _>(StandardNormal)) as f32;
            missing[i * d + j] = r.random_bool(0.1);
        }
    }
    Problem {
        n,
        d,
        x_observed: x.clone(),
        missing,
        x_true: Some(x),
    }
}

#[test]
fn healthy_runs_report_zero_fallbacks() {
    let p = small_problem(300, 16, 3);
    for schedule in [Schedule::Notebook, Schedule::Blocked] {
        for prior in [
            Prior::Isotropic,
            Prior::Decaying {
                tau0: 1.0,
                rho: 0.8,
            },
        ] {
            let settings = SamplerSettings {
                hyper: Hyperparameters {
                    m: 5,
                    ..Hyperparameters::default()
                },
                prior: prior.clone(),
                schedule,
                ..SamplerSettings::default()
            };
            let mut g = GibbsSampler::new(&p, &settings).expect("sampler");
            for _ in 0..30 {
                let rec = g.sweep();
                assert!(rec.log_joint.is_finite());
                assert_eq!(
                    rec.fallbacks.total(),
                    0,
                    "{schedule:?} {prior:?} sweep {}: {}",
                    rec.iter,
                    rec.fallbacks.describe()
                );
            }
        }
    }
}

#[test]
fn clamped_prior_precision_is_reported() {
    // Decaying prior at M = 50 with rho = 0.5: 1 / 0.5^m exceeds 1e12 from m = 40 on, so ten
    // columns' precisions are clamped to the accepted range, every sweep.
    let p = small_problem(200, 9, 4);
    let settings = SamplerSettings {
        prior: Prior::Decaying {
            tau0: 1.0,
            rho: 0.5,
        },
        ..SamplerSettings::default()
    };
    let mut g = GibbsSampler::new(&p, &settings).expect("sampler");
    let rec = g.sweep();
    assert_eq!(
        rec.fallbacks.prior_precision_clamped, 10,
        "{:?}",
        rec.fallbacks
    );
    assert!(
        rec.fallbacks
            .describe()
            .contains("10 prior precisions clamped")
    );
    assert!(rec.log_joint.is_finite());
}

#[test]
fn clamped_sigmasq_draw_is_reported() {
    // A constant column with a prior scale at the bottom of the accepted range: the sigma^2
    // conditional puts its mass near 1e-12 x 1e-12, below the smallest sigma^2 the sampler
    // keeps, so draws are clamped and counted.
    let (n, d) = (50, 4);
    let p = Problem {
        n,
        d,
        x_observed: vec![0.0; n * d],
        missing: vec![false; n * d],
        x_true: None,
    };
    let settings = SamplerSettings {
        hyper: Hyperparameters {
            m: 1,
            nu0: 1e-12,
            sigmasq0: 1e-12,
            kappa0: 1e12,
            lambda0: 1e12,
        },
        schedule: Schedule::Blocked,
        ..SamplerSettings::default()
    };
    let mut g = GibbsSampler::new(&p, &settings).expect("sampler");
    let mut clamped = 0;
    for _ in 0..5 {
        let rec = g.sweep();
        clamped += rec.fallbacks.sigmasq_clamped;
    }
    assert!(clamped > 0, "no clamp reported");
    assert!(g.sigmasq().iter().all(|v| v.is_finite() && *v > 0.0));
}

/// Blocked and notebook schedules target the same posterior: on MNIST at N = 10,000 their
/// posterior means of sigma^2 agree pixel by pixel within Monte Carlo error (batch means).
/// M = 5 keeps the run short and the chains mixing quickly; both start from the same state.
#[test]
fn blocked_and_notebook_agree_on_mnist_sigmasq() {
    let Some(dir) = mnist_dir() else {
        return;
    };
    let data = read_idx_images(&dir.join("t10k-images-idx3-ubyte.gz"), None).expect("MNIST");
    let spec = ExperimentSpec {
        n: 10_000,
        ..ExperimentSpec::default()
    };
    let exp = experiment::build(&data, &spec).expect("experiment");
    let (burn_in, batches, batch_len) = (40, 20, 8);
    let sweeps = burn_in + batches * batch_len;
    let run = |schedule: Schedule| -> Vec<Vec<f64>> {
        let settings = SamplerSettings {
            hyper: Hyperparameters {
                m: 5,
                ..Hyperparameters::default()
            },
            schedule,
            sweeps,
            burn_in,
            seed: 5,
            ..SamplerSettings::default()
        };
        let mut g = GibbsSampler::new(&exp.problem, &settings).expect("sampler");
        let mut draws = Vec::new();
        for t in 0..sweeps {
            let rec = g.sweep();
            assert!(
                rec.log_joint.is_finite(),
                "{schedule:?}: log joint {}",
                rec.log_joint
            );
            assert_eq!(rec.fallbacks.total(), 0, "{}", rec.fallbacks.describe());
            if t >= burn_in {
                draws.push(g.sigmasq().iter().map(|&v| v as f64).collect::<Vec<f64>>());
            }
        }
        draws
    };
    let start = std::time::Instant::now();
    let blocked = run(Schedule::Blocked);
    let notebook = run(Schedule::Notebook);
    let d = blocked[0].len();
    let mut worst = (0.0f64, 0usize);
    let mut beyond_3 = 0;
    for j in 0..d {
        let a: Vec<f64> = blocked.iter().map(|v| v[j]).collect();
        let b: Vec<f64> = notebook.iter().map(|v| v[j]).collect();
        assert!(
            a.iter().chain(&b).all(|v| v.is_finite() && *v > 0.0),
            "pixel {j}"
        );
        let (ma, sa) = batch_mean_se(&a, batches);
        let (mb, sb) = batch_mean_se(&b, batches);
        let z = (ma - mb) / (sa * sa + sb * sb).sqrt();
        assert!(
            z.is_finite(),
            "pixel {j}: z = {z} ({ma} +- {sa} vs {mb} +- {sb})"
        );
        if z.abs() > 3.0 {
            beyond_3 += 1;
        }
        if z.abs() > worst.0 {
            worst = (z.abs(), j);
        }
    }
    eprintln!(
        "{} sweeps per schedule in {:.1} s; posterior mean sigma^2: largest |z| = {:.2} at pixel {}, {beyond_3} of {d} pixels beyond 3",
        sweeps,
        start.elapsed().as_secs_f64(),
        worst.0,
        worst.1
    );
    // 784 pixels, z from 20 batch means (t with 19 df in each chain): |z| > 6 by chance has
    // probability ~1e-5 per pixel; |z| > 3 about 1%, so ~8 pixels expected, 30 is far out.
    assert!(worst.0 < 6.0, "pixel {}: |z| = {:.2}", worst.1, worst.0);
    assert!(beyond_3 < 30, "{beyond_3} pixels beyond |z| = 3");
}

/// The sampler thread surfaces fallbacks: each sweep's counts in its `Event::Sweep` record,
/// the run's total through `SamplerHandle::fallbacks` (what a status bar shows).
#[test]
fn sampler_thread_reports_fallbacks_per_sweep_and_in_total() {
    use gibbs_fa::sampler::{Event, HandleOptions, SamplerHandle};
    use std::time::{Duration, Instant};
    for (prior, per_sweep) in [
        (Prior::Isotropic, 0u64),
        (
            Prior::Decaying {
                tau0: 1.0,
                rho: 0.5,
            },
            10,
        ),
    ] {
        let settings = SamplerSettings {
            prior,
            sweeps: 12,
            burn_in: 6,
            ..SamplerSettings::default()
        };
        let mut handle = SamplerHandle::spawn(
            small_problem(120, 9, 5),
            settings,
            HandleOptions::default(),
            None,
        )
        .expect("spawn");
        let mut seen = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while seen.len() < 12 && Instant::now() < deadline {
            if let Some(Event::Sweep(r)) = handle.recv_timeout(Duration::from_millis(100)) {
                seen.push(r.fallbacks);
            }
        }
        assert_eq!(seen.len(), 12, "not every sweep arrived");
        for f in &seen {
            assert_eq!(f.prior_precision_clamped, per_sweep, "{f:?}");
            assert_eq!(f.total(), per_sweep, "{}", f.describe());
        }
        let total = handle.fallbacks();
        assert_eq!(total.total(), 12 * per_sweep, "{}", total.describe());
        if per_sweep == 0 {
            assert_eq!(total.describe(), "no numerical fallbacks");
        }
        handle.stop();
    }
}
