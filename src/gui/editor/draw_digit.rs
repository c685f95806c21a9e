//! Draw a digit: a blank canvas the user inks with a soft brush, then hides part of, to see
//! whether the model can guess what is under the mask (its completion and posterior std).

use crate::masks::paint_stroke;
use egui::{Key, KeyboardShortcut, Modifiers};

use super::brush::ink_segment;
use super::canvas::{PixelCanvas, StrokeStep, brush_slider, canvas_row};
use super::history::History;
use super::mask_editor::{MAX_BRUSH, tinted_digit};
use super::preview::Preview;
use super::recent::RecentParams;
use crate::gui::texture::{TextureCache, fitted_size};

const UNDO: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Z);
const REDO: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Y);

/// What the pointer does on the canvas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DrawTool {
    /// Add ink (soft brush).
    Ink,
    /// Remove ink.
    RubOut,
    /// Hide pixels from the model.
    Hide,
    /// Give hidden pixels back.
    Reveal,
}

/// The drawing and its mask, undone and redone together.
#[derive(Clone, Debug, PartialEq)]
pub struct Drawing {
    pub ink: Vec<f32>,
    pub missing: Vec<bool>,
}

/// The draw-a-digit canvas.
pub struct DrawDigit {
    height: usize,
    width: usize,
    drawing: Drawing,
    history: History<Drawing>,
    stroke_before: Option<Drawing>,
    pub tool: DrawTool,
    pub ink_radius: f32,
    pub mask_radius: f32,
    pub average: bool,
    edit_version: u64,
    canvas: PixelCanvas,
    preview: Preview,
    textures: TextureCache,
}

impl DrawDigit {
    /// A blank `height` x `width` canvas with nothing hidden.
    pub fn new((height, width): (usize, usize)) -> DrawDigit {
        let d = height * width;
        DrawDigit {
            height,
            width,
            drawing: Drawing {
                ink: vec![0.0; d],
                missing: vec![false; d],
            },
            history: History::new(200),
            stroke_before: None,
            tool: DrawTool::Ink,
            ink_radius: 1.2,
            mask_radius: 2.5,
            average: true,
            edit_version: 0,
            canvas: PixelCanvas::default(),
            preview: Preview::default(),
            textures: TextureCache::default(),
        }
    }

    pub fn shape(&self) -> (usize, usize) {
        (self.height, self.width)
    }

    #[cfg(test)]
    pub fn drawing(&self) -> &Drawing {
        &self.drawing
    }

    /// The last completion computed.
    #[cfg(test)]
    pub fn reconstruction(&self) -> Option<&crate::reconstruct::Reconstruction> {
        self.preview.reconstruction()
    }

    /// Blank canvas, nothing hidden (one undo step).
    pub fn clear(&mut self) {
        self.end_stroke();
        let before = self.drawing.clone();
        self.drawing.ink.iter_mut().for_each(|v| *v = 0.0);
        self.drawing.missing.iter_mut().for_each(|m| *m = false);
        self.changed_from(before);
    }

    /// Reveals every pixel, keeping the ink (one undo step).
    pub fn clear_mask(&mut self) {
        self.end_stroke();
        let before = self.drawing.clone();
        self.drawing.missing.iter_mut().for_each(|m| *m = false);
        self.changed_from(before);
    }

    pub fn undo(&mut self) -> bool {
        self.end_stroke();
        let done = self.history.undo(&mut self.drawing);
        self.edit_version += u64::from(done);
        done
    }

    pub fn redo(&mut self) -> bool {
        self.end_stroke();
        let done = self.history.redo(&mut self.drawing);
        self.edit_version += u64::from(done);
        done
    }

    /// Recomputes the completion if the drawing or the samples changed.
    pub fn refresh(&mut self, params: &RecentParams) {
        self.preview.refresh(
            params,
            &self.drawing.ink,
            &self.drawing.missing,
            self.edit_version,
            self.average,
        );
    }

    fn changed_from(&mut self, before: Drawing) {
        if before != self.drawing {
            self.edit_version += 1;
        }
        self.history.record(before, &self.drawing);
    }

    fn segment(&mut self, a: (f32, f32), b: (f32, f32)) {
        let shape = (self.height, self.width);
        let changed = match self.tool {
            DrawTool::Ink | DrawTool::RubOut => {
                let erase = self.tool == DrawTool::RubOut;
                ink_segment(&mut self.drawing.ink, shape, a, b, self.ink_radius, erase)
            }
            DrawTool::Hide | DrawTool::Reveal => {
                let hide = self.tool == DrawTool::Hide;
                let (h, w) = shape;
                let points = [a, b];
                paint_stroke(
                    &mut self.drawing.missing,
                    h,
                    w,
                    &points,
                    self.mask_radius,
                    hide,
                )
                .is_ok_and(|n| n > 0)
            }
        };
        self.edit_version += u64::from(changed);
    }

