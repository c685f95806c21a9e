//! Mask settings (SPEC section 2 defaults) and their validation, so generators never see
//! NaN, negative or absurd values.

use super::MaskError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Which generator fills a mask set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MaskKind {
    /// The notebook's mix: N/3 line, N/3 circle, the rest speckle, permuted over images.
    #[default]
    Mix,
    /// A band through the image centre at a uniformly random angle.
    Line,
    /// A disc with a random centre near the image centre and a Gamma-distributed radius.
    Circle,
    /// Each pixel missing independently.
    Speckle,
}

impl MaskKind {
    /// Every kind, in the order menus show them.
    pub const ALL: [MaskKind; 4] = [
        MaskKind::Mix,
        MaskKind::Line,
        MaskKind::Circle,
        MaskKind::Speckle,
    ];

    /// The lowercase name used on the command line and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            MaskKind::Mix => "mix",
            MaskKind::Line => "line",
            MaskKind::Circle => "circle",
            MaskKind::Speckle => "speckle",
        }
    }
}

impl fmt::Display for MaskKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for MaskKind {
    type Err = MaskError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        MaskKind::ALL
            .into_iter()
            .find(|k| k.name() == lower)
            .ok_or_else(|| MaskError::UnknownKind(s.to_string()))
    }
}

/// The generators' parameters; `Default` gives the SPEC (and notebook) values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MaskParams {
    pub kind: MaskKind,
    /// Line: a pixel is missing when its distance to the line is below this (pixels).
    pub line_width: f64,
    /// Circle: mean of the Gamma part of the radius (pixels).
    pub circle_mean_radius: f64,
    /// Circle: degrees of freedom of the radius distribution (shape df/2).
    pub circle_df: f64,
    /// Circle: standard deviation of the centre around the image centre (pixels).
    pub circle_centre_std: f64,
    /// Speckle: probability that a pixel is missing.
    pub speckle_p: f64,
}

impl Default for MaskParams {
    fn default() -> Self {
        MaskParams {
            kind: MaskKind::Mix,
            line_width: 2.0,
            circle_mean_radius: 3.0,
            circle_df: 7.0,
            circle_centre_std: 3.0,
            speckle_p: 0.1,
        }
    }
}

/// Longest length (pixels) a setting may take: far beyond any image, yet finite arithmetic.
pub const MAX_LENGTH: f64 = 1.0e4;
/// Largest allowed degrees of freedom of the circle radius.
pub const MAX_DF: f64 = 1.0e6;

impl MaskParams {
    /// Checks every field; the first bad one is reported.
    pub fn validate(&self) -> Result<(), MaskError> {
        check_range("line_width", self.line_width, false, MAX_LENGTH)?;
        check_range(
            "circle_mean_radius",
            self.circle_mean_radius,
            false,
            MAX_LENGTH,
        )?;
        check_range("circle_df", self.circle_df, false, MAX_DF)?;
        check_range(
            "circle_centre_std",
            self.circle_centre_std,
            true,
            MAX_LENGTH,
        )?;
        check_range("speckle_p", self.speckle_p, true, 1.0)?;
        Ok(())
    }
}

/// `value` must be finite, positive (or zero when `zero_ok`) and at most `max`.
fn check_range(name: &'static str, value: f64, zero_ok: bool, max: f64) -> Result<(), MaskError> {
    let reason = if !value.is_finite() {
        Some("must be a finite number")
    } else if value < 0.0 || (value == 0.0 && !zero_ok) {
        Some(if zero_ok {
            "must not be negative"
        } else {
            "must be positive"
        })
    } else if value > max {
        Some("is too large")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(MaskError::InvalidParam {
            name,
            value,
            reason,
            max,
        }),
        None => Ok(()),
    }
}
