//! Point imputers to compare the factor model with, and held-out validation to choose each
//! method's size (issue 11).
//!
//! Why: the notebook asks whether factor analysis reconstructs the digits well. That needs
//! honest competitors on the same masked data: column means ([`column_means`]), iterative
//! SVD of rank r ([`hard_impute`]), SoftImpute with a path of lambda values
//! ([`soft_impute`]) and k-nearest-neighbour imputation ([`knn`]), plus a way to pick r,
//! lambda, k and M that never looks at the pixels it is scored on ([`validation`]).
//!
//! Every method is a plain function of a [`Problem`]: it reads `x_observed` only where
//! `missing` is false (values at missing entries may be NaN or anything else) and never reads
//! `x_true`. It returns the completed data, N x D row-major: observed entries as given,
//! missing entries imputed. Paths (several r, lambda or k) return one completion per value
//! and reuse work between them (warm starts, one distance computation).
//!
//! Threads: every function runs on the calling thread and blocks until done, using
//! nalgebra's GEMM (matrixmultiply's threads) and rayon's global pool inside. At the
//! notebook's size (N = 10,000, D = 784) k-NN and one SVD path take seconds, a Gibbs fit tens
//! of seconds, so a front end runs them on a worker thread: each long function takes a
//! [`Control`], whose `progress` callback is called on that worker thread (keep it cheap,
//! e.g. send on a channel) and whose `cancel` flag is polled between iterations; once it is
//! set the function returns [`BaselineError::Cancelled`] within one iteration.

pub mod column_means;
pub mod hard_impute;
pub mod knn;
mod lowrank;
pub mod soft_impute;
pub mod validation;

use std::sync::atomic::{AtomicBool, Ordering};

use crate::model::{ModelError, Problem};

pub use column_means::{column_mean_impute, column_means};
pub use hard_impute::{HardImputeOptions, hard_impute, hard_impute_path};
pub use knn::{KnnOptions, knn_impute, knn_impute_path};
pub use soft_impute::{SoftImputeOptions, SoftImputePoint, lambda_max, soft_impute_path};

/// Why an imputer could not run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BaselineError {
    /// The problem itself is malformed (shapes, non-finite observed values).
    #[error(transparent)]
    Model(#[from] ModelError),
    /// A size or tuning parameter is out of range.
    #[error("{name} = {value} is invalid: it must be {requirement}")]
    InvalidParameter {
        name: &'static str,
        value: f64,
        requirement: &'static str,
    },
    /// The held-out split found nothing to hold out (or nothing left to fit on).
    #[error("cannot hold out pixels: {0}")]
    Holdout(&'static str),
    /// The cancel flag was set.
    #[error("cancelled")]
    Cancelled,
}

/// One fit of a path (one r, lambda or k), handed to the path's visitor with its completion.
#[derive(Clone, Debug, PartialEq)]
pub struct PathFit {
    /// Position in the path.
    pub index: usize,
    /// The size parameter: r, lambda or k.
    pub param: f64,
    /// Rank of the fit (low-rank methods; 0 for k-NN).
    pub rank: usize,
    /// Iterations run (1 for k-NN).
    pub iterations: usize,
    /// Whether the relative change fell below the tolerance before the iteration limit.
    pub converged: bool,
}

/// How far a long fit got, for a progress bar.
#[derive(Clone, Debug, PartialEq)]
pub struct Progress {
    /// The method ("soft-impute", "k-NN", "factor analysis", ...).
    pub method: &'static str,
    /// Steps done and planned (iterations, sweeps or query blocks); `done <= total`.
    pub done: usize,
    pub total: usize,
    /// What is being fitted now, e.g. "lambda = 120.5" or "M = 20".
    pub detail: String,
}

static NEVER_CANCELLED: AtomicBool = AtomicBool::new(false);

/// Progress reporting and cancellation for a long fit, see the module docs.
#[derive(Clone, Copy)]
pub struct Control<'a> {
    /// Polled between iterations; once true the fit returns [`BaselineError::Cancelled`].
    pub cancel: &'a AtomicBool,
    /// Called on the fitting thread after each iteration (or block of work).
    pub progress: Option<&'a (dyn Fn(Progress) + Sync)>,
}

impl Default for Control<'_> {
    fn default() -> Self {
        Control::none()
    }
}

impl<'a> Control<'a> {
    /// No progress reports and a flag nobody sets.
    pub fn none() -> Control<'static> {
        Control {
            cancel: &NEVER_CANCELLED,
            progress: None,
        }
    }

    /// Errors with [`BaselineError::Cancelled`] once the flag is set.
    pub fn check(&self) -> Result<(), BaselineError> {
        if self.cancel.load(Ordering::Relaxed) {
            Err(BaselineError::Cancelled)
        } else {
            Ok(())
        }
    }

    /// Reports progress (no-op without a callback).
    pub fn report(&self, method: &'static str, done: usize, total: usize, detail: String) {
        if let Some(f) = self.progress {
            f(Progress {
                method,
                done: done.min(total),
                total,
                detail,
            });
        }
    }
}

