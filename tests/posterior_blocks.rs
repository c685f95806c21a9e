//! The low-memory output path of `gibbs-fa run` (issue 12, point 4): the sampler's
//! initial X built without a row-major copy, the one-chain pooled posterior without its
//! N x D images, those images a block of rows at a time, and IDX files written from blocks.

use gibbs_fa::chains::{ChainsOptions, MultiChain, Parallelism};
use gibbs_fa::data::idx::{write_idx_f32, write_idx_f32_blocks};
use gibbs_fa::model::{GibbsSampler, Hyperparameters, Problem, SamplerSettings};

/// Images of 7 x 5 pixels with structure per column, about 1 in 6 pixels missing.
fn problem(n: usize) -> Problem {
    let d = 35;
    let x: Vec<f32> = (0..n * d)
        .map(|k| {
            let (i, j) = (k / d, k % d);
            (10.0 * j as f32 + ((i * 37 + j * 11) % 23) as f32 * 1.5).sin() * 50.0 + 100.0
        })
        .collect();
    Problem {
        n,
        d,
        x_observed: x.clone(),
        missing: (0..n * d).map(|k| (k * 7919) % 6 == 0).collect(),
        x_true: Some(x),
    }
}

fn settings(sweeps: usize) -> SamplerSettings {
    SamplerSettings {
        hyper: Hyperparameters {
            m: 4,
            ..Hyperparameters::default()
        },
        sweeps,
        burn_in: sweeps / 2,
        seed: 12,
        ..SamplerSettings::default()
    }
}

#[test]
fn the_initial_x_holds_the_observed_values_and_the_observed_column_means() {
    let p = problem(200);
    let s = GibbsSampler::new(&p, &settings(4)).unwrap();
    let x = s.state().completed_x();
    assert_eq!(x.shape(), (p.n, p.d));
    for j in 0..p.d {
        let observed: Vec<f64> = (0..p.n)
            .filter(|&i| !p.missing[i * p.d + j])
            .map(|i| p.x_observed[i * p.d + j] as f64)
            .collect();
        let mean = (observed.iter().sum::<f64>() / observed.len() as f64) as f32;
        for i in 0..p.n {
            let k = i * p.d + j;
            let want = if p.missing[k] { mean } else { p.x_observed[k] };
            assert_eq!(x[(i, j)], want, "image {i}, pixel {j}");
        }
    }
}

#[test]
fn blocks_of_rows_and_the_compact_pool_match_the_full_pooled_posterior() {
    let p = problem(300);
    let options = ChainsOptions {
        chains: 1,
        parallelism: Parallelism::Sequential,
        pixels: None,
        first_chain: 0,
    };
    let mut mc = MultiChain::new(&p, &settings(12), &options).unwrap();
    while !mc.is_done() {
        mc.round();
    }
    let full = mc.pooled();
    let compact = mc.pooled_compact();
    assert!(compact.mean.is_empty() && compact.std.is_empty());
    assert!(full.std.iter().any(|&v| v > 0.0), "moments were recorded");
    assert_eq!(compact.rmse, full.rmse);
    assert_eq!(compact.rmse_mcse, full.rmse_mcse);
    assert!(compact.rmse_mcse.is_some());
    assert_eq!((compact.mu, compact.sigmasq), (full.mu, full.sigmasq));
    assert_eq!(
        (compact.n, compact.d, compact.draws),
        (full.n, full.d, full.draws)
    );

    // Uneven blocks, one past the end: the same bits as the N x D arrays.
    let s = mc.chains()[0].sampler();
    let d = p.d;
    let (mut mean, mut std) = (Vec::new(), Vec::new());
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    for start in (0..p.n).step_by(64) {
        let rows = start..start + 64;
        let len = rows.len().min(p.n - start) * d;
        let (mut m, mut sd) = (vec![f32::NAN; 64 * d], vec![f32::NAN; 64 * d]);
        s.posterior_rows(rows.clone(), &mut m, &mut sd);
        // Each half alone is that half.
        let (mut m_alone, mut sd_alone) = (vec![f32::NAN; 64 * d], vec![f32::NAN; 64 * d]);
        s.posterior_mean_rows(rows.clone(), &mut m_alone);
        s.posterior_std_rows(rows, &mut sd_alone);
        assert_eq!(bits(&m_alone[..len]), bits(&m[..len]));
        assert_eq!(bits(&sd_alone[..len]), bits(&sd[..len]));
        mean.extend_from_slice(&m[..len]);
        std.extend_from_slice(&sd[..len]);
    }
    assert_eq!(bits(&mean), bits(&full.mean));
    assert_eq!(bits(&std), bits(&full.std));
    assert_eq!(full.mean, s.reconstruction());
}

#[test]
fn an_idx_file_from_blocks_is_the_file_from_one_array() {
    let dir = tempfile::tempdir().unwrap();
    let values: Vec<f32> = (0..5 * 3 * 4).map(|v| v as f32 * 0.25 - 3.0).collect();
    let whole = dir.path().join("whole.idx");
    write_idx_f32(&whole, &[5, 3, 4], &values).unwrap();
    let blocks = dir.path().join("blocks.idx");
    let parts = [&values[..7], &values[7..7], &values[7..50], &values[50..]];
    write_idx_f32_blocks(&blocks, &[5, 3, 4], values.len(), parts).unwrap();
    assert_eq!(
        std::fs::read(&whole).unwrap(),
        std::fs::read(&blocks).unwrap()
    );
    // Too few values: an error, and no file left behind.
    let short = dir.path().join("short.idx");
    let err = write_idx_f32_blocks(&short, &[5, 3, 4], values.len(), [&values[..59]]);
    assert!(err.is_err());
    assert!(!short.exists());
}
