//! Edge cases: degenerate masks and shapes, extreme hyperparameters, bad inputs and settings.
//! Every case ends in finite numbers or a clear error, never a panic or NaN.

mod model_common;

use gibbs_fa::model::{
    GibbsSampler, Hyperparameters, ModelError, Prior, Problem, SamplerSettings, Schedule,
};
use model_common::*;

fn problem(n: usize, d: usize, missing: impl Fn(usize, usize) -> bool, seed: u64) -> Problem {
    let mut r = rng(seed);
    let x: Vec<f32> = (0..n * d)
        .map(|_| (50.0 + 20.0 * normal(&mut r)) as f32)
        .collect();
    Problem {
        n,
        d,
        x_observed: x.clone(),
        missing: (0..n * d).map(|k| missing(k / d, k % d)).collect(),
        x_true: Some(x),
    }
}

fn settings(m: usize, schedule: Schedule) -> SamplerSettings {
    SamplerSettings {
        hyper: Hyperparameters {
            m,
            ..Hyperparameters::default()
        },
        schedule,
        sweeps: 20,
        burn_in: 5,
        ..SamplerSettings::default()
    }
}

/// Runs `sweeps` sweeps and checks that every number the sampler reports is finite.
fn run_finite(p: &Problem, s: &SamplerSettings, sweeps: usize) -> GibbsSampler {
    let mut g = GibbsSampler::new(p, s).expect("sampler");
    for _ in 0..sweeps {
        let r = g.sweep();
        assert!(r.log_joint.is_finite(), "log joint {}", r.log_joint);
        assert!(r.rmse_sample.is_none_or(f64::is_finite));
        assert!(r.rmse_posterior_mean.is_none_or(f64::is_finite));
    }
    assert!(g.w().iter().all(|v| v.is_finite()));
    assert!(g.mu().iter().all(|v| v.is_finite()));
    assert!(g.sigmasq().iter().all(|v| v.is_finite() && *v > 0.0));
    assert!(g.reconstruction().iter().all(|v| v.is_finite()));
    assert!(g.posterior_std().iter().all(|v| v.is_finite() && *v >= 0.0));
    let pm = g.posterior_mu();
    let ps = g.posterior_sigmasq();
    assert!(
        pm.mean
            .iter()
            .chain(&pm.std)
            .chain(&ps.mean)
            .chain(&ps.std)
            .all(|v| v.is_finite())
    );
    for i in 0..p.n {
        let s = g.image_summary(i).expect("summary");
        assert!(
            s.current
                .iter()
                .chain(&s.posterior_mean)
                .chain(&s.posterior_std)
                .all(|v| v.is_finite())
        );
    }
    g
}

#[test]
fn column_never_observed_and_column_observed_once() {
    // Column 2 never observed, column 4 observed only in image 0.
    let p = problem(30, 6, |i, d| d == 2 || (d == 4 && i > 0), 1);
    for schedule in [Schedule::Notebook, Schedule::Blocked] {
        let g = run_finite(&p, &settings(3, schedule), 30);
        assert!(g.rmse_mean_impute().is_some_and(f64::is_finite));
    }
}

#[test]
fn wholly_masked_image_and_everything_masked() {
    let p = problem(20, 5, |i, _| i == 7, 2);
    let g = run_finite(&p, &settings(2, Schedule::Notebook), 30);
    let s = g.image_summary(7).expect("summary");
    assert!(s.rmse.is_some_and(f64::is_finite));
    assert!(
        s.posterior_std.iter().all(|&v| v > 0.0),
        "a masked image has uncertainty"
    );
    let all = problem(10, 4, |_, _| true, 3);
    for schedule in [Schedule::Notebook, Schedule::Blocked] {
        run_finite(&all, &settings(2, schedule), 30);
    }
}

#[test]
fn single_image_single_factor_single_pixel() {
    for (n, d, m) in [(1, 5, 2), (1, 1, 1), (5, 1, 3), (8, 6, 1), (3, 4, 10)] {
        let p = problem(n, d, |i, j| (i + j) % 3 == 0, 4);
        for schedule in [Schedule::Notebook, Schedule::Blocked] {
            run_finite(&p, &settings(m, schedule), 25);
        }
    }
}

