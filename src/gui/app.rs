//! The desktop app: settings at the left, run controls at the top, live views in the middle.
//!
//! This file wires the parts together. Each frame: finished jobs are collected (the chain
//! build, a file dialog, a mask file), sampler events are folded into the live state, the
//! panels draw and queue [`AppCommand`]s, and the queue is applied once, in order; then the
//! chain manager sends settings that apply at the next sweep and rebuilds the chain when a
//! restart setting changed.
//!
//! Threads: all of it runs on the UI thread and returns within a frame. Files, dialogs,
//! chain builds, PCA and exports are [`Job`]s; the sampler runs on its own thread.
//! The central area's dispatch to the views is in [`central`], what scripts and tests read
//! and set in [`access`].

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui::{RichText, Ui};

use super::chain::ChainManager;
use super::chrome::{self, ExportMenu};
use super::command::{AppCommand, Commands};
use super::compare::{ChainRow, CompareView};
use super::controls::{self, FrameStats};
use super::editor::{EditorAction, EditorTab, Editors};
use super::export::{ExportSources, Exporter, SessionParts};
use super::files::Dialogs;
use super::job::{Job, Outcome};
use super::lesson::Lesson;
use super::live::LiveState;
use super::notes::{ErrorNote, Notes};
use super::panels::{self, PaintedMasks, data::DataPanel};
use super::pca_view::PcaView;
use super::persist::{Persisted, remembered};
use super::settings::{RestartKey, Settings};
use super::side_panel;
use super::views::{ViewTab, Views, Workspace};
use crate::sampler::{Command, RunState};
use crate::session::DataRecord;

mod access;
mod central;

/// Options of this start of the app (command line), on top of the remembered settings.
#[derive(Clone, Debug, Default)]
pub struct AppOptions {
    /// Data to load instead of the remembered source.
    pub data: Option<PathBuf>,
    /// Start sampling as soon as the first chain is built (screenshots, demos).
    pub autostart: bool,
    /// Override the remembered N.
    pub n: Option<usize>,
    /// Override the remembered M.
    pub m: Option<usize>,
    /// Fill up to N with shifted copies when N is more than the data holds.
    pub tile_shifts: bool,
    /// Print the frame times to stderr every frame (measuring responsiveness).
    pub frame_log: bool,
    /// Ignore the remembered settings (tests, reproducible screenshots).
    pub fresh: bool,
    /// Close the window this long after the start, the way a user closes it (measuring how
    /// fast the app exits mid-run).
    pub close_after: Option<Duration>,
    /// A session file to reopen on the first frame (instead of building the settings' chain).
    pub session: Option<PathBuf>,
}

/// The desktop app.
pub struct GibbsApp {
    /// The settings as edited in the side panel.
    settings: Settings,
    tab: ViewTab,
    workspace: Workspace,
    views: Views,
    editors: Editors,
    pca: PcaView,
    lesson: Lesson,
    compare: CompareView,
    exporter: Exporter,
    dialogs: Dialogs,
    /// Masks read from a file, becoming painted masks.
    mask_file: Option<Job<PaintedMasks>>,
    /// The area of the central view last frame, in points (what "View as PNG" saves).
    view_rect: egui::Rect,
    show_frame_times: bool,
    data_panel: DataPanel,
    chains: ChainManager,
    notes: Notes,
    commands: Commands,
    frames: FrameStats,
    options: AppOptions,
    started: Instant,
}

impl GibbsApp {
    /// The app with the remembered settings (unless `options.fresh`), overridden by `options`.
    /// The first chain is built in the background on the first frame.
    pub fn new(cc: &eframe::CreationContext<'_>, options: AppOptions) -> Self {
        let (persisted, notes) = if options.fresh {
            (Persisted::default(), Vec::new())
        } else {
            remembered(cc.storage)
        };
        Self::with_persisted(persisted, notes, options)
    }

