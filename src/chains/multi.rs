//! K chains on one problem, swept in rounds (one sweep of every chain per round).

use rayon::prelude::*;

use super::chain::{Chain, ChainSweep, Halves};
use super::quantities::{Quantity, default_pixels, quantities};
use super::seeds::chain_seed;
use super::start::disperse;
use super::{ChainsError, MAX_CHAINS};
use crate::diagnostics::{
    DiagnosticsError, Draws, HalfMoments, RhatSummary, ScalarDiagnostics, rhat_classic_so_far,
    split_rhat_classic,
};
use crate::model::{GibbsSampler, Problem, SamplerSettings};

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
    quantities: Vec<Quantity>,
    pub(crate) settings: SamplerSettings,
    parallelism: Parallelism,
    /// True values at the missing entries (missing-index order), when known.
    pub(crate) truth_missing: Option<Vec<f32>>,
    /// Round at the last change of target (0 at the start): the draws diagnosed are those
    /// after it plus the burn-in (see [`super::follow`]).
    pub(crate) change_point: usize,
    pub(crate) n: usize,
    pub(crate) d: usize,
}

impl MultiChain {
    /// Builds the chains: chain c (0-based) has seed [`chain_seed`]`(settings.seed, c)`;
    /// chain 0 starts as the notebook does, the others from dispersed points
    /// ([`super::start`]). The run length and burn-in of `settings` are fixed for the run.
    pub fn new(
        problem: &Problem,
        settings: &SamplerSettings,
        options: &ChainsOptions,
    ) -> Result<MultiChain, ChainsError> {
        let k = options.chains.max(1);
        if k > MAX_CHAINS {
            return Err(ChainsError::ChainCount { chains: k });
        }
        let planned = settings.sweeps.saturating_sub(settings.burn_in);
        let mut chains = Vec::with_capacity(k);
        for c in 0..k {
            let seed = chain_seed(settings.seed, c);
            let chain_settings = SamplerSettings {
                seed,
                ..settings.clone()
            };
            let mut sampler = GibbsSampler::new(problem, &chain_settings)?;
            if c > 0 {
                disperse(&mut sampler, seed)?;
            }
            let (n_missing, d) = (sampler.state().missing().len(), problem.d);
            let halves = Halves {
                missing: HalfMoments::new(n_missing, planned),
                sigmasq: HalfMoments::new(d, planned),
                mu: HalfMoments::new(d, planned),
            };
            chains.push(Chain {
                index: c,
                seed,
                sampler,
                values: Vec::new(),
                halves,
                change_point: 0,
            });
        }
        let first = &chains[0].sampler;
        let pixels = match &options.pixels {
            Some(p) => p.clone(),
            None => default_pixels(first.sigmasq()),
        };
        let truth_missing = problem.x_true.as_ref().map(|t| {
            let idx = first.state().missing();
            idx.rows()
                .iter()
                .zip(idx.cols())
                .map(|(&i, &j)| t[i as usize * problem.d + j as usize])
                .collect::<Vec<f32>>()
        });
        let has_truth = truth_missing.as_ref().is_some_and(|t| !t.is_empty());
        let quantities = quantities(first, has_truth, &pixels);
        for chain in &mut chains {
            chain.values = vec![Vec::with_capacity(settings.sweeps); quantities.len()];
        }
        Ok(MultiChain {
            chains,
            quantities,
            settings: settings.clone(),
            parallelism: options.parallelism,
            truth_missing,
            change_point: 0,
            n: problem.n,
            d: problem.d,
        })
    }

    /// One sweep of every chain; the reports in chain order.
    pub fn round(&mut self) -> Vec<ChainSweep> {
        let q = &self.quantities;
        match self.parallelism {
            Parallelism::Sequential => self.chains.iter_mut().map(|c| c.sweep(q)).collect(),
            Parallelism::SideBySide => self.chains.par_iter_mut().map(|c| c.sweep(q)).collect(),
        }
    }

    /// Runs the remaining rounds up to the run length, calling `on_round` after each.
    pub fn run(&mut self, mut on_round: impl FnMut(&[ChainSweep])) {
        while !self.is_done() {
            let reports = self.round();
            on_round(&reports);
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

    /// Post-burn-in draws of quantity `q` of every chain (since the last change of target).
    pub fn post_burn_in(&self, q: usize) -> Vec<&[f64]> {
        let b = self.first_draw();
        self.chains
            .iter()
            .map(|c| c.values(q).get(b..).unwrap_or(&[]))
            .collect()
    }

    /// Classic split-R-hat of every missing pixel, sigma_d^2 and mu_d once the planned
    /// post-burn-in draws are complete; before that (for live displays) the unsplit classic
    /// R-hat of the K chains so far, see [`PixelRhat::split`].
    pub fn pixel_rhat(&self) -> Result<PixelRhat, DiagnosticsError> {
        let split = self.chains[0].halves.missing.is_complete();
        let of = |f: fn(&Halves) -> &HalfMoments| {
            let h: Vec<&HalfMoments> = self.chains.iter().map(|c| f(&c.halves)).collect();
            if split {
                split_rhat_classic(&h)
            } else {
                rhat_classic_so_far(&h)
            }
        };
        Ok(PixelRhat {
            split,
            missing: of(|h| &h.missing)?,
            sigmasq: of(|h| &h.sigmasq)?,
            mu: of(|h| &h.mu)?,
        })
    }

    /// R-hat, bulk- and tail-ESS and MCSE of every diagnosed scalar, and the per-pixel
    /// R-hat summaries, from the post-burn-in draws so far.
    pub fn diagnostics(&self) -> Result<ChainsDiagnostics, DiagnosticsError> {
        let scalars = self
            .quantities
            .iter()
            .enumerate()
            .filter(|(_, q)| q.diagnosed())
            .map(|(i, q)| {
                let d = Draws::new(&self.post_burn_in(i))
                    .ok()
                    .map(|d| ScalarDiagnostics::of(&d));
                (q.name(), d)
            })
            .collect();
        let pixels = self.pixel_rhat()?;
        let images = self.rhat_images(&pixels);
        Ok(ChainsDiagnostics {
            chains: self.chains.len(),
            draws_per_chain: self.iteration().saturating_sub(self.first_draw()),
            since: self.change_point,
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
                    let range = index.column_range(col);
                    let rows = &index.rows()[range.clone()];
                    if let Ok(k) = rows.binary_search(&(n as u32)) {
                        *value = pixels
                            .missing
                            .get(range.start + k)
                            .copied()
                            .unwrap_or(f64::NAN);
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
