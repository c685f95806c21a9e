//! R-hat, ESS and MCSE against known answers: independent draws, AR(1) chains with a known
//! effective sample size, chains that disagree, and reference values computed by ArviZ.
//!
//! Tolerances come from the Monte Carlo spread of the estimators, measured once with ArviZ
//! 0.23.4 over independent seeds (same algorithm): for 4 chains of 10,000 iid N(0, 1) draws
//! bulk-ESS / 40,000 had sd 0.015 and tail-ESS / 40,000 sd 0.007 (12 seeds), R-hat - 1 stayed
//! within 1e-4; for 4 AR(1) chains (rho = 0.9) of 25,000 draws bulk-ESS over its
//! theoretical value K S (1 - rho) / (1 + rho) had mean 0.99 and sd 0.05. The bounds below
//! are at least 4 of those sds wide; the seeds are fixed.

use gibbs_fa::diagnostics::draws::{split_chains, z_scale};
use gibbs_fa::diagnostics::rhat::rhat_basic;
use gibbs_fa::diagnostics::{
    Draws, HalfMoments, RhatSummary, ScalarDiagnostics, ess_bulk, ess_mean, ess_tail, mcse_mean,
    rhat, rhat_classic_so_far, split_rhat_classic,
};
use rand::SeedableRng;
use rand::rngs::SmallRng;
use rand_distr::{Distribution, StandardNormal};

fn normal(rng: &mut SmallRng) -> f64 {
    StandardNormal.sample(rng)
}

/// K chains of S independent N(shift_c, 1) draws.
fn iid(seed: u64, k: usize, s: usize, shift: impl Fn(usize) -> f64) -> Vec<Vec<f64>> {
    let mut rng = SmallRng::seed_from_u64(seed);
    (0..k)
        .map(|c| (0..s).map(|_| shift(c) + normal(&mut rng)).collect())
        .collect()
}

/// K stationary AR(1) chains x_t = rho x_{t-1} + e_t, started from the stationary law.
fn ar1(seed: u64, k: usize, s: usize, rho: f64) -> Vec<Vec<f64>> {
    let mut rng = SmallRng::seed_from_u64(seed);
    (0..k)
        .map(|_| {
            let mut x = normal(&mut rng) / (1.0 - rho * rho).sqrt();
            (0..s)
                .map(|_| {
                    let v = x;
                    x = rho * x + normal(&mut rng);
                    v
                })
                .collect()
        })
        .collect()
}

fn finite(name: &str, v: f64) -> f64 {
    assert!(v.is_finite(), "{name} is not finite: {v}");
    v
}

#[test]
fn independent_draws_give_rhat_one_and_full_ess() {
    let (k, s) = (4, 10_000);
    let draws = Draws::new(&iid(11, k, s, |_| 0.0)).unwrap();
    let total = (k * s) as f64;
    let r = finite("rhat", rhat(&draws));
    assert!((r - 1.0).abs() < 0.01, "R-hat {r}");
    for (name, ess) in [
        ("bulk", ess_bulk(&draws)),
        ("tail", ess_tail(&draws)),
        ("mean", ess_mean(&draws)),
    ] {
        let ess = finite(name, ess);
        assert!(
            (ess / total - 1.0).abs() < 0.1,
            "{name}-ESS {ess} is not within 10% of {total}"
        );
    }
    // MCSE of the mean of iid N(0, 1) draws is 1 / sqrt(K S).
    let mcse = finite("mcse", mcse_mean(&draws));
    assert!((mcse * total.sqrt() - 1.0).abs() < 0.1, "MCSE {mcse}");
}

#[test]
fn ar1_chains_give_the_known_ess() {
    let (k, s, rho) = (4, 25_000, 0.9);
    let draws = Draws::new(&ar1(12, k, s, rho)).unwrap();
    let expected = (k * s) as f64 * (1.0 - rho) / (1.0 + rho);
    for (name, ess) in [("bulk", ess_bulk(&draws)), ("mean", ess_mean(&draws))] {
        let ess = finite(name, ess);
        assert!(
            (ess / expected - 1.0).abs() < 0.2,
            "{name}-ESS {ess}, expected about {expected:.0}"
        );
    }
    let r = finite("rhat", rhat(&draws));
    assert!((r - 1.0).abs() < 0.01, "R-hat {r}");
}

