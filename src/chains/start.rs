//! Dispersed starting points. Chain 1 starts where the notebook does (missing pixels and mu
//! at the observed column means, sigma^2 at the observed column variances, W and Z
//! independent N(0, 1)). Every other chain starts from its own random W and Z (the same
//! initialisation under its own seed) and from mu and sigma^2 perturbed around the column
//! statistics:
//!
//! ```text
//! mu_d      = mean_d + sd_d u_d,          u_d ~ N(0, 1)
//! sigma_d^2 = var_d exp(v_d),             v_d ~ N(0, 1)
//! ```
//!
//! with mean_d, var_d = sd_d^2 the observed column mean and variance. Both are far wider
//! than the posterior (whose sd of mu_d is about sd_d / sqrt(N)), as R-hat needs: chains
//! that start apart and must come together. Missing pixels stay at the column means. On
//! MNIST the spread mu takes hundreds of sweeps to come back (the data fix mu + W z-bar, not
//! its split, and the Gibbs sampler creeps along that ridge), so R-hat stays far above 1 over
//! the notebook's 200 sweeps: a real warning, shown by the lesson's "several chains" preset
//! and its test in `tests/lesson_presets.rs`.

use rand::SeedableRng;
use rand::rngs::SmallRng;
use rand_distr::{Distribution, StandardNormal};

use super::seeds::start_seed;
use crate::model::{GibbsSampler, ModelError};

/// Perturbs mu and sigma^2 of a freshly built sampler (whose state is the notebook's
/// initialisation under the chain's seed) around their initial values.
pub fn disperse(sampler: &mut GibbsSampler, chain_seed: u64) -> Result<(), ModelError> {
    let mut rng = SmallRng::seed_from_u64(start_seed(chain_seed));
    let mean = sampler.mu().to_vec();
    let var = sampler.sigmasq().to_vec();
    let mut mu = Vec::with_capacity(mean.len());
    let mut sigmasq = Vec::with_capacity(var.len());
    for (&m, &v) in mean.iter().zip(&var) {
        let u: f64 = StandardNormal.sample(&mut rng);
        let w: f64 = StandardNormal.sample(&mut rng);
        mu.push((m as f64 + (v as f64).sqrt() * u) as f32);
        sigmasq.push((v as f64 * w.exp()) as f32);
    }
    let state = sampler.state_mut();
    state.set_mu(&mu)?;
    state.set_sigmasq(&sigmasq)?;
    Ok(())
}
