//! UI stress benchmark: the real app (headless, egui_kittest) on MNIST at N = 10,000, M = 50,
//! driven through a script of real actions while chains sample: start, 20 restarts by
//! changing M and the masks, paint and apply a mask, save a session and open it, every export
//! but the PNG (a headless harness renders no pixels), switch the data source and back, stop.
//!
//! Every frame's CPU time (the UI thread's, for the app's `ui` plus egui's layout, as
//! `Harness::step` runs it) is recorded; the benchmark prints `max_frame_ms`, `p99_frame_ms`
//! and `frames`, and the same figures in wall time (`wall_...`, which also count time the
//! thread waited for a core while the sampler used both). Frames are paced at about 60 a
//! second, as a window would be; the slowest frames are listed on stderr with the script
//! step they fell in.
//!
//! Run: `GIBBS_FA_DATA=../shared/data/mnist cargo bench --bench ui_stress`
//!
//! At scale: `UI_STRESS_N=60000` (the 10,000 test digits filled to N with shifted copies when
//! N is larger) and `UI_STRESS_RESTARTS` (default 20). With shifted copies the session and
//! data-source steps are skipped: a session reopens its data from the file, which holds fewer
//! images than N.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use gibbs_fa::gui::{AppCommand, AppOptions, ExportKind, GibbsApp, RunAction, SourceChoice};

/// One frame every 16 ms, as a 60 Hz display asks for.
const FRAME: Duration = Duration::from_millis(16);
/// Longest wait for any step of the script.
const PATIENCE: Duration = Duration::from_secs(300);

struct Bench {
    h: Harness<'static, GibbsApp>,
    /// CPU time of the UI thread in each frame.
    frames_ms: Vec<f64>,
    /// Wall time of each frame (includes time the thread waited for a core).
    wall_ms: Vec<f64>,
    /// The script step each frame belongs to (for the slowest frames' report).
    phases: Vec<&'static str>,
    phase: &'static str,
}

impl Bench {
    /// One frame, timed, then the rest of the 16 ms.
    fn frame(&mut self) {
        let start = Instant::now();
        let cpu = thread_cpu_ms();
        self.h.step();
        let spent = start.elapsed();
        self.frames_ms.push(thread_cpu_ms() - cpu);
        self.wall_ms.push(spent.as_secs_f64() * 1000.0);
        self.phases.push(self.phase);
        if let Some(rest) = FRAME.checked_sub(spent) {
            std::thread::sleep(rest);
        }
    }

    fn until(&mut self, what: &str, done: impl Fn(&GibbsApp) -> bool) {
        let deadline = Instant::now() + PATIENCE;
        while !done(self.h.state()) {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            self.frame();
        }
    }

    fn frames(&mut self, count: usize) {
        for _ in 0..count {
            self.frame();
        }
    }

    fn sweeps(&self) -> usize {
        self.h.state().live().map_or(0, |l| l.iteration())
    }

    fn generation(&self) -> u64 {
        self.h.state().live().map_or(0, |l| l.generation())
    }

    fn command(&mut self, command: AppCommand) {
        self.h.state_mut().queue(command);
        self.frame();
    }

    /// Waits for the chain built after a restart setting changed, then for a few sweeps. A
    /// chain that sampled for long asks before it is discarded: the script says yes, as a
    /// user clicking "Restart now" would.
    fn until_rebuilt(&mut self, old: u64, what: &str) {
        self.command(AppCommand::ConfirmRestart);
        self.until(what, |a| {
            a.live().is_some_and(|l| l.generation() != old) && !a.is_building()
        });
        let at = self.sweeps();
        self.until("sweeps on the new chain", |a| {
            a.live().is_some_and(|l| l.iteration() >= at + 2)
        });
    }
}

fn data_dir() -> PathBuf {
    match std::env::var_os("GIBBS_FA_DATA") {
        Some(dir) => PathBuf::from(dir),
        None => {
            eprintln!("GIBBS_FA_DATA is not set: point it at the folder holding MNIST");
            std::process::exit(2);
        }
    }
}

/// A whole number from the environment, or `default`.
fn env_usize(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(v) => v.trim().parse().unwrap_or_else(|_| {
            eprintln!("{name} must be a whole number, not {v:?}");
            std::process::exit(2);
        }),
        Err(_) => default,
    }
}

/// Images in the MNIST test file.
const MNIST_TEST: usize = 10_000;

