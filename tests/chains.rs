//! K chains: seeds and starts, reproducibility on any thread count and either way of sharing
//! the cores, streaming through the handle, and agreement of the chains on data simulated
//! from the model (the recovery test of issue 9).

mod model_common;

use std::time::{Duration, Instant};

use gibbs_fa::chains::{
    ChainsCommand, ChainsEvent, ChainsHandle, ChainsHandleOptions, ChainsOptions, Change,
    MultiChain, Parallelism, Quantity, chain_seed,
};
use gibbs_fa::model::{GibbsSampler, Hyperparameters, MissingIndex, Problem, SamplerSettings};
use gibbs_fa::sampler::RunState;
use model_common::*;
use nalgebra::DMatrix;

/// Big enough that the parallel paths (>= 32768 elements) are taken.
fn noise_problem() -> Problem {
    let (n, d) = (1500, 60);
    let mut r = rng(31);
    let x: Vec<f32> = (0..n * d)
        .map(|_| (100.0 + 40.0 * normal(&mut r)) as f32)
        .collect();
    Problem {
        n,
        d,
        x_observed: x.clone(),
        missing: (0..n * d).map(|k| (k * 7919) % 10 == 0).collect(),
        x_true: Some(x),
    }
}

fn settings(m: usize, sweeps: usize, burn_in: usize, seed: u64) -> SamplerSettings {
    SamplerSettings {
        hyper: Hyperparameters {
            m,
            ..Hyperparameters::default()
        },
        sweeps,
        burn_in,
        seed,
        ..SamplerSettings::default()
    }
}

fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("pool")
        .install(f)
}

/// Every recorded value of every chain, plus the pooled posterior, as bits.
fn fingerprint(parallelism: Parallelism) -> (Vec<u64>, Vec<u32>) {
    let options = ChainsOptions {
        chains: 3,
        parallelism,
        pixels: None,
        first_chain: 0,
    };
    let mut mc = MultiChain::new(&noise_problem(), &settings(12, 10, 4, 5), &options).unwrap();
    mc.run(|_| {});
    let mut values = Vec::new();
    for chain in mc.chains() {
        for q in 0..mc.quantities().len() {
            values.extend(chain.values(q).iter().map(|v| v.to_bits()));
        }
    }
    let pooled = mc.pooled();
    let mut post: Vec<u32> = pooled.mean.iter().map(|v| v.to_bits()).collect();
    post.extend(pooled.std.iter().map(|v| v.to_bits()));
    (values, post)
}

#[test]
fn same_seed_same_chains_on_any_thread_count() {
    let reference = in_pool(1, || fingerprint(Parallelism::Sequential));
    assert!(!reference.0.is_empty());
    for (threads, parallelism) in [
        (2, Parallelism::Sequential),
        (1, Parallelism::SideBySide),
        (2, Parallelism::SideBySide),
        (3, Parallelism::SideBySide),
    ] {
        let other = in_pool(threads, || fingerprint(parallelism));
        assert!(
            other == reference,
            "{threads} threads, {parallelism:?} differ from 1 thread, sequential"
        );
    }
}

