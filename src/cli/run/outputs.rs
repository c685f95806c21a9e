//! What `gibbs-fa run` writes: the summary, the traces, posterior summaries, reconstructions
//! as IDX files, and PNG figures.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use gibbs_fa::chains::PooledPosterior;
use gibbs_fa::data::idx::{write_idx_f32, write_idx_f32_blocks};
use gibbs_fa::experiment::ExperimentSpec;
use gibbs_fa::figures::{
    Colormap, GridStyle, ImageFigure, LegendPosition, LinePlot, Scaling, Tile, image_figure,
    image_grid, pair_grid, save_png, tile_grid_with_colorbar, titled,
};
use gibbs_fa::model::{Fallbacks, GibbsSampler, ImageSummary, SweepRecord};
use serde_json::json;

/// Images (and factors) shown in each 5 x 5 grid.
pub const GRID: usize = 25;

/// The posterior std of several digits on one shared range, with its colour bar (`run`'s and
/// the mixture's `posterior_std_digits.png`).
pub(super) fn std_grid(
    stds: &[Tile],
    height: usize,
    width: usize,
) -> Result<image::RgbImage, gibbs_fa::figures::FigureError> {
    let style = GridStyle::new(Colormap::Sequential, Scaling::Grid);
    tile_grid_with_colorbar(stds, height, width, &style, "std")
}

/// The finished run, as the writers need it. With several chains, `sampler` and `records`
/// are chain 1's (its trace, W and figures of the traces) and `pooled` holds the posterior
/// over all chains (with one chain, exactly chain 1's own summaries).
pub struct RunResult<'a> {
    pub sampler: &'a GibbsSampler,
    pub records: &'a [SweepRecord],
    pub pooled: &'a PooledPosterior,
    pub chains: usize,
    pub height: usize,
    pub width: usize,
    /// The first (up to) 25 images of X_true and their masks, row-major.
    pub first_images: &'a [f32],
    pub first_masks: &'a [bool],
}

/// What the summary says besides the run itself.
pub struct SummaryContext<'a> {
    pub spec: &'a ExperimentSpec,
    pub data: String,
    /// Set when the images were filled up to N with shifted copies (`--tile-shifts`).
    pub tiling: Option<gibbs_fa::data::Tiling>,
    pub mask_file: Option<&'a Path>,
    pub threads: usize,
    pub sampling_seconds: f64,
    pub started: Instant,
}

/// `trace.csv`, `posterior_mu.csv`, `posterior_sigmasq.csv`, `W_last.csv`,
/// `reconstruction.idx`, `posterior_std.idx`.
pub fn write_tables(out: &Path, run: &RunResult) -> anyhow::Result<Vec<PathBuf>> {
    let s = run.sampler;
    let mut written = Vec::new();

    let mut trace = String::from("iter,log_joint,rmse_sample,rmse_posterior_mean,seconds\n");
    for r in run.records {
        let _ = writeln!(
            trace,
            "{},{},{},{},{}",
            r.iter,
            r.log_joint,
            opt(r.rmse_sample),
            opt(r.rmse_posterior_mean),
            r.seconds
        );
    }
    written.push(write_text(out, "trace.csv", &trace)?);

    for (name, moments) in [
        ("posterior_mu.csv", &run.pooled.mu),
        ("posterior_sigmasq.csv", &run.pooled.sigmasq),
    ] {
        let mut text = String::from("pixel,mean,std\n");
        for (k, (m, sd)) in moments.mean.iter().zip(&moments.std).enumerate() {
            let _ = writeln!(text, "{k},{m},{sd}");
        }
        written.push(write_text(out, name, &text)?);
    }

    // D rows of M loadings: row d is w_d, the loadings of pixel d.
    let w = s.w();
    let mut text = String::new();
    for row in 0..w.nrows() {
        let line: Vec<String> = (0..w.ncols()).map(|c| w[(row, c)].to_string()).collect();
        text.push_str(&line.join(","));
        text.push('\n');
    }
    written.push(write_text(out, "W_last.csv", &text)?);

    // N x H x W: the length of each array divided by the pixels per image.
    let dims = |values: &[f32]| {
        [
            values.len() / (run.height * run.width).max(1),
            run.height,
            run.width,
        ]
    };
    let pooled = run.pooled;
    let (n, d) = (pooled.n, run.height * run.width);
    // The two N x D files side by side (each is synced to disk before its rename).
    let write_one = |name: &str, std: bool| -> anyhow::Result<PathBuf> {
        let path = out.join(name);
        if pooled.mean.is_empty() && n * d > 0 {
            // One chain: written a block of images at a time from the sampler.
            let block = |start: usize| {
                let rows = start..(start + IMAGES_PER_BLOCK).min(n);
                let mut values = vec![0.0f32; rows.len() * d];
                if std {
                    s.posterior_std_rows(rows, &mut values);
                } else {
                    s.posterior_mean_rows(rows, &mut values);
                }
                values
            };
            let blocks = (0..n).step_by(IMAGES_PER_BLOCK).map(block);
            write_idx_f32_blocks(&path, &[n, run.height, run.width], n * d, blocks)?;
        } else {
            let values = if std { &pooled.std } else { &pooled.mean };
            write_idx_f32(&path, &dims(values), values)?;
        }
        Ok(path)
    };
    let (mean, std) = std::thread::scope(|scope| {
        let std = scope.spawn(|| write_one("posterior_std.idx", true));
        let mean = write_one("reconstruction.idx", false);
        (mean, super::joined(std))
    });
    written.push(mean?);
    written.push(std?);
    Ok(written)
}

