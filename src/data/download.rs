//! Downloading the MNIST test set (images and labels) into a folder, normally the user's cache.
//!
//! Mirrors are tried in order for each file. Bytes go to a temporary file in the target folder;
//! the MD5 of the decompressed data is checked, and only when both files are verified are they
//! renamed into place. A failed, cancelled or cut-off download leaves no file behind.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;
#[cfg(feature = "download")]
use std::{
    io::Write,
    path::PathBuf,
    sync::atomic::{AtomicBool, AtomicU64, Ordering},
    time::Duration,
};

use flate2::read::MultiGzDecoder;
use md5::{Digest, Md5};

use super::DataError;
use super::idx::MAX_DECODED_BYTES;

/// Public mirrors of the MNIST files, tried in this order.
pub const DEFAULT_MIRRORS: &[&str] = &[
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
];

/// Largest response accepted (the gzipped training images, the largest MNIST file, are 9.9 MB).
pub const MAX_DOWNLOAD_BYTES: u64 = 64 << 20;

/// A file to fetch: its name without `.gz` and the MD5 of its decompressed bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MnistFile {
    pub name: &'static str,
    pub md5: &'static str,
}

/// The MNIST test images (10,000 x 28 x 28).
pub const TEST_IMAGES: MnistFile = MnistFile {
    name: "t10k-images-idx3-ubyte",
    md5: "2646ac647ad5339dbf082846283269ea",
};

/// The MNIST test labels. MD5 computed here from the decompressed t10k-labels-idx1-ubyte.gz
/// of the project's shared data (10,008 bytes: an 8-byte header and 10,000 labels).
pub const TEST_LABELS: MnistFile = MnistFile {
    name: "t10k-labels-idx1-ubyte",
    md5: "27ae3e4e09519cfbb04c329615203637",
};

/// What [`download_mnist`] fetches.
pub const MNIST_TEST_FILES: [MnistFile; 2] = [TEST_IMAGES, TEST_LABELS];

/// Progress of a download, reported after every chunk received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DownloadProgress {
    /// The file being fetched (name without `.gz`).
    pub file: &'static str,
    /// Its position (0-based) among `file_count` files.
    pub file_index: usize,
    pub file_count: usize,
    /// Bytes of this file received so far (from the current mirror).
    pub bytes_done: u64,
    /// The file's size when the server says it.
    pub bytes_total: Option<u64>,
}

#[cfg(feature = "download")]
/// Downloads the MNIST test files into the user's cache folder from the default mirrors and
/// returns that folder.
pub fn download_mnist_to_cache(
    progress: &mut dyn FnMut(&DownloadProgress),
    cancel: &AtomicBool,
) -> Result<PathBuf, DataError> {
    let dir = super::locate::cache_dir().ok_or(DataError::NoCacheDir)?;
    download_mnist(&dir, DEFAULT_MIRRORS, progress, cancel)
}

#[cfg(feature = "download")]
/// Downloads the MNIST test files into `target_dir` (created if needed), trying each base URL of
/// `mirrors` in order for each file, and returns `target_dir`. Files already there with the
/// right checksum are kept. Setting `cancel` stops the download (within one read, at most
/// 30 s on a stalled connection) with [`DataError::Cancelled`].
pub fn download_mnist(
    target_dir: &Path,
    mirrors: &[&str],
    progress: &mut dyn FnMut(&DownloadProgress),
    cancel: &AtomicBool,
) -> Result<PathBuf, DataError> {
    if mirrors.is_empty() {
        return Err(DataError::InvalidArgument(
            "no download mirror given".into(),
        ));
    }
    std::fs::create_dir_all(target_dir)
        .map_err(|e| DataError::io(target_dir, "creating the folder", e))?;
    let agent = make_agent();
    let mut fetched: Vec<(TempFile, PathBuf)> = Vec::new();
    for (file_index, file) in MNIST_TEST_FILES.iter().enumerate() {
        if present_and_valid(target_dir, file) {
            continue;
        }
        let mut attempts = Vec::new();
        let mut done = None;
        for base in mirrors {
            let url = format!("{}/{}.gz", base.trim_end_matches('/'), file.name);
            let mut report = |bytes_done, bytes_total| {
                progress(&DownloadProgress {
                    file: file.name,
                    file_index,
                    file_count: MNIST_TEST_FILES.len(),
                    bytes_done,
                    bytes_total,
                })
            };
            match fetch_verified(&agent, &url, target_dir, file, &mut report, cancel) {
                Ok(ok) => {
                    done = Some(ok);
                    break;
                }
                Err(DataError::Cancelled) => return Err(DataError::Cancelled),
                Err(e) => attempts.push(e),
            }
        }
        match done {
            Some((temp, gz)) => {
                let final_name = if gz {
                    format!("{}.gz", file.name)
                } else {
                    file.name.to_string()
                };
                fetched.push((temp, target_dir.join(final_name)));
            }
            None => {
                return Err(DataError::AllMirrorsFailed {
                    file: file.name.to_string(),
                    attempts,
                });
            }
        }
    }
    for (mut temp, final_path) in fetched {
        std::fs::rename(&temp.path, &final_path)
            .map_err(|e| DataError::io(&final_path, "moving the download into place", e))?;
        temp.keep = true;
    }
    // Make the renames durable too (best effort; the files themselves were synced before).
    if let Ok(dir) = File::open(target_dir) {
        let _ = dir.sync_all();
    }
    Ok(target_dir.to_path_buf())
}

