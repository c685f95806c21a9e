//! The Z step's setup (SPEC 5.1): J = I + W^T S^-1 W, its factor, K = S^-1 W J^-1 and the
//! offset mu-part, which depend on W, sigma^2, mu and X~'s shift only, not on X or Z.
//!
//! Why a module of its own: the setup is about 0.4 ms of serial work (two 784 x 50 x 50 f64
//! products, a factor, conversions) that left one core idle at the start of every Z step.
//! Its inputs are final once the per-pixel steps have drawn, so the X_miss step computes it
//! for the next sweep as one more task of its parallel section ([`ZSetup::compute`] is a pure
//! function of its inputs), and the next Z step takes it if its inputs are still bit for bit
//! the state's ([`ZSetup::is_for`]); anything that changed W, sigma^2, mu or the shift between
//! the two (a mask change, `set_w`, a Geweke test's own schedule) makes the Z step compute it
//! again. Either way the Z step uses the same numbers, so the draws do not depend on where
//! the setup was computed.
//!
//! [`ZSetup::compute`] runs on the calling thread (a worker of rayon's pool, or the sampler's
//! thread) and never blocks.

use super::linalg::{SharedFactor, product_here, to_f32};
use nalgebra::DMatrix;

/// What the Z step needs besides X~ and the noise, with the parameters it was computed from.
#[derive(Debug)]
pub(crate) struct ZSetup {
    inputs: Inputs,
    /// J's factor (its outcome is counted when the Z step uses it).
    pub factor: SharedFactor,
    /// K = S^-1 W J^-1 (D x M), in f32 for the big GEMM.
    pub k: DMatrix<f32>,
    /// J's L^-1 (M x M), in f32: the noise E L^-1 has precision J.
    pub l_inverse: DMatrix<f32>,
    /// (mu - c)^T K (M values): the mean is X~ K - 1 offset^T.
    pub offset: Vec<f32>,
    /// K in f64, kept so a new mu gets its offset without the rest ([`Self::set_mu`]).
    k64: DMatrix<f64>,
    /// W^T S^-1 W = J - I (M x M), which the recentring move's precision reuses.
    pub wtsw: DMatrix<f64>,
}

/// Copies of the parameters a setup was computed from.
#[derive(Debug)]
struct Inputs {
    w_shape: (usize, usize),
    w: Vec<f32>,
    sigmasq: Vec<f32>,
    mu: Vec<f32>,
    shift: Vec<f32>,
}

impl ZSetup {
    /// The setup for W (D x M), sigma^2, mu and the shift c of X~ (D values each).
    pub fn compute(w: &DMatrix<f32>, sigmasq: &[f32], mu: &[f32], shift: &[f32]) -> ZSetup {
        let (d, m) = w.shape();
        // J = I + W^T S^-1 W = I + H^T H with H = S^-1/2 W, in f64 (a small GEMM; the factor
        // symmetrises it). All on this thread: H, J's factor and K are each written here and
        // read here next, while on the pool they would cross to the other core and back.
        let scales: Vec<f64> = sigmasq.iter().map(|&s| 1.0 / (s as f64).sqrt()).collect();
        let mut h = DMatrix::<f64>::zeros(d, m);
        for (out, w) in h
            .as_mut_slice()
            .chunks_exact_mut(d.max(1))
            .zip(w.as_slice().chunks_exact(d.max(1)))
        {
            for ((o, &w), &s) in out.iter_mut().zip(w).zip(&scales) {
                *o = w as f64 * s;
            }
        }
        let wtsw = product_here(&h, true, &h);
        let factor = SharedFactor::new(DMatrix::<f64>::identity(m, m) + &wtsw);
        // K = S^-1 W J^-1 = S^-1/2 (H J^-1) (D x M), so the mean is Xc K = X~ K - 1 offset^T.
        let mut k = product_here(&h, false, &factor.inverse);
        for column in k.as_mut_slice().chunks_exact_mut(d.max(1)) {
            for (v, &s) in column.iter_mut().zip(&scales) {
                *v *= s;
            }
        }
        let offset = offset(&k, mu, shift);
        // K in f64 is kept as it is (moved, not copied: the setup runs every sweep).
        let (k32, l_inverse) = (to_f32(&k), to_f32(&factor.l_inverse));
        ZSetup {
            inputs: Inputs {
                w_shape: (d, m),
                w: w.as_slice().to_vec(),
                sigmasq: sigmasq.to_vec(),
                mu: mu.to_vec(),
                shift: shift.to_vec(),
            },
            factor,
            k: k32,
            l_inverse,
            offset,
            k64: k,
            wtsw,
        }
    }

