//! PNG figures shared by the CLI and the GUI: colour maps, grids of images (digits, masks,
//! factors, principal components), masked | reconstructed pairs, colour bars, titles and line
//! plots (traces, variance explained). Everything renders to an [`image::RgbImage`] first so
//! front ends can show it or save it with [`save_png`].

mod colorbar;
mod colormap;
mod grid;
mod plot;
mod text;

pub use colorbar::{ImageFigure, image_figure, tile_grid_with_colorbar, with_colorbar};
pub use colormap::{Colormap, Scaling, value_range};
pub use grid::{GridStyle, Tile, image_grid, pair_grid, tile_grid};
pub use plot::{LegendPosition, LinePlot, Series, format_tick, format_tick_in};
pub use text::{FONT_FAMILY, titled};

use image::RgbImage;
use std::path::{Path, PathBuf};

/// Largest figure, in pixels, any function here renders (about 100 MB of RGB).
pub const MAX_FIGURE_PIXELS: u64 = 32 << 20;

/// Why a figure could not be rendered or saved.
#[derive(Debug, thiserror::Error)]
pub enum FigureError {
    #[error("image {index} has {got} values, expected {expected} ({height} x {width})")]
    LengthMismatch {
        index: usize,
        expected: usize,
        got: usize,
        height: usize,
        width: usize,
    },
    #[error("a figure needs images of at least one pixel and at least one column")]
    EmptyLayout,
    #[error("the figure would be {width} x {height} pixels, too large to render")]
    TooLarge { width: u64, height: u64 },
    #[error("the built-in font could not be loaded")]
    Font,
    #[error("drawing failed: {0}")]
    Draw(String),
    #[error("could not create folder {path}: {source}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Write(#[from] crate::atomic_write::AtomicWriteError),
    #[error("could not write {path}: {source}")]
    Save {
        path: PathBuf,
        source: image::ImageError,
    },
}

/// Checks a figure size against [`MAX_FIGURE_PIXELS`] and converts it to u32.
pub(crate) fn checked_size(width: u64, height: u64) -> Result<(u32, u32), FigureError> {
    let too_large = FigureError::TooLarge { width, height };
    if width == 0 || height == 0 {
        return Err(FigureError::EmptyLayout);
    }
    if width.saturating_mul(height) > MAX_FIGURE_PIXELS {
        return Err(too_large);
    }
    match (u32::try_from(width), u32::try_from(height)) {
        (Ok(w), Ok(h)) => Ok((w, h)),
        _ => Err(too_large),
    }
}

/// Writes `image` as a PNG, creating the parent folder when needed.
pub fn save_png(image: &RgbImage, path: &Path) -> Result<(), FigureError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|source| FigureError::CreateDir {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    // Encoded straight into a temporary file that is renamed when complete (atomic_write).
    crate::atomic_write::write_with(path, |w| {
        image
            .write_to(w, image::ImageFormat::Png)
            .map_err(std::io::Error::other)
    })?;
    Ok(())
}
