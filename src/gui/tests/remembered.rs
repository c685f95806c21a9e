//! Fuzzing the remembered-settings file (eframe's RON storage of the app's state): seeded
//! structure-aware mutations of a valid file. Every input must end in defaults with a note
//! (unreadable), or settings inside the controls' ranges (read and checked); some of them then
//! start the real app for a few frames, which must not panic. `GIBBS_FA_FUZZ_SECONDS` sets a
//! time budget (CI: a fixed count).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};

use crate::gui::app::{AppOptions, GibbsApp};
use crate::gui::persist::{Persisted, remembered};
use crate::gui::settings::{MAX_NOISE_STD, MAX_REMEMBERED_N, Settings};
use crate::model::Prior;

/// eframe's storage, in memory.
#[derive(Default)]
pub(super) struct MemoryStorage(HashMap<String, String>);

impl eframe::Storage for MemoryStorage {
    fn get_string(&self, key: &str) -> Option<String> {
        self.0.get(key).cloned()
    }

    fn set_string(&mut self, key: &str, value: String) {
        self.0.insert(key.to_string(), value);
    }

    fn remove_string(&mut self, key: &str) {
        self.0.remove(key);
    }

    fn flush(&mut self) {}
}

/// A valid file with something in every section.
fn seed_file() -> String {
    let mut persisted = Persisted::default();
    let s = &mut persisted.settings;
    s.data.n = 2_000;
    s.data.noise_std = 5.0;
    s.data.tile_shifts = true;
    s.masks.seed = 7;
    s.model.hyper.m = 12;
    s.model.prior = Prior::Decaying {
        tau0: 50.0,
        rho: 0.8,
    };
    s.model.sweeps = 300;
    s.model.burn_in = 150;
    s.painted.set(3, &[true, false, false, true]);
    s.painted.set(40, &[false, true, true, false]);
    let mut storage = MemoryStorage::default();
    eframe::set_value(&mut storage, eframe::APP_KEY, &persisted);
    storage.0.remove(eframe::APP_KEY).expect("the seed file")
}

/// Numbers that break things, put where a number was.
const NASTY: [&str; 12] = [
    "0",
    "-1",
    "1e308",
    "-1e308",
    "NaN",
    "inf",
    "18446744073709551615",
    "99999999999999999999",
    "4294967296",
    "0.0000001",
    "1e-320",
    "\"0\"",
];

/// One structure-aware mutation of `text`.
fn mutate(text: &str, rng: &mut SmallRng) -> String {
    let bytes = text.as_bytes();
    let n = bytes.len().max(1);
    match rng.random_range(0..6u32) {
        // A number replaced by a nasty one.
        0 | 1 => {
            let starts: Vec<usize> = (0..bytes.len())
                .filter(|&i| {
                    bytes[i].is_ascii_digit() && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric())
                })
                .collect();
            let Some(&start) = starts.get(rng.random_range(0..starts.len().max(1))) else {
                return text.to_string();
            };
            let end = (start..bytes.len())
                .find(|&i| !(bytes[i].is_ascii_digit() || b".eE-+".contains(&bytes[i])))
                .unwrap_or(bytes.len());
            let nasty = NASTY[rng.random_range(0..NASTY.len())];
            format!("{}{nasty}{}", &text[..start], &text[end..])
        }
        // A byte changed.
        2 => {
            let mut out = bytes.to_vec();
            let i = rng.random_range(0..n);
            if let Some(b) = out.get_mut(i) {
                *b = rng.random_range(0x20..0x7f);
            }
            String::from_utf8_lossy(&out).into_owned()
        }
        // A span removed.
        3 => {
            let a = rng.random_range(0..n);
            let b = (a + rng.random_range(1..40)).min(bytes.len());
            String::from_utf8_lossy(&[&bytes[..a.min(bytes.len())], &bytes[b..]].concat())
                .into_owned()
        }
        // A span repeated.
        4 => {
            let a = rng.random_range(0..n);
            let b = (a + rng.random_range(1..40)).min(bytes.len());
            let span = &bytes[a.min(bytes.len())..b];
            String::from_utf8_lossy(&[&bytes[..b], span, &bytes[b..]].concat()).into_owned()
        }
        // Cut short.
        _ => String::from_utf8_lossy(&bytes[..rng.random_range(0..n)]).into_owned(),
    }
}

/// What every settings value the app goes on with must satisfy.
fn assert_in_range(s: &Settings, input: &str) {
    let d = &s.data;
    assert!(
        d.n >= 1 && d.n <= MAX_REMEMBERED_N,
        "N = {} from {input:?}",
        d.n
    );
    assert!(
        d.noise_std.is_finite() && (0.0..=MAX_NOISE_STD).contains(&d.noise_std),
        "noise {} from {input:?}",
        d.noise_std
    );
    assert!(s.masks.params.validate().is_ok(), "masks from {input:?}");
    let m = &s.model;
    assert!(
        m.hyper.validate().is_ok()
            && m.prior.validate().is_ok()
            && crate::model::validate_run_length(m.sweeps, m.burn_in).is_ok(),
        "model settings from {input:?}"
    );
    assert!(
        s.painted.check(MAX_REMEMBERED_N).is_ok(),
        "painted from {input:?}"
    );
}

#[test]
fn remembered_settings_files_fuzzed() {
    let budget = std::env::var("GIBBS_FA_FUZZ_SECONDS")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
        .map(Duration::from_secs_f64);
    let count = if budget.is_some() { usize::MAX } else { 4_000 };
    let started = Instant::now();
    let seed = seed_file();
    let mut rng = SmallRng::seed_from_u64(2026);
    let (mut read, mut refused, mut repaired, mut apps) = (0usize, 0usize, 0usize, 0usize);
    for k in 0..count {
        if budget.is_some_and(|b| started.elapsed() >= b) {
            break;
        }
        // One to four mutations stacked.
        let mut text = seed.clone();
        for _ in 0..rng.random_range(1..5) {
            text = mutate(&text, &mut rng);
        }
        let mut storage = MemoryStorage::default();
        storage.0.insert(eframe::APP_KEY.into(), text.clone());
        let (persisted, notes) = remembered(Some(&storage));
        assert_in_range(&persisted.settings, &text);
        if notes.is_empty() {
            read += 1;
        } else if notes[0].detail.contains("could not be read") {
            refused += 1;
            assert_eq!(persisted.settings, Settings::default());
        } else {
            repaired += 1;
        }
        // Every 200th input starts the real app for a few frames (its first build starts in
        // the background and is dropped with the app).
        if k % 200 == 0 {
            apps += 1;
            let mut h = Harness::builder()
                .with_size([1000.0, 700.0])
                .build_eframe(move |_cc| {
                    GibbsApp::with_persisted(persisted, notes, AppOptions::default())
                });
            for _ in 0..3 {
                h.step();
            }
        }
    }
    eprintln!(
        "remembered settings: {} inputs in {:.1} s: {read} read, {repaired} repaired, \
         {refused} refused, {apps} apps started",
        read + repaired + refused,
        started.elapsed().as_secs_f64()
    );
    assert!(
        read > 0 && refused > 0 && repaired > 0,
        "the mutations reach every outcome"
    );
}
