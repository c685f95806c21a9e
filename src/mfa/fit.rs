//! Fitting the mixture to a masked problem: SPEC 11's initialisation (k-means++ seeds on the
//! column-mean-filled data, mu_k the cluster means, sigma^2 the observed column variances,
//! W_k and Z small and random), `sweeps` Gibbs sweeps, and the posterior mean of the missing
//! pixels over the sweeps after burn-in. Blocks the calling thread; polls the cancel flag and
//! reports progress once a sweep.

use nalgebra::{DMatrix, DVector};
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, StandardNormal};

use super::sweep::sweep;
use super::{MfaHyper, MfaState};
use crate::baselines::{BaselineError, Control, column_mean_impute};
use crate::model::Problem;

/// What a fit needs besides the data.
#[derive(Clone, Debug, PartialEq)]
pub struct MfaFitSettings {
    pub hyper: MfaHyper,
    pub sweeps: usize,
    pub burn_in: usize,
    pub seed: u64,
}

/// The completed data (N x D row-major): observed pixels as given, missing ones at their
/// posterior mean under the mixture.
pub fn fit(
    problem: &Problem,
    settings: &MfaFitSettings,
    control: Control,
) -> Result<Vec<f32>, BaselineError> {
    fit_run(problem, settings, control, |_| {}).map(|run| run.mean)
}

/// What a whole run found: the posterior mean and standard deviation of every pixel (observed
/// pixels as given, std 0 there) and the last state.
#[derive(Clone, Debug)]
pub struct MfaRun {
    /// N x D row-major completed data at the posterior mean.
    pub mean: Vec<f32>,
    /// N x D row-major posterior std of each missing pixel (0 at observed ones).
    pub std: Vec<f32>,
    /// The state after the last sweep.
    pub state: MfaState,
    /// Sweeps averaged (after burn-in).
    pub kept: usize,
}

/// One sweep's view for a caller of [`fit_run`] (to trace RMSEs against a truth the fit
/// never sees).
pub struct SweepView<'a> {
    /// Sweeps done (1 after the first).
    pub sweep: usize,
    pub state: &'a MfaState,
    /// Flat indices (row-major) of the missing entries.
    pub missing: &'a [usize],
    /// Running sums of the missing entries over the kept sweeps, and how many were kept.
    pub sum: &'a [f64],
    pub kept: usize,
}

impl SweepView<'_> {
    /// The current sample of each missing entry, in the order of `missing`.
    pub fn sample(&self) -> impl Iterator<Item = f64> + '_ {
        let d = self.state.x.ncols();
        self.missing
            .iter()
            .map(move |&k| self.state.x[(k / d, k % d)])
    }

    /// The running posterior mean of each missing entry (None before the first kept sweep).
    pub fn running_mean(&self) -> Option<impl Iterator<Item = f64> + '_> {
        (self.kept > 0).then(|| self.sum.iter().map(|s| s / self.kept as f64))
    }
}

/// [`fit`] with the posterior std of the missing pixels and the last state, calling
/// `on_sweep` after every sweep on the calling thread.
pub fn fit_run(
    problem: &Problem,
    settings: &MfaFitSettings,
    control: Control,
    mut on_sweep: impl FnMut(&SweepView),
) -> Result<MfaRun, BaselineError> {
    let h = &settings.hyper;
    if h.k == 0 || h.m == 0 || settings.burn_in >= settings.sweeps {
        return Err(BaselineError::InvalidParameter {
            name: "K, M, sweeps",
            value: h.k.min(h.m) as f64,
            requirement: "K >= 1, M >= 1 and burn-in shorter than the run",
        });
    }
    let mut rng = SmallRng::seed_from_u64(settings.seed);
    let mut state = initialise(problem, h, &mut rng)?;
    let (n, d) = (problem.n, problem.d);
    let missing: Vec<usize> = (0..n * d).filter(|&k| problem.missing[k]).collect();
    let mut sum = vec![0.0f64; missing.len()];
    let mut sum2 = vec![0.0f64; missing.len()];
    let mut kept = 0usize;
    for s in 0..settings.sweeps {
        control.check()?;
        sweep(&mut state, h, &mut rng);
        if s >= settings.burn_in {
            kept += 1;
            for ((acc, acc2), &k) in sum.iter_mut().zip(&mut sum2).zip(&missing) {
                let v = state.x[(k / d, k % d)];
                *acc += v;
                *acc2 += v * v;
            }
        }
        on_sweep(&SweepView {
            sweep: s + 1,
            state: &state,
            missing: &missing,
            sum: &sum,
            kept,
        });
        control.report(
            "mixture of FA",
            s + 1,
            settings.sweeps,
            format!("K = {}, M = {}, sweep {}", h.k, h.m, s + 1),
        );
    }
    let mut mean = problem.x_observed.clone();
    let mut std = vec![0.0f32; n * d];
    for ((acc, acc2), &k) in sum.iter().zip(&sum2).zip(&missing) {
        let m = acc / kept as f64;
        mean[k] = m as f32;
        std[k] = (acc2 / kept as f64 - m * m).max(0.0).sqrt() as f32;
    }
    Ok(MfaRun {
        mean,
        std,
        state,
        kept,
    })
}

