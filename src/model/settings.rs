//! Hyperparameters, the prior on W, the sweep schedule and the run length (SPEC 4, 5, 8, 9).

use super::ModelError;
use serde::{Deserialize, Serialize};

/// Largest number of factors accepted (a D x M loading matrix beyond this is not a teaching tool).
pub const MAX_FACTORS: usize = 1024;

/// Smallest and largest value accepted for nu0, sigma0^2, kappa0, lambda0, tau0.
pub const HYPER_RANGE: (f64, f64) = (1e-12, 1e12);

/// The model's hyperparameters: M factors and eta = (nu0, sigma0^2, kappa0, lambda0) of SPEC 4.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hyperparameters {
    /// Number of latent factors M.
    pub m: usize,
    /// Prior degrees of freedom of each sigma_d^2.
    pub nu0: f64,
    /// Prior scale of each sigma_d^2.
    pub sigmasq0: f64,
    /// Prior precision (relative to sigma_d^2) of each row of W under the isotropic prior.
    pub kappa0: f64,
    /// Prior precision (relative to sigma_d^2) of each mu_d.
    pub lambda0: f64,
}

impl Default for Hyperparameters {
    /// The SPEC defaults: M = 50, nu0 = 1.1, sigma0^2 = 10, kappa0 = lambda0 = 0.01.
    fn default() -> Self {
        Hyperparameters {
            m: 50,
            nu0: 1.1,
            sigmasq0: 10.0,
            kappa0: 0.01,
            lambda0: 0.01,
        }
    }
}

/// Column covariance Sigma_c of the matrix-normal prior on W (SPEC 8): rows
/// w_d ~ N(0, sigma_d^2 Sigma_c).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub enum Prior {
    /// Sigma_c = kappa0^-1 I: the model of SPEC 4.
    #[default]
    Isotropic,
    /// Sigma_c = diag(tau0 rho^m), m = 0..M-1: later factors are shrunk harder, which orders them.
    Decaying { tau0: f64, rho: f64 },
}

impl Prior {
    /// The diagonal of Sigma_c^-1 (length M), in f64.
    pub fn column_precision(&self, hyper: &Hyperparameters) -> Vec<f64> {
        self.column_precision_counted(hyper).0
    }

    /// The diagonal of Sigma_c^-1 and how many of its entries were clamped to
    /// [`HYPER_RANGE`] (the decaying prior at large M or small rho): a clamped column has a
    /// different prior than asked for, which the sampler reports as a fallback.
    pub fn column_precision_counted(&self, hyper: &Hyperparameters) -> (Vec<f64>, usize) {
        let precision = self.column_precision_unclamped(hyper);
        let clamped = precision
            .iter()
            .filter(|p| !(**p >= HYPER_RANGE.0 && **p <= HYPER_RANGE.1))
            .count();
        let precision = precision
            .into_iter()
            .map(|p| {
                if p.is_nan() {
                    HYPER_RANGE.1
                } else {
                    p.clamp(HYPER_RANGE.0, HYPER_RANGE.1)
                }
            })
            .collect();
        (precision, clamped)
    }

    fn column_precision_unclamped(&self, hyper: &Hyperparameters) -> Vec<f64> {
        match *self {
            Prior::Isotropic => vec![hyper.kappa0; hyper.m],
            Prior::Decaying { tau0, rho } => {
                // Computed in logs so that rho^m for large M neither underflows nor overflows
                // to a non-finite precision; the caller clamps to the accepted range.
                (0..hyper.m)
                    .map(|m| {
                        let log_var = tau0.ln() + m as f64 * rho.ln();
                        (-log_var).exp()
                    })
                    .collect()
            }
        }
    }

    /// Checks tau0 > 0 and 0 < rho <= 1 (finite, within [`HYPER_RANGE`]).
    pub fn validate(&self) -> Result<(), ModelError> {
        match *self {
            Prior::Isotropic => Ok(()),
            Prior::Decaying { tau0, rho } => {
                check_positive("tau0", tau0)?;
                if !(rho.is_finite() && rho > 0.0 && rho <= 1.0) {
                    return Err(ModelError::InvalidHyperparameter {
                        name: "rho",
                        value: rho,
                        requirement: "in (0, 1]",
                    });
                }
                Ok(())
            }
        }
    }
}

/// The order of the updates in one sweep.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Schedule {
    /// The notebook's order (SPEC 5): Z, W, mu, sigma^2, X_miss.
    #[default]
    Notebook,
    /// Z, then the blocked conjugate (w_d, mu_d, sigma_d^2) step of SPEC 9, then X_miss.
    Blocked,
}

