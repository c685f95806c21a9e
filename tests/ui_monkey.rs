//! A seeded monkey drives the real app (headless, egui_kittest) through random actions: run
//! controls, live sliders, M, N and mask changes, painted masks applied to the running chain,
//! images opened in the editor, restarts confirmed, kept or cancelled. After every action no
//! banner may appear that the action did not earn (none of these actions is wrong), nothing
//! may panic, and at the end, with the app dropped, the process is back to the threads it had
//! before: no sampler, job or build thread leaks.
//!
//! Its own test binary, so the thread count is this test's alone. `UI_MONKEY_ACTIONS` sets
//! the number of actions (default 2,000).

#![cfg(feature = "gui")]

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use gibbs_fa::gui::{AppCommand, AppOptions, GibbsApp, RunAction, SourceChoice};
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};

/// Threads of this process now (Linux: /proc/self/status).
fn threads() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("a Threads: line")
}

fn app(n: usize, m: usize) -> Harness<'static, GibbsApp> {
    Harness::builder()
        .with_size([1400.0, 900.0])
        .build_eframe(move |cc| {
            let mut app = GibbsApp::new(
                cc,
                AppOptions {
                    fresh: true,
                    n: Some(n),
                    m: Some(m),
                    ..AppOptions::default()
                },
            );
            let settings = app.settings_mut();
            settings.data.source = SourceChoice::Synthetic;
            settings.model.sweeps = 400;
            settings.model.burn_in = 20;
            app
        })
}

/// Steps frames until `done` holds (with a generous deadline: the machine is small).
fn until(h: &mut Harness<'_, GibbsApp>, what: &str, done: impl Fn(&GibbsApp) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !done(h.state()) {
        if Instant::now() >= deadline {
            let app = h.state();
            panic!(
                "timed out waiting for {what}: settings N {}, chain N {:?}, building {}, \
                 errors {:?}",
                app.settings().data.n,
                app.live().map(|l| l.n_images()),
                app.is_building(),
                app.errors()
            );
        }
        h.step();
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// The names of this process's threads, sorted (for a message).
fn thread_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir("/proc/self/task")
        .map(|dir| {
            dir.filter_map(|e| e.ok())
                .filter_map(|e| std::fs::read_to_string(e.path().join("comm")).ok())
                .map(|n| n.trim().to_string())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Waits until the process has at most `limit` threads (threads being retired finish their
/// sweep first), or a minute; returns the count then.
fn threads_settle_to(limit: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let now = threads();
        if now <= limit || Instant::now() >= deadline {
            return now;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The thread count once it has not changed for a second (at most half a minute).
fn settled_threads() -> usize {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut last = threads();
    let mut since = Instant::now();
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        let now = threads();
        if now != last {
            last = now;
            since = Instant::now();
        } else if since.elapsed() >= Duration::from_secs(1) {
            break;
        }
    }
    last
}

#[test]
fn a_monkey_cannot_break_the_app() {
    let actions: usize = std::env::var("UI_MONKEY_ACTIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    // Warm-up: one app built, run and dropped starts the pools that live as long as the
    // process (the janitor, rayon's and the GEMM threads, which start lazily and only for
    // products big enough: so at the monkey's largest N and M); the baseline counts them.
    {
        let mut h = app(199, 6);
        until(&mut h, "the warm-up chain", |a| {
            a.live().is_some() && !a.is_building()
        });
        h.state_mut().queue(AppCommand::Run(RunAction::Start));
        until(&mut h, "warm-up sweeps", |a| {
            a.live().is_some_and(|l| l.iteration() >= 3)
        });
    }
    let baseline = settled_threads();
    let baseline_names = thread_names();

    let mut rng = SmallRng::seed_from_u64(2026);
    let mut h = app(150, 4);
    until(&mut h, "the first chain", |a| {
        a.live().is_some() && !a.is_building()
    });
    let d = 28 * 28;
    for k in 0..actions {
        let what = match rng.random_range(0..16u32) {
            0 => {
                h.state_mut().queue(AppCommand::Run(RunAction::Start));
                "start"
            }
            1 => {
                h.state_mut().queue(AppCommand::Run(RunAction::Pause));
                "pause"
            }
            2 => {
                h.state_mut().queue(AppCommand::Run(RunAction::Step));
                "step"
            }
            3 => {
                h.state_mut().queue(AppCommand::Run(RunAction::Reset));
                "reset"
            }
            4 => {
                h.state_mut().queue(AppCommand::Run(RunAction::Stop));
                "stop"
            }
            5 => {
                h.state_mut().queue(AppCommand::Run(RunAction::Extend));
                "extend"
            }
            6 => {
                h.state_mut().settings_mut().model.hyper.kappa0 =
                    10f64.powf(rng.random_range(-3.0..1.0));
                "kappa0"
            }
            7 => {
                h.state_mut().settings_mut().model.hyper.m = rng.random_range(1..7);
                "M"
            }
            8 => {
                h.state_mut().settings_mut().data.n = rng.random_range(100..200);
                "N"
            }
            9 => {
                h.state_mut().settings_mut().masks.seed = rng.random_range(0..1_000);
                "mask seed"
            }
            10 | 11 => {
                let image = rng.random_range(0..100);
                let p = rng.random_range(0.0..0.6);
                let missing: Vec<bool> = (0..d).map(|_| rng.random_bool(p)).collect();
                h.state_mut()
                    .queue(AppCommand::ApplyMask { image, missing });
                "apply a painted mask"
            }
            12 => {
                h.state_mut()
                    .queue(AppCommand::EditImage(rng.random_range(0..100)));
                "open the editor"
            }
            13 => {
                h.state_mut().queue(AppCommand::ConfirmRestart);
                "restart now"
            }
            14 => {
                h.state_mut().queue(AppCommand::KeepChain);
                "keep this chain"
            }
            _ => {
                h.state_mut().queue(AppCommand::CancelBuild);
                "cancel a build"
            }
        };
        for _ in 0..rng.random_range(1..4) {
            h.step();
        }
        let errors = h.state().errors();
        assert!(
            errors.is_empty(),
            "action {k} ({what}) earned no banner, but: {errors:?}"
        );
    }
    // The app still works: a last restart builds and samples.
    h.state_mut().settings_mut().data.n = 120;
    h.state_mut().queue(AppCommand::ConfirmRestart);
    until(&mut h, "the last chain", |a| {
        a.live().is_some_and(|l| l.n_images() == 120) && !a.is_building()
    });
    h.state_mut().queue(AppCommand::Run(RunAction::Start));
    until(&mut h, "sweeps on the last chain", |a| {
        a.live().is_some_and(|l| l.iteration() >= 2)
    });
    assert!(h.state().errors().is_empty(), "{:?}", h.state().errors());
    drop(h);
    let after = threads_settle_to(baseline);
    assert_eq!(
        after,
        baseline,
        "threads before the monkey {baseline} {baseline_names:?}, after it and the app are \
         gone {after} {:?}",
        thread_names()
    );
}