/// Squared Euclidean distance in f64.
fn dist2(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(&u, &v)| (f64::from(u) - f64::from(v)).powi(2))
        .sum()
}

/// k-means++ seeding (the first seed uniform, each next with probability proportional to the
/// squared distance to the nearest seed so far), then a few Lloyd iterations; the best of a few
/// seedings by within-cluster sum of squares, since two seeds in one true cluster are a mode
/// the Gibbs sampler leaves only slowly. Returns the assignment and the seed images.
fn kmeans(x: &[f32], n: usize, d: usize, k: usize, rng: &mut SmallRng) -> (Vec<usize>, Vec<usize>) {
    const RESTARTS: usize = 5;
    const LLOYD: usize = 10;
    let row = |i: usize| &x[i * d..(i + 1) * d];
    let xm = DMatrix::<f32>::from_fn(n, d, |i, r| x[i * d + r]);
    let xnorm: Vec<f64> = (0..n)
        .map(|i| row(i).iter().map(|&v| f64::from(v).powi(2)).sum())
        .collect();
    let mut best: Option<(f64, Vec<usize>, Vec<usize>)> = None;
    for _ in 0..RESTARTS {
        let mut seeds = vec![rng.random_range(0..n)];
        let mut nearest: Vec<f64> = (0..n).map(|i| dist2(row(i), row(seeds[0]))).collect();
        while seeds.len() < k {
            let total: f64 = nearest.iter().sum();
            let next = if total > 0.0 {
                let mut u = rng.random::<f64>() * total;
                (0..n)
                    .find(|&i| {
                        u -= nearest[i];
                        u <= 0.0
                    })
                    .unwrap_or(n - 1)
            } else {
                rng.random_range(0..n)
            };
            seeds.push(next);
            for (i, v) in nearest.iter_mut().enumerate() {
                *v = v.min(dist2(row(i), row(next)));
            }
        }
        // Lloyd iterations with the N x K distances from one GEMM each:
        // ||x - c||^2 = ||x||^2 - 2 x^T c + ||c||^2.
        let mut centres = DMatrix::<f32>::from_fn(d, k, |r, j| row(seeds[j])[r]);
        let mut c = vec![0usize; n];
        let mut within = 0.0;
        let mut cross = DMatrix::<f32>::zeros(n, k);
        for _ in 0..LLOYD {
            cross.gemm(1.0, &xm, &centres, 0.0);
            let cnorm: Vec<f64> = centres
                .column_iter()
                .map(|v| f64::from(v.norm_squared()))
                .collect();
            within = 0.0;
            for (i, ci) in c.iter_mut().enumerate() {
                let (j, dj) = (0..k)
                    .map(|j| (j, cnorm[j] - 2.0 * f64::from(cross[(i, j)])))
                    .min_by(|a, b| a.1.total_cmp(&b.1))
                    .unwrap_or((0, 0.0));
                *ci = j;
                within += dj + xnorm[i];
            }
            let mut sums = DMatrix::<f64>::zeros(d, k);
            let mut counts = vec![0usize; k];
            for (i, &ci) in c.iter().enumerate() {
                counts[ci] += 1;
                for (s, &v) in sums.column_mut(ci).iter_mut().zip(row(i)) {
                    *s += f64::from(v);
                }
            }
            for (j, &count) in counts.iter().enumerate() {
                if count > 0 {
                    for r in 0..d {
                        centres[(r, j)] = (sums[(r, j)] / count as f64) as f32;
                    }
                }
            }
        }
        if best.as_ref().is_none_or(|b| within < b.0) {
            best = Some((within, c, seeds));
        }
    }
    let (_, c, seeds) = best.unwrap_or_else(|| (0.0, vec![0; n], vec![0]));
    (c, seeds)
}

