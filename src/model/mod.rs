//! Bayesian factor analysis with missing data and its Gibbs sampler (SPEC sections 4 to 10).
//!
//! [`GibbsSampler`] owns the state; one [`GibbsSampler::sweep`] runs the complete conditionals
//! of [`conditionals`] in the chosen [`Schedule`] (first the [`recentre`] move when the settings
//! ask for it, an extension beyond SPEC), then the log joint ([`log_joint`]) and the running
//! moments. Data are f32; sums that cancel are accumulated in f64.
//!
//! How a sweep stays fast (N = 10000, D = 784, M = 50):
//! - two big products per sweep, X~ K for Z and Z^T X~ for W's statistics, with X~ = X
//!   shifted by its column means (see [`suffstats`]), both formed by the Z step in one pass
//!   over X~, block by block of images (single-threaded faer GEMMs, the blocks on rayon's
//!   pool, so a block's rows of X~ are read from memory once). The sigma^2 step, the X_miss step and the log joint need no third
//!   product: the residual sums come from the sufficient statistics X~^T Z, Z^T Z and sum z
//!   (SPEC 9) in f64, the X_miss step forms w_d^T z_n only at the missing entries, and it
//!   updates the residual sums from the changed entries;
//! - the M x M precisions of the Z and W steps are factored once per step and applied to all
//!   rows as matrix products (no per-row inversions); the Z step's (with K) is computed a step
//!   ahead, as a task of the X_miss step's parallel section ([`z_setup`]);
//! - elementwise work runs on rayon in fixed-size chunks, each with its own generator seeded
//!   from (seed, sweep, step, chunk) ([`rng`]), so results do not depend on the thread count;
//! - posterior summaries are running moments; no sample of Z or X_miss is stored.
//!
//! Numerical guards: sigma^2 is kept in [`SIGMASQ_RANGE`], data values within
//! [`MAX_ABS_VALUE`], hyperparameters within [`HYPER_RANGE`]; within those limits every
//! reported number is finite (tested at the corners of the ranges). Every time a guard bends
//! the numerics (a clamp, a Cholesky jitter, a mode instead of a draw) the conditionals count
//! it in the state, and [`GibbsSampler::sweep`] reports the counts in its record
//! ([`Fallbacks`]), so a run that needed none can say so.

mod blocked_step;
pub mod conditionals;
mod error;
mod gibbs;
pub mod init;
mod linalg;
pub mod log_joint;
mod moments;
pub mod normals;
mod par;
mod pixel_steps;
mod problem;
pub mod recentre;
mod records;
pub mod rng;
mod segment;
mod settings;
mod state;
mod suffstats;
#[cfg(test)]
mod tests_index;
#[cfg(test)]
mod tests_set_mask;
mod x_missing;
mod z_setup;

pub use error::ModelError;
pub use gibbs::GibbsSampler;
pub use problem::{MAX_ABS_VALUE, Problem};
pub use records::{Fallbacks, ImageSummary, MeanStd, StepTimes, SweepRecord, Traces};
pub use settings::{
    HYPER_RANGE, Hyperparameters, MAX_FACTORS, Prior, SamplerSettings, Schedule,
    validate_run_length,
};
pub use state::{MissingIndex, ModelState, SIGMASQ_RANGE};
