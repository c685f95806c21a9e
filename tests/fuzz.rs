//! Fuzzing on stable Rust (issue 13): structure-aware mutation of valid seed files, driven by a
//! seeded generator, for every reader of untrusted files: IDX (raw and gzipped), CSV, PNG
//! folders, mask files, session files and the library part of the remembered settings.
//!
//! Every input must end in a typed error or a valid value. The harness checks, per input:
//! - no panic (caught, the input saved, the test fails);
//! - no hang: one input taking longer than `GIBBS_FA_FUZZ_EXEC_LIMIT_MS` (default 2000) fails
//!   the test; a watchdog thread aborts the process after 60 s on one input (saving it first);
//! - no allocation larger than the file justifies: a counting global allocator records the peak
//!   of live heap bytes during the call, which must stay below `1 MiB + k x (bytes the file
//!   legitimately expands to)`, with k per target (decoding u8 to f32 is 4x, to f64 8x; gzip and
//!   PNG data expand by at most ~1032x, so those targets are bounded by that expansion);
//! - a valid value is consistent (shapes agree, values finite, sessions re-encode).
//!
//! Budget: `GIBBS_FA_FUZZ_SECONDS` per target (default 2, the CI budget), seed
//! `GIBBS_FA_FUZZ_SEED` (default 1). The long campaign (README, "Fuzzing"):
//! `GIBBS_FA_FUZZ_SECONDS=600 cargo test --release --no-default-features --test fuzz -- --nocapture`.
//! Findings are written to `target/fuzz-findings/<target>/`; once fixed they are kept under
//! `tests/fuzz_regressions/<target>/` and replayed by `fuzz_regressions_replay`.
//!
//! The targets run one after another in one test thread (a global lock), so the allocation
//! counter sees only the input under test.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use gibbs_fa::data::csv::read_csv;
use gibbs_fa::data::idx::{read_idx_images, read_idx_labels};
use gibbs_fa::data::png_folder::read_png_folder;
use gibbs_fa::data::{DataOrigin, Dataset};
use gibbs_fa::experiment::ExperimentSpec;
use gibbs_fa::masks::{MaskSet, read_mask_file};
use gibbs_fa::model::{GibbsSampler, MeanStd, Prior, SamplerSettings, Schedule, Traces};
use gibbs_fa::session::{DataRecord, MAGIC, PosteriorSummary, Session};
use rand::prelude::*;
use rand::rngs::SmallRng;

// ---------------------------------------------------------------------------------------------
// Counting allocator: live bytes and their peak since the last reset.

struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn note_alloc(size: usize) {
    let now = LIVE.fetch_add(size, Ordering::Relaxed) + size;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            note_alloc(layout.size());
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            note_alloc(layout.size());
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            // Count the new block before releasing the old: realloc may need both at once.
            note_alloc(new_size);
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Runs `f` and returns its result and the peak heap growth (bytes) during it.
fn measure<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let out = f();
    (out, PEAK.load(Ordering::Relaxed).saturating_sub(base))
}

// ---------------------------------------------------------------------------------------------
// Targets.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    IdxRaw,
    IdxGz,
    Csv,
    PngFolder,
    MaskFile,
    Session,
    Settings,
}

const TARGETS: [Target; 7] = [
    Target::IdxRaw,
    Target::IdxGz,
    Target::Csv,
    Target::PngFolder,
    Target::MaskFile,
    Target::Session,
    Target::Settings,
];

impl Target {
    fn name(self) -> &'static str {
        match self {
            Target::IdxRaw => "idx_raw",
            Target::IdxGz => "idx_gz",
            Target::Csv => "csv",
            Target::PngFolder => "png_folder",
            Target::MaskFile => "mask_file",
            Target::Session => "session",
            Target::Settings => "settings",
        }
    }

    fn from_name(name: &str) -> Option<Target> {
        TARGETS.into_iter().find(|t| t.name() == name)
    }
}

/// One fuzz input: the bytes of the file (for a PNG folder, several files).
#[derive(Clone, Debug)]
struct Input {
    files: Vec<Vec<u8>>,
}

impl Input {
    fn one(bytes: Vec<u8>) -> Input {
        Input { files: vec![bytes] }
    }
    fn total_len(&self) -> usize {
        self.files.iter().map(Vec::len).sum()
    }
    /// Serialised form for saving findings: for several files, u32 LE length-prefixed.
    fn to_saved(&self, target: Target) -> Vec<u8> {
        if target != Target::PngFolder {
            return self.files[0].clone();
        }
        let mut out = b"PNGSET".to_vec();
        for f in &self.files {
            out.extend_from_slice(&(f.len() as u32).to_le_bytes());
            out.extend_from_slice(f);
        }
        out
    }
    fn from_saved(target: Target, bytes: &[u8]) -> Input {
        if target != Target::PngFolder || !bytes.starts_with(b"PNGSET") {
            return Input::one(bytes.to_vec());
        }
        let mut files = Vec::new();
        let mut rest = &bytes[6..];
        while rest.len() >= 4 {
            let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
            rest = &rest[4..];
            let take = len.min(rest.len());
            files.push(rest[..take].to_vec());
            rest = &rest[take..];
        }
        Input { files }
    }
}

