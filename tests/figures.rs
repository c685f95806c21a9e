//! Figures: colour maps, grids, pairs, colour bars, line plots and PNG output.
//! Set GIBBS_FA_FIGURES_DIR to keep the rendered examples for a look.

use gibbs_fa::figures::{
    Colormap, FigureError, GridStyle, ImageFigure, LegendPosition, LinePlot, Scaling, Tile,
    format_tick, format_tick_in, image_figure, image_grid, pair_grid, save_png, tile_grid, titled,
    value_range, with_colorbar,
};
use image::{Rgb, RgbImage};
use std::path::PathBuf;

/// Where examples go: the env folder when set, else a temporary one kept for the test.
fn out_dir() -> (PathBuf, Option<tempfile::TempDir>) {
    match std::env::var_os("GIBBS_FA_FIGURES_DIR") {
        Some(dir) => (PathBuf::from(dir), None),
        None => {
            let tmp = tempfile::tempdir().unwrap();
            (tmp.path().to_path_buf(), Some(tmp))
        }
    }
}

/// A 28 x 28 ring, bright on dark, scaled by `peak`.
fn ring(peak: f32, shift: f32) -> Vec<f32> {
    (0..784)
        .map(|k| {
            let (i, j) = ((k / 28) as f32 - 13.5, (k % 28) as f32 - 13.5 + shift);
            let r = (i * i + j * j).sqrt();
            peak * (-(r - 8.0).powi(2) / 6.0).exp()
        })
        .collect()
}

fn luminance(c: [u8; 3]) -> f32 {
    0.2126 * f32::from(c[0]) + 0.7152 * f32::from(c[1]) + 0.0722 * f32::from(c[2])
}

#[test]
fn colour_maps_have_the_right_ends_and_order() {
    assert_eq!(Colormap::Gray.color(0.0), [0, 0, 0]);
    assert_eq!(Colormap::Gray.color(1.0), [255, 255, 255]);
    assert_eq!(Colormap::Gray.color(7.0), [255, 255, 255]);
    let [r0, _, b0] = Colormap::Diverging.color(0.0);
    let [r1, _, b1] = Colormap::Diverging.color(1.0);
    assert!(b0 > r0 && r1 > b1, "blue low, red high");
    assert!(
        Colormap::Diverging.color(0.5).iter().all(|&c| c > 240),
        "white at 0"
    );
    // The sequential map gets brighter all the way.
    let lum: Vec<f32> = (0..=20)
        .map(|k| luminance(Colormap::Sequential.color(k as f32 / 20.0)))
        .collect();
    assert!(lum.windows(2).all(|w| w[1] > w[0]), "{lum:?}");
    // color_in maps the range ends to the map's ends; a degenerate range to the middle.
    assert_eq!(Colormap::Gray.color_in(10.0, (10.0, 20.0)), [0, 0, 0]);
    assert_eq!(Colormap::Gray.color_in(20.0, (10.0, 20.0)), [255, 255, 255]);
    assert_eq!(
        Colormap::Gray.color_in(3.0, (3.0, 3.0)),
        Colormap::Gray.color(0.5)
    );
}

#[test]
fn value_ranges_ignore_nan_and_centre_the_diverging_map() {
    let v = [f32::NAN, -1.0, 3.0, f32::INFINITY];
    assert_eq!(value_range(&v, Colormap::Gray), (-1.0, 3.0));
    assert_eq!(value_range(&v, Colormap::Diverging), (-3.0, 3.0));
    assert_eq!(value_range(&[2.0f32, 2.0], Colormap::Gray), (1.5, 2.5));
    assert_eq!(value_range(&[] as &[f32], Colormap::Sequential), (0.0, 1.0));
    assert_eq!(value_range(&[0.0f32], Colormap::Diverging), (-1.0, 1.0));
}

