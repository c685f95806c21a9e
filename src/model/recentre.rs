//! The recentring move: one draw along the ridge of the likelihood that the Gibbs steps of
//! SPEC 5 cross only slowly (an extension beyond SPEC, off unless
//! [`super::SamplerSettings::recentre`] asks for it).
//!
//! The data fix mu + W z-bar, not how it splits between mu and the mean of the latents: for any
//! c in R^M, z_n -> z_n - c (every n) and mu -> mu + W c leave every x_n's likelihood unchanged.
//! The Z step then moves z-bar only as far as the z prior pulls each image, and the mu step
//! follows z-bar, so a chain whose mu starts away from the data's means creeps along the ridge
//! for hundreds of sweeps (the lesson "Several chains that start apart").
//!
//! The move draws c from the posterior restricted to that family of translations and applies
//! it: a generalised Gibbs step (Liu and Sabatti 2000) for the group of translations, whose
//! Jacobian is 1, so it leaves the posterior invariant. As a function of c the log posterior
//! keeps only the priors of Z and mu:
//!
//!   -1/2 sum_n |z_n - c|^2 - lambda0/2 sum_d (mu_d + w_d^T c)^2 / sigma_d^2,
//!
//! a Gaussian with precision P = N I + lambda0 W^T S^-1 W and P c-hat = sum_n z_n - lambda0
//! W^T S^-1 mu. Its mean is close to z-bar, so one move takes a chain to the ridge's point the
//! priors favour. The same for both priors on W (W does not change) and both schedules.
//!
//! Runs on the sampler's thread before the Z step, about 0.2 ms a sweep at N = 10,000, M = 50:
//! sum z comes from the last Z step's statistics and W^T S^-1 W from the next Z step's setup
//! (computed ahead by the X_miss step, else here), whose offset alone is formed again for the
//! new mu, the same bits as a setup computed for it; what remains is the shift of Z
//! (O(N M)), mu's (O(D M)) and an M x M factor. Never blocks.

use super::linalg::SharedFactor;
use super::rng::StepRng;
use super::state::ModelState;
use super::z_setup::ZSetup;
use nalgebra::DVector;

