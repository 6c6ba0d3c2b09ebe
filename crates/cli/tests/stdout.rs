//! Regression tests for issue 15 item 2: a closed or full stdout never panics.
//!
//! A closed pipe (`iovmarket clear … | head`, `iovmarket audit | head -1`) ends quietly with exit
//! code 0 or 141 and nothing on stderr; a full disk (`> /dev/full`) is a one-line error with a
//! non-zero exit code.

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// Runs `iovmarket args` with stdout a pipe whose reading end is already closed, so every write
/// fails with EPIPE (as after `head` exits), feeding `stdin`.
fn with_closed_stdout(args: &[&str], stdin: &str) -> Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut child = Command::new(env!("CARGO_BIN_EXE_iovmarket"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(writer)
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary runs");
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    child.wait_with_output().unwrap()
}

fn assert_quiet(o: &Output, what: &str) {
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        matches!(o.status.code(), Some(0 | 141)),
        "{what}: exit {:?}, stderr {stderr}",
        o.status
    );
    assert!(stderr.is_empty(), "{what}: stderr {stderr}");
}

#[test]
fn clear_into_a_closed_pipe_ends_quietly() {
    let o = with_closed_stdout(
        &["clear", "--mechanism", "mcafee"],
        r#"{"bids": [3, 2], "asks": [1, 2]}"#,
    );
    assert_quiet(&o, "clear");
}

#[test]
fn audit_into_a_closed_pipe_ends_quietly() {
    let o = with_closed_stdout(&["audit", "--mechanism", "mcafee", "--markets", "20"], "");
    assert_quiet(&o, "audit");
}

#[test]
fn simulate_into_a_closed_pipe_ends_quietly() {
    let o = with_closed_stdout(
        &[
            "simulate",
            "--set",
            "scenario.vehicles=5",
            "--set",
            "scenario.episode_slots=3",
        ],
        "",
    );
    assert_quiet(&o, "simulate");
}

#[test]
fn simulate_into_a_full_disk_is_a_one_line_error() {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full exists on Linux");
    let o = Command::new(env!("CARGO_BIN_EXE_iovmarket"))
        .args([
            "simulate",
            "--set",
            "scenario.vehicles=5",
            "--set",
            "scenario.episode_slots=3",
        ])
        .stdout(full)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "exit {:?}", o.status);
    assert_ne!(o.status.code(), Some(101), "a panic: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: cannot write to standard output: "),
        "{stderr}"
    );
    assert!(stderr.contains("No space left on device"), "{stderr}");
}
