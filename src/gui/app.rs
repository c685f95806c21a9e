//! The desktop app: settings at the left, run controls at the top, live views in the middle.
//!
//! One chain at a time: an [`Experiment`] (data, noise, masks) and a [`SamplerHandle`] sampling
//! it on its own thread. Each frame the app drains the handle's events into the [`LiveState`]
//! within a small time budget, sends settings that apply at the next sweep as commands, and
//! rebuilds the chain on a background job when a setting needs a restart. Nothing here blocks
//! for long: files, masks and the sampler's construction all happen off the UI thread.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui::{Color32, RichText, Ui};
use gibbs_fa::data::{DataSource, Dataset};
use gibbs_fa::experiment::Experiment;
use gibbs_fa::sampler::{Command, Event, RunState, SamplerHandle};
use gibbs_fa::session::{DataRecord, Session};
use serde::{Deserialize, Serialize};

use super::controls::{self, FRAME_WINDOW, FrameStats, RunAction, RunClock, RunStatus};
use super::editor::{EditorAction, EditorTab, Editors};
use super::export::{self, ExportSources, Exporter};
use super::jobs::{BuildRequest, Built, DatasetKey, Job, Outcome, Restore, build_chain, retire};
use super::live::LiveState;
use super::panels::{self, Settings, data::DataPanel};
use super::pca_view::PcaView;
use super::views::{ViewTab, Views};

/// Longest time a frame spends folding sampler events into the live state; the rest waits for
/// the next frame, so a burst of events never stalls drawing.
const EVENT_BUDGET: Duration = Duration::from_millis(4);
/// Quiet time after the last edit of a restart setting before the chain is rebuilt, so
/// dragging a slider does not rebuild at every pixel.
const RESTART_DEBOUNCE: Duration = Duration::from_millis(350);
/// A chain that has sampled this long is not discarded without asking.
const LONG_RUN: Duration = Duration::from_secs(10);
/// Most error banners kept; older ones go.
const MAX_ERRORS: usize = 4;

/// A problem shown to the user in a dismissable banner.
#[derive(Clone, Debug, PartialEq)]
pub struct ErrorNote {
    pub title: String,
    pub detail: String,
}

impl ErrorNote {
    pub fn new(title: impl Into<String>, detail: impl Into<String>) -> Self {
        ErrorNote {
            title: title.into(),
            detail: detail.into(),
        }
    }
}

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
    /// Print the frame times to stderr every few seconds (measuring responsiveness).
    pub frame_log: bool,
    /// Ignore the remembered settings (tests, reproducible screenshots).
    pub fresh: bool,
    /// Close the window this long after the start, the way a user closes it (measuring how
    /// fast the app exits mid-run).
    pub close_after: Option<Duration>,
    /// A session file to reopen on the first frame (instead of building the settings' chain).
    pub session: Option<PathBuf>,
}

/// What is remembered between runs (egui remembers the theme, zoom and window state itself).
#[derive(Default, Serialize, Deserialize)]
#[serde(default)]
struct Persisted {
    settings: Settings,
    tab: Option<ViewTab>,
    workspace: Option<Workspace>,
    views: Views,
    show_frame_times: bool,
}

/// What fills the central area: one of the live views, an editor, or the PCA comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Workspace {
    /// The live view chosen by the view tab.
    View,
    MaskEditor,
    DrawDigit,
    Pca,
}

