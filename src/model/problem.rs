//! The input of the sampler: observed data, the mask of missing pixels, and the truth if known.

use super::ModelError;

/// Observed data, its mask and (when known) the true values, for RMSE. Row-major N x D, f32.
///
/// Values of `x_observed` at missing entries are ignored (they may be NaN or 255).
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    /// Number of images N.
    pub n: usize,
    /// Pixels per image D.
    pub d: usize,
    /// N x D row-major; only the entries with `missing == false` are read.
    pub x_observed: Vec<f32>,
    /// N x D row-major, true = missing.
    pub missing: Vec<bool>,
    /// N x D row-major true values (the noisy X_true of SPEC 1), for RMSE on missing entries.
    pub x_true: Option<Vec<f32>>,
}

/// So that a thread can be handed a problem to own or a shared owner of one (an
/// `Arc<Experiment>`): building a sampler needs only a reference.
impl AsRef<Problem> for Problem {
    fn as_ref(&self) -> &Problem {
        self
    }
}

impl Problem {
    /// Checks shapes and that every observed value (and every true value) is finite.
    pub fn validate(&self) -> Result<(), ModelError> {
        if self.n == 0 || self.d == 0 {
            return Err(ModelError::EmptyProblem {
                n: self.n,
                d: self.d,
            });
        }
        let total = self.n.checked_mul(self.d).ok_or(ModelError::TooLarge {
            n: self.n,
            d: self.d,
            m: 0,
        })?;
        check_len("x_observed", total, self.x_observed.len())?;
        check_len("missing", total, self.missing.len())?;
        if let Some(t) = &self.x_true {
            check_len("x_true", total, t.len())?;
        }
        // A branch-free scan first (it vectorises; a branch on each random missing flag was
        // mispredicted often enough to dominate), the entry-by-entry check only to name a
        // bad entry.
        let out_of_range = |x: f32| !x.is_finite() | (x.abs() > MAX_ABS_VALUE);
        let observed_bad = self
            .x_observed
            .iter()
            .zip(&self.missing)
            .fold(false, |bad, (&x, &miss)| bad | (!miss & out_of_range(x)));
        if observed_bad {
            for (k, (&x, &miss)) in self.x_observed.iter().zip(&self.missing).enumerate() {
                if !miss {
                    check_value("observed data", x, k, self.d)?;
                }
            }
        }
        if let Some(t) = &self.x_true
            && t.iter().fold(false, |bad, &x| bad | out_of_range(x))
        {
            for (k, &x) in t.iter().enumerate() {
                check_value("true data", x, k, self.d)?;
            }
        }
        Ok(())
    }

    /// Fraction of entries that are missing.
    pub fn missing_fraction(&self) -> f64 {
        if self.missing.is_empty() {
            return 0.0;
        }
        self.missing.iter().filter(|&&m| m).count() as f64 / self.missing.len() as f64
    }
}

/// Largest magnitude accepted for a data value: squares and sums of squares stay far from
/// the f32 limit (3.4e38).
pub const MAX_ABS_VALUE: f32 = 1e12;

/// Checks that entry k (row-major, `d` columns) is finite and within [`MAX_ABS_VALUE`].
pub(crate) fn check_value(
    what: &'static str,
    x: f32,
    k: usize,
    d: usize,
) -> Result<(), ModelError> {
    // (The position is worked out only for the error: two integer divisions per entry were
    // most of the time of validating a problem.)
    if !x.is_finite() {
        let (row, col) = (k / d, k % d);
        return Err(ModelError::NonFiniteInput { what, row, col });
    }
    if x.abs() > MAX_ABS_VALUE {
        let (row, col) = (k / d, k % d);
        return Err(ModelError::ValueTooLarge {
            what,
            value: x as f64,
            row,
            col,
        });
    }
    Ok(())
}

fn check_len(what: &'static str, expected: usize, got: usize) -> Result<(), ModelError> {
    if expected == got {
        Ok(())
    } else {
        Err(ModelError::ShapeMismatch {
            what,
            expected,
            got,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scan names the first bad entry by row and column, skips missing entries, and
    /// checks the truth (infinite, NaN and too large values alike).
    #[test]
    fn validation_names_the_bad_entry() {
        let (n, d) = (4, 5);
        let good = || Problem {
            n,
            d,
            x_observed: (0..n * d).map(|k| k as f32).collect(),
            missing: (0..n * d).map(|k| k % 3 == 0).collect(),
            x_true: Some((0..n * d).map(|k| k as f32).collect()),
        };
        assert!(good().validate().is_ok());
        // A NaN where the entry is missing is no error.
        let mut p = good();
        p.x_observed[3] = f32::NAN;
        assert!(p.validate().is_ok());
        let mut p = good();
        p.x_observed[2 * d + 4] = f32::INFINITY;
        p.x_observed[3 * d + 1] = f32::NAN;
        assert!(matches!(
            p.validate(),
            Err(ModelError::NonFiniteInput { row: 2, col: 4, .. })
        ));
        let mut p = good();
        p.x_true.as_mut().unwrap()[d + 2] = 2.0 * MAX_ABS_VALUE;
        assert!(matches!(
            p.validate(),
            Err(ModelError::ValueTooLarge { row: 1, col: 2, .. })
        ));
    }
}
