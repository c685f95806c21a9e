//! The lesson view (issue 10): the method one step at a time, experiments to show a class,
//! posterior draws and dream digits, and a projector mode.
//!
//! - [`chain`]: the lesson's own [`crate::lesson::Stepper`] on the first N images of the
//!   current experiment, built and stepped on jobs;
//! - [`math`] lays out formulas (subscripts, superscripts, fractions) and [`formulas`] holds
//!   the conditionals and their matrix shapes;
//! - [`step_view`]: before and after of the block drawn, and the numbers behind the draw;
//! - [`experiments`]: the presets' buttons and the settings they apply;
//! - [`extras`]: the flip-book of a digit's imputations and dream digits (main chain);
//! - [`projector`]: projector mode, the shortcuts and their help overlay.
//!
//! Threads: everything here runs on the UI thread within a frame; building and stepping the
//! lesson chain run on [`super::job::Job`]s (see [`chain`]). Actions arrive as
//! [`LessonAction`]s through the app's command queue.

mod chain;
mod experiments;
mod extras;
mod formulas;
mod math;
mod projector;
mod step_view;

use std::sync::{Arc, Weak};

use egui::{RichText, Ui};

pub use experiments::preset_settings;
#[cfg(test)]
pub use projector::PROJECTOR_ZOOM;
#[cfg(test)]
pub use step_view::num;

use super::command::{AppCommand, Commands, LessonAction};
use super::live::LiveState;
use super::settings::Settings;
use super::texture::TextureCache;
use crate::experiment::Experiment;
use crate::lesson::{Conditional, Focus, Preset, presets};
use crate::model::{SamplerSettings, Schedule};
use chain::{LessonChain, Op};

/// Images of the lesson's default problem: small, so every step is instant.
pub const DEFAULT_N: usize = 500;
/// Factors of the lesson's default problem.
pub const DEFAULT_M: usize = 10;
/// Frames a texture slot may go unused before it is dropped.
const MAX_IDLE_FRAMES: u64 = 600;

/// The parts of the lesson view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    Steps,
    Experiments,
    Flipbook,
    Dream,
}

impl Section {
    const ALL: [(Section, &'static str); 4] = [
        (Section::Steps, "One sweep, step by step"),
        (Section::Experiments, "Experiments"),
        (Section::Flipbook, "Flip-book"),
        (Section::Dream, "Dream digits"),
    ];
}

/// Everything the lesson view keeps.
pub struct Lesson {
    chain: LessonChain,
    /// Images, factors and schedule of the next lesson chain built.
    pub n: usize,
    pub m: usize,
    pub schedule: Schedule,
    /// What the step views watch (set it with [`Lesson::set_focus`]).
    focus: Focus,
    pub section: Section,
    /// The experiment the lesson chain was built from.
    built_from: Weak<Experiment>,
    /// Settings of the lesson chain being built or run.
    settings: Option<SamplerSettings>,
    presets: Vec<Preset>,
    /// The experiment chosen in the list, and the one last applied (preset, run).
    chosen: usize,
    applied: Option<(usize, usize)>,
    flip: extras::FlipView,
    dream: extras::DreamView,
    projector: projector::Projector,
    textures: TextureCache,
    /// A new focus waits for the job in progress.
    refocus: bool,
    /// The user has picked the watched pixel; until then it is the image's centre (pixel 0,
    /// a corner that is black in every MNIST digit, showed a class almost nothing).
    pixel_chosen: bool,
}

impl Default for Lesson {
    fn default() -> Self {
        Lesson {
            chain: LessonChain::default(),
            n: DEFAULT_N,
            m: DEFAULT_M,
            schedule: Schedule::Notebook,
            focus: Focus::default(),
            section: Section::Steps,
            built_from: Weak::new(),
            settings: None,
            presets: presets(),
            chosen: 0,
            applied: None,
            flip: extras::FlipView::default(),
            dream: extras::DreamView::default(),
            projector: projector::Projector::default(),
            textures: TextureCache::default(),
            refocus: false,
            pixel_chosen: false,
        }
    }
}

impl Lesson {
    /// The lesson chain's sampler settings: the user's (the recentring move too, a step of its
    /// own), with the lesson's M and schedule.
    fn lesson_settings(&self, user: &Settings) -> SamplerSettings {
        let mut s = user.model.clone();
        s.hyper.m = self.m.max(1);
        s.schedule = self.schedule;
        s
    }

    fn build(&mut self, ctx: &egui::Context, experiment: &Arc<Experiment>, user: &Settings) {
        let settings = self.lesson_settings(user);
        self.n = self.n.clamp(1, experiment.n);
        self.built_from = Arc::downgrade(experiment);
        self.settings = Some(settings.clone());
        self.chain
            .build(ctx, Arc::clone(experiment), self.n, settings);
    }

