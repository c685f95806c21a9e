//! Sessions: save then load gives the same session; damaged files are refused with typed
//! errors, never a panic.

use gibbs_fa::data::{DataOrigin, Dataset};
use gibbs_fa::experiment::ExperimentSpec;
use gibbs_fa::masks::{MaskKind, MaskSet, paint_stroke};
use gibbs_fa::model::{MeanStd, Prior, SamplerSettings, Schedule, Traces};
use gibbs_fa::session::{
    DataRecord, MAGIC, PosteriorSummary, Session, SessionError, data_fingerprint,
};

fn sample_session(with_reconstruction: bool) -> Session {
    let (n, h, w, m) = (5, 4, 6, 3);
    let d = h * w;
    let mut masks = MaskSet::none_missing(n, h, w).unwrap();
    // A painted stroke plus an irregular pattern, so bit packing is exercised off byte edges.
    paint_stroke(
        masks.image_mut(2),
        h,
        w,
        &[(0.5, 0.5), (3.5, 5.5)],
        0.8,
        true,
    )
    .unwrap();
    for k in (0..n * d).filter(|k| k % 7 == 3) {
        masks.missing[k] = true;
    }
    let mut spec = ExperimentSpec {
        n,
        noise_std: 2.5,
        noise_seed: 11,
        mask_seed: 12,
        ..ExperimentSpec::default()
    };
    spec.mask.kind = MaskKind::Circle;
    let settings = SamplerSettings {
        prior: Prior::Decaying {
            tau0: 3.0,
            rho: 0.9,
        },
        schedule: Schedule::Blocked,
        sweeps: 300,
        burn_in: 120,
        seed: 0xDEAD_BEEF_1234,
        ..SamplerSettings::default()
    };
    let mut settings = settings;
    // Values a slider produces, which need all 17 digits to come back bit for bit.
    settings.hyper.kappa0 = 0.1 + 0.2;
    settings.hyper.nu0 = std::f64::consts::PI * 1e-7;
    let f = |k: usize| (k as f32 * 0.37).sin() * 10.0 + 0.1 / (k as f32 + 1.0);
    let vec = |len: usize, off: usize| (0..len).map(|k| f(k + off)).collect::<Vec<f32>>();
    let traces = Traces {
        log_joint: (0..40).map(|k| -1e5 / (k as f64 + 1.0) - 0.1).collect(),
        rmse_sample: (0..40).map(|k| 50.0 / (k as f64 + 3.0)).collect(),
        rmse_posterior_mean: vec![f64::NAN, 1.0 / 3.0, f64::INFINITY],
        seconds: vec![0.012; 40],
    };
    let posterior = PosteriorSummary {
        iteration: 40,
        samples_in_moments: 20,
        d,
        m,
        w: vec(d * m, 0),
        mu: vec(d, 100),
        sigmasq: vec(d, 200).iter().map(|v| v.abs() + 0.5).collect(),
        posterior_mu: MeanStd {
            mean: vec(d, 300),
            std: vec(d, 400),
        },
        posterior_sigmasq: MeanStd {
            mean: vec(d, 500),
            std: vec(d, 600),
        },
        reconstruction: with_reconstruction.then(|| MeanStd {
            mean: vec(n * d, 700),
            std: vec(n * d, 800),
        }),
    };
    Session {
        data: DataRecord::Synthetic { n: 50, seed: 9 },
        data_fingerprint: Some("00ff".into()),
        spec,
        settings,
        masks,
        traces,
        posterior: Some(posterior),
        front_end: Some(r#"{"tab":"Reconstructions"}"#.into()),
    }
}

/// Equality that treats NaN as equal to NaN (traces may hold NaN): compare bit patterns.
fn same_bits(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

#[test]
fn save_then_load_is_identical() {
    let dir = tempfile::tempdir().unwrap();
    for with_rec in [false, true] {
        let session = sample_session(with_rec);
        let path = dir.path().join(format!("s{with_rec}.gibbsfa"));
        session.save(&path).unwrap();
        let back = Session::load(&path).unwrap();
        assert_eq!(back.data, session.data);
        assert_eq!(back.data_fingerprint, session.data_fingerprint);
        assert_eq!(back.spec, session.spec);
        assert_eq!(back.settings, session.settings);
        assert_eq!(back.masks, session.masks);
        assert_eq!(back.posterior, session.posterior);
        assert_eq!(back.front_end, session.front_end);
        let (t, u) = (&back.traces, &session.traces);
        assert!(same_bits(&t.log_joint, &u.log_joint));
        assert!(same_bits(&t.rmse_sample, &u.rmse_sample));
        assert!(same_bits(&t.rmse_posterior_mean, &u.rmse_posterior_mean));
        assert!(same_bits(&t.seconds, &u.seconds));
    }
    // Nothing but masks and settings (a session saved before any sweep).
    let mut bare = sample_session(false);
    bare.posterior = None;
    bare.traces = Traces::default();
    bare.front_end = None;
    let back = Session::from_bytes(&bare.to_bytes().unwrap()).unwrap();
    assert_eq!(back.masks, bare.masks);
    assert_eq!(back.posterior, None);
    assert!(back.traces.log_joint.is_empty());
}

#[test]
fn every_truncation_is_refused_without_panic() {
    let bytes = sample_session(true).to_bytes().unwrap();
    for len in (0..bytes.len()).step_by(7).chain([bytes.len() - 1]) {
        let err = Session::from_bytes(&bytes[..len]).unwrap_err();
        assert!(
            matches!(err, SessionError::Truncated { .. }),
            "length {len}: {err}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.gibbsfa");
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let err = Session::load(&path).unwrap_err();
    assert!(err.to_string().contains("truncated"), "{err}");
}

#[test]
fn damaged_and_foreign_files_are_refused() {
    let bytes = sample_session(true).to_bytes().unwrap();
    // A flipped bit anywhere in the payload breaks the checksum.
    for pos in [60, bytes.len() / 2, bytes.len() - 1] {
        let mut bad = bytes.clone();
        bad[pos] ^= 0x10;
        assert!(matches!(
            Session::from_bytes(&bad),
            Err(SessionError::ChecksumMismatch)
        ));
    }
    // A damaged magic: not a session.
    let mut bad = bytes.clone();
    bad[0] = b'G';
    assert!(matches!(
        Session::from_bytes(&bad),
        Err(SessionError::NotASession)
    ));
    // Foreign files: a PNG header, text, an IDX file.
    for foreign in [
        &b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"[..],
        b"{\"n\": 5}",
        &[0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 28, 0, 0, 0, 28],
    ] {
        assert!(matches!(
            Session::from_bytes(foreign),
            Err(SessionError::NotASession)
        ));
    }
    // A newer format version.
    let mut newer = bytes.clone();
    newer[16..20].copy_from_slice(&99u32.to_le_bytes());
    assert!(matches!(
        Session::from_bytes(&newer),
        Err(SessionError::UnsupportedVersion { found: 99, .. })
    ));
    // Trailing garbage.
    let mut longer = bytes.clone();
    longer.extend_from_slice(b"junk");
    assert!(matches!(
        Session::from_bytes(&longer),
        Err(SessionError::Malformed(_))
    ));
    // A valid checksum over a payload whose lengths lie: malformed, not a panic or a huge
    // allocation. Rewrite the JSON length to something absurd and fix the checksum.
    let mut lying = bytes.clone();
    lying[48..56].copy_from_slice(&u64::MAX.to_le_bytes());
    refresh_checksum(&mut lying);
    assert!(matches!(
        Session::from_bytes(&lying),
        Err(SessionError::Malformed(_))
    ));
    assert!(MAGIC.len() == 16);
}

fn refresh_checksum(bytes: &mut [u8]) {
    use md5::{Digest, Md5};
    let sum = Md5::digest(&bytes[48..]);
    bytes[32..48].copy_from_slice(&sum);
}

#[test]
fn inconsistent_sessions_are_not_written() {
    let mut s = sample_session(false);
    if let Some(p) = s.posterior.as_mut() {
        p.w.pop();
    }
    assert!(matches!(s.to_bytes(), Err(SessionError::Encode(_))));
    let mut s = sample_session(false);
    s.spec.n = 4;
    assert!(matches!(s.to_bytes(), Err(SessionError::Encode(_))));
}

#[test]
fn rebuild_uses_saved_masks_and_checks_the_data() {
    let dataset = Dataset {
        n: 8,
        height: 4,
        width: 6,
        pixels: (0..8 * 24).map(|v| (v * 37 % 256) as f32).collect(),
        labels: None,
        origin: DataOrigin::Synthetic,
    };
    let mut session = sample_session(false);
    session.data_fingerprint = data_fingerprint(&dataset, session.spec.n);
    let experiment = session.rebuild(&dataset).unwrap();
    assert_eq!(experiment.mask, session.masks);
    assert_eq!(experiment.spec, session.spec);
    let mut changed = dataset.clone();
    changed.pixels[3] += 1.0;
    assert!(matches!(
        session.rebuild(&changed),
        Err(SessionError::DataMismatch { .. })
    ));
    let mut other_shape = dataset.clone();
    other_shape.height = 6;
    other_shape.width = 4;
    assert!(matches!(
        session.rebuild(&other_shape),
        Err(SessionError::DataMismatch { .. })
    ));
    assert_eq!(data_fingerprint(&dataset, 9), None);
}

#[test]
fn records_come_from_sources_and_snapshots() {
    use gibbs_fa::data::DataSource;
    use gibbs_fa::sampler::{RunState, Snapshot};
    let path = std::path::PathBuf::from("/data/mnist");
    for (source, shape, n, seed) in [
        (DataSource::Mnist(path.clone()), None, 0, 0),
        (DataSource::File(path.clone()), Some((28, 28)), 0, 0),
        (DataSource::Synthetic, None, 500, 7),
    ] {
        let record = DataRecord::from_source(&source, shape, n, seed);
        assert_eq!(record.source(), (source, shape, n, seed));
    }
    let (d, m) = (6, 2);
    let stats = MeanStd {
        mean: vec![1.5; d],
        std: vec![0.25; d],
    };
    let snapshot = Snapshot {
        iteration: 17,
        n: 3,
        d,
        m,
        image_shape: Some((2, 3)),
        w: (0..d * m).map(|k| k as f32).collect(),
        mu: vec![2.0; d],
        sigmasq: vec![3.0; d],
        posterior_mu: stats.clone(),
        posterior_sigmasq: stats.clone(),
        samples_in_moments: 7,
        burn_in_from: 0,
        images: Vec::new(),
        rmse_mean_impute: None,
        missing_fraction: 0.2,
        last_sweep: None,
        settings: SamplerSettings::default(),
        state: RunState::Paused,
    };
    let p = PosteriorSummary::from_snapshot(&snapshot, None);
    assert_eq!((p.iteration, p.samples_in_moments, p.d, p.m), (17, 7, d, m));
    assert_eq!(p.w, snapshot.w);
    assert_eq!(
        (p.mu.clone(), p.sigmasq.clone()),
        (snapshot.mu.clone(), snapshot.sigmasq.clone())
    );
    assert_eq!(p.posterior_sigmasq, stats);
}

#[test]
fn saving_into_a_missing_folder_is_an_error_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no-such-folder").join("s.gibbsfa");
    let err = sample_session(false).save(&path).unwrap_err();
    assert!(matches!(err, SessionError::Write(_)), "{err}");
    assert!(err.to_string().contains("s.gibbsfa"), "{err}");
    // A good save leaves exactly the session file behind (no temporary file).
    let good = dir.path().join("s.gibbsfa");
    sample_session(false).save(&good).unwrap();
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("s.gibbsfa")]);
}
