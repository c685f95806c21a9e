//! IDX reading (every type, gz and raw, any dims), its errors, and the writers.

use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;
use gibbs_fa::data::idx::{
    IdxType, IdxValues, MAX_DECODED_BYTES, read_idx_array, read_idx_images, read_idx_labels,
    write_idx_f32, write_idx_u8,
};
use gibbs_fa::data::{DataError, DataOrigin, load_path};

fn header(code: u8, dims: &[u32]) -> Vec<u8> {
    let mut h = vec![0, 0, code, dims.len() as u8];
    for d in dims {
        h.extend_from_slice(&d.to_be_bytes());
    }
    h
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

#[test]
fn reads_every_element_type_big_endian() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(u8, Vec<u8>, IdxValues)> = vec![
        (0x08, vec![0, 7, 255], IdxValues::U8(vec![0, 7, 255])),
        (0x09, vec![0x80, 0xff, 5], IdxValues::I8(vec![-128, -1, 5])),
        (
            0x0B,
            [-2i16, 300, 7]
                .iter()
                .flat_map(|v| v.to_be_bytes())
                .collect(),
            IdxValues::I16(vec![-2, 300, 7]),
        ),
        (
            0x0C,
            [-70000i32, 1, 2_000_000_000]
                .iter()
                .flat_map(|v| v.to_be_bytes())
                .collect(),
            IdxValues::I32(vec![-70000, 1, 2_000_000_000]),
        ),
        (
            0x0D,
            [1.5f32, -0.25, 1e30]
                .iter()
                .flat_map(|v| v.to_be_bytes())
                .collect(),
            IdxValues::F32(vec![1.5, -0.25, 1e30]),
        ),
        (
            0x0E,
            [1.0f64 / 3.0, -2.0, 1e300]
                .iter()
                .flat_map(|v| v.to_be_bytes())
                .collect(),
            IdxValues::F64(vec![1.0 / 3.0, -2.0, 1e300]),
        ),
    ];
    for (code, data, expected) in cases {
        let mut bytes = header(code, &[3]);
        bytes.extend_from_slice(&data);
        for (name, content) in [("raw.idx", bytes.clone()), ("gz.idx.gz", gzip(&bytes))] {
            let p = write(dir.path(), name, &content);
            let a = read_idx_array(&p).unwrap();
            assert_eq!(a.dims, vec![3]);
            assert_eq!(a.values, expected, "type 0x{code:02x} from {name}");
            assert_eq!(a.element_type().code(), code);
            assert_eq!(a.element_type().size() * 3, data.len());
        }
    }
}

#[test]
fn reads_any_number_of_dims_and_converts() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = header(0x0B, &[2, 1, 3, 2]);
    let vals: Vec<i16> = (0..12).map(|v| v * 100 - 600).collect();
    bytes.extend(vals.iter().flat_map(|v| v.to_be_bytes()));
    let p = write(dir.path(), "four.idx", &bytes);
    let a = read_idx_array(&p).unwrap();
    assert_eq!(a.dims, vec![2, 1, 3, 2]);
    assert_eq!(a.len(), 12);
    assert_eq!(
        a.to_f64(),
        vals.iter().map(|&v| f64::from(v)).collect::<Vec<_>>()
    );
    assert_eq!(
        a.to_f32(),
        vals.iter().map(|&v| f32::from(v)).collect::<Vec<_>>()
    );
}

#[test]
fn three_d_file_is_a_dataset_and_labels_load() {
    let dir = tempfile::tempdir().unwrap();
    let pixels: Vec<u8> = (0..2 * 3 * 4).map(|v| v as u8 * 10).collect();
    let mut bytes = header(0x08, &[2, 3, 4]);
    bytes.extend_from_slice(&pixels);
    let p = write(dir.path(), "imgs.idx.gz", &gzip(&bytes));
    let d = read_idx_images(&p, None).unwrap();
    assert_eq!((d.n, d.height, d.width), (2, 3, 4));
    assert_eq!(
        d.pixels,
        pixels.iter().map(|&v| f32::from(v)).collect::<Vec<_>>()
    );
    assert_eq!(d.origin, DataOrigin::File(p.clone()));
    assert_eq!(d.image(1)[0], 120.0);

    let mut lab = header(0x08, &[4]);
    lab.extend_from_slice(&[7, 2, 1, 0]);
    let lp = write(dir.path(), "labels.idx", &lab);
    assert_eq!(read_idx_labels(&lp).unwrap(), vec![7, 2, 1, 0]);

    let mut wide = header(0x0C, &[2]);
    wide.extend([3i32, 300].iter().flat_map(|v| v.to_be_bytes()));
    let wp = write(dir.path(), "wide.idx", &wide);
    let err = read_idx_labels(&wp).unwrap_err();
    assert!(matches!(err, DataError::BadValue { .. }), "{err}");
    // A 3-D file is not labels, a 1-D file is not images.
    assert!(matches!(
        read_idx_labels(&p),
        Err(DataError::WrongShape { .. })
    ));
    assert!(matches!(
        read_idx_images(&lp, None),
        Err(DataError::WrongShape { .. })
    ));
}