    /// Carries out `action`; returns a command for the app when the action needs one (the
    /// next experiment restarts the main chain). `source` is the main chain's experiment and
    /// the user's settings, when a chain exists.
    pub fn apply(
        &mut self,
        ctx: &egui::Context,
        action: LessonAction,
        source: Option<(&Arc<Experiment>, &Settings)>,
    ) -> Option<AppCommand> {
        match action {
            LessonAction::Step => {
                self.chain.run(ctx, Op::Step, self.focus);
            }
            LessonAction::Back => {
                self.chain.run(ctx, Op::Back, self.focus);
            }
            LessonAction::Sweeps(k) => {
                self.chain.run(ctx, Op::Sweeps(k), self.focus);
            }
            LessonAction::Rebuild => {
                if let Some((experiment, user)) = source {
                    self.build(ctx, experiment, user);
                }
            }
            LessonAction::NextExperiment => {
                self.chosen = (self.chosen + 1) % self.presets.len().max(1);
                let preset = self.presets.get(self.chosen)?;
                return Some(AppCommand::ApplyPreset {
                    preset: preset.id.to_owned(),
                    run: 0,
                });
            }
            LessonAction::ToggleProjector => self.projector.toggle(ctx),
            LessonAction::ToggleHelp => self.projector.toggle_help(),
        }
        None
    }

    /// The settings of run `run` of preset `id` over `user`'s, remembered as applied; an
    /// error text when there is no such run.
    pub fn preset_run(
        &mut self,
        id: &str,
        run: usize,
        user: &Settings,
    ) -> Result<Settings, String> {
        let k = self
            .presets
            .iter()
            .position(|p| p.id == id)
            .ok_or_else(|| format!("there is no experiment named {id}"))?;
        let r = self.presets[k]
            .runs
            .get(run)
            .ok_or_else(|| format!("experiment {id} has no run {run}"))?;
        self.chosen = k;
        self.applied = Some((k, run));
        Ok(preset_settings(user, r))
    }

    /// Collects the lesson chain's finished job (once a frame).
    pub fn poll(&mut self, ctx: &egui::Context) {
        let was_busy = self.chain.is_busy();
        self.chain.poll();
        if was_busy && !self.chain.is_busy() && self.refocus {
            self.refocus = false;
            self.chain.run(ctx, Op::Refocus, self.focus);
        }
    }

    /// Shortcuts pressed this frame.
    pub fn shortcuts(&self, ctx: &egui::Context, in_lesson: bool) -> Vec<AppCommand> {
        projector::shortcuts(ctx, in_lesson, self.projector.help_shown())
    }

    /// True in projector mode (the app folds the settings panel).
    pub fn projector_on(&self) -> bool {
        self.projector.is_on()
    }

    /// The help overlay, drawn over everything.
    pub fn overlay(&mut self, ctx: &egui::Context) {
        self.projector.overlay(ctx);
    }

    #[cfg(test)]
    pub fn help_shown(&self) -> bool {
        self.projector.help_shown()
    }

    /// True while the lesson chain is being built or stepped.
    pub fn is_busy(&self) -> bool {
        self.chain.is_busy()
    }

    #[cfg(test)]
    /// The lesson's stepper (None while a job holds it or before it is built).
    pub fn stepper(&self) -> Option<&crate::lesson::Stepper> {
        self.chain.stepper()
    }

    #[cfg(test)]
    /// The lesson's problem and the settings its stepper runs with.
    pub fn problem(&self) -> Option<(&Arc<crate::model::Problem>, &SamplerSettings)> {
        Some((self.chain.problem()?, self.settings.as_ref()?))
    }

    #[cfg(test)]
    /// The experiment chosen in the list (index into [`crate::lesson::presets`]).
    pub fn chosen_experiment(&self) -> usize {
        self.chosen
    }

    /// The lesson view. `experiment` and `user` build the lesson chain on first sight.
    pub fn ui(
        &mut self,
        ui: &mut Ui,
        live: &mut LiveState,
        user: &Settings,
        commands: &mut Commands,
    ) {
        self.textures.begin_frame(MAX_IDLE_FRAMES);
        let ctx = ui.ctx().clone();
        let experiment = Arc::clone(live.experiment());
        if self.chain.stepper().is_none()
            && !self.chain.is_busy()
            && self.chain.error().is_none()
            && self.built_from.upgrade().is_none()
        {
            self.build(&ctx, &experiment, user);
        }
        ui.horizontal_wrapped(|ui| {
            for (section, title) in Section::ALL {
                ui.selectable_value(&mut self.section, section, RichText::new(title).strong());
            }
            ui.separator();
            let text = if self.projector.is_on() {
                "Leave projector mode"
            } else {
                "Projector mode"
            };
            if ui.button(text).on_hover_text("F11 or P").clicked() {
                commands.push(AppCommand::Lesson(LessonAction::ToggleProjector));
            }
            if ui.button("Shortcuts (F1)").clicked() {
                commands.push(AppCommand::Lesson(LessonAction::ToggleHelp));
            }
        });
        ui.separator();
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show(ui, |ui| match self.section {
                Section::Steps => self.steps_ui(ui, &experiment, user.model.recentre, commands),
                Section::Experiments => experiments::experiments_ui(
                    ui,
                    &self.presets,
                    &mut self.chosen,
                    self.applied,
                    commands,
                ),
                Section::Flipbook => {
                    self.flip.observe(live);
                    self.flip.ui(ui, live, &mut self.textures);
                }
                Section::Dream => self.dream.ui(ui, live, &mut self.textures),
            });
    }

