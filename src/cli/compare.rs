//! `gibbs-fa compare`: every imputer of [`gibbs_fa::baselines`] on the data, masks and noise
//! of `run`'s flags, sizes chosen on held-out pixels; writes `compare.json` (one object per
//! fit) and `validation_curves.json`, and prints the chosen fits as a table.
//!
//! Runs on the main thread; the library's progress callback (called on this same thread)
//! drives a progress bar on a terminal, or a line per method and every ten seconds otherwise.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use anyhow::{Context, bail};
use gibbs_fa::baselines::validation::{CompareSettings, Comparison, compare};
use gibbs_fa::baselines::{Control, HardImputeOptions, KnnOptions, Progress, SoftImputeOptions};
use indicatif::{ProgressBar, ProgressStyle};

use super::run::{
    RunArgs, build_experiment, configure_threads, experiment_spec, load, sampler_settings,
};

/// A method `compare` can leave out.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    HardImpute,
    SoftImpute,
    Knn,
    Fa,
}

#[derive(clap::Args, Debug)]
pub struct CompareArgs {
    /// Data, masks, noise, seed, threads and the factor model's settings, as for `run`
    /// (`--m` joins the M values tried, see `--fa-m`; `--sweeps` and `--burn-in` apply to
    /// every factor-analysis fit).
    #[command(flatten)]
    pub run: RunArgs,
    /// Share of the observed pixels held out to choose each method's size.
    #[arg(long, default_value_t = 0.05)]
    pub holdout: f64,
    /// Factor-analysis M values to try (default: 10, 20 and --m).
    #[arg(long, value_delimiter = ',')]
    pub fa_m: Option<Vec<usize>>,
    /// Hard-impute ranks to try.
    #[arg(long, value_delimiter = ',', default_values_t = [5, 10, 20, 30, 50])]
    pub ranks: Vec<usize>,
    /// SoftImpute: number of lambda values, from lambda_max down.
    #[arg(long, default_value_t = 8)]
    pub lambdas: usize,
    /// SoftImpute: the smallest lambda as a fraction of lambda_max.
    #[arg(long, default_value_t = 0.01)]
    pub lambda_min_ratio: f64,
    /// SoftImpute: largest rank of a fit.
    #[arg(long, default_value_t = 100)]
    pub max_rank: usize,
    /// Hard-impute and SoftImpute: most iterations per rank or lambda.
    #[arg(long, default_value_t = 100)]
    pub max_iters: usize,
    /// k-NN: neighbour counts to try.
    #[arg(long, value_delimiter = ',', default_values_t = [1, 3, 5, 10, 20])]
    pub ks: Vec<usize>,
    /// Mixture of factor analysers: KxM pairs to try, e.g. 10x20,20x40 (default: none).
    #[arg(long, value_delimiter = ',', value_parser = super::parse_shape, value_name = "KxM")]
    pub mfa: Vec<(usize, usize)>,
    /// Mixture of factor analysers: sweeps per fit (the second half averaged).
    #[arg(long, default_value_t = 50)]
    pub mfa_sweeps: usize,
    /// Methods to leave out (column means always run).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub skip: Vec<Method>,
}

