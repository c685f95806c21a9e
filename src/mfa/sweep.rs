//! One Gibbs sweep of the mixture in SPEC 11's order, and the forward simulators (parameters
//! from the prior, data from the likelihood) that Geweke's test compares it with.

use nalgebra::{DMatrix, DVector};
use rand::{Rng, RngExt};
use rand_distr::{Distribution, Gamma, StandardNormal};

use super::conditionals::{
    sample_c_z, sample_mu, sample_pi, sample_sigmasq, sample_w, sample_x_missing,
};
use super::{MfaHyper, MfaState};

/// (c, z) jointly, pi, W_k then mu_k, sigma^2, X_miss.
pub fn sweep<R: Rng>(state: &mut MfaState, hyper: &MfaHyper, rng: &mut R) {
    sample_c_z(state, rng);
    sample_pi(state, hyper, rng);
    sample_w(state, hyper, rng);
    sample_mu(state, hyper, rng);
    sample_sigmasq(state, hyper, rng);
    sample_x_missing(state, rng);
}

/// Every unknown drawn from the prior and every x_nd from the likelihood: N images of D
/// pixels, nothing missing.
pub fn sample_prior<R: Rng>(n: usize, d: usize, hyper: &MfaHyper, rng: &mut R) -> MfaState {
    let (m, k) = (hyper.m, hyper.k);
    let g: Vec<f64> = (0..k)
        .map(|_| {
            Gamma::new(hyper.alpha0, 1.0)
                .map(|g| g.sample(rng))
                .unwrap_or(1.0)
                .max(f64::MIN_POSITIVE)
        })
        .collect();
    let total: f64 = g.iter().sum();
    let pi = DVector::from_fn(k, |c, _| g[c] / total);
    // sigma^2 ~ Scaled-Inv-chi^2(nu0, sigma0^2): 1 / Gamma(nu0/2, rate nu0 sigma0^2 / 2).
    let rate = hyper.nu0 * hyper.sigmasq0 / 2.0;
    let sigmasq = DVector::from_fn(d, |_, _| {
        Gamma::new(hyper.nu0 / 2.0, 1.0 / rate)
            .map(|g| 1.0 / g.sample(rng))
            .unwrap_or(hyper.sigmasq0)
    });
    let normal = |rng: &mut R| -> f64 { StandardNormal.sample(rng) };
    let w = (0..k)
        .map(|_| {
            DMatrix::from_fn(d, m, |r, _| {
                normal(rng) * (sigmasq[r] / hyper.kappa0).sqrt()
            })
        })
        .collect();
    let mu = (0..k)
        .map(|_| DVector::from_fn(d, |r, _| normal(rng) * (sigmasq[r] / hyper.lambda0).sqrt()))
        .collect();
    let c = (0..n)
        .map(|_| {
            let u: f64 = rng.random();
            let mut acc = 0.0;
            (0..k)
                .find(|&c| {
                    acc += pi[c];
                    u < acc
                })
                .unwrap_or(k - 1)
        })
        .collect();
    let z = DMatrix::from_fn(n, m, |_, _| normal(rng));
    let mut state = MfaState {
        x: DMatrix::zeros(n, d),
        missing: vec![false; n * d],
        c,
        z,
        w,
        mu,
        sigmasq,
        pi,
    };
    sample_data(&mut state, rng);
    state
}

/// Redraws every x_nd (observed or not) from the likelihood given the rest.
pub fn sample_data<R: Rng>(state: &mut MfaState, rng: &mut R) {
    let saved = std::mem::replace(&mut state.missing, vec![true; state.x.len()]);
    sample_x_missing(state, rng);
    state.missing = saved;
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::SmallRng;

    const F: usize = 13;

    /// Test functions of the state: first and second moments of a few parameters and data.
    fn functions(s: &MfaState) -> [f64; F] {
        [
            s.sigmasq[0],
            s.mu[0][1],
            s.mu[1][0].powi(2),
            s.w[0][(0, 0)].powi(2),
            s.w[1][(2, 0)] * s.w[1][(1, 0)],
            s.pi[0],
            s.x[(0, 0)],
            s.x[(1, 2)].powi(2),
            s.z[(2, 0)].powi(2),
            // How images share components, and how that follows the data and the loadings.
            s.pi[s.c[0]],
            f64::from(u8::from(s.c[0] == s.c[1])),
            s.w[s.c[0]].column(0).norm_squared(),
            (s.x.row(0) - s.mu[s.c[0]].transpose()).norm_squared(),
        ]
    }

    /// Geweke (2004): the marginal-conditional simulator (independent draws from the prior
    /// and likelihood) and the successive-conditional one (a sweep, then new data given the
    /// parameters) must give the same means of every test function, within Monte Carlo error
    /// (batch means for the chain). A wrong conditional shifts some mean.
    #[test]
    fn geweke_marginal_and_successive_conditional_simulators_agree() {
        let hyper = MfaHyper {
            k: 2,
            m: 1,
            alpha0: 2.0,
            nu0: 10.0,
            sigmasq0: 1.0,
            kappa0: 1.0,
            lambda0: 1.0,
        };
        let (n, d) = (6, 3);
        let mut rng = SmallRng::seed_from_u64(2026);
        let draws = 200_000;
        let mut marginal = vec![[0.0f64; F]; draws];
        for slot in marginal.iter_mut() {
            *slot = functions(&sample_prior(n, d, &hyper, &mut rng));
        }
        let mut state = sample_prior(n, d, &hyper, &mut rng);
        let mut successive = vec![[0.0f64; F]; draws];
        for slot in successive.iter_mut() {
            sweep(&mut state, &hyper, &mut rng);
            sample_data(&mut state, &mut rng);
            *slot = functions(&state);
        }
        let batch = 500;
        for f in 0..F {
            let a: Vec<f64> = marginal.iter().map(|v| v[f]).collect();
            let b: Vec<f64> = successive.iter().map(|v| v[f]).collect();
            let (ma, va) = mean_var(&a);
            let se_a = (va / draws as f64).sqrt();
            let means: Vec<f64> = b.chunks(batch).map(|c| mean_var(c).0).collect();
            let (mb, vb) = mean_var(&means);
            let se_b = (vb / means.len() as f64).sqrt();
            let z = (ma - mb) / (se_a * se_a + se_b * se_b).sqrt();
            assert!(
                z.abs() < 4.0,
                "test function {f}: {ma} vs {mb} (z = {z:.2})"
            );
        }
    }

    fn mean_var(v: &[f64]) -> (f64, f64) {
        let n = v.len() as f64;
        let m = v.iter().sum::<f64>() / n;
        (
            m,
            v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0),
        )
    }
}
