//! Everything the sampler has told the UI, kept for display.
//!
//! The sampler thread sends events (one per sweep, snapshots now and then, run-state changes);
//! the app folds each into a [`LiveState`]. Trace points are appended here once, so the views
//! never rebuild big point vectors per frame; the newest snapshot replaces older ones.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::experiment::Experiment;
use crate::model::{ImageSummary, SamplerSettings, SweepRecord};
use crate::sampler::{Event, FullSummary, MAX_WATCHED, RunState, Snapshot};
use crate::session::PosteriorSummary;

use super::job::retire;
use egui_plot::PlotPoint;

/// Source of [`LiveState::generation`]: every state gets a new number, so cached textures of
/// an older experiment are never shown for a new one.
static GENERATIONS: AtomicU64 = AtomicU64::new(1);

/// Weight of the newest sweep in the smoothed sweeps-per-second figure.
const SPEED_SMOOTHING: f64 = 0.2;

/// Points of the scalar traces, one per sweep, as egui_plot borrows them (x = sweep number).
#[derive(Clone, Default, Debug)]
pub struct Traces {
    pub log_joint: Vec<PlotPoint>,
    pub rmse_sample: Vec<PlotPoint>,
    pub rmse_mean: Vec<PlotPoint>,
}

/// Where the shown state came from when it was read from a session file, not sampled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RestoredFrom {
    /// The session file's name (without its folder).
    pub file_name: String,
    /// The last sweep the saved chain had done.
    pub sweep: usize,
}

/// Everything the sampler has told the UI, kept for display.
pub struct LiveState {
    generation: u64,
    experiment: Arc<Experiment>,
    burn_in: usize,
    /// Sweep from which the current burn-in counts (the last change of target or schedule).
    burn_in_from: usize,
    sweeps: usize,
    iteration: usize,
    run_state: Option<RunState>,
    last_record: Option<SweepRecord>,
    traces: Traces,
    sweeps_per_second: Option<f64>,
    snapshot: Option<Snapshot>,
    /// Position of each summarised image in `snapshot.images`.
    summary_index: HashMap<usize, usize>,
    /// Largest finite posterior std in the snapshot's image summaries (the shared std scale).
    std_scale: f32,
    snapshot_version: u64,
    baseline_rmse: Option<f64>,
    /// Per-pixel sums: the observed mean of each pixel (the sampler's initial fill), for
    /// per-image baselines, and what the overall baseline needs.
    columns: ColumnStats,
    visible: Range<usize>,
    last_error: Option<String>,
    /// The newest answer to `Command::RequestSummary` (the whole posterior mean and std).
    summary: Option<Arc<FullSummary>>,
    /// Counts masks changed in place (painted and applied without a restart).
    mask_version: u64,
    /// Set while the traces and summaries shown are a session's, until the chain samples.
    restored: Option<RestoredFrom>,
}

impl LiveState {
    /// A fresh state for a new experiment (new data/masks/M, or reset). `experiment` holds x_true,
    /// the masks, height/width, labels: what the views show next to the sampler's output.
    pub fn new(experiment: Arc<Experiment>, settings: &SamplerSettings) -> Self {
        let columns = ColumnStats::of(&experiment);
        let baseline_rmse = columns.baseline_rmse();
        let n = experiment_n(&experiment);
        LiveState {
            generation: GENERATIONS.fetch_add(1, Ordering::Relaxed),
            experiment,
            burn_in: settings.burn_in,
            burn_in_from: 0,
            sweeps: settings.sweeps,
            iteration: 0,
            run_state: None,
            last_record: None,
            traces: Traces::default(),
            sweeps_per_second: None,
            snapshot: None,
            summary_index: HashMap::new(),
            std_scale: 1.0,
            snapshot_version: 0,
            baseline_rmse,
            columns,
            visible: 0..n.min(8),
            last_error: None,
            summary: None,
            mask_version: 0,
            restored: None,
        }
    }

