//! The X_miss pass's arithmetic over one segment (one column's missing entries in one block of
//! images), once the fits and the noise are drawn: the new values, X~'s entries, the changes to
//! the column's sums, the running moments and the squared errors against the truth.
//!
//! Four entries at a time in f64 lanes. Written one entry at a time, the sums (f64, four of
//! them, plus two scores and Welford's step) cost about fifty instructions an entry and held the
//! pass at that rate; in lanes the same operations on each entry give the same values bit for
//! bit, and only the order of the additions into the sums changes (four partial sums, added up
//! at the end of the segment; the same order with or without AVX2, tested).
//!
//! Runs inside the X_miss pass's tasks, on whatever thread runs them; never blocks.

use super::moments::MomentsRun;

/// Entries per step: one AVX register of f64.
const WIDTH: usize = 4;

/// Changes one column's X_miss draws make to its sums.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct ColumnDeltas {
    pub sum: f64,
    pub shifted_sum: f64,
    pub shifted_sumsq: f64,
    pub residual: f64,
    /// Squared errors against the truth of the new values and of the running means.
    pub scores: (f64, f64),
}

impl ColumnDeltas {
    /// Adds `other`'s sums to these.
    pub fn add(&mut self, other: &ColumnDeltas) {
        self.sum += other.sum;
        self.shifted_sum += other.shifted_sum;
        self.shifted_sumsq += other.shifted_sumsq;
        self.residual += other.residual;
        self.scores.0 += other.scores.0;
        self.scores.1 += other.scores.1;
    }
}

/// One segment's inputs and outputs. Entry j of the segment is image `rows[j]`.
pub(crate) struct Segment<'a> {
    pub rows: &'a [u32],
    /// w_d^T z_n + mu_d of each entry.
    pub fits: &'a [f32],
    /// Standard normal draws, one an entry.
    pub noise: &'a [f32],
    /// The entries' current values; replaced by the new draws.
    pub values: &'a mut [f32],
    /// The column of X~ (N long), which gets x - c at each entry.
    pub xs: &'a mut [f32],
    /// sigma_d and the column's shift c.
    pub sd: f32,
    pub shift: f32,
    /// The running moments of the entries, when this sweep is tallied.
    pub moments: Option<MomentsRun<'a, f32>>,
    /// True values of the entries (with the moments only), or empty.
    pub truth: &'a [f32],
}

/// Draws the segment's new values x = fit + sd e and returns the changes to the column's sums
/// (and the scores, when the segment has moments and a truth). With `AVX`, the caller runs
/// with AVX2 enabled.
#[inline(always)]
pub(crate) fn draw<const AVX: bool>(mut seg: Segment) -> ColumnDeltas {
    let len = seg.values.len();
    assert!(seg.fits.len() == len && seg.noise.len() == len && seg.rows.len() == len);
    assert!(seg.moments.as_ref().is_none_or(|m| m.len() == len));
    let truth = if seg.moments.is_some() && seg.truth.len() == len {
        seg.truth
    } else {
        &[]
    };
    let mut lanes = Lanes::default();
    let whole = len - len % WIDTH;
    #[cfg(target_arch = "x86_64")]
    if AVX {
        // SAFETY: AVX is only instantiated inside the AVX2 build of the X_miss loop (and its
        // test twin), which runs only after the CPU was checked for AVX2.
        unsafe { avx::draw_lanes(&mut seg, truth, whole, &mut lanes) };
    } else {
        draw_lanes_portable(&mut seg, truth, whole, &mut lanes);
    }
    #[cfg(not(target_arch = "x86_64"))]
    draw_lanes_portable(&mut seg, truth, whole, &mut lanes);
    let mut tail = ColumnDeltas::default();
    for j in whole..len {
        entry(&mut seg, truth, j, &mut tail);
    }
    let mut sums = lanes.total();
    sums.add(&tail);
    sums
}

/// Four partial sums of each quantity, lane l holding the entries j with j % 4 == l.
#[derive(Default)]
struct Lanes {
    sum: [f64; WIDTH],
    shifted_sum: [f64; WIDTH],
    shifted_sumsq: [f64; WIDTH],
    residual: [f64; WIDTH],
    score_sample: [f64; WIDTH],
    score_mean: [f64; WIDTH],
}

