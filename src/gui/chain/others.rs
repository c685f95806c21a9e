//! The K chains of the diagnostics, beside the sampler that feeds the views.
//!
//! With K >= 2 chains, the build job also starts a [`ChainsHandle`] running all K chains
//! (chain 1 with the run's seed and the notebook's start, chains 2..K with their own seeds
//! and dispersed starts, see [`crate::chains`]). Chain 1 is thus computed twice, once by the
//! view sampler and once here, bit for bit the same while no setting is changed mid-run: 1/K
//! extra work, the price of leaving the view sampler (painted masks, live settings, Extend,
//! sessions) untouched. The K chains run the settings they started with; settings changed
//! mid-run, painted masks and Extend reach the view sampler only.
//!
//! Threads: [`OtherChains::spawn`] runs on the build job's thread (it blocks while the K
//! samplers are built); the chains sweep on their own thread; [`OtherChains::drain`] and
//! [`OtherChains::send`] run on the UI thread and never block. The handle joins its thread
//! when dropped, so a [`OtherChains`] is only ever dropped on the janitor (it is part of the
//! retired chain).

use std::time::{Duration, Instant};

use crate::chains::{
    ChainsCommand, ChainsEvent, ChainsHandle, ChainsHandleOptions, ChainsOptions, Parallelism,
};
use crate::model::{Problem, SamplerSettings};
use crate::sampler::Notify;

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
            live: ChainsLive::new(chains, settings.sweeps, settings.burn_in),
        })
    }

    /// Sends a run command to the chains' thread (ignored once it has ended).
    pub fn send(&self, command: ChainsCommand) {
        let _ = self.handle.send(command);
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