/// Runs one input through the target's reader in `dir` and checks the result. `Err` is a
/// contract violation (a bad value accepted, or too much memory).
fn run_one(target: Target, input: &Input, dir: &Path) -> Result<(), String> {
    // Write the files outside the measured region.
    let path = dir.join(match target {
        Target::IdxGz => "input.idx.gz",
        Target::Csv => "input.csv",
        Target::Session => "input.gibbsfa",
        _ => "input.idx",
    });
    let png_dir = dir.join("pngs");
    if target == Target::PngFolder {
        let _ = std::fs::remove_dir_all(&png_dir);
        std::fs::create_dir_all(&png_dir).map_err(|e| e.to_string())?;
        for (k, f) in input.files.iter().enumerate() {
            std::fs::write(png_dir.join(format!("img{k:03}.png")), f).map_err(|e| e.to_string())?;
        }
    } else {
        std::fs::write(&path, &input.files[0]).map_err(|e| e.to_string())?;
    }
    let len = input.total_len();
    // What the file may legitimately expand to before decoding.
    let expanded = match target {
        Target::IdxGz | Target::MaskFile => gunzipped_len(&input.files[0]).max(len),
        Target::PngFolder => len.saturating_mul(1100),
        _ => len,
    };
    let (verdict, peak) = measure(|| check_target(target, &path, &png_dir, input));
    // Decoding widens values (u8 -> f64 is 8x) and readers keep the raw bytes beside the
    // decoded ones; a PNG is decoded, converted to luma and to f32.
    // CSV keeps the line and its split fields beside the growing pixel vector; the session
    // check holds the loaded session and its re-encoded copy (masks are bit-packed: 8x).
    let factor = match target {
        Target::MaskFile => 20,
        Target::PngFolder => 8,
        Target::Session => 32,
        Target::Csv => 24,
        _ => 12,
    };
    let allowed = (1 << 20) + factor * expanded;
    if peak > allowed {
        return Err(format!(
            "peak heap growth {peak} bytes for a {len}-byte input (expands to {expanded}); allowed {allowed}"
        ));
    }
    verdict
}

fn check_target(target: Target, path: &Path, png_dir: &Path, input: &Input) -> Result<(), String> {
    match target {
        Target::IdxRaw | Target::IdxGz => {
            if let Ok(ds) = read_idx_images(path, None) {
                check_dataset(&ds)?;
            }
            if let Ok(labels) = read_idx_labels(path) {
                let _ = labels.len();
            }
            Ok(())
        }
        Target::Csv => {
            for shape in [None, Some((2, 3))] {
                if let Ok(ds) = read_csv(path, shape) {
                    check_dataset(&ds)?;
                    if let Some(l) = &ds.labels
                        && l.len() != ds.n
                    {
                        return Err(format!("{} labels for {} images", l.len(), ds.n));
                    }
                }
            }
            Ok(())
        }
        Target::PngFolder => {
            if let Ok(ds) = read_png_folder(png_dir) {
                check_dataset(&ds)?;
                if ds.n != input.files.len() {
                    return Err(format!("{} images from {} files", ds.n, input.files.len()));
                }
            }
            Ok(())
        }
        Target::MaskFile => {
            for (n, h, w) in [(3, 2, 2), (2, 28, 28), (1, 1, 3)] {
                if let Ok(m) = read_mask_file(path, n, h, w)
                    && ((m.n, m.height, m.width) != (n, h, w) || m.missing.len() != n * h * w)
                {
                    return Err(format!(
                        "mask set {}x{}x{} ({} values) for {n}x{h}x{w}",
                        m.n,
                        m.height,
                        m.width,
                        m.missing.len()
                    ));
                }
            }
            Ok(())
        }
        Target::Session => {
            if let Ok(s) = Session::load(path) {
                // A session that loads must re-encode and load again to the same value.
                let bytes = s
                    .to_bytes()
                    .map_err(|e| format!("loaded but cannot re-encode: {e}"))?;
                let back = Session::from_bytes(&bytes)
                    .map_err(|e| format!("re-encoded but cannot reload: {e}"))?;
                if back.masks != s.masks || back.settings != s.settings || back.spec != s.spec {
                    return Err("session changed on a save/load round trip".into());
                }
            }
            Ok(())
        }
        Target::Settings => check_settings(&input.files[0]),
    }
}

