//! Finding data: the resolution order, MNIST folders, and `load_path` dispatch.

use std::path::{Path, PathBuf};

use gibbs_fa::data::idx::{write_idx_f32, write_idx_u8};
use gibbs_fa::data::locate::{SearchPlaces, cache_dir, holds_mnist, labels_for, mnist_images_in};
use gibbs_fa::data::{DataError, DataOrigin, DataSource, load_path};

/// A folder with a tiny MNIST-named image file (4 images of 2 x 2) and, optionally, labels.
fn fake_mnist(dir: &Path, with_labels: bool) -> PathBuf {
    let images = dir.join("t10k-images-idx3-ubyte");
    write_idx_u8(&images, &[4, 2, 2], &[9; 16]).unwrap();
    if with_labels {
        write_idx_u8(&dir.join("t10k-labels-idx1-ubyte"), &[4], &[7, 2, 1, 0]).unwrap();
    }
    images
}

#[test]
fn a_folder_holds_mnist_when_it_has_the_images_file() {
    let dir = tempfile::tempdir().unwrap();
    assert!(!holds_mnist(dir.path()));
    let images = fake_mnist(dir.path(), true);
    assert!(holds_mnist(dir.path()));
    assert_eq!(mnist_images_in(dir.path()), Some(images.clone()));
    assert_eq!(
        labels_for(&images),
        Some(dir.path().join("t10k-labels-idx1-ubyte"))
    );
    // The training set counts too.
    let train = tempfile::tempdir().unwrap();
    write_idx_u8(
        &train.path().join("train-images-idx3-ubyte.gz"),
        &[1, 1, 1],
        &[0],
    )
    .unwrap();
    assert!(holds_mnist(train.path()));
    assert!(cache_dir().is_none_or(|c| c.ends_with("gibbs-fa/mnist")));
}

#[test]
fn loading_an_mnist_folder_or_file_brings_the_labels() {
    let dir = tempfile::tempdir().unwrap();
    let images = fake_mnist(dir.path(), true);
    let d = load_path(dir.path(), None).unwrap();
    assert_eq!((d.n, d.height, d.width), (4, 2, 2));
    assert_eq!(d.labels, Some(vec![7, 2, 1, 0]));
    assert_eq!(d.origin, DataOrigin::Mnist(dir.path().to_path_buf()));
    let f = load_path(&images, None).unwrap();
    assert_eq!(f.labels, Some(vec![7, 2, 1, 0]));
    assert_eq!(f.origin, DataOrigin::Mnist(images));

    let bare = tempfile::tempdir().unwrap();
    fake_mnist(bare.path(), false);
    assert_eq!(load_path(bare.path(), None).unwrap().labels, None);
}

#[test]
fn other_idx_files_and_unknown_files() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("reconstruction.idx");
    write_idx_f32(&p, &[1, 2, 2], &[0.5, 1.5, 2.5, 3.5]).unwrap();
    let d = load_path(&p, None).unwrap();
    assert_eq!(d.pixels, vec![0.5, 1.5, 2.5, 3.5]);
    assert_eq!(d.origin, DataOrigin::File(p));

    let junk = dir.path().join("photo.jpg");
    std::fs::write(&junk, b"\xff\xd8\xff\xe0 not data").unwrap();
    let err = load_path(&junk, None).unwrap_err();
    assert!(matches!(err, DataError::UnknownFormat { .. }), "{err:?}");
    assert!(err.to_string().contains("photo.jpg"));

    let missing = dir.path().join("nothing-here");
    assert!(matches!(
        load_path(&missing, None),
        Err(DataError::NotFound(_))
    ));
}

#[test]
fn resolution_order_explicit_then_env_then_cache_then_synthetic() {
    let env = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let other = tempfile::tempdir().unwrap();
    let empty = tempfile::tempdir().unwrap();
    fake_mnist(env.path(), true);
    fake_mnist(cache.path(), true);
    let file = other.path().join("x.csv");
    std::fs::write(&file, "1,2,3,4\n").unwrap();

    let places =
        |explicit: Option<&Path>, env_dir: Option<&Path>, cache_dir: Option<&Path>| SearchPlaces {
            explicit: explicit.map(Path::to_path_buf),
            env: env_dir.map(Path::to_path_buf),
            cache: cache_dir.map(Path::to_path_buf),
        };
    let (e, c) = (Some(env.path()), Some(cache.path()));
    assert_eq!(
        places(Some(&file), e, c).resolve(),
        DataSource::File(file.clone())
    );
    assert_eq!(
        places(Some(cache.path()), e, c).resolve(),
        DataSource::Mnist(cache.path().to_path_buf())
    );
    assert_eq!(
        places(None, e, c).resolve(),
        DataSource::Mnist(env.path().to_path_buf())
    );
    // An env folder without MNIST is passed over; an env file is used.
    assert_eq!(
        places(None, Some(empty.path()), c).resolve(),
        DataSource::Mnist(cache.path().to_path_buf())
    );
    assert_eq!(
        places(None, Some(&file), c).resolve(),
        DataSource::File(file.clone())
    );
    assert_eq!(
        places(None, None, Some(empty.path())).resolve(),
        DataSource::Synthetic
    );
    assert_eq!(places(None, None, None).resolve(), DataSource::Synthetic);

    // An explicit path that does not exist is not silently replaced by other data.
    let gone = other.path().join("typo");
    let src = places(Some(&gone), e, c).resolve();
    assert_eq!(src, DataSource::File(gone.clone()));
    assert!(matches!(src.load(None, 10, 1), Err(DataError::NotFound(_))));
}

#[test]
fn descriptions_say_where_data_is_and_what_is_used() {
    let env = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    fake_mnist(env.path(), false);
    let s = SearchPlaces {
        explicit: None,
        env: Some(env.path().to_path_buf()),
        cache: Some(cache.path().to_path_buf()),
    };
    let text = s.describe();
    assert!(text.contains(&env.path().display().to_string()), "{text}");
    assert!(text.contains("GIBBS_FA_DATA"), "{text}");
    assert!(text.contains("holds MNIST"), "{text}");
    assert!(text.contains("Using: MNIST at"), "{text}");

    let none = SearchPlaces::default();
    let text = none.describe();
    assert!(text.contains("Using: built-in synthetic digits"), "{text}");
    assert!(DataSource::Synthetic.describe().contains("not real MNIST"));
}

#[test]
fn synthetic_source_loads_generated_digits() {
    let d = DataSource::Synthetic.load(None, 30, 5).unwrap();
    assert_eq!((d.n, d.height, d.width), (30, 28, 28));
    assert_eq!(d.origin, DataOrigin::Synthetic);
}
