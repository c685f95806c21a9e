//! Datasets of grayscale images: readers (IDX, CSV, PNG folders), finding and downloading
//! MNIST, the built-in synthetic digits, and the notebook's noise protocol.
//!
//! Entry points: [`load_path`] (any supported file or folder), [`locate`] (where MNIST is),
//! [`download`] (fetch MNIST into the cache), [`synthetic`] (offline digits), [`first_n`] and
//! [`add_noise`] (the protocol), [`tile`] (more images than the data holds, as shifted copies). Every failure is a [`DataError`] naming the file.

pub mod csv;
pub mod download;
mod error;
pub mod idx;
pub mod locate;
mod noise;
pub mod png_folder;
pub mod synthetic;
pub mod tile;

use std::path::Path;

pub use error::DataError;
pub use locate::{DataSource, load_path};
pub use noise::{add_noise, first_n, stream_seed};
pub use tile::{Tiling, tile_with_shifts};

/// N grayscale images of `height` x `width` pixels, row-major, f32 (MNIST scale 0..255).
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// Number of images.
    pub n: usize,
    pub height: usize,
    pub width: usize,
    /// `n * height * width` values; image `i` is `pixels[i*d..(i+1)*d]`, row-major.
    pub pixels: Vec<f32>,
    /// One label per image when the source has them (MNIST labels, synthetic digits).
    pub labels: Option<Vec<u8>>,
    /// Where the images came from, for display ("MNIST test set", "built-in synthetic digits").
    pub origin: DataOrigin,
}

/// Where a dataset came from; shown to the user so synthetic data is never mistaken for MNIST.
#[derive(Clone, Debug, PartialEq)]
pub enum DataOrigin {
    /// MNIST images found at this path.
    Mnist(std::path::PathBuf),
    /// A user file or folder (IDX, CSV, PNG folder).
    File(std::path::PathBuf),
    /// The built-in generator of handwritten-looking digits.
    Synthetic,
}

impl Dataset {
    /// Pixels per image (D).
    pub fn d(&self) -> usize {
        self.height * self.width
    }

    /// The pixels of image `i`.
    pub fn image(&self, i: usize) -> &[f32] {
        let d = self.d();
        &self.pixels[i * d..(i + 1) * d]
    }
}

/// The (height, width) of images with `d` pixels: the given `shape` when it fits, else 28 x 28
/// for 784, else sqrt(d) x sqrt(d) for a perfect square, else an error asking for a shape.
/// `path` only names the source in the error.
pub fn image_shape(
    path: &Path,
    d: usize,
    shape: Option<(usize, usize)>,
) -> Result<(usize, usize), DataError> {
    if let Some((height, width)) = shape {
        return if height.checked_mul(width) == Some(d) && d > 0 {
            Ok((height, width))
        } else {
            Err(DataError::ShapeMismatch {
                path: path.to_path_buf(),
                height,
                width,
                d,
            })
        };
    }
    if d == 784 {
        return Ok((28, 28));
    }
    let side = d.isqrt();
    if d > 0 && side * side == d {
        Ok((side, side))
    } else {
        Err(DataError::NeedShape {
            path: path.to_path_buf(),
            d,
        })
    }
}

/// Runs `work` in a one-thread and then in a two-thread rayon pool and returns both results,
/// for the tests that a result does not depend on the thread count (on the caller's thread,
/// blocking until both runs are done).
#[cfg(test)]
pub(crate) fn on_one_and_two_threads<T: Send>(work: impl Fn() -> T + Send + Sync) -> (T, T) {
    let pool = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
    };
    (pool(1).install(&work), pool(2).install(&work))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_rule() {
        let p = Path::new("x.csv");
        assert_eq!(image_shape(p, 784, None).unwrap(), (28, 28));
        assert_eq!(image_shape(p, 256, None).unwrap(), (16, 16));
        assert_eq!(image_shape(p, 6, Some((2, 3))).unwrap(), (2, 3));
        assert!(matches!(
            image_shape(p, 6, None),
            Err(DataError::NeedShape { d: 6, .. })
        ));
        assert!(matches!(
            image_shape(p, 6, Some((2, 2))),
            Err(DataError::ShapeMismatch { .. })
        ));
        assert!(image_shape(p, 0, None).is_err());
        let msg = image_shape(p, 10, None).unwrap_err().to_string();
        assert!(msg.contains("--shape HxW"), "{msg}");
    }
}
