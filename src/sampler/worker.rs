//! The sampler thread: owns the [`GibbsSampler`], sweeps while running, reads commands between
//! sweeps and reports through the [`Outbox`]. With a feed ([`HandleOptions::feed`]) it also
//! records each sweep as chain 1 of a multi-chain run's diagnostics (under the feed's lock,
//! which the chains' thread holds while it computes diagnostics).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, TryRecvError};

use super::outbox::Outbox;
use super::protocol::{
    Command, Event, FullSummary, HandleOptions, MAX_WATCHED, RunState, Snapshot,
};
use super::shared::Shared;
use crate::model::{GibbsSampler, SweepRecord};

/// How long an idle thread waits for a command before re-checking the stop flag and the reader.
const IDLE_WAIT: Duration = Duration::from_millis(100);
/// How often an idle thread retries handing over events that did not fit in the channel.
const RETRY_WAIT: Duration = Duration::from_millis(10);

pub(crate) struct Worker {
    sampler: GibbsSampler,
    commands: Receiver<Command>,
    outbox: Outbox,
    shared: Arc<Shared>,
    options: HandleOptions,
    n: usize,
    state: RunState,
    watch: Vec<usize>,
    steps_pending: usize,
    snapshot_wanted: bool,
    /// A full posterior summary was asked for ([`Command::RequestSummary`]).
    summary_wanted: bool,
    last_snapshot: Instant,
    last_sweep: Option<SweepRecord>,
    exit: bool,
}

impl Worker {
    pub(crate) fn new(
        sampler: GibbsSampler,
        n: usize,
        commands: Receiver<Command>,
        outbox: Outbox,
        shared: Arc<Shared>,
        options: HandleOptions,
    ) -> Self {
        let state = if options.start_paused {
            RunState::Paused
        } else {
            RunState::Running
        };
        let watch = clean_watch(&options.watch, n);
        if let Some(feed) = &options.feed {
            feed.attach(&sampler);
        }
        Worker {
            sampler,
            commands,
            outbox,
            shared,
            options,
            n,
            state,
            watch,
            steps_pending: 0,
            snapshot_wanted: true,
            summary_wanted: false,
            last_snapshot: Instant::now(),
            last_sweep: None,
            exit: false,
        }
    }

    /// Runs until stopped; always ends by reporting [`RunState::Stopped`]. Returns the events
    /// that did not fit in the channel (the handle delivers them after joining).
    pub(crate) fn run(mut self) -> Vec<Event> {
        self.set_state(self.state);
        if self.state == RunState::Running && self.run_length_reached() {
            self.set_state(RunState::Finished);
        }
        self.send_snapshot();
        self.outbox.flush();
        while !self.should_exit() {
            self.read_commands();
            if self.should_exit() {
                break;
            }
            if self.wants_sweep() {
                if !self.sweep_once() {
                    break;
                }
            } else {
                self.idle();
            }
        }
        self.shared.set_state(RunState::Stopped);
        self.outbox.finish(Event::State(RunState::Stopped))
    }

    fn should_exit(&self) -> bool {
        self.exit || self.shared.stop.load(Ordering::Acquire) || self.outbox.disconnected()
    }

    fn run_length_reached(&self) -> bool {
        self.sampler.iteration() >= self.sampler.settings().sweeps
    }

    fn wants_sweep(&self) -> bool {
        self.steps_pending > 0 || self.state == RunState::Running
    }

    /// Applies every command already sent, without waiting.
    fn read_commands(&mut self) {
        loop {
            match self.commands.try_recv() {
                Ok(cmd) => self.apply(cmd),
                Err(TryRecvError::Empty) => return,
                Err(TryRecvError::Disconnected) => {
                    self.exit = true;
                    return;
                }
            }
        }
    }

    /// Nothing to sweep: hand over what is waiting, then wait for a command.
    fn idle(&mut self) {
        if self.snapshot_wanted {
            self.send_snapshot();
        }
        if self.summary_wanted {
            self.send_summary();
        }
        self.outbox.flush();
        let wait = if self.outbox.has_pending() {
            RETRY_WAIT
        } else {
            IDLE_WAIT
        };
        match self.commands.recv_timeout(wait) {
            Ok(cmd) => self.apply(cmd),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => self.exit = true,
        }
    }

    /// One sweep and its reports. Returns false when the sweep panicked (the sampler's state
    /// can no longer be trusted, so the thread ends after reporting the error).
    fn sweep_once(&mut self) -> bool {
        let stepping = self.steps_pending > 0;
        let record = match catch_unwind(AssertUnwindSafe(|| self.sampler.sweep())) {
            Ok(record) => record,
            Err(panic) => {
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".to_string());
                self.outbox
                    .push(Event::Error(format!("the sweep failed: {message}")));
                return false;
            }
        };
        self.shared
            .iteration
            .store(self.sampler.iteration(), Ordering::Release);
        if record.fallbacks.total() > 0
            && let Ok(mut total) = self.shared.fallbacks.lock()
        {
            total.add(&record.fallbacks);
        }
        if let Some(feed) = &self.options.feed {
            feed.observe(&self.sampler, &record);
        }
        self.last_sweep = Some(record.clone());
        self.outbox.push(Event::Sweep(record));
        if stepping {
            self.steps_pending -= 1;
            self.snapshot_wanted = true;
        } else if self.state == RunState::Running && self.run_length_reached() {
            self.set_state(RunState::Finished);
            self.snapshot_wanted = true;
        }
        if self.snapshot_wanted || self.last_snapshot.elapsed() >= self.options.snapshot_interval {
            self.send_snapshot();
        }
        if self.summary_wanted {
            self.send_summary();
        }
        self.outbox.flush();
        true
    }

