//! Mask generators, painting and validation (SPEC section 2).

use gibbs_fa::masks::{
    MaskError, MaskKind, MaskParams, MaskSet, MaskShape, generate, generate_one, masked_display,
    paint_stroke, shapes_for,
};
use std::f64::consts::PI;

fn params(kind: MaskKind) -> MaskParams {
    MaskParams {
        kind,
        ..MaskParams::default()
    }
}

/// Per-image missing fractions of a mask set.
fn fractions(set: &MaskSet) -> Vec<f64> {
    (0..set.n)
        .map(|i| set.image(i).iter().filter(|&&m| m).count() as f64 / set.d() as f64)
        .collect()
}

/// Mean and standard error of the mean.
fn mean_se(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (var / n).sqrt())
}

/// Length of the line {p : p . normal = s} inside the square [lo, hi]^2.
fn chord(normal: (f64, f64), s: f64, lo: f64, hi: f64) -> f64 {
    let (nx, ny) = normal;
    let (ux, uy) = (-ny, nx);
    let (mut t0, mut t1) = (f64::NEG_INFINITY, f64::INFINITY);
    for (p, u) in [(s * nx, ux), (s * ny, uy)] {
        if u.abs() < 1e-12 {
            if p < lo || p > hi {
                return 0.0;
            }
        } else {
            let (a, b) = ((lo - p) / u, (hi - p) / u);
            t0 = t0.max(a.min(b));
            t1 = t1.min(a.max(b));
        }
    }
    (t1 - t0).max(0.0)
}

/// Expected missing fraction of a line mask on an h x h image: the mean area of a band of
/// half-width lw through the centre, within the image, by quadrature over angle and offset.
/// Pixel (i, j) is the unit cell around (i - h/2, j - h/2).
fn line_expectation(h: usize, lw: f64) -> f64 {
    let (lo, hi) = (-(h as f64) / 2.0 - 0.5, h as f64 / 2.0 - 0.5);
    let (n_angle, n_offset) = (720, 200);
    let mut area = 0.0;
    for a in 0..n_angle {
        let phi = (a as f64 + 0.5) * PI / n_angle as f64;
        for k in 0..n_offset {
            let s = -lw + (k as f64 + 0.5) * 2.0 * lw / n_offset as f64;
            area += chord((phi.cos(), phi.sin()), s, lo, hi) * 2.0 * lw / n_offset as f64;
        }
    }
    area / n_angle as f64 / (h * h) as f64
}

/// Expected circle fraction ignoring clipping: pi E[r^2] / D with r = 0.1 + Gamma.
fn circle_expectation(p: &MaskParams, d: usize) -> f64 {
    let m = p.circle_mean_radius;
    let var = 2.0 * m * m / p.circle_df;
    PI * ((0.1 + m).powi(2) + var) / d as f64
}

#[test]
fn shapes_and_dimensions() {
    for kind in MaskKind::ALL {
        let set = generate(7, 20, 36, &params(kind), 1).unwrap();
        assert_eq!((set.n, set.height, set.width), (7, 20, 36));
        assert_eq!(set.missing.len(), 7 * 20 * 36);
    }
    let empty = generate(0, 28, 28, &MaskParams::default(), 1).unwrap();
    assert_eq!(empty.n, 0);
    assert_eq!(empty.missing_fraction(), 0.0);
}

#[test]
fn seeded_masks_reproduce_whatever_the_thread_count() {
    let p = MaskParams::default();
    let in_pool = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| generate(300, 28, 28, &p, 42).unwrap())
    };
    let one = in_pool(1);
    assert_eq!(one, in_pool(3));
    assert_eq!(one, generate(300, 28, 28, &p, 42).unwrap());
    assert_ne!(one, generate(300, 28, 28, &p, 43).unwrap());
}

#[test]
fn mix_has_the_notebook_proportions_permuted() {
    let shapes = shapes_for(MaskKind::Mix, 100, 5);
    let count = |s| shapes.iter().filter(|&&x| x == s).count();
    assert_eq!(count(MaskShape::Line), 33);
    assert_eq!(count(MaskShape::Circle), 33);
    assert_eq!(count(MaskShape::Speckle), 34);
    // Permuted: not the concatenated order.
    assert!(shapes[..33].iter().any(|&s| s != MaskShape::Line));
    assert_eq!(shapes, shapes_for(MaskKind::Mix, 100, 5));
}

