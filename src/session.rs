//! Sessions: one file that reopens an experiment as it was — where the data came from, N, the
//! noise, the masks (painted ones included), the sampler settings and seeds, and what the
//! chain had found (posterior summaries and traces).
//!
//! Layout (all integers little-endian): a 48-byte header — the 16-byte magic
//! `gibbs-fa session`, a u32 format version, a u32 of flags (0), the u64 payload length and the
//! MD5 of the payload — then the payload: the settings as JSON, the masks bit-packed, and the
//! numeric arrays (traces, parameters, summaries) as raw f32/f64 so they come back bit for bit.
//! Every length is checked against the bytes that are really there before anything is
//! allocated, so a damaged, truncated or foreign file gives a [`SessionError`], never a panic.

use std::path::{Path, PathBuf};

use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};

use crate::data::{DataSource, Dataset};
use crate::experiment::{self, Experiment, ExperimentError, ExperimentSpec};
use crate::masks::MaskSet;
use crate::model::{MeanStd, SamplerSettings, Traces};
use crate::sampler::Snapshot;

/// First 16 bytes of every session file.
pub const MAGIC: &[u8; 16] = b"gibbs-fa session";
/// The format version this build writes and the newest it reads.
pub const FORMAT_VERSION: u32 = 1;
/// Suggested file extension (without the dot).
pub const EXTENSION: &str = "gibbsfa";
const HEADER_LEN: usize = 16 + 4 + 4 + 8 + 16;

/// Why a session could not be saved, read or reopened.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("could not {action} {path}: {source}")]
    Io {
        path: PathBuf,
        action: &'static str,
        source: std::io::Error,
    },
    #[error("not a gibbs-fa session file (it does not start with the session header)")]
    NotASession,
    #[error(
        "session format version {found} is newer than this program reads ({supported}); update gibbs-fa"
    )]
    UnsupportedVersion { found: u32, supported: u32 },
    #[error("the session file is truncated: expected {expected} bytes, found {found}")]
    Truncated { expected: u64, found: u64 },
    #[error("the session file is damaged (its checksum does not match its contents)")]
    ChecksumMismatch,
    #[error("the session file is damaged: {0}")]
    Malformed(String),
    #[error("the session could not be encoded: {0}")]
    Encode(String),
    #[error("the data loaded now differs from the data the session was saved with ({what})")]
    DataMismatch { what: String },
    #[error(transparent)]
    Experiment(#[from] ExperimentError),
    /// The file could not be written (disk full, read-only folder, ...); nothing partial was left.
    #[error(transparent)]
    Write(#[from] crate::atomic_write::AtomicWriteError),
}

/// Where the images came from, enough to load them again.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum DataRecord {
    /// A folder (or file) holding MNIST.
    Mnist { path: PathBuf },
    /// A user file or folder (IDX, CSV, PNG folder), with the image shape when one was given.
    File {
        path: PathBuf,
        shape: Option<(usize, usize)>,
    },
    /// The built-in synthetic digits: how many were made and from which seed.
    Synthetic { n: usize, seed: u64 },
}

impl DataRecord {
    /// The data source to load, the shape to pass for files that need one, and the synthetic
    /// count and seed ([`DataSource::load`]'s arguments).
    pub fn source(&self) -> (DataSource, Option<(usize, usize)>, usize, u64) {
        match self {
            DataRecord::Mnist { path } => (DataSource::Mnist(path.clone()), None, 0, 0),
            DataRecord::File { path, shape } => (DataSource::File(path.clone()), *shape, 0, 0),
            DataRecord::Synthetic { n, seed } => (DataSource::Synthetic, None, *n, *seed),
        }
    }

    /// Loads the images again.
    pub fn load(&self) -> Result<Dataset, SessionError> {
        let (source, shape, n, seed) = self.source();
        source
            .load(shape, n, seed)
            .map_err(|e| SessionError::Experiment(ExperimentError::Data(e)))
    }