#[test]
fn grid_layout_and_pixels() {
    let images: Vec<Vec<f32>> = (0..25).map(|k| ring(255.0, k as f32 * 0.2)).collect();
    let refs: Vec<&[f32]> = images.iter().map(Vec::as_slice).collect();
    let style = GridStyle::new(Colormap::Gray, Scaling::Fixed { lo: 0.0, hi: 255.0 });
    let img = image_grid(&refs, 28, 28, &style).unwrap();
    // 2 + 5 tiles of 112 + 4 gaps of 2 + 2.
    assert_eq!(img.dimensions(), (572, 572));
    // Pixel (0, 0) of tile 0 is a 4 x 4 block at (2, 2); the margin is background.
    let c = Colormap::Gray.color_in(images[0][0], (0.0, 255.0));
    for (x, y) in [(2, 2), (5, 5)] {
        assert_eq!(*img.get_pixel(x, y), Rgb(c));
    }
    assert_eq!(*img.get_pixel(0, 0), Rgb([255, 255, 255]));
    assert_eq!(
        *img.get_pixel(114, 50),
        Rgb([255, 255, 255]),
        "gap between tiles"
    );
    // Tile 6 (row 1, col 1) starts at 2 + 114.
    let v = images[6][14 * 28 + 6];
    assert_eq!(
        *img.get_pixel(116 + 6 * 4, 116 + 14 * 4),
        Rgb(Colormap::Gray.color_in(v, (0.0, 255.0)))
    );

    let (dir, _keep) = out_dir();
    save_png(&img, &dir.join("grid.png")).unwrap();
}

#[test]
fn per_image_and_per_grid_scaling_differ() {
    let small = vec![0.0f32, 1.0];
    let large = vec![0.0f32, 100.0];
    let refs: [&[f32]; 2] = [&small, &large];
    let style = |scaling| GridStyle {
        upscale: 1,
        gap: 1,
        ..GridStyle::new(Colormap::Gray, scaling)
    };
    // Layout: gap 1, tile 2 x 1, gap 1, tile, gap 1: small's max at (2, 1).
    let per_image = image_grid(&refs, 1, 2, &style(Scaling::Image)).unwrap();
    assert_eq!(*per_image.get_pixel(2, 1), Rgb([255, 255, 255]));
    let per_grid = image_grid(&refs, 1, 2, &style(Scaling::Grid)).unwrap();
    assert!(per_grid.get_pixel(2, 1).0[0] < 10);
    assert_eq!(*per_grid.get_pixel(5, 1), Rgb([255, 255, 255]));
}

#[test]
fn missing_pixels_get_their_colour_and_leave_the_range() {
    let values = vec![0.0f32, 10.0, 1e6];
    let missing = vec![false, false, true];
    let style = GridStyle {
        upscale: 1,
        gap: 0,
        ..GridStyle::default()
    };
    let img = tile_grid(&[Tile::masked(&values, &missing)], 1, 3, &style).unwrap();
    assert_eq!(*img.get_pixel(2, 0), Rgb(style.missing_color));
    assert_eq!(
        *img.get_pixel(1, 0),
        Rgb([255, 255, 255]),
        "10 is the max once 1e6 is out"
    );
    // NaN shows as missing too.
    let nan = vec![f32::NAN, 1.0, 2.0];
    let img = image_grid(&[&nan], 1, 3, &style).unwrap();
    assert_eq!(*img.get_pixel(0, 0), Rgb(style.missing_color));
}

#[test]
fn pairs_sit_side_by_side() {
    let a = ring(255.0, 0.0);
    let b = ring(128.0, 2.0);
    let mask: Vec<bool> = (0..784).map(|k| k % 28 < 10).collect();
    let pairs: Vec<(Tile, Tile)> = (0..25)
        .map(|_| (Tile::masked(&a, &mask), Tile::plain(&b)))
        .collect();
    let style = GridStyle::new(Colormap::Gray, Scaling::Fixed { lo: 0.0, hi: 255.0 });
    let img = pair_grid(&pairs, 28, 28, &style).unwrap();
    // Cell = 112 + 2 + 112 = 226; cells 8 apart; margins 2: 2*2 + 5*226 + 4*8.
    assert_eq!(img.width(), 4 + 5 * 226 + 32);
    assert_eq!(img.height(), 4 + 5 * 112 + 32);
    assert_eq!(*img.get_pixel(2, 2), Rgb(style.missing_color));
    assert_ne!(*img.get_pixel(2 + 114, 2), Rgb(style.missing_color));
    let (dir, _keep) = out_dir();
    save_png(
        &titled(&img, "Masked | reconstructed").unwrap(),
        &dir.join("pairs.png"),
    )
    .unwrap();
}

