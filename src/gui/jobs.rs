//! Background jobs of the desktop app (loading data, building an experiment, downloading MNIST):
//! a thread that reports progress over a channel, polled by the UI once a frame, so the window
//! never freezes while files are read or masks are drawn. The app's one big job, building a
//! chain (data, experiment, sampler thread), is here too.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
#[cfg(test)]
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TryRecvError};
use gibbs_fa::data::{DataSource, Dataset};
use gibbs_fa::experiment::{self, Experiment, ExperimentSpec};
use gibbs_fa::sampler::{HandleOptions, Notify, SamplerHandle};
use gibbs_fa::session::Session;

use super::live::LiveState;
use super::panels::Settings;

/// One message from a job's thread.
enum Message<T> {
    Progress {
        fraction: Option<f32>,
        status: String,
    },
    Done(Result<T, String>),
}

/// What a job's work function gets: a way to report progress and to notice cancellation.
pub struct Progress<T> {
    tx: Sender<Message<T>>,
    ctx: egui::Context,
    cancel: Arc<AtomicBool>,
}

impl<T> Progress<T> {
    /// Reports how far the job is (`fraction` in 0..=1 when known) and what it is doing.
    pub fn report(&self, fraction: Option<f32>, status: impl Into<String>) {
        let fraction = fraction
            .filter(|f| f.is_finite())
            .map(|f| f.clamp(0.0, 1.0));
        // An unbounded channel: a send fails only when the UI dropped the job, which is fine.
        let _ = self.tx.send(Message::Progress {
            fraction,
            status: status.into(),
        });
        self.ctx.request_repaint();
    }

    /// True once the user asked to cancel; long loops check it and return early.
    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// The flag itself, for library calls that take a cancel flag.
    pub fn cancel_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.cancel)
    }
}

/// How a finished job ended.
pub enum Outcome<T> {
    Finished(T),
    Failed(String),
    Cancelled,
}

/// A job running on its own thread. Dropping it asks the thread to cancel and forgets it.
pub struct Job<T> {
    label: String,
    rx: Receiver<Message<T>>,
    cancel: Arc<AtomicBool>,
    fraction: Option<f32>,
    status: String,
}

impl<T: Send + 'static> Job<T> {
    /// Starts `work` on a new thread. Its `Err` text is shown to the user as the failure's detail.
    pub fn spawn(
        label: impl Into<String>,
        ctx: &egui::Context,
        work: impl FnOnce(&Progress<T>) -> Result<T, String> + Send + 'static,
    ) -> Self {
        let label = label.into();
        let (tx, rx) = crossbeam_channel::unbounded();
        let cancel = Arc::new(AtomicBool::new(false));
        let progress = Progress {
            tx,
            ctx: ctx.clone(),
            cancel: Arc::clone(&cancel),
        };
        let spawned = std::thread::Builder::new()
            .name(format!("gibbs-fa job: {label}"))
            .spawn(move || {
                let result = work(&progress);
                let _ = progress.tx.send(Message::Done(result));
                progress.ctx.request_repaint();
            });
        let status = match &spawned {
            Ok(_) => "starting".to_string(),
            Err(err) => format!("could not start a thread: {err}"),
        };
        Job {
            label,
            rx,
            cancel,
            fraction: None,
            status,
        }
    }
}

impl<T> Job<T> {
    /// Drains the thread's messages; returns the outcome once the job has ended.
    /// A thread that died without a result (a panic) counts as a failure, never as a UI panic.
    pub fn poll(&mut self) -> Option<Outcome<T>> {
        loop {
            match self.rx.try_recv() {
                Ok(Message::Progress { fraction, status }) => {
                    self.fraction = fraction;
                    self.status = status;
                }
                Ok(Message::Done(result)) => {
                    return Some(match result {
                        Ok(value) => Outcome::Finished(value),
                        Err(_) if self.is_cancelled() => Outcome::Cancelled,
                        Err(detail) => Outcome::Failed(detail),
                    });
                }
                Err(TryRecvError::Empty) => return None,
                Err(TryRecvError::Disconnected) => {
                    return Some(if self.is_cancelled() {
                        Outcome::Cancelled
                    } else {
                        Outcome::Failed(format!(
                            "{} stopped unexpectedly ({})",
                            self.label, self.status
                        ))
                    });
                }
            }
        }
    }

