//! Shared set-up for the UI tests: the real app, headless, on a small synthetic problem.

use std::time::{Duration, Instant};

use egui_kittest::Harness;

use crate::gui::app::{AppOptions, GibbsApp};
use crate::gui::panels::SourceChoice;

/// The real app started with `options`, one chain, in a 1400 x 900 window; `configure` adjusts
/// it further before the first frame (the chain count too).
pub fn app_with(
    options: AppOptions,
    configure: impl FnOnce(&mut GibbsApp) + 'static,
) -> Harness<'static, GibbsApp> {
    Harness::builder()
        .with_size([1400.0, 900.0])
        .build_eframe(move |cc| {
            let mut app = GibbsApp::new(cc, options);
            app.settings_mut().chains = 1;
            configure(&mut app);
            app
        })
}

/// A fresh app (no remembered settings) on the built-in synthetic digits with `n` images,
/// `m` factors and the given run length, one chain, in a 1400 x 900 window; `configure`
/// adjusts the app further before the first frame (the chain count too).
pub fn synthetic_app(
    n: usize,
    m: usize,
    sweeps: usize,
    burn_in: usize,
    configure: impl FnOnce(&mut GibbsApp) + 'static,
) -> Harness<'static, GibbsApp> {
    let options = AppOptions {
        fresh: true,
        n: Some(n),
        m: Some(m),
        ..AppOptions::default()
    };
    app_with(options, move |app| {
        let settings = app.settings_mut();
        settings.data.source = SourceChoice::Synthetic;
        settings.model.sweeps = sweeps;
        settings.model.burn_in = burn_in;
        configure(app);
    })
}

/// Steps frames (with short real pauses: the sampler runs in real time) until `done` holds,
/// failing the test after `patience` with what it waited for.
pub fn step_until_within(
    h: &mut Harness<'_, GibbsApp>,
    patience: Duration,
    what: &str,
    done: impl Fn(&GibbsApp) -> bool,
) {
    let deadline = Instant::now() + patience;
    while !done(h.state()) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Steps frames for `time` of real time (with the same short pauses).
pub fn step_for(h: &mut Harness<'_, GibbsApp>, time: Duration) {
    let end = Instant::now() + time;
    while Instant::now() < end {
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
}
