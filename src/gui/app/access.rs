//! What scripts, tests and the UI benchmark read and set on the app: the settings, the live
//! state, whether anything runs in the background, the banners.
//!
//! Threads: UI thread (or a test's thread driving the app); plain reads, nothing blocks.

use super::*;

impl GibbsApp {
    /// The settings as edited in the side panel.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn settings_mut(&mut self) -> &mut Settings {
        &mut self.settings
    }

    /// What the running chain reported, if a chain exists.
    pub fn live(&self) -> Option<&LiveState> {
        self.chains.chain().map(|c| &c.live)
    }

    /// True while a chain is being built or a session reopened.
    pub fn is_building(&self) -> bool {
        self.chains.is_building()
    }

    /// True while anything runs in the background that a script should wait for: a build,
    /// an export, a file dialog, a mask file.
    pub fn is_busy(&self) -> bool {
        self.chains.is_building()
            || self.exporter.is_busy()
            || self.dialogs.is_open()
            || self.mask_file.is_some()
            || self.lesson.is_busy()
    }

    /// The banners on screen.
    pub fn errors(&self) -> &[ErrorNote] {
        self.notes.all()
    }

    /// The run state of the chain's sampler.
    pub fn handle_state(&self) -> Option<RunState> {
        self.chains.chain().map(|c| c.state())
    }

    /// The settings the chain runs with.
    pub fn chain_settings(&self) -> Option<&Settings> {
        self.chains.chain().map(|c| &c.settings)
    }

    /// What the K chains of the diagnostics reported (None with one chain).
    #[cfg(test)]
    pub(crate) fn chains_live(&self) -> Option<&crate::gui::chains_live::ChainsLive> {
        self.chains.chain()?.others.as_ref().map(|o| &o.live)
    }

    /// Chains swept on the diagnostics' own thread (None with one chain).
    #[cfg(test)]
    pub(crate) fn chains_swept(&self) -> Option<usize> {
        self.chains.chain()?.others.as_ref().map(|o| o.swept())
    }

    #[cfg(test)]
    pub(crate) fn set_tab(&mut self, tab: ViewTab) {
        self.tab = tab;
        self.workspace = Workspace::View;
    }

    /// The session of the running chain, built here (tests only: the app builds it on a job).
    #[cfg(test)]
    pub(crate) fn current_session(&self) -> Option<crate::session::Session> {
        let chain = self.chains.chain()?;
        let data = DataRecord::from_source(
            &chain.key.source,
            None,
            chain.settings.data.n,
            chain.settings.data.seed,
        );
        Some(
            SessionParts::of(
                data,
                self.chains.dataset().cloned(),
                &chain.settings.model,
                &chain.live,
            )
            .build(),
        )
    }

    /// Waits for the export in progress and returns its outcome.
    #[cfg(test)]
    pub(crate) fn export_outcome(&mut self, ctx: &egui::Context) -> Option<Result<String, String>> {
        self.exporter.wait_for_outcome(ctx)
    }

    /// Presses a run control.
    #[cfg(test)]
    pub(crate) fn press(&mut self, ctx: &egui::Context, action: controls::RunAction) {
        self.apply(ctx, AppCommand::Run(action));
    }

    /// The Compare view (its job and result).
    #[cfg(test)]
    pub(crate) fn compare_view(&mut self) -> &mut CompareView {
        &mut self.compare
    }

    /// The running chain's data version (changes with its data or masks).
    #[cfg(test)]
    pub(crate) fn data_version(&self) -> Option<u64> {
        self.chains.chain().map(|c| c.data_version)
    }

    #[cfg(test)]
    pub(crate) fn set_workspace(&mut self, workspace: Workspace) {
        self.workspace = workspace;
    }

    #[cfg(test)]
    pub(crate) fn lesson(&self) -> &Lesson {
        &self.lesson
    }

    #[cfg(test)]
    pub(crate) fn lesson_mut(&mut self) -> &mut Lesson {
        &mut self.lesson
    }

    #[cfg(test)]
    pub(crate) fn workspace(&self) -> Workspace {
        self.workspace
    }

    #[cfg(test)]
    pub(crate) fn editors(&self) -> &Editors {
        &self.editors
    }
}
