//! The background sampler handle: events, pause/step/resume, settings changes, stopping, and a
//! worker that never waits for its reader. Small problems, so sweeps take microseconds.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use gibbs_fa::model::{Hyperparameters, Problem, SamplerSettings};
use gibbs_fa::sampler::{Command, Event, HandleOptions, RunState, SamplerHandle, SpawnError};

/// N x D data with a few missing entries (a deterministic pattern, values from a tiny LCG).
fn problem(n: usize, d: usize) -> Problem {
    let mut state = 12345u64;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 33) % 1000) as f32 / 10.0
    };
    let x: Vec<f32> = (0..n * d).map(|_| next()).collect();
    let missing: Vec<bool> = (0..n * d).map(|k| k % 7 == 3).collect();
    Problem {
        n,
        d,
        x_observed: x.clone(),
        missing,
        x_true: Some(x),
    }
}

fn settings(m: usize, sweeps: usize, burn_in: usize) -> SamplerSettings {
    SamplerSettings {
        hyper: Hyperparameters {
            m,
            ..Hyperparameters::default()
        },
        sweeps,
        burn_in,
        seed: 7,
        ..SamplerSettings::default()
    }
}

fn paused() -> HandleOptions {
    HandleOptions {
        start_paused: true,
        ..HandleOptions::default()
    }
}

/// Reads events into `log` until `done(log)` holds; panics after `timeout`.
fn read_until(
    handle: &SamplerHandle,
    log: &mut Vec<Event>,
    timeout: Duration,
    done: impl Fn(&[Event]) -> bool,
) {
    let deadline = Instant::now() + timeout;
    while !done(log) {
        assert!(
            Instant::now() < deadline,
            "timed out; events so far: {}",
            describe(log)
        );
        if let Some(e) = handle.recv_timeout(Duration::from_millis(20)) {
            log.push(e);
        }
    }
}

