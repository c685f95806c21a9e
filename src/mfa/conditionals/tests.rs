//! Each conditional's parameters against dense algebra on a tiny problem (N = 7, D = 5, M = 2,
//! K = 3 with component 2 empty), and each draw against its parameters by Monte Carlo.

use super::*;
use rand::SeedableRng;
use rand::rngs::SmallRng;

const LOG_2PI: f64 = 1.837_877_066_409_345_5;

fn hyper() -> MfaHyper {
    MfaHyper {
        k: 3,
        m: 2,
        alpha0: 1.5,
        nu0: 2.5,
        sigmasq0: 1.3,
        kappa0: 0.7,
        lambda0: 0.4,
    }
}

fn normal(rng: &mut SmallRng) -> f64 {
    StandardNormal.sample(rng)
}

fn state(seed: u64) -> MfaState {
    let (n, d, m, k) = (7, 5, 2, 3);
    let mut rng = SmallRng::seed_from_u64(seed);
    MfaState {
        x: DMatrix::from_fn(n, d, |_, _| 3.0 * normal(&mut rng)),
        missing: (0..n * d).map(|v| v % 4 == 1).collect(),
        c: (0..n).map(|i| i % 2).collect(),
        z: DMatrix::from_fn(n, m, |_, _| normal(&mut rng)),
        w: (0..k)
            .map(|_| DMatrix::from_fn(d, m, |_, _| normal(&mut rng)))
            .collect(),
        mu: (0..k)
            .map(|_| DVector::from_fn(d, |_, _| normal(&mut rng)))
            .collect(),
        sigmasq: DVector::from_fn(d, |r, _| 0.5 + 0.3 * r as f64),
        pi: DVector::from_vec(vec![0.5, 0.3, 0.2]),
    }
}

/// log N(y | mean, cov) through a dense Cholesky.
fn log_normal(y: &DVector<f64>, mean: &DVector<f64>, cov: &DMatrix<f64>) -> f64 {
    let ch = Cholesky::new(cov.clone()).unwrap();
    let r = y - mean;
    let log_det = 2.0 * ch.l().diagonal().iter().map(|v| v.ln()).sum::<f64>();
    -0.5 * (y.len() as f64 * LOG_2PI + log_det + r.dot(&ch.solve(&r)))
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + a.abs().max(b.abs()))
}

#[test]
fn component_log_posterior_is_the_mixture_marginal_of_dense_covariances() {
    let s = state(1);
    let (n, d, _, k) = s.shape();
    let got = component_log_posterior(&s);
    let s_mat = DMatrix::from_diagonal(&s.sigmasq);
    for i in 0..n {
        let x = s.x.row(i).transpose();
        let logs: Vec<f64> = (0..k)
            .map(|c| {
                let cov = &s.w[c] * s.w[c].transpose() + &s_mat;
                s.pi[c].ln() + log_normal(&x, &s.mu[c], &cov)
            })
            .collect();
        let top = logs.iter().copied().fold(f64::MIN, f64::max);
        let norm = logs.iter().map(|v| (v - top).exp()).sum::<f64>().ln() + top;
        for c in 0..k {
            assert!(
                close(got[(i, c)], logs[c] - norm, 1e-9),
                "{i} {c}: {} vs {}",
                got[(i, c)],
                logs[c] - norm
            );
        }
    }
    assert_eq!(d, 5);
}

#[test]
fn z_posterior_is_gaussian_conditioning_of_the_joint() {
    let s = state(2);
    let (_, d, m, _) = s.shape();
    let s_mat = DMatrix::from_diagonal(&s.sigmasq);
    for (i, c) in [(0, 0), (3, 1), (5, 2)] {
        let (mean, cov) = z_posterior(&s, i, c);
        // [z; x] ~ N([0; mu], [[I, W^T], [W, W W^T + S]]).
        let w = &s.w[c];
        let sxx = w * w.transpose() + &s_mat;
        let sxx_inv = sxx.clone().try_inverse().unwrap();
        let x = s.x.row(i).transpose();
        let want_mean = w.transpose() * &sxx_inv * (x - &s.mu[c]);
        let want_cov = DMatrix::identity(m, m) - w.transpose() * &sxx_inv * w;
        assert!((mean - want_mean).abs().max() < 1e-10);
        assert!((cov - want_cov).abs().max() < 1e-10);
    }
    assert_eq!(d, 5);
}

