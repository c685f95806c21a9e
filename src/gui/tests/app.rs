//! The real app driven headless (egui_kittest) on a small problem: synthetic digits, N = 200,
//! M = 5. Buttons are found and clicked through the accessibility tree, sliders set the way a
//! screen reader sets them, and the outcome is read from the app's state.

use std::time::Duration;

use crate::sampler::RunState;
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

use super::support::{step_for, step_until_within, synthetic_app};
use crate::gui::app::GibbsApp;
use crate::gui::command::AppCommand;
use crate::gui::live::LiveState;
use crate::gui::notes::MAX_NOTES;
use crate::gui::panels::SourceChoice;
use crate::gui::views::ViewTab;

/// Longest wait for anything (the machine is shared and small; sweeps here take ~1 ms).
const PATIENCE: Duration = Duration::from_secs(60);

fn small_app() -> Harness<'static, GibbsApp> {
    synthetic_app(200, 5, 100_000, 10, |app| app.set_tab(ViewTab::Traces))
}

/// Steps frames until `done` holds, for at most [`PATIENCE`].
fn step_until(h: &mut Harness<'_, GibbsApp>, what: &str, done: impl Fn(&GibbsApp) -> bool) {
    step_until_within(h, PATIENCE, what, done);
}

fn iteration(app: &GibbsApp) -> usize {
    app.live().map_or(0, |l| l.iteration())
}

fn generation(app: &GibbsApp) -> u64 {
    app.live().map_or(0, |l| l.generation())
}

fn first_log_joint(app: &GibbsApp) -> Option<f64> {
    app.live()?.traces().log_joint.first().map(|p| p.y)
}

fn click(h: &mut Harness<'_, GibbsApp>, label: &str) {
    h.get_by_role_and_label(Role::Button, label).click();
    h.step();
}

#[test]
fn start_pause_step_reset_and_settings() {
    let mut h = small_app();
    step_until(&mut h, "the first chain", |a| {
        a.handle_state() == Some(RunState::Paused) && a.live().is_some()
    });
    assert_eq!(iteration(h.state()), 0, "the chain waits for Start");
    h.check_accessibility();

    // Start: the sweep counter and the traces advance.
    click(&mut h, "Start");
    step_until(&mut h, "five sweeps", |a| iteration(a) >= 5);
    let traced = h.state().live().map_or(0, |l| l.traces().log_joint.len());
    assert!(traced >= 5, "log joint trace has {traced} points");
    let first = first_log_joint(h.state()).expect("a first log joint");
    assert!(first.is_finite());
    let before = iteration(h.state());
    step_until(&mut h, "more sweeps", |a| iteration(a) >= before + 5);

    // Pause: the counter stops.
    click(&mut h, "Pause");
    step_until(&mut h, "the pause", |a| {
        a.live().and_then(|l| l.run_state()) == Some(RunState::Paused)
    });
    step_for(&mut h, Duration::from_millis(100));
    let paused_at = iteration(h.state());
    step_for(&mut h, Duration::from_millis(300));
    assert_eq!(
        iteration(h.state()),
        paused_at,
        "sweeps went on while paused"
    );

    // Step: exactly one more sweep.
    click(&mut h, "Step");
    step_until(&mut h, "one step", |a| iteration(a) > paused_at);
    step_for(&mut h, Duration::from_millis(300));
    assert_eq!(iteration(h.state()), paused_at + 1);

    // The S key steps too (no text field has focus).
    h.key_press(egui::Key::S);
    step_until(&mut h, "a step by key", |a| iteration(a) > paused_at + 1);
    step_for(&mut h, Duration::from_millis(200));
    assert_eq!(iteration(h.state()), paused_at + 2);

    // Reset: back to sweep 0, and the same seed gives the same first log joint.
    let old = generation(h.state());
    click(&mut h, "Reset");
    step_until(&mut h, "the reset chain", |a| {
        generation(a) != old && !a.is_building()
    });
    assert_eq!(iteration(h.state()), 0);
    assert_eq!(h.state().handle_state(), Some(RunState::Paused));
    // Space starts it.
    h.key_press(egui::Key::Space);
    step_until(&mut h, "the first sweep after reset", |a| iteration(a) >= 1);
    assert_eq!(
        first_log_joint(h.state()),
        Some(first),
        "same seed, same first log joint"
    );

    // A next-sweep setting: set like a screen reader would; the chain goes on.
    let gen_before = generation(h.state());
    h.get_by_role_and_label(Role::Slider, "kappa0")
        .set_value_accesskit(0.5);
    h.step();
    let at_change = iteration(h.state());
    step_until(&mut h, "the new kappa0 in a snapshot", |a| {
        a.live()
            .and_then(|l| l.snapshot())
            .is_some_and(|s| (s.settings.hyper.kappa0 - 0.5).abs() < 1e-9)
    });
    step_until(&mut h, "sweeps after the change", |a| {
        iteration(a) >= at_change + 3
    });
    assert_eq!(
        generation(h.state()),
        gen_before,
        "kappa0 must not restart the chain"
    );
    assert_eq!(h.state().chain_settings().map(|s| s.model.hyper.m), Some(5));

    // M restarts the chain (a short run: no confirmation needed), and it keeps running.
    h.get_by_role_and_label(Role::Slider, "Factors M")
        .set_value_accesskit(3.0);
    h.step();
    step_until(&mut h, "the chain with M = 3", |a| {
        generation(a) != gen_before && a.chain_settings().is_some_and(|s| s.model.hyper.m == 3)
    });
    step_until(&mut h, "a snapshot with M = 3", |a| {
        a.live()
            .and_then(|l| l.snapshot())
            .is_some_and(|s| s.m == 3)
    });
    // The restarted chain kept the live change and runs on.
    assert_eq!(
        h.state().chain_settings().map(|s| s.model.hyper.kappa0),
        Some(0.5)
    );
    let n = iteration(h.state());
    step_until(&mut h, "the restarted chain sampling", |a| {
        iteration(a) > n + 2
    });
    assert!(h.state().errors().is_empty(), "{:?}", h.state().errors());

    // Stop ends the chain; its results stay.
    click(&mut h, "Stop");
    step_until(&mut h, "the stop", |a| {
        a.handle_state() == Some(RunState::Stopped)
    });
    assert!(h.state().live().is_some_and(|l| l.iteration() > 0));
}