fn describe(log: &[Event]) -> String {
    log.iter()
        .map(|e| match e {
            Event::Sweep(r) => format!("S{}", r.iter),
            Event::Snapshot(s) => format!("Snap{}", s.iteration),
            Event::State(s) => s.name().to_string(),
            Event::Error(m) => format!("Err({m})"),
            Event::Summary(s) => format!("Summary{}", s.iteration),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn has_state(log: &[Event], state: RunState) -> bool {
    log.iter()
        .any(|e| matches!(e, Event::State(s) if *s == state))
}

fn sweep_iters(log: &[Event]) -> Vec<usize> {
    log.iter()
        .filter_map(|e| match e {
            Event::Sweep(r) => Some(r.iter),
            _ => None,
        })
        .collect()
}

fn last_snapshot(log: &[Event]) -> Option<&gibbs_fa::sampler::Snapshot> {
    log.iter().rev().find_map(|e| match e {
        Event::Snapshot(s) => Some(s.as_ref()),
        _ => None,
    })
}

#[test]
fn a_run_reports_every_sweep_and_finishes() {
    let notified = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&notified);
    let options = HandleOptions {
        watch: vec![0, 3, 99, 3],
        image_shape: Some((2, 4)),
        ..HandleOptions::default()
    };
    let notify: Box<dyn Fn() + Send> = Box::new(move || {
        counter.fetch_add(1, Ordering::Relaxed);
    });
    let handle =
        SamplerHandle::spawn(problem(20, 8), settings(2, 30, 10), options, Some(notify)).unwrap();
    assert_eq!(handle.shape(), (20, 8, 2));
    let mut log = Vec::new();
    read_until(&handle, &mut log, Duration::from_secs(20), |l| {
        has_state(l, RunState::Finished) && last_snapshot(l).is_some_and(|s| s.iteration == 30)
    });
    assert_eq!(sweep_iters(&log), (1..=30).collect::<Vec<_>>());
    assert!(
        matches!(log.first(), Some(Event::State(RunState::Running))),
        "{}",
        describe(&log)
    );
    let snap = last_snapshot(&log).unwrap();
    assert_eq!((snap.n, snap.d, snap.m), (20, 8, 2));
    assert_eq!(snap.image_shape, Some((2, 4)));
    assert_eq!(snap.w.len(), 16);
    assert_eq!(snap.factor(1).map(<[f32]>::len), Some(8));
    assert!(snap.factor(2).is_none());
    assert_eq!(snap.mu.len(), 8);
    assert_eq!(snap.posterior_sigmasq.mean.len(), 8);
    assert_eq!(snap.samples_in_moments, 20);
    // Out-of-range and repeated watch indices are dropped.
    let watched: Vec<usize> = snap.images.iter().map(|i| i.index).collect();
    assert_eq!(watched, vec![0, 3]);
    assert_eq!(snap.state, RunState::Finished);
    assert_eq!(snap.last_sweep.as_ref().map(|r| r.iter), Some(30));
    assert_eq!(handle.iteration(), 30);
    assert_eq!(handle.state(), RunState::Finished);
    assert!(notified.load(Ordering::Relaxed) > 0);
}

#[test]
fn pause_step_resume() {
    let handle =
        SamplerHandle::spawn(problem(20, 8), settings(2, 1_000_000, 10), paused(), None).unwrap();
    let mut log = Vec::new();
    read_until(&handle, &mut log, Duration::from_secs(10), |l| {
        has_state(l, RunState::Paused) && last_snapshot(l).is_some()
    });
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(handle.iteration(), 0, "a paused sampler must not sweep");

    // Step: exactly one sweep, then a snapshot, then nothing more.
    for expected in 1..=2 {
        assert!(handle.send(Command::Step));
        read_until(&handle, &mut log, Duration::from_secs(10), |l| {
            last_snapshot(l).is_some_and(|s| s.iteration == expected)
        });
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(handle.iteration(), expected);
    }
    log.extend(handle.drain(Duration::from_millis(50)));
    assert_eq!(sweep_iters(&log), vec![1, 2]);

    // Resume runs on; Pause stops the counter.
    handle.send(Command::Resume);
    let start = handle.iteration();
    let deadline = Instant::now() + Duration::from_secs(10);
    while handle.iteration() < start + 50 {
        assert!(Instant::now() < deadline, "resume did not continue");
        std::thread::sleep(Duration::from_millis(5));
    }
    log.clear();
    handle.send(Command::Pause);
    read_until(&handle, &mut log, Duration::from_secs(10), |l| {
        has_state(l, RunState::Paused)
    });
    let at_pause = handle.iteration();
    std::thread::sleep(Duration::from_millis(150));
    assert_eq!(
        handle.iteration(),
        at_pause,
        "the counter moved while paused"
    );
    assert_eq!(handle.state(), RunState::Paused);
}

#[test]
fn stop_returns_promptly_and_ends_the_thread() {
    let mut handle = SamplerHandle::spawn(
        problem(50, 16),
        settings(3, 100_000_000, 10),
        HandleOptions::default(),
        None,
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(100));
    assert!(handle.is_alive());
    assert!(handle.iteration() > 0);
    let t = Instant::now();
    handle.stop();
    assert!(
        t.elapsed() < Duration::from_millis(500),
        "stop took {:?}",
        t.elapsed()
    );
    assert!(!handle.is_alive());
    assert_eq!(handle.state(), RunState::Stopped);
    // Nobody read during the run, so the channel filled up and the rest waited in the
    // thread's queue: after stop, all of it is readable, every sweep in order, and the last
    // event says Stopped.
    let log: Vec<Event> = handle.try_iter().collect();
    let iters = sweep_iters(&log);
    assert_eq!(iters.len(), handle.iteration());
    assert_eq!(iters, (1..=iters.len()).collect::<Vec<_>>());
    assert!(matches!(log.last(), Some(Event::State(RunState::Stopped))));
    assert!(!handle.send(Command::Resume));
    handle.stop(); // idempotent
}

#[test]
fn dropping_the_event_side_ends_the_worker() {
    for options in [HandleOptions::default(), paused()] {
        let mut handle =
            SamplerHandle::spawn(problem(20, 8), settings(2, 100_000_000, 10), options, None)
                .unwrap();
        let events = handle.take_events().unwrap();
        std::thread::sleep(Duration::from_millis(20));
        drop(events);
        let deadline = Instant::now() + Duration::from_secs(2);
        while handle.is_alive() {
            assert!(
                Instant::now() < deadline,
                "worker still alive without a reader"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(handle.drain(Duration::from_millis(1)).is_empty());
    }
}

#[test]
fn dropping_the_handle_joins_the_thread() {
    let handle = SamplerHandle::spawn(
        problem(20, 8),
        settings(2, 100_000_000, 10),
        HandleOptions::default(),
        None,
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(30));
    let t = Instant::now();
    drop(handle);
    assert!(t.elapsed() < Duration::from_millis(500));
}

/// Two samplers with the same seed agree sweep for sweep until one gets new hyperparameters;
/// the very next sweep differs, and the snapshot shows the new settings.
#[test]
fn hyperparameter_change_applies_at_the_next_sweep() {
    let run = |change: Option<Hyperparameters>| {
        let handle =
            SamplerHandle::spawn(problem(20, 8), settings(2, 100, 10), paused(), None).unwrap();
        let mut log = Vec::new();
        handle.send(Command::Step);
        read_until(&handle, &mut log, Duration::from_secs(10), |l| {
            sweep_iters(l).len() == 1
        });
        if let Some(h) = change {
            handle.send(Command::SetHyperparameters(h));
        }
        handle.send(Command::Step);
        read_until(&handle, &mut log, Duration::from_secs(10), |l| {
            last_snapshot(l).is_some_and(|s| s.iteration == 2)
        });
        log
    };
    let new_hyper = Hyperparameters {
        m: 2,
        sigmasq0: 500.0,
        nu0: 5.0,
        ..Hyperparameters::default()
    };
    let same = run(None);
    let changed = run(Some(new_hyper.clone()));
    let records = |log: &[Event]| -> Vec<f64> {
        log.iter()
            .filter_map(|e| match e {
                Event::Sweep(r) => Some(r.log_joint),
                _ => None,
            })
            .collect()
    };
    let (a, b) = (records(&same), records(&changed));
    assert_eq!(a.len(), 2);
    assert_eq!(a[0], b[0], "same seed, same first sweep");
    assert_ne!(a[1], b[1], "the change must act on the next sweep");
    assert_eq!(last_snapshot(&changed).unwrap().settings.hyper, new_hyper);
    assert_eq!(last_snapshot(&same).unwrap().settings.hyper.sigmasq0, 10.0);
}

#[test]
fn bad_settings_give_an_error_event_and_the_run_goes_on() {
    let handle =
        SamplerHandle::spawn(problem(20, 8), settings(2, 100, 10), paused(), None).unwrap();
    let mut log = Vec::new();
    handle.send(Command::SetHyperparameters(Hyperparameters {
        m: 5,
        ..Hyperparameters::default()
    }));
    handle.send(Command::SetRunLength {
        sweeps: 10,
        burn_in: 10,
    });
    read_until(&handle, &mut log, Duration::from_secs(10), |l| {
        l.iter().filter(|e| matches!(e, Event::Error(_))).count() == 2
    });
    handle.send(Command::Step);
    read_until(&handle, &mut log, Duration::from_secs(10), |l| {
        sweep_iters(l) == [1]
    });
}

#[test]
fn finished_run_continues_after_a_longer_run_length() {
    let handle = SamplerHandle::spawn(
        problem(20, 8),
        settings(2, 10, 5),
        HandleOptions::default(),
        None,
    )
    .unwrap();
    let mut log = Vec::new();
    read_until(&handle, &mut log, Duration::from_secs(10), |l| {
        has_state(l, RunState::Finished)
    });
    // Resume with nothing left to do stays finished.
    handle.send(Command::Resume);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(handle.iteration(), 10);
    handle.send(Command::SetRunLength {
        sweeps: 25,
        burn_in: 5,
    });
    handle.send(Command::Resume);
    log.clear();
    read_until(&handle, &mut log, Duration::from_secs(10), |l| {
        matches!(l.last(), Some(Event::State(RunState::Finished))) && sweep_iters(l).len() == 15
    });
    assert_eq!(sweep_iters(&log), (11..=25).collect::<Vec<_>>());
    assert_eq!(handle.iteration(), 25);
}

/// A reader that never drains: the worker still completes its run without waiting, and every
/// sweep record is delivered afterwards, in order, while unread snapshots stay bounded.
#[test]
fn a_reader_that_never_drains_does_not_block_the_worker() {
    let options = HandleOptions {
        channel_capacity: 4,
        snapshot_interval: Duration::ZERO,
        ..HandleOptions::default()
    };
    let handle =
        SamplerHandle::spawn(problem(20, 8), settings(2, 400, 100), options, None).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while handle.state() != RunState::Finished {
        assert!(
            Instant::now() < deadline,
            "worker blocked at {}",
            handle.iteration()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(handle.iteration(), 400);
    let mut log = Vec::new();
    read_until(&handle, &mut log, Duration::from_secs(10), |l| {
        sweep_iters(l).len() == 400 && has_state(l, RunState::Finished)
    });
    assert_eq!(sweep_iters(&log), (1..=400).collect::<Vec<_>>());
    let snapshots = log
        .iter()
        .filter(|e| matches!(e, Event::Snapshot(_)))
        .count();
    assert!(snapshots >= 1);
}

#[test]
fn spawn_rejects_bad_input() {
    let err = SamplerHandle::spawn(problem(20, 8), settings(2, 10, 10), paused(), None)
        .err()
        .unwrap();
    assert!(matches!(err, SpawnError::Model(_)), "{err}");
    assert!(err.to_string().contains("burn-in"), "{err}");
    let mut bad = problem(20, 8);
    bad.missing.pop();
    assert!(SamplerHandle::spawn(bad, settings(2, 10, 5), paused(), None).is_err());
    let options = HandleOptions {
        image_shape: Some((3, 3)),
        ..paused()
    };
    assert!(SamplerHandle::spawn(problem(20, 8), settings(2, 10, 5), options, None).is_err());
}

/// At the notebook's size (N = 10,000, D = 784, M = 50) stop waits for at most the sweep in
/// progress, and snapshots carry the watched digits. Needs MNIST through GIBBS_FA_DATA.
#[test]
fn stop_at_full_size_waits_for_at_most_one_sweep() {
    let Some(folder) = std::env::var_os("GIBBS_FA_DATA").filter(|p| !p.is_empty()) else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but GIBBS_FA_DATA is not set"
        );
        eprintln!("note: GIBBS_FA_DATA not set; skipping the full-size test");
        return;
    };
    let data = gibbs_fa::data::load_path(std::path::Path::new(&folder), None).unwrap();
    let e = gibbs_fa::experiment::build(&data, &gibbs_fa::experiment::ExperimentSpec::default())
        .unwrap();
    let options = HandleOptions {
        watch: (0..25).collect(),
        image_shape: Some((e.height, e.width)),
        ..HandleOptions::default()
    };
    let mut handle =
        SamplerHandle::spawn(e.problem.clone(), SamplerSettings::default(), options, None).unwrap();
    let mut log = Vec::new();
    read_until(&handle, &mut log, Duration::from_secs(60), |l| {
        sweep_iters(l).len() >= 5 && last_snapshot(l).is_some_and(|s| s.iteration >= 1)
    });
    let snap = last_snapshot(&log).unwrap();
    assert_eq!(snap.images.len(), 25);
    assert_eq!(snap.images[3].posterior_mean.len(), 784);
    let slowest = log
        .iter()
        .filter_map(|e| match e {
            Event::Sweep(r) => Some(r.seconds),
            _ => None,
        })
        .fold(0.0f64, f64::max);
    let t = Instant::now();
    handle.stop();
    let waited = t.elapsed().as_secs_f64();
    assert!(
        waited <= slowest * 2.0 + 0.1,
        "stop waited {waited:.3} s; the slowest sweep took {slowest:.3} s"
    );
    assert!(!handle.is_alive());
}

/// While running, snapshots come at most once per interval (plus the first one), while every
/// sweep still gets its record.
#[test]
fn snapshots_are_throttled() {
    let options = HandleOptions {
        snapshot_interval: Duration::from_millis(100),
        ..HandleOptions::default()
    };
    let mut handle =
        SamplerHandle::spawn(problem(20, 8), settings(2, 100_000_000, 10), options, None).unwrap();
    let start = Instant::now();
    let mut log = Vec::new();
    while start.elapsed() < Duration::from_millis(450) {
        log.extend(handle.drain(Duration::from_millis(5)));
        std::thread::sleep(Duration::from_millis(2));
    }
    handle.stop();
    let elapsed = start.elapsed().as_secs_f64();
    log.extend(handle.try_iter());
    let snapshots = log
        .iter()
        .filter(|e| matches!(e, Event::Snapshot(_)))
        .count();
    let sweeps = sweep_iters(&log);
    assert!(sweeps.len() > 100, "only {} sweeps", sweeps.len());
    assert_eq!(sweeps, (1..=sweeps.len()).collect::<Vec<_>>());
    let most = (elapsed / 0.1).floor() as usize + 2;
    assert!(
        (3..=most).contains(&snapshots),
        "{snapshots} snapshots in {elapsed:.3} s"
    );
}

/// A painted mask reaches a paused chain without a restart: the sweep count goes on, the
/// moments restart, the summary shows the new mask, and a bad mask changes nothing.
#[test]
fn set_mask_continues_the_chain_and_summary_follows_it() {
    let (n, d) = (12, 6);
    let data = problem(n, d);
    let values = data.x_true.clone().unwrap()[2 * d..3 * d].to_vec();
    let mut handle = SamplerHandle::spawn(data, settings(2, 100, 2), paused(), None).unwrap();
    let mut log = Vec::new();
    for _ in 0..5 {
        handle.send(Command::Step);
    }
    read_until(&handle, &mut log, Duration::from_secs(10), |l| {
        sweep_iters(l).len() == 5
    });
    // Image 2: hide pixels 0 and 1, reveal everything else.
    let missing: Vec<bool> = (0..d).map(|j| j < 2).collect();
    handle.send(Command::SetMask {
        image: 2,
        missing: missing.clone(),
        values: values.clone(),
    });
    handle.send(Command::SetMask {
        image: n,
        missing: missing.clone(),
        values: values.clone(),
    });
    handle.send(Command::Step);
    handle.send(Command::RequestSummary);
    read_until(&handle, &mut log, Duration::from_secs(10), |l| {
        l.iter().any(|e| matches!(e, Event::Summary(_)))
    });
    assert!(
        log.iter()
            .any(|e| matches!(e, Event::Error(m) if m.contains("not changed"))),
        "{}",
        describe(&log)
    );
    let iters = sweep_iters(&log);
    assert_eq!(iters, (1..=6).collect::<Vec<_>>());
    let summary = log
        .iter()
        .find_map(|e| match e {
            Event::Summary(s) => Some(s.as_ref()),
            _ => None,
        })
        .unwrap();
    assert_eq!((summary.iteration, summary.n, summary.d), (6, n, d));
    assert_eq!(summary.samples_in_moments, 0, "burn-in counts again");
    assert_eq!(summary.mean.len(), n * d);
    let row = &summary.mean[2 * d..3 * d];
    for j in 2..d {
        assert_eq!(row[j], values[j], "revealed pixel {j} holds the data");
        assert_eq!(summary.std[2 * d + j], 0.0);
    }
    assert!(
        summary
            .mean
            .iter()
            .chain(&summary.std)
            .all(|v| v.is_finite())
    );
    handle.stop();
}

/// A sampler built from a shared experiment (the app's way, no copy of the data) lets go of it
/// once built: the app changes masks in place only when it holds the experiment alone.
#[test]
fn a_shared_experiment_is_released_once_the_sampler_is_built() {
    let data = gibbs_fa::data::synthetic::generate(60, 2).unwrap();
    let spec = gibbs_fa::experiment::ExperimentSpec {
        n: 60,
        ..gibbs_fa::experiment::ExperimentSpec::default()
    };
    let experiment = Arc::new(gibbs_fa::experiment::build(&data, &spec).unwrap());
    let mut handle = SamplerHandle::spawn(
        Arc::clone(&experiment),
        settings(3, 1_000, 10),
        paused(),
        None,
    )
    .unwrap();
    assert_eq!(Arc::strong_count(&experiment), 1);
    let mut log = Vec::new();
    handle.send(Command::Resume);
    read_until(&handle, &mut log, Duration::from_secs(30), |l| {
        sweep_iters(l).len() >= 2
    });
    handle.stop();
}

/// Switching the recentring move on between two steps applies at the next sweep, and the
/// snapshot after it says the burn-in counts again from there (what the traces mark).
#[test]
fn the_recentring_move_switches_on_live_and_restarts_the_burn_in() {
    let mut handle =
        SamplerHandle::spawn(problem(20, 8), settings(2, 100, 3), paused(), None).unwrap();
    let mut log = Vec::new();
    for _ in 0..2 {
        handle.send(Command::Step);
    }
    read_until(&handle, &mut log, Duration::from_secs(10), |l| {
        last_snapshot(l).is_some_and(|s| s.iteration == 2)
    });
    assert_eq!(last_snapshot(&log).map(|s| s.burn_in_from), Some(0));
    handle.send(Command::SetRecentre(true));
    handle.send(Command::Step);
    read_until(&handle, &mut log, Duration::from_secs(10), |l| {
        last_snapshot(l).is_some_and(|s| s.iteration == 3)
    });
    let s = last_snapshot(&log).expect("a snapshot");
    assert!(s.settings.recentre);
    assert_eq!(s.burn_in_from, 2);
    assert!(
        !log.iter().any(|e| matches!(e, Event::Error(_))),
        "{}",
        describe(&log)
    );
    handle.stop();
}
