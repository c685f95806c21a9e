//! `gibbs-fa data`: load a dataset, apply the notebook's noise and masks, and write PNGs of
//! the masks, the digits, the principal components of masked and true data, and their
//! cumulative variance explained (SPEC sections 1 to 3).

use anyhow::{Context, bail};
use gibbs_fa::data::locate::{describe_search, find_data};
use gibbs_fa::data::{DataOrigin, Dataset, add_noise, first_n};
use gibbs_fa::figures::{
    Colormap, GridStyle, LegendPosition, LinePlot, Scaling, Tile, image_grid, save_png, tile_grid,
    titled,
};
use gibbs_fa::masks::{MaskKind, MaskParams, MaskSet, generate, masked_display, read_mask_file};
use gibbs_fa::pca::Pca;
use std::path::{Path, PathBuf};

/// Images shown in each 5 x 5 grid.
const GRID: usize = 25;

#[derive(clap::Args, Debug)]
pub struct DataArgs {
    /// Dataset: a folder holding MNIST, an IDX file (gzipped or raw), a CSV file or a folder
    /// of PNGs. Without it: $GIBBS_FA_DATA, then the cache folder, then synthetic digits.
    #[arg(long, value_name = "PATH")]
    pub data: Option<PathBuf>,
    /// Number of images to take from the start of the dataset.
    #[arg(long, default_value_t = 10_000)]
    pub n: usize,
    /// Folder for the PNG files (created if needed).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Standard deviation of the Gaussian noise added to every pixel.
    #[arg(long, default_value_t = 3.0)]
    pub noise_std: f32,
    /// Seed of the noise, the masks and the synthetic digits.
    #[arg(long, default_value_t = 305)]
    pub seed: u64,
    /// Mask generator: mix, line, circle or speckle.
    #[arg(long, default_value_t = MaskKind::Mix)]
    pub mask: MaskKind,
    /// Read masks from an IDX file instead (nonzero = missing; N x H x W with at least N
    /// masks, or one H x W mask for every image).
    #[arg(long, value_name = "PATH", conflicts_with = "mask")]
    pub mask_file: Option<PathBuf>,
    /// Line masks: pixels closer than this to the line are missing.
    #[arg(long, default_value_t = 2.0)]
    pub line_width: f64,
    /// Circle masks: mean radius (pixels).
    #[arg(long, default_value_t = 3.0)]
    pub circle_mean_radius: f64,
    /// Circle masks: degrees of freedom of the radius distribution.
    #[arg(long, default_value_t = 7.0)]
    pub circle_df: f64,
    /// Circle masks: standard deviation of the centre around the image centre (pixels).
    #[arg(long, default_value_t = 3.0)]
    pub circle_centre_std: f64,
    /// Speckle masks: probability that a pixel is missing.
    #[arg(long, default_value_t = 0.1)]
    pub speckle_p: f64,
    /// Image shape HxW, for CSV or 2-D IDX files whose pixel count is not 784 or a square.
    #[arg(long, value_name = "HxW", value_parser = super::parse_shape)]
    pub shape: Option<(usize, usize)>,
}

pub fn run(args: DataArgs) -> anyhow::Result<()> {
    let params = MaskParams {
        kind: args.mask,
        line_width: args.line_width,
        circle_mean_radius: args.circle_mean_radius,
        circle_df: args.circle_df,
        circle_centre_std: args.circle_centre_std,
        speckle_p: args.speckle_p,
    };
    params.validate()?;
    if args.n == 0 {
        bail!("--n must be at least 1");
    }

    let data = load(&args)?;
    let (n, h, w) = (data.n, data.height, data.width);
    let x_true = add_noise(&data.pixels, args.noise_std, args.seed)?;
    let masks = match &args.mask_file {
        Some(path) => read_mask_file(path, n, h, w)
            .with_context(|| format!("reading masks from {}", path.display()))?,
        None => generate(n, h, w, &params, args.seed)?,
    };
    let x_masked = masked_display(&x_true, &masks.missing)?;
    say!(
        "{n} images of {h} x {w}, noise std {}, {:.1}% of pixels missing ({})",
        args.noise_std,
        100.0 * masks.missing_fraction(),
        match &args.mask_file {
            Some(p) => format!("masks from {}", p.display()),
            None => format!("{} masks", params.kind),
        }
    );

    let out = &args.out;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let mut written = Vec::new();
    write_image_grids(out, &x_true, &masks, (h, w), &mut written)?;
    if n >= 2 {
        write_pca(out, &x_masked, &x_true, (n, h, w), &mut written)?;
    } else {
        say!("note: PCA needs at least 2 images; skipped");
    }
    for path in &written {
        say!("wrote {}", path.display());
    }
    Ok(())
}

