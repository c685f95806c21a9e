//! SoftImpute (Mazumder, Hastie and Tibshirani 2010): the nuclear-norm penalised completion
//! minimise 1/2 ||P_obs(X - Z)||_F^2 + lambda ||Z||_* by iterating
//! Z <- S_lambda(P_obs(X) + P_miss(Z)), where S_lambda soft-thresholds the singular values.
//! A decreasing path of lambda values is fitted with warm starts (each fit starts from the
//! previous one), as the paper recommends. Data are centred by the observed column means.
//!
//! The SVD is the warm-started subspace iteration of [`super::lowrank`], with a basis of the
//! current rank plus a few columns, grown when every singular value in it survives the
//! threshold, and capped at `max_rank` (the rank-restricted variant: beyond the cap, smaller
//! singular values are dropped).

use super::hard_impute::check_iters;
use super::lowrank::{Filled, OVERSAMPLE};
use super::{BaselineError, Control, PathFit, check_problem};
use crate::model::Problem;

/// Limits of SoftImpute.
#[derive(Clone, Debug, PartialEq)]
pub struct SoftImputeOptions {
    /// Largest rank of a fit (min(N, D) when smaller).
    pub max_rank: usize,
    /// Most iterations per lambda.
    pub max_iters: usize,
    /// Stop when the missing entries change by less than this, relative to their norm.
    pub tol: f64,
    /// Seed of the random starting basis.
    pub seed: u64,
}

impl Default for SoftImputeOptions {
    fn default() -> Self {
        SoftImputeOptions {
            max_rank: 100,
            max_iters: 100,
            tol: 1e-4,
            seed: 0,
        }
    }
}

/// A point of the path, for callers that collect them.
pub type SoftImputePoint = PathFit;

/// The largest singular value of the centred, zero-filled observed data: the smallest lambda
/// for which SoftImpute's answer is the column means alone.
pub fn lambda_max(problem: &Problem, seed: u64) -> Result<f64, BaselineError> {
    check_problem(problem)?;
    let mut filled = Filled::new(problem, seed)?;
    let mut top = 0.0;
    // A shrink to zero leaves the missing entries at 0: plain power iteration on P_obs(X).
    for _ in 0..30 {
        let step = filled.step(1 + OVERSAMPLE, |s| vec![0.0; s.len()]);
        let next = step.singular.first().copied().unwrap_or(0.0);
        if (next - top).abs() <= 1e-6 * next {
            return Ok(next);
        }
        top = next;
    }
    Ok(top)
}

/// `count` values from just below `lambda_max` down to `lambda_max * min_ratio`, evenly
/// spaced in log scale, decreasing.
pub fn lambda_path(lambda_max: f64, count: usize, min_ratio: f64) -> Vec<f64> {
    let top = 0.95 * lambda_max;
    let bottom = lambda_max * min_ratio;
    if count <= 1 {
        return vec![bottom];
    }
    (0..count)
        .map(|i| {
            let t = i as f64 / (count - 1) as f64;
            (top.ln() * (1.0 - t) + bottom.ln() * t).exp()
        })
        .collect()
}

