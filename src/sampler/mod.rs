//! The sampler on a background thread, driven by commands and reporting typed events, so a
//! front end (the desktop app) stays responsive while the model sweeps.
//!
//! ```no_run
//! use gibbs_fa::sampler::{Command, Event, HandleOptions, SamplerHandle};
//! # fn demo(problem: gibbs_fa::model::Problem) -> Result<(), gibbs_fa::model::ModelError> {
//! let mut handle = SamplerHandle::spawn(problem, Default::default(), HandleOptions::default(), None)?;
//! handle.send(Command::Watch(vec![0, 1, 2]));
//! for event in handle.drain(std::time::Duration::from_millis(2)) {
//!     match event {
//!         Event::Sweep(record) => println!("sweep {} log p {}", record.iter, record.log_joint),
//!         Event::Snapshot(snapshot) => println!("W is {} x {}", snapshot.d, snapshot.m),
//!         Event::State(state) => println!("now {}", state.name()),
//!         Event::Error(message) => eprintln!("{message}"),
//!     }
//! }
//! handle.stop();
//! # Ok(()) }
//! ```
//!
//! Guarantees: every sweep gives exactly one [`Event::Sweep`], in order, none lost even when the
//! reader is slow or absent (they wait in the thread's own queue; the channel is bounded and
//! the thread only uses `try_send`). Snapshots are throttled to one per
//! [`HandleOptions::snapshot_interval`] while running, plus one after every pause, step,
//! finish, watch change and request; a newer one replaces an older one still waiting, and at
//! most two sit unread in the channel. The run stops by itself after the run length
//! ([`RunState::Finished`]); [`Command::SetRunLength`] then [`Command::Resume`] continues it.
//! Stopping returns after at most the sweep in progress; dropping the handle, or the
//! [`EventStream`] taken from it, ends the thread.

mod handle;
mod outbox;
mod protocol;
mod shared;
mod worker;

pub use handle::{EventStream, SamplerHandle};
pub use outbox::Notify;
pub use protocol::{Command, Event, HandleOptions, MAX_WATCHED, RunState, Snapshot};
// Re-exported so front ends can name everything an event carries from this module.
pub use crate::model::{ImageSummary, MeanStd, SweepRecord};