#[test]
fn a_bad_file_shows_an_error_and_the_app_stays_usable() {
    let mut h = small_app();
    step_until(&mut h, "the first chain", |a| {
        a.live().is_some() && !a.is_building()
    });
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("not-mnist.idx");
    std::fs::write(&bad, b"this is not an IDX file").unwrap();
    h.state_mut().settings_mut().data.source = SourceChoice::Path(bad);
    step_until(&mut h, "the error", |a| {
        !a.errors().is_empty() && !a.is_building()
    });
    h.step();
    assert!(
        h.query_by_label("Could not build the experiment").is_some(),
        "the error banner is shown"
    );
    // The old chain is kept and still works.
    click(&mut h, "Start");
    step_until(&mut h, "sweeps on the old chain", |a| iteration(a) >= 2);
    click(&mut h, "Dismiss");
    assert!(h.state().errors().is_empty());
    // Back to the chain's data: nothing to rebuild, no new error.
    let old = generation(h.state());
    h.state_mut().settings_mut().data.source = SourceChoice::Synthetic;
    step_for(&mut h, Duration::from_millis(600));
    assert_eq!(generation(h.state()), old);
    assert!(h.state().errors().is_empty(), "{:?}", h.state().errors());
    // A valid change builds a new chain again.
    h.state_mut().settings_mut().data.n = 150;
    step_until(&mut h, "a new chain", |a| {
        generation(a) != old && !a.is_building()
    });
    assert_eq!(h.state().live().map(|l| l.n_images()), Some(150));
}

/// Space with a widget focused (reached with Tab) belongs to that widget: it must not also
/// start the run.
#[test]
fn space_on_a_focused_widget_does_not_toggle_the_run() {
    let mut h = small_app();
    step_until(&mut h, "the first chain", |a| {
        a.handle_state() == Some(RunState::Paused) && !a.is_building()
    });
    h.get_by_label("Frame times").focus();
    h.step();
    assert!(h.get_by_label("Frame times").is_focused());
    h.key_press(egui::Key::Space);
    h.step();
    step_for(&mut h, Duration::from_millis(300));
    assert_eq!(h.state().handle_state(), Some(RunState::Paused));
    assert_eq!(iteration(h.state()), 0, "space started the run");
    assert!(
        h.query_by_label_contains("frame CPU worst").is_some(),
        "space pressed the focused toggle"
    );
}