fn check_dataset(ds: &Dataset) -> Result<(), String> {
    let d = ds.height.checked_mul(ds.width).ok_or("overflowing shape")?;
    if ds.n == 0 || d == 0 {
        return Err(format!("accepted an empty dataset {} x {d}", ds.n));
    }
    if ds.n.checked_mul(d) != Some(ds.pixels.len()) {
        return Err(format!("{} x {d} but {} pixels", ds.n, ds.pixels.len()));
    }
    if let Some(k) = ds.pixels.iter().position(|v| !v.is_finite()) {
        return Err(format!("accepted a non-finite pixel at {k}"));
    }
    Ok(())
}

/// The library part of the app's remembered settings: the sampler settings and the experiment
/// spec, as JSON. Whatever deserialises and validates must run: two sweeps on a tiny problem
/// give finite numbers.
fn check_settings(bytes: &[u8]) -> Result<(), String> {
    #[derive(serde::Deserialize)]
    struct Remembered {
        settings: SamplerSettings,
        spec: ExperimentSpec,
    }
    let Ok(r) = serde_json::from_slice::<Remembered>(bytes) else {
        return Ok(());
    };
    let dataset = tiny_dataset();
    let Ok(exp) = gibbs_fa::experiment::build(&dataset, &r.spec) else {
        return Ok(());
    };
    if r.settings.validate(exp.problem.n, exp.problem.d).is_err() || r.settings.hyper.m > 64 {
        // M up to 1024 is valid but costs seconds per sweep: the validation is what we fuzz there.
        return Ok(());
    }
    let Ok(mut sampler) = GibbsSampler::new(&exp.problem, &r.settings) else {
        return Ok(());
    };
    for _ in 0..2 {
        let rec = sampler.sweep();
        if !rec.log_joint.is_finite() {
            return Err(format!("non-finite log joint {}", rec.log_joint));
        }
    }
    if sampler
        .sigmasq()
        .iter()
        .any(|v| !v.is_finite() || *v <= 0.0)
        || sampler.mu().iter().any(|v| !v.is_finite())
        || sampler.w().iter().any(|v| !v.is_finite())
    {
        return Err("non-finite parameters after two sweeps".into());
    }
    Ok(())
}

fn tiny_dataset() -> Dataset {
    let (n, h, w) = (8, 4, 4);
    Dataset {
        n,
        height: h,
        width: w,
        pixels: (0..n * h * w).map(|k| ((k * 37) % 256) as f32).collect(),
        labels: None,
        origin: DataOrigin::Synthetic,
    }
}

/// Length of the gzip stream's content (capped), or 0 when it is not gzip.
fn gunzipped_len(bytes: &[u8]) -> usize {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return 0;
    }
    let mut dec = flate2::read::MultiGzDecoder::new(bytes);
    let mut buf = [0u8; 64 * 1024];
    let mut total = 0usize;
    while total < (256 << 20) {
        match std::io::Read::read(&mut dec, &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(k) => total += k,
        }
    }
    total
}

// ---------------------------------------------------------------------------------------------
// Seeds: small valid files of every kind.

fn idx_bytes(ty: u8, dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, ty, dims.len() as u8];
    for d in dims {
        out.extend_from_slice(&d.to_be_bytes());
    }
    out.extend_from_slice(data);
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let _ = e.write_all(bytes);
    e.finish().unwrap_or_default()
}

fn idx_seeds() -> Vec<Vec<u8>> {
    let u8s: Vec<u8> = (0..3 * 2 * 2).map(|k| (k * 40) as u8).collect();
    let f32s: Vec<u8> = (0..2 * 4)
        .flat_map(|k| (k as f32 * 1.5).to_be_bytes())
        .collect();
    let f64s: Vec<u8> = (0..2 * 4)
        .flat_map(|k| (k as f64 - 3.0).to_be_bytes())
        .collect();
    let i16s: Vec<u8> = (0..4)
        .flat_map(|k| (k as i16 * 100).to_be_bytes())
        .collect();
    let i32s: Vec<u8> = (0..3i32).flat_map(|k| (k * 7).to_be_bytes()).collect();
    vec![
        idx_bytes(0x08, &[3, 2, 2], &u8s),
        idx_bytes(0x08, &[3, 4], &u8s),
        idx_bytes(0x08, &[2, 2], &u8s[..4]),
        idx_bytes(0x0D, &[2, 2, 2], &f32s[..32]),
        idx_bytes(0x0E, &[2, 4], &f64s),
        idx_bytes(0x0B, &[4], &i16s),
        idx_bytes(0x0C, &[3], &i32s),
        idx_bytes(0x09, &[1, 1, 3], &[1, 0, 255]),
        idx_bytes(0x08, &[3], &[1, 2, 3]),
    ]
}

