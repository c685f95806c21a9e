//! The mask editor: one digit, its mask painted with the mouse (brush size, erase, clear,
//! stroke-level undo and redo), and the model's completion recomputed at every change from
//! the newest posterior samples. "Apply" hands the painted mask to the app for the sampler.

use crate::masks::paint_stroke;
use egui::{Color32, ColorImage, Key, KeyboardShortcut, Modifiers};

use super::canvas::{PixelCanvas, StrokeStep, brush_slider, canvas_row};
use super::history::History;
use super::preview::Preview;
use super::recent::RecentParams;
use crate::gui::texture::{ColourMap, TextureCache, fitted_size};

/// Largest brush radius offered, in pixels.
pub const MAX_BRUSH: f32 = 8.0;
const UNDO: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Z);
const REDO: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Y);

/// What the app should do after a frame of the editor.
#[derive(Clone, Debug, PartialEq)]
pub enum EditorAction {
    /// Put this mask of image `image` into the data the sampler uses.
    Apply { image: usize, missing: Vec<bool> },
    /// The user closed the editor.
    Close,
}

/// Painting either hides pixels (adds to the mask) or reveals them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BrushMode {
    Hide,
    Reveal,
}

/// Why an image cannot be opened in the editor.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OpenError {
    #[error("image has {got} values and its mask {mask}, expected {expected} ({height} x {width})")]
    Shape {
        expected: usize,
        got: usize,
        mask: usize,
        height: usize,
        width: usize,
    },
}

/// One digit open for painting.
pub struct MaskEditor {
    image: usize,
    label: Option<u8>,
    height: usize,
    width: usize,
    values: Vec<f32>,
    /// The mask as the sampler currently has it.
    applied: Vec<bool>,
    mask: Vec<bool>,
    history: History<Vec<bool>>,
    /// The mask before the stroke in progress.
    stroke_before: Option<Vec<bool>>,
    pub brush_radius: f32,
    pub mode: BrushMode,
    /// Average the completion over the kept recent samples instead of the newest only.
    pub average: bool,
    edit_version: u64,
    canvas: PixelCanvas,
    preview: Preview,
    textures: TextureCache,
    error: Option<String>,
}

impl MaskEditor {
    /// Opens image `image` (its `height` x `width` values, row-major) with its current mask.
    pub fn open(
        image: usize,
        values: Vec<f32>,
        missing: Vec<bool>,
        (height, width): (usize, usize),
    ) -> Result<MaskEditor, OpenError> {
        let expected = height * width;
        if values.len() != expected || missing.len() != expected {
            return Err(OpenError::Shape {
                expected,
                got: values.len(),
                mask: missing.len(),
                height,
                width,
            });
        }
        Ok(MaskEditor {
            image,
            label: None,
            height,
            width,
            values,
            applied: missing.clone(),
            mask: missing,
            history: History::new(200),
            stroke_before: None,
            brush_radius: 1.5,
            mode: BrushMode::Hide,
            average: true,
            edit_version: 0,
            canvas: PixelCanvas::default(),
            preview: Preview::default(),
            textures: TextureCache::default(),
            error: None,
        })
    }

    /// Shows the digit's class next to its number.
    pub fn with_label(mut self, label: Option<u8>) -> Self {
        self.label = label;
        self
    }

    pub fn image(&self) -> usize {
        self.image
    }

    pub fn shape(&self) -> (usize, usize) {
        (self.height, self.width)
    }

    /// The mask being painted (true = missing).
    #[cfg(test)]
    pub fn mask(&self) -> &[bool] {
        &self.mask
    }

    /// The digit's values.
    #[cfg(test)]
    pub fn values(&self) -> &[f32] {
        &self.values
    }

    /// True when the painted mask differs from the one the sampler has.
    pub fn has_unapplied_changes(&self) -> bool {
        self.mask != self.applied
    }

    /// The last completion computed by [`Self::refresh`] or the UI.
    #[cfg(test)]
    pub fn reconstruction(&self) -> Option<&crate::reconstruct::Reconstruction> {
        self.preview.reconstruction()
    }