#[test]
fn labels_titles_and_colour_bars_add_room_and_ink() {
    let factors: Vec<Vec<f32>> = (0..25)
        .map(|k| {
            ring(1.0, k as f32 * 0.3)
                .iter()
                .enumerate()
                .map(|(i, v)| if i % 2 == 0 { *v } else { -v })
                .collect()
        })
        .collect();
    let refs: Vec<&[f32]> = factors.iter().map(Vec::as_slice).collect();
    let plain = image_grid(
        &refs,
        28,
        28,
        &GridStyle::new(Colormap::Diverging, Scaling::Image),
    )
    .unwrap();
    let style = GridStyle::new(Colormap::Diverging, Scaling::Image)
        .with_labels((1..=25).map(|k| format!("Factor {k}")));
    let labelled = image_grid(&refs, 28, 28, &style).unwrap();
    assert_eq!(labelled.width(), plain.width());
    assert!(labelled.height() > plain.height());
    // Some dark text pixels in the first label band.
    let ink = (0..labelled.width()).any(|x| (0..12).any(|y| labelled.get_pixel(x, y).0[0] < 100));
    assert!(ink, "label text drawn");

    let titled_img = titled(&labelled, "Factors").unwrap();
    assert!(titled_img.height() > labelled.height());

    let bar = with_colorbar(&plain, Colormap::Sequential, (0.0, 40.0), "std").unwrap();
    assert!(bar.width() > plain.width());
    // The bar runs from the top colour (high) to the bottom colour (low).
    let column = plain.width() + 12 + 8;
    let colours: Vec<[u8; 3]> = (0..bar.height())
        .map(|y| bar.get_pixel(column, y).0)
        .collect();
    assert!(colours.contains(&Colormap::Sequential.color(1.0)));
    assert!(colours.contains(&Colormap::Sequential.color(0.0)));

    let mean = ring(200.0, 0.0);
    let fig = image_figure(
        &mean,
        28,
        28,
        &ImageFigure::new("Mean image", Colormap::Gray),
    )
    .unwrap();
    assert!(fig.width() > 280 && fig.height() > 280);
    let (dir, _keep) = out_dir();
    save_png(&titled_img, &dir.join("factors.png")).unwrap();
    save_png(&fig, &dir.join("mean.png")).unwrap();
    save_png(&bar, &dir.join("colorbar.png")).unwrap();
}

#[test]
fn line_plots_draw_series_reference_and_marker() {
    let sample: Vec<f64> = (0..200)
        .map(|t| 40.0 + 60.0 * (-(t as f64) / 20.0).exp() + (t as f64 * 0.7).sin())
        .collect();
    let running: Vec<f64> = (0..200)
        .map(|t| 38.0 + 60.0 * (-(t as f64) / 25.0).exp())
        .collect();
    let plot = LinePlot::new("RMSE of the missing pixels", "Iteration", "RMSE")
        .series_y("sample", &sample, 0.0)
        .series_y("running posterior mean", &running, 0.0)
        .reference(75.0, "column mean")
        .marker(100.0, "end of burn-in");
    let img = plot.render().unwrap();
    assert_eq!(img.dimensions(), (800, 500));
    let first = plot.series[0].color;
    assert!(img.pixels().any(|p| p.0 == first), "series drawn");
    let (dir, _keep) = out_dir();
    save_png(&img, &dir.join("rmse.png")).unwrap();

    let log_joint: Vec<f64> = (0..200)
        .map(|t| -3.2e7 + 2.0e7 * (1.0 - (-(t as f64) / 10.0).exp()))
        .collect();
    let img = LinePlot::new("Log joint probability", "Iteration", "log p")
        .series_y("log joint", &log_joint, 0.0)
        .legend(LegendPosition::LowerRight)
        .render()
        .unwrap();
    save_png(&img, &dir.join("log_joint.png")).unwrap();

    // NaN points, a single point and no series at all still render.
    LinePlot::new("odd", "x", "y")
        .series("nan", vec![(0.0, f64::NAN), (1.0, 2.0)])
        .render()
        .unwrap();
    LinePlot::new("empty", "x", "y").render().unwrap();
    LinePlot::new("extreme", "x", "y")
        .series("huge", vec![(0.0, 1e308), (1.0, -1e308), (f64::MAX, 0.0)])
        .render()
        .unwrap();
    LinePlot::new("bad range", "x", "y")
        .y_range(1.0, f64::NAN)
        .render()
        .unwrap();
}

