//! The K chains of the diagnostics, beside the sampler that feeds the views.
//!
//! With K >= 2 chains, the build job also starts a [`ChainsHandle`] running all K chains
//! (chain 1 with the run's seed and the notebook's start, chains 2..K with their own seeds
//! and dispersed starts, see [`crate::chains`]). Chain 1 is thus computed twice, once by the
//! view sampler and once here, bit for bit the same while no setting is changed mid-run: 1/K
//! extra work, the price of leaving the view sampler (painted masks, live settings, Extend,
//! sessions) untouched.
//!
//! The K chains follow the run ([`OtherChains::follow`]): every live change sent to the view
//! sampler (hyperparameters, prior, schedule, run length, a painted mask) is sent to them as
//! a [`Change`]. One that restarts the view sampler's running moments and burn-in restarts
//! the diagnostics at the round the chains apply it (they go on from where they are, burn-in
//! counts again, draws before it are never diagnosed); Extend lengthens all of them, and a
//! finished run waits (it lingers) so Extend can continue it. The view sampler and the
//! chains apply a change at their own current sweep, which may differ.
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
    ChainsCommand, ChainsEvent, ChainsHandle, ChainsHandleOptions, ChainsOptions, Change,
    Parallelism,
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
    pub fn spawn(
        problem: Problem,
        settings: &SamplerSettings,
        chains: usize,
        run: bool,
        notify: Notify,
    ) -> Result<OtherChains, String> {
        let options = ChainsOptions {
            chains,
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
        if !matches!(change, Change::RunLength { .. }) {
            self.live.expect_restart();
        }
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
