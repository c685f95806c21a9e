//! Export from the app: a view as PNG (the app's own screenshot, cropped to the view), the
//! traces as CSV, the imputed data and its posterior std as IDX, the masks as IDX.
//!
//! The file writers are plain functions taking a path (tests call them directly). The
//! [`Exporter`] runs them: the screenshot round trip (the image arrives on a later frame),
//! the wait for the sampler's posterior summary, then one [`Job`] that builds and writes the
//! file, and the outcome line in the window.
//!
//! Threads: the Exporter runs on the UI thread and never blocks; every file is built and
//! written on the job's thread, from shared (`Arc`) data, so no big copy happens in a frame.
//! Save dialogs are not here: the app asks for the path first, in a dialog job.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::data::DataError;
use crate::data::Dataset;
use crate::data::idx::{write_idx_f32, write_idx_u8};
use crate::experiment::Experiment;
use crate::masks::MaskSet;
use crate::model::SamplerSettings;
use crate::reconstruct::{FactorParams, ReconstructError, complete_dataset};
use crate::sampler::{FullSummary, Snapshot};
use crate::session::{DataRecord, PosteriorSummary, Session, data_fingerprint};
use crossbeam_channel::{Receiver, TryRecvError};
use egui::{ColorImage, Rect};
use egui_plot::PlotPoint;

