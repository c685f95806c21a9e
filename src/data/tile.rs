//! More images than a data set holds: the first n images unchanged, then copies of image
//! `i mod n` shifted by a random whole number of pixels (dx, dy) in [-2, 2]^2, never (0, 0),
//! with the vacated border set to 0 (the background). This is how the 10,000 MNIST test
//! digits become N = 60,000 without any new data file.
//!
//! Copy `i` draws its shift from its own generator, seeded from the seed and `i` by
//! [`stream_seed`], so the result does not depend on the number of threads. The N x D output
//! is allocated once and written in place (no intermediate copies).
//!
//! Threads: [`tile_with_shifts`] runs on the caller's thread and rayon's pool and blocks until
//! all N images are written (about a pass over N x D floats); call it off the UI thread.

use rand::prelude::*;
use rayon::prelude::*;
use serde::Serialize;

use super::{DataError, Dataset, first_n, stream_seed};

/// Largest shift, in pixels, along each axis.
pub const MAX_SHIFT: i32 = 2;

/// Most images [`tile_with_shifts`] makes (about 3 GB of f32 for 28 x 28 images), as for the
/// synthetic digits.
pub const MAX_TILED_IMAGES: usize = 1_000_000;

/// Mixed into the seed so the shifts are not correlated with the noise or the masks drawn
/// from the same seed.
const TILE_STREAMS: u64 = 0x7469_6c65_7368_6966;

/// What [`tile_with_shifts`] did, for the run's summary and the app's note.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Tiling {
    /// Images in the data set the copies were made from.
    pub source_images: usize,
    /// Shifted copies appended after them (N - source_images).
    pub copies: usize,
    /// Largest shift along each axis, in pixels.
    pub max_shift: i32,
    /// Seed of the shifts.
    pub seed: u64,
}

/// The shift (dx, dy) of image `index` (columns right, rows down) for `seed`: uniform over the
/// 24 shifts in [-2, 2]^2 other than (0, 0).
pub fn shift_of(seed: u64, index: usize) -> (i32, i32) {
    let side = 2 * MAX_SHIFT + 1;
    let choices = side * side - 1;
    let mut rng = SmallRng::seed_from_u64(stream_seed(seed ^ TILE_STREAMS, index as u64));
    let mut k = rng.random_range(0..choices);
    // Skip the centre, (0, 0).
    if k >= choices / 2 {
        k += 1;
    }
    (k % side - MAX_SHIFT, k / side - MAX_SHIFT)
}

/// `n` images: the first `data.n` (or the first `n`, when `n <= data.n`) unchanged, then copies
/// of image `i mod data.n` shifted by [`shift_of`]`(seed, i)`, border filled with 0. Labels are
/// carried along. Errors: `n == 0`, an empty data set, `n` above [`MAX_TILED_IMAGES`], or pixels
/// that do not fill `data.n` images.
pub fn tile_with_shifts(
    data: &Dataset,
    n: usize,
    seed: u64,
) -> Result<(Dataset, Tiling), DataError> {
    if n > MAX_TILED_IMAGES {
        return Err(DataError::TooManyImages {
            asked: n,
            limit: MAX_TILED_IMAGES,
        });
    }
    let source_images = data.n;
    if n <= source_images {
        let tiling = Tiling {
            source_images,
            copies: 0,
            max_shift: MAX_SHIFT,
            seed,
        };
        return Ok((first_n(data, n)?, tiling));
    }
    let d = data.d();
    if source_images == 0 || d == 0 {
        return Err(DataError::InvalidArgument(
            "cannot fill with shifted copies: the data set holds no images".into(),
        ));
    }
    let source = data.pixels.get(..source_images * d).ok_or_else(|| {
        DataError::InvalidArgument(format!(
            "data set holds {} values, fewer than {source_images} images of {d} pixels",
            data.pixels.len()
        ))
    })?;
    let mut pixels = vec![0f32; n * d];
    let (head, tail) = pixels.split_at_mut(source_images * d);
    head.copy_from_slice(source);
    let (height, width) = (data.height, data.width);
    tail.par_chunks_mut(d).enumerate().for_each(|(k, out)| {
        let i = source_images + k;
        let from = &source[(i % source_images) * d..][..d];
        shift_into(from, out, height, width, shift_of(seed, i));
    });
    let labels = data
        .labels
        .as_ref()
        .filter(|l| l.len() >= source_images)
        .map(|l| (0..n).map(|i| l[i % source_images]).collect());
    let tiled = Dataset {
        n,
        height,
        width,
        pixels,
        labels,
        origin: data.origin.clone(),
    };
    let tiling = Tiling {
        source_images,
        copies: n - source_images,
        max_shift: MAX_SHIFT,
        seed,
    };
    Ok((tiled, tiling))
}

