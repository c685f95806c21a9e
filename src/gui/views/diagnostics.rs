//! Diagnostics of the K chains: the R-hat / ESS / MCSE table of the scalar quantities, the
//! per-pixel R-hat summaries and images, rank and autocorrelation plots of the log joint and of a chosen
//! pixel, and the rotation demo (a raw loading against the rotation-invariant (W W^T)[d, d]).
//!
//! Threads: UI thread. Everything drawn here was computed elsewhere (R-hat and ESS on the
//! chains' thread, the plots on a job); a frame reads a table of about a dozen rows and
//! borrows point vectors, nothing proportional to N x D.

use egui::{Color32, RichText, Ui};
use egui_plot::{HLine, Legend, Line, LineStyle, Plot, PlotPoints};

use super::palette::{ChainKey, chain_colour};
use super::rhat_images;
use crate::chains::ChainsDiagnostics;
use crate::diagnostics::{ESS_OK, MIN_DRAWS, RHAT_BAD, RHAT_OK, RhatSummary, ScalarDiagnostics};
use crate::gui::chains_live::ChainsLive;
use crate::gui::diag_plots::QuantityPlots;
use crate::gui::texture::TextureCache;

const GREEN: Color32 = Color32::from_rgb(0, 158, 115);
const AMBER: Color32 = Color32::from_rgb(230, 159, 0);
const RED: Color32 = Color32::from_rgb(213, 94, 0);
const PLOT_HEIGHT: f32 = 170.0;

/// The one-line explanation of the row colours.
pub const THRESHOLDS: &str = "Green: R-hat < 1.01 and bulk-ESS > 400, as Vehtari et al. \
    (2021) recommend; amber: R-hat below 1.1 but not yet both; red: R-hat of 1.1 or more, or \
    undefined; grey: too few draws after the burn-in yet.";

/// Why the view is empty with one chain.
pub const NEEDS_CHAINS: &str = "Convergence diagnostics need 2 or more chains: one chain \
    cannot show that it has not converged. Set \"Chains K\" in the Model section at the left \
    to 2 or more (this restarts the run); the app's default is 4.";

/// Shown between a change that restarts the diagnostics and the chains applying it.
pub(crate) const RESTART_PENDING: &str = "A setting or a mask changed: the chains are \
    restarting their diagnostics there (they go on from where they are; burn-in counts again).";
const ROTATION: &str = "Factors are identified only up to rotation and sign: W and W R give \
    the same model for any orthogonal R, so each chain settles on its own rotation and the \
    raw loading W[d, 0] wanders apart between chains (it is never diagnosed). (W W^T)[d, d] \
    = ||w_d||^2 does not change under rotation, so once the chains have converged it agrees \
    across them.";

/// How a row of the table is judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Good,
    Close,
    Bad,
    /// R-hat not finite (constant or stuck draws): red, as a disagreement may hide there.
    Undefined,
    /// Fewer draws after the burn-in than a diagnosis needs: nothing to judge yet.
    TooFewDraws,
}

impl Verdict {
    pub fn of(d: Option<&ScalarDiagnostics>) -> Verdict {
        match d {
            None => Verdict::TooFewDraws,
            Some(d) if d.looks_converged() => Verdict::Good,
            Some(ScalarDiagnostics { rhat: None, .. }) => Verdict::Undefined,
            Some(ScalarDiagnostics { rhat: Some(r), .. }) if *r < RHAT_BAD => Verdict::Close,
            Some(_) => Verdict::Bad,
        }
    }

    fn colour(self, ui: &Ui) -> Color32 {
        match self {
            Verdict::Good => GREEN,
            Verdict::Close => AMBER,
            Verdict::Bad | Verdict::Undefined => RED,
            Verdict::TooFewDraws => ui.visuals().weak_text_color(),
        }
    }

    fn word(self) -> &'static str {
        match self {
            Verdict::Good => "converged",
            Verdict::Close => "not yet",
            Verdict::Bad => "chains disagree",
            Verdict::Undefined => "R-hat undefined",
            Verdict::TooFewDraws => "too few draws",
        }
    }
}