#[test]
fn chain_one_is_the_single_chain_run_and_the_others_start_apart() {
    let problem = noise_problem();
    let s = settings(8, 6, 2, 77);
    let options = ChainsOptions {
        chains: 4,
        ..ChainsOptions::default()
    };
    let mut mc = MultiChain::new(&problem, &s, &options).unwrap();
    // Starting points: chain 0 is the notebook's, the others differ in mu, sigma^2 and W.
    let single = GibbsSampler::new(&problem, &s).unwrap();
    assert_eq!(mc.chains()[0].sampler().mu(), single.mu());
    assert_eq!(mc.chains()[0].sampler().w(), single.w());
    for c in 1..4 {
        let other = mc.chains()[c].sampler();
        assert_eq!(mc.chains()[c].seed(), chain_seed(77, c));
        assert_ne!(other.mu(), single.mu());
        assert_ne!(other.sigmasq(), single.sigmasq());
        assert_ne!(other.w(), single.w());
        assert!(
            other
                .mu()
                .iter()
                .chain(other.sigmasq())
                .all(|v| v.is_finite())
        );
        assert!(other.sigmasq().iter().all(|&v| v > 0.0));
    }
    mc.run(|_| {});
    let mut single = single;
    let lj: Vec<f64> = (0..6).map(|_| single.sweep().log_joint).collect();
    assert_eq!(mc.chains()[0].values(0), lj.as_slice());
    assert_eq!(mc.quantities()[0], Quantity::LogJoint);
    // Raw loadings are recorded but not diagnosed.
    let names: Vec<String> = mc.quantities().iter().map(|q| q.name()).collect();
    let diag = mc.diagnostics().unwrap();
    assert!(names.iter().any(|n| n.starts_with("w_")));
    assert!(diag.scalars.iter().all(|(n, _)| !n.starts_with("w_")));
    assert!(diag.scalars.iter().any(|(n, _)| n.starts_with("wwt_")));
}

#[test]
fn handle_streams_every_sweep_of_every_chain_and_diagnostics() {
    let (k, sweeps) = (3, 12);
    let mut handle = ChainsHandle::spawn(
        noise_problem(),
        settings(6, sweeps, 4, 9),
        ChainsOptions {
            chains: k,
            ..ChainsOptions::default()
        },
        ChainsHandleOptions {
            diagnostics_interval: Duration::ZERO,
            start_paused: true,
            ..Default::default()
        },
        None,
    )
    .unwrap();
    assert!(handle.send(ChainsCommand::Resume));
    let mut sweeps_seen = vec![0usize; k];
    let (mut diagnostics, mut finished, mut started) = (0, false, false);
    let (mut live_pixels, mut final_split) = (false, false);
    let deadline = Instant::now() + Duration::from_secs(60);
    while !finished && Instant::now() < deadline {
        let Some(event) = handle.recv_timeout(Duration::from_millis(50)) else {
            continue;
        };
        match event {
            ChainsEvent::Started { quantities, seeds } => {
                started = true;
                assert_eq!(quantities[0], "log_joint");
                assert_eq!(seeds.len(), k);
            }
            ChainsEvent::Sweep(s) => {
                assert!(started);
                sweeps_seen[s.chain] += 1;
                assert_eq!(s.record.iter, sweeps_seen[s.chain], "in order");
                assert_eq!(s.warmup, s.record.iter <= 4);
            }
            ChainsEvent::Diagnostics(d) => {
                diagnostics += 1;
                assert_eq!(d.chains, k);
                // Per-pixel R-hat while the run goes on (unsplit), split at the end.
                let max_finite = d.missing.max.is_some_and(f64::is_finite);
                live_pixels |= !d.pixel_split && max_finite;
                final_split = d.pixel_split && max_finite;
            }
            ChainsEvent::State(RunState::Finished) => finished = true,
            ChainsEvent::State(_) => {}
            ChainsEvent::Error(e) => panic!("{e}"),
            ChainsEvent::Followed { .. } => panic!("nothing was changed"),
        }
    }
    assert!(finished, "the run did not finish");
    assert_eq!(sweeps_seen, vec![sweeps; k]);
    assert!(diagnostics >= 2);
    assert!(live_pixels, "no per-pixel R-hat before the end");
    assert!(final_split, "the last diagnostics are not split-R-hat");
    let mc = handle.join().expect("the chains");
    assert_eq!(mc.iteration(), sweeps);
}

// ---- Recovery: K chains on data simulated from the model ----

const N: usize = 1000;
const D: usize = 16;
const M: usize = 2;