/// Images per block when the posterior images are written from the sampler (3 MB each).
const IMAGES_PER_BLOCK: usize = 1024;

/// Images `rows` of the posterior mean and std, row-major (from the sampler, see
/// [`GibbsSampler::posterior_rows`]).
fn posterior_rows(s: &GibbsSampler, rows: std::ops::Range<usize>) -> (Vec<f32>, Vec<f32>) {
    let d = s.state().shape().1;
    let len = rows.len() * d;
    let (mut mean, mut std) = (vec![0.0f32; len], vec![0.0f32; len]);
    s.posterior_rows(rows, &mut mean, &mut std);
    (mean, std)
}

/// `summary.json`, written last so its timings cover the whole command.
pub fn write_summary(
    out: &Path,
    run: &RunResult,
    context: &SummaryContext,
) -> anyhow::Result<PathBuf> {
    let s = run.sampler;
    let settings = s.settings();
    let w = s.w();
    let first = run.records.first();
    let last = run.records.last();
    let median_ms = |f: fn(&SweepRecord) -> f64| median(run.records.iter().map(|r| f(r) * 1e3));
    let steps = json!({
        "z": median_ms(|r| r.steps.z),
        "w": median_ms(|r| r.steps.w),
        "mu": median_ms(|r| r.steps.mu),
        "sigmasq": median_ms(|r| r.steps.sigmasq),
        "x_missing": median_ms(|r| r.steps.x_missing),
        "log_joint": median_ms(|r| r.steps.log_joint),
        "moments": median_ms(|r| r.steps.moments),
    });
    // Numerical fallbacks over the whole run, every kind present (0 when none happened).
    let mut fallbacks = Fallbacks::default();
    for r in run.records {
        fallbacks.add(&r.fallbacks);
    }
    let fallbacks_json: serde_json::Map<String, serde_json::Value> = fallbacks
        .counts()
        .iter()
        .map(|&(kind, count)| (kind.to_string(), json!(count)))
        .collect();
    let summary = json!({
        "fallbacks": fallbacks_json,
        "fallbacks_total": fallbacks.total(),
        "settings": settings,
        "experiment": context.spec,
        "data": context.data,
        "tiling": context.tiling,
        "mask_file": context.mask_file.map(|p| p.display().to_string()),
        "n": context.spec.n,
        "d": w.nrows(),
        "m": w.ncols(),
        "height": run.height,
        "width": run.width,
        "sweeps": run.records.len(),
        "burn_in": settings.burn_in,
        "samples_in_moments": run.pooled.draws,
        "missing_fraction": s.missing_fraction(),
        "rmse_mean_impute": s.rmse_mean_impute(),
        "rmse_posterior_mean": if run.chains > 1 {
            run.pooled.rmse
        } else {
            last.and_then(|r| r.rmse_posterior_mean)
        },
        "rmse_posterior_mean_mcse": run.pooled.rmse_mcse,
        "chains": run.chains,
        "rmse_last_sample": last.and_then(|r| r.rmse_sample),
        "log_joint_first": first.map(|r| r.log_joint),
        "log_joint_last": last.map(|r| r.log_joint),
        "sweep_ms_median": median_ms(|r| r.seconds),
        "step_ms_median": steps,
        "sampling_seconds": context.sampling_seconds,
        "threads": context.threads,
        "total_seconds": context.started.elapsed().as_secs_f64(),
        "peak_memory_mb": peak_memory_mb(),
    });
    let text = serde_json::to_string_pretty(&summary)? + "\n";
    write_text(out, "summary.json", &text)
}

