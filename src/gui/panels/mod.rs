//! The settings side panel: what data, which masks, which model. Each section edits a part of
//! the app's settings; the chain manager compares the edited settings with those of the running
//! chain and either sends the change to the sampler (it applies at the next sweep) or rebuilds
//! the chain (the restart key decides which).
//!
//! Runs on the UI thread; the data section's file dialogs and download run as jobs.

pub mod chains;
pub mod data;
pub mod mask;
pub mod model;
pub mod painted;

use egui::{Color32, Response, RichText, Ui};

pub use data::{DataSettings, SourceChoice};
pub use mask::MaskSettings;
pub use painted::PaintedMasks;

/// What changing a control does to a chain that is already sampling.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Effect {
    /// Sent to the sampler; it applies from the next sweep and the chain goes on.
    NextSweep,
    /// The chain is rebuilt from scratch (new data, masks, M or seed).
    Restart,
}

impl Effect {
    fn tag(self) -> (&'static str, Color32, &'static str) {
        match self {
            Effect::NextSweep => (
                "live",
                Color32::from_rgb(60, 160, 90),
                "Applies at the next sweep: the chain keeps going with the new value.",
            ),
            Effect::Restart => (
                "restart",
                Color32::from_rgb(220, 130, 40),
                "Changing this restarts the chain from sweep 0 (new data, masks or model size).",
            ),
        }
    }

    /// A small coloured word after a control saying what a change does, with a tooltip.
    pub fn badge(self, ui: &mut Ui) -> Response {
        let (word, colour, tip) = self.tag();
        ui.label(RichText::new(word).small().color(colour))
            .on_hover_text(tip)
    }
}

/// A settings row in a two-column grid: a label (with a tooltip explaining the setting), the
/// control tied to the label for screen readers and tests, and the badge of its effect.
pub fn row(
    ui: &mut Ui,
    label: &str,
    tip: &str,
    effect: Effect,
    add: impl FnOnce(&mut Ui) -> Response,
) -> Response {
    let label = ui.label(label).on_hover_text(tip);
    let response = ui
        .horizontal(|ui| {
            let r = add(ui).labelled_by(label.id).on_hover_text(tip);
            effect.badge(ui);
            r
        })
        .inner;
    ui.end_row();
    response
}

/// The legend at the top of the side panel explaining the badges.
pub fn legend(ui: &mut Ui) {
    ui.horizontal_wrapped(|ui| {
        ui.spacing_mut().item_spacing.x = 4.0;
        Effect::NextSweep.badge(ui);
        ui.label(RichText::new("applies at the next sweep;").small());
        Effect::Restart.badge(ui);
        ui.label(RichText::new("rebuilds the chain from sweep 0.").small());
    });
}

/// "10,000".
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (k, c) in digits.chars().enumerate() {
        if k > 0 && (digits.len() - k).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_separates_groups_of_three() {
        assert_eq!(super::thousands(10_000), "10,000");
        assert_eq!(super::thousands(999), "999");
        assert_eq!(super::thousands(1_234_567), "1,234,567");
        assert_eq!(super::thousands(0), "0");
    }
}
