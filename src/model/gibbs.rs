//! The Gibbs sampler: state, one sweep, traces, running moments and summaries.

use super::conditionals::{sample_w_mu_sigmasq, sample_w_mu_sigmasq_blocked, sample_z};
use super::init::initialise;
use super::log_joint::log_joint;
use super::moments::RunningMoments;
use super::par::map_chunks;
use super::rng::{Step, StepRng};
use super::state::ModelState;
use super::x_missing::{Tally, sample_x_missing_tallied};
use super::{
    Fallbacks, Hyperparameters, ImageSummary, MeanStd, ModelError, Prior, Problem, SamplerSettings,
    Schedule, StepTimes, SweepRecord, Traces, validate_run_length,
};
use crate::diagnostics::HalfDraw;
use nalgebra::DMatrix;
use std::time::Instant;

/// A Gibbs sampler for Bayesian factor analysis with missing data.
///
/// Setting changes that take effect at the next sweep: nu0, sigma0^2, kappa0, lambda0 (same M),
/// the prior, the schedule and the run length. A change of hyperparameters, prior or schedule
/// clears the running moments and counts burn-in again from the change, so posterior summaries
/// always describe one target distribution (a schedule change keeps the target but restarts
/// the summaries too, so they describe one chain). Changing M, the data, the masks, the noise
/// or the seed needs a new sampler.
///
/// Sweep t (1-based) enters the running moments when t - (sweep of the last change) >
/// burn-in; with the defaults (200 sweeps, burn-in 100) that is the second half of the run.
pub struct GibbsSampler {
    settings: SamplerSettings,
    state: ModelState,
    traces: Traces,
    iteration: usize,
    /// Sweep count at the last change of target (0 at the start).
    change_point: usize,
    /// The missing pixels' moments, stored in f32 (see [`super::moments`]).
    x_moments: RunningMoments<f32>,
    mu_moments: RunningMoments,
    sigmasq_moments: RunningMoments,
    /// True values at the missing entries, in the order of the missing index.
    truth_missing: Option<Vec<f32>>,
    rmse_mean_impute: Option<f64>,
    /// Fallbacks counted outside a sweep (a mask change), reported with the next sweep.
    pending_fallbacks: Fallbacks,
}

impl GibbsSampler {
    /// Validates the problem and settings and initialises as the notebook does (SPEC 5; see
    /// [`super::init::initialise`] for the fallbacks of columns with 0 or 1 observed entries).
    pub fn new(problem: &Problem, settings: &SamplerSettings) -> Result<Self, ModelError> {
        problem.validate()?;
        settings.validate(problem.n, problem.d)?;
        let state = initialise(problem, settings.hyper.m, settings.seed)?;
        let d = problem.d;
        let truth_missing = problem.x_true.as_ref().map(|t| {
            let idx = state.missing();
            idx.rows()
                .iter()
                .zip(idx.cols())
                .map(|(&i, &j)| t[i as usize * d + j as usize])
                .collect::<Vec<f32>>()
        });
        let n_missing = state.missing().len();
        let mut sampler = GibbsSampler {
            settings: settings.clone(),
            state,
            traces: Traces::default(),
            iteration: 0,
            change_point: 0,
            x_moments: RunningMoments::<f32>::new(n_missing),
            mu_moments: RunningMoments::new(d),
            sigmasq_moments: RunningMoments::new(d),
            truth_missing,
            rmse_mean_impute: None,
            pending_fallbacks: Fallbacks::default(),
        };
        sampler.rmse_mean_impute = sampler.rmse_of(|k, _| sampler.current_missing(k));
        Ok(sampler)
    }

    /// One full sweep (all conditionals of the schedule), then the log joint, traces and
    /// running moments.
    pub fn sweep(&mut self) -> SweepRecord {
        self.sweep_folding(None)
    }