pub fn run(args: CompareArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let r = &args.run;
    configure_threads(r.threads)?;
    let fa = sampler_settings(r)?;
    let spec = experiment_spec(r);
    spec.mask.validate()?;
    if r.n == 0 {
        bail!("--n must be at least 1");
    }
    let skip = |m: Method| args.skip.contains(&m);
    let mut fa_m = args
        .fa_m
        .clone()
        .unwrap_or_else(|| CompareSettings::default_fa_grid(r.m));
    fa_m.sort_unstable();
    fa_m.dedup();
    let mut ranks = args.ranks.clone();
    ranks.sort_unstable();
    ranks.dedup();
    let settings = CompareSettings {
        holdout_share: args.holdout,
        holdout_seed: r.seed,
        ranks: if skip(Method::HardImpute) {
            Vec::new()
        } else {
            ranks
        },
        hard: HardImputeOptions {
            max_iters: args.max_iters,
            seed: r.seed,
            ..HardImputeOptions::default()
        },
        lambda_count: if skip(Method::SoftImpute) {
            0
        } else {
            args.lambdas
        },
        lambda_min_ratio: args.lambda_min_ratio,
        soft: SoftImputeOptions {
            max_rank: args.max_rank,
            max_iters: args.max_iters,
            seed: r.seed,
            ..SoftImputeOptions::default()
        },
        ks: if skip(Method::Knn) {
            Vec::new()
        } else {
            args.ks.clone()
        },
        knn: KnnOptions::default(),
        fa_m: if skip(Method::Fa) { Vec::new() } else { fa_m },
        fa,
        mfa: args.mfa.clone(),
        mfa_sweeps: args.mfa_sweeps,
        keep_rows: Vec::new(),
    };
    if !settings.mfa.is_empty() && settings.mfa_sweeps < 2 {
        bail!("--mfa-sweeps must be at least 2");
    }
    if !(settings.lambda_min_ratio.is_finite()
        && settings.lambda_min_ratio > 0.0
        && settings.lambda_min_ratio < 1.0)
    {
        bail!("--lambda-min-ratio must be between 0 and 1");
    }
    for &m in &settings.fa_m {
        let mut f = settings.fa.clone();
        f.hyper.m = m;
        f.validate(r.n, 1)?;
    }

    let (dataset, _) = load(r)?;
    let experiment = build_experiment(r, &dataset, &spec)?;
    drop(dataset);
    let problem = experiment.problem;
    say!(
        "{} images of {} x {}, {:.1}% of pixels missing; holding out {:.1}% of the observed \
         pixels for validation",
        problem.n,
        experiment.height,
        experiment.width,
        100.0 * problem.missing_fraction(),
        100.0 * args.holdout
    );

    let reporter = Reporter::new();
    let report = |p: Progress| reporter.update(p);
    let cancel = AtomicBool::new(false);
    let control = Control {
        cancel: &cancel,
        progress: Some(&report),
    };
    let comparison = compare(&problem, &settings, control)?;
    reporter.finish();

    let out = &r.out;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let path = out.join("compare.json");
    let text = serde_json::to_string_pretty(&comparison.entries)?;
    std::fs::write(&path, text + "\n").with_context(|| format!("writing {}", path.display()))?;
    say!("wrote {}", path.display());
    let curves_path = out.join("validation_curves.json");
    let text = serde_json::to_string_pretty(&comparison.curves)?;
    std::fs::write(&curves_path, text + "\n")
        .with_context(|| format!("writing {}", curves_path.display()))?;
    say!("wrote {}", curves_path.display());
    print_table(&comparison);
    say!("{:.1} s in total", started.elapsed().as_secs_f64());
    Ok(())
}

/// The chosen fit of each method: method, setting, RMSEs, seconds.
fn print_table(c: &Comparison) {
    say!(
        "{:<16} {:<16} {:>12} {:>16} {:>9}",
        "method",
        "chosen",
        "RMSE masked",
        "RMSE validation",
        "seconds"
    );
    for e in c.chosen() {
        let setting = e.setting_label().chars().take(16).collect::<String>();
        let masked = e.rmse_masked.map_or("n/a".into(), |v| format!("{v:.2}"));
        say!(
            "{:<16} {:<16} {:>12} {:>16.2} {:>9.1}",
            e.method,
            setting,
            masked,
            e.rmse_validation,
            e.seconds
        );
    }
}

/// Progress on stderr: a bar on a terminal, otherwise a line when a method starts and at most
/// every ten seconds.
struct Reporter {
    bar: Option<ProgressBar>,
    state: Mutex<(String, Instant)>,
}

impl Reporter {
    fn new() -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(1);
            if let Ok(style) =
                ProgressStyle::with_template("{prefix:>16} {bar:30.cyan/blue} {pos}/{len} {msg}")
            {
                bar.set_style(style);
            }
            bar
        });
        Reporter {
            bar,
            state: Mutex::new((String::new(), Instant::now())),
        }
    }

    fn update(&self, p: Progress) {
        if let Some(bar) = &self.bar {
            bar.set_prefix(p.method);
            bar.set_length(p.total as u64);
            bar.set_position(p.done as u64);
            bar.set_message(p.detail);
            return;
        }
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        let new_method = state.0 != p.method;
        if new_method || state.1.elapsed().as_secs_f64() >= 10.0 || p.done == p.total {
            note!("{}: {}/{} {}", p.method, p.done, p.total, p.detail);
            *state = (p.method.to_string(), Instant::now());
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