    /// The app with `persisted` as the remembered state and `notes` to show.
    pub(crate) fn with_persisted(
        persisted: Persisted,
        notes: Vec<ErrorNote>,
        mut options: AppOptions,
    ) -> Self {
        let mut settings = persisted.settings;
        if let Some(path) = &options.data {
            settings.data.source = panels::SourceChoice::Path(path.clone());
        }
        if let Some(n) = options.n {
            settings.data.n = n.max(1);
        }
        if options.tile_shifts {
            settings.data.tile_shifts = true;
        }
        if let Some(m) = options.m {
            settings.model.hyper.m = m.max(1);
        }
        let mut commands = Commands::default();
        if let Some(path) = options.session.take() {
            commands.push(AppCommand::OpenSession(path));
        }
        GibbsApp {
            settings,
            tab: persisted.tab.unwrap_or(ViewTab::Traces),
            workspace: persisted.workspace.unwrap_or(Workspace::View),
            views: persisted.views,
            editors: Editors::default(),
            pca: PcaView::default(),
            lesson: Lesson::default(),
            compare: CompareView::default(),
            exporter: Exporter::default(),
            dialogs: Dialogs::default(),
            mask_file: None,
            view_rect: egui::Rect::NOTHING,
            show_frame_times: persisted.show_frame_times || options.frame_log,
            data_panel: DataPanel::new(),
            chains: ChainManager::new(options.autostart),
            notes: {
                let mut shown = Notes::default();
                shown.extend(notes);
                shown
            },
            commands,
            frames: FrameStats::default(),
            options,
            started: Instant::now(),
        }
    }

    /// The restart key of the edited settings, with the data source resolved.
    fn wanted(&self) -> RestartKey {
        RestartKey::of(
            &self.settings,
            self.data_panel.resolve(&self.settings.data.source),
        )
    }

    /// Queues a command as a click would (scripts, tests, the UI benchmark).
    pub fn queue(&mut self, command: AppCommand) {
        self.commands.push(command);
    }

    /// Applies the queued commands, in order.
    fn apply_commands(&mut self, ctx: &egui::Context) {
        for command in self.commands.take() {
            self.apply(ctx, command);
        }
    }

    fn apply(&mut self, ctx: &egui::Context, command: AppCommand) {
        match command {
            AppCommand::Run(action) => {
                let wanted = self.wanted();
                self.chains.act(ctx, action, &mut self.settings, wanted);
            }
            AppCommand::ConfirmRestart => self.chains.confirm_restart(),
            AppCommand::KeepChain => self.chains.keep_chain(&mut self.settings),
            AppCommand::CancelBuild => {
                self.chains
                    .cancel_build(&mut self.settings, &mut self.notes);
            }
            AppCommand::RestoreDefaults => {
                let source = self.settings.data.source.clone();
                self.settings = Settings::default();
                self.settings.data.source = source;
            }
            AppCommand::Ask(purpose) => self.dialogs.ask(ctx, purpose),
            AppCommand::ExportTo(kind, path) => self.export_to(ctx, kind, path),
            AppCommand::OpenSession(path) => {
                let wanted = self.wanted();
                self.chains.open_session(ctx, &self.settings, wanted, path);
            }
            AppCommand::UseData(path) => {
                self.data_panel.choose_path(&mut self.settings.data, path);
            }
            AppCommand::OpenMasks(path) => self.open_mask_file(ctx, path),
            AppCommand::ApplyMask { image, missing } => {
                self.chains
                    .apply_painted(image, missing, &mut self.settings, &mut self.notes);
            }
            AppCommand::RecentreEachSweep => self.settings.model.recentre = true,
            AppCommand::ShowView(tab) => {
                self.tab = tab;
                self.workspace = Workspace::View;
            }
            AppCommand::EditImage(index) => {
                let Some(chain) = self.chains.chain() else {
                    return;
                };
                match self.editors.open_image(&chain.live, index) {
                    Ok(()) => self.workspace = Workspace::MaskEditor,
                    Err(e) => self.notes.push(ErrorNote::new("Cannot edit", e)),
                }
            }
            AppCommand::Lesson(action) => {
                let chain = self.chains.chain();
                let source = chain.map(|c| (c.experiment(), &self.settings));
                if let Some(next) = self.lesson.apply(ctx, action, source) {
                    self.apply(ctx, next);
                }
            }
            AppCommand::ApplyPreset { preset, run } => {
                match self.lesson.preset_run(&preset, run, &self.settings) {
                    Ok(settings) => {
                        self.settings = settings;
                        let wanted = self.wanted();
                        self.chains.start_build(ctx, &self.settings, wanted, true);
                    }
                    Err(e) => self.notes.push(ErrorNote::new("No such experiment", e)),
                }
            }
            AppCommand::RunComparison => {
                if let Some(chain) = self.chains.chain() {
                    let watched = chain.live.wanted_images();
                    let (experiment, data) = (chain.experiment(), chain.data_version);
                    let model = &chain.settings.model;
                    self.compare.start(ctx, experiment, data, model, &watched);
                }
            }
            AppCommand::CancelComparison => self.compare.cancel(),
            AppCommand::SaveComparison(path) => self.compare.save(ctx, path),
        }
        ctx.request_repaint();
    }

