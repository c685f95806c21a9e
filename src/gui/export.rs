//! Export from the app: a view as PNG (the app's own screenshot, cropped to the view), the
//! traces as CSV, the imputed data and its posterior std as IDX, the masks as IDX.
//!
//! The file writers are plain functions taking a path (tests call them directly); the
//! [`Exporter`] adds save dialogs, the screenshot round trip (the image arrives on a later
//! frame) and a background job for the imputation, and shows errors in the window.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crossbeam_channel::{Receiver, TryRecvError};
use egui::{ColorImage, Rect};
use egui_plot::PlotPoint;
use gibbs_fa::data::DataError;
use gibbs_fa::data::Dataset;
use gibbs_fa::data::idx::{write_idx_f32, write_idx_u8};
use gibbs_fa::experiment::Experiment;
use gibbs_fa::masks::MaskSet;
use gibbs_fa::model::SamplerSettings;
use gibbs_fa::reconstruct::{FactorParams, ReconstructError, complete_dataset};
use gibbs_fa::session::{DataRecord, PosteriorSummary, Session, data_fingerprint};

use super::editor::RecentParams;
use super::live::{LiveState, Traces};

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("could not write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Data(#[from] DataError),
    #[error("could not write the PNG {path}: {source}")]
    Png {
        path: PathBuf,
        source: image::ImageError,
    },
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
    std::fs::write(path, out).map_err(|source| ExportError::Io {
        path: path.to_path_buf(),
        source,
    })
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
    image::save_buffer_with_format(
        path,
        &rgba,
        (x1 - x0) as u32,
        (y1 - y0) as u32,
        image::ExtendedColorType::Rgba8,
        image::ImageFormat::Png,
    )
    .map_err(|source| ExportError::Png {
        path: path.to_path_buf(),
        source,
    })
}

/// A save dialog; `None` when the user cancels.
fn ask_path(title: &str, file_name: &str, filter: &str, extensions: &[&str]) -> Option<PathBuf> {
    rfd::FileDialog::new()
        .set_title(title)
        .set_file_name(file_name)
        .add_filter(filter, extensions)
        .save_file()
}

/// A screenshot on its way to a file.
struct PendingShot {
    path: PathBuf,
    rect: Rect,
    pixels_per_point: f32,
    rx: Receiver<Arc<ColorImage>>,
    asked: std::time::Instant,
}

/// An imputation being computed (or files being written) for export.
struct ImputeJob {
    /// What the job does, for the status line.
    what: &'static str,
    progress: Arc<AtomicUsize>,
    total: usize,
    rx: Receiver<Result<String, String>>,
}

/// The chain's posterior summary asked for, to be written to `path` when it arrives.
struct PendingSummary {
    path: PathBuf,
    asked: std::time::Instant,
    /// The request still has to go to the sampler (the app sends it).
    unsent: bool,
}

/// Longest wait for the sampler's answer to a summary request (it answers after the sweep
/// in progress).
const SUMMARY_PATIENCE: std::time::Duration = std::time::Duration::from_secs(30);

/// What the export menu needs from the app.
pub struct ExportSources<'a> {
    pub live: &'a LiveState,
    /// The experiment the sampler runs on (masks, X_true).
    pub experiment: &'a Arc<Experiment>,
    /// Recent posterior samples (from [`super::editor::Editors::params`]), for the imputation.
    pub samples: &'a RecentParams,
    /// The area of the view shown now, in points, for the PNG.
    pub view_rect: Rect,
    /// Builds the session to save; called only when the user saves (see [`build_session`]).
    pub session: &'a dyn Fn() -> Session,
}

/// A session of the running experiment: `data` says where its images came from (and
/// `dataset` is what was loaded from there, for the fingerprint), with the live traces and the
/// newest snapshot's posterior summaries.
pub fn build_session(
    data: DataRecord,
    dataset: Option<&Dataset>,
    experiment: &Experiment,
    settings: &SamplerSettings,
    live: &LiveState,
) -> Session {
    Session {
        data,
        data_fingerprint: dataset.and_then(|d| data_fingerprint(d, experiment.n)),
        spec: experiment.spec.clone(),
        settings: settings.clone(),
        masks: experiment.mask.clone(),
        traces: session_traces(live.traces()),
        posterior: live
            .snapshot()
            .map(|s| PosteriorSummary::from_snapshot(s, pixel_posterior(live, s, experiment))),
        front_end: None,
    }
}