fn simulated(seed: u64) -> Problem {
    let mut r = rng(seed);
    let w = DMatrix::from_fn(D, M, |_, _| 2.0 * normal(&mut r));
    let mu: Vec<f64> = (0..D).map(|_| 3.0 * normal(&mut r)).collect();
    let sigmasq: Vec<f64> = (0..D).map(|d| 0.3 + 0.7 * (d as f64 / D as f64)).collect();
    let z = DMatrix::from_fn(N, M, |_, _| normal(&mut r));
    let x = draw_data(&mut r, &Params { w, z, mu, sigmasq });
    let missing: Vec<bool> = (0..N * D)
        .map(|_| rand::RngExt::random_bool(&mut r, 0.15))
        .collect();
    let x = to_f32(&x);
    Problem {
        n: N,
        d: D,
        x_observed: x.clone(),
        missing,
        x_true: Some(x),
    }
}

#[test]
fn chains_agree_on_simulated_data_and_pool_as_well_as_one_long_chain() {
    let problem = simulated(2024);
    // The notebook schedule mixes the log joint slowly (bulk-ESS about 1,000 of these 20,000
    // draws, R-hat about 1.003 on this seed; with 1,000 draws a chain R-hat was still 1.03).
    let (k, sweeps, burn_in) = (4, 5100, 100);
    let s = settings(M, sweeps, burn_in, 3);
    let mut mc = MultiChain::new(
        &problem,
        &s,
        &ChainsOptions {
            chains: k,
            parallelism: Parallelism::SideBySide,
            pixels: None,
            first_chain: 0,
        },
    )
    .unwrap();
    mc.run(|_| {});
    let diag = mc.diagnostics().unwrap();
    for name in ["log_joint", "rmse_sample"] {
        let (_, d) = diag
            .scalars
            .iter()
            .find(|(n, _)| n == name)
            .expect("quantity");
        let d = d.expect("diagnostics");
        let rhat = d.rhat.expect("finite R-hat");
        let ess = d.ess_bulk.expect("finite ESS");
        assert!(rhat.is_finite() && ess.is_finite());
        assert!(rhat < 1.01, "{name}: R-hat {rhat} (bulk-ESS {ess})");
    }
    let max = diag.missing.max.expect("per-pixel R-hat");
    assert!(
        max.is_finite() && max < 1.1,
        "largest per-pixel R-hat {max}"
    );
    let pooled = mc.pooled();
    let (rmse, mcse) = (pooled.rmse.unwrap(), pooled.rmse_mcse.unwrap());
    assert!(rmse.is_finite() && mcse.is_finite() && mcse > 0.0);
    assert_eq!(pooled.draws, k * (sweeps - burn_in));

    // One chain with as many post-burn-in draws as all K together.
    let long = settings(M, burn_in + k * (sweeps - burn_in), burn_in, 3);
    let mut single = GibbsSampler::new(&problem, &long).unwrap();
    let mut last = None;
    for _ in 0..long.sweeps {
        last = single.sweep().rmse_posterior_mean;
    }
    let long_rmse = last.unwrap();
    assert!(long_rmse.is_finite());
    eprintln!("pooled RMSE {rmse} (MCSE {mcse}), one long chain {long_rmse}");
    // As good as one long chain: within 4 Monte Carlo standard errors (the long chain's
    // MCSE is about the pooled one), and both far better than column-mean imputation.
    assert!(
        (rmse - long_rmse).abs() < 4.0 * std::f64::consts::SQRT_2 * mcse,
        "pooled RMSE {rmse} (MCSE {mcse}) vs one long chain {long_rmse}"
    );
    let baseline = single.rmse_mean_impute().unwrap();
    assert!(
        rmse < 0.8 * baseline,
        "pooled {rmse} vs column means {baseline}"
    );
}