    fn steps_ui(
        &mut self,
        ui: &mut Ui,
        experiment: &Arc<Experiment>,
        user_recentres: bool,
        commands: &mut Commands,
    ) {
        let chain_recentres = self.settings.as_ref().map(|s| s.recentre);
        let busy = self.chain.is_busy();
        let ready = self.chain.stepper().is_some() && !busy;
        let can_back = self.chain.stepper().is_some_and(|s| s.history_len() > 0);
        ui.horizontal_wrapped(|ui| {
            let mut push = |ui: &mut Ui, enabled: bool, text: &str, hover: &str, a| {
                if ui
                    .add_enabled(enabled, egui::Button::new(RichText::new(text).strong()))
                    .on_hover_text(hover)
                    .clicked()
                {
                    commands.push(AppCommand::Lesson(a));
                }
            };
            push(
                ui,
                ready && can_back,
                "Previous step",
                "Left arrow or B",
                LessonAction::Back,
            );
            push(
                ui,
                ready,
                "Next step",
                "Right arrow or N",
                LessonAction::Step,
            );
            push(ui, ready, "Finish the sweep", "W", LessonAction::Sweeps(1));
            push(ui, ready, "10 sweeps", "", LessonAction::Sweeps(10));
            if let Some(status) = self.chain.busy_status() {
                ui.spinner();
                ui.label(status);
            }
        });
        if let Some(e) = self.chain.error() {
            ui.colored_label(
                ui.visuals().error_fg_color,
                format!("The lesson chain could not be built or stepped: {e}"),
            );
        }
        let stale = self
            .built_from
            .upgrade()
            .is_some_and(|b| !Arc::ptr_eq(&b, experiment))
            || self.built_from.upgrade().is_none();
        egui::CollapsingHeader::new("Lesson chain: images, factors, schedule").show(ui, |ui| {
            ui.horizontal_wrapped(|ui| {
                let l = ui.label("Lesson chain: images");
                ui.add(egui::DragValue::new(&mut self.n).range(1..=experiment.n))
                    .labelled_by(l.id);
                let l = ui.label("factors");
                ui.add(egui::DragValue::new(&mut self.m).range(1..=100))
                    .labelled_by(l.id);
                egui::ComboBox::from_id_salt("lesson-schedule")
                    .selected_text(match self.schedule {
                        Schedule::Notebook => "notebook schedule",
                        Schedule::Blocked => "blocked schedule",
                    })
                    .show_ui(ui, |ui| {
                        ui.selectable_value(
                            &mut self.schedule,
                            Schedule::Notebook,
                            "notebook schedule",
                        );
                        ui.selectable_value(
                            &mut self.schedule,
                            Schedule::Blocked,
                            "blocked schedule",
                        );
                    });
                if ui
                    .add_enabled(!busy, egui::Button::new("Rebuild the lesson chain"))
                    .on_hover_text("A new chain from its start, on the current data")
                    .clicked()
                {
                    commands.push(AppCommand::Lesson(LessonAction::Rebuild));
                }
                if stale {
                    ui.label(RichText::new("(the main chain's data changed since)").weak());
                }
            });
            if chain_recentres == Some(true) {
                ui.label(
                    RichText::new(
                        "Each sweep starts with the recentring move (Model section), a step \
                         beyond SPEC's conditionals.",
                    )
                    .weak(),
                );
            }
            if chain_recentres.is_some_and(|on| on != user_recentres) {
                ui.label(
                    RichText::new(
                        "The recentring move was switched since the lesson chain was built: \
                         rebuild it to step with the Model section's choice.",
                    )
                    .weak(),
                );
            }
        });
        let Some((n, d, m)) = self
            .chain
            .stepper()
            .map(|s| s.state().shape())
            .or_else(|| self.chain.problem().map(|p| (p.n, p.d, self.m)))
        else {
            ui.label("Building the lesson chain …");
            return;
        };
        self.focus_ui(ui, (n, d, m), experiment.width);
        let size = ui.style().text_styles[&egui::TextStyle::Body].size * 1.45;
        let shown = self.chain.shown();
        let (conditional, heading) = match (shown, self.chain.stepper()) {
            (Some(s), _) => {
                let r = &s.report;
                let per = self
                    .settings
                    .as_ref()
                    .map_or(
                        Conditional::sweep_order(self.schedule),
                        Conditional::sweep_order_of,
                    )
                    .len();
                (
                    r.conditional,
                    format!(
                        "Sweep {}, step {} of {}: drew {}",
                        r.sweep,
                        r.position + 1,
                        per.max(r.position + 1),
                        r.conditional.title()
                    ),
                )
            }
            (None, Some(st)) => (
                st.next_conditional(),
                format!(
                    "At sweep {}: the next step draws {} (press Next step)",
                    st.sweeps_done(),
                    st.next_conditional().title()
                ),
            ),
            (None, None) => (Conditional::Z, "Waiting for the lesson chain".to_owned()),
        };
        ui.label(RichText::new(heading).heading());
        ui.add_space(4.0);
        egui::Frame::group(ui.style()).show(ui, |ui| {
            formulas::formula_ui(ui, conditional, size);
        });
        formulas::shapes_ui(ui, conditional, (n, d, m));
        let Some(shown) = self.chain.shown() else {
            return;
        };
        ui.horizontal_wrapped(|ui| {
            if let Some(next) = self.chain.next_conditional() {
                ui.label(format!("Next: {}.", next.title()));
            }
            for c in &shown.report.changes {
                ui.label(format!(
                    "{:?}: {} of {} values changed, rms change {}",
                    c.block,
                    c.changed,
                    c.entries,
                    super::texture::format_value(c.rms as f32)
                ));
            }
            if let Some(lj) = shown.report.log_joint {
                ui.label(format!("log joint after the sweep: {lj:.1}"));
            }
        });
        ui.separator();
        let shape = (experiment.width, experiment.height);
        step_view::step_ui(ui, shown, &mut self.textures, shape);
    }

