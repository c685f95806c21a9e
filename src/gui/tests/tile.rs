//! "Fill to N with shifted copies" in the real app, headless: a data file of 40 digits at
//! N = 120 builds a chain on the 40 images followed by 80 shifted copies (checked pixel by pixel
//! with no noise), the Data section says so, and unticking the box rebuilds at the data's 40.
//! Remembered settings with the option and N = 60,000 come back unchanged; a damaged value
//! gives the defaults and a note.

use std::path::PathBuf;
use std::time::Duration;

use eframe::Storage as _;
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

use crate::data::idx::write_idx_u8;
use crate::data::synthetic;
use crate::data::tile::shift_of;
use crate::gui::app::{AppOptions, GibbsApp};
use crate::gui::persist::{Persisted, remembered};
use crate::gui::settings::Settings;

use super::remembered::MemoryStorage;
use super::support::{app_with, step_until_within};

const PATIENCE: Duration = Duration::from_secs(60);

/// Steps frames until `done` holds, for at most [`PATIENCE`].
fn step_until(h: &mut Harness<'_, GibbsApp>, what: &str, done: impl Fn(&GibbsApp) -> bool) {
    step_until_within(h, PATIENCE, what, done);
}

/// 30 synthetic digits as a u8 IDX file, and their pixels.
fn digits_file(dir: &std::path::Path) -> (PathBuf, Vec<f32>) {
    let data = synthetic::generate(40, 11).unwrap();
    let bytes: Vec<u8> = data.pixels.iter().map(|&v| v as u8).collect();
    let path = dir.join("digits.idx");
    write_idx_u8(&path, &[40, 28, 28], &bytes).unwrap();
    (path, bytes.iter().map(|&b| f32::from(b)).collect())
}

fn built_n(app: &GibbsApp) -> Option<usize> {
    app.live()
        .filter(|_| !app.is_building())
        .map(|l| l.experiment().n)
}

/// `src` (28 x 28) shifted by (dx, dy), the border 0.
fn shifted(src: &[f32], (dx, dy): (i32, i32)) -> Vec<f32> {
    let mut out = vec![0f32; 784];
    for r in 0..28i32 {
        for c in 0..28i32 {
            let (sr, sc) = (r - dy, c - dx);
            if (0..28).contains(&sr) && (0..28).contains(&sc) {
                out[(r * 28 + c) as usize] = src[(sr * 28 + sc) as usize];
            }
        }
    }
    out
}

#[test]
fn fill_to_n_builds_the_chain_on_shifted_copies() {
    let dir = tempfile::tempdir().unwrap();
    let (path, source) = digits_file(dir.path());
    let options = AppOptions {
        fresh: true,
        data: Some(path),
        n: Some(120),
        m: Some(3),
        tile_shifts: true,
        ..AppOptions::default()
    };
    let mut h = app_with(options, |app| {
        let settings = app.settings_mut();
        settings.data.noise_std = 0.0;
        settings.model.sweeps = 20;
        settings.model.burn_in = 5;
    });
    step_until(&mut h, "the first chain", |a| built_n(a).is_some());
    let app = h.state();
    assert!(app.errors().is_empty(), "{:?}", app.errors());
    let chain = app.chain_settings().unwrap();
    assert!(chain.data.tile_shifts);
    assert_eq!(chain.data.n, 120);
    let seed = chain.data.seed;
    let experiment = app.live().unwrap().experiment();
    assert_eq!(experiment.n, 120);
    assert_eq!(&experiment.x_true[..40 * 784], source.as_slice());
    for i in 40..120 {
        let src = &source[(i % 40) * 784..][..784];
        let want = shifted(src, shift_of(seed, i));
        assert_eq!(
            &experiment.x_true[i * 784..][..784],
            want.as_slice(),
            "image {i} is not image {} shifted by {:?}",
            i % 40,
            shift_of(seed, i)
        );
    }
    h.step();
    assert!(
        h.query_all_by_value("80 shifted copies of the 40 images")
            .next()
            .is_some(),
        "the Data section tells how many copies"
    );

    // Untick: N goes back to what the data holds and the chain is rebuilt at 40.
    h.get_by_role_and_label(Role::CheckBox, "Shifted copies")
        .click();
    h.step();
    assert!(!h.state().settings().data.tile_shifts);
    step_until(&mut h, "the chain rebuilt without copies", |a| {
        built_n(a) == Some(40)
    });
    assert!(h.state().errors().is_empty(), "{:?}", h.state().errors());
    h.check_accessibility();
}

#[test]
fn remembered_settings_keep_the_option_and_n_60000() {
    let mut persisted = Persisted::default();
    persisted.settings.data.tile_shifts = true;
    persisted.settings.data.n = 60_000;
    let want = persisted.settings.clone();
    let mut storage = MemoryStorage::default();
    eframe::set_value(&mut storage, eframe::APP_KEY, &persisted);
    let (back, notes) = remembered(Some(&storage));
    assert!(notes.is_empty(), "{:?}", notes.len());
    assert_eq!(back.settings, want);

    let text = storage.get_string(eframe::APP_KEY).unwrap();
    assert!(text.contains("tile_shifts"), "{text}");
    // A file from before the option: the option is off, N is kept.
    let mut old = MemoryStorage::default();
    old.set_string(
        eframe::APP_KEY,
        text.replace("tile_shifts", "retired_field"),
    );
    let (back, notes) = remembered(Some(&old));
    assert!(notes.is_empty());
    assert!(!back.settings.data.tile_shifts);
    assert_eq!(back.settings.data.n, 60_000);
    // A damaged value: the defaults, and a note saying so; never a panic.
    let mut bad = MemoryStorage::default();
    bad.set_string(
        eframe::APP_KEY,
        text.replace("tile_shifts:true", "tile_shifts:7")
            .replace("tile_shifts: true", "tile_shifts: 7"),
    );
    let (back, notes) = remembered(Some(&bad));
    assert_eq!(notes.len(), 1);
    assert_eq!(back.settings, Settings::default());
}
