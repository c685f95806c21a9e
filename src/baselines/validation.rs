//! Held-out validation: hide an extra share of the observed pixels, fit every method on the
//! rest, score it on the hidden ones, and choose each method's size parameter (r, lambda, k,
//! M) by that validation RMSE. The truth of the held-out pixels never reaches a fit: the
//! training problem holds NaN there and no truth at all ([`Holdout::train`]); the scores
//! are computed afterwards from the original problem.
//!
//! [`compare`] runs every method over its grid and returns a [`Comparison`]: one
//! [`Entry`] per fit (what `gibbs-fa compare` writes as `compare.json`) and one
//! [`ValidationCurve`] per method, e.g. RMSE against M for factor analysis ("which M should I
//! use?"), for a front end to plot. Every fit, the chosen one included, is made on the
//! training pixels, so `rmse_masked` of each entry comes from the same fit as its
//! `rmse_validation` (with 5% fewer observed pixels than a fit on everything would have).
//!
//! Threads: [`compare`] blocks its caller for the whole comparison (minutes at the notebook's
//! size, most of it in the Gibbs fits); run it on a worker thread with a [`Control`].

use std::time::Instant;

use rand::SeedableRng;
use rand::rngs::SmallRng;
use rand::seq::index::sample;
use serde::Serialize;
use serde_json::{Value, json};

use super::{
    BaselineError, Control, HardImputeOptions, KnnOptions, PathFit, SoftImputeOptions,
    check_problem, column_mean_impute, hard_impute_path, knn_impute_path, rmse_on,
    soft_impute::{lambda_max, lambda_path},
    soft_impute_path, without_truth,
};
use crate::mfa::MfaHyper;
use crate::mfa::fit::MfaFitSettings;
use crate::model::{GibbsSampler, Problem, SamplerSettings};

/// Default share of observed pixels held out for validation.
pub const DEFAULT_HOLDOUT_SHARE: f64 = 0.05;

/// A problem split into what the fits see and what they are scored on.
#[derive(Clone, Debug, PartialEq)]
pub struct Holdout {
    /// The original mask plus the held-out pixels as missing (NaN values there), no truth.
    pub train: Problem,
    /// N x D row-major, true at the held-out pixels (observed in the original problem).
    pub held_out: Vec<bool>,
}

/// Hides round(`share` x observed) observed pixels, chosen uniformly with `seed`. The choice
/// depends only on the mask, the share and the seed, never on the values.
pub fn hold_out(problem: &Problem, share: f64, seed: u64) -> Result<Holdout, BaselineError> {
    check_problem(problem)?;
    if !(share.is_finite() && share > 0.0 && share < 1.0) {
        return Err(BaselineError::InvalidParameter {
            name: "held-out share",
            value: share,
            requirement: "strictly between 0 and 1",
        });
    }
    let observed: Vec<usize> = (0..problem.missing.len())
        .filter(|&k| !problem.missing[k])
        .collect();
    let count = (share * observed.len() as f64).round() as usize;
    if count == 0 {
        return Err(BaselineError::Holdout("the share rounds to no pixel"));
    }
    if count >= observed.len() {
        return Err(BaselineError::Holdout("nothing would be left to fit on"));
    }
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut held_out = vec![false; problem.missing.len()];
    for p in sample(&mut rng, observed.len(), count) {
        held_out[observed[p]] = true;
    }
    let mut train = without_truth(problem);
    for (k, &h) in held_out.iter().enumerate() {
        if h {
            train.missing[k] = true;
            train.x_observed[k] = f32::NAN;
        }
    }
    Ok(Holdout { train, held_out })
}

/// What to compare, and over which grids.
#[derive(Clone, Debug, PartialEq)]
pub struct CompareSettings {
    /// Share of observed pixels held out, and the seed choosing them.
    pub holdout_share: f64,
    pub holdout_seed: u64,
    /// Hard-impute ranks (empty: skip the method).
    pub ranks: Vec<usize>,
    pub hard: HardImputeOptions,
    /// SoftImpute: this many lambdas from lambda_max down to lambda_max x `lambda_min_ratio`
    /// (0: skip the method).
    pub lambda_count: usize,
    pub lambda_min_ratio: f64,
    pub soft: SoftImputeOptions,
    /// k-NN neighbour counts (empty: skip).
    pub ks: Vec<usize>,
    pub knn: KnnOptions,
    /// Factor-analysis M values (empty: skip); every other setting from `fa`.
    pub fa_m: Vec<usize>,
    pub fa: SamplerSettings,
    /// Mixture of factor analysers: (K, M) pairs to try (empty: skip), each with
    /// `mfa_sweeps` sweeps averaged over the second half, seeded by `fa.seed`.
    pub mfa: Vec<(usize, usize)>,
    pub mfa_sweeps: usize,
    /// Images whose completed rows every [`Entry`] keeps (in [`Entry::rows`]), so a front end
    /// can show each method's reconstructions side by side (empty: none kept).
    pub keep_rows: Vec<usize>,
}

