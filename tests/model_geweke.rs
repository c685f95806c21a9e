//! Geweke (2004) "Getting it right": the marginal-conditional simulator (parameters from the
//! prior, data from the likelihood) and the successive-conditional simulator (a Gibbs sweep,
//! then all of X redrawn given the parameters) must give the same means of test functions.
//! A wrong conditional shifts some of them by many standard errors.

mod model_common;

use gibbs_fa::model::{GibbsSampler, Hyperparameters, Prior, Problem, SamplerSettings, Schedule};
use model_common::*;

const N: usize = 6;
const D: usize = 4;
const M: usize = 2;

fn hyper() -> Hyperparameters {
    Hyperparameters {
        m: M,
        nu0: 6.0,
        sigmasq0: 1.0,
        kappa0: 1.0,
        lambda0: 1.0,
    }
}

/// Some missing entries, including a wholly masked image and a column missing in 4 of 6 rows.
fn mask() -> Vec<bool> {
    let mut m = vec![false; N * D];
    for j in 0..D {
        m[2 * D + j] = true; // image 2 wholly masked
    }
    for i in [0, 3, 4] {
        m[i * D + 1] = true;
    }
    m[5 * D + 3] = true;
    m
}

/// Test functions of (parameters, data): first and second moments, cross products.
fn test_functions(p: &Params, x: &[f64]) -> Vec<f64> {
    let mut g = Vec::new();
    for d in 0..D {
        g.push(p.mu[d]);
        g.push(p.mu[d] * p.mu[d]);
        g.push(p.sigmasq[d].ln());
        g.push(p.sigmasq[d]);
        for a in 0..M {
            g.push(p.w[(d, a)].powi(2));
        }
        g.push(p.w[(d, 0)] * p.w[((d + 1) % D, 0)]);
        g.push(p.w[(d, 0)] * p.w[(d, 1)]);
    }
    for i in 0..N {
        for a in 0..M {
            g.push(p.z[(i, a)].powi(2));
        }
        g.push(p.z[(i, 0)] * p.z[(i, 1)]);
    }
    for i in [0, 2, 5] {
        for d in 0..D {
            g.push(x[i * D + d]);
            g.push(x[i * D + d].powi(2));
            g.push(x[i * D + d] * x[i * D + (d + 1) % D]);
        }
    }
    // The data-parameter link: residual of the likelihood, and x times the loadings.
    let mut res = 0.0;
    for i in 0..N {
        for d in 0..D {
            let wz: f64 = (0..M).map(|a| p.w[(d, a)] * p.z[(i, a)]).sum();
            res += (x[i * D + d] - wz - p.mu[d]).powi(2) / p.sigmasq[d];
        }
    }
    g.push(res);
    g.push(x[D + 1] * p.mu[1]);
    g.push(x[2 * D] * p.w[(0, 0)] * p.z[(2, 0)]);
    g
}

fn marginal_conditional(prior: &Prior, draws: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut r = rng(seed);
    let h = hyper();
    (0..draws)
        .map(|_| {
            let p = draw_prior(&mut r, &h, prior, N, D);
            let x = draw_data(&mut r, &p);
            test_functions(&p, &x)
        })
        .collect()
}

fn params_of(s: &GibbsSampler) -> Params {
    let st = s.state();
    Params {
        w: mat_f64(st.w()),
        z: mat_f64(st.z()),
        mu: st.mu().iter().map(|&v| v as f64).collect(),
        sigmasq: st.sigmasq().iter().map(|&v| v as f64).collect(),
    }
}

fn successive_conditional(
    prior: &Prior,
    schedule: Schedule,
    recentre: bool,
    steps: usize,
    seed: u64,
) -> Vec<Vec<f64>> {
    let mut r = rng(seed ^ 0xABCD);
    let h = hyper();
    let p0 = draw_prior(&mut r, &h, prior, N, D);
    let x0 = draw_data(&mut r, &p0);
    let problem = Problem {
        n: N,
        d: D,
        x_observed: to_f32(&x0),
        missing: mask(),
        x_true: None,
    };
    let settings = SamplerSettings {
        hyper: h,
        prior: prior.clone(),
        schedule,
        recentre,
        sweeps: 10,
        burn_in: 5,
        seed,
    };
    let mut s = GibbsSampler::new(&problem, &settings).expect("sampler");
    // Start at an exact draw from the joint, so the chain is stationary from the start.
    {
        let st = s.state_mut();
        st.set_x(&to_f32(&x0)).expect("x");
        st.set_z(mat_f32(&p0.z)).expect("z");
        st.set_w(mat_f32(&p0.w)).expect("w");
        st.set_mu(&to_f32(&p0.mu)).expect("mu");
        st.set_sigmasq(&to_f32(&p0.sigmasq)).expect("sigmasq");
    }
    let missing = mask();
    (0..steps)
        .map(|_| {
            s.sweep();
            let p = params_of(&s);
            // Observed entries are redrawn given the parameters; missing entries keep the
            // sampler's X_miss draw (given the parameters every entry is independent, so both
            // moves leave the joint invariant, and a wrong X_miss step shows in the x moments).
            let mut x = draw_data(&mut r, &p);
            let current = s.state().completed_x();
            for (k, v) in x.iter_mut().enumerate() {
                if missing[k] {
                    *v = current[(k / D, k % D)] as f64;
                }
            }
            s.state_mut().set_x(&to_f32(&x)).expect("x");
            test_functions(&p, &x)
        })
        .collect()
}