impl Workspace {
    /// The tabs after the view tabs, with their titles.
    const EXTRA: [(Workspace, &'static str); 3] = [
        (Workspace::MaskEditor, "Mask editor"),
        (Workspace::DrawDigit, "Draw a digit"),
        (Workspace::Pca, "PCA"),
    ];
}

/// The settings of a chain that decide its experiment: equal keys share data and masks.
#[derive(Clone, Debug, PartialEq)]
struct ExperimentKey {
    source: DataSource,
    data: panels::DataSettings,
    masks: panels::MaskSettings,
    painted: panels::PaintedMasks,
}

impl ExperimentKey {
    fn of(settings: &Settings, source: &DataSource) -> Self {
        ExperimentKey {
            source: source.clone(),
            data: settings.data.clone(),
            masks: settings.masks.clone(),
            painted: settings.painted.clone(),
        }
    }
}

/// The running chain: its settings, experiment, sampler thread and what it has reported.
struct Chain {
    /// The settings the chain runs with (next-sweep changes are copied in once sent).
    settings: Settings,
    source: DataSource,
    experiment: Arc<Experiment>,
    handle: SamplerHandle,
    live: LiveState,
    /// Images the sampler was last asked to summarise.
    watched: Vec<usize>,
    clock: RunClock,
}

/// The settings and data source the user wants, as compared with the chain's.
type Wanted = (Settings, DataSource);

/// A session being reopened: the settings to go back to if it cannot be.
struct PendingRestore {
    previous: Settings,
    file_name: String,
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
    exporter: Exporter,
    /// The area of the central view last frame, in points (what "View as PNG" saves).
    view_rect: egui::Rect,
    show_frame_times: bool,
    data_panel: DataPanel,
    chain: Option<Chain>,
    build: Option<Job<Built>>,
    /// The dataset last loaded, reused while its source (and synthetic N and seed) stay.
    dataset: Option<(DatasetKey, Arc<Dataset>)>,
    /// Settings whose build failed: not retried until they change.
    failed: Option<Wanted>,
    /// The wanted settings last seen and when they last changed (for the debounce).
    last_wanted: Option<(Wanted, Instant)>,
    /// The user agreed to discard a long run for the pending changes.
    restart_confirmed: bool,
    /// Run the next chain built (autostart, or the previous chain was running).
    run_next: bool,
    /// The build in progress reopens a session.
    pending_restore: Option<PendingRestore>,
    errors: Vec<ErrorNote>,
    frames: FrameStats,
    options: AppOptions,
    started: Instant,
}

impl GibbsApp {
    /// The app with the remembered settings (unless `options.fresh`), overridden by `options`.
    /// The first chain is built in the background on the first frame.
    pub fn new(cc: &eframe::CreationContext<'_>, options: AppOptions) -> Self {
        let persisted: Persisted = if options.fresh {
            Persisted::default()
        } else {
            cc.storage
                .and_then(|s| eframe::get_value(s, eframe::APP_KEY))
                .unwrap_or_default()
        };
        let mut settings = persisted.settings;
        if let Some(path) = &options.data {
            settings.data.source = panels::SourceChoice::Path(path.clone());
        }
        if let Some(n) = options.n {
            settings.data.n = n.max(1);
        }
        if let Some(m) = options.m {
            settings.model.hyper.m = m.max(1);
        }
        GibbsApp {
            settings,
            tab: persisted.tab.unwrap_or(ViewTab::Traces),
            workspace: persisted.workspace.unwrap_or(Workspace::View),
            views: persisted.views,
            editors: Editors::default(),
            pca: PcaView::default(),
            exporter: Exporter::default(),
            view_rect: egui::Rect::NOTHING,
            show_frame_times: persisted.show_frame_times || options.frame_log,
            data_panel: DataPanel::new(),
            chain: None,
            build: None,
            dataset: None,
            failed: None,
            last_wanted: None,
            restart_confirmed: false,
            run_next: options.autostart,
            pending_restore: None,
            errors: Vec::new(),
            frames: FrameStats::default(),
            options,
            started: Instant::now(),
        }
    }

    fn wanted(&self) -> Wanted {
        let source = self.data_panel.resolve(&self.settings.data.source);
        (self.settings.clone(), source)
    }

    /// What differs between the chain and the wanted settings and needs a new chain.
    fn restart_reasons(&self) -> Vec<&'static str> {
        match &self.chain {
            None => vec!["no chain yet"],
            Some(chain) => {
                let mut reasons = panels::restart_reasons(&chain.settings, &self.settings);
                let source = self.data_panel.resolve(&self.settings.data.source);
                if chain.source != source && !reasons.contains(&"data source") {
                    reasons.push("data source");
                }
                reasons
            }
        }
    }

    fn push_error(&mut self, note: ErrorNote) {
        if self.errors.last() == Some(&note) {
            return;
        }
        self.errors.push(note);
        if self.errors.len() > MAX_ERRORS {
            self.errors.remove(0);
        }
    }

    fn run_status(&self) -> RunStatus {
        match &self.chain {
            Some(chain) => RunStatus {
                state: Some(chain.handle.state()),
                iteration: chain.live.iteration(),
                planned: chain.settings.model.sweeps,
                sweeps_per_second: chain.live.sweeps_per_second(),
                elapsed: chain.clock.elapsed(),
                restored: chain.live.restored().is_some(),
            },
            None => RunStatus {
                state: None,
                iteration: 0,
                planned: self.settings.model.sweeps,
                sweeps_per_second: None,
                elapsed: Duration::ZERO,
                restored: false,
            },
        }
    }

    // ---- The chain's life cycle

    /// Starts building a chain for the wanted settings, running at once when `run`. The
    /// current chain's experiment is reused when its data and masks are unchanged (a reset or
    /// a new M), and the loaded dataset when only N, noise or masks changed.
    fn start_build(&mut self, ctx: &egui::Context, run: bool) {
        self.pending_restore = None;
        self.start_build_with(ctx, run, None);
    }

    /// [`Self::start_build`], reopening `restore` when given.
    fn start_build_with(&mut self, ctx: &egui::Context, run: bool, restore: Option<Restore>) {
        let (settings, source) = self.wanted();
        let experiment = self.chain.as_ref().and_then(|c| {
            (ExperimentKey::of(&c.settings, &c.source) == ExperimentKey::of(&settings, &source))
                .then(|| Arc::clone(&c.experiment))
        });
        let key = DatasetKey::of(&settings, &source);
        let dataset = self.dataset.clone().filter(|(k, _)| *k == key);
        let request = BuildRequest {
            settings,
            source,
            dataset,
            experiment,
            run,
            restore,
        };
        let repaint = ctx.clone();
        self.build = Some(Job::spawn("building the experiment", ctx, move |p| {
            build_chain(request, p, repaint)
        }));
        self.restart_confirmed = false;
    }