fn csv_seeds() -> Vec<Vec<u8>> {
    [
        "label,p0,p1,p2,p3\n1,0,255,3.5,4\n7,1,2,3,4\n",
        "0,1,2,3\n4,5,6,7\n",
        "a;b;c;d;e;f\n1;2;3;4;5;6\n",
        "\u{feff}1 2 3 4\n\n5 6 7 8\n",
        "1\t2\t3\t4\t5\t6\n0.5\t1e2\t-3\t+4\t5\t6\n",
        "\"label\",\"x\"\n\"3\",\"4\"\n",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect()
}

fn png_bytes(w: u32, h: u32, color: image::ExtendedColorType, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let enc = image::codecs::png::PngEncoder::new(&mut out);
    let _ = image::ImageEncoder::write_image(enc, data, w, h, color);
    out
}

fn png_seeds() -> Vec<Vec<Vec<u8>>> {
    use image::ExtendedColorType as C;
    let gray: Vec<u8> = (0..16).map(|k| (k * 16) as u8).collect();
    let rgb: Vec<u8> = (0..48).map(|k| (k * 5) as u8).collect();
    let rgba16: Vec<u8> = (0..4 * 4 * 8).map(|k| (k * 3) as u8).collect();
    vec![
        vec![png_bytes(4, 4, C::L8, &gray), png_bytes(4, 4, C::L8, &gray)],
        vec![png_bytes(4, 4, C::Rgb8, &rgb)],
        vec![
            png_bytes(4, 4, C::Rgba16, &rgba16),
            png_bytes(4, 4, C::L8, &gray),
        ],
        vec![png_bytes(2, 8, C::L8, &gray)],
    ]
}

fn mask_seeds() -> Vec<Vec<u8>> {
    let ones: Vec<u8> = (0..3 * 4).map(|k| (k % 2) as u8).collect();
    let f32s: Vec<u8> = (0..4).flat_map(|k| (k as f32).to_be_bytes()).collect();
    let big: Vec<u8> = (0..2 * 784).map(|k| u8::from(k % 5 == 0)).collect();
    vec![
        idx_bytes(0x08, &[3, 2, 2], &ones),
        idx_bytes(0x08, &[2, 2], &ones[..4]),
        idx_bytes(0x08, &[4, 4], &[0u8; 16]),
        idx_bytes(0x0D, &[1, 4], &f32s),
        idx_bytes(0x08, &[2, 28, 28], &big),
        gzip(&idx_bytes(0x08, &[3, 2, 2], &ones)),
        gzip(&idx_bytes(0x08, &[2, 784], &big)),
    ]
}

fn session_seeds() -> Vec<Vec<u8>> {
    let mut seeds = Vec::new();
    for (n, h, w, m, with_posterior) in [(3, 2, 3, 2, true), (2, 2, 2, 1, false)] {
        let d = h * w;
        let mut masks = MaskSet::none_missing(n, h, w).expect("mask set");
        for k in (0..n * d).filter(|k| k % 3 == 1) {
            masks.missing[k] = true;
        }
        let v = |len: usize| {
            (0..len)
                .map(|k| k as f32 * 0.5 + 0.25)
                .collect::<Vec<f32>>()
        };
        let posterior = with_posterior.then(|| PosteriorSummary {
            iteration: 4,
            samples_in_moments: 2,
            d,
            m,
            w: v(d * m),
            mu: v(d),
            sigmasq: v(d),
            posterior_mu: MeanStd {
                mean: v(d),
                std: v(d),
            },
            posterior_sigmasq: MeanStd {
                mean: v(d),
                std: v(d),
            },
            reconstruction: Some(MeanStd {
                mean: v(n * d),
                std: v(n * d),
            }),
        });
        let session = Session {
            data: DataRecord::Synthetic { n: 10, seed: 3 },
            data_fingerprint: Some("abcd".into()),
            spec: ExperimentSpec {
                n,
                ..ExperimentSpec::default()
            },
            settings: SamplerSettings {
                prior: Prior::Decaying {
                    tau0: 2.0,
                    rho: 0.8,
                },
                schedule: Schedule::Blocked,
                ..SamplerSettings::default()
            },
            masks,
            traces: Traces {
                log_joint: vec![-1.0, -0.5],
                rmse_sample: vec![2.0],
                rmse_posterior_mean: vec![],
                seconds: vec![0.1, 0.2],
            },
            posterior,
            front_end: Some("{}".into()),
        };
        seeds.push(session.to_bytes().expect("seed session encodes"));
    }
    seeds
}

fn settings_seeds() -> Vec<Vec<u8>> {
    let mut seeds = Vec::new();
    for (settings, n) in [
        (SamplerSettings::default(), 4usize),
        (
            SamplerSettings {
                prior: Prior::Decaying {
                    tau0: 1.0,
                    rho: 0.5,
                },
                schedule: Schedule::Blocked,
                sweeps: 10,
                burn_in: 2,
                ..SamplerSettings::default()
            },
            8,
        ),
    ] {
        let mut s = settings;
        s.hyper.m = 3;
        let spec = ExperimentSpec {
            n,
            ..ExperimentSpec::default()
        };
        let json = serde_json::json!({ "settings": s, "spec": spec });
        seeds.push(serde_json::to_vec_pretty(&json).expect("json"));
    }
    seeds
}

// ---------------------------------------------------------------------------------------------
// Mutation.

const INTERESTING_U32: [u32; 12] = [
    0,
    1,
    2,
    3,
    255,
    256,
    784,
    0x7fff,
    0xffff,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
];
const INTERESTING_TOKENS: [&str; 22] = [
    "",
    "0",
    "-0",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "1e999",
    "-1e999",
    "1e-999",
    "255",
    "256",
    "-1",
    "label",
    "\"",
    "\"\"",
    ",",
    ";",
    "1.5.5",
    "0x10",
    "9999999999999999999999",
    "\u{feff}",
];
const INTERESTING_JSON: [&str; 16] = [
    "0",
    "-1",
    "1e308",
    "-1e308",
    "1e-320",
    "null",
    "true",
    "18446744073709551615",
    "18446744073709551616",
    "4294967296",
    "1025",
    "1024",
    "0.5",
    "\"Decaying\"",
    "{}",
    "[]",
];

/// Generic byte mutations (1 to 4 stacked).
fn mutate_bytes(rng: &mut SmallRng, data: &mut Vec<u8>, other: &[u8]) {
    for _ in 0..rng.random_range(1..=4) {
        let len = data.len();
        match rng.random_range(0..10) {
            0 if len > 0 => {
                let i = rng.random_range(0..len);
                data[i] ^= 1 << rng.random_range(0..8);
            }
            1 if len > 0 => {
                let i = rng.random_range(0..len);
                data[i] = [0u8, 1, 0x7f, 0x80, 0xff, b'0', b',', b'\n'][rng.random_range(0..8)];
            }
            2 if len >= 4 => {
                let i = rng.random_range(0..=len - 4);
                let v = INTERESTING_U32[rng.random_range(0..INTERESTING_U32.len())];
                let b = if rng.random_bool(0.5) {
                    v.to_be_bytes()
                } else {
                    v.to_le_bytes()
                };
                data[i..i + 4].copy_from_slice(&b);
            }
            3 => {
                let i = rng.random_range(0..=len);
                let k = rng.random_range(1..=16);
                let fill: Vec<u8> = (0..k).map(|_| rng.random()).collect();
                data.splice(i..i, fill);
            }
            4 if len > 0 => {
                let i = rng.random_range(0..len);
                let k = rng.random_range(1..=(len - i).min(64));
                data.drain(i..i + k);
            }
            5 if len > 0 => {
                // Duplicate a range (repeated records, chunks, lines).
                let i = rng.random_range(0..len);
                let k = rng.random_range(1..=(len - i).min(256));
                let copy = data[i..i + k].to_vec();
                let at = rng.random_range(0..=len);
                data.splice(at..at, copy);
            }
            6 if len > 0 => data.truncate(rng.random_range(0..len)),
            7 if !other.is_empty() => {
                // Splice: the head of this input with the tail of another seed.
                let i = rng.random_range(0..=len);
                let j = rng.random_range(0..other.len());
                data.truncate(i);
                data.extend_from_slice(&other[j..]);
            }
            8 => data.extend((0..rng.random_range(1..64)).map(|_| rng.random::<u8>())),
            _ if len > 0 => {
                let i = rng.random_range(0..len);
                data[i] = rng.random();
            }
            _ => data.push(rng.random()),
        }
    }
}

/// IDX-aware: rewrite the type code, the number of dimensions or one dimension.
fn mutate_idx_header(rng: &mut SmallRng, data: &mut [u8]) {
    if data.len() < 4 {
        return;
    }
    match rng.random_range(0..3) {
        0 => data[2] = [0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E, 0x00, 0x0A][rng.random_range(0..8)],
        1 => data[3] = [0, 1, 2, 3, 4, 255][rng.random_range(0..6)],
        _ => {
            let dims = data[3] as usize;
            if dims > 0 && data.len() >= 4 + 4 * dims {
                let k = rng.random_range(0..dims);
                let v = if rng.random_bool(0.5) {
                    INTERESTING_U32[rng.random_range(0..INTERESTING_U32.len())]
                } else {
                    let old =
                        u32::from_be_bytes(data[4 + 4 * k..8 + 4 * k].try_into().unwrap_or([0; 4]));
                    old.wrapping_add(rng.random_range(0..3)).wrapping_sub(1)
                };
                data[4 + 4 * k..8 + 4 * k].copy_from_slice(&v.to_be_bytes());
            }
        }
    }
}

/// Text-aware: replace, insert or delete fields and lines.
fn mutate_text(rng: &mut SmallRng, data: &mut Vec<u8>, tokens: &[&str]) {
    let text = String::from_utf8_lossy(data).into_owned();
    let mut pieces: Vec<String> = text
        .split_inclusive(|c: char| {
            [',', ';', '\t', ' ', '\n', ':', '{', '}', '[', ']'].contains(&c)
        })
        .map(str::to_owned)
        .collect();
    if pieces.is_empty() {
        pieces.push(String::new());
    }
    for _ in 0..rng.random_range(1..=3) {
        let i = rng.random_range(0..pieces.len());
        let tok = tokens[rng.random_range(0..tokens.len())];
        match rng.random_range(0..4) {
            0 => {
                // Replace the value of a piece, keeping its separator.
                let sep = pieces[i]
                    .chars()
                    .last()
                    .filter(|c| !c.is_alphanumeric() && *c != '"');
                pieces[i] = format!("{tok}{}", sep.map(String::from).unwrap_or_default());
            }
            1 => pieces.insert(i, format!("{tok},")),
            2 if pieces.len() > 1 => {
                pieces.remove(i);
            }
            _ => {
                let p = pieces[i].clone();
                pieces.insert(i, p);
            }
        }
    }
    *data = pieces.concat().into_bytes();
}

/// PNG-aware: after mutating, recompute every chunk's CRC (else the decoder stops at the CRC).
fn fix_png_crcs(data: &mut [u8]) {
    let mut at = 8usize;
    while at + 12 <= data.len() {
        let len = u32::from_be_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]]) as usize;
        let end = match at.checked_add(8).and_then(|v| v.checked_add(len)) {
            Some(e) if e + 4 <= data.len() => e,
            _ => break,
        };
        let mut crc = flate2::Crc::new();
        crc.update(&data[at + 4..end]);
        data[end..end + 4].copy_from_slice(&crc.sum().to_be_bytes());
        at = end + 4;
    }
}

