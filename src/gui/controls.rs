//! The top bar's run controls: start, pause/resume, one sweep, stop, reset, and the run's
//! progress (sweeps done, sweeps per second, elapsed and remaining time). The bar only reports
//! what the user asked for; the app carries it out.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::sampler::RunState;
use egui::{RichText, Ui};

/// What the user asked the run to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunAction {
    /// Start a fresh chain or resume a paused one (space).
    Start,
    /// Pause after the sweep in progress (space).
    Pause,
    /// Exactly one sweep, then wait (S).
    Step,
    /// End the chain; its results stay on screen.
    Stop,
    /// A new chain from sweep 0 with the same seed (or with changed settings, if any).
    Reset,
    /// A finished run goes on for as many sweeps again.
    Extend,
}

/// Sweeps added by [`RunAction::Extend`] at least.
pub const MIN_EXTENSION: usize = 100;

/// The run as the bar shows it.
pub struct RunStatus {
    /// None while no chain exists (the first build is under way or failed).
    pub state: Option<RunState>,
    pub iteration: usize,
    pub planned: usize,
    pub sweeps_per_second: Option<f64>,
    pub elapsed: Duration,
    /// The views show a reopened session; the chain itself has not sampled yet.
    pub restored: bool,
}

impl RunStatus {
    /// The action of the space bar (and of the main button): start, pause or resume.
    pub fn toggle_action(&self) -> Option<RunAction> {
        match self.state? {
            RunState::Running => Some(RunAction::Pause),
            RunState::Paused | RunState::Stopped => Some(RunAction::Start),
            RunState::Finished => Some(RunAction::Extend),
        }
    }

    /// Seconds left at the current speed, when running and known.
    pub fn remaining(&self) -> Option<Duration> {
        let speed = self
            .sweeps_per_second
            .filter(|s| s.is_finite() && *s > 0.0)?;
        let left = self.planned.saturating_sub(self.iteration) as f64;
        Some(Duration::from_secs_f64((left / speed).min(1.0e7)))
    }
}

/// Time the chain has spent sampling: runs while the state is `Running`.
#[derive(Clone, Debug, Default)]
pub struct RunClock {
    accumulated: Duration,
    since: Option<Instant>,
}

impl RunClock {
    /// Follows the run state (called each frame).
    pub fn update(&mut self, state: Option<RunState>) {
        let running = state == Some(RunState::Running);
        match (running, self.since) {
            (true, None) => self.since = Some(Instant::now()),
            (false, Some(start)) => {
                self.accumulated += start.elapsed();
                self.since = None;
            }
            _ => {}
        }
    }

    pub fn elapsed(&self) -> Duration {
        self.accumulated + self.since.map_or(Duration::ZERO, |s| s.elapsed())
    }
}

/// "1:05" or "1:02:05".
pub fn format_duration(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// Draws the run controls and progress; returns the action the user clicked, if any.
pub fn ui(ui: &mut Ui, status: &RunStatus) -> Option<RunAction> {
    let mut action = None;
    // Labels keep their words together; the bar wraps between widgets instead.
    ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Extend);
    let has_chain = status.state.is_some();
    let alive = matches!(
        status.state,
        Some(RunState::Running | RunState::Paused | RunState::Finished)
    );
    let (main_label, main_tip) = match (status.state, status.iteration) {
        (Some(RunState::Running), _) => ("Pause", "Pause after this sweep (space)"),
        (Some(RunState::Paused), _) if status.restored => (
            "Start",
            "Sample a new chain from sweep 0 with the session's settings, masks and seed; its \
             sweeps replace the restored ones (the saved latent state is not in the file) \
             (space)",
        ),
        (Some(RunState::Paused), 0) => ("Start", "Start sampling (space)"),
        (Some(RunState::Paused), _) => ("Resume", "Go on sampling (space)"),
        (Some(RunState::Finished), _) => (
            "Run on",
            "The run is complete: sample as many sweeps again (space)",
        ),
        (Some(RunState::Stopped), _) => ("Start", "Start a new chain with the same seed (space)"),
        (None, _) => ("Start", "Waiting for the experiment to be built"),
    };
    let main = ui
        .add_enabled(
            has_chain,
            egui::Button::new(RichText::new(main_label).strong()).min_size(egui::vec2(92.0, 0.0)),
        )
        .on_hover_text(main_tip);
    if main.clicked() {
        action = status.toggle_action();
    }
    if ui
        .add_enabled(alive, egui::Button::new("Step"))
        .on_hover_text("Exactly one sweep, then wait (S)")
        .clicked()
    {
        action = Some(RunAction::Step);
    }
    if ui
        .add_enabled(alive, egui::Button::new("Stop"))
        .on_hover_text("End this chain; its traces and pictures stay on screen")
        .clicked()
    {
        action = Some(RunAction::Stop);
    }
    if ui
        .add_enabled(has_chain, egui::Button::new("Reset"))
        .on_hover_text("Back to sweep 0: a new chain with the same seed (and any changed settings)")
        .clicked()
    {
        action = Some(RunAction::Reset);
    }
    ui.separator();
    let fraction = if status.planned > 0 {
        (status.iteration as f32 / status.planned as f32).min(1.0)
    } else {
        0.0
    };
    ui.add(
        egui::ProgressBar::new(fraction)
            .desired_width(180.0)
            .text(format!("sweep {} / {}", status.iteration, status.planned)),
    )
    .on_hover_text("Sweeps done out of the run length");
    let speed = match status.sweeps_per_second {
        Some(s) if status.state == Some(RunState::Running) => format!("{s:.1} sweeps/s"),
        Some(s) => format!("({s:.1} sweeps/s)"),
        None => "– sweeps/s".into(),
    };
    ui.label(speed)
        .on_hover_text("Sampling speed, smoothed over recent sweeps");
    let left = match status.remaining() {
        Some(left) if status.state == Some(RunState::Running) => format_duration(left),
        _ => "–".into(),
    };
    ui.label(format!(
        "elapsed {}, left {left}",
        format_duration(status.elapsed)
    ))
    .on_hover_text("Time spent sampling, and the time left at the current speed");
    action
}

