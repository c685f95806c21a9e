//! Several chains against one: 4 chains x 200 sweeps at N = 10,000, D = 784, M = 50 (about
//! 10% missing, synthetic low-rank data) against one chain's 200 sweeps, for each way of
//! sharing the cores. Prints the median wall time and peak memory of each, and the ratios
//! (issue 12's target: 4 chains take at most 4.2 times one chain).
//!
//! Every measurement runs in a fresh child process (this binary again), so that
//! matrixmultiply's thread count (read once per process from MATMUL_NUM_THREADS) and the
//! peak memory (VmHWM) belong to that configuration alone. Configurations alternate, so slow
//! phases of a shared machine hit all of them.
//!
//! `cargo bench --no-default-features --features cli --bench chains`; env BENCH_REPEATS
//! (default 3), BENCH_SWEEPS (default 200), BENCH_N (default 10000).

use std::process::Command;
use std::time::Instant;

use gibbs_fa::chains::{ChainsOptions, MultiChain, Parallelism};
use gibbs_fa::model::SamplerSettings;

mod common;
use common::{env_usize, synthetic_problem};

const CHILD: &str = "GIBBS_FA_BENCH_CHILD";

fn peak_memory_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("VmHWM:"))?.to_string();
            line.split_whitespace().nth(1)?.parse::<f64>().ok()
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// One measurement: build the chains, run them, print "seconds peak_mb".
fn child(chains: usize, parallelism: Parallelism) {
    let sweeps = env_usize("BENCH_SWEEPS", 200);
    let n = env_usize("BENCH_N", 10_000);
    let problem = synthetic_problem(n, 784, 20, 0.1);
    let mut settings = SamplerSettings {
        sweeps,
        burn_in: sweeps / 2,
        ..SamplerSettings::default()
    };
    settings.hyper.m = 50;
    let options = ChainsOptions {
        chains,
        parallelism,
        pixels: None,
        first_chain: 0,
    };
    let mut mc = MultiChain::new(&problem, &settings, &options).expect("chains");
    drop(problem);
    let start = Instant::now();
    mc.run(|_| {});
    let seconds = start.elapsed().as_secs_f64();
    let diag = mc.diagnostics().expect("diagnostics");
    let pooled = mc.pooled();
    assert!(pooled.rmse.is_some_and(f64::is_finite) && !diag.scalars.is_empty());
    println!("{seconds} {}", peak_memory_mb());
}

struct Config {
    name: &'static str,
    chains: usize,
    parallelism: Parallelism,
    matmul_threads: &'static str,
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let k = v.len();
    if k % 2 == 1 {
        v[k / 2]
    } else {
        0.5 * (v[k / 2 - 1] + v[k / 2])
    }
}

fn main() {
    if let Ok(spec) = std::env::var(CHILD) {
        let (k, mode) = spec.split_once(':').expect("k:mode");
        let parallelism = if mode == "side" {
            Parallelism::SideBySide
        } else {
            Parallelism::Sequential
        };
        // rayon's pool as the CLI builds it: each worker pinned to a core of its own.
        if let Err(e) = gibbs_fa::affinity::pinned_global_pool(None) {
            eprintln!("cannot build the thread pool: {e}");
        }
        child(k.parse().expect("chains"), parallelism);
        return;
    }
    let configs = [
        Config {
            name: "1 chain (2 GEMM threads)",
            chains: 1,
            parallelism: Parallelism::Sequential,
            matmul_threads: "2",
        },
        Config {
            name: "4 chains, sequential (2 GEMM threads)",
            chains: 4,
            parallelism: Parallelism::Sequential,
            matmul_threads: "2",
        },
        Config {
            name: "4 chains, side by side (1 GEMM thread)",
            chains: 4,
            parallelism: Parallelism::SideBySide,
            matmul_threads: "1",
        },
        Config {
            name: "4 chains, side by side (2 GEMM threads)",
            chains: 4,
            parallelism: Parallelism::SideBySide,
            matmul_threads: "2",
        },
    ];
    let repeats = env_usize("BENCH_REPEATS", 3);
    let exe = std::env::current_exe().expect("own path");
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); configs.len()];
    let mut memory: Vec<Vec<f64>> = vec![Vec::new(); configs.len()];
    println!(
        "N = {}, D = 784, M = 50, {} sweeps per chain, {repeats} repeats, {} cores",
        env_usize("BENCH_N", 10_000),
        env_usize("BENCH_SWEEPS", 200),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    for r in 0..repeats {
        for (c, config) in configs.iter().enumerate() {
            let mode = match config.parallelism {
                Parallelism::SideBySide => "side",
                Parallelism::Sequential => "seq",
            };
            let out = Command::new(&exe)
                .env(CHILD, format!("{}:{mode}", config.chains))
                .env("MATMUL_NUM_THREADS", config.matmul_threads)
                .output()
                .expect("child runs");
            assert!(
                out.status.success(),
                "{}: {}",
                config.name,
                String::from_utf8_lossy(&out.stderr)
            );
            let text = String::from_utf8_lossy(&out.stdout);
            let mut parts = text.split_whitespace();
            let secs: f64 = parts.next().and_then(|s| s.parse().ok()).expect("seconds");
            let mb: f64 = parts
                .next()
                .and_then(|s| s.parse().ok())
                .unwrap_or(f64::NAN);
            println!(
                "  run {}: {:<42} {secs:7.2} s  peak {mb:7.0} MB",
                r + 1,
                config.name
            );
            times[c].push(secs);
            memory[c].push(mb);
        }
    }
    let base = median(&mut times[0].clone());
    let base_mb = median(&mut memory[0].clone());
    println!("medians:");
    for (c, config) in configs.iter().enumerate() {
        let t = median(&mut times[c]);
        let mb = median(&mut memory[c]);
        println!(
            "  {:<42} {t:7.2} s  ratio {:5.2}  peak {mb:6.0} MB (4 x one chain + 100 MB = {:.0})",
            config.name,
            t / base,
            4.0 * base_mb + 100.0
        );
    }
}