    /// [`Self::sweep`], folding the new values of the missing entries into `halves` (a
    /// chain's half moments, one quantity per missing entry in index order) as the X_miss pass
    /// draws them, instead of in a second pass over them afterwards. `halves` is left
    /// untouched when its length is not the number of missing entries.
    pub fn sweep_folding(&mut self, halves: Option<HalfDraw>) -> SweepRecord {
        let start = Instant::now();
        self.iteration += 1;
        let sweep = self.iteration as u64;
        let seed = self.settings.seed;
        let hyper = self.settings.hyper.clone();
        let prior = self.settings.prior.clone();
        let mut steps = StepTimes::default();
        let mut clock = Instant::now();
        let lap = |clock: &mut Instant| {
            let s = clock.elapsed().as_secs_f64();
            *clock = Instant::now();
            s
        };
        let st = &mut self.state;
        let (_, clamped) = prior.column_precision_counted(&hyper);
        if self.settings.recentre {
            super::recentre::recentre(
                st,
                hyper.lambda0,
                &StepRng::new(seed, sweep, Step::Recentre),
            );
        }
        sample_z(st, &StepRng::new(seed, sweep, Step::Z));
        steps.z = lap(&mut clock);
        match self.settings.schedule {
            Schedule::Notebook => {
                // W, mu and sigma^2 block by block of pixels (their time is in `steps.w`).
                let rngs = [Step::W, Step::Mu, Step::Sigmasq].map(|s| StepRng::new(seed, sweep, s));
                sample_w_mu_sigmasq(st, &hyper, &prior, [&rngs[0], &rngs[1], &rngs[2]]);
                steps.w = lap(&mut clock);
            }
            Schedule::Blocked => {
                let rng = StepRng::new(seed, sweep, Step::Blocked);
                sample_w_mu_sigmasq_blocked(st, &hyper, &prior, &rng);
                steps.w = lap(&mut clock);
            }
        }
        // The missing entries' moments and RMSE are tallied by the X_miss pass as it draws.
        let include = self.iteration - self.change_point > self.settings.burn_in;
        let truth = self.truth_missing.as_deref().unwrap_or(&[]);
        let tally = Tally {
            sample: self.x_moments.begin(include),
            truth,
            halves,
        };
        let scores =
            sample_x_missing_tallied(st, &StepRng::new(seed, sweep, Step::XMissing), Some(tally));
        steps.x_missing = lap(&mut clock);
        let lj = log_joint(st, &hyper, &prior);
        steps.log_joint = lap(&mut clock);

        let (rmse_sample, rmse_posterior_mean) = self.update_moments(include, scores);
        steps.moments = lap(&mut clock);
        let seconds = start.elapsed().as_secs_f64();
        let mut fallbacks = self.state.take_fallbacks();
        fallbacks.prior_precision_clamped += clamped as u64;
        fallbacks.add(&std::mem::take(&mut self.pending_fallbacks));

        self.traces.log_joint.push(lj);
        self.traces.seconds.push(seconds);
        if let (Some(a), Some(b)) = (rmse_sample, rmse_posterior_mean) {
            self.traces.rmse_sample.push(a);
            self.traces.rmse_posterior_mean.push(b);
        }
        SweepRecord {
            iter: self.iteration,
            log_joint: lj,
            rmse_sample,
            rmse_posterior_mean,
            seconds,
            steps,
            fallbacks,
        }
    }

    /// Folds the current mu and sigma^2 into their running moments (when `include`; the
    /// missing entries were folded in by the X_miss pass) and turns that pass's sums of squared
    /// errors into the RMSE of the sample and of the posterior mean.
    fn update_moments(&mut self, include: bool, scores: (f64, f64)) -> (Option<f64>, Option<f64>) {
        if include {
            let mu = self.state.mu();
            self.mu_moments.update(|k| mu[k] as f64);
            let s = self.state.sigmasq();
            self.sigmasq_moments.update(|k| s[k] as f64);
        }
        // (The pass scores only a truth of the index's length; the remapping keeps it so.)
        let count = self.truth_missing.as_ref().map_or(0, Vec::len);
        if count == 0 || count != self.state.missing().len() {
            return (None, None);
        }
        let count = count as f64;
        (
            Some((scores.0 / count).sqrt()),
            Some((scores.1 / count).sqrt()),
        )
    }

