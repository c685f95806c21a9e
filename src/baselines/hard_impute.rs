//! Iterative SVD ("hard-impute"): fill the missing entries, take the best rank-r
//! approximation, put its values back into the missing entries, repeat until they stop
//! changing (Mazumder, Hastie and Tibshirani 2010, section 8; Troyanskaya et al. 2001's SVDimpute).
//! Data are centred by the observed column means first; the SVD is the warm-started
//! subspace iteration of [`super::lowrank`]. A path of ranks reuses each fit as the next
//! one's start, so giving ranks in increasing order saves iterations.

use super::lowrank::{Filled, OVERSAMPLE};
use super::{BaselineError, Control, PathFit};
use crate::model::Problem;

/// Iteration limits of hard-impute.
#[derive(Clone, Debug, PartialEq)]
pub struct HardImputeOptions {
    /// Most imputation steps per rank.
    pub max_iters: usize,
    /// Stop when the missing entries change by less than this, relative to their norm.
    pub tol: f64,
    /// Seed of the random starting basis.
    pub seed: u64,
}

impl Default for HardImputeOptions {
    fn default() -> Self {
        HardImputeOptions {
            max_iters: 100,
            tol: 1e-4,
            seed: 0,
        }
    }
}

/// Hard-impute of one rank `r`; the completed data, N x D row-major.
pub fn hard_impute(
    problem: &Problem,
    rank: usize,
    options: &HardImputeOptions,
    control: Control,
) -> Result<Vec<f32>, BaselineError> {
    let mut out = Vec::new();
    hard_impute_path(problem, &[rank], options, control, |_, completed| {
        out = completed;
    })?;
    Ok(out)
}

/// Hard-impute for each rank of `ranks` in turn, each warm-started from the previous fit;
/// `visit` gets each fit and its completed data (N x D row-major) as soon as it is done.
pub fn hard_impute_path(
    problem: &Problem,
    ranks: &[usize],
    options: &HardImputeOptions,
    control: Control,
    mut visit: impl FnMut(&PathFit, Vec<f32>),
) -> Result<(), BaselineError> {
    let limit = problem.n.min(problem.d);
    for &r in ranks {
        if r == 0 || r > limit {
            return Err(BaselineError::InvalidParameter {
                name: "rank r",
                value: r as f64,
                requirement: "between 1 and min(N, D)",
            });
        }
    }
    check_iters(options.max_iters, options.tol)?;
    let mut filled = Filled::new(problem, options.seed)?;
    let total = ranks.len() * options.max_iters;
    for (index, &r) in ranks.iter().enumerate() {
        let mut iterations = 0;
        let mut converged = false;
        while iterations < options.max_iters {
            control.check()?;
            let step = filled.step(r + OVERSAMPLE, |s| {
                s.iter()
                    .enumerate()
                    .map(|(c, &v)| if c < r { v } else { 0.0 })
                    .collect()
            });
            iterations += 1;
            control.report(
                "hard-impute",
                index * options.max_iters + iterations,
                total,
                format!("r = {r}, change {:.1e}", step.change),
            );
            if step.change < options.tol {
                converged = true;
                break;
            }
        }
        let fit = PathFit {
            index,
            param: r as f64,
            rank: r,
            iterations,
            converged,
        };
        visit(&fit, filled.completed(problem));
    }
    Ok(())
}

/// Checks an iteration limit and a tolerance.
pub(crate) fn check_iters(max_iters: usize, tol: f64) -> Result<(), BaselineError> {
    if max_iters == 0 {
        return Err(BaselineError::InvalidParameter {
            name: "max_iters",
            value: 0.0,
            requirement: "at least 1",
        });
    }
    if !(tol.is_finite() && tol >= 0.0) {
        return Err(BaselineError::InvalidParameter {
            name: "tol",
            value: tol,
            requirement: "finite and not negative",
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baselines::rmse_on;
    use crate::baselines::test_util::{low_rank_problem, poisoned};

    #[test]
    fn hard_impute_recovers_a_low_rank_matrix_with_missing_entries() {
        // Rank 3 plus column offsets; centring by the observed means leaves rank <= 4.
        let (problem, truth) = low_rank_problem(80, 30, 3, 0.2, 11);
        let options = HardImputeOptions {
            max_iters: 500,
            tol: 1e-7,
            seed: 1,
        };
        let out = hard_impute(&problem, 4, &options, Control::none()).unwrap();
        let rmse = rmse_on(&out, &truth, &problem.missing).unwrap();
        let mean_rmse = rmse_on(
            &crate::baselines::column_mean_impute(&problem).unwrap(),
            &truth,
            &problem.missing,
        )
        .unwrap();
        assert!(mean_rmse > 5.0, "the test is not trivial: {mean_rmse}");
        assert!(
            rmse < 0.05,
            "rank-4 hard-impute RMSE {rmse} (column means {mean_rmse})"
        );
        // Observed entries are returned as given.
        for (k, &m) in problem.missing.iter().enumerate() {
            if !m {
                assert_eq!(out[k], problem.x_observed[k]);
            }
        }
        // Rank 1 is too small to recover it.
        let low = hard_impute(&problem, 1, &options, Control::none()).unwrap();
        assert!(rmse_on(&low, &truth, &problem.missing).unwrap() > 10.0 * rmse.max(0.01));
    }

    #[test]
    fn hard_impute_never_reads_the_values_at_missing_entries() {
        let (problem, _) = low_rank_problem(30, 12, 2, 0.3, 5);
        let options = HardImputeOptions::default();
        let a = hard_impute(&problem, 3, &options, Control::none()).unwrap();
        let b = hard_impute(&poisoned(&problem), 3, &options, Control::none()).unwrap();
        assert_eq!(a, b);
        assert!(a.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn hard_impute_refuses_bad_ranks_and_stops_when_cancelled() {
        let (problem, _) = low_rank_problem(10, 6, 2, 0.2, 2);
        let o = HardImputeOptions::default();
        assert!(hard_impute(&problem, 0, &o, Control::none()).is_err());
        assert!(hard_impute(&problem, 7, &o, Control::none()).is_err());
        let cancel = std::sync::atomic::AtomicBool::new(true);
        let control = Control {
            cancel: &cancel,
            progress: None,
        };
        assert_eq!(
            hard_impute(&problem, 2, &o, control),
            Err(BaselineError::Cancelled)
        );
    }
}
