//! R-hat: the basic potential scale reduction factor, and the rank-normalised split-R-hat
//! of Vehtari et al. (2021), section 4.2, as ArviZ 0.23's `_rhat` and `_rhat_rank`.

use super::draws::{Draws, fold, split_chains, var_ddof1, z_scale};

/// sqrt(((n - 1)/n W + B/n) / W) with B = n var(chain means), W = mean within-chain
/// variance (both with denominator - 1): Gelman et al., BDA3 eq. 11.4. NaN when W = 0 or
/// there are fewer than 2 chains or 2 draws.
pub fn rhat_basic(chains: &[Vec<f64>]) -> f64 {
    let m = chains.len();
    let n = chains.first().map_or(0, Vec::len);
    if m < 2 || n < 2 {
        return f64::NAN;
    }
    let nf = n as f64;
    let means: Vec<f64> = chains.iter().map(|c| c.iter().sum::<f64>() / nf).collect();
    let between = nf * var_ddof1(means.iter().copied());
    let within = chains
        .iter()
        .map(|c| var_ddof1(c.iter().copied()))
        .sum::<f64>()
        / m as f64;
    ((between / within + nf - 1.0) / nf).sqrt()
}

/// Rank-normalised split-R-hat: the larger of the bulk R-hat (basic R-hat of the
/// rank-normalised split chains) and the tail R-hat (the same on the split chains folded
/// around their median). NaN for a quantity that does not vary.
///
/// One chain is diagnosed through its two halves (as the posterior R package does; ArviZ
/// returns NaN for a single chain).
pub fn rhat(draws: &Draws) -> f64 {
    let split = split_chains(draws.chains());
    let bulk = rhat_basic(&z_scale(&split));
    let tail = rhat_basic(&z_scale(&fold(&split)));
    if bulk.is_nan() || tail.is_nan() {
        return f64::NAN;
    }
    bulk.max(tail)
}