use super::editor::RecentParams;
use super::job::{Job, Outcome};
use super::live::{LiveState, Traces};

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Written through a temporary file: a failure leaves no partial file.
    #[error(transparent)]
    Write(#[from] crate::atomic_write::AtomicWriteError),
    #[error(transparent)]
    Data(#[from] DataError),
    #[error("the area to export is empty or outside the window")]
    EmptyCrop,
    #[error("{what} has {got} values, expected {expected}")]
    Shape {
        what: &'static str,
        expected: usize,
        got: usize,
    },
    #[error(transparent)]
    Reconstruct(#[from] ReconstructError),
}

/// Writes the traces as CSV: one row per sweep, columns `sweep,log_joint,rmse_sample,
/// rmse_posterior_mean`; a value a sweep does not have is left empty.
pub fn write_traces_csv(path: &Path, traces: &Traces) -> Result<(), ExportError> {
    let columns: [&[PlotPoint]; 3] = [&traces.log_joint, &traces.rmse_sample, &traces.rmse_mean];
    let mut sweeps: Vec<f64> = columns.iter().flat_map(|c| c.iter().map(|p| p.x)).collect();
    sweeps.sort_by(f64::total_cmp);
    sweeps.dedup();
    let mut cursors = [0usize; 3];
    let mut out = String::from("sweep,log_joint,rmse_sample,rmse_posterior_mean\n");
    for sweep in sweeps {
        out.push_str(&format!("{sweep}"));
        for (column, cursor) in columns.iter().zip(cursors.iter_mut()) {
            out.push(',');
            while column.get(*cursor).is_some_and(|p| p.x < sweep) {
                *cursor += 1;
            }
            if let Some(p) = column.get(*cursor).filter(|p| p.x == sweep) {
                // Rust's shortest round-trip formatting: the CSV reads back exactly.
                out.push_str(&format!("{}", p.y));
            }
        }
        out.push('\n');
    }
    Ok(crate::atomic_write::write_bytes(path, out.as_bytes())?)
}

/// Writes `n` images of `height` x `width` f32 values (row-major) as an IDX file (type f32,
/// dimensions n, height, width).
pub fn write_images_idx(
    path: &Path,
    (n, height, width): (usize, usize, usize),
    values: &[f32],
) -> Result<(), ExportError> {
    let expected = n * height * width;
    if values.len() != expected {
        return Err(ExportError::Shape {
            what: "image data",
            expected,
            got: values.len(),
        });
    }
    Ok(write_idx_f32(path, &[n, height, width], values)?)
}

/// Writes masks as an IDX file of unsigned bytes (1 = missing), dimensions n, height, width:
/// the format the app and the CLI read masks from.
pub fn write_masks_idx(path: &Path, masks: &MaskSet) -> Result<(), ExportError> {
    let bytes: Vec<u8> = masks.missing.iter().map(|&m| u8::from(m)).collect();
    Ok(write_idx_u8(
        path,
        &[masks.n, masks.height, masks.width],
        &bytes,
    )?)
}

/// Crops a screenshot to `rect` (in points; the screenshot is in physical pixels) and writes
/// it as PNG.
pub fn write_png_crop(
    path: &Path,
    screenshot: &ColorImage,
    rect: Rect,
    pixels_per_point: f32,
) -> Result<(), ExportError> {
    let [width, height] = screenshot.size;
    let scale = if pixels_per_point.is_finite() && pixels_per_point > 0.0 {
        pixels_per_point
    } else {
        1.0
    };
    let clamp = |v: f32, max: usize| (v * scale).round().clamp(0.0, max as f32) as usize;
    let (x0, x1) = (clamp(rect.min.x, width), clamp(rect.max.x, width));
    let (y0, y1) = (clamp(rect.min.y, height), clamp(rect.max.y, height));
    if !rect.is_finite() || x1 <= x0 || y1 <= y0 {
        return Err(ExportError::EmptyCrop);
    }
    let mut rgba = Vec::with_capacity((x1 - x0) * (y1 - y0) * 4);
    for y in y0..y1 {
        for x in x0..x1 {
            let c = screenshot.pixels[y * width + x];
            rgba.extend_from_slice(&c.to_srgba_unmultiplied());
        }
    }
    let (width, height) = ((x1 - x0) as u32, (y1 - y0) as u32);
    Ok(crate::atomic_write::write_with(path, |w| {
        use image::ImageEncoder;
        image::codecs::png::PngEncoder::new(w)
            .write_image(&rgba, width, height, image::ExtendedColorType::Rgba8)
            .map_err(std::io::Error::other)
    })?)
}

/// What can be exported, each asked for by the menu and written by a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportKind {
    /// The view shown now, as PNG.
    ViewPng,
    /// The scalar traces, as CSV.
    TracesCsv,
    /// The chain's posterior mean and std of every pixel, as two IDX files.
    PosteriorSummary,
    /// The conditional completion from recent samples, as two IDX files.
    Completion,
    /// The masks, as IDX.
    Masks,
    /// Data source, settings, masks, traces and summaries in one file.
    Session,
}

impl ExportKind {
    pub const ALL: [ExportKind; 6] = [
        ExportKind::ViewPng,
        ExportKind::TracesCsv,
        ExportKind::PosteriorSummary,
        ExportKind::Completion,
        ExportKind::Masks,
        ExportKind::Session,
    ];

    /// The save dialog's title, suggested file name, filter name and extensions.
    pub fn dialog(self) -> (&'static str, String, &'static str, Vec<&'static str>) {
        let session = crate::session::EXTENSION;
        match self {
            ExportKind::ViewPng => (
                "Save the view as PNG",
                "view.png".into(),
                "PNG image",
                vec!["png"],
            ),
            ExportKind::TracesCsv => ("Save the traces", "traces.csv".into(), "CSV", vec!["csv"]),
            ExportKind::PosteriorSummary => (
                "Save the posterior mean (the std goes beside it)",
                "posterior-mean-idx3-float".into(),
                "IDX",
                vec!["idx", "idx3-float"],
            ),
            ExportKind::Completion => (
                "Save the imputed data (the std goes beside it)",
                "imputed-idx3-float".into(),
                "IDX",
                vec!["idx", "idx3-float"],
            ),
            ExportKind::Masks => (
                "Save the masks",
                "masks-idx3-ubyte".into(),
                "IDX",
                vec!["idx", "idx3-ubyte"],
            ),
            ExportKind::Session => (
                "Save the session",
                format!("experiment.{session}"),
                "gibbs-fa session",
                vec![session],
            ),
        }
    }
}

/// A screenshot on its way to a file.
struct PendingShot {
    path: PathBuf,
    rect: Rect,
    pixels_per_point: f32,
    rx: Receiver<Arc<ColorImage>>,
    asked: Instant,
}

/// The chain's posterior summary asked for, to be written to `path` when it arrives.
struct PendingSummary {
    path: PathBuf,
    asked: Instant,
    /// The request still has to go to the sampler (the app sends it).
    unsent: bool,
}

/// Longest wait for the sampler's answer to a summary request (it answers after the sweep
/// in progress).
const SUMMARY_PATIENCE: Duration = Duration::from_secs(30);

/// What an export needs from the app, borrowed for the moment it starts.
pub struct ExportSources<'a> {
    pub live: &'a LiveState,
    /// Recent posterior samples (from [`super::editor::Editors::params`]), for the imputation.
    pub samples: &'a RecentParams,
    /// The area of the view shown now, in points, for the PNG.
    pub view_rect: Rect,
    /// The session's parts (see [`SessionParts`]), taken only when a session is saved.
    pub session: &'a dyn Fn() -> SessionParts,
}