    /// Current value of missing entry k.
    fn current_missing(&self, k: usize) -> f32 {
        self.state.missing_values()[k]
    }

    /// Posterior mean of missing entry k (the current value before burn-in ends).
    fn posterior_missing(&self, k: usize) -> f32 {
        match self.x_moments.mean(k) {
            Some(m) => m as f32,
            None => self.current_missing(k),
        }
    }

    /// RMSE over the missing entries of `value(k)` against the truth.
    fn rmse_of(&self, value: impl Fn(usize, &Self) -> f32 + Sync) -> Option<f64> {
        let truth = self.truth_missing.as_ref()?;
        if truth.is_empty() {
            return None;
        }
        let sum: f64 = map_chunks(truth, 4096, |c, chunk| {
            chunk
                .iter()
                .enumerate()
                .map(|(j, &t)| (value(c * 4096 + j, self) as f64 - t as f64).powi(2))
                .sum::<f64>()
        })
        .iter()
        .sum();
        Some((sum / truth.len() as f64).sqrt())
    }

    /// Number of sweeps done since the sampler was built.
    pub fn iteration(&self) -> usize {
        self.iteration
    }

    /// The scalar traces, one value per sweep.
    pub fn traces(&self) -> &Traces {
        &self.traces
    }

    /// The current settings (after any changes).
    pub fn settings(&self) -> &SamplerSettings {
        &self.settings
    }

    /// The full current state (Z, W, mu, sigma^2, completed X).
    pub fn state(&self) -> &ModelState {
        &self.state
    }

    /// Mutable state, for experiments and tests (e.g. Geweke's successive-conditional
    /// simulator redraws all of X). Setters validate shapes and values; running moments are
    /// not reset.
    pub fn state_mut(&mut self) -> &mut ModelState {
        &mut self.state
    }

    /// Log joint of the current state (SPEC 6).
    pub fn log_joint(&mut self) -> f64 {
        log_joint(&mut self.state, &self.settings.hyper, &self.settings.prior)
    }

    /// Clears the running moments and restarts the burn-in count at the current sweep.
    fn restart_summaries(&mut self) {
        self.change_point = self.iteration;
        self.x_moments.clear();
        self.mu_moments.clear();
        self.sigmasq_moments.clear();
    }

    /// New nu0, sigma0^2, kappa0, lambda0 from the next sweep; M must not change. If anything
    /// changed, the running moments are cleared and burn-in counts again from here.
    pub fn set_hyperparameters(&mut self, h: Hyperparameters) -> Result<(), ModelError> {
        if h.m != self.settings.hyper.m {
            return Err(ModelError::NeedsNewSampler {
                what: "the number of factors M",
            });
        }
        h.validate()?;
        if h != self.settings.hyper {
            self.settings.hyper = h;
            self.restart_summaries();
        }
        Ok(())
    }

    /// New prior on W from the next sweep; moments cleared and burn-in restarted if it changed.
    pub fn set_prior(&mut self, p: Prior) -> Result<(), ModelError> {
        p.validate()?;
        if p != self.settings.prior {
            self.settings.prior = p;
            self.restart_summaries();
        }
        Ok(())
    }

    /// New schedule from the next sweep; moments cleared and burn-in restarted if it changed.
    pub fn set_schedule(&mut self, s: Schedule) {
        if s != self.settings.schedule {
            self.settings.schedule = s;
            self.restart_summaries();
        }
    }

    /// The recentring move on or off from the next sweep ([`super::recentre`]); as for a new
    /// schedule, moments cleared and burn-in restarted if it changed (the target is the same,
    /// but a run that compares the two should not average across the switch).
    pub fn set_recentre(&mut self, on: bool) {
        if on != self.settings.recentre {
            self.settings.recentre = on;
            self.restart_summaries();
        }
    }