/// MD5 (lower-case hex) of a file's content, decompressed first when it is gzipped.
pub fn content_md5(path: &Path) -> Result<String, DataError> {
    let file = File::open(path).map_err(|e| DataError::io(path, "opening", e))?;
    let mut reader = BufReader::new(file);
    let mut head = [0u8; 2];
    let n = read_up_to(&mut reader, &mut head).map_err(|e| DataError::io(path, "reading", e))?;
    let prefix = head.get(..n).unwrap_or(&[]);
    let chained = prefix.chain(reader);
    let mut hasher = Md5::new();
    if prefix == [0x1f, 0x8b] {
        let mut decoder = MultiGzDecoder::new(chained).take(MAX_DECODED_BYTES);
        std::io::copy(&mut decoder, &mut hasher).map_err(|e| DataError::CorruptGzip {
            path: path.to_path_buf(),
            detail: e.to_string(),
        })?;
    } else {
        let mut raw = chained;
        std::io::copy(&mut raw, &mut hasher).map_err(|e| DataError::io(path, "reading", e))?;
    }
    Ok(format!("{:x}", hasher.finalize()))
}

fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match reader.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

#[cfg(feature = "download")]
/// True when `dir` already holds `file` (gzipped or raw) with the right checksum.
fn present_and_valid(dir: &Path, file: &MnistFile) -> bool {
    [format!("{}.gz", file.name), file.name.to_string()]
        .iter()
        .map(|n| dir.join(n))
        .any(|p| p.is_file() && content_md5(&p).is_ok_and(|m| m == file.md5))
}

#[cfg(feature = "download")]
fn make_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(15)))
        .timeout_recv_response(Some(Duration::from_secs(30)))
        .timeout_per_read(Some(Duration::from_secs(30)))
        .user_agent(concat!("gibbs-fa/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

#[cfg(feature = "download")]
/// One attempt at one URL: the verified temporary file and whether it is gzipped.
fn fetch_verified(
    agent: &ureq::Agent,
    url: &str,
    dir: &Path,
    file: &MnistFile,
    report: &mut dyn FnMut(u64, Option<u64>),
    cancel: &AtomicBool,
) -> Result<(TempFile, bool), DataError> {
    let http = |detail: String| DataError::Http {
        url: url.to_string(),
        detail,
    };
    if cancel.load(Ordering::Relaxed) {
        return Err(DataError::Cancelled);
    }
    let response = agent.get(url).call().map_err(|e| http(e.to_string()))?;
    let total = response.body().content_length();
    if total.is_some_and(|t| t > MAX_DOWNLOAD_BYTES) {
        return Err(http(format!(
            "the server announces {} bytes, more than the limit of {MAX_DOWNLOAD_BYTES}",
            total.unwrap_or(0)
        )));
    }
    let mut body = response
        .into_body()
        .into_with_config()
        .limit(MAX_DOWNLOAD_BYTES)
        .reader();

    let temp = TempFile::new(dir, file.name);
    let mut out = File::create(&temp.path).map_err(|e| DataError::io(&temp.path, "creating", e))?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut done = 0u64;
    report(0, total);
    loop {
        if cancel.load(Ordering::Relaxed) {
            return Err(DataError::Cancelled);
        }
        let k = match body.read(&mut buf) {
            Ok(0) => break,
            Ok(k) => k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(http(format!("connection failed after {done} bytes: {e}")));
            }
        };
        out.write_all(buf.get(..k).unwrap_or(&[]))
            .map_err(|e| DataError::io(&temp.path, "writing", e))?;
        done += k as u64;
        report(done, total);
    }
    if let Some(t) = total
        && done != t
    {
        return Err(http(format!("received {done} of {t} bytes")));
    }
    out.sync_all()
        .map_err(|e| DataError::io(&temp.path, "writing", e))?;
    drop(out);

    let gz = super::idx::is_gzip(&temp.path)?;
    let actual = content_md5(&temp.path).map_err(|e| match e {
        DataError::CorruptGzip { detail, .. } => http(format!("corrupt gzip data: {detail}")),
        other => other,
    })?;
    if actual != file.md5 {
        return Err(DataError::Checksum {
            url: url.to_string(),
            expected: file.md5.to_string(),
            actual,
        });
    }
    Ok((temp, gz))
}

#[cfg(feature = "download")]
/// A temporary file in the target folder, removed when dropped unless `keep` is set.
struct TempFile {
    path: PathBuf,
    keep: bool,
}

#[cfg(feature = "download")]
impl TempFile {
    fn new(dir: &Path, name: &str) -> Self {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let k = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!(".{name}.part-{}-{k}", std::process::id()));
        TempFile { path, keep: false }
    }
}

#[cfg(feature = "download")]
impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