/// What the view says of a restart of the diagnostics, from each chain's restart sweep (of
/// its own count): one sweep when they agree, else which chain restarted where, since chain 1
/// (the view sampler) runs ahead of the others and meets a change at a later sweep.
fn restart_note(restarts: &[usize], burn_in: usize) -> String {
    let first = restarts.first().copied().unwrap_or(0);
    if restarts.iter().all(|&r| r == first) {
        return format!(
            "Restarted at sweep {first}: a setting or a mask changed there, so the diagnostics \
             use only the draws after sweep {} (that change plus the burn-in).",
            first + burn_in
        );
    }
    // Runs of consecutive chains that restarted at the same sweep.
    let mut runs: Vec<(usize, usize, usize)> = Vec::new();
    for (c, &r) in restarts.iter().enumerate() {
        match runs.last_mut() {
            Some((_, last, sweep)) if *sweep == r => *last = c,
            _ => runs.push((c, c, r)),
        }
    }
    let parts: Vec<String> = runs
        .iter()
        .map(|&(a, b, sweep)| {
            let who = if a == b {
                format!("chain {}", a + 1)
            } else {
                format!("chains {} to {}", a + 1, b + 1)
            };
            format!("{who} at sweep {sweep} (draws after {})", sweep + burn_in)
        })
        .collect();
    format!(
        "Restarted: a setting or a mask changed, and each chain applied it at a sweep of its \
         own: {}. Chain 1 runs ahead of the others. The diagnostics use each chain's draws \
         after its restart plus the burn-in, as many from each as the chain with the fewest has.",
        parts.join(", ")
    )
}

/// UI state of the diagnostics view (nothing persisted yet but the type, for symmetry).
#[derive(Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct DiagnosticsView {
    /// The chains the rank, autocorrelation and rotation plots draw, and their colours' key.
    key: ChainKey,
    /// The hint's "Recentre each sweep" button was pressed (taken once by the app).
    #[serde(skip)]
    recentre_request: bool,
}

impl DiagnosticsView {
    /// `shape` is the pictures' (height, width), for the per-pixel R-hat images.
    pub fn ui(
        &mut self,
        ui: &mut Ui,
        chains: Option<&mut ChainsLive>,
        shape: (usize, usize),
        textures: &mut TextureCache,
    ) {
        let Some(chains) = chains else {
            ui.heading("Diagnostics");
            ui.label(NEEDS_CHAINS);
            return;
        };
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show(ui, |ui| {
                if body(ui, chains, shape, textures, &mut self.key) {
                    self.recentre_request = true;
                }
            });
    }

    /// Whether the ridge hint's "Recentre each sweep" button was pressed since last asked.
    pub fn take_recentre_request(&mut self) -> bool {
        std::mem::take(&mut self.recentre_request)
    }
}

