//! Reproducible random streams: every step of every sweep splits its draws into fixed-size
//! chunks, each with its own generator seeded from (master seed, sweep, step, chunk), so the
//! same seed gives the same numbers on any number of threads.

use super::par::for_each_chunk_mut;
use rand::SeedableRng;
use rand::rngs::SmallRng;

/// Number of values drawn by one generator when a buffer is filled in parallel.
pub const CHUNK: usize = 4096;

/// The steps that draw random numbers, each with its own stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Init = 1,
    InitW = 8,
    Z = 2,
    W = 3,
    Mu = 4,
    Sigmasq = 5,
    XMissing = 6,
    Blocked = 7,
    Recentre = 9,
}

/// The random stream of one step of one sweep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StepRng {
    seed: u64,
    sweep: u64,
    step: Step,
}

impl StepRng {
    /// The stream of `step` in sweep `sweep` (0 for the initialisation) under `seed`.
    pub fn new(seed: u64, sweep: u64, step: Step) -> Self {
        StepRng { seed, sweep, step }
    }

    /// The generator of chunk `index` of this step.
    pub fn chunk(&self, index: u64) -> SmallRng {
        let mut h = splitmix64(self.seed);
        h = splitmix64(h ^ self.sweep);
        h = splitmix64(h ^ self.step as u64);
        h = splitmix64(h ^ index);
        SmallRng::seed_from_u64(h)
    }

    /// Fills `buf` with independent N(0, 1) draws, in parallel chunks of [`CHUNK`] values.
    pub fn fill_standard_normal(&self, buf: &mut [f32]) {
        for_each_chunk_mut(buf, CHUNK, |c, chunk| {
            super::normals::fill(&mut self.chunk(c as u64), chunk);
        });
    }
}

/// SplitMix64 finaliser: decorrelates nearby seeds.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
