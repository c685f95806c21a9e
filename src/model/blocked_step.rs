//! The blocked schedule's conjugate step (SPEC 9), (w_d, mu_d, sigma_d^2) | Z, X jointly,
//! drawn block by block of pixels in one parallel section.
//!
//! Why: the step's posterior precision LN = Zh^T Zh + L0 is shared by all pixels, and given it
//! every pixel's mean, scale sum, sigma_d^2 and (w_d, mu_d) depend on that pixel's statistics
//! and random numbers only. Written as whole-matrix products, the step was a chain of small
//! parallel sections (the means, W's residual sums, the noise) between serial loops (the
//! normals, the sigma^2 draws), most of a millisecond a sweep with a core idle, and it left the
//! residual sums at the draw for the X_miss step to form again. Here the factor of LN runs
//! beside the draw of all the random numbers, each from its stream in pixel order exactly as
//! the serial step drew them (D x (M+1) standard normals, one unit Gamma per pixel), and then
//! the blocks of [`super::pixel_steps`] do the rest, each leaving its rows' residual sums at
//! the new values in the state's cache. The draws do not depend on the thread count.
//!
//! Runs on the caller's thread and rayon's current pool; never blocks.

use super::linalg::{SharedFactor, gemm, view, view_mut};
use super::pixel_steps::{Block, pixel_blocks, rows_f64};
use super::rng::StepRng;
use super::state::ModelState;
use super::suffstats::{ColumnSums, CrossStats};
use super::{Fallbacks, Hyperparameters};
use faer::Accum;
use nalgebra::DMatrix;

/// The step's random numbers for all pixels, drawn before the blocks.
struct Randomness {
    /// Standard normals, D x (M+1) column-major: row d is pixel d's (w_d, mu_d) noise before
    /// L^-1.
    normals: Vec<f32>,
    /// One Gamma(nu_N / 2, 1) draw per sigma_d^2.
    gammas: Vec<Option<f64>>,
}

impl Randomness {
    /// From `rng`: the normals from its chunks 0.. (as [`StepRng::fill_standard_normal`] fills
    /// them), the Gamma draws from its last chunk, in pixel order.
    fn draw(rng: &StepRng, d: usize, m: usize, nu: f64) -> Randomness {
        let mut normals = vec![0.0f32; d * (m + 1)];
        rng.fill_standard_normal(&mut normals);
        let mut r = rng.chunk(u64::MAX);
        let gammas = (0..d)
            .map(|_| super::conditionals::unit_gamma(nu, &mut r))
            .collect();
        Randomness { normals, gammas }
    }
}

/// What every block reads.
struct Shared<'a> {
    stats: &'a CrossStats,
    columns: &'a ColumnSums,
    /// Sigma_c^-1's diagonal.
    precision: &'a [f64],
    /// LN's factor.
    factor: &'a SharedFactor,
    /// The random numbers, when the step draws (else W and mu are left at the means).
    random: Option<&'a Randomness>,
    hyper: &'a Hyperparameters,
    d: usize,
    m: usize,
    /// nu_N = nu0 + N.
    nu: f64,
}

/// One block's conditional means (rows x (M+1), row i = (m_{w,d}, m_{mu,d}) of pixel
/// start + i) and scale sums nu_N s_d^2, with what its guards counted.
struct BlockResult {
    means: DMatrix<f64>,
    scale_sums: Vec<f64>,
    /// The residual sums at the block's W and mu as left in the state.
    residual: Vec<f64>,
    fallbacks: Fallbacks,
}

/// The blocked step (SPEC 9): LN = Zh^T Zh + L0 with Zh = [Z 1] and L0 = diag(Sigma_c^-1,
/// lambda0), m_d = LN^-1 Zh^T x_d, nu_N s_d^2 = nu0 sigma0^2 + x_d^T x_d - m_d^T LN m_d,
/// sigma_d^2 ~ Scaled-Inv-chi^2(nu_N, s_d^2), (w_d, mu_d) ~ N(m_d, sigma_d^2 LN^-1), for every
/// pixel; leaves the residual sums at the draw in the state's cache. `precision` is Sigma_c^-1's
/// diagonal (M values).
pub(crate) fn draw(
    state: &mut ModelState,
    hyper: &Hyperparameters,
    precision: &[f64],
    rng: &StepRng,
) {
    run(state, hyper, precision, Some(rng));
}

