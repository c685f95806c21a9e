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

/// Which chains a view's plots draw, toggled from a key of the chains' colours that stands in
/// for the plots' own legends: with one entry a chain, those grew taller than a plot at eight
/// chains, or at four in projector mode, and covered its lines and axis.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ChainKey {
    hidden: [bool; crate::chains::MAX_CHAINS],
}

impl Default for ChainKey {
    fn default() -> Self {
        ChainKey {
            hidden: [false; crate::chains::MAX_CHAINS],
        }
    }
}

impl ChainKey {
    /// True when chain `c` (0-based) is drawn.
    pub fn shows(&self, c: usize) -> bool {
        !self.hidden.get(c).copied().unwrap_or(false)
    }

    /// One row: each chain's colour and number, a click hiding or showing its lines; a button
    /// to show them all again once any is hidden.
    pub fn ui(&mut self, ui: &mut egui::Ui, colours: &[Color32]) {
        ui.horizontal_wrapped(|ui| {
            ui.label("Chains:")
                .on_hover_text("Each chain's colour in the plots; click one to hide its lines.");
            for (c, &colour) in colours.iter().enumerate().take(self.hidden.len()) {
                if toggle(ui, c, colour, self.shows(c)).clicked() {
                    self.hidden[c] = !self.hidden[c];
                }
            }
            let count = colours.len().min(self.hidden.len());
            if self.hidden[..count].iter().any(|&h| h) && ui.small_button("Show all").clicked() {
                self.hidden = [false; crate::chains::MAX_CHAINS];
            }
        });
    }
}

/// A chain's entry in the key: a square of its colour (filled when shown, outlined when
/// hidden) and its number; to assistive technology a check box named after the chain.
fn toggle(ui: &mut egui::Ui, c: usize, colour: Color32, shown: bool) -> egui::Response {
    let text_colour = if shown {
        ui.visuals().text_color()
    } else {
        ui.visuals().weak_text_color()
    };
    let galley = egui::WidgetText::from((c + 1).to_string()).into_galley(
        ui,
        Some(egui::TextWrapMode::Extend),
        f32::INFINITY,
        egui::TextStyle::Body,
    );
    let side = ui.text_style_height(&egui::TextStyle::Body) * 0.8;
    let gap = ui.spacing().item_spacing.x * 0.5;
    let size = egui::vec2(side + gap + galley.size().x, side.max(galley.size().y));
    let (rect, response) = ui.allocate_exact_size(size, egui::Sense::click());
    let name = chain_name(c);
    response.widget_info(|| {
        egui::WidgetInfo::selected(egui::Role::CheckBox, ui.is_enabled(), shown, &name)
    });
    if ui.is_rect_visible(rect) {
        let square = egui::Rect::from_center_size(
            egui::pos2(rect.left() + side / 2.0, rect.center().y),
            egui::vec2(side, side),
        );
        let painter = ui.painter();
        if shown {
            painter.rect_filled(square, 2.0, colour);
        } else {
            painter.rect_stroke(
                square,
                2.0,
                egui::Stroke::new(1.5, colour),
                egui::StrokeKind::Inside,
            );
        }
        if response.hovered() {
            painter.rect_stroke(
                rect.expand(2.0),
                3.0,
                ui.visuals().widgets.hovered.bg_stroke,
                egui::StrokeKind::Outside,
            );
        }
        let text_pos = egui::pos2(
            square.right() + gap,
            rect.center().y - galley.size().y / 2.0,
        );
        painter.galley(text_pos, galley, text_colour);
    }
    let action = if shown { "hide" } else { "show" };
    response.on_hover_text(format!("{name}: click to {action} its lines"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;

    /// Clicking a chain's entry hides its lines, clicking again shows them, and "Show all"
    /// shows every hidden chain; the entries are check boxes named after the chains.
    #[test]
    fn the_key_toggles_chains() {
        let mut h = Harness::builder().with_size([600.0, 200.0]).build_ui_state(
            |ui, key: &mut ChainKey| {
                let colours: Vec<Color32> = (0..8).map(|c| chain_colour(ui, c)).collect();
                key.ui(ui, &colours);
            },
            ChainKey::default(),
        );
        h.run();
        assert!((0..8).all(|c| h.state().shows(c)));
        assert!(h.query_by_label("Show all").is_none());
        h.get_by_label("chain 3").click();
        h.run();
        assert!(!h.state().shows(2));
        assert!((0..8).filter(|&c| c != 2).all(|c| h.state().shows(c)));
        h.get_by_label("chain 8").click();
        h.run();
        assert!(!h.state().shows(7));
        h.get_by_label("chain 3").click();
        h.run();
        assert!(h.state().shows(2));
        assert!(!h.state().shows(7));
        h.get_by_label("Show all").click();
        h.run();
        assert!((0..8).all(|c| h.state().shows(c)));
        // Chains beyond the key's range are shown.
        assert!(h.state().shows(100));
    }
}