impl Lanes {
    /// The lanes added up, (0 + 1) + (2 + 3).
    fn total(&self) -> ColumnDeltas {
        let add = |v: &[f64; WIDTH]| (v[0] + v[1]) + (v[2] + v[3]);
        ColumnDeltas {
            sum: add(&self.sum),
            shifted_sum: add(&self.shifted_sum),
            shifted_sumsq: add(&self.shifted_sumsq),
            residual: add(&self.residual),
            scores: (add(&self.score_sample), add(&self.score_mean)),
        }
    }
}

/// Entry j's draw, folded into `sums` (the one-entry form of the lanes' arithmetic).
#[inline(always)]
fn entry(seg: &mut Segment, truth: &[f32], j: usize, sums: &mut ColumnDeltas) {
    let fit = seg.fits[j];
    let new = fit + seg.sd * seg.noise[j];
    let old = seg.values[j];
    // x~ as stored: X~ was written as x - c in f32, so this is its entry exactly, without
    // reading it.
    let (new_s, old_s) = (new - seg.shift, old - seg.shift);
    sums.sum += new as f64 - old as f64;
    sums.shifted_sum += new_s as f64 - old_s as f64;
    sums.shifted_sumsq += (new_s as f64) * (new_s as f64) - (old_s as f64) * (old_s as f64);
    let (r_new, r_old) = ((new - fit) as f64, (old - fit) as f64);
    sums.residual += r_new * r_new - r_old * r_old;
    seg.values[j] = new;
    seg.xs[seg.rows[j] as usize] = new_s;
    if let Some(moments) = seg.moments.as_mut() {
        let mean = moments.fold(j, new as f64);
        if let Some(&t) = truth.get(j) {
            let (e_sample, e_mean) = (new as f64 - t as f64, mean - t as f64);
            sums.scores.0 += e_sample * e_sample;
            sums.scores.1 += e_mean * e_mean;
        }
    }
}