/// Draws the view; true when the ridge hint's button asks for the recentring move.
fn body(
    ui: &mut Ui,
    chains: &mut ChainsLive,
    shape: (usize, usize),
    textures: &mut TextureCache,
    key: &mut ChainKey,
) -> bool {
    let mut recentre = false;
    let k = chains.chains();
    let sweeps = (0..k).map(|c| chains.iteration(c)).min().unwrap_or(0);
    let state = chains.state().map_or("starting", |s| s.name());
    ui.label(format!(
        "{k} chains ({state}), sweep {sweeps} of {}, burn-in {}. Diagnostics use the draws \
         after the burn-in and refresh about every second.",
        chains.planned_sweeps(),
        chains.burn_in()
    ));
    if !chains.seeds().is_empty() {
        let seeds: Vec<String> = chains.seeds().iter().map(u64::to_string).collect();
        ui.label(
            RichText::new(format!(
                "Seeds: {} (chain 1 keeps the run's seed and the notebook's start; the others \
                 start from dispersed points)",
                seeds.join(", ")
            ))
            .small(),
        );
    }
    ui.label(RichText::new(followed(chains)).small());
    if chains.restart_pending() && chains.diagnostics().is_none() {
        ui.label(RichText::new(RESTART_PENDING).strong());
    } else if chains.since() > 0 {
        let restarts = match chains.diagnostics() {
            Some(d) if !d.restarts.is_empty() => d.restarts.clone(),
            _ => vec![chains.since()],
        };
        ui.label(RichText::new(restart_note(&restarts, chains.burn_in())).strong());
    }
    let finished = chains.state() == Some(crate::sampler::RunState::Finished);
    if finished
        && chains
            .diagnostics()
            .is_some_and(|d| d.draws_per_chain < MIN_DRAWS)
    {
        ui.label(format!(
            "The run ended with too few draws after the burn-in for a diagnosis (each chain \
             needs {MIN_DRAWS}): Run on, at the top, lengthens it."
        ));
    }
    if let Some(error) = chains.last_error() {
        ui.colored_label(ui.visuals().error_fg_color, error);
    }
    match chains.diagnostics() {
        Some(d) => {
            table(ui, d);
            ui.add_space(6.0);
            pixels(ui, d);
            if let Some(hint) = ridge_hint(&d.mu, chains.settings().recentre) {
                ui.label(RichText::new(hint).color(AMBER));
                recentre = ui
                    .button("Recentre each sweep")
                    .on_hover_text(
                        "Turns on the move for every chain from the next sweep (the Model \
                         section's checkbox); the diagnostics restart there, with a new burn-in.",
                    )
                    .clicked();
            }
            ui.add_space(6.0);
            rhat_images::ui(ui, &d.images, shape, chains.diagnostics_version(), textures);
        }
        None => {
            let from = chains.since() + chains.burn_in();
            let mut text =
                format!("No diagnostics yet: they start after the burn-in (sweep {from}).");
            if finished {
                // (After a change at the end of a run, e.g. the hint's button above.)
                text.push_str(" The run has ended: Run on, at the top, lengthens it.");
            }
            ui.label(text);
        }
    }
    ui.add_space(8.0);
    choose_quantity(ui, chains);
    let colours: Vec<Color32> = (0..k).map(|c| chain_colour(ui, c)).collect();
    match chains.plots() {
        Some(plots) => {
            for q in &plots.quantities {
                quantity_plots(ui, q, &colours, key);
            }
        }
        None => {
            ui.label("Rank and autocorrelation plots follow the first diagnostics.");
        }
    }
    ui.add_space(8.0);
    rotation(ui, chains, &colours, key);
    recentre
}

/// What the chains run with, so one sees they follow the run's live settings and masks.
fn followed(chains: &ChainsLive) -> String {
    let s = chains.settings();
    let h = &s.hyper;
    let mut text = format!(
        "The chains follow the run's live settings: nu0 {}, sigma0^2 {}, kappa0 {}, lambda0 {}, \
         {:?} schedule",
        h.nu0, h.sigmasq0, h.kappa0, h.lambda0, s.schedule
    );
    if s.recentre {
        text.push_str(", recentred each sweep");
    }
    if let Some(missing) = chains.missing() {
        text.push_str(&format!(", {missing} missing pixels"));
    }
    text
}

fn number(v: Option<f64>, digits: usize) -> String {
    match v {
        Some(v) if v.is_finite() => format!("{v:.digits$}"),
        _ => "–".to_owned(),
    }
}

/// Mean-scaled MCSE: 3 significant digits whatever the scale of the quantity.
fn mcse(v: Option<f64>) -> String {
    match v {
        Some(v) if v.is_finite() => format!("{v:.3e}"),
        _ => "–".to_owned(),
    }
}

fn table(ui: &mut Ui, d: &ChainsDiagnostics) {
    ui.strong(format!(
        "Rank-normalised split R-hat, bulk- and tail-ESS and MCSE of the mean ({} draws per \
         chain after burn-in)",
        d.draws_per_chain
    ));
    ui.label(RichText::new(THRESHOLDS).small());
    sideways(ui, "diagnostics_table_scroll", |ui| {
        egui::Grid::new("diagnostics_table")
            .striped(true)
            .num_columns(6)
            .spacing([18.0, 4.0])
            .show(ui, |ui| {
                for title in [
                    "quantity",
                    "R-hat",
                    "bulk-ESS",
                    "tail-ESS",
                    "MCSE of mean",
                    "",
                ] {
                    ui.strong(title);
                }
                ui.end_row();
                for (name, s) in &d.scalars {
                    let verdict = Verdict::of(s.as_ref());
                    let colour = verdict.colour(ui);
                    ui.label(RichText::new(name).color(colour).monospace());
                    ui.label(RichText::new(number(s.and_then(|s| s.rhat), 3)).color(colour));
                    ui.label(RichText::new(number(s.and_then(|s| s.ess_bulk), 0)).color(colour));
                    ui.label(RichText::new(number(s.and_then(|s| s.ess_tail), 0)).color(colour));
                    ui.label(mcse(s.and_then(|s| s.mcse_mean)));
                    ui.label(RichText::new(verdict.word()).color(colour));
                    ui.end_row();
                }
            });
    });
    let agree = if d.chains_agree() {
        RichText::new(format!("Every R-hat is below {RHAT_OK}: the chains agree.")).color(GREEN)
    } else {
        RichText::new(format!(
            "Some R-hat is {RHAT_OK} or more (or undefined): the chains do not agree yet."
        ))
        .color(AMBER)
    };
    ui.label(agree);
    ui.label(
        RichText::new(format!(
            "ESS counts the draws' worth in independent draws; bulk-ESS above {ESS_OK} makes \
             the posterior mean and its MCSE trustworthy."
        ))
        .small(),
    );
}

