//! PCA against a case with a known answer, its edge cases and its speed at MNIST size.

use gibbs_fa::pca::{Pca, PcaError};
use rand::prelude::*;
use std::time::Instant;

/// Orthonormal columns of the Householder reflection I - 2 v v^T / |v|^2.
fn householder_basis(v: &[f64]) -> Vec<Vec<f64>> {
    let norm2: f64 = v.iter().map(|x| x * x).sum();
    (0..v.len())
        .map(|k| {
            (0..v.len())
                .map(|i| f64::from(u8::from(i == k)) - 2.0 * v[i] * v[k] / norm2)
                .collect()
        })
        .collect()
}

/// Eight rows whose scatter is exactly sum_k 8 s_k^2 u_k u_k^T around `mean`: the
/// coefficients are columns 1..=4 of the 8 x 8 Sylvester-Hadamard matrix (zero mean,
/// orthogonal, squared norm 8).
fn known_data(s: &[f64], u: &[Vec<f64>], mean: &[f64]) -> Vec<f32> {
    let d = mean.len();
    let mut x = Vec::new();
    for i in 0..8usize {
        for j in 0..d {
            let mut v = mean[j];
            for (k, (&sk, uk)) in s.iter().zip(u).enumerate() {
                let sign = if (i & (k + 1)).count_ones() % 2 == 0 {
                    1.0
                } else {
                    -1.0
                };
                v += sign * sk * uk[j];
            }
            x.push(v as f32);
        }
    }
    x
}

#[test]
fn recovers_known_directions_and_variances() {
    let basis = householder_basis(&[1.0, 2.0, 3.0, 4.0, 5.0]);
    let s = [5.0, 3.0, 2.0, 1.0];
    let mean = [10.0, -4.0, 0.5, 100.0, 7.0];
    let x = known_data(&s, &basis[..4], &mean);
    let pca = Pca::fit(&x, 8, 5).unwrap();

    assert_eq!(pca.len(), 5);
    for (m, want) in pca.mean.iter().zip(mean) {
        assert!((f64::from(*m) - want).abs() < 1e-4);
    }
    let total: f64 = s.iter().map(|v| v * v).sum();
    for k in 0..4 {
        let frac = s[k] * s[k] / total;
        assert!(
            (pca.explained_fraction[k] - frac).abs() < 1e-5,
            "fraction {k}"
        );
        let var = 8.0 * s[k] * s[k] / 7.0;
        assert!((pca.variances[k] - var).abs() < 1e-4 * var, "variance {k}");
        let c = pca.component(k).unwrap();
        let dot: f64 = c
            .iter()
            .zip(&basis[k])
            .map(|(&a, b)| f64::from(a) * b)
            .sum();
        assert!(
            dot.abs() > 1.0 - 1e-5,
            "component {k}: |dot| = {}",
            dot.abs()
        );
        // Sign rule: the largest-magnitude entry is positive.
        let pivot = c
            .iter()
            .copied()
            .fold(0.0f32, |p, v| if v.abs() > p.abs() { v } else { p });
        assert!(pivot > 0.0);
    }
    assert!(pca.explained_fraction[4].abs() < 1e-6);
    assert!((pca.cumulative[4] - 1.0).abs() < 1e-9);

    // Orthonormal components.
    for a in 0..5 {
        for b in 0..5 {
            let dot: f32 = pca.components[a]
                .iter()
                .zip(&pca.components[b])
                .map(|(p, q)| p * q)
                .sum();
            let want = if a == b { 1.0 } else { 0.0 };
            assert!((dot - want).abs() < 1e-5, "<c{a}, c{b}> = {dot}");
        }
    }

    // Cumulative: 25/39 = 0.641, 34/39 = 0.872, 38/39 = 0.974, 1.
    assert_eq!(pca.components_for(0.5), 1);
    assert_eq!(pca.components_for(0.8), 2);
    assert_eq!(pca.components_for(0.9), 3);
    assert_eq!(pca.components_for(1.0), 4);
    assert_eq!(pca.components_for(0.0), 0);
    assert_eq!(pca.components_for(f64::NAN), 4);
    assert_eq!(pca.components_for(7.0), 4);
}

