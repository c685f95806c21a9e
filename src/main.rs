//! The `gibbs-fa` binary: with no arguments the desktop app, with a subcommand headless work.
//! Both front ends are thin layers over the `gibbs_fa` library.

mod cli;

use clap::Parser;

/// Large blocks on huge pages, so that a build filling gigabytes does not stall the UI thread
/// (see the module docs of `gibbs_fa::hugepages`).
#[global_allocator]
static ALLOC: gibbs_fa::hugepages::HugePageAlloc = gibbs_fa::hugepages::HugePageAlloc;

fn main() -> std::process::ExitCode {
    let args = cli::Cli::parse();
    match args.command {
        #[cfg(feature = "gui")]
        None => {
            // Restarts and exports free and refill big blocks: reuse them (see the module docs).
            gibbs_fa::hugepages::HugePageAlloc::keep_freed_blocks_for_app();
            gibbs_fa::gui::run(args.gui.into_options())
        }
        #[cfg(not(feature = "gui"))]
        None => {
            eprintln!(
                "this gibbs-fa was built without the desktop app (the `gui` feature); \
                 see `gibbs-fa --help` for the headless subcommands"
            );
            std::process::ExitCode::FAILURE
        }
        Some(command) => cli::run(command),
    }
}
