//! The scalar quantities every chain records at every sweep (all of them kept: a few
//! numbers a sweep), and how the watched pixels are chosen.
//!
//! Factors are identified only up to rotation and sign, so a raw loading W[d, 0] wanders
//! differently in every chain even when the chains agree; it is recorded (for the rotation
//! demo) but never diagnosed. (W W^T)[d, d] = ||w_d||^2 is rotation-invariant and is.

use crate::model::GibbsSampler;

/// One scalar recorded at every sweep of every chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quantity {
    /// The log joint probability (SPEC 6).
    LogJoint,
    /// RMSE of the sweep's X_miss sample on the masked entries (only with the truth).
    RmseSample,
    /// Mean over pixels of sigma_d^2.
    SigmasqMean,
    /// sigma_d^2 of one pixel.
    Sigmasq { pixel: usize },
    /// The imputed value of one missing pixel (entry `entry` of the missing index).
    Imputed {
        image: usize,
        pixel: usize,
        entry: usize,
    },
    /// (W W^T)[d, d], rotation-invariant.
    LoadingNorm { pixel: usize },
    /// The raw loading W[d, 0]: not identified (rotation, sign), never diagnosed.
    RawLoading { pixel: usize },
}

impl Quantity {
    /// The column name in `draws.csv` and the key in `diagnostics.json`.
    pub fn name(&self) -> String {
        match *self {
            Quantity::LogJoint => "log_joint".into(),
            Quantity::RmseSample => "rmse_sample".into(),
            Quantity::SigmasqMean => "sigmasq_mean".into(),
            Quantity::Sigmasq { pixel } => format!("sigmasq_{pixel}"),
            Quantity::Imputed { image, pixel, .. } => format!("x_{image}_{pixel}"),
            Quantity::LoadingNorm { pixel } => format!("wwt_{pixel}_{pixel}"),
            Quantity::RawLoading { pixel } => format!("w_{pixel}_0"),
        }
    }

    /// False for quantities that are not identified (raw loadings).
    pub fn diagnosed(&self) -> bool {
        !matches!(self, Quantity::RawLoading { .. })
    }

    /// The quantity's value in the sampler's current state (`rmse` is the sweep's RMSE).
    pub fn value(&self, sampler: &GibbsSampler, log_joint: f64, rmse: Option<f64>) -> f64 {
        match *self {
            Quantity::LogJoint => log_joint,
            Quantity::RmseSample => rmse.unwrap_or(f64::NAN),
            Quantity::SigmasqMean => {
                let s = sampler.sigmasq();
                s.iter().map(|&v| v as f64).sum::<f64>() / s.len().max(1) as f64
            }
            Quantity::Sigmasq { pixel } => sampler.sigmasq()[pixel] as f64,
            Quantity::Imputed { image, pixel, .. } => sampler.state().x_at(image, pixel) as f64,
            Quantity::LoadingNorm { pixel } => {
                let w = sampler.w();
                w.row(pixel).iter().map(|&v| (v as f64).powi(2)).sum()
            }
            Quantity::RawLoading { pixel } => sampler.w()[(pixel, 0)] as f64,
        }
    }
}

/// The quantities of a run: log joint, RMSE (with the truth), mean sigma^2, then for each
/// watched pixel its sigma_d^2, one imputed value in its column (the first image missing
/// it, if any), (W W^T)[d, d] and W[d, 0].
pub fn quantities(sampler: &GibbsSampler, has_truth: bool, pixels: &[usize]) -> Vec<Quantity> {
    let mut out = vec![Quantity::LogJoint];
    if has_truth {
        out.push(Quantity::RmseSample);
    }
    out.push(Quantity::SigmasqMean);
    let missing = sampler.state().missing();
    let d = sampler.sigmasq().len();
    let pixels: Vec<usize> = pixels.iter().copied().filter(|&p| p < d).collect();
    out.extend(pixels.iter().map(|&pixel| Quantity::Sigmasq { pixel }));
    for &pixel in &pixels {
        if let Some((entry, image)) = missing.column_entries(pixel).next() {
            out.push(Quantity::Imputed {
                image: image as usize,
                pixel,
                entry,
            });
        }
    }
    out.extend(pixels.iter().map(|&pixel| Quantity::LoadingNorm { pixel }));
    out.extend(pixels.iter().map(|&pixel| Quantity::RawLoading { pixel }));
    out
}

/// Default watched pixels: the pixels ranked first, at a quarter and at half of the pixels
/// by observed column variance (the notebook's initial sigma^2), so the watched pixels lie
/// in the digit, not in the always-dark border. Distinct, at most 3.
pub fn default_pixels(initial_sigmasq: &[f32]) -> Vec<usize> {
    let d = initial_sigmasq.len();
    let mut order: Vec<usize> = (0..d).collect();
    order.sort_by(|&a, &b| {
        initial_sigmasq[b]
            .total_cmp(&initial_sigmasq[a])
            .then(a.cmp(&b))
    });
    let mut out: Vec<usize> = Vec::new();
    for rank in [0, d / 4, d / 2] {
        if let Some(&p) = order.get(rank)
            && !out.contains(&p)
        {
            out.push(p);
        }
    }
    out
}