/// The step's conditional means (D x (M+1), row d = (m_{w,d}, m_{mu,d})) and scale sums
/// nu_N s_d^2, computed as [`draw`] computes them; leaves W and mu at the means (as stored in
/// f32) and the residual sums at those in the state's cache.
pub(crate) fn means_and_scale_sums(
    state: &mut ModelState,
    hyper: &Hyperparameters,
    precision: &[f64],
) -> (DMatrix<f64>, Vec<f64>) {
    let (_, d, m) = state.shape();
    let results = run(state, hyper, precision, None);
    let mut means = DMatrix::<f64>::zeros(d, m + 1);
    let mut scale_sums = Vec::with_capacity(d);
    let mut start = 0;
    for result in results {
        let rows = result.scale_sums.len();
        means.rows_mut(start, rows).copy_from(&result.means);
        scale_sums.extend(result.scale_sums);
        start += rows;
    }
    (means, scale_sums)
}

/// The step's blocks, drawing when `rng` is given; stores the residual sums and counts the
/// fallbacks.
fn run(
    state: &mut ModelState,
    hyper: &Hyperparameters,
    precision: &[f64],
    rng: Option<&StepRng>,
) -> Vec<BlockResult> {
    let (n, d, m) = state.shape();
    let parts = state.pixel_parts();
    let nu = hyper.nu0 + n as f64;
    let (stats, lambda0) = (parts.stats, hyper.lambda0);
    // LN's factor beside the random numbers (neither reads the other).
    let (factor, random) = super::par::join(
        d * (m + 1),
        || {
            // LN = [[Z^T Z + Sigma_c^-1, sum z], [sum z^T, N + lambda0]].
            let mut ln = DMatrix::<f64>::zeros(m + 1, m + 1);
            for a in 0..m {
                for b in 0..m {
                    ln[(a, b)] = stats.ztz[(a, b)];
                }
                ln[(a, a)] += precision[a];
                ln[(a, m)] = stats.sumz[a];
                ln[(m, a)] = stats.sumz[a];
            }
            ln[(m, m)] = n as f64 + lambda0;
            SharedFactor::new(ln)
        },
        || rng.map(|r| Randomness::draw(r, d, m, nu)),
    );
    factor.record(parts.fallbacks);
    let shared = Shared {
        stats,
        columns: parts.columns,
        precision,
        factor: &factor,
        random: random.as_ref(),
        hyper,
        d,
        m,
        nu,
    };
    let blocks = pixel_blocks(parts.w, parts.mu, parts.sigmasq);
    let results =
        super::par::map_items(blocks, d * m * m * 4, |_, block| draw_block(&shared, block));
    let mut residual = Vec::with_capacity(d);
    for result in &results {
        residual.extend_from_slice(&result.residual);
        parts.fallbacks.add(&result.fallbacks);
    }
    state.set_residual(residual);
    results
}