#[test]
fn shifted_chain_means_give_rhat_well_above_one() {
    // Three chains around 0 and one around 2 (2 sds away): the chains disagree.
    let draws = Draws::new(&iid(13, 4, 500, |c| if c == 3 { 2.0 } else { 0.0 })).unwrap();
    let r = finite("rhat", rhat(&draws));
    assert!(r > 1.1, "R-hat {r}");
    // A difference in scale only (same means) is what the folded tail R-hat catches.
    let mut chains = iid(14, 4, 2000, |_| 0.0);
    chains[0].iter_mut().for_each(|v| *v *= 3.0);
    let r = finite("rhat", rhat(&Draws::new(&chains).unwrap()));
    assert!(r > 1.1, "R-hat of chains with different spread {r}");
}

/// The reference data set: 4 chains of 25 draws of a rounded AR(1) (rho 0.6), the fourth
/// chain shifted by 0.8. Data and reference values come from ArviZ 0.23.4 (numpy 2.4.6, scipy
/// 1.17.1), computed once with:
///
/// ```python
/// import numpy as np, arviz as az
/// rng = np.random.default_rng(2021)
/// K, S = 4, 25
/// x = np.zeros((K, S))
/// for c in range(K):
///     v = rng.normal()
///     for t in range(S):
///         v = 0.6 * v + rng.normal()
///         x[c, t] = v + (0.8 if c == 3 else 0.0)
/// x = np.round(x, 2)
/// az.rhat(x, method="rank"); az.ess(x, method="bulk"); az.ess(x, method="tail")
/// az.mcse(x, method="mean"); az.ess(x, method="mean"); az.rhat(x, method="split")
/// y = x[:1]  # the first chain alone
/// az.ess(y, method="bulk"); az.ess(y, method="tail"); az.mcse(y, method="mean")
/// ```
const DATA: [[f64; 25]; 4] = [
    [
        -0.73, -1.23, 0.34, 0.19, -0.34, -0.24, -2.77, -2.48, -3.03, -1.37, -1.21, 0.23, 0.52,
        -0.91, -0.38, -0.94, -0.71, -0.22, -0.82, 0.3, 0.38, 0.2, -1.29, -1.24, -1.47,
    ],
    [
        2.9, 1.81, -1.09, -1.88, -0.22, -1.09, 2.06, -0.31, 0.66, 0.41, -0.26, -0.61, -0.96, 0.16,
        -0.67, -0.34, -0.97, 1.24, 1.81, 1.38, 0.38, -0.48, 0.23, -0.3, -0.22,
    ],
    [
        0.64, 0.91, 0.72, 1.29, 0.36, -0.2, 0.71, 0.46, 0.74, 0.49, 0.24, -1.39, -0.98, -2.01,
        -2.46, -2.32, 0.57, 1.07, 0.71, 0.98, 1.9, 0.68, -0.93, -0.5, 0.58,
    ],
    [
        1.4, 2.24, 2.5, 1.47, 1.6, 1.57, 1.53, 1.84, 2.3, 0.4, 0.64, -0.06, 0.23, 2.32, 1.89, 0.67,
        0.1, -0.04, 1.05, 1.2, 1.31, 2.92, 3.39, 0.86, 0.31,
    ],
];

fn close(name: &str, got: f64, want: f64) {
    let got = finite(name, got);
    assert!(
        (got - want).abs() <= 1e-9 * want.abs(),
        "{name}: {got} vs ArviZ {want}"
    );
}