/// The pixel posterior (every image's posterior mean and std) when the live state holds one
/// taken at the snapshot's sweep for this experiment, so a session saves both together.
fn pixel_posterior(
    live: &LiveState,
    snapshot: &gibbs_fa::sampler::Snapshot,
    experiment: &Experiment,
) -> Option<gibbs_fa::model::MeanStd> {
    let full = live.full_summary()?;
    let nd = experiment.n.checked_mul(experiment.d())?;
    (full.iteration == snapshot.iteration
        && (full.n, full.d) == (experiment.n, experiment.d())
        && full.mean.len() == nd
        && full.std.len() == nd)
        .then(|| gibbs_fa::model::MeanStd {
            mean: full.mean.clone(),
            std: full.std.clone(),
        })
}

/// Export menu state: the screenshot in flight, the background job, the last outcome.
#[derive(Default)]
pub struct Exporter {
    shot: Option<PendingShot>,
    job: Option<ImputeJob>,
    summary: Option<PendingSummary>,
    /// The last outcome: Ok(message) or Err(message), shown until the next export.
    status: Option<Result<String, String>>,
}

impl Exporter {
    /// True while a screenshot or an imputation is on its way.
    fn is_busy(&self) -> bool {
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

    /// Writes the chain's posterior mean and std once the summary asked for has arrived in
    /// `live` (on a thread: two files of N x D floats). Call every frame.
    pub fn poll_summary(&mut self, ctx: &egui::Context, live: &LiveState) {
        let Some(pending) = &self.summary else {
            return;
        };
        if pending.unsent {
            return;
        }
        let Some(summary) = live.full_summary() else {
            if pending.asked.elapsed() > SUMMARY_PATIENCE {
                self.status = Some(Err(
                    "The sampler did not send its posterior summary (has the chain stopped?)."
                        .into(),
                ));
                self.summary = None;
            } else {
                ctx.request_repaint_after(std::time::Duration::from_millis(50));
            }
            return;
        };
        let path = pending.path.clone();
        self.summary = None;
        let (height, width) = live.image_shape();
        let shape = (summary.n, height, width);
        let (mean, std) = (summary.mean.clone(), summary.std.clone());
        let note = if summary.samples_in_moments == 0 {
            " (still in burn-in: the current sample, std 0)".to_string()
        } else {
            format!(" ({} sweeps averaged)", summary.samples_in_moments)
        };
        let progress = Arc::new(AtomicUsize::new(0));
        self.spawn_job(
            ctx,
            "Writing the posterior summary",
            progress,
            0,
            move || {
                write_mean_and_std(&path, shape, &mean, &std)
                    .map(|saved| format!("{saved}{note}"))
                    .map_err(|e| e.to_string())
            },
        );
    }

    /// Runs `work` on its own thread as the exporter's job, with `progress` out of `total`
    /// images shown in the status line (0: a spinner only) and its outcome collected by
    /// [`Self::poll`]; a thread that cannot start is reported at once.
    fn spawn_job(
        &mut self,
        ctx: &egui::Context,
        what: &'static str,
        progress: Arc<AtomicUsize>,
        total: usize,
        work: impl FnOnce() -> Result<String, String> + Send + 'static,
    ) {
        let (tx, rx) = crossbeam_channel::bounded(1);
        let repaint = ctx.clone();
        let spawned = std::thread::Builder::new()
            .name("gibbs-fa-export".into())
            .spawn(move || {
                let _ = tx.send(work());
                repaint.request_repaint();
            });
        match spawned {
            Ok(_) => {
                self.job = Some(ImputeJob {
                    what,
                    progress,
                    total,
                    rx,
                })
            }
            Err(e) => self.status = Some(Err(format!("could not start the export: {e}"))),
        }
    }

    /// Asks for a screenshot of the next frame, to be cropped to `rect` (the view, in points)
    /// and written to `path` by [`Self::poll`].
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
            asked: std::time::Instant::now(),
        });
        ctx.request_repaint();
    }

    /// Finishes whatever arrived: writes a screenshot that came in, collects a finished job.
    /// [`Self::status_ui`] calls it every frame.
    fn poll(&mut self, ctx: &egui::Context) {
        if let Some(shot) = &self.shot {
            match shot.rx.try_recv() {
                Ok(image) => {
                    let outcome =
                        write_png_crop(&shot.path, &image, shot.rect, shot.pixels_per_point)
                            .map(|()| format!("Saved {}", shot.path.display()))
                            .map_err(|e| e.to_string());
                    self.status = Some(outcome);
                    self.shot = None;
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
        if let Some(job) = &self.job {
            match job.rx.try_recv() {
                Ok(outcome) => {
                    self.status = Some(outcome);
                    self.job = None;
                }
                Err(TryRecvError::Empty) => {}
                Err(TryRecvError::Disconnected) => {
                    self.status = Some(Err("The export stopped unexpectedly.".into()));
                    self.job = None;
                }
            }
        }
    }

    /// The export and session menu (each entry opens a file dialog). Returns the session
    /// file the user chose to open, for the app to read and reopen. Export errors show in
    /// [`Self::status_ui`].
    pub fn menu_ui(&mut self, ui: &mut egui::Ui, sources: ExportSources<'_>) -> Option<PathBuf> {
        let ExportSources {
            live,
            experiment,
            samples,
            view_rect,
            session,
        } = sources;
        let busy = self.is_busy();
        if ui
            .add_enabled(!busy, egui::Button::new("View as PNG…"))
            .on_hover_text("A picture of the view shown now")
            .clicked()
            && let Some(path) = ask_path("Save the view as PNG", "view.png", "PNG image", &["png"])
        {
            self.request_png(ui.ctx(), view_rect, path);
            ui.close();
        }
        if ui.button("Traces as CSV…").clicked()
            && let Some(path) = ask_path("Save the traces", "traces.csv", "CSV", &["csv"])
        {
            self.status = Some(
                write_traces_csv(&path, live.traces())
                    .map(|()| format!("Saved {}", path.display()))
                    .map_err(|e| e.to_string()),
            );
            ui.close();
        }
        if ui
            .add_enabled(!busy, egui::Button::new("Posterior mean and std as IDX…"))
            .on_hover_text(
                "Every image with its missing pixels at the chain's own posterior mean (the \
                 average of the sampled values after burn-in), and their posterior std; two IDX \
                 files, written once the sampler has answered",
            )
            .clicked()
            && let Some(path) = ask_path(
                "Save the posterior mean (the std goes beside it)",
                "posterior-mean-idx3-float",
                "IDX",
                &["idx", "idx3-float"],
            )
        {
            self.summary = Some(PendingSummary {
                path,
                asked: std::time::Instant::now(),
                unsent: true,
            });
            ui.close();
        }
        if ui
            .add_enabled(
                !busy && !samples.is_empty(),
                egui::Button::new("Conditional completion as IDX…"),
            )
            .on_hover_text(
                "Every image with its missing pixels at the conditional mean given its observed \
                 pixels, averaged over the last few posterior samples of W, mu and sigma^2 (not \
                 the chain's running average), and the std of that completion; two IDX files",
            )
            .clicked()
            && let Some(path) = ask_path(
                "Save the imputed data (the std goes beside it)",
                "imputed-idx3-float",
                "IDX",
                &["idx", "idx3-float"],
            )
        {
            self.start_imputation(ui.ctx(), experiment, samples, path);
            ui.close();
        }
        if ui.button("Masks as IDX…").clicked()
            && let Some(path) = ask_path(
                "Save the masks",
                "masks-idx3-ubyte",
                "IDX",
                &["idx", "idx3-ubyte"],
            )
        {
            self.status = Some(
                write_masks_idx(&path, &experiment.mask)
                    .map(|()| format!("Saved {}", path.display()))
                    .map_err(|e| e.to_string()),
            );
            ui.close();
        }
        ui.separator();
        if ui
            .button("Save session…")
            .on_hover_text("Data source, settings, masks (painted ones too), traces and posterior summaries in one file")
            .clicked()
        {
            self.save_session(&session());
            ui.close();
        }
        let mut opened = None;
        if ui
            .button("Open session…")
            .on_hover_text(
                "Reopen a saved session: its data is checked against the saved one, and its \
                 traces and posterior summaries are shown as saved",
            )
            .clicked()
        {
            opened = pick_session_path();
            ui.close();
        }
        opened
    }

    /// Computes the imputation of `experiment` on a thread and writes `path` (means) and
    /// `path` + "-std".
    fn start_imputation(
        &mut self,
        ctx: &egui::Context,
        experiment: &Arc<Experiment>,
        samples: &RecentParams,
        path: PathBuf,
    ) {
        let params: Vec<Arc<FactorParams>> = samples.samples().cloned().collect();
        let total = experiment.n;
        let experiment = Arc::clone(experiment);
        let progress = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&progress);
        self.spawn_job(ctx, "Imputing for export", progress, total, move || {
            let refs: Vec<&FactorParams> = params.iter().map(Arc::as_ref).collect();
            let shape = (experiment.n, experiment.height, experiment.width);
            complete_dataset(
                &refs,
                &experiment.x_true,
                &experiment.mask.missing,
                experiment.n,
                Some(&counter),
            )
            .map_err(ExportError::from)
            .and_then(|rec| write_mean_and_std(&path, shape, &rec.mean, &rec.std))
            .map_err(|e| e.to_string())
        });
    }

    /// One line: progress of a job, or the last outcome (errors in the error colour).
    pub fn status_ui(&mut self, ui: &mut egui::Ui) {
        self.poll(ui.ctx());
        if let Some(job) = &self.job {
            ui.horizontal(|ui| {
                ui.spinner();
                let done = job.progress.load(Ordering::Relaxed);
                if job.total > 0 {
                    ui.label(format!("{}: {done} of {} images", job.what, job.total));
                } else {
                    ui.label(format!("{}…", job.what));
                }
            });
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_millis(100));
        } else if self.shot.is_some() {
            ui.label("Taking the picture…");
        } else if self.summary.is_some() {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Waiting for the sampler's posterior summary…");
            });
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
}

