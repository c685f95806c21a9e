//! State shared between the handle, the event reader and the sampler thread, readable without
//! going through the channels (progress for a status line, the stop flag).

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};

use std::sync::Mutex;

use super::protocol::RunState;
use crate::model::Fallbacks;

#[derive(Debug)]
pub(crate) struct Shared {
    /// Sweeps done.
    pub(crate) iteration: AtomicUsize,
    /// The current [`RunState`] as its code.
    pub(crate) state: AtomicU8,
    /// Set by the handle to end the thread at the next check (between sweeps).
    pub(crate) stop: AtomicBool,
    /// Set when the event reader is dropped: the thread then ends.
    pub(crate) reader_gone: AtomicBool,
    /// Snapshots sent but not yet received.
    pub(crate) snapshots_in_flight: AtomicUsize,
    /// Numerical fallbacks summed over every sweep of this thread (each sweep's own counts
    /// travel in its [`super::Event::Sweep`] record).
    pub(crate) fallbacks: Mutex<Fallbacks>,
}

impl Shared {
    pub(crate) fn new(state: RunState) -> Self {
        Shared {
            iteration: AtomicUsize::new(0),
            state: AtomicU8::new(state.to_code()),
            stop: AtomicBool::new(false),
            reader_gone: AtomicBool::new(false),
            snapshots_in_flight: AtomicUsize::new(0),
            fallbacks: Mutex::new(Fallbacks::default()),
        }
    }

    pub(crate) fn state(&self) -> RunState {
        RunState::from_code(self.state.load(Ordering::Acquire))
    }

    pub(crate) fn set_state(&self, state: RunState) {
        self.state.store(state.to_code(), Ordering::Release);
    }
}
