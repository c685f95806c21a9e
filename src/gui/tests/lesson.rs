//! The lesson view driven headless: every step forward and back through the buttons against
//! the library's stepper and full sweeps (bitwise), the numbers shown for sigma_d^2 against
//! the library's explanation and a recomputation by hand, every experiment button, and the
//! shortcuts (next/previous step, next experiment, projector mode, help).

use std::time::Duration;

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

use super::support::{step_until_within, synthetic_app};
use crate::gui::app::GibbsApp;
use crate::gui::lesson::{PROJECTOR_ZOOM, num, preset_settings};
use crate::gui::views::Workspace;
use crate::lesson::{Conditional, Explanation, Focus, Stepper, presets};
use crate::model::rng::{Step, StepRng};
use crate::model::{GibbsSampler, ModelState, Schedule};
use crate::sampler::RunState;
use rand_distr::{Distribution, Gamma};

const PATIENCE: Duration = Duration::from_secs(120);
/// The lesson chain's images and factors in these tests.
const N: usize = 60;
const M: usize = 4;

fn lesson_app(schedule: Schedule, focus: Focus) -> Harness<'static, GibbsApp> {
    lesson_app_with(schedule, false, focus)
}

/// [`lesson_app`] with the Model section's recentring move on or off.
fn lesson_app_with(schedule: Schedule, recentre: bool, focus: Focus) -> Harness<'static, GibbsApp> {
    synthetic_app(200, 5, 100_000, 10, move |app| {
        app.settings_mut().model.recentre = recentre;
        app.set_workspace(Workspace::Lesson);
        let lesson = app.lesson_mut();
        lesson.n = N;
        lesson.m = M;
        lesson.schedule = schedule;
        lesson.set_focus(focus);
    })
}

/// Steps frames until `done` holds, for at most [`PATIENCE`].
fn step_until(h: &mut Harness<'_, GibbsApp>, what: &str, done: impl Fn(&GibbsApp) -> bool) {
    step_until_within(h, PATIENCE, what, done);
}

fn lesson_ready(app: &GibbsApp) -> bool {
    !app.lesson().is_busy() && app.lesson().stepper().is_some()
}

fn wait_lesson(h: &mut Harness<'_, GibbsApp>) {
    step_until(h, "the main chain", |a| a.live().is_some());
    step_until(h, "the lesson chain", lesson_ready);
    // One more frame draws what the job handed back.
    h.step();
}

fn click(h: &mut Harness<'_, GibbsApp>, label: &str) {
    h.get_by_role_and_label(Role::Button, label).click();
    h.step();
    wait_lesson(h);
}

fn bits(state: &ModelState) -> Vec<u32> {
    let mut out: Vec<u32> = state.completed_x().iter().map(|v| v.to_bits()).collect();
    out.extend(state.z().iter().map(|v| v.to_bits()));
    out.extend(state.w().iter().map(|v| v.to_bits()));
    out.extend(state.mu().iter().map(|v| v.to_bits()));
    out.extend(state.sigmasq().iter().map(|v| v.to_bits()));
    out
}

fn ui_bits(h: &Harness<'_, GibbsApp>) -> Vec<u32> {
    bits(h.state().lesson().stepper().expect("a stepper").state())
}

/// A library stepper on the lesson's own problem and settings.
fn library_stepper(h: &Harness<'_, GibbsApp>) -> (Stepper, GibbsSampler) {
    let (problem, settings) = h.state().lesson().problem().expect("a lesson problem");
    assert_eq!((problem.n, settings.hyper.m), (N, M));
    (
        Stepper::new(problem, settings, 100).unwrap(),
        GibbsSampler::new(problem, settings).unwrap(),
    )
}