    /// The setup for a new mu (W, sigma^2 and the shift unchanged): only the offset depends on
    /// mu, so it is formed again as [`Self::compute`] forms it, the same bits.
    pub fn set_mu(&mut self, mu: &[f32]) {
        self.offset = offset(&self.k64, mu, &self.inputs.shift);
        self.inputs.mu = mu.to_vec();
    }

    /// True when this setup was computed from exactly these parameters (bit for bit, so a NaN
    /// matches only the same NaN).
    pub fn is_for(&self, w: &DMatrix<f32>, sigmasq: &[f32], mu: &[f32], shift: &[f32]) -> bool {
        let i = &self.inputs;
        i.w_shape == w.shape()
            && same_bits(&i.w, w.as_slice())
            && same_bits(&i.sigmasq, sigmasq)
            && same_bits(&i.mu, mu)
            && same_bits(&i.shift, shift)
    }
}

/// (mu - c)^T K: with Xc = X - 1 mu^T = X~ - 1 (mu - c)^T, the Z step's mean is X~ K - 1
/// offset^T.
fn offset(k: &DMatrix<f64>, mu: &[f32], shift: &[f32]) -> Vec<f32> {
    let d = k.nrows();
    let centre: Vec<f64> = mu
        .iter()
        .zip(shift)
        .map(|(&mu, &c)| mu as f64 - c as f64)
        .collect();
    k.as_slice()
        .chunks_exact(d.max(1))
        .map(|column| super::linalg::dot(column, &centre) as f32)
        .collect()
}

fn same_bits(a: &[f32], b: &[f32]) -> bool {
    // Chunks compared without an early exit inside, so the loop runs as vector code (W is
    // 157 KB at D = 784, M = 50, and this runs on the sampler's thread).
    a.len() == b.len()
        && a.chunks(64).zip(b.chunks(64)).all(|(x, y)| {
            x.iter()
                .zip(y)
                .fold(true, |same, (p, q)| same & (p.to_bits() == q.to_bits()))
        })
}

#[cfg(test)]
mod tests {
    use super::super::Schedule;
    use super::*;

    fn parameters(d: usize, m: usize) -> (DMatrix<f32>, Vec<f32>, Vec<f32>, Vec<f32>) {
        let w = DMatrix::from_fn(d, m, |i, a| ((i * 7 + a * 3) % 11) as f32 - 5.0);
        let sigmasq = (0..d).map(|i| 1.0 + (i % 5) as f32).collect();
        let mu = (0..d).map(|i| 100.0 + i as f32).collect();
        let shift = (0..d).map(|i| 90.0 + (i % 3) as f32).collect();
        (w, sigmasq, mu, shift)
    }

    /// K J = S^-1 W and the offset is (mu - c)^T K, so the Z step's mean is X~ K - 1 offset^T.
    #[test]
    fn the_setup_solves_for_k_and_forms_the_offset() {
        let (d, m) = (40, 6);
        let (w, sigmasq, mu, shift) = parameters(d, m);
        let s = ZSetup::compute(&w, &sigmasq, &mu, &shift);
        let w64 = w.map(|v| v as f64);
        let mut j = DMatrix::<f64>::identity(m, m);
        for (i, &s2) in sigmasq.iter().enumerate() {
            let row = w64.row(i);
            j += row.transpose() * row / s2 as f64;
        }
        let kj = s.k.map(|v| v as f64) * &j;
        for i in 0..d {
            for a in 0..m {
                let want = w64[(i, a)] / sigmasq[i] as f64;
                assert!((kj[(i, a)] - want).abs() < 1e-4 * (1.0 + want.abs()));
            }
        }
        for a in 0..m {
            let want: f64 = (0..d)
                .map(|i| (mu[i] - shift[i]) as f64 * s.k[(i, a)] as f64)
                .sum();
            assert!(s.offset[a].is_finite());
            assert!((s.offset[a] as f64 - want).abs() < 1e-4 * (1.0 + want.abs()));
        }
    }

    /// A setup matches only the parameters it was computed from, down to one bit of any of them.
    #[test]
    fn a_setup_is_for_its_own_parameters_only() {
        let (w, sigmasq, mu, shift) = parameters(12, 3);
        let s = ZSetup::compute(&w, &sigmasq, &mu, &shift);
        assert!(s.is_for(&w, &sigmasq, &mu, &shift));
        let nudge = |v: &mut f32| *v = f32::from_bits(v.to_bits() + 1);
        let mut w2 = w.clone();
        nudge(&mut w2[(11, 2)]);
        assert!(!s.is_for(&w2, &sigmasq, &mu, &shift));
        let mut s2 = sigmasq.clone();
        nudge(&mut s2[0]);
        assert!(!s.is_for(&w, &s2, &mu, &shift));
        let mut mu2 = mu.clone();
        nudge(&mut mu2[5]);
        assert!(!s.is_for(&w, &sigmasq, &mu2, &shift));
        let mut c2 = shift.clone();
        nudge(&mut c2[7]);
        assert!(!s.is_for(&w, &sigmasq, &mu, &c2));
        // The same values in another shape are other parameters.
        let w3 = DMatrix::from_column_slice(4, 9, w.as_slice());
        assert!(!s.is_for(&w3, &sigmasq, &mu, &shift));
    }

