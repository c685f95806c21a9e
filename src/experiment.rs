//! One experiment of the notebook's protocol: the first N images, plus noise (X_true), plus
//! masks of missing pixels, turned into the sampler's [`Problem`]. Shared by the CLI and the
//! desktop app so both prepare data the same way.

use serde::{Deserialize, Serialize};

use crate::data::{self, DataError, DataOrigin, Dataset};
use crate::masks::{self, MaskError, MaskParams, MaskSet};
use crate::model::{ModelError, Problem};

/// The notebook's seed (`torch.manual_seed(305)`), the default for noise and masks.
pub const NOTEBOOK_SEED: u64 = 305;

/// How to turn a dataset into a problem. `Default` is the notebook's protocol: 10,000 images,
/// N(0, 3^2) noise, the mix of line, circle and speckle masks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExperimentSpec {
    /// Number of images taken from the start of the dataset.
    pub n: usize,
    /// Standard deviation of the Gaussian noise added to every pixel (0 for none).
    pub noise_std: f32,
    pub noise_seed: u64,
    /// Mask generator settings (ignored when masks are given, see [`build_with_masks`]).
    pub mask: MaskParams,
    pub mask_seed: u64,
}

impl Default for ExperimentSpec {
    fn default() -> Self {
        ExperimentSpec {
            n: 10_000,
            noise_std: 3.0,
            noise_seed: NOTEBOOK_SEED,
            mask: MaskParams::default(),
            mask_seed: NOTEBOOK_SEED,
        }
    }
}

