//! Tests of the numbers behind a draw: the sigma_d^2 and mu_d numbers reproduce the draw
//! from the step's own random stream bit for bit; the Gaussian means and covariances of z_n,
//! w_d and (w_d, mu_d) whiten the draws to N(0, 1) within Monte Carlo error.

use nalgebra::{DMatrix, DVector};
use rand::Rng;
use rand_distr::{Distribution, Gamma, StandardNormal};

use super::LessonError;
use super::explain::{Explanation, Focus};
use super::step::Conditional;
use super::stepper::Stepper;
use super::test_problem::tiny_problem;
use crate::model::rng::{Step, StepRng};
use crate::model::{SamplerSettings, Schedule};

fn stepper(schedule: Schedule, n: usize, d: usize, m: usize) -> Stepper {
    let problem = tiny_problem(n, d, 21);
    let mut s = SamplerSettings {
        schedule,
        seed: 8,
        ..SamplerSettings::default()
    };
    s.hyper.m = m;
    let mut st = Stepper::new(&problem, &s, 2).unwrap();
    st.finish_sweep();
    st.finish_sweep();
    st
}

/// Steps until `conditional` has been drawn.
fn step_to(st: &mut Stepper, conditional: Conditional) -> u64 {
    loop {
        let report = st.step();
        if report.conditional == conditional {
            return report.sweep;
        }
    }
}

fn focus(digit: usize, pixel: usize) -> Focus {
    Focus {
        digit,
        pixel,
        factors: (0, 1),
    }
}

/// Draw k of a stream of Gammas of one shape: the generator's consumption does not depend
/// on the scale, so the first k draws are replayed with scale 1.
fn replay_gamma(mut r: impl Rng, k: usize, shape: f64, rate: f64) -> f64 {
    let unit = Gamma::new(shape, 1.0).unwrap();
    for _ in 0..k {
        let _: f64 = unit.sample(&mut r);
    }
    1.0 / Gamma::new(shape, 1.0 / rate).unwrap().sample(&mut r)
}

#[test]
fn the_sigmasq_numbers_reproduce_the_notebook_draw() {
    let mut st = stepper(Schedule::Notebook, 50, 30, 4);
    let sweep = step_to(&mut st, Conditional::Sigmasq);
    let (n, d, m) = st.state().shape();
    let seed = st.settings().seed;
    for pixel in [0, 7, d - 1] {
        let Explanation::Sigmasq(e) = st.explain_last(&focus(3, pixel)).unwrap() else {
            panic!("not a sigma^2 explanation");
        };
        for v in [
            e.residual_ss,
            e.w_penalty,
            e.mu_penalty,
            e.scale_sum,
            e.scale,
        ] {
            assert!(v.is_finite() && v >= 0.0, "{e:?}");
        }
        assert_eq!(e.nu_n, e.nu0 + (n + m + 1) as f64);
        assert_eq!(e.prior_term, e.nu0 * e.sigmasq0);
        assert_eq!(
            e.scale_sum,
            e.prior_term + e.residual_ss + e.w_penalty + e.mu_penalty
        );
        assert_eq!(e.after, st.state().sigmasq()[pixel]);
        assert_ne!(e.after, e.before);
        // The reported Gamma, fed the step's stream, gives the drawn value bit for bit.
        let r = StepRng::new(seed, sweep, Step::Sigmasq).chunk(0);
        let redrawn = replay_gamma(r, pixel, e.gamma_shape(), e.gamma_rate());
        assert_eq!(redrawn as f32, e.after, "pixel {pixel}");
        // The residual sum agrees with a dense f64 recomputation from the state before.
        let x = st.state().completed_x();
        let (z, w) = (st.state().z(), st.state().w());
        let mu = st.state().mu()[pixel] as f64;
        let dense: f64 = (0..n)
            .map(|i| {
                let fit: f64 = (0..m)
                    .map(|a| w[(pixel, a)] as f64 * z[(i, a)] as f64)
                    .sum();
                (x[(i, pixel)] as f64 - fit - mu).powi(2)
            })
            .sum();
        assert!(
            (dense - e.residual_ss).abs() <= 1e-4 * dense,
            "{dense} vs {}",
            e.residual_ss
        );
    }
}

