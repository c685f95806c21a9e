//! A small synthetic problem for the lesson tests: data drawn from the factor model with a
//! few known factors, and a random mask.

use crate::model::Problem;
use rand::SeedableRng;
use rand::rngs::SmallRng;
use rand_distr::{Distribution, StandardNormal, Uniform};

/// N images of D pixels from x = W z + mu + noise with 3 true factors, values of the size
/// of pixel intensities, about 20% missing (at least one missing pixel per image).
pub fn tiny_problem(n: usize, d: usize, seed: u64) -> Problem {
    let mut rng = SmallRng::seed_from_u64(seed);
    let normal = |r: &mut SmallRng| -> f32 { StandardNormal.sample(r) };
    let k = 3;
    let w: Vec<f32> = (0..d * k).map(|_| 20.0 * normal(&mut rng)).collect();
    let mu: Vec<f32> = (0..d).map(|j| 50.0 + (j % 7) as f32 * 10.0).collect();
    let unit = Uniform::new(0.0f64, 1.0).unwrap();
    let mut x_true = vec![0.0f32; n * d];
    let mut missing = vec![false; n * d];
    for i in 0..n {
        let z: Vec<f32> = (0..k).map(|_| normal(&mut rng)).collect();
        for j in 0..d {
            let fit: f32 = (0..k).map(|a| w[j * k + a] * z[a]).sum();
            x_true[i * d + j] = fit + mu[j] + 3.0 * normal(&mut rng);
            missing[i * d + j] = unit.sample(&mut rng) < 0.2;
        }
        missing[i * d + (i % d)] = true;
    }
    let x_observed = x_true
        .iter()
        .zip(&missing)
        .map(|(&v, &m)| if m { f32::NAN } else { v })
        .collect();
    Problem {
        n,
        d,
        x_observed,
        missing,
        x_true: Some(x_true),
    }
}
