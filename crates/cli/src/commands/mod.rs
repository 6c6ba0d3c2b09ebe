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

/// Keys that do not change the market a trained policy bids in: the run seed, the memory limit,
/// the bidder (set to `learned` by `simulate`) and the learner's own `[train]` table.
fn irrelevant_to_a_policy(table: &str, key: &str) -> bool {
    table == "train"
        || (table, key) == ("scenario", "seed")
        || (table, key) == ("scenario", "max_memory_gb")
        || (table, key) == ("agents", "bidder")
}

/// `table.key = value (checkpoint: value)` for every config key whose value in `current`
/// differs from the scenario the checkpoint was trained on, in table order (seed, memory limit,
/// bidder and `[train]` left out).
pub fn scenario_differences(trained_on: &Scenario, current: &Scenario) -> Vec<String> {
    let table = |s: &Scenario| toml::Table::try_from(s).expect("a scenario serialises to TOML");
    let (old, new) = (table(trained_on), table(current));
    let mut out = Vec::new();
    for (name, section) in &new {
        let (Some(section), Some(old_section)) =
            (section.as_table(), old.get(name).and_then(|v| v.as_table()))
        else {
            continue;
        };
        for (key, value) in section {
            let before = old_section.get(key);
            if before != Some(value) && !irrelevant_to_a_policy(name, key) {
                let before = before.map_or("absent".to_string(), ToString::to_string);
                out.push(format!("{name}.{key} = {value} (checkpoint: {before})"));
            }
        }
    }
    out
}

/// Prints one warning line on stderr when `current` differs from the scenario a checkpoint was
/// trained on (a policy may still run there if its observation layout fits, but it was not
/// trained for it).
pub fn warn_if_trained_elsewhere(trained_on: &Scenario, current: &Scenario) {
    let diff = scenario_differences(trained_on, current);
    if !diff.is_empty() {
        eprintln!(
            "warning: the checkpoint was trained on a different scenario: {}",
            diff.join(", ")
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_name_the_market_keys_only() {
        let a = Scenario::paper();
        let mut b = a.clone();
        b.scenario.vehicles = 20;
        b.market.mechanism = iovmarket::market::MechanismKind::new("kda", 0.5).unwrap();
        b.scenario.seed = 9;
        b.train.insert("epochs".into(), 3.into());
        b.agents.bidder = iovmarket::agents::BidderKind::Learned;
        assert_eq!(
            scenario_differences(&a, &b),
            [
                "scenario.vehicles = 20 (checkpoint: 80)",
                "market.mechanism = \"kda\" (checkpoint: \"mcafee\")"
            ]
        );
        assert!(scenario_differences(&a, &a).is_empty());
    }
}
