//! The K chains of the diagnostics follow the run (issue 9): a live change of a
//! hyperparameter and a painted mask reach them, restart their diagnostics at the sweep they
//! applied it (nothing from before is shown after), and Extend lengthens every chain. Chain 1
//! is the view sampler itself: the chains' thread sweeps only chains 2..K.

use std::time::Duration;

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

use super::support::{step_until_within, synthetic_app};
use crate::gui::app::GibbsApp;
use crate::gui::command::AppCommand;
use crate::gui::controls::RunAction;
use crate::gui::views::ViewTab;
use crate::sampler::RunState;

const PATIENCE: Duration = Duration::from_secs(90);

/// Steps frames until `done` holds, for at most [`PATIENCE`].
fn step_until(h: &mut Harness<'_, GibbsApp>, what: &str, done: impl Fn(&GibbsApp) -> bool) {
    step_until_within(h, PATIENCE, what, done);
}

/// Sweeps reported by each of the K chains.
fn sweeps(app: &GibbsApp) -> Vec<usize> {
    app.chains_live().map_or_else(Vec::new, |c| {
        (0..c.chains()).map(|i| c.iteration(i)).collect()
    })
}

/// Missing entries of the view sampler's experiment (where painted masks are laid).
fn view_missing(app: &GibbsApp) -> usize {
    app.live().map_or(0, |l| {
        l.experiment()
            .problem
            .missing
            .iter()
            .filter(|&&m| m)
            .count()
    })
}

#[test]
fn the_k_chains_follow_a_live_setting_and_a_painted_mask() {
    let mut h = synthetic_app(120, 4, 100_000, 10, |app| {
        app.settings_mut().chains = 3;
        app.set_tab(ViewTab::Diagnostics);
    });
    step_until(&mut h, "the first chains", |a| {
        a.chains_live().is_some_and(|c| !c.names().is_empty()) && !a.is_building()
    });
    h.get_by_role_and_label(Role::Button, "Start").click();
    step_until(&mut h, "diagnostics after 20 sweeps", |a| {
        sweeps(a).iter().all(|&s| s >= 20)
            && a.chains_live()
                .and_then(|c| c.diagnostics())
                .is_some_and(|d| d.draws_per_chain >= 5)
    });
    assert_eq!(h.state().chains_live().unwrap().since(), 0);

    // A live change of kappa0: the view sampler goes on, and so do the K chains, now with
    // the new kappa0; the old report is gone at once.
    h.get_by_role_and_label(Role::Slider, "kappa0")
        .set_value_accesskit(0.5);
    h.step();
    let live = h.state().chains_live().unwrap();
    assert!(
        live.diagnostics().is_none(),
        "the old report is still shown"
    );
    // Chains 2..K (chain 1 is the view sampler, ahead of them) apply it at their next round.
    let before = *sweeps(h.state())[1..].iter().min().unwrap();
    step_until(&mut h, "the chains to apply kappa0", |a| {
        a.chains_live()
            .is_some_and(|c| c.since() > 0 && !c.restart_pending())
    });
    let view = h.state().chain_settings().unwrap().model.clone();
    assert!((view.hyper.kappa0 - 0.5).abs() < 1e-12);
    let chains = h.state().chains_live().unwrap();
    assert_eq!(chains.settings().hyper, view.hyper);
    assert_eq!(chains.settings().prior, view.prior);
    assert_eq!(chains.settings().schedule, view.schedule);
    assert_eq!(
        (chains.settings().sweeps, chains.settings().burn_in),
        (view.sweeps, view.burn_in)
    );
    let since = chains.since();
    assert!(since >= before, "restarted at {since}, before {before}");
    h.step();
    h.get_by_label_contains(&format!("Restarted at sweep {since}"));
    // New diagnostics count from the change only.
    step_until(&mut h, "diagnostics after the change", |a| {
        a.chains_live()
            .and_then(|c| c.diagnostics())
            .is_some_and(|d| d.draws_per_chain >= 5)
    });
    let chains = h.state().chains_live().unwrap();
    let d = chains.diagnostics().unwrap();
    assert_eq!(d.since, since);
    // Each chain's own restart: chains 2..K at `since`, chain 1 (the view sampler, ahead of
    // them) at a sweep of its own, no earlier.
    assert_eq!(d.restarts.len(), 3, "{:?}", d.restarts);
    assert!(
        d.restarts[1..].iter().all(|&r| r == since),
        "{:?}",
        d.restarts
    );
    assert!(d.restarts[0] >= since, "{:?}", d.restarts);
    let least = (0..3).map(|c| chains.iteration(c)).min().unwrap();
    assert!(d.draws_per_chain <= least - since - 10, "{d:?}");

    // A painted mask: the chains' masks become the view sampler's.
    let d_pixels = h.state().live().unwrap().experiment().problem.d;
    let missing: Vec<bool> = (0..d_pixels).map(|j| j < d_pixels / 2).collect();
    h.state_mut()
        .queue(AppCommand::ApplyMask { image: 0, missing });
    h.step();
    step_until(&mut h, "the chains to take the painted mask", |a| {
        a.chains_live()
            .is_some_and(|c| c.since() > since && !c.restart_pending())
    });
    let chains = h.state().chains_live().unwrap();
    assert_eq!(chains.missing(), Some(view_missing(h.state())));
    assert!(h.state().errors().is_empty(), "{:?}", h.state().errors());
}

