//! What the K chains of the diagnostics reported: every chain's scalar quantities at every
//! sweep (as plot points, so the views borrow them), their run state, and the newest R-hat /
//! ESS / MCSE report, plus the rank and autocorrelation plots made from it.
//!
//! The chains follow live changes of the run ([`crate::chains::Change`]). When one is sent
//! ([`ChainsLive::expect_change`]), reports made before the chains applied it are ignored,
//! and if it restarts the diagnostics the report and plots on screen are dropped at once,
//! so what is shown never mixes draws from before and after a change; the traces keep every
//! sweep, and [`ChainsLive::since`] says from which sweep the diagnostics count.
//!
//! Threads: the UI thread only. [`ChainsLive::apply`] folds one [`ChainsEvent`] in O(number of
//! quantities); diagnostics are computed on the chains' thread (see
//! [`crate::chains::ChainsHandle`]) and the plots on a job ([`super::diag_plots`]), never in a
//! frame. Memory: 16 bytes per chain, sweep and quantity (about 15 quantities): 8 chains of
//! 10,000 sweeps take under 20 MB.

use egui_plot::PlotPoint;

use super::diag_plots::{DiagnosticPlots, PlotInput, PlotsCache};
use crate::chains::{ChainsDiagnostics, ChainsEvent};
use crate::model::SamplerSettings;
use crate::sampler::RunState;

/// Post-burn-in draws per chain below which the status bar does not judge agreement yet.
pub const MIN_DRAWS_TO_JUDGE: usize = 20;

/// What the chains reported; see the module docs.
pub struct ChainsLive {
    chains: usize,
    burn_in: usize,
    planned: usize,
    /// Column names of the quantities (from the Started event).
    names: Vec<String>,
    seeds: Vec<u64>,
    /// points[c][q]: quantity q of chain c after each sweep (x the sweep from 1).
    points: Vec<Vec<Vec<PlotPoint>>>,
    state: Option<RunState>,
    diagnostics: Option<Box<ChainsDiagnostics>>,
    /// Counts diagnostics reports (what the plots are keyed by).
    diagnostics_version: u64,
    last_error: Option<String>,
    /// Index (into the quantities) of the pixel quantity whose plots are shown.
    chosen: Option<usize>,
    plots: PlotsCache,
    /// Sweep of the last change of target the chains applied (0: none).
    since: usize,
    /// Changes sent to the chains and not yet applied (or refused) by them: reports that
    /// arrive meanwhile were made before and are ignored.
    pending: usize,
    /// The chains' settings as they last reported them (at the start: those they were
    /// built with).
    settings: SamplerSettings,
    /// Missing entries of the chains' masks, once they applied a change (None before).
    missing: Option<usize>,
}

impl ChainsLive {
    /// Nothing reported yet from `chains` chains built with `settings`.
    pub fn new(chains: usize, settings: &SamplerSettings) -> Self {
        ChainsLive {
            chains,
            burn_in: settings.burn_in,
            planned: settings.sweeps,
            names: Vec::new(),
            seeds: Vec::new(),
            points: vec![Vec::new(); chains],
            state: None,
            diagnostics: None,
            diagnostics_version: 0,
            last_error: None,
            chosen: None,
            plots: PlotsCache::default(),
            since: 0,
            pending: 0,
            settings: settings.clone(),
            missing: None,
        }
    }

    /// A change was sent to the chains: reports they made before applying it are ignored,
    /// and when it `restarts` the diagnostics, the report and plots on screen go at once.
    pub fn expect_change(&mut self, restarts: bool) {
        self.pending += 1;
        if restarts {
            self.clear_diagnostics();
        }
    }

    fn clear_diagnostics(&mut self) {
        self.diagnostics = None;
        self.diagnostics_version += 1;
        self.plots = PlotsCache::default();
    }

    /// Folds one event in.
    pub fn apply(&mut self, event: ChainsEvent) {
        match event {
            ChainsEvent::Started { quantities, seeds } => {
                self.points =
                    vec![vec![Vec::with_capacity(self.planned); quantities.len()]; self.chains];
                self.chosen = default_choice(&quantities);
                self.names = quantities;
                self.seeds = seeds;
            }
            ChainsEvent::Sweep(sweep) => {
                let x = sweep.record.iter as f64;
                if let Some(columns) = self.points.get_mut(sweep.chain) {
                    for (column, &y) in columns.iter_mut().zip(&sweep.values) {
                        column.push(PlotPoint::new(x, y));
                    }
                }
            }
            ChainsEvent::Diagnostics(d) => {
                if self.pending == 0 {
                    self.diagnostics = Some(d);
                    self.diagnostics_version += 1;
                }
            }
            ChainsEvent::State(state) => self.state = Some(state),
            ChainsEvent::Error(message) => {
                // A refused change leaves the chains as they were.
                self.pending = self.pending.saturating_sub(1);
                self.last_error = Some(message);
            }
            ChainsEvent::Followed {
                since,
                restarted,
                settings,
                missing,
            } => {
                self.pending = self.pending.saturating_sub(1);
                if restarted {
                    self.since = since;
                    self.clear_diagnostics();
                }
                self.burn_in = settings.burn_in;
                self.planned = settings.sweeps;
                self.settings = *settings;
                self.missing = Some(missing);
            }
        }
    }