#[test]
fn sample_c_z_draws_components_and_latents_from_their_conditionals() {
    let s0 = state(3);
    let (_, _, m, k) = s0.shape();
    let probs = component_log_posterior(&s0).map(f64::exp);
    let mut rng = SmallRng::seed_from_u64(9);
    let draws = 20_000;
    let mut counts = vec![0usize; k];
    let mut z_sum = vec![DVector::<f64>::zeros(m); k];
    for _ in 0..draws {
        let mut s = s0.clone();
        sample_c_z(&mut s, &mut rng);
        counts[s.c[4]] += 1;
        z_sum[s.c[4]] += s.z.row(4).transpose();
    }
    for c in 0..k {
        let p = probs[(4, c)];
        let freq = counts[c] as f64 / draws as f64;
        let se = (p * (1.0 - p) / draws as f64).sqrt();
        assert!((freq - p).abs() < 5.0 * se + 1e-9, "c = {c}: {freq} vs {p}");
        if counts[c] > 500 {
            let (mean, cov) = z_posterior(&s0, 4, c);
            let avg = &z_sum[c] / counts[c] as f64;
            for a in 0..m {
                let se = (cov[(a, a)] / counts[c] as f64).sqrt();
                assert!(
                    (avg[a] - mean[a]).abs() < 5.0 * se,
                    "z mean {a}: {} vs {}",
                    avg[a],
                    mean[a]
                );
            }
        }
    }
}

#[test]
fn w_posterior_is_bayesian_regression_by_dense_conditioning() {
    let s = state(4);
    let h = hyper();
    let (_, d, m, _) = s.shape();
    for c in 0..3 {
        let (means, a_inv) = w_posterior(&s, &h, c);
        let members = s.members(c);
        if members.is_empty() {
            // Component 2 is empty: the prior.
            assert_eq!(c, 2);
            assert!(means.abs().max() == 0.0);
            assert!((a_inv - DMatrix::identity(m, m) / h.kappa0).abs().max() < 1e-12);
            continue;
        }
        let zk = DMatrix::from_fn(members.len(), m, |i, a| s.z[(members[i], a)]);
        for r in 0..d {
            // y = Z w + e, w ~ N(0, s/kappa0 I), e ~ N(0, s I): condition the joint of (w, y).
            let sd = s.sigmasq[r];
            let y = DVector::from_fn(members.len(), |i, _| s.x[(members[i], r)] - s.mu[c][r]);
            let cov_y = &zk * zk.transpose() * (sd / h.kappa0)
                + DMatrix::identity(members.len(), members.len()) * sd;
            let cross = zk.transpose() * (sd / h.kappa0);
            let inv = cov_y.try_inverse().unwrap();
            let want_mean = &cross * &inv * &y;
            let want_cov =
                DMatrix::identity(m, m) * (sd / h.kappa0) - &cross * &inv * cross.transpose();
            let got_mean = means.row(r).transpose();
            assert!((got_mean - want_mean).abs().max() < 1e-9, "c {c} d {r}");
            assert!((&a_inv * sd - want_cov).abs().max() < 1e-9, "c {c} d {r}");
        }
    }
}

#[test]
fn mu_posterior_is_dense_conditioning_on_the_component_residuals() {
    let s = state(5);
    let h = hyper();
    let (_, d, m, _) = s.shape();
    for c in 0..3 {
        let (means, vars) = mu_posterior(&s, &h, c);
        let members = s.members(c);
        let nk = members.len();
        for r in 0..d {
            let sd = s.sigmasq[r];
            let prior = sd / h.lambda0;
            if nk == 0 {
                assert!(means[r] == 0.0 && close(vars[r], prior, 1e-12));
                continue;
            }
            let y = DVector::from_fn(nk, |i, _| {
                let n = members[i];
                s.x[(n, r)] - (0..m).map(|a| s.w[c][(r, a)] * s.z[(n, a)]).sum::<f64>()
            });
            let ones = DVector::from_element(nk, 1.0);
            let cov_y = &ones * ones.transpose() * prior + DMatrix::identity(nk, nk) * sd;
            let inv = cov_y.try_inverse().unwrap();
            let want_mean = prior * (ones.transpose() * &inv * &y)[0];
            let want_var = prior - prior * prior * (ones.transpose() * &inv * &ones)[0];
            assert!(
                close(means[r], want_mean, 1e-9),
                "{} vs {want_mean}",
                means[r]
            );
            assert!(close(vars[r], want_var, 1e-9), "{} vs {want_var}", vars[r]);
        }
    }
}

/// log Scaled-Inv-chi^2(s | nu, t) of SPEC 6.
fn log_sinvchi2(s: f64, nu: f64, t: f64) -> f64 {
    (nu / 2.0) * (nu * t / 2.0).ln()
        - ln_gamma(nu / 2.0)
        - (nu / 2.0 + 1.0) * s.ln()
        - nu * t / (2.0 * s)
}

/// Stirling series; only differences matter in the test, so precision beyond 1e-10 is moot.
fn ln_gamma(x: f64) -> f64 {
    let mut x = x;
    let mut acc = 0.0;
    while x < 10.0 {
        acc -= x.ln();
        x += 1.0;
    }
    acc + (x - 0.5) * x.ln() - x + 0.5 * (2.0 * std::f64::consts::PI).ln() + 1.0 / (12.0 * x)
        - 1.0 / (360.0 * x.powi(3))
}

