//! The Compare view in the real app, headless, on a small synthetic problem: the comparison
//! job runs every method and the table shows a finite RMSE for each; Cancel stops it and
//! leaves no job; a mask applied afterwards marks the result stale.

use std::time::{Duration, Instant};

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

use super::support::synthetic_app;
use crate::gui::app::GibbsApp;
use crate::gui::command::AppCommand;
use crate::gui::views::ViewTab;
use crate::sampler::RunState;

const PATIENCE: Duration = Duration::from_secs(240);

/// The app on 120 synthetic digits, M = 3, 20 sweeps, showing the Compare tab, its chain
/// built; `mixture` = (K, M, sweeps) of the mixture, or None to leave it out.
fn compare_app(mixture: Option<(usize, usize, usize)>) -> Harness<'static, GibbsApp> {
    let mut h = synthetic_app(120, 3, 20, 10, move |app| {
        app.set_tab(ViewTab::Traces);
        let o = app.compare_view().options_mut();
        o.mixture = mixture.is_some();
        if let Some((k, m, sweeps)) = mixture {
            (o.mfa_k, o.mfa_m, o.mfa_sweeps) = (k, m, sweeps);
        }
    });
    step_until(&mut h, "the first chain", |a| {
        a.handle_state() == Some(RunState::Paused) && a.live().is_some()
    });
    h.get_by_label("Compare").click();
    h.step();
    h
}

fn step_until(h: &mut Harness<'_, GibbsApp>, what: &str, done: impl Fn(&mut GibbsApp) -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !done(h.state_mut()) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn run_to_the_end(h: &mut Harness<'_, GibbsApp>) {
    h.get_by_role_and_label(Role::Button, "Run comparison")
        .click();
    h.step();
    assert!(h.state_mut().compare_view().is_running());
    step_until(h, "the comparison", |a| !a.compare_view().is_running());
    h.step();
}

#[test]
fn the_comparison_runs_every_method_and_the_table_shows_finite_rmses() {
    let mut h = compare_app(Some((2, 2, 6)));
    h.check_accessibility();
    run_to_the_end(&mut h);
    let data = h.state().data_version();
    let view = h.state_mut().compare_view();
    let (version, result) = view.result().expect("a result");
    assert_eq!(Some(version), data);
    let methods: Vec<String> = result
        .comparison
        .chosen()
        .map(|e| e.method.clone())
        .collect();
    assert_eq!(
        methods,
        [
            "column means",
            "hard-impute",
            "soft-impute",
            "k-NN",
            "factor analysis",
            "mixture of FA"
        ]
    );
    for e in result.comparison.chosen() {
        let masked = e.rmse_masked.expect("synthetic data has its truth");
        assert!(masked.is_finite() && masked > 0.0, "{}: {masked}", e.method);
        assert!(e.rmse_validation.is_finite(), "{}", e.method);
        assert_eq!(e.rows.len(), 6 * 784, "{} keeps six digits", e.method);
    }
    // Factor analysis was tried at M = 3 (the chain's), 10 and 20.
    let fa = result.comparison.curve("factor analysis").unwrap();
    assert_eq!(fa.points.len(), 3);
    assert_eq!(result.images.len(), 6);

    // On screen: a row per method plus the chain, numbers and no NaN, and the pictures.
    // Each method names a table row and a column of pictures.
    for method in &methods {
        assert_eq!(h.query_all_by_label(method).count(), 2, "{method}");
    }
    h.get_by_label("FA chain (running)");
    assert!(h.query_by_label_contains("NaN").is_none());
    assert!(h.query_by_label_contains("Stale").is_none());
    h.get_by_label("k-NN, image 0");
    h.get_by_label("mixture of FA, image 5");
    h.check_accessibility();

    // The table saved as JSON: compare.json's format, one object per fit.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("table.json");
    h.state_mut()
        .queue(AppCommand::SaveComparison(path.clone()));
    h.step();
    step_until(&mut h, "the saved table", |a| {
        a.compare_view().saved().is_some()
    });
    let saved = h.state_mut().compare_view().saved().cloned();
    assert_eq!(saved, Some(Ok(path.display().to_string())));
    let entries: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert!(entries.len() > 6, "every fit, not only the chosen ones");
    for e in &entries {
        assert!(
            e["method"].is_string() && e["rmse_validation"].is_f64(),
            "{e}"
        );
        assert!(e.get("rows").is_none());
    }
    h.step();
    h.get_by_label_contains("Saved the table to");
}

