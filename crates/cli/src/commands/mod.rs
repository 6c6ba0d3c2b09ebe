//! One module per subcommand, plus the flags they share.

pub mod audit;
pub mod clear;
pub mod evaluate;
pub mod exploit;
pub mod render;
pub mod replay;
pub mod reproduce;
pub mod simulate;
pub mod train;

use std::path::PathBuf;

use anyhow::{Context, Result};
use iovmarket::Scenario;

/// `--config` and `--set`, shared by every command that builds a scenario.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ConfigArgs {
    /// Scenario file (TOML); the paper's scenario when omitted.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Override one config value, e.g. `--set market.mechanism=kda` (repeatable).
    #[arg(long = "set", value_name = "TABLE.KEY=VALUE")]
    pub set: Vec<String>,
}

impl ConfigArgs {
    /// The validated scenario: file (or the embedded paper preset), then `--set`s, then `extra`;
    /// its `[train]` table is validated by the learner and written out in full.
    pub fn scenario(&self, extra: &[(String, String)]) -> Result<Scenario> {
        self.scenario_or(
            iovmarket::config::PAPER_TOML,
            "built-in paper config",
            extra,
        )
    }

    /// As [`ConfigArgs::scenario`], with `base` (described by `base_origin`) instead of the
    /// paper preset when no `--config` is given.
    pub fn scenario_or(
        &self,
        base: &str,
        base_origin: &str,
        extra: &[(String, String)],
    ) -> Result<Scenario> {
        let text = match &self.config {
            Some(path) => std::fs::read_to_string(path)
                .with_context(|| format!("cannot read config file {}", path.display()))?,
            None => base.to_string(),
        };
        let mut overrides = Vec::with_capacity(self.set.len() + extra.len());
        for kv in &self.set {
            let (k, v) = kv
                .split_once('=')
                .with_context(|| format!("--set `{kv}`: expected TABLE.KEY=VALUE"))?;
            overrides.push((k.trim().to_string(), v.trim().to_string()));
        }
        overrides.extend_from_slice(extra);
        let origin = self
            .config
            .as_ref()
            .map_or(base_origin.to_string(), |p| p.display().to_string());
        Scenario::from_toml(&text, &overrides)
            .and_then(|s| iovmarket_learn::config::with_full_train_table(&s))
            .with_context(|| format!("invalid scenario ({origin})"))
    }
}