fn pixels(ui: &mut Ui, d: &ChainsDiagnostics) {
    let kind = if d.pixel_split {
        "classic (not rank-normalised) split R-hat of the 2K half-chains"
    } else {
        "classic (not rank-normalised) R-hat of the K chains so far; split R-hat once the \
         planned run is complete"
    };
    ui.strong("Per-pixel R-hat");
    ui.label(
        RichText::new(format!(
            "Too many to keep every draw of, so these come from running moments of each half of \
         each chain: the {kind}."
        ))
        .small(),
    );
    sideways(ui, "pixel_rhat_table_scroll", |ui| {
        egui::Grid::new("pixel_rhat_table")
            .striped(true)
            .num_columns(4)
            .spacing([18.0, 4.0])
            .show(ui, |ui| {
                for title in ["quantity", "max R-hat", "share above 1.01", "undefined"] {
                    ui.strong(title);
                }
                ui.end_row();
                let rows: [(&str, &RhatSummary); 3] = [
                    ("missing pixels", &d.missing),
                    ("sigma_d^2", &d.sigmasq),
                    ("mu_d", &d.mu),
                ];
                for (name, s) in rows {
                    let colour = match s.max {
                        Some(m) if m < RHAT_OK => GREEN,
                        Some(m) if m < RHAT_BAD => AMBER,
                        _ => RED,
                    };
                    ui.label(format!("{name} ({})", s.count));
                    ui.label(RichText::new(number(s.max, 3)).color(colour));
                    ui.label(format!("{:.1}%", 100.0 * s.share_above_1_01));
                    ui.label(s.undefined.to_string());
                    ui.end_row();
                }
            });
    });
}

/// What a high R-hat of mu_d most likely means, and the setting that helps, when the chains
/// run without the recentring move and disagree on mu (max R-hat over the pixels at least
/// [`RHAT_BAD`]).
fn ridge_hint(mu: &RhatSummary, recentred: bool) -> Option<&'static str> {
    (mu.far_apart() && !recentred).then_some(
        "mu_d's R-hat this high usually means the chains sit at different points of a ridge: \
         the data fix mu + W times the mean of the z_n, not how it splits, and the Gibbs steps \
         cross that line only slowly. 'Recentre each sweep' (Model section) draws along it \
         every sweep: the same posterior, and chains that start apart meet within about fifty \
         sweeps.",
    )
}

/// `add` in a row that scrolls sideways when wider than the page: a table wider than a small
/// window (projector mode) widened the whole page instead, and the plots and text below it ran
/// off the right edge.
fn sideways(ui: &mut Ui, id: &str, add: impl FnOnce(&mut Ui)) {
    egui::ScrollArea::horizontal().id_salt(id).show(ui, add);
}

/// The combo box choosing the pixel quantity of the second row of plots.
fn choose_quantity(ui: &mut Ui, chains: &mut ChainsLive) {
    let options: Vec<(usize, String)> = chains
        .names()
        .iter()
        .enumerate()
        .filter(|(_, n)| {
            n.starts_with("x_")
                || (n.starts_with("sigmasq_") && *n != "sigmasq_mean")
                || n.starts_with("wwt_")
        })
        .map(|(i, n)| (i, n.clone()))
        .collect();
    if options.is_empty() {
        return;
    }
    let chosen = chains.chosen();
    let current = chosen
        .and_then(|c| chains.names().get(c))
        .cloned()
        .unwrap_or_default();
    ui.horizontal(|ui| {
        let label = ui.label("Pixel quantity plotted beside the log joint:");
        let mut pick = chosen;
        egui::ComboBox::from_id_salt("diagnostics_pixel")
            .selected_text(current)
            .show_ui(ui, |ui| {
                for (i, name) in &options {
                    ui.selectable_value(&mut pick, Some(*i), name);
                }
            })
            .response
            .labelled_by(label.id)
            .on_hover_text(
                "x_<image>_<pixel>: the imputed value of a missing pixel; sigmasq_<pixel>: its \
                 noise variance; wwt_<pixel>_<pixel>: (W W^T)[d, d]",
            );
        if pick != chosen
            && let Some(q) = pick
        {
            chains.choose(q);
        }
    });
}

