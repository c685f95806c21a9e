//! Dream digits: new images from a fitted model, and straight lines in latent space.
//!
//! Under the model x = W z + mu + e with z ~ N(0, I) and e ~ N(0, diag(sigma^2)), so a
//! fitted (W, mu, sigma^2) generates digits the data never held. Sums are formed in f64.

use rand::SeedableRng;
use rand::rngs::SmallRng;
use rand_distr::{Distribution, StandardNormal};

use super::LessonError;
use crate::model::ModelState;
use crate::reconstruct::FactorParams;

/// Largest number of images one call makes (a grid for a screen, not a dataset).
pub const MAX_IMAGES: usize = 10_000;

/// W z + mu (+ sigma e when `noise` is given) for one latent vector.
fn generate(params: &FactorParams, z: &[f64], noise: Option<&[f64]>) -> Vec<f32> {
    let (w, mu, s) = (params.w(), params.mu(), params.sigma2());
    (0..params.d())
        .map(|j| {
            let mut v = mu[j] as f64;
            for (a, &za) in z.iter().enumerate() {
                v += w[(j, a)] as f64 * za;
            }
            if let Some(e) = noise {
                v += (s[j] as f64).sqrt() * e[j];
            }
            v as f32
        })
        .collect()
}

fn check_count(what: &'static str, count: usize, min: usize) -> Result<(), LessonError> {
    if count < min || count > MAX_IMAGES {
        return Err(LessonError::InvalidArgument {
            what,
            reason: if count < min {
                "too few images"
            } else {
                "more than 10,000 images"
            },
        });
    }
    Ok(())
}

/// `count` new digits (each D values, row after row of the image) from the model: z ~ N(0, I),
/// x = W z + mu, plus N(0, sigma_d^2) pixel noise when `noise`. The same seed gives the same
/// digits.
pub fn dream_digits(
    params: &FactorParams,
    count: usize,
    noise: bool,
    seed: u64,
) -> Result<Vec<Vec<f32>>, LessonError> {
    check_count("the number of dream digits", count, 0)?;
    let mut rng = SmallRng::seed_from_u64(seed);
    let (d, m) = (params.d(), params.m());
    Ok((0..count)
        .map(|_| {
            let z: Vec<f64> = (0..m).map(|_| StandardNormal.sample(&mut rng)).collect();
            let e: Option<Vec<f64>> =
                noise.then(|| (0..d).map(|_| StandardNormal.sample(&mut rng)).collect());
            generate(params, &z, e.as_deref())
        })
        .collect())
}

/// The images W z_t + mu along the straight line z_t = (1 - t) z_a + t z_b, t = 0, 1/(k-1),
/// ..., 1 (`steps` = k >= 2 images, the first at z_a and the last at z_b exactly).
pub fn latent_walk(
    params: &FactorParams,
    z_a: &[f32],
    z_b: &[f32],
    steps: usize,
) -> Result<Vec<Vec<f32>>, LessonError> {
    check_count("the number of steps of a latent walk", steps, 2)?;
    let m = params.m();
    for z in [z_a, z_b] {
        if z.len() != m {
            return Err(LessonError::InvalidArgument {
                what: "a latent vector of a walk",
                reason: "its length is not the number of factors M",
            });
        }
        if z.iter().any(|v| !v.is_finite()) {
            return Err(LessonError::InvalidArgument {
                what: "a latent vector of a walk",
                reason: "it holds a non-finite value",
            });
        }
    }
    Ok((0..steps)
        .map(|k| {
            let t = k as f64 / (steps - 1) as f64;
            let z: Vec<f64> = z_a
                .iter()
                .zip(z_b)
                .map(|(&a, &b)| (1.0 - t) * a as f64 + t * b as f64)
                .collect();
            generate(params, &z, None)
        })
        .collect())
}

