//! `gibbs-fa run`: prepare data as the notebook does, run the Gibbs sampler headless with a
//! progress bar, and write traces, posterior summaries, reconstructions and figures.

mod chains;
mod mfa;
mod outputs;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use gibbs_fa::chains::{BATCH_ROUNDS, ChainsOptions, MAX_CHAINS, MultiChain, Parallelism};
use gibbs_fa::data::locate::{describe_search, find_data};
use gibbs_fa::data::{DataOrigin, Dataset, Tiling, tile_with_shifts};
use gibbs_fa::experiment::{self, Experiment, ExperimentSpec, NOTEBOOK_SEED};
use gibbs_fa::masks::{MaskKind, MaskParams, read_mask_file};
use gibbs_fa::model::{
    Hyperparameters, Prior, SamplerSettings, Schedule, SweepRecord, validate_run_length,
};
use indicatif::{ProgressBar, ProgressStyle};

/// The prior on W, as named on the command line.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PriorName {
    /// Rows of W ~ N(0, sigma_d^2 / kappa0 I): the notebook's model.
    Isotropic,
    /// Rows of W ~ N(0, sigma_d^2 diag(tau0 rho^m)): orders the factors.
    Decaying,
}

/// The order of updates in a sweep, as named on the command line.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScheduleName {
    /// Z, W, mu, sigma^2, X_miss (the notebook's order).
    Notebook,
    /// Z, then (w_d, mu_d, sigma_d^2) jointly, then X_miss.
    Blocked,
}

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// Dataset: a folder holding MNIST, an IDX file of any element type (gzipped or raw), a
    /// CSV file or a folder of PNGs. Without it: $GIBBS_FA_DATA, then the cache folder, then
    /// the built-in synthetic digits.
    #[arg(long, value_name = "PATH")]
    pub data: Option<PathBuf>,
    /// Image shape HxW, for CSV or 2-D IDX files whose pixel count is not 784 or a square.
    #[arg(long, value_name = "HxW", value_parser = super::parse_shape)]
    pub shape: Option<(usize, usize)>,
    /// Folder for the results (created if needed).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Number of images taken from the start of the dataset.
    #[arg(long, default_value_t = 10_000)]
    pub n: usize,
    /// When --n is larger than the dataset, fill up to N with copies of its images shifted by
    /// up to 2 pixels (random per copy, seeded by --seed), e.g. --n 60000 on the 10,000 MNIST
    /// test digits. Without it, asking for more images than the dataset holds is an error.
    #[arg(long)]
    pub tile_shifts: bool,
    /// Standard deviation of the Gaussian noise added to every pixel.
    #[arg(long, default_value_t = 3.0, allow_negative_numbers = true)]
    pub noise_std: f32,
    /// Mask generator: mix, line, circle or speckle.
    #[arg(long, default_value_t = MaskKind::Mix)]
    pub mask: MaskKind,
    /// Line masks: pixels closer than this to the line are missing.
    #[arg(long, default_value_t = 2.0, allow_negative_numbers = true)]
    pub line_width: f64,
    /// Circle masks: mean radius (pixels).
    #[arg(long, default_value_t = 3.0, allow_negative_numbers = true)]
    pub circle_radius: f64,
    /// Speckle masks: probability that a pixel is missing.
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true)]
    pub speckle_p: f64,
    /// Read masks from an IDX file instead (nonzero = missing); overrides --mask.
    #[arg(long, value_name = "PATH")]
    pub mask_file: Option<PathBuf>,
    /// Number of factors M.
    #[arg(long, default_value_t = 50)]
    pub m: usize,
    /// Prior degrees of freedom of each sigma_d^2.
    #[arg(long, default_value_t = 1.1, allow_negative_numbers = true)]
    pub nu0: f64,
    /// Prior scale of each sigma_d^2.
    #[arg(long, default_value_t = 10.0, allow_negative_numbers = true)]
    pub sigmasq0: f64,
    /// Prior precision of the rows of W (relative to sigma_d^2), isotropic prior.
    #[arg(long, default_value_t = 0.01, allow_negative_numbers = true)]
    pub kappa0: f64,
    /// Prior precision of mu (relative to sigma_d^2).
    #[arg(long, default_value_t = 0.01, allow_negative_numbers = true)]
    pub lambda0: f64,
    /// Prior on W.
    #[arg(long, value_enum, default_value_t = PriorName::Isotropic)]
    pub prior: PriorName,
    /// Decaying prior: variance of the first factor's loadings (relative to sigma_d^2).
    #[arg(long, default_value_t = 100.0, allow_negative_numbers = true)]
    pub tau0: f64,
    /// Decaying prior: ratio of the variances of successive factors, in (0, 1].
    #[arg(long, default_value_t = 0.9, allow_negative_numbers = true)]
    pub rho: f64,
    /// Order of the updates in a sweep.
    #[arg(long, value_enum, default_value_t = ScheduleName::Notebook)]
    pub schedule: ScheduleName,
    /// Start each sweep with the recentring move: a draw of the shift c in z_n -> z_n - c,
    /// mu -> mu + W c, which leaves the likelihood unchanged (an extension beyond SPEC, the
    /// same posterior; with --chains, chains whose mu starts apart meet within about fifty
    /// sweeps on MNIST instead of staying apart for hundreds). --model fa only.
    #[arg(long)]
    pub recentre: bool,
    /// Number of sweeps.
    #[arg(long, default_value_t = 200)]
    pub sweeps: usize,
    /// Sweeps before the posterior averages start (default: half of --sweeps).
    #[arg(long)]
    pub burn_in: Option<usize>,
    /// Number of chains (1 to 8). Chain 1 is the single-chain run; the others start from
    /// dispersed points with seeds derived from --seed. Adds draws.csv and diagnostics.json;
    /// posterior files are pooled over the chains.
    #[arg(long, default_value_t = 1)]
    pub chains: usize,
    /// Seed of the noise, the masks, the synthetic digits and the sampler.
    #[arg(long, default_value_t = NOTEBOOK_SEED)]
    pub seed: u64,
    /// Worker threads for the linear algebra and the parallel loops (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Skip the PNG figures (the CSV, IDX and JSON files are still written).
    #[arg(long)]
    pub no_figures: bool,
}

