//! The messages between a front end and the sampler thread: commands in, events out, and the
//! snapshot of the sampler's state that events carry.

use std::time::Duration;

use crate::model::SweepRecord;
use crate::model::{Hyperparameters, ImageSummary, MeanStd, Prior, SamplerSettings, Schedule};

/// Most images whose summaries one snapshot carries (extra indices in [`Command::Watch`] are
/// ignored): a front end shows a few dozen digits at a time, and each summary is 3 x D floats.
pub const MAX_WATCHED: usize = 256;

/// What a front end asks the sampler thread to do. Commands are read once per sweep (and at
/// once while the sampler is idle), in the order sent.
///
/// Settings that apply at the next sweep: hyperparameters with the same M, the prior, the
/// schedule and the run length (the model clears its running moments on a change of target).
/// Each applied change is followed by a snapshot; a rejected one by [`Event::Error`].
/// Settings that need a new [`super::SamplerHandle`]: M, the data, the masks, the noise and the
/// seed; the caller stops the old handle and spawns a new one.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Stop sweeping after the current sweep; state becomes [`RunState::Paused`] and a snapshot
    /// follows. Ignored unless running.
    Pause,
    /// Continue a paused run. With the run length already reached the state becomes
    /// [`RunState::Finished`] instead; to run on, send [`Command::SetRunLength`] first.
    Resume,
    /// Exactly one sweep, then stay idle (a running sampler pauses first). Works past the run
    /// length too; each step is followed by a snapshot.
    Step,
    /// End the thread (same as [`super::SamplerHandle::stop`], without waiting).
    Stop,
    /// New nu0, sigma0^2, kappa0, lambda0 from the next sweep. M must stay the same: a new M
    /// gives [`Event::Error`] and needs a new handle.
    SetHyperparameters(Hyperparameters),
    /// New prior on W from the next sweep.
    SetPrior(Prior),
    /// New order of updates from the next sweep.
    SetSchedule(Schedule),
    /// The recentring move on or off from the next sweep.
    SetRecentre(bool),
    /// New run length (total sweeps since the start, and the burn-in). A finished run whose
    /// new length is beyond the current sweep becomes paused (Resume continues it); a running
    /// one past its new length finishes.
    SetRunLength { sweeps: usize, burn_in: usize },
    /// The images (indices into the problem) whose summaries snapshots carry, replacing the
    /// previous list; out-of-range indices are dropped, at most [`MAX_WATCHED`] are kept.
    /// A snapshot follows promptly, also while paused.
    Watch(Vec<usize>),
    /// Send a snapshot as soon as possible (at once while idle, else after the current sweep).
    RequestSnapshot,
    /// Give image `image` a new mask without restarting the chain (a hand-painted mask):
    /// `missing` (length D, true = missing) replaces its mask and `values` (length D) is the
    /// image's data, read where the new mask reveals pixels and used as their truth for the
    /// RMSE. The running moments restart (burn-in counts again); the sweep count goes on.
    /// A snapshot follows; a rejected mask gives [`Event::Error`] and changes nothing.
    SetMask {
        image: usize,
        missing: Vec<bool>,
        values: Vec<f32>,
    },
    /// Send the posterior mean and std of every pixel of every image ([`Event::Summary`]):
    /// after the sweep in progress (or the steps already asked for), at once while idle.
    RequestSummary,
}

/// Where a run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RunState {
    /// Sweeping.
    Running,
    /// Idle, waiting for commands, before the run length was reached.
    Paused,
    /// Idle because the run length was reached.
    Finished,
    /// The thread has ended (stop, handle dropped, reader gone, or an internal failure).
    Stopped,
}

impl RunState {
    /// Lowercase name for display and JSON.
    pub fn name(self) -> &'static str {
        match self {
            RunState::Running => "running",
            RunState::Paused => "paused",
            RunState::Finished => "finished",
            RunState::Stopped => "stopped",
        }
    }

    pub(crate) fn to_code(self) -> u8 {
        match self {
            RunState::Running => 0,
            RunState::Paused => 1,
            RunState::Finished => 2,
            RunState::Stopped => 3,
        }
    }

    pub(crate) fn from_code(code: u8) -> RunState {
        match code {
            0 => RunState::Running,
            1 => RunState::Paused,
            2 => RunState::Finished,
            _ => RunState::Stopped,
        }
    }
}

