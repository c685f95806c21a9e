//! Column-mean imputation: every missing pixel gets the mean of its column's observed values.
//! The sampler's initial state (SPEC 5) is exactly this, so the means come from
//! [`crate::model::init::initialise`], with its fallbacks for columns with no observed entry.

use super::{BaselineError, check_problem, without_truth};
use crate::model::Problem;
use crate::model::init::initialise;

/// Observed column means (length D); a column with no observed entry gets the mean of all
/// observed entries, as the sampler's initialisation does.
pub fn column_means(problem: &Problem) -> Result<Vec<f32>, BaselineError> {
    check_problem(problem)?;
    // The initialisation validates x_true too, which imputers never read: leave it out.
    let state = initialise(&without_truth(problem), 1, 0)?;
    Ok(state.mu().to_vec())
}

/// The completed data (N x D row-major) with each missing entry at its column mean.
pub fn column_mean_impute(problem: &Problem) -> Result<Vec<f32>, BaselineError> {
    let means = column_means(problem)?;
    Ok(fill_with(problem, &means))
}

/// Observed entries as given, missing entries at `values[column]`.
pub(crate) fn fill_with(problem: &Problem, values: &[f32]) -> Vec<f32> {
    let d = problem.d;
    problem
        .x_observed
        .iter()
        .zip(&problem.missing)
        .enumerate()
        .map(|(k, (&x, &m))| if m { values[k % d] } else { x })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baselines::test_util::poisoned;

    #[test]
    fn column_means_fill_each_column_with_its_observed_mean() {
        let nan = f32::NAN;
        let problem = Problem {
            n: 3,
            d: 3,
            x_observed: vec![1.0, nan, nan, 3.0, 4.0, nan, nan, 8.0, nan],
            missing: vec![false, true, true, false, false, true, true, false, true],
            x_true: None,
        };
        let out = column_mean_impute(&problem).unwrap();
        // Column 2 has nothing observed: the mean of all observed values, (1+3+4+8)/4 = 4.
        assert_eq!(out, vec![1.0, 6.0, 4.0, 3.0, 4.0, 4.0, 2.0, 8.0, 4.0]);
        assert_eq!(column_mean_impute(&poisoned(&problem)).unwrap(), out);
    }
}