/// Keyboard shortcuts: space starts/pauses/resumes, S steps. Ignored while any widget has the
/// keyboard focus (a text field, a button or checkbox reached with Tab): the key is that
/// widget's then.
pub fn shortcuts(ctx: &egui::Context, status: &RunStatus) -> Option<RunAction> {
    // A focused widget owns the keyboard: space types into a text field and presses a
    // focused button or checkbox, so it must not also toggle the run.
    let focused = ctx.memory(|m| m.focused().is_some());
    if focused || ctx.text_edit_focused() || status.state.is_none() {
        return None;
    }
    let (space, step) = ctx.input_mut(|i| {
        (
            i.consume_key(egui::Modifiers::NONE, egui::Key::Space),
            i.consume_key(egui::Modifiers::NONE, egui::Key::S),
        )
    });
    if space {
        status.toggle_action()
    } else if step && status.state != Some(RunState::Stopped) {
        Some(RunAction::Step)
    } else {
        None
    }
}

/// The window over which the worst frame time is reported.
pub const FRAME_WINDOW: Duration = Duration::from_secs(5);

/// One frame's timings in milliseconds.
#[derive(Clone, Copy, Debug, Default)]
pub struct FrameSample {
    /// Time spent in `ui`.
    pub ui: f32,
    /// eframe's CPU time of the previous frame (UI plus tessellation and painting).
    pub cpu: f32,
    /// Of `ui`: folding sampler events into the live state.
    pub events: f32,
    /// Of `ui`: drawing the central view.
    pub views: f32,
}

/// UI frame times for the debug readout: this frame and the worst of the last few seconds.
#[derive(Default)]
pub struct FrameStats {
    pub recent: VecDeque<(Instant, FrameSample)>,
    /// The frame being measured.
    pub current: FrameSample,
}

impl FrameStats {
    pub fn finish_frame(&mut self, ui_ms: f32, cpu_ms: f32) {
        let now = Instant::now();
        let mut sample = std::mem::take(&mut self.current);
        sample.ui = ui_ms;
        sample.cpu = cpu_ms;
        self.recent.push_back((now, sample));
        while self
            .recent
            .front()
            .is_some_and(|(t, _)| now.duration_since(*t) > FRAME_WINDOW)
        {
            self.recent.pop_front();
        }
    }

    pub fn last(&self) -> FrameSample {
        self.recent.back().map(|r| r.1).unwrap_or_default()
    }

    /// The worst of each timing over the window.
    pub fn worst(&self) -> FrameSample {
        self.recent
            .iter()
            .fold(FrameSample::default(), |w, (_, f)| FrameSample {
                ui: w.ui.max(f.ui),
                cpu: w.cpu.max(f.cpu),
                events: w.events.max(f.events),
                views: w.views.max(f.views),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_remaining_time() {
        assert_eq!(format_duration(Duration::from_secs(65)), "1:05");
        assert_eq!(format_duration(Duration::from_secs(3725)), "1:02:05");
        let status = RunStatus {
            state: Some(RunState::Running),
            iteration: 50,
            planned: 200,
            sweeps_per_second: Some(10.0),
            elapsed: Duration::ZERO,
            restored: false,
        };
        assert_eq!(status.remaining(), Some(Duration::from_secs(15)));
        assert_eq!(status.toggle_action(), Some(RunAction::Pause));
        let idle = RunStatus {
            sweeps_per_second: Some(0.0),
            state: Some(RunState::Paused),
            ..status
        };
        assert_eq!(idle.remaining(), None);
        assert_eq!(idle.toggle_action(), Some(RunAction::Start));
    }
}
