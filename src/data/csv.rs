//! CSV files with one image per row.
//!
//! Fields are separated by commas (or, when a line has none, by semicolons, tabs or spaces).
//! The first row is a header when any of its fields is not a number; a header whose first
//! field is `label` (as in the common "label,pixel0,...,pixel783" files) makes the first column
//! the labels. The image shape follows [`image_shape`](super::image_shape).

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use super::{DataError, DataOrigin, Dataset, image_shape};

/// Reads a CSV of images; `shape` is needed only when a row is neither 784 values nor a
/// perfect square. Errors name the line (counting from 1).
pub fn read_csv(path: &Path, shape: Option<(usize, usize)>) -> Result<Dataset, DataError> {
    let file = File::open(path).map_err(|e| DataError::io(path, "opening", e))?;
    let csv_err = |line: usize, detail: String| DataError::Csv {
        path: path.to_path_buf(),
        line,
        detail,
    };

    let mut separator: Option<Separator> = None;
    let mut has_label_column = false;
    let mut columns: Option<usize> = None;
    let mut pixels: Vec<f32> = Vec::new();
    let mut labels: Vec<u8> = Vec::new();
    let mut n = 0usize;
    let mut first_content_line = true;

    for (index, line) in BufReader::new(file).lines().enumerate() {
        let line_no = index + 1;
        let line = line.map_err(|e| {
            if e.kind() == std::io::ErrorKind::InvalidData {
                csv_err(line_no, "not UTF-8 text".into())
            } else {
                DataError::io(path, "reading", e)
            }
        })?;
        let text = line.trim_start_matches('\u{feff}').trim();
        if text.is_empty() {
            continue;
        }
        let sep = *separator.get_or_insert_with(|| Separator::detect(text));
        let fields: Vec<&str> = sep.split(text);

        if first_content_line {
            first_content_line = false;
            if fields.iter().any(|f| parse_number(f).is_none()) {
                has_label_column = fields
                    .first()
                    .is_some_and(|f| unquote(f).eq_ignore_ascii_case("label"));
                columns = Some(fields.len());
                continue;
            }
        }

        let expected = *columns.get_or_insert(fields.len());
        if fields.len() != expected {
            return Err(csv_err(
                line_no,
                format!("{} fields, but the first row has {expected}", fields.len()),
            ));
        }
        let mut values = fields.iter().enumerate();
        if has_label_column && let Some((_, field)) = values.next() {
            labels.push(parse_label(field).ok_or_else(|| {
                csv_err(
                    line_no,
                    format!("label {field:?} is not an integer in 0..=255"),
                )
            })?);
        }
        for (col, field) in values {
            match parse_number(field) {
                Some(v) if v.is_finite() => pixels.push(v),
                Some(v) => {
                    return Err(csv_err(
                        line_no,
                        format!("column {}: value {v} is not finite", col + 1),
                    ));
                }
                None => {
                    return Err(csv_err(
                        line_no,
                        format!("column {}: {field:?} is not a number", col + 1),
                    ));
                }
            }
        }
        n += 1;
    }

    if n == 0 {
        return Err(DataError::UnknownFormat {
            path: path.to_path_buf(),
            detail: "CSV file has no data rows".into(),
        });
    }
    let d = pixels.len() / n;
    if d == 0 {
        return Err(DataError::UnknownFormat {
            path: path.to_path_buf(),
            detail: "CSV rows hold labels but no pixel values".into(),
        });
    }
    let (height, width) = image_shape(path, d, shape)?;
    Ok(Dataset {
        n,
        height,
        width,
        pixels,
        labels: has_label_column.then_some(labels),
        origin: DataOrigin::File(path.to_path_buf()),
    })
}

#[derive(Clone, Copy)]
enum Separator {
    Comma,
    Semicolon,
    Tab,
    Whitespace,
}

impl Separator {
    fn detect(line: &str) -> Self {
        if line.contains(',') {
            Self::Comma
        } else if line.contains(';') {
            Self::Semicolon
        } else if line.contains('\t') {
            Self::Tab
        } else {
            Self::Whitespace
        }
    }

    fn split(self, line: &str) -> Vec<&str> {
        match self {
            Self::Comma => line.split(',').map(str::trim).collect(),
            Self::Semicolon => line.split(';').map(str::trim).collect(),
            Self::Tab => line.split('\t').map(str::trim).collect(),
            Self::Whitespace => line.split_whitespace().collect(),
        }
    }
}

fn unquote(field: &str) -> &str {
    field.trim().trim_matches('"').trim()
}

/// A number, or `None` when the field is not one. "nan" and "inf" parse (and are rejected
/// later with a clearer message than "not a number").
fn parse_number(field: &str) -> Option<f32> {
    unquote(field).parse::<f32>().ok()
}

fn parse_label(field: &str) -> Option<u8> {
    let v = parse_number(field)?;
    (v.fract() == 0.0 && (0.0..=255.0).contains(&v)).then_some(v as u8)
}
