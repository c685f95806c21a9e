//! Several chains in the real app, headless (egui_kittest), on small synthetic problems: the
//! chain count is a restart setting that "Keep this chain" reverts; with K = 3 every chain
//! sweeps, the run controls drive all of them, the Diagnostics tab shows a table of finite
//! numbers and the Traces tab overlays the chains; with K = 1 the Diagnostics tab says why it
//! is empty.

use std::time::Duration;

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

use super::support::{step_for, step_until_within, synthetic_app};
use crate::gui::app::GibbsApp;
use crate::gui::command::AppCommand;
use crate::gui::views::{NEEDS_CHAINS, THRESHOLDS, ViewTab};
use crate::sampler::RunState;

const PATIENCE: Duration = Duration::from_secs(90);

/// Steps frames until `done` holds, for at most [`PATIENCE`].
fn step_until(h: &mut Harness<'_, GibbsApp>, what: &str, done: impl Fn(&GibbsApp) -> bool) {
    step_until_within(h, PATIENCE, what, done);
}

/// Sweeps reported by each of the K chains (empty without them).
fn sweeps(app: &GibbsApp) -> Vec<usize> {
    app.chains_live().map_or_else(Vec::new, |c| {
        (0..c.chains()).map(|i| c.iteration(i)).collect()
    })
}

fn click(h: &mut Harness<'_, GibbsApp>, label: &str) {
    h.get_by_role_and_label(Role::Button, label).click();
    h.step();
}

/// K = 3 on 120 synthetic digits, M = 4, a long run with a burn-in of 20 sweeps.
fn three_chains(tab: ViewTab) -> Harness<'static, GibbsApp> {
    synthetic_app(120, 4, 100_000, 20, move |app| {
        app.settings_mut().chains = 3;
        app.set_tab(tab);
    })
}

#[test]
fn chain_count_is_a_restart_setting_and_keep_this_chain_reverts_it() {
    let mut h = three_chains(ViewTab::Traces);
    step_until(&mut h, "the first chains", |a| {
        a.chains_live().is_some_and(|c| c.chains() == 3) && !a.is_building()
    });
    let slider = h.get_by_role_and_label(Role::Slider, "Chains K");
    slider.set_value_accesskit(5.0);
    h.step();
    assert_eq!(h.state().settings().chains, 5);
    h.get_by_label_contains("number of chains");
    // "Keep this chain" puts it back, before the debounce rebuilds.
    h.state_mut().queue(AppCommand::KeepChain);
    h.step();
    assert_eq!(h.state().settings().chains, 3);
    step_for(&mut h, Duration::from_millis(600));
    assert!(h.query_by_label_contains("number of chains").is_none());
    assert_eq!(h.state().chains_live().map(|c| c.chains()), Some(3));

    // A change that is kept rebuilds with the new count, and K = 1 runs no extra chains.
    h.get_by_role_and_label(Role::Slider, "Chains K")
        .set_value_accesskit(2.0);
    h.step();
    step_until(&mut h, "two chains", |a| {
        a.chains_live().is_some_and(|c| c.chains() == 2) && !a.is_building()
    });
    assert_eq!(h.state().chain_settings().map(|s| s.chains), Some(2));
    h.get_by_role_and_label(Role::Slider, "Chains K")
        .set_value_accesskit(1.0);
    h.step();
    step_until(&mut h, "one chain", |a| {
        a.chain_settings().is_some_and(|s| s.chains == 1) && !a.is_building()
    });
    assert!(h.state().chains_live().is_none());
}