#[test]
fn the_sigmasq_numbers_reproduce_the_blocked_draw() {
    let mut st = stepper(Schedule::Blocked, 50, 30, 4);
    let sweep = step_to(&mut st, Conditional::Blocked);
    let (n, _, m) = st.state().shape();
    let seed = st.settings().seed;
    for pixel in [0, 11, 29] {
        let Explanation::Blocked(b) = st.explain_last(&focus(0, pixel)).unwrap() else {
            panic!("not a blocked explanation");
        };
        let e = &b.noise;
        assert!(e.scale_sum.is_finite() && e.scale_sum > e.prior_term);
        assert_eq!(e.nu_n, e.nu0 + n as f64);
        // The terms add up to the step's nu_N s_d^2 (which groups the penalties first).
        let sum = e.prior_term + e.residual_ss + (e.w_penalty + e.mu_penalty);
        assert_eq!(sum, e.scale_sum);
        let r = StepRng::new(seed, sweep, Step::Blocked).chunk(u64::MAX);
        let redrawn = replay_gamma(r, pixel, e.gamma_shape(), e.gamma_rate());
        assert_eq!(redrawn as f32, e.after, "pixel {pixel}");
        assert_eq!(e.after, st.state().sigmasq()[pixel]);
        assert_eq!(
            (b.mean.len(), b.covariance.shape()),
            (m + 1, (m + 1, m + 1))
        );
        assert_eq!(b.w_after.len(), m);
        assert_eq!(b.mu_after, st.state().mu()[pixel]);
    }
}

#[test]
fn the_mu_numbers_reproduce_the_draw() {
    let mut st = stepper(Schedule::Notebook, 40, 20, 3);
    let sweep = step_to(&mut st, Conditional::Mu);
    let seed = st.settings().seed;
    for pixel in [0, 5, 19] {
        let Explanation::Mu(e) = st.explain_last(&focus(1, pixel)).unwrap() else {
            panic!("not a mu explanation");
        };
        assert!(e.mean.is_finite() && e.variance > 0.0);
        assert_eq!(e.precision, e.n as f64 + e.lambda0);
        let mut r = StepRng::new(seed, sweep, Step::Mu).chunk(0);
        let mut normal = 0.0f64;
        for _ in 0..=pixel {
            normal = StandardNormal.sample(&mut r);
        }
        let redrawn = (e.mean + e.variance.sqrt() * normal) as f32;
        assert_eq!(redrawn, e.after, "pixel {pixel}");
        assert!((e.standardised() - normal).abs() < 1e-3 * normal.abs().max(1.0));
    }
}

/// L^-1 (x - mean) for cov = L L^T: N(0, I) when x ~ N(mean, cov).
fn whiten(x: &[f32], mean: &[f64], cov: &DMatrix<f64>) -> Vec<f64> {
    let l = cov.clone().cholesky().unwrap().l();
    let r = DVector::from_iterator(x.len(), x.iter().zip(mean).map(|(&a, &b)| a as f64 - b));
    l.solve_lower_triangular(&r)
        .unwrap()
        .iter()
        .copied()
        .collect()
}

/// Mean and variance of `v` are those of N(0, 1) within 4 standard errors.
fn assert_standard_normal(v: &[f64], what: &str) {
    assert!(v.iter().all(|x| x.is_finite()), "{what}");
    let k = v.len() as f64;
    let mean = v.iter().sum::<f64>() / k;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (k - 1.0);
    assert!(mean.abs() < 4.0 / k.sqrt(), "{what}: mean {mean} over {k}");
    assert!(
        (var - 1.0).abs() < 4.0 * (2.0 / k).sqrt(),
        "{what}: var {var} over {k}"
    );
}

#[test]
fn the_z_posterior_whitens_the_drawn_z() {
    let mut st = stepper(Schedule::Notebook, 150, 30, 4);
    step_to(&mut st, Conditional::Z);
    let mut all = Vec::new();
    for digit in 0..150 {
        let Explanation::Z(e) = st.explain_last(&focus(digit, 0)).unwrap() else {
            panic!("not a Z explanation");
        };
        assert_eq!(
            e.after.as_slice(),
            st.state()
                .z()
                .row(digit)
                .iter()
                .copied()
                .collect::<Vec<_>>()
        );
        let ell = e.ellipse.as_ref().unwrap();
        assert_eq!(ell.centre, [e.mean[0], e.mean[1]]);
        all.extend(whiten(&e.after, &e.mean, &e.covariance));
    }
    assert_standard_normal(&all, "z");
}

#[test]
fn the_w_posterior_whitens_the_drawn_w() {
    let mut st = stepper(Schedule::Notebook, 60, 120, 4);
    step_to(&mut st, Conditional::W);
    let mut all = Vec::new();
    for pixel in 0..120 {
        let Explanation::W(e) = st.explain_last(&focus(0, pixel)).unwrap() else {
            panic!("not a W explanation");
        };
        assert_eq!(e.prior_precision, vec![st.settings().hyper.kappa0; 4]);
        all.extend(whiten(&e.after, &e.mean, &e.covariance));
    }
    assert_standard_normal(&all, "w");
}

