//! Changing one image's mask mid-chain ([`GibbsSampler::set_image_mask`]): the state must equal
//! one whose cached statistics are recomputed from scratch, and the chain must sweep on.

use super::state::{MissingIndex, ModelState};
use super::{GibbsSampler, ModelError, Problem, SamplerSettings, Schedule};

const N: usize = 40;
const D: usize = 24;

fn truth() -> Vec<f32> {
    (0..N * D)
        .map(|k| {
            let (i, j) = (k / D, k % D);
            100.0 + 60.0 * ((i as f32 * 0.37 + j as f32 * 0.21).sin()) + (k % 7) as f32
        })
        .collect()
}

fn mask() -> Vec<bool> {
    (0..N * D)
        .map(|k| (k * 2654435761usize) % 97 < 30)
        .collect()
}

fn sampler(schedule: Schedule) -> GibbsSampler {
    let x = truth();
    let problem = Problem {
        n: N,
        d: D,
        x_observed: x.clone(),
        missing: mask(),
        x_true: Some(x),
    };
    let mut settings = SamplerSettings {
        schedule,
        sweeps: 100,
        burn_in: 3,
        seed: 7,
        ..SamplerSettings::default()
    };
    settings.hyper.m = 3;
    GibbsSampler::new(&problem, &settings).unwrap()
}

fn row_major(state: &ModelState) -> Vec<f32> {
    let x = state.completed_x();
    (0..N * D).map(|k| x[(k / D, k % D)]).collect()
}

/// Image 5's new mask: reveals what was hidden in the left half, hides the right half.
fn new_row(old: &[bool]) -> Vec<bool> {
    (0..D)
        .map(|j| {
            if j < D / 2 {
                false
            } else {
                !old[j] || j % 3 == 0
            }
        })
        .collect()
}

#[test]
fn set_image_mask_matches_a_state_rebuilt_from_scratch_and_sweeps_on() {
    for schedule in [Schedule::Notebook, Schedule::Blocked] {
        let mut s = sampler(schedule);
        for _ in 0..6 {
            s.sweep();
        }
        assert!(s.samples_in_moments() > 0);
        let image = 5;
        let x_true = truth();
        let values = &x_true[image * D..(image + 1) * D];
        let mut full = mask();
        let row = new_row(&full[image * D..(image + 1) * D]);
        let before = row_major(s.state());
        full[image * D..(image + 1) * D].copy_from_slice(&row);
        let iteration = s.iteration();

        s.set_image_mask(image, &row, values).unwrap();

        // The index is the one built from the new full mask.
        assert_eq!(
            *s.state().missing(),
            MissingIndex::from_row_major(N, D, &full)
        );
        // Revealed pixels hold the data, newly hidden ones their last value, others untouched.
        let after = row_major(s.state());
        for k in 0..N * D {
            let (i, j) = (k / D, k % D);
            let expected = if i == image && !row[j] {
                values[j]
            } else {
                before[k]
            };
            assert_eq!(after[k].to_bits(), expected.to_bits(), "pixel {k}");
        }
        // Cached column statistics equal a state built from scratch on the same X.
        let mut fresh = ModelState::new(N, D, &after, &full, 3).unwrap();
        fresh.set_z(s.state().z().clone()).unwrap();
        fresh.set_w(s.state().w().clone()).unwrap();
        fresh.set_mu(s.state().mu()).unwrap();
        fresh.set_sigmasq(s.state().sigmasq()).unwrap();
        assert_eq!(s.state().columns, fresh.columns);
        assert_eq!(s.state_mut().residual_sums(), fresh.residual_sums());
        // The truth follows the new index, so the RMSE is scored on the new missing set.
        let idx = s.state().missing().clone();
        let expected_truth: Vec<f32> = idx
            .rows()
            .iter()
            .zip(idx.cols())
            .map(|(&i, &j)| x_true[i as usize * D + j as usize])
            .collect();
        assert_eq!(s.truth_missing(), Some(expected_truth.as_slice()));
        // The moments restarted, the iteration counter did not.
        assert_eq!(s.samples_in_moments(), 0);
        assert_eq!(s.iteration(), iteration);
        assert!(s.rmse_mean_impute().is_some_and(f64::is_finite));

        for _ in 0..8 {
            let r = s.sweep();
            assert!(r.log_joint.is_finite());
            assert!(r.rmse_sample.is_some_and(f64::is_finite));
        }
        assert_eq!(s.iteration(), iteration + 8);
        // The X_miss step keeps the cached sums in step with X after the change.
        let x_now = row_major(s.state());
        let rebuilt = ModelState::new(N, D, &x_now, &full, 3).unwrap();
        for j in 0..D {
            let (a, b) = (s.state().columns.sum[j], rebuilt.columns.sum[j]);
            assert!(
                (a - b).abs() <= 1e-4 * b.abs().max(1.0),
                "colsum {j}: {a} vs {b}"
            );
            // The shifts differ (each state's column means when it was built): compare the
            // unshifted sums of squares.
            let (a, b) = (s.state().columns.sumsq(j), rebuilt.columns.sumsq(j));
            assert!(
                (a - b).abs() <= 1e-4 * b.abs().max(1.0),
                "colsumsq {j}: {a} vs {b}"
            );
        }
        let summary = s.image_summary(image).unwrap();
        assert!(summary.posterior_mean.iter().all(|v| v.is_finite()));
        for j in 0..D {
            if !row[j] {
                assert_eq!(summary.current[j], values[j]);
            }
        }
    }
}