/// What a session is built from, all cheap to take on the UI thread (shared or small): the
/// session itself (with the data's fingerprint, a pass over the data) is built on a job's
/// thread by [`SessionParts::build`].
pub struct SessionParts {
    pub data: DataRecord,
    /// What was loaded from `data`, for the fingerprint.
    pub dataset: Option<Arc<Dataset>>,
    pub experiment: Arc<Experiment>,
    pub settings: SamplerSettings,
    pub traces: crate::model::Traces,
    pub snapshot: Option<Snapshot>,
    pub full: Option<Arc<FullSummary>>,
}

impl SessionParts {
    /// The parts of the session of `live`'s chain.
    pub fn of(
        data: DataRecord,
        dataset: Option<Arc<Dataset>>,
        settings: &SamplerSettings,
        live: &LiveState,
    ) -> Self {
        SessionParts {
            data,
            dataset,
            experiment: Arc::clone(live.experiment()),
            settings: settings.clone(),
            traces: session_traces(live.traces()),
            snapshot: live.snapshot().cloned(),
            full: live.full_summary_shared(),
        }
    }

    /// The session: data source and fingerprint, settings, masks (painted ones too), traces,
    /// and the newest snapshot's posterior summaries with the pixel posterior when the full
    /// summary was taken at the same sweep.
    pub fn build(self) -> Session {
        let experiment = &self.experiment;
        Session {
            data: self.data,
            data_fingerprint: self
                .dataset
                .as_deref()
                .and_then(|d| data_fingerprint(d, experiment.n)),
            spec: experiment.spec.clone(),
            settings: self.settings,
            masks: experiment.mask.clone(),
            traces: self.traces,
            posterior: self.snapshot.as_ref().map(|s| {
                PosteriorSummary::from_snapshot(
                    s,
                    pixel_posterior(self.full.as_deref(), s, experiment),
                )
            }),
            front_end: None,
        }
    }
}

/// The pixel posterior (every image's posterior mean and std) when `full` was taken at the
/// snapshot's sweep for this experiment, so a session saves both together.
fn pixel_posterior(
    full: Option<&FullSummary>,
    snapshot: &Snapshot,
    experiment: &Experiment,
) -> Option<crate::model::MeanStd> {
    let full = full?;
    let nd = experiment.n.checked_mul(experiment.d())?;
    (full.iteration == snapshot.iteration
        && (full.n, full.d) == (experiment.n, experiment.d())
        && full.mean.len() == nd
        && full.std.len() == nd)
        .then(|| crate::model::MeanStd {
            mean: full.mean.clone(),
            std: full.std.clone(),
        })
}

/// Export state: the screenshot or summary awaited, the job writing, the last outcome.
#[derive(Default)]
pub struct Exporter {
    shot: Option<PendingShot>,
    job: Option<Job<String>>,
    summary: Option<PendingSummary>,
    /// The last outcome: Ok(message) or Err(message), shown until the next export.
    status: Option<Result<String, String>>,
}

impl Exporter {
    /// True while an export is on its way (one at a time).
    pub fn is_busy(&self) -> bool {
        self.shot.is_some() || self.job.is_some() || self.summary.is_some()
    }

    /// True once after the user asked for the chain's posterior summary: the app then sends
    /// `Command::RequestSummary` (after clearing the old summary from the live state).
    pub fn take_summary_request(&mut self) -> bool {
        match &mut self.summary {
            Some(p) if p.unsent => {
                p.unsent = false;
                true
            }
            _ => false,
        }
    }

