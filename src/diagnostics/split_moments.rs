//! Classic (not rank-normalised) split-R-hat from running moments, for quantities too many
//! to keep every draw of: every missing pixel, every sigma_d^2, every mu_d.
//!
//! Each chain owns a [`HalfMoments`] and feeds it one draw per sweep on its own thread; the
//! first half of the planned post-burn-in draws goes into one set of Welford moments, the
//! last half into another (the middle draw of an odd count is left out, as in
//! [`super::draws::split_chains`]). [`split_rhat_classic`] then combines the 2K half-chains
//! with the basic R-hat formula (BDA3 eq. 11.4): no ranks, no folding, so it measures
//! disagreement of means and variances only. Means and sums of squares are stored in f32
//! (8 bytes per quantity and half: 1e6 missing pixels cost 16 MB a chain) and updated in f64.

use crate::diagnostics::{DiagnosticsError, MAX_CHAINS};
use rayon::prelude::*;

/// Quantities updated per parallel chunk.
const CHUNK: usize = 8192;
/// Below this many quantities the update runs on the calling thread.
const PARALLEL_MIN: usize = 1 << 15;

/// Running mean and sum of squared deviations of each of `len` quantities, separately for
/// the first and the last half of one chain's planned draws.
#[derive(Clone, Debug, PartialEq)]
pub struct HalfMoments {
    half: usize,
    planned: usize,
    seen: usize,
    /// Per quantity: [mean, M2] of the first half, and of the second half. Two arrays, not
    /// one of four floats a quantity: a draw updates one half, so it reads and writes 8 bytes
    /// a quantity instead of 16 (the X_miss pass folds every missing pixel into them, each
    /// sweep of every chain, and four chains on two cores are bound by memory).
    halves: [Vec<[f32; 2]>; 2],
}

impl HalfMoments {
    /// Moments of `len` quantities for a chain that will give `planned` draws. With fewer
    /// than 4 planned draws a half holds under 2 draws and every R-hat stays undefined.
    pub fn new(len: usize, planned: usize) -> HalfMoments {
        HalfMoments {
            half: planned / 2,
            planned,
            seen: 0,
            halves: [vec![[0.0; 2]; len], vec![[0.0; 2]; len]],
        }
    }

    /// Quantity k's [mean, M2] of the first half, then of the second (panics out of range).
    fn quantity(&self, k: usize) -> [f32; 4] {
        let ([m1, s1], [m2, s2]) = (self.halves[0][k], self.halves[1][k]);
        [m1, s1, m2, s2]
    }

    /// Number of quantities.
    pub fn len(&self) -> usize {
        self.halves[0].len()
    }

    /// True with no quantities.
    pub fn is_empty(&self) -> bool {
        self.halves[0].is_empty()
    }

    /// Draws planned in all.
    pub fn planned(&self) -> usize {
        self.planned
    }

    /// Draws seen so far (including a skipped middle draw).
    pub fn seen(&self) -> usize {
        self.seen
    }

    /// Draws in the first and in the second half so far.
    pub fn counts(&self) -> (usize, usize) {
        let first = self.seen.min(self.half);
        let second = self.seen.saturating_sub(self.planned - self.half);
        (first, second.min(self.half))
    }

    /// Means of quantity k over the first and the second half so far (None out of range).
    pub fn half_means(&self, k: usize) -> Option<(f64, f64)> {
        (k < self.len()).then(|| (self.halves[0][k][0] as f64, self.halves[1][k][0] as f64))
    }

    /// True once both halves are complete.
    pub fn is_complete(&self) -> bool {
        self.counts() == (self.half, self.half)
    }

