//! Real MNIST at a reduced size (N = 1000, M = 20, 100 sweeps) through GIBBS_FA_DATA: the
//! posterior-mean imputation of speckled pixels must be far better than column-mean
//! imputation, averaging samples must beat a single sample, and the log joint must rise.
//! Masks: speckle (p = 0.1) on even images and lines (width 2) on odd ones, built inline.

mod model_common;

use flate2::read::GzDecoder;
use gibbs_fa::model::{GibbsSampler, Hyperparameters, Problem, SamplerSettings, Schedule};
use model_common::*;
use std::io::Read;

const N: usize = 1000;
const SIDE: usize = 28;
const D: usize = SIDE * SIDE;

/// The first `n` images of an IDX3 gz file (magic 2051), as f32.
fn read_images(path: &std::path::Path, n: usize) -> Vec<f32> {
    let file = std::fs::File::open(path).expect("open MNIST");
    let mut bytes = Vec::new();
    GzDecoder::new(file)
        .read_to_end(&mut bytes)
        .expect("gunzip");
    let be = |k: usize| u32::from_be_bytes([bytes[k], bytes[k + 1], bytes[k + 2], bytes[k + 3]]);
    assert_eq!(be(0), 2051, "IDX3 magic");
    assert_eq!((be(8) as usize, be(12) as usize), (SIDE, SIDE));
    assert!(be(4) as usize >= n);
    bytes[16..16 + n * D].iter().map(|&b| b as f32).collect()
}

/// Half the images speckled (p = 0.1), half masked by a random line through the centre.
fn masks(seed: u64) -> Vec<bool> {
    let mut r = rng(seed);
    let mut m = vec![false; N * D];
    for i in 0..N {
        if i % 2 == 0 {
            for j in 0..D {
                m[i * D + j] = rand::RngExt::random_bool(&mut r, 0.1);
            }
        } else {
            let (a, b) = (normal(&mut r), normal(&mut r));
            let norm = (a * a + b * b).sqrt().max(1e-12);
            let (ux, uy) = (a / norm, b / norm);
            for row in 0..SIDE {
                for col in 0..SIDE {
                    let (y, x) = (row as f64 - 14.0, col as f64 - 14.0);
                    // Distance to the line through the origin along u.
                    let dist = (x * uy - y * ux).abs();
                    m[i * D + row * SIDE + col] = dist < 2.0;
                }
            }
        }
    }
    m
}

#[test]
fn mnist_imputation_beats_column_means_and_log_joint_rises() {
    let Some(dir) = mnist_dir() else { return };
    let pixels = read_images(&dir.join("t10k-images-idx3-ubyte.gz"), N);
    let mut r = rng(41);
    let x_true: Vec<f32> = pixels
        .iter()
        .map(|&v| v + (3.0 * normal(&mut r)) as f32)
        .collect();
    let missing = masks(42);
    let problem = Problem {
        n: N,
        d: D,
        x_observed: x_true.clone(),
        missing,
        x_true: Some(x_true),
    };
    // RMSE on the masked pixels of the speckled (even) or the line-masked (odd) images.
    let rmse_of = |values: &[f32], odd: bool| -> f64 {
        let (mut se, mut n) = (0.0, 0.0);
        for (k, &v) in values.iter().enumerate() {
            if problem.missing[k] && ((k / D) % 2 == 1) == odd {
                se += (v as f64 - problem.x_observed[k] as f64).powi(2);
                n += 1.0;
            }
        }
        (se / n).sqrt()
    };
    let column_means = column_mean_imputation(&problem);
    let base = [rmse_of(&column_means, false), rmse_of(&column_means, true)];
    for schedule in [Schedule::Notebook, Schedule::Blocked] {
        let settings = SamplerSettings {
            hyper: Hyperparameters {
                m: 20,
                ..Hyperparameters::default()
            },
            schedule,
            sweeps: 100,
            burn_in: 50,
            seed: 43,
            ..SamplerSettings::default()
        };
        let mut g = GibbsSampler::new(&problem, &settings).expect("sampler");
        let initial = g.log_joint();
        for _ in 0..100 {
            g.sweep();
        }
        let t = g.traces();
        let baseline = g.rmse_mean_impute().expect("baseline");
        let post = *t.rmse_posterior_mean.last().expect("rmse");
        let sample = *t.rmse_sample.last().expect("rmse");
        let first: f64 = t.log_joint[..10].iter().sum::<f64>() / 10.0;
        let last: f64 = t.log_joint[90..].iter().sum::<f64>() / 10.0;
        let recon = g.reconstruction();
        let by_mask = [rmse_of(&recon, false), rmse_of(&recon, true)];
        eprintln!(
            "{schedule:?}: {:.1}% missing; RMSE column means {baseline:.2}, last sample {sample:.2}, posterior mean {post:.2}; speckle {:.2} vs {:.2}, lines {:.2} vs {:.2}; log joint initial {initial:.4e}, first 10 {first:.4e}, last 10 {last:.4e}",
            100.0 * g.missing_fraction(),
            by_mask[0],
            base[0],
            by_mask[1],
            base[1]
        );
        // The sampler's own baseline is the column-mean imputation computed here.
        assert!((baseline - rmse_all(&column_means, &problem)).abs() < 1e-3 * baseline);
        // Speckled pixels: measured ~0.69 of the column-mean RMSE at N = 1000, M = 20 (a PPCA
        // fitted to the complete data gets ~0.63). Lines through the centre hide the pixels
        // that are missing in every line-masked image, and with the default weak prior on W
        // (kappa0 = 0.01) unused factors drift to large loadings that extrapolate badly into
        // the band: there the posterior mean is about as good as column means (printed above,
        // not asserted).
        assert!(
            by_mask[0] < 0.75 * base[0],
            "speckle: {} vs {}",
            by_mask[0],
            base[0]
        );
        assert!(by_mask[1].is_finite());
        assert!(post < sample, "averaging samples must beat a single sample");
        assert!(last > first && first > initial, "log joint must rise");
    }
}

/// Missing pixels at the mean of the observed pixels of their column.
fn column_mean_imputation(p: &Problem) -> Vec<f32> {
    let mut sum = vec![0.0f64; D];
    let mut count = vec![0.0f64; D];
    for k in 0..N * D {
        if !p.missing[k] {
            sum[k % D] += p.x_observed[k] as f64;
            count[k % D] += 1.0;
        }
    }
    (0..N * D)
        .map(|k| {
            if p.missing[k] {
                (sum[k % D] / count[k % D]) as f32
            } else {
                p.x_observed[k]
            }
        })
        .collect()
}

fn rmse_all(values: &[f32], p: &Problem) -> f64 {
    let (mut se, mut n) = (0.0, 0.0);
    for (k, &v) in values.iter().enumerate() {
        if p.missing[k] {
            se += (v as f64 - p.x_observed[k] as f64).powi(2);
            n += 1.0;
        }
    }
    (se / n).sqrt()
}
