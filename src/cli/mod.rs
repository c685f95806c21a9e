//! Command-line front end: argument parsing and the headless subcommands.

mod data;
mod run;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Bayesian factor analysis with missing data, fitted by Gibbs sampling.
///
/// With no subcommand, opens the desktop app.
#[derive(Parser, Debug)]
#[command(name = "gibbs-fa", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub gui: crate::gui::GuiArgs,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Load a dataset, apply noise and masks, write PNG grids of masks, masked digits and PCs.
    Data(data::DataArgs),
    /// Run the Gibbs sampler headless and write traces, posterior summaries and figures.
    Run(run::RunArgs),
}

/// Runs a subcommand, printing any error with its causes; exit code 1 on failure.
pub fn run(command: Command) -> ExitCode {
    let result = match command {
        Command::Data(args) => data::run(args),
        Command::Run(args) => run::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
