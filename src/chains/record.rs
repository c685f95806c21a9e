//! What one chain records, whoever sweeps it: every value of the scalar quantities, the
//! per-half running moments of every missing pixel, sigma_d^2 and mu_d after burn-in, and
//! where its burn-in counts from. A [`super::Chain`] sweeps its own sampler and records here;
//! a [`super::ChainFeed`] records a sampler swept on another thread (the app's view sampler).
//!
//! Threads: the thread that sweeps the sampler. After burn-in a [`super::Chain`] has the
//! sweep's X_miss pass fold the missing pixels into their half moments as it draws them
//! ([`Record::begin_sweep`]); [`Record::observe`] is then O(quantities + D), and a pass over
//! the missing pixels only for a sampler swept elsewhere (the feed).

use super::chain::{ChainSweep, Halves};
use super::quantities::Quantity;
use crate::diagnostics::{HalfDraw, HalfMoments};
use crate::model::{GibbsSampler, SweepRecord};

/// One chain's record; see the module docs.
#[derive(Clone, Debug)]
pub(crate) struct Record {
    /// Chain number, 0-based.
    pub(crate) index: usize,
    /// values[q][t]: quantity q after sweep t + 1 (burn-in included).
    pub(crate) values: Vec<Vec<f64>>,
    pub(crate) halves: Halves,
    /// Sweep count at the last change of target (0 at the start): burn-in counts from here,
    /// as in the sampler itself.
    pub(crate) change_point: usize,
    /// The run length and burn-in the halves are planned for.
    pub(crate) sweeps: usize,
    pub(crate) burn_in: usize,
    /// Set by [`Record::begin_sweep`] when the sweep's X_miss pass folds the missing pixels
    /// into their half moments itself; [`Record::observe`] then skips them.
    missing_folded: bool,
}

impl Halves {
    pub(crate) fn fresh(n_missing: usize, d: usize, planned: usize) -> Halves {
        Halves {
            missing: HalfMoments::new(n_missing, planned),
            sigmasq: HalfMoments::new(d, planned),
            mu: HalfMoments::new(d, planned),
        }
    }

    /// Re-plans all three for `planned` draws; false (nothing changed) if any cannot.
    fn replan(&mut self, planned: usize) -> bool {
        let mut copy = self.clone();
        let ok =
            copy.missing.replan(planned) && copy.sigmasq.replan(planned) && copy.mu.replan(planned);
        if ok {
            *self = copy;
        }
        ok
    }
}

impl Record {
    /// An empty record of chain `index` for `sampler` (before its first sweep) and
    /// `quantities` scalar columns.
    pub(crate) fn new(index: usize, sampler: &GibbsSampler, quantities: usize) -> Record {
        let s = sampler.settings();
        let planned = s.sweeps.saturating_sub(s.burn_in);
        Record {
            index,
            values: vec![Vec::with_capacity(s.sweeps); quantities],
            halves: fresh_halves(sampler, planned),
            change_point: sampler.iteration(),
            sweeps: s.sweeps,
            burn_in: s.burn_in,
            missing_folded: false,
        }
    }

    /// Before a sweep of `sampler`: takes a new run length, and when the coming draw belongs
    /// in the half moments, starts the missing pixels' draw for the sweep's X_miss pass to
    /// fold in as it draws ([`GibbsSampler::sweep_folding`]); None otherwise (then
    /// [`Self::observe`] does it all after the sweep).
    pub(crate) fn begin_sweep(&mut self, sampler: &GibbsSampler) -> Option<HalfDraw<'_>> {
        self.sync_run_length(sampler);
        self.missing_folded = false;
        let coming = sampler.iteration() + 1;
        let warmup = coming.saturating_sub(self.change_point) <= self.burn_in;
        if warmup || self.halves.missing.len() != sampler.state().missing().len() {
            return None;
        }
        self.missing_folded = true;
        self.halves.missing.begin()
    }

    /// Records the sweep `record` the sampler just made: the scalar quantities and, after
    /// burn-in, the half moments. A new run length of the sampler is taken first.
    pub(crate) fn observe(
        &mut self,
        sampler: &GibbsSampler,
        record: SweepRecord,
        quantities: &[Quantity],
    ) -> ChainSweep {
        self.sync_run_length(sampler);
        let values: Vec<f64> = quantities
            .iter()
            .map(|q| q.value(sampler, record.log_joint, record.rmse_sample))
            .collect();
        for (column, &v) in self.values.iter_mut().zip(&values) {
            column.push(v);
        }
        let warmup = record.iter.saturating_sub(self.change_point) <= self.burn_in;
        let folded = std::mem::take(&mut self.missing_folded);
        if !warmup {
            let state = sampler.state();
            let values = state.missing_values();
            if !folded {
                self.halves.missing.push(|k| values[k] as f64);
            }
            let s = state.sigmasq();
            self.halves.sigmasq.push(|k| s[k] as f64);
            let mu = state.mu();
            self.halves.mu.push(|k| mu[k] as f64);
        }
        ChainSweep {
            chain: self.index,
            record,
            warmup,
            values,
        }
    }

    /// The sampler's target changed (or its schedule, or a mask) after its latest sweep:
    /// burn-in counts again from here and the half moments start afresh.
    pub(crate) fn restart(&mut self, sampler: &GibbsSampler) {
        let now = sampler.iteration();
        self.change_point = now;
        self.sweeps = sampler.settings().sweeps;
        self.burn_in = sampler.settings().burn_in;
        let planned = self.sweeps.saturating_sub(now + self.burn_in);
        self.halves = fresh_halves(sampler, planned);
    }

    /// Takes the sampler's run length when it changed: the halves are re-planned for a
    /// longer run with the same burn-in, or else start again with the draws to come.
    pub(crate) fn sync_run_length(&mut self, sampler: &GibbsSampler) {
        let s = sampler.settings();
        if (s.sweeps, s.burn_in) == (self.sweeps, self.burn_in) {
            return;
        }
        let same_burn_in = s.burn_in == self.burn_in;
        self.sweeps = s.sweeps;
        self.burn_in = s.burn_in;
        let start = self.change_point + s.burn_in;
        if same_burn_in && self.halves.replan(s.sweeps.saturating_sub(start)) {
            return;
        }
        let planned = s.sweeps.saturating_sub(sampler.iteration().max(start));
        self.halves = fresh_halves(sampler, planned);
    }

    /// Index of the first diagnosed value: the last change of target plus the burn-in.
    pub(crate) fn first_draw(&self) -> usize {
        self.change_point + self.burn_in
    }

    /// The diagnosed values of quantity `q` so far.
    pub(crate) fn post_burn_in(&self, q: usize) -> &[f64] {
        self.values
            .get(q)
            .and_then(|v| v.get(self.first_draw()..))
            .unwrap_or(&[])
    }
}

fn fresh_halves(sampler: &GibbsSampler, planned: usize) -> Halves {
    let state = sampler.state();
    Halves::fresh(state.missing().len(), state.sigmasq().len(), planned)
}