    /// The app reports that the sampler now uses `missing` for this image (after Apply, or
    /// when the experiment changed underneath the editor).
    pub fn set_applied(&mut self, missing: &[bool]) {
        if missing.len() == self.applied.len() {
            self.applied.copy_from_slice(missing);
        }
    }

    /// Paints one whole stroke through `points` (row, col) as a single undo step.
    #[cfg(test)]
    pub fn paint(&mut self, points: &[(f32, f32)]) {
        let before = self.mask.clone();
        self.paint_points(points);
        self.history.record(before, &self.mask);
    }

    /// Unmasks every pixel (one undo step).
    pub fn clear(&mut self) {
        let before = self.mask.clone();
        self.mask.iter_mut().for_each(|m| *m = false);
        self.finish_edit(before);
    }

    /// Hides every pixel (one undo step): the prior predictive.
    pub fn hide_all(&mut self) {
        let before = self.mask.clone();
        self.mask.iter_mut().for_each(|m| *m = true);
        self.finish_edit(before);
    }

    /// Goes back to the mask the sampler has (one undo step).
    pub fn revert(&mut self) {
        let before = self.mask.clone();
        self.mask.clone_from(&self.applied);
        self.finish_edit(before);
    }

    pub fn undo(&mut self) -> bool {
        self.end_stroke();
        let done = self.history.undo(&mut self.mask);
        if done {
            self.edit_version += 1;
        }
        done
    }

    pub fn redo(&mut self) -> bool {
        self.end_stroke();
        let done = self.history.redo(&mut self.mask);
        if done {
            self.edit_version += 1;
        }
        done
    }

    pub fn can_undo(&self) -> bool {
        self.history.can_undo()
    }

    pub fn can_redo(&self) -> bool {
        self.history.can_redo()
    }

    /// Recomputes the completion if the mask or the samples changed (cheap otherwise).
    pub fn refresh(&mut self, params: &RecentParams) {
        self.preview.refresh(
            params,
            &self.values,
            &self.mask,
            self.edit_version,
            self.average,
        );
    }

    fn finish_edit(&mut self, before: Vec<bool>) {
        self.end_stroke();
        if before != self.mask {
            self.edit_version += 1;
        }
        self.history.record(before, &self.mask);
    }

    fn paint_points(&mut self, points: &[(f32, f32)]) {
        let hide = self.mode == BrushMode::Hide;
        let (h, w) = (self.height, self.width);
        match paint_stroke(&mut self.mask, h, w, points, self.brush_radius, hide) {
            Ok(0) => {}
            Ok(_) => self.edit_version += 1,
            Err(e) => self.error = Some(e.to_string()),
        }
    }

    fn apply_step(&mut self, step: StrokeStep) {
        match step {
            StrokeStep::Begin(p) => {
                self.stroke_before = Some(self.mask.clone());
                self.paint_points(&[p]);
            }
            StrokeStep::Extend(a, b) => {
                if self.stroke_before.is_none() {
                    self.stroke_before = Some(self.mask.clone());
                }
                self.paint_points(&[a, b]);
            }
            StrokeStep::End => self.end_stroke(),
        }
    }

    fn end_stroke(&mut self) {
        if let Some(before) = self.stroke_before.take() {
            self.history.record(before, &self.mask);
        }
    }

