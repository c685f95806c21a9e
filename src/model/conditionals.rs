//! The complete conditionals of SPEC 5 (and the blocked step of SPEC 9), one function each.
//!
//! Every function draws from its conditional given the rest of `state` and writes the draw
//! back. Shared M x M precisions are factored once per call (no per-row inversions); big
//! products go through GEMM; elementwise work runs in parallel chunks with their own
//! generators (see [`super::rng`]).

use super::blocked_step;
use super::linalg::{gemm, view, view_mut};
use super::pixel_steps::{self, Steps};
use super::rng::StepRng;
use super::state::{ModelState, SIGMASQ_RANGE};
use super::suffstats::{BlockStats, CrossStats, block_count, block_rows, passes};
pub use super::x_missing::sample_x_missing;
use super::x_missing::{padded_stride, write_padded_rows};
use super::z_setup::ZSetup;
use super::{Fallbacks, Hyperparameters, Prior};
use faer::Accum;
use nalgebra::DMatrix;
use rand::rngs::SmallRng;
use rand_distr::{Distribution, Gamma};

/// Z | W, mu, sigma^2, X: rows independent with shared precision J = I + W^T S^-1 W,
/// Z = Xc S^-1 W J^-1 + E L^-1 (SPEC 5.1). Also leaves in the state the W step's statistics
/// (X~^T Z, Z^T Z, sum z) for the new Z, summed in the same pass over X~ (see
/// [`super::suffstats`]).
pub fn sample_z(state: &mut ModelState, rng: &StepRng) {
    let (n, d, m) = state.shape();
    // J's factor, K and the offset: computed ahead by the last X_miss step when its inputs are
    // still the state's, else here (the same numbers either way; see [`super::z_setup`]).
    let (w, sigmasq, mu, shift) = (&state.w, &state.sigmasq, &state.mu, &state.columns.shift);
    let setup = match state.scratch.z_setup.take() {
        Some(s) if s.is_for(w, sigmasq, mu, shift) => s,
        _ => ZSetup::compute(w, sigmasq, mu, shift),
    };
    setup.factor.record(&mut state.fallbacks);
    let (k, l_inverse, offset) = (&setup.k, &setup.l_inverse, &setup.offset);
    // Z = X~ K - 1 offset^T + E L^-1, block by block of images, each block's noise from its own
    // generator; the statistics of the W step are summed beside the draws.
    let mut scratch = std::mem::take(&mut state.scratch.z_blocks);
    scratch.resize_with(block_count(n), BlockStats::default);
    // Z^T in padded rows for the X_miss step, written pass by pass while the pass is in cache.
    let stride = padded_stride(m);
    let mut zt = std::mem::take(&mut state.scratch.zt);
    if zt.len() != n * stride {
        zt = crate::hugepages::zeroed_f32(n * stride);
    }
    let mut items = Vec::with_capacity(scratch.len());
    let mut rest = view_mut(&mut state.z);
    let mut zt_rest = zt.as_mut_slice();
    for (b, block) in scratch.iter_mut().enumerate() {
        let len = block_rows(b, n).len();
        let (top, bottom) = rest.split_at_row_mut(len);
        let (zt_top, zt_bottom) = std::mem::take(&mut zt_rest).split_at_mut(len * stride);
        items.push((top, block, zt_top));
        rest = bottom;
        zt_rest = zt_bottom;
    }
    let xs = view(&state.xs);
    super::par::map_items(items, n * d, |b, (mut z_block, stats, zt_block)| {
        let rows = block_rows(b, n);
        let mut r = rng.chunk(b as u64);
        stats.reset(m, d);
        for pass in passes(rows.clone()) {
            let (len, local) = (pass.len(), pass.start - rows.start);
            let xs_pass = xs.subrows(pass.start, len);
            let mut z_pass = z_block.as_mut().subrows_mut(local, len);
            gemm(z_pass.as_mut(), Accum::Replace, xs_pass, view(k), 1.0);
            for (column, off) in z_pass.as_mut().col_iter_mut().zip(offset) {
                column.iter_mut().for_each(|v| *v -= off);
            }
            if stats.noise.len() < len * m {
                stats.noise.resize(len * m, 0.0);
            }
            let noise = &mut stats.noise[..len * m];
            super::normals::fill(&mut r, noise);
            let e = faer::MatRef::from_column_major_slice(noise, len, m);
            gemm(z_pass.as_mut(), Accum::Add, e, view(l_inverse), 1.0);
            stats.add(z_pass.as_ref(), xs_pass);
            write_padded_rows(
                z_pass.as_ref(),
                stride,
                &mut zt_block[local * stride..(local + len) * stride],
            );
        }
    });
    let spare = state.scratch.spare_xtz.take();
    let stats = CrossStats::from_blocks(&scratch, d, m, spare);
    state.scratch.z_blocks = scratch;
    state.scratch.zt = zt;
    state.scratch.zt_current = true;
    state.z_drawn(stats);
}

