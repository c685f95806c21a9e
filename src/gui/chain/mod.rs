//! The chain manager: owns the running chain (its sampler handle, what it reported, its
//! settings), the job building the next one, the loaded dataset reused between chains, and
//! the pending restart (debounce, the long-run question, a failed build not retried).
//!
//! Threads: everything here runs on the UI thread and returns within a frame. The slow parts
//! of a new chain (reading data or a session, noise, masks, starting the sampler) run in the
//! build [`Job`]; old sampler handles, whose drop joins their thread, are dropped on the
//! janitor thread ([`retire`]). Sampler events are folded in within [`EVENT_BUDGET`] a frame,
//! those of the K chains of the diagnostics ([`others`]) within [`CHAINS_EVENT_BUDGET`].

mod build;
mod others;

use std::sync::Arc;
use std::time::{Duration, Instant};

pub use build::Restore;
use build::{BuildRequest, Built, build_chain};
pub use others::OtherChains;

use crate::chains::ChainsCommand;
use crate::data::Dataset;
use crate::experiment::Experiment;
use crate::sampler::{Command, Event, RunState, SamplerHandle};

use super::controls::{self, FrameStats, RunAction, RunClock, RunStatus};
use super::job::{Job, Outcome, retire};
use super::live::LiveState;
use super::notes::{ErrorNote, Notes};
use super::panels;
use super::settings::{DatasetKey, RestartKey, Settings};

/// Longest time a frame spends folding sampler events into the live state; the rest waits for
/// the next frame, so a burst of events never stalls drawing.
pub const EVENT_BUDGET: Duration = Duration::from_millis(4);
/// The same for the events of the K chains of the diagnostics (a round of K sweep reports).
pub const CHAINS_EVENT_BUDGET: Duration = Duration::from_millis(2);
/// Quiet time after the last edit of a restart setting before the chain is rebuilt, so
/// dragging a slider does not rebuild at every pixel.
const RESTART_DEBOUNCE: Duration = Duration::from_millis(350);
/// A chain that has sampled this long is not discarded without asking.
pub const LONG_RUN: Duration = Duration::from_secs(10);

/// The running chain: its settings, sampler thread and what it has reported.
pub struct Chain {
    /// The settings the chain runs with (next-sweep changes are copied in once sent).
    pub settings: Settings,
    /// Its restart key (what a change of would need a new chain).
    pub key: RestartKey,
    pub handle: SamplerHandle,
    /// The K chains of the diagnostics (K >= 2), beside the sampler above; see [`others`].
    pub others: Option<OtherChains>,
    /// What the sampler reported, and the experiment it samples (held there only, so a
    /// painted mask can change it in place).
    pub live: LiveState,
    /// Images the sampler was last asked to summarise.
    watched: Vec<usize>,
    pub clock: RunClock,
    /// Painted masks sent to the sampler but not yet laid into the experiment, which a job
    /// (PCA, export) was reading at the time.
    unlaid: Vec<(usize, Vec<bool>)>,
    /// Changes whenever the experiment's data or masks change (not for a new M or a reset on
    /// the same experiment): what caches of derived results (PCA) are keyed by.
    pub data_version: u64,
}

impl Chain {
    pub fn experiment(&self) -> &Arc<Experiment> {
        self.live.experiment()
    }

    pub fn state(&self) -> RunState {
        self.handle.state()
    }

    /// Lays painted masks that are waiting into the experiment, where no job reads it now.
    fn lay_unlaid(&mut self, notes: &mut Notes) {
        while let Some((image, missing)) = self.unlaid.first() {
            match self.live.set_image_mask(*image, missing) {
                Ok(true) => {
                    self.unlaid.remove(0);
                    self.data_version += 1;
                }
                Ok(false) => return,
                Err(e) => {
                    self.unlaid.remove(0);
                    notes.push(ErrorNote::new("The painted mask was not applied", e));
                }
            }
        }
    }
}

/// A build in progress and what it is for.
struct Building {
    job: Job<Built>,
    /// The key it was asked for (not retried if it fails).
    requested: RestartKey,
    /// The session it reopens, if any.
    restore: Option<Restore>,
}

