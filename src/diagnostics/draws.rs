//! Checked draws of one scalar quantity (one row per chain) and the reshaping steps every
//! diagnostic shares: splitting chains in halves, rank normalisation and folding.

use super::DiagnosticsError;
use super::normal::normal_quantile;

/// Fewest draws per chain accepted (as ArviZ and the posterior package require).
pub const MIN_DRAWS: usize = 4;

/// Post-burn-in draws of one scalar quantity: `chains[c][t]` is draw t of chain c; every
/// chain has the same length, at least [`MIN_DRAWS`], and every value is finite.
#[derive(Clone, Debug, PartialEq)]
pub struct Draws {
    chains: Vec<Vec<f64>>,
}

impl Draws {
    /// Checks and copies the chains.
    pub fn new<C: AsRef<[f64]>>(chains: &[C]) -> Result<Draws, DiagnosticsError> {
        let first = chains.first().ok_or(DiagnosticsError::NoChains)?.as_ref();
        let n = first.len();
        if n < MIN_DRAWS {
            return Err(DiagnosticsError::TooFewDraws {
                draws: n,
                min: MIN_DRAWS,
            });
        }
        for (c, chain) in chains.iter().enumerate() {
            let chain = chain.as_ref();
            if chain.len() != n {
                return Err(DiagnosticsError::UnequalChains {
                    chain: c,
                    draws: chain.len(),
                    expected: n,
                });
            }
            if let Some(t) = chain.iter().position(|v| !v.is_finite()) {
                return Err(DiagnosticsError::NonFinite { chain: c, draw: t });
            }
        }
        Ok(Draws {
            chains: chains.iter().map(|c| c.as_ref().to_vec()).collect(),
        })
    }

    /// The chains (rows), as given.
    pub fn chains(&self) -> &[Vec<f64>] {
        &self.chains
    }

    /// Number of chains.
    pub fn n_chains(&self) -> usize {
        self.chains.len()
    }

    /// Draws per chain.
    pub fn n_draws(&self) -> usize {
        self.chains[0].len()
    }
}

/// Every chain cut into its first and last `n / 2` draws (the middle draw of an odd-length
/// chain is dropped, as ArviZ's `_split_chains` and posterior's `split_chains` do): 2K rows.
pub fn split_chains(chains: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let mut out = Vec::with_capacity(2 * chains.len());
    for c in chains {
        let half = c.len() / 2;
        out.push(c[..half].to_vec());
    }
    for c in chains {
        let half = c.len() / 2;
        out.push(c[c.len() - half..].to_vec());
    }
    out
}

/// Rank normalisation (Vehtari et al. 2021, eq. 14): ranks r over all draws jointly, ties
/// given their average rank, then z = Phi^-1((r - 3/8) / (S - 1/4)) with S the total count.
pub fn z_scale(chains: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let flat: Vec<f64> = chains.iter().flatten().copied().collect();
    let ranks = average_ranks(&flat);
    let size = flat.len() as f64;
    let mut k = 0;
    chains
        .iter()
        .map(|c| {
            c.iter()
                .map(|_| {
                    let p = (ranks[k] - 0.375) / (size - 0.75 + 1.0);
                    k += 1;
                    normal_quantile(p)
                })
                .collect()
        })
        .collect()
}

/// |x - median of all draws| (the folded draws of Vehtari et al. 2021, eq. 15).
pub fn fold(chains: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let mut flat: Vec<f64> = chains.iter().flatten().copied().collect();
    let med = median_in_place(&mut flat);
    chains
        .iter()
        .map(|c| c.iter().map(|v| (v - med).abs()).collect())
        .collect()
}

/// 1-based ranks, ties sharing their average rank (scipy's `rankdata(method="average")`).
pub fn average_ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i + 1;
        while j < order.len() && values[order[j]] == values[order[i]] {
            j += 1;
        }
        // Positions i..j (0-based) share the ranks i+1..=j, whose average is (i + 1 + j) / 2.
        let rank = (i + 1 + j) as f64 / 2.0;
        for &k in &order[i..j] {
            ranks[k] = rank;
        }
        i = j;
    }
    ranks
}

/// Median (average of the two middle values for an even count); reorders `values`.
pub fn median_in_place(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        values[n / 2]
    } else {
        0.5 * (values[n / 2 - 1] + values[n / 2])
    }
}

/// Quantile of type 7 (R's default, numpy's "linear", what ArviZ uses for the tail ESS):
/// linear interpolation between order statistics at position (n - 1) p.
pub fn quantile_type7(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let h = (n - 1) as f64 * p.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Sample variance with denominator n - 1 (0 for fewer than two values).
pub(crate) fn var_ddof1(values: impl Iterator<Item = f64> + Clone) -> f64 {
    let (n, sum) = values
        .clone()
        .fold((0usize, 0.0), |(n, s), v| (n + 1, s + v));
    if n < 2 {
        return 0.0;
    }
    let mean = sum / n as f64;
    values.map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_average_ties_like_scipy() {
        // scipy.stats.rankdata([3, 1, 3, 2, 3], method="average") = [4, 1, 4, 2, 4]
        assert_eq!(
            average_ranks(&[3.0, 1.0, 3.0, 2.0, 3.0]),
            vec![4.0, 1.0, 4.0, 2.0, 4.0]
        );
    }

    #[test]
    fn split_drops_the_middle_draw_of_odd_chains() {
        let s = split_chains(&[vec![1.0, 2.0, 3.0, 4.0, 5.0]]);
        assert_eq!(s, vec![vec![1.0, 2.0], vec![4.0, 5.0]]);
    }

    #[test]
    fn quantile_type7_interpolates() {
        // numpy.quantile([1, 2, 4, 8], 0.5) = 3.0, 0.05 -> 1.15
        let v = [1.0, 2.0, 4.0, 8.0];
        assert!((quantile_type7(&v, 0.5) - 3.0).abs() < 1e-15);
        assert!((quantile_type7(&v, 0.05) - 1.15).abs() < 1e-12);
    }

    #[test]
    fn draws_reject_bad_input() {
        assert!(matches!(
            Draws::new::<Vec<f64>>(&[]),
            Err(DiagnosticsError::NoChains)
        ));
        assert!(matches!(
            Draws::new(&[vec![1.0; 3]]),
            Err(DiagnosticsError::TooFewDraws { .. })
        ));
        assert!(matches!(
            Draws::new(&[vec![1.0; 5], vec![1.0; 6]]),
            Err(DiagnosticsError::UnequalChains { .. })
        ));
        assert!(matches!(
            Draws::new(&[vec![1.0, 2.0, f64::NAN, 3.0]]),
            Err(DiagnosticsError::NonFinite { chain: 0, draw: 2 })
        ));
    }
}
