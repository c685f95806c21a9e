//! Building a chain: loading the data (unless cached), adding noise and drawing masks (unless
//! the experiment is reused), reading a session to reopen, and starting the sampler thread.
//! Everything slow about a new chain happens here, on a [`Job`](crate::gui::job::Job)'s
//! thread; the UI thread only sends a [`BuildRequest`] and later takes the [`Built`] chain.

use std::path::PathBuf;
use std::sync::Arc;

use crate::data::{DataSource, Dataset, tile_with_shifts};
use crate::experiment::{self, Experiment, ExperimentSpec};
use crate::sampler::{HandleOptions, Notify, SamplerHandle};
use crate::session::Session;

use super::super::job::Progress;
use super::super::live::LiveState;
use super::super::panels::{PaintedMasks, SourceChoice};
use super::super::settings::{DatasetKey, RestartKey, Settings};
use super::others::OtherChains;

/// What a build job is asked to do.
pub struct BuildRequest {
    /// The settings to build (for a session: the settings its own replace).
    pub settings: Settings,
    /// Their restart key, with the data source resolved.
    pub key: RestartKey,
    /// Data already loaded for the same [`DatasetKey`].
    pub dataset: Option<(DatasetKey, Arc<Dataset>)>,
    /// The running chain's experiment when its data and masks are unchanged.
    pub experiment: Option<Arc<Experiment>>,
    /// Start sampling at once.
    pub run: bool,
    /// A session file to reopen instead.
    pub restore: Option<Restore>,
}

/// A session file to reopen: read, checked and rebuilt on the job's thread.
#[derive(Clone, Debug)]
pub struct Restore {
    pub path: PathBuf,
    /// Its name without the folder, for the views' label and the messages.
    pub file_name: String,
}

impl Restore {
    pub fn new(path: PathBuf) -> Self {
        let file_name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        Restore { path, file_name }
    }
}

/// A chain built off the UI thread.
pub struct Built {
    pub settings: Settings,
    pub key: RestartKey,
    pub dataset: Option<(DatasetKey, Arc<Dataset>)>,
    pub experiment: Arc<Experiment>,
    pub handle: SamplerHandle,
    /// The K chains of the diagnostics, when K >= 2.
    pub others: Option<OtherChains>,
    pub live: LiveState,
    pub watched: Vec<usize>,
    /// Something the user should know (N was reduced to what the data holds).
    pub note: Option<String>,
    /// The session this chain reopens, if any.
    pub restored: Option<Restore>,
}

