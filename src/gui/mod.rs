//! The desktop app: `gibbs-fa` with no subcommand opens a window in which the notebook's
//! experiment is set up, sampled on a background thread and watched live.
//!
//! The parts, each with one job (imports form a tree: `app` at the top, `job`, `notes` and
//! `command` at the leaves):
//! - [`app`] wires them together and applies the frame's commands;
//! - [`chain`] owns the running chain, its build job and the pending restart, and with K >= 2
//!   the K chains of the diagnostics; [`chains_live`] what those reported, [`diag_plots`]
//!   their rank and autocorrelation plots (made on a job);
//! - [`command`] is every user action as one enum, queued by the panels;
//! - [`job`] is the one background-work type (progress, cancel, outcome);
//! - [`settings`] holds what the user sets up and the one restart key;
//! - [`notes`] the banners; [`files`] file dialogs and dropped files; [`persist`] what is
//!   remembered between runs, read back with care;
//! - [`chrome`] the top bar, status bar and restart banner; [`side_panel`] the settings
//!   panel, made of the sections in [`panels`];
//! - [`controls`] the run controls; [`live`] what the sampler reported; [`views`] the
//!   pictures drawn from it; [`editor`] the mask editor and draw-a-digit canvas;
//!   [`pca_view`] the PCA comparison; [`compare`] the imputers compared (a job); [`export`]
//!   the files the app writes; [`lesson`] the lesson view (one sweep step by step,
//!   experiments, flip-book, dreams, projector mode); [`priority`] keeps background threads
//!   below the UI thread.
//!
//! Threads: the UI thread runs everything here within a frame; slow work runs as jobs, the
//! sampler on its own thread (see [`crate::sampler`]).

mod app;
mod chain;
mod chains_live;
mod chrome;
mod command;
mod compare;
mod controls;
mod diag_plots;
mod editor;
mod export;
mod files;
mod job;
mod job_slot;
mod lesson;
mod live;
mod notes;
mod panels;
mod pca_view;
mod persist;
mod priority;
mod settings;
mod side_panel;
mod texture;
mod views;
mod wrap;

#[cfg(test)]
mod tests;

use std::process::ExitCode;

pub use app::{AppOptions, GibbsApp};
pub use command::AppCommand;
pub use controls::RunAction;
pub use export::ExportKind;
pub use panels::SourceChoice;
pub use priority::background_rayon_pool;

/// Opens the window and runs until it is closed.
pub fn run(options: AppOptions) -> ExitCode {
    // A write past a file-size limit is then a clean error (and no partial file), not a kill.
    crate::atomic_write::ignore_file_size_signal();
    // Background threads below the UI thread, so frames keep their pace while chains run.
    priority::background_rayon_pool();
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
