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

pub use brush::{FULL_INK, ink_segment};
pub use canvas::{PixelCanvas, StrokeStep};
pub use draw_digit::{DrawDigit, DrawTool, Drawing};
pub use history::History;
pub use mask_editor::{BrushMode, EditorAction, MaskEditor, OpenError, tinted_digit};
pub use preview::masked_rmse;
pub use recent::{DEFAULT_KEPT, RecentParams};