/// SoftImpute for each lambda of `lambdas` in turn (decreasing order is best: each fit
/// starts from the previous one); `visit` gets each fit and its completed data (N x D
/// row-major) as soon as it is done.
pub fn soft_impute_path(
    problem: &Problem,
    lambdas: &[f64],
    options: &SoftImputeOptions,
    control: Control,
    mut visit: impl FnMut(&PathFit, Vec<f32>),
) -> Result<(), BaselineError> {
    for &l in lambdas {
        if !(l.is_finite() && l >= 0.0) {
            return Err(BaselineError::InvalidParameter {
                name: "lambda",
                value: l,
                requirement: "finite and not negative",
            });
        }
    }
    if options.max_rank == 0 {
        return Err(BaselineError::InvalidParameter {
            name: "max_rank",
            value: 0.0,
            requirement: "at least 1",
        });
    }
    // No fit has a rank above min(N, D).
    let cap = options.max_rank.min(problem.n).min(problem.d);
    check_iters(options.max_iters, options.tol)?;
    let mut filled = Filled::new(problem, options.seed)?;
    let total = lambdas.len() * options.max_iters;
    let mut rank = 0usize;
    for (index, &lambda) in lambdas.iter().enumerate() {
        let mut iterations = 0;
        let mut converged = false;
        while iterations < options.max_iters {
            control.check()?;
            let k = (rank + OVERSAMPLE).min(cap + OVERSAMPLE);
            let step = filled.step(k, |s| {
                s.iter()
                    .enumerate()
                    .map(|(c, &v)| if c < cap { (v - lambda).max(0.0) } else { 0.0 })
                    .collect()
            });
            rank = step.rank;
            iterations += 1;
            control.report(
                "soft-impute",
                index * options.max_iters + iterations,
                total,
                format!(
                    "lambda = {lambda:.4}, rank {rank}, change {:.1e}",
                    step.change
                ),
            );
            if step.change < options.tol {
                converged = true;
                break;
            }
        }
        let fit = PathFit {
            index,
            param: lambda,
            rank,
            iterations,
            converged,
        };
        visit(&fit, filled.completed(problem));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baselines::test_util::{low_rank_problem, poisoned};
    use crate::baselines::{column_mean_impute, rmse_on};

    fn path(
        problem: &Problem,
        lambdas: &[f64],
        options: &SoftImputeOptions,
    ) -> Vec<(PathFit, Vec<f32>)> {
        let mut out = Vec::new();
        soft_impute_path(problem, lambdas, options, Control::none(), |f, c| {
            out.push((f.clone(), c))
        })
        .unwrap();
        out
    }

    #[test]
    fn soft_impute_recovers_a_low_rank_matrix_with_missing_entries() {
        let (problem, truth) = low_rank_problem(80, 30, 3, 0.2, 7);
        let top = lambda_max(&problem, 0).unwrap();
        let options = SoftImputeOptions {
            max_rank: 10,
            max_iters: 1000,
            tol: 1e-7,
            seed: 3,
        };
        let lambdas = lambda_path(top, 8, 1e-4);
        let fits = path(&problem, &lambdas, &options);
        assert_eq!(fits.len(), 8);
        let mean_rmse = rmse_on(
            &column_mean_impute(&problem).unwrap(),
            &truth,
            &problem.missing,
        )
        .unwrap();
        let rmse: Vec<f64> = fits
            .iter()
            .map(|(_, c)| rmse_on(c, &truth, &problem.missing).unwrap())
            .collect();
        // Near lambda_max almost everything is shrunk away; at a small lambda the low-rank
        // matrix is recovered up to the shrinkage bias.
        assert!(rmse[0] > 0.5 * mean_rmse, "{rmse:?} vs {mean_rmse}");
        let last = *rmse.last().unwrap();
        assert!(
            last < 1e-2 * mean_rmse,
            "{rmse:?} vs column means {mean_rmse}"
        );
        let (fit, _) = fits.last().unwrap();
        assert!((3..=5).contains(&fit.rank), "{fit:?}");
        // Ranks grow as lambda falls.
        assert!(fits.windows(2).all(|w| w[0].0.rank <= w[1].0.rank));
        // A lambda above lambda_max gives the column means.
        let above = path(&problem, &[top * 1.01], &options);
        let means = column_mean_impute(&problem).unwrap();
        let gap = above[0]
            .1
            .iter()
            .zip(&means)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(gap < 1e-3, "{gap}");
    }

    #[test]
    fn soft_impute_never_reads_the_values_at_missing_entries() {
        let (problem, _) = low_rank_problem(30, 12, 2, 0.3, 5);
        let o = SoftImputeOptions {
            max_rank: 6,
            ..SoftImputeOptions::default()
        };
        let a = path(&problem, &[50.0, 5.0], &o);
        let b = path(&poisoned(&problem), &[50.0, 5.0], &o);
        assert_eq!(a, b);
        assert!(lambda_max(&problem, 0).unwrap() == lambda_max(&poisoned(&problem), 0).unwrap());
    }

    #[test]
    fn lambda_path_decreases_geometrically() {
        let p = lambda_path(100.0, 3, 0.01);
        assert_eq!(p.len(), 3);
        assert!((p[0] - 95.0).abs() < 1e-9 && (p[2] - 1.0).abs() < 1e-9);
        assert!((p[1] - (95.0f64).sqrt()).abs() < 1e-9);
    }
}