    /// Starts exporting `kind` to `path` (chosen in a save dialog) from `sources`.
    pub fn start(
        &mut self,
        ctx: &egui::Context,
        kind: ExportKind,
        path: PathBuf,
        sources: ExportSources<'_>,
    ) {
        if self.is_busy() {
            self.status = Some(Err("Another export is still being written.".into()));
            return;
        }
        let ExportSources {
            live,
            samples,
            view_rect,
            session,
        } = sources;
        let saved = |path: &Path| format!("Saved {}", path.display());
        match kind {
            ExportKind::ViewPng => self.request_png(ctx, view_rect, path),
            ExportKind::TracesCsv => {
                let traces = live.traces().clone();
                self.spawn(ctx, "Writing the traces", move |_| {
                    write_traces_csv(&path, &traces)
                        .map(|()| saved(&path))
                        .map_err(|e| e.to_string())
                });
            }
            ExportKind::PosteriorSummary => {
                self.summary = Some(PendingSummary {
                    path,
                    asked: Instant::now(),
                    unsent: true,
                });
            }
            ExportKind::Completion => self.start_imputation(ctx, live.experiment(), samples, path),
            ExportKind::Masks => {
                let experiment = Arc::clone(live.experiment());
                self.spawn(ctx, "Writing the masks", move |_| {
                    write_masks_idx(&path, &experiment.mask)
                        .map(|()| saved(&path))
                        .map_err(|e| e.to_string())
                });
            }
            ExportKind::Session => {
                let parts = session();
                self.spawn(ctx, "Saving the session", move |p| {
                    p.report(None, "building the session");
                    let session = parts.build();
                    p.report(None, format!("writing {}", path.display()));
                    session
                        .save(&path)
                        .map(|()| format!("Saved the session to {}", path.display()))
                        .map_err(|e| e.to_string())
                });
            }
        }
    }

    /// Writes the chain's posterior mean and std once the summary asked for has arrived in
    /// `live`. Call every frame.
    pub fn poll_summary(&mut self, ctx: &egui::Context, live: &LiveState) {
        let Some(pending) = &self.summary else {
            return;
        };
        if pending.unsent {
            return;
        }
        let Some(summary) = live.full_summary_shared() else {
            if pending.asked.elapsed() > SUMMARY_PATIENCE {
                self.status = Some(Err(
                    "The sampler did not send its posterior summary (has the chain stopped?)."
                        .into(),
                ));
                self.summary = None;
            } else {
                ctx.request_repaint_after(Duration::from_millis(50));
            }
            return;
        };
        let path = pending.path.clone();
        self.summary = None;
        let (height, width) = live.image_shape();
        let shape = (summary.n, height, width);
        let note = if summary.samples_in_moments == 0 {
            " (still in burn-in: the current sample, std 0)".to_string()
        } else {
            format!(" ({} sweeps averaged)", summary.samples_in_moments)
        };
        self.spawn(ctx, "Writing the posterior summary", move |_| {
            write_mean_and_std(&path, shape, &summary.mean, &summary.std)
                .map(|saved| format!("{saved}{note}"))
                .map_err(|e| e.to_string())
        });
    }

    /// Runs `work` as the exporter's job; its outcome is collected by [`Self::poll`].
    fn spawn(
        &mut self,
        ctx: &egui::Context,
        what: &'static str,
        work: impl FnOnce(&super::job::Progress<String>) -> Result<String, String> + Send + 'static,
    ) {
        self.job = Some(Job::spawn(what, ctx, work));
    }

    /// Asks for a screenshot of the next frame, to be cropped to `rect` (the view, in points)
    /// and written to `path` by a job once it arrives.
    fn request_png(&mut self, ctx: &egui::Context, rect: Rect, path: PathBuf) {
        let (tx, rx) = crossbeam_channel::bounded(1);
        let repaint = ctx.clone();
        ctx.request_screenshot(move |image| {
            let _ = tx.send(image);
            repaint.request_repaint();
        });
        self.shot = Some(PendingShot {
            path,
            rect,
            pixels_per_point: ctx.pixels_per_point(),
            rx,
            asked: Instant::now(),
        });
        ctx.request_repaint();
    }