    /// Blocks until the job ends or `timeout` passes (tests only, never per frame).
    #[cfg(test)]
    pub fn wait(&mut self, timeout: Duration) -> Option<Outcome<T>> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(outcome) = self.poll() {
                return Some(outcome);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// Asks the thread to stop at its next check.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// How far it is, when the job knows.
    pub fn fraction(&self) -> Option<f32> {
        self.fraction
    }

    /// Its latest status line.
    pub fn status(&self) -> &str {
        &self.status
    }
}

impl<T> Drop for Job<T> {
    fn drop(&mut self) {
        self.cancel();
    }
}

// ---- Building a chain: the one big job of the app

/// Which loaded dataset can be reused: the source, plus N and the seed for synthetic digits
/// (they are generated at exactly N).
#[derive(Clone, Debug, PartialEq)]
pub struct DatasetKey {
    pub source: DataSource,
    pub synthetic: Option<(usize, u64)>,
}

impl DatasetKey {
    pub fn of(settings: &Settings, source: &DataSource) -> Self {
        DatasetKey {
            source: source.clone(),
            synthetic: (*source == DataSource::Synthetic)
                .then_some((settings.data.n, settings.data.seed)),
        }
    }
}

/// What a build job is asked to do.
pub struct BuildRequest {
    pub settings: Settings,
    pub source: DataSource,
    pub dataset: Option<(DatasetKey, Arc<Dataset>)>,
    pub experiment: Option<Arc<Experiment>>,
    pub run: bool,
    /// A session to reopen: its data is loaded afresh and checked against its fingerprint,
    /// its masks are used as saved, and its traces and summaries fill the live state.
    pub restore: Option<Restore>,
}

/// A session being reopened, with its file name for the views' label.
pub struct Restore {
    pub session: Arc<Session>,
    pub file_name: String,
}

/// Loads a session's data from where it was saved (never from the cache: the file may have
/// changed since) and rebuilds its experiment with its masks, refusing data that differs.
/// Returns a note when the session has no fingerprint to check the data against.
fn restore_experiment(
    session: &Session,
    progress: &Progress<Built>,
) -> Result<(Dataset, Experiment, Option<String>), String> {
    let source = session.data.describe();
    progress.report(None, format!("reading {source}"));
    let data = session
        .data
        .load()
        .map_err(|e| format!("Its data could not be read: {e}\n\nThe session's data: {source}"))?;
    if data.n < session.spec.n {
        return Err(format!(
            "Its data now holds {} images; the session was saved with N = {}.\n\nThe \
             session's data: {source}",
            data.n, session.spec.n
        ));
    }
    progress.report(None, "checking the data and laying the saved masks");
    let experiment = session
        .rebuild(&data)
        .map_err(|e| format!("{e}.\n\nThe session's data: {source}"))?;
    let note = session.data_fingerprint.is_none().then(|| {
        "The session holds no fingerprint of its data, so the data could not be checked \
         against the one it was saved with."
            .to_string()
    });
    Ok((data, experiment, note))
}

/// A chain built off the UI thread.
pub struct Built {
    pub settings: Settings,
    pub source: DataSource,
    pub dataset: Option<(DatasetKey, Arc<Dataset>)>,
    pub experiment: Arc<Experiment>,
    pub handle: SamplerHandle,
    pub live: LiveState,
    pub watched: Vec<usize>,
    /// Something the user should know (N was reduced to what the data holds).
    pub note: Option<String>,
}

/// Stops an old chain's thread without making the UI wait for its sweep in progress.
pub fn retire(handle: SamplerHandle) {
    // If no thread can be started, the closure (and with it the handle) is dropped here.
    let _ = std::thread::Builder::new()
        .name("gibbs-fa: stopping a chain".into())
        .spawn(move || drop(handle));
}

/// Loads the data (unless cached), builds the experiment (unless reused) and starts the
/// sampler paused or running: everything slow about a new chain, off the UI thread.
pub fn build_chain(
    request: BuildRequest,
    progress: &Progress<Built>,
    ctx: egui::Context,
) -> Result<Built, String> {
    let BuildRequest {
        mut settings,
        source,
        dataset,
        experiment,
        run,
        restore,
    } = request;
    let mut note = None;
    let (dataset, experiment) = match (&restore, experiment) {
        (Some(restore), _) => {
            let (data, built, warning) = restore_experiment(&restore.session, progress)?;
            note = warning;
            settings.data.n = built.n;
            (
                Some((DatasetKey::of(&settings, &source), Arc::new(data))),
                Arc::new(built),
            )
        }
        (None, Some(experiment)) => (dataset, experiment),
        (None, None) => {
            let (key, data) = match dataset {
                Some(cached) => cached,
                None => {
                    progress.report(None, format!("reading {}", source.describe()));
                    let data = source
                        .load(None, settings.data.n.max(1), settings.data.seed)
                        .map_err(|e| format!("{e}\n\nSource: {}", source.describe()))?;
                    (DatasetKey::of(&settings, &source), Arc::new(data))
                }
            };
            if progress.cancelled() {
                return Err("cancelled".into());
            }
            if settings.data.n > data.n {
                note = Some(format!(
                    "The data has {} images, fewer than the N = {} asked for; using all {}.",
                    data.n, settings.data.n, data.n
                ));
                settings.data.n = data.n;
            }
            progress.report(None, "adding noise and drawing masks");
            let spec = ExperimentSpec {
                n: settings.data.n,
                noise_std: settings.data.noise_std,
                noise_seed: settings.data.seed,
                mask: settings.masks.params.clone(),
                mask_seed: settings.masks.seed,
            };
            let mut built = experiment::build(&data, &spec).map_err(|e| e.to_string())?;
            settings.painted.lay_over(&mut built);
            (Some((key, data)), Arc::new(built))
        }
    };
    if progress.cancelled() {
        return Err("cancelled".into());
    }
    settings
        .model
        .validate(experiment.n, experiment.d())
        .map_err(|e| e.to_string())?;
    progress.report(None, "starting the sampler");
    let mut live = LiveState::new(Arc::clone(&experiment), &settings.model);
    if let Some(restore) = &restore {
        let session = &restore.session;
        live.restore(
            &session.traces,
            session.posterior.as_ref(),
            &settings.model,
            &restore.file_name,
        );
    }
    let watched = live.wanted_images();
    let options = HandleOptions {
        start_paused: !run,
        watch: watched.clone(),
        image_shape: Some((experiment.height, experiment.width)),
        ..HandleOptions::default()
    };
    let notify: Notify = Box::new(move || ctx.request_repaint());
    let handle = SamplerHandle::spawn(
        experiment.problem.clone(),
        settings.model.clone(),
        options,
        Some(notify),
    )
    .map_err(|e| e.to_string())?;
    Ok(Built {
        settings,
        source,
        dataset,
        experiment,
        handle,
        live,
        watched,
        note,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_progress_then_result() {
        let ctx = egui::Context::default();
        let (go_tx, go_rx) = crossbeam_channel::bounded::<()>(0);
        let mut job = Job::spawn("counting", &ctx, move |p| {
            p.report(Some(0.5), "half way");
            go_rx.recv().map_err(|e| e.to_string())?;
            Ok(42)
        });
        let deadline = Instant::now() + Duration::from_secs(5);
        while job.status() != "half way" && Instant::now() < deadline {
            assert!(job.poll().is_none());
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(job.fraction(), Some(0.5));
        go_tx.send(()).unwrap();
        match job.wait(Duration::from_secs(5)) {
            Some(Outcome::Finished(v)) => assert_eq!(v, 42),
            _ => panic!("job did not finish with its value"),
        }
    }

    #[test]
    fn failure_panic_and_cancel_are_outcomes() {
        let ctx = egui::Context::default();
        let mut failed = Job::<()>::spawn("failing", &ctx, |_| Err("bad file".into()));
        assert!(
            matches!(failed.wait(Duration::from_secs(5)), Some(Outcome::Failed(d)) if d == "bad file")
        );

        let mut panicked = Job::<()>::spawn("panicking", &ctx, |_| panic!("boom"));
        assert!(matches!(
            panicked.wait(Duration::from_secs(5)),
            Some(Outcome::Failed(d)) if d.contains("stopped unexpectedly")
        ));

        let mut cancelled = Job::<()>::spawn("waiting", &ctx, |p| {
            while !p.cancelled() {
                std::thread::sleep(Duration::from_millis(1));
            }
            Err("cancelled".into())
        });
        cancelled.cancel();
        assert!(matches!(
            cancelled.wait(Duration::from_secs(5)),
            Some(Outcome::Cancelled)
        ));
    }
}