/// PNG-aware: rewrite IHDR's width, height, bit depth or colour type.
fn mutate_png_header(rng: &mut SmallRng, data: &mut [u8]) {
    if data.len() < 33 {
        return;
    }
    match rng.random_range(0..4) {
        0 => {
            let v = INTERESTING_U32[rng.random_range(0..INTERESTING_U32.len())];
            data[16..20].copy_from_slice(&v.to_be_bytes());
        }
        1 => {
            let v = [1u32, 2, 3, 4, 5, 1000, 20000, 65535, 0x7fff_ffff][rng.random_range(0..9)];
            data[20..24].copy_from_slice(&v.to_be_bytes());
        }
        2 => data[24] = [1, 2, 4, 8, 16, 3, 0][rng.random_range(0..7)],
        _ => data[25] = [0, 2, 3, 4, 6, 1, 7][rng.random_range(0..7)],
    }
}

/// Session-aware: mutate the payload, then usually make the header agree (length and MD5),
/// so the mutation reaches the payload parser instead of stopping at the checksum.
fn mutate_session(rng: &mut SmallRng, data: &mut Vec<u8>, other: &[u8]) {
    const HEADER: usize = 48;
    if data.len() < HEADER || rng.random_bool(0.15) {
        mutate_bytes(rng, data, other);
        return;
    }
    let mut payload = data[HEADER..].to_vec();
    if rng.random_bool(0.4) {
        // The JSON part: its length is the first u64 of the payload (little-endian).
        if payload.len() >= 8 {
            let jlen = u64::from_le_bytes(payload[..8].try_into().unwrap_or([0; 8])) as usize;
            if 8 + jlen <= payload.len() {
                let mut json = payload[8..8 + jlen].to_vec();
                mutate_text(rng, &mut json, &INTERESTING_JSON);
                let mut rebuilt = (json.len() as u64).to_le_bytes().to_vec();
                rebuilt.extend_from_slice(&json);
                rebuilt.extend_from_slice(&payload[8 + jlen..]);
                payload = rebuilt;
            }
        }
    } else if rng.random_bool(0.5) && payload.len() >= 8 {
        // A length field somewhere: overwrite an aligned u64 with a bad count.
        let i = rng.random_range(0..=payload.len() - 8) & !7;
        let v: u64 = [0, 1, 2, 7, 1 << 20, 1 << 40, u64::MAX, u64::MAX / 4][rng.random_range(0..8)];
        payload[i..i + 8].copy_from_slice(&v.to_le_bytes());
    } else {
        mutate_bytes(rng, &mut payload, &[]);
    }
    data.truncate(HEADER);
    if rng.random_bool(0.9) {
        use md5::Digest;
        data[24..32].copy_from_slice(&(payload.len() as u64).to_le_bytes());
        data[32..48].copy_from_slice(&md5::Md5::digest(&payload));
    }
    data[..16].copy_from_slice(MAGIC);
    data.extend_from_slice(&payload);
}

