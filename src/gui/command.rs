//! Every user action as one value: panels, menus, shortcuts and dropped files queue an
//! [`AppCommand`]; the app applies the queue once per frame, after drawing, in order. Panels
//! thus never reach into the chain or open files themselves, and tests can drive the app
//! with the same commands a click sends.
//!
//! Plain data on the UI thread.

use std::path::PathBuf;

use super::controls::RunAction;
use super::export::ExportKind;
use super::views::ViewTab;

/// Something the user asked for.
#[derive(Clone, Debug, PartialEq)]
pub enum AppCommand {
    /// Start, pause, step, stop, reset or extend the run.
    Run(RunAction),
    /// Turn on the recentring move (the Model section's "Recentre each sweep"), asked for
    /// from the diagnostics' hint; sent to the chains like the checkbox.
    RecentreEachSweep,
    /// Bring this view to the front (from a link elsewhere, e.g. the status bar's verdict on
    /// the chains to the Diagnostics tab).
    ShowView(ViewTab),
    /// Discard a long run for the pending restart settings.
    ConfirmRestart,
    /// Undo the pending restart settings: the chain goes on.
    KeepChain,
    /// Stop building a chain (or reopening a session); the current one stays.
    CancelBuild,
    /// The notebook's settings (the data source stays).
    RestoreDefaults,
    /// Open the system dialog for `Purpose` (on a job); its path becomes another command.
    Ask(Purpose),
    /// Export to a file chosen in a dialog.
    ExportTo(ExportKind, PathBuf),
    /// Reopen a saved session.
    OpenSession(PathBuf),
    /// Use this file or folder as the data.
    UseData(PathBuf),
    /// Lay the masks of this IDX file over the current images (as painted masks).
    OpenMasks(PathBuf),
    /// Put a painted mask into the running chain.
    ApplyMask { image: usize, missing: Vec<bool> },
    /// Open image `index` in the mask editor.
    EditImage(usize),
    /// Something for the lesson view (its buttons and shortcuts).
    Lesson(LessonAction),
    /// Restart the main chain with run `run` of the experiment preset with id `preset`
    /// ([`crate::lesson::presets`]), its settings and seeds.
    ApplyPreset { preset: String, run: usize },
    /// Compare the imputers on the chain's data and masks (the Compare view's job).
    RunComparison,
    /// Stop the comparison in progress.
    CancelComparison,
    /// Write the comparison's table (as `gibbs-fa compare`'s compare.json) to this file.
    SaveComparison(PathBuf),
}

/// What the lesson view is asked to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LessonAction {
    /// Draw the next complete conditional.
    Step,
    /// Undo the last step, restoring the state before it exactly.
    Back,
    /// Run the rest of the current sweep and then `count - 1` more sweeps.
    Sweeps(usize),
    /// Build a new lesson chain from the current data and the lesson's settings.
    Rebuild,
    /// Select the next experiment and restart the main chain with its first run.
    NextExperiment,
    /// Projector mode on or off (full screen, settings folded, 150% zoom, high contrast).
    ToggleProjector,
    /// Show or hide the list of keyboard shortcuts.
    ToggleHelp,
}

/// The commands queued during a frame.
#[derive(Default)]
pub struct Commands {
    queue: Vec<AppCommand>,
}

impl Commands {
    pub fn push(&mut self, command: AppCommand) {
        self.queue.push(command);
    }

    /// Takes the queued commands, oldest first.
    pub fn take(&mut self) -> Vec<AppCommand> {
        std::mem::take(&mut self.queue)
    }

    /// True when a [`AppCommand::CancelBuild`] waits to be applied.
    pub fn cancels_build(&self) -> bool {
        self.queue
            .iter()
            .any(|c| matches!(c, AppCommand::CancelBuild))
    }
}

/// What a dialog is for: the command its path becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// Where to export (a save dialog).
    Export(ExportKind),
    /// A session to reopen.
    OpenSession,
    /// Data: a file (IDX or CSV) or, with `folder`, a folder (MNIST files or PNGs).
    OpenData { folder: bool },
    /// A mask file (IDX) for the current images.
    OpenMasks,
    /// Where to save the comparison's table (JSON).
    SaveComparison,
}

impl Purpose {
    /// The command a chosen `path` becomes.
    pub fn command(self, path: PathBuf) -> AppCommand {
        match self {
            Purpose::Export(kind) => AppCommand::ExportTo(kind, path),
            Purpose::OpenSession => AppCommand::OpenSession(path),
            Purpose::OpenData { .. } => AppCommand::UseData(path),
            Purpose::OpenMasks => AppCommand::OpenMasks(path),
            Purpose::SaveComparison => AppCommand::SaveComparison(path),
        }
    }
}
