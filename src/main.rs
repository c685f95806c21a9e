//! The `gibbs-fa` binary: with no arguments the desktop app, with a subcommand headless work.
//! Both front ends are thin layers over the `gibbs_fa` library.

mod cli;
mod gui;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let args = cli::Cli::parse();
    match args.command {
        None => gui::run(args.gui),
        Some(command) => cli::run(command),
    }
}
