//! Helpers shared by the tests that run the `gibbs-fa` binary (`cli_run`, `cli_compare`,
//! `cli_mfa`): the binary isolated from any MNIST copy on the machine, and the checks of a run
//! that succeeded or was refused. Included with `mod common;` (not a test binary of its own).
//!
//! Threads: everything runs on the test's thread; [`run_ok`] blocks until the child process
//! exits.
#![allow(dead_code)] // each test binary uses its own subset

use std::path::Path;
use std::process::{Command, Output};

pub const BIN: &str = env!("CARGO_BIN_EXE_gibbs-fa");

/// The command with no data found by the search (no env var, an empty cache folder), so only
/// an explicit `--data` or the built-in synthetic digits can be used.
pub fn isolated(cache: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_remove("GIBBS_FA_DATA")
        .env("XDG_CACHE_HOME", cache)
        .env("HOME", cache);
    cmd
}

/// Runs `cmd` and fails the test, showing its exit code and both streams, unless it succeeded.
pub fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("the binary runs");
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Checks that a run was refused the way bad input is: exit code 1 and an `error:` line, no
/// panic. Returns its stderr for further checks; `what` names the case in failures.
pub fn assert_refused(output: &Output, what: &str) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(1), "{what}: {stderr}");
    assert!(stderr.contains("error:"), "{what}: {stderr}");
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    stderr
}