/// Writes `from` shifted by (dx, dy) into `out` (both `height * width`, row-major); pixels
/// shifted in from outside are 0. `out` must start zeroed.
fn shift_into(from: &[f32], out: &mut [f32], height: usize, width: usize, (dx, dy): (i32, i32)) {
    let (dx, dy) = (dx as isize, dy as isize);
    let (h, w) = (height as isize, width as isize);
    // Output columns whose source column c - dx lies inside the image.
    let c0 = dx.clamp(0, w);
    let c1 = (w + dx).clamp(0, w);
    if c0 >= c1 {
        return;
    }
    for r in 0..h {
        let src_r = r - dy;
        if !(0..h).contains(&src_r) {
            continue;
        }
        let dst = (r * w) as usize;
        let src = (src_r * w) as usize;
        out[dst + c0 as usize..dst + c1 as usize]
            .copy_from_slice(&from[src + (c0 - dx) as usize..src + (c1 - dx) as usize]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::DataOrigin;

    /// `n` images of 6 x 7 whose pixels are all distinct and nonzero, so a shift can be read
    /// back from any copy.
    fn distinct(n: usize) -> Dataset {
        Dataset {
            n,
            height: 6,
            width: 7,
            pixels: (0..n * 42).map(|v| (v + 1) as f32).collect(),
            labels: Some((0..n).map(|i| (i % 10) as u8).collect()),
            origin: DataOrigin::Synthetic,
        }
    }

    /// `src` shifted by (dx, dy), written naively pixel by pixel.
    fn shifted(src: &[f32], h: usize, w: usize, dx: i32, dy: i32) -> Vec<f32> {
        let mut out = vec![0f32; h * w];
        for r in 0..h as i32 {
            for c in 0..w as i32 {
                let (sr, sc) = (r - dy, c - dx);
                if (0..h as i32).contains(&sr) && (0..w as i32).contains(&sc) {
                    out[(r * w as i32 + c) as usize] = src[(sr * w as i32 + sc) as usize];
                }
            }
        }
        out
    }

    #[test]
    fn the_originals_come_first_then_shifted_copies() {
        let data = distinct(5);
        let (tiled, tiling) = tile_with_shifts(&data, 23, 9).unwrap();
        assert_eq!((tiled.n, tiled.height, tiled.width), (23, 6, 7));
        assert_eq!(tiled.pixels.len(), 23 * 42);
        assert_eq!(&tiled.pixels[..5 * 42], data.pixels.as_slice());
        assert_eq!(
            tiling,
            Tiling {
                source_images: 5,
                copies: 18,
                max_shift: 2,
                seed: 9
            }
        );
        let labels = tiled.labels.as_ref().unwrap();
        let mut seen = std::collections::HashSet::new();
        for i in 5..23 {
            let src = data.image(i % 5);
            let copy = tiled.image(i);
            // Recover the shift from the copy alone: exactly one allowed shift matches.
            let matches: Vec<(i32, i32)> = (-2..=2)
                .flat_map(|dy| (-2..=2).map(move |dx| (dx, dy)))
                .filter(|&(dx, dy)| shifted(src, 6, 7, dx, dy) == copy)
                .collect();
            assert_eq!(matches.len(), 1, "image {i}: shifts matching {matches:?}");
            let (dx, dy) = matches[0];
            assert_ne!((dx, dy), (0, 0), "image {i} is an unshifted copy");
            assert_eq!((dx, dy), shift_of(9, i));
            seen.insert((dx, dy));
            assert_eq!(labels[i], labels[i % 5]);
        }
        assert!(seen.len() > 5, "shifts barely vary: {seen:?}");
    }

    #[test]
    fn shifts_cover_the_24_nonzero_offsets_evenly() {
        let mut counts = std::collections::HashMap::new();
        let draws = 24_000;
        for i in 0..draws {
            let (dx, dy) = shift_of(305, i);
            assert!(dx.abs() <= 2 && dy.abs() <= 2 && (dx, dy) != (0, 0));
            *counts.entry((dx, dy)).or_insert(0usize) += 1;
        }
        assert_eq!(counts.len(), 24);
        // Each has expectation 1000 and sd ~31: allow 5 sd.
        for (shift, &c) in &counts {
            assert!((845..=1155).contains(&c), "{shift:?} drawn {c} times");
        }
    }

    #[test]
    fn same_seed_same_images_on_any_thread_count() {
        let data = distinct(4);
        let (a, b) =
            crate::data::on_one_and_two_threads(|| tile_with_shifts(&data, 40, 7).unwrap());
        assert_eq!(a, b);
        let c = tile_with_shifts(&data, 40, 8).unwrap();
        assert_ne!(a.0.pixels, c.0.pixels, "another seed, other shifts");
    }

    #[test]
    fn at_most_n_images_is_a_prefix() {
        let data = distinct(5);
        let (prefix, tiling) = tile_with_shifts(&data, 3, 1).unwrap();
        assert_eq!(prefix, first_n(&data, 3).unwrap());
        assert_eq!(tiling.copies, 0);
        assert_eq!(tile_with_shifts(&data, 5, 1).unwrap().0, data);
    }

    #[test]
    fn bad_counts_are_errors() {
        let data = distinct(3);
        assert!(matches!(
            tile_with_shifts(&data, 0, 1),
            Err(DataError::InvalidArgument(_))
        ));
        let err = tile_with_shifts(&data, MAX_TILED_IMAGES + 1, 1).unwrap_err();
        assert!(
            matches!(err, DataError::TooManyImages { asked, limit }
                if asked == MAX_TILED_IMAGES + 1 && limit == MAX_TILED_IMAGES),
            "{err}"
        );
        assert!(err.to_string().contains("1000000"), "{err}");
        let empty = Dataset {
            n: 0,
            pixels: Vec::new(),
            labels: None,
            ..distinct(1)
        };
        assert!(tile_with_shifts(&empty, 10, 1).is_err());
        let short = Dataset {
            pixels: vec![1.0; 50],
            ..distinct(3)
        };
        assert!(tile_with_shifts(&short, 10, 1).is_err());
    }

    #[test]
    fn tiny_images_shift_to_background_without_panicking() {
        let data = Dataset {
            n: 1,
            height: 1,
            width: 2,
            pixels: vec![5.0, 6.0],
            labels: None,
            origin: DataOrigin::Synthetic,
        };
        let (tiled, _) = tile_with_shifts(&data, 30, 3).unwrap();
        for i in 1..30 {
            let (dx, dy) = shift_of(3, i);
            assert_eq!(
                tiled.image(i),
                shifted(&data.pixels, 1, 2, dx, dy).as_slice()
            );
        }
        assert!(tiled.labels.is_none());
    }
}