/// SPEC 11's initial state.
pub fn initialise(
    problem: &Problem,
    hyper: &MfaHyper,
    rng: &mut SmallRng,
) -> Result<MfaState, BaselineError> {
    let filled = column_mean_impute(problem)?;
    let (n, d, k, m) = (problem.n, problem.d, hyper.k.min(problem.n), hyper.m);
    let x = DMatrix::from_fn(n, d, |i, r| f64::from(filled[i * d + r]));
    let (c, seeds) = kmeans(&filled, n, d, k, rng);
    let mut mu = vec![DVector::<f64>::zeros(d); hyper.k];
    let mut counts = vec![0usize; hyper.k];
    for (i, &ci) in c.iter().enumerate() {
        counts[ci] += 1;
        mu[ci] += x.row(i).transpose();
    }
    for (ci, m_k) in mu.iter_mut().enumerate() {
        if counts[ci] > 0 {
            *m_k /= counts[ci] as f64;
        } else {
            *m_k = x.row(seeds[ci.min(seeds.len() - 1)]).transpose();
        }
    }
    // Observed column variances (pooled over columns with fewer than two observed values).
    let mut s1 = vec![0.0f64; d];
    let mut s2 = vec![0.0f64; d];
    let mut cnt = vec![0usize; d];
    for (idx, (&v, &miss)) in problem.x_observed.iter().zip(&problem.missing).enumerate() {
        if !miss {
            let v = f64::from(v);
            s1[idx % d] += v;
            s2[idx % d] += v * v;
            cnt[idx % d] += 1;
        }
    }
    let sigmasq = DVector::from_fn(d, |r, _| {
        if cnt[r] >= 2 {
            let mean = s1[r] / cnt[r] as f64;
            (s2[r] / cnt[r] as f64 - mean * mean).max(1e-2)
        } else {
            1.0
        }
    });
    let mut small = |rows: usize, cols: usize| {
        DMatrix::from_fn(rows, cols, |_, _| {
            0.1 * <StandardNormal as Distribution<f64>>::sample(&StandardNormal, rng)
        })
    };
    let w = (0..hyper.k).map(|_| small(d, m)).collect();
    let z = small(n, m);
    let total = n as f64 + hyper.k as f64;
    let pi = DVector::from_fn(hyper.k, |ci, _| (counts[ci] as f64 + 1.0) / total);
    Ok(MfaState {
        x,
        missing: problem.missing.clone(),
        c,
        z,
        w,
        mu,
        sigmasq,
        pi,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baselines::{column_mean_impute, rmse_on};

    /// Data simulated from a mixture of three well-separated factor analysers with M = 2: the
    /// fitted mixture imputes the hidden entries far better than column means and close to
    /// the noise level.
    #[test]
    fn a_fit_on_data_simulated_from_a_mixture_recovers_the_hidden_entries() {
        let (n, d, m, k) = (300, 12, 2, 3);
        let mut rng = SmallRng::seed_from_u64(5);
        let mut normal = || -> f64 { StandardNormal.sample(&mut rng) };
        let w: Vec<DMatrix<f64>> = (0..k)
            .map(|_| DMatrix::from_fn(d, m, |_, _| 3.0 * normal()))
            .collect();
        let mu: Vec<DVector<f64>> = (0..k)
            .map(|_| DVector::from_fn(d, |_, _| 20.0 * normal()))
            .collect();
        let noise = 0.5;
        let mut truth = vec![0.0f32; n * d];
        for i in 0..n {
            let c = i % k;
            let z = DVector::from_fn(m, |_, _| normal());
            let x = &w[c] * z + &mu[c];
            for r in 0..d {
                truth[i * d + r] = (x[r] + noise * normal()) as f32;
            }
        }
        let missing: Vec<bool> = (0..n * d).map(|v| v % 5 == 2 || v % 7 == 3).collect();
        let problem = Problem {
            n,
            d,
            x_observed: truth
                .iter()
                .zip(&missing)
                .map(|(&t, &miss)| if miss { f32::NAN } else { t })
                .collect(),
            missing,
            x_true: None,
        };
        let settings = MfaFitSettings {
            hyper: MfaHyper {
                k,
                m,
                ..MfaHyper::default()
            },
            sweeps: 60,
            burn_in: 30,
            seed: 1,
        };
        let out = fit(&problem, &settings, Control::none()).unwrap();
        let rmse = rmse_on(&out, &truth, &problem.missing).unwrap();
        let base = rmse_on(
            &column_mean_impute(&problem).unwrap(),
            &truth,
            &problem.missing,
        )
        .unwrap();
        assert!(base > 10.0, "{base}");
        // The truth's own noise (std 0.5) plus the latents' uncertainty: about 0.8.
        assert!(rmse < 0.9, "mixture RMSE {rmse}, column means {base}");
    }
}