    /// Shows what a saved session had found: its traces (one value per sweep, the RMSE
    /// traces aligned to the last sweeps when they are shorter), its posterior summaries as
    /// the newest snapshot and its pixel posterior, if saved, as the full summary. They stay
    /// until the chain sends its first sweep (see [`Self::apply`]).
    pub fn restore(
        &mut self,
        traces: &crate::model::Traces,
        posterior: Option<&PosteriorSummary>,
        settings: &SamplerSettings,
        file_name: &str,
    ) {
        let sweeps = traces.log_joint.len();
        let points = |values: &[f64]| -> Vec<PlotPoint> {
            let first = sweeps.saturating_sub(values.len()) + 1;
            values
                .iter()
                .enumerate()
                .map(|(k, &y)| PlotPoint::new((first + k) as f64, y))
                .collect()
        };
        self.traces = Traces {
            log_joint: points(&traces.log_joint),
            rmse_sample: points(&traces.rmse_sample),
            rmse_mean: points(&traces.rmse_posterior_mean),
        };
        self.last_record = None;
        self.sweeps_per_second = None;
        self.iteration = sweeps;
        self.burn_in = settings.burn_in;
        self.burn_in_from = 0;
        self.sweeps = settings.sweeps;
        if let Some(p) = posterior {
            let snapshot = Snapshot {
                iteration: p.iteration,
                n: self.n_images(),
                d: p.d,
                m: p.m,
                image_shape: Some(self.image_shape()),
                w: p.w.clone(),
                mu: p.mu.clone(),
                sigmasq: p.sigmasq.clone(),
                posterior_mu: p.posterior_mu.clone(),
                posterior_sigmasq: p.posterior_sigmasq.clone(),
                samples_in_moments: p.samples_in_moments,
                // The moments hold the sweeps after the burn-in that followed the last change.
                burn_in_from: if p.samples_in_moments > 0 {
                    p.iteration
                        .saturating_sub(p.samples_in_moments + settings.burn_in)
                } else {
                    0
                },
                images: Vec::new(),
                rmse_mean_impute: None,
                missing_fraction: self.missing_fraction(),
                last_sweep: None,
                settings: settings.clone(),
                state: RunState::Paused,
            };
            self.apply_snapshot(snapshot);
            self.summary = p.reconstruction.as_ref().map(|r| {
                Arc::new(FullSummary {
                    iteration: p.iteration,
                    n: self.n_images(),
                    d: p.d,
                    samples_in_moments: p.samples_in_moments,
                    mean: r.mean.clone(),
                    std: r.std.clone(),
                })
            });
        }
        self.restored = Some(RestoredFrom {
            file_name: file_name.to_owned(),
            sweep: self.iteration,
        });
        self.refresh_restored_images();
    }

    /// Whether the full summary shown is the pixel posterior a restored session holds (the
    /// export can then write it without asking the new chain).
    pub fn has_restored_pixels(&self) -> bool {
        self.restored.is_some()
            && self.summary.as_ref().is_some_and(|f| {
                self.snapshot
                    .as_ref()
                    .is_some_and(|s| s.iteration == f.iteration && f.iteration > 0)
            })
    }

    /// While a session with a pixel posterior is shown, the summaries of the images on screen
    /// come from it (the saved chain's current sample is not in the file, so the posterior
    /// mean stands in for it); rebuilt when other images come into view.
    fn refresh_restored_images(&mut self) {
        if !self.has_restored_pixels() {
            return;
        }
        let wanted = self.wanted_images();
        let (Some(full), Some(snapshot)) = (&self.summary, &self.snapshot) else {
            return;
        };
        if snapshot
            .images
            .iter()
            .map(|s| s.index)
            .eq(wanted.iter().copied())
        {
            return;
        }
        let d = full.d;
        let images: Vec<ImageSummary> = wanted
            .iter()
            .filter_map(|&index| {
                let range = index.checked_mul(d)?..(index + 1).checked_mul(d)?;
                let mean = full.mean.get(range.clone())?.to_vec();
                let std = full.std.get(range)?.to_vec();
                let rmse = missing_rmse(self.truth(index)?, self.mask(index)?, &mean);
                Some(ImageSummary {
                    index,
                    current: mean.clone(),
                    posterior_mean: mean,
                    posterior_std: std,
                    rmse,
                })
            })
            .collect();
        let std_max = images
            .iter()
            .flat_map(|s| s.posterior_std.iter().copied())
            .filter(|v| v.is_finite())
            .fold(0.0f32, f32::max);
        self.std_scale = if std_max > 0.0 { std_max } else { 1.0 };
        self.summary_index = images
            .iter()
            .enumerate()
            .map(|(pos, s)| (s.index, pos))
            .collect();
        if let Some(snapshot) = &mut self.snapshot {
            snapshot.images = images;
        }
        self.snapshot_version += 1;
    }

