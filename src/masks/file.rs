//! Masks stored in IDX files (the MNIST format): nonzero = missing.
//!
//! Accepted layouts, for N images of H x W:
//! - `K x H x W` or `K x (H W)` with K >= N: the first N masks are used (a mask file made for
//!   the full 10,000 images also serves `--n 1000`);
//! - `H x W`, `1 x H x W` or `1 x (H W)`: one mask applied to every image.
//!
//! Anything else, fewer than N masks, or a NaN in a float file, is an error.

use super::{MaskError, MaskSet, check_size};
use crate::data::idx::{IdxArray, read_idx_array, write_idx_u8};
use std::path::Path;

/// Reads masks for `n` images of `height` x `width` from an IDX file (gzipped or raw).
pub fn read_mask_file(
    path: &Path,
    n: usize,
    height: usize,
    width: usize,
) -> Result<MaskSet, MaskError> {
    let array = read_idx_array(path)?;
    masks_from_idx(&array, n, height, width)
}

/// Writes masks as a `N x H x W` u8 IDX file of 0 (observed) and 1 (missing).
pub fn write_mask_file(path: &Path, masks: &MaskSet) -> Result<(), MaskError> {
    let values: Vec<u8> = masks.missing.iter().map(|&m| u8::from(m)).collect();
    write_idx_u8(path, &[masks.n, masks.height, masks.width], &values)?;
    Ok(())
}

/// Masks for `n` images of `height` x `width` from an IDX array (layouts in the module docs).
pub fn masks_from_idx(
    array: &IdxArray,
    n: usize,
    height: usize,
    width: usize,
) -> Result<MaskSet, MaskError> {
    let total = check_size(n, height, width)?;
    let d = height * width;
    let shape_error = || MaskError::FileShape {
        dims: array.dims.clone(),
        n,
        height,
        width,
    };
    let count = match array.dims.as_slice() {
        [h, w] if (*h, *w) == (height, width) => 1,
        [k, h, w] if (*h, *w) == (height, width) => *k,
        [k, dd] if *dd == d => *k,
        _ => return Err(shape_error()),
    };
    let values = array.to_f64();
    if count.checked_mul(d) != Some(values.len()) {
        return Err(shape_error());
    }
    if let Some(index) = values.iter().position(|v| v.is_nan()) {
        return Err(MaskError::NonFiniteMask { index });
    }
    let missing: Vec<bool> = if count == 1 {
        values
            .iter()
            .map(|&v| v != 0.0)
            .cycle()
            .take(total)
            .collect()
    } else if count >= n {
        values[..total].iter().map(|&v| v != 0.0).collect()
    } else {
        return Err(MaskError::TooFewMasks { found: count, n });
    };
    MaskSet::from_vec(n, height, width, missing)
}