#[test]
fn extend_lengthens_every_chain() {
    let mut h = synthetic_app(80, 3, 30, 10, |app| {
        app.settings_mut().chains = 3;
        app.set_tab(ViewTab::Traces);
    });
    step_until(&mut h, "the first chains", |a| {
        a.chains_live().is_some_and(|c| !c.names().is_empty()) && !a.is_building()
    });
    h.get_by_role_and_label(Role::Button, "Start").click();
    step_until(&mut h, "the end of the run", |a| {
        sweeps(a) == [30, 30, 30]
            && a.chains_live().and_then(|c| c.state()) == Some(RunState::Finished)
            && a.handle_state() == Some(RunState::Finished)
    });
    let ctx = h.ctx.clone();
    h.state_mut().press(&ctx, RunAction::Extend);
    let planned = h.state().chain_settings().unwrap().model.sweeps;
    assert!(planned > 30);
    step_until(&mut h, "every chain at the new length", |a| {
        sweeps(a).iter().all(|&s| s == planned)
            && a.chains_live().and_then(|c| c.state()) == Some(RunState::Finished)
            && a.chains_live()
                .and_then(|c| c.diagnostics())
                .is_some_and(|d| d.draws_per_chain == planned - 10)
    });
    let chains = h.state().chains_live().unwrap();
    assert_eq!(chains.planned_sweeps(), planned);
    // The per-pixel halves were re-planned for the longer run, and are complete.
    assert!(chains.diagnostics().unwrap().pixel_split);
}

#[test]
fn chain_one_is_the_view_sampler_and_is_not_computed_twice() {
    let mut h = synthetic_app(100, 3, 100_000, 10, |app| {
        app.settings_mut().chains = 4;
        app.set_tab(ViewTab::Traces);
    });
    step_until(&mut h, "the first chains", |a| {
        a.chains_live().is_some_and(|c| !c.names().is_empty()) && !a.is_building()
    });
    // Three samplers on the chains' thread, four chains diagnosed.
    assert_eq!(h.state().chains_swept(), Some(3));
    assert_eq!(h.state().chains_live().unwrap().chains(), 4);
    assert_eq!(h.state().chains_live().unwrap().seeds().len(), 4);
    h.get_by_role_and_label(Role::Button, "Start").click();
    step_until(&mut h, "diagnostics of 4 chains", |a| {
        sweeps(a).iter().all(|&s| s >= 25)
            && a.chains_live()
                .and_then(|c| c.diagnostics())
                .is_some_and(|d| d.chains == 4 && d.draws_per_chain >= 10)
    });
    let ctx = h.ctx.clone();
    h.state_mut().press(&ctx, RunAction::Pause);
    step_until(&mut h, "the pause", |a| {
        a.handle_state() == Some(RunState::Paused)
            && a.chains_live().and_then(|c| c.state()) == Some(RunState::Paused)
            && a.live().is_some_and(|l| sweeps(a)[0] == l.iteration())
    });
    // Chain 1 of the diagnostics is the view sampler's own draws, bit for bit.
    let app = h.state();
    let (chains, live) = (app.chains_live().unwrap(), app.live().unwrap());
    let traces = live.traces();
    for (name, trace) in [
        ("log_joint", &traces.log_joint),
        ("rmse_sample", &traces.rmse_sample),
    ] {
        let q = chains.index_of(name).unwrap();
        let fed = chains.points(0, q);
        assert_eq!(fed.len(), trace.len(), "{name}");
        for (a, b) in fed.iter().zip(trace.iter()) {
            assert_eq!((a.x, a.y.to_bits()), (b.x, b.y.to_bits()), "{name}");
        }
    }
    let d = chains.diagnostics().unwrap();
    assert_eq!(d.chains, 4);
    assert!(
        d.scalars.iter().all(|(_, s)| s.is_some()),
        "{:?}",
        d.scalars
    );
}

/// Two changes applied by paused chains at the same sweep: the reports after the second are
/// shown again (none made before it is), and a longer run does not drop the report on screen.
#[test]
fn reports_come_back_after_changes_applied_at_the_same_sweep() {
    use crate::chains::{ChainsEvent, ChainsOptions, MultiChain};
    use crate::gui::chains_live::ChainsLive;
    use crate::model::{Problem, SamplerSettings};

    let (n, d) = (40, 12);
    let x: Vec<f32> = (0..n * d).map(|k| ((k * 37) % 101) as f32).collect();
    let problem = Problem {
        n,
        d,
        x_observed: x.clone(),
        missing: (0..n * d).map(|k| k % 9 == 0).collect(),
        x_true: Some(x),
    };
    let mut settings = SamplerSettings {
        sweeps: 30,
        burn_in: 4,
        ..SamplerSettings::default()
    };
    settings.hyper.m = 2;
    let options = ChainsOptions {
        chains: 2,
        ..Default::default()
    };
    let mut mc = MultiChain::new(&problem, &settings, &options).unwrap();
    for _ in 0..12 {
        mc.round();
    }
    let report = || ChainsEvent::Diagnostics(Box::new(mc.diagnostics().unwrap()));
    let followed = |since, restarted| ChainsEvent::Followed {
        since,
        restarted,
        settings: Box::new(settings.clone()),
        missing: 0,
    };
    let mut live = ChainsLive::new(2, &settings);
    live.apply(report());
    assert!(live.diagnostics().is_some());
    // Two changes sent; a report made before the chains applied them is not shown.
    live.expect_change(true);
    live.expect_change(true);
    assert!(live.diagnostics().is_none());
    live.apply(report());
    live.apply(followed(12, true));
    live.apply(report());
    assert!(
        live.diagnostics().is_none(),
        "a report from between the changes"
    );
    live.apply(followed(12, true));
    assert_eq!(live.since(), 12);
    live.apply(report());
    assert!(live.diagnostics().is_some(), "no report after both changes");
    // A longer run keeps the report on screen.
    live.expect_change(false);
    assert!(live.diagnostics().is_some());
    live.apply(followed(12, false));
    assert!(!live.restart_pending());
    assert_eq!(live.since(), 12);
}
