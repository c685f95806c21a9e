//! The latent-route conditional reconstruction against dense Gaussian algebra.

use gibbs_fa::reconstruct::{FactorParams, ReconstructError, conditional, conditional_mixture};
use nalgebra::{DMatrix, DVector};
use rand::prelude::*;
use rand_distr::StandardNormal;

fn random_params(rng: &mut SmallRng, d: usize, m: usize) -> FactorParams {
    let w = DMatrix::from_fn(d, m, |_, _| rng.sample::<f32, _>(StandardNormal));
    let mu = (0..d)
        .map(|_| 3.0 * rng.sample::<f32, _>(StandardNormal))
        .collect();
    let sigma2 = (0..d).map(|_| 0.2 + rng.random::<f32>()).collect();
    FactorParams::new(w, mu, sigma2).expect("valid parameters")
}

/// Mean and variance of the missing block from the full covariance W W^T + S, partitioned,
/// with an explicit solve against Sigma_oo.
fn brute_force(p: &FactorParams, x: &[f32], missing: &[bool]) -> (Vec<f64>, Vec<f64>) {
    let d = p.d();
    let w = p.w().map(f64::from);
    let mut sigma = &w * w.transpose();
    for k in 0..d {
        sigma[(k, k)] += f64::from(p.sigma2()[k]);
    }
    let obs: Vec<usize> = (0..d).filter(|&k| !missing[k]).collect();
    let mis: Vec<usize> = (0..d).filter(|&k| missing[k]).collect();
    let block = |rows: &[usize], cols: &[usize]| {
        DMatrix::from_fn(rows.len(), cols.len(), |i, j| sigma[(rows[i], cols[j])])
    };
    let s_oo = block(&obs, &obs);
    let s_mo = block(&mis, &obs);
    let s_mm = block(&mis, &mis);
    let resid = DVector::from_iterator(
        obs.len(),
        obs.iter().map(|&k| f64::from(x[k]) - f64::from(p.mu()[k])),
    );
    let inv_oo = s_oo.try_inverse().expect("Sigma_oo invertible");
    let mean = &s_mo * &inv_oo * resid;
    let cov = s_mm - &s_mo * &inv_oo * s_mo.transpose();
    let means = mis
        .iter()
        .enumerate()
        .map(|(i, &k)| mean[i] + f64::from(p.mu()[k]))
        .collect();
    let vars = (0..mis.len()).map(|i| cov[(i, i)]).collect();
    (means, vars)
}

fn assert_close(a: f64, b: f64, what: &str) {
    let tol = 1e-4 * (1.0 + b.abs());
    assert!((a - b).abs() <= tol, "{what}: {a} vs {b}");
}

#[test]
fn equals_dense_brute_force_conditional() {
    let mut rng = SmallRng::seed_from_u64(7);
    let (d, m) = (9, 3);
    let p = random_params(&mut rng, d, m);
    let x: Vec<f32> = (0..d)
        .map(|_| 5.0 * rng.sample::<f32, _>(StandardNormal))
        .collect();
    let missing = [true, false, false, true, true, false, true, false, false];
    let rec = conditional(&p, &x, &missing).unwrap();
    let (means, vars) = brute_force(&p, &x, &missing);
    let mut k = 0;
    for i in 0..d {
        if missing[i] {
            assert_close(f64::from(rec.mean[i]), means[k], "mean");
            assert_close(f64::from(rec.std[i]), vars[k].sqrt(), "std");
            k += 1;
        } else {
            assert_eq!(rec.mean[i], x[i], "observed pixels keep their value");
            assert_eq!(rec.std[i], 0.0);
        }
    }
    assert_eq!(k, means.len());
}

#[test]
fn wholly_masked_image_gives_prior_predictive() {
    let mut rng = SmallRng::seed_from_u64(8);
    let p = random_params(&mut rng, 6, 2);
    let x = vec![f32::NAN; 6]; // values under the mask are never read
    let rec = conditional(&p, &x, &[true; 6]).unwrap();
    for i in 0..6 {
        let ww: f64 = (0..2).map(|k| f64::from(p.w()[(i, k)]).powi(2)).sum();
        let var = ww + f64::from(p.sigma2()[i]);
        assert_close(f64::from(rec.mean[i]), f64::from(p.mu()[i]), "prior mean");
        assert_close(f64::from(rec.std[i]), var.sqrt(), "prior std");
    }
}

#[test]
fn nothing_masked_returns_the_image() {
    let mut rng = SmallRng::seed_from_u64(9);
    let p = random_params(&mut rng, 5, 2);
    let x = vec![1.0, -2.0, 3.5, 0.0, 7.25];
    let rec = conditional(&p, &x, &[false; 5]).unwrap();
    assert_eq!(rec.mean, x);
    assert_eq!(rec.std, vec![0.0; 5]);
}

#[test]
fn mixture_matches_mixture_moments() {
    let mut rng = SmallRng::seed_from_u64(10);
    let (d, m) = (7, 2);
    let a = random_params(&mut rng, d, m);
    let b = random_params(&mut rng, d, m);
    let x: Vec<f32> = (0..d)
        .map(|_| rng.sample::<f32, _>(StandardNormal))
        .collect();
    let missing = [false, true, true, false, false, true, false];
    let mix = conditional_mixture(&[&a, &b], &x, &missing).unwrap();
    let (ma, va) = brute_force(&a, &x, &missing);
    let (mb, vb) = brute_force(&b, &x, &missing);
    let hidden: Vec<usize> = (0..d).filter(|&i| missing[i]).collect();
    for (k, &i) in hidden.iter().enumerate() {
        let mean = 0.5 * (ma[k] + mb[k]);
        let second = 0.5 * (va[k] + ma[k] * ma[k] + vb[k] + mb[k] * mb[k]);
        assert_close(f64::from(mix.mean[i]), mean, "mixture mean");
        assert_close(
            f64::from(mix.std[i]),
            (second - mean * mean).sqrt(),
            "mixture std",
        );
    }
    // One sample: the mixture is the plain conditional.
    let single = conditional_mixture(&[&a], &x, &missing).unwrap();
    let plain = conditional(&a, &x, &missing).unwrap();
    for i in 0..d {
        assert_close(f64::from(single.mean[i]), f64::from(plain.mean[i]), "mean");
        assert_close(f64::from(single.std[i]), f64::from(plain.std[i]), "std");
    }
}