/// [`latent_walk`] between digits `a` and `b` of `state` (their current z_n), through the
/// state's W and mu.
pub fn walk_between_digits(
    state: &ModelState,
    a: usize,
    b: usize,
    steps: usize,
) -> Result<Vec<Vec<f32>>, LessonError> {
    let (n, _, _) = state.shape();
    for index in [a, b] {
        if index >= n {
            return Err(LessonError::DigitOutOfRange { index, n });
        }
    }
    let params = FactorParams::new(
        state.w().clone(),
        state.mu().to_vec(),
        state.sigmasq().to_vec(),
    )?;
    let z = state.z();
    let row = |i: usize| -> Vec<f32> { z.row(i).iter().copied().collect() };
    latent_walk(&params, &row(a), &row(b), steps)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lesson::test_problem::tiny_problem;
    use crate::model::{GibbsSampler, SamplerSettings};
    use nalgebra::DMatrix;

    fn params(d: usize, m: usize) -> FactorParams {
        let w = DMatrix::<f32>::from_fn(d, m, |j, a| ((j * 7 + a * 3) % 11) as f32 - 5.0);
        let mu = (0..d).map(|j| 100.0 + j as f32).collect();
        let s = (0..d).map(|j| 1.0 + (j % 3) as f32).collect();
        FactorParams::new(w, mu, s).unwrap()
    }

    #[test]
    fn dream_digits_have_the_right_shape_and_repeat_with_the_seed() {
        let p = params(12, 3);
        let a = dream_digits(&p, 5, false, 4).unwrap();
        assert_eq!(a.len(), 5);
        assert!(
            a.iter()
                .all(|x| x.len() == 12 && x.iter().all(|v| v.is_finite()))
        );
        assert_eq!(a, dream_digits(&p, 5, false, 4).unwrap());
        assert_ne!(a, dream_digits(&p, 5, false, 5).unwrap());
        assert!(dream_digits(&p, 0, true, 1).unwrap().is_empty());
        assert!(dream_digits(&p, MAX_IMAGES + 1, true, 1).is_err());
        // Noise changes every pixel; without it all digits lie in mu + span(W): with W's
        // columns spanning 3 dimensions, 4 centred digits are linearly dependent.
        let noisy = dream_digits(&p, 5, true, 4).unwrap();
        assert!(noisy.iter().all(|x| x.iter().all(|v| v.is_finite())));
        assert!(noisy[0].iter().zip(&a[0]).all(|(x, y)| x != y));
        let centred = DMatrix::<f64>::from_fn(12, 4, |j, k| a[k][j] as f64 - p.mu()[j] as f64);
        let sv = centred.singular_values();
        assert!(sv[3] < 1e-4 * sv[0], "{sv}");
    }

    #[test]
    fn dream_digits_have_the_model_moments() {
        // E x = mu and Var x_d = (W W^T)_dd + sigma_d^2, within Monte Carlo error.
        let p = params(6, 2);
        let count = 4000;
        let xs = dream_digits(&p, count, true, 17).unwrap();
        for j in 0..6 {
            let var: f64 =
                (0..2).map(|a| (p.w()[(j, a)] as f64).powi(2)).sum::<f64>() + p.sigma2()[j] as f64;
            let mean = xs.iter().map(|x| x[j] as f64).sum::<f64>() / count as f64;
            let se = (var / count as f64).sqrt();
            assert!(
                (mean - p.mu()[j] as f64).abs() < 4.0 * se,
                "pixel {j}: {mean}"
            );
            let v =
                xs.iter().map(|x| (x[j] as f64 - mean).powi(2)).sum::<f64>() / (count - 1) as f64;
            // Var of a sample variance of a Gaussian: 2 var^2 / (count - 1).
            let se_v = var * (2.0 / (count - 1) as f64).sqrt();
            assert!((v - var).abs() < 4.0 * se_v, "pixel {j}: {v} vs {var}");
        }
    }

    #[test]
    fn a_walk_runs_from_one_digit_to_the_other() {
        let problem = tiny_problem(20, 16, 3);
        let mut settings = SamplerSettings::default();
        settings.hyper.m = 3;
        let mut sampler = GibbsSampler::new(&problem, &settings).unwrap();
        sampler.sweep();
        let state = sampler.state();
        let walk = walk_between_digits(state, 2, 9, 6).unwrap();
        assert_eq!(walk.len(), 6);
        assert!(
            walk.iter()
                .all(|x| x.len() == 16 && x.iter().all(|v| v.is_finite()))
        );
        let dense = |i: usize| -> Vec<f64> {
            (0..16)
                .map(|j| {
                    (0..3)
                        .map(|a| state.w()[(j, a)] as f64 * state.z()[(i, a)] as f64)
                        .sum::<f64>()
                        + state.mu()[j] as f64
                })
                .collect()
        };
        for (image, digit) in [(&walk[0], 2), (&walk[5], 9)] {
            for (x, y) in image.iter().zip(dense(digit)) {
                assert!(
                    (*x as f64 - y).abs() <= 1e-5 * y.abs().max(1.0),
                    "{x} vs {y}"
                );
            }
        }
        // The middle of an even walk is halfway between its neighbours (a straight line).
        for ((&a, &b), &c) in walk[1].iter().zip(&walk[3]).zip(&walk[2]) {
            let mid = 0.5 * (a as f64 + b as f64);
            assert!((c as f64 - mid).abs() < 1e-3, "{c} vs {mid}");
        }
        assert!(walk_between_digits(state, 0, 20, 4).is_err());
        assert!(walk_between_digits(state, 0, 1, 1).is_err());
        let p = params(16, 3);
        assert!(latent_walk(&p, &[0.0; 2], &[0.0; 3], 3).is_err());
        assert!(latent_walk(&p, &[f32::NAN, 0.0, 0.0], &[0.0; 3], 3).is_err());
    }
}
