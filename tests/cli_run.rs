//! `gibbs-fa run` end to end on small problems: every output file exists and parses, and bad
//! input ends with a clear error and exit code 1.

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::{BIN, assert_refused, isolated, run_ok};

const FIGURES: [&str; 7] = [
    "trace_log_joint.png",
    "trace_rmse.png",
    "reconstructions.png",
    "factors.png",
    "posterior_mu.png",
    "posterior_sigma.png",
    "posterior_std_digits.png",
];

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(str::to_string)
        .collect()
}

/// Reads an f32 IDX file's dimensions and values, checking its header and length.
fn read_idx_f32(path: &Path) -> (Vec<usize>, Vec<f32>) {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(
        &bytes[..3],
        &[0, 0, 0x0D],
        "{}: not an f32 IDX file",
        path.display()
    );
    let ndim = usize::from(bytes[3]);
    let dims: Vec<usize> = (0..ndim)
        .map(|k| u32::from_be_bytes(bytes[4 + 4 * k..8 + 4 * k].try_into().unwrap()) as usize)
        .collect();
    let body = &bytes[4 + 4 * ndim..];
    let count: usize = dims.iter().product();
    assert_eq!(body.len(), 4 * count, "{}: body length", path.display());
    let values = body
        .chunks_exact(4)
        .map(|c| f32::from_be_bytes(c.try_into().unwrap()))
        .collect();
    (dims, values)
}

/// Checks every output of a run of `n` images of `h` x `w` with `m` factors and `sweeps` sweeps.
fn check_outputs(out: &Path, n: usize, (h, w): (usize, usize), m: usize, sweeps: usize) {
    let d = h * w;
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    for key in [
        "settings",
        "n",
        "d",
        "m",
        "sweeps",
        "burn_in",
        "missing_fraction",
        "rmse_mean_impute",
        "rmse_posterior_mean",
        "rmse_last_sample",
        "log_joint_first",
        "log_joint_last",
        "sweep_ms_median",
        "total_seconds",
        "peak_memory_mb",
    ] {
        assert!(
            summary.get(key).is_some(),
            "summary.json lacks {key}: {summary}"
        );
    }
    // Every kind of numerical fallback is present, and a healthy run needed none.
    let fallbacks = summary["fallbacks"]
        .as_object()
        .unwrap_or_else(|| panic!("summary.json lacks the fallbacks object: {summary}"));
    for kind in [
        "cholesky_jitter",
        "cholesky_identity",
        "sigmasq_mode",
        "sigmasq_clamped",
        "prior_precision_clamped",
        "truth_missing",
        "residual_clamped",
    ] {
        assert_eq!(
            fallbacks.get(kind),
            Some(&serde_json::json!(0)),
            "{kind}: {summary}"
        );
    }
    assert_eq!(summary["fallbacks_total"], 0);
    assert_eq!(summary["n"], n);
    assert_eq!(summary["d"], d);
    assert_eq!(summary["m"], m);
    assert_eq!(summary["sweeps"], sweeps);
    assert_eq!(summary["burn_in"], sweeps / 2);
    let finite = |key: &str| {
        let v = summary[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key} is not a number"));
        assert!(v.is_finite(), "{key} = {v}");
        v
    };
    let missing = finite("missing_fraction");
    assert!(missing > 0.0 && missing < 1.0);
    let baseline = finite("rmse_mean_impute");
    let posterior = finite("rmse_posterior_mean");
    finite("rmse_last_sample");
    finite("log_joint_first");
    finite("log_joint_last");
    finite("total_seconds");
    assert!(baseline > 0.0 && posterior > 0.0);

    let trace = lines(&out.join("trace.csv"));
    assert_eq!(
        trace[0],
        "iter,log_joint,rmse_sample,rmse_posterior_mean,seconds"
    );
    assert_eq!(trace.len(), sweeps + 1);
    for (k, row) in trace[1..].iter().enumerate() {
        let fields: Vec<f64> = row.split(',').map(|f| f.parse().unwrap()).collect();
        assert_eq!(fields.len(), 5, "{row}");
        assert_eq!(fields[0] as usize, k + 1);
        assert!(fields.iter().all(|v| v.is_finite()), "{row}");
    }
    for name in ["posterior_mu.csv", "posterior_sigmasq.csv"] {
        let rows = lines(&out.join(name));
        assert_eq!(rows[0], "pixel,mean,std");
        assert_eq!(rows.len(), d + 1, "{name}");
        for row in &rows[1..] {
            let fields: Vec<f64> = row.split(',').map(|f| f.parse().unwrap()).collect();
            assert!(
                fields.len() == 3 && fields.iter().all(|v| v.is_finite()),
                "{row}"
            );
        }
    }
    let sigmasq = lines(&out.join("posterior_sigmasq.csv"));
    assert!(
        sigmasq[1..]
            .iter()
            .all(|r| r.split(',').nth(1).unwrap().parse::<f64>().unwrap() > 0.0)
    );
    let w_rows = lines(&out.join("W_last.csv"));
    assert_eq!(w_rows.len(), d);
    for row in &w_rows {
        let fields: Vec<f64> = row.split(',').map(|f| f.parse().unwrap()).collect();
        assert!(
            fields.len() == m && fields.iter().all(|v| v.is_finite()),
            "{row}"
        );
    }

    let (dims, recon) = read_idx_f32(&out.join("reconstruction.idx"));
    assert_eq!(dims, vec![n, h, w]);
    assert!(recon.iter().all(|v| v.is_finite()));
    let (dims, std) = read_idx_f32(&out.join("posterior_std.idx"));
    assert_eq!(dims, vec![n, h, w]);
    assert!(std.iter().all(|v| v.is_finite() && *v >= 0.0));
    // Zero where observed, positive on (almost all) missing pixels: some pixels must be missing.
    let zero = std.iter().filter(|&&v| v == 0.0).count() as f64 / std.len() as f64;
    assert!(
        (zero - (1.0 - missing)).abs() < 0.01,
        "zero std share {zero}, missing {missing}"
    );

    for name in FIGURES {
        let img = image::open(out.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(img.width() > 20 && img.height() > 20, "{name}");
    }
}

#[test]
fn run_on_synthetic_digits_writes_every_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let output = run_ok(
        isolated(dir.path())
            .args([
                "run",
                "--n",
                "120",
                "--m",
                "6",
                "--sweeps",
                "20",
                "--seed",
                "3",
                "--threads",
                "1",
            ])
            .arg("--out")
            .arg(&out),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("synthetic"),
        "the synthetic data must be announced: {stderr}"
    );
    check_outputs(&out, 120, (28, 28), 6, 20);
}