/// Everything that defines a run of the sampler.
///
/// Takes effect at the next sweep of a running sampler: nu0, sigma0^2, kappa0, lambda0
/// ([`super::GibbsSampler::set_hyperparameters`] with the same M), the prior
/// ([`super::GibbsSampler::set_prior`]), the schedule and the run length. Needs a new sampler:
/// M, the data, the masks, the noise added to the data, and the seed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SamplerSettings {
    pub hyper: Hyperparameters,
    pub prior: Prior,
    pub schedule: Schedule,
    /// Starts each sweep with the recentring move ([`super::recentre`]): a draw along the
    /// mu / z-bar ridge that the conditionals of SPEC 5 cross slowly. Off by default (SPEC's
    /// sampler); the same stationary distribution either way.
    #[serde(default)]
    pub recentre: bool,
    /// Number of sweeps of a full run (the sampler itself can sweep on past it).
    pub sweeps: usize,
    /// Sweeps discarded before running moments start (counted again after a change of target).
    pub burn_in: usize,
    /// Master seed: with the same problem and settings, the same numbers on any thread count.
    pub seed: u64,
}

impl Default for SamplerSettings {
    /// SPEC defaults: 200 sweeps, posterior summaries over the second half, notebook schedule.
    fn default() -> Self {
        SamplerSettings {
            hyper: Hyperparameters::default(),
            prior: Prior::Isotropic,
            schedule: Schedule::Notebook,
            recentre: false,
            sweeps: 200,
            burn_in: 100,
            seed: 0,
        }
    }
}

fn check_positive(name: &'static str, value: f64) -> Result<(), ModelError> {
    if value.is_finite() && value >= HYPER_RANGE.0 && value <= HYPER_RANGE.1 {
        Ok(())
    } else {
        Err(ModelError::InvalidHyperparameter {
            name,
            value,
            requirement: "finite and between 1e-12 and 1e12",
        })
    }
}

impl Hyperparameters {
    /// Checks 1 <= M <= [`MAX_FACTORS`] and that nu0, sigma0^2, kappa0, lambda0 are in
    /// [`HYPER_RANGE`].
    pub fn validate(&self) -> Result<(), ModelError> {
        if self.m == 0 || self.m > MAX_FACTORS {
            return Err(ModelError::InvalidHyperparameter {
                name: "M",
                value: self.m as f64,
                requirement: "between 1 and 1024",
            });
        }
        check_positive("nu0", self.nu0)?;
        check_positive("sigma0^2", self.sigmasq0)?;
        check_positive("kappa0", self.kappa0)?;
        check_positive("lambda0", self.lambda0)?;
        Ok(())
    }
}

/// Checks sweeps >= 1 and burn_in < sweeps, so a full run ends with posterior summaries.
pub fn validate_run_length(sweeps: usize, burn_in: usize) -> Result<(), ModelError> {
    if sweeps == 0 {
        return Err(ModelError::InvalidRunLength {
            sweeps,
            burn_in,
            reason: "at least one sweep is needed",
        });
    }
    if burn_in >= sweeps {
        return Err(ModelError::InvalidRunLength {
            sweeps,
            burn_in,
            reason: "the burn-in must be shorter than the run",
        });
    }
    Ok(())
}

impl SamplerSettings {
    /// Checks the settings for a problem of `n` images of `d` pixels: hyperparameters, prior,
    /// run length, and that N x D x M is not absurdly large.
    pub fn validate(&self, n: usize, d: usize) -> Result<(), ModelError> {
        self.hyper.validate()?;
        self.prior.validate()?;
        validate_run_length(self.sweeps, self.burn_in)?;
        if n == 0 || d == 0 {
            return Err(ModelError::EmptyProblem { n, d });
        }
        let m = self.hyper.m;
        // The sampler keeps a few N x D and N x M matrices of f32; refuse beyond ~2^32 values.
        let too_large = n
            .checked_mul(d)
            .and_then(|nd| nd.checked_add(n.checked_mul(m)?))
            .is_none_or(|total| total > (1usize << 32));
        if too_large {
            return Err(ModelError::TooLarge { n, d, m });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Settings saved before the recentring move existed (sessions, the app's stored state)
    /// read back with it off, the sampler they described.
    #[test]
    fn settings_saved_without_the_recentring_move_read_back_without_it() {
        let mut json = serde_json::to_value(SamplerSettings::default()).unwrap();
        json.as_object_mut()
            .unwrap()
            .remove("recentre")
            .expect("the field is written");
        let back: SamplerSettings = serde_json::from_value(json).unwrap();
        assert_eq!(back, SamplerSettings::default());
        let on = SamplerSettings {
            recentre: true,
            ..SamplerSettings::default()
        };
        let again: SamplerSettings =
            serde_json::from_str(&serde_json::to_string(&on).unwrap()).unwrap();
        assert!(again.recentre);
    }
}
