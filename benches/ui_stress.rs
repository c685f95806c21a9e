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
//! The kernel's account of each slow frame is printed beside it (user and system time, page
//! faults, context switches, time spent waiting for a core, the host's steal), and
//! `own_max_frame_ms` is the largest frame on the machine's own clock (CPU time plus waiting
//! for a core): on these KVM guests a frame's wall time also holds the time the hypervisor
//! ran other guests on our cores, which shows as host steal. A fixed probe (a chase through
//! 8 MB of memory and a short computation, timed on the UI thread's CPU clock) runs before
//! every frame, to tell a frame that did more work from one whose thread ran slower: its
//! median and maximum are printed, its times around each slow frame, and every probe over ten
//! times its median with the script step it fell in. Where the guest kernel reports freed
//! memory to the host (our KVM machines do; while the host takes it back, the app stalls),
//! each slow frame and stalled probe says how much was reported within 0.1 s of it.
//!
//! Run: `GIBBS_FA_DATA=../shared/data/mnist cargo bench --bench ui_stress`
//!
//! At scale: `UI_STRESS_N=60000` (the 10,000 test digits filled to N with shifted copies when
//! N is larger), `UI_STRESS_RESTARTS` (default 20) and `UI_STRESS_CHAINS` (K, default the
//! app's). With shifted copies the session and data-source steps are skipped: a session
//! reopens its data from the file, which holds fewer images than N. `UI_STRESS_KEEP=0` frees
//! big blocks at once instead of keeping them for reuse as the app does
//! (`hugepages::Keeper`); `kept_blocks` says what was kept at the end.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use gibbs_fa::gui::{AppCommand, AppOptions, ExportKind, GibbsApp, RunAction, SourceChoice};
use gibbs_fa::hugepages::HugePageAlloc;

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
    /// What the kernel counted for the UI thread in each frame (for the slowest frames).
    usage: Vec<ThreadUsage>,
    /// When each frame started (CLOCK_MONOTONIC, seconds, as `perf record -k CLOCK_MONOTONIC`
    /// stamps its samples) and whether a build or export was running then.
    started: Vec<(f64, bool)>,
    /// A fixed probe run just before each frame (see [`Probe`]): its CPU time in
    /// microseconds, walking memory and computing.
    probe_us: Vec<(f64, f64)>,
    probe: Probe,
    /// The guest's count of freed memory reported to the host when each frame started (see
    /// [`reported_kib`]); `None` where the kernel does not report.
    reported_kib: Vec<Option<u64>>,
}

impl Bench {
    /// One frame, timed, then the rest of the 16 ms.
    fn frame(&mut self) {
        self.probe_us.push(self.probe.run());
        self.reported_kib.push(reported_kib());
        let before = ThreadUsage::now();
        self.started.push((monotonic_s(), self.h.state().is_busy()));
        let start = Instant::now();
        let cpu = thread_cpu_ms();
        self.h.step();
        let spent = start.elapsed();
        self.frames_ms.push(thread_cpu_ms() - cpu);
        self.usage.push(ThreadUsage::now().since(&before));
        self.wall_ms.push(spent.as_secs_f64() * 1000.0);
        self.phases.push(self.phase);
        if let Some(rest) = FRAME.checked_sub(spent) {
            std::thread::sleep(rest);
        }
    }