/// The per-pixel R-hat images hold the per-pixel R-hat: sigma^2 and mu as they are, and each
/// watched digit's missing pixels (in the missing index's column-then-row order) laid into
/// that digit, NaN where it is observed.
#[test]
fn rhat_images_lay_each_pixels_rhat_where_it_belongs() {
    let problem = noise_problem();
    let options = ChainsOptions {
        chains: 3,
        parallelism: Parallelism::Sequential,
        pixels: None,
        first_chain: 0,
    };
    let mut mc = MultiChain::new(&problem, &settings(4, 12, 4, 9), &options).unwrap();
    mc.run(|_| {});
    let px = mc.pixel_rhat().unwrap();
    let d = mc.diagnostics().unwrap();
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&d.images.sigmasq), bits(&px.sigmasq));
    assert_eq!(bits(&d.images.mu), bits(&px.mu));
    let watched: Vec<usize> = mc
        .quantities()
        .iter()
        .filter_map(|q| match q {
            Quantity::Imputed { image, .. } => Some(*image),
            _ => None,
        })
        .collect();
    assert!(!watched.is_empty(), "the problem has watched digits");
    assert!(!d.images.digits.is_empty());
    // Entry k of the missing index (blocks of images, then columns, then rows).
    let index = MissingIndex::from_row_major(problem.n, problem.d, &problem.missing);
    let entry: Vec<Option<usize>> = (0..problem.n * problem.d)
        .map(|k| index.position(k / problem.d, k % problem.d))
        .collect();
    assert_eq!(index.len(), px.missing.len());
    let mut finite = 0;
    for (n, image) in &d.images.digits {
        assert!(watched.contains(n), "digit {n} is not watched");
        assert_eq!(image.len(), problem.d);
        for (col, value) in image.iter().enumerate() {
            match entry[n * problem.d + col] {
                Some(k) => {
                    assert_eq!(
                        value.to_bits(),
                        px.missing[k].to_bits(),
                        "digit {n} pixel {col}"
                    );
                    finite += usize::from(value.is_finite());
                }
                None => assert!(
                    value.is_nan(),
                    "digit {n}: observed pixel {col} has an R-hat"
                ),
            }
        }
    }
    assert!(
        finite > 0,
        "some missing pixel of a watched digit has a finite R-hat"
    );
}

/// The chains follow a live change of hyperparameters as a single sampler does (chain 1 stays
/// bit for bit the sampler given the same change at the same sweep), restart their
/// diagnostics there, and an extended run keeps its per-pixel moments and completes them.
#[test]
fn chains_follow_live_changes_and_an_extended_run() {
    let problem = noise_problem();
    let base = settings(3, 20, 4, 11);
    let options = ChainsOptions {
        chains: 3,
        ..Default::default()
    };
    let mut mc = MultiChain::new(&problem, &base, &options).expect("chains");
    let mut single = GibbsSampler::new(&problem, &base).expect("sampler");
    for _ in 0..6 {
        mc.round();
        single.sweep();
    }
    let hyper = Hyperparameters {
        kappa0: 0.5,
        ..base.hyper.clone()
    };
    assert!(mc.follow(&Change::Hyperparameters(hyper.clone())).unwrap());
    single.set_hyperparameters(hyper.clone()).unwrap();
    for c in mc.chains() {
        assert_eq!(c.sampler().settings().hyper, hyper);
        assert_eq!(c.change_point(), 6);
    }
    assert_eq!(mc.first_draw(), 10);
    // The same change again is no change.
    assert!(!mc.follow(&Change::Hyperparameters(hyper)).unwrap());
    // A new M is refused and changes nothing.
    let bad = Hyperparameters {
        m: 5,
        ..base.hyper.clone()
    };
    assert!(mc.follow(&Change::Hyperparameters(bad)).is_err());
    let mut reports = Vec::new();
    for _ in 0..6 {
        reports.extend(mc.round());
        let r = single.sweep();
        let chain1 = mc.chains()[0].values(0);
        assert_eq!(chain1.last().unwrap().to_bits(), r.log_joint.to_bits());
    }
    // Burn-in counts again from the change: sweeps 7 to 10 are warm-up again.
    for r in &reports {
        assert_eq!(r.warmup, r.record.iter <= 10, "sweep {}", r.record.iter);
    }
    let d = mc.diagnostics().unwrap();
    assert_eq!((d.since, d.draws_per_chain), (6, 2));

    // Extend to 40 sweeps: every chain runs on to 40 and the per-pixel halves complete.
    mc.follow(&Change::RunLength {
        sweeps: 40,
        burn_in: 4,
    })
    .unwrap();
    assert!(!mc.is_done());
    mc.run(|_| {});
    assert_eq!(mc.iteration(), 40);
    for c in mc.chains() {
        assert_eq!(c.sampler().iteration(), 40);
        assert!(
            c.halves().missing.is_complete(),
            "{:?}",
            c.halves().missing.counts()
        );
    }
    let d = mc.diagnostics().unwrap();
    assert_eq!(d.draws_per_chain, 30);
    assert!(d.pixel_split);
}