    /// Takes a finished build: the new chain replaces the old one.
    fn poll_build(&mut self) {
        let Some(job) = &mut self.build else {
            return;
        };
        let Some(outcome) = job.poll() else {
            return;
        };
        self.build = None;
        let restoring = self.pending_restore.take();
        match outcome {
            Outcome::Finished(built) => self.install(built),
            Outcome::Cancelled => {
                if let Some(restore) = restoring {
                    self.settings = restore.previous;
                }
            }
            Outcome::Failed(detail) if restoring.is_some() => {
                if let Some(restore) = restoring {
                    self.settings = restore.previous;
                    self.run_next = false;
                    self.push_error(ErrorNote::new(
                        format!("Could not open the session {}", restore.file_name),
                        format!(
                            "{detail}\n\nThe current chain and settings are kept as they were."
                        ),
                    ));
                }
            }
            Outcome::Failed(detail) => {
                self.failed = Some(self.wanted());
                self.run_next = false;
                self.push_error(ErrorNote::new(
                    "Could not build the experiment",
                    format!(
                        "{detail}\n\nThe previous chain (if any) is kept. Change the settings \
                         at the left (for instance choose the synthetic digits) to try again."
                    ),
                ));
            }
        }
    }

    fn install(&mut self, built: Built) {
        let Built {
            settings,
            source,
            dataset,
            experiment,
            handle,
            live,
            watched,
            note,
        } = built;
        // N may have been reduced to what the data holds; adopt it so no restart loops.
        self.settings.data.n = settings.data.n;
        if let Some(note) = note {
            self.push_error(ErrorNote::new("Note", note));
        }
        if source != DataSource::Synthetic {
            self.data_panel
                .set_available(dataset.as_ref().map(|(_, d)| d.n).or(Some(experiment.n)));
        }
        if let Some(dataset) = dataset {
            self.dataset = Some(dataset);
        }
        if let Some(old) = self.chain.take() {
            retire(old.handle);
        }
        // Start was pressed while this chain was being built paused.
        if std::mem::take(&mut self.run_next) && handle.state() == RunState::Paused {
            handle.send(Command::Resume);
        }
        self.failed = None;
        self.chain = Some(Chain {
            settings,
            source,
            experiment,
            handle,
            live,
            watched,
            clock: RunClock::default(),
        });
    }

    /// Folds waiting sampler events into the live state, within [`EVENT_BUDGET`].
    fn drain_events(&mut self, ctx: &egui::Context) {
        let Some(chain) = &mut self.chain else {
            return;
        };
        let start = Instant::now();
        let mut errors = Vec::new();
        let events = chain.handle.drain(EVENT_BUDGET);
        for event in events {
            if let Event::Error(message) = &event {
                errors.push(ErrorNote::new(
                    "The sampler reported a problem",
                    message.clone(),
                ));
            }
            chain.live.apply(event);
        }
        if start.elapsed() >= EVENT_BUDGET {
            // More may be waiting: come back next frame rather than stall this one.
            ctx.request_repaint();
        }
        chain.clock.update(Some(chain.handle.state()));
        self.frames.current.events = start.elapsed().as_secs_f32() * 1000.0;
        for e in errors {
            self.push_error(e);
        }
    }

    /// Puts a mask painted in the editor into the data of the running chain: the sampler
    /// gets it as [`Command::SetMask`] and goes on (its sweep count too), the views show it,
    /// and the settings keep it as an override so it survives restarts.
    fn apply_painted(&mut self, image: usize, missing: Vec<bool>) {
        self.settings.painted.set(image, &missing);
        let Some(chain) = &mut self.chain else {
            return;
        };
        let experiment = match chain.experiment.with_image_mask(image, &missing) {
            Ok(e) => Arc::new(e),
            Err(e) => {
                self.push_error(ErrorNote::new(
                    "The painted mask was not applied",
                    e.to_string(),
                ));
                return;
            }
        };
        // A chain whose thread has ended cannot take it: the settings differ from the
        // chain's now, so the chain is rebuilt with the painted mask instead.
        if chain.handle.state() == RunState::Stopped || self.build.is_some() {
            return;
        }
        let d = experiment.d();
        let values = experiment
            .x_true
            .get(image * d..(image + 1) * d)
            .map(<[f32]>::to_vec)
            .unwrap_or_default();
        chain.handle.send(Command::SetMask {
            image,
            missing: missing.clone(),
            values,
        });
        chain.settings.painted.set(image, &missing);
        chain.experiment = Arc::clone(&experiment);
        chain.live.set_masks_changed(experiment);
    }

