//! The front end's side: start the sampler thread, send it commands, read its events, stop it.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TryRecvError};

use super::outbox::{Notify, Outbox};
use super::protocol::{Command, Event, HandleOptions, RunState};
use super::shared::Shared;
use super::worker::Worker;
use crate::model::{GibbsSampler, ModelError, Problem, SamplerSettings};

/// Why a sampler thread could not be started.
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    /// The problem or the settings are invalid (the model's own message).
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The system refused a new thread.
    #[error("the sampler thread could not be started: {0}")]
    Thread(String),
    /// Building the sampler failed without an error value (a bug); the thread has ended.
    #[error("building the sampler failed unexpectedly")]
    BuildFailed,
}

/// A Gibbs sampler running on its own thread.
///
/// The thread owns the [`GibbsSampler`]; the handle talks to it through two channels. It never
/// waits for the reader (see [`Event`] for what may be dropped: only superseded snapshots).
/// Dropping the handle stops and joins the thread; so does [`SamplerHandle::stop`].
pub struct SamplerHandle {
    commands: Sender<Command>,
    events: Option<EventStream>,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<Vec<Event>>>,
    n: usize,
    d: usize,
    m: usize,
}

impl SamplerHandle {
    /// Builds the sampler on a new thread and starts sweeping (or waits paused, see
    /// [`HandleOptions::start_paused`]). Returns once the sampler is built (tens of ms at full
    /// size), with the model's error if the problem or settings are invalid.
    ///
    /// `problem` is the problem itself or a shared owner of it (an `Arc<Experiment>`): the
    /// sampler copies what it needs, so sharing spares a copy of the data.
    ///
    /// `notify` is called on the sampler thread after events were sent (the GUI passes a
    /// closure calling `ctx.request_repaint()`); it must be quick.
    pub fn spawn<P: AsRef<Problem> + Send + 'static>(
        problem: P,
        settings: SamplerSettings,
        options: HandleOptions,
        notify: Option<Notify>,
    ) -> Result<SamplerHandle, SpawnError> {
        let (n, d, m) = (problem.as_ref().n, problem.as_ref().d, settings.hyper.m);
        if let Some((height, width)) = options.image_shape
            && height.checked_mul(width) != Some(d)
        {
            return Err(SpawnError::Model(ModelError::ShapeMismatch {
                what: "image shape (height x width)",
                expected: d,
                got: height.saturating_mul(width),
            }));
        }
        let initial = if options.start_paused {
            RunState::Paused
        } else {
            RunState::Running
        };
        let shared = Arc::new(Shared::new(initial));
        let (command_tx, command_rx) = crossbeam_channel::unbounded();
        let (event_tx, event_rx) = crossbeam_channel::bounded(options.channel_capacity.max(1));
        let (built_tx, built_rx) = crossbeam_channel::bounded::<Result<(), SpawnError>>(1);
        let worker_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("gibbs-sampler".into())
            .spawn(move || {
                let sampler = match GibbsSampler::new(problem.as_ref(), &settings) {
                    Ok(sampler) => sampler,
                    Err(err) => {
                        let _ = built_tx.send(Err(SpawnError::Model(err)));
                        return Vec::new();
                    }
                };
                drop(problem);
                let _ = built_tx.send(Ok(()));
                let outbox = Outbox::new(event_tx, Arc::clone(&worker_shared), notify);
                Worker::new(sampler, n, command_rx, outbox, worker_shared, options).run()
            })
            .map_err(|err| SpawnError::Thread(err.to_string()))?;
        // The thread ended without a word only if building panicked.
        let built = built_rx.recv().unwrap_or(Err(SpawnError::BuildFailed));
        if let Err(err) = built {
            let _ = thread.join();
            return Err(err);
        }
        Ok(SamplerHandle {
            commands: command_tx,
            events: Some(EventStream {
                rx: event_rx,
                shared: Arc::clone(&shared),
                tail: Mutex::new(VecDeque::new()),
            }),
            shared,
            thread: Some(thread),
            n,
            d,
            m,
        })
    }

    /// Sends a command; false when the thread has already ended.
    pub fn send(&self, command: Command) -> bool {
        self.commands.send(command).is_ok()
    }

    /// Events that arrived, taken until none is left or `budget` has passed (at least one
    /// when any is waiting). Empty after [`SamplerHandle::take_events`].
    pub fn drain(&self, budget: Duration) -> Vec<Event> {
        self.events
            .as_ref()
            .map(|e| e.drain(budget))
            .unwrap_or_default()
    }

    /// Events that arrived, without waiting.
    pub fn try_iter(&self) -> impl Iterator<Item = Event> + '_ {
        self.events.iter().flat_map(EventStream::try_iter)
    }

    /// The next event, waiting up to `timeout` (None on timeout or when the thread has ended
    /// and every event was read).
    pub fn recv_timeout(&self, timeout: Duration) -> Option<Event> {
        self.events.as_ref().and_then(|e| e.recv_timeout(timeout))
    }

    /// Moves the event side out, e.g. to read it on another thread. Dropping the returned
    /// stream ends the sampler thread (nobody would read its results).
    pub fn take_events(&mut self) -> Option<EventStream> {
        self.events.take()
    }

    /// Sweeps done so far (updated after every sweep, readable without draining events).
    pub fn iteration(&self) -> usize {
        self.shared.iteration.load(Ordering::Acquire)
    }

    /// Numerical fallbacks summed over every sweep so far (all zero in a healthy run; see
    /// [`crate::model::Fallbacks::describe`] for a status line). Readable without draining
    /// events; each sweep's own counts are in its [`super::Event::Sweep`] record.
    pub fn fallbacks(&self) -> crate::model::Fallbacks {
        self.shared
            .fallbacks
            .lock()
            .map(|f| *f)
            .unwrap_or_else(|e| *e.into_inner())
    }

    /// The current run state.
    pub fn state(&self) -> RunState {
        self.shared.state()
    }

    /// True while the thread runs.
    pub fn is_alive(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// Problem size (N, D, M) the handle was built for.
    pub fn shape(&self) -> (usize, usize, usize) {
        (self.n, self.d, self.m)
    }

    /// Ends the thread and waits for it: returns after at most the sweep in progress.
    /// Calling it again does nothing. Every event of the run stays readable, including those
    /// that were still waiting in the thread for room in the channel, and the last one is
    /// `State(Stopped)`.
    pub fn stop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        let _ = self.commands.send(Command::Stop);
        if let Some(thread) = self.thread.take() {
            // A panic outside the sweep (which is caught and reported) loses only the tail.
            let rest = thread.join().unwrap_or_default();
            if let Some(events) = &self.events {
                events.append_tail(rest);
            }
        }
    }
}