/// However often a problem is reported, the banners stay few and distinct.
#[test]
fn banners_are_capped_and_not_repeated() {
    let mut h = small_app();
    step_until(&mut h, "the first chain", |a| {
        a.live().is_some() && !a.is_building()
    });
    for k in 0..12 {
        // Images that do not exist: each refusal is a banner.
        h.state_mut().queue(AppCommand::EditImage(1_000 + k % 6));
        h.state_mut().queue(AppCommand::EditImage(1_000 + k % 6));
        h.step();
    }
    let errors = h.state().errors();
    assert!(!errors.is_empty());
    assert!(errors.len() <= MAX_NOTES, "{} banners", errors.len());
    for (k, a) in errors.iter().enumerate() {
        assert!(
            errors[k + 1..].iter().all(|b| b != a),
            "banner shown twice: {a:?}"
        );
    }
}

/// The "Restore all defaults" tooltip names the default N.
#[test]
fn the_defaults_tooltip_names_the_default_n() {
    let mut h = small_app();
    h.step();
    // The button sits at the foot of the side panel: scroll it into view first.
    h.get_by_label("Restore all defaults").scroll_to_me();
    h.run_steps(3);
    h.get_by_label("Restore all defaults").hover();
    // Tooltips wait for the pointer to rest (half a second of frames).
    for _ in 0..60 {
        h.step();
    }
    let n = crate::gui::settings::Settings::default().data.n;
    assert_eq!(n, 10_000);
    assert!(
        h.query_by_label_contains("on N = 10,000").is_some(),
        "the tooltip does not say N = 10,000"
    );
}

/// "Keep this chain" after a long run puts every restart setting back, painted masks too,
/// and the chain goes on.
#[test]
fn keep_this_chain_reverts_painted_masks_too() {
    let mut h = small_app();
    step_until(&mut h, "the first chain", |a| {
        a.live().is_some() && !a.is_building()
    });
    let chain = generation(h.state());
    let before = h.state().settings().clone();
    let d = h.state().live().unwrap().mask(0).unwrap().len();
    let settings = h.state_mut().settings_mut();
    settings.painted.set(3, &vec![true; d]);
    settings.data.noise_std += 1.0;
    h.state_mut().queue(AppCommand::KeepChain);
    h.step();
    step_for(&mut h, Duration::from_millis(600));
    assert_eq!(h.state().settings(), &before);
    assert_eq!(generation(h.state()), chain, "the chain was rebuilt");
}

