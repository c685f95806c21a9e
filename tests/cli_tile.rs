//! `gibbs-fa run --tile-shifts` end to end: a data file of 40 digits run at N = 120 (the 40,
//! then 80 shifted copies), few sweeps; the summary says it was tiled. Without the flag the
//! same N is refused as before.

use std::path::Path;
use std::process::{Command, Output};

use gibbs_fa::data::idx::write_idx_u8;
use gibbs_fa::data::synthetic;

const BIN: &str = env!("CARGO_BIN_EXE_gibbs-fa");

/// 40 synthetic digits written as a u8 IDX file (not MNIST-named, so no labels are sought).
fn digits_file(dir: &Path) -> std::path::PathBuf {
    let data = synthetic::generate(40, 3).unwrap();
    let bytes: Vec<u8> = data.pixels.iter().map(|&v| v as u8).collect();
    let path = dir.join("digits.idx");
    write_idx_u8(&path, &[40, 28, 28], &bytes).unwrap();
    path
}

fn run(dir: &Path, data: &Path, extra: &[&str]) -> Output {
    let out = dir.join("out");
    Command::new(BIN)
        .env_remove("GIBBS_FA_DATA")
        .env("XDG_CACHE_HOME", dir)
        .env("HOME", dir)
        .arg("run")
        .arg("--data")
        .arg(data)
        .arg("--out")
        .arg(&out)
        .args([
            "--n",
            "120",
            "--m",
            "3",
            "--sweeps",
            "4",
            "--threads",
            "2",
            "--no-figures",
        ])
        .args(extra)
        .output()
        .expect("the binary runs")
}

#[test]
fn tile_shifts_fills_n_with_shifted_copies() {
    let dir = tempfile::tempdir().unwrap();
    let data = digits_file(dir.path());
    let out = run(dir.path(), &data, &["--tile-shifts"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "stdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("tiled to 120 images: the 40 images, then 80 copies shifted by up to 2"),
        "{stdout}"
    );
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("out/summary.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(summary["n"], 120);
    assert_eq!(summary["sweeps"], 4);
    let tiling = &summary["tiling"];
    assert_eq!(tiling["source_images"], 40, "{tiling}");
    assert_eq!(tiling["copies"], 80, "{tiling}");
    assert_eq!(tiling["max_shift"], 2, "{tiling}");
    assert_eq!(tiling["seed"], 305, "{tiling}");
    let rmse = summary["rmse_last_sample"].as_f64().expect("an RMSE");
    assert!(rmse.is_finite() && rmse > 0.0, "{rmse}");
    // One reconstruction per image, copies included: f32 IDX of 120 x 28 x 28.
    let recon = std::fs::read(dir.path().join("out/reconstruction.idx")).unwrap();
    let dims: Vec<u32> = (0..3)
        .map(|k| u32::from_be_bytes(recon[4 + 4 * k..8 + 4 * k].try_into().unwrap()))
        .collect();
    assert_eq!(dims, [120, 28, 28]);
}

#[test]
fn without_the_flag_more_images_than_the_data_is_still_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let data = digits_file(dir.path());
    let out = run(dir.path(), &data, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("asked for 120 images but the dataset has only 40"),
        "{stderr}"
    );
    assert!(!dir.path().join("out/summary.json").exists());
}

#[test]
fn an_absurd_n_with_the_flag_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let data = digits_file(dir.path());
    let out = Command::new(BIN)
        .env_remove("GIBBS_FA_DATA")
        .env("HOME", dir.path())
        .args(["run", "--tile-shifts", "--n", "5000000", "--sweeps", "2"])
        .arg("--data")
        .arg(&data)
        .arg("--out")
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("cannot make 5000000 images: at most 1000000"),
        "{stderr}"
    );
}
