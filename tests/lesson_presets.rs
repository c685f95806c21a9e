//! The lesson's experiment presets show what their paragraphs say, on MNIST (needs
//! GIBBS_FA_DATA; skipped without it, failing under CI=true). Each check compares the runs of
//! one preset with each other (or with column-mean imputation); nothing is compared with a
//! stored number. Every run is the preset's own, at its full length (under a minute in all
//! on 2 cores); the notebook's full-size experiment and the chains are left to their own
//! tests.

mod model_common;

use gibbs_fa::data::{Dataset, load_path};
use gibbs_fa::diagnostics::ess::ess_raw;
use gibbs_fa::experiment::build;
use gibbs_fa::lesson::{Preset, PresetRun, presets};
use gibbs_fa::model::GibbsSampler;
use model_common::mnist_dir;

fn dataset() -> Option<Dataset> {
    Some(load_path(&mnist_dir()?, None).expect("MNIST loads"))
}

fn preset(id: &str) -> Preset {
    presets()
        .into_iter()
        .find(|p| p.id == id)
        .expect("preset exists")
}

/// Runs `run` for its sweeps and returns the sampler.
fn fit(data: &Dataset, run: &PresetRun) -> GibbsSampler {
    let experiment = build(data, &run.experiment).expect("experiment builds");
    let mut sampler = GibbsSampler::new(&experiment.problem, &run.settings).expect("sampler");
    for _ in 0..run.settings.sweeps {
        let record = sampler.sweep();
        assert!(record.log_joint.is_finite(), "{}", run.label);
    }
    sampler
}

fn last(v: &[f64]) -> f64 {
    *v.last().expect("a trace")
}