    /// The session the shown traces and summaries were read from, until the chain samples.
    pub fn restored(&self) -> Option<&RestoredFrom> {
        self.restored.as_ref()
    }

    /// The chain has started sampling after a session was restored: its sweeps replace the
    /// saved ones (the saved chain's latent state is not in the file, so it starts at sweep 0).
    fn leave_restored(&mut self) {
        if self.restored.take().is_none() {
            return;
        }
        self.traces = Traces::default();
        self.iteration = 0;
        self.last_record = None;
        self.snapshot = None;
        self.summary_index.clear();
        self.std_scale = 1.0;
        self.snapshot_version += 1;
        self.set_full_summary(None);
    }

    /// Folds one event from the sampler handle into the state (traces append, newest snapshot kept).
    pub fn apply(&mut self, event: Event) {
        match event {
            Event::Sweep(record) => {
                self.leave_restored();
                self.apply_sweep(record);
            }
            // While a session is shown, the new chain's sweep-0 snapshots (sent when it is
            // built or told which images to watch) would only hide it.
            Event::Snapshot(snapshot) if self.restored.is_some() && snapshot.iteration == 0 => {}
            Event::Snapshot(snapshot) => {
                self.leave_restored();
                self.apply_snapshot(*snapshot);
            }
            Event::State(state) => self.run_state = Some(state),
            Event::Error(message) => self.last_error = Some(message),
            Event::Summary(summary) => self.set_full_summary(Some(Arc::new(*summary))),
        }
    }

    fn apply_sweep(&mut self, record: SweepRecord) {
        let x = record.iter as f64;
        // Sweeps arrive in order; one out of order (never expected) is dropped, not plotted
        // backwards, so the traces stay sorted by sweep for the plots.
        if self.traces.log_joint.last().is_some_and(|p| p.x >= x) {
            return;
        }
        self.traces
            .log_joint
            .push(PlotPoint::new(x, record.log_joint));
        if let Some(r) = record.rmse_sample {
            self.traces.rmse_sample.push(PlotPoint::new(x, r));
        }
        if let Some(r) = record.rmse_posterior_mean {
            self.traces.rmse_mean.push(PlotPoint::new(x, r));
        }
        if record.seconds.is_finite() && record.seconds > 0.0 {
            let speed = 1.0 / record.seconds;
            self.sweeps_per_second = Some(match self.sweeps_per_second {
                Some(old) => old + SPEED_SMOOTHING * (speed - old),
                None => speed,
            });
        }
        self.iteration = self.iteration.max(record.iter);
        self.last_record = Some(record);
    }

    fn apply_snapshot(&mut self, snapshot: Snapshot) {
        self.summary_index = snapshot
            .images
            .iter()
            .enumerate()
            .map(|(pos, s)| (s.index, pos))
            .collect();
        let std_max = snapshot
            .images
            .iter()
            .flat_map(|s| s.posterior_std.iter().copied())
            .filter(|v| v.is_finite())
            .fold(0.0f32, f32::max);
        self.std_scale = if std_max > 0.0 { std_max } else { 1.0 };
        self.iteration = self.iteration.max(snapshot.iteration);
        self.burn_in = snapshot.settings.burn_in;
        self.burn_in_from = snapshot.burn_in_from;
        self.sweeps = snapshot.settings.sweeps;
        if snapshot.rmse_mean_impute.is_some() {
            self.baseline_rmse = snapshot.rmse_mean_impute;
        }
        self.run_state = Some(snapshot.state);
        self.snapshot = Some(snapshot);
        self.snapshot_version += 1;
    }