    /// Megabytes of freed memory the guest reported to the host in the frames that started
    /// within [`REPORT_WINDOW_S`] of frame `f`'s start (`None` where the kernel does not report).
    fn reported_near(&self, f: usize) -> Option<f64> {
        let at = self.started[f].0;
        let near = |g: &usize| (self.started[*g].0 - at).abs() <= REPORT_WINDOW_S;
        let first = (0..=f).rev().take_while(near).last()?;
        let last = (f..self.started.len()).take_while(near).last()?;
        // The count when the frame after the window starts (or at the end, the last frame's).
        let end = self
            .reported_kib
            .get(last + 1)
            .or(self.reported_kib.get(last))?;
        Some(end.as_ref()?.saturating_sub(self.reported_kib[first]?) as f64 / 1024.0)
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

/// The app's allocator (see `src/main.rs`), so the benchmark allocates as the app does.
#[global_allocator]
static ALLOC: HugePageAlloc = HugePageAlloc;

/// Images in the MNIST test file.
const MNIST_TEST: usize = 10_000;

fn main() {
    // As the app does; `UI_STRESS_KEEP=0` frees big blocks at once instead, for comparison.
    if env_usize("UI_STRESS_KEEP", 1) != 0 {
        HugePageAlloc::keep_freed_blocks_for_app();
    }
    let data = data_dir();
    let n = env_usize("UI_STRESS_N", MNIST_TEST).max(1);
    let restarts = env_usize("UI_STRESS_RESTARTS", 20);
    // K, when given; otherwise the app's default.
    let chains = std::env::var_os("UI_STRESS_CHAINS").map(|_| env_usize("UI_STRESS_CHAINS", 0));
    if let Some(k) = chains.filter(|k| !(1..=gibbs_fa::chains::MAX_CHAINS).contains(k)) {
        eprintln!(
            "UI_STRESS_CHAINS must be 1 to {}, not {k}",
            gibbs_fa::chains::MAX_CHAINS
        );
        std::process::exit(2);
    }
    let tiled = n > MNIST_TEST;
    eprintln!(
        "N = {n}{}, {} chains, {restarts} restarts",
        if tiled { " (shifted copies)" } else { "" },
        chains.map_or("the app's default".to_string(), |k| k.to_string())
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
                if let Some(k) = chains {
                    app.settings_mut().chains = k;
                }
                app
            }),
        frames_ms: Vec::new(),
        wall_ms: Vec::new(),
        phases: Vec::new(),
        phase: "start",
        usage: Vec::new(),
        started: Vec::new(),
        probe_us: Vec::new(),
        probe: Probe::new(),
        reported_kib: Vec::new(),
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

    let memory: Vec<f64> = bench.probe_us.iter().map(|p| p.0).collect();
    let compute: Vec<f64> = bench.probe_us.iter().map(|p| p.1).collect();
    let (memory_median, _, memory_max) = quantiles(&memory);
    let compute_median = quantiles(&compute).0;
    for (label, times) in [("", &bench.frames_ms), ("wall ", &bench.wall_ms)] {
        let mut slowest: Vec<usize> = (0..times.len()).collect();
        slowest.sort_by(|&a, &b| times[b].total_cmp(&times[a]));
        for &f in slowest.iter().take(8) {
            let (at, busy) = bench.started[f];
            // The probes just before and just after the frame, against their medians.
            let around = |k: usize| {
                bench
                    .probe_us
                    .get(k)
                    .copied()
                    .unwrap_or((f64::NAN, f64::NAN))
            };
            let (pre, post) = (around(f), around(f + 1));
            eprintln!(
                "slow {label}frame: {:.1} ms during {}{} (frame {f} at {at:.6} s; {}; probe \
                 before/after: memory {:.0}/{:.0} us, compute {:.0}/{:.0} us, medians \
                 {memory_median:.0} and {compute_median:.0}{})",
                times[f],
                bench.phases[f],
                if busy { ", busy" } else { "" },
                bench.usage[f],
                pre.0,
                post.0,
                pre.1,
                post.1,
                reported_note(bench.reported_near(f)),
            );
        }
    }
    // Where the probe stalled: the memory stalls of other threads show here first.
    let stalls: Vec<usize> = (0..memory.len())
        .filter(|&f| memory[f] > 10.0 * memory_median)
        .collect();
    for &f in &stalls {
        eprintln!(
            "probe stall: memory {:.0} us before frame {f} during {} (at {:.6} s{})",
            memory[f],
            bench.phases[f],
            bench.started[f].0,
            reported_note(bench.reported_near(f)),
        );
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
    // A frame's time on this machine's own clock: the UI thread's CPU time plus its wait
    // behind this machine's other threads. The rest of its wall time is time the hypervisor
    // gave this machine's cores to other guests (host steal), which no program in the guest
    // can shorten.
    let own: Vec<f64> = bench
        .frames_ms
        .iter()
        .zip(&bench.usage)
        .zip(&bench.wall_ms)
        .map(|((cpu, usage), wall)| (cpu + usage.run_queue_ms).min(*wall))
        .collect();
    let (_, own_p99, own_max) = quantiles(&own);
    let (kept, kept_bytes) = HugePageAlloc::kept();
    println!("kept_blocks {kept} ({:.0} MB)", kept_bytes as f64 / 1e6);
    let stalled = stalls.len();
    println!("probe_memory_median_us {memory_median:.0}");
    println!("probe_memory_max_us {memory_max:.0}");
    println!("probes_over_10x_median {stalled}");
    println!("own_p99_frame_ms {own_p99:.2}");
    println!("own_max_frame_ms {own_max:.2}");
    let over: Vec<usize> = (0..own.len())
        .filter(|&f| bench.wall_ms[f] > SLOW_MS)
        .collect();
    let stolen = over
        .iter()
        .filter(|&&f| own[f] <= SLOW_MS && bench.usage[f].steal_ms > 0.0)
        .count();
    let reported_near = |f: &usize| bench.reported_near(*f).is_some_and(|mb| mb > 0.0);
    let reporting = over.iter().filter(|f| reported_near(f)).count();
    // How often any frame falls near reports, to weigh the slow frames' share against.
    println!(
        "frames_near_page_reporting {} of {} (stalled probes: {} of {})",
        (0..own.len()).filter(reported_near).count(),
        own.len(),
        stalls.iter().filter(|f| reported_near(f)).count(),
        stalls.len()
    );
    println!(
        "wall_frames_over_33ms {} (host steal in {stolen}, own time under 33 ms; the guest \
         reporting freed memory to the host within {REPORT_WINDOW_S} s in {reporting})",
        over.len()
    );
}

/// The longest a frame may take (30 frames a second).
const SLOW_MS: f64 = 33.0;

/// How near a slow frame the guest's reports of freed memory are counted: a burst of them
/// sends a block of 128 MB every 60 to 100 ms on our machines.
const REPORT_WINDOW_S: f64 = 0.1;

/// The guest kernel's running count of free memory reported to the host, in kB
/// (virtio-balloon free page reporting, as our KVM development machines do; the host then
/// takes the pages back, and while it does every frame of the app stalls). `None` where the
/// kernel does not report.
fn reported_kib() -> Option<u64> {
    std::fs::read_to_string("/sys/module/page_reporting/parameters/reported_kib")
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// "; the guest reported N MB ..." for a slow frame's line, or nothing.
fn reported_note(mb: Option<f64>) -> String {
    mb.map_or_else(String::new, |mb| {
        format!(
            "; the guest reported {mb:.0} MB of freed memory to the host within {REPORT_WINDOW_S} s"
        )
    })
}

/// Median, 99th percentile and maximum.
fn quantiles(values: &[f64]) -> (f64, f64, f64) {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let p99 = sorted[((n as f64 * 0.99).ceil() as usize).clamp(1, n) - 1];
    (sorted[n / 2], p99, sorted[n - 1])
}

/// The second field of `/proc/thread-self/schedstat` (nanoseconds spent waiting on a run
/// queue), in milliseconds; 0 when the file cannot be read.
fn run_queue_wait_ms() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<f64>().ok())
        .map_or(0.0, |ns| ns / 1.0e6)
}

/// The `steal` column of `/proc/stat`'s first line (all cores), in milliseconds; 0 when the
/// file cannot be read.
fn steal_ms() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let ticks_per_s = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| {
            s.lines()
                .next()?
                .split_whitespace()
                .nth(8)?
                .parse::<f64>()
                .ok()
        })
        .map_or(0.0, |ticks| ticks * 1000.0 / ticks_per_s)
}