/// W | Z, mu, sigma^2, X under the matrix-normal prior rows w_d ~ N(0, sigma_d^2 Sigma_c)
/// (SPEC 5.2 and 8): B = Z^T Z + Sigma_c^-1, w_d ~ N(B^-1 Z^T xc_d, sigma_d^2 B^-1), block by
/// block of pixels (see [`super::pixel_steps`]).
pub fn sample_w(state: &mut ModelState, hyper: &Hyperparameters, prior: &Prior, rng: &StepRng) {
    let steps = Steps {
        w: Some(rng),
        ..Steps::default()
    };
    pixel_steps::draw(state, hyper, &prior.column_precision(hyper), steps);
}

/// mu | W, Z, sigma^2, X: mu_d ~ N(sum_n (x_nd - w_d^T z_n) / (N + lambda0),
/// sigma_d^2 / (N + lambda0)) (SPEC 5.3), from the column sums of X and the statistics' sum_n z_n.
pub fn sample_mu(state: &mut ModelState, hyper: &Hyperparameters, rng: &StepRng) {
    let steps = Steps {
        mu: Some(rng),
        ..Steps::default()
    };
    pixel_steps::draw(state, hyper, &[], steps);
}

/// sigma^2 | W, Z, mu, X: sigma_d^2 ~ Scaled-Inv-chi^2(nu0 + N + M + 1, s_d^2) with
/// nu_N s_d^2 = nu0 sigma0^2 + sum_n r_nd^2 + w_d^T Sigma_c^-1 w_d + lambda0 mu_d^2 (SPEC 5.4, 8).
pub fn sample_sigmasq(
    state: &mut ModelState,
    hyper: &Hyperparameters,
    prior: &Prior,
    rng: &StepRng,
) {
    let steps = Steps {
        sigmasq: Some(rng),
        ..Steps::default()
    };
    pixel_steps::draw(state, hyper, &prior.column_precision(hyper), steps);
}

/// The notebook schedule's W, mu and sigma^2 steps, in that order, block by block of pixels in
/// one parallel section: the same kernel as [`sample_w`], [`sample_mu`] and [`sample_sigmasq`]
/// one after the other (see [`super::pixel_steps`]), with the same streams.
pub fn sample_w_mu_sigmasq(
    state: &mut ModelState,
    hyper: &Hyperparameters,
    prior: &Prior,
    rngs: [&StepRng; 3],
) {
    let steps = Steps {
        w: Some(rngs[0]),
        mu: Some(rngs[1]),
        sigmasq: Some(rngs[2]),
    };
    pixel_steps::draw(state, hyper, &prior.column_precision(hyper), steps);
}

/// A Gamma(nu / 2, 1) draw, the randomness of one sigma^2 draw ([`scaled_inv_chi2`]; None
/// when nu admits no Gamma, unreachable with validated hyperparameters).
pub(super) fn unit_gamma(nu: f64, rng: &mut SmallRng) -> Option<f64> {
    Gamma::new(nu / 2.0, 1.0).ok().map(|g| g.sample(rng))
}

/// sigma^2 ~ Scaled-Inv-chi^2(nu, s^2) given nu, nu s^2 (`scale_sum`) and a unit Gamma draw
/// ([`unit_gamma`]): g = unit / rate with rate = nu s^2 / 2
/// (the mode when there is no draw or no finite scale, counted), sigma^2 = 1 / g, clamped.
pub(super) fn scaled_inv_chi2(
    nu: f64,
    scale_sum: f64,
    unit: Option<f64>,
    fallbacks: &mut Fallbacks,
) -> f32 {
    let scale = 2.0 / scale_sum.max(f64::MIN_POSITIVE);
    let draw = match unit {
        Some(unit) if scale.is_finite() => 1.0 / (unit * scale),
        _ => {
            fallbacks.sigmasq_mode += 1;
            scale_sum / (nu + 2.0)
        }
    };
    let value = draw as f32;
    if value.is_finite() && (SIGMASQ_RANGE.0..=SIGMASQ_RANGE.1).contains(&value) {
        value
    } else {
        fallbacks.sigmasq_clamped += 1;
        if value.is_nan() {
            SIGMASQ_RANGE.1
        } else {
            value.clamp(SIGMASQ_RANGE.0, SIGMASQ_RANGE.1)
        }
    }
}

