//! Hand-made masks and digits: the mask editor (paint any digit's mask and watch the
//! posterior fill it in), the draw-a-digit canvas, and what they share (the stroke canvas,
//! undo history, the soft ink brush, the recent posterior samples and the completion preview).

mod brush;
mod canvas;
mod draw_digit;
mod history;
mod mask_editor;
mod preview;
mod recent;
mod workbench;

pub use mask_editor::EditorAction;
pub use recent::RecentParams;
pub use workbench::{EditorTab, Editors};

#[cfg(test)]
pub use draw_digit::{DrawDigit, DrawTool};
#[cfg(test)]
pub use mask_editor::MaskEditor;
