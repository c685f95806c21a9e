//! Masks of missing pixels (true = missing): the line, circle and speckle generators of
//! SPEC section 2, the notebook's mix, masks read from files and painted masks.

mod file;
mod generate;
mod paint;
mod params;

pub use file::{masks_from_idx, read_mask_file, write_mask_file};
pub use generate::{MAX_MASK_PIXELS, MaskShape, check_size, generate, generate_one, shapes_for};
pub use paint::{masked_display, paint_stroke};
pub use params::{MAX_DF, MAX_LENGTH, MaskKind, MaskParams};

/// Why a mask could not be made, read or painted.
#[derive(Debug, thiserror::Error)]
pub enum MaskError {
    #[error("mask setting {name} = {value} {reason} (allowed up to {max})")]
    InvalidParam {
        name: &'static str,
        value: f64,
        reason: &'static str,
        max: f64,
    },
    #[error("unknown mask kind {0:?} (expected mix, line, circle or speckle)")]
    UnknownKind(String),
    #[error("an image must have at least one pixel (got {height} x {width})")]
    EmptyImage { height: usize, width: usize },
    #[error("{n} masks of {height} x {width} pixels are too many")]
    TooLarge {
        n: usize,
        height: usize,
        width: usize,
    },
    #[error("expected {expected} mask values, got {got}")]
    LengthMismatch { expected: usize, got: usize },
    #[error(
        "a mask file of dimensions {dims:?} does not fit {n} images of {height} x {width} \
         (expected K x {height} x {width} with K >= {n}, or one {height} x {width} mask)"
    )]
    FileShape {
        dims: Vec<usize>,
        n: usize,
        height: usize,
        width: usize,
    },
    #[error("the mask file holds {found} masks but {n} images need masks")]
    TooFewMasks { found: usize, n: usize },
    #[error("the mask file has a NaN at element {index}")]
    NonFiniteMask { index: usize },
    #[error(transparent)]
    File(#[from] crate::data::DataError),
}

/// An N x D boolean matrix, row-major: `missing[i*d + j]` is true when pixel j of image i
/// is hidden from the sampler.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MaskSet {
    pub n: usize,
    pub height: usize,
    pub width: usize,
    pub missing: Vec<bool>,
}

impl MaskSet {
    /// N masks with nothing missing: the blank canvas for hand-drawn masks.
    pub fn none_missing(n: usize, height: usize, width: usize) -> Result<MaskSet, MaskError> {
        let total = check_size(n, height, width)?;
        Ok(MaskSet {
            n,
            height,
            width,
            missing: vec![false; total],
        })
    }

    /// Wraps a row-major N x (H W) vector after checking its length.
    pub fn from_vec(
        n: usize,
        height: usize,
        width: usize,
        missing: Vec<bool>,
    ) -> Result<MaskSet, MaskError> {
        let total = check_size(n, height, width)?;
        if missing.len() != total {
            return Err(MaskError::LengthMismatch {
                expected: total,
                got: missing.len(),
            });
        }
        Ok(MaskSet {
            n,
            height,
            width,
            missing,
        })
    }

    /// Pixels per image (D).
    pub fn d(&self) -> usize {
        self.height * self.width
    }

    /// The mask of image `i`.
    pub fn image(&self, i: usize) -> &[bool] {
        let d = self.d();
        &self.missing[i * d..(i + 1) * d]
    }

    /// The mask of image `i`, for painting.
    pub fn image_mut(&mut self, i: usize) -> &mut [bool] {
        let d = self.d();
        &mut self.missing[i * d..(i + 1) * d]
    }

    /// Fraction of all pixels that are missing (0 for an empty set).
    pub fn missing_fraction(&self) -> f64 {
        if self.missing.is_empty() {
            return 0.0;
        }
        self.missing.iter().filter(|&&m| m).count() as f64 / self.missing.len() as f64
    }
}
