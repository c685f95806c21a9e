//! Writes that cannot lose data (issue 13): every writer of the library goes through
//! `gibbs_fa::atomic_write`, so a full disk or an unwritable target gives a clear error, keeps
//! the previous file whole and leaves no partial or temporary file.
//!
//! Tests run as root, for whom a chmod'ed folder is still writable, so "disk full" is a
//! file-size limit (RLIMIT_FSIZE) set in a child process: the test re-runs its own binary with
//! `GIBBS_FA_FSIZE_CHILD` set, the child ignores SIGXFSZ (so a write past the limit fails with
//! EFBIG instead of killing it), lowers the limit and performs the writes. "Read-only target"
//! is a path whose parent is a file.

use std::path::{Path, PathBuf};
use std::process::Command;

use gibbs_fa::atomic_write::{self, AtomicWriteError};
use gibbs_fa::data::idx::write_idx_f32;
use gibbs_fa::figures::save_png;
use gibbs_fa::masks::{MaskSet, write_mask_file};

const LIMIT: u64 = 64 * 1024;
const CHILD_ENV: &str = "GIBBS_FA_FSIZE_CHILD";

/// Files in `dir` (names), sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// The writes the child performs under the limit; each must fail cleanly.
fn writes_past_the_limit(dir: &Path) {
    let big = vec![7u8; 4 * LIMIT as usize];
    let path = dir.join("plain.bin");
    let err = atomic_write::write_bytes(&path, &big).expect_err("write past the limit");
    assert!(err.is_out_of_space(), "not reported as out of space: {err}");
    assert!(err.to_string().contains("plain.bin"), "{err}");
    println!("plain: {err}");

    let values = vec![1.5f32; LIMIT as usize];
    let err = write_idx_f32(
        &dir.join("export.idx"),
        &[LIMIT as usize / 16, 4, 4],
        &values,
    )
    .expect_err("IDX export past the limit");
    println!("idx: {err}");

    let (n, h, w) = (200, 28, 28);
    let masks = MaskSet::none_missing(n, h, w).expect("masks");
    let err = write_mask_file(&dir.join("masks.idx"), &masks).expect_err("mask file");
    println!("masks: {err}");

    // A noisy image does not compress below the limit.
    let img = image::RgbImage::from_fn(400, 400, |x, y| {
        let v = ((x * 7919 + y * 104_729) ^ (x * y)) as u8;
        image::Rgb([v, v.wrapping_mul(3), v.wrapping_add(91)])
    });
    let err = save_png(&img, &dir.join("figure.png")).expect_err("figure");
    println!("png: {err}");
    println!("CHILD-OK");
}

/// Child side: only does something when started by `full_disk_keeps_old_files_and_no_temp`.
#[test]
fn full_disk_child() {
    let Some(dir) = std::env::var_os(CHILD_ENV).map(PathBuf::from) else {
        return;
    };
    // SAFETY: plain libc calls on this process before any writes; no memory is shared.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
        let limit = libc::rlimit {
            rlim_cur: LIMIT,
            rlim_max: LIMIT,
        };
        assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &limit), 0, "setrlimit");
    }
    writes_past_the_limit(&dir);
}

#[test]
fn full_disk_keeps_old_files_and_no_temp() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    // Previous versions of two of the files: they must survive the failed writes whole.
    std::fs::write(dir.path().join("plain.bin"), b"old plain").expect("seed");
    std::fs::write(dir.path().join("masks.idx"), b"old masks").expect("seed");
    let before = listing(dir.path());
    let out = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "full_disk_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, dir.path())
        .output()
        .expect("run child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("CHILD-OK"),
        "child failed ({:?}):\n{stdout}\n{stderr}",
        out.status
    );
    eprintln!("{stdout}");
    assert_eq!(
        listing(dir.path()),
        before,
        "a partial or temporary file was left"
    );
    assert_eq!(
        std::fs::read(dir.path().join("plain.bin")).unwrap(),
        b"old plain"
    );
    assert_eq!(
        std::fs::read(dir.path().join("masks.idx")).unwrap(),
        b"old masks"
    );
}

#[test]
fn parent_is_a_file_gives_a_clear_error_everywhere() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("not-a-folder");
    std::fs::write(&file, b"x").expect("seed");
    let target = file.join("out.idx");
    let err: AtomicWriteError = atomic_write::write_bytes(&target, b"abc").unwrap_err();
    assert_eq!(err.stage, "creating a temporary file");
    assert!(err.to_string().contains("out.idx"), "{err}");
    assert!(write_idx_f32(&target, &[1, 2], &[1.0, 2.0]).is_err());
    let masks = MaskSet::none_missing(1, 2, 2).expect("masks");
    assert!(write_mask_file(&target, &masks).is_err());
    assert_eq!(listing(dir.path()), vec!["not-a-folder".to_string()]);
}

#[test]
fn successful_writes_replace_the_old_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("m.idx");
    std::fs::write(&path, b"old").expect("seed");
    let masks = MaskSet::none_missing(2, 2, 2).expect("masks");
    write_mask_file(&path, &masks).expect("write");
    let back = gibbs_fa::masks::read_mask_file(&path, 2, 2, 2).expect("read back");
    assert_eq!(back, masks);
    assert_eq!(listing(dir.path()), vec!["m.idx".to_string()]);
}
