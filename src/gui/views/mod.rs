//! The live views of the desktop app: traces, reconstructions, factors, mean and variance,
//! masks, and the diagnostics of several chains.
//!
//! Each view reads a [`LiveState`] and draws into the central area; per-view UI state (scroll
//! position, how many factors are shown, ..) lives in [`Views`] and is persisted by the app.
//! Images go through one [`TextureCache`], so a texture is uploaded only when its data changes.

mod diagnostics;
mod factors;
mod masks;
mod moments;
mod palette;
mod reconstructions;
mod rhat_images;
mod traces;

#[cfg(test)]
pub use diagnostics::{NEEDS_CHAINS, THRESHOLDS};

use super::chains_live::ChainsLive;
use super::live::LiveState;
use super::texture::TextureCache;

/// Which view fills the central area.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ViewTab {
    Traces,
    Reconstructions,
    Factors,
    MeanVariance,
    Masks,
    Diagnostics,
}

impl ViewTab {
    /// Every tab, in the order the app lists them.
    pub const ALL: [ViewTab; 6] = [
        ViewTab::Traces,
        ViewTab::Reconstructions,
        ViewTab::Factors,
        ViewTab::MeanVariance,
        ViewTab::Masks,
        ViewTab::Diagnostics,
    ];

    /// The name shown on the tab.
    pub fn title(self) -> &'static str {
        match self {
            ViewTab::Traces => "Traces",
            ViewTab::Reconstructions => "Reconstructions",
            ViewTab::Factors => "Factors",
            ViewTab::MeanVariance => "Mean and variance",
            ViewTab::Masks => "Masks",
            ViewTab::Diagnostics => "Diagnostics",
        }
    }
}

/// Per-view UI state, persisted (scroll position, number of factors shown, ..).
#[derive(Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Views {
    traces: traces::TracesView,
    reconstructions: reconstructions::ReconstructionsView,
    factors: factors::FactorsView,
    moments: moments::MomentsView,
    masks: masks::MasksView,
    diagnostics: diagnostics::DiagnosticsView,
    /// Cached textures of every view; rebuilt on demand, never persisted.
    #[serde(skip)]
    textures: TextureCache,
}

/// Frames a texture slot may go unused before it is dropped (views switched, rows scrolled away).
const MAX_IDLE_FRAMES: u64 = 600;

impl Views {
    /// Draws one view into the central area. Never blocks; uses cached textures. `chains`
    /// are the K chains of the diagnostics, when K >= 2.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        tab: ViewTab,
        live: &mut LiveState,
        chains: Option<&mut ChainsLive>,
    ) {
        self.textures.begin_frame(MAX_IDLE_FRAMES);
        match tab {
            ViewTab::Traces => self.traces.ui(ui, live, chains.as_deref()),
            ViewTab::Diagnostics => {
                let shape = live.image_shape();
                self.diagnostics.ui(ui, chains, shape, &mut self.textures)
            }
            ViewTab::Reconstructions => self.reconstructions.ui(ui, live, &mut self.textures),
            ViewTab::Factors => self.factors.ui(ui, live, &mut self.textures),
            ViewTab::MeanVariance => self.moments.ui(ui, live, &mut self.textures),
            ViewTab::Masks => self.masks.ui(ui, live, &mut self.textures),
        }
    }

    /// Whether the diagnostics' hint asked for the recentring move (taken once).
    pub fn take_recentre_request(&mut self) -> bool {
        self.diagnostics.take_recentre_request()
    }

    /// The digit whose "Edit mask" button was pressed in the reconstructions view, if any
    /// (taken once).
    pub fn take_edit_request(&mut self) -> Option<usize> {
        self.reconstructions.take_edit_request()
    }

    /// Scrolls the reconstruction list so image `index` is the first row (on the next frame).
    #[cfg(test)]
    pub fn scroll_reconstructions_to(&mut self, index: usize) {
        self.reconstructions.scroll_to(index);
    }

    /// Textures created or updated so far (tests check that redrawing uploads nothing).
    #[cfg(test)]
    pub fn texture_uploads(&self) -> u64 {
        self.textures.uploads()
    }

    /// Texture slots alive now.
    #[cfg(test)]
    pub fn texture_slots(&self) -> usize {
        self.textures.len()
    }
}

/// Hover text of the "restored from session" label: what Start does next.
const RESTORED_HELP: &str = "These traces and posterior summaries were read from the session \
    file, exactly as saved. The chain's latent state (the factors Z and the sampled missing \
    pixels) is not in the file, so Start begins a new chain from sweep 0 with the session's \
    settings, masks and seed, and its sweeps replace what is shown here. That chain retraces \
    the saved one unless settings or masks were changed while the saved chain ran.";

/// One line saying the view shows a saved session (nothing when it shows the live chain).
fn restored_note(ui: &mut egui::Ui, live: &LiveState) {
    if let Some(from) = live.restored() {
        let text = egui::RichText::new(format!(
            "Restored from session {}, sweep {} (press Start to sample a new chain)",
            from.file_name, from.sweep
        ))
        .strong()
        .color(ui.visuals().warn_fg_color);
        ui.label(text).on_hover_text(RESTORED_HELP);
    }
}

/// The version of a texture slot: which state (experiment) and which data within it, so a
/// texture is re-uploaded after a reset, a mask applied in place or a new snapshot, and at no
/// other time.
fn slot_version(live: &LiveState, data_version: u64) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (live.generation(), live.mask_version(), data_version).hash(&mut h);
    h.finish()
}

/// What fills the central area: one of the live views, an editor, the PCA comparison or the
/// comparison of imputers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Workspace {
    /// The live view chosen by the view tab.
    View,
    MaskEditor,
    DrawDigit,
    Pca,
    /// The lesson view (issue 10).
    Lesson,
    /// The imputers compared on the chain's data and masks (issue 11).
    Compare,
}

impl Workspace {
    /// The tabs after the view tabs, with their titles.
    pub const EXTRA: [(Workspace, &'static str); 5] = [
        (Workspace::MaskEditor, "Mask editor"),
        (Workspace::DrawDigit, "Draw a digit"),
        (Workspace::Pca, "PCA"),
        (Workspace::Lesson, "Lesson"),
        (Workspace::Compare, "Compare"),
    ];
}
