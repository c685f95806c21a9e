//! A flip-book of one digit's posterior draws: its last few imputations (the current
//! sample of its missing pixels at successive sweeps), to play back at a speed the teacher
//! sets beside the posterior mean and std. What uncertainty looks like.
//!
//! Fed from whatever the app already receives for a watched digit (an
//! [`ImageSummary`], whose `current` is the sample of that sweep); keeps at most `capacity`
//! frames, the newest. Nothing is kept for digits that are not watched.

use std::collections::VecDeque;

use super::LessonError;
use crate::model::ImageSummary;

/// Largest number of frames a flip-book keeps.
pub const MAX_FRAMES: usize = 10_000;

/// One draw of the digit: the image (observed pixels and the sampled missing ones) at a sweep.
#[derive(Clone, Debug, PartialEq)]
pub struct Frame {
    pub sweep: usize,
    pub image: Vec<f32>,
}

/// The last draws of one digit.
#[derive(Clone, Debug, PartialEq)]
pub struct Flipbook {
    digit: usize,
    capacity: usize,
    frames: VecDeque<Frame>,
}

impl Flipbook {
    /// An empty flip-book of digit `digit` keeping up to `capacity` (1 to [`MAX_FRAMES`]) frames.
    pub fn new(digit: usize, capacity: usize) -> Result<Flipbook, LessonError> {
        if capacity == 0 || capacity > MAX_FRAMES {
            return Err(LessonError::InvalidArgument {
                what: "the number of frames of a flip-book",
                reason: "it must be 1 to 10,000",
            });
        }
        Ok(Flipbook {
            digit,
            capacity,
            frames: VecDeque::with_capacity(capacity.min(256)),
        })
    }

    /// Adds the draw of `summary` at `sweep`. Returns false (and keeps nothing) when the
    /// summary is of another digit, when the sweep is not newer than the last frame's (the
    /// same snapshot seen twice), or when its image size differs from the frames held.
    pub fn push(&mut self, sweep: usize, summary: &ImageSummary) -> bool {
        if summary.index != self.digit {
            return false;
        }
        if let Some(last) = self.frames.back()
            && (sweep <= last.sweep || last.image.len() != summary.current.len())
        {
            return false;
        }
        if self.frames.len() == self.capacity {
            self.frames.pop_front();
        }
        self.frames.push_back(Frame {
            sweep,
            image: summary.current.clone(),
        });
        true
    }

    /// Forgets every frame (after the chain restarts).
    pub fn clear(&mut self) {
        self.frames.clear();
    }

    /// The digit shown.
    pub fn digit(&self) -> usize {
        self.digit
    }

    /// Number of frames held.
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    /// True when no frame is held.
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// Frame `k`, oldest first.
    pub fn frame(&self, k: usize) -> Option<&Frame> {
        self.frames.get(k)
    }

    /// The frame to show `seconds` after playback started at `frames_per_second`, looping
    /// (None when empty or the speed is not a positive finite number).
    pub fn frame_at(&self, seconds: f64, frames_per_second: f64) -> Option<&Frame> {
        if self.frames.is_empty()
            || !(frames_per_second.is_finite() && frames_per_second > 0.0)
            || !seconds.is_finite()
        {
            return None;
        }
        let k = (seconds.max(0.0) * frames_per_second).floor() as u64;
        self.frames.get((k % self.frames.len() as u64) as usize)
    }