/// The live traces in the library's form (one value per sweep, in order) for a session; the
/// per-sweep times are not kept by the live state, so they are left empty.
pub fn session_traces(traces: &Traces) -> gibbs_fa::model::Traces {
    let ys = |points: &[PlotPoint]| points.iter().map(|p| p.y).collect();
    gibbs_fa::model::Traces {
        log_joint: ys(&traces.log_joint),
        rmse_sample: ys(&traces.rmse_sample),
        rmse_posterior_mean: ys(&traces.rmse_mean),
        seconds: Vec::new(),
    }
}

#[cfg(test)]
impl Exporter {
    /// Asks for the chain's posterior summary to be written to `path`, as the menu entry
    /// does after its save dialog.
    pub fn request_summary_to(&mut self, path: PathBuf) {
        self.summary = Some(PendingSummary {
            path,
            asked: std::time::Instant::now(),
            unsent: true,
        });
    }

    /// Waits (up to 10 s) for the export in progress and returns its outcome.
    pub fn wait_for_outcome(&mut self, ctx: &egui::Context) -> Option<Result<String, String>> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while (self.job.is_some() || self.shot.is_some()) && std::time::Instant::now() < deadline {
            self.poll(ctx);
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        self.status.take()
    }
}

impl Exporter {
    /// Asks where to save `session` and writes it; the outcome shows in [`Self::status_ui`].
    fn save_session(&mut self, session: &Session) {
        let name = format!("experiment.{}", gibbs_fa::session::EXTENSION);
        let Some(path) = ask_path(
            "Save the session",
            &name,
            "gibbs-fa session",
            &[gibbs_fa::session::EXTENSION],
        ) else {
            return;
        };
        self.status = Some(
            session
                .save(&path)
                .map(|()| format!("Saved the session to {}", path.display()))
                .map_err(|e| e.to_string()),
        );
    }
}

/// Asks which session file to open; `None` when the user cancels.
fn pick_session_path() -> Option<PathBuf> {
    rfd::FileDialog::new()
        .set_title("Open a session")
        .add_filter("gibbs-fa session", &[gibbs_fa::session::EXTENSION])
        .pick_file()
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