    fn sampler(seed: u64, schedule: super::super::Schedule) -> super::super::GibbsSampler {
        // N x D above the pool's threshold, so the X_miss step computes the setup on the pool.
        let (n, d) = (300, 120);
        let x: Vec<f32> = (0..n * d)
            .map(|k| 100.0 + 50.0 * ((k / d) as f32 * 0.31 + (k % d) as f32 * 0.17).sin())
            .collect();
        let problem = super::super::Problem {
            n,
            d,
            x_observed: x.clone(),
            missing: (0..n * d)
                .map(|k| (k * 2654435761usize) % 97 < 20)
                .collect(),
            x_true: Some(x),
        };
        let mut settings = super::super::SamplerSettings {
            seed,
            schedule,
            ..Default::default()
        };
        settings.hyper.m = 4;
        super::super::GibbsSampler::new(&problem, &settings).unwrap()
    }

    /// A chain whose Z steps take the setup computed ahead draws the same bits as one whose Z
    /// steps compute it themselves, and after a sweep the setup waiting is the current one;
    /// in both schedules.
    #[test]
    fn the_setup_computed_ahead_gives_the_same_draws() {
        for schedule in [Schedule::Notebook, Schedule::Blocked] {
            same_draws_ahead_and_here(schedule, false);
        }
    }

    /// The same with the recentring move, which takes the setup first and forms its offset
    /// again for the moved mu.
    #[test]
    fn the_setup_computed_ahead_gives_the_same_draws_when_recentred() {
        same_draws_ahead_and_here(Schedule::Notebook, true);
    }

    /// A setup's offset formed again for a new mu is the one computed for that mu.
    #[test]
    fn a_new_mu_gives_the_offset_of_a_setup_computed_for_it() {
        let (w, sigmasq, mu, shift) = parameters(30, 5);
        let mu2: Vec<f32> = mu.iter().map(|&v| v * 0.7 - 3.1).collect();
        let mut moved = ZSetup::compute(&w, &sigmasq, &mu, &shift);
        moved.set_mu(&mu2);
        let fresh = ZSetup::compute(&w, &sigmasq, &mu2, &shift);
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&moved.offset), bits(&fresh.offset));
        assert_ne!(
            bits(&moved.offset),
            bits(&ZSetup::compute(&w, &sigmasq, &mu, &shift).offset)
        );
        assert!(
            moved.is_for(&w, &sigmasq, &mu2, &shift) && !moved.is_for(&w, &sigmasq, &mu, &shift)
        );
    }

    fn same_draws_ahead_and_here(schedule: Schedule, recentre: bool) {
        let (mut ahead, mut here) = (sampler(3, schedule), sampler(3, schedule));
        for s in [&mut ahead, &mut here] {
            s.set_recentre(recentre);
        }
        for _ in 0..6 {
            ahead.sweep();
            let st = ahead.state();
            let waiting = st
                .scratch
                .z_setup
                .as_ref()
                .expect("the X_miss step left one");
            assert!(waiting.is_for(&st.w, &st.sigmasq, &st.mu, &st.columns.shift));
            here.state_mut().scratch.z_setup = None;
            here.sweep();
        }
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        let (a, b) = (ahead.state(), here.state());
        assert_eq!(bits(a.z().as_slice()), bits(b.z().as_slice()));
        assert_eq!(bits(a.w().as_slice()), bits(b.w().as_slice()));
        assert_eq!(bits(a.mu()), bits(b.mu()));
        assert_eq!(bits(a.sigmasq()), bits(b.sigmasq()));
        assert_eq!(bits(a.missing_values()), bits(b.missing_values()));
    }

    /// A setup left by the X_miss step is not used once W has changed: the next Z step draws
    /// as if there had been none.
    #[test]
    fn a_stale_setup_is_computed_again() {
        let (mut changed, mut fresh) = (
            sampler(5, Schedule::Notebook),
            sampler(5, Schedule::Notebook),
        );
        changed.sweep();
        fresh.sweep();
        let mut w = changed.state().w().clone();
        w[(3, 1)] += 0.5;
        changed.state_mut().set_w(w.clone()).unwrap();
        fresh.state_mut().set_w(w).unwrap();
        fresh.state_mut().scratch.z_setup = None;
        changed.sweep();
        fresh.sweep();
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(
            bits(changed.state().z().as_slice()),
            bits(fresh.state().z().as_slice())
        );
    }
}
