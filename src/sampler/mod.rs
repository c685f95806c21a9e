//! The sampler on a background thread, driven by commands and reporting typed events, so a
//! front end (the desktop app) stays responsive while the model sweeps.
//!
//! ```no_run
//! use gibbs_fa::sampler::{Command, Event, HandleOptions, SamplerHandle};
//! # fn demo(problem: gibbs_fa::model::Problem) -> Result<(), gibbs_fa::sampler::SpawnError> {
//! let mut handle = SamplerHandle::spawn(problem, Default::default(), HandleOptions::default(), None)?;
//! handle.send(Command::Watch(vec![0, 1, 2]));
//! for event in handle.drain(std::time::Duration::from_millis(2)) {
//!     match event {
//!         Event::Sweep(record) => println!("sweep {} log p {}", record.iter, record.log_joint),
//!         Event::Snapshot(snapshot) => println!("W is {} x {}", snapshot.d, snapshot.m),
//!         Event::State(state) => println!("now {}", state.name()),
//!         Event::Error(message) => eprintln!("{message}"),
//!         Event::Summary(summary) => println!("posterior of {} pixels", summary.mean.len()),
//!     }
//! }
//! handle.stop();
//! # Ok(()) }
//! ```
//!
//! Guarantees:
//! - Every sweep gives exactly one [`Event::Sweep`], in order, none lost even when the reader
//!   is slow or absent: the channel is bounded and the thread only uses `try_send`; what does
//!   not fit waits in the thread's own queue (about 100 bytes a sweep, so even a run nobody
//!   reads stays small) and is handed over later, at the latest by [`SamplerHandle::stop`].
//! - Snapshots are throttled to one per [`HandleOptions::snapshot_interval`] while running,
//!   plus one after every pause, step, finish, watch change and request. A newer one replaces
//!   an older one still waiting, and at most two sit unread in the channel, so memory stays
//!   bounded whatever the reader does.
//! - The run stops by itself at the run length ([`RunState::Finished`]);
//!   [`Command::SetRunLength`] with more sweeps, then [`Command::Resume`], continues it.
//! - Settings: hyperparameters (same M), prior, schedule and run length apply at the next
//!   sweep; M, data, masks, noise and seed need a new handle.
//! - [`SamplerHandle::stop`] and dropping the handle return after at most the sweep in
//!   progress and join the thread; dropping the [`EventStream`] taken from the handle also
//!   ends the thread (within one sweep, or 100 ms when idle).
//! - `notify` runs on the sampler thread after events went out (the GUI requests a repaint).

mod handle;
mod outbox;
mod protocol;
mod shared;
mod worker;

pub use handle::{EventStream, SamplerHandle, SpawnError};
pub use outbox::Notify;
pub use protocol::{Command, Event, FullSummary, HandleOptions, MAX_WATCHED, RunState, Snapshot};
// Re-exported so front ends can name everything an event carries from this module.
pub use crate::model::{ImageSummary, MeanStd, SweepRecord};
