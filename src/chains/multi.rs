//! K chains on one problem, swept in rounds (one sweep of every chain per round).

use rayon::prelude::*;

use super::chain::{Chain, ChainSweep, Halves};
use super::feed::ChainFeed;
use super::quantities::{Quantity, default_pixels, quantities};
use super::record::Record;
use super::seeds::chain_seed;
use super::start::disperse;
use super::{ChainsError, MAX_CHAINS};
use crate::diagnostics::{
    DiagnosticsError, Draws, HalfMoments, RhatSummary, ScalarDiagnostics, rhat_classic_so_far,
    split_rhat_classic,
};
use crate::model::{GibbsSampler, Problem, SamplerSettings};

/// Most rounds [`MultiChain::run`] sweeps in one batch (each chain's sweeps in a row, see
/// [`MultiChain::rounds`]); front ends that read commands between batches choose fewer.
pub const BATCH_ROUNDS: usize = 8;

/// How the chains of a round share the machine. Both give the same numbers (every chain's
/// sweep is reproducible on any thread count); only the wall time differs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Parallelism {
    /// One chain after the other, each sweep using every core (GEMM threads and rayon).
    #[default]
    Sequential,
    /// The chains of a round run side by side as rayon tasks on the current pool; the
    /// kernels' own parallel loops (the sweep's GEMMs are rayon tasks too) fill cores a chain
    /// leaves idle. `MATMUL_NUM_THREADS=1` keeps nalgebra's smaller products from queueing
    /// for matrixmultiply's one helper thread.
    SideBySide,
}

/// How a multi-chain run is set up.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ChainsOptions {
    /// Number of chains, 1 to [`MAX_CHAINS`] (0 is read as 1).
    pub chains: usize,
    pub parallelism: Parallelism,
    /// Pixels whose sigma_d^2, an imputed value, (W W^T)[d, d] and W[d, 0] are recorded;
    /// None: [`default_pixels`].
    pub pixels: Option<Vec<usize>>,
    /// 0: every chain is swept here. 1: chain 1 (the notebook's start under the run's seed)
    /// is swept elsewhere, by a sampler that records it through [`MultiChain::feed`] (the
    /// app's view sampler); chains 2..K keep their seeds and starts.
    pub first_chain: usize,
}

/// Per-pixel classic R-hat (running moments, not rank-normalised).
#[derive(Clone, Debug, PartialEq)]
pub struct PixelRhat {
    /// True: split-R-hat over the 2K half-chains (both halves of the run complete). False:
    /// the run is still going, and the values are the unsplit R-hat of the K chains so far
    /// (NaN for one chain).
    pub split: bool,
    /// One value per missing pixel, in the order of the missing index (NaN: undefined).
    pub missing: Vec<f64>,
    /// One value per pixel d of sigma_d^2.
    pub sigmasq: Vec<f64>,
    /// One value per pixel d of mu_d.
    pub mu: Vec<f64>,
}

/// The per-pixel R-hat as images (each D values, row-major like an image): what the app
/// draws so one sees *where* the chains disagree.
#[derive(Clone, Debug, PartialEq)]
pub struct RhatImages {
    /// R-hat of sigma_d^2 for every pixel d.
    pub sigmasq: Vec<f64>,
    /// R-hat of mu_d for every pixel d.
    pub mu: Vec<f64>,
    /// For each image with a watched imputed pixel (in the order of the quantities): its
    /// index and the R-hat of each of its missing pixels (NaN where the pixel is observed).
    pub digits: Vec<(usize, Vec<f64>)>,
}

/// Diagnostics of a run after burn-in.
#[derive(Clone, Debug, PartialEq)]
pub struct ChainsDiagnostics {
    pub chains: usize,
    /// Post-burn-in draws per chain so far.
    pub draws_per_chain: usize,
    /// Sweep of the last change of target (0: none): the draws diagnosed are those after
    /// it plus the burn-in.
    pub since: usize,
    /// Sweep (of its own count) at which each chain last restarted its diagnostics, in chain
    /// order. Chain 1 fed from the app's view sampler runs ahead of the others, so it applies
    /// a change at a later sweep of its own and its draws after burn-in start later.
    pub restarts: Vec<usize>,
    /// Rank-normalised diagnostics of every diagnosed scalar quantity, in column order,
    /// with its column name (None while there are too few draws).
    pub scalars: Vec<(String, Option<ScalarDiagnostics>)>,
    /// True when the per-pixel summaries are split-R-hat (run complete), false while they
    /// are the unsplit R-hat of the chains so far.
    pub pixel_split: bool,
    /// Summaries of the classic per-pixel R-hat.
    pub missing: RhatSummary,
    pub sigmasq: RhatSummary,
    pub mu: RhatSummary,
    /// The same per-pixel R-hat as images.
    pub images: RhatImages,
}

