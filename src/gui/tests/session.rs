//! UI tests of reopening a session in the app: the saved traces, summaries, settings and masks
//! come back exactly; Start then samples the same chain again; data that differs, and damaged
//! or foreign files, are refused with an error while the current chain stays.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::sampler::RunState;
use crate::session::{DataRecord, Session};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

use super::support::synthetic_app;
use crate::gui::app::{AppOptions, GibbsApp};
use crate::gui::command::AppCommand;
use crate::gui::controls::RunAction;
use crate::gui::export::{ExportKind, session_traces, std_path_for};
use crate::gui::views::ViewTab;

/// A fresh app on the synthetic digits with N images and M factors, a short run.
fn app(n: usize, m: usize) -> Harness<'static, GibbsApp> {
    synthetic_app(n, m, 20, 5, |_| {})
}

/// Steps the app until `done`, failing after a minute.
fn wait(h: &mut Harness<'_, GibbsApp>, what: &str, done: &dyn Fn(&GibbsApp) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done(h.state()) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Waits until the chain has run its 20 sweeps and sent its final snapshot.
fn wait_finished(h: &mut Harness<'_, GibbsApp>) {
    wait(h, "the run to finish", &|a| {
        a.handle_state() == Some(RunState::Finished)
            && a.live().is_some_and(|l| {
                l.restored().is_none()
                    && l.iteration() == 20
                    && l.snapshot().is_some_and(|s| s.iteration == 20)
            })
    });
}

fn generation(h: &Harness<'_, GibbsApp>) -> Option<u64> {
    h.state().live().map(|l| l.generation())
}

/// Exports the posterior mean and std of every pixel to `path` (and its "-std" sibling)
/// through the export menu's path, and returns both files' bytes.
fn export_pixels(h: &mut Harness<'_, GibbsApp>, path: &Path) -> (Vec<u8>, Vec<u8>) {
    h.state_mut().queue(AppCommand::ExportTo(
        ExportKind::PosteriorSummary,
        path.to_path_buf(),
    ));
    let std_path = std_path_for(path);
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut outcome = None;
    while outcome.is_none() {
        assert!(Instant::now() < deadline, "timed out exporting {path:?}");
        h.step();
        if std_path.exists() {
            let ctx = h.ctx.clone();
            outcome = h.state_mut().export_outcome(&ctx);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(matches!(outcome, Some(Ok(_))), "{outcome:?}");
    (
        std::fs::read(path).unwrap(),
        std::fs::read(&std_path).unwrap(),
    )
}

/// Opens `path` in the app and waits until any rebuild it started has ended.
fn open(h: &mut Harness<'_, GibbsApp>, path: &Path) {
    h.state_mut()
        .queue(AppCommand::OpenSession(path.to_path_buf()));
    h.step();
    wait(h, "the session's build to end", &|a| !a.is_building());
    for _ in 0..5 {
        h.step();
    }
}

#[test]
fn a_reopened_session_shows_exactly_what_was_saved_and_start_retraces_it() {
    let mut h = app(200, 5);
    wait(&mut h, "the first chain", &|a| {
        a.live().is_some() && !a.is_building()
    });
    // A hand-painted mask on image 4, in the chain from its first sweep.
    let d = h
        .state()
        .live()
        .map_or(0, |l| l.image_shape().0 * l.image_shape().1);
    assert!(d > 0);
    let painted: Vec<bool> = (0..d).map(|j| j % 7 < 3).collect();
    h.state_mut().settings_mut().painted.set(4, &painted);
    wait(&mut h, "the chain with the painted mask", &|a| {
        !a.is_building()
            && a.chain_settings().map(|s| &s.painted) == Some(&a.settings().painted)
            && a.live().and_then(|l| l.mask(4)) == Some(painted.as_slice())
    });
    let ctx = h.ctx.clone();
    h.state_mut().press(&ctx, RunAction::Start);
    wait_finished(&mut h);
    let dir = tempfile::tempdir().unwrap();
    // The pixel posterior the sampler sends for the export is saved with the session.
    let exported = export_pixels(&mut h, &dir.path().join("saved-mean"));
    let saved = h.state().current_session().expect("a session of the chain");
    let pixels = saved
        .posterior
        .as_ref()
        .and_then(|p| p.reconstruction.clone())
        .expect("the pixel posterior in the session");
    assert_eq!(saved.traces.log_joint.len(), 20);
    assert!(
        saved
            .posterior
            .as_ref()
            .is_some_and(|p| p.samples_in_moments > 0)
    );
    assert_eq!(saved.masks.image(4), painted.as_slice());
    assert!(saved.data_fingerprint.is_some());
    let path = dir.path().join("run.gibbsfa");
    saved.save(&path).unwrap();

    // A fresh app with other settings reopens it.
    let mut fresh = app(60, 3);
    wait(&mut fresh, "the fresh app's chain", &|a| {
        a.live().is_some() && !a.is_building()
    });
    fresh
        .state_mut()
        .queue(AppCommand::OpenSession(path.to_path_buf()));
    fresh.step();
    wait(&mut fresh, "the restored chain", &|a| {
        !a.is_building() && a.live().is_some_and(|l| l.restored().is_some())
    });
    let restored = fresh.state();
    assert!(restored.errors().is_empty(), "{:?}", restored.errors());
    let live = restored.live().unwrap();
    let from = live.restored().unwrap();
    assert_eq!((from.file_name.as_str(), from.sweep), ("run.gibbsfa", 20));
    // The traces come back bit for bit, one point per sweep from sweep 1.
    assert_eq!(session_traces(live.traces()), saved.traces);
    let sweeps: Vec<f64> = live.traces().log_joint.iter().map(|p| p.x).collect();
    assert_eq!(sweeps, (1..=20).map(f64::from).collect::<Vec<_>>());
    let (snapshot, posterior) = (live.snapshot().unwrap(), saved.posterior.as_ref().unwrap());
    assert_eq!(snapshot.posterior_mu, posterior.posterior_mu);
    assert_eq!(snapshot.posterior_sigmasq, posterior.posterior_sigmasq);
    assert_eq!(snapshot.w, posterior.w);
    // Settings and masks as saved; the whole session saved again equals the file's.
    assert_eq!(
        restored.chain_settings().map(|s| &s.model),
        Some(&saved.settings)
    );
    assert_eq!(restored.settings().data.n, 200);
    assert_eq!(
        restored.settings().painted.images().collect::<Vec<_>>(),
        vec![4]
    );
    for i in 0..saved.masks.n {
        assert_eq!(
            live.mask(i),
            Some(saved.masks.image(i)),
            "mask of image {i}"
        );
    }
    assert_eq!(restored.current_session().as_ref(), Some(&saved));
    // The images on screen are summarised from the saved pixel posterior.
    let first = live.wanted_images();
    assert!(!first.is_empty());
    for index in first {
        let summary = live.image_summary(index).expect("a restored image summary");
        assert_eq!(
            summary.posterior_mean,
            pixels.mean[index * d..(index + 1) * d]
        );
        assert_eq!(
            summary.posterior_std,
            pixels.std[index * d..(index + 1) * d]
        );
    }
    // Exporting it writes exactly the saved pixel posterior, without asking the new chain.
    assert_eq!(
        export_pixels(&mut fresh, &dir.path().join("restored-mean")),
        exported
    );

    // Both views say where what they show comes from.
    for tab in [ViewTab::Traces, ViewTab::MeanVariance] {
        fresh.state_mut().set_tab(tab);
        for _ in 0..3 {
            fresh.step();
        }
        fresh.get_by_label_contains("Restored from session run.gibbsfa, sweep 20");
    }
    fresh.get_by_label_contains("samples after burn-in");

    // Start (not "Resume": nothing of the saved chain's latent state is there to resume)
    // samples a new chain from sweep 0 with the same seed: the saved chain again.
    assert!(fresh.query_by_label("Resume").is_none());
    fresh.get_by_label("Start").click();
    wait_finished(&mut fresh);
    let rerun = session_traces(fresh.state().live().unwrap().traces());
    assert_eq!(rerun.log_joint, saved.traces.log_joint);
    assert_eq!(rerun.rmse_posterior_mean, saved.traces.rmse_posterior_mean);
    assert!(
        fresh
            .query_by_label_contains("Restored from session")
            .is_none()
    );
}

#[test]
fn sessions_that_do_not_fit_are_refused_and_the_chain_stays() {
    let mut h = app(60, 3);
    wait(&mut h, "the first chain", &|a| {
        a.live().is_some() && !a.is_building()
    });
    let good = h.state().current_session().unwrap();
    let before = h.state().settings().clone();
    let chain = generation(&h);
    let dir = tempfile::tempdir().unwrap();

    let refused = |h: &mut Harness<'_, GibbsApp>, name: &str, bytes: Vec<u8>, why: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        open(h, &path);
        let app = h.state();
        let note = app.errors().last().expect("an error banner");
        assert_eq!(note.title, format!("Could not open the session {name}"));
        assert!(note.detail.contains(why), "{name}: {}", note.detail);
        assert_eq!(generation(h), chain, "{name}: the chain was replaced");
        assert_eq!(app.settings(), &before, "{name}: the settings changed");
        assert!(!app.is_building());
    };

    // Other data under the same record: the fingerprint no longer matches. The session also
    // asks for another M, which must not stay in the settings.
    let mut other_data = good.clone();
    other_data.data = match &good.data {
        DataRecord::Synthetic { n, seed } => DataRecord::Synthetic {
            n: *n,
            seed: seed + 1,
        },
        other => panic!("expected synthetic data, got {other:?}"),
    };
    other_data.settings.hyper.m = 2;
    refused(
        &mut h,
        "other-data.gibbsfa",
        other_data.to_bytes().unwrap(),
        "differs from the data the session was saved with",
    );

    // Data that is not there any more.
    let mut missing = good.clone();
    missing.data = DataRecord::Mnist {
        path: dir.path().join("no-such-folder"),
    };
    refused(
        &mut h,
        "missing-data.gibbsfa",
        missing.to_bytes().unwrap(),
        "could not be read",
    );

    // A truncated file and a foreign one.
    let bytes = good.to_bytes().unwrap();
    refused(
        &mut h,
        "truncated.gibbsfa",
        bytes[..bytes.len() / 2].to_vec(),
        "truncated",
    );
    refused(
        &mut h,
        "notes.gibbsfa",
        b"just some notes, not a session".to_vec(),
        "not a gibbs-fa session file",
    );

    // The good file still opens afterwards.
    let path = dir.path().join("good.gibbsfa");
    std::fs::write(&path, &bytes).unwrap();
    open(&mut h, &path);
    let app = h.state();
    assert!(app.live().is_some_and(|l| l.restored().is_some()));
    assert_eq!(app.current_session().as_ref(), Some(&good));
    assert_eq!(Session::from_bytes(&bytes).ok().as_ref(), Some(&good));
}

/// An app started with `--session FILE` reopens it; with a damaged file it says so and builds
/// its own chain.
#[test]
fn a_session_given_at_start_is_reopened_or_refused() {
    let mut h = app(60, 3);
    wait(&mut h, "the first chain", &|a| {
        a.live().is_some() && !a.is_building()
    });
    let ctx = h.ctx.clone();
    h.state_mut().press(&ctx, RunAction::Start);
    wait_finished(&mut h);
    let saved = h.state().current_session().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("start.gibbsfa");
    saved.save(&good).unwrap();
    let bad = dir.path().join("cut.gibbsfa");
    let bytes = std::fs::read(&good).unwrap();
    std::fs::write(&bad, &bytes[..bytes.len() - 3]).unwrap();

    let started = |path: &Path| {
        let path = path.to_path_buf();
        Harness::builder()
            .with_size([1400.0, 900.0])
            .build_eframe(move |cc| {
                GibbsApp::new(
                    cc,
                    AppOptions {
                        fresh: true,
                        n: Some(150),
                        session: Some(path.clone()),
                        ..AppOptions::default()
                    },
                )
            })
    };
    let mut reopened = started(&good);
    wait(&mut reopened, "the session's chain", &|a| {
        !a.is_building() && a.live().is_some()
    });
    let app = reopened.state();
    assert!(app.errors().is_empty(), "{:?}", app.errors());
    assert_eq!(
        app.live().and_then(|l| l.restored()).map(|r| r.sweep),
        Some(20)
    );
    assert_eq!(app.current_session().as_ref(), Some(&saved));

    let mut refused = started(&bad);
    wait(&mut refused, "a chain of the app's own settings", &|a| {
        !a.is_building() && a.live().is_some()
    });
    let app = refused.state();
    assert!(
        app.errors()
            .iter()
            .any(|e| e.title == "Could not open the session cut.gibbsfa"
                && e.detail.contains("truncated")),
        "{:?}",
        app.errors()
    );
    assert!(app.live().is_some_and(|l| l.restored().is_none()));
    // The app's own settings, not the session's N = 60.
    assert_eq!(app.settings().data.n, 150);
}