    /// New run length, effective at once. Samples already in the moments are kept; the new
    /// burn-in applies to later sweeps, counted from the last change of target.
    pub fn set_run_length(&mut self, sweeps: usize, burn_in: usize) -> Result<(), ModelError> {
        validate_run_length(sweeps, burn_in)?;
        self.settings.sweeps = sweeps;
        self.settings.burn_in = burn_in;
        Ok(())
    }

    /// Gives image `image` a new mask without restarting the chain (a hand-painted mask).
    /// `missing` (length D, true = missing) replaces the image's mask; `values` is the image's
    /// data (its X_true row, length D): newly revealed pixels take their value from it, newly
    /// hidden ones keep the current value until the next sweep draws them, and it is the truth
    /// the RMSE traces score newly hidden pixels against. The column sums are recomputed, the
    /// column-mean baseline is recomputed for the new missing set, and the running moments are
    /// cleared (the target changed, so burn-in counts again from here).
    pub fn set_image_mask(
        &mut self,
        image: usize,
        missing: &[bool],
        values: &[f32],
    ) -> Result<(), ModelError> {
        let old = self.state.set_row_mask(image, missing, values)?;
        if let Some(truth) = &self.truth_missing {
            let (remapped, not_found) =
                remap_truth(&old, truth, self.state.missing(), image, values);
            self.pending_fallbacks.truth_missing += not_found;
            self.truth_missing = Some(remapped);
        }
        self.x_moments = RunningMoments::<f32>::new(self.state.missing().len());
        self.restart_summaries();
        self.rmse_mean_impute = self.column_mean_baseline();
        Ok(())
    }

    /// The truth at the missing entries, in entry order (None without a truth). Kept in step
    /// with the mask by [`Self::set_image_mask`], so several chains read it from any one.
    pub(crate) fn truth_missing(&self) -> Option<&[f32]> {
        self.truth_missing.as_deref()
    }

    /// RMSE on the missing entries of imputing each column's observed mean (the mean of all
    /// observed values for a column with none), as at initialisation.
    fn column_mean_baseline(&self) -> Option<f64> {
        let truth = self.truth_missing.as_ref()?;
        let (n, d, _) = self.state.shape();
        let idx = self.state.missing();
        let values = self.state.missing_values();
        let mut sum = vec![0.0f64; d];
        let mut count = vec![0usize; d];
        for j in 0..d {
            let (mut hidden, mut len) = (0.0f64, 0usize);
            for (k, _) in idx.column_entries(j) {
                hidden += values[k] as f64;
                len += 1;
            }
            sum[j] = self.state.columns.sum[j] - hidden;
            count[j] = n - len;
        }
        let total: usize = count.iter().sum();
        let global = if total > 0 {
            sum.iter().sum::<f64>() / total as f64
        } else {
            0.0
        };
        if truth.is_empty() {
            return None;
        }
        let mut sq = 0.0f64;
        for (&j, &t) in idx.cols().iter().zip(truth) {
            let j = j as usize;
            let mean = if count[j] > 0 {
                sum[j] / count[j] as f64
            } else {
                global
            };
            sq += (mean - t as f64).powi(2);
        }
        Some((sq / truth.len() as f64).sqrt())
    }

    /// Current loadings W (D x M).
    pub fn w(&self) -> &DMatrix<f32> {
        self.state.w()
    }

    /// Current mu (length D).
    pub fn mu(&self) -> &[f32] {
        self.state.mu()
    }

    /// Current sigma^2 (length D).
    pub fn sigmasq(&self) -> &[f32] {
        self.state.sigmasq()
    }

    /// Posterior mean and std of mu over the sweeps after burn-in (current value and std 0
    /// before burn-in ends).
    pub fn posterior_mu(&self) -> MeanStd {
        summarise(&self.mu_moments, self.state.mu())
    }

    /// Posterior mean and std of sigma^2 over the sweeps after burn-in (current value and std
    /// 0 before burn-in ends).
    pub fn posterior_sigmasq(&self) -> MeanStd {
        summarise(&self.sigmasq_moments, self.state.sigmasq())
    }