#[test]
fn every_lesson_step_forward_and_back_through_the_ui_restores_the_library_chain() {
    // With the recentring move on, it is each sweep's first step.
    for (schedule, recentre) in [
        (Schedule::Notebook, false),
        (Schedule::Blocked, false),
        (Schedule::Notebook, true),
    ] {
        let mut h = lesson_app_with(schedule, recentre, Focus::default());
        wait_lesson(&mut h);
        let (mut library, mut sampler) = library_stepper(&h);
        assert_eq!(ui_bits(&h), bits(library.state()));
        let order = Conditional::sweep_order_of(library.settings());
        assert_eq!(order.first() == Some(&Conditional::Recentre), recentre);
        let per_sweep = order.len();
        let mut saved = vec![ui_bits(&h)];
        for sweep in 1..=2 {
            for (k, &expected) in order.iter().enumerate() {
                let next = library.next_conditional();
                assert_eq!(next, expected);
                click(&mut h, "Next step");
                library.step();
                let now = ui_bits(&h);
                assert_eq!(now, bits(library.state()), "{schedule:?} {sweep}.{k}");
                saved.push(now);
                // The heading names the conditional just drawn.
                let heading = format!(
                    "Sweep {sweep}, step {} of {per_sweep}: drew {}",
                    k + 1,
                    next.title()
                );
                h.get_by_label(&heading);
            }
            // After each complete sweep: the chain of full sweeps, bit for bit.
            sampler.sweep();
            assert_eq!(
                ui_bits(&h),
                bits(sampler.state()),
                "{schedule:?} sweep {sweep}"
            );
        }
        for k in (0..2 * per_sweep).rev() {
            click(&mut h, "Previous step");
            assert_eq!(ui_bits(&h), saved[k], "{schedule:?} back to step {k}");
        }
        // Nothing further back: the button is greyed out and the state stays.
        assert!(h.state().lesson().stepper().unwrap().history_len() == 0);
        // Forward again redraws the same values.
        click(&mut h, "Next step");
        assert_eq!(ui_bits(&h), saved[1]);
    }
}

#[test]
fn the_numbers_shown_for_sigma_squared_are_those_of_the_draw() {
    let focus = Focus {
        digit: 3,
        pixel: 14 * 28 + 13,
        factors: (0, 1),
    };
    let mut h = lesson_app(Schedule::Notebook, focus);
    wait_lesson(&mut h);
    let (mut library, _) = library_stepper(&h);
    for _ in 0..4 {
        click(&mut h, "Next step");
        library.step();
    }
    assert_eq!(
        library.last_report().unwrap().conditional,
        Conditional::Sigmasq
    );
    assert_eq!(ui_bits(&h), bits(library.state()));
    let Explanation::Sigmasq(s) = library.explain_last(&focus).unwrap() else {
        panic!("not the sigma^2 step");
    };
    // Every number on screen, written as the view writes it.
    for (name, value) in [
        ("nu0", s.nu0),
        ("sigma0^2", s.sigmasq0),
        ("nu0 sigma0^2", s.prior_term),
        ("residual sum", s.residual_ss),
        ("w penalty", s.w_penalty),
        ("mu penalty", s.mu_penalty),
        ("nu_N", s.nu_n),
        ("nu_N s^2", s.scale_sum),
        ("s^2", s.scale),
        ("shape", s.gamma_shape()),
        ("rate", s.gamma_rate()),
        ("before", s.before as f64),
        ("drawn", s.after as f64),
    ] {
        let text = num(value);
        assert!(
            h.query_all_by_label(&text).next().is_some(),
            "{name} = {text} is not on screen"
        );
    }
    // The numbers reproduce the conditional the value was drawn from: the drawn value is
    // the state's, nu_N = nu0 + N + M + 1, the scale is the sum of its terms, and the
    // residual sum is that of the state before the step, recomputed here.
    let d = focus.pixel;
    assert_eq!(s.after.to_bits(), library.state().sigmasq()[d].to_bits());
    assert_eq!(s.nu_n, s.nu0 + (N + M + 1) as f64);
    let sum = s.prior_term + s.residual_ss + s.w_penalty + s.mu_penalty;
    assert!(
        (s.scale_sum - sum).abs() <= 1e-9 * sum.abs(),
        "{} vs {sum}",
        s.scale_sum
    );
    assert!((s.scale - s.scale_sum / s.nu_n).abs() <= 1e-12 * s.scale);
    let before = library.state_before_last().unwrap();
    let (x, z, w, mu) = (before.completed_x(), before.z(), before.w(), before.mu());
    let mut residual = 0.0f64;
    for n in 0..N {
        let fit: f64 = (0..M).map(|k| w[(d, k)] as f64 * z[(n, k)] as f64).sum();
        residual += (x[(n, d)] as f64 - fit - mu[d] as f64).powi(2);
    }
    assert!(
        (residual - s.residual_ss).abs() <= 1e-4 * residual.max(1.0),
        "residual sum {residual} vs shown {}",
        s.residual_ss
    );
    // The Gamma shown (shape nu_N / 2, rate nu_N s_d^2 / 2), fed the step's own random
    // stream (sweep 1, the sigma^2 step; one draw per pixel in pixel order), gives the drawn
    // value bit for bit.
    let seed = h.state().lesson().problem().unwrap().1.seed;
    let mut r = StepRng::new(seed, 1, Step::Sigmasq).chunk(0);
    let unit = Gamma::new(s.gamma_shape(), 1.0).unwrap();
    for _ in 0..d {
        let _: f64 = unit.sample(&mut r);
    }
    let redrawn: f64 = 1.0
        / Gamma::new(s.gamma_shape(), 1.0 / s.gamma_rate())
            .unwrap()
            .sample(&mut r);
    assert_eq!(redrawn as f32, s.after);
}