#[test]
fn constant_columns_and_huge_values() {
    let mut p = problem(15, 5, |i, d| i == d, 5);
    for i in 0..15 {
        p.x_observed[i * 5 + 1] = 0.0; // constant column (MNIST corners without noise)
        p.x_observed[i * 5 + 3] = 1e6 + (i as f32);
        p.x_observed[i * 5 + 4] = if i % 2 == 0 { 1e12 } else { -1e12 };
    }
    p.x_true = Some(p.x_observed.clone());
    for schedule in [Schedule::Notebook, Schedule::Blocked] {
        run_finite(&p, &settings(2, schedule), 30);
    }
}

#[test]
fn extreme_hyperparameters_stay_finite() {
    let p = problem(12, 5, |i, d| (i * 5 + d) % 4 == 0, 6);
    for value in [1e-12, 1e-8, 1e8, 1e12] {
        for which in 0..4 {
            let mut s = settings(3, Schedule::Notebook);
            match which {
                0 => s.hyper.nu0 = value,
                1 => s.hyper.sigmasq0 = value,
                2 => s.hyper.kappa0 = value,
                _ => s.hyper.lambda0 = value,
            }
            for schedule in [Schedule::Notebook, Schedule::Blocked] {
                s.schedule = schedule;
                run_finite(&p, &s, 30);
            }
        }
        let mut s = settings(3, Schedule::Notebook);
        s.hyper = Hyperparameters {
            m: 3,
            nu0: value,
            sigmasq0: value,
            kappa0: value,
            lambda0: value,
        };
        s.prior = Prior::Decaying {
            tau0: value,
            rho: 1e-8,
        };
        run_finite(&p, &s, 30);
    }
}

#[test]
fn bad_inputs_are_errors() {
    let good = problem(4, 3, |i, _| i == 0, 7);
    let s = settings(2, Schedule::Notebook);
    let mut p = good.clone();
    p.x_observed[5] = f32::NAN;
    assert!(matches!(
        GibbsSampler::new(&p, &s),
        Err(ModelError::NonFiniteInput { .. })
    ));
    let mut p = good.clone();
    p.x_observed[4] = f32::INFINITY;
    assert!(matches!(
        GibbsSampler::new(&p, &s),
        Err(ModelError::NonFiniteInput { .. })
    ));
    // NaN at a missing entry is ignored.
    let mut p = good.clone();
    p.x_observed[1] = f32::NAN;
    assert!(GibbsSampler::new(&p, &s).is_ok());
    let mut p = good.clone();
    if let Some(t) = p.x_true.as_mut() {
        t[0] = f32::NAN;
    }
    assert!(matches!(
        GibbsSampler::new(&p, &s),
        Err(ModelError::NonFiniteInput { .. })
    ));
    let mut p = good.clone();
    p.x_observed[7] = 2e12;
    assert!(matches!(
        GibbsSampler::new(&p, &s),
        Err(ModelError::ValueTooLarge { .. })
    ));
    let mut p = good.clone();
    p.missing.pop();
    assert!(matches!(
        GibbsSampler::new(&p, &s),
        Err(ModelError::ShapeMismatch { .. })
    ));
    let mut p = good.clone();
    p.n = 0;
    assert!(matches!(
        GibbsSampler::new(&p, &s),
        Err(ModelError::EmptyProblem { .. })
    ));
    let mut p = good.clone();
    p.n = usize::MAX;
    assert!(GibbsSampler::new(&p, &s).is_err());

    for bad in [f64::NAN, f64::INFINITY, 0.0, -1.0, 1e300] {
        for which in 0..4 {
            let mut s = settings(2, Schedule::Notebook);
            match which {
                0 => s.hyper.nu0 = bad,
                1 => s.hyper.sigmasq0 = bad,
                2 => s.hyper.kappa0 = bad,
                _ => s.hyper.lambda0 = bad,
            }
            assert!(matches!(
                GibbsSampler::new(&good, &s),
                Err(ModelError::InvalidHyperparameter { .. })
            ));
        }
        let mut s = settings(2, Schedule::Notebook);
        s.prior = Prior::Decaying {
            tau0: bad,
            rho: 0.5,
        };
        assert!(GibbsSampler::new(&good, &s).is_err());
        s.prior = Prior::Decaying {
            tau0: 1.0,
            rho: bad,
        };
        assert!(GibbsSampler::new(&good, &s).is_err());
    }
    let mut s = settings(0, Schedule::Notebook);
    assert!(GibbsSampler::new(&good, &s).is_err());
    s.hyper.m = 5000;
    assert!(GibbsSampler::new(&good, &s).is_err());
    let mut s = settings(2, Schedule::Notebook);
    s.sweeps = 0;
    assert!(matches!(
        GibbsSampler::new(&good, &s),
        Err(ModelError::InvalidRunLength { .. })
    ));
    s.sweeps = 10;
    s.burn_in = 10;
    assert!(matches!(
        GibbsSampler::new(&good, &s),
        Err(ModelError::InvalidRunLength { .. })
    ));
    let huge = settings(1024, Schedule::Notebook);
    assert!(matches!(
        huge.validate(1 << 22, 1 << 12),
        Err(ModelError::TooLarge { .. })
    ));
}