impl ChainsDiagnostics {
    /// True when every diagnosed scalar has R-hat below 1.01.
    pub fn chains_agree(&self) -> bool {
        !self.scalars.is_empty()
            && self.scalars.iter().all(|(_, d)| {
                d.and_then(|d| d.rhat)
                    .is_some_and(|r| r < crate::diagnostics::RHAT_OK)
            })
    }
}

/// K chains of the Gibbs sampler on one problem.
pub struct MultiChain {
    pub(crate) chains: Vec<Chain>,
    /// Chain 1's record when it is swept elsewhere.
    feed: Option<ChainFeed>,
    quantities: Vec<Quantity>,
    pub(crate) settings: SamplerSettings,
    parallelism: Parallelism,
    /// Round at the last change of target (0 at the start): the draws diagnosed are those
    /// after it plus the burn-in (see [`super::follow`]).
    pub(crate) change_point: usize,
    pub(crate) n: usize,
    pub(crate) d: usize,
}

impl MultiChain {
    /// Builds the chains: chain c (0-based) has seed [`chain_seed`]`(settings.seed, c)`;
    /// chain 0 starts as the notebook does, the others from dispersed points
    /// ([`super::start`]). With [`ChainsOptions::first_chain`] = 1, chain 0 is not built
    /// here: it is swept elsewhere and recorded through [`MultiChain::feed`]; chains 1..K
    /// are exactly as they would be otherwise.
    pub fn new(
        problem: &Problem,
        settings: &SamplerSettings,
        options: &ChainsOptions,
    ) -> Result<MultiChain, ChainsError> {
        let k = options.chains.max(1);
        if k > MAX_CHAINS {
            return Err(ChainsError::ChainCount { chains: k });
        }
        let first_chain = options.first_chain;
        if first_chain > 1 || first_chain >= k {
            return Err(ChainsError::FirstChain {
                first: first_chain,
                chains: k,
            });
        }
        let mut samplers = Vec::with_capacity(k);
        let mut initial_sigmasq = None;
        for c in first_chain..k {
            let seed = chain_seed(settings.seed, c);
            let chain_settings = SamplerSettings {
                seed,
                ..settings.clone()
            };
            let mut sampler = GibbsSampler::new(problem, &chain_settings)?;
            // The notebook's sigma^2 (the observed column variances), before any dispersal.
            initial_sigmasq.get_or_insert_with(|| sampler.sigmasq().to_vec());
            if c > 0 {
                disperse(&mut sampler, seed)?;
            }
            samplers.push((c, seed, sampler));
        }
        let first = &samplers[0].2;
        let pixels = match &options.pixels {
            Some(p) => p.clone(),
            None => default_pixels(initial_sigmasq.as_deref().unwrap_or(&[])),
        };
        let has_truth = first.truth_missing().is_some_and(|t| !t.is_empty());
        let quantities = quantities(first, has_truth, &pixels);
        let chains = samplers
            .into_iter()
            .map(|(c, seed, sampler)| Chain {
                seed,
                record: Record::new(c, &sampler, quantities.len()),
                sampler,
            })
            .collect();
        let feed = (first_chain == 1).then(|| ChainFeed::new(0, quantities.clone()));
        Ok(MultiChain {
            chains,
            feed,
            quantities,
            settings: settings.clone(),
            parallelism: options.parallelism,
            change_point: 0,
            n: problem.n,
            d: problem.d,
        })
    }

    /// Chain 1's record when it is swept elsewhere ([`ChainsOptions::first_chain`] = 1):
    /// hand it to the thread that sweeps it (see [`super::ChainFeed`]).
    pub fn feed(&self) -> Option<ChainFeed> {
        self.feed.clone()
    }

    /// The seeds of all K chains, chain 1's included when it is swept elsewhere.
    pub fn seeds(&self) -> Vec<u64> {
        let fed = self
            .feed
            .as_ref()
            .map(|_| chain_seed(self.settings.seed, 0));
        fed.into_iter()
            .chain(self.chains.iter().map(|c| c.seed))
            .collect()
    }

