//! The parameters of the last few posterior snapshots, kept so a painted mask can be
//! re-filled at once from the current posterior (optionally averaged over recent samples)
//! without waiting for the sampler's next sweep.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::reconstruct::{
    FactorParams, ReconstructError, Reconstruction, conditional, conditional_mixture,
};

/// How many snapshots are kept by default: enough to smooth one sample's noise, few enough
/// to follow a chain that is still moving.
pub const DEFAULT_KEPT: usize = 5;

/// Parameter samples from the newest snapshots, newest last.
#[derive(Clone, Debug)]
pub struct RecentParams {
    samples: VecDeque<(usize, Arc<FactorParams>)>,
    capacity: usize,
    version: u64,
}

impl Default for RecentParams {
    fn default() -> Self {
        RecentParams::new(DEFAULT_KEPT)
    }
}

impl RecentParams {
    pub fn new(capacity: usize) -> Self {
        RecentParams {
            samples: VecDeque::new(),
            capacity: capacity.max(1),
            version: 0,
        }
    }

    /// Adds the parameters of the snapshot taken after sweep `iteration`. A snapshot of the
    /// same sweep as the newest replaces it; one of an earlier sweep (a restarted chain)
    /// starts the history again.
    pub fn push(&mut self, iteration: usize, params: Arc<FactorParams>) {
        match self.samples.back() {
            Some((last, _)) if *last == iteration => {
                self.samples.pop_back();
            }
            Some((last, _)) if *last > iteration => self.samples.clear(),
            _ => {}
        }
        let shape_changed = self
            .samples
            .back()
            .is_some_and(|(_, p)| p.d() != params.d() || p.m() != params.m());
        if shape_changed {
            self.samples.clear();
        }
        self.samples.push_back((iteration, params));
        while self.samples.len() > self.capacity {
            self.samples.pop_front();
        }
        self.version += 1;
    }

    /// Forgets everything (new experiment).
    pub fn clear(&mut self) {
        self.samples.clear();
        self.version += 1;
    }

    /// Changes with every push or clear, so views know when to recompute.
    pub fn version(&self) -> u64 {
        self.version
    }

    pub fn len(&self) -> usize {
        self.samples.len()
    }

    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// The kept samples, oldest first.
    pub fn samples(&self) -> impl Iterator<Item = &Arc<FactorParams>> {
        self.samples.iter().map(|(_, p)| p)
    }

    /// Sweep of the newest sample.
    pub fn newest_iteration(&self) -> Option<usize> {
        self.samples.back().map(|(it, _)| *it)
    }

    /// Pixels per image of the kept samples.
    pub fn d(&self) -> Option<usize> {
        self.samples.back().map(|(_, p)| p.d())
    }

    /// The conditional completion of one image: from the newest sample, or averaged over all
    /// kept samples when `average` is set. `None` before the first snapshot.
    pub fn reconstruct(
        &self,
        values: &[f32],
        missing: &[bool],
        average: bool,
    ) -> Option<Result<Reconstruction, ReconstructError>> {
        let (_, newest) = self.samples.back()?;
        if average && self.samples.len() > 1 {
            let all: Vec<&FactorParams> = self.samples.iter().map(|(_, p)| p.as_ref()).collect();
            Some(conditional_mixture(&all, values, missing))
        } else {
            Some(conditional(newest, values, missing))
        }
    }
}