impl Default for CompareSettings {
    fn default() -> Self {
        CompareSettings {
            holdout_share: DEFAULT_HOLDOUT_SHARE,
            holdout_seed: 0,
            ranks: vec![5, 10, 20, 30, 50],
            hard: HardImputeOptions::default(),
            lambda_count: 8,
            lambda_min_ratio: 0.01,
            soft: SoftImputeOptions::default(),
            ks: vec![1, 3, 5, 10, 20],
            knn: KnnOptions::default(),
            fa_m: vec![5, 10, 20, 50],
            fa: SamplerSettings::default(),
            mfa: Vec::new(),
            mfa_sweeps: 50,
            keep_rows: Vec::new(),
        }
    }
}

impl CompareSettings {
    /// The factor-analysis M values tried by default beside the model's own `m`: 10, 20 and
    /// `m`, sorted, without repeats (the CLI's and the app's default grid).
    pub fn default_fa_grid(m: usize) -> Vec<usize> {
        let mut grid = vec![10, 20, m];
        grid.sort_unstable();
        grid.dedup();
        grid
    }

    /// The methods [`compare`] will run with these settings, in the order it runs them.
    pub fn methods(&self) -> Vec<&'static str> {
        let mut methods = vec!["column means"];
        for (name, on) in [
            ("hard-impute", !self.ranks.is_empty()),
            ("soft-impute", self.lambda_count > 0),
            ("k-NN", !self.ks.is_empty()),
            ("factor analysis", !self.fa_m.is_empty()),
            ("mixture of FA", !self.mfa.is_empty()),
        ] {
            if on {
                methods.push(name);
            }
        }
        methods
    }
}

/// One fit of one method at one setting.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Entry {
    /// "column means", "hard-impute", "soft-impute", "k-NN", "factor analysis" or
    /// "mixture of FA".
    pub method: String,
    /// The size parameter and the other settings of the fit.
    pub settings: Value,
    /// RMSE on the pixels the problem's mask hides (None without truth).
    pub rmse_masked: Option<f64>,
    /// RMSE on the held-out validation pixels.
    pub rmse_validation: f64,
    /// Wall-clock seconds of this fit (for a path: since the previous fit of the path, so
    /// warm starts count once; for k-NN the shared distance pass counts in every k).
    pub seconds: f64,
    /// Whether this is the method's setting with the lowest validation RMSE.
    pub chosen: bool,
    /// The completed rows of [`CompareSettings::keep_rows`], in that order, each D values
    /// (not written to `compare.json`).
    #[serde(skip)]
    pub rows: Vec<f32>,
}

impl Entry {
    /// The size setting in a few characters: "K = 10, M = 20", "M = 50", "r = 20",
    /// "lambda = 120.5", "k = 5", or "" (column means).
    pub fn setting_label(&self) -> String {
        let show = |v: &Value| match v.as_f64() {
            Some(x) if x.fract() != 0.0 => format!("{x:.4}"),
            Some(x) if x.abs() < 1e15 => format!("{x:.0}"),
            _ => v.to_string(),
        };
        match (self.settings.get("K"), self.settings.get("M")) {
            (Some(k), Some(m)) => format!("K = {}, M = {}", show(k), show(m)),
            _ => ["M", "r", "lambda", "k"]
                .iter()
                .find_map(|k| self.settings.get(k).map(|v| format!("{k} = {}", show(v))))
                .unwrap_or_default(),
        }
    }
}

/// Validation RMSE against a method's size parameter.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ValidationCurve {
    pub method: String,
    /// "r", "lambda", "k" or "M".
    pub parameter: String,
    /// (parameter, validation RMSE, masked RMSE) in the order fitted.
    pub points: Vec<CurvePoint>,
    /// The parameter with the lowest validation RMSE.
    pub chosen: f64,
}