#[test]
fn line_masks_pass_through_the_centre_of_any_shape() {
    let set = generate(50, 20, 36, &params(MaskKind::Line), 3).unwrap();
    for i in 0..set.n {
        // Pixel (H/2, W/2) is at distance 0 from every line.
        assert!(set.image(i)[10 * 36 + 18]);
    }
}

#[test]
fn speckle_fraction_matches_p() {
    let p = params(MaskKind::Speckle);
    let set = generate(2000, 28, 28, &p, 7).unwrap();
    let total = set.missing.len() as f64;
    let se = (0.1 * 0.9 / total).sqrt();
    let frac = set.missing_fraction();
    assert!((frac - 0.1).abs() < 4.0 * se, "speckle fraction {frac}");
}

#[test]
fn line_fraction_matches_the_geometric_expectation() {
    let set = generate(20000, 28, 28, &params(MaskKind::Line), 11).unwrap();
    let (mean, se) = mean_se(&fractions(&set));
    let expected = line_expectation(28, 2.0);
    // 4 standard errors of Monte Carlo plus 1% for counting pixels instead of area.
    let tol = 4.0 * se + 0.01 * expected;
    eprintln!("line fraction {mean:.5} (se {se:.5}), geometric expectation {expected:.5}");
    assert!(
        (mean - expected).abs() < tol,
        "line {mean} vs {expected} (tol {tol})"
    );
}

#[test]
fn circle_fraction_is_near_its_area() {
    let p = params(MaskKind::Circle);
    let set = generate(20000, 28, 28, &p, 13).unwrap();
    let (mean, se) = mean_se(&fractions(&set));
    let expected = circle_expectation(&p, 784);
    eprintln!("circle fraction {mean:.5} (se {se:.5}), unclipped area {expected:.5}");
    // Clipping at the border only lowers the area, by a few percent here.
    assert!(mean < expected + 4.0 * se, "circle {mean} vs {expected}");
    assert!(
        mean > 0.9 * expected - 4.0 * se,
        "circle {mean} vs {expected}"
    );
}

#[test]
fn circle_without_centre_noise_is_centred() {
    let p = MaskParams {
        circle_centre_std: 0.0,
        ..params(MaskKind::Circle)
    };
    let mask = generate_one(MaskShape::Circle, 28, 28, &p, 9).unwrap();
    assert!(mask[14 * 28 + 14]);
    // Symmetric about the centre pixel (14, 14).
    for i in 1..28 {
        for j in 1..28 {
            assert_eq!(mask[i * 28 + j], mask[(28 - i) * 28 + (28 - j)]);
        }
    }
}

#[test]
fn mnist_size_mix_misses_about_ten_percent() {
    let p = MaskParams::default();
    let set = generate(10000, 28, 28, &p, 305).unwrap();
    let expected =
        (3333.0 * line_expectation(28, 2.0) + 3333.0 * circle_expectation(&p, 784) + 3334.0 * 0.1)
            / 10000.0;
    let (_, se) = mean_se(&fractions(&set));
    let frac = set.missing_fraction();
    eprintln!("mix fraction {frac:.5} (se {se:.5}), expectation {expected:.5}");
    assert!((frac - 0.10).abs() < 0.01, "mix fraction {frac}");
    // Circles lose a little to clipping: allow 2% of the expectation plus Monte Carlo error.
    assert!(
        (frac - expected).abs() < 4.0 * se + 0.02 * expected,
        "mix {frac} vs {expected}"
    );
}

#[test]
fn bad_settings_are_errors() {
    let bad = [
        MaskParams {
            line_width: f64::NAN,
            ..MaskParams::default()
        },
        MaskParams {
            line_width: 0.0,
            ..MaskParams::default()
        },
        MaskParams {
            circle_mean_radius: -1.0,
            ..MaskParams::default()
        },
        MaskParams {
            circle_df: 0.0,
            ..MaskParams::default()
        },
        MaskParams {
            circle_centre_std: f64::INFINITY,
            ..MaskParams::default()
        },
        MaskParams {
            speckle_p: 1.5,
            ..MaskParams::default()
        },
        MaskParams {
            line_width: 1e9,
            ..MaskParams::default()
        },
    ];
    for p in &bad {
        assert!(
            matches!(p.validate(), Err(MaskError::InvalidParam { .. })),
            "{p:?}"
        );
        assert!(generate(3, 28, 28, p, 0).is_err());
    }
    assert!(matches!(
        generate(3, 0, 28, &MaskParams::default(), 0),
        Err(MaskError::EmptyImage { .. })
    ));
    assert!(matches!(
        generate(usize::MAX / 2, 28, 28, &MaskParams::default(), 0),
        Err(MaskError::TooLarge { .. })
    ));
    assert!(MaskParams::default().validate().is_ok());
}