    /// Chain 1's sweeps recorded through the feed since the last call (none without one).
    pub(crate) fn take_fed(&self) -> Vec<ChainSweep> {
        self.feed
            .as_ref()
            .map_or_else(Vec::new, ChainFeed::take_unsent)
    }

    /// Calls `f` with the records of all K chains in chain order: chain 1's from the feed
    /// (while it is locked) when it is swept elsewhere, then the chains swept here.
    fn with_records<R>(&self, f: impl FnOnce(&[&Record]) -> R) -> R {
        let guard = self.feed.as_ref().map(ChainFeed::lock);
        let mut records: Vec<&Record> = Vec::with_capacity(MAX_CHAINS);
        if let Some(fed) = guard.as_ref().and_then(|g| g.record.as_ref()) {
            records.push(fed);
        }
        records.extend(self.chains.iter().map(|c| &c.record));
        f(&records)
    }

    /// One sweep of every chain; the reports in chain order.
    pub fn round(&mut self) -> Vec<ChainSweep> {
        self.rounds(1).pop().unwrap_or_default()
    }

    /// `count` rounds, each chain doing its `count` sweeps in a row before the next chain
    /// starts (side by side: before its core takes the next chain). The reports are the same
    /// as `count` calls of [`MultiChain::round`] would give, by round and in chain order.
    ///
    /// Why in a row: a sweep streams about 90 MB of a chain's own arrays at N = 10,000
    /// (X~ twice, the missing entries' values, moments and half moments). Four chains
    /// alternating sweep by sweep pass 360 MB through the cache each round; one chain's next
    /// sweep finds much of its data still in the last-level cache. Four chains side by side
    /// took 8% less time in batches of 10 rounds than round by round on the 2-core Intel
    /// (README, Performance).
    pub fn rounds(&mut self, count: usize) -> Vec<Vec<ChainSweep>> {
        let q = &self.quantities;
        let by_chain: Vec<Vec<ChainSweep>> = match self.parallelism {
            Parallelism::Sequential => self.chains.iter_mut().map(|c| c.sweeps(q, count)).collect(),
            Parallelism::SideBySide => self
                .chains
                .par_iter_mut()
                .with_max_len(1)
                .map(|c| c.sweeps(q, count))
                .collect(),
        };
        let mut by_chain: Vec<_> = by_chain.into_iter().map(Vec::into_iter).collect();
        (0..count)
            .map(|_| by_chain.iter_mut().filter_map(Iterator::next).collect())
            .collect()
    }

    /// Rounds still to run before the run length.
    pub fn rounds_left(&self) -> usize {
        self.settings.sweeps.saturating_sub(self.iteration())
    }

    /// Runs the remaining rounds up to the run length in batches of at most
    /// [`BATCH_ROUNDS`] ([`MultiChain::rounds`]), calling `on_round` after each batch for each
    /// of its rounds in order.
    pub fn run(&mut self, mut on_round: impl FnMut(&[ChainSweep])) {
        while !self.is_done() {
            for reports in self.rounds(self.rounds_left().min(BATCH_ROUNDS)) {
                on_round(&reports);
            }
        }
    }

    /// True once every chain has done the run length.
    pub fn is_done(&self) -> bool {
        self.iteration() >= self.settings.sweeps
    }

    /// Sweeps done by each chain.
    pub fn iteration(&self) -> usize {
        self.chains[0].sampler.iteration()
    }

    /// The settings of the run (the seed is the run's; chains derive theirs from it).
    pub fn settings(&self) -> &SamplerSettings {
        &self.settings
    }

    /// The scalar quantities recorded at every sweep, in column order.
    pub fn quantities(&self) -> &[Quantity] {
        &self.quantities
    }

    /// The chains.
    pub fn chains(&self) -> &[Chain] {
        &self.chains
    }

    /// Round at the last change of target (0 at the start); see [`super::follow`].
    pub fn change_point(&self) -> usize {
        self.change_point
    }

    /// First sweep (0-based index into the recorded values) that is diagnosed: the last
    /// change of target plus the burn-in.
    pub fn first_draw(&self) -> usize {
        self.change_point + self.settings.burn_in
    }

    /// Post-burn-in draws of quantity `q` of every chain swept here (since the last change
    /// of target).
    pub fn post_burn_in(&self, q: usize) -> Vec<&[f64]> {
        self.chains
            .iter()
            .map(|c| c.record.post_burn_in(q))
            .collect()
    }