/// The state is built from a problem big enough for the parallel copy into column-major X
/// (300 x 120, four tiles of columns): every observed value lands at its place, and a bad value
/// in a later tile is reported at its own row and column.
#[test]
fn a_big_state_holds_every_value_and_reports_a_bad_one_where_it_is() {
    use gibbs_fa::model::ModelState;
    let (n, d) = (300, 120);
    let x: Vec<f32> = (0..n * d).map(|k| (k % 977) as f32 * 0.25).collect();
    let missing = vec![false; n * d];
    let state = ModelState::new(n, d, &x, &missing, 3).unwrap();
    for i in 0..n {
        for j in 0..d {
            assert_eq!(state.x_at(i, j), x[i * d + j], "entry ({i}, {j})");
        }
    }
    let mut bad = x.clone();
    bad[250 * d + 101] = f32::NAN;
    match ModelState::new(n, d, &bad, &missing, 3) {
        Err(ModelError::NonFiniteInput { row, col, .. }) => assert_eq!((row, col), (250, 101)),
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("a NaN was accepted"),
    }
}

#[test]
fn setting_changes_and_summaries() {
    let p = problem(25, 6, |i, d| (i + 2 * d) % 5 == 0, 8);
    let mut g = GibbsSampler::new(&p, &settings(2, Schedule::Notebook)).expect("sampler");
    assert!(g.image_summary(25).is_none());
    // Before burn-in ends: posterior mean = current sample, std 0.
    g.sweep();
    let s = g.image_summary(0).expect("summary");
    assert_eq!(s.current, s.posterior_mean);
    assert!(s.posterior_std.iter().all(|&v| v == 0.0));
    assert_eq!(g.posterior_mu().mean, g.mu().to_vec());
    for _ in 0..9 {
        g.sweep();
    }
    assert_eq!(g.iteration(), 10);
    assert_eq!(g.samples_in_moments(), 5);
    assert_eq!(g.traces().log_joint.len(), 10);
    assert_eq!(g.traces().rmse_posterior_mean.len(), 10);
    // Observed pixels are copied into the summaries, with std 0.
    let s = g.image_summary(1).expect("summary");
    for d in 0..6 {
        if !p.missing[6 + d] {
            assert_eq!(s.posterior_mean[d], p.x_observed[6 + d]);
            assert_eq!(s.posterior_std[d], 0.0);
        }
    }
    // A change of M needs a new sampler.
    let mut h = g.settings().hyper.clone();
    h.m = 3;
    assert!(matches!(
        g.set_hyperparameters(h),
        Err(ModelError::NeedsNewSampler { .. })
    ));
    assert_eq!(
        g.samples_in_moments(),
        5,
        "a refused change keeps the moments"
    );
    // Same values: nothing restarts.
    g.set_hyperparameters(g.settings().hyper.clone())
        .expect("same");
    g.set_schedule(Schedule::Notebook);
    assert_eq!(g.samples_in_moments(), 5);
    // A real change clears the moments and counts burn-in (5) again from here.
    let mut h = g.settings().hyper.clone();
    h.kappa0 = 0.5;
    g.set_hyperparameters(h).expect("kappa0");
    assert_eq!(g.samples_in_moments(), 0);
    for _ in 0..5 {
        g.sweep();
    }
    assert_eq!(g.samples_in_moments(), 0);
    g.sweep();
    assert_eq!(g.samples_in_moments(), 1);
    g.set_prior(Prior::Decaying {
        tau0: 1.0,
        rho: 0.8,
    })
    .expect("prior");
    assert_eq!(g.samples_in_moments(), 0);
    assert!(
        g.set_prior(Prior::Decaying {
            tau0: 1.0,
            rho: 2.0
        })
        .is_err()
    );
    g.set_schedule(Schedule::Blocked);
    assert_eq!(g.settings().schedule, Schedule::Blocked);
    assert!(g.set_run_length(10, 10).is_err());
    g.set_run_length(400, 3).expect("run length");
    for _ in 0..4 {
        g.sweep();
    }
    assert_eq!(g.samples_in_moments(), 1);
    assert!((g.missing_fraction() - p.missing_fraction()).abs() < 1e-12);
}

