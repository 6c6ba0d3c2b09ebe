//! Output files: written through [`iovmarket::atomic_file`] (a temporary file in the target
//! directory, then renamed), so a failed or interrupted run never leaves a partial file behind.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;

/// Writes `bytes` to `path` atomically, creating its directory
/// ([`iovmarket::atomic_file::write_atomic`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(dir)
        .with_context(|| format!("cannot create directory {}", dir.display()))?;
    path.file_name().context("output path has no file name")?;
    iovmarket::atomic_file::write_atomic(path, bytes)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Serialises `rows` as CSV (header from the field names) and writes it atomically.
pub fn write_csv<T: Serialize>(path: &Path, rows: impl IntoIterator<Item = T>) -> Result<()> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for row in rows {
        w.serialize(row)
            .with_context(|| format!("cannot encode a row of {}", path.display()))?;
    }
    let bytes = w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?;
    write_atomic(path, &bytes)
}

/// Writes `value` as pretty JSON atomically.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let mut bytes = serde_json::to_vec_pretty(value)?;
    bytes.push(b'\n');
    write_atomic(path, &bytes)
}

/// Metadata of a run, written as `run.json`.
#[derive(Debug, Serialize)]
pub struct RunInfo<'a> {
    /// Which command produced the run.
    pub command: &'a str,
    /// Run seed.
    pub seed: u64,
    /// Crate version.
    pub version: &'static str,
    /// Git revision of the build, or "unknown".
    pub git_revision: &'static str,
    /// The complete scenario.
    pub config: &'a iovmarket::Scenario,
    /// Extra, command-specific fields.
    #[serde(flatten)]
    pub extra: serde_json::Value,
}

impl<'a> RunInfo<'a> {
    /// Run info for `command` on `config`.
    pub fn new(
        command: &'a str,
        seed: u64,
        config: &'a iovmarket::Scenario,
        extra: serde_json::Value,
    ) -> Self {
        Self {
            command,
            seed,
            version: env!("CARGO_PKG_VERSION"),
            git_revision: env!("IOVMARKET_GIT_REV"),
            config,
            extra,
        }
    }
}

/// Progress bar on stderr when it is a terminal; hidden when piped.
pub fn progress(len: u64, what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{prefix} [{bar:30}] {pos}/{len} {msg} ({elapsed})",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_prefix(what.to_string());
    bar
}
