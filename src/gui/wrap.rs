//! Widgets kept whole in rows that wrap (`ui.horizontal_wrapped`).
//!
//! Why: a wrapping row moves a widget to the next line only when it knows the widget's size
//! before placing it. A slider lays out its bar, value box and text in a row of its own, and a
//! scope or a nested row gets only what is left of the current line: begun near a line's end,
//! they ran off the window's right edge (projector mode, 1280 x 720 at 150%). These helpers
//! start a new line first when the rest of this one is too short.
//!
//! UI thread only; no state.

use egui::{Response, TextStyle, Ui, Widget};

/// Adds `widget`, about `width` points wide, to a wrapping row: on a new line when the rest of
/// the current one is narrower.
pub fn add_whole(ui: &mut Ui, width: f32, widget: impl Widget) -> Response {
    if ui.available_size_before_wrap().x < width {
        ui.end_row();
    }
    ui.add(widget)
}

/// About how wide a slider is with its value box and `text` (empty for none).
pub fn slider_width(ui: &Ui, text: &str) -> f32 {
    // The bar, the value box and the text, with the spacing between them.
    let spacing = ui.spacing().item_spacing.x;
    ui.spacing().slider_width + value_width(ui) + text_width(ui, text) + 3.0 * spacing
}

/// The width of `text` on one line in the body font.
pub fn text_width(ui: &Ui, text: &str) -> f32 {
    if text.is_empty() {
        return 0.0;
    }
    let font = TextStyle::Body.resolve(ui.style());
    let colour = ui.visuals().text_color();
    ui.painter()
        .layout_no_wrap(text.to_owned(), font, colour)
        .size()
        .x
}

/// Adds a label and its `widget` (about `width` points wide) to a wrapping row as a pair: both
/// on a new line when the rest of the current one cannot hold both, so a value never sits at
/// the start of a line away from its name. The widget is labelled by the label.
pub fn labelled(
    ui: &mut Ui,
    enabled: bool,
    text: &str,
    width: f32,
    widget: impl Widget,
) -> Response {
    let needed = text_width(ui, text) + ui.spacing().item_spacing.x + width;
    if ui.available_size_before_wrap().x < needed {
        ui.end_row();
    }
    let label = ui.add_enabled(enabled, egui::Label::new(text).extend());
    ui.add_enabled(enabled, widget).labelled_by(label.id)
}

/// About how wide a value box (a `DragValue`) is: three line heights.
pub fn value_width(ui: &Ui) -> f32 {
    3.0 * ui.text_style_height(&TextStyle::Body)
}