struct Corpus {
    seeds: Vec<Input>,
}

impl Corpus {
    fn for_target(t: Target) -> Corpus {
        let one = |v: Vec<Vec<u8>>| v.into_iter().map(Input::one).collect();
        let seeds = match t {
            Target::IdxRaw => one(idx_seeds()),
            Target::IdxGz => one(idx_seeds().iter().map(|s| gzip(s)).collect()),
            Target::Csv => one(csv_seeds()),
            Target::PngFolder => png_seeds()
                .into_iter()
                .map(|files| Input { files })
                .collect(),
            Target::MaskFile => one(mask_seeds()),
            Target::Session => one(session_seeds()),
            Target::Settings => one(settings_seeds()),
        };
        Corpus { seeds }
    }

    fn mutant(&self, t: Target, rng: &mut SmallRng) -> Input {
        let mut input = self.seeds[rng.random_range(0..self.seeds.len())].clone();
        let other = self.seeds[rng.random_range(0..self.seeds.len())].files[0].clone();
        match t {
            Target::IdxRaw | Target::MaskFile if !input.files[0].starts_with(&[0x1f, 0x8b]) => {
                let f = &mut input.files[0];
                if rng.random_bool(0.5) {
                    mutate_idx_header(rng, f);
                }
                if rng.random_bool(0.7) {
                    mutate_bytes(rng, f, &other);
                }
            }
            Target::IdxRaw | Target::IdxGz | Target::MaskFile => {
                // Mostly: a valid gzip around a mutated IDX; sometimes damage the gzip itself.
                let f = &mut input.files[0];
                let mut raw = Vec::new();
                let _ = std::io::Read::read_to_end(
                    &mut flate2::read::MultiGzDecoder::new(&f[..]),
                    &mut raw,
                );
                if rng.random_bool(0.75) {
                    if rng.random_bool(0.5) {
                        mutate_idx_header(rng, &mut raw);
                    }
                    if rng.random_bool(0.6) {
                        mutate_bytes(rng, &mut raw, &[]);
                    }
                    if rng.random_bool(0.1) {
                        // A highly compressible body: a header claiming a lot, then zeros.
                        raw.extend(std::iter::repeat_n(0u8, rng.random_range(0..4_000_000)));
                    }
                    *f = gzip(&raw);
                    if rng.random_bool(0.1) {
                        // Two members (MultiGzDecoder concatenates them).
                        let again = f.clone();
                        f.extend_from_slice(&again);
                    }
                } else {
                    mutate_bytes(rng, f, &other);
                }
            }
            Target::Csv => {
                let f = &mut input.files[0];
                if rng.random_bool(0.6) {
                    mutate_text(rng, f, &INTERESTING_TOKENS);
                } else {
                    mutate_bytes(rng, f, &other);
                }
            }
            Target::PngFolder => {
                let k = rng.random_range(0..input.files.len());
                let f = &mut input.files[k];
                if rng.random_bool(0.4) {
                    mutate_png_header(rng, f);
                }
                if rng.random_bool(0.6) {
                    mutate_bytes(rng, f, &other);
                }
                if rng.random_bool(0.8) {
                    fix_png_crcs(f);
                }
                if rng.random_bool(0.1) {
                    let copy = input.files[k].clone();
                    input.files.push(copy);
                }
            }
            Target::Session => mutate_session(rng, &mut input.files[0], &other),
            Target::Settings => {
                let f = &mut input.files[0];
                if rng.random_bool(0.8) {
                    mutate_text(rng, f, &INTERESTING_JSON);
                } else {
                    mutate_bytes(rng, f, &other);
                }
            }
        }
        input
    }
}

