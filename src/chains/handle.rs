//! K chains on a background thread, for front ends that must not wait (the desktop app).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TryRecvError};

use super::ChainsError;
use super::chain::ChainSweep;
use super::feed::ChainFeed;
use super::follow::Change;
use super::multi::{BATCH_ROUNDS, ChainsDiagnostics, ChainsOptions, MultiChain};
use crate::model::{Problem, SamplerSettings};
use crate::sampler::{Notify, RunState};

/// What a front end asks the chains' thread to do; read between batches of rounds (at most
/// about 150 ms apart; at once when idle).
#[derive(Clone, Debug, PartialEq)]
pub enum ChainsCommand {
    /// Stop after the current batch; [`RunState::Paused`] follows.
    Pause,
    /// Continue a paused run.
    Resume,
    /// One round (a sweep of every chain) of a paused run, then paused again.
    Step,
    /// End the thread after the current batch (the run so far stays available through
    /// [`ChainsHandle::join`]).
    Stop,
    /// Send [`ChainsEvent::Diagnostics`] after the current batch (at once when idle).
    RequestDiagnostics,
    /// Apply a change of the run to every chain before the next batch of rounds
    /// ([`MultiChain::follow`]); [`ChainsEvent::Followed`] follows, or [`ChainsEvent::Error`]
    /// if it was refused. A longer run of a finished handle that lingers
    /// ([`ChainsHandleOptions::linger`]) becomes paused: [`ChainsCommand::Resume`] goes on.
    Follow(Change),
}

/// What the chains' thread reports, in order.
#[derive(Clone, Debug)]
pub enum ChainsEvent {
    /// Sent first: the column names of [`ChainSweep::values`] and the chains' seeds.
    Started {
        quantities: Vec<String>,
        seeds: Vec<u64>,
    },
    /// One per chain and sweep, never dropped; a round's K reports arrive together, in
    /// chain order.
    Sweep(ChainSweep),
    /// R-hat, ESS and MCSE so far: after burn-in at most once per
    /// [`ChainsHandleOptions::diagnostics_interval`], after the last round, and on request.
    Diagnostics(Box<ChainsDiagnostics>),
    /// The run state changed (Running at the start unless started paused).
    State(RunState),
    /// Something could not be computed; the message says what.
    Error(String),
    /// A [`ChainsCommand::Follow`] was applied (one event per command applied): the draws
    /// diagnosed from now on are those after sweep `since` plus the burn-in (`since` is the
    /// round of the last change of target, 0 if none); `restarted` says whether this change
    /// restarted the diagnostics; `settings` are the chains' settings now (the run's seed)
    /// and `missing` the number of missing entries of their masks.
    Followed {
        since: usize,
        restarted: bool,
        settings: Box<SamplerSettings>,
        missing: usize,
    },
}

/// How the chains' thread behaves.
#[derive(Clone, Debug, PartialEq)]
pub struct ChainsHandleOptions {
    /// Shortest time between two unrequested diagnostics (default 500 ms): computing them
    /// sorts every scalar's draws and visits every missing pixel's half moments.
    pub diagnostics_interval: Duration,
    /// Start idle instead of sweeping.
    pub start_paused: bool,
    /// At the run length, stay idle (waiting for a longer run) instead of ending the thread;
    /// [`ChainsHandle::join`] then waits for [`ChainsHandle::stop`].
    pub linger: bool,
}

impl Default for ChainsHandleOptions {
    fn default() -> Self {
        ChainsHandleOptions {
            diagnostics_interval: Duration::from_millis(500),
            start_paused: false,
            linger: false,
        }
    }
}

/// Wall time a batch of rounds aims at. The thread reads commands between batches, so this
/// bounds how long a pause or a change waits; within it, each chain sweeps several times in a
/// row, which is faster ([`MultiChain::rounds`]).
const BATCH_BUDGET: Duration = Duration::from_millis(150);

/// Rounds in the next batch: as many as fit [`BATCH_BUDGET`] at the last batch's time per
/// round, 1 to [`BATCH_ROUNDS`], never past the run length (`left`).
fn batch_rounds(per_round: Option<Duration>, left: usize) -> usize {
    let fit = per_round.map_or(1, |t| {
        usize::try_from(BATCH_BUDGET.as_nanos() / t.as_nanos().max(1)).unwrap_or(usize::MAX)
    });
    fit.clamp(1, BATCH_ROUNDS).min(left)
}

/// K chains sweeping on their own thread.
///
/// Threads: [`ChainsHandle::spawn`] starts one manager thread that owns the
/// [`MultiChain`]; its rounds use the global rayon pool and matrixmultiply's threads as
/// [`super::Parallelism`] says. The caller's thread (the GUI) only sends commands and reads
/// events: [`ChainsHandle::send`], [`ChainsHandle::try_iter`] and [`ChainsHandle::iteration`]
/// never block. [`ChainsHandle::spawn`] blocks while the K samplers are built (tens of ms
/// each at full size), [`ChainsHandle::join`] until the run ends, [`ChainsHandle::stop`]
/// for at most the batch of rounds in progress. The event channel is unbounded: the thread never waits
/// for the reader; a sweep report is about 200 bytes, so even 8 chains x 10,000 sweeps left
/// unread stay under 20 MB.
pub struct ChainsHandle {
    /// Chains swept on the handle's thread.
    swept: usize,
    feed: Option<ChainFeed>,
    commands: Sender<ChainsCommand>,
    events: Receiver<ChainsEvent>,
    iteration: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Option<MultiChain>>>,
}

