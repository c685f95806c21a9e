//! Traces: the log joint and the RMSE of every sweep, the burn-in marked, the column-mean
//! imputation RMSE as the baseline to beat. With K >= 2 chains, the traces of all K are
//! overlaid in the Okabe-Ito palette ([`super::palette`]): chains that start apart, and
//! whether they come together.
//!
//! The point vectors live in [`LiveState`] and grow as sweeps arrive; here they are only
//! borrowed (`PlotPoints::Borrowed`), so drawing costs nothing per point beyond what egui_plot
//! does to thin dense lines.

use egui::{Color32, Id};
use egui_plot::{Corner, HLine, Legend, Line, LineStyle, Plot, PlotPoint, PlotPoints, Span, VLine};

use super::palette::{ChainKey, chain_colour};
use crate::gui::chains_live::ChainsLive;
use crate::gui::live::LiveState;

/// Colours shared by the two plots.
const SAMPLE_COLOUR: Color32 = Color32::from_rgb(86, 156, 214);
const MEAN_COLOUR: Color32 = Color32::from_rgb(230, 140, 40);
const BASELINE_COLOUR: Color32 = Color32::from_rgb(150, 150, 150);
/// Mid grey, translucent: visible over both the dark and the light theme.
const BURN_IN_FILL: Color32 = Color32::from_rgba_unmultiplied_const(128, 128, 128, 48);
const BURN_IN_LINE: Color32 = Color32::from_rgb(200, 80, 80);

/// Room for the y tick labels, the same in both plots so their sweep axes line up.
const Y_AXIS_WIDTH: f32 = 96.0;

/// UI state of the traces view.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct TracesView {
    /// Leave out the first sweeps, whose log joint is far below the rest and flattens the plot.
    hide_start: bool,
    /// How many sweeps to leave out when `hide_start` is on.
    hidden_sweeps: usize,
    /// The chains drawn, and their colours' key.
    key: ChainKey,
}

impl Default for TracesView {
    fn default() -> Self {
        TracesView {
            hide_start: true,
            hidden_sweeps: 5,
            key: ChainKey::default(),
        }
    }
}

