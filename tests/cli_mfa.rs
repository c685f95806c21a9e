//! `gibbs-fa run --model mfa` end to end on small synthetic digits: the mixture writes the
//! summary, trace, reconstructions and figures of `run`, beats column means on the hidden
//! pixels, and refuses bad flags with exit code 1.

mod common;
use common::{assert_refused, isolated, run_ok};

const SMALL: [&str; 16] = [
    "run",
    "--model",
    "mfa",
    "--components",
    "3",
    "--m",
    "4",
    "--n",
    "90",
    "--sweeps",
    "12",
    "--seed",
    "5",
    "--threads",
    "1",
    "--no-figures",
];

#[test]
fn run_model_mfa_writes_the_outputs_of_run() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut args = SMALL.to_vec();
    args.pop(); // with figures
    let output = run_ok(isolated(dir.path()).args(&args).arg("--out").arg(&out));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("mixture posterior mean"), "{stdout}");

    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["model"], "mfa");
    assert_eq!(summary["settings"]["k"], 3);
    assert_eq!(summary["settings"]["m"], 4);
    assert_eq!(summary["sweeps"], 12);
    assert_eq!(summary["samples_in_moments"], 6);
    let sizes: Vec<u64> = summary["component_sizes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!((sizes.len(), sizes.iter().sum::<u64>()), (3, 90));
    let rmse = summary["rmse_posterior_mean"].as_f64().unwrap();
    let base = summary["rmse_mean_impute"].as_f64().unwrap();
    assert!(
        rmse.is_finite() && rmse < base,
        "mixture {rmse}, column means {base}"
    );

    let trace = std::fs::read_to_string(out.join("trace.csv")).unwrap();
    let lines: Vec<&str> = trace.lines().collect();
    assert!(lines[0].starts_with("iter,rmse_sample,rmse_posterior_mean"));
    assert_eq!(lines.len(), 13);
    // Reconstruction and std: IDX float32 arrays of 90 x 28 x 28 after a 16-byte header.
    for name in ["reconstruction.idx", "posterior_std.idx"] {
        let bytes = std::fs::read(out.join(name)).unwrap();
        assert_eq!(bytes.len(), 16 + 90 * 784 * 4, "{name}");
    }
    for name in [
        "components.csv",
        "trace_rmse.png",
        "reconstructions.png",
        "posterior_std_digits.png",
        "component_means.png",
    ] {
        assert!(out.join(name).is_file(), "{name} missing");
    }
}

#[test]
fn run_model_mfa_refuses_bad_flags() {
    let dir = tempfile::tempdir().unwrap();
    for (flag, value) in [("--components", "0"), ("--chains", "2"), ("--alpha0", "-1")] {
        let mut args = SMALL.to_vec();
        match args.iter().position(|a| *a == flag) {
            Some(i) => args[i + 1] = value,
            None => args.extend([flag, value]),
        }
        let output = isolated(dir.path())
            .args(&args)
            .arg("--out")
            .arg(dir.path().join("out"))
            .output()
            .unwrap();
        assert_refused(&output, &format!("{flag} {value}"));
    }
    let output = isolated(dir.path())
        .args(SMALL)
        .arg("--recentre")
        .arg("--out")
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert_refused(&output, "--recentre");
}