    /// Finishes whatever arrived: hands a screenshot that came in to a job, collects a
    /// finished job. [`Self::status_ui`] calls it every frame.
    pub fn poll(&mut self, ctx: &egui::Context) {
        if let Some(shot) = &self.shot {
            match shot.rx.try_recv() {
                Ok(image) => {
                    let PendingShot {
                        path,
                        rect,
                        pixels_per_point,
                        ..
                    } = self.shot.take().expect("checked above");
                    self.spawn(ctx, "Writing the picture", move |_| {
                        write_png_crop(&path, &image, rect, pixels_per_point)
                            .map(|()| format!("Saved {}", path.display()))
                            .map_err(|e| e.to_string())
                    });
                }
                Err(TryRecvError::Empty) if shot.asked.elapsed().as_secs() > 10 => {
                    self.status = Some(Err("The window did not deliver a screenshot.".into()));
                    self.shot = None;
                }
                Err(TryRecvError::Empty) => ctx.request_repaint(),
                Err(TryRecvError::Disconnected) => {
                    self.status = Some(Err("The screenshot was not taken.".into()));
                    self.shot = None;
                }
            }
        }
        if let Some(job) = &mut self.job
            && let Some(outcome) = job.poll()
        {
            self.status = Some(match outcome {
                Outcome::Finished(message) => Ok(message),
                Outcome::Failed(message) => Err(message),
                Outcome::Cancelled => Err("cancelled".into()),
            });
            self.job = None;
        }
    }

    /// The export and session menu. Each entry returns what to export; the app asks for the
    /// file (a save dialog on a job) and then calls [`Self::start`].
    pub fn menu_ui(ui: &mut egui::Ui, busy: bool, has_samples: bool) -> Option<MenuChoice> {
        let mut chosen = None;
        let mut entry = |ui: &mut egui::Ui, enabled: bool, label: &str, tip: &str, choice| {
            if ui
                .add_enabled(enabled, egui::Button::new(label))
                .on_hover_text(tip)
                .clicked()
            {
                chosen = Some(choice);
                ui.close();
            }
        };
        entry(
            ui,
            !busy,
            "View as PNG…",
            "A picture of the view shown now",
            MenuChoice::Export(ExportKind::ViewPng),
        );
        entry(
            ui,
            !busy,
            "Traces as CSV…",
            "One row per sweep: log joint and RMSE",
            MenuChoice::Export(ExportKind::TracesCsv),
        );
        entry(
            ui,
            !busy,
            "Posterior mean and std as IDX…",
            "Every image with its missing pixels at the chain's own posterior mean (the \
             average of the sampled values after burn-in), and their posterior std; two IDX \
             files, written once the sampler has answered",
            MenuChoice::Export(ExportKind::PosteriorSummary),
        );
        entry(
            ui,
            !busy && has_samples,
            "Conditional completion as IDX…",
            "Every image with its missing pixels at the conditional mean given its observed \
             pixels, averaged over the last few posterior samples of W, mu and sigma^2 (not \
             the chain's running average), and the std of that completion; two IDX files",
            MenuChoice::Export(ExportKind::Completion),
        );
        entry(
            ui,
            !busy,
            "Masks as IDX…",
            "The masks (painted ones too), 1 = missing",
            MenuChoice::Export(ExportKind::Masks),
        );
        ui.separator();
        entry(
            ui,
            !busy,
            "Save session…",
            "Data source, settings, masks (painted ones too), traces and posterior summaries in one file",
            MenuChoice::Export(ExportKind::Session),
        );
        entry(
            ui,
            true,
            "Open session…",
            "Reopen a saved session: its data is checked against the saved one, and its \
             traces and posterior summaries are shown as saved",
            MenuChoice::OpenSession,
        );
        chosen
    }