#[test]
fn bad_inputs_are_errors() {
    let mut rng = SmallRng::seed_from_u64(11);
    let p = random_params(&mut rng, 4, 2);
    let err = conditional(&p, &[1.0, f32::NAN, 0.0, 0.0], &[true, false, false, false]);
    assert!(matches!(
        err,
        Err(ReconstructError::NotFinite { index: 1, .. })
    ));
    let err = conditional(&p, &[1.0, 2.0], &[true, false]);
    assert!(matches!(err, Err(ReconstructError::ShapeMismatch { .. })));
    let err = conditional(&p, &[1.0; 4], &[true; 3]);
    assert!(matches!(err, Err(ReconstructError::ShapeMismatch { .. })));
    let w = DMatrix::from_element(3, 1, 1.0f32);
    assert!(matches!(
        FactorParams::new(w.clone(), vec![0.0; 3], vec![1.0, f32::NAN, 1.0]),
        Err(ReconstructError::NotFinite { .. })
    ));
    assert!(matches!(
        FactorParams::new(w.clone(), vec![0.0; 3], vec![1.0, 0.0, 1.0]),
        Err(ReconstructError::NonPositiveVariance { index: 1, .. })
    ));
    assert!(matches!(
        FactorParams::new(w.clone(), vec![0.0; 2], vec![1.0; 3]),
        Err(ReconstructError::ShapeMismatch { .. })
    ));
    let mut bad_w = w;
    bad_w[(2, 0)] = f32::INFINITY;
    assert!(matches!(
        FactorParams::new(bad_w, vec![0.0; 3], vec![1.0; 3]),
        Err(ReconstructError::NotFinite {
            what: "W",
            index: 2
        })
    ));
    assert!(matches!(
        conditional_mixture(&[], &[0.0; 4], &[false; 4]),
        Err(ReconstructError::NoSamples)
    ));
    let other = random_params(&mut rng, 4, 3);
    assert!(matches!(
        conditional_mixture(&[&p, &other], &[0.0; 4], &[false; 4]),
        Err(ReconstructError::SampleShapeMismatch { .. })
    ));
}

#[test]
fn zero_factors_is_independent_noise() {
    let p = FactorParams::new(DMatrix::zeros(3, 0), vec![1.0, 2.0, 3.0], vec![4.0; 3]).unwrap();
    let rec = conditional(&p, &[0.0; 3], &[true, false, true]).unwrap();
    assert_eq!(rec.mean, vec![1.0, 0.0, 3.0]);
    assert_eq!(rec.std, vec![2.0, 0.0, 2.0]);
}

/// One MNIST-sized image (D = 784, M = 50, a third masked) must be quick enough to redo at
/// every paint stroke; the bound is loose (a busy 2-core machine) but catches a D x D route.
#[test]
fn full_size_reconstruction_is_interactive() {
    let mut rng = SmallRng::seed_from_u64(12);
    let p = random_params(&mut rng, 784, 50);
    let x: Vec<f32> = (0..784).map(|_| 255.0 * rng.random::<f32>()).collect();
    let missing: Vec<bool> = (0..784).map(|i| i % 3 == 0).collect();
    let reps = 50;
    let start = std::time::Instant::now();
    for _ in 0..reps {
        let rec = conditional(&p, &x, &missing).unwrap();
        assert!(rec.std.iter().all(|s| s.is_finite()));
    }
    let per_call = start.elapsed().as_secs_f64() / f64::from(reps);
    println!(
        "conditional at D=784, M=50: {:.3} ms per image",
        per_call * 1e3
    );
    assert!(per_call < 0.02, "{per_call} s per reconstruction");
}

#[test]
fn complete_dataset_matches_per_image_conditionals() {
    let mut rng = SmallRng::seed_from_u64(13);
    let (n, d, m) = (6, 8, 2);
    let a = random_params(&mut rng, d, m);
    let b = random_params(&mut rng, d, m);
    let x: Vec<f32> = (0..n * d)
        .map(|_| rng.sample::<f32, _>(StandardNormal))
        .collect();
    let missing: Vec<bool> = (0..n * d).map(|k| k % 3 == 1 || k / d == 4).collect();
    let progress = std::sync::atomic::AtomicUsize::new(0);
    let all = gibbs_fa::reconstruct::complete_dataset(&[&a, &b], &x, &missing, n, Some(&progress))
        .unwrap();
    assert_eq!(progress.into_inner(), n);
    for i in 0..n {
        let row = i * d..(i + 1) * d;
        let one = conditional_mixture(&[&a, &b], &x[row.clone()], &missing[row.clone()]).unwrap();
        assert_eq!(&all.mean[row.clone()], one.mean.as_slice());
        assert_eq!(&all.std[row], one.std.as_slice());
    }
    let mut bad = x.clone();
    bad[3 * d + 2] = f32::NAN; // observed (k % 3 != 1)
    let err = gibbs_fa::reconstruct::complete_dataset(&[&a], &bad, &missing, n, None);
    assert!(matches!(err, Err(ReconstructError::NotFinite { index, .. }) if index == 3 * d + 2));
}