#[test]
fn sigmasq_posterior_matches_the_log_joint_as_a_function_of_sigma_d() {
    let s = state(6);
    let h = hyper();
    let (n, d, m, k) = s.shape();
    let (nu, sums) = sigmasq_posterior(&s, &h);
    // Every factor of the joint that holds sigma_d^2, written from the densities.
    let joint = |r: usize, v: f64| -> f64 {
        let mut total = log_sinvchi2(v, h.nu0, h.sigmasq0);
        for i in 0..n {
            let c = s.c[i];
            let fit: f64 = (0..m).map(|a| s.w[c][(r, a)] * s.z[(i, a)]).sum::<f64>() + s.mu[c][r];
            total += -0.5 * (LOG_2PI + v.ln()) - (s.x[(i, r)] - fit).powi(2) / (2.0 * v);
        }
        for c in 0..k {
            let w = s.w[c].row(r).transpose();
            total += log_normal(
                &w,
                &DVector::zeros(m),
                &(DMatrix::identity(m, m) * (v / h.kappa0)),
            );
            let mu = DVector::from_element(1, s.mu[c][r]);
            total += log_normal(
                &mu,
                &DVector::zeros(1),
                &DMatrix::from_element(1, 1, v / h.lambda0),
            );
        }
        total
    };
    for r in 0..d {
        let t = sums[r] / nu;
        for (a, b) in [(0.3, 1.7), (2.0, 9.0)] {
            let want = joint(r, a) - joint(r, b);
            let got = log_sinvchi2(a, nu, t) - log_sinvchi2(b, nu, t);
            assert!(close(got, want, 1e-9), "d {r}: {got} vs {want}");
        }
    }
}

#[test]
fn sample_pi_has_the_dirichlet_mean_and_draws_are_normalised() {
    let h = hyper();
    let s0 = state(7);
    let mut rng = SmallRng::seed_from_u64(1);
    let draws = 20_000;
    let mut sum = DVector::<f64>::zeros(3);
    for _ in 0..draws {
        let mut s = s0.clone();
        sample_pi(&mut s, &h, &mut rng);
        assert!((s.pi.sum() - 1.0).abs() < 1e-12);
        sum += &s.pi;
    }
    // Counts 4, 3, 0 with alpha0 = 1.5: mean (alpha0 + n_k) / (K alpha0 + N).
    let total = 3.0 * h.alpha0 + 7.0;
    for (c, nk) in [4.0, 3.0, 0.0].iter().enumerate() {
        let p = (h.alpha0 + nk) / total;
        let se = (p * (1.0 - p) / (total + 1.0) / draws as f64).sqrt();
        assert!((sum[c] / draws as f64 - p).abs() < 5.0 * se, "{c}");
    }
}

#[test]
fn draws_of_w_mu_sigma_and_x_have_their_conditional_means() {
    let h = hyper();
    let s0 = state(8);
    let (_, _, _, _) = s0.shape();
    let (w_mean, a_inv) = w_posterior(&s0, &h, 0);
    let (mu_mean, mu_var) = mu_posterior(&s0, &h, 1);
    let (nu, sums) = sigmasq_posterior(&s0, &h);
    let x_mean = x_missing_mean(&s0);
    let mut rng = SmallRng::seed_from_u64(2);
    let draws = 4000;
    let (mut w_sum, mut mu_sum, mut prec_sum, mut x_sum) = (0.0, 0.0, 0.0, 0.0);
    for _ in 0..draws {
        let mut s = s0.clone();
        sample_w(&mut s, &h, &mut rng);
        w_sum += s.w[0][(3, 1)];
        let mut s = s0.clone();
        sample_mu(&mut s, &h, &mut rng);
        mu_sum += s.mu[1][2];
        let mut s = s0.clone();
        sample_sigmasq(&mut s, &h, &mut rng);
        prec_sum += 1.0 / s.sigmasq[4];
        let mut s = s0.clone();
        sample_x_missing(&mut s, &mut rng);
        x_sum += s.x[(0, 1)];
        assert_eq!(s.x[(0, 0)], s0.x[(0, 0)], "observed entries stay");
    }
    let n = draws as f64;
    let w_se = (s0.sigmasq[3] * a_inv[(1, 1)] / n).sqrt();
    assert!((w_sum / n - w_mean[(3, 1)]).abs() < 5.0 * w_se);
    assert!((mu_sum / n - mu_mean[2]).abs() < 5.0 * (mu_var[2] / n).sqrt());
    // 1 / sigma^2 ~ Gamma(nu/2, rate sums/2): mean nu / sums, variance 2 nu / sums^2.
    let (pm, psd) = (nu / sums[4], (2.0 * nu).sqrt() / sums[4]);
    assert!((prec_sum / n - pm).abs() < 5.0 * psd / n.sqrt());
    assert!(s0.missing[1]);
    let x_se = (s0.sigmasq[1] / n).sqrt();
    assert!((x_sum / n - x_mean[(0, 1)]).abs() < 5.0 * x_se);
}
