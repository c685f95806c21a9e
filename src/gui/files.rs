//! Files the user picks: save and open dialogs, run as jobs so the window keeps drawing while
//! the system dialog is up, and files dropped onto the window, sorted by what they hold.
//!
//! Threads: each dialog is rfd's async one ([`rfd::AsyncFileDialog`]); its future is driven to
//! completion on the job's thread by `pollster::block_on`, which blocks that thread (never the
//! UI thread) until the user closes the dialog. rfd may run the system dialog on a helper
//! thread of its own. [`Dialogs::poll`] runs on the UI thread, never blocks, and turns a chosen
//! path into an [`AppCommand`]. Only one dialog is open at a time. Nothing here reads a file's
//! content.

use std::path::{Path, PathBuf};

use super::command::{AppCommand, Purpose};
use super::job::{Job, Outcome};
use super::notes::ErrorNote;

/// The dialog on screen, if any.
#[derive(Default)]
pub struct Dialogs {
    open: Option<(Purpose, Job<Option<PathBuf>>)>,
}

impl Dialogs {
    /// True while a dialog is up.
    pub fn is_open(&self) -> bool {
        self.open.is_some()
    }

    /// Opens the system's dialog for `purpose` on a job (one at a time: a second request
    /// while one is up is ignored).
    pub fn ask(&mut self, ctx: &egui::Context, purpose: Purpose) {
        if self.open.is_some() {
            return;
        }
        let job = Job::spawn("choosing a file", ctx, move |_| Ok(show(purpose)));
        self.open = Some((purpose, job));
    }

    /// The command for a path the user chose, once the dialog has closed; a dialog that
    /// failed to open becomes an error banner.
    pub fn poll(&mut self) -> Option<Result<AppCommand, ErrorNote>> {
        let (purpose, job) = self.open.as_mut()?;
        let purpose = *purpose;
        let outcome = job.poll()?;
        self.open = None;
        match outcome {
            Outcome::Finished(Some(path)) => Some(Ok(purpose.command(path))),
            Outcome::Finished(None) | Outcome::Cancelled => None,
            Outcome::Failed(detail) => Some(Err(ErrorNote::new("The file dialog failed", detail))),
        }
    }
}

/// Shows the system dialog for `purpose` and waits for the user (on a job's thread: the
/// dialog's future is polled there by `pollster::block_on`). Cancel gives `None`.
fn show(purpose: Purpose) -> Option<PathBuf> {
    use rfd::AsyncFileDialog as Dialog;
    let chosen = match purpose {
        Purpose::Export(kind) => {
            let (title, name, filter, extensions) = kind.dialog();
            pollster::block_on(
                Dialog::new()
                    .set_title(title)
                    .set_file_name(name)
                    .add_filter(filter, &extensions)
                    .save_file(),
            )
        }
        Purpose::OpenSession => pollster::block_on(
            Dialog::new()
                .set_title("Open a session")
                .add_filter("gibbs-fa session", &[crate::session::EXTENSION])
                .pick_file(),
        ),
        Purpose::OpenData { folder: true } => {
            pollster::block_on(Dialog::new().set_title("Data for gibbs-fa").pick_folder())
        }
        Purpose::OpenData { folder: false } => {
            pollster::block_on(Dialog::new().set_title("Data for gibbs-fa").pick_file())
        }
        Purpose::OpenMasks => pollster::block_on(
            Dialog::new()
                .set_title("Masks for the current images (IDX, nonzero = missing)")
                .pick_file(),
        ),
        Purpose::SaveComparison => pollster::block_on(
            Dialog::new()
                .set_title("Save the comparison table")
                .set_file_name("compare.json")
                .add_filter("JSON", &["json"])
                .save_file(),
        ),
    };
    chosen.map(|handle| handle.path().to_path_buf())
}

/// What a dropped file or folder is taken for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Dropped {
    /// A saved session (`.gibbsfa`).
    Session(PathBuf),
    /// Masks: an IDX file whose name says so ("mask" in it).
    Masks(PathBuf),
    /// Data: a folder (MNIST files or PNGs), an IDX or CSV file.
    Data(PathBuf),
}

impl Dropped {
    /// Sorts a dropped path by its name (nothing is read here; the job that opens it reads
    /// it and says clearly when it is not what its name suggests).
    pub fn classify(path: &Path) -> Dropped {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        let extension = path
            .extension()
            .map(|e| e.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        if extension == crate::session::EXTENSION {
            Dropped::Session(path.to_path_buf())
        } else if name.contains("mask") && !path.is_dir() {
            Dropped::Masks(path.to_path_buf())
        } else {
            Dropped::Data(path.to_path_buf())
        }
    }

    /// The command that opens it.
    pub fn command(self) -> AppCommand {
        match self {
            Dropped::Session(p) => AppCommand::OpenSession(p),
            Dropped::Masks(p) => AppCommand::OpenMasks(p),
            Dropped::Data(p) => AppCommand::UseData(p),
        }
    }

    /// For the hover overlay: what dropping it will do.
    pub fn describe(&self) -> String {
        let name = |p: &Path| {
            p.file_name()
                .map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into())
        };
        match self {
            Dropped::Session(p) => format!("open the session {}", name(p)),
            Dropped::Masks(p) => format!("use the masks in {}", name(p)),
            Dropped::Data(p) => format!("use the data in {}", name(p)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropped_paths_are_sorted_by_name() {
        let session = PathBuf::from("/tmp/run.GibbsFA");
        assert_eq!(
            Dropped::classify(&session),
            Dropped::Session(session.clone())
        );
        let masks = PathBuf::from("/tmp/my-masks-idx3-ubyte");
        assert_eq!(Dropped::classify(&masks), Dropped::Masks(masks.clone()));
        for data in ["/tmp/t10k-images-idx3-ubyte.gz", "/tmp/digits.csv", "/tmp"] {
            let data = PathBuf::from(data);
            assert_eq!(Dropped::classify(&data), Dropped::Data(data.clone()));
        }
        assert!(matches!(
            Dropped::classify(&session).command(),
            AppCommand::OpenSession(p) if p == session
        ));
    }
}
