//! The editors as the app mounts them: one object that follows the sampler's snapshots
//! (keeping the last few parameter samples), opens digits in the mask editor, and holds the
//! draw-a-digit canvas.

use std::sync::Arc;

use crate::reconstruct::{FactorParams, ReconstructError};
use crate::sampler::Snapshot;
use nalgebra::DMatrix;

use super::draw_digit::DrawDigit;
use super::mask_editor::{EditorAction, MaskEditor};
use super::recent::RecentParams;
use crate::gui::live::LiveState;

/// Which editor is shown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum EditorTab {
    #[default]
    PaintMask,
    DrawDigit,
}

/// The mask editor and the draw-a-digit canvas, fed from the live sampler state.
#[derive(Default)]
pub struct Editors {
    pub tab: EditorTab,
    params: RecentParams,
    /// (generation, snapshot version) of the live state last read.
    seen: Option<(u64, u64)>,
    params_error: Option<String>,
    mask_editor: Option<MaskEditor>,
    draw: Option<DrawDigit>,
    /// The image number typed in the "open" box.
    open_index: usize,
    note: Option<String>,
}

impl Editors {
    /// Reads a new snapshot's parameters, if there is one; call once per frame (cheap when
    /// nothing changed). A new experiment (new generation) forgets the old samples and tells
    /// an open editor which mask the sampler now has.
    pub fn observe(&mut self, live: &LiveState) {
        let key = (live.generation(), live.snapshot_version());
        if self.seen == Some(key) {
            return;
        }
        if self.seen.map(|s| s.0) != Some(key.0) {
            self.params.clear();
            self.new_experiment(live);
        }
        self.seen = Some(key);
        if let Some(snapshot) = live.snapshot() {
            match params_from_snapshot(snapshot) {
                Ok(p) => {
                    self.params.push(snapshot.iteration, Arc::new(p));
                    self.params_error = None;
                }
                Err(e) => self.params_error = Some(format!("snapshot not usable: {e}")),
            }
        }
    }

    fn new_experiment(&mut self, live: &LiveState) {
        if let Some(editor) = &mut self.mask_editor {
            let i = editor.image();
            match (live.mask(i), live.image_shape() == editor.shape()) {
                (Some(mask), true) => editor.set_applied(mask),
                _ => {
                    self.mask_editor = None;
                    self.note = Some(format!("Image {i} is not in the new experiment."));
                }
            }
        }
        if self
            .draw
            .as_ref()
            .is_some_and(|d| d.shape() != live.image_shape())
        {
            self.draw = None;
        }
    }

    /// Opens image `index` of the live experiment in the mask editor (replacing any open one)
    /// and shows the mask editor.
    pub fn open_image(&mut self, live: &LiveState, index: usize) -> Result<(), String> {
        let (Some(values), Some(mask)) = (live.truth(index), live.mask(index)) else {
            return Err(format!(
                "there is no image {index} (the experiment has {})",
                live.n_images()
            ));
        };
        let editor = MaskEditor::open(index, values.to_vec(), mask.to_vec(), live.image_shape())
            .map_err(|e| e.to_string())?
            .with_label(live.label(index));
        self.mask_editor = Some(editor);
        self.open_index = index;
        self.tab = EditorTab::PaintMask;
        self.note = None;
        Ok(())
    }

    /// The open mask editor, if any.
    #[cfg(test)]
    pub fn mask_editor(&self) -> Option<&MaskEditor> {
        self.mask_editor.as_ref()
    }

    #[cfg(test)]
    pub fn mask_editor_mut(&mut self) -> Option<&mut MaskEditor> {
        self.mask_editor.as_mut()
    }

    /// The recent parameter samples.
    pub fn params(&self) -> &RecentParams {
        &self.params
    }

    /// Draws the editors; returns what the app should do (apply a painted mask).
    pub fn ui(&mut self, ui: &mut egui::Ui, live: &LiveState) -> Option<EditorAction> {
        self.observe(live);
        ui.horizontal(|ui| {
            ui.selectable_value(&mut self.tab, EditorTab::PaintMask, "Paint a mask");
            ui.selectable_value(&mut self.tab, EditorTab::DrawDigit, "Draw a digit");
            ui.separator();
            match self.params.newest_iteration() {
                Some(it) => ui.label(format!("posterior from sweep {it}")),
                None => ui.label("no posterior sample yet"),
            };
        });
        if let Some(e) = &self.params_error {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        ui.separator();
        match self.tab {
            EditorTab::PaintMask => self.paint_tab(ui, live),
            EditorTab::DrawDigit => {
                let shape = live.image_shape();
                let draw = self.draw.get_or_insert_with(|| DrawDigit::new(shape));
                draw.ui(ui, &self.params);
                None
            }
        }
    }

    fn paint_tab(&mut self, ui: &mut egui::Ui, live: &LiveState) -> Option<EditorAction> {
        let n = live.n_images();
        ui.horizontal(|ui| {
            ui.label("Image");
            ui.add(
                egui::DragValue::new(&mut self.open_index)
                    .range(0..=n.saturating_sub(1))
                    .speed(0.2),
            )
            .on_hover_text("number of the image to open in the editor");
            if ui.button("Open in editor").clicked() {
                let index = self.open_index;
                if let Err(e) = self.open_image(live, index) {
                    self.note = Some(e);
                }
            }
        });
        if let Some(note) = &self.note {
            ui.label(note.as_str());
        }
        let editor = self.mask_editor.as_mut()?;
        let action = editor.ui(ui, &self.params);
        if action == Some(EditorAction::Close) {
            self.mask_editor = None;
        }
        action
    }
}

/// A snapshot's current W (D x M, column-major), mu and sigma^2 as reconstruction parameters.
pub fn params_from_snapshot(s: &Snapshot) -> Result<FactorParams, ReconstructError> {
    let expected = s.d.saturating_mul(s.m);
    if s.w.len() != expected {
        return Err(ReconstructError::ShapeMismatch {
            what: "W",
            expected,
            got: s.w.len(),
        });
    }
    let w = DMatrix::from_column_slice(s.d, s.m, &s.w);
    FactorParams::new(w, s.mu.clone(), s.sigmasq.clone())
}
