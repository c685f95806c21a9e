//! Times full Gibbs sweeps at the target size N = 10000, D = 784, M = 50 with ~10% of the pixels
//! missing, on synthetic low-rank data, beside the floor: the two products a sweep cannot avoid,
//! X A (N x D times D x M) and Z^T X (M x N times N x D), timed with faer's parallel f32 matmul on
//! all of rayon's threads, in the same process, at the same shapes, interleaved with the sweeps so
//! both see the same load. Prints per schedule the median, min and max per sweep, the median of
//! each step, and `floor_ms`, `sweep_ms` and `ratio` (medians; ratio = sweep_ms / floor_ms). Run
//! with `cargo bench --bench sweep`: both schedules (env SWEEP_SCHEDULE=notebook or blocked for
//! one, SWEEP_COUNT for the number of timed sweeps, SWEEP_N for the number of images, SWEEP_DUMP=1
//! to print every sweep's Z and X_miss times: medians hide a step that is slow in some sweeps only,
//! as the Z step was before the workers were pinned). `benches/figures.sh` runs it several times,
//! alternating the schedules, and summarises the runs.

use gibbs_fa::model::{GibbsSampler, Problem, SamplerSettings, Schedule, StepTimes};
use rand::SeedableRng;
use rand::rngs::SmallRng;
use rand_distr::{Distribution, StandardNormal};
use std::time::Instant;

mod common;
use common::{env_usize, synthetic_problem};

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The two reference products, timed once each with faer's f32 matmul at parallelism `par`:
/// (seconds for X A, seconds for Z^T X).
fn floor_once(
    x: faer::MatRef<'_, f32>,
    a: faer::MatRef<'_, f32>,
    z: faer::MatRef<'_, f32>,
    out: &mut (faer::Mat<f32>, faer::Mat<f32>),
    par: faer::Par,
) -> (f64, f64) {
    let start = Instant::now();
    faer::linalg::matmul::matmul(out.0.as_mut(), faer::Accum::Replace, x, a, 1.0f32, par);
    let t_xa = start.elapsed().as_secs_f64();
    let start = Instant::now();
    faer::linalg::matmul::matmul(
        out.1.as_mut(),
        faer::Accum::Replace,
        z.transpose(),
        x,
        1.0f32,
        par,
    );
    let t_ztx = start.elapsed().as_secs_f64();
    std::hint::black_box(&*out);
    (t_xa, t_ztx)
}

/// Medians in ms of a list of (X A, Z^T X) timings: (X A, Z^T X, both).
fn floor_medians(t: &[(f64, f64)]) -> (f64, f64, f64) {
    let mut xa: Vec<f64> = t.iter().map(|p| p.0).collect();
    let mut ztx: Vec<f64> = t.iter().map(|p| p.1).collect();
    let mut both: Vec<f64> = t.iter().map(|p| p.0 + p.1).collect();
    (
        median(&mut xa) * 1e3,
        median(&mut ztx) * 1e3,
        median(&mut both) * 1e3,
    )
}

fn main() {
    let schedules = match std::env::var("SWEEP_SCHEDULE").as_deref() {
        Ok("blocked") => vec![Schedule::Blocked],
        Ok("notebook") => vec![Schedule::Notebook],
        _ => vec![Schedule::Notebook, Schedule::Blocked],
    };
    // rayon's pool as the CLI builds it: each worker pinned to a core of its own.
    if let Err(e) = gibbs_fa::affinity::pinned_global_pool(None) {
        eprintln!("cannot build the thread pool: {e}");
    }
    let count = env_usize("SWEEP_COUNT", 30);
    let (n, d, m) = (env_usize("SWEEP_N", 10_000), 784, 50);
    let problem = synthetic_problem(n, d, 20, 0.1);
    println!(
        "{} rayon threads, {} cores available",
        rayon::current_num_threads(),
        std::thread::available_parallelism().map_or(0, |p| p.get())
    );
    for schedule in schedules {
        run(&problem, schedule, count, m);
    }
}