/// The PNG figures of the notebook's part 2, plus the posterior std images.
pub fn write_figures(out: &Path, run: &RunResult) -> anyhow::Result<Vec<PathBuf>> {
    let s = run.sampler;
    let (h, w) = (run.height, run.width);
    let d = h * w;
    let settings = s.settings();
    let burn_in = settings.burn_in as f64;
    let mut written = Vec::new();
    let mut save = |name: &str, img: image::RgbImage| -> anyhow::Result<()> {
        let path = out.join(name);
        save_png(&img, &path).with_context(|| format!("writing {}", path.display()))?;
        written.push(path);
        Ok(())
    };

    // Log joint: the first sweeps climb by orders of magnitude and would flatten the rest.
    let skip = if run.records.len() > 20 { 10 } else { 0 };
    let points: Vec<(f64, f64)> = run
        .records
        .iter()
        .skip(skip)
        .map(|r| (r.iter as f64, r.log_joint))
        .collect();
    let title = if skip > 0 {
        format!("Log joint probability (from sweep {})", skip + 1)
    } else {
        "Log joint probability".to_string()
    };
    let plot = LinePlot::new(title, "sweep", "log p(X, Z, W, mu, sigma^2)")
        .series("log joint", points)
        .marker(burn_in, "end of burn-in")
        .legend(LegendPosition::LowerRight);
    save("trace_log_joint.png", plot.render()?)?;

    let rmse = |f: fn(&SweepRecord) -> Option<f64>| -> Vec<(f64, f64)> {
        run.records
            .iter()
            .filter_map(|r| f(r).map(|v| (r.iter as f64, v)))
            .collect()
    };
    let mut plot = LinePlot::new("RMSE on the missing pixels", "sweep", "RMSE")
        .series("this sweep's sample", rmse(|r| r.rmse_sample))
        .series("running posterior mean", rmse(|r| r.rmse_posterior_mean))
        .marker(burn_in, "end of burn-in");
    if let Some(baseline) = s.rmse_mean_impute() {
        plot = plot.reference(baseline, "column-mean imputation");
    }
    save("trace_rmse.png", plot.render()?)?;

    let shown = (run.first_images.len() / d.max(1)).min(GRID);
    // Pooled over chains (chain 1's own summaries when there is one chain).
    let pooled = run.pooled;
    let shown = shown.min(pooled.n);
    // With one chain the pooled images are not materialised: the first ones come from the
    // sampler (the same values).
    let (first_mean, first_std) = if pooled.mean.is_empty() {
        posterior_rows(s, 0..shown)
    } else {
        (
            pooled.mean[..shown * d].to_vec(),
            pooled.std[..shown * d].to_vec(),
        )
    };
    let summaries: Vec<ImageSummary> = (0..shown)
        .map(|i| ImageSummary {
            index: i,
            current: Vec::new(),
            posterior_mean: first_mean[i * d..(i + 1) * d].to_vec(),
            posterior_std: first_std[i * d..(i + 1) * d].to_vec(),
            rmse: None,
        })
        .collect();
    if !summaries.is_empty() {
        let pairs: Vec<(Tile, Tile)> = summaries
            .iter()
            .map(|summary| {
                let i = summary.index;
                (
                    Tile::masked(
                        &run.first_images[i * d..(i + 1) * d],
                        &run.first_masks[i * d..(i + 1) * d],
                    ),
                    Tile::plain(&summary.posterior_mean),
                )
            })
            .collect();
        let style = GridStyle::new(Colormap::Gray, Scaling::Fixed { lo: 0.0, hi: 255.0 });
        let img = pair_grid(&pairs, h, w, &style)?;
        save(
            "reconstructions.png",
            titled(
                &img,
                "Masked (missing in red) | posterior-mean reconstruction",
            )?,
        )?;

        let stds: Vec<Tile> = summaries
            .iter()
            .map(|summary| Tile::plain(&summary.posterior_std))
            .collect();
        let img = std_grid(&stds, h, w)?;
        save(
            "posterior_std_digits.png",
            titled(
                &img,
                "Posterior std of the missing pixels (0 where observed)",
            )?,
        )?;
    }

    let wm = s.w();
    let factors: Vec<&[f32]> = (0..wm.ncols().min(GRID))
        .filter_map(|k| wm.as_slice().get(k * d..(k + 1) * d))
        .collect();
    if !factors.is_empty() {
        let style = GridStyle::new(Colormap::Diverging, Scaling::Image)
            .with_labels((1..=factors.len()).map(|k| format!("factor {k}")));
        let img = image_grid(&factors, h, w, &style)?;
        save(
            "factors.png",
            titled(&img, "Factors (columns of W, last sample; blue < 0 < red)")?,
        )?;
    }

    let mu = &run.pooled.mu;
    let fig = ImageFigure::new("Posterior mean of mu", Colormap::Sequential);
    save("posterior_mu.png", image_figure(&mu.mean, h, w, &fig)?)?;
    let sigma: Vec<f32> = run
        .pooled
        .sigmasq
        .mean
        .iter()
        .map(|v| v.max(0.0).sqrt())
        .collect();
    let mut fig = ImageFigure::new("Posterior mean of sigma^2, as sigma", Colormap::Sequential);
    fig.colorbar_label = "sigma".into();
    save("posterior_sigma.png", image_figure(&sigma, h, w, &fig)?)?;
    Ok(written)
}

/// The median of the values (None when there are none).
fn median(values: impl Iterator<Item = f64>) -> Option<f64> {
    let mut v: Vec<f64> = values.collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let k = v.len();
    Some(if !k.is_multiple_of(2) {
        v[k / 2]
    } else {
        0.5 * (v[k / 2 - 1] + v[k / 2])
    })
}

fn opt(v: Option<f64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

pub(super) fn write_text(out: &Path, name: &str, text: &str) -> anyhow::Result<PathBuf> {
    let path = out.join(name);
    gibbs_fa::atomic_write::write_bytes(&path, text.as_bytes())?;
    Ok(path)
}

/// Peak resident memory (VmHWM) in MB, where /proc tells it.
fn peak_memory_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}
