//! IDX files (the MNIST format), gzipped or raw: reading any element type and any number of
//! dimensions, and writing f32 / u8 arrays (reconstructions, posterior spreads, masks).
//!
//! Layout: bytes `00 00 <type> <ndims>`, then `ndims` big-endian u32 sizes, then the elements,
//! big-endian, row-major. A header is never trusted for an allocation: raw files are checked
//! against their length before reading, gzipped ones are read through `Read::take` under a cap.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

use flate2::read::MultiGzDecoder;

use super::{DataError, DataOrigin, Dataset, image_shape};

/// Largest decoded data section we accept (4 GiB): far above any MNIST-like file, far below
/// what a lying header could ask for.
pub const MAX_DECODED_BYTES: u64 = 4 << 30;

/// The two bytes every gzip stream starts with.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The element types of the IDX format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdxType {
    U8,
    I8,
    I16,
    I32,
    F32,
    F64,
}

impl IdxType {
    /// The type for a header's type code, if it is one of the six the format defines.
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            0x08 => Some(Self::U8),
            0x09 => Some(Self::I8),
            0x0B => Some(Self::I16),
            0x0C => Some(Self::I32),
            0x0D => Some(Self::F32),
            0x0E => Some(Self::F64),
            _ => None,
        }
    }

    /// The header's type code.
    pub fn code(self) -> u8 {
        match self {
            Self::U8 => 0x08,
            Self::I8 => 0x09,
            Self::I16 => 0x0B,
            Self::I32 => 0x0C,
            Self::F32 => 0x0D,
            Self::F64 => 0x0E,
        }
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            Self::U8 | Self::I8 => 1,
            Self::I16 => 2,
            Self::I32 | Self::F32 => 4,
            Self::F64 => 8,
        }
    }
}

/// The elements of an IDX file in their stored type.
#[derive(Clone, Debug, PartialEq)]
pub enum IdxValues {
    U8(Vec<u8>),
    I8(Vec<i8>),
    I16(Vec<i16>),
    I32(Vec<i32>),
    F32(Vec<f32>),
    F64(Vec<f64>),
}

/// A whole IDX file: its dimensions and its elements (row-major).
#[derive(Clone, Debug, PartialEq)]
pub struct IdxArray {
    pub dims: Vec<usize>,
    pub values: IdxValues,
}

impl IdxArray {
    /// Number of elements (the product of the dimensions).
    pub fn len(&self) -> usize {
        match &self.values {
            IdxValues::U8(v) => v.len(),
            IdxValues::I8(v) => v.len(),
            IdxValues::I16(v) => v.len(),
            IdxValues::I32(v) => v.len(),
            IdxValues::F32(v) => v.len(),
            IdxValues::F64(v) => v.len(),
        }
    }

    /// True when there are no elements (never the case for an array read from a file).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The stored element type.
    pub fn element_type(&self) -> IdxType {
        match &self.values {
            IdxValues::U8(_) => IdxType::U8,
            IdxValues::I8(_) => IdxType::I8,
            IdxValues::I16(_) => IdxType::I16,
            IdxValues::I32(_) => IdxType::I32,
            IdxValues::F32(_) => IdxType::F32,
            IdxValues::F64(_) => IdxType::F64,
        }
    }

    /// The elements as f32 (i32 and f64 values are rounded to the nearest f32).
    pub fn to_f32(&self) -> Vec<f32> {
        match &self.values {
            IdxValues::U8(v) => v.iter().map(|&x| f32::from(x)).collect(),
            IdxValues::I8(v) => v.iter().map(|&x| f32::from(x)).collect(),
            IdxValues::I16(v) => v.iter().map(|&x| f32::from(x)).collect(),
            IdxValues::I32(v) => v.iter().map(|&x| x as f32).collect(),
            IdxValues::F32(v) => v.clone(),
            IdxValues::F64(v) => v.iter().map(|&x| x as f32).collect(),
        }
    }

    /// The elements as f64 (exact for every IDX type).
    pub fn to_f64(&self) -> Vec<f64> {
        match &self.values {
            IdxValues::U8(v) => v.iter().map(|&x| f64::from(x)).collect(),
            IdxValues::I8(v) => v.iter().map(|&x| f64::from(x)).collect(),
            IdxValues::I16(v) => v.iter().map(|&x| f64::from(x)).collect(),
            IdxValues::I32(v) => v.iter().map(|&x| f64::from(x)).collect(),
            IdxValues::F32(v) => v.iter().map(|&x| f64::from(x)).collect(),
            IdxValues::F64(v) => v.clone(),
        }
    }
}

