//! Colour maps from values to RGB, and the value ranges they span.

/// How values become colours.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Colormap {
    /// Black (low) to white (high): digits and masks.
    #[default]
    Gray,
    /// Blue (negative), white (zero), red (positive): factors and components. Its automatic
    /// ranges are symmetric about 0 so white always means 0.
    Diverging,
    /// Dark purple to yellow (viridis-like), perceptually ordered: variances, stds.
    Sequential,
}

/// Anchor colours of the diverging map (ColorBrewer RdBu, reversed).
const DIVERGING: [[u8; 3]; 5] = [
    [33, 102, 172],
    [103, 169, 207],
    [247, 247, 247],
    [239, 138, 98],
    [178, 24, 43],
];

/// Anchor colours of the sequential map (viridis at 0, 1/4, 1/2, 3/4, 1).
const SEQUENTIAL: [[u8; 3]; 5] = [
    [68, 1, 84],
    [59, 82, 139],
    [33, 145, 140],
    [94, 201, 98],
    [253, 231, 37],
];

impl Colormap {
    /// Colour of `t` in [0, 1] (clamped; NaN maps to the middle).
    pub fn color(self, t: f32) -> [u8; 3] {
        let t = if t.is_nan() { 0.5 } else { t.clamp(0.0, 1.0) };
        match self {
            Colormap::Gray => {
                let v = (t * 255.0).round() as u8;
                [v, v, v]
            }
            Colormap::Diverging => interpolate(&DIVERGING, t),
            Colormap::Sequential => interpolate(&SEQUENTIAL, t),
        }
    }

    /// Colour of `value` on the range `lo..hi` (a degenerate range maps to the middle).
    pub fn color_in(self, value: f32, (lo, hi): (f32, f32)) -> [u8; 3] {
        let span = hi - lo;
        let t = if span > 0.0 && span.is_finite() {
            (value - lo) / span
        } else {
            0.5
        };
        self.color(t)
    }
}

/// Piecewise-linear interpolation between equally spaced anchors.
fn interpolate(anchors: &[[u8; 3]], t: f32) -> [u8; 3] {
    let segments = (anchors.len() - 1) as f32;
    let x = t * segments;
    let k = (x.floor() as usize).min(anchors.len() - 2);
    let f = x - k as f32;
    let (a, b) = (anchors[k], anchors[k + 1]);
    std::array::from_fn(|c| (f32::from(a[c]) * (1.0 - f) + f32::from(b[c]) * f).round() as u8)
}

/// Which value range a grid maps onto its colour map.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum Scaling {
    /// One range over every image of the grid, so tiles compare.
    #[default]
    Grid,
    /// Each image stretched over its own range (principal components, factors).
    Image,
    /// A given range, e.g. 0..255 for digits so reconstructions compare to the data.
    Fixed { lo: f32, hi: f32 },
}

/// The range of the finite values (symmetric about 0 for the diverging map). Empty or
/// constant input gives a non-degenerate range around the value, so colours stay defined.
pub fn value_range<'a>(
    values: impl IntoIterator<Item = &'a f32>,
    colormap: Colormap,
) -> (f32, f32) {
    let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
    for &v in values.into_iter().filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if lo > hi {
        return if colormap == Colormap::Diverging {
            (-1.0, 1.0)
        } else {
            (0.0, 1.0)
        };
    }
    if colormap == Colormap::Diverging {
        let m = lo.abs().max(hi.abs());
        return if m > 0.0 { (-m, m) } else { (-1.0, 1.0) };
    }
    if hi > lo {
        (lo, hi)
    } else {
        (lo - 0.5, hi + 0.5)
    }
}
