//! Standard normal draws in bulk: the Box-Muller transform, eight pairs at a time in AVX2
//! registers (or the same arithmetic one value at a time where AVX2 is missing).
//!
//! Why: a sweep draws about 1.3 million normals (the Z step's noise and one per missing pixel),
//! and `rand_distr`'s `StandardNormal` draws each in f64 with a branch per value: about 5 ns a
//! value on our 2-core machines. A ziggurat of our own with a vector rectangle test took 1.6 ns a
//! value, held back by its table gathers and the 1% of values finished one by one; this takes
//! about 1.2 ns, with no table, no branch and no rejection: each 64-bit random word gives two
//! independent normals, r cos(theta) and r sin(theta), r = sqrt(-2 ln u1), theta = 2 pi u2.
//!
//! Accuracy: u1 has 31 random bits and is never 0 (so |x| <= 6.6; beyond that lies 3e-11 of the
//! normal's mass), u2 has 26 bits (its top two pick the quadrant); the logarithm, sine and
//! cosine are polynomials accurate to a few units in the last place of an f32. The portable and
//! the AVX2 code run the same operations in the same order without fused multiply-adds, so they
//! give the same bits (tested).
//!
//! Pure functions of the generator's state; they run on the caller's thread and never block.

use rand::Rng;
use rand::rngs::SmallRng;

/// Values one step makes: eight random words, two values each.
const STEP: usize = 16;

/// ln 2 in two parts: `e * LN2_HI` is exact for the exponents of an f32.
const LN2_HI: f32 = 355.0 / 512.0;
const LN2_LO: f32 = -2.121_944_4e-4;

/// Runs `$step(&words, &mut values)` on every sixteen values of `$out` with eight fresh words
/// each; the last, partial step is made whole in a buffer and cut. On a local copy of the
/// generator, whose state stays in registers. (A macro, not a function taking a closure: a
/// closure would not inherit the AVX2 build's target features, and `$step` would not inline.)
macro_rules! fill_steps {
    ($rng:expr, $out:expr, $step:path) => {{
        let rng: &mut SmallRng = $rng;
        let mut local = rng.clone();
        let mut words = [0u64; 8];
        let mut steps = $out.chunks_exact_mut(STEP);
        for values in steps.by_ref() {
            for w in words.iter_mut() {
                *w = local.next_u64();
            }
            $step(&words, values.try_into().expect("a whole step"));
        }
        let rest = steps.into_remainder();
        if !rest.is_empty() {
            for w in words.iter_mut() {
                *w = local.next_u64();
            }
            let mut values = [0.0f32; STEP];
            $step(&words, &mut values);
            rest.copy_from_slice(&values[..rest.len()]);
        }
        *rng = local;
    }};
}

/// Fills `out` with independent N(0, 1) draws from `rng`. The values depend only on the
/// generator's state and on `out.len()`; the generator advances eight words for every sixteen
/// values or part of sixteen.
pub fn fill(rng: &mut SmallRng, out: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    let avx2 = std::arch::is_x86_feature_detected!("avx2");
    #[cfg(not(target_arch = "x86_64"))]
    let avx2 = false;
    fill_with(rng, out, avx2);
}

/// [`fill`], through the AVX2 build of the loop when `avx2` (the caller has checked the CPU).
/// Both ways give the same bits.
fn fill_with(rng: &mut SmallRng, out: &mut [f32], avx2: bool) {
    #[cfg(target_arch = "x86_64")]
    if avx2 {
        // SAFETY: `avx2` is true only on a CPU checked to have AVX2.
        unsafe { avx2::fill(rng, out) };
        return;
    }
    let _ = avx2;
    fill_steps!(rng, out, pairs_portable);
}

/// The pairs of eight words one value at a time: word k's values go to `out[k]` and
/// `out[8 + k]`, as in [`avx2::pairs`].
#[inline(always)]
fn pairs_portable(words: &[u64; 8], out: &mut [f32; STEP]) {
    for (k, &w) in words.iter().enumerate() {
        let (a, b) = pair(w);
        out[k] = a;
        out[8 + k] = b;
    }
}