    /// Starts the plots of the newest diagnostics on a job when they are out of date, and
    /// takes finished ones.
    pub fn refresh_plots(&mut self, ctx: &egui::Context) {
        if self.diagnostics.is_none() {
            return;
        }
        let chosen = self.chosen.unwrap_or(0);
        let (points, names, burn_in) = (&self.points, &self.names, self.since + self.burn_in);
        self.plots
            .update(ctx, self.diagnostics_version, chosen, || {
                let mut wanted = vec![0];
                if chosen != 0 {
                    wanted.push(chosen);
                }
                wanted
                    .into_iter()
                    .filter(|&q| q < names.len())
                    .map(|q| (names[q].clone(), post_burn_in(points, q, burn_in)))
                    .collect::<PlotInput>()
            });
    }

    pub fn chains(&self) -> usize {
        self.chains
    }

    pub fn burn_in(&self) -> usize {
        self.burn_in
    }

    /// Sweep of the last change of target the chains applied (0: none): the diagnostics use
    /// the draws after it plus the burn-in.
    pub fn since(&self) -> usize {
        self.since
    }

    /// True while a change sent to the chains waits for them.
    pub fn restart_pending(&self) -> bool {
        self.pending > 0
    }

    /// The chains' settings as they last reported them.
    pub fn settings(&self) -> &SamplerSettings {
        &self.settings
    }

    /// Missing entries of the chains' masks, as they reported after the last change applied.
    pub fn missing(&self) -> Option<usize> {
        self.missing
    }

    pub fn planned_sweeps(&self) -> usize {
        self.planned
    }

    /// Column names of the quantities.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The chains' seeds.
    pub fn seeds(&self) -> &[u64] {
        &self.seeds
    }

    /// Index of the quantity named `name`.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// Quantity `q` of chain `c`, one point per sweep (empty when unknown).
    pub fn points(&self, c: usize, q: usize) -> &[PlotPoint] {
        self.points
            .get(c)
            .and_then(|columns| columns.get(q))
            .map_or(&[], Vec::as_slice)
    }

    /// Sweeps chain `c` reported.
    pub fn iteration(&self, c: usize) -> usize {
        self.points(c, 0).len()
    }

    /// The run state the chains' thread reported last.
    pub fn state(&self) -> Option<RunState> {
        self.state
    }

    /// Counts diagnostics reports (textures drawn from them are keyed by it).
    pub fn diagnostics_version(&self) -> u64 {
        self.diagnostics_version
    }

    /// The newest diagnostics report.
    pub fn diagnostics(&self) -> Option<&ChainsDiagnostics> {
        self.diagnostics.as_deref()
    }

    /// The last error the chains' thread reported.
    pub fn last_error(&self) -> Option<&str> {
        self.last_error.as_deref()
    }

    /// The quantity whose rank and autocorrelation plots are shown beside the log joint's.
    pub fn chosen(&self) -> Option<usize> {
        self.chosen
    }

    /// Chooses the quantity of the second set of plots (remade on a job).
    pub fn choose(&mut self, q: usize) {
        if q < self.names.len() {
            self.chosen = Some(q);
        }
    }

    /// The newest rank and autocorrelation plots.
    pub fn plots(&self) -> Option<&DiagnosticPlots> {
        self.plots.current()
    }

    /// Whether the chains agree: None until there are enough post-burn-in draws to say.
    pub fn agree(&self) -> Option<bool> {
        let d = self.diagnostics()?;
        let judged =
            d.draws_per_chain >= MIN_DRAWS_TO_JUDGE && d.scalars.iter().all(|(_, s)| s.is_some());
        judged.then(|| d.chains_agree())
    }
}

/// The first imputed pixel value ("x_<image>_<pixel>"), else the first per-pixel sigma^2.
fn default_choice(names: &[String]) -> Option<usize> {
    names.iter().position(|n| n.starts_with("x_")).or_else(|| {
        names
            .iter()
            .position(|n| n.starts_with("sigmasq_") && n != "sigmasq_mean")
    })
}

/// The post-burn-in values of quantity `q` of every chain, cut to the shortest chain.
fn post_burn_in(points: &[Vec<Vec<PlotPoint>>], q: usize, burn_in: usize) -> Vec<Vec<f64>> {
    let columns: Vec<&[PlotPoint]> = points
        .iter()
        .map(|c| {
            c.get(q)
                .map_or(&[][..], |v| v.get(burn_in..).unwrap_or(&[]))
        })
        .collect();
    let len = columns.iter().map(|c| c.len()).min().unwrap_or(0);
    columns
        .iter()
        .map(|c| {
            c[..len]
                .iter()
                .map(|p| p.y)
                .filter(|y| y.is_finite())
                .collect()
        })
        .collect()
}

/// The status bar's words on the chains: how many, and whether they agree once that can be
/// said (R-hat of every scalar below 1.01 after enough post-burn-in draws). Clickable: the
/// caller opens the Diagnostics tab, where the verdict is explained.
pub fn status(ui: &mut egui::Ui, chains: &ChainsLive) -> egui::Response {
    let k = chains.chains();
    let tip = "Rank-normalised split R-hat of the log joint, the RMSE, sigma^2 and a few \
               pixels, over the draws after the burn-in (Vehtari et al. 2021): below 1.01 for \
               every one of them means the chains agree. Click to open the Diagnostics tab.";
    let (text, colour) = match chains.agree() {
        None => (
            format!("{k} chains: agreement judged after the burn-in"),
            ui.visuals().text_color(),
        ),
        Some(true) => (
            format!("{k} chains agree (R-hat < 1.01)"),
            egui::Color32::from_rgb(0, 158, 115),
        ),
        Some(false) => (
            format!("{k} chains do not agree yet (R-hat ≥ 1.01)"),
            ui.visuals().warn_fg_color,
        ),
    };
    ui.add(egui::Label::new(egui::RichText::new(text).color(colour)).sense(egui::Sense::click()))
        .on_hover_cursor(egui::CursorIcon::PointingHand)
        .on_hover_text(tip)
}