fn lowest(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

fn mean32(v: &[f32]) -> f64 {
    v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64
}

fn sd(v: &[f64]) -> f64 {
    let m = mean(v);
    (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt()
}

#[test]
fn too_many_factors_make_the_sample_rmse_climb() {
    let Some(data) = dataset() else { return };
    let p = preset("too-many-factors");
    let big = fit(&data, &p.runs[0]);
    let small = fit(&data, &p.runs[1]);
    let baseline = big.rmse_mean_impute().expect("truth is known");
    let (rb, rs) = (&big.traces().rmse_sample, &small.traces().rmse_sample);
    let (pb, ps) = (
        last(&big.traces().rmse_posterior_mean),
        last(&small.traces().rmse_posterior_mean),
    );
    eprintln!(
        "column means {baseline:.2}; M = 50: sample lowest {:.2}, last {:.2}, posterior mean \
         {pb:.2}; M = 10: sample after 20 sweeps lowest {:.2}, last {:.2}, posterior mean {ps:.2}",
        lowest(rb),
        last(rb),
        lowest(&rs[20..]),
        last(rs)
    );
    assert!(last(rb) > 1.1 * lowest(rb), "the M = 50 sample RMSE climbs");
    assert!(pb > 0.97 * baseline, "M = 50 hardly beats column means");
    assert!(
        last(rs) < 1.03 * lowest(&rs[20..]),
        "the M = 10 sample RMSE stays flat"
    );
    assert!(ps < 0.93 * baseline, "M = 10 beats column means well");
    assert!(ps < pb && last(rs) > ps && last(rb) > pb);
}

#[test]
fn burn_in_keeps_the_start_out_of_the_summaries() {
    let Some(data) = dataset() else { return };
    let p = preset("burn-in");
    let with_start = fit(&data, &p.runs[0]);
    let without = fit(&data, &p.runs[1]);
    let (a, b) = (
        last(&with_start.traces().rmse_posterior_mean),
        last(&without.traces().rmse_posterior_mean),
    );
    let (sa, sb) = (
        mean32(&with_start.posterior_sigmasq().mean),
        mean32(&without.posterior_sigmasq().mean),
    );
    let lj = &with_start.traces().log_joint;
    let (early, late, spread) = (mean(&lj[..5]), mean(&lj[20..]), sd(&lj[20..]));
    eprintln!(
        "posterior-mean RMSE: all sweeps {a:.2}, after burn-in {b:.2}; mean sigma^2 {sa:.1} vs \
         {sb:.1}; log joint first 5 {early:.4e}, after 20 {late:.4e} (sd {spread:.2e})"
    );
    // The start is forgotten within 20 sweeps: the log joint has climbed far beyond its
    // sweep-to-sweep spread since, and the early sweeps inflate sigma^2.
    assert!(late - early > 20.0 * spread);
    assert!(sa > 1.03 * sb, "the first sweeps pull sigma^2 up");
    assert!(
        a < b,
        "yet averaging twice the draws gives the better RMSE here"
    );
}

#[test]
fn a_strong_prior_on_w_shrinks_the_loadings() {
    let Some(data) = dataset() else { return };
    let p = preset("prior-strength");
    let weak = fit(&data, &p.runs[0]);
    let strong = fit(&data, &p.runs[1]);
    let norm = |s: &GibbsSampler| {
        s.state()
            .w()
            .iter()
            .map(|v| (*v as f64).powi(2))
            .sum::<f64>()
    };
    let (rw, rs) = (
        last(&weak.traces().rmse_posterior_mean),
        last(&strong.traces().rmse_posterior_mean),
    );
    let (sw, ss) = (mean32(weak.sigmasq()), mean32(strong.sigmasq()));
    eprintln!(
        "||W||^2 {:.3e} vs {:.3e}; mean sigma^2 {sw:.1} vs {ss:.1}; RMSE {rw:.2} vs {rs:.2}",
        norm(&weak),
        norm(&strong),
    );
    assert!(norm(&strong) < 0.2 * norm(&weak));
    assert!(ss > sw);
    assert!(rs < rw, "the shrinkage guards against overfitting here");
}

#[test]
fn the_decaying_prior_orders_the_factors() {
    let Some(data) = dataset() else { return };
    let p = preset("decaying-prior");
    let iso = fit(&data, &p.runs[0]);
    let dec = fit(&data, &p.runs[1]);
    let column_norms = |s: &GibbsSampler| -> Vec<f64> {
        s.state()
            .w()
            .column_iter()
            .map(|c| c.iter().map(|v| (*v as f64).powi(2)).sum::<f64>().sqrt())
            .collect()
    };
    let (ci, cd) = (column_norms(&iso), column_norms(&dec));
    // The first five columns against the last five.
    let ratio = |c: &[f64]| c[..5].iter().sum::<f64>() / c[c.len() - 5..].iter().sum::<f64>();
    eprintln!(
        "column norms: isotropic {ci:.0?}, decaying {cd:.0?}; first/last five {:.2} vs {:.2}",
        ratio(&ci),
        ratio(&cd)
    );
    assert!(ratio(&cd) > 3.0 * ratio(&ci).max(1.0));
    let (ri, rd) = (
        last(&iso.traces().rmse_posterior_mean),
        last(&dec.traces().rmse_posterior_mean),
    );
    // No worse: over seeds 1 to 8 the decaying prior's posterior-mean RMSE was 67.0 to 68.0 and
    // the isotropic prior's 68.4 to 72.4 (some of its chains settle a few points higher), so a
    // two-sided bound of 5% failed on half the seeds.
    assert!(
        rd.is_finite() && ri.is_finite() && rd < 1.02 * ri,
        "the decaying prior costs fit: {ri} vs {rd}"
    );
}

#[test]
fn the_two_schedules_mix_the_log_joint_alike() {
    let Some(data) = dataset() else { return };
    let p = preset("schedule");
    let notebook = fit(&data, &p.runs[0]);
    let blocked = fit(&data, &p.runs[1]);
    let ess = |s: &GibbsSampler| {
        let lj = &s.traces().log_joint;
        ess_raw(&[lj[s.settings().burn_in..].to_vec()])
    };
    let (en, eb) = (ess(&notebook), ess(&blocked));
    eprintln!("ESS of the log joint after burn-in: notebook {en:.1}, blocked {eb:.1}");
    assert!(en.is_finite() && eb.is_finite());
    assert!((0.4..2.5).contains(&(eb / en)), "about the same");
}

#[test]
fn lines_are_harder_than_speckle() {
    let Some(data) = dataset() else { return };
    let p = preset("masks");
    let speckle = fit(&data, &p.runs[0]);
    let lines = fit(&data, &p.runs[1]);
    let (fs, fl) = (speckle.missing_fraction(), lines.missing_fraction());
    let (rs, rl) = (
        last(&speckle.traces().rmse_posterior_mean),
        last(&lines.traces().rmse_posterior_mean),
    );
    eprintln!("missing {fs:.3} vs {fl:.3}; RMSE {rs:.2} vs {rl:.2}");
    assert!((fs - fl).abs() < 0.1 * fs, "similar shares missing");
    assert!(rl > 1.3 * rs, "lines are much harder");
}

/// Runs a preset's run of several chains to its end; each chain's log joint after burn-in
/// (asserted finite).
fn log_joint_tails(data: &Dataset, run: &PresetRun) -> Vec<Vec<f64>> {
    use gibbs_fa::chains::{ChainsOptions, MultiChain};
    let experiment = build(data, &run.experiment).expect("experiment builds");
    let options = ChainsOptions {
        chains: run.chains,
        ..ChainsOptions::default()
    };
    let mut mc = MultiChain::new(&experiment.problem, &run.settings, &options).expect("chains");
    mc.run(|_| {});
    let burn_in = run.settings.burn_in;
    let tails: Vec<Vec<f64>> = mc
        .chains()
        .iter()
        .map(|c| c.values(0)[burn_in..].to_vec())
        .collect();
    assert!(tails.iter().flatten().all(|v| v.is_finite()));
    tails
}

/// For chains 2, 3, ...: how far the mean of its tail lies below chain 1's, and the larger of
/// the two tails' sds (printed).
fn gaps_below_chain_one(tails: &[Vec<f64>]) -> Vec<(f64, f64)> {
    let (m1, s1) = (mean(&tails[0]), sd(&tails[0]));
    eprintln!("chain 1: {m1:.0} (sd {s1:.0})");
    tails[1..]
        .iter()
        .enumerate()
        .map(|(c, t)| {
            let (m, s) = (mean(t), sd(t));
            eprintln!(
                "chain {}: {m:.0} (sd {s:.0}), {:.0} below chain 1",
                c + 2,
                m1 - m
            );
            (m1 - m, s1.max(s))
        })
        .collect()
}

/// The "several chains" preset: the chains whose mu starts spread out stay far below chain 1
/// (whose mu starts at the column means) for the whole run, R-hat says so, and the spread mu
/// is the cause: the same chains with mu at the column means (sigma^2, W and Z still their
/// own) end level with chain 1. (mu and the average of the z_n trade off; the Gibbs sampler
/// creeps along that ridge.) Gaps are judged against each chain's own spread after burn-in.
#[test]
fn chains_started_with_spread_means_stay_apart() {
    use gibbs_fa::chains::chain_seed;
    use gibbs_fa::chains::start::disperse;
    use gibbs_fa::diagnostics::rhat::rhat_basic;
    let Some(data) = dataset() else { return };
    let p = preset("chains");
    let run = &p.runs[0];
    let experiment = build(&data, &run.experiment).expect("experiment builds");
    let problem = &experiment.problem;
    let burn_in = run.settings.burn_in;
    let tails = log_joint_tails(&data, run);
    let r = rhat_basic(&tails);
    let (m1, s1) = (mean(&tails[0]), sd(&tails[0]));
    eprintln!("R-hat of the log joint {r:.2}");
    assert!(r.is_finite() && r > 1.1, "R-hat {r}");
    for (c, (gap, sd)) in gaps_below_chain_one(&tails).into_iter().enumerate() {
        assert!(gap > 5.0 * sd, "chain {} is not apart", c + 2);
    }
    // The same chains with mu at the column means meet chain 1.
    for c in 1..run.chains {
        let mut settings = run.settings.clone();
        settings.seed = chain_seed(run.settings.seed, c);
        let mut sampler = GibbsSampler::new(problem, &settings).expect("sampler");
        let column_means = sampler.mu().to_vec();
        disperse(&mut sampler, settings.seed).expect("dispersed");
        sampler.state_mut().set_mu(&column_means).expect("mu");
        let lj: Vec<f64> = (0..settings.sweeps)
            .map(|_| sampler.sweep().log_joint)
            .collect();
        let t = &lj[burn_in..];
        assert!(t.iter().all(|v| v.is_finite()));
        let (m, s) = (mean(t), sd(t));
        eprintln!(
            "chain {} with mu at the column means: {m:.0} (sd {s:.0})",
            c + 1
        );
        assert!(
            (m1 - m).abs() < 3.0 * s1.max(s),
            "chain {} did not meet",
            c + 1
        );
    }
}

/// The "several chains" preset's second run: the same four chains with the recentring move
/// (a draw along the mu / z-bar ridge before each sweep) meet chain 1 within the burn-in: after
/// it each chain's mean log joint is within 3 of its sd of chain 1's (10,000 below without the
/// move, at 10 to 25 sd), and R-hat falls from 7.2 to 1.15 (the chains still drift together a
/// little: asserted under 1.3).
#[test]
fn with_the_recentring_move_chains_started_apart_meet() {
    use gibbs_fa::diagnostics::rhat::rhat_basic;
    let Some(data) = dataset() else { return };
    let p = preset("chains");
    let run = &p.runs[1];
    assert!(run.settings.recentre && !p.runs[0].settings.recentre);
    assert_eq!(run.experiment, p.runs[0].experiment);
    let tails = log_joint_tails(&data, run);
    let r = rhat_basic(&tails);
    eprintln!("recentred: R-hat of the log joint {r:.3}");
    for (c, (gap, sd)) in gaps_below_chain_one(&tails).into_iter().enumerate() {
        assert!(gap.abs() < 3.0 * sd, "chain {} did not meet", c + 2);
    }
    assert!(r.is_finite() && r < 1.3, "R-hat {r}");
}
