//! The K chains of the diagnostics, beside the sampler that feeds the views.
//!
//! With K >= 2 chains, the build job also starts a [`ChainsHandle`] running chains 2..K (their
//! own seeds and dispersed starts, see [`crate::chains`]). Chain 1 (the run's seed and the
//! notebook's start) is the view sampler itself: it records its scalar quantities and
//! per-pixel half moments into the handle's [`crate::chains::ChainFeed`] on its own thread
//! (see [`OtherChains::feed`] and [`crate::sampler::HandleOptions::feed`]), and the handle
//! forwards them as chain 1's sweeps and diagnoses all K chains together. No chain is
//! computed twice. The view sampler runs ahead of the others (they share the cores K - 1
//! ways); the diagnostics use each chain's first n draws after its burn-in, n the shortest
//! chain's count, and the per-pixel R-hat stays in its unsplit form until every chain has
//! completed the same plan.
//!
//! The K chains follow the run ([`OtherChains::follow`]): every live change sent to the view
//! sampler (hyperparameters, prior, schedule, run length, a painted mask) is sent to them as
//! a [`Change`]. One that restarts the view sampler's running moments and burn-in restarts
//! the diagnostics at the round the chains apply it (they go on from where they are, burn-in
//! counts again, draws before it are never diagnosed); Extend lengthens all of them, and a
//! finished run waits (it lingers) so Extend can continue it. The view sampler (chain 1) and
//! chains 2..K apply a change at their own current sweep, which may differ; each counts its
//! burn-in from there.
//!
//! Threads: [`OtherChains::spawn`] runs on the build job's thread (it blocks while the K
//! samplers are built); the chains sweep on their own thread and apply followed changes there,
//! between rounds (no sampler is rebuilt); [`OtherChains::drain`], [`OtherChains::send`]
//! and [`OtherChains::follow`] run on the UI thread and never block (a painted mask's
//! command is one image's D values, cloned). The handle joins its thread
//! when dropped, so a [`OtherChains`] is only ever dropped on the janitor (it is part of the
//! retired chain).

use std::time::{Duration, Instant};

use crate::chains::{
    ChainFeed, ChainsCommand, ChainsEvent, ChainsHandle, ChainsHandleOptions, ChainsOptions,
    Change, Parallelism,
};
use crate::model::{Problem, SamplerSettings};
use crate::sampler::{Command, Notify};

use super::super::chains_live::ChainsLive;

/// Shortest time between two diagnostics reports of a running run.
const DIAGNOSTICS_INTERVAL: Duration = Duration::from_secs(1);

/// The chains' handle and what they reported.
pub struct OtherChains {
    handle: ChainsHandle,
    pub live: ChainsLive,
}

impl OtherChains {
    /// Builds and starts `chains` chains (paused unless `run`); blocks while they are built.
    pub fn spawn<P: AsRef<Problem> + Send + 'static>(
        problem: P,
        settings: &SamplerSettings,
        chains: usize,
        run: bool,
        notify: Notify,
    ) -> Result<OtherChains, String> {
        let options = ChainsOptions {
            chains,
            // Chain 1 is the view sampler, fed in through the handle's feed.
            first_chain: 1,
            // One chain after the other, each using both cores: the view sampler's parallel
            // loops then queue beside one chain's, not behind K of them (side by side, the
            // view sampler fell to a third of the chains' pace).
            parallelism: Parallelism::Sequential,
            pixels: None,
        };
        let handle_options = ChainsHandleOptions {
            diagnostics_interval: DIAGNOSTICS_INTERVAL,
            start_paused: !run,
            // Extend continues a finished run.
            linger: true,
        };
        let handle = ChainsHandle::spawn(
            problem,
            settings.clone(),
            options,
            handle_options,
            Some(notify),
        )
        .map_err(|e| format!("the {chains} chains could not be started: {e}"))?;
        Ok(OtherChains {
            handle,
            live: ChainsLive::new(chains, settings),
        })
    }

    /// Chain 1's feed, for the view sampler to record itself into.
    pub fn feed(&self) -> Option<ChainFeed> {
        self.handle.feed()
    }

    /// Chains swept on the chains' own thread (K - 1: chain 1 is the view sampler).
    #[cfg(test)]
    pub fn swept(&self) -> usize {
        self.handle.swept()
    }

    /// Sends a run command to the chains' thread (ignored once it has ended).
    pub fn send(&self, command: ChainsCommand) {
        let _ = self.handle.send(command);
    }

    /// Passes a command sent to the view sampler on to the K chains when it is a change they
    /// follow ([`Change`]); one that restarts the view sampler's moments restarts the
    /// diagnostics too, and what is on screen is cleared at once.
    pub fn follow(&mut self, command: &Command) {
        let Some(change) = Change::of_command(command) else {
            return;
        };
        let restarts = !matches!(change, Change::RunLength { .. });
        self.live.expect_change(restarts);
        self.send(ChainsCommand::Follow(change));
    }

    /// Folds waiting events into [`OtherChains::live`] until `budget` is spent; returns true
    /// when it ran out (more may be waiting). Errors are returned for a banner.
    pub fn drain(&mut self, ctx: &egui::Context, budget: Duration) -> (bool, Vec<String>) {
        let start = Instant::now();
        let mut errors = Vec::new();
        let mut out_of_time = false;
        for event in self.handle.try_iter() {
            if let ChainsEvent::Error(message) = &event {
                errors.push(message.clone());
            }
            self.live.apply(event);
            if start.elapsed() >= budget {
                out_of_time = true;
                break;
            }
        }
        self.live.refresh_plots(ctx);
        (out_of_time, errors)
    }
}