/// A painted mask reaches every chain: their missing sets equal a sampler given the same mask.
#[test]
fn chains_follow_a_painted_mask() {
    let problem = noise_problem();
    let base = settings(3, 30, 4, 5);
    let options = ChainsOptions {
        chains: 2,
        ..Default::default()
    };
    let mut mc = MultiChain::new(&problem, &base, &options).expect("chains");
    let mut single = GibbsSampler::new(&problem, &base).expect("sampler");
    mc.round();
    single.sweep();
    let d = problem.d;
    let missing: Vec<bool> = (0..d).map(|j| j % 2 == 0).collect();
    let values = problem.x_true.as_ref().unwrap()[3 * d..4 * d].to_vec();
    let change = Change::Mask {
        image: 3,
        missing: missing.clone(),
        values: values.clone(),
    };
    assert!(mc.follow(&change).unwrap());
    single.set_image_mask(3, &missing, &values).unwrap();
    for c in mc.chains() {
        assert_eq!(c.sampler().state().missing(), single.state().missing());
        assert_eq!(c.halves().missing.len(), single.state().missing().len());
    }
    let r = mc.round();
    let s = single.sweep();
    assert_eq!(r[0].record.log_joint.to_bits(), s.log_joint.to_bits());
    assert_eq!(r[0].record.rmse_sample, s.rmse_sample);
    // The pooled RMSE scores the new missing set against the true pixels (the chains' truth
    // follows the mask): the same as computed here from the pooled means and the data.
    for _ in 0..6 {
        mc.round();
    }
    let pooled = mc.pooled();
    let truth = problem.x_true.as_ref().unwrap();
    let idx = single.state().missing();
    let ss: f64 = idx
        .rows()
        .iter()
        .zip(idx.cols())
        .map(|(&i, &j)| {
            let at = i as usize * d + j as usize;
            (pooled.mean[at] as f64 - truth[at] as f64).powi(2)
        })
        .sum();
    let direct = (ss / idx.len() as f64).sqrt();
    let rmse = pooled.rmse.expect("a truth is known");
    assert!(rmse.is_finite() && direct.is_finite(), "{rmse} {direct}");
    assert!(
        (rmse - direct).abs() <= 1e-5 * direct,
        "{rmse} against {direct}"
    );
}