    fn export_to(&mut self, ctx: &egui::Context, kind: super::export::ExportKind, path: PathBuf) {
        let Some(chain) = self.chains.chain() else {
            return;
        };
        let dataset = self.chains.dataset().cloned();
        let session = || {
            let data = DataRecord::from_source(
                &chain.key.source,
                None,
                chain.settings.data.n,
                chain.settings.data.seed,
            );
            SessionParts::of(data, dataset.clone(), &chain.settings.model, &chain.live)
        };
        self.exporter.start(
            ctx,
            kind,
            path,
            ExportSources {
                live: &chain.live,
                samples: self.editors.params(),
                view_rect: self.view_rect,
                session: &session,
            },
        );
    }

    /// Reads masks from an IDX file on a job: they become painted masks over the current
    /// images (those that differ from the generated ones), which restarts the chain.
    fn open_mask_file(&mut self, ctx: &egui::Context, path: PathBuf) {
        let Some(chain) = self.chains.chain() else {
            self.notes.push(ErrorNote::new(
                "Masks need images",
                "Open the masks once the data has loaded.",
            ));
            return;
        };
        let e = chain.experiment();
        let (n, height, width) = (e.n, e.height, e.width);
        let masks = self.settings.masks.clone();
        self.mask_file = Some(Job::spawn("reading masks", ctx, move |p| {
            p.report(None, format!("reading {}", path.display()));
            let read = crate::masks::read_mask_file(&path, n, height, width)
                .map_err(|e| format!("{e}\n\nFile: {}", path.display()))?;
            let generated = crate::masks::generate(n, height, width, &masks.params, masks.seed)
                .map_err(|e| e.to_string())?;
            Ok(PaintedMasks::difference(
                &generated.missing,
                &read.missing,
                height * width,
            ))
        }));
    }

    /// Collects finished jobs that are not the chain's: a dialog's path, a mask file.
    fn poll_jobs(&mut self) {
        self.compare.poll();
        match self.dialogs.poll() {
            Some(Ok(command)) => self.commands.push(command),
            Some(Err(note)) => self.notes.push(note),
            None => {}
        }
        if let Some(job) = &mut self.mask_file
            && let Some(outcome) = job.poll()
        {
            self.mask_file = None;
            match outcome {
                Outcome::Finished(painted) => self.settings.painted = painted,
                Outcome::Failed(detail) => self
                    .notes
                    .push(ErrorNote::new("Could not use the mask file", detail)),
                Outcome::Cancelled => {}
            }
        }
        // A cancel queued while the build was still running wins over the build finishing
        // before the command is applied: the finished build is dropped with it.
        if !self.commands.cancels_build()
            && let Some(installed) = self.chains.poll_build(&mut self.settings, &mut self.notes)
        {
            self.data_panel.set_available(installed.available);
        }
    }

    // ---- Drawing

    fn settings_panel(&mut self, ui: &mut Ui) {
        let chain = self.chains.chain().map(|c| side_panel::ChainMasks {
            missing_fraction: c.live.missing_fraction(),
            masks: &c.settings.masks,
        });
        let mut errors = Vec::new();
        side_panel::side_panel(
            ui,
            side_panel::SidePanel {
                settings: &mut self.settings,
                data_panel: &mut self.data_panel,
                chain,
                mask_file: self.mask_file.as_ref().map(|j| j.status()),
                dialog_open: self.dialogs.is_open(),
                commands: &mut self.commands,
                errors: &mut errors,
            },
        );
        self.notes.extend(errors);
    }

    /// With `--frame-log`, one line per frame on stderr, for measuring responsiveness.
    fn log_frame(&self) {
        if !self.options.frame_log {
            return;
        }
        let last = self.frames.last();
        let status = self.chains.run_status(self.settings.model.sweeps);
        eprintln!(
            "frame t={:.3} ui={:.2} cpu_prev={:.2} events={:.2} views={:.2} sweep={} state={}",
            self.started.elapsed().as_secs_f64(),
            last.ui,
            last.cpu,
            last.events,
            last.views,
            status.iteration,
            status.state.map_or("none", RunState::name),
        );
    }