    fn set_state(&mut self, state: RunState) {
        self.state = state;
        self.shared.set_state(state);
        self.outbox.push(Event::State(state));
    }

    fn error(&mut self, message: String) {
        self.outbox.push(Event::Error(message));
    }

    fn apply(&mut self, cmd: Command) {
        match cmd {
            Command::Pause => {
                if self.state == RunState::Running {
                    self.set_state(RunState::Paused);
                    self.snapshot_wanted = true;
                }
            }
            Command::Resume => match self.state {
                RunState::Paused | RunState::Finished => {
                    if self.run_length_reached() {
                        self.set_state(RunState::Finished);
                    } else {
                        self.set_state(RunState::Running);
                    }
                }
                RunState::Running | RunState::Stopped => {}
            },
            Command::Step => {
                if self.state == RunState::Running {
                    self.set_state(RunState::Paused);
                }
                self.steps_pending += 1;
            }
            Command::Stop => self.exit = true,
            // A snapshot follows every applied change, so a front end sees the settings in
            // force (and the cleared moments) even while paused.
            Command::SetHyperparameters(h) => {
                let changed = h != self.sampler.settings().hyper;
                match self.sampler.set_hyperparameters(h) {
                    Ok(()) => self.changed_target(changed),
                    Err(err) => self.error(format!("hyperparameters not changed: {err}")),
                }
            }
            Command::SetPrior(p) => {
                let changed = p != self.sampler.settings().prior;
                match self.sampler.set_prior(p) {
                    Ok(()) => self.changed_target(changed),
                    Err(err) => self.error(format!("prior not changed: {err}")),
                }
            }
            Command::SetSchedule(s) => {
                let changed = s != self.sampler.settings().schedule;
                self.sampler.set_schedule(s);
                self.changed_target(changed);
            }
            Command::SetRecentre(on) => {
                let changed = on != self.sampler.settings().recentre;
                self.sampler.set_recentre(on);
                self.changed_target(changed);
            }
            Command::SetRunLength { sweeps, burn_in } => {
                if let Err(err) = self.sampler.set_run_length(sweeps, burn_in) {
                    self.error(format!("run length not changed: {err}"));
                    return;
                }
                self.snapshot_wanted = true;
                let reached = self.run_length_reached();
                match self.state {
                    RunState::Running if reached => {
                        self.set_state(RunState::Finished);
                        self.snapshot_wanted = true;
                    }
                    RunState::Finished if !reached => self.set_state(RunState::Paused),
                    _ => {}
                }
            }
            Command::Watch(images) => {
                self.watch = clean_watch(&images, self.n);
                self.snapshot_wanted = true;
            }
            Command::RequestSnapshot => self.snapshot_wanted = true,
            Command::SetMask {
                image,
                missing,
                values,
            } => match self.sampler.set_image_mask(image, &missing, &values) {
                Ok(()) => self.changed_target(true),
                Err(err) => self.error(format!("mask of image {image} not changed: {err}")),
            },
            Command::RequestSummary => self.summary_wanted = true,
        }
    }

    /// A setting was applied (a snapshot shows it); when it `changed` the target, schedule or
    /// mask, the sampler restarted its moments and burn-in, and so does the feed's record.
    fn changed_target(&mut self, changed: bool) {
        self.snapshot_wanted = true;
        if changed && let Some(feed) = &self.options.feed {
            feed.restart(&self.sampler);
        }
    }

    /// Sends the posterior mean and std of all N x D pixels.
    fn send_summary(&mut self) {
        let s = &self.sampler;
        let summary = FullSummary {
            iteration: s.iteration(),
            n: self.n,
            d: s.w().nrows(),
            samples_in_moments: s.samples_in_moments(),
            mean: s.reconstruction(),
            std: s.posterior_std(),
        };
        self.outbox.push(Event::Summary(Box::new(summary)));
        self.summary_wanted = false;
    }

    fn send_snapshot(&mut self) {
        let snapshot = self.snapshot();
        self.outbox.push(Event::Snapshot(Box::new(snapshot)));
        self.snapshot_wanted = false;
        self.last_snapshot = Instant::now();
    }

    fn snapshot(&self) -> Snapshot {
        let s = &self.sampler;
        let w = s.w();
        Snapshot {
            iteration: s.iteration(),
            n: self.n,
            d: w.nrows(),
            m: w.ncols(),
            image_shape: self.options.image_shape,
            w: w.as_slice().to_vec(),
            mu: s.mu().to_vec(),
            sigmasq: s.sigmasq().to_vec(),
            posterior_mu: s.posterior_mu(),
            posterior_sigmasq: s.posterior_sigmasq(),
            samples_in_moments: s.samples_in_moments(),
            burn_in_from: s.change_point(),
            images: self
                .watch
                .iter()
                .filter_map(|&i| s.image_summary(i))
                .collect(),
            rmse_mean_impute: s.rmse_mean_impute(),
            missing_fraction: s.missing_fraction(),
            last_sweep: self.last_sweep.clone(),
            settings: s.settings().clone(),
            state: self.state,
        }
    }
}

/// The watch list a snapshot can serve: in range, no repeats, at most [`MAX_WATCHED`].
fn clean_watch(images: &[usize], n: usize) -> Vec<usize> {
    let mut out = Vec::with_capacity(images.len().min(MAX_WATCHED));
    for &i in images {
        if out.len() == MAX_WATCHED {
            break;
        }
        if i < n && !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::clean_watch;

    #[test]
    fn watch_list_drops_out_of_range_and_repeats() {
        assert_eq!(clean_watch(&[3, 1, 3, 9, 0], 5), vec![3, 1, 0]);
        let many: Vec<usize> = (0..1000).collect();
        assert_eq!(clean_watch(&many, 1000).len(), super::MAX_WATCHED);
    }
}