/// Owns the chain and its rebuilds; see the module docs.
#[derive(Default)]
pub struct ChainManager {
    chain: Option<Chain>,
    building: Option<Building>,
    /// The dataset last loaded, reused while its source (and synthetic N and seed) stay.
    dataset: Option<(DatasetKey, Arc<Dataset>)>,
    /// Settings whose build failed: not retried until they change.
    failed: Option<RestartKey>,
    /// The wanted key last seen and when it last changed (for the debounce).
    last_wanted: Option<(RestartKey, Instant)>,
    /// The user agreed to discard a long run for the pending changes.
    restart_confirmed: bool,
    /// Run the next chain built (autostart, or the previous chain was running).
    run_next: bool,
    /// Counter behind [`Chain::data_version`].
    data_versions: u64,
}

/// What the app learns when a new chain was installed.
pub struct Installed {
    /// Images the loaded data holds, for the N slider (None: synthetic, generated at N).
    pub available: Option<usize>,
}

impl ChainManager {
    /// A manager that runs the first chain it builds when `autostart`.
    pub fn new(autostart: bool) -> Self {
        ChainManager {
            run_next: autostart,
            ..ChainManager::default()
        }
    }

    pub fn chain(&self) -> Option<&Chain> {
        self.chain.as_ref()
    }

    pub fn chain_mut(&mut self) -> Option<&mut Chain> {
        self.chain.as_mut()
    }

    /// The loaded dataset (for a session's fingerprint).
    pub fn dataset(&self) -> Option<&Arc<Dataset>> {
        self.dataset.as_ref().map(|(_, d)| d)
    }

    /// True while a chain is being built (or a session reopened).
    pub fn is_building(&self) -> bool {
        self.building.is_some()
    }

    /// The build job's status line.
    pub fn build_status(&self) -> Option<&str> {
        self.building.as_ref().map(|b| b.job.status())
    }

    /// The file name of the session being reopened, if any.
    pub fn opening(&self) -> Option<&str> {
        self.building
            .as_ref()?
            .restore
            .as_ref()
            .map(|r| r.file_name.as_str())
    }

    /// Whether a long run waits for the user's answer before restarting.
    pub fn restart_confirmed(&self) -> bool {
        self.restart_confirmed
    }