/// The step for one block: the means (stored as W and mu), the scale sums, and with the
/// random numbers sigma^2 and the draw of (w_d, mu_d).
fn draw_block(shared: &Shared, mut block: Block) -> BlockResult {
    let (d, m, hyper) = (shared.d, shared.m, shared.hyper);
    let (stats, columns) = (shared.stats, shared.columns);
    let (start, rows) = (block.start, block.mu.len());
    let mut fallbacks = Fallbacks::default();
    // Zh^T x~_d plus the shifted prior's pull (rows x (M+1)): X~^T Z's rows, then the sums. In
    // the shifted frame the mean's last entry is mu_d - c_d, whose prior mean is -c_d:
    // m~_d = LN^-1 (Zh^T x~_d - lambda0 c_d e_{M+1}), and mu_d's mean is m~_d[M] + c_d.
    let mut cross = DMatrix::<f64>::zeros(rows, m + 1);
    for (a, column) in cross.as_mut_slice().chunks_exact_mut(rows).enumerate() {
        if a < m {
            column.copy_from_slice(&stats.xtz.as_slice()[a * d + start..a * d + start + rows]);
        } else {
            for (i, v) in column.iter_mut().enumerate() {
                let c = columns.shift[start + i] as f64;
                *v = columns.shifted_sum[start + i] - hyper.lambda0 * c;
            }
        }
    }
    // Row i is m~_d^T = (LN^-1 (Zh^T x~_d + pull))^T (LN^-1 is symmetric).
    let mut means = DMatrix::<f64>::zeros(rows, m + 1);
    gemm(
        view_mut(&mut means),
        Accum::Replace,
        view(&cross),
        view(&shared.factor.inverse),
        1.0,
    );
    for (i, v) in means.column_mut(m).iter_mut().enumerate() {
        *v += columns.shift[start + i] as f64;
    }
    store(&mut block, &means);
    // nu_N s_d^2 through x_d^T x_d - m_d^T LN m_d = ||x_d - Zh m_d||^2 + m_d^T L0 m_d, a sum of
    // non-negative terms (see [`super::conditionals::blocked_scale_sums`]), at m_d as stored so
    // the penalty matches the residuals.
    let w = rows_f64(&block.w, rows, m);
    let (mut residual, clamped) = stats.residual_rows(columns, &w, block.mu, start);
    fallbacks.residual_clamped += clamped;
    let scale_sums: Vec<f64> = (0..rows)
        .map(|i| {
            let mut l0_quad = hyper.lambda0 * (block.mu[i] as f64).powi(2);
            for (a, &p) in shared.precision.iter().enumerate() {
                l0_quad += p * w[(i, a)].powi(2);
            }
            hyper.nu0 * hyper.sigmasq0 + residual[i] + l0_quad
        })
        .collect();
    if let Some(random) = shared.random {
        for ((s2, &scale_sum), &unit) in block
            .sigmasq
            .iter_mut()
            .zip(&scale_sums)
            .zip(&random.gammas[start..start + rows])
        {
            *s2 = super::conditionals::scaled_inv_chi2(shared.nu, scale_sum, unit, &mut fallbacks);
        }
        // Rows ~ N(0, LN^-1): e^T L^-1 with e ~ N(0, I).
        let mut normals = DMatrix::<f64>::zeros(rows, m + 1);
        for (a, column) in normals.as_mut_slice().chunks_exact_mut(rows).enumerate() {
            let e = &random.normals[a * d + start..a * d + start + rows];
            for (v, &e) in column.iter_mut().zip(e) {
                *v = e as f64;
            }
        }
        let sd: Vec<f64> = block.sigmasq.iter().map(|&s2| (s2 as f64).sqrt()).collect();
        let mut draw = DMatrix::<f64>::zeros(rows, m + 1);
        gemm(
            view_mut(&mut draw),
            Accum::Replace,
            view(&normals),
            view(&shared.factor.l_inverse),
            1.0,
        );
        // (w_d, mu_d) = m_d + sigma_d e_d^T L^-1, in place of the noise.
        for (column, mean) in draw
            .as_mut_slice()
            .chunks_exact_mut(rows)
            .zip(means.as_slice().chunks_exact(rows))
        {
            for ((v, &mean), &s) in column.iter_mut().zip(mean).zip(&sd) {
                *v = mean + s * *v;
            }
        }
        store(&mut block, &draw);
        let w = rows_f64(&block.w, rows, m);
        let (at_draw, clamped) = stats.residual_rows(columns, &w, block.mu, start);
        fallbacks.residual_clamped += clamped;
        residual = at_draw;
    }
    BlockResult {
        means,
        scale_sums,
        residual,
        fallbacks,
    }
}

