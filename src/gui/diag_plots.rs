//! The data of the Diagnostics view's rank and autocorrelation plots, computed off the UI
//! thread: pooled ranks of every chain's post-burn-in draws binned per chain (a rank plot,
//! Vehtari et al. 2021, section 4.1), and each chain's autocorrelation at small lags.
//!
//! Threads: [`PlotsCache::update`] runs on the UI thread and only copies the post-burn-in
//! draws of two scalars (K x S numbers, at most a few hundred kB) into a [`Job`]; the sorting
//! and FFTs run on the job's thread, at most once per diagnostics report (about a second).

use egui_plot::PlotPoint;

use super::job::{Job, Outcome};
use crate::diagnostics::autocov::autocovariance;
use crate::diagnostics::draws::average_ranks;

/// Most bins of a rank histogram.
pub const RANK_BINS: usize = 20;
/// Largest lag of the autocorrelation plots.
pub const MAX_LAG: usize = 40;

/// Rank and autocorrelation plots of one scalar quantity.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QuantityPlots {
    /// Column name of the quantity.
    pub name: String,
    /// Per chain: the rank histogram as a line through the bin centres (a frequency polygon)
    /// over pooled rank / total in [0, 1]. (Step lines with vertical edges would be drawn
    /// as filled bands by egui_plot's per-pixel thinning.)
    pub ranks: Vec<Vec<PlotPoint>>,
    /// Draws per bin if the chains mixed perfectly (ranks uniform).
    pub expected: f64,
    /// Per chain: autocorrelation at lags 0..=MAX_LAG (empty for a constant chain).
    pub acf: Vec<Vec<PlotPoint>>,
    /// Post-burn-in draws per chain the plots were made from.
    pub draws: usize,
}

/// The plots of the log joint and of the chosen pixel quantity.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DiagnosticPlots {
    pub quantities: Vec<QuantityPlots>,
}

/// Rank histograms and autocorrelations of `chains` (equal lengths, finite draws).
pub fn quantity_plots(name: &str, chains: &[Vec<f64>]) -> QuantityPlots {
    let draws = chains.iter().map(Vec::len).min().unwrap_or(0);
    let mut out = QuantityPlots {
        name: name.to_owned(),
        draws,
        ..QuantityPlots::default()
    };
    if chains.is_empty() || draws < 2 {
        return out;
    }
    let pooled: Vec<f64> = chains
        .iter()
        .flat_map(|c| c[..draws].iter().copied())
        .collect();
    let ranks = average_ranks(&pooled);
    let total = pooled.len() as f64;
    let bins = RANK_BINS.min((draws / 5).max(2));
    out.expected = draws as f64 / bins as f64;
    for chain_ranks in ranks.chunks(draws) {
        let mut counts = vec![0usize; bins];
        for &r in chain_ranks {
            // Ranks run from 1 to total: (r - 0.5) / total is in (0, 1).
            let bin = (((r - 0.5) / total) * bins as f64) as usize;
            counts[bin.min(bins - 1)] += 1;
        }
        let line = counts
            .iter()
            .enumerate()
            .map(|(b, &count)| PlotPoint::new((b as f64 + 0.5) / bins as f64, count as f64))
            .collect();
        out.ranks.push(line);
    }
    for chain in chains {
        let acov = autocovariance(&chain[..draws]);
        let acf = match acov.first() {
            Some(&v0) if v0 > 0.0 && v0.is_finite() => acov
                .iter()
                .take(MAX_LAG + 1)
                .enumerate()
                .map(|(lag, &v)| PlotPoint::new(lag as f64, v / v0))
                .collect(),
            _ => Vec::new(),
        };
        out.acf.push(acf);
    }
    out
}

/// What the plots are made from: a copy of post-burn-in draws, (name, chains) per quantity.
pub type PlotInput = Vec<(String, Vec<Vec<f64>>)>;