    /// Closes the window at `--close-after`, as a user would.
    fn close_when_due(&self, ctx: &egui::Context) {
        let Some(after) = self.options.close_after else {
            return;
        };
        match after.checked_sub(self.started.elapsed()) {
            Some(left) => ctx.request_repaint_after(left),
            None => {
                let unix = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0.0, |d| d.as_secs_f64());
                eprintln!("closing the window (--close-after) at {unix:.3}");
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            }
        }
    }
}

impl eframe::App for GibbsApp {
    fn ui(&mut self, ui: &mut Ui, frame: &mut eframe::Frame) {
        let started = Instant::now();
        let ctx = ui.ctx().clone();
        self.poll_jobs();
        self.chains
            .drain_events(&ctx, &mut self.notes, &mut self.frames);
        if let Some(chain) = self.chains.chain() {
            self.editors.observe(&chain.live);
        }
        let status = self.chains.run_status(self.settings.model.sweeps);
        if let Some(action) = controls::shortcuts(&ctx, &status) {
            self.commands.push(AppCommand::Run(action));
        }
        self.lesson.poll(&ctx);
        let in_lesson = self.workspace == Workspace::Lesson;
        for command in self.lesson.shortcuts(&ctx, in_lesson) {
            self.commands.push(command);
        }
        chrome::drops(&ctx, &mut self.commands);

        let menu = ExportMenu {
            enabled: self.chains.chain().is_some(),
            busy: self.exporter.is_busy() || self.dialogs.is_open(),
            has_samples: !self.editors.params().is_empty(),
        };
        egui::Panel::top("top_bar").show(ui, |ui| {
            ui.add_space(3.0);
            chrome::top_bar(
                ui,
                &status,
                menu,
                &mut self.show_frame_times,
                &mut self.commands,
            );
            ui.add_space(1.0);
        });
        if let Some(chain) = self.chains.chain_mut() {
            // A restored session's own pixel posterior is written as saved; otherwise the
            // sampler is asked for its current one.
            if self.exporter.take_summary_request() && !chain.live.has_restored_pixels() {
                chain.live.clear_full_summary();
                chain.handle.send(Command::RequestSummary);
            }
            self.exporter.poll_summary(&ctx, &chain.live);
        }
        egui::Panel::bottom("status_bar").show(ui, |ui| {
            let source = &self.settings.data.source;
            chrome::status_bar(
                ui,
                &self.data_panel.describe(source),
                self.data_panel.is_synthetic(source),
                self.chains.chain(),
                self.show_frame_times.then_some(&self.frames),
                &mut self.commands,
            );
        });
        if !self.lesson.projector_on() {
            egui::Panel::left("settings_panel")
                .resizable(true)
                .default_size(370.0)
                .size_range(260.0..=700.0)
                .show(ui, |ui| {
                    egui::ScrollArea::vertical()
                        .auto_shrink([false, false])
                        .show(ui, |ui| self.settings_panel(ui));
                });
        }
        egui::CentralPanel::default().show(ui, |ui| self.central(ui));
        self.lesson.overlay(&ctx);

        self.chains.sync_live_settings(&self.settings);
        self.apply_commands(&ctx);
        let wanted = self.wanted();
        self.chains.maybe_restart(&ctx, &self.settings, wanted);
        self.chains.sync_watch(&mut self.notes);

        let ui_ms = started.elapsed().as_secs_f32() * 1000.0;
        let cpu_ms = frame.info().cpu_usage.unwrap_or(0.0) * 1000.0;
        self.frames.finish_frame(ui_ms, cpu_ms);
        self.log_frame();
        self.close_when_due(&ctx);
    }

    /// The window is closing: the sampler is told to stop, but nobody waits for its sweep in
    /// progress, so the app exits at once (the process ends the thread).
    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        self.chains.shut_down();
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        let persisted = Persisted {
            settings: self.settings.clone(),
            tab: Some(self.tab),
            workspace: Some(self.workspace),
            views: std::mem::take(&mut self.views),
            show_frame_times: self.show_frame_times,
        };
        eframe::set_value(storage, eframe::APP_KEY, &persisted);
        self.views = persisted.views;
    }
}
