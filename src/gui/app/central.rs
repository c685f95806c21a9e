//! The central area of a frame: banners, the restart question, and the view or workspace
//! chosen by the tabs.
//!
//! Threads: UI thread; draws from cached data and queues commands, never blocks.

use super::*;

impl GibbsApp {
    pub(super) fn central(&mut self, ui: &mut Ui) {
        self.notes.ui(ui);
        let reasons = self.chains.reasons(&self.wanted());
        chrome::restart_banner(ui, &reasons, &self.chains, &mut self.commands);
        if self.chains.chain().is_none()
            && let Some(status) = self.chains.build_status()
        {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(format!("Building the experiment: {status}"));
                if ui.small_button("Cancel").clicked() {
                    self.commands.push(AppCommand::CancelBuild);
                }
            });
        }
        self.exporter.status_ui(ui);
        ui.horizontal_wrapped(|ui| {
            for tab in ViewTab::ALL {
                let selected = self.workspace == Workspace::View && self.tab == tab;
                if ui
                    .selectable_label(selected, RichText::new(tab.title()).strong())
                    .clicked()
                {
                    self.tab = tab;
                    self.workspace = Workspace::View;
                }
            }
            ui.separator();
            for (workspace, title) in Workspace::EXTRA {
                ui.selectable_value(
                    &mut self.workspace,
                    workspace,
                    RichText::new(title).strong(),
                );
            }
        });
        ui.separator();
        self.view_rect = ui.available_rect_before_wrap();
        let building = self.chains.is_building();
        let Some(chain) = self.chains.chain_mut() else {
            if !building {
                ui.label(
                    "No experiment yet. Check the settings at the left; the error above says \
                     what went wrong.",
                );
            }
            return;
        };
        let start = Instant::now();
        match self.workspace {
            Workspace::View => {
                let others = chain.others.as_mut().map(|o| &mut o.live);
                self.views.ui(ui, self.tab, &mut chain.live, others);
                if let Some(index) = self.views.take_edit_request() {
                    self.commands.push(AppCommand::EditImage(index));
                }
                if self.views.take_recentre_request() {
                    self.commands.push(AppCommand::RecentreEachSweep);
                }
            }
            Workspace::MaskEditor | Workspace::DrawDigit => {
                self.editors.tab = if self.workspace == Workspace::MaskEditor {
                    EditorTab::PaintMask
                } else {
                    EditorTab::DrawDigit
                };
                if let Some(EditorAction::Apply { image, missing }) =
                    self.editors.ui(ui, &chain.live)
                {
                    self.commands.push(AppCommand::ApplyMask { image, missing });
                }
                self.workspace = match self.editors.tab {
                    EditorTab::PaintMask => Workspace::MaskEditor,
                    EditorTab::DrawDigit => Workspace::DrawDigit,
                };
            }
            Workspace::Pca => {
                let experiment = Arc::clone(chain.experiment());
                self.pca.ui(ui, &experiment, chain.data_version);
            }
            Workspace::Lesson => {
                self.lesson
                    .ui(ui, &mut chain.live, &self.settings, &mut self.commands);
            }
            Workspace::Compare => {
                let row = ChainRow {
                    m: chain.settings.model.hyper.m,
                    sweeps: chain.live.iteration(),
                    rmse_posterior_mean: chain
                        .live
                        .last_record()
                        .and_then(|r| r.rmse_posterior_mean),
                    seconds: chain.clock.elapsed().as_secs_f64(),
                };
                let data = chain.data_version;
                self.compare
                    .ui(ui, &chain.live, data, row, &mut self.commands);
            }
        }
        self.frames.current.views = start.elapsed().as_secs_f32() * 1000.0;
    }
}