    /// The session of the running chain (data source, settings, masks with the painted ones,
    /// traces, newest posterior summaries).
    fn session_of(chain: &Chain, dataset: Option<&(DatasetKey, Arc<Dataset>)>) -> Session {
        let data = DataRecord::from_source(
            &chain.source,
            None,
            chain.settings.data.n,
            chain.settings.data.seed,
        );
        export::build_session(
            data,
            dataset.map(|(_, d)| d.as_ref()),
            &chain.experiment,
            &chain.settings.model,
            &chain.live,
        )
    }

    /// Reads the session file at `path` and reopens it ([`Self::open_session`]); a damaged,
    /// truncated or foreign file is refused with an error banner and changes nothing.
    pub(crate) fn open_session_file(&mut self, ctx: &egui::Context, path: &Path) {
        let file_name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        match Session::load(path) {
            Ok(session) => self.open_session(ctx, session, &file_name),
            Err(e) => self.push_error(ErrorNote::new(
                format!("Could not open the session {file_name}"),
                format!(
                    "{e}\n\nFile: {}\nThe current chain and settings are kept as they were.",
                    path.display()
                ),
            )),
        }
    }

    /// Reopens a saved session. Its data source, N, noise, mask and model settings become the
    /// settings, and its masks, where they differ from the generated ones, painted overrides.
    /// The chain is rebuilt in the background from the session's data, loaded afresh and
    /// checked against the session's fingerprint, with its masks as saved; the views then show
    /// its traces and posterior summaries, labelled as restored, until Start samples a new
    /// chain from sweep 0 (the saved latent state Z, X_miss is not in the file). If the data
    /// cannot be loaded or differs, an error banner says so and the current chain and
    /// settings stay.
    pub(crate) fn open_session(&mut self, ctx: &egui::Context, session: Session, file_name: &str) {
        let (source, _, _, _) = session.data.source();
        let mut settings = self.settings.clone();
        settings.data.source = match source {
            DataSource::Synthetic => panels::SourceChoice::Synthetic,
            DataSource::Mnist(p) | DataSource::File(p) => panels::SourceChoice::Path(p),
        };
        settings.data.n = session.spec.n;
        settings.data.noise_std = session.spec.noise_std;
        settings.data.seed = session.spec.noise_seed;
        settings.masks.params = session.spec.mask.clone();
        settings.masks.seed = session.spec.mask_seed;
        settings.model = session.settings.clone();
        let m = &session.masks;
        match gibbs_fa::masks::generate(
            m.n,
            m.height,
            m.width,
            &settings.masks.params,
            settings.masks.seed,
        ) {
            Ok(generated) => {
                settings.painted =
                    panels::PaintedMasks::difference(&generated.missing, &m.missing, m.d());
            }
            Err(e) => {
                self.push_error(ErrorNote::new(
                    format!("Could not open the session {file_name}"),
                    e.to_string(),
                ));
                return;
            }
        }
        // Kept to go back to if the session cannot be reopened (the settings from before any
        // session still being reopened).
        let replaced = std::mem::replace(&mut self.settings, settings);
        let previous = self
            .pending_restore
            .take()
            .map_or(replaced, |pending| pending.previous);
        self.build = None;
        self.run_next = false;
        self.start_build_with(
            ctx,
            false,
            Some(Restore {
                session: Arc::new(session),
                file_name: file_name.to_owned(),
            }),
        );
        self.pending_restore = Some(PendingRestore {
            previous,
            file_name: file_name.to_owned(),
        });
    }

    /// Sends settings that apply at the next sweep to the running sampler.
    fn sync_live_settings(&mut self) {
        let Some(chain) = &mut self.chain else {
            return;
        };
        let commands = panels::model::live_commands(&chain.settings.model, &self.settings.model);
        if commands.is_empty() {
            return;
        }
        let mut next = chain.settings.model.clone();
        panels::model::apply_live(&mut next, &self.settings.model);
        // Invalid values are shown next to the controls; they are not sent.
        if next
            .validate(chain.experiment.n, chain.experiment.d())
            .is_err()
        {
            return;
        }
        for command in commands {
            chain.handle.send(command);
        }
        chain.settings.model = next;
    }

    /// Asks the sampler for the images the views show, when that list changed.
    fn sync_watch(&mut self) {
        if let Some(chain) = &mut self.chain {
            let wanted = chain.live.wanted_images();
            if wanted != chain.watched {
                chain.handle.send(Command::Watch(wanted.clone()));
                chain.watched = wanted;
            }
        }
    }

    /// Rebuilds the chain when restart settings changed: after a short quiet time, and for a
    /// long run only once the user agreed.
    fn maybe_restart(&mut self, ctx: &egui::Context) {
        if self.build.is_some() {
            return;
        }
        let reasons = self.restart_reasons();
        if reasons.is_empty() {
            self.last_wanted = None;
            self.restart_confirmed = false;
            return;
        }
        let wanted = self.wanted();
        if self.failed.as_ref() == Some(&wanted) {
            return;
        }
        let now = Instant::now();
        let changed_at = match &self.last_wanted {
            Some((w, t)) if *w == wanted => *t,
            _ => {
                self.last_wanted = Some((wanted, now));
                now
            }
        };
        if self.chain.is_some() {
            if ctx.input(|i| i.pointer.any_down()) {
                return; // still dragging; the release repaints
            }
            let quiet = now.duration_since(changed_at);
            if quiet < RESTART_DEBOUNCE {
                ctx.request_repaint_after(RESTART_DEBOUNCE - quiet);
                return;
            }
        }
        let long_run = self.chain.as_ref().is_some_and(|c| {
            c.clock.elapsed() >= LONG_RUN && c.handle.state() != RunState::Stopped
        });
        if long_run && !self.restart_confirmed {
            return; // the banner asks
        }
        let was_running = self
            .chain
            .as_ref()
            .is_some_and(|c| c.handle.state() == RunState::Running);
        let run = self.run_next || was_running;
        self.start_build(ctx, run);
    }