/// Rank plot and autocorrelation plot of one quantity, side by side.
/// Each pair of plots has the chains' key above it (one row; the plots' own legends would
/// need a row a chain), the same toggles in every copy.
fn quantity_plots(ui: &mut Ui, q: &QuantityPlots, colours: &[Color32], key: &mut ChainKey) {
    ui.strong(format!(
        "{}: rank plot and autocorrelation ({} draws per chain)",
        q.name, q.draws
    ));
    if q.ranks.is_empty() {
        ui.label("Too few draws after the burn-in for these plots yet.");
        return;
    }
    ui.push_id(("key", &q.name), |ui| key.ui(ui, colours));
    let key = &*key;
    let width = ((ui.available_width() - 12.0) / 2.0).max(200.0);
    ui.horizontal(|ui| {
        Plot::new(format!("ranks_{}", q.name))
            .allow_scroll(false)
            .width(width)
            .height(PLOT_HEIGHT)
            .legend(Legend::default())
            .x_axis_label("pooled rank / number of draws")
            .y_axis_label("draws per bin")
            .include_y(0.0)
            .show(ui, |plot| {
                plot.hline(
                    HLine::new("uniform (chains mixed)", q.expected)
                        .color(Color32::GRAY)
                        .style(LineStyle::dashed_loose()),
                );
                for (c, line) in q.ranks.iter().enumerate().filter(|(c, _)| key.shows(*c)) {
                    let colour = colours.get(c).copied().unwrap_or(Color32::GRAY);
                    plot.line(Line::new("", PlotPoints::Borrowed(line)).color(colour));
                }
            });
        Plot::new(format!("acf_{}", q.name))
            .allow_scroll(false)
            .width(width)
            .height(PLOT_HEIGHT)
            .x_axis_label("lag (sweeps)")
            .y_axis_label("autocorrelation")
            .include_y(0.0)
            .include_y(1.0)
            .show(ui, |plot| {
                for (c, line) in q.acf.iter().enumerate().filter(|(c, _)| key.shows(*c)) {
                    let colour = colours.get(c).copied().unwrap_or(Color32::GRAY);
                    plot.line(Line::new("", PlotPoints::Borrowed(line)).color(colour));
                }
            });
    });
    ui.label(
        RichText::new(
            "Rank plot: every draw of every chain ranked together; mixed chains each spread \
             evenly over the ranks (flat lines near the dashed one), a chain stuck apart piles \
             up at one end.",
        )
        .small(),
    );
}

/// The pixel of the rotation demo: that of the chosen quantity when it has a loading column,
/// else the first recorded one. Returns the (raw loading, invariant) quantity indices.
fn rotation_columns(chains: &ChainsLive) -> Option<(usize, usize, String)> {
    let pixel_of = |name: &str| -> Option<String> {
        let rest = name
            .strip_prefix("x_")
            .and_then(|r| r.split('_').nth(1))
            .or_else(|| name.strip_prefix("sigmasq_"))
            .or_else(|| name.strip_prefix("wwt_").and_then(|r| r.split('_').next()))?;
        Some(rest.to_owned())
    };
    let chosen = chains
        .chosen()
        .and_then(|c| chains.names().get(c))
        .and_then(|n| pixel_of(n));
    let first = chains
        .names()
        .iter()
        .find_map(|n| n.strip_prefix("w_").and_then(|r| r.strip_suffix("_0")))
        .map(str::to_owned);
    for pixel in [chosen, first].into_iter().flatten() {
        if let (Some(raw), Some(inv)) = (
            chains.index_of(&format!("w_{pixel}_0")),
            chains.index_of(&format!("wwt_{pixel}_{pixel}")),
        ) {
            return Some((raw, inv, pixel));
        }
    }
    None
}

