//! `gibbs-fa run --model mfa`: the mixture of factor analysers (SPEC 11) on `run`'s data,
//! masks and noise, with the outputs of `run` that make sense for it: `trace.csv` (RMSE of
//! each sweep's sample and of the running posterior mean, component sizes), the posterior
//! mean and std of the pixels as IDX files, `components.csv`, the figures
//! (`trace_rmse.png`, `reconstructions.png`, `posterior_std_digits.png`,
//! `component_means.png`) and `summary.json`. The log joint is not traced for the mixture.
//!
//! Runs on the main thread; the fit reports each sweep through a callback on this thread.

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use gibbs_fa::baselines::{Control, column_mean_impute, rmse_on};
use gibbs_fa::data::idx::write_idx_f32;
use gibbs_fa::experiment::Experiment;
use gibbs_fa::figures::{
    Colormap, GridStyle, LinePlot, Scaling, Tile, image_grid, pair_grid, save_png, titled,
};
use gibbs_fa::mfa::MfaHyper;
use gibbs_fa::mfa::fit::{MfaFitSettings, fit_run};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use super::outputs::{GRID, std_grid, write_text};
use super::{RunArgs, build_experiment, describe_origin, experiment_spec, load, sampler_settings};

/// One sweep's line of `trace.csv`.
struct Row {
    sweep: usize,
    rmse_sample: Option<f64>,
    rmse_posterior_mean: Option<f64>,
    seconds: f64,
    largest_component: usize,
    empty_components: usize,
}

