//! Part 1 of the notebook in the app: the first principal components of the masked data
//! (missing pixels shown as 255, as the notebook does) and of X_true side by side, and both
//! cumulative variance-explained curves with the number of components needed for 90%.
//!
//! PCA of a 10,000 x 784 matrix takes a second or two, so it runs as a job whenever the
//! experiment's data or masks change; the view (UI thread) shows a spinner meanwhile and never
//! blocks.

use std::sync::Arc;

use crate::experiment::Experiment;
use crate::masks::masked_display;
use crate::pca::Pca;
use egui::Color32;
use egui_plot::{Corner, HLine, Legend, Line, LineStyle, Plot, PlotPoint, PlotPoints, VLine};

use super::job::Job;
use super::job_slot::JobSlot;
use super::texture::{ColourMap, TextureCache, cell_side, colour_image, pixel_image, value_text};

/// Components shown per side.
pub const SHOWN: usize = 25;
/// The variance fraction marked on the curves.
pub const TARGET: f64 = 0.9;
/// Space between component images.
const GAP: f32 = 4.0;
const MASKED_COLOUR: Color32 = Color32::from_rgb(214, 96, 77);
const TRUE_COLOUR: Color32 = Color32::from_rgb(67, 147, 195);

/// PCA of the masked data and of the truth, for one experiment.
pub struct PcaPair {
    pub masked: Pca,
    pub truth: Pca,
    pub height: usize,
    pub width: usize,
    /// Curves as plot points (x = number of components), built once.
    masked_curve: Vec<PlotPoint>,
    truth_curve: Vec<PlotPoint>,
}

impl PcaPair {
    /// Both PCAs of an experiment (the slow part; run off the UI thread).
    pub fn compute(experiment: &Experiment) -> Result<PcaPair, String> {
        let (n, d) = (experiment.n, experiment.d());
        let masked = masked_display(&experiment.x_true, &experiment.mask.missing)
            .map_err(|e| format!("masked data: {e}"))?;
        let masked = Pca::fit(&masked, n, d).map_err(|e| format!("PCA of the masked data: {e}"))?;
        let truth =
            Pca::fit(&experiment.x_true, n, d).map_err(|e| format!("PCA of X_true: {e}"))?;
        Ok(PcaPair {
            masked_curve: curve(&masked),
            truth_curve: curve(&truth),
            masked,
            truth,
            height: experiment.height,
            width: experiment.width,
        })
    }
}

/// Cumulative explained fraction against the number of components, starting at (0, 0).
fn curve(pca: &Pca) -> Vec<PlotPoint> {
    std::iter::once(PlotPoint::new(0.0, 0.0))
        .chain(
            pca.cumulative
                .iter()
                .enumerate()
                .map(|(k, &c)| PlotPoint::new((k + 1) as f64, c)),
        )
        .collect()
}

/// The PCA view's state: the newest result, the job in progress, cached textures. Results
/// are keyed by the data version of the experiment they belong to (the chain manager changes
/// it when data or masks change): a new M or seed on the same data keeps its PCA.
#[derive(Default)]
pub struct PcaView {
    slot: JobSlot<PcaPair>,
    textures: TextureCache,
}

impl PcaView {
    /// Starts a PCA of `experiment` (whose data version is `data`) unless one for it is done
    /// or running. A job for older data is dropped (it cancels; its thread ends on its own).
    pub fn request(&mut self, ctx: &egui::Context, experiment: &Arc<Experiment>, data: u64) {
        let running = self.slot.pending.as_ref().is_some_and(|(v, _)| *v == data);
        let done = self.slot.result.as_ref().is_some_and(|(v, _)| *v == data)
            || self.slot.error.as_ref().is_some_and(|(v, _)| *v == data);
        if done || running {
            return;
        }
        let for_job = Arc::clone(experiment);
        let job = Job::spawn("computing PCA", ctx, move |_| PcaPair::compute(&for_job));
        self.slot.pending = Some((data, job));
    }

    /// Collects a finished job, if any.
    pub fn poll(&mut self) {
        self.slot.poll();
    }

    /// True while a PCA is being computed.
    #[cfg(test)]
    pub fn is_computing(&self) -> bool {
        self.slot.pending.is_some()
    }

    /// The newest finished result and the data version it belongs to.
    #[cfg(test)]
    pub fn result(&self) -> Option<(u64, &PcaPair)> {
        self.slot.result.as_ref().map(|(v, p)| (*v, p.as_ref()))
    }

