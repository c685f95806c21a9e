//! The settings side panel as a whole: the Data, Masks and Model sections of [`super::panels`]
//! with the controls that only queue commands (masks from a file, restore the defaults).
//!
//! UI thread; draws and queues, nothing else.

use egui::{RichText, Ui};

use super::command::Purpose;
use super::command::{AppCommand, Commands};
use super::notes::ErrorNote;
use super::panels::{self, MaskSettings, data::DataPanel};
use super::settings::Settings;

/// The running chain's masks, for the Masks section's line about them.
pub struct ChainMasks<'a> {
    pub missing_fraction: f64,
    pub masks: &'a MaskSettings,
}

/// What the side panel edits and reports to.
pub struct SidePanel<'a> {
    pub settings: &'a mut Settings,
    pub data_panel: &'a mut DataPanel,
    pub chain: Option<ChainMasks<'a>>,
    /// The status of a mask file being read, if any.
    pub mask_file: Option<&'a str>,
    pub dialog_open: bool,
    pub commands: &'a mut Commands,
    pub errors: &'a mut Vec<ErrorNote>,
}

/// The whole settings panel: data, masks, model, and "Restore all defaults".
pub fn side_panel(ui: &mut Ui, p: SidePanel<'_>) {
    let SidePanel {
        settings,
        data_panel,
        chain,
        mask_file,
        dialog_open,
        commands,
        errors,
    } = p;
    panels::legend(ui);
    ui.add_space(4.0);
    egui::CollapsingHeader::new(RichText::new("Data").strong())
        .default_open(true)
        .show(ui, |ui| {
            data_panel.ui(ui, &mut settings.data, errors, commands, dialog_open);
        });
    let (fraction, current) = match &chain {
        Some(c) => (Some(c.missing_fraction), *c.masks == settings.masks),
        None => (None, true),
    };
    egui::CollapsingHeader::new(RichText::new("Masks").strong())
        .default_open(true)
        .show(ui, |ui| {
            panels::mask::ui(ui, &mut settings.masks, fraction, current);
            settings.painted.ui(ui);
            if ui
                .add_enabled(!dialog_open, egui::Button::new("Masks from a file…"))
                .on_hover_text(
                    "An IDX file of masks for these images (nonzero = missing), laid over the \
                     generated ones like painted masks (restarts the chain)",
                )
                .clicked()
            {
                commands.push(AppCommand::Ask(Purpose::OpenMasks));
            }
            if let Some(status) = mask_file {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label(status);
                });
            }
        });
    egui::CollapsingHeader::new(RichText::new("Model").strong())
        .default_open(true)
        .show(ui, |ui| {
            panels::model::ui(ui, &mut settings.model);
            panels::chains::ui(ui, &mut settings.chains);
        });
    ui.add_space(8.0);
    if ui
        .small_button("Restore all defaults")
        .on_hover_text(format!(
            "The notebook's settings on N = {} (restarts the chain)",
            panels::thousands(Settings::default().data.n)
        ))
        .clicked()
    {
        commands.push(AppCommand::RestoreDefaults);
    }
}
