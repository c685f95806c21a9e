//! The notebook's protocol: take the first N images and add independent N(0, std^2) noise to
//! every pixel, giving `X_true`, the matrix kept for validation.

use rand::prelude::*;
use rand_distr::StandardNormal;
use rayon::prelude::*;

use super::{DataError, Dataset};

/// Values per generator in [`add_noise`]: each chunk has its own generator derived from the seed
/// and the chunk's index, so the result does not depend on how rayon schedules the chunks.
const NOISE_CHUNK: usize = 1 << 14;

/// The first `n` images (and their labels) of `data`.
///
/// Rule: `n == 0` and `n > data.n` are errors, never silently clamped, so a requested size is
/// always the size used; callers wanting "up to n" pass `n.min(data.n)`.
pub fn first_n(data: &Dataset, n: usize) -> Result<Dataset, DataError> {
    if n == 0 {
        return Err(DataError::InvalidArgument(
            "the number of images must be at least 1".into(),
        ));
    }
    if n > data.n {
        return Err(DataError::InvalidArgument(format!(
            "asked for {n} images but the dataset has only {}",
            data.n
        )));
    }
    let d = data.d();
    let pixels = data
        .pixels
        .get(..n * d)
        .ok_or_else(|| {
            DataError::InvalidArgument(format!(
                "dataset holds {} values, fewer than {} images of {d} pixels",
                data.pixels.len(),
                data.n
            ))
        })?
        .to_vec();
    let labels = data
        .labels
        .as_ref()
        .and_then(|l| l.get(..n))
        .map(<[u8]>::to_vec);
    Ok(Dataset {
        n,
        height: data.height,
        width: data.width,
        pixels,
        labels,
        origin: data.origin.clone(),
    })
}

/// `values` plus independent N(0, std^2) noise, reproducible for a seed whatever the number of
/// threads. `std == 0` returns a copy; a negative, NaN or infinite `std` is an error.
pub fn add_noise(values: &[f32], std: f32, seed: u64) -> Result<Vec<f32>, DataError> {
    if !std.is_finite() || std < 0.0 {
        return Err(DataError::InvalidArgument(format!(
            "the noise standard deviation must be a finite number >= 0, got {std}"
        )));
    }
    let mut out = values.to_vec();
    if std == 0.0 {
        return Ok(out);
    }
    out.par_chunks_mut(NOISE_CHUNK)
        .enumerate()
        .for_each(|(chunk, block)| {
            let mut rng = SmallRng::seed_from_u64(stream_seed(seed, chunk as u64));
            for v in block {
                let z: f32 = rng.sample(StandardNormal);
                *v += std * z;
            }
        });
    Ok(out)
}

/// A well-mixed seed for sub-stream `index` of `seed` (SplitMix64 finaliser), so neighbouring
/// indices give unrelated generators.
pub fn stream_seed(seed: u64, index: u64) -> u64 {
    let mut z = seed ^ index.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::DataOrigin;

    fn tiny(n: usize) -> Dataset {
        Dataset {
            n,
            height: 2,
            width: 2,
            pixels: (0..n * 4).map(|v| v as f32).collect(),
            labels: Some((0..n as u8).collect()),
            origin: DataOrigin::Synthetic,
        }
    }

    #[test]
    fn first_n_takes_a_prefix_with_labels() {
        let d = first_n(&tiny(5), 2).unwrap();
        assert_eq!(d.n, 2);
        assert_eq!(d.pixels, vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]);
        assert_eq!(d.labels, Some(vec![0, 1]));
        assert_eq!(first_n(&tiny(5), 5).unwrap(), tiny(5));
    }

    #[test]
    fn first_n_rejects_zero_and_too_many() {
        assert!(matches!(
            first_n(&tiny(3), 0),
            Err(DataError::InvalidArgument(_))
        ));
        let err = first_n(&tiny(3), 4).unwrap_err().to_string();
        assert!(err.contains("only 3"), "{err}");
    }

    #[test]
    fn noise_is_seeded_and_has_the_requested_spread() {
        let x = vec![10.0f32; 200_000];
        let a = add_noise(&x, 3.0, 7).unwrap();
        let b = add_noise(&x, 3.0, 7).unwrap();
        let c = add_noise(&x, 3.0, 8).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        let n = a.len() as f64;
        let mean = a.iter().map(|&v| f64::from(v) - 10.0).sum::<f64>() / n;
        let var = a
            .iter()
            .map(|&v| (f64::from(v) - 10.0 - mean).powi(2))
            .sum::<f64>()
            / n;
        // Standard errors: mean 3/sqrt(n) = 0.0067; variance 9*sqrt(2/n) = 0.028. Allow 5 SE.
        assert!(mean.abs() < 5.0 * 3.0 / n.sqrt(), "mean {mean}");
        assert!(
            (var - 9.0).abs() < 5.0 * 9.0 * (2.0 / n).sqrt(),
            "var {var}"
        );
    }

    #[test]
    fn noise_does_not_depend_on_thread_count() {
        let x: Vec<f32> = (0..100_000).map(|v| v as f32).collect();
        let (a, b) = crate::data::on_one_and_two_threads(|| add_noise(&x, 3.0, 42).unwrap());
        assert_eq!(a, b);
    }

    #[test]
    fn noise_level_is_validated() {
        assert_eq!(add_noise(&[1.0, 2.0], 0.0, 1).unwrap(), vec![1.0, 2.0]);
        for bad in [-1.0, f32::NAN, f32::INFINITY] {
            assert!(matches!(
                add_noise(&[1.0], bad, 1),
                Err(DataError::InvalidArgument(_))
            ));
        }
    }
}