    /// Sweeps completed so far.
    pub fn iteration(&self) -> usize {
        self.iteration
    }

    /// Images whose summaries the views want in snapshots; the app sends `Command::Watch` when it changes.
    pub fn wanted_images(&self) -> Vec<usize> {
        let n = self.n_images();
        let end = self.visible.end.min(n);
        let start = self.visible.start.min(end);
        (start..end).take(MAX_WATCHED).collect()
    }

    /// Records which images are on screen (the reconstruction list calls this every frame).
    pub fn set_visible_images(&mut self, rows: Range<usize>) {
        if self.visible != rows {
            self.visible = rows;
            self.refresh_restored_images();
        }
    }

    /// A number unique to this state (changes on every reset), for texture versions.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The run state last reported (None before the sampler said anything).
    pub fn run_state(&self) -> Option<RunState> {
        self.run_state
    }

    /// The newest sweep record.
    pub fn last_record(&self) -> Option<&SweepRecord> {
        self.last_record.as_ref()
    }

    /// Sweeps per second, smoothed over recent sweeps (sampler time, not wall time).
    pub fn sweeps_per_second(&self) -> Option<f64> {
        self.sweeps_per_second
    }

    /// The last error the sampler reported.
    pub fn last_error(&self) -> Option<&str> {
        self.last_error.as_deref()
    }

    /// The newest snapshot.
    pub fn snapshot(&self) -> Option<&Snapshot> {
        self.snapshot.as_ref()
    }

    /// Whether any snapshot has arrived.
    pub fn has_snapshot(&self) -> bool {
        self.snapshot.is_some()
    }

    /// Counts snapshots received: changes exactly when snapshot data changes.
    pub fn snapshot_version(&self) -> u64 {
        self.snapshot_version
    }

    /// Whether posterior averaging has started (the snapshot's moments hold samples).
    pub fn posterior_started(&self) -> bool {
        self.snapshot
            .as_ref()
            .is_some_and(|s| s.samples_in_moments > 0)
    }

    /// Burn-in sweeps of the run.
    pub fn burn_in(&self) -> usize {
        self.burn_in
    }

    /// The sweeps of the current burn-in, from the last change of target or schedule (0 at
    /// the start) to the end of the burn-in that followed it.
    pub fn burn_in_span(&self) -> (usize, usize) {
        (self.burn_in_from, self.burn_in_from + self.burn_in)
    }

    /// Sweeps planned for the run.
    pub fn planned_sweeps(&self) -> usize {
        self.sweeps
    }

    /// The scalar traces so far.
    pub fn traces(&self) -> &Traces {
        &self.traces
    }

    /// RMSE of column-mean imputation on the missing pixels (None with nothing missing).
    pub fn baseline_rmse(&self) -> Option<f64> {
        self.baseline_rmse
    }

    /// RMSE on the missing pixels of image `index` when they are filled with column means
    /// (None when nothing of it is missing).
    pub fn baseline_rmse_of(&self, index: usize) -> Option<f64> {
        let truth = self.truth(index)?;
        let mask = self.mask(index)?;
        let (mut sq, mut count) = (0.0f64, 0usize);
        for ((&t, &miss), &mean) in truth.iter().zip(mask).zip(&self.columns.means) {
            if miss {
                sq += (t as f64 - mean).powi(2);
                count += 1;
            }
        }
        (count > 0).then(|| (sq / count as f64).sqrt())
    }

    /// The summary of image `index` in the newest snapshot, if it was watched.
    pub fn image_summary(&self, index: usize) -> Option<&ImageSummary> {
        let pos = *self.summary_index.get(&index)?;
        self.snapshot.as_ref()?.images.get(pos)
    }

