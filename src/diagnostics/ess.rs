//! Effective sample size (Geyer's initial monotone sequence on the multi-chain
//! autocorrelation, Vehtari et al. 2021 section 3.2), bulk-ESS, tail-ESS and the Monte Carlo
//! standard error of the mean, following ArviZ 0.23 (`_ess`, `_ess_bulk`, `_ess_tail`,
//! `_mcse_mean` in `arviz/stats/diagnostics.py`) step by step.

use super::autocov::autocovariance;
use super::draws::{Draws, quantile_type7, split_chains, var_ddof1, z_scale};

/// ESS of the given chains as they are (no splitting, no ranks): ArviZ's `_ess`.
///
/// A quantity that does not vary (range below 1e-15) gets the draw count, as in ArviZ. Chains
/// need at least 2 draws; the result is NaN when the autocorrelations are not finite.
pub fn ess_raw(chains: &[Vec<f64>]) -> f64 {
    let m = chains.len();
    let n = chains.first().map_or(0, Vec::len);
    let size = (m * n) as f64;
    let (lo, hi) = chains
        .iter()
        .flatten()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    if hi - lo < 1e-15 {
        return size;
    }
    if n < 2 {
        return f64::NAN;
    }
    let nf = n as f64;
    let acov: Vec<Vec<f64>> = chains.iter().map(|c| autocovariance(c)).collect();
    let mean_acov = |t: usize| acov.iter().map(|a| a[t]).sum::<f64>() / m as f64;
    let chain_means: Vec<f64> = chains.iter().map(|c| c.iter().sum::<f64>() / nf).collect();
    let mean_var = mean_acov(0) * nf / (nf - 1.0);
    let mut var_plus = mean_var * (nf - 1.0) / nf;
    if m > 1 {
        var_plus += var_ddof1(chain_means.iter().copied());
    }
    let rho = |t: usize| 1.0 - (mean_var - mean_acov(t)) / var_plus;

    let mut rho_hat = vec![0.0; n];
    let mut rho_even = 1.0;
    rho_hat[0] = rho_even;
    let mut rho_odd = rho(1);
    rho_hat[1] = rho_odd;
    // Geyer's initial positive sequence: sums of adjacent pairs while they stay positive.
    let mut t = 1;
    while t + 3 < n && rho_even + rho_odd > 0.0 {
        rho_even = rho(t + 1);
        rho_odd = rho(t + 2);
        if rho_even + rho_odd >= 0.0 {
            rho_hat[t + 1] = rho_even;
            rho_hat[t + 2] = rho_odd;
        }
        t += 2;
    }
    // `t` is at least 1 here, so max_t >= -1; ArviZ uses Python's negative indexing when
    // max_t = -1 (only for n < 4, which the callers never pass).
    let max_t = t as isize - 2;
    if rho_even > 0.0 {
        let k = (max_t + 1) as usize;
        rho_hat[k] = rho_even;
    }
    // Geyer's initial monotone sequence: pair sums may not increase.
    let mut t = 1isize;
    while t <= max_t - 2 {
        let u = t as usize;
        if rho_hat[u + 1] + rho_hat[u + 2] > rho_hat[u - 1] + rho_hat[u] {
            rho_hat[u + 1] = (rho_hat[u - 1] + rho_hat[u]) / 2.0;
            rho_hat[u + 2] = rho_hat[u + 1];
        }
        t += 2;
    }
    let head = (max_t + 1).max(0) as usize;
    let tail = rho_hat.get(head).copied().unwrap_or(0.0);
    let mut tau = -1.0 + 2.0 * rho_hat[..head].iter().sum::<f64>() + tail;
    tau = tau.max(1.0 / size.log10());
    if rho_hat.iter().any(|v| v.is_nan()) {
        return f64::NAN;
    }
    size / tau
}

/// Bulk-ESS: ESS of the rank-normalised split chains (Vehtari et al. 2021, section 4.1).
pub fn ess_bulk(draws: &Draws) -> f64 {
    ess_raw(&z_scale(&split_chains(draws.chains())))
}

/// Tail-ESS: the smaller ESS of the indicators I(x <= q05) and I(x <= q95) on split chains
/// (quantiles of type 7 over all draws), Vehtari et al. 2021, section 4.3.
pub fn ess_tail(draws: &Draws) -> f64 {
    let mut sorted: Vec<f64> = draws.chains().iter().flatten().copied().collect();
    sorted.sort_by(f64::total_cmp);
    [0.05, 0.95]
        .iter()
        .map(|&p| {
            let q = quantile_type7(&sorted, p);
            let indicator: Vec<Vec<f64>> = draws
                .chains()
                .iter()
                .map(|c| c.iter().map(|&v| if v <= q { 1.0 } else { 0.0 }).collect())
                .collect();
            ess_raw(&split_chains(&indicator))
        })
        .fold(f64::INFINITY, f64::min)
}

/// ESS of the mean: ESS of the split chains without rank normalisation.
pub fn ess_mean(draws: &Draws) -> f64 {
    ess_raw(&split_chains(draws.chains()))
}

/// Monte Carlo standard error of the posterior mean: sd of all draws (n - 1) over
/// sqrt(ESS of the mean), as ArviZ's `_mcse_mean` and posterior's `mcse_mean`.
pub fn mcse_mean(draws: &Draws) -> f64 {
    let sd = var_ddof1(draws.chains().iter().flatten().copied()).sqrt();
    sd / ess_mean(draws).sqrt()
}