    /// Sweep of the last change of target or schedule (0 at the start): the burn-in counts
    /// from it.
    pub fn change_point(&self) -> usize {
        self.change_point
    }

    /// Number of sweeps in the running moments.
    pub fn samples_in_moments(&self) -> usize {
        self.x_moments.count()
    }

    /// Summary of image `i` (None if out of range). Observed pixels are copied into
    /// `current` and `posterior_mean` with std 0; before burn-in ends the posterior mean is
    /// the current sample and the std is 0.
    pub fn image_summary(&self, i: usize) -> Option<ImageSummary> {
        let (n, d, _) = self.state.shape();
        if i >= n {
            return None;
        }
        let current = self.state.completed_row(i);
        let mut posterior_mean = current.clone();
        let mut posterior_std = vec![0.0f32; d];
        let mut sq = 0.0f64;
        let mut count = 0usize;
        for j in 0..d {
            if let Some(k) = self.state.missing().position(i, j) {
                posterior_mean[j] = self.posterior_missing(k);
                posterior_std[j] = self.x_moments.std(k) as f32;
                if let Some(t) = &self.truth_missing {
                    sq += (posterior_mean[j] as f64 - t[k] as f64).powi(2);
                    count += 1;
                }
            }
        }
        let rmse = (count > 0).then(|| (sq / count as f64).sqrt());
        Some(ImageSummary {
            index: i,
            current,
            posterior_mean,
            posterior_std,
            rmse,
        })
    }

    /// N x D row-major: observed pixels, missing pixels at their posterior mean (the current
    /// sample before burn-in ends).
    pub fn reconstruction(&self) -> Vec<f32> {
        let (n, d, _) = self.state.shape();
        // (The observed values; every missing entry is overwritten below.)
        let mut out = row_major(&self.state.x);
        let idx = self.state.missing();
        for (k, (&i, &j)) in idx.rows().iter().zip(idx.cols()).enumerate() {
            out[i as usize * d + j as usize] = self.posterior_missing(k);
        }
        debug_assert_eq!(out.len(), n * d);
        out
    }

    /// Images `rows` of [`Self::reconstruction`] and of [`Self::posterior_std`], row-major,
    /// into `mean` and `std` (each `rows.len()` x D): the same values, a block of images at
    /// a time, so writers need no N x D copy. Read-only.
    pub fn posterior_rows(&self, rows: std::ops::Range<usize>, mean: &mut [f32], std: &mut [f32]) {
        self.fill_posterior_rows(rows, Some(mean), Some(std));
    }

    /// The `mean` half of [`Self::posterior_rows`] alone.
    pub fn posterior_mean_rows(&self, rows: std::ops::Range<usize>, mean: &mut [f32]) {
        self.fill_posterior_rows(rows, Some(mean), None);
    }

    /// The `std` half of [`Self::posterior_rows`] alone (it does not read X).
    pub fn posterior_std_rows(&self, rows: std::ops::Range<usize>, std: &mut [f32]) {
        self.fill_posterior_rows(rows, None, Some(std));
    }

    fn fill_posterior_rows(
        &self,
        rows: std::ops::Range<usize>,
        mut mean: Option<&mut [f32]>,
        mut std: Option<&mut [f32]>,
    ) {
        let (n, d, _) = self.state.shape();
        let rows = rows.start.min(n)..rows.end.min(n);
        let len = rows.len() * d;
        let mut mean = mean.as_mut().map(|m| &mut m[..len]);
        let mut std = std.as_mut().map(|s| &mut s[..len]);
        if let Some(mean) = mean.as_mut() {
            // Column-major X into row-major images, a tile of columns at a time: each row of
            // the output gets one contiguous run of writes per tile (column by column, every
            // write landed on its own cache line).
            // (The observed values; every missing entry is overwritten below.)
            let x = &self.state.x;
            const TILE: usize = 16;
            for j0 in (0..d).step_by(TILE) {
                let tile = j0..(j0 + TILE).min(d);
                for i in rows.clone() {
                    let out = &mut mean[(i - rows.start) * d..][tile.clone()];
                    for (o, j) in out.iter_mut().zip(tile.clone()) {
                        *o = x[(i, j)];
                    }
                }
            }
        }
        if let Some(std) = std.as_mut() {
            std.fill(0.0);
        }
        let idx = self.state.missing();
        for j in 0..d {
            for (k, r) in idx.column_entries_in(j, rows.clone()) {
                let at = (r as usize - rows.start) * d + j;
                if let Some(mean) = mean.as_mut() {
                    mean[at] = self.posterior_missing(k);
                }
                if let Some(std) = std.as_mut() {
                    std[at] = self.x_moments.std(k) as f32;
                }
            }
        }
    }

