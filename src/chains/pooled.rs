//! The posterior pooled over all chains after burn-in: mean and std of every missing pixel,
//! of mu and of sigma^2, and the headline RMSE of the pooled posterior mean with its Monte
//! Carlo standard error.

use super::MultiChain;
use crate::model::MeanStd;

/// Pooled posterior summaries.
#[derive(Clone, Debug, PartialEq)]
pub struct PooledPosterior {
    pub n: usize,
    pub d: usize,
    /// Post-burn-in draws over all chains.
    pub draws: usize,
    /// N x D row-major: observed pixels, missing ones at their pooled posterior mean.
    pub mean: Vec<f32>,
    /// N x D row-major pooled posterior std (0 where observed).
    pub std: Vec<f32>,
    pub mu: MeanStd,
    pub sigmasq: MeanStd,
    /// RMSE of the pooled posterior mean on the missing pixels (None without the truth).
    pub rmse: Option<f64>,
    /// Monte Carlo standard error of `rmse` (None with fewer than 2 draws per half-chain).
    pub rmse_mcse: Option<f64>,
}

/// Pools per-chain (count, mean, std) of one quantity: the mean weighted by counts, the
/// variance from the within-chain sums of squares plus the spread of the chain means.
fn pool(parts: &[(usize, f64, f64)]) -> (f64, f64) {
    let n: usize = parts.iter().map(|p| p.0).sum();
    if n == 0 {
        return (parts.first().map_or(0.0, |p| p.1), 0.0);
    }
    let mean = parts.iter().map(|p| p.0 as f64 * p.1).sum::<f64>() / n as f64;
    if n < 2 {
        return (mean, 0.0);
    }
    let m2: f64 = parts
        .iter()
        .map(|&(c, m, s)| (c.saturating_sub(1)) as f64 * s * s + c as f64 * (m - mean).powi(2))
        .sum();
    (mean, (m2 / (n - 1) as f64).sqrt())
}

fn pool_vectors(parts: &[(usize, MeanStd)]) -> MeanStd {
    let len = parts.first().map_or(0, |p| p.1.mean.len());
    let (mut mean, mut std) = (Vec::with_capacity(len), Vec::with_capacity(len));
    for k in 0..len {
        let items: Vec<(usize, f64, f64)> = parts
            .iter()
            .map(|(c, ms)| (*c, ms.mean[k] as f64, ms.std[k] as f64))
            .collect();
        let (m, s) = pool(&items);
        mean.push(m as f32);
        std.push(s as f32);
    }
    MeanStd { mean, std }
}

impl MultiChain {
    /// The posterior pooled over chains from each chain's running moments (the draws after
    /// burn-in). Before burn-in ends it describes the current samples, as a single chain's
    /// summaries do.
    ///
    /// MCSE of the RMSE: the RMSE is a smooth function of the vector of posterior means, so
    /// by the delta method its error is g . e, with g_k = (mean_k - truth_k) / (P RMSE) and e
    /// the Monte Carlo error of the means. The variance of g . e is estimated by batch means
    /// over the 2K half-chains: the spread of g . (half-chain means) over the 2K halves,
    /// divided by 2K. This keeps the correlations between pixels and within chains.
    pub fn pooled(&self) -> PooledPosterior {
        let (n, d) = (self.n, self.d);
        let chains = self.chains();
        let counts: Vec<usize> = chains
            .iter()
            .map(|c| c.sampler.samples_in_moments())
            .collect();
        let mut mean = chains[0].sampler.reconstruction();
        let idx = chains[0].sampler.state().missing();
        let (rows, cols) = (idx.rows(), idx.cols());
        let at = |k: usize| rows[k] as usize * d + cols[k] as usize;
        let mut std = vec![0.0f32; n * d];
        let mut pooled_missing = Vec::with_capacity(idx.len());
        if chains.len() == 1 {
            // One chain: its own summaries, bit for bit (what a single-chain run writes).
            let s = &chains[0].sampler;
            let std = s.posterior_std();
            let pooled_missing: Vec<f64> = (0..idx.len()).map(|k| mean[at(k)] as f64).collect();
            let (rmse, rmse_mcse) = self.rmse_and_mcse(&pooled_missing);
            return PooledPosterior {
                n,
                d,
                draws: counts[0],
                mean,
                std,
                mu: s.posterior_mu(),
                sigmasq: s.posterior_sigmasq(),
                rmse,
                rmse_mcse,
            };
        }
        let per_chain: Vec<(Vec<f32>, Vec<f32>)> = chains
            .iter()
            .map(|c| {
                let r = c.sampler.reconstruction();
                let s = c.sampler.posterior_std();
                (
                    (0..idx.len()).map(|k| r[at(k)]).collect(),
                    (0..idx.len()).map(|k| s[at(k)]).collect(),
                )
            })
            .collect();
        for k in 0..idx.len() {
            let items: Vec<(usize, f64, f64)> = per_chain
                .iter()
                .zip(&counts)
                .map(|((m, s), &c)| (c, m[k] as f64, s[k] as f64))
                .collect();
            let (m, s) = pool(&items);
            mean[at(k)] = m as f32;
            std[at(k)] = s as f32;
            pooled_missing.push(m);
        }
        drop(per_chain);
        let mu = pool_vectors(
            &chains
                .iter()
                .zip(&counts)
                .map(|(c, &n)| (n, c.sampler.posterior_mu()))
                .collect::<Vec<_>>(),
        );
        let sigmasq = pool_vectors(
            &chains
                .iter()
                .zip(&counts)
                .map(|(c, &n)| (n, c.sampler.posterior_sigmasq()))
                .collect::<Vec<_>>(),
        );
        let (rmse, rmse_mcse) = self.rmse_and_mcse(&pooled_missing);
        PooledPosterior {
            n,
            d,
            draws: counts.iter().sum(),
            mean,
            std,
            mu,
            sigmasq,
            rmse,
            rmse_mcse,
        }
    }