fn main() {
    let data = data_dir();
    let n = env_usize("UI_STRESS_N", MNIST_TEST).max(1);
    let restarts = env_usize("UI_STRESS_RESTARTS", 20);
    let tiled = n > MNIST_TEST;
    eprintln!(
        "N = {n}{}, {restarts} restarts",
        if tiled { " (shifted copies)" } else { "" }
    );
    // Rayon's pool below the UI thread's priority, as `gibbs_fa::gui::run` starts it before the
    // window opens (without it the pool's threads compete with the UI thread as equals).
    gibbs_fa::gui::background_rayon_pool();
    let out = tempfile::tempdir().expect("a temporary folder");
    let mut bench = Bench {
        h: Harness::builder()
            .with_size([1400.0, 900.0])
            .build_eframe(move |cc| {
                let mut app = GibbsApp::new(
                    cc,
                    AppOptions {
                        fresh: true,
                        n: Some(n),
                        m: Some(50),
                        data: Some(data),
                        tile_shifts: tiled,
                        ..AppOptions::default()
                    },
                );
                // A long run, so the chains sample throughout the script.
                app.settings_mut().model.sweeps = 100_000;
                app
            }),
        frames_ms: Vec::new(),
        wall_ms: Vec::new(),
        phases: Vec::new(),
        phase: "start",
    };

    // Start.
    bench.until("the first chain", |a| {
        a.live().is_some() && !a.is_building()
    });
    bench.command(AppCommand::Run(RunAction::Start));
    bench.until("sweeps", |a| a.live().is_some_and(|l| l.iteration() >= 5));
    eprintln!("started; {} frames so far", bench.frames_ms.len());

    // Restarts: M and the masks in turn.
    bench.phase = "restarts";
    for k in 0..restarts {
        let old = bench.generation();
        let settings = bench.h.state_mut().settings_mut();
        if k % 2 == 0 {
            settings.model.hyper.m = if settings.model.hyper.m == 50 { 40 } else { 50 };
        } else {
            settings.masks.seed += 1;
        }
        bench.until_rebuilt(old, "a restarted chain");
    }
    eprintln!(
        "{restarts} restarts; {} frames so far",
        bench.frames_ms.len()
    );

    // Paint and apply a mask (a band through digit 3).
    bench.phase = "painted mask";
    let d = 784;
    let missing: Vec<bool> = (0..d).map(|j| (j / 28) % 7 == 3).collect();
    bench.command(AppCommand::ApplyMask { image: 3, missing });
    bench.frames(30);

    // Save a session, open it.
    if !tiled {
        bench.phase = "session";
        let session = out.path().join("stress.gibbsfa");
        export(&mut bench, ExportKind::Session, &session);
        let old = bench.generation();
        bench.command(AppCommand::OpenSession(session));
        bench.until("the reopened session", |a| {
            a.live().is_some_and(|l| l.generation() != old) && !a.is_building()
        });
        bench.command(AppCommand::Run(RunAction::Start));
        bench.until("sweeps after reopening", |a| {
            a.live().is_some_and(|l| l.iteration() >= 3)
        });
    }

    // Every export but the PNG.
    for (kind, name, phase) in [
        (ExportKind::TracesCsv, "traces.csv", "export traces"),
        (
            ExportKind::PosteriorSummary,
            "posterior-idx3-float",
            "export posterior",
        ),
        (
            ExportKind::Completion,
            "completion-idx3-float",
            "export completion",
        ),
        (ExportKind::Masks, "masks-idx3-ubyte", "export masks"),
    ] {
        bench.phase = phase;
        export(&mut bench, kind, &out.path().join(name));
    }

    // Switch the data source and back.
    if !tiled {
        bench.phase = "data source";
        let mnist = bench.h.state().settings().data.source.clone();
        let old = bench.generation();
        bench.h.state_mut().settings_mut().data.source = SourceChoice::Synthetic;
        bench.until_rebuilt(old, "the synthetic digits");
        let old = bench.generation();
        bench.h.state_mut().settings_mut().data.source = mnist;
        bench.until_rebuilt(old, "MNIST again");
    }

    // Stop.
    bench.phase = "stop";
    bench.command(AppCommand::Run(RunAction::Stop));
    bench.frames(30);
    let errors = bench.h.state().errors().to_vec();
    assert!(errors.is_empty(), "the script earned no banner: {errors:?}");

    for (label, times) in [("", &bench.frames_ms), ("wall ", &bench.wall_ms)] {
        let mut slowest: Vec<(f64, &str)> = times
            .iter()
            .copied()
            .zip(bench.phases.iter().copied())
            .collect();
        slowest.sort_by(|a, b| b.0.total_cmp(&a.0));
        for (ms, phase) in slowest.iter().take(8) {
            eprintln!("slow {label}frame: {ms:.1} ms during {phase}");
        }
    }
    let (median, p99, max) = quantiles(&bench.frames_ms);
    let (wall_median, wall_p99, wall_max) = quantiles(&bench.wall_ms);
    println!("frames {}", bench.frames_ms.len());
    println!("median_frame_ms {median:.2}");
    println!("p99_frame_ms {p99:.2}");
    println!("max_frame_ms {max:.2}");
    println!("wall_median_frame_ms {wall_median:.2}");
    println!("wall_p99_frame_ms {wall_p99:.2}");
    println!("wall_max_frame_ms {wall_max:.2}");
}

/// Median, 99th percentile and maximum.
fn quantiles(values: &[f64]) -> (f64, f64, f64) {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let p99 = sorted[((n as f64 * 0.99).ceil() as usize).clamp(1, n) - 1];
    (sorted[n / 2], p99, sorted[n - 1])
}

/// CPU time this thread has used, in milliseconds (CLOCK_THREAD_CPUTIME_ID): a frame's CPU
/// time, not counting time the thread waited for a core on a busy machine.
fn thread_cpu_ms() -> f64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through a valid pointer.
    let ok = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    assert_eq!(ok, 0, "clock_gettime failed");
    t.tv_sec as f64 * 1000.0 + t.tv_nsec as f64 / 1.0e6
}

/// Exports `kind` to `path` as the menu does after its dialog, and waits for the file.
fn export(bench: &mut Bench, kind: ExportKind, path: &Path) {
    bench.command(AppCommand::ExportTo(kind, path.to_path_buf()));
    bench.until("the export", |a| !a.is_busy());
    assert!(path.exists(), "{} was not written", path.display());
}