    fn send(&self, command: Command) {
        if let Some(chain) = &self.chain {
            chain.handle.send(command);
        }
    }

    /// Carries out a run-control action.
    fn act(&mut self, ctx: &egui::Context, action: RunAction) {
        // Changes whose build failed do not count: Start then resumes the chain there is.
        let pending = !self.restart_reasons().is_empty() && self.failed != Some(self.wanted());
        let Some(state) = self.chain.as_ref().map(|c| c.handle.state()) else {
            return;
        };
        match action {
            RunAction::Start => {
                if pending || state == RunState::Stopped {
                    if self.build.is_none() {
                        self.start_build(ctx, true);
                    } else {
                        self.run_next = true;
                    }
                } else {
                    self.send(Command::Resume);
                }
            }
            RunAction::Pause => self.send(Command::Pause),
            RunAction::Step => self.send(Command::Step),
            RunAction::Stop => self.send(Command::Stop),
            RunAction::Reset => {
                self.build = None;
                self.start_build(ctx, false);
            }
            RunAction::Extend => {
                let sweeps = self.settings.model.sweeps;
                self.settings.model.sweeps = sweeps
                    .saturating_add(sweeps.max(controls::MIN_EXTENSION))
                    .min(panels::model::MAX_SWEEPS);
                self.sync_live_settings();
                self.send(Command::Resume);
            }
        }
        ctx.request_repaint();
    }

    // ---- Drawing

    fn top_bar(&mut self, ui: &mut Ui, status: &RunStatus) -> Option<RunAction> {
        let mut action = None;
        let mut opened = None;
        let show_frame_times = &mut self.show_frame_times;
        let exporter = &mut self.exporter;
        let chain = self.chain.as_ref();
        let samples = self.editors.params();
        let dataset = self.dataset.as_ref();
        let view_rect = self.view_rect;
        // The right side is laid out first; the run controls wrap onto a second line when the
        // window is narrow or zoomed in, instead of running under the theme buttons.
        egui::containers::Sides::new().shrink_left().show(
            ui,
            |ui| {
                ui.horizontal_wrapped(|ui| {
                    ui.label(RichText::new("gibbs-fa").strong().size(16.0))
                        .on_hover_text(
                            "Bayesian factor analysis with missing data, by Gibbs sampling",
                        );
                    ui.separator();
                    action = controls::ui(ui, status);
                    ui.separator();
                    ui.add_enabled_ui(chain.is_some(), |ui| {
                        ui.menu_button("Export", |ui| {
                            if let Some(chain) = chain {
                                let session = || Self::session_of(chain, dataset);
                                opened = exporter.menu_ui(
                                    ui,
                                    ExportSources {
                                        live: &chain.live,
                                        experiment: &chain.experiment,
                                        samples,
                                        view_rect,
                                        session: &session,
                                    },
                                );
                            }
                        })
                        .response
                        .on_hover_text(
                            "Save the view as PNG, the traces as CSV, the imputed data or the \
                             masks as IDX; save or open a session",
                        );
                    });
                });
            },
            |ui| {
                theme_switch(ui);
                zoom_switch(ui);
                ui.toggle_value(show_frame_times, "Frame times")
                    .on_hover_text("Show how long the UI takes per frame (debug readout)");
            },
        );
        if let Some(path) = opened {
            self.open_session_file(&ui.ctx().clone(), &path);
        }
        action
    }

