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
    /// Numerical fallbacks the sweep needed (all zero in a healthy run).
    pub fallbacks: Fallbacks,
}

/// Seconds spent in each step of one sweep. Under either schedule W, mu and sigma^2 are drawn
/// in one step (the notebook's three conditionals block by block of pixels, or the blocked
/// step), counted in `w`; `mu` and `sigmasq` are 0 (kept for older records and other callers).
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

/// How often the sampler had to bend its numerics in one sweep (or, summed, in a run). Each
/// fallback means the chain sampled something slightly other than the model for a moment; a
/// healthy run reports zero everywhere. Counted by the conditionals, carried by every
/// [`SweepRecord`] (so the sampler thread's `Event::Sweep` surfaces it) and written by the CLI
/// to `summary.json` as `fallbacks: {kind: count}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Fallbacks {
    /// A shared M x M precision (SPD in exact arithmetic) failed its Cholesky factorisation
    /// through rounding and was factored after adding a small jitter to its diagonal.
    pub cholesky_jitter: u64,
    /// A shared precision could not be factored even with the largest jitter (non-finite
    /// entries): the identity was used for that step.
    pub cholesky_identity: u64,
    /// The sigma^2 Gamma distribution could not be built; the conditional's mode was used.
    pub sigmasq_mode: u64,
    /// A sigma^2 draw fell outside [`super::SIGMASQ_RANGE`] (or was not finite) and was clamped.
    pub sigmasq_clamped: u64,
    /// Columns whose decaying-prior precision 1 / (tau0 rho^m) fell outside
    /// [`super::HYPER_RANGE`] and was clamped to it (counted once per sweep).
    pub prior_precision_clamped: u64,
    /// Missing entries whose true value was not found when a mask changed; scored against 0.
    pub truth_missing: u64,
    /// A column's residual sum of squares, formed from sufficient statistics, came out
    /// negative through rounding (a column the model fits exactly) and was set to 0.
    pub residual_clamped: u64,
}

impl Fallbacks {
    /// Every kind with its count, in a fixed order (the keys of `summary.json`).
    pub fn counts(&self) -> [(&'static str, u64); 7] {
        [
            ("cholesky_jitter", self.cholesky_jitter),
            ("cholesky_identity", self.cholesky_identity),
            ("sigmasq_mode", self.sigmasq_mode),
            ("sigmasq_clamped", self.sigmasq_clamped),
            ("prior_precision_clamped", self.prior_precision_clamped),
            ("truth_missing", self.truth_missing),
            ("residual_clamped", self.residual_clamped),
        ]
    }

    /// Sum over all kinds (0 for a healthy sweep or run).
    pub fn total(&self) -> u64 {
        self.counts().iter().map(|(_, c)| c).sum()
    }

    /// Adds another sweep's counts (for run totals).
    pub fn add(&mut self, other: &Fallbacks) {
        self.cholesky_jitter += other.cholesky_jitter;
        self.cholesky_identity += other.cholesky_identity;
        self.sigmasq_mode += other.sigmasq_mode;
        self.sigmasq_clamped += other.sigmasq_clamped;
        self.prior_precision_clamped += other.prior_precision_clamped;
        self.truth_missing += other.truth_missing;
        self.residual_clamped += other.residual_clamped;
    }

    /// One line for a status bar: "no numerical fallbacks" or e.g.
    /// "numerical fallbacks: 3 sigma^2 draws clamped, 1 Cholesky with jitter".
    pub fn describe(&self) -> String {
        let words = [
            (
                self.cholesky_jitter,
                "Cholesky with jitter",
                "Choleskys with jitter",
            ),
            (
                self.cholesky_identity,
                "Cholesky replaced by the identity",
                "Choleskys replaced by the identity",
            ),
            (
                self.sigmasq_mode,
                "sigma^2 set to its mode",
                "sigma^2 values set to their mode",
            ),
            (
                self.sigmasq_clamped,
                "sigma^2 draw clamped",
                "sigma^2 draws clamped",
            ),
            (
                self.prior_precision_clamped,
                "prior precision clamped",
                "prior precisions clamped",
            ),
            (
                self.truth_missing,
                "true value missing",
                "true values missing",
            ),
            (
                self.residual_clamped,
                "residual sum clamped to 0",
                "residual sums clamped to 0",
            ),
        ];
        let parts: Vec<String> = words
            .iter()
            .filter(|(c, _, _)| *c > 0)
            .map(|(c, one, many)| format!("{c} {}", if *c == 1 { one } else { many }))
            .collect();
        if parts.is_empty() {
            "no numerical fallbacks".into()
        } else {
            format!("numerical fallbacks: {}", parts.join(", "))
        }
    }
}