#[test]
fn two_d_file_uses_the_shape_rule_and_floats_must_be_finite() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("flat.idx");
    write_idx_f32(&p, &[2, 6], &[0.0; 12]).unwrap();
    assert!(matches!(
        read_idx_images(&p, None),
        Err(DataError::NeedShape { d: 6, .. })
    ));
    let d = read_idx_images(&p, Some((2, 3))).unwrap();
    assert_eq!((d.n, d.height, d.width), (2, 2, 3));

    let mut vals = vec![1.0f32; 8];
    vals[5] = f32::NAN;
    write_idx_f32(&p, &[2, 2, 2], &vals).unwrap();
    let err = read_idx_images(&p, None).unwrap_err();
    assert!(matches!(err, DataError::BadValue { .. }));
    assert!(err.to_string().contains("element 5"), "{err}");
}

#[test]
fn writers_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("recon.idx");
    let vals: Vec<f32> = (0..60).map(|v| v as f32 * 0.37 - 5.0).collect();
    write_idx_f32(&p, &[3, 4, 5], &vals).unwrap();
    let a = read_idx_array(&p).unwrap();
    assert_eq!(a.dims, vec![3, 4, 5]);
    assert_eq!(a.element_type(), IdxType::F32);
    assert_eq!(a.values, IdxValues::F32(vals));
    assert_eq!(std::fs::metadata(&p).unwrap().len(), 4 + 12 + 240);

    let m = dir.path().join("mask.idx");
    let mask: Vec<u8> = (0..24).map(|v| (v % 3 == 0) as u8).collect();
    write_idx_u8(&m, &[2, 3, 4], &mask).unwrap();
    let b = read_idx_array(&m).unwrap();
    assert_eq!(b.dims, vec![2, 3, 4]);
    assert_eq!(b.values, IdxValues::U8(mask));

    // Dims must match the data and be non-zero.
    assert!(matches!(
        write_idx_u8(&m, &[2, 3], &[0; 5]),
        Err(DataError::InvalidArgument(_))
    ));
    assert!(matches!(
        write_idx_u8(&m, &[0], &[]),
        Err(DataError::InvalidArgument(_))
    ));
    assert!(matches!(
        write_idx_u8(&m, &[], &[]),
        Err(DataError::InvalidArgument(_))
    ));
    let missing = dir.path().join("no/such/folder/x.idx");
    assert!(write_idx_u8(&missing, &[1], &[1]).is_err());
}