    fn status_bar(&mut self, ui: &mut Ui) {
        ui.horizontal_wrapped(|ui| {
            let data = self.data_panel.describe(&self.settings.data.source);
            let synthetic = self.data_panel.is_synthetic(&self.settings.data.source);
            let colour = if synthetic {
                ui.visuals().warn_fg_color
            } else {
                ui.visuals().text_color()
            };
            match &self.chain {
                Some(c) => {
                    let e = &c.experiment;
                    ui.label(RichText::new(format!("Data: {data}")).color(colour));
                    ui.label(format!(
                        "N = {}, D = {} ({} x {}), M = {}, {:.1}% missing",
                        e.n,
                        e.d(),
                        e.height,
                        e.width,
                        c.settings.model.hyper.m,
                        100.0 * e.missing_fraction()
                    ));
                    if !c.settings.painted.is_empty() {
                        ui.label(
                            RichText::new(format!(
                                "{} painted mask{}",
                                c.settings.painted.len(),
                                if c.settings.painted.len() == 1 {
                                    ""
                                } else {
                                    "s"
                                }
                            ))
                            .color(ui.visuals().warn_fg_color),
                        )
                        .on_hover_text("Digits whose mask was painted in the mask editor");
                    }
                    ui.label(format!("state: {}", c.handle.state().name()));
                }
                None => {
                    ui.label(RichText::new(format!("Data: {data}")).color(colour));
                    ui.label("no chain yet");
                }
            }
            if self.show_frame_times {
                let (last, worst) = (self.frames.last(), self.frames.worst());
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    let over = worst.cpu.max(worst.ui) > 33.0;
                    let text = RichText::new(format!(
                        "ui {:.1} ms, worst {:.1} ms; frame CPU worst {:.1} ms (last {} s)",
                        last.ui,
                        worst.ui,
                        worst.cpu,
                        FRAME_WINDOW.as_secs()
                    ))
                    .monospace()
                    .small();
                    let text = if over {
                        text.color(ui.visuals().warn_fg_color)
                    } else {
                        text
                    };
                    ui.label(text).on_hover_text(
                        "Time spent building the UI each frame, and eframe's CPU time per frame \
                         (UI plus tessellation and painting); 33 ms is 30 frames a second.",
                    );
                });
            }
        });
    }

    fn settings_panel(&mut self, ui: &mut Ui) {
        panels::legend(ui);
        ui.add_space(4.0);
        let mut errors = Vec::new();
        egui::CollapsingHeader::new(RichText::new("Data").strong())
            .default_open(true)
            .show(ui, |ui| {
                self.data_panel.ui(ui, &mut self.settings.data, &mut errors);
            });
        let (fraction, current) = match &self.chain {
            Some(c) => (
                Some(c.experiment.missing_fraction()),
                c.settings.masks == self.settings.masks,
            ),
            None => (None, true),
        };
        egui::CollapsingHeader::new(RichText::new("Masks").strong())
            .default_open(true)
            .show(ui, |ui| {
                panels::mask::ui(ui, &mut self.settings.masks, fraction, current);
                self.settings.painted.ui(ui);
            });
        egui::CollapsingHeader::new(RichText::new("Model").strong())
            .default_open(true)
            .show(ui, |ui| {
                panels::model::ui(ui, &mut self.settings.model);
            });
        ui.add_space(8.0);
        if ui
            .small_button("Restore all defaults")
            .on_hover_text("The notebook's settings on N = 2,000 (restarts the chain)")
            .clicked()
        {
            let source = self.settings.data.source.clone();
            self.settings = Settings::default();
            self.settings.data.source = source;
        }
        for e in errors {
            self.push_error(e);
        }
    }

    /// Error banners, each dismissable, with details on demand.
    fn error_banners(&mut self, ui: &mut Ui) {
        let mut dismissed = None;
        for (k, note) in self.errors.iter().enumerate() {
            let is_note = note.title == "Note";
            let colour = if is_note {
                ui.visuals().warn_fg_color
            } else {
                ui.visuals().error_fg_color
            };
            egui::Frame::group(ui.style())
                .stroke(egui::Stroke::new(1.5, colour))
                .show(ui, |ui| {
                    ui.set_width(ui.available_width());
                    ui.horizontal(|ui| {
                        ui.label(RichText::new(&note.title).strong().color(colour));
                        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                            if ui
                                .button("Dismiss")
                                .on_hover_text("Hide this message")
                                .clicked()
                            {
                                dismissed = Some(k);
                            }
                        });
                    });
                    let first = note.detail.lines().next().unwrap_or_default();
                    ui.label(first);
                    if note.detail.lines().count() > 1 {
                        egui::CollapsingHeader::new("Details")
                            .id_salt(("error_details", k))
                            .show(ui, |ui| {
                                ui.label(RichText::new(&note.detail).monospace().small());
                            });
                    }
                });
        }
        if let Some(k) = dismissed {
            self.errors.remove(k);
        }
    }

    /// The banner saying that changed settings restart the chain, with the choice for a long run.
    fn restart_banner(&mut self, ui: &mut Ui) {
        let reasons = self.restart_reasons();
        let Some(chain) = &self.chain else {
            return;
        };
        if reasons.is_empty() {
            return;
        }
        let building = self.build.is_some();
        let opening = self.pending_restore.as_ref().map(|p| p.file_name.clone());
        let long = chain.clock.elapsed() >= LONG_RUN && chain.handle.state() != RunState::Stopped;
        let colour = Color32::from_rgb(220, 130, 40);
        let mut revert = false;
        let mut confirm = false;
        egui::Frame::group(ui.style())
            .stroke(egui::Stroke::new(1.5, colour))
            .show(ui, |ui| {
                ui.set_width(ui.available_width());
                ui.horizontal_wrapped(|ui| {
                    ui.label(
                        RichText::new(format!("Changed: {}.", reasons.join(", "))).color(colour),
                    );
                    if let Some(name) = &opening {
                        ui.spinner();
                        ui.label(format!(
                            "Opening the session {name}: loading and checking its data…"
                        ));
                    } else if building {
                        ui.spinner();
                        ui.label("Restarting the chain with the new settings…");
                    } else if long && !self.restart_confirmed {
                        ui.label(format!(
                            "Applying restarts the chain and discards its {} sweeps.",
                            chain.live.iteration()
                        ));
                        confirm = ui
                            .button("Restart now")
                            .on_hover_text("Discard this chain and start one with the new settings")
                            .clicked();
                        revert = ui
                            .button("Keep this chain")
                            .on_hover_text("Undo the changes that need a restart")
                            .clicked();
                    } else {
                        ui.label("The chain restarts with them in a moment.");
                    }
                });
            });
        if confirm {
            self.restart_confirmed = true;
        }
        if revert && let Some(chain) = &self.chain {
            let active = &chain.settings;
            self.settings.data = active.data.clone();
            self.settings.masks = active.masks.clone();
            self.settings.model.hyper.m = active.model.hyper.m;
            self.settings.model.seed = active.model.seed;
        }
    }

    fn central(&mut self, ui: &mut Ui) {
        self.error_banners(ui);
        self.restart_banner(ui);
        if let Some(job) = &self.build
            && self.chain.is_none()
        {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(format!("Building the experiment: {}", job.status()));
            });
        }
        self.exporter.status_ui(ui);
        ui.horizontal_wrapped(|ui| {
            for tab in ViewTab::ALL {
                let selected = self.workspace == Workspace::View && self.tab == tab;
                if ui
                    .selectable_label(selected, RichText::new(tab.title()).strong())
                    .clicked()
                {
                    self.tab = tab;
                    self.workspace = Workspace::View;
                }
            }
            ui.separator();
            for (workspace, title) in Workspace::EXTRA {
                ui.selectable_value(
                    &mut self.workspace,
                    workspace,
                    RichText::new(title).strong(),
                );
            }
        });
        ui.separator();
        self.view_rect = ui.available_rect_before_wrap();
        match &mut self.chain {
            Some(chain) => {
                let start = Instant::now();
                let mut apply = None;
                match self.workspace {
                    Workspace::View => {
                        self.views.ui(ui, self.tab, &mut chain.live);
                        if let Some(index) = self.views.take_edit_request() {
                            match self.editors.open_image(&chain.live, index) {
                                Ok(()) => self.workspace = Workspace::MaskEditor,
                                Err(e) => self.errors.push(ErrorNote::new("Cannot edit", e)),
                            }
                        }
                    }
                    Workspace::MaskEditor | Workspace::DrawDigit => {
                        self.editors.tab = if self.workspace == Workspace::MaskEditor {
                            EditorTab::PaintMask
                        } else {
                            EditorTab::DrawDigit
                        };
                        if let Some(EditorAction::Apply { image, missing }) =
                            self.editors.ui(ui, &chain.live)
                        {
                            apply = Some((image, missing));
                        }
                        self.workspace = match self.editors.tab {
                            EditorTab::PaintMask => Workspace::MaskEditor,
                            EditorTab::DrawDigit => Workspace::DrawDigit,
                        };
                    }
                    Workspace::Pca => self.pca.ui(ui, &chain.experiment),
                }
                self.frames.current.views = start.elapsed().as_secs_f32() * 1000.0;
                if let Some((image, missing)) = apply {
                    self.apply_painted(image, missing);
                }
            }
            None if self.build.is_some() => {}
            None => {
                ui.label(
                    "No experiment yet. Check the settings at the left; the error above says \
                     what went wrong.",
                );
            }
        }
    }

    /// With `--frame-log`, one line per frame on stderr, for measuring responsiveness.
    fn log_frame(&self) {
        if !self.options.frame_log {
            return;
        }
        let last = self.frames.last();
        let status = self.run_status();
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

    // ---- For the tests

    #[cfg(test)]
    pub(crate) fn settings_mut(&mut self) -> &mut Settings {
        &mut self.settings
    }

    #[cfg(test)]
    pub(crate) fn live(&self) -> Option<&LiveState> {
        self.chain.as_ref().map(|c| &c.live)
    }

    #[cfg(test)]
    pub(crate) fn handle_state(&self) -> Option<RunState> {
        self.chain.as_ref().map(|c| c.handle.state())
    }

    #[cfg(test)]
    pub(crate) fn chain_settings(&self) -> Option<&Settings> {
        self.chain.as_ref().map(|c| &c.settings)
    }

    #[cfg(test)]
    pub(crate) fn is_building(&self) -> bool {
        self.build.is_some()
    }

    #[cfg(test)]
    pub(crate) fn errors(&self) -> &[ErrorNote] {
        &self.errors
    }

    #[cfg(test)]
    pub(crate) fn set_tab(&mut self, tab: ViewTab) {
        self.tab = tab;
        self.workspace = Workspace::View;
    }

    #[cfg(test)]
    pub(crate) fn current_session(&self) -> Option<Session> {
        let chain = self.chain.as_ref()?;
        Some(Self::session_of(chain, self.dataset.as_ref()))
    }

    /// Asks for the posterior mean and std to be exported to `path`, as the export menu does.
    #[cfg(test)]
    pub(crate) fn export_summary_to(&mut self, path: PathBuf) {
        self.exporter.request_summary_to(path);
    }

    /// Waits for the export in progress and returns its outcome.
    #[cfg(test)]
    pub(crate) fn export_outcome(&mut self, ctx: &egui::Context) -> Option<Result<String, String>> {
        self.exporter.wait_for_outcome(ctx)
    }

    /// Presses a run control.
    #[cfg(test)]
    pub(crate) fn press(&mut self, ctx: &egui::Context, action: RunAction) {
        self.act(ctx, action);
    }

    #[cfg(test)]
    pub(crate) fn workspace(&self) -> Workspace {
        self.workspace
    }

    #[cfg(test)]
    pub(crate) fn settings(&self) -> &Settings {
        &self.settings
    }

    #[cfg(test)]
    pub(crate) fn editors(&self) -> &Editors {
        &self.editors
    }
}

