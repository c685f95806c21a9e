//! Why a model or sampler could not be built or changed.

/// Errors of the model: bad inputs, bad settings, or a change that needs a new sampler.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    /// A hyperparameter is outside its allowed range (or not finite).
    #[error("{name} = {value} is invalid: it must be {requirement}")]
    InvalidHyperparameter {
        name: &'static str,
        value: f64,
        requirement: &'static str,
    },
    /// The number of sweeps and the burn-in do not make a run.
    #[error("run length of {sweeps} sweeps with burn-in {burn_in} is invalid: {reason}")]
    InvalidRunLength {
        sweeps: usize,
        burn_in: usize,
        reason: &'static str,
    },
    /// A problem with no images or no pixels.
    #[error("the data must have at least one image and one pixel (got {n} x {d})")]
    EmptyProblem { n: usize, d: usize },
    /// The problem (N x D x M) would not fit in memory on any machine we target.
    #[error("a problem of {n} images x {d} pixels with {m} factors is too large")]
    TooLarge { n: usize, d: usize, m: usize },
    /// A vector or matrix has the wrong length for the problem's shape.
    #[error("{what} has {got} values, expected {expected}")]
    ShapeMismatch {
        what: &'static str,
        expected: usize,
        got: usize,
    },
    /// An observed pixel (or a true value) is NaN or infinite.
    #[error("{what} holds a non-finite value at image {row}, pixel {col}")]
    NonFiniteInput {
        what: &'static str,
        row: usize,
        col: usize,
    },
    /// A value so large that sums of its square would overflow single precision.
    #[error("{what} holds {value:e} at image {row}, pixel {col}; values must be within +-1e12")]
    ValueTooLarge {
        what: &'static str,
        value: f64,
        row: usize,
        col: usize,
    },
    /// The change asked for cannot be applied to a running sampler.
    #[error("changing {what} needs a new sampler")]
    NeedsNewSampler { what: &'static str },
    /// An image number beyond the images the sampler has.
    #[error("there is no image {index} (the sampler has {n})")]
    ImageOutOfRange { index: usize, n: usize },
}