/// True when the file starts with the gzip magic bytes 1f 8b.
pub fn is_gzip(path: &Path) -> Result<bool, DataError> {
    let mut file = File::open(path).map_err(|e| DataError::io(path, "opening", e))?;
    let mut head = [0u8; 2];
    let mut got = 0;
    while got < 2 {
        match file.read(&mut head[got..]) {
            Ok(0) => return Ok(false),
            Ok(k) => got += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(DataError::io(path, "reading", e)),
        }
    }
    Ok(head == GZIP_MAGIC)
}

/// Reads a whole IDX file, gzipped (detected by its magic bytes) or raw.
pub fn read_idx_array(path: &Path) -> Result<IdxArray, DataError> {
    let gz = is_gzip(path)?;
    let file = File::open(path).map_err(|e| DataError::io(path, "opening", e))?;
    let file_len = file
        .metadata()
        .map_err(|e| DataError::io(path, "reading", e))?
        .len();
    if gz {
        let mut reader = MultiGzDecoder::new(BufReader::new(file));
        let header = read_header(path, &mut reader, &|e| gz_error(path, e))?;
        // Reserve for a typical ratio only (MNIST is ~5:1) and let the buffer grow with the
        // data that really arrives: a damaged or lying file then costs memory in proportion to
        // what it inflates to, not to what its header claims (fuzzing found a 1 KB corrupt
        // gzip reserving 1.3 MB up front when the bound was gzip's 1032:1 maximum).
        let reserve = header.data_bytes.min(file_len.saturating_mul(8));
        let mut data = Vec::with_capacity(usize::try_from(reserve).unwrap_or(0));
        reader
            .take(header.data_bytes + 1)
            .read_to_end(&mut data)
            .map_err(|e| gz_error(path, e))?;
        let actual = data.len() as u64;
        if actual != header.data_bytes {
            return Err(DataError::SizeMismatch {
                path: path.to_path_buf(),
                declared: header.data_bytes,
                actual,
                at_least: actual > header.data_bytes,
            });
        }
        Ok(decode(header, &data))
    } else {
        let mut reader = BufReader::new(file);
        let header = read_header(path, &mut reader, &|e| raw_error(path, e))?;
        let actual = file_len.saturating_sub(header.header_bytes);
        if actual != header.data_bytes {
            return Err(DataError::SizeMismatch {
                path: path.to_path_buf(),
                declared: header.data_bytes,
                actual,
                at_least: false,
            });
        }
        let mut data = vec![0u8; usize::try_from(header.data_bytes).unwrap_or(0)];
        reader
            .read_exact(&mut data)
            .map_err(|e| raw_error(path, e))?;
        Ok(decode(header, &data))
    }
}

/// Reads a 3-D IDX file (N x H x W) as images, or a 2-D one (N x D) with the shape rule of
/// [`image_shape`]. Float files must hold finite values. The origin is `File(path)`.
pub fn read_idx_images(path: &Path, shape: Option<(usize, usize)>) -> Result<Dataset, DataError> {
    let array = read_idx_array(path)?;
    let (n, height, width) = match array.dims[..] {
        [n, h, w] => {
            if let Some((sh, sw)) = shape
                && (sh, sw) != (h, w)
            {
                return Err(DataError::ShapeMismatch {
                    path: path.to_path_buf(),
                    height: sh,
                    width: sw,
                    d: h * w,
                });
            }
            (n, h, w)
        }
        [n, d] => {
            let (h, w) = image_shape(path, d, shape)?;
            (n, h, w)
        }
        _ => {
            return Err(DataError::WrongShape {
                path: path.to_path_buf(),
                detail: format!(
                    "images must be a 3-D (N x H x W) or 2-D (N x D) IDX file, this one has dims {:?}",
                    array.dims
                ),
            });
        }
    };
    let pixels = array.to_f32();
    if let Some(i) = pixels.iter().position(|v| !v.is_finite()) {
        return Err(DataError::BadValue {
            path: path.to_path_buf(),
            detail: format!("value {} at element {i} is not finite", pixels[i]),
        });
    }
    Ok(Dataset {
        n,
        height,
        width,
        pixels,
        labels: None,
        origin: DataOrigin::File(path.to_path_buf()),
    })
}