/// The settings a session brings back, on top of `base` (the view and other app settings stay):
/// its data source, N, noise, masks (those that differ from the generated ones become painted
/// overrides) and model settings.
fn session_settings(session: &Session, base: &Settings) -> Result<Settings, String> {
    let (source, _, _, _) = session.data.source();
    let mut settings = base.clone();
    settings.data.source = match source {
        DataSource::Synthetic => SourceChoice::Synthetic,
        DataSource::Mnist(p) | DataSource::File(p) => SourceChoice::Path(p),
    };
    settings.data.n = session.spec.n;
    settings.data.noise_std = session.spec.noise_std;
    settings.data.seed = session.spec.noise_seed;
    settings.masks.params = session.spec.mask.clone();
    settings.masks.seed = session.spec.mask_seed;
    settings.model = session.settings.clone();
    let m = &session.masks;
    let generated = crate::masks::generate(
        m.n,
        m.height,
        m.width,
        &settings.masks.params,
        settings.masks.seed,
    )
    .map_err(|e| e.to_string())?;
    settings.painted = PaintedMasks::difference(&generated.missing, &m.missing, m.d());
    Ok(settings)
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

/// Loads the data (unless cached) and builds the experiment (unless reused), adopting N when
/// the data holds fewer images, or filling up to N with shifted copies when asked to.
fn fresh_experiment(
    settings: &mut Settings,
    key: &RestartKey,
    dataset: Option<(DatasetKey, Arc<Dataset>)>,
    progress: &Progress<Built>,
    note: &mut Option<String>,
) -> Result<((DatasetKey, Arc<Dataset>), Experiment), String> {
    let source = &key.source;
    let (dataset_key, data) = match dataset {
        Some(cached) => cached,
        None => {
            progress.report(None, format!("reading {}", source.describe()));
            let data = source
                .load(None, settings.data.n.max(1), settings.data.seed)
                .map_err(|e| format!("{e}\n\nSource: {}", source.describe()))?;
            (key.dataset(), Arc::new(data))
        }
    };
    if progress.cancelled() {
        return Err("cancelled".into());
    }
    let tiled = if settings.data.tile_shifts && settings.data.n > data.n {
        progress.report(
            None,
            format!(
                "filling up to {} images with shifted copies",
                settings.data.n
            ),
        );
        let (tiled, _) = tile_with_shifts(&data, settings.data.n, settings.data.seed)
            .map_err(|e| format!("{e}\n\nSource: {}", source.describe()))?;
        Some(tiled)
    } else {
        None
    };
    if progress.cancelled() {
        return Err("cancelled".into());
    }
    if settings.data.n > data.n && tiled.is_none() {
        *note = Some(format!(
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
    // The loaded data stays cached as read; the tiled copy lives only for this build.
    let mut built =
        experiment::build(tiled.as_ref().unwrap_or(&data), &spec).map_err(|e| e.to_string())?;
    drop(tiled);
    settings.painted.lay_over(&mut built);
    Ok(((dataset_key, data), built))
}

/// Loads the data (unless cached), builds the experiment (unless reused) or reads the session
/// to reopen, and starts the sampler paused or running: everything slow about a new chain,
/// off the UI thread.
pub fn build_chain(
    request: BuildRequest,
    progress: &Progress<Built>,
    ctx: egui::Context,
) -> Result<Built, String> {
    let BuildRequest {
        mut settings,
        mut key,
        dataset,
        experiment,
        run,
        restore,
    } = request;
    let mut note = None;
    let mut session = None;
    let (dataset, experiment) = match (&restore, experiment) {
        (Some(restore), _) => {
            progress.report(None, format!("reading the session {}", restore.file_name));
            let read = Session::load(&restore.path).map_err(|e| {
                format!(
                    "{e}\n\nFile: {}\nThe current chain and settings are kept as they were.",
                    restore.path.display()
                )
            })?;
            settings = session_settings(&read, &settings)?;
            let (data, built, warning) = restore_experiment(&read, progress)?;
            note = warning;
            settings.data.n = built.n;
            key = RestartKey::of(&settings, read.data.source().0);
            session = Some(read);
            (Some((key.dataset(), Arc::new(data))), Arc::new(built))
        }
        (None, Some(experiment)) => (dataset, experiment),
        (None, None) => {
            let (data, built) =
                fresh_experiment(&mut settings, &key, dataset, progress, &mut note)?;
            key.data.n = settings.data.n;
            (Some(data), Arc::new(built))
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
    if let (Some(restore), Some(session)) = (&restore, &session) {
        live.restore(
            &session.traces,
            session.posterior.as_ref(),
            &settings.model,
            &restore.file_name,
        );
    }
    let watched = live.wanted_images();
    let others = if settings.chains >= 2 {
        progress.report(None, format!("starting {} chains", settings.chains));
        let repaint = ctx.clone();
        let notify: Notify = Box::new(move || repaint.request_repaint());
        Some(OtherChains::spawn(
            Arc::clone(&experiment),
            &settings.model,
            settings.chains,
            run,
            notify,
        )?)
    } else {
        None
    };
    if progress.cancelled() {
        return Err("cancelled".into());
    }
    // The view sampler is chain 1 of the diagnostics: it records itself into their feed.
    let options = HandleOptions {
        start_paused: !run,
        watch: watched.clone(),
        image_shape: Some((experiment.height, experiment.width)),
        feed: others.as_ref().and_then(OtherChains::feed),
        ..HandleOptions::default()
    };
    let notify: Notify = Box::new(move || ctx.request_repaint());
    let handle = SamplerHandle::spawn(
        Arc::clone(&experiment),
        settings.model.clone(),
        options,
        Some(notify),
    )
    .map_err(|e| e.to_string())?;
    Ok(Built {
        settings,
        key,
        dataset,
        experiment,
        handle,
        others,
        live,
        watched,
        note,
        restored: restore,
    })
}