#[test]
fn each_experiment_button_applies_its_settings_and_restarts_the_main_chain() {
    let mut h = lesson_app(Schedule::Notebook, Focus::default());
    wait_lesson(&mut h);
    h.get_by_label("Experiments").click();
    h.step();
    h.step();
    for preset in presets() {
        h.get_by_label(preset.title).click();
        h.step();
        h.step();
        h.get_by_label(preset.look_for);
        // Where a run restarts with several chains, that is said once, however many runs do.
        let notes = h
            .query_all_by_label_contains("This run restarts with")
            .count();
        let expected = usize::from(preset.runs.iter().any(|r| r.chains > 1));
        assert_eq!(notes, expected, "{}", preset.id);
        for run in &preset.runs {
            let before = h.state().settings().clone();
            let old = h.state().live().map(|l| l.generation());
            h.get_by_role_and_label(Role::Button, &format!("Run: {}", run.label))
                .click();
            h.step();
            let want = preset_settings(&before, run);
            let now = h.state().settings();
            assert_eq!(now.data.n, run.experiment.n, "{}", preset.id);
            assert_eq!(now.model, run.settings, "{}", preset.id);
            assert_eq!(now.masks.params, run.experiment.mask, "{}", preset.id);
            assert_eq!(*now, want, "{}", preset.id);
            assert!(h.state().is_building(), "{}: no restart", preset.id);
            step_until(&mut h, "the preset's chain", |a| {
                !a.is_building() && a.live().map(|l| l.generation()) != old
            });
            let chain = h.state().chain_settings().unwrap();
            assert_eq!(chain.model, run.settings, "{}", preset.id);
            assert_eq!(chain.data.n, run.experiment.n);
            // A run of several chains runs them (the Diagnostics tab), others keep the K set.
            let k = if run.chains > 1 {
                run.chains
            } else {
                before.chains
            };
            assert_eq!(chain.chains, k, "{}", preset.id);
            // The chain runs at once, reproducibly from the preset's seed.
            assert_eq!(h.state().handle_state(), Some(RunState::Running));
            h.state_mut()
                .queue(crate::gui::AppCommand::Run(crate::gui::RunAction::Pause));
            h.step();
        }
    }
}

#[test]
fn the_shortcuts_step_go_back_change_experiment_and_toggle_projector_and_help() {
    use egui::Key;
    let mut h = lesson_app(Schedule::Notebook, Focus::default());
    wait_lesson(&mut h);
    let start = ui_bits(&h);
    let position = |h: &Harness<'_, GibbsApp>| h.state().lesson().stepper().unwrap().history_len();
    for (key, history) in [
        (Key::N, 1),
        (Key::ArrowRight, 2),
        (Key::B, 1),
        (Key::ArrowLeft, 0),
    ] {
        h.key_press(key);
        h.step();
        wait_lesson(&mut h);
        assert_eq!(position(&h), history, "{key:?}");
    }
    assert_eq!(ui_bits(&h), start);
    // W finishes the sweep.
    h.key_press(Key::W);
    h.step();
    wait_lesson(&mut h);
    assert_eq!(h.state().lesson().stepper().unwrap().sweeps_done(), 1);

    // A focused text field owns the keyboard: N types, it does not step.
    let field = h.get_by_label("Watch digit");
    field.focus();
    h.step();
    let before = position(&h);
    h.key_press(Key::N);
    h.step();
    h.step();
    assert_eq!(position(&h), before);
    assert!(!h.state().lesson().is_busy());
    // The field lets the keyboard go (as a click elsewhere does).
    if let Some(id) = h.ctx.memory(|m| m.focused()) {
        h.ctx.memory_mut(|m| m.surrender_focus(id));
    }
    h.step();

    // E: the next experiment restarts the main chain with its first run.
    let all = presets();
    h.key_press(Key::E);
    h.step();
    assert_eq!(h.state().lesson().chosen_experiment(), 1);
    assert_eq!(h.state().settings().model, all[1].runs[0].settings);
    assert!(h.state().is_building());

    // F1 shows the help, Escape hides it.
    h.key_press(Key::F1);
    h.step();
    h.step();
    assert!(h.state().lesson().help_shown());
    h.get_by_label("Keyboard shortcuts");
    h.key_press(Key::Escape);
    h.step();
    h.step();
    assert!(!h.state().lesson().help_shown());
    assert!(h.query_by_label("Keyboard shortcuts").is_none());

    // F11: projector mode folds the settings panel and zooms to 150 %; again, back.
    assert!(h.query_all_by_label("Model").next().is_some());
    let zoom = h.ctx.zoom_factor();
    h.key_press(Key::F11);
    h.step();
    h.step();
    assert!(h.state().lesson().projector_on());
    assert_eq!(h.ctx.zoom_factor(), PROJECTOR_ZOOM);
    assert!(
        h.query_all_by_label("Model").next().is_none(),
        "the settings panel is folded"
    );
    h.key_press(Key::P);
    h.step();
    h.step();
    assert!(!h.state().lesson().projector_on());
    assert_eq!(h.ctx.zoom_factor(), zoom);
    assert!(h.query_all_by_label("Model").next().is_some());
}