    /// Posterior mean of missing entry k (in the order of the missing index; the current
    /// value before burn-in ends), as [`Self::reconstruction`] holds it. Read-only.
    pub fn posterior_missing_mean(&self, k: usize) -> f32 {
        self.posterior_missing(k)
    }

    /// N x D row-major posterior standard deviation, 0 where observed (and before two sweeps
    /// have entered the moments).
    pub fn posterior_std(&self) -> Vec<f32> {
        let (n, d, _) = self.state.shape();
        let mut out = vec![0.0f32; n * d];
        let idx = self.state.missing();
        for (k, (&i, &j)) in idx.rows().iter().zip(idx.cols()).enumerate() {
            out[i as usize * d + j as usize] = self.x_moments.std(k) as f32;
        }
        out
    }

    /// RMSE of column-mean imputation (the initial state) on the missing entries; None
    /// without truth or without missing entries.
    pub fn rmse_mean_impute(&self) -> Option<f64> {
        self.rmse_mean_impute
    }

    /// Fraction of entries that are missing.
    pub fn missing_fraction(&self) -> f64 {
        let (n, d, _) = self.state.shape();
        self.state.missing().len() as f64 / (n * d) as f64
    }
}

fn summarise(moments: &RunningMoments, current: &[f32]) -> MeanStd {
    let mean = (0..current.len())
        .map(|k| moments.mean(k).map_or(current[k], |m| m as f32))
        .collect();
    let std = (0..current.len()).map(|k| moments.std(k) as f32).collect();
    MeanStd { mean, std }
}

/// The truth at the missing entries of `new` (entry order), taken from `truth` (in the order
/// of `old`) for every image but `image`, whose values come from `values`. Also returns how
/// many entries were not found in `old` (none when the indices are consistent; such an entry
/// is scored against 0 and reported as a fallback).
fn remap_truth(
    old: &super::MissingIndex,
    truth: &[f32],
    new: &super::MissingIndex,
    image: usize,
    values: &[f32],
) -> (Vec<f32>, u64) {
    let mut out = vec![0.0f32; new.len()];
    let mut not_found = 0u64;
    for (j, &value) in values.iter().enumerate() {
        // Both columns in row order: a merge.
        let mut old_entries = old.column_entries(j).peekable();
        for (k, r) in new.column_entries(j) {
            if r as usize == image {
                out[k] = value;
                continue;
            }
            while old_entries.next_if(|&(_, o)| o < r).is_some() {}
            // Every other image's entries are unchanged, so `r` is in the old column.
            match old_entries.peek() {
                Some(&(p, o)) if o == r && p < truth.len() => out[k] = truth[p],
                _ => not_found += 1,
            }
        }
    }
    (out, not_found)
}

/// Column-major N x D matrix to a row-major vector.
fn row_major(x: &DMatrix<f32>) -> Vec<f32> {
    let (n, d) = x.shape();
    let mut out = vec![0.0f32; n * d];
    for (j, col) in x.column_iter().enumerate() {
        for (i, &v) in col.iter().enumerate() {
            out[i * d + j] = v;
        }
    }
    out
}

#[cfg(test)]
#[path = "tests_tally.rs"]
mod tests_tally;