// ---------------------------------------------------------------------------------------------
// The loop.

static SERIAL: Mutex<()> = Mutex::new(());

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn findings_dir(t: Target) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/fuzz-findings")
        .join(t.name())
}

fn save_finding(t: Target, input: &Input, what: &str) -> PathBuf {
    let dir = findings_dir(t);
    let _ = std::fs::create_dir_all(&dir);
    let bytes = input.to_saved(t);
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    });
    let path = dir.join(format!("{what}-{hash:016x}.bin"));
    let _ = std::fs::write(&path, bytes);
    path
}

/// What one target's run found.
struct Outcome {
    executions: u64,
    failures: Vec<String>,
}

/// Runs one input with panic catching and timing; a failure message when the contract broke.
fn execute(t: Target, input: &Input, dir: &Path, limit: Duration) -> Option<String> {
    let start = Instant::now();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_one(t, input, dir)));
    let took = start.elapsed();
    let problem = match result {
        Err(p) => Some(("panic", panic_message(&*p))),
        Ok(Err(e)) => Some(("violation", e)),
        Ok(Ok(())) if took > limit => Some(("slow", format!("took {took:?} (limit {limit:?})"))),
        Ok(Ok(())) => None,
    }?;
    let path = save_finding(t, input, problem.0);
    Some(format!(
        "{}: {} {}: {} (input saved to {})",
        t.name(),
        problem.0,
        input.total_len(),
        problem.1,
        path.display()
    ))
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "non-string panic".into())
}