#[test]
fn cancel_stops_the_comparison_and_leaves_no_job() {
    // A mixture far too long to finish during the test.
    let mut h = compare_app(Some((10, 20, 2000)));
    h.get_by_role_and_label(Role::Button, "Run comparison")
        .click();
    h.step();
    step_until(&mut h, "progress", |a| a.compare_view().is_running());
    std::thread::sleep(Duration::from_millis(200));
    h.step();
    h.get_by_role_and_label(Role::Button, "Cancel comparison")
        .click();
    h.step();
    h.step();
    assert!(!h.state_mut().compare_view().is_running(), "no job is left");
    assert!(h.state_mut().compare_view().result().is_none());
    h.get_by_label("Comparison cancelled.");
    // It can run again afterwards.
    h.get_by_role_and_label(Role::Button, "Run comparison")
        .click();
    h.step();
    assert!(h.state_mut().compare_view().is_running());
    h.get_by_role_and_label(Role::Button, "Cancel comparison")
        .click();
    h.step();
    assert!(!h.state_mut().compare_view().is_running());
}

#[test]
fn changing_the_masks_marks_the_result_stale() {
    let mut h = compare_app(None);
    run_to_the_end(&mut h);
    let before = h.state().data_version().unwrap();
    assert!(!h.state_mut().compare_view().is_stale(before));
    assert!(h.query_by_label_contains("Stale").is_none());

    // Paint image 0's mask: its left half missing.
    let missing: Vec<bool> = (0..784).map(|p| p % 28 < 14).collect();
    h.state_mut()
        .queue(AppCommand::ApplyMask { image: 0, missing });
    step_until(&mut h, "the painted mask", |a| {
        a.data_version() != Some(before)
    });
    h.step();
    let now = h.state().data_version().unwrap();
    let view = h.state_mut().compare_view();
    assert!(view.is_stale(now));
    assert_eq!(
        view.result().map(|r| r.0),
        Some(before),
        "the result is kept"
    );
    h.get_by_label_contains("Stale: the data or masks changed");
}

/// At the size of projector mode (1280 x 720 pixels at 150%: 853 x 480 points) the controls
/// wrap onto whole lines: the mixture's check box on one line and its fields inside the
/// window, where a scope inside the wrapping row once stacked them in a sliver at its end.
#[test]
fn the_controls_fit_a_small_window() {
    let mut h = compare_app(Some((2, 2, 6)));
    h.set_size(egui::vec2(853.0, 480.0));
    h.step();
    h.step();
    let checkbox = h
        .get_by_role_and_label(Role::CheckBox, "Mixture of FA")
        .rect();
    let line = h
        .get_by_role_and_label(Role::Button, "Run comparison")
        .rect();
    assert!(
        checkbox.height() <= line.height() + 1.0,
        "the check box {checkbox:?} against a button {line:?}"
    );
    for field in ["Held out:", "K:", "M per component:", "sweeps:"] {
        let label = h.get_by_role_and_label(Role::Label, field).rect();
        let value = h.get_by_role_and_label(Role::SpinButton, field).rect();
        for rect in [label, value] {
            assert!(rect.right() <= 853.0, "{field} at {rect:?}");
            assert!(rect.height() <= line.height() + 1.0, "{field} at {rect:?}");
        }
        // The value on its name's line, right after it.
        assert!(
            (label.center().y - value.center().y).abs() < 4.0 && value.left() > label.right(),
            "{field}: name at {label:?}, value at {value:?}"
        );
    }
}
