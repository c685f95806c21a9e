//! Line plots with axes, labels, title and legend, an optional horizontal reference line
//! (e.g. the column-mean RMSE) and an optional vertical marker (e.g. the end of burn-in).

use super::text::{draw_error, ensure_font};
use super::{FONT_FAMILY, FigureError, checked_size};
use image::{Rgb, RgbImage};
use plotters::prelude::*;

/// Colours given to series in order (the matplotlib "tab10" start).
const PALETTE: [[u8; 3]; 6] = [
    [31, 119, 180],
    [255, 127, 14],
    [44, 160, 44],
    [214, 39, 40],
    [148, 103, 189],
    [140, 86, 75],
];

/// One named curve.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub name: String,
    /// (x, y) points; non-finite ones are skipped.
    pub points: Vec<(f64, f64)>,
    pub color: [u8; 3],
}

/// Where the legend goes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LegendPosition {
    #[default]
    UpperRight,
    LowerRight,
    UpperLeft,
    LowerLeft,
}

/// A line plot; build it with the chained setters, then [`LinePlot::render`].
#[derive(Clone, Debug, PartialEq)]
pub struct LinePlot {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<Series>,
    /// A dashed horizontal line at y with its legend label.
    pub reference: Option<(f64, String)>,
    /// A dashed vertical line at x with its legend label.
    pub marker: Option<(f64, String)>,
    pub x_range: Option<(f64, f64)>,
    pub y_range: Option<(f64, f64)>,
    pub legend: LegendPosition,
    /// Figure size in pixels.
    pub size: (u32, u32),
}

impl LinePlot {
    pub fn new(
        title: impl Into<String>,
        x_label: impl Into<String>,
        y_label: impl Into<String>,
    ) -> Self {
        LinePlot {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            series: Vec::new(),
            reference: None,
            marker: None,
            x_range: None,
            y_range: None,
            legend: LegendPosition::UpperRight,
            size: (800, 500),
        }
    }

    /// Adds a curve in the next palette colour.
    pub fn series(mut self, name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        let color = PALETTE[self.series.len() % PALETTE.len()];
        self.series.push(Series {
            name: name.into(),
            points,
            color,
        });
        self
    }

    /// Adds a curve of `ys` against 0, 1, 2, ... plus `x_offset`.
    pub fn series_y(self, name: impl Into<String>, ys: &[f64], x_offset: f64) -> Self {
        let points = ys
            .iter()
            .enumerate()
            .map(|(i, &y)| (x_offset + i as f64, y))
            .collect();
        self.series(name, points)
    }

    pub fn reference(mut self, y: f64, label: impl Into<String>) -> Self {
        self.reference = Some((y, label.into()));
        self
    }

    pub fn marker(mut self, x: f64, label: impl Into<String>) -> Self {
        self.marker = Some((x, label.into()));
        self
    }

    pub fn x_range(mut self, lo: f64, hi: f64) -> Self {
        self.x_range = Some((lo, hi));
        self
    }

    pub fn y_range(mut self, lo: f64, hi: f64) -> Self {
        self.y_range = Some((lo, hi));
        self
    }

    pub fn legend(mut self, position: LegendPosition) -> Self {
        self.legend = position;
        self
    }

    pub fn size(mut self, width: u32, height: u32) -> Self {
        self.size = (width, height);
        self
    }

    /// The axis ranges: given ones when valid, otherwise the data's (with 5% padding on y).
    fn ranges(&self) -> ((f64, f64), (f64, f64)) {
        let finite = |p: &&(f64, f64)| p.0.is_finite() && p.1.is_finite();
        let points = || {
            self.series
                .iter()
                .flat_map(|s| s.points.iter())
                .filter(finite)
        };
        let xs = points()
            .map(|p| p.0)
            .chain(self.marker.as_ref().map(|m| m.0));
        let ys = points()
            .map(|p| p.1)
            .chain(self.reference.as_ref().map(|r| r.0));
        let x = valid(self.x_range).unwrap_or_else(|| pad(span(xs), 0.0));
        let y = valid(self.y_range).unwrap_or_else(|| pad(span(ys), 0.05));
        // Extreme data (near f64::MAX) can overflow the padding: fall back to a unit range.
        let usable = |r: (f64, f64)| valid(Some(r)).filter(|r| (r.1 - r.0).is_finite());
        (
            usable(x).unwrap_or((0.0, 1.0)),
            usable(y).unwrap_or((0.0, 1.0)),
        )
    }

    /// Draws the plot.
    pub fn render(&self) -> Result<RgbImage, FigureError> {
        ensure_font()?;
        let (w, h) = checked_size(u64::from(self.size.0), u64::from(self.size.1))?;
        let mut img = RgbImage::from_pixel(w, h, Rgb([255, 255, 255]));
        self.draw(&mut img)?;
        Ok(img)
    }