/// Why an experiment could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ExperimentError {
    #[error("asked for {asked} images but the dataset has only {available}")]
    TooManyImages { asked: usize, available: usize },
    #[error("the number of images must be at least 1")]
    NoImages,
    #[error("the masks are {mask_n} x {mask_h} x {mask_w} but the images are {n} x {h} x {w}")]
    MaskShape {
        mask_n: usize,
        mask_h: usize,
        mask_w: usize,
        n: usize,
        h: usize,
        w: usize,
    },
    #[error(transparent)]
    Data(#[from] DataError),
    #[error(transparent)]
    Mask(#[from] MaskError),
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// The data of one experiment. Holds X_true twice (here and in `problem.x_true`) plus the
/// observed copy in `problem`: about 3 x N x D x 4 bytes (94 MB at the notebook's size).
#[derive(Clone, Debug)]
pub struct Experiment {
    /// The spec it was built from (its mask settings are unused when masks were given).
    pub spec: ExperimentSpec,
    pub n: usize,
    pub height: usize,
    pub width: usize,
    /// N x D row-major: the first N images plus noise, kept for validation.
    pub x_true: Vec<f32>,
    /// True = missing.
    pub mask: MaskSet,
    /// What the sampler gets: observed values (missing entries hold NaN), the mask, and X_true.
    pub problem: Problem,
    /// One label per image when the dataset has them.
    pub labels: Option<Vec<u8>>,
    /// Where the images came from.
    pub origin: DataOrigin,
}

/// A shared experiment hands its problem to the threads that build samplers from it, instead
/// of a copy each (at N = 60,000 a copy is 430 MB of fresh memory, written and then unmapped).
impl AsRef<Problem> for std::sync::Arc<Experiment> {
    fn as_ref(&self) -> &Problem {
        &self.problem
    }
}

impl Experiment {
    /// Pixels per image (D).
    pub fn d(&self) -> usize {
        self.height * self.width
    }

    /// Image `i` as the user sees it masked: missing pixels at 255 (None when out of range).
    pub fn masked_image(&self, i: usize) -> Option<Vec<f32>> {
        if i >= self.n {
            return None;
        }
        let d = self.d();
        let x = self.x_true.get(i * d..(i + 1) * d)?;
        let m = self.mask.missing.get(i * d..(i + 1) * d)?;
        Some(
            x.iter()
                .zip(m)
                .map(|(&v, &miss)| if miss { 255.0 } else { v })
                .collect(),
        )
    }

    /// Fraction of all pixels that are missing.
    pub fn missing_fraction(&self) -> f64 {
        self.mask.missing_fraction()
    }

    /// A copy with image `i`'s mask replaced by `missing` (see [`Self::set_image_mask`]).
    pub fn with_image_mask(
        &self,
        i: usize,
        missing: &[bool],
    ) -> Result<Experiment, ExperimentError> {
        let mut out = self.clone();
        out.set_image_mask(i, missing)?;
        Ok(out)
    }

    /// Replaces image `i`'s mask by `missing` (length D, true = missing) in the mask set and
    /// in the sampler's problem (a hand-painted mask; with a running chain the same change
    /// goes to the sampler as [`crate::sampler::Command::SetMask`]).
    pub fn set_image_mask(&mut self, i: usize, missing: &[bool]) -> Result<(), ExperimentError> {
        let d = self.d();
        if i >= self.n {
            return Err(ModelError::ImageOutOfRange {
                index: i,
                n: self.n,
            }
            .into());
        }
        if missing.len() != d || self.mask.d() != d || self.problem.missing.len() != self.n * d {
            return Err(ModelError::ShapeMismatch {
                what: "image mask",
                expected: d,
                got: missing.len(),
            }
            .into());
        }
        self.mask.image_mut(i).copy_from_slice(missing);
        let rows = i * d..(i + 1) * d;
        self.problem.missing[rows.clone()].copy_from_slice(missing);
        for ((x, &t), &miss) in self.problem.x_observed[rows.clone()]
            .iter_mut()
            .zip(&self.x_true[rows])
            .zip(missing)
        {
            *x = if miss { f32::NAN } else { t };
        }
        Ok(())
    }
}

/// Builds an experiment with masks drawn by [`masks::generate`] from `spec.mask`.
pub fn build(dataset: &Dataset, spec: &ExperimentSpec) -> Result<Experiment, ExperimentError> {
    check_n(dataset, spec.n)?;
    let mask = masks::generate(
        spec.n,
        dataset.height,
        dataset.width,
        &spec.mask,
        spec.mask_seed,
    )?;
    assemble(dataset, spec, mask)
}

/// Builds an experiment with given masks (painted, or read by [`masks::read_mask_file`]); `mask` must
/// have N = `spec.n` images of the dataset's shape.
pub fn build_with_masks(
    dataset: &Dataset,
    spec: &ExperimentSpec,
    mask: MaskSet,
) -> Result<Experiment, ExperimentError> {
    check_n(dataset, spec.n)?;
    assemble(dataset, spec, mask)
}

fn check_n(dataset: &Dataset, n: usize) -> Result<(), ExperimentError> {
    if n == 0 {
        return Err(ExperimentError::NoImages);
    }
    if n > dataset.n {
        return Err(ExperimentError::TooManyImages {
            asked: n,
            available: dataset.n,
        });
    }
    Ok(())
}

fn assemble(
    dataset: &Dataset,
    spec: &ExperimentSpec,
    mask: MaskSet,
) -> Result<Experiment, ExperimentError> {
    let (n, height, width) = (spec.n, dataset.height, dataset.width);
    if mask.n != n
        || mask.height != height
        || mask.width != width
        || mask.missing.len() != mask.n * mask.d()
    {
        return Err(ExperimentError::MaskShape {
            mask_n: mask.n,
            mask_h: mask.height,
            mask_w: mask.width,
            n,
            h: height,
            w: width,
        });
    }
    // Noise is added straight from the first N images (no copy of them first: at N = 60,000
    // that copy alone is 188 MB at the peak of the build).
    let d = height * width;
    let first = dataset.pixels.get(..n * d).ok_or_else(|| {
        DataError::InvalidArgument(format!(
            "dataset holds {} values, fewer than {n} images of {d} pixels",
            dataset.pixels.len()
        ))
    })?;
    let x_true = data::add_noise(first, spec.noise_std, spec.noise_seed)?;
    if let Some(k) = x_true.iter().position(|v| !v.is_finite()) {
        let d = dataset.d().max(1);
        return Err(ModelError::NonFiniteInput {
            what: "image data",
            row: k / d,
            col: k % d,
        }
        .into());
    }
    let x_observed = x_true
        .iter()
        .zip(&mask.missing)
        .map(|(&v, &miss)| if miss { f32::NAN } else { v })
        .collect();
    let problem = Problem {
        n,
        d: height * width,
        x_observed,
        missing: mask.missing.clone(),
        x_true: Some(x_true.clone()),
    };
    problem.validate()?;
    Ok(Experiment {
        spec: spec.clone(),
        n,
        height,
        width,
        x_true,
        mask,
        problem,
        labels: dataset
            .labels
            .as_ref()
            .and_then(|l| l.get(..n))
            .map(<[u8]>::to_vec),
        origin: dataset.origin.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dataset(n: usize) -> Dataset {
        Dataset {
            n,
            height: 3,
            width: 4,
            pixels: (0..n * 12).map(|v| (v % 256) as f32).collect(),
            labels: Some((0..n).map(|i| (i % 10) as u8).collect()),
            origin: DataOrigin::Synthetic,
        }
    }

    #[test]
    fn an_image_mask_changes_the_masks_and_the_problem_together() {
        let spec = ExperimentSpec {
            n: 5,
            ..ExperimentSpec::default()
        };
        let e = build(&dataset(5), &spec).unwrap();
        let row: Vec<bool> = (0..12).map(|j| j % 2 == 0).collect();
        let f = e.with_image_mask(3, &row).unwrap();
        assert_eq!(f.mask.image(3), row.as_slice());
        assert_eq!(&f.problem.missing[36..48], row.as_slice());
        for (j, &miss) in row.iter().enumerate() {
            let x = f.problem.x_observed[36 + j];
            assert_eq!(x.is_nan(), miss);
            if !miss {
                assert_eq!(x, f.x_true[36 + j]);
            }
        }
        // Other images untouched; bad inputs refused.
        assert_eq!(f.mask.image(2), e.mask.image(2));
        assert!(e.with_image_mask(5, &row).is_err());
        assert!(e.with_image_mask(0, &row[..5]).is_err());
    }

    #[test]
    fn builds_noisy_masked_problem() {
        let spec = ExperimentSpec {
            n: 6,
            ..ExperimentSpec::default()
        };
        let e = build(&dataset(10), &spec).unwrap();
        assert_eq!((e.n, e.height, e.width), (6, 3, 4));
        assert_eq!(e.x_true.len(), 72);
        assert_eq!(e.problem.x_true.as_deref(), Some(e.x_true.as_slice()));
        // Noise was added: values are no longer the integers of the dataset.
        assert!(e.x_true.iter().any(|v| v.fract() != 0.0));
        for (k, &miss) in e.mask.missing.iter().enumerate() {
            assert_eq!(e.problem.x_observed[k].is_nan(), miss);
        }
        assert_eq!(e.labels.as_ref().map(Vec::len), Some(6));
        let img = e.masked_image(0).unwrap();
        assert!(
            img.iter()
                .zip(e.mask.image(0))
                .all(|(&v, &m)| !m || v == 255.0)
        );
        assert!(e.masked_image(6).is_none());
    }

    #[test]
    fn rejects_bad_sizes() {
        let spec = ExperimentSpec {
            n: 11,
            ..ExperimentSpec::default()
        };
        let err = build(&dataset(10), &spec).unwrap_err();
        assert!(err.to_string().contains("only 10"), "{err}");
        let spec = ExperimentSpec {
            n: 0,
            ..ExperimentSpec::default()
        };
        assert!(matches!(
            build(&dataset(10), &spec),
            Err(ExperimentError::NoImages)
        ));
        let wrong = MaskSet::none_missing(5, 3, 4).unwrap();
        let spec = ExperimentSpec {
            n: 6,
            ..ExperimentSpec::default()
        };
        assert!(matches!(
            build_with_masks(&dataset(10), &spec, wrong),
            Err(ExperimentError::MaskShape { .. })
        ));
        let spec = ExperimentSpec {
            n: 2,
            noise_std: f32::NAN,
            ..ExperimentSpec::default()
        };
        assert!(matches!(
            build(&dataset(10), &spec),
            Err(ExperimentError::Data(_))
        ));
    }

    #[test]
    fn given_masks_are_used_as_is() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("masks.idx");
        let values: Vec<u8> = (0..3 * 12u32)
            .map(|v| u8::from(v.is_multiple_of(5)))
            .collect();
        data::idx::write_idx_u8(&path, &[3, 3, 4], &values).unwrap();
        let m = masks::read_mask_file(&path, 2, 3, 4).unwrap();
        let expect: Vec<bool> = values[..24].iter().map(|&v| v != 0).collect();
        let e = build_with_masks(
            &dataset(5),
            &ExperimentSpec {
                n: 2,
                ..ExperimentSpec::default()
            },
            m,
        )
        .unwrap();
        assert_eq!(e.mask.missing, expect);
    }
}