/// A fixed amount of work timed on the UI thread's CPU clock before every frame, to tell a
/// frame that did more work from one whose thread ran slower: a chase through 8 MB of memory
/// (in L3, out of L2: egui's maps and lists are read much like this) and a short computation
/// in registers.
struct Probe {
    next: Vec<u32>,
    at: u32,
}

impl Probe {
    const SLOTS: usize = 1 << 21;
    const STEPS: usize = 2_000;

    fn new() -> Probe {
        // One cycle through every slot, in a scrambled order (an odd multiplier mod 2^k).
        let order: Vec<u32> = (0..Self::SLOTS as u64)
            .map(|k| (k.wrapping_mul(0x9E37_79B1) % Self::SLOTS as u64) as u32)
            .collect();
        let mut next = vec![0u32; Self::SLOTS];
        for w in 0..Self::SLOTS {
            next[order[w] as usize] = order[(w + 1) % Self::SLOTS];
        }
        Probe { next, at: 0 }
    }

    /// CPU microseconds of the memory chase and of the computation.
    fn run(&mut self) -> (f64, f64) {
        let t0 = thread_cpu_ms();
        let mut at = self.at;
        for _ in 0..Self::STEPS {
            at = self.next[at as usize];
        }
        self.at = std::hint::black_box(at);
        let t1 = thread_cpu_ms();
        let mut x = std::hint::black_box(1.0f64);
        for k in 0..20_000 {
            x = x * 1.000_000_1 + (k & 7) as f64 * 1e-9;
        }
        std::hint::black_box(x);
        let t2 = thread_cpu_ms();
        ((t1 - t0) * 1000.0, (t2 - t1) * 1000.0)
    }
}

/// The sum over all cores of the `/proc/interrupts` line starting with `label`; 0 when the
/// file or the line cannot be read.
fn interrupts(label: &str) -> i64 {
    let Ok(text) = std::fs::read_to_string("/proc/interrupts") else {
        return 0;
    };
    text.lines()
        .find(|line| line.trim_start().starts_with(label))
        .map_or(0, |line| {
            line.split_whitespace()
                .skip(1)
                .map_while(|v| v.parse::<i64>().ok())
                .sum()
        })
}

