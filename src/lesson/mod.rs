//! The library half of the lesson view (issue 10): the method, one step at a time.
//!
//! - [`Stepper`] ([`stepper`]) runs one complete conditional per call, in the schedule's
//!   order and with the sweep's own random streams, so stepping gives exactly the chain that
//!   [`crate::model::GibbsSampler::sweep`] gives with the same seed; it keeps a bounded
//!   history of states so that going back restores an earlier state exactly. Each step
//!   returns a [`StepReport`] ([`step`]): which conditional it drew and what it changed.
//! - [`explain`](mod@explain) gives the numbers behind one draw for a chosen digit and pixel
//!   (posterior means and covariances, the sigma_d^2 posterior's nu_N and scale, ...);
//!   [`ellipse`] turns a 2 x 2 covariance into the ellipse a plot draws.
//! - [`flipbook`]: a watched digit's last imputations, to play back beside its posterior
//!   mean and std.
//! - [`dream`]: new digits from a fitted model and straight-line walks in latent space.
//! - [`presets`](mod@presets): experiments to show a class, each with its settings and what
//!   to look for (checked on MNIST by `tests/lesson_presets.rs`).
//!
//! Threads: nothing here spawns a thread or keeps one. Every call runs to completion on the
//! caller's thread; the conditionals a step runs use rayon's global pool and matrixmultiply's
//! GEMM threads internally, as a sweep does. One step costs one conditional plus a copy of
//! the state for the history, and an explanation at most about as much (measured on 2 cores
//! at N = 10,000, D = 784, M = 50: 30 to 60 ms per step, under 1 ms to 63 ms per
//! explanation, the sigma^2 one the dearest; a few milliseconds at N = 1,000), so an app may
//! call them from its UI thread at lesson sizes and from a worker at full size. [`Stepper`]
//! is `Send`, so it can be moved to a worker as a whole. Flip-books, dream digits and
//! presets are cheap.

pub mod dream;
pub mod ellipse;
mod error;
pub mod explain;
pub mod flipbook;
pub mod presets;
pub mod step;
pub mod stepper;
#[cfg(test)]
mod test_problem;
#[cfg(test)]
mod tests_explain;

pub use dream::{dream_digits, latent_walk, walk_between_digits};
pub use ellipse::Ellipse;
pub use error::LessonError;
pub use explain::{
    BlockedDraw, Explanation, Focus, LatentDraw, LoadingDraw, MeanDraw, MissingDraw, MissingPixel,
    NoiseDraw, RecentreDraw, explain,
};
pub use flipbook::{Flipbook, Frame};
pub use presets::{Preset, PresetRun, presets};
pub use step::{Block, BlockChange, Conditional, MatrixShape, StepReport};
pub use stepper::Stepper;