    fn draw(&self, img: &mut RgbImage) -> Result<(), FigureError> {
        let (w, h) = img.dimensions();
        let buffer: &mut [u8] = img;
        let root = BitMapBackend::with_buffer(buffer, (w, h)).into_drawing_area();
        let ((x0, x1), (y0, y1)) = self.ranges();
        let mut chart = ChartBuilder::on(&root)
            .caption(&self.title, (FONT_FAMILY, 22))
            .margin(14)
            .x_label_area_size(46)
            .y_label_area_size(y_label_area(y0, y1))
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(draw_error)?;
        chart
            .configure_mesh()
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .label_style((FONT_FAMILY, 14))
            .axis_desc_style((FONT_FAMILY, 16))
            .x_label_formatter(&|v| format_tick_in(*v, x1 - x0))
            .y_label_formatter(&|v| format_tick_in(*v, y1 - y0))
            .light_line_style(RGBColor(238, 238, 238))
            .bold_line_style(RGBColor(215, 215, 215))
            .draw()
            .map_err(draw_error)?;

        let mut labelled = false;
        for s in &self.series {
            let color = RGBColor(s.color[0], s.color[1], s.color[2]);
            let points = s
                .points
                .iter()
                .copied()
                .filter(|p| p.0.is_finite() && p.1.is_finite());
            let drawn = chart
                .draw_series(LineSeries::new(points, color.stroke_width(2)))
                .map_err(draw_error)?;
            if !s.name.is_empty() {
                labelled = true;
                drawn.label(s.name.clone()).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 22, y)], color.stroke_width(2))
                });
            }
        }
        let gray = RGBColor(90, 90, 90);
        if let Some((y, label)) = self.reference.as_ref().filter(|r| r.0.is_finite()) {
            let line = DashedLineSeries::new(vec![(x0, *y), (x1, *y)], 8, 5, gray.stroke_width(2));
            let drawn = chart.draw_series(line).map_err(draw_error)?;
            if !label.is_empty() {
                labelled = true;
                drawn.label(label.clone()).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 22, y)], gray.stroke_width(2))
                });
            }
        }
        let marker_color = RGBColor(150, 150, 150);
        if let Some((x, label)) = self.marker.as_ref().filter(|m| m.0.is_finite()) {
            let line =
                DashedLineSeries::new(vec![(*x, y0), (*x, y1)], 4, 4, marker_color.stroke_width(1));
            let drawn = chart.draw_series(line).map_err(draw_error)?;
            if !label.is_empty() {
                labelled = true;
                drawn.label(label.clone()).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 22, y)], marker_color.stroke_width(1))
                });
            }
        }
        if labelled {
            let position = match self.legend {
                LegendPosition::UpperRight => SeriesLabelPosition::UpperRight,
                LegendPosition::LowerRight => SeriesLabelPosition::LowerRight,
                LegendPosition::UpperLeft => SeriesLabelPosition::UpperLeft,
                LegendPosition::LowerLeft => SeriesLabelPosition::LowerLeft,
            };
            chart
                .configure_series_labels()
                .position(position)
                .background_style(WHITE.mix(0.9))
                .border_style(RGBColor(180, 180, 180))
                .label_font((FONT_FAMILY, 14))
                .draw()
                .map_err(draw_error)?;
        }
        root.present().map_err(draw_error)
    }
}

/// Room left of the plot for the y tick labels and the axis title: long labels (a log joint
/// written in full) need more than short ones, or the title runs into them.
fn y_label_area(y0: f64, y1: f64) -> u32 {
    let widest = [y0, y1, (y0 + y1) / 2.0]
        .iter()
        .map(|&v| format_tick_in(v, y1 - y0).chars().count())
        .max()
        .unwrap_or(0);
    // About 8.5 px per character at 14 px (monospace), plus the axis title.
    (widest as f64 * 8.5 + 34.0).clamp(78.0, 160.0) as u32
}

/// A range that plotters can draw: finite with lo < hi.
fn valid(range: Option<(f64, f64)>) -> Option<(f64, f64)> {
    range.filter(|(lo, hi)| lo.is_finite() && hi.is_finite() && lo < hi)
}

/// Min and max of the values (None when there are none).
fn span(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values.fold(None, |acc, v| match acc {
        None => Some((v, v)),
        Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
    })
}

/// Widens a data range by `fraction` on each side; a single value or none gets a unit range.
fn pad(range: Option<(f64, f64)>, fraction: f64) -> (f64, f64) {
    match range {
        None => (0.0, 1.0),
        Some((lo, hi)) if hi > lo => {
            let p = (hi - lo) * fraction;
            (lo - p, hi + p)
        }
        Some((v, _)) => {
            let p = v.abs().max(1.0) * 0.5;
            (v - p, v + p)
        }
    }
}

/// Tick text for an axis spanning `span`: like [`format_tick`], but when the values are large
/// and close together (a log joint of -3.37e7 varying by 1e5) scientific notation would print
/// every tick alike, so those are written in full with as many decimals as the span needs.
pub fn format_tick_in(v: f64, span: f64) -> String {
    let a = v.abs();
    if v.is_finite() && span.is_finite() && span > 0.0 && a >= 1e5 && a / span > 50.0 {
        let decimals = (1.0 - span.log10().floor()).clamp(0.0, 6.0) as usize;
        return format!("{v:.decimals$}");
    }
    format_tick(v)
}

/// Short tick text: plain for ordinary magnitudes, scientific for very large or small ones.
pub fn format_tick(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return if v.is_finite() {
            "0".into()
        } else {
            v.to_string()
        };
    }
    let a = v.abs();
    if !(1e-3..1e5).contains(&a) {
        let s = format!("{v:.2e}");
        // "1.50e6" -> "1.5e6", "2.00e6" -> "2e6"
        match s.split_once('e') {
            Some((m, e)) => {
                let m = m.trim_end_matches('0').trim_end_matches('.');
                format!("{m}e{e}")
            }
            None => s,
        }
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}
