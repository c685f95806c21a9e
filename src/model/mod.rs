//! Bayesian factor analysis with missing data and its Gibbs sampler (SPEC sections 4 to 10).
//!
//! [`GibbsSampler`] owns the state; one [`GibbsSampler::sweep`] runs the complete conditionals
//! of [`conditionals`] in the chosen [`Schedule`], then the log joint ([`log_joint`]) and the
//! running moments. Data are f32; sums that cancel are accumulated in f64.

pub mod conditionals;
mod error;
mod gibbs;
pub mod init;
mod linalg;
pub mod log_joint;
mod moments;
mod par;
mod problem;
mod records;
pub mod rng;
mod settings;
mod state;

pub use error::ModelError;
pub use gibbs::GibbsSampler;
pub use problem::Problem;
pub use records::{ImageSummary, MeanStd, StepTimes, SweepRecord, Traces};
pub use settings::{
    HYPER_RANGE, Hyperparameters, MAX_FACTORS, Prior, SamplerSettings, Schedule,
    validate_run_length,
};
pub use state::{MissingIndex, ModelState, SIGMASQ_RANGE};