/// The newest plots and the job making the next ones.
#[derive(Default)]
pub struct PlotsCache {
    current: Option<DiagnosticPlots>,
    job: Option<Job<DiagnosticPlots>>,
    /// What the current plots (or the job's) were made for: (diagnostics version, chosen).
    made_for: Option<(u64, usize)>,
}

impl PlotsCache {
    /// The newest plots, if any were made.
    pub fn current(&self) -> Option<&DiagnosticPlots> {
        self.current.as_ref()
    }

    /// Takes a finished job's plots; starts a new job when `version` (of the diagnostics) or
    /// `chosen` changed since the last one and none is running. `input` is called only then.
    pub fn update(
        &mut self,
        ctx: &egui::Context,
        version: u64,
        chosen: usize,
        input: impl FnOnce() -> PlotInput,
    ) {
        if let Some(job) = &mut self.job
            && let Some(outcome) = job.poll()
        {
            self.job = None;
            if let Outcome::Finished(plots) = outcome {
                self.current = Some(plots);
            }
        }
        if self.job.is_some() || self.made_for == Some((version, chosen)) {
            return;
        }
        self.made_for = Some((version, chosen));
        let input = input();
        self.job = Some(Job::spawn("diagnostic plots", ctx, move |_| {
            Ok(DiagnosticPlots {
                quantities: input
                    .iter()
                    .map(|(name, chains)| quantity_plots(name, chains))
                    .collect(),
            })
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::SmallRng;
    use rand_distr::{Distribution, StandardNormal};

    fn normal_chains(k: usize, s: usize, shift: f64) -> Vec<Vec<f64>> {
        let mut rng = SmallRng::seed_from_u64(7);
        (0..k)
            .map(|c| {
                (0..s)
                    .map(|_| {
                        let z: f64 = StandardNormal.sample(&mut rng);
                        z + shift * c as f64
                    })
                    .collect()
            })
            .collect()
    }

    /// Chains of the same distribution give flat rank histograms; a shifted chain piles its
    /// ranks at the top. Lag-0 autocorrelation is 1 and independent draws decorrelate.
    #[test]
    fn ranks_are_flat_for_mixed_chains_and_skewed_for_shifted_ones() {
        let plots = quantity_plots("x", &normal_chains(3, 2000, 0.0));
        assert_eq!(plots.ranks.len(), 3);
        assert_eq!(plots.expected, 100.0);
        for line in &plots.ranks {
            let total: f64 = line.iter().map(|p| p.y).sum();
            assert_eq!(total, 2000.0);
            for p in line {
                assert!((p.y - 100.0).abs() < 45.0, "bin {p:?} far from flat");
            }
        }
        for acf in &plots.acf {
            assert_eq!(acf.len(), MAX_LAG + 1);
            assert!((acf[0].y - 1.0).abs() < 1e-12);
            assert!(acf[1].y.abs() < 0.1, "lag 1: {}", acf[1].y);
        }
        let shifted = quantity_plots("x", &normal_chains(2, 500, 10.0));
        let top_bin = shifted.ranks[1].last().map_or(0.0, |p| p.y);
        assert!(top_bin >= 2.0 * shifted.expected, "top bin {top_bin}");
        let bottom_bin = shifted.ranks[1].first().map_or(0.0, |p| p.y);
        assert_eq!(bottom_bin, 0.0);
    }

    #[test]
    fn too_few_or_constant_draws_give_empty_plots_not_nan() {
        let one = quantity_plots("x", &[vec![1.0], vec![2.0]]);
        assert!(one.ranks.is_empty() && one.acf.is_empty());
        let constant = quantity_plots("x", &[vec![3.0; 50], vec![3.0; 50]]);
        assert!(constant.acf.iter().all(Vec::is_empty));
        assert!(
            constant
                .ranks
                .iter()
                .flatten()
                .all(|p| p.x.is_finite() && p.y.is_finite())
        );
    }
}