    /// Top of the shared posterior-std colour scale (largest std in the newest snapshot).
    pub fn std_scale(&self) -> f32 {
        self.std_scale
    }

    /// Gives image `image` the mask `missing` (length D, true = missing) in place, as the
    /// running chain's sampler got it with `Command::SetMask`: only that image changes, and
    /// the baseline's sums are updated for it alone. Returns `Ok(false)` when the experiment
    /// is shared with a job right now (a PCA, an export): nothing changed, try again later.
    pub fn set_image_mask(&mut self, image: usize, missing: &[bool]) -> Result<bool, String> {
        let Some(experiment) = Arc::get_mut(&mut self.experiment) else {
            return Ok(false);
        };
        let d = experiment.d();
        let old: Vec<bool> = experiment_mask(experiment, image)
            .ok_or_else(|| format!("image {image} is not among the {} images", experiment.n))?
            .to_vec();
        experiment
            .set_image_mask(image, missing)
            .map_err(|e| e.to_string())?;
        let truth = &experiment.x_true[image * d..(image + 1) * d];
        self.columns.add(truth, &old, false);
        self.columns.add(truth, missing, true);
        self.columns.refresh_means();
        self.baseline_rmse = self.columns.baseline_rmse();
        self.mask_version += 1;
        self.set_full_summary(None);
        Ok(true)
    }

    /// The experiment the views show (data, noise, masks).
    pub fn experiment(&self) -> &Arc<Experiment> {
        &self.experiment
    }

    /// How many times masks changed in place (for texture versions).
    pub fn mask_version(&self) -> u64 {
        self.mask_version
    }

    /// The newest full posterior summary the sampler sent, if any.
    pub fn full_summary(&self) -> Option<&FullSummary> {
        self.summary.as_deref()
    }

    /// The same, shared, for a job that writes it.
    pub fn full_summary_shared(&self) -> Option<Arc<FullSummary>> {
        self.summary.clone()
    }

    /// Forgets the full summary (before asking for a fresh one).
    pub fn clear_full_summary(&mut self) {
        self.set_full_summary(None);
    }

    /// Replaces the full summary; the old one (two N x D arrays, freeing them takes
    /// milliseconds) is dropped on the janitor thread.
    fn set_full_summary(&mut self, summary: Option<Arc<FullSummary>>) {
        if let Some(old) = std::mem::replace(&mut self.summary, summary) {
            retire(old);
        }
    }

    /// Number of images N.
    pub fn n_images(&self) -> usize {
        experiment_n(&self.experiment)
    }

    /// (height, width) of the images.
    pub fn image_shape(&self) -> (usize, usize) {
        experiment_shape(&self.experiment)
    }

    /// The true (noisy) pixels of image `index`, row-major.
    pub fn truth(&self, index: usize) -> Option<&[f32]> {
        experiment_truth(&self.experiment, index)
    }

    /// The mask of image `index` (true = missing), row-major.
    pub fn mask(&self, index: usize) -> Option<&[bool]> {
        experiment_mask(&self.experiment, index)
    }

    /// The label of image `index`, when the data has labels.
    pub fn label(&self, index: usize) -> Option<u8> {
        experiment_label(&self.experiment, index)
    }

    /// Fraction of all pixels that are missing.
    pub fn missing_fraction(&self) -> f64 {
        self.columns.missing_fraction()
    }
}

// The few places that know how an Experiment stores its data.

fn experiment_n(e: &Experiment) -> usize {
    e.n
}

fn experiment_shape(e: &Experiment) -> (usize, usize) {
    (e.height, e.width)
}

fn experiment_truth(e: &Experiment, index: usize) -> Option<&[f32]> {
    let d = e.d();
    let start = index.checked_mul(d)?;
    e.x_true.get(start..start.checked_add(d)?)
}

fn experiment_mask(e: &Experiment, index: usize) -> Option<&[bool]> {
    let d = e.d();
    let start = index.checked_mul(d)?;
    e.mask.missing.get(start..start.checked_add(d)?)
}

fn experiment_label(e: &Experiment, index: usize) -> Option<u8> {
    e.labels.as_ref()?.get(index).copied()
}