#[test]
fn a_wholly_masked_image_and_bad_inputs() {
    let mut s = sampler(Schedule::Notebook);
    s.sweep();
    let values = truth()[..D].to_vec();
    s.set_image_mask(0, &[true; D], &values).unwrap();
    for _ in 0..3 {
        assert!(s.sweep().log_joint.is_finite());
    }
    let before = s.state().missing().clone();
    assert_eq!(
        s.set_image_mask(N, &[false; D], &values),
        Err(ModelError::ImageOutOfRange { index: N, n: N })
    );
    assert!(matches!(
        s.set_image_mask(0, &[false; 3], &values),
        Err(ModelError::ShapeMismatch { .. })
    ));
    let mut bad = values.clone();
    bad[2] = f32::NAN;
    assert!(matches!(
        s.set_image_mask(0, &[false; D], &bad),
        Err(ModelError::NonFiniteInput { .. })
    ));
    // NaN where the new mask hides the pixel is never read.
    let mut row = [false; D];
    row[2] = true;
    s.set_image_mask(0, &row, &bad).unwrap();
    assert_ne!(*s.state().missing(), before);
    assert!(s.sweep().log_joint.is_finite());
}

/// The completed X is kept as observed values beside the missing entries' samples; every view
/// of it (entry, image, pixel, whole matrix, the samples in entry order) must agree, before and
/// after sweeps and a mask change, and X~ must be the completed X minus the shift, bit for bit.
#[test]
fn every_view_of_the_completed_data_agrees() {
    let mut g = sampler(Schedule::Notebook);
    let check = |g: &GibbsSampler, what: &str| {
        let state = g.state();
        let x = state.completed_x();
        let idx = state.missing();
        for i in 0..N {
            assert_eq!(
                state.completed_row(i),
                x.row(i).iter().copied().collect::<Vec<_>>()
            );
        }
        for j in 0..D {
            let column = state.completed_column(j);
            assert_eq!(column, x.column(j).iter().copied().collect::<Vec<_>>());
            for i in 0..N {
                assert_eq!(state.x_at(i, j).to_bits(), x[(i, j)].to_bits(), "{what}");
                let shifted = x[(i, j)] - state.columns.shift[j];
                assert_eq!(
                    state.shifted_x()[(i, j)].to_bits(),
                    shifted.to_bits(),
                    "{what}"
                );
            }
        }
        for (k, &v) in state.missing_values().iter().enumerate() {
            let (i, j) = (idx.rows()[k] as usize, idx.cols()[k] as usize);
            assert_eq!(v.to_bits(), x[(i, j)].to_bits(), "{what}: entry {k}");
        }
        let truth = truth();
        for k in (0..N * D).filter(|&k| idx.position(k / D, k % D).is_none()) {
            assert_eq!(
                x[(k / D, k % D)],
                truth[k],
                "{what}: observed entry {k} changed"
            );
        }
    };
    check(&g, "at the start");
    for _ in 0..4 {
        g.sweep();
    }
    check(&g, "after sweeps");
    // Pixels hidden just now keep their data; pixels revealed take it back.
    let old = mask()[5 * D..6 * D].to_vec();
    let row = new_row(&old);
    let before = g.state().completed_row(5);
    g.set_image_mask(5, &row, &truth()[5 * D..6 * D]).unwrap();
    let after = g.state().completed_row(5);
    for j in 0..D {
        if !old[j] {
            assert_eq!(after[j], before[j], "pixel {j} was observed");
        } else if !row[j] {
            assert_eq!(after[j], truth()[5 * D + j], "pixel {j} was revealed");
        }
    }
    g.sweep();
    check(&g, "after a mask change and a sweep");
}

/// The log joint's sum of |z_n|^2 is the trace of the Z step's Z^T Z after a sweep (f64 sums
/// of the same squares in another order) and a fresh sum once Z is replaced.
#[test]
fn the_sum_of_squares_of_z_follows_z() {
    let mut g = sampler(Schedule::Notebook);
    g.sweep();
    let direct = |g: &GibbsSampler| super::linalg::sum_of_squares(g.state().z().as_slice());
    let (cached, fresh) = (g.state().z_sumsq(), direct(&g));
    assert!(cached.is_finite() && fresh > 0.0);
    assert!(
        (cached - fresh).abs() <= 1e-12 * fresh,
        "{cached} vs {fresh}"
    );
    let halved = g.state().z().map(|v| v * 0.5);
    g.state_mut().set_z(halved).unwrap();
    assert_eq!(g.state().z_sumsq(), direct(&g));
    assert!((g.state().z_sumsq() - fresh / 4.0).abs() <= 1e-6 * fresh);
}