/// The blocked step's conditional means m_d ((M+1) x D, column d = (w_d, mu_d)) and
/// nu_N s_d^2 = nu0 sigma0^2 + x_d^T x_d - m_d^T LN m_d for every column, for the current Z and
/// X, computed as the blocked step computes them (see [`sample_w_mu_sigmasq_blocked`]).
/// Leaves W and mu at the means. For tests of the step's numerics.
///
/// nu_N s_d^2 subtracts two numbers of the size of x_d^T x_d, which for a bright, well-fitted
/// pixel are nearly equal. It is computed through the identity
///   x_d^T x_d - m_d^T LN m_d = ||x_d - Zh m_d||^2 + m_d^T L0 m_d,
/// a sum of non-negative terms, quadratic around m_d (an error in m_d enters only at second
/// order), with ||x_d - Zh m_d||^2 from the sufficient statistics of the shifted data X~
/// (see [`super::suffstats`]): the bright column enters the GEMM as values of a few units,
/// and the quadratic forms are combined in f64.
pub fn blocked_scale_sums(
    state: &mut ModelState,
    hyper: &Hyperparameters,
    prior: &Prior,
) -> (DMatrix<f64>, Vec<f64>) {
    let precision = prior.column_precision(hyper);
    let (means, scale_sums) = blocked_step::means_and_scale_sums(state, hyper, &precision);
    (means.transpose(), scale_sums)
}

/// The blocked conjugate step (SPEC 9): (w_d, mu_d, sigma_d^2) | Z, X jointly for every d.
/// With Zh = [Z 1], L0 = diag(Sigma_c^-1, lambda0): LN = Zh^T Zh + L0, m_d = LN^-1 Zh^T x_d,
/// nu_N = nu0 + N, nu_N s_d^2 = nu0 sigma0^2 + x_d^T x_d - m_d^T LN m_d (formed without
/// cancellation, see [`blocked_scale_sums`]);
/// sigma_d^2 ~ Scaled-Inv-chi^2(nu_N, s_d^2), then (w_d, mu_d) ~ N(m_d, sigma_d^2 LN^-1),
/// block by block of pixels (see [`super::blocked_step`]).
pub fn sample_w_mu_sigmasq_blocked(
    state: &mut ModelState,
    hyper: &Hyperparameters,
    prior: &Prior,
    rng: &StepRng,
) {
    blocked_step::draw(state, hyper, &prior.column_precision(hyper), rng);
}

#[cfg(test)]
mod tests {
    use super::super::rng::Step;
    use super::*;

    /// The statistics the Z step sums beside its draws are those of the new Z and the current
    /// X~, bit for bit as [`CrossStats::compute`] forms them afresh (N = 5,500: three blocks,
    /// the last one partial; big enough to run in parallel).
    #[test]
    fn z_step_statistics_equal_fresh_ones() {
        let (n, d, m) = (5500, 30, 4);
        let x: Vec<f32> = (0..n * d)
            .map(|k| 100.0 + 40.0 * (k as f32 * 0.013).sin() + (k % 11) as f32)
            .collect();
        let missing: Vec<bool> = (0..n * d).map(|k| k % 7 == 3).collect();
        let mut state = ModelState::new(n, d, &x, &missing, m).expect("state");
        let w = DMatrix::<f32>::from_fn(d, m, |dd, a| ((dd * 3 + a) % 5) as f32 - 2.0);
        state.set_w(w).expect("w");
        let s: Vec<f32> = (0..d).map(|dd| 20.0 + dd as f32).collect();
        state.set_sigmasq(&s).expect("sigma^2");
        sample_z(&mut state, &StepRng::new(3, 1, Step::Z));
        let ours = state
            .cached_stats()
            .cloned()
            .expect("the Z step leaves its statistics");
        let fresh = CrossStats::compute(&state.xs, &state.z);
        let bits = |s: &CrossStats| -> Vec<u64> {
            s.xtz
                .iter()
                .chain(s.ztz.iter())
                .chain(&s.sumz)
                .map(|v| v.to_bits())
                .collect()
        };
        assert!(ours.xtz.iter().all(|v| v.is_finite()));
        assert_eq!(bits(&ours), bits(&fresh));
    }
}
