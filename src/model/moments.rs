//! Running first and second moments (Welford, f64) of every missing pixel, mu and sigma^2:
//! posterior summaries without storing samples.

use super::par::{for_each_chunk_mut, map_chunk_pairs_mut};

const CHUNK: usize = 4096;

/// Welford running mean and sum of squared deviations of a vector of quantities.
#[derive(Clone, Debug, PartialEq)]
pub struct RunningMoments {
    count: usize,
    /// Per quantity: [mean, sum of squared deviations].
    acc: Vec<[f64; 2]>,
}

impl RunningMoments {
    /// Moments of `len` quantities, with no samples yet.
    pub fn new(len: usize) -> Self {
        // Zeros written, not a zeroed allocation (whose pages the OS maps only when first
        // touched): the memory is resident from the start, so the process does not grow when
        // burn-in ends and the moments are first written (the soak test checks that it never
        // grows).
        let mut acc = Vec::with_capacity(len);
        acc.resize(len, [0.0; 2]);
        RunningMoments { count: 0, acc }
    }

    /// Forgets every sample.
    pub fn clear(&mut self) {
        self.count = 0;
        self.acc.iter_mut().for_each(|v| *v = [0.0; 2]);
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
            for (j, [mean, m2]) in chunk.iter_mut().enumerate() {
                let x = value(c * 4096 + j);
                let delta = x - *mean;
                *mean += delta * inv;
                *m2 += delta * (x - *mean);
            }
        });
    }

    /// One pass over the quantities: folds in the sample `value(k)` when `include`, and
    /// returns the sums of squared errors against `truth` (same length) of the sample and of
    /// the running mean (the sample itself while there are no moments).
    pub fn update_scored(
        &mut self,
        include: bool,
        value: impl Fn(usize) -> f64 + Sync + Send,
        truth: &[f32],
    ) -> (f64, f64) {
        // Without truth there is nothing to score, but the sample must still enter the
        // moments (the chunked loop below walks the truth and would skip every quantity).
        if truth.is_empty() {
            if include {
                self.update(value);
            }
            return (0.0, 0.0);
        }
        if include {
            self.count += 1;
        }
        let count = self.count;
        let inv = if count > 0 { 1.0 / count as f64 } else { 0.0 };
        let parts = map_chunk_pairs_mut(&mut self.acc, truth, CHUNK, |c, chunk, t| {
            let (mut ss_sample, mut ss_mean) = (0.0f64, 0.0f64);
            for (j, [mean, m2]) in chunk.iter_mut().enumerate() {
                let x = value(c * CHUNK + j);
                if include {
                    let delta = x - *mean;
                    *mean += delta * inv;
                    *m2 += delta * (x - *mean);
                }
                if let Some(&tv) = t.get(j) {
                    let tv = tv as f64;
                    ss_sample += (x - tv).powi(2);
                    let m = if count > 0 { *mean } else { x };
                    ss_mean += (m - tv).powi(2);
                }
            }
            (ss_sample, ss_mean)
        });
        parts
            .iter()
            .fold((0.0, 0.0), |(a, b), &(x, y)| (a + x, b + y))
    }

    /// Mean of quantity k (None with no samples).
    pub fn mean(&self, k: usize) -> Option<f64> {
        if self.count == 0 {
            None
        } else {
            self.acc.get(k).map(|a| a[0])
        }
    }

    /// Sample standard deviation of quantity k (0 with fewer than two samples).
    pub fn std(&self, k: usize) -> f64 {
        if self.count < 2 {
            return 0.0;
        }
        self.acc
            .get(k)
            .map_or(0.0, |a| (a[1].max(0.0) / (self.count - 1) as f64).sqrt())
    }
}