/// Draws c given the rest of `state` and applies z_n -> z_n - c, mu -> mu + W c; returns c.
/// `lambda0` is mu's prior precision factor (mu_d ~ N(0, sigma_d^2 / lambda0)).
pub fn recentre(state: &mut ModelState, lambda0: f64, rng: &StepRng) -> Vec<f64> {
    let (n, d, m) = state.shape();
    if m == 0 {
        return Vec::new();
    }
    // sum_n z_n as the Z step summed it (else summed here).
    let sumz = state.z_sum();
    // W^T S^-1 W (which is J - I) from the next Z step's setup: the one the X_miss step
    // computed ahead for these parameters, else computed here for the Z step to take.
    let (w, sigmasq, shift) = (&state.w, &state.sigmasq, &state.columns.shift);
    let mut setup = match state.scratch.z_setup.take() {
        Some(s) if s.is_for(w, sigmasq, &state.mu, shift) => s,
        _ => ZSetup::compute(w, sigmasq, &state.mu, shift),
    };
    let wtsw = setup.wtsw.clone();
    // P = N I + lambda0 W^T S^-1 W, b = sum z - lambda0 W^T S^-1 mu.
    let mut p = wtsw * lambda0;
    for i in 0..m {
        p[(i, i)] += n as f64;
    }
    let b = DVector::<f64>::from_iterator(
        m,
        (0..m).map(|k| {
            let wtsmu: f64 = (0..d)
                .map(|j| w[(j, k)] as f64 * state.mu[j] as f64 / sigmasq[j] as f64)
                .sum();
            sumz[k] - lambda0 * wtsmu
        }),
    );
    let factor = SharedFactor::new(p);
    factor.record(&mut state.fallbacks);
    // c = P^-1 b + L^-T e, e ~ N(0, I): covariance L^-T L^-1 = P^-1.
    let mut e = vec![0.0f32; m];
    rng.fill_standard_normal(&mut e);
    let e = DVector::<f64>::from_iterator(m, e.iter().map(|&v| v as f64));
    let c = &factor.inverse * &b + factor.l_inverse.tr_mul(&e);
    let c: Vec<f64> = c.iter().copied().collect();

    // z_n -> z_n - c.
    for (column, &ci) in state.z.as_mut_slice().chunks_exact_mut(n).zip(&c) {
        let ci = ci as f32;
        for v in column {
            *v -= ci;
        }
    }
    // mu -> mu + W c.
    for (j, mu) in state.mu.iter_mut().enumerate() {
        let shift: f64 = (0..m).map(|k| state.w[(j, k)] as f64 * c[k]).sum();
        *mu = (*mu as f64 + shift) as f32;
    }
    // Z changed (its transpose, statistics and residual sums are stale). The setup is good
    // for the new mu once its offset is formed again (W and sigma^2 unchanged).
    state.scratch.zt_current = false;
    state.z_changed();
    setup.set_mu(&state.mu);
    state.scratch.z_setup = Some(setup);
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::rng::Step;
    use nalgebra::DMatrix;
    use rand::{RngExt, SeedableRng, rngs::SmallRng};

    /// A state of `n` images with random Z, W, mu and sigma^2 (the data do not matter here).
    fn state(n: usize, d: usize, m: usize, seed: u64) -> ModelState {
        let mut r = SmallRng::seed_from_u64(seed);
        let x: Vec<f32> = (0..n * d).map(|_| r.random_range(-5.0..5.0)).collect();
        let mut st = ModelState::new(n, d, &x, &vec![false; n * d], m).unwrap();
        let mut random = |rows, cols, lo: f32, hi: f32| {
            DMatrix::<f32>::from_fn(rows, cols, |_, _| r.random_range(lo..hi))
        };
        st.set_z(random(n, m, -1.0, 1.5)).unwrap();
        st.set_w(random(d, m, -2.0, 2.0)).unwrap();
        let mu: Vec<f32> = random(d, 1, -3.0, 3.0).as_slice().to_vec();
        st.set_mu(&mu).unwrap();
        let s: Vec<f32> = random(d, 1, 0.5, 2.0).as_slice().to_vec();
        st.set_sigmasq(&s).unwrap();
        st
    }

    /// The fit mu + W z_n of every image is unchanged (up to f32 rounding), Z's column sums
    /// move by N c, and mu by W c.
    #[test]
    fn the_move_leaves_every_fit_unchanged() {
        let (n, d, m) = (40, 7, 3);
        let mut st = state(n, d, m, 5);
        let before = st.clone();
        let c = recentre(&mut st, 0.5, &StepRng::new(9, 1, Step::Recentre));
        assert_eq!(c.len(), m);
        assert!(c.iter().all(|v| v.is_finite()), "{c:?}");
        assert!(
            c.iter().any(|v| v.abs() > 1e-3),
            "the move should move: {c:?}"
        );
        let fit = |s: &ModelState, i: usize, j: usize| {
            s.mu()[j] as f64
                + (0..m)
                    .map(|k| s.w()[(j, k)] as f64 * s.z()[(i, k)] as f64)
                    .sum::<f64>()
        };
        for i in 0..n {
            for j in 0..d {
                let (a, b) = (fit(&before, i, j), fit(&st, i, j));
                assert!(
                    (a - b).abs() < 1e-5 * (1.0 + a.abs()),
                    "({i}, {j}): {a} vs {b}"
                );
            }
        }
        for (k, &ck) in c.iter().enumerate() {
            let sum = |s: &ModelState| (0..n).map(|i| s.z()[(i, k)] as f64).sum::<f64>();
            let moved = sum(&before) - sum(&st);
            let expected = n as f64 * ck;
            assert!((moved - expected).abs() < 1e-4, "{moved} vs {expected}");
        }
        assert!(st.fallbacks().cholesky_jitter == 0 && st.fallbacks().cholesky_identity == 0);
    }

    /// The same stream gives the same c; another sweep's stream another.
    #[test]
    fn the_draw_follows_its_stream() {
        let draw = |sweep| {
            let mut st = state(30, 5, 2, 8);
            recentre(&mut st, 0.01, &StepRng::new(3, sweep, Step::Recentre))
        };
        assert_eq!(draw(4), draw(4));
        assert_ne!(draw(4), draw(5));
    }
}