/// One point of a [`ValidationCurve`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct CurvePoint {
    pub parameter: f64,
    pub rmse_validation: f64,
    pub rmse_masked: Option<f64>,
}

/// Everything [`compare`] found.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Comparison {
    pub entries: Vec<Entry>,
    pub curves: Vec<ValidationCurve>,
    /// Number of held-out and of masked pixels scored.
    pub validation_pixels: usize,
    pub masked_pixels: usize,
}

impl Comparison {
    /// The curve of `method` (e.g. "factor analysis" for RMSE against M).
    pub fn curve(&self, method: &str) -> Option<&ValidationCurve> {
        self.curves.iter().find(|c| c.method == method)
    }

    /// The chosen entry of each method, in the order run.
    pub fn chosen(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(|e| e.chosen)
    }
}

/// Scores completions of the training problem against the held-out and the masked truth.
struct Scorer<'a> {
    problem: &'a Problem,
    holdout: &'a Holdout,
    keep_rows: &'a [usize],
    entries: Vec<Entry>,
    curves: Vec<ValidationCurve>,
}

impl Scorer<'_> {
    fn score(
        &mut self,
        method: &str,
        parameter: Option<(&str, f64)>,
        settings: Value,
        completed: &[f32],
        seconds: f64,
    ) {
        let rmse_validation = rmse_on(completed, &self.problem.x_observed, &self.holdout.held_out)
            .unwrap_or(f64::NAN);
        let rmse_masked = self
            .problem
            .x_true
            .as_deref()
            .and_then(|t| rmse_on(completed, t, &self.problem.missing));
        let d = self.problem.d;
        let rows = self
            .keep_rows
            .iter()
            .filter_map(|&i| completed.get(i * d..(i + 1) * d))
            .flatten()
            .copied()
            .collect();
        self.entries.push(Entry {
            method: method.to_string(),
            settings,
            rmse_masked,
            rmse_validation,
            seconds,
            chosen: false,
            rows,
        });
        if let Some((name, value)) = parameter {
            let point = CurvePoint {
                parameter: value,
                rmse_validation,
                rmse_masked,
            };
            match self.curves.iter_mut().find(|c| c.method == method) {
                Some(c) => c.points.push(point),
                None => self.curves.push(ValidationCurve {
                    method: method.to_string(),
                    parameter: name.to_string(),
                    points: vec![point],
                    chosen: value,
                }),
            }
        }
    }

    /// Marks each method's entry with the lowest validation RMSE (the first on ties).
    fn finish(mut self) -> Comparison {
        let methods: Vec<String> = self.entries.iter().map(|e| e.method.clone()).collect();
        for method in &methods {
            let best = self
                .entries
                .iter()
                .enumerate()
                .filter(|(_, e)| &e.method == method)
                .min_by(|a, b| a.1.rmse_validation.total_cmp(&b.1.rmse_validation))
                .map(|(i, _)| i);
            if let Some(i) = best {
                self.entries[i].chosen = true;
            }
        }
        for curve in &mut self.curves {
            if let Some(p) = curve
                .points
                .iter()
                .min_by(|a, b| a.rmse_validation.total_cmp(&b.rmse_validation))
            {
                curve.chosen = p.parameter;
            }
        }
        Comparison {
            entries: self.entries,
            curves: self.curves,
            validation_pixels: self.holdout.held_out.iter().filter(|&&h| h).count(),
            masked_pixels: self.problem.missing.iter().filter(|&&m| m).count(),
        }
    }
}

