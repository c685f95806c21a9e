//! The settings side panel: what data, which masks, which model. Each section edits a part of
//! [`Settings`]; the app compares the edited settings with those of the running chain and either
//! sends the change to the sampler (it applies at the next sweep) or rebuilds the chain.

pub mod data;
pub mod mask;
pub mod model;
pub mod painted;

use egui::{Color32, Response, RichText, Ui};
use gibbs_fa::experiment::NOTEBOOK_SEED;
use gibbs_fa::masks::MaskParams;
use gibbs_fa::model::SamplerSettings;
use serde::{Deserialize, Serialize};

pub use data::{DataSettings, SourceChoice};
pub use mask::MaskSettings;
pub use painted::PaintedMasks;

/// Everything the user sets up, remembered between runs of the app.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub data: DataSettings,
    pub masks: MaskSettings,
    pub model: SamplerSettings,
    /// Masks painted by hand, laid over the generated ones.
    pub painted: PaintedMasks,
}

impl Default for Settings {
    /// The notebook's experiment as the SPEC gives it: N = 10,000, M = 50, its hyperparameters,
    /// 200 sweeps with the second half averaged, its masks. A sweep takes tens of milliseconds,
    /// so the whole run answers within seconds; a smaller N is not cheaper in what matters, since
    /// with M = 50 and a few thousand digits the posterior mean is no better than column means
    /// (a property of the model, checked against an independent implementation).
    fn default() -> Self {
        Settings {
            data: DataSettings::default(),
            masks: MaskSettings {
                params: MaskParams::default(),
                seed: NOTEBOOK_SEED,
            },
            model: SamplerSettings::default(),
            painted: PaintedMasks::default(),
        }
    }
}

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

/// The names of the restart-class settings that differ between the chain's and the edited
/// settings (empty when the chain can go on). `m` and the sampler seed live in the model
/// settings; everything else in the data and mask sections.
pub fn restart_reasons(active: &Settings, edited: &Settings) -> Vec<&'static str> {
    let mut reasons = data::restart_reasons(&active.data, &edited.data);
    if active.masks != edited.masks {
        reasons.push("masks");
    }
    if active.painted != edited.painted {
        reasons.push("painted masks");
    }
    reasons.extend(model::restart_reasons(&active.model, &edited.model));
    reasons
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_name_what_needs_a_restart() {
        let a = Settings::default();
        assert!(restart_reasons(&a, &a).is_empty());

        let mut live = a.clone();
        live.model.hyper.kappa0 = 0.5;
        live.model.sweeps = 500;
        assert!(restart_reasons(&a, &live).is_empty());

        let mut b = a.clone();
        b.model.hyper.m = 7;
        b.masks.seed += 1;
        b.data.n = 300;
        let reasons = restart_reasons(&a, &b);
        for r in ["N", "masks", "M"] {
            assert!(reasons.contains(&r), "{reasons:?} lacks {r}");
        }
    }
}