/// Chain 1 swept elsewhere and fed in: the handle-side run holds only chains 2..K, exactly
/// the chains a full run has, and the diagnostics over the K chains are the full run's.
#[test]
fn chain_one_fed_from_elsewhere_gives_the_same_k_chains() {
    let problem = noise_problem();
    let s = settings(3, 16, 4, 21);
    let all = ChainsOptions {
        chains: 3,
        ..Default::default()
    };
    let fed = ChainsOptions {
        first_chain: 1,
        ..all.clone()
    };
    let mut full = MultiChain::new(&problem, &s, &all).unwrap();
    let mut rest = MultiChain::new(&problem, &s, &fed).unwrap();
    assert!(full.feed().is_none());
    assert_eq!(rest.chains().len(), 2, "chain 1 is not built here");
    assert_eq!(rest.seeds(), full.seeds());
    assert_eq!(rest.quantities(), full.quantities());
    let feed = rest.feed().expect("a feed for chain 1");
    let mut chain1 = GibbsSampler::new(&problem, &s).unwrap();
    feed.attach(&chain1);
    for _ in 0..16 {
        full.round();
        rest.round();
        let r = chain1.sweep();
        feed.observe(&chain1, &r);
    }
    for (a, b) in rest.chains().iter().zip(&full.chains()[1..]) {
        assert_eq!(a.index(), b.index());
        assert_eq!(a.seed(), b.seed());
        for q in 0..full.quantities().len() {
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(a.values(q)), bits(b.values(q)), "quantity {q}");
        }
    }
    let (d_full, d_rest) = (full.diagnostics().unwrap(), rest.diagnostics().unwrap());
    assert_eq!(d_rest.chains, 3);
    assert_eq!(d_rest.draws_per_chain, d_full.draws_per_chain);
    assert_eq!(d_rest.scalars, d_full.scalars);
    assert!(d_rest.pixel_split && d_full.pixel_split);
    assert_eq!(
        (&d_rest.missing, &d_rest.sigmasq, &d_rest.mu),
        (&d_full.missing, &d_full.sigmasq, &d_full.mu)
    );
    // A chain 1 ahead of the others is diagnosed on the shortest chain's draws.
    let r = chain1.sweep();
    feed.observe(&chain1, &r);
    assert_eq!(rest.diagnostics().unwrap().scalars, d_full.scalars);
}

/// The half moments of the missing pixels folded in by the X_miss pass as it draws
/// (`sweep_folding`, how a chain records) are bit for bit those of a second pass after the
/// sweep (`push`, how chain 1 fed from the app's sampler records), on 1 and 2 threads, with
/// enough missing pixels for the parallel paths of both and a draw left out in the middle.
#[test]
fn half_moments_folded_while_drawing_equal_a_pass_after_the_sweep() {
    use gibbs_fa::diagnostics::HalfMoments;
    let (n, d) = (1500, 60);
    let mut r = rng(32);
    let x: Vec<f32> = (0..n * d)
        .map(|_| (100.0 + 40.0 * normal(&mut r)) as f32)
        .collect();
    let problem = Problem {
        n,
        d,
        x_observed: x.clone(),
        missing: (0..n * d).map(|k| (k * 7919) % 10 < 4).collect(),
        x_true: Some(x),
    };
    let s = settings(4, 9, 2, 8);
    let run = |threads: usize| {
        in_pool(threads, || {
            let mut folding = GibbsSampler::new(&problem, &s).unwrap();
            let mut plain = GibbsSampler::new(&problem, &s).unwrap();
            let len = plain.state().missing().len();
            assert!(
                len >= 1 << 15,
                "{len} missing: too few for the parallel paths"
            );
            // 7 draws planned: halves of 3, the middle draw left out.
            let (mut folded, mut pushed) = (HalfMoments::new(len, 7), HalfMoments::new(len, 7));
            for _ in 0..7 {
                let a = folding.sweep_folding(folded.begin());
                let b = plain.sweep();
                assert_eq!(a.log_joint.to_bits(), b.log_joint.to_bits());
                let state = plain.state();
                let (xs, idx) = (state.completed_x(), state.missing());
                pushed.push(|k| xs[(idx.rows()[k] as usize, idx.cols()[k] as usize)] as f64);
            }
            assert!(folded.is_complete());
            assert_eq!(folded, pushed);
            // A draw of the wrong length is left alone and the sweep is the same.
            let mut other = HalfMoments::new(len + 1, 7);
            let before = other.clone();
            let a = folding.sweep_folding(other.begin());
            let b = plain.sweep();
            assert_eq!(a.log_joint.to_bits(), b.log_joint.to_bits());
            assert_eq!(other.half_means(0), before.half_means(0));
            folded
        })
    };
    assert_eq!(run(1), run(2));
}

