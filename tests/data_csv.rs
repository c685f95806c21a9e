//! CSV images: header detection, shapes, label column, and errors that name the line.

use std::path::{Path, PathBuf};

use gibbs_fa::data::csv::read_csv;
use gibbs_fa::data::{DataError, DataOrigin, load_path};

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn row(d: usize, start: usize) -> String {
    (0..d)
        .map(|j| ((start + j) % 256).to_string())
        .collect::<Vec<_>>()
        .join(",")
}

#[test]
fn rows_of_784_are_28_by_28_with_or_without_header() {
    let dir = tempfile::tempdir().unwrap();
    let header: String = (0..784)
        .map(|j| format!("p{j}"))
        .collect::<Vec<_>>()
        .join(",");
    let body = format!("{}\n{}\n", row(784, 0), row(784, 5));
    for (name, text) in [
        ("plain.csv", body.clone()),
        ("header.csv", format!("{header}\n{body}")),
    ] {
        let p = write(dir.path(), name, &text);
        let d = read_csv(&p, None).unwrap();
        assert_eq!((d.n, d.height, d.width), (2, 28, 28), "{name}");
        assert_eq!(d.pixels[783], (783 % 256) as f32);
        assert_eq!(d.pixels[784], 5.0);
        assert_eq!(d.labels, None);
        assert_eq!(d.origin, DataOrigin::File(p.clone()));
        // load_path dispatches on the extension.
        assert_eq!(load_path(&p, None).unwrap(), d);
    }
}

#[test]
fn square_rows_infer_their_side_and_others_need_a_shape() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "sq.csv", "1,2,3,4\n5,6,7,8\r\n\n");
    let d = read_csv(&p, None).unwrap();
    assert_eq!((d.n, d.height, d.width), (2, 2, 2));
    assert_eq!(d.pixels, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);

    let p = write(dir.path(), "rect.csv", "1,2,3,4,5,6\n");
    let err = read_csv(&p, None).unwrap_err();
    assert!(matches!(err, DataError::NeedShape { d: 6, .. }));
    assert!(err.to_string().contains("--shape"), "{err}");
    let d = read_csv(&p, Some((2, 3))).unwrap();
    assert_eq!((d.height, d.width), (2, 3));
    assert!(matches!(
        read_csv(&p, Some((4, 4))),
        Err(DataError::ShapeMismatch { .. })
    ));
}

#[test]
fn a_label_header_makes_the_first_column_labels() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "kaggle.csv",
        "label,pixel0,pixel1,pixel2,pixel3\n7,0,10,20,30\n2,1,2,3,4\n",
    );
    let d = read_csv(&p, None).unwrap();
    assert_eq!((d.n, d.height, d.width), (2, 2, 2));
    assert_eq!(d.labels, Some(vec![7, 2]));
    assert_eq!(d.pixels, vec![0.0, 10.0, 20.0, 30.0, 1.0, 2.0, 3.0, 4.0]);

    let p = write(
        dir.path(),
        "badlabel.csv",
        "label,a,b,c,d\n7,0,0,0,0\n2.5,0,0,0,0\n",
    );
    let err = read_csv(&p, None).unwrap_err();
    assert!(matches!(err, DataError::Csv { line: 3, .. }), "{err:?}");
}

#[test]
fn other_separators_work() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [
        ("semi.csv", "1;2;3;4\n"),
        ("tab.tsv", "1\t2\t3\t4\n"),
        ("space.txt", "1 2  3 4\n"),
    ] {
        let p = write(dir.path(), name, text);
        let d = load_path(&p, None).unwrap();
        assert_eq!(d.pixels, vec![1.0, 2.0, 3.0, 4.0], "{name}");
    }
}

#[test]
fn errors_name_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("ragged.csv", "1,2,3,4\n1,2,3\n", 2usize, "fields"),
        ("nan.csv", "a,b,c,d\n1,2,3,4\n1,NaN,3,4\n", 3, "not finite"),
        ("inf.csv", "1,2,3,inf\n", 1, "not finite"),
        ("word.csv", "1,2,3,4\n\n1,2,x,4\n", 3, "not a number"),
    ];
    for (name, text, line, what) in cases {
        let p = write(dir.path(), name, text);
        let err = read_csv(&p, None).unwrap_err();
        assert!(
            matches!(err, DataError::Csv { line: l, .. } if l == line),
            "{name}: {err:?}"
        );
        let msg = err.to_string();
        assert!(
            msg.contains(name) && msg.contains(&format!("line {line}")),
            "{msg}"
        );
        assert!(msg.contains(what), "{msg}");
    }
    let p = write(dir.path(), "empty.csv", "a,b\n\n");
    assert!(matches!(
        read_csv(&p, None),
        Err(DataError::UnknownFormat { .. })
    ));
    let p = dir.path().join("missing.csv");
    assert!(matches!(read_csv(&p, None), Err(DataError::NotFound(_))));
}