#[test]
fn bad_layouts_are_errors() {
    let v = vec![0.0f32; 4];
    let style = GridStyle::default();
    assert!(matches!(
        image_grid(&[&v[..3]], 2, 2, &style),
        Err(FigureError::LengthMismatch { index: 0, .. })
    ));
    assert!(matches!(
        image_grid(&[], 2, 2, &style),
        Err(FigureError::EmptyLayout)
    ));
    let no_cols = GridStyle {
        cols: 0,
        ..GridStyle::default()
    };
    assert!(matches!(
        image_grid(&[&v], 2, 2, &no_cols),
        Err(FigureError::EmptyLayout)
    ));
    let huge = GridStyle {
        upscale: 1 << 20,
        ..GridStyle::default()
    };
    assert!(matches!(
        image_grid(&[&v], 2, 2, &huge),
        Err(FigureError::TooLarge { .. })
    ));
    let short_mask = vec![false; 3];
    assert!(matches!(
        tile_grid(&[Tile::masked(&v, &short_mask)], 2, 2, &style),
        Err(FigureError::LengthMismatch { .. })
    ));
    assert!(LinePlot::new("t", "x", "y").size(0, 10).render().is_err());
}

#[test]
fn pngs_round_trip_and_save_errors_are_typed() {
    let tmp = tempfile::tempdir().unwrap();
    let img = RgbImage::from_fn(7, 5, |x, y| Rgb([x as u8 * 30, y as u8 * 40, 9]));
    let path = tmp.path().join("nested/dir/out.png");
    save_png(&img, &path).unwrap();
    let back = image::open(&path).unwrap().to_rgb8();
    assert_eq!(back, img);
    // A path below a regular file cannot be created.
    let blocked = tmp.path().join("nested/dir/out.png/inner.png");
    assert!(matches!(
        save_png(&img, &blocked),
        Err(FigureError::CreateDir { .. })
    ));
}

#[test]
fn tick_text_is_short() {
    assert_eq!(format_tick(0.0), "0");
    assert_eq!(format_tick(0.5), "0.5");
    assert_eq!(format_tick(250.0), "250");
    assert_eq!(format_tick(-12.125), "-12.125");
    assert_eq!(format_tick(-2.0e7), "-2e7");
    assert_eq!(format_tick(1.5e6), "1.5e6");
    assert_eq!(format_tick(0.0001), "1e-4");
    // Large values close together: every tick must differ (a log joint axis).
    let ticks: Vec<String> = [-3.37e7, -3.36e7, -3.35e7]
        .iter()
        .map(|&v| format_tick_in(v, 3e5))
        .collect();
    assert_eq!(ticks, ["-33700000", "-33600000", "-33500000"]);
    assert_eq!(format_tick_in(-2.0e7, 4e7), "-2e7");
    assert_eq!(format_tick_in(0.5, 1.0), "0.5");
}

#[test]
fn grid_with_colour_bar_shares_one_range() {
    // Posterior stds exist only at missing pixels: show them, observed pixels in grey.
    let stds: Vec<Vec<f32>> = (0..6)
        .map(|k| (0..784).map(|p| (p % 28) as f32 * (k + 1) as f32).collect())
        .collect();
    let observed: Vec<bool> = (0..784).map(|p| p / 28 < 14).collect();
    let tiles: Vec<Tile> = stds.iter().map(|s| Tile::masked(s, &observed)).collect();
    let style = GridStyle {
        cols: 3,
        missing_color: [200, 200, 200],
        ..GridStyle::new(Colormap::Sequential, Scaling::Grid)
    };
    let img = gibbs_fa::figures::tile_grid_with_colorbar(&tiles, 28, 28, &style, "std").unwrap();
    let plain = tile_grid(&tiles, 28, 28, &style).unwrap();
    assert!(img.width() > plain.width());
    // The brightest pixel of the last image (27 * 6 = 162) is the top of the shared range.
    let last_max = *img.get_pixel(
        2 + 2 * 114 + 27 * 4,
        2 + 114 + 27 * 4 + (img.height() - plain.height()) / 2,
    );
    assert_eq!(last_max, Rgb(Colormap::Sequential.color(1.0)));
    let (dir, _keep) = out_dir();
    save_png(
        &titled(&img, "Posterior std of missing pixels").unwrap(),
        &dir.join("stds.png"),
    )
    .unwrap();
}