/// Each bad file gives its own error, and the message names the file.
#[test]
fn bad_files_give_typed_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut good = header(0x08, &[2, 2, 2]);
    good.extend_from_slice(&[1; 8]);
    let check = |name: &str, bytes: &[u8], ok: fn(&DataError) -> bool| {
        let p = write(dir.path(), name, bytes);
        let err = read_idx_array(&p).unwrap_err();
        assert!(ok(&err), "{name}: unexpected error {err:?}");
        assert!(err.to_string().contains(name), "{name}: message {err}");
    };
    check("short_magic.idx", &[0, 0, 8], |e| {
        matches!(e, DataError::Truncated { .. })
    });
    check("short_dims.idx", &good[..9], |e| {
        matches!(e, DataError::Truncated { .. })
    });
    check("magic.idx", &[1, 2, 8, 1, 0, 0, 0, 1, 5], |e| {
        matches!(
            e,
            DataError::WrongMagic {
                found: [1, 2, 8, 1],
                ..
            }
        )
    });
    check("type.idx", &[0, 0, 0x0A, 1, 0, 0, 0, 1, 5], |e| {
        matches!(e, DataError::UnknownTypeCode { code: 0x0A, .. })
    });
    check("nodims.idx", &[0, 0, 8, 0, 5], |e| {
        matches!(e, DataError::ZeroDims { .. })
    });
    let mut zero = header(0x08, &[3, 0]);
    zero.push(1);
    check("zerodim.idx", &zero, |e| {
        matches!(e, DataError::ZeroDims { .. })
    });
    check("shorter.idx", &good[..good.len() - 1], |e| {
        matches!(
            e,
            DataError::SizeMismatch {
                declared: 8,
                actual: 7,
                ..
            }
        )
    });
    let mut longer = good.clone();
    longer.push(9);
    check("longer.idx", &longer, |e| {
        matches!(
            e,
            DataError::SizeMismatch {
                declared: 8,
                actual: 9,
                ..
            }
        )
    });
    check("shorter.gz", &gzip(&good[..good.len() - 3]), |e| {
        matches!(
            e,
            DataError::SizeMismatch {
                declared: 8,
                actual: 5,
                ..
            }
        )
    });
    check("longer.gz", &gzip(&longer), |e| {
        matches!(
            e,
            DataError::SizeMismatch {
                declared: 8,
                at_least: true,
                ..
            }
        )
    });
    check(
        "corrupt.gz",
        &[0x1f, 0x8b, 0xff, 0xff, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
        |e| {
            matches!(
                e,
                DataError::CorruptGzip { .. } | DataError::Truncated { .. }
            )
        },
    );
    let big: Vec<u8> = (0..5000u32).flat_map(|v| v.to_be_bytes()).collect();
    let mut long_file = header(0x0C, &[5000]);
    long_file.extend_from_slice(&big);
    let gz = gzip(&long_file);
    check("cut.gz", &gz[..gz.len() / 2], |e| {
        matches!(
            e,
            DataError::Truncated { .. } | DataError::CorruptGzip { .. }
        )
    });
    check("empty.idx", &[], |e| {
        matches!(e, DataError::Truncated { .. })
    });
}

/// A header claiming gigabytes over a tiny body is rejected without allocating for it.
#[test]
fn lying_headers_do_not_allocate() {
    let dir = tempfile::tempdir().unwrap();
    // 1000^3 bytes declared (under the cap), 10 bytes present.
    let mut lie = header(0x08, &[1000, 1000, 1000]);
    lie.extend_from_slice(&[0; 10]);
    let raw = write(dir.path(), "lie.idx", &lie);
    assert!(matches!(
        read_idx_array(&raw),
        Err(DataError::SizeMismatch {
            declared: 1_000_000_000,
            actual: 10,
            ..
        })
    ));
    let gz = write(dir.path(), "lie.idx.gz", &gzip(&lie));
    assert!(matches!(
        read_idx_array(&gz),
        Err(DataError::SizeMismatch {
            declared: 1_000_000_000,
            actual: 10,
            ..
        })
    ));
    // Past the cap, or overflowing u64 altogether.
    let mut huge = header(0x0E, &[u32::MAX, u32::MAX]);
    huge.push(0);
    let p = write(dir.path(), "huge.idx", &huge);
    assert!(
        matches!(read_idx_array(&p), Err(DataError::TooLarge { limit, .. }) if limit == MAX_DECODED_BYTES)
    );
    let overflow = header(0x0E, &[u32::MAX; 5]);
    let p = write(dir.path(), "overflow.idx", &overflow);
    assert!(matches!(
        read_idx_array(&p),
        Err(DataError::TooLarge { .. })
    ));
}

#[test]
fn missing_file_is_not_found() {
    let err = read_idx_array(Path::new("/definitely/not/here.idx")).unwrap_err();
    assert!(matches!(err, DataError::NotFound(_)));
    assert!(err.to_string().contains("/definitely/not/here.idx"));
}

#[test]
fn labels_that_do_not_match_the_images_are_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut imgs = header(0x08, &[3, 2, 2]);
    imgs.extend_from_slice(&[0; 12]);
    write(dir.path(), "t10k-images-idx3-ubyte", &imgs);
    let mut labs = header(0x08, &[2]);
    labs.extend_from_slice(&[1, 2]);
    write(dir.path(), "t10k-labels-idx1-ubyte.gz", &gzip(&labs));
    let err = load_path(dir.path(), None).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::LabelCountMismatch {
                n_images: 3,
                n_labels: 2,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("t10k-labels-idx1-ubyte.gz"),
        "{err}"
    );
}
