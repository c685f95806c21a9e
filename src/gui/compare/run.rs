//! The comparison job: what the app compares (its settings, from the chain's model settings
//! and the view's options) and the work function that runs every method of
//! [`crate::baselines::validation::compare`] on the chain's data and masks, one method after
//! another, reporting progress per method and stopping when cancelled.
//!
//! Threads: [`settings_for`] runs on the UI thread (cheap); [`run_comparison`] runs on the
//! job's own thread and blocks it for the whole comparison (seconds on small data, minutes at
//! N = 10,000). It copies the experiment's problem first and drops its `Arc` at once, so a
//! painted mask is never held up waiting for the comparison.

use std::sync::Arc;

use crate::baselines::validation::{CompareSettings, Comparison, compare};
use crate::baselines::{Control, HardImputeOptions, SoftImputeOptions};
use crate::experiment::Experiment;
use crate::model::SamplerSettings;

use super::super::job::Progress;

/// What the user can change in the view before running a comparison.
#[derive(Clone, Debug, PartialEq)]
pub struct CompareOptions {
    /// Share of the observed pixels held out to choose each method's size, in percent.
    pub holdout_percent: f64,
    /// Whether the mixture of factor analysers runs, with K components, M factors each and
    /// `mfa_sweeps` sweeps.
    pub mixture: bool,
    pub mfa_k: usize,
    pub mfa_m: usize,
    pub mfa_sweeps: usize,
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions {
            holdout_percent: 5.0,
            mixture: true,
            mfa_k: 10,
            mfa_m: 20,
            mfa_sweeps: 50,
        }
    }
}

/// The comparison the app runs: `gibbs-fa compare`'s default grids (factor analysis at M =
/// 10, 20 and the chain's M, with the chain's sweeps, hyperparameters and seed), the view's
/// held-out share and mixture, and the completed rows of `keep_rows` kept for the pictures.
pub fn settings_for(
    model: &SamplerSettings,
    options: &CompareOptions,
    keep_rows: Vec<usize>,
) -> Result<CompareSettings, String> {
    let share = options.holdout_percent / 100.0;
    if !(share.is_finite() && share > 0.0 && share < 0.5) {
        return Err(format!(
            "the held-out share must be between 0 and 50%, not {}%",
            options.holdout_percent
        ));
    }
    if options.mixture && (options.mfa_k == 0 || options.mfa_m == 0 || options.mfa_sweeps < 2) {
        return Err("the mixture needs K >= 1, M >= 1 and at least 2 sweeps".into());
    }
    Ok(CompareSettings {
        holdout_share: share,
        holdout_seed: model.seed,
        hard: HardImputeOptions {
            seed: model.seed,
            ..HardImputeOptions::default()
        },
        soft: SoftImputeOptions {
            seed: model.seed,
            ..SoftImputeOptions::default()
        },
        fa_m: CompareSettings::default_fa_grid(model.hyper.m),
        fa: model.clone(),
        mfa: if options.mixture {
            vec![(options.mfa_k, options.mfa_m)]
        } else {
            Vec::new()
        },
        mfa_sweeps: options.mfa_sweeps,
        keep_rows,
        ..CompareSettings::default()
    })
}

/// What a finished comparison hands to the view.
pub struct Finished {
    pub comparison: Comparison,
    /// The images kept (their completed rows are in each entry's `rows`).
    pub images: Vec<usize>,
    /// Their true values and masks (images x D), for the first columns of the pictures.
    pub truth: Vec<f32>,
    pub masks: Vec<bool>,
    pub height: usize,
    pub width: usize,
    /// Wall time of the whole comparison.
    pub seconds: f64,
}

/// Runs the comparison of `settings` on `experiment` (see the module docs).
pub fn run_comparison(
    experiment: Arc<Experiment>,
    settings: &CompareSettings,
    progress: &Progress<Finished>,
) -> Result<Finished, String> {
    let started = std::time::Instant::now();
    let methods = settings.methods();
    progress.report(
        Some(0.0),
        format!("{} (1 of {}): copying the data", methods[0], methods.len()),
    );
    let problem = experiment.problem.clone();
    let (height, width) = (experiment.height, experiment.width);
    let d = experiment.d();
    let rows = |i: usize| i * d..(i + 1) * d;
    let images: Vec<usize> = settings
        .keep_rows
        .iter()
        .copied()
        .filter(|&i| i < experiment.n)
        .collect();
    let truth = images
        .iter()
        .flat_map(|&i| experiment.x_true[rows(i)].iter().copied())
        .collect();
    let masks = images
        .iter()
        .flat_map(|&i| experiment.mask.missing[rows(i)].iter().copied())
        .collect();
    drop(experiment);
    let settings = CompareSettings {
        keep_rows: images.clone(),
        ..settings.clone()
    };
    let count = methods.len();
    let report = |p: crate::baselines::Progress| {
        let index = methods.iter().position(|&m| m == p.method).unwrap_or(0);
        let within = p.done as f32 / p.total.max(1) as f32;
        progress.report(
            Some((index as f32 + within) / count as f32),
            format!(
                "{} ({} of {count}): {}/{} {}",
                p.method,
                index + 1,
                p.done,
                p.total,
                p.detail
            ),
        );
    };
    let cancel = progress.cancel_flag();
    let control = Control {
        cancel: &cancel,
        progress: Some(&report),
    };
    let comparison = compare(&problem, &settings, control).map_err(|e| e.to_string())?;
    Ok(Finished {
        comparison,
        images,
        truth,
        masks,
        height,
        width,
        seconds: started.elapsed().as_secs_f64(),
    })
}