#[test]
fn three_chains_sweep_pause_step_and_show_diagnostics() {
    let mut h = three_chains(ViewTab::Diagnostics);
    step_until(&mut h, "the first chains", |a| {
        a.chains_live()
            .is_some_and(|c| c.chains() == 3 && !c.names().is_empty())
    });
    assert_eq!(sweeps(h.state()), [0, 0, 0], "the chains wait for Start");
    h.get_by_label_contains("No diagnostics yet");

    click(&mut h, "Start");
    step_until(&mut h, "60 sweeps of every chain and diagnostics", |a| {
        sweeps(a).iter().all(|&s| s >= 60)
            && a.chains_live()
                .and_then(|c| c.diagnostics())
                .is_some_and(|d| d.draws_per_chain >= 30)
    });

    // The table: finite numbers for the log joint and the RMSE, the thresholds explained.
    step_for(&mut h, Duration::from_millis(100));
    h.get_by_label(THRESHOLDS);
    h.get_by_label("log_joint");
    h.get_by_label("rmse_sample");
    let d = h
        .state()
        .chains_live()
        .and_then(|c| c.diagnostics())
        .cloned()
        .unwrap();
    assert_eq!(d.chains, 3);
    for name in ["log_joint", "rmse_sample"] {
        let s = d
            .scalars
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, s)| *s)
            .unwrap_or_else(|| panic!("no diagnostics of {name}"));
        for v in [s.rhat, s.ess_bulk, s.ess_tail, s.mcse_mean] {
            assert!(v.is_some_and(f64::is_finite), "{name}: {s:?}");
        }
        let rhat = format!("{:.3}", s.rhat.unwrap());
        assert!(
            h.query_all_by_label(&rhat).next().is_some(),
            "R-hat {rhat} of {name} not on screen"
        );
    }
    h.get_by_label("Per-pixel R-hat");
    // Where the chains disagree: the per-pixel R-hat as images (a title and the image
    // itself), one per watched digit too.
    let digits: Vec<usize> = h
        .state()
        .chains_live()
        .unwrap()
        .diagnostics()
        .unwrap()
        .images
        .digits
        .iter()
        .map(|(n, _)| *n)
        .collect();
    assert!(!digits.is_empty(), "no watched digit");
    let titles = [
        "R-hat of sigma_d^2".to_string(),
        "R-hat of mu_d".to_string(),
    ]
    .into_iter()
    .chain(
        digits
            .iter()
            .map(|n| format!("R-hat of digit #{n}'s missing pixels")),
    );
    for title in titles {
        assert_eq!(h.query_all_by_label(&title).count(), 2, "{title}");
    }
    h.get_by_label_contains("classic (not rank-normalised)");
    step_until(&mut h, "the rank and autocorrelation plots", |a| {
        a.chains_live()
            .and_then(|c| c.plots())
            .is_some_and(|p| p.quantities.len() == 2 && p.quantities[0].ranks.len() == 3)
    });
    h.step();
    h.get_by_label_contains("log_joint: rank plot and autocorrelation");
    h.get_by_label_contains("Rotation: W[");
    // In a window as small as projector mode's (853 x 480 points) the tables scroll sideways
    // rather than widening the page: the text below them wraps inside the window (a table
    // wider than the view once pushed the plots and their captions off the right edge).
    h.set_size(egui::vec2(853.0, 480.0));
    h.step();
    h.step();
    for caption in h.query_all_by_label_contains("Rank plot: every draw") {
        let rect = caption.rect();
        assert!(rect.right() <= 853.0, "a caption at {rect:?}");
    }
    let rotation = h
        .get_by_label_contains("Factors are identified only up to")
        .rect();
    assert!(
        rotation.right() <= 853.0,
        "the rotation text at {rotation:?}"
    );
    h.set_size(egui::vec2(1400.0, 900.0));
    h.step();
    // The status bar judges agreement once enough draws are in.
    let verdicts = h
        .query_all_by_label_contains("3 chains agree (R-hat < 1.01)")
        .count()
        + h.query_all_by_label_contains("3 chains do not agree yet")
            .count();
    assert_eq!(verdicts, 1, "the status bar does not judge the chains");
    // The verdict opens the Diagnostics tab, where it is explained.
    h.get_by_label("Traces").click();
    h.step();
    assert!(
        h.query_by_label_contains("classic (not rank-normalised)")
            .is_none()
    );
    let verdict = ["3 chains agree (R-hat < 1.01)", "3 chains do not agree yet"]
        .into_iter()
        .find(|v| h.query_by_label_contains(v).is_some())
        .expect("the verdict stays in the status bar");
    h.get_by_label_contains(verdict).click();
    h.step();
    h.step();
    h.get_by_label_contains("classic (not rank-normalised)");

    // Pause pauses every chain.
    click(&mut h, "Pause");
    step_until(&mut h, "the chains' pause", |a| {
        a.chains_live().and_then(|c| c.state()) == Some(RunState::Paused)
            && a.handle_state() == Some(RunState::Paused)
    });
    step_for(&mut h, Duration::from_millis(200));
    // Chain 1 is the view sampler (ahead of the others, which share the cores); chains 2
    // and 3 sweep in rounds together.
    let paused = sweeps(h.state());
    assert_eq!(paused[1], paused[2], "{paused:?}");
    assert_eq!(Some(paused[0]), h.state().live().map(|l| l.iteration()));
    step_for(&mut h, Duration::from_millis(400));
    assert_eq!(sweeps(h.state()), paused, "chains swept while paused");

    // Step: one more sweep of every chain.
    let stepped: Vec<usize> = paused.iter().map(|s| s + 1).collect();
    click(&mut h, "Step");
    step_until(&mut h, "one step of every chain", |a| sweeps(a) == stepped);
    step_for(&mut h, Duration::from_millis(300));
    assert_eq!(sweeps(h.state()), stepped);

    // The Traces tab overlays the three chains, with a key of their colours, one entry each.
    h.state_mut().set_tab(ViewTab::Traces);
    h.step();
    h.get_by_label_contains("3 chains (paused)");
    h.get_by_label("chain 3");
    assert!(h.query_by_label("chain 4").is_none());
    h.check_accessibility();
}

#[test]
fn one_chain_explains_that_diagnostics_need_two() {
    let mut h = synthetic_app(100, 3, 1000, 10, |app| app.set_tab(ViewTab::Diagnostics));
    step_until(&mut h, "the chain", |a| {
        a.live().is_some() && !a.is_building()
    });
    h.step();
    assert!(h.state().chains_live().is_none());
    h.get_by_label(NEEDS_CHAINS);
    assert_eq!(h.state().settings().chains, 1);
    // The app's own default is 4.
    assert_eq!(crate::gui::settings::Settings::default().chains, 4);
}
