//! A chain swept on another thread: the desktop app's view sampler is chain 1 of its
//! diagnostics, so the K-chain handle sweeps only chains 2..K ([`super::ChainsOptions::first_chain`])
//! and takes chain 1's record from here instead of computing it a second time.
//!
//! The feeding thread (the sampler's, see [`crate::sampler::HandleOptions::feed`]) calls
//! [`ChainFeed::attach`] before its first sweep, [`ChainFeed::observe`] after every sweep
//! (the same scalar quantities and half moments a [`super::Chain`] records, so chain 1's
//! values are bit for bit those of the sampler) and [`ChainFeed::restart`] after a change of
//! target. The chains' thread reads the record for the diagnostics and forwards the sweeps as
//! [`super::ChainsEvent::Sweep`]s of chain 1.
//!
//! Threads: a mutex guards the record; the feeding thread holds it for one sweep's recording
//! (a pass over the missing pixels after burn-in), the chains' thread while it computes the
//! diagnostics (a pass over every chain's half moments). Unsent sweeps wait here (about 200
//! bytes each) until the chains' thread takes them.

use std::sync::{Arc, Mutex, MutexGuard};

use super::chain::ChainSweep;
use super::quantities::Quantity;
use super::record::Record;
use crate::model::{GibbsSampler, SweepRecord};

/// Chain 1's record, filled by the thread that sweeps it; see the module docs.
#[derive(Clone)]
pub struct ChainFeed {
    inner: Arc<Mutex<Fed>>,
}

pub(crate) struct Fed {
    index: usize,
    quantities: Vec<Quantity>,
    pub(crate) record: Option<Record>,
    unsent: Vec<ChainSweep>,
}

impl std::fmt::Debug for ChainFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChainFeed")
    }
}

impl PartialEq for ChainFeed {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl ChainFeed {
    pub(crate) fn new(index: usize, quantities: Vec<Quantity>) -> ChainFeed {
        ChainFeed {
            inner: Arc::new(Mutex::new(Fed {
                index,
                quantities,
                record: None,
                unsent: Vec::new(),
            })),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Fed> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts the record of `sampler`, before its first sweep.
    pub fn attach(&self, sampler: &GibbsSampler) {
        let mut fed = self.lock();
        let len = fed.quantities.len();
        fed.record = Some(Record::new(fed.index, sampler, len));
    }

    /// Records the sweep `record` that `sampler` just made.
    pub fn observe(&self, sampler: &GibbsSampler, record: &SweepRecord) {
        let mut guard = self.lock();
        let fed = &mut *guard;
        let (index, len) = (fed.index, fed.quantities.len());
        let rec = fed
            .record
            .get_or_insert_with(|| Record::new(index, sampler, len));
        let sweep = rec.observe(sampler, record.clone(), &fed.quantities);
        fed.unsent.push(sweep);
    }

    /// The sampler's target, schedule or mask changed after its latest sweep: burn-in counts
    /// again from here (as the sampler's own moments do).
    pub fn restart(&self, sampler: &GibbsSampler) {
        if let Some(rec) = &mut self.lock().record {
            rec.restart(sampler);
        }
    }

    /// The sweeps recorded since the last call, in order.
    pub(crate) fn take_unsent(&self) -> Vec<ChainSweep> {
        std::mem::take(&mut self.lock().unsent)
    }
}