/// Holds out pixels of `problem`, fits column means, hard-impute, SoftImpute, k-NN, the
/// factor-analysis Gibbs posterior mean and the mixture of factor analysers on the rest over
/// their grids, and scores each.
pub fn compare(
    problem: &Problem,
    settings: &CompareSettings,
    control: Control,
) -> Result<Comparison, BaselineError> {
    let holdout = hold_out(problem, settings.holdout_share, settings.holdout_seed)?;
    let train = &holdout.train;
    let mut scorer = Scorer {
        problem,
        holdout: &holdout,
        keep_rows: &settings.keep_rows,
        entries: Vec::new(),
        curves: Vec::new(),
    };

    let start = Instant::now();
    let completed = column_mean_impute(train)?;
    scorer.score(
        "column means",
        None,
        json!({}),
        &completed,
        start.elapsed().as_secs_f64(),
    );
    drop(completed);

    if !settings.ranks.is_empty() {
        let o = &settings.hard;
        let mut last = Instant::now();
        hard_impute_path(train, &settings.ranks, o, control, |fit, completed| {
            let seconds = last.elapsed().as_secs_f64();
            let s = path_settings("r", fit, json!({"max_iters": o.max_iters, "tol": o.tol}));
            scorer.score(
                "hard-impute",
                Some(("r", fit.param)),
                s,
                &completed,
                seconds,
            );
            last = Instant::now();
        })?;
    }

    if settings.lambda_count > 0 {
        let o = &settings.soft;
        let mut last = Instant::now();
        let lambdas = lambda_path(
            lambda_max(train, o.seed)?,
            settings.lambda_count,
            settings.lambda_min_ratio,
        );
        soft_impute_path(train, &lambdas, o, control, |fit, completed| {
            let seconds = last.elapsed().as_secs_f64();
            let extra = json!({"max_rank": o.max_rank, "max_iters": o.max_iters, "tol": o.tol});
            let s = path_settings("lambda", fit, extra);
            scorer.score(
                "soft-impute",
                Some(("lambda", fit.param)),
                s,
                &completed,
                seconds,
            );
            last = Instant::now();
        })?;
    }

    if !settings.ks.is_empty() {
        let start = Instant::now();
        let mut fits = Vec::new();
        knn_impute_path(train, &settings.ks, &settings.knn, control, |fit, c| {
            fits.push((fit.clone(), c));
        })?;
        let seconds = start.elapsed().as_secs_f64();
        for (fit, completed) in fits {
            let s = json!({"k": fit.param as usize});
            scorer.score("k-NN", Some(("k", fit.param)), s, &completed, seconds);
        }
    }

    for (i, &m) in settings.fa_m.iter().enumerate() {
        let start = Instant::now();
        let mut fa = settings.fa.clone();
        fa.hyper.m = m;
        let completed = factor_analysis(train, &fa, control, (i, settings.fa_m.len()))?;
        let h = &fa.hyper;
        let s = json!({
            "M": m, "sweeps": fa.sweeps, "burn_in": fa.burn_in, "seed": fa.seed,
            "nu0": h.nu0, "sigmasq0": h.sigmasq0, "kappa0": h.kappa0, "lambda0": h.lambda0,
            "prior": format!("{:?}", fa.prior), "schedule": format!("{:?}", fa.schedule),
        });
        let seconds = start.elapsed().as_secs_f64();
        scorer.score(
            "factor analysis",
            Some(("M", m as f64)),
            s,
            &completed,
            seconds,
        );
    }

    for &(k, m) in &settings.mfa {
        let start = Instant::now();
        let mfa = MfaFitSettings {
            hyper: MfaHyper {
                k,
                m,
                nu0: settings.fa.hyper.nu0,
                sigmasq0: settings.fa.hyper.sigmasq0,
                kappa0: settings.fa.hyper.kappa0,
                lambda0: settings.fa.hyper.lambda0,
                ..MfaHyper::default()
            },
            sweeps: settings.mfa_sweeps,
            burn_in: settings.mfa_sweeps / 2,
            seed: settings.fa.seed,
        };
        let completed = crate::mfa::fit::fit(train, &mfa, control)?;
        let s = json!({
            "K": k, "M": m, "sweeps": mfa.sweeps, "burn_in": mfa.burn_in, "seed": mfa.seed,
            "alpha0": mfa.hyper.alpha0,
        });
        let seconds = start.elapsed().as_secs_f64();
        scorer.score("mixture of FA", None, s, &completed, seconds);
    }
    Ok(scorer.finish())
}

fn path_settings(name: &str, fit: &PathFit, extra: Value) -> Value {
    let mut s = json!({
        name: fit.param,
        "rank": fit.rank,
        "iterations": fit.iterations,
        "converged": fit.converged,
    });
    if let (Some(s), Value::Object(extra)) = (s.as_object_mut(), extra) {
        s.extend(extra);
    }
    s
}