    /// Classic split-R-hat of every missing pixel, sigma_d^2 and mu_d once the planned
    /// post-burn-in draws of every chain are complete; before that (for live displays) the
    /// unsplit classic R-hat of the K chains so far, see [`PixelRhat::split`]. Chain 1 fed
    /// from elsewhere may hold more draws than the others: the unsplit form allows that.
    pub fn pixel_rhat(&self) -> Result<PixelRhat, DiagnosticsError> {
        self.with_records(pixel_rhat)
    }

    /// R-hat, bulk- and tail-ESS and MCSE of every diagnosed scalar, and the per-pixel
    /// R-hat summaries, from the post-burn-in draws so far of all K chains (cut to the
    /// shortest chain).
    pub fn diagnostics(&self) -> Result<ChainsDiagnostics, DiagnosticsError> {
        let (scalars, draws_per_chain, pixels, restarts) = self.with_records(|records| {
            let draws_per_chain = records
                .iter()
                .map(|r| r.post_burn_in(0).len())
                .min()
                .unwrap_or(0);
            let scalars = self
                .quantities
                .iter()
                .enumerate()
                .filter(|(_, q)| q.diagnosed())
                .map(|(i, q)| {
                    let draws: Vec<&[f64]> = records
                        .iter()
                        .map(|r| &r.post_burn_in(i)[..draws_per_chain])
                        .collect();
                    let d = Draws::new(&draws).ok().map(|d| ScalarDiagnostics::of(&d));
                    (q.name(), d)
                })
                .collect::<Vec<_>>();
            let restarts = records.iter().map(|r| r.change_point).collect();
            (scalars, draws_per_chain, pixel_rhat(records), restarts)
        });
        let pixels = pixels?;
        let images = self.rhat_images(&pixels);
        Ok(ChainsDiagnostics {
            chains: self.seeds().len(),
            draws_per_chain,
            since: self.change_point,
            restarts,
            scalars,
            pixel_split: pixels.split,
            missing: RhatSummary::new(&pixels.missing),
            sigmasq: RhatSummary::new(&pixels.sigmasq),
            mu: RhatSummary::new(&pixels.mu),
            images,
        })
    }

    /// `pixels` as images: sigma^2 and mu as they are, and the missing pixels of each image
    /// with a watched imputed pixel laid into that image (found per column by binary search
    /// in the missing index, so O(D log N) an image).
    fn rhat_images(&self, pixels: &PixelRhat) -> RhatImages {
        let index = self.chains[0].sampler.state().missing();
        let d = pixels.sigmasq.len();
        let mut images: Vec<usize> = Vec::new();
        for q in &self.quantities {
            if let Quantity::Imputed { image, .. } = *q
                && !images.contains(&image)
            {
                images.push(image);
            }
        }
        let digits = images
            .into_iter()
            .map(|n| {
                let mut values = vec![f64::NAN; d];
                for (col, value) in values.iter_mut().enumerate() {
                    if let Some(k) = index.position(n, col) {
                        *value = pixels.missing.get(k).copied().unwrap_or(f64::NAN);
                    }
                }
                (n, values)
            })
            .collect();
        RhatImages {
            sigmasq: pixels.sigmasq.clone(),
            mu: pixels.mu.clone(),
            digits,
        }
    }
}

/// The per-pixel R-hat of `records` (the chains swept here last): split once every chain
/// completed the same plan, else the unsplit form so far.
fn pixel_rhat(records: &[&Record]) -> Result<PixelRhat, DiagnosticsError> {
    let first = &records.first().ok_or(DiagnosticsError::NoChains)?.halves;
    let split = records.iter().all(|r| {
        let h = &r.halves.missing;
        h.is_complete()
            && (h.planned(), h.seen()) == (first.missing.planned(), first.missing.seen())
    });
    let of = |f: fn(&Halves) -> &HalfMoments| {
        let h: Vec<&HalfMoments> = records.iter().map(|r| f(&r.halves)).collect();
        if split {
            split_rhat_classic(&h)
        } else {
            rhat_classic_so_far(&h)
        }
    };
    // A painted mask that chain 1 (fed from elsewhere) applied and the others not yet, or
    // the other way round: the missing pixels differ for a moment, and have no R-hat.
    let own = records.last().map_or(0, |r| r.halves.missing.len());
    let missing = if records.iter().all(|r| r.halves.missing.len() == own) {
        of(|h| &h.missing)?
    } else {
        vec![f64::NAN; own]
    };
    Ok(PixelRhat {
        split,
        missing,
        sigmasq: of(|h| &h.sigmasq)?,
        mu: of(|h| &h.mu)?,
    })
}