/// A copy of `problem` without `x_true`, for the model code that validates the truth too
/// (initialisation, the sampler), which imputers never read.
pub(crate) fn without_truth(problem: &Problem) -> Problem {
    Problem {
        n: problem.n,
        d: problem.d,
        x_observed: problem.x_observed.clone(),
        missing: problem.missing.clone(),
        x_true: None,
    }
}

/// Checks a problem's shapes and observed values once, for every method.
pub(crate) fn check_problem(problem: &Problem) -> Result<(), BaselineError> {
    // Not `Problem::validate`: that also checks x_true, which no method reads.
    let total = problem
        .n
        .checked_mul(problem.d)
        .ok_or(ModelError::TooLarge {
            n: problem.n,
            d: problem.d,
            m: 0,
        })?;
    if problem.n == 0 || problem.d == 0 {
        return Err(ModelError::EmptyProblem {
            n: problem.n,
            d: problem.d,
        }
        .into());
    }
    for (what, len) in [
        ("x_observed", problem.x_observed.len()),
        ("missing", problem.missing.len()),
    ] {
        if len != total {
            return Err(ModelError::ShapeMismatch {
                what,
                expected: total,
                got: len,
            }
            .into());
        }
    }
    for (k, (&x, &miss)) in problem.x_observed.iter().zip(&problem.missing).enumerate() {
        let fine = x.is_finite() && x.abs() <= crate::model::MAX_ABS_VALUE;
        if !miss && !fine {
            return Err(ModelError::NonFiniteInput {
                what: "observed data",
                row: k / problem.d,
                col: k % problem.d,
            }
            .into());
        }
    }
    Ok(())
}

/// Root mean squared error of `completed` against `truth` over the entries where `select`
/// is true (all three N x D row-major); None when nothing is selected.
pub fn rmse_on(completed: &[f32], truth: &[f32], select: &[bool]) -> Option<f64> {
    let (mut sum, mut count) = (0.0f64, 0usize);
    for ((&c, &t), &s) in completed.iter().zip(truth).zip(select) {
        if s {
            sum += (f64::from(c) - f64::from(t)).powi(2);
            count += 1;
        }
    }
    (count > 0).then(|| (sum / count as f64).sqrt())
}

#[cfg(test)]
pub(crate) mod test_util {
    use crate::model::Problem;
    use rand::SeedableRng;
    use rand::rngs::SmallRng;
    use rand_distr::{Distribution, StandardNormal, Uniform};

    /// An `n` x `d` matrix of exact rank `rank` plus column offsets, with a share `p` of
    /// entries missing (at least one observed per row and column); returns the problem with
    /// NaN at missing entries and the full truth.
    pub fn low_rank_problem(
        n: usize,
        d: usize,
        rank: usize,
        p: f64,
        seed: u64,
    ) -> (Problem, Vec<f32>) {
        let mut rng = SmallRng::seed_from_u64(seed);
        let a: Vec<f64> = (0..n * rank)
            .map(|_| StandardNormal.sample(&mut rng))
            .collect();
        let b: Vec<f64> = (0..d * rank)
            .map(|_| {
                let v: f64 = StandardNormal.sample(&mut rng);
                10.0 * v
            })
            .collect();
        let offset: Vec<f64> = (0..d).map(|j| 50.0 + j as f64).collect();
        let mut truth = vec![0.0f32; n * d];
        for i in 0..n {
            for j in 0..d {
                let v: f64 = (0..rank).map(|r| a[i * rank + r] * b[j * rank + r]).sum();
                truth[i * d + j] = (v + offset[j]) as f32;
            }
        }
        let u = Uniform::new(0.0, 1.0).unwrap();
        let mut missing: Vec<bool> = (0..n * d).map(|_| u.sample(&mut rng) < p).collect();
        for i in 0..n {
            missing[i * d + (i % d)] = false;
        }
        for j in 0..d {
            missing[(j % n) * d + j] = false;
        }
        let x_observed = truth
            .iter()
            .zip(&missing)
            .map(|(&t, &m)| if m { f32::NAN } else { t })
            .collect();
        (
            Problem {
                n,
                d,
                x_observed,
                missing,
                x_true: Some(truth.clone()),
            },
            truth,
        )
    }

    /// The same problem with every missing entry of `x_observed` (and the truth) replaced by
    /// a huge value: a method that reads them gives a different answer.
    pub fn poisoned(problem: &Problem) -> Problem {
        let mut p = problem.clone();
        for (x, &m) in p.x_observed.iter_mut().zip(&p.missing) {
            if m {
                *x = 1e30;
            }
        }
        p.x_true = Some(vec![f32::NAN; p.n * p.d]);
        p
    }
}
