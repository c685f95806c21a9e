//! `gibbs-fa data` end to end: runs the binary and checks its PNGs exist and decode.

use gibbs_fa::data::idx::write_idx_u8;
use std::path::Path;
use std::process::{Command, Output};

const FIGURES: [&str; 6] = [
    "masks.png",
    "digits.png",
    "masked_digits.png",
    "pcs_masked.png",
    "pcs_true.png",
    "variance_explained.png",
];

/// Runs `gibbs-fa data` with an empty data search path (no env folder, an empty cache), so
/// nothing on this machine leaks in.
fn run_data(args: &[&str], cache: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gibbs-fa"))
        .arg("data")
        .args(args)
        .env("GIBBS_FA_DATA", "")
        .env("XDG_CACHE_HOME", cache)
        .env("HOME", cache)
        .output()
        .unwrap()
}

fn check_pngs(dir: &Path) {
    for name in FIGURES {
        let img = image::open(dir.join(name))
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .to_rgb8();
        assert!(img.width() > 100 && img.height() > 100, "{name} is tiny");
        // Not a blank page.
        let first = img.get_pixel(0, 0);
        assert!(img.pixels().any(|p| p != first), "{name} is blank");
    }
}

#[test]
fn synthetic_digits_when_no_data_is_found() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let result = run_data(
        &["--n", "40", "--out", out.to_str().unwrap(), "--seed", "3"],
        tmp.path(),
    );
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(result.status.success(), "{}: {stderr}", result.status);
    assert!(
        stderr.contains("synthetic"),
        "the fallback is announced: {stderr}"
    );
    check_pngs(&out);
}

#[test]
fn an_idx_file_of_odd_shape_with_line_masks() {
    let tmp = tempfile::tempdir().unwrap();
    let (n, h, w) = (30, 12, 10);
    let pixels: Vec<u8> = (0..n * h * w).map(|k| ((k * 37) % 256) as u8).collect();
    let file = tmp.path().join("tiny-idx3-ubyte");
    write_idx_u8(&file, &[n, h, w], &pixels).unwrap();
    let out = tmp.path().join("out");
    let result = run_data(
        &[
            "--data",
            file.to_str().unwrap(),
            "--n",
            "30",
            "--out",
            out.to_str().unwrap(),
            "--mask",
            "line",
            "--line-width",
            "1.5",
        ],
        tmp.path(),
    );
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    check_pngs(&out);
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(stdout.contains("30 images of 12 x 10"), "{stdout}");
}

#[test]
fn bad_settings_fail_with_a_message() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let out = out.to_str().unwrap();
    for args in [
        vec!["--out", out, "--speckle-p", "2"],
        vec!["--out", out, "--line-width", "NaN"],
        vec!["--out", out, "--mask", "square"],
        vec!["--out", out, "--shape", "28by28"],
        vec!["--out", out, "--n", "0"],
        vec!["--out", out, "--data", "/nonexistent/mnist"],
    ] {
        let result = run_data(&args, tmp.path());
        assert!(!result.status.success(), "{args:?} should fail");
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert!(stderr.contains("error"), "{args:?}: {stderr}");
    }
    assert!(!Path::new(out).join("masks.png").exists());
}