    /// Computes the imputation of `experiment` on a job and writes `path` (means) and
    /// `path` + "-std".
    fn start_imputation(
        &mut self,
        ctx: &egui::Context,
        experiment: &Arc<Experiment>,
        samples: &RecentParams,
        path: PathBuf,
    ) {
        let params: Vec<Arc<FactorParams>> = samples.samples().cloned().collect();
        let experiment = Arc::clone(experiment);
        self.spawn(ctx, "Imputing for export", move |progress| {
            let total = experiment.n;
            let counter = Arc::new(std::sync::atomic::AtomicUsize::new(0));
            let done = Arc::clone(&counter);
            let refs: Vec<&FactorParams> = params.iter().map(Arc::as_ref).collect();
            let shape = (experiment.n, experiment.height, experiment.width);
            std::thread::scope(|scope| {
                let watcher = scope.spawn(|| {
                    while done.load(std::sync::atomic::Ordering::Relaxed) < total
                        && !progress.cancelled()
                    {
                        let k = done.load(std::sync::atomic::Ordering::Relaxed);
                        progress.report(
                            Some(k as f32 / total.max(1) as f32),
                            format!("{k} of {total} images"),
                        );
                        std::thread::sleep(Duration::from_millis(100));
                    }
                });
                let result = complete_dataset(
                    &refs,
                    &experiment.x_true,
                    &experiment.mask.missing,
                    experiment.n,
                    Some(&counter),
                )
                .map_err(ExportError::from)
                .and_then(|rec| write_mean_and_std(&path, shape, &rec.mean, &rec.std))
                .map_err(|e| e.to_string());
                done.store(total, std::sync::atomic::Ordering::Relaxed);
                let _ = watcher.join();
                result
            })
        });
    }

    /// One line: progress of a job, or the last outcome (errors in the error colour).
    pub fn status_ui(&mut self, ui: &mut egui::Ui) {
        self.poll(ui.ctx());
        let mut cancel = false;
        if let Some(job) = &self.job {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(format!("{}: {}", job.label(), job.status()));
                cancel = ui.small_button("Cancel").clicked();
            });
        } else if self.shot.is_some() {
            ui.label("Taking the picture…");
        } else if self.summary.is_some() {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Waiting for the sampler's posterior summary…");
            });
        }
        if cancel && let Some(job) = &self.job {
            job.cancel();
        }
        let mut dismiss = false;
        if let Some(status) = &self.status {
            ui.horizontal(|ui| {
                match status {
                    Ok(message) => ui.label(message.as_str()),
                    Err(message) => ui.colored_label(
                        ui.visuals().error_fg_color,
                        format!("Export failed: {message}"),
                    ),
                };
                dismiss = ui.small_button("Dismiss").clicked();
            });
        }
        if dismiss {
            self.status = None;
        }
    }

    /// Asks for the chain's posterior summary to be written to `path`, as the menu entry
    /// does after its save dialog (tests only).
    #[cfg(test)]
    pub fn request_summary_to(&mut self, path: PathBuf) {
        self.summary = Some(PendingSummary {
            path,
            asked: Instant::now(),
            unsent: true,
        });
    }

    /// Waits (up to 60 s) for the export in progress and returns its outcome (tests only).
    #[cfg(test)]
    pub fn wait_for_outcome(&mut self, ctx: &egui::Context) -> Option<Result<String, String>> {
        let deadline = Instant::now() + Duration::from_secs(60);
        while (self.job.is_some() || self.shot.is_some()) && Instant::now() < deadline {
            self.poll(ctx);
            std::thread::sleep(Duration::from_millis(5));
        }
        self.status.take()
    }
}

/// A menu entry chosen: something to export, or a session to open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MenuChoice {
    Export(ExportKind),
    OpenSession,
}

/// The live traces in the library's form (one value per sweep, in order) for a session; the
/// per-sweep times are not kept by the live state, so they are left empty.
pub fn session_traces(traces: &Traces) -> crate::model::Traces {
    let ys = |points: &[PlotPoint]| points.iter().map(|p| p.y).collect();
    crate::model::Traces {
        log_joint: ys(&traces.log_joint),
        rmse_sample: ys(&traces.rmse_sample),
        rmse_posterior_mean: ys(&traces.rmse_mean),
        seconds: Vec::new(),
    }
}

/// Writes a posterior mean to `path` and its std beside it ([`std_path_for`]), both as
/// N x H x W f32 IDX; returns the "Saved ... and ..." line for the status.
fn write_mean_and_std(
    path: &Path,
    shape: (usize, usize, usize),
    mean: &[f32],
    std: &[f32],
) -> Result<String, ExportError> {
    let std_path = std_path_for(path);
    write_images_idx(path, shape, mean)?;
    write_images_idx(&std_path, shape, std)?;
    Ok(format!(
        "Saved {} and {}",
        path.display(),
        std_path.display()
    ))
}

/// Where the std file of an imputation export goes: beside the means, "-std" added.
pub fn std_path_for(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push("-std");
    path.with_file_name(name)
}
