//! What a sweep reports and what the sampler summarises: traces, image summaries, moments.

/// The scalar outcome of one sweep.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepRecord {
    /// 1-based number of this sweep since the sampler was built.
    pub iter: usize,
    /// Log joint probability of SPEC 6 after the sweep (X includes the new X_miss sample).
    pub log_joint: f64,
    /// RMSE of this sweep's X_miss sample on the masked entries (None without truth or mask).
    pub rmse_sample: Option<f64>,
    /// RMSE of the running posterior mean on the masked entries (the current sample during
    /// burn-in).
    pub rmse_posterior_mean: Option<f64>,
    /// Wall-clock seconds of the whole sweep, log joint and moments included.
    pub seconds: f64,
    /// Wall-clock seconds of each step of the sweep.
    pub steps: StepTimes,
}

/// Seconds spent in each step of one sweep. Under the blocked schedule the blocked
/// (w, mu, sigma^2) step is counted in `w` and `mu`, `sigmasq` are 0; there the product
/// Z W^T (which the notebook schedule computes in its sigma^2 step) is counted in `x_missing`.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct StepTimes {
    pub z: f64,
    pub w: f64,
    pub mu: f64,
    pub sigmasq: f64,
    pub x_missing: f64,
    pub log_joint: f64,
    /// Running moments and RMSE.
    pub moments: f64,
}

/// The scalar traces of a run, one value per sweep (RMSE traces empty without truth or mask).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Traces {
    pub log_joint: Vec<f64>,
    pub rmse_sample: Vec<f64>,
    pub rmse_posterior_mean: Vec<f64>,
    pub seconds: Vec<f64>,
}

/// Posterior mean and standard deviation of a vector parameter (mu or sigma^2).
///
/// Before burn-in ends (no samples in the moments) the mean is the current sample and the
/// standard deviation is 0.
#[derive(Clone, Debug, PartialEq)]
pub struct MeanStd {
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
}

/// One image as the sampler sees it: the current sample, posterior mean and std (length D).
///
/// Observed pixels are copied into `current` and `posterior_mean`, with std 0 there. Before
/// burn-in ends the posterior mean is the current sample and the std is 0.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageSummary {
    pub index: usize,
    pub current: Vec<f32>,
    pub posterior_mean: Vec<f32>,
    pub posterior_std: Vec<f32>,
    /// RMSE of the posterior mean on this image's missing pixels (None without truth or mask).
    pub rmse: Option<f64>,
}