    /// What differs between the chain and `wanted` and needs a new chain.
    pub fn reasons(&self, wanted: &RestartKey) -> Vec<&'static str> {
        match &self.chain {
            None => vec!["no chain yet"],
            Some(chain) => chain.key.reasons(wanted),
        }
    }

    /// The run as the top bar shows it.
    pub fn run_status(&self, planned: usize) -> RunStatus {
        match &self.chain {
            Some(chain) => RunStatus {
                state: Some(chain.state()),
                iteration: chain.live.iteration(),
                planned: chain.settings.model.sweeps,
                sweeps_per_second: chain.live.sweeps_per_second(),
                elapsed: chain.clock.elapsed(),
                restored: chain.live.restored().is_some(),
            },
            None => RunStatus {
                state: None,
                iteration: 0,
                planned,
                sweeps_per_second: None,
                elapsed: Duration::ZERO,
                restored: false,
            },
        }
    }

    /// True when the chain has sampled long enough that discarding it needs a yes.
    pub fn is_long_run(&self) -> bool {
        self.chain
            .as_ref()
            .is_some_and(|c| c.clock.elapsed() >= LONG_RUN && c.state() != RunState::Stopped)
    }

    // ---- Building

    /// Starts building a chain for `settings` (their key is `key`), running at once when
    /// `run`. The current chain's experiment is reused when its data and masks are unchanged
    /// (a reset or a new M), and the loaded dataset when only N, noise or masks changed. A
    /// build in progress is dropped (its thread cancels; its result goes to the janitor).
    pub fn start_build(
        &mut self,
        ctx: &egui::Context,
        settings: &Settings,
        key: RestartKey,
        run: bool,
    ) {
        self.spawn_build(ctx, settings, key, run, None);
    }

    /// Reopens the session at `path` on a build job: the file is read, its data loaded and
    /// checked, its masks laid, all off the UI thread. Until it has, the current chain and
    /// settings stay; if it cannot be reopened, an error banner says why and nothing changes.
    pub fn open_session(
        &mut self,
        ctx: &egui::Context,
        settings: &Settings,
        key: RestartKey,
        path: std::path::PathBuf,
    ) {
        self.run_next = false;
        self.spawn_build(ctx, settings, key, false, Some(Restore::new(path)));
    }

    fn spawn_build(
        &mut self,
        ctx: &egui::Context,
        settings: &Settings,
        key: RestartKey,
        run: bool,
        restore: Option<Restore>,
    ) {
        let experiment = self.chain.as_ref().and_then(|c| {
            (restore.is_none() && c.key.experiment() == key.experiment() && c.unlaid.is_empty())
                .then(|| Arc::clone(c.experiment()))
        });
        let dataset = self.dataset.clone().filter(|(k, _)| *k == key.dataset());
        let requested = key.clone();
        let request = BuildRequest {
            settings: settings.clone(),
            key,
            dataset,
            experiment,
            run,
            restore: restore.clone(),
        };
        let repaint = ctx.clone();
        let label = match &restore {
            Some(r) => format!("opening the session {}", r.file_name),
            None => "building the experiment".into(),
        };
        let job = Job::spawn(label, ctx, move |p| build_chain(request, p, repaint));
        self.building = Some(Building {
            job,
            requested,
            restore,
        });
        self.restart_confirmed = false;
    }

    /// Takes a finished build: the new chain replaces the old one, and `settings` adopt what
    /// the build decided (N reduced to what the data holds; a reopened session's settings).
    pub fn poll_build(&mut self, settings: &mut Settings, notes: &mut Notes) -> Option<Installed> {
        let outcome = self.building.as_mut()?.job.poll()?;
        let building = self.building.take()?;
        let restore = building.restore;
        match outcome {
            Outcome::Finished(built) => {
                let requested_n = building.requested.data.n;
                return Some(self.install(built, requested_n, settings, notes));
            }
            Outcome::Cancelled => {}
            Outcome::Failed(detail) => match restore {
                Some(restore) => {
                    self.run_next = false;
                    notes.push(ErrorNote::new(
                        format!("Could not open the session {}", restore.file_name),
                        format!(
                            "{detail}\n\nThe current chain and settings are kept as they were."
                        ),
                    ));
                }
                None => {
                    self.failed = Some(building.requested);
                    self.run_next = false;
                    notes.push(ErrorNote::new(
                        "Could not build the experiment",
                        format!(
                            "{detail}\n\nThe previous chain (if any) is kept. Change the \
                             settings at the left (for instance choose the synthetic digits) \
                             to try again."
                        ),
                    ));
                }
            },
        }
        None
    }

    /// `requested_n` is the N the build was asked for: an N edited since then is the user's
    /// newer wish and stays (it restarts again), only the N the build itself reduced is adopted.
    fn install(
        &mut self,
        built: Built,
        requested_n: usize,
        settings: &mut Settings,
        notes: &mut Notes,
    ) -> Installed {
        let Built {
            settings: built_settings,
            key,
            dataset,
            experiment,
            handle,
            others,
            live,
            watched,
            note,
            restored,
        } = built;
        if restored.is_some() {
            // A reopened session's settings become the settings; the view stays.
            *settings = built_settings.clone();
        } else if settings.data.n == requested_n {
            // N may have been reduced to what the data holds; adopt it so no restart loops.
            // (An N edited while the chain was built stays, and the next build takes it.)
            settings.data.n = built_settings.data.n;
        }
        if let Some(note) = note {
            notes.push(ErrorNote::note(note));
        }
        let available = (key.source != crate::data::DataSource::Synthetic)
            .then(|| dataset.as_ref().map_or(experiment.n, |(_, d)| d.n));
        if let Some(dataset) = dataset {
            self.dataset = Some(dataset);
        }
        let reused = self
            .chain
            .as_ref()
            .is_some_and(|c| Arc::ptr_eq(c.experiment(), &experiment));
        drop(experiment);
        let data_version = match &self.chain {
            Some(c) if reused => c.data_version,
            _ => {
                self.data_versions += 1;
                self.data_versions
            }
        };
        // The old chain's sampler handle joins its thread when dropped, and its experiment
        // and summaries free hundreds of megabytes: all of it goes to the janitor.
        if let Some(old) = self.chain.take() {
            retire(old);
        }
        // Start was pressed while this chain was being built paused.
        if std::mem::take(&mut self.run_next) && handle.state() == RunState::Paused {
            handle.send(Command::Resume);
            if let Some(others) = &others {
                others.send(ChainsCommand::Resume);
            }
        }
        self.failed = None;
        self.chain = Some(Chain {
            settings: built_settings,
            key,
            handle,
            others,
            live,
            watched,
            clock: RunClock::default(),
            unlaid: Vec::new(),
            data_version,
        });
        Installed { available }
    }

    /// Rebuilds the chain when restart settings changed: after a short quiet time, and for a
    /// long run only once the user agreed.
    pub fn maybe_restart(&mut self, ctx: &egui::Context, settings: &Settings, wanted: RestartKey) {
        if self.building.is_some() {
            return;
        }
        if self.reasons(&wanted).is_empty() {
            self.last_wanted = None;
            self.restart_confirmed = false;
            return;
        }
        if self.failed.as_ref() == Some(&wanted) {
            return;
        }
        let now = Instant::now();
        let changed_at = match &self.last_wanted {
            Some((w, t)) if *w == wanted => *t,
            _ => {
                self.last_wanted = Some((wanted.clone(), now));
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
        if self.is_long_run() && !self.restart_confirmed {
            return; // the banner asks
        }
        let was_running = self
            .chain
            .as_ref()
            .is_some_and(|c| c.state() == RunState::Running);
        let run = self.run_next || was_running;
        self.last_wanted = Some((wanted.clone(), changed_at));
        self.start_build(ctx, settings, wanted, run);
    }

    /// Stops the build in progress (reading data or a session). With a chain running, the
    /// restart settings go back to the chain's, which goes on; without one, the same settings
    /// are not built again until they change.
    pub fn cancel_build(&mut self, settings: &mut Settings, notes: &mut Notes) {
        let Some(building) = self.building.take() else {
            return;
        };
        self.run_next = false;
        if building.restore.is_some() {
            return;
        }
        if self.chain.is_some() {
            self.keep_chain(settings);
        } else {
            self.failed = Some(building.requested);
            notes.push(ErrorNote::note(
                "Building the experiment was cancelled. Change the settings at the left to \
                 build one.",
            ));
        }
    }

    /// The user agreed to discard a long run for the pending changes.
    pub fn confirm_restart(&mut self) {
        self.restart_confirmed = true;
    }

    /// "Keep this chain": the restart settings go back to the chain's.
    pub fn keep_chain(&mut self, settings: &mut Settings) {
        if let Some(chain) = &self.chain {
            chain.key.revert(settings);
        }
        self.last_wanted = None;
    }

    // ---- Running

    /// Sends a run command to the view sampler and `others` to the K chains.
    fn send(&self, command: Command, others: &[ChainsCommand]) {
        if let Some(chain) = &self.chain {
            chain.handle.send(command);
            if let Some(o) = &chain.others {
                for c in others {
                    o.send(c.clone());
                }
            }
        }
    }

    /// Carries out a run-control action. `settings` are the edited ones (Extend lengthens
    /// their run), `wanted` their key.
    pub fn act(
        &mut self,
        ctx: &egui::Context,
        action: RunAction,
        settings: &mut Settings,
        wanted: RestartKey,
    ) {
        // Changes whose build failed do not count: Start then resumes the chain there is.
        let pending = !self.reasons(&wanted).is_empty() && self.failed.as_ref() != Some(&wanted);
        let Some(state) = self.chain.as_ref().map(Chain::state) else {
            return;
        };
        match action {
            RunAction::Start => {
                if pending || state == RunState::Stopped {
                    if self.building.is_none() {
                        self.start_build(ctx, settings, wanted, true);
                    } else {
                        self.run_next = true;
                    }
                } else {
                    self.send(Command::Resume, &[ChainsCommand::Resume]);
                }
            }
            RunAction::Pause => {
                // With fresh diagnostics of where the chains stopped.
                self.send(
                    Command::Pause,
                    &[ChainsCommand::Pause, ChainsCommand::RequestDiagnostics],
                );
            }
            RunAction::Step => self.send(Command::Step, &[ChainsCommand::Step]),
            RunAction::Stop => self.send(Command::Stop, &[ChainsCommand::Stop]),
            RunAction::Reset => {
                self.building = None;
                self.start_build(ctx, settings, wanted, false);
            }
            RunAction::Extend => {
                let sweeps = settings.model.sweeps;
                settings.model.sweeps = sweeps
                    .saturating_add(sweeps.max(controls::MIN_EXTENSION))
                    .min(panels::model::MAX_SWEEPS);
                // The K chains get the new length too (see [`others`]).
                self.sync_live_settings(settings);
                self.send(Command::Resume, &[ChainsCommand::Resume]);
            }
        }
        ctx.request_repaint();
    }

    /// Puts a mask painted in the editor into the running chain: the sampler gets it as
    /// [`Command::SetMask`] and goes on (its sweep count too), the experiment changes in that
    /// image only, and `settings` keep it as an override so it survives restarts.
    pub fn apply_painted(
        &mut self,
        image: usize,
        missing: Vec<bool>,
        settings: &mut Settings,
        notes: &mut Notes,
    ) {
        let Some(chain) = &mut self.chain else {
            settings.painted.set(image, &missing);
            return;
        };
        let experiment = chain.experiment();
        let d = experiment.d();
        if image >= experiment.n || missing.len() != d {
            notes.push(ErrorNote::new(
                "The painted mask was not applied",
                format!(
                    "image {image} with {} pixels does not fit the {} images of {d} pixels",
                    missing.len(),
                    experiment.n
                ),
            ));
            return;
        }
        settings.painted.set(image, &missing);
        // A chain whose thread has ended cannot take it: the settings differ from the
        // chain's now, so the chain is rebuilt with the painted mask instead.
        if chain.state() == RunState::Stopped || self.building.is_some() {
            return;
        }
        let values = experiment
            .x_true
            .get(image * d..(image + 1) * d)
            .map(<[f32]>::to_vec)
            .unwrap_or_default();
        let command = Command::SetMask {
            image,
            missing: missing.clone(),
            values,
        };
        if let Some(others) = &mut chain.others {
            others.follow(&command);
        }
        chain.handle.send(command);
        let mut painted = chain.key.painted.clone();
        painted.set(image, &missing);
        // Share the edited settings' map when equal, so comparing them each frame stays a
        // pointer comparison.
        if painted == settings.painted {
            painted = settings.painted.clone();
        }
        chain.settings.painted = painted.clone();
        chain.key.painted = painted;
        chain.unlaid.push((image, missing));
        chain.lay_unlaid(notes);
    }

    /// Sends settings that apply at the next sweep to the running sampler.
    pub fn sync_live_settings(&mut self, edited: &Settings) {
        let Some(chain) = &mut self.chain else {
            return;
        };
        let commands = panels::model::live_commands(&chain.settings.model, &edited.model);
        if commands.is_empty() {
            return;
        }
        let mut next = chain.settings.model.clone();
        panels::model::apply_live(&mut next, &edited.model);
        // Invalid values are shown next to the controls; they are not sent.
        let experiment = chain.experiment();
        if next.validate(experiment.n, experiment.d()).is_err() {
            return;
        }
        for command in commands {
            if let Some(others) = &mut chain.others {
                others.follow(&command);
            }
            chain.handle.send(command);
        }
        chain.settings.model = next;
    }

    /// Asks the sampler for the images the views show, when that list changed; lays painted
    /// masks that had to wait.
    pub fn sync_watch(&mut self, notes: &mut Notes) {
        if let Some(chain) = &mut self.chain {
            let wanted = chain.live.wanted_images();
            if wanted != chain.watched {
                chain.handle.send(Command::Watch(wanted.clone()));
                chain.watched = wanted;
            }
            if !chain.unlaid.is_empty() {
                chain.lay_unlaid(notes);
            }
        }
    }

    /// Folds waiting sampler events into the live state, within [`EVENT_BUDGET`].
    pub fn drain_events(
        &mut self,
        ctx: &egui::Context,
        notes: &mut Notes,
        frames: &mut FrameStats,
    ) {
        let Some(chain) = &mut self.chain else {
            return;
        };
        let start = Instant::now();
        for event in chain.handle.drain(EVENT_BUDGET) {
            if let Event::Error(message) = &event {
                notes.push(ErrorNote::new(
                    "The sampler reported a problem",
                    message.clone(),
                ));
            }
            chain.live.apply(event);
        }
        let mut more = start.elapsed() >= EVENT_BUDGET;
        if let Some(others) = &mut chain.others {
            let (out_of_time, errors) = others.drain(ctx, CHAINS_EVENT_BUDGET);
            more |= out_of_time;
            for message in errors {
                notes.push(ErrorNote::new("The chains reported a problem", message));
            }
        }
        if more {
            // More may be waiting: come back next frame rather than stall this one.
            ctx.request_repaint();
        }
        chain.clock.update(Some(chain.handle.state()));
        frames.current.events = start.elapsed().as_secs_f32() * 1000.0;
    }

    /// The window is closing: the sampler is told to stop, but nobody waits for its sweep in
    /// progress, so the app exits at once (the process ends the thread).
    pub fn shut_down(&mut self) {
        if let Some(chain) = self.chain.take() {
            retire(chain);
        }
        self.building = None;
    }
}