/// Reads a 1-D IDX file of integer labels in 0..=255.
pub fn read_idx_labels(path: &Path) -> Result<Vec<u8>, DataError> {
    let array = read_idx_array(path)?;
    if array.dims.len() != 1 {
        return Err(DataError::WrongShape {
            path: path.to_path_buf(),
            detail: format!(
                "labels must be a 1-D IDX file, this one has dims {:?}",
                array.dims
            ),
        });
    }
    let bad = |detail: String| DataError::BadValue {
        path: path.to_path_buf(),
        detail,
    };
    match array.values {
        IdxValues::U8(v) => Ok(v),
        IdxValues::F32(_) | IdxValues::F64(_) => {
            Err(bad("labels must be integers, this file holds floats".into()))
        }
        other => {
            let wide: Vec<i64> = match other {
                IdxValues::I8(v) => v.into_iter().map(i64::from).collect(),
                IdxValues::I16(v) => v.into_iter().map(i64::from).collect(),
                IdxValues::I32(v) => v.into_iter().map(i64::from).collect(),
                _ => Vec::new(),
            };
            wide.iter()
                .enumerate()
                .map(|(i, &x)| {
                    u8::try_from(x)
                        .map_err(|_| bad(format!("label {x} at index {i} is outside 0..=255")))
                })
                .collect()
        }
    }
}

/// Writes a raw (not gzipped) IDX file of f32 elements (type 0x0D).
pub fn write_idx_f32(path: &Path, dims: &[usize], values: &[f32]) -> Result<(), DataError> {
    write_idx(path, IdxType::F32, dims, values.len(), |out| {
        for v in values {
            out.write_all(&v.to_be_bytes())?;
        }
        Ok(())
    })
}

/// Like [`write_idx_f32`], with the `len` values given a block at a time by `blocks` (so
/// no array of all of them need exist); an error if they do not add up to `len`.
pub fn write_idx_f32_blocks<B: AsRef<[f32]>>(
    path: &Path,
    dims: &[usize],
    len: usize,
    blocks: impl IntoIterator<Item = B>,
) -> Result<(), DataError> {
    write_idx(path, IdxType::F32, dims, len, |out| {
        let mut written = 0usize;
        for block in blocks {
            for v in block.as_ref() {
                out.write_all(&v.to_be_bytes())?;
            }
            written += block.as_ref().len();
        }
        if written != len {
            return Err(std::io::Error::other(format!(
                "{written} values were given for an IDX file of {len}"
            )));
        }
        Ok(())
    })
}

/// Writes a raw (not gzipped) IDX file of u8 elements (type 0x08), e.g. a 0/1 mask.
pub fn write_idx_u8(path: &Path, dims: &[usize], values: &[u8]) -> Result<(), DataError> {
    write_idx(path, IdxType::U8, dims, values.len(), |out| {
        out.write_all(values)
    })
}

/// What the header says: the element type, the dimensions and the sizes they imply.
struct Header {
    ty: IdxType,
    dims: Vec<usize>,
    header_bytes: u64,
    data_bytes: u64,
}

fn read_header(
    path: &Path,
    reader: &mut impl Read,
    map_err: &dyn Fn(std::io::Error) -> DataError,
) -> Result<Header, DataError> {
    let mut magic = [0u8; 4];
    read_exact_or(reader, &mut magic, map_err, || DataError::Truncated {
        path: path.to_path_buf(),
        detail: "shorter than the 4-byte IDX header".into(),
    })?;
    if magic[0] != 0 || magic[1] != 0 {
        return Err(DataError::WrongMagic {
            path: path.to_path_buf(),
            found: magic,
        });
    }
    let ty = IdxType::from_code(magic[2]).ok_or(DataError::UnknownTypeCode {
        path: path.to_path_buf(),
        code: magic[2],
    })?;
    let ndims = usize::from(magic[3]);
    if ndims == 0 {
        return Err(DataError::ZeroDims {
            path: path.to_path_buf(),
            detail: "IDX header declares 0 dimensions".into(),
        });
    }
    let mut raw_dims = vec![0u8; 4 * ndims];
    read_exact_or(reader, &mut raw_dims, map_err, || DataError::Truncated {
        path: path.to_path_buf(),
        detail: format!("the header declares {ndims} dimensions but ends before their sizes"),
    })?;
    let dims: Vec<usize> = raw_dims
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    if let Some(k) = dims.iter().position(|&s| s == 0) {
        return Err(DataError::ZeroDims {
            path: path.to_path_buf(),
            detail: format!("IDX dimension {k} is 0 (dims {dims:?})"),
        });
    }
    let too_large = || DataError::TooLarge {
        path: path.to_path_buf(),
        declared: u64::MAX,
        limit: MAX_DECODED_BYTES,
    };
    let data_bytes = dims
        .iter()
        .try_fold(ty.size() as u64, |acc, &s| acc.checked_mul(s as u64))
        .ok_or_else(too_large)?;
    if data_bytes > MAX_DECODED_BYTES {
        return Err(DataError::TooLarge {
            path: path.to_path_buf(),
            declared: data_bytes,
            limit: MAX_DECODED_BYTES,
        });
    }
    Ok(Header {
        ty,
        dims,
        header_bytes: 4 + 4 * ndims as u64,
        data_bytes,
    })
}

