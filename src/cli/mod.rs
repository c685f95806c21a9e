//! Command-line front end: argument parsing and the headless subcommands.

#[macro_use]
mod print;
mod compare;
mod data;
#[cfg(feature = "gui")]
mod gui_args;
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
    #[cfg(feature = "gui")]
    #[command(flatten)]
    pub gui: gui_args::GuiArgs,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Load a dataset, apply noise and masks, write PNG grids of masks, masked digits and PCs.
    Data(data::DataArgs),
    /// Run the Gibbs sampler headless and write traces, posterior summaries and figures.
    Run(run::RunCommand),
    /// Compare imputers (column means, hard-impute, SoftImpute, k-NN, factor analysis) on
    /// `run`'s data and masks, sizes chosen on held-out pixels; writes compare.json.
    Compare(compare::CompareArgs),
}

/// Parses "28x28" (also "28X28" or "28,28") into (height, width),
/// for the `--shape` flag of both subcommands.
pub(crate) fn parse_shape(s: &str) -> Result<(usize, usize), String> {
    let (h, w) = s
        .split_once(['x', 'X', ','])
        .ok_or_else(|| format!("expected HxW such as 28x28, got {s:?}"))?;
    let parse = |v: &str| {
        v.trim()
            .parse::<usize>()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| format!("{v:?} is not a positive whole number"))
    };
    Ok((parse(h)?, parse(w)?))
}

/// Runs a subcommand, printing any error with its causes; exit code 1 on failure.
pub fn run(command: Command) -> ExitCode {
    // A write past a file-size limit then fails with an error (reported, temporary file
    // removed) instead of the signal killing the process mid-write.
    gibbs_fa::atomic_write::ignore_file_size_signal();
    let result = match command {
        Command::Data(args) => data::run(args),
        Command::Run(args) => run::run_command(args),
        Command::Compare(args) => compare::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