/// RMSE of `estimate` against `truth` on the missing pixels (None when none is missing).
fn missing_rmse(truth: &[f32], mask: &[bool], estimate: &[f32]) -> Option<f64> {
    let (mut sq, mut count) = (0.0f64, 0usize);
    for ((&t, &miss), &e) in truth.iter().zip(mask).zip(estimate) {
        if miss {
            sq += (f64::from(t) - f64::from(e)).powi(2);
            count += 1;
        }
    }
    (count > 0).then(|| (sq / count as f64).sqrt())
}

/// Per-pixel sums behind the column-mean baseline: observed sums and counts (the means, which
/// are the sampler's initial fill) and the truth's sums over the missing entries. Kept so that
/// one image's new mask updates them in O(D) instead of a pass over N x D on the UI thread.
#[derive(Clone, Debug, Default)]
struct ColumnStats {
    observed_sum: Vec<f64>,
    observed_count: Vec<u64>,
    missing_sum: Vec<f64>,
    missing_sumsq: Vec<f64>,
    missing_count: Vec<u64>,
    /// Mean of each pixel over the images where it is observed; 0 for a pixel never
    /// observed, as nothing better is known.
    means: Vec<f64>,
    /// Pixels in all images (N x D), for the missing fraction.
    total: u64,
}

impl ColumnStats {
    /// One pass over the experiment (done where the live state is built: a job's thread).
    fn of(e: &Experiment) -> Self {
        let d = e.d();
        let mut stats = ColumnStats {
            observed_sum: vec![0.0; d],
            observed_count: vec![0; d],
            missing_sum: vec![0.0; d],
            missing_sumsq: vec![0.0; d],
            missing_count: vec![0; d],
            means: vec![0.0; d],
            total: (e.n * d) as u64,
        };
        if d > 0 {
            for (row, mask) in e.x_true.chunks_exact(d).zip(e.mask.missing.chunks_exact(d)) {
                stats.add(row, mask, true);
            }
        }
        stats.refresh_means();
        stats
    }

    /// Adds (or with `add` false, takes away) one image with its mask.
    fn add(&mut self, truth: &[f32], mask: &[bool], add: bool) {
        let sign = if add { 1.0 } else { -1.0 };
        for (j, (&x, &miss)) in truth.iter().zip(mask).enumerate() {
            let x = f64::from(x);
            if !x.is_finite() {
                continue;
            }
            let (sums, counts) = if miss {
                self.missing_sumsq[j] += sign * x * x;
                (&mut self.missing_sum, &mut self.missing_count)
            } else {
                (&mut self.observed_sum, &mut self.observed_count)
            };
            sums[j] += sign * x;
            counts[j] = if add {
                counts[j] + 1
            } else {
                counts[j].saturating_sub(1)
            };
        }
    }

    fn refresh_means(&mut self) {
        for ((mean, &sum), &count) in self
            .means
            .iter_mut()
            .zip(&self.observed_sum)
            .zip(&self.observed_count)
        {
            *mean = if count > 0 { sum / count as f64 } else { 0.0 };
        }
    }

    /// RMSE on all missing pixels of filling each with its column mean: the baseline, known
    /// before the first snapshot. None with nothing missing. Uses
    /// sum (t - m)^2 = S2 - 2 m S1 + c m^2 per pixel, in f64.
    fn baseline_rmse(&self) -> Option<f64> {
        let mut sq = 0.0f64;
        let mut count = 0u64;
        for j in 0..self.means.len() {
            let (m, c) = (self.means[j], self.missing_count[j]);
            sq += self.missing_sumsq[j] - 2.0 * m * self.missing_sum[j] + c as f64 * m * m;
            count += c;
        }
        (count > 0).then(|| (sq.max(0.0) / count as f64).sqrt())
    }

    fn missing_fraction(&self) -> f64 {
        if self.total == 0 {
            return 0.0;
        }
        self.missing_count.iter().sum::<u64>() as f64 / self.total as f64
    }
}