/// The dataset's first N images, saying where they came from; synthetic data is announced.
fn load(args: &DataArgs) -> anyhow::Result<Dataset> {
    let source = find_data(args.data.as_deref());
    let full = source
        .load(args.shape, args.n, args.seed)
        .with_context(|| format!("loading {}", source.describe()))?;
    if full.origin == DataOrigin::Synthetic {
        eprintln!("note: MNIST was not found, so this uses the built-in synthetic digits.");
        eprintln!("{}", describe_search(args.data.as_deref()));
    } else {
        say!("data: {}", source.describe());
    }
    if full.n < args.n {
        bail!(
            "asked for --n {} images but {} holds only {}",
            args.n,
            source.describe(),
            full.n
        );
    }
    Ok(first_n(&full, args.n)?)
}

/// Saves a titled figure and records its path.
fn save(
    out: &Path,
    name: &str,
    title: &str,
    img: image::RgbImage,
    written: &mut Vec<PathBuf>,
) -> anyhow::Result<()> {
    let path = out.join(name);
    save_png(&titled(&img, title)?, &path)?;
    written.push(path);
    Ok(())
}

/// Grids of the masks, the noisy digits and the masked digits (missing pixels in red).
fn write_image_grids(
    out: &Path,
    x_true: &[f32],
    masks: &MaskSet,
    (h, w): (usize, usize),
    written: &mut Vec<PathBuf>,
) -> anyhow::Result<()> {
    let d = h * w;
    let k = masks.n.min(GRID);
    let digits = Scaling::Fixed { lo: 0.0, hi: 255.0 };
    let mask_values: Vec<Vec<f32>> = (0..k)
        .map(|i| {
            masks
                .image(i)
                .iter()
                .map(|&m| f32::from(u8::from(m)))
                .collect()
        })
        .collect();
    let refs: Vec<&[f32]> = mask_values.iter().map(Vec::as_slice).collect();
    let style = GridStyle::new(Colormap::Gray, Scaling::Fixed { lo: 0.0, hi: 1.0 });
    save(
        out,
        "masks.png",
        "Masks (white = missing)",
        image_grid(&refs, h, w, &style)?,
        written,
    )?;

    let images: Vec<&[f32]> = x_true.chunks_exact(d).take(k).collect();
    let style = GridStyle::new(Colormap::Gray, digits);
    save(
        out,
        "digits.png",
        "Noisy digits (X_true)",
        image_grid(&images, h, w, &style)?,
        written,
    )?;

    let tiles: Vec<Tile> = images
        .iter()
        .enumerate()
        .map(|(i, v)| Tile::masked(v, masks.image(i)))
        .collect();
    save(
        out,
        "masked_digits.png",
        "Masked digits (missing in red)",
        tile_grid(&tiles, h, w, &style)?,
        written,
    )?;
    Ok(())
}

/// The first 25 PCs of the masked data (missing pixels at 255, as in the notebook) and of
/// X_true, and their cumulative variance explained.
fn write_pca(
    out: &Path,
    x_masked: &[f32],
    x_true: &[f32],
    (n, h, w): (usize, usize, usize),
    written: &mut Vec<PathBuf>,
) -> anyhow::Result<()> {
    let d = h * w;
    let masked = Pca::fit(x_masked, n, d).context("PCA of the masked data")?;
    let truth = Pca::fit(x_true, n, d).context("PCA of X_true")?;
    let k = d.min(GRID);
    let labels = (1..=k).map(|c| format!("PC {c}"));
    let style = GridStyle::new(Colormap::Diverging, Scaling::Image).with_labels(labels);
    for (pca, name, what) in [
        (&masked, "pcs_masked.png", "masked X"),
        (&truth, "pcs_true.png", "X_true"),
    ] {
        let refs: Vec<&[f32]> = pca.components.iter().take(k).map(Vec::as_slice).collect();
        let title = format!("First {k} principal components of {what}");
        save(out, name, &title, image_grid(&refs, h, w, &style)?, written)?;
    }

    let curve = |pca: &Pca| -> Vec<(f64, f64)> {
        pca.cumulative
            .iter()
            .enumerate()
            .map(|(i, &c)| ((i + 1) as f64, c))
            .collect()
    };
    let (km, kt) = (masked.components_for(0.9), truth.components_for(0.9));
    say!("components for 90% of the variance: masked X {km}, X_true {kt}");
    let plot = LinePlot::new(
        "Cumulative variance explained",
        "Number of PCs",
        "Fraction of variance explained",
    )
    .series(format!("masked X ({km} PCs for 90%)"), curve(&masked))
    .series(format!("X_true ({kt} PCs for 90%)"), curve(&truth))
    .reference(0.9, "90%")
    .x_range(0.0, d as f64)
    .y_range(0.0, 1.0)
    .legend(LegendPosition::LowerRight);
    let path = out.join("variance_explained.png");
    save_png(&plot.render()?, &path)?;
    written.push(path);
    Ok(())
}