impl Drop for SamplerHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The event side of a [`SamplerHandle`]. Read events only through it: it counts snapshots
/// down so the thread knows when it may send the next one.
pub struct EventStream {
    rx: Receiver<Event>,
    shared: Arc<Shared>,
    /// Events handed over by the ended thread, read after the channel is empty.
    tail: Mutex<VecDeque<Event>>,
}

impl EventStream {
    fn append_tail(&self, events: Vec<Event>) {
        self.tail
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(events);
    }

    fn pop_tail(&self) -> Option<Event> {
        self.tail
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop_front()
    }

    fn received(&self, event: Event) -> Event {
        if matches!(event, Event::Snapshot(_)) {
            // Saturating: never wraps even if counts get out of step.
            let _ = self.shared.snapshots_in_flight.fetch_update(
                Ordering::AcqRel,
                Ordering::Acquire,
                |v| Some(v.saturating_sub(1)),
            );
        }
        event
    }

    /// The next event if one is waiting.
    pub fn try_recv(&self) -> Option<Event> {
        match self.rx.try_recv() {
            Ok(event) => Some(self.received(event)),
            Err(TryRecvError::Empty | TryRecvError::Disconnected) => self.pop_tail(),
        }
    }

    /// The next event, waiting up to `timeout`.
    pub fn recv_timeout(&self, timeout: Duration) -> Option<Event> {
        if let Some(event) = self.try_recv() {
            return Some(event);
        }
        self.rx
            .recv_timeout(timeout)
            .ok()
            .map(|event| self.received(event))
            .or_else(|| self.pop_tail())
    }

    /// Events that arrived, without waiting.
    pub fn try_iter(&self) -> impl Iterator<Item = Event> + '_ {
        std::iter::from_fn(|| self.try_recv())
    }

    /// Events that arrived, until none is left or `budget` has passed (at least one when any
    /// is waiting), so a UI frame never spends long here.
    pub fn drain(&self, budget: Duration) -> Vec<Event> {
        let start = Instant::now();
        let mut out = Vec::new();
        while let Some(event) = self.try_recv() {
            out.push(event);
            if start.elapsed() >= budget {
                break;
            }
        }
        out
    }
}

impl Drop for EventStream {
    fn drop(&mut self) {
        self.shared.reader_gone.store(true, Ordering::Release);
    }
}