    /// As [`Self::pooled`], except that with one chain `mean` and `std` are left empty:
    /// its sampler gives them a block of images at a time
    /// ([`crate::model::GibbsSampler::posterior_rows`]), so a writer needs no two N x D
    /// arrays (376 MB at N = 60,000). Every other field is the same. With several chains,
    /// exactly [`Self::pooled`].
    pub fn pooled_compact(&self) -> PooledPosterior {
        let chains = self.chains();
        let [chain] = chains else {
            return self.pooled();
        };
        let s = &chain.sampler;
        let pooled_missing: Vec<f64> = (0..s.state().missing().len())
            .map(|k| s.posterior_missing_mean(k) as f64)
            .collect();
        let (rmse, rmse_mcse) = self.rmse_and_mcse(&pooled_missing);
        PooledPosterior {
            n: self.n,
            d: self.d,
            draws: s.samples_in_moments(),
            mean: Vec::new(),
            std: Vec::new(),
            mu: s.posterior_mu(),
            sigmasq: s.posterior_sigmasq(),
            rmse,
            rmse_mcse,
        }
    }

    fn rmse_and_mcse(&self, pooled: &[f64]) -> (Option<f64>, Option<f64>) {
        // (Every chain has the same mask and truth; the samplers keep it in step with the mask.)
        let truth = self.chains.first().and_then(|c| c.sampler.truth_missing());
        let Some(truth) = truth.filter(|t| !t.is_empty()) else {
            return (None, None);
        };
        let p = truth.len() as f64;
        let ss: f64 = pooled
            .iter()
            .zip(truth)
            .map(|(&m, &t)| (m - t as f64).powi(2))
            .sum();
        let rmse = (ss / p).sqrt();
        let halves: Vec<_> = self
            .chains()
            .iter()
            .map(|c| &c.record.halves.missing)
            .collect();
        let (n1, n2) = halves[0].counts();
        if n1 < 2 || n2 < 2 || rmse == 0.0 {
            return (Some(rmse), None);
        }
        // L_j = sum_k g_k hmean_{j,k}, for the 2K half-chains j.
        let mut l = vec![0.0f64; 2 * halves.len()];
        for (k, (&m, &t)) in pooled.iter().zip(truth).enumerate() {
            let g = (m - t as f64) / (p * rmse);
            for (c, h) in halves.iter().enumerate() {
                if let Some((a, b)) = h.half_means(k) {
                    l[2 * c] += g * a;
                    l[2 * c + 1] += g * b;
                }
            }
        }
        let j = l.len() as f64;
        let lm = l.iter().sum::<f64>() / j;
        let var = l.iter().map(|v| (v - lm).powi(2)).sum::<f64>() / (j - 1.0);
        (Some(rmse), Some((var / j).sqrt()))
    }
}