/// `read_exact`, with a clean end of input reported by `eof` and other errors by `map_err`.
fn read_exact_or(
    reader: &mut impl Read,
    buf: &mut [u8],
    map_err: &dyn Fn(std::io::Error) -> DataError,
    eof: impl Fn() -> DataError,
) -> Result<(), DataError> {
    reader.read_exact(buf).map_err(|e| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            eof()
        } else {
            map_err(e)
        }
    })
}

fn gz_error(path: &Path, e: std::io::Error) -> DataError {
    match e.kind() {
        std::io::ErrorKind::UnexpectedEof => DataError::Truncated {
            path: path.to_path_buf(),
            detail: "the gzip stream ends early".into(),
        },
        std::io::ErrorKind::InvalidInput | std::io::ErrorKind::InvalidData => {
            DataError::CorruptGzip {
                path: path.to_path_buf(),
                detail: e.to_string(),
            }
        }
        _ => DataError::io(path, "reading", e),
    }
}

fn raw_error(path: &Path, e: std::io::Error) -> DataError {
    DataError::io(path, "reading", e)
}

/// Converts the big-endian data section; `data.len()` equals `header.data_bytes`.
fn decode(header: Header, data: &[u8]) -> IdxArray {
    fn be<const K: usize, T>(data: &[u8], f: fn([u8; K]) -> T) -> Vec<T> {
        data.chunks_exact(K)
            .map(|c| {
                let mut a = [0u8; K];
                a.copy_from_slice(c);
                f(a)
            })
            .collect()
    }
    let values = match header.ty {
        IdxType::U8 => IdxValues::U8(data.to_vec()),
        IdxType::I8 => IdxValues::I8(data.iter().map(|&b| b as i8).collect()),
        IdxType::I16 => IdxValues::I16(be(data, i16::from_be_bytes)),
        IdxType::I32 => IdxValues::I32(be(data, i32::from_be_bytes)),
        IdxType::F32 => IdxValues::F32(be(data, f32::from_be_bytes)),
        IdxType::F64 => IdxValues::F64(be(data, f64::from_be_bytes)),
    };
    IdxArray {
        dims: header.dims,
        values,
    }
}

fn write_idx(
    path: &Path,
    ty: IdxType,
    dims: &[usize],
    len: usize,
    write_data: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
) -> Result<(), DataError> {
    let invalid =
        |detail: String| DataError::InvalidArgument(format!("{}: {detail}", path.display()));
    if dims.is_empty() || dims.len() > 255 {
        return Err(invalid(format!(
            "an IDX file needs 1 to 255 dimensions, got {}",
            dims.len()
        )));
    }
    if dims.iter().any(|&s| s == 0 || u32::try_from(s).is_err()) {
        return Err(invalid(format!(
            "every IDX dimension must be in 1..=4294967295, got {dims:?}"
        )));
    }
    let product = dims.iter().try_fold(1usize, |acc, &s| acc.checked_mul(s));
    if product != Some(len) {
        return Err(invalid(format!(
            "dims {dims:?} do not match the {len} values given"
        )));
    }
    let mut header = vec![0u8, 0, ty.code(), dims.len() as u8];
    for &s in dims {
        header.extend_from_slice(&(s as u32).to_be_bytes());
    }
    crate::atomic_write::write_with(path, |out| {
        out.write_all(&header)?;
        write_data(out)
    })?;
    Ok(())
}
