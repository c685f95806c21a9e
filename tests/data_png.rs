//! Folders of PNG images.

use std::path::Path;

use gibbs_fa::data::png_folder::read_png_folder;
use gibbs_fa::data::{DataError, DataOrigin, load_path};
use image::{GrayImage, Luma, Rgb, RgbImage};

fn gray(dir: &Path, name: &str, w: u32, h: u32, value: u8) {
    GrayImage::from_pixel(w, h, Luma([value]))
        .save(dir.join(name))
        .unwrap();
}

#[test]
fn reads_sorted_by_name_and_converts_colour_to_luma() {
    let dir = tempfile::tempdir().unwrap();
    gray(dir.path(), "b.png", 3, 2, 20);
    gray(dir.path(), "a.png", 3, 2, 10);
    RgbImage::from_pixel(3, 2, Rgb([255, 255, 255]))
        .save(dir.path().join("c.PNG"))
        .unwrap();
    RgbImage::from_pixel(3, 2, Rgb([0, 255, 0]))
        .save(dir.path().join("d.png"))
        .unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not an image").unwrap();

    let d = read_png_folder(dir.path()).unwrap();
    assert_eq!((d.n, d.height, d.width), (4, 2, 3));
    assert!(d.image(0).iter().all(|&v| v == 10.0));
    assert!(d.image(1).iter().all(|&v| v == 20.0));
    assert!(d.image(2).iter().all(|&v| v == 255.0));
    // Pure green has luma between black and white, closer to white than pure red or blue.
    let g = d.image(3)[0];
    assert!(g > 100.0 && g < 255.0, "green luma {g}");
    assert_eq!(d.origin, DataOrigin::File(dir.path().to_path_buf()));
    assert_eq!(load_path(dir.path(), None).unwrap(), d);
}

#[test]
fn sizes_must_agree() {
    let dir = tempfile::tempdir().unwrap();
    gray(dir.path(), "1.png", 4, 4, 0);
    gray(dir.path(), "2.png", 4, 5, 0);
    let err = read_png_folder(dir.path()).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::PngSizeMismatch {
                found_h: 5,
                expected_h: 4,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("2.png"), "{err}");
}

#[test]
fn empty_folder_and_broken_png_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("readme.txt"), "hello").unwrap();
    assert!(matches!(
        read_png_folder(dir.path()),
        Err(DataError::NoImagesInFolder(_))
    ));
    assert!(matches!(
        load_path(dir.path(), None),
        Err(DataError::NoImagesInFolder(_))
    ));

    std::fs::write(dir.path().join("bad.png"), b"\x89PNG\r\n\x1a\nnot really").unwrap();
    let err = read_png_folder(dir.path()).unwrap_err();
    assert!(matches!(err, DataError::Png { .. }), "{err:?}");
    assert!(err.to_string().contains("bad.png"));
}
