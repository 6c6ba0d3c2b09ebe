//! Standard output that never panics.
//!
//! `print!` panics when stdout is a closed pipe (`iovmarket audit | head -1`) or a full disk
//! (`> /dev/full`). Every command writes its stdout through [`print`] instead, which flushes
//! and turns the failure into an error: [`Closed`] for a closed pipe, which `main` ends quietly
//! with the conventional exit code 141 (128 + SIGPIPE), and a one-line error for anything else.
//! The crate denies `clippy::print_stdout` so no `print!` comes back.

use std::io::{ErrorKind, Write};

use anyhow::{Context, Result};

/// The reader of stdout has gone (EPIPE): the output is no longer wanted, not an error to report.
#[derive(Debug)]
pub struct Closed;

impl std::fmt::Display for Closed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("standard output is closed")
    }
}

impl std::error::Error for Closed {}

/// Exit code for a closed stdout, as if the process had been killed by SIGPIPE.
pub const CLOSED_EXIT_CODE: u8 = 141;

/// Writes `text` to stdout and flushes it.
///
/// # Errors
/// [`Closed`] when the reading end of a pipe is closed; "cannot write to standard output" with
/// the OS error otherwise (e.g. a full disk).
pub fn print(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::BrokenPipe => Err(Closed.into()),
        Err(e) => Err(e).context("cannot write to standard output"),
    }
}

/// [`print`] of `text` and a newline.
///
/// # Errors
/// As [`print`].
pub fn println(text: &str) -> Result<()> {
    print(&format!("{text}\n"))
}
