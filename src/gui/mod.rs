//! The desktop app: `gibbs-fa` with no subcommand opens a window in which the notebook's
//! experiment is set up, sampled on a background thread and watched live.
//!
//! [`app`] holds the app itself, [`panels`] the settings, [`controls`] the run controls,
//! [`jobs`] the background work (loading, downloading), [`live`] what the sampler reported and
//! [`views`] the pictures drawn from it, [`editor`] the mask editor and draw-a-digit canvas,
//! [`pca_view`] the PCA comparison and [`export`] the files the app writes.

mod app;
mod controls;
mod editor;
mod export;
mod jobs;
mod live;
mod panels;
mod pca_view;
mod texture;
mod views;

#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests_app;
#[cfg(test)]
mod tests_editor;
#[cfg(test)]
mod tests_session;
#[cfg(test)]
mod tests_views;

use std::path::PathBuf;
use std::process::ExitCode;

/// Options for the desktop app given on the command line.
#[derive(clap::Args, Debug, Default)]
pub struct GuiArgs {
    /// Data to open in the app: a folder holding MNIST, an IDX or CSV file, or a folder of PNGs.
    #[arg(long, value_name = "PATH")]
    pub data: Option<PathBuf>,
    /// Start sampling as soon as the experiment is built.
    #[arg(long)]
    pub autostart: bool,
    /// Number of images N for this start (overrides the remembered value).
    #[arg(long = "images", value_name = "N", hide = true)]
    pub n: Option<usize>,
    /// Number of factors M for this start (overrides the remembered value).
    #[arg(long = "factors", value_name = "M", hide = true)]
    pub m: Option<usize>,
    /// Print UI frame times to stderr every two seconds.
    #[arg(long, hide = true)]
    pub frame_log: bool,
    /// Ignore the remembered settings (reproducible screenshots).
    #[arg(long, hide = true)]
    pub fresh: bool,
    /// Close the window after this many seconds, as a user would (measuring the exit).
    #[arg(long, value_name = "SECONDS", hide = true)]
    pub close_after: Option<f64>,
    /// A saved session to reopen (a .gibbsfa file written by "Save session…").
    #[arg(long, value_name = "FILE")]
    pub session: Option<PathBuf>,
}

/// Opens the window and runs until it is closed.
pub fn run(args: GuiArgs) -> ExitCode {
    let options = app::AppOptions {
        data: args.data,
        autostart: args.autostart,
        n: args.n,
        m: args.m,
        frame_log: args.frame_log,
        fresh: args.fresh,
        close_after: args
            .close_after
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(std::time::Duration::from_secs_f64),
        session: args.session,
    };
    let native = eframe::NativeOptions {
        renderer: eframe::Renderer::Glow,
        viewport: egui::ViewportBuilder::default()
            .with_title("gibbs-fa: Bayesian factor analysis by Gibbs sampling")
            .with_app_id("gibbs-fa")
            .with_inner_size([1400.0, 900.0])
            .with_min_inner_size([800.0, 500.0]),
        persist_window: true,
        ..Default::default()
    };
    let result = eframe::run_native(
        "gibbs-fa",
        native,
        Box::new(move |cc| Ok(Box::new(app::GibbsApp::new(cc, options)))),
    );
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: could not open the window: {err}");
            eprintln!("(the headless subcommands work without a display: see `gibbs-fa --help`)");
            ExitCode::FAILURE
        }
    }
}