impl eframe::App for GibbsApp {
    fn ui(&mut self, ui: &mut Ui, frame: &mut eframe::Frame) {
        let started = Instant::now();
        let ctx = ui.ctx().clone();
        if let Some(path) = self.options.session.take() {
            self.open_session_file(&ctx, &path);
        }
        self.poll_build();
        self.drain_events(&ctx);
        if let Some(chain) = &self.chain {
            self.editors.observe(&chain.live);
        }
        let status = self.run_status();
        let mut action = controls::shortcuts(&ctx, &status);

        egui::Panel::top("top_bar").show(ui, |ui| {
            ui.add_space(3.0);
            if let Some(a) = self.top_bar(ui, &status) {
                action = Some(a);
            }
            ui.add_space(1.0);
        });
        if let Some(chain) = &mut self.chain {
            // A restored session's own pixel posterior is written as saved; otherwise the
            // sampler is asked for its current one.
            if self.exporter.take_summary_request() && !chain.live.has_restored_pixels() {
                chain.live.clear_full_summary();
                chain.handle.send(Command::RequestSummary);
            }
            self.exporter.poll_summary(&ctx, &chain.live);
        }
        egui::Panel::bottom("status_bar").show(ui, |ui| self.status_bar(ui));
        egui::Panel::left("settings_panel")
            .resizable(true)
            .default_size(370.0)
            .size_range(260.0..=700.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical()
                    .auto_shrink([false, false])
                    .show(ui, |ui| self.settings_panel(ui));
            });
        egui::CentralPanel::default().show(ui, |ui| self.central(ui));