/// The lanes' arithmetic on entries `0..whole` (a multiple of 4) without vector registers:
/// the same operations in the same order as [`avx::draw_lanes`].
fn draw_lanes_portable(seg: &mut Segment, truth: &[f32], whole: usize, lanes: &mut Lanes) {
    for j in (0..whole).step_by(WIDTH) {
        for l in 0..WIDTH {
            let mut one = ColumnDeltas::default();
            entry(seg, truth, j + l, &mut one);
            lanes.sum[l] += one.sum;
            lanes.shifted_sum[l] += one.shifted_sum;
            lanes.shifted_sumsq[l] += one.shifted_sumsq;
            lanes.residual[l] += one.residual;
            lanes.score_sample[l] += one.scores.0;
            lanes.score_mean[l] += one.scores.1;
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx {
    use super::{Lanes, Segment, WIDTH};
    use std::arch::x86_64::*;

    /// The lanes' arithmetic on entries `0..whole` (a multiple of 4) in AVX registers: per
    /// entry the operations of [`super::entry`], in the same order, so the same bits.
    #[target_feature(enable = "avx2")]
    #[inline]
    pub(super) fn draw_lanes(seg: &mut Segment, truth: &[f32], whole: usize, lanes: &mut Lanes) {
        let len = seg.values.len();
        assert!(whole <= len && whole.is_multiple_of(WIDTH));
        assert!(seg.fits.len() == len && seg.noise.len() == len && seg.rows.len() == len);
        assert!(truth.is_empty() || truth.len() == len);
        let (sd, shift) = (_mm_set1_ps(seg.sd), _mm_set1_ps(seg.shift));
        let zero = _mm256_setzero_pd();
        let (mut sum, mut shifted_sum, mut shifted_sumsq, mut residual) = (zero, zero, zero, zero);
        let (mut score_sample, mut score_mean) = (zero, zero);
        // Welford's step as in `split_moments::welford` (nothing stored when the sample is not
        // included). (A match, not `Option::map`: a closure would not inherit AVX2.)
        let moments = match seg.moments.as_mut() {
            Some(m) => {
                assert_eq!(m.acc.len(), len);
                let inv = _mm256_set1_pd(m.inv);
                Some((
                    m.acc.as_mut_ptr() as *mut f32,
                    m.include,
                    m.has_samples,
                    inv,
                ))
            }
            None => None,
        };
        let mut new_s_lanes = [0.0f32; WIDTH];
        let mut j = 0;
        while j < whole {
            // SAFETY: j + 4 <= whole <= len, the length of every slice read here (checked
            // above), and the moments hold len pairs of f32 (8 from j * 2 on).
            unsafe {
                let fit = _mm_loadu_ps(seg.fits.as_ptr().add(j));
                let e = _mm_loadu_ps(seg.noise.as_ptr().add(j));
                let old = _mm_loadu_ps(seg.values.as_ptr().add(j));
                let new = _mm_add_ps(fit, _mm_mul_ps(sd, e));
                _mm_storeu_ps(seg.values.as_mut_ptr().add(j), new);
                let (new_s, old_s) = (_mm_sub_ps(new, shift), _mm_sub_ps(old, shift));
                _mm_storeu_ps(new_s_lanes.as_mut_ptr(), new_s);
                for (l, &v) in new_s_lanes.iter().enumerate() {
                    seg.xs[seg.rows[j + l] as usize] = v;
                }
                let (new_d, old_d) = (_mm256_cvtps_pd(new), _mm256_cvtps_pd(old));
                sum = _mm256_add_pd(sum, _mm256_sub_pd(new_d, old_d));
                let (new_sd, old_sd) = (_mm256_cvtps_pd(new_s), _mm256_cvtps_pd(old_s));
                shifted_sum = _mm256_add_pd(shifted_sum, _mm256_sub_pd(new_sd, old_sd));
                let squares =
                    _mm256_sub_pd(_mm256_mul_pd(new_sd, new_sd), _mm256_mul_pd(old_sd, old_sd));
                shifted_sumsq = _mm256_add_pd(shifted_sumsq, squares);
                let r_new = _mm256_cvtps_pd(_mm_sub_ps(new, fit));
                let r_old = _mm256_cvtps_pd(_mm_sub_ps(old, fit));
                let squares =
                    _mm256_sub_pd(_mm256_mul_pd(r_new, r_new), _mm256_mul_pd(r_old, r_old));
                residual = _mm256_add_pd(residual, squares);
                if let Some((acc, include, has_samples, inv)) = moments {
                    // Pairs [mean, ss] of entries j..j+4: a = [m0 s0 m1 s1], b = [m2 s2 m3 s3];
                    // unpacking gives [m0 m2 m1 m3] and [s0 s2 s1 s3] (lanes 1 and 2 swapped).
                    let at = acc.add(2 * j);
                    // (Stored in f32: widened here, rounded once when stored.)
                    let pairs = _mm256_loadu_ps(at);
                    let a = _mm256_cvtps_pd(_mm256_castps256_ps128(pairs));
                    let b = _mm256_cvtps_pd(_mm256_extractf128_ps::<1>(pairs));
                    let (mut mean, mut ss) = (_mm256_unpacklo_pd(a, b), _mm256_unpackhi_pd(a, b));
                    // The new values in the same order: [x0 x2 x1 x3].
                    let x = _mm256_permute4x64_pd::<0b11_01_10_00>(new_d);
                    if include {
                        let delta = _mm256_sub_pd(x, mean);
                        mean = _mm256_add_pd(mean, _mm256_mul_pd(delta, inv));
                        ss = _mm256_add_pd(ss, _mm256_mul_pd(delta, _mm256_sub_pd(x, mean)));
                        let a = _mm256_cvtpd_ps(_mm256_unpacklo_pd(mean, ss));
                        let b = _mm256_cvtpd_ps(_mm256_unpackhi_pd(mean, ss));
                        _mm256_storeu_ps(at, _mm256_set_m128(b, a));
                    }
                    if !truth.is_empty() {
                        // The running means back in entry order.
                        let mean = if has_samples { mean } else { x };
                        let mean = _mm256_permute4x64_pd::<0b11_01_10_00>(mean);
                        let t = _mm256_cvtps_pd(_mm_loadu_ps(truth.as_ptr().add(j)));
                        let e_sample = _mm256_sub_pd(new_d, t);
                        let e_mean = _mm256_sub_pd(mean, t);
                        score_sample =
                            _mm256_add_pd(score_sample, _mm256_mul_pd(e_sample, e_sample));
                        score_mean = _mm256_add_pd(score_mean, _mm256_mul_pd(e_mean, e_mean));
                    }
                }
            }
            j += WIDTH;
        }
        // (Plain stores, not a closure: a closure would not inherit AVX2, and would take the
        // registers through memory.)
        // SAFETY: each destination holds four f64.
        unsafe {
            _mm256_storeu_pd(lanes.sum.as_mut_ptr(), sum);
            _mm256_storeu_pd(lanes.shifted_sum.as_mut_ptr(), shifted_sum);
            _mm256_storeu_pd(lanes.shifted_sumsq.as_mut_ptr(), shifted_sumsq);
            _mm256_storeu_pd(lanes.residual.as_mut_ptr(), residual);
            _mm256_storeu_pd(lanes.score_sample.as_mut_ptr(), score_sample);
            _mm256_storeu_pd(lanes.score_mean.as_mut_ptr(), score_mean);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::SmallRng;
    use rand::{RngExt, SeedableRng};

    /// One segment's inputs, owned: N = 64 images, `len` entries at distinct rows.
    #[derive(Clone)]
    struct Case {
        rows: Vec<u32>,
        fits: Vec<f32>,
        noise: Vec<f32>,
        values: Vec<f32>,
        xs: Vec<f32>,
        acc: Vec<[f32; 2]>,
        truth: Vec<f32>,
    }

    fn case(len: usize, seed: u64) -> Case {
        let mut r = SmallRng::seed_from_u64(seed);
        let mut rows: Vec<u32> = (0..64).collect();
        for k in (1..rows.len()).rev() {
            rows.swap(k, r.random_range(0..=k));
        }
        rows.truncate(len);
        rows.sort_unstable();
        let mut draw = |scale: f32, offset: f32| -> Vec<f32> {
            (0..len)
                .map(|_| offset + scale * (r.random::<f32>() - 0.5))
                .collect()
        };
        let (fits, noise, values, truth) = (
            draw(200.0, 100.0),
            draw(4.0, 0.0),
            draw(250.0, 120.0),
            draw(255.0, 128.0),
        );
        let acc = (0..len)
            .map(|k| [100.0 + k as f32 * 1.7, 50.0 + k as f32 * 3.1])
            .collect();
        Case {
            rows,
            fits,
            noise,
            values,
            xs: vec![-1.0; 64],
            acc,
            truth,
        }
    }

    /// Runs `draw` on a copy of `c` (moments folded in when `moments` is Some((include,
    /// has_samples))), with the truth when `truth`; returns the sums and the case after it.
    fn run<const AVX: bool>(
        c: &Case,
        moments: Option<(bool, bool)>,
        truth: bool,
    ) -> (ColumnDeltas, Case) {
        let mut c = c.clone();
        let moments = moments.map(|(include, has_samples)| MomentsRun {
            acc: &mut c.acc,
            include,
            has_samples,
            inv: 1.0 / 7.0,
        });
        let seg = Segment {
            rows: &c.rows,
            fits: &c.fits,
            noise: &c.noise,
            values: &mut c.values,
            xs: &mut c.xs,
            sd: 3.25,
            shift: 97.5,
            moments,
            truth: if truth { &c.truth } else { &[] },
        };
        let sums = if AVX {
            #[cfg(target_arch = "x86_64")]
            {
                assert!(std::arch::is_x86_feature_detected!("avx2"));
                // SAFETY: the CPU was just checked for AVX2.
                unsafe { draw_avx_for_test(seg) }
            }
            #[cfg(not(target_arch = "x86_64"))]
            draw::<false>(seg)
        } else {
            draw::<false>(seg)
        };
        (sums, c)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn draw_avx_for_test(seg: Segment) -> ColumnDeltas {
        draw::<true>(seg)
    }

    /// The sums one entry at a time in f64, in entry order: what the lanes must approximate.
    fn sequential(c: &Case, moments: Option<(bool, bool)>, truth: bool) -> ColumnDeltas {
        let (sd, shift) = (3.25f32, 97.5f32);
        let mut sums = ColumnDeltas::default();
        for j in 0..c.rows.len() {
            let (fit, old) = (c.fits[j], c.values[j]);
            let new = fit + sd * c.noise[j];
            let (n, o) = (new as f64, old as f64);
            let (ns, os) = ((new - shift) as f64, (old - shift) as f64);
            sums.sum += n - o;
            sums.shifted_sum += ns - os;
            sums.shifted_sumsq += ns * ns - os * os;
            sums.residual += ((new - fit) as f64).powi(2) - ((old - fit) as f64).powi(2);
            if let (Some((include, has_samples)), true) = (moments, truth) {
                let mut mean = c.acc[j][0] as f64;
                if include {
                    mean += (n - mean) / 7.0;
                }
                let mean = if has_samples { mean } else { n };
                let t = c.truth[j] as f64;
                sums.scores.0 += (n - t).powi(2);
                sums.scores.1 += (mean - t).powi(2);
            }
        }
        sums
    }

    fn close(a: f64, b: f64, scale: f64) -> bool {
        a.is_finite() && b.is_finite() && (a - b).abs() <= 1e-12 * scale
    }

    /// Every length from 0 to 13 (whole steps and remainders), every combination of moments and
    /// truth: the AVX2 lanes give the portable lanes' bits (values, X~, moments and sums), and
    /// the sums agree with a sequential sum to rounding.
    #[test]
    fn lanes_match_the_portable_code_bit_for_bit_and_the_sequential_sums() {
        let modes = [
            None,
            Some((true, true)),
            Some((false, true)),
            Some((false, false)),
        ];
        for len in 0..=13 {
            for (m, &moments) in modes.iter().enumerate() {
                for truth in [false, true] {
                    let c = case(len, (len * 8 + m * 2) as u64 + truth as u64);
                    let (portable, after) = run::<false>(&c, moments, truth);
                    let what = format!("len {len}, moments {moments:?}, truth {truth}");
                    #[cfg(target_arch = "x86_64")]
                    if std::arch::is_x86_feature_detected!("avx2") {
                        let (avx, avx_after) = run::<true>(&c, moments, truth);
                        let bits = |d: &ColumnDeltas| {
                            [d.sum, d.shifted_sum, d.shifted_sumsq, d.residual]
                                .into_iter()
                                .chain([d.scores.0, d.scores.1])
                                .map(f64::to_bits)
                                .collect::<Vec<_>>()
                        };
                        assert_eq!(bits(&avx), bits(&portable), "{what}");
                        assert_eq!(avx_after.values, after.values, "{what}");
                        assert_eq!(avx_after.xs, after.xs, "{what}");
                        assert_eq!(avx_after.acc, after.acc, "{what}");
                    }
                    let want = sequential(&c, moments, truth);
                    let scale = 1e6 * (1.0 + len as f64);
                    for (got, want) in [
                        (portable.sum, want.sum),
                        (portable.shifted_sum, want.shifted_sum),
                        (portable.shifted_sumsq, want.shifted_sumsq),
                        (portable.residual, want.residual),
                        (portable.scores.0, want.scores.0),
                        (portable.scores.1, want.scores.1),
                    ] {
                        assert!(close(got, want, scale), "{what}: {got} against {want}");
                    }
                    // The values, X~ and the moments, entry by entry.
                    for j in 0..len {
                        let new = c.fits[j] + 3.25 * c.noise[j];
                        assert_eq!(after.values[j], new, "{what}");
                        assert_eq!(after.xs[c.rows[j] as usize], new - 97.5, "{what}");
                        let mut acc = c.acc[j];
                        if let Some((true, _)) = moments {
                            // Welford's step in f64, each moment rounded once to f32.
                            let mean = acc[0] as f64;
                            let delta = new as f64 - mean;
                            let mean = mean + delta * (1.0 / 7.0);
                            acc = [
                                mean as f32,
                                (acc[1] as f64 + delta * (new as f64 - mean)) as f32,
                            ];
                        }
                        assert_eq!(after.acc[j], acc, "{what}");
                    }
                    let untouched = (0..64u32).filter(|i| !c.rows.contains(i));
                    assert!(untouched.into_iter().all(|i| after.xs[i as usize] == -1.0));
                }
            }
        }
    }
}