    /// Changes the plan to `planned` draws in all (a run that was extended), keeping the
    /// draws folded in so far. That is possible only while they all belong to the new first
    /// half: the two halves so far are then merged into the first (Chan et al.'s pairwise
    /// update), and the draws left out so far (the middle draw of an odd count, or draws
    /// beyond the old plan) come off the new plan, so its halves stay equal. Returns false,
    /// changing nothing, when the kept draws exceed the new first half.
    pub fn replan(&mut self, planned: usize) -> bool {
        let (n1, n2) = self.counts();
        let kept = n1 + n2;
        let planned = planned.saturating_sub(self.seen - kept);
        if kept > planned / 2 {
            return false;
        }
        if n2 > 0 {
            let (f1, f2) = (n1 as f64, n2 as f64);
            let n = f1 + f2;
            let [first, second] = &mut self.halves;
            for (a, b) in first.iter_mut().zip(second.iter_mut()) {
                let (m1, m2) = (a[0] as f64, b[0] as f64);
                let mean = (f1 * m1 + f2 * m2) / n;
                let ss = a[1] as f64 + b[1] as f64 + (m2 - m1).powi(2) * f1 * f2 / n;
                *a = [mean as f32, ss as f32];
                *b = [0.0, 0.0];
            }
        }
        self.planned = planned;
        self.half = planned / 2;
        self.seen = kept;
        true
    }

    /// Folds in the next draw, `value(k)` for quantity k (in parallel for many quantities).
    /// Returns false (and changes nothing) for the middle draw of an odd count and for draws
    /// beyond the planned number.
    pub fn push(&mut self, value: impl Fn(usize) -> f64 + Sync + Send) -> bool {
        let Some(draw) = self.begin() else {
            return false;
        };
        let update = |c: usize, mut part: HalfDraw| {
            for j in 0..part.acc.len() {
                part.fold(j, value(c * CHUNK + j));
            }
        };
        let len = draw.len();
        let parts = draw.split((1..).map(|c| c * CHUNK));
        if len < PARALLEL_MIN {
            parts
                .into_iter()
                .enumerate()
                .for_each(|(c, p)| update(c, p));
        } else {
            parts
                .into_par_iter()
                .enumerate()
                .for_each(|(c, p)| update(c, p));
        }
        true
    }

    /// Starts the next draw, which the caller folds in quantity by quantity through
    /// [`HalfDraw::fold`] (the X_miss pass does for the missing pixels, as it draws them: no
    /// second pass over them). None for a draw that [`Self::push`] would leave out; the draw
    /// is counted as seen either way.
    pub fn begin(&mut self) -> Option<HalfDraw<'_>> {
        let t = self.seen;
        self.seen += 1;
        let (half, count) = if t < self.half {
            (0, t + 1)
        } else if t >= self.planned - self.half && t < self.planned {
            (1, t + 1 - (self.planned - self.half))
        } else {
            return None;
        };
        Some(HalfDraw {
            acc: &mut self.halves[half],
            inv: 1.0 / count as f64,
        })
    }
}

/// One draw being folded into a [`HalfMoments`] by its caller (see [`HalfMoments::begin`]).
#[derive(Debug)]
pub struct HalfDraw<'a> {
    /// [mean, M2] of each quantity in the half this draw belongs to.
    acc: &'a mut [[f32; 2]],
    /// 1 / the half's count with this draw.
    inv: f64,
}

impl<'a> HalfDraw<'a> {
    /// Number of quantities in this part.
    pub fn len(&self) -> usize {
        self.acc.len()
    }

    /// True with no quantities.
    pub fn is_empty(&self) -> bool {
        self.acc.is_empty()
    }

    /// Splits the draw into consecutive parts ending (exclusive) at `ends`, ascending, for
    /// parallel workers; quantity k of a part is quantity (its start + k). Parts stop at the
    /// last quantity (an end beyond it closes the last part).
    pub fn split(self, ends: impl Iterator<Item = usize>) -> Vec<HalfDraw<'a>> {
        let inv = self.inv;
        let total = self.acc.len();
        let mut rest = self.acc;
        let mut done = 0;
        let mut parts = Vec::new();
        for end in ends {
            if done >= total {
                break;
            }
            let end = end.min(total);
            let (head, tail) = std::mem::take(&mut rest).split_at_mut(end - done);
            parts.push(HalfDraw { acc: head, inv });
            rest = tail;
            done = end;
        }
        parts
    }

    /// Folds `x` in as quantity `k` of this part (Welford's step in f64, stored in f32).
    #[inline(always)]
    pub fn fold(&mut self, k: usize, x: f64) {
        let a = &mut self.acc[k];
        let (mean, ss) = welford(a[0] as f64, a[1] as f64, x, self.inv);
        *a = [mean as f32, ss as f32];
    }
}