#[test]
fn adversarial_combinations_stay_finite() {
    // Data scales from tiny to the largest accepted, every hyperparameter at either end of
    // its range, fewer images than factors: the sampler clamps rather than overflowing.
    for scale in [1e-6f32, 1.0, 255.0, 1e6, 1e12] {
        for (n, m) in [(1, 4), (3, 1), (6, 4)] {
            let mut p = problem(n, 5, |i, d| (i + d) % 3 == 0, 9);
            for v in p.x_observed.iter_mut() {
                *v = ((*v - 50.0) / 20.0).clamp(-1.0, 1.0) * scale;
            }
            p.x_true = Some(p.x_observed.clone());
            for bits in 0..16u32 {
                let end = |b: u32| if bits & (1 << b) == 0 { 1e-12 } else { 1e12 };
                let mut s = settings(m, Schedule::Notebook);
                s.hyper.nu0 = end(0);
                s.hyper.sigmasq0 = end(1);
                s.hyper.kappa0 = end(2);
                s.hyper.lambda0 = end(3);
                for schedule in [Schedule::Notebook, Schedule::Blocked] {
                    s.schedule = schedule;
                    run_finite(&p, &s, 30);
                }
            }
        }
    }
}

#[test]
fn summaries_match_moments_of_the_recorded_samples() {
    // Record every sample after burn-in by hand; the sampler's running moments must agree.
    let p = problem(40, 7, |i, d| (3 * i + d) % 4 == 0, 10);
    let s = settings(3, Schedule::Notebook);
    let mut g = GibbsSampler::new(&p, &s).expect("sampler");
    let (n, d) = (p.n, p.d);
    let mut xs: Vec<Vec<f64>> = Vec::new();
    let mut mus: Vec<Vec<f64>> = Vec::new();
    let mut s2s: Vec<Vec<f64>> = Vec::new();
    for t in 1..=20 {
        g.sweep();
        if t > s.burn_in {
            let x = g.state().completed_x();
            xs.push((0..n * d).map(|k| x[(k / d, k % d)] as f64).collect());
            mus.push(g.mu().iter().map(|&v| v as f64).collect());
            s2s.push(g.sigmasq().iter().map(|&v| v as f64).collect());
        }
    }
    assert_eq!(g.samples_in_moments(), xs.len());
    let mean_std = |rows: &[Vec<f64>], k: usize| {
        let c = rows.len() as f64;
        let m = rows.iter().map(|r| r[k]).sum::<f64>() / c;
        let v = rows.iter().map(|r| (r[k] - m).powi(2)).sum::<f64>() / (c - 1.0);
        (m, v.sqrt())
    };
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-4 * (1.0 + b.abs());
    let recon = g.reconstruction();
    let std = g.posterior_std();
    for k in 0..n * d {
        if p.missing[k] {
            let (m, sd) = mean_std(&xs, k);
            assert!(
                close(recon[k] as f64, m),
                "mean of entry {k}: {} vs {m}",
                recon[k]
            );
            assert!(
                close(std[k] as f64, sd),
                "std of entry {k}: {} vs {sd}",
                std[k]
            );
        } else {
            assert_eq!(recon[k], p.x_observed[k]);
            assert_eq!(std[k], 0.0);
        }
    }
    let (pm, ps) = (g.posterior_mu(), g.posterior_sigmasq());
    for j in 0..d {
        let (m, sd) = mean_std(&mus, j);
        assert!(close(pm.mean[j] as f64, m) && close(pm.std[j] as f64, sd));
        let (m, sd) = mean_std(&s2s, j);
        assert!(close(ps.mean[j] as f64, m) && close(ps.std[j] as f64, sd));
    }
    // Image summaries agree with the full matrices.
    let im = g.image_summary(3).expect("summary");
    assert_eq!(im.posterior_mean, recon[3 * d..4 * d].to_vec());
    assert_eq!(im.posterior_std, std[3 * d..4 * d].to_vec());
}