/// Stores `values` (rows x (M+1): W's rows, then mu) in the block's W and mu, in f32.
fn store(block: &mut Block, values: &DMatrix<f64>) {
    let rows = block.mu.len();
    let mut columns = values.as_slice().chunks_exact(rows);
    for (run, column) in block.w.iter_mut().zip(columns.by_ref()) {
        for (w, &v) in run.iter_mut().zip(column) {
            *w = v as f32;
        }
    }
    if let Some(column) = columns.next() {
        for (mu, &v) in block.mu.iter_mut().zip(column) {
            *mu = v as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Prior;
    use super::super::conditionals::{scaled_inv_chi2, unit_gamma};
    use super::super::rng::Step;
    use super::*;
    use nalgebra::DVector;

    /// N x D with D over three blocks of pixels (64 + 64 + 22), column means that grow with the
    /// pixel, some entries missing, a fixed pattern for Z.
    fn state(seed: u64) -> ModelState {
        let (n, d, m) = (200, 150, 4);
        let x: Vec<f32> = (0..n * d)
            .map(|k| {
                let (i, j) = ((k / d) as f32, (k % d) as f32);
                20.0 + 2.0 * j
                    + 40.0 * (i * 0.37 + j * 0.11 + seed as f32).sin()
                    + (j * 0.7).cos() * i * 0.05
            })
            .collect();
        let missing: Vec<bool> = (0..n * d).map(|k| (k * 2654435761usize) % 89 < 9).collect();
        let mut s = ModelState::new(n, d, &x, &missing, m).expect("state");
        let z = DMatrix::<f32>::from_fn(n, m, |i, a| {
            ((i * 7 + a * 13 + seed as usize) % 17) as f32 / 8.0 - 1.0
        });
        s.set_z(z).expect("z");
        s
    }

    fn hyper() -> Hyperparameters {
        Hyperparameters {
            m: 4,
            ..Hyperparameters::default()
        }
    }

    /// The step's conditional by dense f64 algebra on the completed X: Zh = [Z 1],
    /// LN = Zh^T Zh + L0, m_d = LN^-1 (Zh^T x_d) (rows of the result) and LN itself.
    fn dense_means(s: &ModelState, hyper: &Hyperparameters) -> (DMatrix<f64>, DMatrix<f64>) {
        let (n, d, m) = s.shape();
        let x = s.completed_x().map(|v| v as f64);
        let z = s.z().map(|v| v as f64);
        let zh = DMatrix::from_fn(n, m + 1, |i, a| if a < m { z[(i, a)] } else { 1.0 });
        let mut ln = zh.transpose() * &zh;
        for a in 0..m {
            ln[(a, a)] += hyper.kappa0;
        }
        ln[(m, m)] += hyper.lambda0;
        let chol = ln.clone().cholesky().expect("LN is SPD");
        let mut means = DMatrix::<f64>::zeros(d, m + 1);
        for dd in 0..d {
            let md = chol.solve(&(zh.transpose() * x.column(dd)));
            means.row_mut(dd).copy_from(&md.transpose());
        }
        (means, ln)
    }

    /// nu0 sigma0^2 + ||x_d - Zh m_d||^2 + m_d^T L0 m_d at the state's W and mu, in f64.
    fn dense_scale_sums(s: &ModelState, hyper: &Hyperparameters) -> Vec<f64> {
        let (n, d, _) = s.shape();
        let x = s.completed_x().map(|v| v as f64);
        let z = s.z().map(|v| v as f64);
        (0..d)
            .map(|dd| {
                let w: DVector<f64> = s.w().row(dd).transpose().map(|v| v as f64);
                let mu = s.mu()[dd] as f64;
                let fit = &z * &w;
                let r: f64 = (0..n).map(|i| (x[(i, dd)] - fit[i] - mu).powi(2)).sum();
                let l0 = hyper.kappa0 * w.norm_squared() + hyper.lambda0 * mu * mu;
                hyper.nu0 * hyper.sigmasq0 + r + l0
            })
            .collect()
    }

    /// Agreement to `tolerance` relative to 1 + |want|. The step's statistics X~^T Z are sums
    /// of f32 products (entries up to about 8,000 here, rounded to about 1e-3), which LN^-1
    /// carries into the means at a few times 1e-6; a pixel given another pixel's statistics or
    /// random numbers is off by order 1.
    fn assert_close(what: &str, ours: f64, want: f64, tolerance: f64) {
        assert!(
            ours.is_finite() && want.is_finite(),
            "{what}: {ours} vs {want}"
        );
        assert!(
            (ours - want).abs() <= tolerance * (1.0 + want.abs()),
            "{what}: {ours} vs {want}"
        );
    }

    /// Every block's means and scale sums are those of the dense algebra for its own pixels.
    #[test]
    fn means_and_scale_sums_match_dense_algebra_in_every_block() {
        let h = hyper();
        let mut s = state(1);
        let (want, _) = dense_means(&s, &h);
        let precision = Prior::Isotropic.column_precision(&h);
        let (means, scale_sums) = means_and_scale_sums(&mut s, &h, &precision);
        for dd in 0..s.shape().1 {
            for a in 0..=h.m {
                assert_close(
                    &format!("mean ({dd}, {a})"),
                    means[(dd, a)],
                    want[(dd, a)],
                    1e-4,
                );
            }
        }
        // W and mu are left at the means, and the scale sums are those of the stored means.
        let want = dense_scale_sums(&s, &h);
        for (dd, (&ours, &want)) in scale_sums.iter().zip(&want).enumerate() {
            assert_close(&format!("scale sum {dd}"), ours, want, 1e-4);
        }
    }

    /// The draw is m_d + sigma_d e_d^T L^-1 with pixel d's own normals and Gamma draw (the
    /// step's streams, regenerated here), and the residual sums it leaves are those of the draw.
    #[test]
    fn each_pixel_draws_from_its_own_random_numbers() {
        let h = hyper();
        let (n, d, m) = (200, 150, 4);
        let mut s = state(2);
        let (means, ln) = dense_means(&s, &h);
        let mut at_means = state(2);
        let (_, scale_sums) =
            means_and_scale_sums(&mut at_means, &h, &Prior::Isotropic.column_precision(&h));
        let rng = StepRng::new(11, 3, Step::Blocked);
        super::super::conditionals::sample_w_mu_sigmasq_blocked(
            &mut s,
            &h,
            &Prior::Isotropic,
            &rng,
        );

        let nu = h.nu0 + n as f64;
        let mut normals = vec![0.0f32; d * (m + 1)];
        rng.fill_standard_normal(&mut normals);
        let mut r = rng.chunk(u64::MAX);
        let l = ln.cholesky().expect("LN is SPD").l();
        let l_inverse = l
            .solve_lower_triangular(&DMatrix::identity(m + 1, m + 1))
            .unwrap();
        let mut fallbacks = Fallbacks::default();
        for dd in 0..d {
            let s2 = scaled_inv_chi2(nu, scale_sums[dd], unit_gamma(nu, &mut r), &mut fallbacks);
            assert_close(
                &format!("sigma^2 {dd}"),
                s.sigmasq()[dd] as f64,
                s2 as f64,
                1e-6,
            );
            let e = DVector::from_fn(m + 1, |a, _| normals[a * d + dd] as f64);
            let noise = l_inverse.transpose() * e;
            for a in 0..=m {
                let want = means[(dd, a)] + (s2 as f64).sqrt() * noise[a];
                let ours = if a < m { s.w()[(dd, a)] } else { s.mu()[dd] } as f64;
                assert_close(&format!("draw ({dd}, {a})"), ours, want, 1e-4);
            }
        }
        assert_eq!(fallbacks, Fallbacks::default());
        let cached = s.residual_sums();
        s.invalidate_residual();
        let fresh = s.residual_sums();
        for (dd, (&c, &f)) in cached.iter().zip(&fresh).enumerate() {
            assert_close(&format!("residual {dd}"), c, f, 1e-9);
        }
    }
}