    /// Watch this digit, pixel and pair of factors (the pixel then stays as given rather than
    /// following the image's centre).
    #[cfg(test)]
    pub fn set_focus(&mut self, focus: Focus) {
        self.focus = focus;
        self.pixel_chosen = true;
    }

    /// The digit, pixel and factors the step views watch; `width` is the images' width (for
    /// the pixel's row and column).
    fn focus_ui(&mut self, ui: &mut Ui, (n, d, m): (usize, usize, usize), width: usize) {
        if !self.pixel_chosen {
            self.focus.pixel = centre_pixel(d, width);
        }
        let before = self.focus;
        ui.horizontal_wrapped(|ui| {
            let l = ui.label("Watch digit");
            ui.add(egui::DragValue::new(&mut self.focus.digit).range(0..=n - 1))
                .labelled_by(l.id);
            let l = ui.label("pixel");
            ui.add(egui::DragValue::new(&mut self.focus.pixel).range(0..=d - 1))
                .labelled_by(l.id);
            let (r, c) = step_view::row_col(self.focus.pixel, width);
            ui.label(format!("(row {r}, column {c})"));
            if m > 1 {
                let l = ui.label("factors");
                ui.add(egui::DragValue::new(&mut self.focus.factors.0).range(0..=m - 1))
                    .labelled_by(l.id);
                let l = ui.label("and");
                ui.add(egui::DragValue::new(&mut self.focus.factors.1).range(0..=m - 1))
                    .labelled_by(l.id);
            }
        });
        if self.focus.pixel != before.pixel {
            self.pixel_chosen = true;
        }
        if self.focus != before && self.chain.shown().is_some() {
            let ctx = ui.ctx().clone();
            if !self.chain.run(&ctx, Op::Refocus, self.focus) {
                self.refocus = true;
            }
        }
    }
}

/// The pixel at the middle of a `d`-pixel image `width` wide (row h / 2, column width / 2),
/// within 0..d.
fn centre_pixel(d: usize, width: usize) -> usize {
    let width = width.clamp(1, d.max(1));
    let height = d / width;
    ((height / 2) * width + width / 2).min(d.saturating_sub(1))
}

#[cfg(test)]
mod centre_tests {
    use super::centre_pixel;

    #[test]
    fn the_centre_pixel_is_inside_any_image() {
        assert_eq!(centre_pixel(784, 28), 14 * 28 + 14);
        assert_eq!(centre_pixel(400, 20), 10 * 20 + 10);
        assert_eq!(centre_pixel(64, 8), 4 * 8 + 4);
        // Degenerate shapes stay in range.
        assert_eq!(centre_pixel(1, 1), 0);
        assert_eq!(centre_pixel(10, 0), 5);
        assert_eq!(centre_pixel(5, 50), 2);
        assert_eq!(centre_pixel(0, 28), 0);
    }
}
