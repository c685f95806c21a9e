//! Where the data comes from: an explicit path, else the folder in `GIBBS_FA_DATA`, else the
//! user's cache folder (`<cache>/gibbs-fa/mnist`), else nothing, in which case the caller may
//! download MNIST or use the built-in synthetic digits. Also [`load_path`], which loads any
//! supported file or folder.

use std::path::{Path, PathBuf};

use super::idx::{read_idx_images, read_idx_labels};
use super::{DataError, DataOrigin, Dataset, csv, png_folder, synthetic};

/// Environment variable naming a folder that holds MNIST (or a data file).
pub const DATA_ENV_VAR: &str = "GIBBS_FA_DATA";

/// MNIST image files a folder may hold, in order of preference: the test set (the protocol's
/// 10,000 images) first, raw before gzipped, then the names some redistributions use.
pub const MNIST_IMAGE_NAMES: &[&str] = &[
    "t10k-images-idx3-ubyte",
    "t10k-images-idx3-ubyte.gz",
    "t10k-images.idx3-ubyte",
    "train-images-idx3-ubyte",
    "train-images-idx3-ubyte.gz",
    "train-images.idx3-ubyte",
];

/// The folder this app downloads MNIST into: `<user cache>/gibbs-fa/mnist`, if the system has
/// a cache folder.
pub fn cache_dir() -> Option<PathBuf> {
    dirs::cache_dir().map(|d| d.join("gibbs-fa").join("mnist"))
}

/// The MNIST images file inside `folder`, when the folder holds MNIST.
pub fn mnist_images_in(folder: &Path) -> Option<PathBuf> {
    MNIST_IMAGE_NAMES
        .iter()
        .map(|name| folder.join(name))
        .find(|p| p.is_file())
}

/// True when `folder` holds an MNIST images file.
pub fn holds_mnist(folder: &Path) -> bool {
    folder.is_dir() && mnist_images_in(folder).is_some()
}

/// The labels file next to an MNIST-named images file (`...-images-idx3-ubyte[.gz]` →
/// `...-labels-idx1-ubyte[.gz]`, gzipped or raw), if there is one.
pub fn labels_for(images: &Path) -> Option<PathBuf> {
    let name = images.file_name()?.to_str()?;
    let base = name.strip_suffix(".gz").unwrap_or(name);
    let labels_base = if base.contains("images-idx3") {
        base.replace("images-idx3", "labels-idx1")
    } else if base.contains("images.idx3") {
        base.replace("images.idx3", "labels.idx1")
    } else {
        return None;
    };
    let folder = images.parent().unwrap_or(Path::new(""));
    [labels_base.clone(), format!("{labels_base}.gz")]
        .into_iter()
        .map(|n| folder.join(n))
        .find(|p| p.is_file())
}

/// Loads a dataset from a path of any supported kind:
/// a folder holding MNIST, a folder of PNGs, a `.csv` (or `.tsv`/`.txt`) file, or an IDX file,
/// gzipped or raw. Labels next to an MNIST-named IDX file are loaded too. `shape` is needed only
/// when the pixels per image are neither 784 nor a perfect square (CSV, 2-D IDX).
pub fn load_path(path: &Path, shape: Option<(usize, usize)>) -> Result<Dataset, DataError> {
    if !path.exists() {
        return Err(DataError::NotFound(path.to_path_buf()));
    }
    if path.is_dir() {
        return match mnist_images_in(path) {
            Some(images) => {
                let mut data = load_idx_with_labels(&images, shape)?;
                data.origin = DataOrigin::Mnist(path.to_path_buf());
                Ok(data)
            }
            None => png_folder::read_png_folder(path),
        };
    }
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    if matches!(ext.as_deref(), Some("csv" | "tsv" | "txt")) {
        return csv::read_csv(path, shape);
    }
    match load_idx_with_labels(path, shape) {
        Err(DataError::WrongMagic { .. }) if !looks_idx_named(path) => {
            Err(DataError::UnknownFormat {
                path: path.to_path_buf(),
                detail: "not a supported data file: expected an IDX file (gzipped or raw), a \
                         .csv file, or a folder of MNIST files or PNG images"
                    .into(),
            })
        }
        other => other,
    }
}

/// Reads an IDX images file and, if it has an MNIST-named labels file beside it, its labels.
fn load_idx_with_labels(
    images: &Path,
    shape: Option<(usize, usize)>,
) -> Result<Dataset, DataError> {
    let mut data = read_idx_images(images, shape)?;
    if let Some(labels_path) = labels_for(images) {
        let labels = read_idx_labels(&labels_path)?;
        if labels.len() != data.n {
            return Err(DataError::LabelCountMismatch {
                images: images.to_path_buf(),
                labels: labels_path,
                n_images: data.n,
                n_labels: labels.len(),
            });
        }
        data.labels = Some(labels);
    }
    let mnist_named = images
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| MNIST_IMAGE_NAMES.contains(&n));
    if mnist_named {
        data.origin = DataOrigin::Mnist(images.to_path_buf());
    }
    Ok(data)
}

