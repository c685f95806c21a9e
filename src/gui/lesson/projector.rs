//! Projector mode (full screen, settings folded, 150 % zoom, a high-contrast theme), the
//! lesson's keyboard shortcuts and the overlay that lists them.
//!
//! Runs on the UI thread within a frame: reads keys, sends viewport commands, never blocks.
//! Shortcuts never fire while a widget has keyboard focus (a text field types the key, a
//! focused button takes Space), as the run controls' Space does.

use egui::{Color32, Context, Key, Modifiers, Theme, ThemePreference, Visuals};

use super::super::command::{AppCommand, LessonAction};

/// Zoom in projector mode.
pub const PROJECTOR_ZOOM: f32 = 1.5;

/// The shortcuts, as the help overlay lists them.
pub const SHORTCUTS: [(&str, &str); 9] = [
    ("Right arrow  or  N", "next step (one complete conditional)"),
    (
        "Left arrow  or  B",
        "previous step (restores the state exactly)",
    ),
    ("W", "finish the sweep (all remaining conditionals)"),
    ("Space", "run / pause the main chain"),
    ("S", "one sweep of the main chain"),
    ("E", "next experiment (restarts the main chain)"),
    ("F11  or  P", "projector mode on / off"),
    ("F1  or  ?", "this help"),
    ("Esc", "close this help"),
];

/// What projector mode changed, to put back when it ends.
struct Saved {
    zoom: f32,
    theme: ThemePreference,
    dark: Visuals,
}

/// Projector mode and the help overlay.
#[derive(Default)]
pub struct Projector {
    saved: Option<Saved>,
    help: bool,
}

/// Dark, with white text, black panels and thick bright strokes.
fn high_contrast() -> Visuals {
    let mut v = Visuals::dark();
    v.override_text_color = Some(Color32::WHITE);
    v.panel_fill = Color32::BLACK;
    v.window_fill = Color32::from_gray(10);
    v.extreme_bg_color = Color32::BLACK;
    v.faint_bg_color = Color32::from_gray(30);
    v.widgets.noninteractive.bg_stroke.color = Color32::from_gray(200);
    v.widgets.noninteractive.fg_stroke.color = Color32::WHITE;
    v.widgets.inactive.fg_stroke.color = Color32::WHITE;
    v.widgets.inactive.bg_fill = Color32::from_gray(45);
    v.widgets.inactive.weak_bg_fill = Color32::from_gray(45);
    v.widgets.inactive.bg_stroke.width = 1.5;
    v.widgets.inactive.bg_stroke.color = Color32::from_gray(220);
    v.selection.bg_fill = Color32::from_rgb(0, 90, 200);
    v.selection.stroke.color = Color32::WHITE;
    v.hyperlink_color = Color32::from_rgb(120, 200, 255);
    v.warn_fg_color = Color32::from_rgb(255, 210, 0);
    v.error_fg_color = Color32::from_rgb(255, 110, 110);
    v
}

impl Projector {
    pub fn is_on(&self) -> bool {
        self.saved.is_some()
    }

    pub fn help_shown(&self) -> bool {
        self.help
    }

    pub fn toggle_help(&mut self) {
        self.help = !self.help;
    }

    /// Turns projector mode on or off.
    pub fn toggle(&mut self, ctx: &Context) {
        match self.saved.take() {
            None => {
                self.saved = Some(Saved {
                    zoom: ctx.zoom_factor(),
                    theme: ctx.options(|o| o.theme_preference),
                    dark: ctx.style_of(Theme::Dark).visuals.clone(),
                });
                ctx.set_visuals_of(Theme::Dark, high_contrast());
                ctx.set_theme(ThemePreference::Dark);
                ctx.set_zoom_factor(PROJECTOR_ZOOM);
                ctx.send_viewport_cmd(egui::ViewportCommand::Fullscreen(true));
            }
            Some(saved) => {
                ctx.set_visuals_of(Theme::Dark, saved.dark);
                ctx.set_theme(saved.theme);
                ctx.set_zoom_factor(saved.zoom);
                ctx.send_viewport_cmd(egui::ViewportCommand::Fullscreen(false));
            }
        }
    }

    /// The help overlay, when shown.
    pub fn overlay(&mut self, ctx: &Context) {
        if !self.help {
            return;
        }
        let mut open = true;
        egui::Window::new("Keyboard shortcuts")
            .collapsible(false)
            .resizable(false)
            .open(&mut open)
            .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
            .show(ctx, |ui| {
                egui::Grid::new("shortcut-help")
                    .striped(true)
                    .show(ui, |ui| {
                        for (keys, what) in SHORTCUTS {
                            ui.label(egui::RichText::new(keys).monospace().strong());
                            ui.label(what);
                            ui.end_row();
                        }
                    });
                ui.label("Shortcuts do nothing while a text field has the keyboard.");
            });
        if !open {
            self.help = false;
        }
    }
}

/// The lesson's shortcuts pressed this frame, as commands. Step keys only count in the lesson
/// (`in_lesson`); projector, help and next experiment count everywhere.
pub fn shortcuts(ctx: &Context, in_lesson: bool, help_open: bool) -> Vec<AppCommand> {
    let focused = ctx.memory(|m| m.focused().is_some());
    if focused || ctx.text_edit_focused() {
        return Vec::new();
    }
    let none = Modifiers::NONE;
    let mut out = Vec::new();
    ctx.input_mut(|i| {
        let help = i.consume_key(none, Key::F1)
            || i.consume_key(Modifiers::SHIFT, Key::Questionmark)
            || i.consume_key(none, Key::Questionmark);
        if help || (help_open && i.consume_key(none, Key::Escape)) {
            out.push(AppCommand::Lesson(LessonAction::ToggleHelp));
        }
        if i.consume_key(none, Key::F11) || i.consume_key(none, Key::P) {
            out.push(AppCommand::Lesson(LessonAction::ToggleProjector));
        }
        if i.consume_key(none, Key::E) {
            out.push(AppCommand::Lesson(LessonAction::NextExperiment));
        }
        if in_lesson {
            if i.consume_key(none, Key::ArrowRight) || i.consume_key(none, Key::N) {
                out.push(AppCommand::Lesson(LessonAction::Step));
            }
            if i.consume_key(none, Key::ArrowLeft) || i.consume_key(none, Key::B) {
                out.push(AppCommand::Lesson(LessonAction::Back));
            }
            if i.consume_key(none, Key::W) {
                out.push(AppCommand::Lesson(LessonAction::Sweeps(1)));
            }
        }
    });
    out
}