#[test]
fn the_blocked_posterior_whitens_the_drawn_w_and_mu() {
    let mut st = stepper(Schedule::Blocked, 60, 100, 3);
    step_to(&mut st, Conditional::Blocked);
    let mut all = Vec::new();
    for pixel in 0..100 {
        let Explanation::Blocked(b) = st.explain_last(&focus(0, pixel)).unwrap() else {
            panic!("not a blocked explanation");
        };
        let mut x = b.w_after.clone();
        x.push(b.mu_after);
        all.extend(whiten(&x, &b.mean, &b.covariance));
    }
    assert_standard_normal(&all, "(w, mu)");
}

#[test]
fn the_missing_pixels_of_a_digit_before_and_after() {
    let mut st = stepper(Schedule::Notebook, 80, 40, 3);
    step_to(&mut st, Conditional::XMissing);
    let mut all = Vec::new();
    for digit in 0..80 {
        let Explanation::XMissing(e) = st.explain_last(&focus(digit, 0)).unwrap() else {
            panic!("not an X_miss explanation");
        };
        let expected: Vec<usize> = (0..40)
            .filter(|&j| st.state().missing().position(digit, j).is_some())
            .collect();
        assert_eq!(
            e.pixels.iter().map(|p| p.pixel).collect::<Vec<_>>(),
            expected
        );
        for p in &e.pixels {
            assert_eq!(p.after, st.state().x_at(digit, p.pixel));
            assert_ne!(p.after, p.before);
            all.push((p.after as f64 - p.mean) / p.sd);
        }
    }
    assert!(all.len() > 300);
    assert_standard_normal(&all, "x_miss");
}

#[test]
fn a_bad_focus_is_refused() {
    let mut st = stepper(Schedule::Notebook, 10, 9, 3);
    step_to(&mut st, Conditional::Z);
    assert!(matches!(
        st.explain_last(&focus(10, 0)),
        Err(LessonError::DigitOutOfRange { index: 10, n: 10 })
    ));
    assert!(matches!(
        st.explain_last(&focus(0, 9)),
        Err(LessonError::PixelOutOfRange { index: 9, d: 9 })
    ));
    let same = Focus {
        factors: (1, 1),
        ..focus(0, 0)
    };
    assert!(matches!(
        st.explain_last(&same),
        Err(LessonError::BadFactorPair { .. })
    ));
    // After going back the step before is explained, until the history runs out.
    assert_eq!(st.back(), Some(Conditional::Z));
    assert_eq!(
        st.last_report().map(|r| r.conditional),
        Some(Conditional::XMissing)
    );
    assert!(matches!(
        st.explain_last(&focus(0, 0)),
        Ok(Explanation::XMissing(_))
    ));
    assert_eq!(st.back(), Some(Conditional::XMissing));
    assert!(st.last_report().is_none());
    assert!(matches!(
        st.explain_last(&focus(0, 0)),
        Err(LessonError::NothingToExplain)
    ));
}

/// The recentring move's numbers: the c drawn (read off a digit's z_n) whitens to N(0, 1) under
/// the explanation's mean P^-1 b and covariance P^-1, formed densely here and by the sampler
/// its own way; the mean of the z_n moves by -c and mu_d by w_d^T c. lambda0 = 5 gives the
/// W term of P and b weight beside N = 100.
#[test]
fn the_recentring_numbers_whiten_the_drawn_shift() {
    let problem = tiny_problem(100, 30, 23);
    let mut s = SamplerSettings {
        recentre: true,
        seed: 4,
        ..SamplerSettings::default()
    };
    s.hyper.m = 3;
    s.hyper.lambda0 = 5.0;
    let mut st = Stepper::new(&problem, &s, 2).unwrap();
    let mut all = Vec::new();
    for sweep in 0..300 {
        step_to(&mut st, Conditional::Recentre);
        let Explanation::Recentre(r) = st.explain_last(&focus(sweep % 100, sweep % 30)).unwrap()
        else {
            panic!("not a recentring explanation");
        };
        let drawn: Vec<f32> = r.drawn.iter().map(|&c| c as f32).collect();
        all.extend(whiten(&drawn, &r.mean, &r.covariance));
        for k in 0..3 {
            let moved = r.zbar_before[k] - r.zbar_after[k];
            assert!(
                (moved - r.drawn[k]).abs() < 1e-4,
                "z-bar moved {moved}, c {}",
                r.drawn[k]
            );
        }
        let w = st.state().w();
        let shift: f64 = (0..3).map(|k| w[(r.pixel, k)] as f64 * r.drawn[k]).sum();
        let moved = r.mu_after as f64 - r.mu_before as f64;
        assert!(
            (moved - shift).abs() < 1e-3 * (1.0 + r.mu_before.abs() as f64),
            "mu_d moved {moved}, w_d^T c {shift}"
        );
        st.finish_sweep();
    }
    assert_standard_normal(&all, "c");
}