/// A file dropped onto the window, as the windowing backend hands it to egui.
#[derive(Debug)]
struct Dropped(std::path::PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &std::path::Path {
        &self.0
    }

    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

fn dropped(path: std::path::PathBuf) -> std::sync::Arc<dyn egui::DroppedFile + Send + Sync> {
    std::sync::Arc::new(Dropped(path))
}

/// Files dropped onto the window open as a user expects: a data folder becomes the source,
/// a session reopens.
#[test]
fn dropped_files_open() {
    let mut h = small_app();
    step_until(&mut h, "the first chain", |a| {
        a.live().is_some() && !a.is_building()
    });
    let dir = tempfile::tempdir().unwrap();
    let session = h.state().current_session().unwrap();
    let path = dir.path().join("dropped.gibbsfa");
    session.save(&path).unwrap();
    let chain = generation(h.state());
    h.input_mut().dropped_files.push(dropped(path));
    h.step();
    assert!(
        h.state().is_building(),
        "the dropped session is being opened"
    );
    step_until(&mut h, "the dropped session", |a| {
        !a.is_building() && a.live().is_some_and(|l| l.restored().is_some())
    });
    assert_ne!(generation(h.state()), chain);
    assert!(h.state().errors().is_empty(), "{:?}", h.state().errors());

    let folder = dir.path().join("pngs");
    std::fs::create_dir(&folder).unwrap();
    h.input_mut().dropped_files.push(dropped(folder.clone()));
    h.step();
    assert_eq!(
        h.state().settings().data.source,
        SourceChoice::Path(folder),
        "the dropped folder is the data source"
    );
}

/// A painted mask changes the running chain's experiment in place (no copy of the data),
/// and the column-mean baseline follows it exactly.
#[test]
fn applying_a_painted_mask_changes_only_that_image_in_place() {
    let mut h = small_app();
    step_until(&mut h, "the first chain", |a| {
        a.live().is_some() && !a.is_building()
    });
    let live = h.state().live().unwrap();
    let before = std::sync::Arc::as_ptr(live.experiment());
    let masks_before = live.experiment().mask.clone();
    let d = live.mask(0).unwrap().len();
    let painted: Vec<bool> = (0..d).map(|j| j % 3 == 0).collect();
    h.state_mut().queue(AppCommand::ApplyMask {
        image: 5,
        missing: painted.clone(),
    });
    h.step();
    let live = h.state().live().unwrap();
    assert_eq!(std::sync::Arc::as_ptr(live.experiment()), before, "copied");
    assert_eq!(live.mask(5), Some(painted.as_slice()));
    let after = &live.experiment().mask;
    for i in (0..after.n).filter(|&i| i != 5) {
        assert_eq!(after.image(i), masks_before.image(i), "image {i} changed");
    }
    // The baseline equals one computed from scratch on the new masks.
    let fresh = LiveState::new(
        std::sync::Arc::new((**live.experiment()).clone()),
        &h.state().chain_settings().unwrap().model,
    );
    let (got, want) = (
        live.baseline_rmse().unwrap(),
        fresh.baseline_rmse().unwrap(),
    );
    assert!((got - want).abs() <= 1e-9 * want, "{got} vs {want}");
    assert!((live.missing_fraction() - fresh.missing_fraction()).abs() < 1e-12);
    assert!(h.state().errors().is_empty(), "{:?}", h.state().errors());
}

/// Cancelling a restart keeps the running chain and puts the settings back, also when the
/// build has finished in the background by the time the cancel is applied (a cancel queued
/// while the app showed the build wins over its result).
#[test]
fn cancelling_a_build_keeps_the_chain() {
    for wait in [Duration::ZERO, Duration::from_millis(400)] {
        let mut h = small_app();
        step_until(&mut h, "the first chain", |a| {
            a.live().is_some() && !a.is_building()
        });
        let chain = generation(h.state());
        let before = h.state().settings().clone();
        h.state_mut().settings_mut().data.n = 180;
        step_until(&mut h, "the restart", |a| a.is_building());
        // (A build of 180 images takes a few ms: after the wait it has finished, unpolled.)
        std::thread::sleep(wait);
        h.state_mut().queue(AppCommand::CancelBuild);
        h.step();
        assert!(!h.state().is_building(), "waited {wait:?}");
        step_for(&mut h, Duration::from_millis(600));
        assert!(!h.state().is_building(), "the cancelled build came back");
        assert_eq!(generation(h.state()), chain, "waited {wait:?}");
        assert_eq!(h.state().settings(), &before);
        assert!(h.state().errors().is_empty(), "{:?}", h.state().errors());
    }
}

/// An N edited while a chain is being built is the user's newer wish: the finished build does
/// not overwrite it, and the next restart builds it.
#[test]
fn an_n_edited_during_a_build_is_kept() {
    let mut h = small_app();
    step_until(&mut h, "the first chain", |a| {
        a.live().is_some() && !a.is_building()
    });
    h.state_mut().settings_mut().data.n = 180;
    step_until(&mut h, "the restart", |a| a.is_building());
    h.state_mut().settings_mut().data.n = 120;
    step_until(&mut h, "the chain at N = 120", |a| {
        a.live().is_some_and(|l| l.n_images() == 120) && !a.is_building()
    });
    assert_eq!(h.state().settings().data.n, 120);
    assert!(h.state().errors().is_empty(), "{:?}", h.state().errors());
}

/// The status bar counts numerical fallbacks: zero for a healthy run, named when the
/// sampler had to bend (a decaying prior whose column precisions leave the allowed range).
#[test]
fn the_status_bar_reports_numerical_fallbacks() {
    let mut h = small_app();
    step_until(&mut h, "the first chain", |a| {
        a.live().is_some() && !a.is_building()
    });
    click(&mut h, "Start");
    step_until(&mut h, "sweeps", |a| iteration(a) >= 3);
    h.step();
    assert!(h.query_by_label("numerical fallbacks: 0").is_some());

    let mut bent = synthetic_app(200, 8, 100_000, 10, |app| {
        app.settings_mut().model.prior = crate::model::Prior::Decaying {
            tau0: 1.0,
            rho: 0.01,
        };
    });
    step_until(&mut bent, "the first chain", |a| {
        a.live().is_some() && !a.is_building()
    });
    click(&mut bent, "Start");
    step_until(&mut bent, "sweeps", |a| iteration(a) >= 3);
    bent.step();
    assert!(bent.query_by_label("numerical fallbacks: 0").is_none());
    assert!(
        bent.query_by_label_contains("prior precisions clamped")
            .is_some(),
        "the clamped prior precisions are not reported"
    );
}
