//! Several chains on one problem, their convergence diagnostics and their pooled posterior
//! (issue 9).
//!
//! A single chain cannot show that it has not converged; K chains started apart can. Chain
//! c (0-based) runs a [`crate::model::GibbsSampler`] with seed [`chain_seed`]`(run seed, c)`:
//! chain 0 keeps the run's seed and the notebook's initialisation, so one chain reproduces a
//! single-chain run bit for bit; the others start from dispersed points ([`start`]).
//!
//! - [`MultiChain`]: the chains, swept in rounds (one sweep of each), several rounds at a time
//!   with each chain's sweeps in a row ([`MultiChain::rounds`]). It keeps every value
//!   of a few scalar quantities ([`Quantity`]: log joint, RMSE of the sample, mean sigma^2,
//!   and for a few watched pixels sigma_d^2, an imputed value, (W W^T)[d, d] and the raw
//!   W[d, 0]) and running per-half moments of every missing pixel, sigma_d^2 and mu_d.
//!   [`MultiChain::diagnostics`] gives rank-normalised split-R-hat, bulk- and tail-ESS and
//!   MCSE of every scalar but the raw loadings, and the classic split-R-hat of the per-pixel
//!   quantities summarised; [`MultiChain::pooled`] the posterior pooled over chains.
//! - [`ChainsHandle`]: the same on a background thread, driven by [`ChainsCommand`]s and
//!   reporting [`ChainsEvent`]s, for a GUI.
//! - [`ChainFeed`]: chain 1 swept on another thread (the app's view sampler) and recorded
//!   for the diagnostics, so it is not computed twice ([`ChainsOptions::first_chain`]).
//! - [`Change`]: live changes of the run (hyperparameters, prior, schedule,
//!   run length, a painted mask) that every chain follows, as a front end's own sampler does.
//!
//! ```no_run
//! use gibbs_fa::chains::{ChainsEvent, ChainsHandle, ChainsHandleOptions, ChainsOptions};
//! # fn demo(problem: gibbs_fa::model::Problem) -> Result<(), gibbs_fa::chains::ChainsError> {
//! let options = ChainsOptions { chains: 4, ..Default::default() };
//! let mut handle =
//!     ChainsHandle::spawn(problem, Default::default(), options, Default::default(), None)?;
//! // Each frame of a GUI: take what arrived, never wait.
//! for event in handle.try_iter() {
//!     match event {
//!         ChainsEvent::Started { quantities, .. } => println!("columns {quantities:?}"),
//!         ChainsEvent::Sweep(s) => println!("chain {} sweep {}", s.chain + 1, s.record.iter),
//!         ChainsEvent::Diagnostics(d) => println!("chains agree: {}", d.chains_agree()),
//!         ChainsEvent::State(state) => println!("now {}", state.name()),
//!         ChainsEvent::Followed { since, .. } => println!("diagnosed after sweep {since}"),
//!         ChainsEvent::Error(message) => eprintln!("{message}"),
//!     }
//! }
//! // At the end: the chains themselves, for pooled summaries.
//! if let Some(chains) = handle.join() {
//!     println!("pooled RMSE {:?}", chains.pooled().rmse);
//! }
//! # Ok(()) }
//! ```
//!
//! Threads: [`MultiChain`] runs on the caller's thread; with [`Parallelism::Sequential`]
//! each chain's sweep uses the global rayon pool and matrixmultiply's GEMM threads, with
//! [`Parallelism::SideBySide`] the chains of a batch of rounds run as rayon tasks on the
//! current pool, each task one chain's sweeps of the batch. Either way the numbers are the same on any thread count: every chain's random
//! streams depend only on its seed, the sweep and the step (see [`crate::model::rng`]).
//! Memory: each chain holds its own sampler (about 150 MB at N = 10,000, M = 50), plus
//! 16 bytes per missing pixel for the half moments.

mod chain;
mod feed;
mod follow;
mod handle;
mod multi;
mod pooled;
mod quantities;
mod record;
pub mod seeds;
pub mod start;

pub use chain::{Chain, ChainSweep, Halves};
pub use feed::ChainFeed;
pub use follow::Change;
pub use handle::{ChainsCommand, ChainsEvent, ChainsHandle, ChainsHandleOptions};
pub use multi::{
    BATCH_ROUNDS, ChainsDiagnostics, ChainsOptions, MultiChain, Parallelism, PixelRhat, RhatImages,
};
pub use pooled::PooledPosterior;
pub use quantities::{Quantity, default_pixels};
pub use seeds::chain_seed;

use crate::diagnostics::DiagnosticsError;
use crate::model::ModelError;

/// Most chains in a run.
pub const MAX_CHAINS: usize = crate::diagnostics::MAX_CHAINS;

/// Why chains could not be built or diagnosed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ChainsError {
    /// The problem or settings are invalid (the model's own message).
    #[error(transparent)]
    Model(#[from] ModelError),
    /// Diagnostics could not be computed.
    #[error(transparent)]
    Diagnostics(#[from] DiagnosticsError),
    /// A chain count outside 1 to [`MAX_CHAINS`].
    #[error("{chains} chains asked for: between 1 and 8 are supported")]
    ChainCount { chains: usize },
    /// A first chain other than 0 or 1, or not below the chain count.
    #[error(
        "the first chain swept here is {first} of {chains}: it must be 0 or 1, and below the chain count"
    )]
    FirstChain { first: usize, chains: usize },
    /// The system refused a thread.
    #[error("the chains' thread could not be started: {0}")]
    Thread(String),
}
