//! Printing for the headless subcommands: [`say!`] writes a line to stdout and [`note!`] one to
//! stderr, each ignoring a closed stream (`gibbs-fa run ... | head` is not an error worth a
//! panic, which `println!` would give). Declared first in `cli/mod.rs` with `#[macro_use]`, so
//! every subcommand's module has them.
//!
//! Threads: whichever thread prints; a write blocks only as long as the stream does.

/// Prints a line to stdout; a closed pipe is not an error worth a panic.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// Prints a line to stderr, ignoring a closed stream like [`say!`].
macro_rules! note {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}