/// The two normals of one random word: the top 32 bits give u1, the low 32 the angle. The
/// arithmetic of [`avx2::pairs`] for one lane.
#[inline(always)]
fn pair(w: u64) -> (f32, f32) {
    let (hi, lo) = ((w >> 32) as u32, w as u32);
    // u1 in (0, 1]: 31 bits, half a step off zero; t = 1 - u1 from the same bits, rounded once
    // (u1 itself, rounded to 24 bits near 1, would put an error of 1e-4 into a small r).
    let k = (hi >> 1) as i32;
    let u1 = (k as f32 + 0.5) * (1.0 / 2_147_483_648.0);
    let t = ((i32::MAX - k) as f32 + 0.5) * (1.0 / 2_147_483_648.0);
    // ln u1 = e ln 2 + ln m, m in [sqrt(1/2), sqrt(2)), ln m = 2 atanh(s), s = (m - 1) / (m + 1),
    // which is -t / (2 - t) when e = 0.
    let bits = u1.to_bits();
    let mut e = ((bits >> 23) as i32 - 127) as f32;
    let mut m = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000);
    if m > std::f32::consts::SQRT_2 {
        m *= 0.5;
        e += 1.0;
    }
    let s = if e == 0.0 {
        (0.0 - t) / (2.0 - t)
    } else {
        (m - 1.0) / (m + 1.0)
    };
    let s2 = s * s;
    let mut p = s2 * (1.0 / 9.0) + (1.0 / 7.0);
    p = p * s2 + (1.0 / 5.0);
    p = p * s2 + (1.0 / 3.0);
    p = p * s2 + 1.0;
    let ln_u1 = e * LN2_HI + (e * LN2_LO + (s + s) * p);
    let r = (-2.0 * ln_u1).sqrt();
    // theta = 2 pi u2 = (pi / 2) q + pi / 4 + y: q the top two bits, y in [-pi/4, pi/4) from the
    // next 24.
    let f = (((lo >> 6) & 0x00ff_ffff) as i32) as f32 * (1.0 / 16_777_216.0);
    let y = (f - 0.5) * std::f32::consts::FRAC_PI_2;
    let y2 = y * y;
    let mut sp = y2 * (1.0 / 362_880.0) + (-1.0 / 5040.0);
    sp = sp * y2 + (1.0 / 120.0);
    sp = sp * y2 + (-1.0 / 6.0);
    sp = sp * y2 + 1.0;
    let sin_y = y * sp;
    let mut cp = y2 * (-1.0 / 3_628_800.0) + (1.0 / 40320.0);
    cp = cp * y2 + (-1.0 / 720.0);
    cp = cp * y2 + (1.0 / 24.0);
    cp = cp * y2 + (-0.5);
    let cos_y = cp * y2 + 1.0;
    // Turned by pi / 4, then by pi / 2 when bit 30 is set and by pi when bit 31 is.
    let c = (cos_y - sin_y) * std::f32::consts::FRAC_1_SQRT_2;
    let s = (sin_y + cos_y) * std::f32::consts::FRAC_1_SQRT_2;
    let (c, s) = if lo & 0x4000_0000 != 0 {
        (-s, c)
    } else {
        (c, s)
    };
    let (c, s) = if lo & 0x8000_0000 != 0 {
        (-c, -s)
    } else {
        (c, s)
    };
    (r * c, r * s)
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::{LN2_HI, LN2_LO, STEP};
    use rand::Rng;
    use rand::rngs::SmallRng;
    use std::arch::x86_64::*;

    /// [`super::fill`] in AVX2 registers.
    #[target_feature(enable = "avx2")]
    pub(super) fn fill(rng: &mut SmallRng, out: &mut [f32]) {
        fill_steps!(rng, out, pairs);
    }

    /// p x + c, rounded after each operation (no fused multiply-add, as in the portable code).
    #[target_feature(enable = "avx2")]
    #[inline]
    fn horner(p: __m256, x: __m256, c: f32) -> __m256 {
        _mm256_add_ps(_mm256_mul_ps(p, x), _mm256_set1_ps(c))
    }

    /// The pairs of eight words, lane by lane the arithmetic of [`super::pair`]: word k's
    /// values go to `out[k]` and `out[8 + k]`.
    #[target_feature(enable = "avx2")]
    #[inline]
    pub(super) fn pairs(words: &[u64; 8], out: &mut [f32; STEP]) {
        let ps = _mm256_set1_ps;
        let int = _mm256_set1_epi32;
        // SAFETY: unaligned loads of the eight words and stores of the sixteen values, all
        // within the two arrays.
        let (a, b) = unsafe {
            (
                _mm256_loadu_si256(words.as_ptr() as *const __m256i),
                _mm256_loadu_si256(words.as_ptr().add(4) as *const __m256i),
            )
        };
        // Each half holds [lo hi] pairs of four words: the lows, then the highs, in word order.
        let order = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
        let (a, b) = (
            _mm256_permutevar8x32_epi32(a, order),
            _mm256_permutevar8x32_epi32(b, order),
        );
        let lo = _mm256_permute2x128_si256::<0x20>(a, b);
        let hi = _mm256_permute2x128_si256::<0x31>(a, b);
        let k = _mm256_srli_epi32::<1>(hi);
        let u1 = _mm256_mul_ps(
            _mm256_add_ps(_mm256_cvtepi32_ps(k), ps(0.5)),
            ps(1.0 / 2_147_483_648.0),
        );
        let t = _mm256_mul_ps(
            _mm256_add_ps(
                _mm256_cvtepi32_ps(_mm256_sub_epi32(int(i32::MAX), k)),
                ps(0.5),
            ),
            ps(1.0 / 2_147_483_648.0),
        );
        let bits = _mm256_castps_si256(u1);
        let e = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_srli_epi32::<23>(bits), int(127)));
        let m = _mm256_castsi256_ps(_mm256_or_si256(
            _mm256_and_si256(bits, int(0x007f_ffff)),
            int(0x3f80_0000),
        ));
        let big = _mm256_cmp_ps::<_CMP_GT_OQ>(m, ps(std::f32::consts::SQRT_2));
        let m = _mm256_blendv_ps(m, _mm256_mul_ps(m, ps(0.5)), big);
        let e = _mm256_blendv_ps(e, _mm256_add_ps(e, ps(1.0)), big);
        let near_one = _mm256_cmp_ps::<_CMP_EQ_OQ>(e, ps(0.0));
        let s = _mm256_div_ps(
            _mm256_blendv_ps(
                _mm256_sub_ps(m, ps(1.0)),
                _mm256_sub_ps(ps(0.0), t),
                near_one,
            ),
            _mm256_blendv_ps(
                _mm256_add_ps(m, ps(1.0)),
                _mm256_sub_ps(ps(2.0), t),
                near_one,
            ),
        );
        let s2 = _mm256_mul_ps(s, s);
        let mut p = horner(s2, ps(1.0 / 9.0), 1.0 / 7.0);
        p = horner(p, s2, 1.0 / 5.0);
        p = horner(p, s2, 1.0 / 3.0);
        p = horner(p, s2, 1.0);
        let ln_u1 = _mm256_add_ps(
            _mm256_mul_ps(e, ps(LN2_HI)),
            _mm256_add_ps(
                _mm256_mul_ps(e, ps(LN2_LO)),
                _mm256_mul_ps(_mm256_add_ps(s, s), p),
            ),
        );
        let r = _mm256_sqrt_ps(_mm256_mul_ps(ps(-2.0), ln_u1));
        let f = _mm256_mul_ps(
            _mm256_cvtepi32_ps(_mm256_and_si256(
                _mm256_srli_epi32::<6>(lo),
                int(0x00ff_ffff),
            )),
            ps(1.0 / 16_777_216.0),
        );
        let y = _mm256_mul_ps(_mm256_sub_ps(f, ps(0.5)), ps(std::f32::consts::FRAC_PI_2));
        let y2 = _mm256_mul_ps(y, y);
        let mut sp = horner(y2, ps(1.0 / 362_880.0), -1.0 / 5040.0);
        sp = horner(sp, y2, 1.0 / 120.0);
        sp = horner(sp, y2, -1.0 / 6.0);
        sp = horner(sp, y2, 1.0);
        let sin_y = _mm256_mul_ps(y, sp);
        let mut cp = horner(y2, ps(-1.0 / 3_628_800.0), 1.0 / 40320.0);
        cp = horner(cp, y2, -1.0 / 720.0);
        cp = horner(cp, y2, 1.0 / 24.0);
        cp = horner(cp, y2, -0.5);
        let cos_y = horner(cp, y2, 1.0);
        let c = _mm256_mul_ps(
            _mm256_sub_ps(cos_y, sin_y),
            ps(std::f32::consts::FRAC_1_SQRT_2),
        );
        let s = _mm256_mul_ps(
            _mm256_add_ps(sin_y, cos_y),
            ps(std::f32::consts::FRAC_1_SQRT_2),
        );
        // Bit 30 of the low word, moved to the sign: turn by pi / 2, (c, s) -> (-s, c).
        let sign = _mm256_castsi256_ps(int(i32::MIN));
        let quarter = _mm256_castsi256_ps(_mm256_slli_epi32::<1>(lo));
        let c1 = _mm256_xor_ps(
            _mm256_blendv_ps(c, s, quarter),
            _mm256_and_ps(quarter, sign),
        );
        let s1 = _mm256_blendv_ps(s, c, quarter);
        // Bit 31: turn by pi, both signs flipped.
        let half = _mm256_and_ps(_mm256_castsi256_ps(lo), sign);
        let (c2, s2) = (_mm256_xor_ps(c1, half), _mm256_xor_ps(s1, half));
        // SAFETY: `out` holds sixteen values.
        unsafe {
            _mm256_storeu_ps(out.as_mut_ptr(), _mm256_mul_ps(r, c2));
            _mm256_storeu_ps(out.as_mut_ptr().add(8), _mm256_mul_ps(r, s2));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::normal::normal_quantile;
    use rand::SeedableRng;

    fn draws(seed: u64, n: usize) -> Vec<f32> {
        let mut rng = SmallRng::seed_from_u64(seed);
        let mut out = vec![f32::NAN; n];
        // Uneven pieces, so partial steps are exercised too.
        for piece in out.chunks_mut(1000) {
            fill(&mut rng, piece);
        }
        out
    }

    /// Each word's pair against the same transform in f64 with the standard library's
    /// logarithm, sine and cosine: within 2e-6 (absolute, the values being at most 6.6), over
    /// a million words and the extreme ones.
    #[test]
    fn pairs_match_the_transform_in_f64() {
        let mut rng = SmallRng::seed_from_u64(5);
        let mut words: Vec<u64> = (0..1_000_000).map(|_| rng.next_u64()).collect();
        words.extend([0, u64::MAX, 1 << 32, (1 << 32) - 1, 0x8000_0000_4000_0000]);
        let mut worst = 0.0f64;
        for w in words {
            let (a, b) = pair(w);
            let (hi, lo) = ((w >> 32) as u32, w as u32);
            let u1 = ((hi >> 1) as f64 + 0.5) / 2_147_483_648.0;
            let q = (lo >> 30) as f64;
            let f = ((lo >> 6) & 0x00ff_ffff) as f64 / 16_777_216.0;
            let theta = std::f64::consts::FRAC_PI_2 * (q + f);
            let r = (-2.0 * u1.ln()).sqrt();
            let (ea, eb) = (
                (a as f64 - r * theta.cos()).abs(),
                (b as f64 - r * theta.sin()).abs(),
            );
            assert!(ea.is_finite() && eb.is_finite(), "word {w:#x}");
            worst = worst.max(ea).max(eb);
        }
        assert!(worst < 2e-6, "largest error {worst}");
    }

    /// Moments and tails of four million draws against the standard normal's, each within
    /// five Monte Carlo standard errors, and every value finite.
    #[test]
    fn draws_have_the_normal_moments_and_tails() {
        let n = 4_000_000;
        let x = draws(1, n);
        assert!(x.iter().all(|v| v.is_finite()));
        let nf = n as f64;
        let mean = x.iter().map(|&v| v as f64).sum::<f64>() / nf;
        let m2 = x.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / nf;
        let m3 = x.iter().map(|&v| (v as f64).powi(3)).sum::<f64>() / nf;
        let m4 = x.iter().map(|&v| (v as f64).powi(4)).sum::<f64>() / nf;
        // Standard errors: sqrt(Var(x^k) / n), Var(x^k) = E x^2k - (E x^k)^2.
        let se = |var: f64| (var / nf).sqrt();
        assert!(mean.abs() < 5.0 * se(1.0), "mean {mean}");
        assert!((m2 - 1.0).abs() < 5.0 * se(3.0 - 1.0), "E x^2 {m2}");
        assert!(m3.abs() < 5.0 * se(15.0), "E x^3 {m3}");
        assert!((m4 - 3.0).abs() < 5.0 * se(105.0 - 9.0), "E x^4 {m4}");
        // Tail counts on both sides, out to where a ziggurat's tail sampler takes over.
        for (edge, p) in [
            (1.0, 0.158_655_253_9),
            (2.5, 0.006_209_665_3),
            (3.654_152_885, 1.290_162_4e-4),
        ] {
            for sign in [1.0f64, -1.0] {
                let count = x.iter().filter(|&&v| sign * v as f64 > edge).count() as f64;
                let expect = nf * p;
                let sd = (nf * p * (1.0 - p)).sqrt();
                assert!(
                    (count - expect).abs() < 5.0 * sd,
                    "beyond {}: {count}, expected {expect:.0}",
                    sign * edge
                );
            }
        }
    }

    /// A chi-square test over 100 equally likely bins (edges from the normal quantile): the
    /// statistic of four million draws stays below the 99.99% point of chi-square(99),
    /// about 153.
    #[test]
    fn draws_pass_a_chi_square_test_of_the_normal_cdf() {
        let n = 4_000_000usize;
        let bins = 100usize;
        let edges: Vec<f64> = (1..bins)
            .map(|k| normal_quantile(k as f64 / bins as f64))
            .collect();
        let mut counts = vec![0usize; bins];
        for v in draws(2, n) {
            assert!(v.is_finite());
            counts[edges.partition_point(|&e| e < v as f64)] += 1;
        }
        let expect = n as f64 / bins as f64;
        let chi2: f64 = counts
            .iter()
            .map(|&c| (c as f64 - expect).powi(2) / expect)
            .sum();
        assert!(chi2.is_finite() && chi2 < 153.0, "chi-square {chi2}");
    }

    /// The two values of a word are independent normals, and so are neighbours: the
    /// correlations of the pairs (x_k, x_{k+8}) and (x_k, x_{k+1}) within each step, and of
    /// their squares, are within five standard errors (1 / sqrt(n)) of zero.
    #[test]
    fn values_of_a_word_and_their_neighbours_are_uncorrelated() {
        let x = draws(6, 4_000_000);
        let corr = |pairs: &[(f64, f64)]| {
            let n = pairs.len() as f64;
            let (ma, mb) = pairs
                .iter()
                .fold((0.0, 0.0), |(a, b), &(x, y)| (a + x / n, b + y / n));
            let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
            for &(a, b) in pairs {
                sab += (a - ma) * (b - mb);
                saa += (a - ma) * (a - ma);
                sbb += (b - mb) * (b - mb);
            }
            (sab / (saa * sbb).sqrt(), 1.0 / n.sqrt())
        };
        let steps = x.chunks_exact(STEP);
        let same_word: Vec<(f64, f64)> = steps
            .clone()
            .flat_map(|s| (0..8).map(move |k| (s[k] as f64, s[8 + k] as f64)))
            .collect();
        let neighbours: Vec<(f64, f64)> = steps
            .flat_map(|s| (0..7).map(move |k| (s[k] as f64, s[k + 1] as f64)))
            .collect();
        for (name, pairs) in [("same word", same_word), ("neighbours", neighbours)] {
            let squares: Vec<(f64, f64)> = pairs.iter().map(|&(a, b)| (a * a, b * b)).collect();
            for (what, p) in [("values", &pairs), ("squares", &squares)] {
                let (r, se) = corr(p);
                assert!(r.is_finite() && r.abs() < 5.0 * se, "{name}, {what}: {r}");
            }
        }
    }

    /// The same generator state gives the same values, with or without AVX2, whole steps and
    /// a partial last one alike, and the generator advances the same way.
    #[test]
    fn draws_are_reproducible_and_the_same_in_both_builds() {
        assert_eq!(draws(3, 10_000), draws(3, 10_000));
        for len in [0, 1, 15, 16, 17, 777, 100_003] {
            let mut a = SmallRng::seed_from_u64(4);
            let mut b = a.clone();
            let (mut x, mut y) = (vec![0.0f32; len], vec![0.0f32; len]);
            fill(&mut a, &mut x);
            fill_with(&mut b, &mut y, false);
            let (xb, yb): (Vec<u32>, Vec<u32>) = (
                x.iter().map(|v| v.to_bits()).collect(),
                y.iter().map(|v| v.to_bits()).collect(),
            );
            assert_eq!(xb, yb, "length {len}");
            assert_eq!(a.next_u64(), b.next_u64(), "length {len}");
        }
    }
}