#[test]
fn signs_are_deterministic_under_negated_data() {
    let mut rng = SmallRng::seed_from_u64(1);
    let x: Vec<f32> = (0..40 * 6).map(|_| rng.random::<f32>()).collect();
    let neg: Vec<f32> = x.iter().map(|v| -v).collect();
    let a = Pca::fit(&x, 40, 6).unwrap();
    let b = Pca::fit(&neg, 40, 6).unwrap();
    // Negating the data keeps the components (up to sign), and the sign rule picks the same.
    for k in 0..6 {
        for (p, q) in a.components[k].iter().zip(&b.components[k]) {
            assert!((p - q).abs() < 1e-4, "component {k}");
        }
    }
}

#[test]
fn constant_and_wide_data_give_finite_results() {
    let constant = vec![3.0f32; 10 * 4];
    let pca = Pca::fit(&constant, 10, 4).unwrap();
    assert!(pca.explained_fraction.iter().all(|&f| f == 0.0));
    assert_eq!(pca.components_for(0.9), 0);
    assert!(pca.components.iter().flatten().all(|v| v.is_finite()));

    // Fewer rows than columns: rank N - 1, the rest explains nothing.
    let mut rng = SmallRng::seed_from_u64(2);
    let wide: Vec<f32> = (0..3 * 10).map(|_| rng.random::<f32>()).collect();
    let pca = Pca::fit(&wide, 3, 10).unwrap();
    assert!((pca.cumulative[1] - 1.0).abs() < 1e-9);
    assert_eq!(pca.components_for(1.0), 2);
}

#[test]
fn bad_input_is_an_error() {
    assert!(matches!(
        Pca::fit(&[1.0, 2.0], 1, 2),
        Err(PcaError::TooSmall { .. })
    ));
    assert!(matches!(
        Pca::fit(&[], 2, 0),
        Err(PcaError::TooSmall { .. })
    ));
    assert!(matches!(
        Pca::fit(&[1.0, 2.0, 3.0], 2, 2),
        Err(PcaError::LengthMismatch { .. })
    ));
    assert!(matches!(
        Pca::fit(&[1.0, 2.0, f32::NAN, 4.0], 2, 2),
        Err(PcaError::NonFinite { row: 1, col: 0 })
    ));
    // The scatter is accumulated in f64, so even the largest f32 values stay finite.
    let extreme = Pca::fit(&[3.0e38, -3.0e38, -3.0e38, 3.0e38], 2, 2).unwrap();
    assert!((extreme.explained_fraction[0] - 1.0).abs() < 1e-9);
    assert!(matches!(
        Pca::fit(&[0.0; 2 * 5000], 2, 5000),
        Err(PcaError::TooManyColumns(5000))
    ));
}

#[test]
fn mnist_size_timing() {
    // 10000 x 784 with a decaying spectrum: 30 strong directions plus isotropic noise.
    let (n, d, r) = (10000, 784, 30);
    let mut rng = SmallRng::seed_from_u64(3);
    let dirs: Vec<f32> = (0..r * d).map(|_| rng.random::<f32>() - 0.5).collect();
    let mut x = vec![0.0f32; n * d];
    for row in x.chunks_exact_mut(d) {
        for k in 0..r {
            let a = (rng.random::<f32>() - 0.5) * 100.0 / (k + 1) as f32;
            for (v, w) in row.iter_mut().zip(&dirs[k * d..(k + 1) * d]) {
                *v += a * w;
            }
        }
        for v in row.iter_mut() {
            *v += rng.random::<f32>() - 0.5;
        }
    }
    let start = Instant::now();
    let pca = Pca::fit(&x, n, d).unwrap();
    let secs = start.elapsed().as_secs_f64();
    eprintln!(
        "PCA of {n} x {d}: {secs:.2} s; {} components for 90%",
        pca.components_for(0.9)
    );
    assert!((pca.cumulative[d - 1] - 1.0).abs() < 1e-9);
    assert!(pca.components_for(0.9) <= r);
}