impl TracesView {
    /// Draws the traces of the view sampler, or with `chains` those of every chain.
    pub fn ui(&mut self, ui: &mut egui::Ui, live: &LiveState, chains: Option<&ChainsLive>) {
        // The K chains' traces, once they reported their columns.
        let chains = chains.filter(|c| c.index_of("log_joint").is_some());
        let traces = live.traces();
        super::restored_note(ui, live);
        ui.horizontal_wrapped(|ui| {
            ui.checkbox(&mut self.hide_start, "Hide the first sweeps")
                .on_hover_text(
                    "The first sweeps climb far faster than the rest and squash the scale.",
                );
            let label = ui.label("Sweeps hidden:");
            ui.add_enabled(
                self.hide_start,
                egui::DragValue::new(&mut self.hidden_sweeps).range(0..=1_000_000),
            )
            .labelled_by(label.id);
            ui.separator();
            ui.label(summary(live));
            if let Some(chains) = chains {
                ui.separator();
                ui.label(chains_summary(chains));
            }
        });
        if traces.log_joint.is_empty() {
            ui.label("No sweeps yet: start a run to trace the log joint and the RMSE.");
        }
        if let Some(error) = live.last_error() {
            let state = live.run_state().map_or("unknown", |s| s.name());
            ui.colored_label(
                ui.visuals().error_fg_color,
                format!("Sampler ({state}): {error}"),
            );
        }
        let hidden = if self.hide_start {
            self.hidden_sweeps
        } else {
            0
        };
        // The current burn-in: from the last change of target or schedule, if any.
        let (burn_from, burn_to) = live.burn_in_span();
        let burn_in = (burn_to > burn_from).then_some((burn_from as f64, burn_to as f64));
        let spacing = ui.spacing().item_spacing.y;
        let link = Id::unique("gibbs_fa_traces_x");
        // The x axis spans the planned run from the start, so progress reads off the plot.
        let planned = live.planned_sweeps() as f64;
        // Over the chains' palette the posterior mean is drawn in the text colour, which no
        // chain uses.
        let mean_colour = if chains.is_some() {
            ui.visuals().strong_text_color()
        } else {
            MEAN_COLOUR
        };
        let colours: Vec<Color32> = (0..chains.map_or(0, ChainsLive::chains))
            .map(|c| chain_colour(ui, c))
            .collect();
        if chains.is_some() {
            self.key.ui(ui, &colours);
        }
        let height = ((ui.available_height() - 2.0 * spacing) / 2.0).max(120.0);
        let key = &self.key;

        Plot::new("log_joint_plot")
            .height(height)
            .legend(legend(Corner::RightBottom))
            .x_axis_label("sweep")
            .y_axis_label("log joint")
            .y_axis_min_width(Y_AXIS_WIDTH)
            .include_x(0.0)
            .include_x(planned)
            .link_axis(link, [true, false])
            .show(ui, |plot| {
                if let Some(span) = burn_in {
                    plot.span(burn_in_span(span));
                    plot.vline(burn_in_line(span.1));
                }
                match chains {
                    Some(chains) => overlay(plot, &colours, key, chains, "log_joint", hidden),
                    None => plot.line(
                        Line::new(
                            "log joint of the sample",
                            visible(&traces.log_joint, hidden),
                        )
                        .color(SAMPLE_COLOUR),
                    ),
                }
            });

        Plot::new("rmse_plot")
            .height(height)
            // Bottom left: the curves start high and fall to the right.
            .legend(legend(Corner::LeftBottom))
            .x_axis_label("sweep")
            .y_axis_label("RMSE on missing pixels")
            .y_axis_min_width(Y_AXIS_WIDTH)
            .include_x(0.0)
            .include_x(planned)
            .link_axis(link, [true, false])
            .show(ui, |plot| {
                if let Some(span) = burn_in {
                    plot.span(burn_in_span(span));
                    plot.vline(burn_in_line(span.1));
                }
                if let Some(baseline) = live.baseline_rmse() {
                    plot.hline(
                        HLine::new("column-mean imputation", baseline)
                            .color(BASELINE_COLOUR)
                            .style(LineStyle::dashed_loose()),
                    );
                }
                match chains {
                    Some(chains) => overlay(plot, &colours, key, chains, "rmse_sample", hidden),
                    None => plot.line(
                        Line::new("sample", visible(&traces.rmse_sample, hidden))
                            .color(SAMPLE_COLOUR),
                    ),
                }
                let name = if chains.is_some() {
                    "running posterior mean (chain 1)"
                } else {
                    "running posterior mean"
                };
                // Only where it averages: during the burn-in the sampler reports the current
                // sample as the "mean", and drawn there the line hid chain 1's sample trace
                // under a curve named for something it was not.
                let averaged = after_sweep(&traces.rmse_mean, burn_to.max(hidden));
                if !averaged.is_empty() {
                    plot.line(
                        Line::new(name, PlotPoints::Borrowed(averaged))
                            .color(mean_colour)
                            .width(2.0),
                    );
                }
            });
    }
}

/// The trace of quantity `name` of every chain the key shows, one colour each, unnamed (the
/// key above the plots names the colours; egui_plot leaves unnamed lines out of the legend).
fn overlay<'a>(
    plot: &mut egui_plot::PlotUi<'a>,
    colours: &[Color32],
    key: &ChainKey,
    chains: &'a ChainsLive,
    name: &str,
    hidden: usize,
) {
    let Some(q) = chains.index_of(name) else {
        return;
    };
    for (c, &colour) in colours.iter().enumerate().take(chains.chains()) {
        if key.shows(c) {
            plot.line(Line::new("", visible(chains.points(c, q), hidden)).color(colour));
        }
    }
}

/// One line about the K chains: their count, sweeps and state.
fn chains_summary(chains: &ChainsLive) -> String {
    let sweeps = (0..chains.chains())
        .map(|c| chains.iteration(c))
        .min()
        .unwrap_or(0);
    let state = chains.state().map_or("starting", |s| s.name());
    let mut text = format!(
        "{} chains ({state}): {sweeps} sweeps or more each; chain 1 is the one the other views \
         show",
        chains.chains()
    );
    if chains.since() > 0 {
        text.push_str(&format!(
            "; a setting or mask changed at sweep {}, diagnostics restarted there",
            chains.since()
        ));
    }
    text
}