/// Welford's step in f64: the mean and the sum of squared deviations after folding `x` into
/// `mean` and `ss`, with `inv` = 1 / the new count. (The running moments of the sampler take
/// the same step; the X_miss pass's vector code repeats it in lanes, bit for bit.)
#[inline(always)]
pub(crate) fn welford(mean: f64, ss: f64, x: f64, inv: f64) -> (f64, f64) {
    let delta = x - mean;
    let mean = mean + delta * inv;
    (mean, ss + delta * (x - mean))
}

/// Classic split-R-hat of every quantity from the half-chain moments of K chains (same
/// length, same planned draws). A quantity gets NaN while a half has fewer than 2 draws or
/// when it does not vary within the half-chains (within-chain variance 0).
pub fn split_rhat_classic(chains: &[&HalfMoments]) -> Result<Vec<f64>, DiagnosticsError> {
    let first = chains.first().ok_or(DiagnosticsError::NoChains)?;
    if chains.len() > MAX_CHAINS {
        return Err(DiagnosticsError::TooManyChains {
            chains: chains.len(),
            max: MAX_CHAINS,
        });
    }
    for (c, h) in chains.iter().enumerate() {
        if h.len() != first.len() || h.planned != first.planned || h.seen != first.seen {
            return Err(DiagnosticsError::UnequalChains {
                chain: c,
                draws: h.seen,
                expected: first.seen,
            });
        }
    }
    let (n1, n2) = first.counts();
    let n = n1.min(n2);
    if n < 2 || n1 != n2 {
        return Ok(vec![f64::NAN; first.len()]);
    }
    let nf = n as f64;
    let halves = (2 * chains.len()) as f64;
    let rhat = |k: usize| {
        let mut means = [0.0f64; 2 * MAX_CHAINS];
        let mut within = 0.0;
        for (c, h) in chains.iter().enumerate() {
            let a = h.quantity(k);
            means[2 * c] = a[0] as f64;
            means[2 * c + 1] = a[2] as f64;
            within += (a[1] as f64 + a[3] as f64) / (nf - 1.0);
        }
        let means = &means[..2 * chains.len()];
        within /= halves;
        let grand = means.iter().sum::<f64>() / halves;
        let between = nf * means.iter().map(|m| (m - grand).powi(2)).sum::<f64>() / (halves - 1.0);
        ((between / within + nf - 1.0) / nf).sqrt()
    };
    Ok((0..first.len()).into_par_iter().map(rhat).collect())
}

/// Classic R-hat of every quantity over the K whole chains so far (each chain's two halves
/// merged, not split): defined while a run is still filling its halves, for live displays,
/// once every chain has at least 2 draws; needs K >= 2 (NaN otherwise). Less sensitive than
/// [`split_rhat_classic`] to a trend within a chain.
///
/// The chains may hold different numbers of draws (one chain swept elsewhere, ahead of the
/// others): each chain's mean and variance are then its own, and the length in the formula
/// is the shortest chain's n (BDA3 eq. 11.4 with n = min n_c; the same as the equal-length
/// formula when the counts agree).
pub fn rhat_classic_so_far(chains: &[&HalfMoments]) -> Result<Vec<f64>, DiagnosticsError> {
    let first = chains.first().ok_or(DiagnosticsError::NoChains)?;
    if chains.len() > MAX_CHAINS {
        return Err(DiagnosticsError::TooManyChains {
            chains: chains.len(),
            max: MAX_CHAINS,
        });
    }
    for (c, h) in chains.iter().enumerate() {
        if h.len() != first.len() {
            return Err(DiagnosticsError::UnequalChains {
                chain: c,
                draws: h.len(),
                expected: first.len(),
            });
        }
    }
    let counts: Vec<(f64, f64)> = chains
        .iter()
        .map(|h| {
            let (n1, n2) = h.counts();
            (n1 as f64, n2 as f64)
        })
        .collect();
    let n = counts
        .iter()
        .map(|(a, b)| a + b)
        .fold(f64::INFINITY, f64::min);
    if n < 2.0 || chains.len() < 2 {
        return Ok(vec![f64::NAN; first.len()]);
    }
    let k = chains.len() as f64;
    let rhat = |q: usize| {
        let mut means = [0.0f64; MAX_CHAINS];
        let mut within = 0.0;
        for (c, h) in chains.iter().enumerate() {
            let a = h.quantity(q);
            let (m1, m2) = (a[0] as f64, a[2] as f64);
            let (f1, f2) = counts[c];
            let nc = f1 + f2;
            // Chan et al.: merge the two halves' means and sums of squared deviations.
            let mean = (f1 * m1 + f2 * m2) / nc;
            let ss = a[1] as f64 + a[3] as f64 + (m2 - m1).powi(2) * f1 * f2 / nc;
            means[c] = mean;
            within += ss / (nc - 1.0);
        }
        let means = &means[..chains.len()];
        within /= k;
        let grand = means.iter().sum::<f64>() / k;
        let between = n * means.iter().map(|m| (m - grand).powi(2)).sum::<f64>() / (k - 1.0);
        ((between / within + n - 1.0) / n).sqrt()
    };
    Ok((0..first.len()).into_par_iter().map(rhat).collect())
}