    fn apply_step(&mut self, step: StrokeStep) {
        match step {
            StrokeStep::Begin(p) => {
                self.stroke_before = Some(self.drawing.clone());
                self.segment(p, p);
            }
            StrokeStep::Extend(a, b) => {
                if self.stroke_before.is_none() {
                    self.stroke_before = Some(self.drawing.clone());
                }
                self.segment(a, b);
            }
            StrokeStep::End => self.end_stroke(),
        }
    }

    fn end_stroke(&mut self) {
        if let Some(before) = self.stroke_before.take() {
            self.history.record(before, &self.drawing);
        }
    }

    /// Draws the canvas, its tools and the model's completion.
    pub fn ui(&mut self, ui: &mut egui::Ui, params: &RecentParams) {
        self.textures.begin_frame(600);
        if ui.input_mut(|i| i.consume_shortcut(&REDO)) {
            self.redo();
        } else if ui.input_mut(|i| i.consume_shortcut(&UNDO)) {
            self.undo();
        }
        ui.label(
            "Draw a digit with the ink brush, then hide part of it: can the model guess what is under the mask?",
        );
        ui.horizontal_wrapped(|ui| {
            ui.selectable_value(&mut self.tool, DrawTool::Ink, "Ink");
            ui.selectable_value(&mut self.tool, DrawTool::RubOut, "Rub out");
            ui.selectable_value(&mut self.tool, DrawTool::Hide, "Hide pixels");
            ui.selectable_value(&mut self.tool, DrawTool::Reveal, "Reveal pixels");
            ui.separator();
            match self.tool {
                DrawTool::Ink | DrawTool::RubOut => brush_slider(
                    ui,
                    &mut self.ink_radius,
                    0.5..=4.0,
                    "Ink brush radius (pixels)",
                ),
                DrawTool::Hide | DrawTool::Reveal => brush_slider(
                    ui,
                    &mut self.mask_radius,
                    0.0..=MAX_BRUSH,
                    "Mask brush radius (pixels)",
                ),
            };
            ui.separator();
            if ui
                .add_enabled(self.history.can_undo(), egui::Button::new("Undo"))
                .clicked()
            {
                self.undo();
            }
            if ui
                .add_enabled(self.history.can_redo(), egui::Button::new("Redo"))
                .clicked()
            {
                self.redo();
            }
            if ui.button("Clear mask").clicked() {
                self.clear_mask();
            }
            if ui.button("Clear drawing").clicked() {
                self.clear();
            }
            ui.checkbox(&mut self.average, "Average recent samples");
        });
        if params.d().is_some_and(|d| d != self.height * self.width) {
            ui.colored_label(
                ui.visuals().error_fg_color,
                "The model was fitted to images of another size than this canvas.",
            );
        }

        let radius = match self.tool {
            DrawTool::Ink | DrawTool::RubOut => self.ink_radius,
            DrawTool::Hide | DrawTool::Reveal => self.mask_radius,
        };
        canvas_row(
            ui,
            "draw a digit",
            self,
            |draw, ui, side| {
                // As wide as the canvas, so the title wraps under it rather than pushing the
                // preview off the window's right edge.
                ui.set_width(fitted_size(side, (draw.width, draw.height)).x);
                ui.strong("Your digit (red = hidden from the model)");
                let ctx = ui.ctx().clone();
                let (d, w, h) = (&draw.drawing, draw.width, draw.height);
                let texture = draw
                    .textures
                    .texture(&ctx, "draw/digit", draw.edit_version, || {
                        tinted_digit(&d.ink, &d.missing, w, h)
                    });
                let (_, steps) =
                    draw.canvas
                        .show(ui, texture, side, (h, w), radius, "digit drawing canvas");
                for step in steps {
                    draw.apply_step(step);
                }
            },
            |draw, ui, preview_side| {
                draw.refresh(params);
                draw.preview.ui(
                    ui,
                    &mut draw.textures,
                    "draw",
                    (draw.height, draw.width),
                    preview_side,
                    Some((&draw.drawing.ink, &draw.drawing.missing)),
                );
            },
        );
        if self.canvas.is_stroking() {
            ui.ctx().request_repaint();
        }
    }
}
