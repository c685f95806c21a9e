//! Convergence diagnostics of MCMC output (Vehtari, Gelman, Simpson, Carpenter and Bürkner
//! 2021, "Rank-normalization, folding, and localization: an improved R-hat for assessing
//! convergence of MCMC", Bayesian Analysis 16(2)).
//!
//! - [`draws`]: checked draws of a scalar (one row per chain), splitting, rank
//!   normalisation, folding;
//! - [`autocov`]: autocovariance at every lag by FFT;
//! - [`rhat`]: basic and rank-normalised split-R-hat;
//! - [`ess`]: ESS with Geyer's initial monotone sequence, bulk-ESS, tail-ESS, MCSE of the mean;
//! - [`split_moments`]: classic split-R-hat from running per-half moments, for quantities too
//!   many to keep the draws of, and its summary (max, share above 1.01);
//! - [`normal`]: the normal quantile function the rank normalisation needs.
//!
//! The formulas follow ArviZ 0.23 (`arviz/stats/diagnostics.py`), the reference the tests
//! compare against; the one deliberate difference is that a single chain is diagnosed
//! through its two halves (as the R package posterior does) where ArviZ's R-hat gives NaN.
//! Everything here is plain computation on the caller's thread: no threads, no I/O.
//! Cost: O(K S log S) for K chains of S draws (sorting for the ranks, FFTs for the
//! autocovariances): a few ms for 8 chains of 10,000 draws.

pub mod autocov;
pub mod draws;
pub mod ess;
pub mod normal;
pub mod rhat;
pub mod split_moments;

pub use draws::{Draws, MIN_DRAWS};
pub use ess::{ess_bulk, ess_mean, ess_tail, mcse_mean};
pub use rhat::rhat;
pub use split_moments::{
    HalfDraw, HalfMoments, RhatSummary, rhat_classic_so_far, split_rhat_classic,
};

/// Most chains the diagnostics of running moments combine (the app and CLI run 1 to 8).
pub const MAX_CHAINS: usize = 8;

/// Threshold below which R-hat says the chains agree (Vehtari et al. 2021).
pub const RHAT_OK: f64 = 1.01;
/// R-hat at or above which chains are far apart (the older, looser threshold of Gelman and
/// Rubin).
pub const RHAT_BAD: f64 = 1.1;
/// Bulk-ESS above which estimates are trusted (Vehtari et al. 2021: 100 per chain, 4 chains).
pub const ESS_OK: f64 = 400.0;

/// Why draws could not be diagnosed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DiagnosticsError {
    /// No chain at all.
    #[error("no chains to diagnose")]
    NoChains,
    /// Chains of different lengths.
    #[error("chain {chain} has {draws} draws, expected {expected} like the first chain")]
    UnequalChains {
        chain: usize,
        draws: usize,
        expected: usize,
    },
    /// Too few draws per chain for split chains.
    #[error("{draws} draws per chain are too few: at least {min} are needed")]
    TooFewDraws { draws: usize, min: usize },
    /// A NaN or infinite draw.
    #[error("draw {draw} of chain {chain} is not finite")]
    NonFinite { chain: usize, draw: usize },
    /// More chains than the running-moment diagnostics combine.
    #[error("{chains} chains are more than the {max} supported")]
    TooManyChains { chains: usize, max: usize },
}

/// The four diagnostics of one scalar quantity. A value is None where it is undefined
/// (e.g. R-hat of a quantity that never changes).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct ScalarDiagnostics {
    /// Rank-normalised split-R-hat.
    pub rhat: Option<f64>,
    /// Bulk effective sample size.
    pub ess_bulk: Option<f64>,
    /// Tail effective sample size (5% and 95% quantiles).
    pub ess_tail: Option<f64>,
    /// Monte Carlo standard error of the posterior mean.
    pub mcse_mean: Option<f64>,
}

impl ScalarDiagnostics {
    /// All four diagnostics of the draws.
    pub fn of(draws: &Draws) -> ScalarDiagnostics {
        let finite = |v: f64| v.is_finite().then_some(v);
        ScalarDiagnostics {
            rhat: finite(rhat(draws)),
            ess_bulk: finite(ess_bulk(draws)),
            ess_tail: finite(ess_tail(draws)),
            mcse_mean: finite(mcse_mean(draws)),
        }
    }

    /// Checks and diagnoses chains of draws in one step.
    pub fn of_chains<C: AsRef<[f64]>>(chains: &[C]) -> Result<ScalarDiagnostics, DiagnosticsError> {
        Draws::new(chains).map(|d| ScalarDiagnostics::of(&d))
    }

    /// True when R-hat < 1.01 and bulk-ESS > 400 (the recommendation of Vehtari et al.).
    pub fn looks_converged(&self) -> bool {
        matches!((self.rhat, self.ess_bulk), (Some(r), Some(e)) if r < RHAT_OK && e > ESS_OK)
    }
}