    /// Draws the view for `experiment` (the one the sampler runs on, data version `data`),
    /// starting or collecting its PCA as needed.
    pub fn ui(&mut self, ui: &mut egui::Ui, experiment: &Arc<Experiment>, data: u64) {
        self.textures.begin_frame(600);
        self.poll();
        self.request(ui.ctx(), experiment, data);
        if self.slot.pending.is_some() {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Computing principal components of the masked data and of X_true…");
            });
        }
        if let Some((v, message)) = &self.slot.error
            && *v == data
        {
            ui.colored_label(ui.visuals().error_fg_color, message);
        }
        let Some((result_data, pair)) = self.slot.result.clone() else {
            return;
        };
        if result_data != data {
            ui.small("Showing the PCA of the previous experiment until the new one is ready.");
        }
        let k_masked = pair.masked.components_for(TARGET);
        let k_truth = pair.truth.components_for(TARGET);
        ui.label(format!(
            "Components needed for {:.0}% of the variance: {k_masked} for the masked data, \
             {k_truth} for X_true. Masking adds structure (blocks of 255) that PCA spends \
             components on.",
            TARGET * 100.0
        ));
        let plot_height = (ui.available_height() * 0.38).clamp(160.0, 320.0);
        let grids_height = (ui.available_height() - plot_height - 40.0).max(150.0);
        let columns = 5;
        let rows = SHOWN.div_ceil(columns);
        let half = (ui.available_width() - 24.0) / 2.0;
        let side = cell_side(
            egui::vec2(half, grids_height),
            columns,
            rows,
            GAP,
            30.0,
            140.0,
        );
        ui.columns(2, |halves| {
            for (ui, (title, pca, key)) in halves.iter_mut().zip([
                ("Masked X (missing pixels = 255)", &pair.masked, "masked"),
                ("X_true", &pair.truth, "truth"),
            ]) {
                ui.strong(title);
                self.component_grid(ui, pca, (pair.height, pair.width), key, side);
            }
        });
        cumulative_plot(ui, &pair, k_masked, k_truth, plot_height);
    }

    fn component_grid(
        &mut self,
        ui: &mut egui::Ui,
        pca: &Pca,
        (height, width): (usize, usize),
        key: &str,
        side: f32,
    ) {
        let version = self.slot.version;
        let shown = SHOWN.min(pca.len());
        let columns = 5;
        let ctx = ui.ctx().clone();
        egui::Grid::new(format!("pca_grid_{key}"))
            .spacing([GAP, GAP])
            .show(ui, |ui| {
                for k in 0..shown {
                    let Some(component) = pca.component(k) else {
                        continue;
                    };
                    let map = ColourMap::diverging_over(component);
                    let texture =
                        self.textures
                            .texture(&ctx, &format!("pca/{key}/{k}"), version, || {
                                colour_image(component, width, height, &map)
                            });
                    let label = format!("{key} principal component {}", k + 1);
                    let fraction = pca.explained_fraction.get(k).copied().unwrap_or(0.0);
                    pixel_image(
                        ui,
                        texture,
                        crate::gui::texture::fitted_size(side, (width, height)),
                        (width, height),
                        &label,
                        |r, c| {
                            format!(
                                "PC {} ({:.1}% of variance)\n{}",
                                k + 1,
                                fraction * 100.0,
                                value_text(r, c, component.get(r * width + c).copied())
                            )
                        },
                    );
                    if (k + 1) % columns == 0 {
                        ui.end_row();
                    }
                }
            });
    }
}

/// Both cumulative curves, the 90% line and the component counts reaching it.
fn cumulative_plot(
    ui: &mut egui::Ui,
    pair: &PcaPair,
    k_masked: usize,
    k_truth: usize,
    height: f32,
) {
    // Start zoomed on the interesting part (the curves are flat near 1 beyond it); the user
    // can zoom out, and a double click resets to this view.
    let x_max = (2 * k_masked.max(k_truth)).clamp(50, pair.masked.len().max(51)) as f64;
    Plot::new("pca_cumulative")
        .height(height)
        .legend(Legend::default().position(Corner::RightBottom))
        .x_axis_label("number of components")
        .y_axis_label("cumulative variance explained")
        .default_x_bounds(0.0, x_max)
        .default_y_bounds(0.0, 1.02)
        .show(ui, |plot| {
            plot.hline(
                HLine::new(format!("{:.0}%", TARGET * 100.0), TARGET)
                    .color(Color32::GRAY)
                    .style(LineStyle::dashed_loose()),
            );
            plot.line(
                Line::new("masked X", PlotPoints::Borrowed(&pair.masked_curve))
                    .color(MASKED_COLOUR)
                    .width(2.0),
            );
            plot.line(
                Line::new("X_true", PlotPoints::Borrowed(&pair.truth_curve))
                    .color(TRUE_COLOUR)
                    .width(2.0),
            );
            plot.vline(
                VLine::new(format!("masked X: {k_masked} components"), k_masked as f64)
                    .color(MASKED_COLOUR)
                    .style(LineStyle::dashed_dense()),
            );
            plot.vline(
                VLine::new(format!("X_true: {k_truth} components"), k_truth as f64)
                    .color(TRUE_COLOUR)
                    .style(LineStyle::dashed_dense()),
            );
        });
}