    /// Draws the editor; returns what the app should do, if anything.
    pub fn ui(&mut self, ui: &mut egui::Ui, params: &RecentParams) -> Option<EditorAction> {
        self.textures.begin_frame(600);
        let mut action = None;
        if ui.input_mut(|i| i.consume_shortcut(&REDO)) {
            self.redo();
        } else if ui.input_mut(|i| i.consume_shortcut(&UNDO)) {
            self.undo();
        }
        let title = match self.label {
            Some(l) => format!("Image {} (a {l})", self.image),
            None => format!("Image {}", self.image),
        };
        ui.horizontal_wrapped(|ui| {
            ui.heading(title);
            let hidden = self.mask.iter().filter(|&&m| m).count();
            ui.label(format!("{hidden} of {} pixels hidden", self.mask.len()));
            if self.has_unapplied_changes() {
                ui.colored_label(ui.visuals().warn_fg_color, "not yet applied to the sampler");
            }
        });
        action = action.or(self.toolbar(ui));
        if let Some(e) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        self.refresh(params);

        canvas_row(
            ui,
            "mask editor",
            self,
            |editor, ui, side| {
                // As wide as the canvas, so the title wraps under it rather than pushing the
                // preview off the window's right edge.
                ui.set_width(fitted_size(side, (editor.width, editor.height)).x);
                ui.strong("Paint the mask (red = hidden from the model)");
                let ctx = ui.ctx().clone();
                let (values, mask) = (&editor.values, &editor.mask);
                let (w, h) = (editor.width, editor.height);
                let texture =
                    editor
                        .textures
                        .texture(&ctx, "editor/digit", editor.edit_version, || {
                            tinted_digit(values, mask, w, h)
                        });
                let (_, steps) = editor.canvas.show(
                    ui,
                    texture,
                    side,
                    (h, w),
                    editor.brush_radius,
                    "mask painting canvas",
                );
                for step in steps {
                    editor.apply_step(step);
                }
            },
            |editor, ui, preview_side| {
                // Refresh again so the completion follows this very frame's stroke.
                editor.refresh(params);
                editor.preview.ui(
                    ui,
                    &mut editor.textures,
                    "editor",
                    (editor.height, editor.width),
                    preview_side,
                    Some((&editor.values, &editor.mask)),
                );
            },
        );
        if self.canvas.is_stroking() {
            ui.ctx().request_repaint();
        }
        action
    }

    fn toolbar(&mut self, ui: &mut egui::Ui) -> Option<EditorAction> {
        let mut action = None;
        ui.horizontal_wrapped(|ui| {
            ui.selectable_value(&mut self.mode, BrushMode::Hide, "Hide pixels")
                .on_hover_text("Paint to hide pixels from the model");
            ui.selectable_value(&mut self.mode, BrushMode::Reveal, "Reveal pixels")
                .on_hover_text("Paint to give pixels back to the model");
            brush_slider(
                ui,
                &mut self.brush_radius,
                0.0..=MAX_BRUSH,
                "Brush radius (pixels)",
            );
            ui.separator();
            if ui
                .add_enabled(self.can_undo(), egui::Button::new("Undo"))
                .clicked()
            {
                self.undo();
            }
            if ui
                .add_enabled(self.can_redo(), egui::Button::new("Redo"))
                .clicked()
            {
                self.redo();
            }
            if ui.button("Clear mask").clicked() {
                self.clear();
            }
            if ui.button("Hide all").clicked() {
                self.hide_all();
            }
            let changed = self.has_unapplied_changes();
            if ui
                .add_enabled(changed, egui::Button::new("Revert"))
                .clicked()
            {
                self.revert();
            }
            ui.checkbox(&mut self.average, "Average recent samples");
            ui.separator();
            let apply = ui
                .add_enabled(changed, egui::Button::new("Apply to sampler"))
                .on_hover_text("Use this mask for this image in the running chain");
            if apply.clicked() {
                self.end_stroke();
                self.applied.clone_from(&self.mask);
                action = Some(EditorAction::Apply {
                    image: self.image,
                    missing: self.mask.clone(),
                });
            }
            if ui.button("Close editor").clicked() {
                action = Some(EditorAction::Close);
            }
        });
        action
    }
}

/// The digit in gray with hidden pixels tinted red, so the user sees what they are hiding.
pub fn tinted_digit(values: &[f32], missing: &[bool], width: usize, height: usize) -> ColorImage {
    let gray = ColourMap::Gray { lo: 0.0, hi: 255.0 };
    let red = Color32::from_rgb(220, 40, 30);
    let pixels = (0..width * height)
        .map(|k| {
            let base = values
                .get(k)
                .map_or(crate::gui::texture::INVALID, |&v| gray.colour(v));
            if missing.get(k).copied().unwrap_or(false) {
                blend(base, red, 0.6)
            } else {
                base
            }
        })
        .collect();
    ColorImage::new([width, height], pixels)
}

fn blend(a: Color32, b: Color32, t: f32) -> Color32 {
    let mix = |x: u8, y: u8| (f32::from(x) * (1.0 - t) + f32::from(y) * t).round() as u8;
    Color32::from_rgb(mix(a.r(), b.r()), mix(a.g(), b.g()), mix(a.b(), b.b()))
}