/// Largest |z| over the test functions, and the index where it occurs.
fn compare(mc: &[Vec<f64>], sc: &[Vec<f64>]) -> (f64, usize) {
    let k = mc[0].len();
    // Finiteness first: `>` is false for NaN, so NaN test functions would pass below.
    for (name, sim) in [("marginal-conditional", mc), ("successive-conditional", sc)] {
        for (t, g) in sim.iter().enumerate() {
            if let Some(j) = g.iter().position(|v| !v.is_finite()) {
                panic!("{name} simulator, draw {t}: test function {j} is {}", g[j]);
            }
        }
    }
    let mut worst = (0.0, 0);
    for j in 0..k {
        let a: Vec<f64> = mc.iter().map(|g| g[j]).collect();
        let b: Vec<f64> = sc.iter().map(|g| g[j]).collect();
        let (ma, sa) = iid_mean_se(&a);
        let (mb, sb) = batch_mean_se(&b, 50);
        let z = (ma - mb) / (sa * sa + sb * sb).sqrt();
        assert!(
            z.is_finite(),
            "test function {j}: z = {z} ({ma} +- {sa} vs {mb} +- {sb})"
        );
        if z.abs() > worst.0 {
            worst = (z.abs(), j);
        }
        if z.abs() > 4.0 {
            eprintln!(
                "test function {j}: marginal {ma:.4} +- {sa:.4}, successive {mb:.4} +- {sb:.4}, z = {z:.2}"
            );
        }
    }
    worst
}

fn geweke(prior: Prior, schedule: Schedule, seed: u64) {
    geweke_with(prior, schedule, false, seed);
}

fn geweke_with(prior: Prior, schedule: Schedule, recentre: bool, seed: u64) {
    let mc = marginal_conditional(&prior, 200_000, seed);
    let sc = successive_conditional(&prior, schedule, recentre, 400_000, seed);
    let (worst, j) = compare(&mc, &sc);
    eprintln!(
        "{prior:?} {schedule:?} (recentre {recentre}): {} test functions, largest |z| = {worst:.2} (function {j})",
        mc[0].len()
    );
    // About 80 test functions: |z| > 4.5 by chance has probability ~ 80 * 7e-6.
    assert!(
        worst < 4.5,
        "Geweke test failed: |z| = {worst:.2} for test function {j}"
    );
}

#[test]
fn geweke_notebook_isotropic() {
    geweke(Prior::Isotropic, Schedule::Notebook, 11);
}

#[test]
fn geweke_blocked_isotropic() {
    geweke(Prior::Isotropic, Schedule::Blocked, 12);
}

#[test]
fn geweke_notebook_decaying() {
    geweke(
        Prior::Decaying {
            tau0: 2.0,
            rho: 0.5,
        },
        Schedule::Notebook,
        13,
    );
}

#[test]
fn geweke_blocked_decaying() {
    geweke(
        Prior::Decaying {
            tau0: 2.0,
            rho: 0.5,
        },
        Schedule::Blocked,
        14,
    );
}

/// The recentring move (z_n -> z_n - c, mu -> mu + W c, c from its conditional) before each
/// sweep: a wrong mean or spread of c moves mu's moments and the residual's.
#[test]
fn geweke_notebook_isotropic_recentred() {
    geweke_with(Prior::Isotropic, Schedule::Notebook, true, 15);
}

#[test]
fn geweke_blocked_decaying_recentred() {
    geweke_with(
        Prior::Decaying {
            tau0: 2.0,
            rho: 0.5,
        },
        Schedule::Blocked,
        true,
        16,
    );
}