fn rotation(ui: &mut Ui, chains: &ChainsLive, colours: &[Color32], key: &mut ChainKey) {
    let Some((raw, inv, pixel)) = rotation_columns(chains) else {
        return;
    };
    ui.strong(format!(
        "Rotation: W[{pixel}, 0] against (W W^T)[{pixel}, {pixel}]"
    ));
    ui.label(ROTATION);
    ui.push_id("rotation_key", |ui| key.ui(ui, colours));
    let key = &*key;
    let width = ((ui.available_width() - 12.0) / 2.0).max(200.0);
    let k = chains.chains();
    ui.horizontal(|ui| {
        for (q, title, id) in [
            (raw, format!("raw loading W[{pixel}, 0]"), "rotation_raw"),
            (
                inv,
                format!("(W W^T)[{pixel}, {pixel}]"),
                "rotation_invariant",
            ),
        ] {
            Plot::new(id)
                .allow_scroll(false)
                .width(width)
                .height(PLOT_HEIGHT)
                .x_axis_label("sweep")
                .y_axis_label(title)
                .show(ui, |plot| {
                    for c in (0..k).filter(|&c| key.shows(c)) {
                        let colour = colours.get(c).copied().unwrap_or(Color32::GRAY);
                        plot.line(
                            Line::new("", PlotPoints::Borrowed(chains.points(c, q))).color(colour),
                        );
                    }
                });
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hint comes with mu_d's R-hat at 1.1 or more and the move off, not otherwise (nor
    /// when no R-hat of mu_d is defined).
    #[test]
    fn the_ridge_hint_comes_only_when_mu_disagrees_without_the_move() {
        let far = RhatSummary::new(&[1.0, 1.3, 1.02]);
        let near = RhatSummary::new(&[1.0, 1.05, 1.02]);
        let undefined = RhatSummary::new(&[f64::NAN, f64::NAN]);
        assert!(ridge_hint(&far, false).is_some_and(|h| h.contains("Recentre each sweep")));
        assert_eq!(ridge_hint(&far, true), None);
        assert_eq!(ridge_hint(&near, false), None);
        assert_eq!(ridge_hint(&undefined, false), None);
    }

    /// A quantity without diagnostics (too few draws after the burn-in) is not called a
    /// disagreement; an undefined R-hat with draws still is red.
    #[test]
    fn rows_without_enough_draws_are_not_called_a_disagreement() {
        let with = |rhat: Option<f64>, ess: f64| ScalarDiagnostics {
            rhat,
            ess_bulk: Some(ess),
            ess_tail: Some(ess),
            mcse_mean: Some(0.1),
        };
        assert_eq!(Verdict::of(None), Verdict::TooFewDraws);
        assert_eq!(Verdict::of(None).word(), "too few draws");
        assert_eq!(Verdict::of(Some(&with(None, 500.0))), Verdict::Undefined);
        assert_eq!(Verdict::of(Some(&with(Some(1.2), 500.0))), Verdict::Bad);
        assert_eq!(Verdict::of(Some(&with(Some(1.05), 500.0))), Verdict::Close);
        assert_eq!(Verdict::of(Some(&with(Some(1.005), 50.0))), Verdict::Close);
        assert_eq!(Verdict::of(Some(&with(Some(1.005), 500.0))), Verdict::Good);
    }

    /// One restart sweep gives the one-line note; chain 1 (the view sampler, ahead of the
    /// others) restarting later is said chain by chain, with where each one's draws start.
    #[test]
    fn the_restart_note_names_each_chains_restart_when_they_differ() {
        let same = restart_note(&[78, 78, 78], 100);
        assert!(same.starts_with("Restarted at sweep 78:"), "{same}");
        assert!(same.contains("after sweep 178"), "{same}");
        let apart = restart_note(&[165, 78, 78, 78], 100);
        assert!(
            apart.contains("chain 1 at sweep 165 (draws after 265), chains 2 to 4 at sweep 78 (draws after 178)"),
            "{apart}"
        );
        let three = restart_note(&[9, 4, 5], 10);
        assert!(
            three.contains("chain 1 at sweep 9 (draws after 19), chain 2 at sweep 4 (draws after 14), chain 3 at sweep 5 (draws after 15)"),
            "{three}"
        );
    }
}