    /// The record of a source as [`DataSource::load`] was called for it.
    pub fn from_source(
        source: &DataSource,
        shape: Option<(usize, usize)>,
        synthetic_n: usize,
        synthetic_seed: u64,
    ) -> DataRecord {
        match source {
            DataSource::Mnist(path) => DataRecord::Mnist { path: path.clone() },
            DataSource::File(path) => DataRecord::File {
                path: path.clone(),
                shape,
            },
            DataSource::Synthetic => DataRecord::Synthetic {
                n: synthetic_n,
                seed: synthetic_seed,
            },
        }
    }

    /// One line for the user.
    pub fn describe(&self) -> String {
        match self {
            DataRecord::Mnist { path } => format!("MNIST at {}", path.display()),
            DataRecord::File { path, .. } => format!("data file {}", path.display()),
            DataRecord::Synthetic { n, seed } => {
                format!("{n} built-in synthetic digits (seed {seed})")
            }
        }
    }
}

/// What the chain had found when the session was saved.
#[derive(Clone, Debug, PartialEq)]
pub struct PosteriorSummary {
    /// Sweeps done.
    pub iteration: usize,
    /// Sweeps in the running moments (after burn-in).
    pub samples_in_moments: usize,
    /// Pixels per image D and factors M.
    pub d: usize,
    pub m: usize,
    /// The last sample of W, D x M column-major (as in a sampler snapshot), mu and sigma^2.
    pub w: Vec<f32>,
    pub mu: Vec<f32>,
    pub sigmasq: Vec<f32>,
    /// Posterior mean and std of mu and of sigma^2.
    pub posterior_mu: MeanStd,
    pub posterior_sigmasq: MeanStd,
    /// Posterior mean and std of every pixel (N x D row-major; observed pixels carry their
    /// value and std 0), when the front end had them.
    pub reconstruction: Option<MeanStd>,
}

impl PosteriorSummary {
    /// What a sampler snapshot holds, plus the N x D posterior mean and std of the pixels when
    /// the front end has them.
    pub fn from_snapshot(snapshot: &Snapshot, reconstruction: Option<MeanStd>) -> Self {
        PosteriorSummary {
            iteration: snapshot.iteration,
            samples_in_moments: snapshot.samples_in_moments,
            d: snapshot.d,
            m: snapshot.m,
            w: snapshot.w.clone(),
            mu: snapshot.mu.clone(),
            sigmasq: snapshot.sigmasq.clone(),
            posterior_mu: snapshot.posterior_mu.clone(),
            posterior_sigmasq: snapshot.posterior_sigmasq.clone(),
            reconstruction,
        }
    }
}

/// Everything needed to reopen an experiment.
#[derive(Clone, Debug, PartialEq)]
pub struct Session {
    pub data: DataRecord,
    /// MD5 (hex) of the first N images as loaded, before noise ([`data_fingerprint`]), so a
    /// reopened session can tell that its data file changed.
    pub data_fingerprint: Option<String>,
    /// N, the noise and its seed, the mask generator settings and seed.
    pub spec: ExperimentSpec,
    /// Hyperparameters, prior, schedule, run length and the sampler's seed.
    pub settings: SamplerSettings,
    /// The masks in use, painted ones included.
    pub masks: MaskSet,
    /// One value per sweep.
    pub traces: Traces,
    pub posterior: Option<PosteriorSummary>,
    /// Free-form state of the front end (JSON text: open views, selected images, ..).
    pub front_end: Option<String>,
}

/// The JSON part of the payload.
#[derive(Serialize, Deserialize)]
struct Meta {
    program: String,
    data: DataRecord,
    data_fingerprint: Option<String>,
    spec: ExperimentSpec,
    settings: SamplerSettings,
    mask_shape: (usize, usize, usize),
    front_end: Option<String>,
}

impl Session {
    /// Rebuilds the experiment from freshly loaded `dataset` with the saved masks, refusing
    /// data that differs from what the session was saved with.
    pub fn rebuild(&self, dataset: &Dataset) -> Result<Experiment, SessionError> {
        if (dataset.height, dataset.width) != (self.masks.height, self.masks.width) {
            return Err(SessionError::DataMismatch {
                what: format!(
                    "images are {} x {}, the session's are {} x {}",
                    dataset.height, dataset.width, self.masks.height, self.masks.width
                ),
            });
        }
        if let Some(saved) = &self.data_fingerprint
            && dataset.n >= self.spec.n
            && data_fingerprint(dataset, self.spec.n).as_ref() != Some(saved)
        {
            return Err(SessionError::DataMismatch {
                what: "the pixel values of the first N images differ".to_string(),
            });
        }
        Ok(experiment::build_with_masks(
            dataset,
            &self.spec,
            self.masks.clone(),
        )?)
    }

