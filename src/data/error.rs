//! The one error type of the data layer. Every variant names the file (or URL) and says what is
//! wrong in words a user can act on, because these messages reach the GUI and the CLI as they are.

use std::path::PathBuf;

/// What went wrong while reading, writing, finding or downloading data.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A file could not be written (disk full, read-only folder, ...); nothing partial was left.
    #[error(transparent)]
    Write(#[from] crate::atomic_write::AtomicWriteError),

    /// The operating system refused an operation on the file (missing, permissions, disk full).
    #[error("{path}: {action} failed: {source}")]
    Io {
        path: PathBuf,
        /// What we were doing, e.g. "reading", "writing", "listing the folder".
        action: &'static str,
        source: std::io::Error,
    },

    /// The path does not exist.
    #[error("{0}: no such file or folder")]
    NotFound(PathBuf),

    /// The file ends before its header or its data is complete.
    #[error("{path}: file is truncated: {detail}")]
    Truncated { path: PathBuf, detail: String },

    /// The gzip stream could not be decompressed.
    #[error("{path}: corrupt gzip data: {detail}")]
    CorruptGzip { path: PathBuf, detail: String },

    /// An IDX file must start with two zero bytes, a type code and the number of dimensions.
    #[error("{path}: not an IDX file (first bytes {found:02x?}, expected 00 00 <type> <dims>)")]
    WrongMagic { path: PathBuf, found: [u8; 4] },

    /// The IDX type code is none of 0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E.
    #[error("{path}: unknown IDX element type code 0x{code:02x}")]
    UnknownTypeCode { path: PathBuf, code: u8 },

    /// A file declares no dimensions, or one of its dimensions is zero.
    #[error("{path}: {detail}")]
    ZeroDims { path: PathBuf, detail: String },

    /// The data section is longer or shorter than the header says.
    #[error(
        "{path}: header declares {declared} data bytes but the file holds {}{actual}",
        if *at_least { "at least " } else { "" }
    )]
    SizeMismatch {
        path: PathBuf,
        declared: u64,
        actual: u64,
        /// True when reading stopped past the declared size (a gzip stream is not read to its end).
        at_least: bool,
    },

    /// The header declares more data than we are willing to hold in memory.
    #[error("{path}: header declares {declared} bytes of data, more than the limit of {limit}")]
    TooLarge {
        path: PathBuf,
        declared: u64,
        limit: u64,
    },

    /// The file is valid but has the wrong number of dimensions for how it is used.
    #[error("{path}: {detail}")]
    WrongShape { path: PathBuf, detail: String },

    /// A pixel value or label is not usable (NaN, infinite, a label outside 0..=255).
    #[error("{path}: {detail}")]
    BadValue { path: PathBuf, detail: String },

    /// Images and labels disagree on how many items there are.
    #[error("{labels}: {n_labels} labels but {images} holds {n_images} images")]
    LabelCountMismatch {
        images: PathBuf,
        labels: PathBuf,
        n_images: usize,
        n_labels: usize,
    },

    /// A CSV line could not be used.
    #[error("{path}, line {line}: {detail}")]
    Csv {
        path: PathBuf,
        line: usize,
        detail: String,
    },

    /// The number of pixels per image gives no image shape by itself.
    #[error(
        "{path}: {d} values per image is not 784 nor a perfect square; give the image shape with --shape HxW"
    )]
    NeedShape { path: PathBuf, d: usize },

    /// A shape was given that does not fit the number of pixels per image.
    #[error("{path}: shape {height}x{width} has {} pixels but each image has {d}", height * width)]
    ShapeMismatch {
        path: PathBuf,
        height: usize,
        width: usize,
        d: usize,
    },

    /// A PNG could not be decoded.
    #[error("{path}: cannot decode PNG: {detail}")]
    Png { path: PathBuf, detail: String },

    /// PNGs of one folder must all have the same size.
    #[error(
        "{path}: image is {found_w}x{found_h} but the first image of the folder is {expected_w}x{expected_h} (width x height)"
    )]
    PngSizeMismatch {
        path: PathBuf,
        expected_w: u32,
        expected_h: u32,
        found_w: u32,
        found_h: u32,
    },

    /// A folder given as a PNG folder holds no `.png` file.
    #[error("{0}: folder holds no MNIST files and no .png images")]
    NoImagesInFolder(PathBuf),

    /// A file whose kind we cannot tell (not IDX, not CSV, not PNG folder).
    #[error("{path}: {detail}")]
    UnknownFormat { path: PathBuf, detail: String },

    /// More images asked for than a generator makes (shifted copies, see [`super::tile`]).
    #[error("cannot make {asked} images: at most {limit} are allowed")]
    TooManyImages { asked: usize, limit: usize },

    /// An argument out of range (n = 0 images, negative noise level, ...).
    #[error("{0}")]
    InvalidArgument(String),

    /// One download attempt failed (HTTP error, connection cut, timeout).
    #[error("{url}: download failed: {detail}")]
    Http { url: String, detail: String },

    /// Downloaded bytes do not have the expected checksum.
    #[error(
        "{url}: checksum mismatch (MD5 of the decompressed data is {actual}, expected {expected})"
    )]
    Checksum {
        url: String,
        expected: String,
        actual: String,
    },

    /// Every mirror failed for one file; `attempts` has one message per mirror.
    #[error(
        "could not download {file} from any mirror:{}",
        list_attempts(attempts)
    )]
    AllMirrorsFailed {
        file: String,
        attempts: Vec<DataError>,
    },

    /// The user cancelled a download.
    #[error("download cancelled")]
    Cancelled,

    /// No cache folder is known on this system (no home folder).
    #[error("this system has no user cache folder; give a data path or set GIBBS_FA_DATA")]
    NoCacheDir,
}

impl DataError {
    /// Wraps an I/O error with the path and what we were doing, mapping "not found" to
    /// [`DataError::NotFound`] so the message stays short.
    pub fn io(path: impl Into<PathBuf>, action: &'static str, source: std::io::Error) -> Self {
        let path = path.into();
        if source.kind() == std::io::ErrorKind::NotFound {
            DataError::NotFound(path)
        } else {
            DataError::Io {
                path,
                action,
                source,
            }
        }
    }
}

fn list_attempts(attempts: &[DataError]) -> String {
    attempts.iter().map(|e| format!("\n  {e}")).collect()
}
