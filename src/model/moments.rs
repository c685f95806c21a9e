//! Running first and second moments (Welford's step in f64) of every missing pixel, mu and
//! sigma^2: posterior summaries without storing samples.
//!
//! The missing pixels' moments are stored in f32 ([`RunningMoments<f32>`]): the X_miss pass
//! reads and writes them for every missing pixel every sweep, and at f32 they move 8 bytes a
//! pixel instead of 16. Each step is still computed in f64 and rounded once when stored; a
//! rounding at draw s weighs s / T in the mean after T draws, so the mean is off by about
//! sqrt(T) / 6 units of f32 (1.3e-4 for pixel values near 100 after 10,000 draws), four orders
//! below its Monte Carlo error (sd / sqrt(ESS), about 1 at that length). mu and sigma^2 (D
//! values each; sigma^2 up to 1e30, whose squares f32 cannot hold) stay in f64.

use super::par::for_each_chunk_mut;

/// How a moment is stored: f64, or f32 for big vectors (computed in f64 either way).
pub trait Stored: Copy + Default + PartialEq + std::fmt::Debug + Send + Sync + 'static {
    /// The stored value, widened to f64.
    fn get(self) -> f64;
    /// `value` as stored (rounded to f32 for f32).
    fn put(value: f64) -> Self;
}

impl Stored for f64 {
    #[inline(always)]
    fn get(self) -> f64 {
        self
    }
    #[inline(always)]
    fn put(value: f64) -> Self {
        value
    }
}

impl Stored for f32 {
    #[inline(always)]
    fn get(self) -> f64 {
        self as f64
    }
    #[inline(always)]
    fn put(value: f64) -> Self {
        value as f32
    }
}

/// Welford running mean and sum of squared deviations of a vector of quantities.
#[derive(Clone, Debug, PartialEq)]
pub struct RunningMoments<T: Stored = f64> {
    count: usize,
    /// Per quantity: [mean, sum of squared deviations].
    acc: Vec<[T; 2]>,
}

impl<T: Stored> RunningMoments<T> {
    /// Moments of `len` quantities, with no samples yet.
    pub fn new(len: usize) -> Self {
        // Zeros written, not a zeroed allocation (whose pages the OS maps only when first
        // touched): the memory is resident from the start, so the process does not grow when
        // burn-in ends and the moments are first written (the soak test checks that it never
        // grows).
        let mut acc = Vec::with_capacity(len);
        acc.resize(len, [T::default(); 2]);
        RunningMoments { count: 0, acc }
    }

    /// Forgets every sample.
    pub fn clear(&mut self) {
        self.count = 0;
        self.acc.iter_mut().for_each(|v| *v = [T::default(); 2]);
    }

    /// Number of samples folded in.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Folds in one sample, `value(k)` for quantity k (in parallel for many quantities).
    pub fn update(&mut self, value: impl Fn(usize) -> f64 + Sync + Send) {
        self.count += 1;
        let inv = 1.0 / self.count as f64;
        for_each_chunk_mut(&mut self.acc, 4096, |c, chunk| {
            for (j, acc) in chunk.iter_mut().enumerate() {
                fold(acc, value(c * 4096 + j), inv);
            }
        });
    }

    /// Starts one sample that the caller folds in itself, run by run ([`Sample::run`]; the
    /// X_miss pass does, while it draws: one pass over the missing entries instead of two).
    /// Counts the sample when `include`.
    pub fn begin(&mut self, include: bool) -> Sample<'_, T> {
        if include {
            self.count += 1;
        }
        let count = self.count;
        Sample {
            acc: &mut self.acc,
            include,
            count,
            inv: if count > 0 { 1.0 / count as f64 } else { 0.0 },
        }
    }

    /// Mean of quantity k (None with no samples).
    pub fn mean(&self, k: usize) -> Option<f64> {
        if self.count == 0 {
            None
        } else {
            self.acc.get(k).map(|a| a[0].get())
        }
    }

    /// Sample standard deviation of quantity k (0 with fewer than two samples).
    pub fn std(&self, k: usize) -> f64 {
        if self.count < 2 {
            return 0.0;
        }
        self.acc.get(k).map_or(0.0, |a| {
            (a[1].get().max(0.0) / (self.count - 1) as f64).sqrt()
        })
    }
}

/// Welford's step in f64: folds `x` into [mean, sum of squared deviations], `inv` = 1 / new
/// count; returns the new mean before it is stored.
#[inline(always)]
fn fold<T: Stored>(acc: &mut [T; 2], x: f64, inv: f64) -> f64 {
    let (mean, ss) = crate::diagnostics::split_moments::welford(acc[0].get(), acc[1].get(), x, inv);
    *acc = [T::put(mean), T::put(ss)];
    mean
}

/// One sample being folded into [`RunningMoments`] by its caller (see [`RunningMoments::begin`]).
pub struct Sample<'a, T: Stored = f64> {
    acc: &'a mut [[T; 2]],
    include: bool,
    count: usize,
    inv: f64,
}

impl<'a, T: Stored> Sample<'a, T> {
    /// Splits the sample into consecutive parts ending (exclusive) at `ends`, ascending, to be
    /// folded in by parallel workers; quantity k of a part is quantity (its start + k).
    pub fn split(self, ends: impl Iterator<Item = usize>) -> Vec<Sample<'a, T>> {
        let (include, count, inv) = (self.include, self.count, self.inv);
        let mut rest = self.acc;
        let mut done = 0;
        let mut parts = Vec::new();
        for end in ends {
            let (head, tail) = std::mem::take(&mut rest).split_at_mut(end - done);
            parts.push(Sample {
                acc: head,
                include,
                count,
                inv,
            });
            rest = tail;
            done = end;
        }
        parts
    }

    /// Quantities `range` of this part, as one run for the X_miss pass's lanes (entry j of
    /// the run is quantity `range.start + j`).
    pub(crate) fn run(&mut self, range: std::ops::Range<usize>) -> MomentsRun<'_, T> {
        MomentsRun {
            acc: &mut self.acc[range],
            include: self.include,
            has_samples: self.count > 0,
            inv: self.inv,
        }
    }
}

/// A run of a [`Sample`]'s quantities (see [`Sample::run`]), open to the X_miss pass's vector
/// code, which applies [`fold`]'s arithmetic to four of them at a time.
pub(crate) struct MomentsRun<'a, T: Stored = f64> {
    /// [mean, sum of squared deviations] of each quantity.
    pub acc: &'a mut [[T; 2]],
    /// Whether this sample is folded in (after burn-in).
    pub include: bool,
    /// Whether the moments hold any sample (with this one when included).
    pub has_samples: bool,
    /// 1 / the count with this sample.
    pub inv: f64,
}

impl<T: Stored> MomentsRun<'_, T> {
    /// Number of quantities in the run.
    pub fn len(&self) -> usize {
        self.acc.len()
    }

    /// Folds `x` in as quantity `j` of the run (when the sample is included) and returns the
    /// running mean after it (`x` itself while there are no samples).
    #[inline(always)]
    pub fn fold(&mut self, j: usize, x: f64) -> f64 {
        let acc = &mut self.acc[j];
        let mean = if self.include {
            fold(acc, x, self.inv)
        } else {
            acc[0].get()
        };
        if self.has_samples { mean } else { x }
    }
}