/// What the sampler thread reports.
#[derive(Clone, Debug)]
pub enum Event {
    /// One per sweep, in order, never dropped (keep them all for the traces).
    Sweep(SweepRecord),
    /// The sampler's state now and then (see [`HandleOptions::snapshot_interval`]); a newer
    /// snapshot supersedes an older one, so a slow reader may miss some.
    Snapshot(Box<Snapshot>),
    /// The run state changed (also sent once at the start).
    State(RunState),
    /// A command could not be applied (bad setting) or a sweep failed; the message says why.
    Error(String),
    /// The answer to [`Command::RequestSummary`]: the whole data set's posterior summary.
    Summary(Box<FullSummary>),
}

/// The chain's own posterior summary of all N x D pixels (row-major): observed pixels hold
/// the data with std 0; missing ones the running posterior mean and std over the sweeps after
/// burn-in (the current sample and std 0 while no sweep has entered the moments).
#[derive(Clone, Debug, PartialEq)]
pub struct FullSummary {
    /// Sweeps done when the summary was taken.
    pub iteration: usize,
    pub n: usize,
    pub d: usize,
    /// Sweeps in the running moments (0: the mean is the current sample).
    pub samples_in_moments: usize,
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
}

/// The sampler's state at one moment, for display. Built on the sampler thread; the reader
/// owns it.
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// Sweeps done when the snapshot was taken.
    pub iteration: usize,
    /// Number of images N.
    pub n: usize,
    /// Pixels per image D.
    pub d: usize,
    /// Number of factors M.
    pub m: usize,
    /// Image height and width when the handle was told them ([`HandleOptions::image_shape`]).
    pub image_shape: Option<(usize, usize)>,
    /// Current loadings W, D x M, column-major: factor k is `w[k*d..(k+1)*d]` (see
    /// [`Snapshot::factor`]).
    pub w: Vec<f32>,
    /// Current mu (length D).
    pub mu: Vec<f32>,
    /// Current sigma^2 (length D).
    pub sigmasq: Vec<f32>,
    /// Posterior mean and std of mu over the samples after burn-in.
    pub posterior_mu: MeanStd,
    /// Posterior mean and std of sigma^2 over the samples after burn-in.
    pub posterior_sigmasq: MeanStd,
    /// Number of sweeps in the running moments (0 during burn-in).
    pub samples_in_moments: usize,
    /// Sweep of the last change of target or schedule (0 at the start): the burn-in counts
    /// from it, so the views mark burn_in_from ..= burn_in_from + burn-in.
    pub burn_in_from: usize,
    /// Summaries of the watched images, in the order of [`Command::Watch`].
    pub images: Vec<ImageSummary>,
    /// RMSE of column-mean imputation on the missing entries (the baseline to beat).
    pub rmse_mean_impute: Option<f64>,
    /// Fraction of entries that are missing.
    pub missing_fraction: f64,
    /// The most recent sweep, if any.
    pub last_sweep: Option<SweepRecord>,
    /// The settings in force (after any changes).
    pub settings: SamplerSettings,
    /// The run state when the snapshot was taken.
    pub state: RunState,
}

impl Snapshot {
    /// Factor k of W as an image of D pixels (None when k >= M).
    pub fn factor(&self, k: usize) -> Option<&[f32]> {
        if k >= self.m {
            return None;
        }
        self.w.get(k * self.d..(k + 1) * self.d)
    }
}

/// How the sampler thread behaves.
#[derive(Clone, Debug, PartialEq)]
pub struct HandleOptions {
    /// Shortest time between two throttled snapshots while running (default 100 ms).
    /// Snapshots after pause, step, finish, watch changes and requests are not throttled.
    pub snapshot_interval: Duration,
    /// Start idle ([`RunState::Paused`]) instead of running.
    pub start_paused: bool,
    /// Images whose summaries snapshots carry from the start (see [`Command::Watch`]).
    pub watch: Vec<usize>,
    /// Image height and width, copied into snapshots; height x width must equal D.
    pub image_shape: Option<(usize, usize)>,
    /// Capacity of the event channel. When it is full the thread keeps sweep records (and
    /// state changes) in its own queue and hands them over later; it never waits.
    pub channel_capacity: usize,
    /// Record this sampler as chain 1 of a multi-chain run's diagnostics (the feed of a
    /// [`crate::chains::MultiChain`] built with `first_chain` = 1): after every sweep, and
    /// after every change of target, on the sampler's thread.
    pub feed: Option<crate::chains::ChainFeed>,
}

impl Default for HandleOptions {
    fn default() -> Self {
        HandleOptions {
            snapshot_interval: Duration::from_millis(100),
            start_paused: false,
            watch: Vec::new(),
            image_shape: None,
            channel_capacity: 1024,
            feed: None,
        }
    }
}
