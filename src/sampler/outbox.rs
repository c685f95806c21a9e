//! The sampler thread's side of the event channel: it never waits for the reader.
//!
//! Events go out with `try_send` on a bounded channel. When the channel is full, sweep records,
//! state changes and errors wait in a local FIFO queue (order kept, nothing lost; a record is
//! ~100 bytes and a run is finite, so the queue stays small even if nobody reads). Snapshots are
//! big (W alone is D x M floats), so only the newest waits, and at most
//! [`MAX_SNAPSHOTS_IN_FLIGHT`] sit unread in the channel; the reader's side counts them down.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use crossbeam_channel::{Sender, TrySendError};

use super::protocol::{Event, Snapshot};
use super::shared::Shared;

/// Snapshots allowed in the channel before newer ones wait (and replace each other).
pub(crate) const MAX_SNAPSHOTS_IN_FLIGHT: usize = 2;

/// Called after events were handed to the channel (the GUI passes `ctx.request_repaint`).
pub type Notify = Box<dyn Fn() + Send>;

pub(crate) struct Outbox {
    tx: Sender<Event>,
    shared: Arc<Shared>,
    queue: VecDeque<Event>,
    snapshot: Option<Box<Snapshot>>,
    notify: Option<Notify>,
    disconnected: bool,
}

impl Outbox {
    pub(crate) fn new(tx: Sender<Event>, shared: Arc<Shared>, notify: Option<Notify>) -> Self {
        Outbox {
            tx,
            shared,
            queue: VecDeque::new(),
            snapshot: None,
            notify,
            disconnected: false,
        }
    }

    /// Queues an event; a snapshot replaces any snapshot still waiting.
    pub(crate) fn push(&mut self, event: Event) {
        match event {
            Event::Snapshot(s) => self.snapshot = Some(s),
            other => self.queue.push_back(other),
        }
    }

    /// True when events are waiting for room in the channel.
    pub(crate) fn has_pending(&self) -> bool {
        !self.queue.is_empty() || self.snapshot.is_some()
    }

    /// True once the reader is gone: nothing sent will ever be read.
    pub(crate) fn disconnected(&self) -> bool {
        self.disconnected || self.shared.reader_gone.load(Ordering::Acquire)
    }

    /// Sends what it can and then `last`, and returns the events that never fit in the
    /// channel, oldest first, ending with `last` (the handle delivers them after joining).
    pub(crate) fn finish(mut self, last: Event) -> Vec<Event> {
        self.flush();
        let mut rest: Vec<Event> = self.queue.drain(..).collect();
        rest.extend(self.snapshot.take().map(Event::Snapshot));
        if rest.is_empty() && !self.disconnected() {
            match self.tx.try_send(last) {
                Ok(()) => {
                    if let Some(notify) = &self.notify {
                        notify();
                    }
                    return rest;
                }
                Err(err) => rest.push(err.into_inner()),
            }
        } else {
            rest.push(last);
        }
        rest
    }

    /// Hands over as many waiting events as the channel takes, without blocking, then calls
    /// the notifier if anything went out.
    pub(crate) fn flush(&mut self) {
        if self.disconnected() {
            return;
        }
        let mut sent = 0usize;
        while let Some(event) = self.queue.pop_front() {
            match self.tx.try_send(event) {
                Ok(()) => sent += 1,
                Err(TrySendError::Full(event)) => {
                    self.queue.push_front(event);
                    break;
                }
                Err(TrySendError::Disconnected(_)) => {
                    self.disconnected = true;
                    return;
                }
            }
        }
        if self.queue.is_empty()
            && self.shared.snapshots_in_flight.load(Ordering::Acquire) < MAX_SNAPSHOTS_IN_FLIGHT
            && let Some(snapshot) = self.snapshot.take()
        {
            // Count before sending so the reader's decrement can never run first.
            self.shared
                .snapshots_in_flight
                .fetch_add(1, Ordering::AcqRel);
            match self.tx.try_send(Event::Snapshot(snapshot)) {
                Ok(()) => sent += 1,
                Err(err) => {
                    self.shared
                        .snapshots_in_flight
                        .fetch_sub(1, Ordering::AcqRel);
                    match err {
                        TrySendError::Full(Event::Snapshot(s)) => self.snapshot = Some(s),
                        TrySendError::Full(_) => {}
                        TrySendError::Disconnected(_) => {
                            self.disconnected = true;
                            return;
                        }
                    }
                }
            }
        }
        if sent > 0
            && let Some(notify) = &self.notify
        {
            notify();
        }
    }
}