#[test]
fn agrees_with_arviz_on_the_reference_data() {
    let draws = Draws::new(&DATA).unwrap();
    close("rhat", rhat(&draws), 1.2714963392074288);
    close("ess_bulk", ess_bulk(&draws), 16.810325501040914);
    close("ess_tail", ess_tail(&draws), 47.6759986721257);
    close("mcse_mean", mcse_mean(&draws), 0.3074812985547874);
    close("ess_mean", ess_mean(&draws), 17.623248614790977);
    close(
        "split rhat",
        rhat_basic(&split_chains(draws.chains())),
        1.2546134172066785,
    );
    let one = Draws::new(&DATA[..1]).unwrap();
    close("one chain ess_bulk", ess_bulk(&one), 12.718120054655063);
    close("one chain ess_tail", ess_tail(&one), 17.406593406593412);
    close("one chain mcse_mean", mcse_mean(&one), 0.28667677066823477);
    let all = ScalarDiagnostics::of(&draws);
    assert_eq!(all.rhat, Some(rhat(&draws)));
    assert!(!all.looks_converged());
}

#[test]
fn classic_split_rhat_from_running_moments_matches_the_draws() {
    // Two quantities: the reference data and its negative scaled by 10.
    let halves: Vec<HalfMoments> = DATA
        .iter()
        .map(|chain| {
            let mut h = HalfMoments::new(2, chain.len());
            for &v in chain {
                h.push(|k| if k == 0 { v } else { -10.0 * v });
            }
            assert!(h.is_complete());
            h
        })
        .collect();
    let refs: Vec<&HalfMoments> = halves.iter().collect();
    let r = split_rhat_classic(&refs).unwrap();
    // ArviZ: az.rhat(x, method="split") = 1.2546134172066785 (f32 storage: 1e-5).
    for v in &r {
        let v = finite("classic rhat", *v);
        assert!((v - 1.2546134172066785).abs() < 1e-5, "{v}");
    }
    // Too early (halves not yet filled): undefined, and the summary does not count it.
    let mut early = HalfMoments::new(1, 25);
    early.push(|_| 1.0);
    let e = split_rhat_classic(&[&early, &early]).unwrap();
    assert!(e[0].is_nan());
    let summary = RhatSummary::new(&[1.0, f64::NAN, 1.02, 1.005]);
    assert_eq!(summary.max, Some(1.02));
    assert_eq!(summary.undefined, 1);
    assert!((summary.share_above_1_01 - 1.0 / 3.0).abs() < 1e-12);
}

#[test]
fn rank_normalisation_is_blom_scores_of_the_ranks() {
    // Ranks 1..4 of 4 values: z = Phi^-1((r - 3/8) / 4.25).
    let z = z_scale(&[vec![10.0, -1.0], vec![3.0, 7.0]]);
    let want = [1.049_131_397_963_970_7, -1.049_131_397_963_970_7];
    assert!((z[0][0] - want[0]).abs() < 1e-12, "{:?}", z);
    assert!((z[0][1] - want[1]).abs() < 1e-12, "{:?}", z);
}

#[test]
fn classic_rhat_so_far_matches_the_draws_mid_run() {
    // 14 of 25 planned draws seen: 12 in the first half, the middle one skipped, 1 in the
    // second. The unsplit R-hat over the 14 draws of each chain must match the draws'.
    let seen = 14;
    let halves: Vec<HalfMoments> = DATA
        .iter()
        .map(|chain| {
            let mut h = HalfMoments::new(1, chain.len());
            for &v in &chain[..seen] {
                h.push(|_| v);
            }
            h
        })
        .collect();
    let refs: Vec<&HalfMoments> = halves.iter().collect();
    let got = rhat_classic_so_far(&refs).unwrap()[0];
    // The skipped middle draw (index 12) is not in the moments.
    let kept: Vec<Vec<f64>> = DATA
        .iter()
        .map(|c| c[..12].iter().chain(&c[13..seen]).copied().collect())
        .collect();
    let want = finite("rhat of the draws", rhat_basic(&kept));
    let got = finite("rhat so far", got);
    assert!((got - want).abs() < 1e-5, "{got} vs {want}");
    assert!(split_rhat_classic(&refs).unwrap()[0].is_nan());
}
