//! `gibbs-fa run --chains K`: draws.csv and diagnostics.json, and one chain reproducing the
//! single-chain run's files.

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_gibbs-fa");

/// A run on the built-in synthetic digits (no data search) with `extra` flags (two threads
/// unless `extra` says otherwise); its output.
fn run(dir: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    let output = Command::new(BIN)
        .env_remove("GIBBS_FA_DATA")
        .env("XDG_CACHE_HOME", dir)
        .env("HOME", dir)
        .args([
            "run",
            "--n",
            "80",
            "--m",
            "4",
            "--sweeps",
            "24",
            "--seed",
            "5",
            "--no-figures",
        ])
        .args(extra)
        .args(if extra.contains(&"--threads") {
            &[][..]
        } else {
            &["--threads", "2"][..]
        })
        .arg("--out")
        .arg(out)
        .output()
        .expect("the binary runs");
    assert!(
        output.status.success(),
        "stderr:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Chains that disagree on mu without the recentring move are told about it: mu_d's largest
/// per-pixel R-hat here is about 29 and the run says what --recentre does; with --recentre
/// it falls (to about 1.5 in these 24 sweeps) and nothing is said.
#[test]
fn chains_apart_on_mu_point_to_the_recentring_move() {
    let dir = tempfile::tempdir().unwrap();
    let mu_max = |out: &Path| {
        let text = std::fs::read_to_string(out.join("diagnostics.json")).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        json["per_pixel"]["mu"]["max"]
            .as_f64()
            .expect("a finite R-hat")
    };
    let (plain, moved) = (dir.path().join("plain"), dir.path().join("moved"));
    let said = |o: &std::process::Output| {
        String::from_utf8_lossy(&o.stdout).contains("--recentre moves along it")
    };
    let without = run(dir.path(), &plain, &["--chains", "3"]);
    let with = run(dir.path(), &moved, &["--chains", "3", "--recentre"]);
    let (a, b) = (mu_max(&plain), mu_max(&moved));
    assert!(a >= 1.1 && said(&without), "mu's R-hat {a}");
    assert!(
        b < a / 5.0 && !said(&with),
        "mu's R-hat {b} with the move, {a} without"
    );
}

#[test]
fn chains_write_draws_and_diagnostics() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    run(dir.path(), &out, &["--chains", "3"]);

    let text = std::fs::read_to_string(out.join("draws.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(
        &header[..5],
        &["chain", "iteration", "warmup", "log_joint", "rmse_sample"]
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 3 * 24);
    for (r, row) in rows.iter().enumerate() {
        assert_eq!(row.len(), header.len());
        let (chain, iteration) = (r / 24 + 1, r % 24 + 1);
        assert_eq!(row[0], chain.to_string());
        assert_eq!(row[1], iteration.to_string());
        assert_eq!(row[2], if iteration <= 12 { "1" } else { "0" });
        for v in &row[3..] {
            assert!(
                v.parse::<f64>().is_ok_and(f64::is_finite),
                "{v:?} in {row:?}"
            );
        }
    }
    // The chains differ (own seeds, dispersed starts).
    assert_ne!(rows[0][3], rows[24][3]);

    let diag: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("diagnostics.json")).unwrap())
            .unwrap();
    for name in header[3..].iter().filter(|n| !n.starts_with("w_")) {
        for key in ["rhat", "ess_bulk", "ess_tail", "mcse_mean"] {
            let v = diag[*name][key].as_f64();
            assert!(
                v.is_some_and(f64::is_finite),
                "{name}.{key}: {:?}",
                diag[*name]
            );
        }
    }
    // Raw loadings are not diagnosed (rotation), but listed as such.
    assert!(header.iter().any(|n| n.starts_with("w_")));
    assert!(
        diag["run"]["not_diagnosed"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
    );
    for kind in ["x_missing", "sigmasq", "mu"] {
        let s = &diag["per_pixel"][kind];
        assert!(s["count"].as_u64().is_some_and(|c| c > 0), "{kind}: {s}");
        assert!(s["max"].as_f64().is_some_and(f64::is_finite), "{kind}: {s}");
        assert!(s["share_above_1_01"].as_f64().is_some());
    }
    assert_eq!(diag["run"]["chains"], 3);
    assert_eq!(diag["run"]["draws_per_chain"], 12);
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["chains"], 3);
    assert_eq!(summary["rmse_posterior_mean"], diag["run"]["rmse_pooled"]);
    assert_eq!(summary["samples_in_moments"], 36);
}

#[test]
fn one_chain_is_the_default_run() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    run(dir.path(), &a, &[]);
    run(dir.path(), &b, &["--chains", "1"]);
    for file in [
        "reconstruction.idx",
        "posterior_std.idx",
        "posterior_mu.csv",
        "draws.csv",
        "diagnostics.json",
    ] {
        assert_eq!(
            std::fs::read(a.join(file)).unwrap(),
            std::fs::read(b.join(file)).unwrap(),
            "{file}"
        );
    }
    // trace.csv is the same but for its wall-clock column; it is draws.csv's chain 1.
    let without_seconds = |p: &Path| -> Vec<String> {
        let text = std::fs::read_to_string(p).unwrap();
        text.lines()
            .map(|l| l.rsplit_once(',').unwrap().0.to_string())
            .collect()
    };
    assert_eq!(
        without_seconds(&a.join("trace.csv")),
        without_seconds(&b.join("trace.csv"))
    );
    let trace = std::fs::read_to_string(a.join("trace.csv")).unwrap();
    let draws = std::fs::read_to_string(a.join("draws.csv")).unwrap();
    for (t, d) in trace.lines().skip(1).zip(draws.lines().skip(1)) {
        let t: Vec<&str> = t.split(',').collect();
        let d: Vec<&str> = d.split(',').collect();
        assert_eq!(t[0], d[1]);
        assert_eq!(t[1], d[3], "log joint");
        assert_eq!(t[2], d[4], "rmse of the sample");
    }
}

#[test]
fn chains_are_the_same_on_one_thread_and_two() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    run(dir.path(), &a, &["--chains", "3", "--threads", "1"]);
    run(dir.path(), &b, &["--chains", "3", "--threads", "2"]);
    for file in [
        "draws.csv",
        "diagnostics.json",
        "reconstruction.idx",
        "posterior_std.idx",
    ] {
        assert_eq!(
            std::fs::read(a.join(file)).unwrap(),
            std::fs::read(b.join(file)).unwrap(),
            "{file}"
        );
    }
}