/// The model `run` fits.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelName {
    /// The notebook's factor analysis (SPEC 4).
    Fa,
    /// A mixture of factor analysers (SPEC 11): --components K, --m factors each.
    Mfa,
}

/// `gibbs-fa run`: `RunArgs` (shared with `compare`) plus the choice of model.
#[derive(clap::Args, Debug)]
pub struct RunCommand {
    #[command(flatten)]
    pub args: RunArgs,
    /// The model: fa (the notebook's factor analysis) or mfa (a mixture of factor analysers,
    /// which uses --m, --nu0, --sigmasq0, --kappa0, --lambda0, --sweeps, --burn-in and --seed).
    #[arg(long, value_enum, default_value_t = ModelName::Fa)]
    pub model: ModelName,
    /// Mixture: number of components K (with --model mfa).
    #[arg(long, default_value_t = 10)]
    pub components: usize,
    /// Mixture: Dirichlet concentration alpha0 of the weights (with --model mfa).
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    pub alpha0: f64,
}

/// Runs the chosen model.
pub fn run_command(command: RunCommand) -> anyhow::Result<()> {
    match command.model {
        ModelName::Fa => run(command.args),
        ModelName::Mfa => mfa::run(command.args, command.components, command.alpha0),
    }
}

pub fn run(args: RunArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    if args.chains > 1 && std::env::var_os("MATMUL_NUM_THREADS").is_none() {
        // Several chains run side by side, each with single-threaded GEMMs (measured faster
        // than one chain after the other with two GEMM threads: see benches/chains.rs).
        // SAFETY: as in configure_threads, before this process starts any other thread.
        unsafe { std::env::set_var("MATMUL_NUM_THREADS", "1") };
    }
    configure_threads(args.threads)?;
    let settings = sampler_settings(&args)?;
    let spec = experiment_spec(&args);
    spec.mask.validate()?;
    if args.n == 0 {
        bail!("--n must be at least 1");
    }
    if args.chains == 0 || args.chains > MAX_CHAINS {
        bail!(
            "--chains must be between 1 and {MAX_CHAINS}, got {}",
            args.chains
        );
    }

    let (dataset, tiling) = load(&args)?;
    let experiment = build_experiment(&args, &dataset, &spec)?;
    drop(dataset);
    let Experiment {
        n,
        height,
        width,
        x_true,
        mask,
        problem,
        origin,
        ..
    } = experiment;
    let d = height * width;
    // Keep only what the figures show; the sampler holds its own copy of the data.
    let shown = n.min(outputs::GRID);
    let first_images = x_true[..shown * d].to_vec();
    let first_masks = mask.missing[..shown * d].to_vec();
    drop(x_true);
    drop(mask);
    say!(
        "{n} images of {height} x {width}, {:.1}% of pixels missing ({}); M = {}, {} sweeps, \
         burn-in {}",
        100.0 * problem.missing_fraction(),
        match &args.mask_file {
            Some(p) => format!("masks from {}", p.display()),
            None => format!("{} masks", args.mask),
        },
        settings.hyper.m,
        settings.sweeps,
        settings.burn_in
    );

    let options = ChainsOptions {
        chains: args.chains,
        parallelism: if args.chains > 1 {
            Parallelism::SideBySide
        } else {
            Parallelism::Sequential
        },
        pixels: None,
        first_chain: 0,
    };
    let mut chains = MultiChain::new(&problem, &settings, &options)?;
    drop(problem);
    let sampling_started = Instant::now();
    let records = sweep_all(&mut chains, settings.sweeps);
    let sampling_seconds = sampling_started.elapsed().as_secs_f64();
    let sampler = chains.chains()[0].sampler();
    // With one chain, the posterior images stay in the sampler (written a block at a time).
    let pooled = chains.pooled_compact();
    let diagnostics = chains.diagnostics()?;

    let out = &args.out;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let run = outputs::RunResult {
        sampler,
        records: &records,
        pooled: &pooled,
        chains: args.chains,
        height,
        width,
        first_images: &first_images,
        first_masks: &first_masks,
    };
    // The tables, the draws with the diagnostics, and the figures are written side by side:
    // each file is synced to disk before its rename, so written one after another the run
    // waited for each sync in turn (0.05 to 0.2 s of a 5 s run here).
    let (tables, draws, figures) = std::thread::scope(|scope| {
        let draws = scope.spawn(|| -> anyhow::Result<Vec<PathBuf>> {
            Ok(vec![
                chains::write_draws(out, &chains)?,
                chains::write_diagnostics(out, &chains, &diagnostics, &pooled)?,
            ])
        });
        let figures = scope.spawn(|| {
            if args.no_figures {
                Ok(Vec::new())
            } else {
                outputs::write_figures(out, &run)
            }
        });
        let tables = outputs::write_tables(out, &run);
        (tables, joined(draws), joined(figures))
    });
    let mut written = tables?;
    written.extend(draws?);
    written.extend(figures?);
    let context = outputs::SummaryContext {
        spec: &spec,
        data: describe_origin(&origin),
        tiling,
        mask_file: args.mask_file.as_deref(),
        threads: rayon::current_num_threads(),
        sampling_seconds,
        started,
    };
    written.push(outputs::write_summary(out, &run, &context)?);
    for path in &written {
        say!("wrote {}", path.display());
    }
    if args.chains > 1 {
        let agree = if diagnostics.chains_agree() {
            "agree"
        } else {
            "do not agree yet"
        };
        let worst = diagnostics
            .scalars
            .iter()
            .filter_map(|(name, d)| d.and_then(|d| d.rhat).map(|r| (name, r)))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((name, r)) = worst {
            say!(
                "{} chains {agree}: largest R-hat {r:.3} ({name}); pooled RMSE {} (MCSE {})",
                args.chains,
                fmt_opt(pooled.rmse),
                fmt_opt(pooled.rmse_mcse)
            );
        }
        if diagnostics.mu.far_apart() && !args.recentre {
            say!(
                "mu's R-hat reaches {}: the chains likely sit at different points of the mu / \
                 z-bar ridge, which the Gibbs steps cross slowly; --recentre moves along it \
                 every sweep (the same posterior)",
                fmt_opt(diagnostics.mu.max)
            );
        }
    }
    if let Some(last) = records.last() {
        say!(
            "RMSE on missing pixels: posterior mean {}, last sample {}, column means {}; \
             {:.1} s in total",
            fmt_opt(if args.chains > 1 {
                pooled.rmse
            } else {
                last.rmse_posterior_mean
            }),
            fmt_opt(last.rmse_sample),
            fmt_opt(sampler.rmse_mean_impute()),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// The experiment of the flags: masks from `--mask-file` or drawn from `--mask` and its
/// settings (shared with `compare`).
pub(super) fn build_experiment(
    args: &RunArgs,
    dataset: &Dataset,
    spec: &ExperimentSpec,
) -> anyhow::Result<Experiment> {
    Ok(match &args.mask_file {
        Some(path) => {
            let masks = read_mask_file(path, args.n, dataset.height, dataset.width)
                .with_context(|| format!("reading masks from {}", path.display()))?;
            experiment::build_with_masks(dataset, spec, masks)?
        }
        None => experiment::build(dataset, spec)?,
    })
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".to_string(), |v| format!("{v:.3}"))
}

/// Sizes the rayon pool and matrixmultiply's threads. matrixmultiply reads
/// `MATMUL_NUM_THREADS` once, at its first product, so this runs before any linear algebra.
pub(super) fn configure_threads(threads: Option<usize>) -> anyhow::Result<()> {
    if let Some(threads) = threads {
        if threads == 0 || threads > 1024 {
            bail!("--threads must be between 1 and 1024, got {threads}");
        }
        // SAFETY: called at the start of the command, before this process starts any other
        // thread (no rayon pool, no sampler yet), so nothing reads the environment concurrently.
        unsafe { std::env::set_var("MATMUL_NUM_THREADS", threads.to_string()) };
    }
    // Each worker on a core of its own (see gibbs_fa::affinity). Without --threads a pool
    // that already exists (a second command in one process) is simply used.
    match gibbs_fa::affinity::pinned_global_pool(threads) {
        Err(e) if threads.is_some() => Err(e).context("setting up the thread pool"),
        _ => Ok(()),
    }
}

/// The sampler's settings from the flags, checked before any data is loaded.
pub(super) fn sampler_settings(args: &RunArgs) -> anyhow::Result<SamplerSettings> {
    let hyper = Hyperparameters {
        m: args.m,
        nu0: args.nu0,
        sigmasq0: args.sigmasq0,
        kappa0: args.kappa0,
        lambda0: args.lambda0,
    };
    let prior = match args.prior {
        PriorName::Isotropic => Prior::Isotropic,
        PriorName::Decaying => Prior::Decaying {
            tau0: args.tau0,
            rho: args.rho,
        },
    };
    let schedule = match args.schedule {
        ScheduleName::Notebook => Schedule::Notebook,
        ScheduleName::Blocked => Schedule::Blocked,
    };
    let burn_in = args.burn_in.unwrap_or(args.sweeps / 2);
    hyper.validate()?;
    prior.validate()?;
    validate_run_length(args.sweeps, burn_in)?;
    Ok(SamplerSettings {
        hyper,
        prior,
        schedule,
        recentre: args.recentre,
        sweeps: args.sweeps,
        burn_in,
        seed: args.seed,
    })
}

pub(super) fn experiment_spec(args: &RunArgs) -> ExperimentSpec {
    ExperimentSpec {
        n: args.n,
        noise_std: args.noise_std,
        noise_seed: args.seed,
        mask: MaskParams {
            kind: args.mask,
            line_width: args.line_width,
            circle_mean_radius: args.circle_radius,
            speckle_p: args.speckle_p,
            ..MaskParams::default()
        },
        mask_seed: args.seed,
    }
}

/// The dataset, saying where it came from; synthetic data is announced as such. With
/// `--tile-shifts` and `--n` above its size, filled up to N with shifted copies (said on
/// stdout, and returned for the summary).
pub(super) fn load(args: &RunArgs) -> anyhow::Result<(Dataset, Option<Tiling>)> {
    let source = find_data(args.data.as_deref());
    let data = source
        .load(args.shape, args.n, args.seed)
        .with_context(|| format!("loading {}", source.describe()))?;
    if data.origin == DataOrigin::Synthetic {
        note!("note: MNIST was not found, so this run uses the built-in synthetic digits.");
        note!("{}", describe_search(args.data.as_deref()));
    } else {
        say!("data: {}", source.describe());
    }
    if !(args.tile_shifts && args.n > data.n) {
        return Ok((data, None));
    }
    let (tiled, tiling) = tile_with_shifts(&data, args.n, args.seed)
        .with_context(|| format!("filling up to --n {} with shifted copies", args.n))?;
    say!(
        "data: tiled to {} images: the {} images, then {} copies shifted by up to {} pixels",
        tiled.n,
        tiling.source_images,
        tiling.copies,
        tiling.max_shift
    );
    Ok((tiled, Some(tiling)))
}

pub(super) fn describe_origin(origin: &DataOrigin) -> String {
    match origin {
        DataOrigin::Mnist(p) => format!("MNIST at {}", p.display()),
        DataOrigin::File(p) => format!("file {}", p.display()),
        DataOrigin::Synthetic => "built-in synthetic digits (not MNIST)".to_string(),
    }
}

/// Runs every sweep of every chain with a progress bar on a terminal (sweeps per second and
/// chain 1's current RMSE), or a line every tenth of the run otherwise. Returns chain 1's
/// records.
fn sweep_all(chains: &mut MultiChain, sweeps: usize) -> Vec<SweepRecord> {
    let terminal = std::io::stderr().is_terminal();
    let bar = if terminal {
        let bar = ProgressBar::new(sweeps as u64);
        if let Ok(style) =
            ProgressStyle::with_template("{bar:30.cyan/blue} {pos}/{len} {msg} eta {eta}")
        {
            bar.set_style(style);
        }
        bar
    } else {
        ProgressBar::hidden()
    };
    let every = sweeps.div_ceil(10).max(1);
    let start = Instant::now();
    let mut records = Vec::with_capacity(sweeps);
    // In batches (each chain's sweeps in a row, faster with several chains), each round
    // reported as it would be alone.
    let batches = std::iter::from_fn(|| {
        (!chains.is_done()).then(|| chains.rounds(chains.rounds_left().min(BATCH_ROUNDS)))
    });
    for round in batches.flatten() {
        let Some(record) = round.into_iter().next().map(|r| r.record) else {
            break;
        };
        let rmse = fmt_opt(record.rmse_sample);
        let rate = record.iter as f64 / start.elapsed().as_secs_f64().max(1e-9);
        if terminal {
            bar.set_message(format!("{rate:.1} sweeps/s  RMSE {rmse}"));
            bar.inc(1);
        } else if record.iter.is_multiple_of(every) || record.iter == sweeps {
            note!(
                "sweep {}/{sweeps}: log joint {:.6e}, RMSE {rmse}, {rate:.1} sweeps/s",
                record.iter,
                record.log_joint
            );
        }
        records.push(record);
    }
    bar.finish_and_clear();
    records
}

/// The result of a writer thread; its panic, if any, is passed on.
fn joined<T>(handle: std::thread::ScopedJoinHandle<'_, anyhow::Result<T>>) -> anyhow::Result<T> {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}