/// The factor-analysis Gibbs posterior mean of the missing entries (SPEC 7): `settings.sweeps`
/// sweeps, averaged after burn-in; the completed data, N x D row-major. `part` = (this fit,
/// number of fits) for the progress report.
pub fn factor_analysis(
    problem: &Problem,
    settings: &SamplerSettings,
    control: Control,
    part: (usize, usize),
) -> Result<Vec<f32>, BaselineError> {
    check_problem(problem)?;
    let blind = without_truth(problem);
    let mut sampler = GibbsSampler::new(&blind, settings)?;
    drop(blind);
    let total = part.1.max(1) * settings.sweeps;
    for s in 0..settings.sweeps {
        control.check()?;
        sampler.sweep();
        control.report(
            "factor analysis",
            part.0 * settings.sweeps + s + 1,
            total,
            format!(
                "M = {}, sweep {}/{}",
                settings.hyper.m,
                s + 1,
                settings.sweeps
            ),
        );
    }
    Ok(sampler.reconstruction())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baselines::test_util::low_rank_problem;
    use crate::model::Hyperparameters;

    fn small_settings() -> CompareSettings {
        CompareSettings {
            holdout_share: 0.1,
            holdout_seed: 4,
            ranks: vec![1, 4],
            lambda_count: 3,
            ks: vec![1, 5],
            fa_m: vec![1, 4],
            fa: SamplerSettings {
                hyper: Hyperparameters::default(),
                sweeps: 40,
                burn_in: 20,
                seed: 2,
                ..SamplerSettings::default()
            },
            mfa: vec![(2, 2)],
            mfa_sweeps: 20,
            ..CompareSettings::default()
        }
    }

    #[test]
    fn hold_out_hides_the_asked_share_of_observed_pixels_only() {
        let (problem, _) = low_rank_problem(50, 20, 2, 0.2, 1);
        let h = hold_out(&problem, 0.05, 9).unwrap();
        let observed = problem.missing.iter().filter(|&&m| !m).count();
        let held = h.held_out.iter().filter(|&&x| x).count();
        assert_eq!(held, (0.05 * observed as f64).round() as usize);
        for k in 0..problem.missing.len() {
            assert!(
                !(h.held_out[k] && problem.missing[k]),
                "held out a missing pixel"
            );
            assert_eq!(h.train.missing[k], problem.missing[k] || h.held_out[k]);
            if h.held_out[k] {
                assert!(h.train.x_observed[k].is_nan());
            }
        }
        assert!(h.train.x_true.is_none());
        // Seeded: same seed, same split; another seed, another split.
        assert_eq!(hold_out(&problem, 0.05, 9).unwrap().held_out, h.held_out);
        assert_ne!(hold_out(&problem, 0.05, 10).unwrap().held_out, h.held_out);
        assert!(hold_out(&problem, 0.0, 9).is_err());
        assert!(hold_out(&problem, 1.0, 9).is_err());
    }

    #[test]
    fn the_truth_of_held_out_and_masked_pixels_never_reaches_a_fit() {
        let (problem, _) = low_rank_problem(60, 16, 3, 0.15, 3);
        let settings = small_settings();
        let clean = compare(&problem, &settings, Control::none()).unwrap();

        // Poison the held-out pixels' values: every fit must be unchanged, so the RMSE on
        // the masked pixels (scored against the untouched truth) is identical.
        let split = hold_out(&problem, settings.holdout_share, settings.holdout_seed).unwrap();
        let mut poisoned = problem.clone();
        for (x, &h) in poisoned.x_observed.iter_mut().zip(&split.held_out) {
            if h {
                *x = 1e9;
            }
        }
        let a = compare(&poisoned, &settings, Control::none()).unwrap();
        // Poison the truth: every fit unchanged, so the validation RMSE is identical.
        let mut blind = problem.clone();
        blind.x_true = Some(vec![f32::NAN; problem.n * problem.d]);
        let b = compare(&blind, &settings, Control::none()).unwrap();

        assert_eq!(clean.entries.len(), 1 + 2 + 3 + 2 + 2 + 1);
        for ((c, p), t) in clean.entries.iter().zip(&a.entries).zip(&b.entries) {
            assert_eq!(c.method, p.method);
            assert_eq!(c.rmse_masked, p.rmse_masked, "{}", c.method);
            assert!(p.rmse_validation > 1e8, "the held-out values were poisoned");
            assert_eq!(c.rmse_validation, t.rmse_validation, "{}", c.method);
            assert!(t.rmse_masked.unwrap().is_nan());
            assert!(c.rmse_validation.is_finite() && c.rmse_masked.unwrap().is_finite());
        }
    }

    #[test]
    fn compare_chooses_the_size_with_the_lowest_validation_rmse() {
        let (problem, _) = low_rank_problem(60, 16, 3, 0.15, 8);
        let c = compare(&problem, &small_settings(), Control::none()).unwrap();
        let methods = [
            "column means",
            "hard-impute",
            "soft-impute",
            "k-NN",
            "factor analysis",
            "mixture of FA",
        ];
        assert_eq!(c.chosen().count(), methods.len());
        for m in methods {
            let entries: Vec<&Entry> = c.entries.iter().filter(|e| e.method == m).collect();
            let best = entries.iter().filter(|e| e.chosen).collect::<Vec<_>>();
            assert_eq!(best.len(), 1, "{m}");
            assert!(
                entries
                    .iter()
                    .all(|e| e.rmse_validation >= best[0].rmse_validation)
            );
        }
        // Rank 4 (3 plus the centring) beats rank 1 on this rank-3 matrix, and the curves
        // agree with the entries.
        let hard = c.curve("hard-impute").unwrap();
        assert_eq!((hard.parameter.as_str(), hard.chosen), ("r", 4.0));
        let fa = c.curve("factor analysis").unwrap();
        assert_eq!(fa.points.len(), 2);
        assert_eq!(fa.parameter, "M");
        let chosen_fa = c
            .entries
            .iter()
            .find(|e| e.method == "factor analysis" && e.chosen)
            .unwrap();
        assert_eq!(chosen_fa.settings["M"].as_f64(), Some(fa.chosen));
        assert_eq!(
            c.validation_pixels,
            hold_out(&problem, 0.1, 4)
                .unwrap()
                .held_out
                .iter()
                .filter(|&&h| h)
                .count()
        );
    }

    #[test]
    fn the_factor_analysis_fit_is_the_samplers_posterior_mean_with_or_without_truth() {
        let (problem, truth) = low_rank_problem(40, 12, 2, 0.2, 6);
        let settings = small_settings().fa;
        let fit = factor_analysis(&problem, &settings, Control::none(), (0, 1)).unwrap();
        // The same chain with the truth attached (used only for its RMSE traces).
        let mut sampler = GibbsSampler::new(&problem, &settings).unwrap();
        for _ in 0..settings.sweeps {
            sampler.sweep();
        }
        assert_eq!(
            sampler.samples_in_moments(),
            settings.sweeps - settings.burn_in
        );
        assert_eq!(fit, sampler.reconstruction());
        let rmse = rmse_on(&fit, &truth, &problem.missing).unwrap();
        let last = sampler
            .traces()
            .rmse_posterior_mean
            .last()
            .copied()
            .unwrap();
        assert!((rmse - last).abs() < 1e-3 * last, "{rmse} vs {last}");
    }

    #[test]
    fn entries_keep_the_asked_rows_and_methods_lists_what_runs() {
        let (problem, _) = low_rank_problem(30, 10, 2, 0.1, 5);
        let settings = CompareSettings {
            ranks: vec![2],
            lambda_count: 0,
            ks: vec![1],
            fa_m: Vec::new(),
            keep_rows: vec![3, 0],
            ..small_settings()
        };
        assert_eq!(
            settings.methods(),
            ["column means", "hard-impute", "k-NN", "mixture of FA"]
        );
        let c = compare(&problem, &settings, Control::none()).unwrap();
        assert_eq!(c.entries.len(), 4);
        let split = hold_out(&problem, settings.holdout_share, settings.holdout_seed).unwrap();
        let means = column_mean_impute(&split.train).unwrap();
        assert_eq!(c.entries[0].rows[..10], means[30..40]);
        assert_eq!(c.entries[0].rows[10..], means[..10]);
        for e in &c.entries {
            assert_eq!(e.rows.len(), 20, "{}", e.method);
        }
        let labels: Vec<String> = c.entries.iter().map(Entry::setting_label).collect();
        assert_eq!(labels, ["", "r = 2", "k = 1", "K = 2, M = 2"]);
        assert_eq!(CompareSettings::default_fa_grid(20), [10, 20]);
        assert_eq!(CompareSettings::default_fa_grid(50), [10, 20, 50]);
    }

    #[test]
    fn a_cancelled_comparison_stops() {
        let (problem, _) = low_rank_problem(30, 10, 2, 0.1, 2);
        let cancel = std::sync::atomic::AtomicBool::new(true);
        let control = Control {
            cancel: &cancel,
            progress: None,
        };
        assert_eq!(
            compare(&problem, &small_settings(), control),
            Err(BaselineError::Cancelled)
        );
    }
}