fn looks_idx_named(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    name.contains("idx") || name.contains("ubyte")
}

/// What the app will load.
#[derive(Clone, Debug, PartialEq)]
pub enum DataSource {
    /// A folder holding MNIST.
    Mnist(PathBuf),
    /// A user file or folder of another kind (IDX, CSV, PNG folder); may not exist, in which
    /// case loading says so rather than silently using other data.
    File(PathBuf),
    /// The built-in synthetic digits.
    Synthetic,
}

impl DataSource {
    /// One line for the user: what will be loaded.
    pub fn describe(&self) -> String {
        match self {
            DataSource::Mnist(p) => format!("MNIST at {}", p.display()),
            DataSource::File(p) => format!("data file {}", p.display()),
            DataSource::Synthetic => {
                "built-in synthetic digits (MNIST not found; not real MNIST)".to_string()
            }
        }
    }

    /// Loads the source. `synthetic_n` and `synthetic_seed` are used only for
    /// [`DataSource::Synthetic`]; `shape` only for files that need one.
    pub fn load(
        &self,
        shape: Option<(usize, usize)>,
        synthetic_n: usize,
        synthetic_seed: u64,
    ) -> Result<Dataset, DataError> {
        match self {
            DataSource::Mnist(p) | DataSource::File(p) => load_path(p, shape),
            DataSource::Synthetic => synthetic::generate(synthetic_n, synthetic_seed),
        }
    }
}

/// The places searched, in order. Built from the environment by
/// [`SearchPlaces::from_environment`], or by hand (tests, a GUI's settings).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SearchPlaces {
    /// A path the user gave (file or folder).
    pub explicit: Option<PathBuf>,
    /// The value of `GIBBS_FA_DATA`, if set and not empty.
    pub env: Option<PathBuf>,
    /// The cache folder, if the system has one.
    pub cache: Option<PathBuf>,
}

impl SearchPlaces {
    /// The explicit path, `GIBBS_FA_DATA` and the user's cache folder.
    pub fn from_environment(explicit: Option<&Path>) -> Self {
        SearchPlaces {
            explicit: explicit.map(Path::to_path_buf),
            env: std::env::var_os(DATA_ENV_VAR)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            cache: cache_dir(),
        }
    }

    /// The first place that gives data. An explicit path always wins (even one that does not
    /// exist: loading it then reports the problem instead of quietly using other data). The
    /// environment variable counts when it names a folder holding MNIST or an existing file;
    /// the cache when it holds MNIST.
    pub fn resolve(&self) -> DataSource {
        if let Some(p) = &self.explicit {
            return if holds_mnist(p) {
                DataSource::Mnist(p.clone())
            } else {
                DataSource::File(p.clone())
            };
        }
        if let Some(p) = &self.env {
            if holds_mnist(p) {
                return DataSource::Mnist(p.clone());
            }
            if p.is_file() {
                return DataSource::File(p.clone());
            }
        }
        match &self.cache {
            Some(c) if holds_mnist(c) => DataSource::Mnist(c.clone()),
            _ => DataSource::Synthetic,
        }
    }

    /// Several lines for the user: each place, what it holds, and what will be used.
    pub fn describe(&self) -> String {
        let state = |p: &Path| {
            if holds_mnist(p) {
                "holds MNIST"
            } else if p.is_file() {
                "a data file"
            } else if p.is_dir() {
                "a folder without MNIST files"
            } else {
                "does not exist"
            }
        };
        let mut lines = vec!["Data is looked for in this order:".to_string()];
        match &self.explicit {
            Some(p) => lines.push(format!(
                "  1. the path given: {} ({})",
                p.display(),
                state(p)
            )),
            None => lines.push("  1. a path given by the user (none given)".into()),
        }
        match &self.env {
            Some(p) => lines.push(format!(
                "  2. {DATA_ENV_VAR} = {} ({})",
                p.display(),
                state(p)
            )),
            None => lines.push(format!("  2. the folder in {DATA_ENV_VAR} (not set)")),
        }
        match &self.cache {
            Some(p) => lines.push(format!(
                "  3. the cache folder {} ({})",
                p.display(),
                if holds_mnist(p) {
                    "holds MNIST"
                } else {
                    "no MNIST yet: a download puts it there"
                }
            )),
            None => lines.push("  3. the cache folder (this system has none)".into()),
        }
        lines.push("  4. otherwise the built-in synthetic digits".into());
        lines.push(format!("Using: {}", self.resolve().describe()));
        lines.join("\n")
    }
}

/// Where data will come from, searching the explicit path, `GIBBS_FA_DATA` and the cache.
pub fn find_data(explicit: Option<&Path>) -> DataSource {
    SearchPlaces::from_environment(explicit).resolve()
}

/// A human-readable account of the search for [`find_data`] (for `gibbs-fa data` and the GUI).
pub fn describe_search(explicit: Option<&Path>) -> String {
    SearchPlaces::from_environment(explicit).describe()
}