impl ChainsHandle {
    /// Builds the chains on a new thread and starts the run; returns once they are built,
    /// with the error if the problem, settings or options are invalid. `problem` may be a
    /// shared owner of the problem (an `Arc<Experiment>`), which spares a copy of the data.
    pub fn spawn<P: AsRef<Problem> + Send + 'static>(
        problem: P,
        settings: SamplerSettings,
        options: ChainsOptions,
        handle_options: ChainsHandleOptions,
        notify: Option<Notify>,
    ) -> Result<ChainsHandle, ChainsError> {
        let (command_tx, command_rx) = crossbeam_channel::unbounded();
        let (event_tx, event_rx) = crossbeam_channel::unbounded();
        let (built_tx, built_rx) =
            crossbeam_channel::bounded::<Result<(usize, Option<ChainFeed>), ChainsError>>(1);
        let iteration = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (it, st) = (Arc::clone(&iteration), Arc::clone(&stop));
        let thread = std::thread::Builder::new()
            .name("gibbs-chains".into())
            .spawn(move || {
                let chains = match MultiChain::new(problem.as_ref(), &settings, &options) {
                    Ok(c) => c,
                    Err(e) => {
                        let _ = built_tx.send(Err(e));
                        return None;
                    }
                };
                drop(problem);
                let _ = built_tx.send(Ok((chains.chains().len(), chains.feed())));
                let manager = Manager {
                    chains,
                    commands: command_rx,
                    events: event_tx,
                    notify,
                    iteration: it,
                    stop: st,
                    options: handle_options,
                    unnotified: false,
                };
                Some(manager.run())
            })
            .map_err(|e| ChainsError::Thread(e.to_string()))?;
        let (swept, feed) = match built_rx.recv() {
            Ok(Ok(built)) => built,
            Ok(Err(e)) => {
                let _ = thread.join();
                return Err(e);
            }
            Err(_) => {
                let _ = thread.join();
                return Err(ChainsError::Thread("building the chains failed".into()));
            }
        };
        Ok(ChainsHandle {
            swept,
            feed,
            commands: command_tx,
            events: event_rx,
            iteration,
            stop,
            thread: Some(thread),
        })
    }

    /// Chains swept on the handle's thread (K, or K - 1 when chain 1 is fed from elsewhere).
    pub fn swept(&self) -> usize {
        self.swept
    }

    /// Chain 1's feed when it is swept elsewhere ([`super::ChainsOptions::first_chain`]).
    pub fn feed(&self) -> Option<ChainFeed> {
        self.feed.clone()
    }

    /// Sends a command; false once the thread has ended.
    pub fn send(&self, command: ChainsCommand) -> bool {
        self.commands.send(command).is_ok()
    }

    /// Events that arrived, without waiting.
    pub fn try_iter(&self) -> impl Iterator<Item = ChainsEvent> + '_ {
        self.events.try_iter()
    }

    /// The next event, waiting up to `timeout`.
    pub fn recv_timeout(&self, timeout: Duration) -> Option<ChainsEvent> {
        self.events.recv_timeout(timeout).ok()
    }

    /// Rounds (sweeps of every chain) done so far.
    pub fn iteration(&self) -> usize {
        self.iteration.load(Ordering::Acquire)
    }

    /// Asks the thread to end after the current batch of rounds (does not wait).
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Release);
        let _ = self.commands.send(ChainsCommand::Stop);
    }

    /// Waits for the run to end (at the run length, or after [`ChainsHandle::stop`]) and
    /// returns the chains, for pooled summaries and files. Events stay readable until the
    /// handle is dropped. None if the thread panicked.
    pub fn join(&mut self) -> Option<MultiChain> {
        self.thread.take().and_then(|t| t.join().ok().flatten())
    }
}