fn fuzz_target(t: Target, seconds: u64, seed: u64) -> Outcome {
    let dir = tempfile::tempdir().expect("temp dir");
    let limit = Duration::from_millis(env_u64("GIBBS_FA_FUZZ_EXEC_LIMIT_MS", 2000));
    let corpus = Corpus::for_target(t);
    let mut rng = SmallRng::seed_from_u64(seed ^ (t as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut failures = Vec::new();
    // Seeds must pass as they are.
    for s in &corpus.seeds {
        if let Some(f) = execute(t, s, dir.path(), limit) {
            failures.push(format!("seed: {f}"));
        }
    }
    // Watchdog: a single input running for a minute is a hang; save it and abort.
    let current: std::sync::Arc<Mutex<Option<Input>>> = Default::default();
    let beat = std::sync::Arc::new(AtomicU64::new(0));
    let done = std::sync::Arc::new(AtomicBool::new(false));
    let watchdog = {
        let (current, beat, done) = (current.clone(), beat.clone(), done.clone());
        std::thread::spawn(move || {
            let mut last = (0u64, Instant::now());
            while !done.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(200));
                let b = beat.load(Ordering::Relaxed);
                if b != last.0 {
                    last = (b, Instant::now());
                } else if last.1.elapsed() > Duration::from_secs(60) {
                    if let Ok(guard) = current.lock()
                        && let Some(input) = guard.as_ref()
                    {
                        let p = save_finding(t, input, "hang");
                        eprintln!(
                            "fuzz {}: one input ran for 60 s; saved to {}",
                            t.name(),
                            p.display()
                        );
                    }
                    std::process::abort();
                }
            }
        })
    };
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut executions = corpus.seeds.len() as u64;
    while Instant::now() < deadline && failures.len() < 5 {
        let input = corpus.mutant(t, &mut rng);
        if let Ok(mut g) = current.lock() {
            *g = Some(input.clone());
        }
        beat.fetch_add(1, Ordering::Relaxed);
        if let Some(f) = execute(t, &input, dir.path(), limit) {
            failures.push(f);
        }
        executions += 1;
    }
    done.store(true, Ordering::Relaxed);
    let _ = watchdog.join();
    Outcome {
        executions,
        failures,
    }
}

/// Quiet panics inside the harness (they are caught and reported once each).
fn quiet_panics() {
    std::panic::set_hook(Box::new(|_| {}));
}

#[test]
fn fuzz_all_targets() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let seconds = env_u64("GIBBS_FA_FUZZ_SECONDS", 2);
    let seed = env_u64("GIBBS_FA_FUZZ_SEED", 1);
    let only = std::env::var("GIBBS_FA_FUZZ_TARGET").ok();
    quiet_panics();
    let mut report = Vec::new();
    let mut failures = Vec::new();
    for t in TARGETS {
        if only.as_deref().is_some_and(|o| o != t.name()) {
            continue;
        }
        let start = Instant::now();
        let out = fuzz_target(t, seconds, seed);
        let line = format!(
            "fuzz {:<11} {:>9} executions in {:>6.1} s, {} failures",
            t.name(),
            out.executions,
            start.elapsed().as_secs_f64(),
            out.failures.len()
        );
        println!("{line}");
        report.push(line);
        failures.extend(out.failures);
        assert!(
            out.executions > 10,
            "{}: only {} executions",
            t.name(),
            out.executions
        );
    }
    let _ = std::panic::take_hook();
    assert!(
        failures.is_empty(),
        "fuzzing found:\n{}\n\n{}",
        failures.join("\n"),
        report.join("\n")
    );
}

/// Replays every kept finding under `tests/fuzz_regressions/<target>/`: each once broke the
/// contract and must now end in a typed error or a valid value.
#[test]
fn fuzz_regressions_replay() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut count = 0;
    let mut failures = Vec::new();
    for entry in std::fs::read_dir(&root).expect("tests/fuzz_regressions exists") {
        let entry = entry.expect("entry");
        let Some(t) = entry.file_name().to_str().and_then(Target::from_name) else {
            continue;
        };
        for file in std::fs::read_dir(entry.path()).expect("target folder") {
            let path = file.expect("file").path();
            let bytes = std::fs::read(&path).expect("read regression input");
            let input = Input::from_saved(t, &bytes);
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                run_one(t, &input, dir.path())
            }));
            match result {
                Ok(Ok(())) => {}
                Ok(Err(e)) => failures.push(format!("{}: {e}", path.display())),
                Err(p) => {
                    failures.push(format!("{}: panic: {}", path.display(), panic_message(&*p)))
                }
            }
            count += 1;
        }
    }
    assert!(
        count > 0,
        "no regression inputs found under {}",
        root.display()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
