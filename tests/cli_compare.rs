//! `gibbs-fa compare` end to end on small synthetic digits: `compare.json` is a list with one
//! object per fit and the fields the issue asks for, one chosen fit per method, and the
//! validation curves; bad flags end with exit code 1.

use std::collections::BTreeMap;

mod common;
use common::{assert_refused, isolated, run_ok};

const SMALL: [&str; 25] = [
    "compare",
    "--n",
    "80",
    "--sweeps",
    "20",
    "--seed",
    "3",
    "--threads",
    "1",
    "--fa-m",
    "2,6",
    "--ranks",
    "3,8",
    "--lambdas",
    "3",
    "--max-rank",
    "20",
    "--ks",
    "1,4",
    "--mask",
    "speckle",
    "--mfa",
    "2x2",
    "--mfa-sweeps",
    "10",
];

#[test]
fn compare_on_synthetic_digits_writes_every_method_with_its_scores() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let output = run_ok(isolated(dir.path()).args(SMALL).arg("--out").arg(&out));
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    // Progress went to stderr, the table to stdout.
    assert!(stderr.contains("factor analysis"), "{stderr}");
    assert!(
        stdout.contains("RMSE masked") && stdout.contains("k-NN"),
        "{stdout}"
    );

    let text = std::fs::read_to_string(out.join("compare.json")).unwrap();
    let entries: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    let mut per_method: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for e in &entries {
        let method = e["method"].as_str().expect("method is a string");
        assert!(e["settings"].is_object(), "{e}");
        for key in ["rmse_masked", "rmse_validation"] {
            let v = e[key].as_f64().unwrap_or_else(|| panic!("{key} in {e}"));
            assert!(v.is_finite() && v > 0.0 && v < 255.0, "{key} = {v} in {e}");
        }
        let seconds = e["seconds"].as_f64().unwrap();
        assert!((0.0..600.0).contains(&seconds), "{e}");
        let slot = per_method.entry(method.to_string()).or_default();
        slot.0 += 1;
        slot.1 += usize::from(e["chosen"].as_bool().unwrap());
    }
    let expect = [
        ("column means", 1),
        ("factor analysis", 2),
        ("hard-impute", 2),
        ("k-NN", 2),
        ("mixture of FA", 1),
        ("soft-impute", 3),
    ];
    for (method, fits) in expect {
        assert_eq!(
            per_method.get(method),
            Some(&(fits, 1)),
            "{method}: {per_method:?}"
        );
    }
    assert_eq!(per_method.len(), expect.len());
    // The settings name each fit's size.
    let sizes: Vec<f64> = entries
        .iter()
        .filter(|e| e["method"] == "factor analysis")
        .map(|e| e["settings"]["M"].as_f64().unwrap())
        .collect();
    assert_eq!(sizes, [2.0, 6.0]);
    // Every method beats nothing: the chosen k-NN and factor-analysis fits beat column means
    // on the validation pixels of these digits.
    let chosen = |m: &str| {
        entries
            .iter()
            .find(|e| e["method"] == m && e["chosen"] == true)
            .unwrap()["rmse_validation"]
            .as_f64()
            .unwrap()
    };
    assert!(chosen("k-NN") < chosen("column means"));
    assert!(chosen("factor analysis") < chosen("column means"));

    let curves: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(out.join("validation_curves.json")).unwrap())
            .unwrap();
    let fa = curves
        .iter()
        .find(|c| c["method"] == "factor analysis")
        .unwrap();
    assert_eq!(fa["parameter"], "M");
    assert_eq!(fa["points"].as_array().unwrap().len(), 2);
}

#[test]
fn compare_refuses_bad_flags() {
    let dir = tempfile::tempdir().unwrap();
    for bad in [["--holdout", "1.5"], ["--fa-m", "0"], ["--ks", "0"]] {
        let output = isolated(dir.path())
            .args(SMALL)
            .args(bad)
            .arg("--out")
            .arg(dir.path().join("out"))
            .output()
            .unwrap();
        assert_refused(&output, &format!("{bad:?}"));
    }
}