/// Runs the mixture with `components` components (K) and `--m` factors each.
pub fn run(args: RunArgs, components: usize, alpha0: f64) -> anyhow::Result<()> {
    let started = Instant::now();
    super::configure_threads(args.threads)?;
    let fa = sampler_settings(&args)?;
    if args.chains != 1 {
        bail!("--chains is for --model fa; the mixture runs one chain");
    }
    if args.recentre {
        bail!("--recentre is for --model fa; the mixture's sampler has no such move");
    }
    if components == 0 {
        bail!("--components must be at least 1");
    }
    if !(alpha0.is_finite() && alpha0 > 0.0) {
        bail!("--alpha0 must be positive, got {alpha0}");
    }
    let spec = experiment_spec(&args);
    spec.mask.validate()?;
    if args.n == 0 {
        bail!("--n must be at least 1");
    }
    let settings = MfaFitSettings {
        hyper: MfaHyper {
            k: components,
            m: fa.hyper.m,
            alpha0,
            nu0: fa.hyper.nu0,
            sigmasq0: fa.hyper.sigmasq0,
            kappa0: fa.hyper.kappa0,
            lambda0: fa.hyper.lambda0,
        },
        sweeps: fa.sweeps,
        burn_in: fa.burn_in,
        seed: fa.seed,
    };

    let (dataset, _) = load(&args)?;
    let experiment = build_experiment(&args, &dataset, &spec)?;
    drop(dataset);
    let Experiment {
        n,
        height,
        width,
        problem,
        origin,
        ..
    } = experiment;
    let d = height * width;
    say!(
        "{n} images of {height} x {width}, {:.1}% of pixels missing; mixture of factor \
         analysers with K = {components}, M = {}, {} sweeps, burn-in {}",
        100.0 * problem.missing_fraction(),
        settings.hyper.m,
        settings.sweeps,
        settings.burn_in
    );
    let truth = problem.x_true.clone();
    let blind = gibbs_fa::model::Problem {
        x_true: None,
        ..problem.clone()
    };
    let rmse_mean_impute = truth.as_deref().and_then(|t| {
        column_mean_impute(&blind)
            .ok()
            .and_then(|c| rmse_on(&c, t, &problem.missing))
    });

    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(settings.sweeps as u64);
        if let Ok(style) = ProgressStyle::with_template("{bar:30.cyan/blue} {pos}/{len} {msg}") {
            bar.set_style(style);
        }
        bar
    } else {
        ProgressBar::hidden()
    };
    let every = settings.sweeps.div_ceil(10).max(1);
    let sampling_started = Instant::now();
    let mut last = Instant::now();
    let mut rows: Vec<Row> = Vec::with_capacity(settings.sweeps);
    let fitted = fit_run(&blind, &settings, Control::none(), |view| {
        let truth_at = |k: usize| truth.as_ref().map(|t| f64::from(t[k]));
        let rmse = |values: &mut dyn Iterator<Item = f64>| -> Option<f64> {
            let (mut sq, mut count) = (0.0, 0usize);
            for (v, &k) in values.zip(view.missing) {
                sq += (v - truth_at(k)?).powi(2);
                count += 1;
            }
            (count > 0).then(|| (sq / count as f64).sqrt())
        };
        let mut sizes = vec![0usize; components];
        for &c in &view.state.c {
            sizes[c.min(components - 1)] += 1;
        }
        let row = Row {
            sweep: view.sweep,
            rmse_sample: rmse(&mut view.sample()),
            rmse_posterior_mean: view.running_mean().and_then(|mut m| rmse(&mut m)),
            seconds: last.elapsed().as_secs_f64(),
            largest_component: sizes.iter().copied().max().unwrap_or(0),
            empty_components: sizes.iter().filter(|&&s| s == 0).count(),
        };
        last = Instant::now();
        let shown = |v: Option<f64>| v.map_or("n/a".into(), |v| format!("{v:.3}"));
        if bar.is_hidden() {
            if row.sweep.is_multiple_of(every) || row.sweep == settings.sweeps {
                note!(
                    "sweep {}/{}: RMSE {}, posterior mean {}",
                    row.sweep,
                    settings.sweeps,
                    shown(row.rmse_sample),
                    shown(row.rmse_posterior_mean)
                );
            }
        } else {
            bar.set_message(format!("RMSE {}", shown(row.rmse_sample)));
            bar.inc(1);
        }
        rows.push(row);
    })?;
    bar.finish_and_clear();
    let sampling_seconds = sampling_started.elapsed().as_secs_f64();

    let out = &args.out;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let mut written: Vec<PathBuf> = Vec::new();
    let opt = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    let mut trace = String::from(
        "iter,rmse_sample,rmse_posterior_mean,seconds,largest_component,empty_components\n",
    );
    for r in &rows {
        let _ = writeln!(
            trace,
            "{},{},{},{},{},{}",
            r.sweep,
            opt(r.rmse_sample),
            opt(r.rmse_posterior_mean),
            r.seconds,
            r.largest_component,
            r.empty_components
        );
    }
    written.push(write_text(out, "trace.csv", &trace)?);
    let state = &fitted.state;
    let mut table = String::from("component,weight,images\n");
    for k in 0..components {
        let count = state.c.iter().filter(|&&c| c == k).count();
        let _ = writeln!(table, "{k},{},{count}", state.pi[k]);
    }
    written.push(write_text(out, "components.csv", &table)?);
    for (name, values) in [
        ("reconstruction.idx", &fitted.mean),
        ("posterior_std.idx", &fitted.std),
    ] {
        let path = out.join(name);
        write_idx_f32(&path, &[n, height, width], values)?;
        written.push(path);
    }
    if !args.no_figures {
        let mut save = |name: &str, img: image::RgbImage| -> anyhow::Result<()> {
            let path = out.join(name);
            save_png(&img, &path).with_context(|| format!("writing {}", path.display()))?;
            written.push(path);
            Ok(())
        };
        let series = |f: fn(&Row) -> Option<f64>| -> Vec<(f64, f64)> {
            rows.iter()
                .filter_map(|r| f(r).map(|v| (r.sweep as f64, v)))
                .collect()
        };
        let mut plot = LinePlot::new("RMSE on the missing pixels (mixture)", "sweep", "RMSE")
            .series("this sweep's sample", series(|r| r.rmse_sample))
            .series("running posterior mean", series(|r| r.rmse_posterior_mean))
            .marker(settings.burn_in as f64, "end of burn-in");
        if let Some(baseline) = rmse_mean_impute {
            plot = plot.reference(baseline, "column-mean imputation");
        }
        if rows.iter().any(|r| r.rmse_sample.is_some()) {
            save("trace_rmse.png", plot.render()?)?;
        }
        let shown = n.min(GRID);
        let images = problem.x_true.as_deref().unwrap_or(&problem.x_observed);
        let pairs: Vec<(Tile, Tile)> = (0..shown)
            .map(|i| {
                let span = i * d..(i + 1) * d;
                (
                    Tile::masked(&images[span.clone()], &problem.missing[span.clone()]),
                    Tile::plain(&fitted.mean[span]),
                )
            })
            .collect();
        let style = GridStyle::new(Colormap::Gray, Scaling::Fixed { lo: 0.0, hi: 255.0 });
        save(
            "reconstructions.png",
            titled(
                &pair_grid(&pairs, height, width, &style)?,
                "Masked (missing in red) | mixture posterior-mean reconstruction",
            )?,
        )?;
        let stds: Vec<Tile> = (0..shown)
            .map(|i| Tile::plain(&fitted.std[i * d..(i + 1) * d]))
            .collect();
        let img = std_grid(&stds, height, width)?;
        save(
            "posterior_std_digits.png",
            titled(
                &img,
                "Posterior std of the missing pixels (0 where observed)",
            )?,
        )?;
        let means: Vec<Vec<f32>> = state
            .mu
            .iter()
            .take(GRID)
            .map(|m| m.iter().map(|&v| v as f32).collect())
            .collect();
        let refs: Vec<&[f32]> = means.iter().map(Vec::as_slice).collect();
        let style = GridStyle::new(Colormap::Gray, Scaling::Fixed { lo: 0.0, hi: 255.0 })
            .with_labels((1..=refs.len()).map(|k| format!("component {k}")));
        save(
            "component_means.png",
            titled(
                &image_grid(&refs, height, width, &style)?,
                "Component means mu_k (last sample)",
            )?,
        )?;
    }
    let last = rows.last();
    let summary = json!({
        "model": "mfa",
        "settings": {
            "k": components, "m": settings.hyper.m, "alpha0": alpha0,
            "nu0": settings.hyper.nu0, "sigmasq0": settings.hyper.sigmasq0,
            "kappa0": settings.hyper.kappa0, "lambda0": settings.hyper.lambda0,
            "sweeps": settings.sweeps, "burn_in": settings.burn_in, "seed": settings.seed,
        },
        "experiment": spec,
        "data": describe_origin(&origin),
        "mask_file": args.mask_file.as_ref().map(|p| p.display().to_string()),
        "n": n,
        "d": d,
        "height": height,
        "width": width,
        "sweeps": rows.len(),
        "burn_in": settings.burn_in,
        "samples_in_moments": fitted.kept,
        "missing_fraction": problem.missing_fraction(),
        "rmse_mean_impute": rmse_mean_impute,
        "rmse_posterior_mean": last.and_then(|r| r.rmse_posterior_mean),
        "rmse_last_sample": last.and_then(|r| r.rmse_sample),
        "component_sizes": (0..components)
            .map(|k| state.c.iter().filter(|&&c| c == k).count())
            .collect::<Vec<_>>(),
        "sampling_seconds": sampling_seconds,
        "threads": rayon::current_num_threads(),
        "total_seconds": started.elapsed().as_secs_f64(),
    });
    written.push(write_text(
        out,
        "summary.json",
        &(serde_json::to_string_pretty(&summary)? + "\n"),
    )?);
    for path in &written {
        say!("wrote {}", path.display());
    }
    let fmt = |v: Option<f64>| v.map_or("n/a".into(), |v| format!("{v:.3}"));
    say!(
        "RMSE on missing pixels: mixture posterior mean {}, last sample {}, column means {}; \
         {:.1} s in total",
        fmt(last.and_then(|r| r.rmse_posterior_mean)),
        fmt(last.and_then(|r| r.rmse_sample)),
        fmt(rmse_mean_impute),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