/// Images that are not 28 x 28 (a folder of 20 x 24 PNGs): the watched pixel's row and column
/// come from the images' width, and the step's before/after images keep their shape (they
/// were drawn width x width, cutting off the bottom rows, and pixel 45 was called row 1,
/// column 17).
#[test]
fn the_lesson_uses_the_images_own_shape() {
    use crate::gui::panels::SourceChoice;
    use image::{GrayImage, Luma};
    let dir = tempfile::tempdir().unwrap();
    for i in 0..40u32 {
        GrayImage::from_fn(20, 24, |x, y| {
            Luma([((x * 7 + y * 3 + i * 11) % 256) as u8])
        })
        .save(dir.path().join(format!("{i:03}.png")))
        .unwrap();
    }
    let folder = dir.path().to_path_buf();
    let mut h = synthetic_app(40, M, 100_000, 10, move |app| {
        app.settings_mut().data.source = SourceChoice::Path(folder);
        app.set_workspace(Workspace::Lesson);
        let lesson = app.lesson_mut();
        lesson.n = 40;
        lesson.m = M;
        lesson.set_focus(Focus {
            digit: 0,
            pixel: 45,
            factors: (0, 1),
        });
    });
    wait_lesson(&mut h);
    assert_eq!(
        h.state().live().unwrap().experiment().width,
        20,
        "the PNG folder was not the data"
    );
    h.get_by_label_contains("(row 2, column 5)");
    // Z, W, then mu, whose step shows mu before and after as images.
    for _ in 0..3 {
        click(&mut h, "Next step");
    }
    let rect = h.get_by_role_and_label(Role::Image, "μ before").rect();
    let aspect = rect.height() / rect.width();
    assert!((aspect - 24.0 / 20.0).abs() < 0.02, "{rect:?}");
}

/// The flip-book's controls stay inside a window as small as projector mode's (853 x 480
/// points): the row wraps and the speed slider starts a line of its own when the rest of one
/// is too short (the play button once ran off the right edge).
#[test]
fn the_flip_book_controls_fit_a_small_window() {
    let mut h = lesson_app(Schedule::Notebook, Focus::default());
    wait_lesson(&mut h);
    h.get_by_role_and_label(Role::Button, "Flip-book").click();
    h.step();
    h.set_size(egui::vec2(853.0, 480.0));
    h.step();
    h.step();
    let play = h.get_by_label_contains("flip-book").rect();
    let slider = h
        .get_by_role_and_label(Role::Slider, "frames per second")
        .rect();
    for (what, rect) in [("play button", play), ("speed slider", slider)] {
        assert!(rect.right() <= 853.0, "{what} at {rect:?}");
    }
}

/// Until the teacher picks one, the step views watch the image's centre, not pixel 0 (a corner
/// that is black in every MNIST digit); a pixel picked stays picked.
#[test]
fn the_watched_pixel_starts_at_the_image_centre() {
    let mut h = synthetic_app(200, 5, 100_000, 10, |app| {
        app.set_workspace(Workspace::Lesson);
        let lesson = app.lesson_mut();
        lesson.n = N;
        lesson.m = M;
    });
    wait_lesson(&mut h);
    let width = h.state().live().unwrap().experiment().width;
    assert_eq!(width, 28);
    h.get_by_label_contains("(row 14, column 14)");
    click(&mut h, "Next step");
    click(&mut h, "Next step");
    step_until(&mut h, "the W step", lesson_ready);
    h.step();
    h.get_by_label_contains(&format!("w_d of pixel {}", 14 * 28 + 14));
}
