//! Colours of the chains: the Okabe-Ito palette (Okabe and Ito 2008), told apart by people
//! with any common form of colour-blindness. Its black is replaced by the theme's text colour
//! so the eighth chain shows on a dark background too.
//!
//! Plain data on the UI thread.

use egui::Color32;

/// Orange, sky blue, bluish green, vermillion, blue, reddish purple, yellow.
const OKABE_ITO: [Color32; 7] = [
    Color32::from_rgb(230, 159, 0),
    Color32::from_rgb(86, 180, 233),
    Color32::from_rgb(0, 158, 115),
    Color32::from_rgb(213, 94, 0),
    Color32::from_rgb(0, 114, 178),
    Color32::from_rgb(204, 121, 167),
    Color32::from_rgb(240, 228, 66),
];

/// The colour of chain `c` (0-based).
pub fn chain_colour(ui: &egui::Ui, c: usize) -> Color32 {
    OKABE_ITO
        .get(c % 8)
        .copied()
        .unwrap_or_else(|| ui.visuals().text_color())
}

/// The legend name of chain `c` (0-based): "chain 1", "chain 2", ..
pub fn chain_name(c: usize) -> String {
    format!("chain {}", c + 1)
}
