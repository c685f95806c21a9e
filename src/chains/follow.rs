//! The K chains follow the run: the changes a front end makes to its own sampler while it
//! runs (hyperparameters, prior on W, schedule, run length, a hand-painted mask) applied to
//! every chain, so the diagnostics describe the run the user is looking at.
//!
//! The rule is the sampler's own (see [`crate::model::GibbsSampler`]): a change of target
//! (hyperparameters, prior, mask) or of schedule (or the recentring move) restarts the diagnostics at the current
//! round. The chains go on from where they are, burn-in counts again from there, the recorded
//! values before it are kept (for the traces) but never diagnosed, and the per-pixel half
//! moments start afresh. A new run length keeps everything: the half moments are re-planned
//! for the longer run ([`crate::diagnostics::HalfMoments::replan`]), or, when that is not
//! possible (a shorter run, or a new burn-in), start again from the current round.
//!
//! Threads: whoever owns the [`MultiChain`] (the chains' thread of a
//! [`super::ChainsHandle`]); a change costs a pass over the chains' states, well under a
//! sweep.

use super::{ChainsError, MultiChain};
use crate::model::{Hyperparameters, Prior, Schedule, validate_run_length};
use crate::sampler::Command;

/// A change of the run made while it goes on; see the module docs.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    /// New nu0, sigma0^2, kappa0, lambda0 (same M).
    Hyperparameters(Hyperparameters),
    /// New prior on W.
    Prior(Prior),
    /// New order of updates.
    Schedule(Schedule),
    /// The recentring move on or off.
    Recentre(bool),
    /// New run length (total sweeps, and the burn-in counted from the last change).
    RunLength { sweeps: usize, burn_in: usize },
    /// A new mask for one image: `missing` and the image's data `values`, both of length D,
    /// as in [`Command::SetMask`].
    Mask {
        image: usize,
        missing: Vec<bool>,
        values: Vec<f32>,
    },
}

impl Change {
    /// The change a sampler command makes, if it is one the chains follow.
    pub fn of_command(command: &Command) -> Option<Change> {
        Some(match command {
            Command::SetHyperparameters(h) => Change::Hyperparameters(h.clone()),
            Command::SetPrior(p) => Change::Prior(p.clone()),
            Command::SetSchedule(s) => Change::Schedule(*s),
            Command::SetRecentre(on) => Change::Recentre(*on),
            Command::SetRunLength { sweeps, burn_in } => Change::RunLength {
                sweeps: *sweeps,
                burn_in: *burn_in,
            },
            Command::SetMask {
                image,
                missing,
                values,
            } => Change::Mask {
                image: *image,
                missing: missing.clone(),
                values: values.clone(),
            },
            _ => return None,
        })
    }
}

impl MultiChain {
    /// Applies `change` to every chain. Returns true when the diagnostics restarted (a change
    /// of target or schedule; see the module docs). An invalid change is refused with the
    /// model's message and changes nothing.
    pub fn follow(&mut self, change: &Change) -> Result<bool, ChainsError> {
        match change {
            Change::Hyperparameters(h) => {
                if *h == self.settings.hyper {
                    return Ok(false);
                }
                for c in &mut self.chains {
                    c.sampler.set_hyperparameters(h.clone())?;
                }
                self.settings.hyper = h.clone();
            }
            Change::Prior(p) => {
                if *p == self.settings.prior {
                    return Ok(false);
                }
                for c in &mut self.chains {
                    c.sampler.set_prior(p.clone())?;
                }
                self.settings.prior = p.clone();
            }
            Change::Schedule(s) => {
                if *s == self.settings.schedule {
                    return Ok(false);
                }
                for c in &mut self.chains {
                    c.sampler.set_schedule(*s);
                }
                self.settings.schedule = *s;
            }
            Change::Recentre(on) => {
                if *on == self.settings.recentre {
                    return Ok(false);
                }
                for c in &mut self.chains {
                    c.sampler.set_recentre(*on);
                }
                self.settings.recentre = *on;
            }
            Change::RunLength { sweeps, burn_in } => {
                self.set_run_length(*sweeps, *burn_in)?;
                return Ok(false);
            }
            Change::Mask {
                image,
                missing,
                values,
            } => self.set_image_mask(*image, missing, values)?,
        }
        self.restart_diagnostics();
        Ok(true)
    }

    /// Restarts the diagnostics at the current round: burn-in counts again from here and the
    /// half moments start afresh.
    fn restart_diagnostics(&mut self) {
        self.change_point = self.iteration();
        for c in &mut self.chains {
            c.record.restart(&c.sampler);
        }
    }

    fn set_run_length(&mut self, sweeps: usize, burn_in: usize) -> Result<(), ChainsError> {
        validate_run_length(sweeps, burn_in)?;
        for c in &mut self.chains {
            c.sampler.set_run_length(sweeps, burn_in)?;
            c.record.sync_run_length(&c.sampler);
        }
        self.settings.sweeps = sweeps;
        self.settings.burn_in = burn_in;
        Ok(())
    }

    fn set_image_mask(
        &mut self,
        image: usize,
        missing: &[bool],
        values: &[f32],
    ) -> Result<(), ChainsError> {
        // (Each sampler remaps its truth at the missing entries to the new mask itself.)
        for c in &mut self.chains {
            c.sampler.set_image_mask(image, missing, values)?;
        }
        Ok(())
    }
}
