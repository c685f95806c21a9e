//! The built-in synthetic digits.

use gibbs_fa::data::synthetic::{MAX_IMAGES, generate};
use gibbs_fa::data::{DataError, DataOrigin};

#[test]
fn deterministic_for_a_seed_and_different_for_another() {
    let a = generate(40, 11).unwrap();
    let b = generate(40, 11).unwrap();
    let c = generate(40, 12).unwrap();
    assert_eq!(a, b);
    assert_ne!(a.pixels, c.pixels);
    // A prefix does not depend on how many images were asked for.
    let longer = generate(100, 11).unwrap();
    assert_eq!(&longer.pixels[..a.pixels.len()], &a.pixels[..]);
}

#[test]
fn mnist_like_values_labels_and_shape() {
    let d = generate(200, 3).unwrap();
    assert_eq!((d.n, d.height, d.width), (200, 28, 28));
    assert_eq!(d.origin, DataOrigin::Synthetic);
    assert!(
        d.pixels
            .iter()
            .all(|&v| (0.0..=255.0).contains(&v) && v.fract() == 0.0)
    );
    let labels = d.labels.as_ref().unwrap();
    assert_eq!(&labels[..12], &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    for (i, &label) in labels.iter().enumerate() {
        let img = d.image(i);
        let ink = img.iter().filter(|&&v| v > 128.0).count();
        // Like MNIST: mostly background, a stroke of some tens to a couple of hundred pixels,
        // saturated somewhere, and nothing on the outer border.
        assert!(
            (25..300).contains(&ink),
            "image {i} (digit {label}) has {ink} inked pixels"
        );
        assert!(img.iter().cloned().fold(0.0, f32::max) >= 240.0);
        let border =
            (0..28).flat_map(|k| [img[k], img[27 * 28 + k], img[k * 28], img[k * 28 + 27]]);
        assert!(
            border.into_iter().all(|v| v < 128.0),
            "image {i} touches the border:\n{}",
            img.chunks(28)
                .map(|r| r
                    .iter()
                    .map(|&v| if v > 128.0 { "#" } else { "." })
                    .collect::<String>())
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

/// Digits differ from each other: two samples of one digit are not identical, and the mean
/// image of each digit is closer to its own samples than to other digits' samples (the classes
/// are recognisable, as a nearest-mean classifier shows).
#[test]
fn digits_differ_and_classes_are_recognisable() {
    let d = generate(1000, 99).unwrap();
    let labels = d.labels.clone().unwrap();
    assert_ne!(d.image(0), d.image(10));
    let train = 500;
    let mut means = vec![vec![0f64; 784]; 10];
    for i in 0..train {
        for (m, &v) in means[labels[i] as usize].iter_mut().zip(d.image(i)) {
            *m += f64::from(v) / (train / 10) as f64;
        }
    }
    let mut correct = 0;
    for (i, &label) in labels.iter().enumerate().skip(train) {
        let dist = |m: &Vec<f64>| -> f64 {
            m.iter()
                .zip(d.image(i))
                .map(|(a, &b)| (a - f64::from(b)).powi(2))
                .sum()
        };
        let best = (0..10)
            .min_by(|&a, &b| dist(&means[a]).total_cmp(&dist(&means[b])))
            .unwrap();
        correct += usize::from(best == label as usize);
    }
    // Nearest-mean on MNIST gets ~80%; chance is 10%.
    assert!(correct >= 350, "nearest-mean accuracy {correct}/500");
}

#[test]
fn sizes_are_validated() {
    assert!(matches!(generate(0, 1), Err(DataError::InvalidArgument(_))));
    assert!(matches!(
        generate(MAX_IMAGES + 1, 1),
        Err(DataError::InvalidArgument(_))
    ));
}

/// Renders a 5 x 5 grid (4x enlarged) and checks it; writes it as a PNG to the folder in
/// GIBBS_FA_PREVIEW_DIR when that is set, to look at the digits.
#[test]
fn preview_grid() {
    let d = generate(25, 2026).unwrap();
    let (cell, scale) = (30u32, 4u32);
    let side = 5 * cell * scale;
    let mut grid = image::GrayImage::new(side, side);
    for i in 0..25u32 {
        let img = d.image(i as usize);
        let (gx, gy) = ((i % 5) * cell * scale, (i / 5) * cell * scale);
        for y in 0..28 * scale {
            for x in 0..28 * scale {
                let v = img[((y / scale) * 28 + x / scale) as usize];
                grid.put_pixel(gx + x + scale, gy + y + scale, image::Luma([v as u8]));
            }
        }
    }
    let lit = grid.pixels().filter(|p| p.0[0] > 128).count();
    assert!(lit > 25 * 25 * 16, "grid is nearly empty");
    if let Some(dir) = std::env::var_os("GIBBS_FA_PREVIEW_DIR") {
        grid.save(std::path::Path::new(&dir).join("synthetic_digits.png"))
            .unwrap();
    }
}