impl Drop for ChainsHandle {
    fn drop(&mut self) {
        self.stop();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Manager {
    chains: MultiChain,
    commands: Receiver<ChainsCommand>,
    events: Sender<ChainsEvent>,
    notify: Option<Notify>,
    iteration: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    options: ChainsHandleOptions,
    /// Events went out since the last call of the notifier.
    unnotified: bool,
}

impl Manager {
    fn send(&mut self, event: ChainsEvent) -> bool {
        let ok = self.events.send(event).is_ok();
        self.unnotified |= ok;
        ok
    }

    /// Calls the notifier if events went out since it was last called.
    fn notify(&mut self) {
        if std::mem::take(&mut self.unnotified)
            && let Some(n) = &self.notify
        {
            n();
        }
    }

    fn run(self) -> MultiChain {
        let mut me = self;
        let quantities = me.chains.quantities().iter().map(|q| q.name()).collect();
        let seeds = me.chains.seeds();
        me.send(ChainsEvent::Started { quantities, seeds });
        let mut running = !me.options.start_paused;
        me.send(ChainsEvent::State(if running {
            RunState::Running
        } else {
            RunState::Paused
        }));
        me.notify();
        let mut last_diagnostics = Instant::now();
        // Wall time of a round in the last batch (None before the first).
        let mut per_round: Option<Duration> = None;
        let mut wanted = false;
        // Finished was reported (a lingering handle waits for a longer run).
        let mut finished = false;
        loop {
            if me.stop.load(Ordering::Acquire) {
                break;
            }
            let command = if running && !me.chains.is_done() {
                match me.commands.try_recv() {
                    Ok(c) => Some(c),
                    Err(TryRecvError::Empty) => None,
                    Err(TryRecvError::Disconnected) => break,
                }
            } else {
                match me.commands.recv_timeout(Duration::from_millis(100)) {
                    Ok(c) => Some(c),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            };
            match &command {
                Some(ChainsCommand::Stop) => break,
                Some(ChainsCommand::Pause) if running => {
                    running = false;
                    me.send(ChainsEvent::State(RunState::Paused));
                }
                Some(ChainsCommand::Resume) if !running && !me.chains.is_done() => {
                    running = true;
                    finished = false;
                    me.send(ChainsEvent::State(RunState::Running));
                }
                Some(ChainsCommand::RequestDiagnostics) => wanted = true,
                Some(ChainsCommand::Follow(change)) => match me.chains.follow(change) {
                    Ok(restarted) => {
                        let settings = Box::new(me.chains.settings().clone());
                        let missing = me.chains.chains()[0].sampler().state().missing().len();
                        let since = me.chains.change_point();
                        me.send(ChainsEvent::Followed {
                            since,
                            restarted,
                            settings,
                            missing,
                        });
                        if me.chains.is_done() && running {
                            running = false;
                        } else if finished && !me.chains.is_done() {
                            finished = false;
                            me.send(ChainsEvent::State(RunState::Paused));
                        }
                    }
                    Err(e) => {
                        me.send(ChainsEvent::Error(format!(
                            "the chains did not follow: {e}"
                        )));
                    }
                },
                _ => {}
            }
            // Chain 1's sweeps made elsewhere, forwarded in order.
            let fed = me.chains.take_fed();
            let fed_any = !fed.is_empty();
            for report in fed {
                if !me.send(ChainsEvent::Sweep(report)) {
                    return me.chains;
                }
            }
            if fed_any && !running && last_diagnostics.elapsed() >= me.options.diagnostics_interval
            {
                wanted = true;
            }
            let step = command == Some(ChainsCommand::Step) && !running;
            if (running || step) && !me.chains.is_done() {
                let count = if step {
                    1
                } else {
                    batch_rounds(per_round, me.chains.rounds_left())
                };
                let started = Instant::now();
                let batch = me.chains.rounds(count);
                per_round = Some(started.elapsed() / count as u32);
                for report in batch.into_iter().flatten() {
                    if !me.send(ChainsEvent::Sweep(report)) {
                        return me.chains;
                    }
                }
                me.iteration.store(me.chains.iteration(), Ordering::Release);
                let done = me.chains.is_done();
                let past_burn_in = me.chains.iteration() > me.chains.first_draw();
                if done
                    || (step && past_burn_in)
                    || (past_burn_in
                        && last_diagnostics.elapsed() >= me.options.diagnostics_interval)
                {
                    wanted = true;
                }
                if done {
                    running = false;
                }
            }
            if wanted {
                match me.chains.diagnostics() {
                    Ok(d) => me.send(ChainsEvent::Diagnostics(Box::new(d))),
                    Err(e) => me.send(ChainsEvent::Error(format!("diagnostics: {e}"))),
                };
                wanted = false;
                last_diagnostics = Instant::now();
            }
            if me.chains.is_done() && !running && !finished {
                me.send(ChainsEvent::State(RunState::Finished));
                me.notify();
                if !me.options.linger {
                    return me.chains;
                }
                finished = true;
            }
            me.notify();
        }
        me.send(ChainsEvent::State(RunState::Stopped));
        me.notify();
        me.chains
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_fits_the_budget_within_one_to_batch_rounds_and_the_run_length() {
        let ms = Duration::from_millis;
        assert_eq!(batch_rounds(None, 100), 1, "one round first, to time it");
        assert_eq!(batch_rounds(Some(ms(50)), 100), 3);
        assert_eq!(
            batch_rounds(Some(ms(400)), 100),
            1,
            "a slow round still runs"
        );
        assert_eq!(batch_rounds(Some(ms(1)), 100), BATCH_ROUNDS);
        assert_eq!(batch_rounds(Some(Duration::ZERO), 100), BATCH_ROUNDS);
        assert_eq!(batch_rounds(Some(ms(1)), 5), 5, "never past the run length");
        assert_eq!(batch_rounds(Some(ms(1)), 0), 0);
    }
}