fn run(problem: &Problem, schedule: Schedule, count: usize, m: usize) {
    let (n, d) = (problem.n, problem.d);
    let mut settings = SamplerSettings {
        schedule,
        ..SamplerSettings::default()
    };
    settings.hyper.m = m;
    settings.burn_in = 3;
    let mut sampler = match GibbsSampler::new(problem, &settings) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("cannot build the sampler: {e}");
            std::process::exit(1);
        }
    };
    for _ in 0..5 {
        sampler.sweep();
    }
    // Reference operands: the sampler's X~ (the completed X shifted by its column means, the
    // N x D matrix the sweep's own products read) and current Z, and a D x M matrix A.
    let mut rng = SmallRng::seed_from_u64(9);
    let a = faer::Mat::<f32>::from_fn(d, m, |_, _| StandardNormal.sample(&mut rng));
    let mut out = (faer::Mat::<f32>::zeros(n, m), faer::Mat::<f32>::zeros(m, d));
    let threads = rayon::current_num_threads();
    let parallel = faer::Par::rayon(threads);
    let (mut floor_par, mut floor_seq) = (Vec::new(), Vec::new());
    let mut records = Vec::with_capacity(count);
    for _ in 0..count {
        {
            let state = sampler.state();
            let x = faer::MatRef::from_column_major_slice(state.shifted_x().as_slice(), n, d);
            let z = faer::MatRef::from_column_major_slice(state.z().as_slice(), n, m);
            floor_par.push(floor_once(x, a.as_ref(), z, &mut out, parallel));
            floor_seq.push(floor_once(x, a.as_ref(), z, &mut out, faer::Par::Seq));
        }
        records.push(sampler.sweep());
    }
    if std::env::var_os("SWEEP_DUMP").is_some() {
        let each = |f: fn(&StepTimes) -> f64| {
            let ms: Vec<String> = records
                .iter()
                .map(|r| format!("{:.1}", f(&r.steps) * 1e3))
                .collect();
            ms.join(" ")
        };
        println!("Z step of each sweep (ms): {}", each(|s| s.z));
        println!("X_miss step of each sweep (ms): {}", each(|s| s.x_missing));
    }
    let mut total: Vec<f64> = records.iter().map(|r| r.seconds).collect();
    let step = |f: fn(&StepTimes) -> f64| {
        let mut v: Vec<f64> = records.iter().map(|r| f(&r.steps)).collect();
        median(&mut v) * 1e3
    };
    println!(
        "sweep N={n} D={d} M={m}, {:.1}% missing, schedule {schedule:?}, {count} timed sweeps",
        100.0 * sampler.missing_fraction()
    );
    let med = median(&mut total) * 1e3;
    println!(
        "per sweep: median {med:.1} ms, min {:.1} ms, max {:.1} ms",
        total[0] * 1e3,
        total[total.len() - 1] * 1e3
    );
    println!(
        "step medians (ms): Z {:.2}, W {:.2}, mu {:.2}, sigma^2 {:.2}, X_miss {:.2}, log joint {:.2}, moments+RMSE {:.2}",
        step(|s| s.z),
        step(|s| s.w),
        step(|s| s.mu),
        step(|s| s.sigmasq),
        step(|s| s.x_missing),
        step(|s| s.log_joint),
        step(|s| s.moments)
    );
    // The 90th percentiles show a noisy spell of the host that covered only part of the run
    // (the X_miss pass slows two- to threefold in them; benches/figures.sh marks such runs).
    let p90 = |f: fn(&StepTimes) -> f64| {
        let mut v: Vec<f64> = records.iter().map(|r| f(&r.steps)).collect();
        v.sort_by(f64::total_cmp);
        v.get(v.len() * 9 / 10).map_or(f64::NAN, |x| x * 1e3)
    };
    println!(
        "step p90s (ms): Z {:.2}, X_miss {:.2}",
        p90(|s| s.z),
        p90(|s| s.x_missing)
    );
    if let Some(last) = records.last() {
        println!(
            "last sweep: log joint {:.4e}, RMSE sample {:?}, posterior mean {:?} (mean imputation {:?})",
            last.log_joint,
            last.rmse_sample,
            last.rmse_posterior_mean,
            sampler.rmse_mean_impute()
        );
    }
    // floor_ms is the floor: both products with faer's parallel matmul on all of
    // rayon's threads. On a loaded machine faer's parallel kernels can be slower than its
    // single-threaded ones, so those are printed too (floor_seq_ms).
    let (p_xa, p_ztx, floor_ms) = floor_medians(&floor_par);
    let (s_xa, s_ztx, floor_seq_ms) = floor_medians(&floor_seq);
    println!(
        "floor (faer, medians): Par::rayon({threads}) X A {p_xa:.1} ms, Z^T X {p_ztx:.1} ms; Par::Seq X A {s_xa:.1} ms, Z^T X {s_ztx:.1} ms"
    );
    println!("{schedule:?} floor_ms {floor_ms:.1}");
    println!("{schedule:?} floor_seq_ms {floor_seq_ms:.1}");
    println!("{schedule:?} sweep_ms {med:.1}");
    println!("{schedule:?} ratio {:.2}", med / floor_ms);
    println!("{schedule:?} ratio_seq {:.2}", med / floor_seq_ms);
}