    /// Pixelwise mean and sample standard deviation over the frames held (std 0 with one
    /// frame), in f64 sums: the posterior mean and std as these draws estimate them.
    pub fn mean_std(&self) -> Option<(Vec<f32>, Vec<f32>)> {
        let first = self.frames.front()?;
        let (k, d) = (self.frames.len() as f64, first.image.len());
        let mut mean = vec![0.0f64; d];
        for f in &self.frames {
            for (m, &v) in mean.iter_mut().zip(&f.image) {
                *m += v as f64;
            }
        }
        mean.iter_mut().for_each(|m| *m /= k);
        let mut ss = vec![0.0f64; d];
        for f in &self.frames {
            for ((s, &v), m) in ss.iter_mut().zip(&f.image).zip(&mean) {
                *s += (v as f64 - m).powi(2);
            }
        }
        let std = ss
            .iter()
            .map(|s| {
                if k > 1.0 {
                    (s / (k - 1.0)).sqrt() as f32
                } else {
                    0.0
                }
            })
            .collect();
        Some((mean.iter().map(|&m| m as f32).collect(), std))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lesson::test_problem::tiny_problem;
    use crate::model::{GibbsSampler, SamplerSettings};

    #[test]
    fn a_flipbook_holds_the_last_draws_and_matches_the_posterior_moments() {
        let problem = tiny_problem(30, 25, 4);
        let mut settings = SamplerSettings {
            sweeps: 40,
            burn_in: 10,
            ..SamplerSettings::default()
        };
        settings.hyper.m = 3;
        let mut sampler = GibbsSampler::new(&problem, &settings).unwrap();
        let digit = 7;
        let mut book = Flipbook::new(digit, 30).unwrap();
        for _ in 0..40 {
            let sweep = sampler.sweep().iter;
            let summary = sampler.image_summary(digit).unwrap();
            assert!(book.push(sweep, &summary));
            assert!(!book.push(sweep, &summary), "the same sweep twice");
            assert!(!book.push(sweep + 1, &sampler.image_summary(3).unwrap()));
        }
        // The newest 30 frames: sweeps 11..=40, exactly the draws in the running moments.
        assert_eq!(book.len(), 30);
        assert_eq!(book.frame(0).unwrap().sweep, 11);
        assert_eq!(book.frame(29).unwrap().sweep, 40);
        let summary = sampler.image_summary(digit).unwrap();
        assert_eq!(book.frame(29).unwrap().image, summary.current);
        let (mean, std) = book.mean_std().unwrap();
        let missing = &problem.missing[digit * 25..(digit + 1) * 25];
        assert!(missing.iter().any(|&m| m));
        for j in 0..25 {
            assert!(mean[j].is_finite() && std[j].is_finite());
            if missing[j] {
                assert!(std[j] > 0.0);
                let scale = summary.posterior_std[j].max(1.0);
                assert!(
                    (mean[j] - summary.posterior_mean[j]).abs() < 1e-3 * scale,
                    "{j}"
                );
                assert!(
                    (std[j] - summary.posterior_std[j]).abs() < 1e-3 * scale,
                    "{j}"
                );
            } else {
                // Observed pixels never move.
                assert_eq!(std[j], 0.0);
                assert_eq!(mean[j], summary.current[j]);
            }
        }
    }

    #[test]
    fn playback_loops_at_the_set_speed() {
        let mut book = Flipbook::new(0, 3).unwrap();
        assert!(book.frame_at(0.0, 5.0).is_none());
        for sweep in 1..=5 {
            let s = ImageSummary {
                index: 0,
                current: vec![sweep as f32; 4],
                posterior_mean: vec![0.0; 4],
                posterior_std: vec![0.0; 4],
                rmse: None,
            };
            book.push(sweep, &s);
        }
        // Frames of sweeps 3, 4, 5; at 2 frames a second, second 1.6 is frame 3 = frame 0.
        let at = |t: f64| book.frame_at(t, 2.0).unwrap().sweep;
        assert_eq!((at(0.0), at(0.5), at(1.0), at(1.6)), (3, 4, 5, 3));
        assert!(book.frame_at(1.0, 0.0).is_none());
        assert!(book.frame_at(f64::NAN, 1.0).is_none());
        book.clear();
        assert!(book.is_empty() && book.mean_std().is_none());
        assert!(Flipbook::new(0, 0).is_err());
    }
}