fn mnist_dir() -> Option<PathBuf> {
    match std::env::var_os("GIBBS_FA_DATA") {
        Some(p) if Path::new(&p).is_dir() => Some(PathBuf::from(p)),
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true but GIBBS_FA_DATA does not name the MNIST folder"
            );
            eprintln!("note: GIBBS_FA_DATA not set; skipping the MNIST run");
            None
        }
    }
}

#[test]
fn run_on_mnist_writes_every_output_and_beats_column_means() {
    let Some(mnist) = mnist_dir() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    run_ok(
        isolated(dir.path())
            .args([
                "run", "--n", "300", "--m", "10", "--sweeps", "20", "--mask", "line",
            ])
            .arg("--data")
            .arg(&mnist)
            .arg("--out")
            .arg(&out),
    );
    check_outputs(&out, 300, (28, 28), 10, 20);
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let (post, base) = (
        summary["rmse_posterior_mean"].as_f64().unwrap(),
        summary["rmse_mean_impute"].as_f64().unwrap(),
    );
    assert!(
        post < base,
        "posterior mean RMSE {post} should beat column means {base}"
    );
}

#[test]
fn run_on_a_csv_with_a_shape() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("images.csv");
    let mut text = String::new();
    for i in 0..40 {
        let row: Vec<String> = (0..6)
            .map(|j| ((i * 7 + j * 13) % 50).to_string())
            .collect();
        text.push_str(&row.join(","));
        text.push('\n');
    }
    std::fs::write(&csv, text).unwrap();
    let out = dir.path().join("out");
    run_ok(
        isolated(dir.path())
            .args([
                "run", "--n", "40", "--m", "2", "--sweeps", "6", "--shape", "2x3",
            ])
            .args(["--mask", "speckle", "--speckle-p", "0.3"])
            .arg("--data")
            .arg(&csv)
            .arg("--out")
            .arg(&out),
    );
    check_outputs(&out, 40, (2, 3), 2, 6);
}

