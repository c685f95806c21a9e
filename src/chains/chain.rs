//! One chain of a multi-chain run: its sampler and its [`Record`] (every value of the scalar
//! quantities, and the per-half running moments of every missing pixel, sigma_d^2 and mu_d).

use super::quantities::Quantity;
use super::record::Record;
use crate::diagnostics::HalfMoments;
use crate::model::{GibbsSampler, SweepRecord};

/// What one sweep of one chain reports (a front end draws its traces from these).
#[derive(Clone, Debug, PartialEq)]
pub struct ChainSweep {
    /// Chain number, 0-based (shown as chain + 1).
    pub chain: usize,
    /// The sampler's own record (iteration from 1, counting burn-in).
    pub record: SweepRecord,
    /// True for burn-in sweeps (counted from the last change of target).
    pub warmup: bool,
    /// The scalar quantities, in the order of [`super::MultiChain::quantities`].
    pub values: Vec<f64>,
}

/// Per-half moments of the per-pixel quantities of one chain.
#[derive(Clone, Debug)]
pub struct Halves {
    /// Every missing pixel, in the order of the missing index.
    pub missing: HalfMoments,
    pub sigmasq: HalfMoments,
    pub mu: HalfMoments,
}

/// One chain: a [`GibbsSampler`] with its own seed and start, and what it recorded.
pub struct Chain {
    pub(crate) seed: u64,
    pub(crate) sampler: GibbsSampler,
    pub(crate) record: Record,
}

impl Chain {
    /// One sweep, then the scalar quantities and (after burn-in) the half moments.
    pub(crate) fn sweep(&mut self, quantities: &[Quantity]) -> ChainSweep {
        let halves = self.record.begin_sweep(&self.sampler);
        let record = self.sampler.sweep_folding(halves);
        self.record.observe(&self.sampler, record, quantities)
    }

    /// `count` sweeps in a row, their reports in order.
    pub(crate) fn sweeps(&mut self, quantities: &[Quantity], count: usize) -> Vec<ChainSweep> {
        (0..count).map(|_| self.sweep(quantities)).collect()
    }

    /// Chain number, 0-based.
    pub fn index(&self) -> usize {
        self.record.index
    }

    /// The chain's seed (chain 0 uses the run's seed).
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The chain's sampler (state, running moments, traces).
    pub fn sampler(&self) -> &GibbsSampler {
        &self.sampler
    }

    /// Every recorded value of quantity `q` (index into the run's quantities), one per sweep
    /// from sweep 1 (burn-in included).
    pub fn values(&self, q: usize) -> &[f64] {
        self.record.values.get(q).map_or(&[], Vec::as_slice)
    }

    /// The per-half moments of the per-pixel quantities.
    pub fn halves(&self) -> &Halves {
        &self.record.halves
    }

    /// Sweep count at the last change of target (0 at the start).
    pub fn change_point(&self) -> usize {
        self.record.change_point
    }
}
