//! Shared set-up for the UI tests: the real app, headless, on a small synthetic problem.

use std::time::{Duration, Instant};

use egui_kittest::Harness;

use crate::gui::app::{AppOptions, GibbsApp};
use crate::gui::panels::SourceChoice;

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
    Harness::builder()
        .with_size([1400.0, 900.0])
        .build_eframe(move |cc| {
            let mut app = GibbsApp::new(
                cc,
                AppOptions {
                    fresh: true,
                    n: Some(n),
                    m: Some(m),
                    ..AppOptions::default()
                },
            );
            let settings = app.settings_mut();
            settings.data.source = SourceChoice::Synthetic;
            settings.model.sweeps = sweeps;
            settings.model.burn_in = burn_in;
            settings.chains = 1;
            configure(&mut app);
            app
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