#[test]
fn a_mask_file_overrides_the_generator() {
    let dir = tempfile::tempdir().unwrap();
    // One 28 x 28 mask for every image: the left third missing.
    let mask: Vec<u8> = (0..784).map(|k| u8::from(k % 28 < 9)).collect();
    let mut bytes = vec![0, 0, 0x08, 2, 0, 0, 0, 28, 0, 0, 0, 28];
    bytes.extend(&mask);
    let mask_path = dir.path().join("mask.idx");
    std::fs::write(&mask_path, bytes).unwrap();
    let out = dir.path().join("out");
    run_ok(
        isolated(dir.path())
            .args([
                "run",
                "--n",
                "40",
                "--m",
                "3",
                "--sweeps",
                "6",
                "--no-figures",
            ])
            .arg("--mask-file")
            .arg(&mask_path)
            .arg("--out")
            .arg(&out),
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let missing = summary["missing_fraction"].as_f64().unwrap();
    assert!((missing - 9.0 / 28.0).abs() < 1e-9, "{missing}");
    let (_, std) = read_idx_f32(&out.join("posterior_std.idx"));
    for (k, &v) in std.iter().enumerate() {
        assert_eq!(v == 0.0, k % 28 >= 9, "pixel {k}");
    }
}

#[test]
fn bad_input_fails_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.idx");
    std::fs::write(&garbage, b"this is not an IDX file").unwrap();
    let missing = dir.path().join("no-such-folder");
    let g = garbage.to_str().unwrap();
    let small_csv = dir.path().join("three.csv");
    std::fs::write(&small_csv, "1,2,3,4,5,6\n6,5,4,3,2,1\n0,0,9,9,0,0\n").unwrap();
    let csv = small_csv.to_str().unwrap();
    let m = missing.to_str().unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--data", m], "no-such-folder"),
        (vec!["--data", g], "garbage.idx"),
        (vec!["--sweeps", "0"], "sweep"),
        (vec!["--sweeps", "10", "--burn-in", "10"], "burn-in"),
        (vec!["--m", "0"], "M"),
        (vec!["--nu0", "-1"], "nu0"),
        (vec!["--speckle-p", "2"], "speckle_p"),
        (vec!["--noise-std", "NaN"], "noise"),
        (vec!["--data", csv, "--shape", "2x3", "--n", "10"], "only 3"),
        (vec!["--data", csv], "--shape"),
        (vec!["--mask-file", g], "garbage.idx"),
        (vec!["--prior", "decaying", "--rho", "1.5"], "rho"),
    ];
    for (args, expect) in cases {
        let out = dir.path().join("out");
        // Small defaults for the flags a case does not set itself.
        let base: Vec<&str> = [("--n", "30"), ("--m", "3"), ("--sweeps", "4")]
            .into_iter()
            .filter(|(flag, _)| !args.contains(flag))
            .flat_map(|(flag, value)| [flag, value])
            .collect();
        let output = isolated(dir.path())
            .arg("run")
            .args(&base)
            .args(&args)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        let stderr = assert_refused(&output, &format!("{args:?}"));
        assert!(
            stderr.contains(expect),
            "{args:?} should mention {expect:?}: {stderr}"
        );
    }
    // clap rejects unknown values with its own exit code 2.
    let output = Command::new(BIN)
        .args(["run", "--mask", "triangle", "--out", "x"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}

/// A full disk (a file-size limit set in the child before it runs): the run fails with a clear
/// error naming the file, and leaves no partial or temporary file in the output folder.
#[test]
fn run_on_a_full_disk_fails_cleanly_without_partial_files() {
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut cmd = isolated(dir.path());
    cmd.args([
        "run",
        "--n",
        "120",
        "--m",
        "4",
        "--sweeps",
        "6",
        "--threads",
        "1",
    ])
    .arg("--out")
    .arg(&out);
    // SAFETY: only async-signal-safe libc calls between fork and exec.
    unsafe {
        // SIGXFSZ keeps its default (kill): the CLI itself must ignore it and report EFBIG.
        cmd.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 64 * 1024,
                rlim_max: 64 * 1024,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let output = cmd.output().expect("the binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "the run should fail: {stderr}");
    assert!(
        stderr.contains("could not write") && stderr.contains(&*out.to_string_lossy()),
        "unclear error: {stderr}"
    );
    // 120 x 784 f32 values do not fit under 64 KiB: the reconstruction is not there at all.
    assert!(!out.join("reconstruction.idx").exists());
    for entry in std::fs::read_dir(&out).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        assert!(!name.starts_with('.'), "temporary file left: {name}");
        // Whatever was written is whole: the small CSV tables end with a newline.
        if name.ends_with(".csv") {
            let text = std::fs::read_to_string(entry.path()).unwrap();
            assert!(text.ends_with('\n'), "{name} is cut short");
        }
    }
}