        self.sync_live_settings();
        if let Some(action) = action {
            self.act(&ctx, action);
        }
        self.maybe_restart(&ctx);
        self.sync_watch();

        let ui_ms = started.elapsed().as_secs_f32() * 1000.0;
        let cpu_ms = frame.info().cpu_usage.unwrap_or(0.0) * 1000.0;
        self.frames.finish_frame(ui_ms, cpu_ms);
        self.log_frame();
        if let Some(after) = self.options.close_after {
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

    /// The window is closing: the sampler is told to stop, but nobody waits for its sweep in
    /// progress, so the app exits at once (the process ends the thread).
    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        if let Some(chain) = self.chain.take() {
            retire(chain.handle);
        }
        self.build = None;
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

/// Zoom levels offered in the top bar (ctrl +/- and ctrl 0 work too): 150% and more for a
/// projector in a classroom. egui remembers the zoom between runs.
const ZOOM_LEVELS: [f32; 5] = [1.0, 1.25, 1.5, 1.75, 2.0];

/// The zoom menu of the top bar.
fn zoom_switch(ui: &mut Ui) {
    let ctx = ui.ctx().clone();
    let current = ctx.zoom_factor();
    let mut chosen = current;
    egui::ComboBox::from_label("Zoom")
        .selected_text(format!("{:.0}%", current * 100.0))
        .show_ui(ui, |ui| {
            for level in ZOOM_LEVELS {
                ui.selectable_value(&mut chosen, level, format!("{:.0}%", level * 100.0));
            }
        })
        .response
        .on_hover_text("Size of everything in the window (also ctrl + and ctrl -)");
    if chosen != current {
        ctx.set_zoom_factor(chosen);
    }
}

/// Dark and light theme buttons (text only: the app ships no emoji font).
fn theme_switch(ui: &mut Ui) {
    let mut preference = ui.options(|o| o.theme_preference);
    let before = preference;
    // Right-to-left layout: the last added is leftmost.
    ui.selectable_value(&mut preference, egui::ThemePreference::Light, "Light")
        .on_hover_text("Light theme");
    ui.selectable_value(&mut preference, egui::ThemePreference::Dark, "Dark")
        .on_hover_text("Dark theme");
    if preference != before {
        ui.ctx().set_theme(preference);
    }
}