/// Rounds swept in batches (each chain's sweeps in a row, how `run`, the CLI and the handle
/// sweep) report, record and diagnose exactly what rounds swept one at a time do, with the
/// chains side by side on two threads; a batch never runs past what it is asked for.
#[test]
fn rounds_in_batches_equal_rounds_one_at_a_time() {
    let problem = noise_problem();
    let s = settings(6, 11, 3, 41);
    let options = ChainsOptions {
        chains: 3,
        parallelism: Parallelism::SideBySide,
        ..Default::default()
    };
    let bits = |rounds: &[Vec<gibbs_fa::chains::ChainSweep>]| {
        rounds
            .iter()
            .flatten()
            .map(|r| {
                let values: Vec<u64> = r.values.iter().map(|v| v.to_bits()).collect();
                (
                    r.chain,
                    r.record.iter,
                    r.warmup,
                    values,
                    r.record.log_joint.to_bits(),
                )
            })
            .collect::<Vec<_>>()
    };
    let (single, batched) = in_pool(2, || {
        let mut one = MultiChain::new(&problem, &s, &options).unwrap();
        let single: Vec<_> = (0..11).map(|_| one.round()).collect();
        let mut many = MultiChain::new(&problem, &s, &options).unwrap();
        let mut batched = Vec::new();
        for count in [1, 4, 6] {
            assert_eq!(many.rounds_left(), 11 - batched.len());
            let batch = many.rounds(count);
            assert_eq!(batch.len(), count);
            batched.extend(batch);
        }
        assert!(many.is_done() && many.rounds_left() == 0);
        (
            (single, one.diagnostics().unwrap()),
            (batched, many.diagnostics().unwrap()),
        )
    });
    assert_eq!(single.0.len(), 11);
    for (r, round) in batched.0.iter().enumerate() {
        let chains: Vec<usize> = round.iter().map(|s| s.chain).collect();
        assert_eq!(chains, [0, 1, 2], "round {r} in chain order");
        assert!(round.iter().all(|s| s.record.iter == r + 1));
    }
    assert!(bits(&single.0) == bits(&batched.0), "the same reports");
    assert_eq!(single.1.scalars, batched.1.scalars);
    assert_eq!(
        (&single.1.missing, &single.1.sigmasq, &single.1.mu),
        (&batched.1.missing, &batched.1.sigmasq, &batched.1.mu)
    );
}

/// Switching the recentring move on reaches every chain (as a command of the sampler would),
/// restarts the diagnostics at that round like a new schedule, and chain 1 goes on exactly as a
/// lone sampler switched the same way.
#[test]
fn chains_follow_the_recentring_move() {
    use gibbs_fa::sampler::Command;
    let problem = noise_problem();
    let base = settings(3, 20, 4, 12);
    let options = ChainsOptions {
        chains: 3,
        ..Default::default()
    };
    let mut mc = MultiChain::new(&problem, &base, &options).expect("chains");
    let mut single = GibbsSampler::new(&problem, &base).expect("sampler");
    for _ in 0..5 {
        mc.round();
        single.sweep();
    }
    let change =
        Change::of_command(&Command::SetRecentre(true)).expect("a change the chains follow");
    assert_eq!(change, Change::Recentre(true));
    assert!(mc.follow(&change).unwrap());
    assert!(
        !mc.follow(&change).unwrap(),
        "the same change again is no change"
    );
    single.set_recentre(true);
    for c in mc.chains() {
        assert!(c.sampler().settings().recentre);
        assert_eq!(c.change_point(), 5);
    }
    for _ in 0..4 {
        mc.round();
        let r = single.sweep();
        let chain1 = mc.chains()[0].values(0);
        assert!(r.log_joint.is_finite());
        assert_eq!(chain1.last().unwrap().to_bits(), r.log_joint.to_bits());
    }
}