/// The per-pixel R-hat values of one kind of quantity, summarised.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct RhatSummary {
    /// Number of quantities.
    pub count: usize,
    /// Quantities whose R-hat is undefined (they do not vary, or too few draws).
    pub undefined: usize,
    /// Largest finite R-hat (None when none is finite).
    pub max: Option<f64>,
    /// Share of the finite R-hats above 1.01 (0 when none is finite).
    pub share_above_1_01: f64,
}

impl RhatSummary {
    /// True when the largest defined R-hat is [`super::RHAT_BAD`] or more. For mu_d, without
    /// the recentring move, the sign that the chains sit at different points of the mu /
    /// z-bar ridge ([`crate::model::recentre`]), which the front ends point out.
    pub fn far_apart(&self) -> bool {
        self.max.is_some_and(|m| m >= super::RHAT_BAD)
    }

    /// Summarises R-hat values; NaN and infinite ones are counted as undefined, never
    /// compared.
    pub fn new(values: &[f64]) -> RhatSummary {
        let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        let above = finite.iter().filter(|&&v| v > 1.01).count();
        RhatSummary {
            count: values.len(),
            undefined: values.len() - finite.len(),
            max: finite.iter().copied().reduce(f64::max),
            share_above_1_01: if finite.is_empty() {
                0.0
            } else {
                above as f64 / finite.len() as f64
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::HalfMoments;

    fn draw(t: usize, k: usize) -> f64 {
        ((t * 7 + k * 3) % 11) as f64 + 0.1 * t as f64
    }

    #[test]
    fn an_extended_plan_keeps_the_draws_and_splits_as_a_fresh_one() {
        // 9 draws planned (the middle one left out), then the run is extended to 31 draws.
        let mut replanned = HalfMoments::new(3, 9);
        for t in 0..9 {
            replanned.push(|k| draw(t, k));
        }
        assert!(replanned.replan(31));
        for t in 9..31 {
            replanned.push(|k| draw(t, k));
        }
        // The same draws but the skipped one, planned as 30 from the start.
        let mut fresh = HalfMoments::new(3, 30);
        for t in (0..31).filter(|&t| t != 4) {
            fresh.push(|k| draw(t, k));
        }
        assert!(replanned.is_complete() && fresh.is_complete());
        assert_eq!(replanned.counts(), fresh.counts());
        for k in 0..3 {
            let (a, b) = (replanned.quantity(k), fresh.quantity(k));
            for i in 0..4 {
                assert!(
                    (a[i] - b[i]).abs() <= 1e-4 * b[i].abs().max(1.0),
                    "{a:?} {b:?}"
                );
            }
        }
        // A plan too short for the draws already in is refused, and nothing changes.
        let before = replanned.clone();
        assert!(!replanned.replan(20));
        assert_eq!(replanned, before);
    }
}
