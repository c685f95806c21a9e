//! The X_miss pass folds each new value into the running moments and scores it against the
//! truth as it draws ([`super::x_missing::Tally`]). Checked against the definitions: the
//! plain mean and standard deviation of the kept samples and the RMSE computed from X.

use super::GibbsSampler;
use super::{Problem, SamplerSettings, Schedule};

/// Big enough (N x D above the parallel threshold) that several column groups run on the pool.
const N: usize = 200;
const D: usize = 200;
const BURN_IN: usize = 4;
const SWEEPS: usize = 12;

fn sampler() -> GibbsSampler {
    let x: Vec<f32> = (0..N * D)
        .map(|k| {
            let (i, j) = (k / D, k % D);
            90.0 + 50.0 * ((i as f32 * 0.13 + j as f32 * 0.07).sin()) + (k % 5) as f32
        })
        .collect();
    // About a fifth missing, but columns 10..30 fully observed (groups with empty parts).
    let missing: Vec<bool> = (0..N * D)
        .map(|k| !(10..30).contains(&(k % D)) && (k * 2654435761usize) % 89 < 18)
        .collect();
    let problem = Problem {
        n: N,
        d: D,
        x_observed: x.clone(),
        missing,
        x_true: Some(x),
    };
    let mut settings = SamplerSettings {
        schedule: Schedule::Notebook,
        sweeps: SWEEPS,
        burn_in: BURN_IN,
        seed: 11,
        ..SamplerSettings::default()
    };
    settings.hyper.m = 4;
    GibbsSampler::new(&problem, &settings).unwrap()
}

/// How far the missing pixels' moments, stored in f32, may drift from exact ones over this
/// test's draws, for a mean of size `mean`: each stored mean is rounded by at most half an f32
/// unit (EPSILON |mean| / 2) and the errors add over at most SWEEPS draws (a std is off by
/// about the mean's error, since its sum of squares is taken around the stored mean).
fn f32_drift(mean: f64) -> f64 {
    SWEEPS as f64 * f32::EPSILON as f64 * mean.abs() / 2.0
}

#[test]
fn tallied_moments_and_rmse_match_their_definitions() {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    pool.install(|| {
        let mut g = sampler();
        let idx = g.state().missing().clone();
        let truth = g.truth_missing().unwrap().to_vec();
        assert_eq!(truth.len(), idx.len());
        let mut kept: Vec<Vec<f64>> = Vec::new();
        for sweep in 1..=SWEEPS {
            let record = g.sweep();
            let x = g.state().completed_x();
            let current: Vec<f64> = (0..idx.len())
                .map(|k| x[(idx.rows()[k] as usize, idx.cols()[k] as usize)] as f64)
                .collect();
            if sweep > BURN_IN {
                kept.push(current.clone());
            }
            let mean: Vec<f64> = if kept.is_empty() {
                current.clone()
            } else {
                (0..idx.len())
                    .map(|k| kept.iter().map(|s| s[k]).sum::<f64>() / kept.len() as f64)
                    .collect()
            };
            let rmse = |v: &[f64]| {
                let ss: f64 = v
                    .iter()
                    .zip(&truth)
                    .map(|(a, &t)| (a - t as f64).powi(2))
                    .sum();
                (ss / v.len() as f64).sqrt()
            };
            let (sample, posterior) = (
                record.rmse_sample.expect("truth is known"),
                record.rmse_posterior_mean.expect("truth is known"),
            );
            assert!(sample.is_finite() && posterior.is_finite());
            assert!(
                (sample - rmse(&current)).abs() <= 1e-9 * sample,
                "sweep {sweep}"
            );
            let largest = mean.iter().fold(0.0f64, |a, m| a.max(m.abs()));
            assert!(
                (posterior - rmse(&mean)).abs() <= 1e-9 * posterior + f32_drift(largest),
                "sweep {sweep}"
            );
            assert_eq!(g.samples_in_moments(), kept.len());
            for k in (0..idx.len()).step_by(7) {
                let m = g.posterior_missing_mean(k) as f64;
                assert!(m.is_finite());
                assert!(
                    (m - mean[k]).abs() <= 1e-5 * (1.0 + mean[k].abs()),
                    "sweep {sweep} entry {k}"
                );
                if kept.len() >= 2 {
                    let var = kept.iter().map(|s| (s[k] - mean[k]).powi(2)).sum::<f64>()
                        / (kept.len() - 1) as f64;
                    let std = g.x_moments.std(k);
                    assert!(std.is_finite());
                    assert!(
                        (std - var.sqrt()).abs() <= 1e-6 * (1.0 + var.sqrt()) + f32_drift(mean[k]),
                        "sweep {sweep} entry {k}: {std} against {}",
                        var.sqrt()
                    );
                }
            }
        }
    });
}

/// X~ stays fl(X - c) entry by entry through the sweeps (the X_miss pass writes both X and X~
/// for each new value): the statistics the Z step sums over X~ are those of X shifted by c.
#[test]
fn shifted_copy_stays_x_minus_the_shift_bit_for_bit() {
    let mut g = sampler();
    for _ in 0..3 {
        g.sweep();
        let state = g.state();
        let (x, xs, shift) = (state.completed_x(), &state.xs, &state.columns.shift);
        for j in 0..D {
            for i in 0..N {
                assert_eq!(
                    xs[(i, j)].to_bits(),
                    (x[(i, j)] - shift[j]).to_bits(),
                    "entry ({i}, {j})"
                );
            }
        }
    }
}
