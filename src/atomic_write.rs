//! Writes that cannot lose data: a file is written under a temporary name in its own folder,
//! flushed and synced to disk, and only then renamed over the real name. A reader (or a crash,
//! a full disk, a file-size limit, a killed process) sees either the old file or the whole new
//! one, never a partial file under the real name; on failure the temporary file is removed.
//!
//! Every output of the project goes through here: CLI tables, figures and `summary.json`,
//! sessions ([`crate::session::Session::save`]), mask files ([`crate::masks::write_mask_file`])
//! and IDX exports ([`crate::data::idx::write_idx_f32`]). Downloads into the MNIST cache use
//! the same pattern (temporary file, sync, rename) in [`crate::data::download`], because they
//! verify a checksum between writing and renaming.
//!
//! Runs on the caller's thread and blocks on disk I/O (including `fsync`): front ends call it
//! from a background job, not from the UI thread.
//!
//! ```no_run
//! use std::io::Write;
//! gibbs_fa::atomic_write::write_with(std::path::Path::new("out/table.csv"), |w| {
//!     writeln!(w, "pixel,mean")?;
//!     writeln!(w, "0,1.5")
//! })?;
//! # Ok::<(), gibbs_fa::atomic_write::AtomicWriteError>(())
//! ```

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Why a file could not be written. The target is untouched (an older file of that name is
/// still whole) and no temporary file is left behind.
#[derive(Debug, thiserror::Error)]
#[error("could not write {path} while {stage}: {error}")]
pub struct AtomicWriteError {
    /// The file that was to be written (its final name).
    pub path: PathBuf,
    /// What failed: "creating a temporary file", "writing", "syncing to disk",
    /// "renaming into place" or "checking the path".
    pub stage: &'static str,
    /// The operating system's error (part of the message, so front ends can show
    /// `to_string()` alone).
    pub error: std::io::Error,
}

impl AtomicWriteError {
    /// True when the disk (or a file-size limit) ran out of room.
    pub fn is_out_of_space(&self) -> bool {
        matches!(
            self.error.kind(),
            std::io::ErrorKind::StorageFull | std::io::ErrorKind::FileTooLarge
        ) || matches!(self.error.raw_os_error(), Some(27 | 28)) // EFBIG, ENOSPC
    }
}

/// Writes `path` through `fill`, which gets a buffered writer on a temporary file in the same
/// folder. The temporary file is renamed to `path` only when `fill` returned `Ok` and every
/// byte reached the disk; otherwise it is removed and the error says which stage failed (an
/// error from `fill` itself is reported as stage "writing"). The folder must exist.
pub fn write_with<F>(path: &Path, fill: F) -> Result<(), AtomicWriteError>
where
    F: FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
{
    let fail = |stage: &'static str, error: std::io::Error| AtomicWriteError {
        path: path.to_path_buf(),
        stage,
        error,
    };
    let name = path.file_name().ok_or_else(|| {
        fail(
            "checking the path",
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "the path has no file name",
            ),
        )
    })?;
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let (tmp_path, file) =
        create_temp(&folder, name).map_err(|e| fail("creating a temporary file", e))?;
    let guard = TempGuard(Some(tmp_path));
    let mut out = BufWriter::with_capacity(256 * 1024, file);
    fill(&mut out).map_err(|e| fail("writing", e))?;
    let file = out
        .into_inner()
        .map_err(|e| fail("writing", e.into_error()))?;
    file.sync_all().map_err(|e| fail("syncing to disk", e))?;
    drop(file);
    let tmp_path = guard.path();
    std::fs::rename(tmp_path, path).map_err(|e| fail("renaming into place", e))?;
    guard.disarm();
    // Make the rename itself durable; best effort (some file systems refuse to sync folders).
    if let Ok(dir) = File::open(&folder) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// Makes a write beyond the process's file-size limit (RLIMIT_FSIZE, `ulimit -f`) fail with
/// an error (EFBIG) that [`write_with`] reports and cleans up after, instead of the default
/// SIGXFSZ killing the process mid-write and leaving the temporary file behind. Call once at
/// start-up from a front end (the CLI does); a no-op where the signal does not exist.
pub fn ignore_file_size_signal() {
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to SIG_IGN touches no memory of ours.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

/// Writes `bytes` to `path` atomically (see [`write_with`]).
pub fn write_bytes(path: &Path, bytes: &[u8]) -> Result<(), AtomicWriteError> {
    write_with(path, |w| w.write_all(bytes))
}

/// The temporary name used for `name`: hidden, unique per process and call, same folder.
fn create_temp(folder: &Path, name: &std::ffi::OsStr) -> std::io::Result<(PathBuf, File)> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    loop {
        let k = COUNTER.fetch_add(1, Ordering::Relaxed);
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(format!(".tmp-{}-{k}", std::process::id()));
        let tmp = folder.join(tmp_name);
        match OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(file) => return Ok((tmp, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Removes the temporary file when dropped, unless disarmed after the rename.
struct TempGuard(Option<PathBuf>);

impl TempGuard {
    fn path(&self) -> &Path {
        self.0.as_deref().unwrap_or(Path::new(""))
    }
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for TempGuard {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_whole_file_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        write_bytes(&path, b"old").unwrap();
        write_with(&path, |w| w.write_all(b"new contents")).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new contents");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn failing_fill_keeps_old_file_and_removes_temp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        write_bytes(&path, b"old").unwrap();
        let err = write_with(&path, |w| {
            w.write_all(b"partial")?;
            Err(std::io::Error::other("encoder failed"))
        })
        .unwrap_err();
        assert_eq!(err.stage, "writing");
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn parent_is_a_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("plain");
        std::fs::write(&file, b"x").unwrap();
        let err = write_bytes(&file.join("out.csv"), b"data").unwrap_err();
        assert_eq!(err.stage, "creating a temporary file");
        assert!(err.to_string().contains("out.csv"), "{err}");
        assert_eq!(std::fs::read(&file).unwrap(), b"x");
    }
}
