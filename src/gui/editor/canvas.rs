//! An interactive pixel canvas: draws a small image scaled up with square pixels, shows the
//! brush outline under the pointer, and turns mouse presses and drags into strokes in image
//! coordinates (row, col), continuous, pixel (i, j) covering [i, i+1) x [j, j+1).

use egui::{Color32, Pos2, Rect, Response, Sense, Stroke, TextureId, Ui, Vec2};

/// One step of a stroke, in image coordinates (row, col).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum StrokeStep {
    /// The button went down here.
    Begin((f32, f32)),
    /// The pointer moved from the first point to the second with the button down.
    Extend((f32, f32), (f32, f32)),
    /// The button was released (or the pointer left the app).
    End,
}

/// Per-canvas memory of the stroke in progress.
#[derive(Clone, Debug, Default)]
pub struct PixelCanvas {
    last: Option<(f32, f32)>,
}

impl PixelCanvas {
    /// True while a stroke is in progress.
    pub fn is_stroking(&self) -> bool {
        self.last.is_some()
    }

    /// Draws `texture` (a `height` x `width` image) in a square-pixel box `side` points wide,
    /// with a faint pixel grid and a brush outline of `brush_radius` pixels under the pointer,
    /// and returns the stroke steps of this frame.
    pub fn show(
        &mut self,
        ui: &mut Ui,
        texture: TextureId,
        side: f32,
        (height, width): (usize, usize),
        brush_radius: f32,
        label: &str,
    ) -> (Response, Vec<StrokeStep>) {
        let size = crate::gui::texture::fitted_size(side, (width, height));
        let (rect, response) = ui.allocate_exact_size(size, Sense::click_and_drag());
        let label = label.to_owned();
        response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Canvas, true, &label));
        let painter = ui.painter_at(rect);
        let uv = Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0));
        painter.image(texture, rect, uv, Color32::WHITE);
        let cell = if width > 0 {
            rect.width() / width as f32
        } else {
            1.0
        };
        if cell >= 6.0 {
            let grid = Stroke::new(1.0, Color32::from_white_alpha(14));
            for j in 1..width {
                let x = rect.left() + j as f32 * cell;
                painter.vline(x, rect.y_range(), grid);
            }
            for i in 1..height {
                let y = rect.top() + i as f32 * cell;
                painter.hline(rect.x_range(), y, grid);
            }
        }
        if let Some(p) = response.hover_pos() {
            let outline = Stroke::new(1.5, Color32::from_rgb(255, 200, 0));
            painter.circle_stroke(p, (brush_radius * cell).max(2.0), outline);
        }

        let to_image = |p: Pos2| {
            (
                (p.y - rect.top()) / cell.max(f32::MIN_POSITIVE),
                (p.x - rect.left()) / cell.max(f32::MIN_POSITIVE),
            )
        };
        let mut steps = Vec::new();
        let down = response.is_pointer_button_down_on();
        let position = response.interact_pointer_pos().map(to_image);
        match (down, position, self.last) {
            (true, Some(p), None) => {
                steps.push(StrokeStep::Begin(p));
                self.last = Some(p);
            }
            (true, Some(p), Some(last)) if p != last => {
                steps.push(StrokeStep::Extend(last, p));
                self.last = Some(p);
            }
            (false, _, Some(_)) => {
                steps.push(StrokeStep::End);
                self.last = None;
            }
            _ => {}
        }
        (response, steps)
    }
}

/// The canvas's column beside the preview's, in a vertical scroll area: in a short window
/// (1280 x 720 at 150%, projector mode) the canvas keeps its smallest side and the preview's
/// colour bar and status line are scrolled to instead of cut off at the window's bottom.
/// `canvas` and `preview` get their sides from [`canvas_sides`] for the height left in the
/// visible area, so the sides do not change as the area scrolls.
pub fn canvas_row<S>(
    ui: &mut Ui,
    id_salt: &str,
    state: &mut S,
    canvas: impl FnOnce(&mut S, &mut Ui, f32),
    preview: impl FnOnce(&mut S, &mut Ui, f32),
) {
    egui::ScrollArea::vertical()
        .id_salt(id_salt)
        .show(ui, |ui| {
            let (side, preview_side) = canvas_sides(ui.available_size());
            ui.horizontal_top(|ui| {
                ui.vertical(|ui| canvas(state, ui, side));
                ui.add_space(12.0);
                ui.vertical(|ui| preview(state, ui, preview_side));
            });
        });
}

/// Sides of the editing canvas and of each of the two preview images beside it that fit
/// `available` (the canvas is the larger, so strokes are easy to place).
pub fn canvas_sides(available: Vec2) -> (f32, f32) {
    let by_width = (available.x - 48.0) / 2.6;
    let side = by_width.min(available.y - 70.0).clamp(140.0, 640.0);
    (side, (side * 0.8).max(110.0))
}

/// A brush-radius slider, in pixels, in a toolbar that wraps (see [`crate::gui::wrap`]).
pub fn brush_slider(
    ui: &mut egui::Ui,
    radius: &mut f32,
    range: std::ops::RangeInclusive<f32>,
    text: &str,
) -> egui::Response {
    let width = crate::gui::wrap::slider_width(ui, text);
    let slider = egui::Slider::new(radius, range)
        .text(text)
        .fixed_decimals(1);
    crate::gui::wrap::add_whole(ui, width, slider)
}
