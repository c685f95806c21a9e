//! Why a lesson computation could not be done.

use crate::model::ModelError;
use crate::reconstruct::ReconstructError;

/// Errors of the lesson module: bad indices, nothing to explain or go back to, or an error
/// of the model underneath.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum LessonError {
    /// A digit (image) index beyond the N images.
    #[error("there is no digit {index} (the problem has {n})")]
    DigitOutOfRange { index: usize, n: usize },
    /// A pixel index beyond the D pixels.
    #[error("there is no pixel {index} (images have {d})")]
    PixelOutOfRange { index: usize, d: usize },
    /// A factor index beyond the M factors, or the same factor twice for an ellipse.
    #[error("factors ({a}, {b}) are not two different factors of {m}")]
    BadFactorPair { a: usize, b: usize, m: usize },
    /// No step has been taken (or the history that held it is empty).
    #[error("there is no step to explain: step forward first")]
    NothingToExplain,
    /// A posterior precision could not be factored (non-finite or not positive definite).
    #[error("the posterior precision of {what} is not positive definite")]
    NotPositiveDefinite { what: &'static str },
    /// A count, a length or a step number that does not make sense.
    #[error("{what} is invalid: {reason}")]
    InvalidArgument {
        what: &'static str,
        reason: &'static str,
    },
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Reconstruct(#[from] ReconstructError),
}
