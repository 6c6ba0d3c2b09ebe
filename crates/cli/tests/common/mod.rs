//! Helpers shared by the CLI's end-to-end tests.
// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::process::{Command, Output};

/// Runs the `iovmarket` binary with `args`.
pub fn iovmarket(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_iovmarket"))
        .args(args)
        .output()
        .expect("binary runs")
}

/// The process's stdout as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The process's stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