#[test]
fn kinds_parse_and_params_round_trip_through_json() {
    for kind in MaskKind::ALL {
        assert_eq!(kind.to_string().parse::<MaskKind>().unwrap(), kind);
    }
    assert_eq!(" Circle ".parse::<MaskKind>().unwrap(), MaskKind::Circle);
    assert!(matches!(
        "square".parse::<MaskKind>(),
        Err(MaskError::UnknownKind(_))
    ));
    let p = MaskParams {
        kind: MaskKind::Speckle,
        speckle_p: 0.25,
        ..MaskParams::default()
    };
    let json = serde_json::to_string(&p).unwrap();
    assert!(json.contains("\"speckle\""));
    assert_eq!(serde_json::from_str::<MaskParams>(&json).unwrap(), p);
    // Missing fields take the defaults.
    let partial: MaskParams = serde_json::from_str(r#"{"line_width": 3.0}"#).unwrap();
    assert_eq!(partial.line_width, 3.0);
    assert_eq!(partial.speckle_p, 0.1);
}

/// Distance from (r, c) to the horizontal segment from (row, c0) to (row, c1).
fn distance_to_row_segment(r: f32, c: f32, row: f32, c0: f32, c1: f32) -> f32 {
    let dc = if c < c0 {
        c0 - c
    } else if c > c1 {
        c - c1
    } else {
        0.0
    };
    (r - row).hypot(dc)
}

#[test]
fn painting_sets_exactly_the_pixels_within_the_brush() {
    let (h, w) = (10, 14);
    let mut mask = vec![false; h * w];
    mask[9 * w + 13] = true; // pre-existing, far from the stroke
    // A horizontal stroke given as three points (two segments).
    let points = [(3.5, 2.5), (3.5, 6.0), (3.5, 9.5)];
    let changed = paint_stroke(&mut mask, h, w, &points, 1.6, true).unwrap();
    let mut expected_count = 0;
    for i in 0..h {
        for j in 0..w {
            let d = distance_to_row_segment(i as f32 + 0.5, j as f32 + 0.5, 3.5, 2.5, 9.5);
            let want = d <= 1.6 || (i, j) == (9, 13);
            assert_eq!(mask[i * w + j], want, "pixel ({i}, {j}) at distance {d}");
            expected_count += usize::from(d <= 1.6);
        }
    }
    assert_eq!(changed, expected_count);
    // Painting again changes nothing; erasing clears the stroke and keeps the rest.
    assert_eq!(
        paint_stroke(&mut mask, h, w, &points, 1.6, true).unwrap(),
        0
    );
    assert_eq!(
        paint_stroke(&mut mask, h, w, &points, 1.6, false).unwrap(),
        expected_count
    );
    assert_eq!(mask.iter().filter(|&&m| m).count(), 1);
    assert!(mask[9 * w + 13]);
}

#[test]
fn painting_covers_segments_not_only_points() {
    let (h, w) = (28, 28);
    let mut mask = vec![false; h * w];
    paint_stroke(&mut mask, h, w, &[(0.5, 0.5), (27.5, 27.5)], 0.5, true).unwrap();
    for i in 0..28 {
        assert!(mask[i * w + i], "diagonal pixel {i}");
    }
    assert!(!mask[27]);
    assert!(!mask[27 * w]);
}

#[test]
fn tiny_brushes_odd_points_and_bad_input() {
    let (h, w) = (5, 5);
    let mut mask = vec![false; h * w];
    // A zero radius still marks the pixel under the point.
    assert_eq!(
        paint_stroke(&mut mask, h, w, &[(2.2, 3.9)], 0.0, true).unwrap(),
        1
    );
    assert!(mask[2 * w + 3]);
    // Non-finite and out-of-image points are harmless.
    let odd = [(f32::NAN, 1.0), (-100.0, -100.0), (1e30, 2.0), (0.5, 0.5)];
    paint_stroke(&mut mask, h, w, &odd, 0.4, true).unwrap();
    assert!(mask[0]);
    assert!(matches!(
        paint_stroke(&mut mask, h, w, &[(1.0, 1.0)], f32::NAN, true),
        Err(MaskError::InvalidParam { .. })
    ));
    assert!(matches!(
        paint_stroke(&mut mask, h, w, &[(1.0, 1.0)], -1.0, true),
        Err(MaskError::InvalidParam { .. })
    ));
    assert!(matches!(
        paint_stroke(&mut mask, 6, 5, &[(1.0, 1.0)], 1.0, true),
        Err(MaskError::LengthMismatch { .. })
    ));
}

#[test]
fn masked_display_shows_missing_as_255() {
    let x = [1.0, 2.0, 3.0];
    assert_eq!(
        masked_display(&x, &[false, true, false]).unwrap(),
        vec![1.0, 255.0, 3.0]
    );
    assert!(masked_display(&x, &[true]).is_err());
}

#[test]
fn mask_sets_check_their_length() {
    assert!(MaskSet::from_vec(2, 2, 2, vec![false; 8]).is_ok());
    assert!(matches!(
        MaskSet::from_vec(2, 2, 2, vec![false; 7]),
        Err(MaskError::LengthMismatch { .. })
    ));
    let mut set = MaskSet::none_missing(2, 3, 3).unwrap();
    set.image_mut(1)[4] = true;
    assert!(set.image(1)[4]);
    assert!((set.missing_fraction() - 1.0 / 18.0).abs() < 1e-12);
}

#[test]
fn mask_files_round_trip_and_broadcast() {
    use gibbs_fa::data::idx::{write_idx_f32, write_idx_u8};
    use gibbs_fa::masks::{read_mask_file, write_mask_file};
    let tmp = tempfile::tempdir().unwrap();

    // N x H x W written and read back; a file with more masks serves fewer images.
    let set = generate(6, 4, 5, &MaskParams::default(), 21).unwrap();
    let path = tmp.path().join("masks.idx");
    write_mask_file(&path, &set).unwrap();
    assert_eq!(read_mask_file(&path, 6, 4, 5).unwrap(), set);
    let first = read_mask_file(&path, 2, 4, 5).unwrap();
    assert_eq!(first.missing, set.missing[..40].to_vec());

    // One H x W mask (nonzero = missing) applies to every image.
    let single: Vec<u8> = (0..20).map(|k| if k % 3 == 0 { 7 } else { 0 }).collect();
    let path = tmp.path().join("single.idx");
    write_idx_u8(&path, &[4, 5], &single).unwrap();
    let set = read_mask_file(&path, 3, 4, 5).unwrap();
    for i in 0..3 {
        for (k, &m) in set.image(i).iter().enumerate() {
            assert_eq!(m, k % 3 == 0);
        }
    }

    // N x D floats work; NaN does not.
    let path = tmp.path().join("flat.idx");
    write_idx_f32(&path, &[2, 20], &[0.5; 40]).unwrap();
    assert_eq!(
        read_mask_file(&path, 2, 4, 5).unwrap().missing_fraction(),
        1.0
    );
    let mut nan = vec![0.0f32; 40];
    nan[17] = f32::NAN;
    write_idx_f32(&path, &[2, 20], &nan).unwrap();
    assert!(matches!(
        read_mask_file(&path, 2, 4, 5),
        Err(MaskError::NonFiniteMask { index: 17 })
    ));

    // Wrong shapes, too few masks and unreadable files are errors.
    let path = tmp.path().join("wrong.idx");
    write_idx_u8(&path, &[2, 5, 4], &[0; 40]).unwrap();
    assert!(matches!(
        read_mask_file(&path, 2, 4, 5),
        Err(MaskError::FileShape { .. })
    ));
    write_idx_u8(&path, &[2, 4, 5], &[0; 40]).unwrap();
    assert!(matches!(
        read_mask_file(&path, 3, 4, 5),
        Err(MaskError::TooFewMasks { found: 2, n: 3 })
    ));
    std::fs::write(&path, b"not an idx file").unwrap();
    assert!(matches!(
        read_mask_file(&path, 2, 4, 5),
        Err(MaskError::File(_))
    ));
    assert!(read_mask_file(&tmp.path().join("absent"), 2, 4, 5).is_err());
}
