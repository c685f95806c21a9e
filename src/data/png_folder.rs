//! A folder of PNG images of one size, one image per file, taken in file-name order.
//! Colour images are converted to luma; values are 0..255 like MNIST (16-bit PNGs are scaled
//! down). MNIST digits are light on dark: dark-on-light scans need inverting by the user.

use std::path::{Path, PathBuf};

use super::{DataError, DataOrigin, Dataset};

/// The `.png` files directly inside `folder` (case-insensitive extension), sorted by name.
pub fn list_pngs(folder: &Path) -> Result<Vec<PathBuf>, DataError> {
    let entries =
        std::fs::read_dir(folder).map_err(|e| DataError::io(folder, "listing the folder", e))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| DataError::io(folder, "listing the folder", e))?
            .path();
        let is_png = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("png"));
        if is_png && path.is_file() {
            files.push(path);
        }
    }
    files.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    Ok(files)
}

/// Reads every PNG of `folder` as one dataset; errors when the folder has no PNG or when the
/// images differ in size.
pub fn read_png_folder(folder: &Path) -> Result<Dataset, DataError> {
    let files = list_pngs(folder)?;
    if files.is_empty() {
        return Err(DataError::NoImagesInFolder(folder.to_path_buf()));
    }
    let mut size: Option<(u32, u32)> = None;
    let mut pixels = Vec::new();
    for file in &files {
        let luma = read_luma(file)?;
        let (w, h) = luma.dimensions();
        let (expected_w, expected_h) = *size.get_or_insert((w, h));
        if (w, h) != (expected_w, expected_h) {
            return Err(DataError::PngSizeMismatch {
                path: file.clone(),
                expected_w,
                expected_h,
                found_w: w,
                found_h: h,
            });
        }
        pixels.extend(luma.as_raw().iter().map(|&v| f32::from(v)));
    }
    let (w, h) = size.unwrap_or((0, 0));
    Ok(Dataset {
        n: files.len(),
        height: h as usize,
        width: w as usize,
        pixels,
        labels: None,
        origin: DataOrigin::File(folder.to_path_buf()),
    })
}

/// Largest ratio of decoded pixel bytes to PNG file size accepted (deflate's limit is ~1032).
const MAX_PNG_EXPANSION: u64 = 1100;

fn read_luma(file: &Path) -> Result<image::GrayImage, DataError> {
    let png_err = |detail: String| DataError::Png {
        path: file.to_path_buf(),
        detail,
    };
    let file_len = std::fs::metadata(file)
        .map_err(|e| DataError::io(file, "reading", e))?
        .len();
    let reader = image::ImageReader::open(file).map_err(|e| DataError::io(file, "opening", e))?;
    let mut reader = reader
        .with_guessed_format()
        .map_err(|e| DataError::io(file, "reading", e))?;
    // A PNG header may claim any size; the decoder allocates what it claims before reading
    // the data. Deflate expands at most ~1032:1, so a real image's pixels fit in 1100 times
    // the file's size: refuse to allocate more (found by fuzzing: a 69-byte file claiming
    // 20000 x 20000 pixels made the reader allocate 400 MB).
    let mut limits = image::Limits::default();
    let justified = file_len
        .saturating_mul(MAX_PNG_EXPANSION)
        .saturating_add(64 * 1024);
    limits.max_alloc = Some(limits.max_alloc.map_or(justified, |m| m.min(justified)));
    reader.limits(limits);
    let img = reader.decode().map_err(|e| png_err(e.to_string()))?;
    if img.width() == 0 || img.height() == 0 {
        return Err(png_err("image has no pixels".into()));
    }
    Ok(img.to_luma8())
}