/// CLOCK_MONOTONIC in seconds.
fn monotonic_s() -> f64 {
    clock_s(libc::CLOCK_MONOTONIC)
}

/// CPU time this thread has used, in milliseconds (CLOCK_THREAD_CPUTIME_ID): a frame's CPU
/// time, not counting time the thread waited for a core on a busy machine.
fn thread_cpu_ms() -> f64 {
    clock_s(libc::CLOCK_THREAD_CPUTIME_ID) * 1000.0
}

/// The clock `id`, in seconds.
fn clock_s(id: libc::clockid_t) -> f64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through a valid pointer.
    let ok = unsafe { libc::clock_gettime(id, &mut t) };
    assert_eq!(ok, 0, "clock_gettime failed");
    t.tv_sec as f64 + t.tv_nsec as f64 / 1.0e9
}

/// The kernel's account of the UI thread (`getrusage(RUSAGE_THREAD)`), or of one frame as the
/// difference of two: time in user and kernel mode, page faults, context switches. A frame
/// whose time is in the kernel with many minor faults touched fresh memory; one with
/// involuntary switches was preempted.
#[derive(Clone, Copy)]
struct ThreadUsage {
    user_ms: f64,
    system_ms: f64,
    minor_faults: i64,
    major_faults: i64,
    voluntary_switches: i64,
    involuntary_switches: i64,
    /// Time the thread was ready to run but waited for a core in this system's run queue
    /// (`/proc/thread-self/schedstat`).
    run_queue_ms: f64,
    /// Time the hypervisor gave this machine's cores to other guests, summed over the cores
    /// (`steal` in `/proc/stat`, counted in ticks of 10 ms).
    steal_ms: f64,
    /// TLB shootdowns and function-call interrupts, all cores (`/proc/interrupts`): another
    /// thread of the process unmapping or moving memory interrupts every core running it.
    shootdowns: i64,
    calls: i64,
}

impl ThreadUsage {
    fn now() -> ThreadUsage {
        // SAFETY: getrusage writes one rusage through a valid pointer; zeroed is a valid rusage.
        let mut r: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: as above.
        let ok = unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut r) };
        assert_eq!(ok, 0, "getrusage failed");
        let ms = |t: libc::timeval| t.tv_sec as f64 * 1000.0 + t.tv_usec as f64 / 1000.0;
        ThreadUsage {
            user_ms: ms(r.ru_utime),
            system_ms: ms(r.ru_stime),
            minor_faults: r.ru_minflt,
            major_faults: r.ru_majflt,
            voluntary_switches: r.ru_nvcsw,
            involuntary_switches: r.ru_nivcsw,
            run_queue_ms: run_queue_wait_ms(),
            steal_ms: steal_ms(),
            shootdowns: interrupts("TLB:"),
            calls: interrupts("CAL:"),
        }
    }

    fn since(&self, before: &ThreadUsage) -> ThreadUsage {
        ThreadUsage {
            user_ms: self.user_ms - before.user_ms,
            system_ms: self.system_ms - before.system_ms,
            minor_faults: self.minor_faults - before.minor_faults,
            major_faults: self.major_faults - before.major_faults,
            voluntary_switches: self.voluntary_switches - before.voluntary_switches,
            involuntary_switches: self.involuntary_switches - before.involuntary_switches,
            run_queue_ms: self.run_queue_ms - before.run_queue_ms,
            steal_ms: self.steal_ms - before.steal_ms,
            shootdowns: self.shootdowns - before.shootdowns,
            calls: self.calls - before.calls,
        }
    }
}

impl std::fmt::Display for ThreadUsage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "user {:.1} ms, system {:.1} ms, waiting for a core {:.1} ms, host steal {:.0} ms, {} \
             minor and {} major faults, {} voluntary and {} involuntary switches, {} TLB \
             shootdowns and {} function-call interrupts",
            self.user_ms,
            self.system_ms,
            self.run_queue_ms,
            self.steal_ms,
            self.minor_faults,
            self.major_faults,
            self.voluntary_switches,
            self.involuntary_switches,
            self.shootdowns,
            self.calls
        )
    }
}

/// Exports `kind` to `path` as the menu does after its dialog, and waits for the file.
fn export(bench: &mut Bench, kind: ExportKind, path: &Path) {
    bench.command(AppCommand::ExportTo(kind, path.to_path_buf()));
    bench.until("the export", |a| !a.is_busy());
    assert!(path.exists(), "{} was not written", path.display());
}