    /// Writes the session to `path` (through a temporary file, so a failed save never leaves
    /// half a session behind under the real name).
    pub fn save(&self, path: &Path) -> Result<(), SessionError> {
        let bytes = self.to_bytes()?;
        crate::atomic_write::write_bytes(path, &bytes)?;
        Ok(())
    }

    /// Reads a session from `path`.
    pub fn load(path: &Path) -> Result<Session, SessionError> {
        let bytes = std::fs::read(path).map_err(|source| SessionError::Io {
            path: path.to_path_buf(),
            action: "read",
            source,
        })?;
        Session::from_bytes(&bytes)
    }

    /// The whole file as bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, SessionError> {
        self.check()?;
        let meta = Meta {
            program: format!("gibbs-fa {}", env!("CARGO_PKG_VERSION")),
            data: self.data.clone(),
            data_fingerprint: self.data_fingerprint.clone(),
            spec: self.spec.clone(),
            settings: self.settings.clone(),
            mask_shape: (self.masks.n, self.masks.height, self.masks.width),
            front_end: self.front_end.clone(),
        };
        let json = serde_json::to_vec(&meta).map_err(|e| SessionError::Encode(e.to_string()))?;
        let mut w = Writer::default();
        w.bytes(&json);
        w.bits(&self.masks.missing);
        for trace in [
            &self.traces.log_joint,
            &self.traces.rmse_sample,
            &self.traces.rmse_posterior_mean,
            &self.traces.seconds,
        ] {
            w.f64s(trace);
        }
        match &self.posterior {
            None => w.u64(0),
            Some(p) => {
                w.u64(1);
                for v in [p.iteration, p.samples_in_moments, p.d, p.m] {
                    w.u64(v as u64);
                }
                for a in [&p.w, &p.mu, &p.sigmasq] {
                    w.f32s(a);
                }
                for ms in [&p.posterior_mu, &p.posterior_sigmasq] {
                    w.f32s(&ms.mean);
                    w.f32s(&ms.std);
                }
                match &p.reconstruction {
                    None => w.u64(0),
                    Some(r) => {
                        w.u64(1);
                        w.f32s(&r.mean);
                        w.f32s(&r.std);
                    }
                }
            }
        }
        let payload = w.0;
        let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        out.extend_from_slice(&Md5::digest(&payload));
        out.extend_from_slice(&payload);
        Ok(out)
    }

    /// Parses a whole file.
    pub fn from_bytes(bytes: &[u8]) -> Result<Session, SessionError> {
        let magic_len = MAGIC.len().min(bytes.len());
        if bytes[..magic_len] != MAGIC[..magic_len] {
            return Err(SessionError::NotASession);
        }
        if bytes.len() < HEADER_LEN {
            return Err(SessionError::Truncated {
                expected: HEADER_LEN as u64,
                found: bytes.len() as u64,
            });
        }
        let mut header = Reader::new(&bytes[MAGIC.len()..HEADER_LEN]);
        let version = header.u32()?;
        let _flags = header.u32()?;
        let payload_len = header.u64()?;
        let checksum = header.take(16)?;
        if version == 0 || version > FORMAT_VERSION {
            return Err(SessionError::UnsupportedVersion {
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        let available = (bytes.len() - HEADER_LEN) as u64;
        if payload_len > available {
            return Err(SessionError::Truncated {
                expected: HEADER_LEN as u64 + payload_len,
                found: bytes.len() as u64,
            });
        }
        if payload_len < available {
            return Err(SessionError::Malformed(format!(
                "{} unexpected bytes after the end of the session",
                available - payload_len
            )));
        }
        let payload = &bytes[HEADER_LEN..];
        if Md5::digest(payload).as_slice() != checksum {
            return Err(SessionError::ChecksumMismatch);
        }
        let mut r = Reader::new(payload);
        let json = r.bytes()?;
        let meta: Meta = serde_json::from_slice(json)
            .map_err(|e| SessionError::Malformed(format!("settings: {e}")))?;
        let (n, height, width) = meta.mask_shape;
        let missing = r.bits()?;
        let masks = MaskSet::from_vec(n, height, width, missing)
            .map_err(|e| SessionError::Malformed(format!("masks: {e}")))?;
        let traces = Traces {
            log_joint: r.f64s()?,
            rmse_sample: r.f64s()?,
            rmse_posterior_mean: r.f64s()?,
            seconds: r.f64s()?,
        };
        let posterior = match r.u64()? {
            0 => None,
            1 => {
                let iteration = r.usize()?;
                let samples_in_moments = r.usize()?;
                let d = r.usize()?;
                let m = r.usize()?;
                let (w, mu, sigmasq) = (r.f32s()?, r.f32s()?, r.f32s()?);
                let posterior_mu = MeanStd {
                    mean: r.f32s()?,
                    std: r.f32s()?,
                };
                let posterior_sigmasq = MeanStd {
                    mean: r.f32s()?,
                    std: r.f32s()?,
                };
                let reconstruction = match r.u64()? {
                    0 => None,
                    1 => Some(MeanStd {
                        mean: r.f32s()?,
                        std: r.f32s()?,
                    }),
                    other => return Err(malformed_flag("reconstruction", other)),
                };
                Some(PosteriorSummary {
                    iteration,
                    samples_in_moments,
                    d,
                    m,
                    w,
                    mu,
                    sigmasq,
                    posterior_mu,
                    posterior_sigmasq,
                    reconstruction,
                })
            }
            other => return Err(malformed_flag("posterior", other)),
        };
        if r.remaining() != 0 {
            return Err(SessionError::Malformed(format!(
                "{} unread bytes at the end of the payload",
                r.remaining()
            )));
        }
        let session = Session {
            data: meta.data,
            data_fingerprint: meta.data_fingerprint,
            spec: meta.spec,
            settings: meta.settings,
            masks,
            traces,
            posterior,
            front_end: meta.front_end,
        };
        session.check().map_err(|e| match e {
            SessionError::Encode(m) => SessionError::Malformed(m),
            other => other,
        })?;
        Ok(session)
    }

    /// The parts must agree in shape (checked on save and on load).
    fn check(&self) -> Result<(), SessionError> {
        let bad = |m: String| Err(SessionError::Encode(m));
        let masks = &self.masks;
        if masks.missing.len() != masks.n * masks.d() {
            return bad(format!(
                "{} mask values for {} images of {} x {}",
                masks.missing.len(),
                masks.n,
                masks.height,
                masks.width
            ));
        }
        if masks.n != self.spec.n {
            return bad(format!("{} masks for N = {}", masks.n, self.spec.n));
        }
        let Some(p) = &self.posterior else {
            return Ok(());
        };
        if p.d != masks.d() {
            return bad(format!(
                "parameters for D = {}, images have {}",
                p.d,
                masks.d()
            ));
        }
        let wanted = [
            ("W", p.w.len(), p.d.checked_mul(p.m)),
            ("mu", p.mu.len(), Some(p.d)),
            ("sigma^2", p.sigmasq.len(), Some(p.d)),
            ("posterior mean of mu", p.posterior_mu.mean.len(), Some(p.d)),
            ("posterior std of mu", p.posterior_mu.std.len(), Some(p.d)),
            (
                "posterior mean of sigma^2",
                p.posterior_sigmasq.mean.len(),
                Some(p.d),
            ),
            (
                "posterior std of sigma^2",
                p.posterior_sigmasq.std.len(),
                Some(p.d),
            ),
        ];
        for (what, got, expected) in wanted {
            if Some(got) != expected {
                return bad(format!("{what} has {got} values, expected {expected:?}"));
            }
        }
        if let Some(r) = &p.reconstruction {
            let nd = masks.missing.len();
            if r.mean.len() != nd || r.std.len() != nd {
                return bad(format!(
                    "reconstruction has {} / {} values for {nd} pixels",
                    r.mean.len(),
                    r.std.len()
                ));
            }
        }
        Ok(())
    }
}

/// MD5 (hex) of the first `n` images of `dataset` (their shape, then their pixel values as
/// little-endian f32), or `None` when it has fewer than `n` images.
pub fn data_fingerprint(dataset: &Dataset, n: usize) -> Option<String> {
    let values = dataset.pixels.get(..n.checked_mul(dataset.d())?)?;
    let mut hasher = Md5::new();
    for v in [n, dataset.height, dataset.width] {
        hasher.update((v as u64).to_le_bytes());
    }
    for v in values {
        hasher.update(v.to_le_bytes());
    }
    Some(
        hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
    )
}

fn malformed_flag(what: &str, value: u64) -> SessionError {
    SessionError::Malformed(format!("{what} marker is {value}, expected 0 or 1"))
}

/// Appends little-endian values and length-prefixed arrays.
#[derive(Default)]
struct Writer(Vec<u8>);

impl Writer {
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    fn bytes(&mut self, b: &[u8]) {
        self.u64(b.len() as u64);
        self.0.extend_from_slice(b);
    }

    /// A bit count, then the bits packed 8 to a byte, least significant bit first.
    fn bits(&mut self, bits: &[bool]) {
        self.u64(bits.len() as u64);
        for chunk in bits.chunks(8) {
            let byte = chunk
                .iter()
                .enumerate()
                .fold(0u8, |acc, (k, &b)| acc | (u8::from(b) << k));
            self.0.push(byte);
        }
    }

    fn f32s(&mut self, v: &[f32]) {
        self.u64(v.len() as u64);
        self.0.reserve(v.len() * 4);
        for x in v {
            self.0.extend_from_slice(&x.to_le_bytes());
        }
    }

    fn f64s(&mut self, v: &[f64]) {
        self.u64(v.len() as u64);
        self.0.reserve(v.len() * 8);
        for x in v {
            self.0.extend_from_slice(&x.to_le_bytes());
        }
    }
}

/// Reads what [`Writer`] wrote; every length is checked against the bytes left first.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, pos: 0 }
    }

    fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], SessionError> {
        if len > self.remaining() {
            return Err(SessionError::Malformed(format!(
                "a field needs {len} bytes but only {} are left",
                self.remaining()
            )));
        }
        let out = &self.bytes[self.pos..self.pos + len];
        self.pos += len;
        Ok(out)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], SessionError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u32(&mut self) -> Result<u32, SessionError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64, SessionError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    fn usize(&mut self) -> Result<usize, SessionError> {
        let v = self.u64()?;
        usize::try_from(v).map_err(|_| SessionError::Malformed(format!("count {v} is too large")))
    }

    /// A count of items of `size` bytes, checked to fit in what is left.
    fn count(&mut self, size: usize) -> Result<usize, SessionError> {
        let n = self.usize()?;
        match n.checked_mul(size) {
            Some(total) if total <= self.remaining() => Ok(n),
            _ => Err(SessionError::Malformed(format!(
                "an array claims {n} items but only {} bytes are left",
                self.remaining()
            ))),
        }
    }

    fn bytes(&mut self) -> Result<&'a [u8], SessionError> {
        let n = self.count(1)?;
        self.take(n)
    }

    fn bits(&mut self) -> Result<Vec<bool>, SessionError> {
        let n = self.usize()?;
        let packed = self.take(n.div_ceil(8))?;
        Ok((0..n).map(|k| packed[k / 8] >> (k % 8) & 1 == 1).collect())
    }

    fn f32s(&mut self) -> Result<Vec<f32>, SessionError> {
        let n = self.count(4)?;
        let raw = self.take(n * 4)?;
        Ok(raw
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }

    fn f64s(&mut self) -> Result<Vec<f64>, SessionError> {
        let n = self.count(8)?;
        let raw = self.take(n * 8)?;
        Ok(raw
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
            .collect())
    }
}
