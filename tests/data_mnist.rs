//! The real MNIST test set, reached through GIBBS_FA_DATA.

use std::path::PathBuf;

use gibbs_fa::data::download::{TEST_IMAGES, TEST_LABELS, content_md5};
use gibbs_fa::data::locate::{SearchPlaces, mnist_images_in};
use gibbs_fa::data::{DataOrigin, DataSource, add_noise, first_n, load_path};

/// The folder of the real MNIST test files, from GIBBS_FA_DATA. Fails under CI=true when it is
/// missing; otherwise prints a note and the test returns early.
fn mnist_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("GIBBS_FA_DATA").map(PathBuf::from);
    let ok = dir
        .as_ref()
        .is_some_and(|d| d.join("t10k-images-idx3-ubyte.gz").is_file());
    if ok {
        return dir;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "GIBBS_FA_DATA must name a folder with t10k-images-idx3-ubyte.gz under CI"
    );
    eprintln!("note: GIBBS_FA_DATA not set to an MNIST folder; skipping this test");
    None
}

#[test]
fn mnist_test_set_loads_with_labels() {
    let Some(dir) = mnist_dir() else { return };
    let data = load_path(&dir, None).unwrap();
    assert_eq!((data.n, data.height, data.width), (10_000, 28, 28));
    assert_eq!(data.pixels.len(), 10_000 * 784);
    assert_eq!(data.origin, DataOrigin::Mnist(dir.clone()));
    let labels = data.labels.as_ref().unwrap();
    assert_eq!(labels.len(), 10_000);
    assert_eq!(&labels[..5], &[7, 2, 1, 0, 4]);
    assert!(
        data.pixels
            .iter()
            .all(|&v| (0.0..=255.0).contains(&v) && v.fract() == 0.0)
    );
    assert_eq!(data.pixels.iter().cloned().fold(0.0f32, f32::max), 255.0);
}

#[test]
fn mnist_checksums_match() {
    let Some(dir) = mnist_dir() else { return };
    let images = mnist_images_in(&dir).unwrap();
    assert_eq!(content_md5(&images).unwrap(), TEST_IMAGES.md5);
    let labels = dir.join("t10k-labels-idx1-ubyte.gz");
    assert_eq!(content_md5(&labels).unwrap(), TEST_LABELS.md5);
}

#[test]
fn env_folder_resolves_to_mnist_and_protocol_runs() {
    let Some(dir) = mnist_dir() else { return };
    let places = SearchPlaces {
        explicit: None,
        env: Some(dir.clone()),
        cache: None,
    };
    let src = places.resolve();
    assert_eq!(src, DataSource::Mnist(dir));
    let data = src.load(None, 0, 0).unwrap();
    let sub = first_n(&data, 1000).unwrap();
    assert_eq!(sub.n, 1000);
    let noisy = add_noise(&sub.pixels, 3.0, 2024).unwrap();
    assert_eq!(noisy.len(), 1000 * 784);
    assert!(noisy.iter().all(|v| v.is_finite()));
    assert!(noisy.iter().zip(&sub.pixels).any(|(a, b)| a != b));
}

/// Loading speed, printed for the record (run with --nocapture); generous bound.
#[test]
fn mnist_loads_quickly() {
    let Some(dir) = mnist_dir() else { return };
    let t = std::time::Instant::now();
    let data = load_path(&dir, None).unwrap();
    let load = t.elapsed();
    let t = std::time::Instant::now();
    let synth = gibbs_fa::data::synthetic::generate(10_000, 1).unwrap();
    let gen_time = t.elapsed();
    let t = std::time::Instant::now();
    let noisy = add_noise(&data.pixels, 3.0, 1).unwrap();
    let noise = t.elapsed();
    eprintln!("load MNIST {load:?}, 10k synthetic {gen_time:?}, noise on 7.8M values {noise:?}");
    assert_eq!(synth.n, 10_000);
    assert_eq!(noisy.len(), data.pixels.len());
    assert!(load.as_secs() < 10 && gen_time.as_secs() < 10);
}