/// The points after the first `hidden` sweeps, borrowed; all of them when that would leave
/// fewer than two points (hiding everything helps nobody).
fn visible(points: &[PlotPoint], hidden: usize) -> PlotPoints<'_> {
    let after = after_sweep(points, hidden);
    PlotPoints::Borrowed(if after.len() >= 2 { after } else { points })
}

/// The points after sweep `last_excluded` (the traces are sorted by sweep); for the running
/// posterior mean, the points from the first sweep it averages (it restarts, with its burn-in, at a change of target or schedule; what it averaged
/// before that change belongs to the old target and is not drawn). Possibly empty.
fn after_sweep(points: &[PlotPoint], last_excluded: usize) -> &[PlotPoint] {
    let start = points.partition_point(|p| p.x <= last_excluded as f64);
    &points[start..]
}

/// A legend in small text in `corner`: the plots are short in projector mode and on small
/// screens, and a legend in body text covered a third of one.
fn legend(corner: Corner) -> Legend {
    Legend::default()
        .position(corner)
        .text_style(egui::TextStyle::Small)
}

/// The shaded burn-in region, from its first sweep to its last.
fn burn_in_span((from, to): (f64, f64)) -> Span {
    Span::new("burn-in", from..=to).fill(BURN_IN_FILL)
}

/// The line where posterior averaging starts: unnamed, so out of the legend (the shaded span
/// before it is named there and labelled in the plot).
fn burn_in_line(burn_in: f64) -> VLine {
    VLine::new("", burn_in)
        .color(BURN_IN_LINE)
        .style(LineStyle::dashed_dense())
}

/// One line of the newest figures, e.g. "Sweep 120 of 200 (18 ms): log joint -1.2e7, RMSE
/// 41.2 (sample), 35.0 (posterior mean), 61.3 (column means)".
fn summary(live: &LiveState) -> String {
    let traces = live.traces();
    let Some(last) = traces.log_joint.last() else {
        return match live.baseline_rmse() {
            Some(b) => format!("Column-mean imputation RMSE: {b:.2}"),
            None => "No missing pixels: nothing to reconstruct".to_owned(),
        };
    };
    let mut text = format!("Sweep {} of {}", last.x, live.planned_sweeps());
    if let Some(record) = live.last_record()
        && record.seconds.is_finite()
    {
        text.push_str(&format!(" ({:.0} ms)", record.seconds * 1000.0));
    }
    text.push_str(&format!(": log joint {:.6e}", last.y));
    if let Some(p) = traces.rmse_sample.last() {
        text.push_str(&format!(", RMSE {:.2} (sample)", p.y));
    }
    // (Through the burn-in the sampler's "mean" is the current sample: not called a mean.)
    let burn_to = live.burn_in_span().1;
    match after_sweep(&traces.rmse_mean, burn_to).last() {
        Some(p) => text.push_str(&format!(", {:.2} (posterior mean)", p.y)),
        None => text.push_str(&format!(", posterior mean from sweep {}", burn_to + 1)),
    }
    if let Some(b) = live.baseline_rmse() {
        text.push_str(&format!(", {b:.2} (column means)"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The running posterior mean as the sampler reports it: the current sample through the
    /// burn-in (sweeps 1 to 50 here), an average after it.
    fn reported(sweeps: usize) -> Vec<PlotPoint> {
        (1..=sweeps)
            .map(|s| PlotPoint::new(s as f64, 100.0 / s as f64))
            .collect()
    }

    #[test]
    fn the_mean_line_starts_where_averaging_starts() {
        let points = reported(80);
        let drawn = after_sweep(&points, 50);
        assert_eq!(drawn.len(), 30);
        assert_eq!(drawn[0].x, 51.0);
        // Hidden sweeps beyond the burn-in hide the mean too.
        assert_eq!(after_sweep(&points, 60)[0].x, 61.0);
        // A restart at sweep 70 (burn-in to 120): nothing of the new run's mean yet, and
        // nothing of the old target's drawn as if it were.
        assert!(after_sweep(&points, 120).is_empty());
        // Without a burn-in, every sweep averages.
        assert_eq!(after_sweep(&points, 0).len(), 80);
    }
}
