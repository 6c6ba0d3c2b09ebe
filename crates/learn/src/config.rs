//! The learner's configuration: the `[train]` table of a scenario (DESIGN.md §2.1, §4.2).
//!
//! The core keeps `[train]` as an opaque TOML table ([`iovmarket::Scenario::train`]), so that it
//! carries no PPO hyperparameters; [`TrainConfig::from_scenario`] reads and validates it, naming
//! the key of an unknown entry (`train.foo`) or of an out-of-range value. The TOML keys and the
//! `--set train.key=value` names are those of the fields below.

use iovmarket::check::{finite, non_negative, positive, positive_count, probability};
use iovmarket::{Error, Result, Scenario};
use serde::{Deserialize, Serialize};

/// Which critic input the learner uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CriticKind {
    /// MAPPO: a centralised critic on the global state.
    Centralised,
    /// IPPO: each agent's critic sees only its own observation.
    Local,
}

/// Bid distribution of the policy head.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BidDistribution {
    /// Gaussian squashed into [0, 1] by a logistic map.
    SquashedGaussian,
    /// Beta distribution on [0, 1].
    Beta,
}

/// `[train]`: MAPPO hyperparameters (DESIGN.md §2.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainConfig {
    /// Adam learning rate. By default, 0.003 (the paper's 0.001 learns too slowly here;
    /// docs/TUNING.md).
    pub lr: f64,
    /// Discount γ. By default, 0.95.
    pub gamma: f64,
    /// GAE λ. By default, 0.95.
    pub gae_lambda: f64,
    /// Entropy coefficient. By default, 0.02.
    pub entropy_coef: f64,
    /// Value-loss coefficient. By default, 0.5.
    pub value_coef: f64,
    /// PPO clip ε. By default, 0.3 (the paper's 0.2 learns more slowly; docs/TUNING.md).
    pub clip: f64,
    /// Passes over each rollout. By default, 10.
    pub ppo_epochs: usize,
    /// Minibatches per pass. By default, 4 (docs/TUNING.md).
    pub minibatches: usize,
    /// Parallel episodes per rollout. By default, 8.
    pub n_envs: usize,
    /// PPO iterations. By default, 50.
    pub epochs: usize,
    /// Width of the two hidden layers. By default, 64.
    pub hidden: usize,
    /// Global gradient-norm clip. By default, 10.
    pub max_grad_norm: f64,
    /// Huber δ of the value loss. By default, 10.
    pub huber_delta: f64,
    /// One policy for all agents (true) or one per agent. By default, true.
    pub share_policy: bool,
    /// `centralised` (MAPPO) or `local` (IPPO). By default, `centralised`.
    pub critic: CriticKind,
    /// `squashed_gaussian` or `beta`. By default, `squashed_gaussian`.
    pub distribution: BidDistribution,
    /// Initial log standard deviation of the Gaussian head. By default, 0 (docs/TUNING.md).
    pub log_std_init: f64,
    /// Worker threads for rollouts; 0 means all cores. Results do not depend on it.
    /// By default, 0.
    pub threads: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            lr: 3e-3,
            gamma: 0.95,
            gae_lambda: 0.95,
            entropy_coef: 0.02,
            value_coef: 0.5,
            clip: 0.3,
            ppo_epochs: 10,
            minibatches: 4,
            n_envs: 8,
            epochs: 50,
            hidden: 64,
            max_grad_norm: 10.0,
            huber_delta: 10.0,
            share_policy: true,
            critic: CriticKind::Centralised,
            distribution: BidDistribution::SquashedGaussian,
            log_std_init: 0.0,
            threads: 0,
        }
    }
}

impl TrainConfig {
    /// The `[train]` table of `scenario`, parsed (missing keys take their defaults) and
    /// validated.
    ///
    /// # Errors
    /// As [`TrainConfig::from_table`].
    pub fn from_scenario(scenario: &Scenario) -> Result<Self> {
        Self::from_table(&scenario.train)
    }

    /// The buffer shapes of [`iovmarket::memory`]'s estimate.
    pub fn memory_shape(&self) -> iovmarket::memory::LearnerShape {
        iovmarket::memory::LearnerShape {
            hidden: self.hidden,
            n_envs: self.n_envs,
            minibatches: self.minibatches,
        }
    }

    /// Parses and validates a `[train]` table.
    ///
    /// # Errors
    /// [`Error::Config`] naming `train.<key>` for an unknown key, a value of the wrong type or
    /// an out-of-range value.
    pub fn from_table(table: &toml::Table) -> Result<Self> {
        let known = Self::default().to_table();
        for (key, value) in table {
            if !known.contains_key(key) {
                return Err(Error::config(format!("train.{key}"), "unknown config key"));
            }
            // One key at a time, so that a type error names its key.
            let single = toml::Table::from_iter([(key.clone(), value.clone())]);
            toml::Value::Table(single)
                .try_into::<Self>()
                .map_err(|e| Error::config(format!("train.{key}"), one_line(&e.to_string())))?;
        }
        let cfg: Self = toml::Value::Table(table.clone())
            .try_into()
            .map_err(|e| Error::config("train", one_line(&e.to_string())))?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// The config as a `[train]` table (every key).
    pub fn to_table(&self) -> toml::Table {
        toml::Table::try_from(self).expect("a train config serialises to TOML")
    }

    /// Checks every value against its allowed range.
    ///
    /// # Errors
    /// [`Error::Config`] naming the first offending `train.*` key.
    pub fn validate(&self) -> Result<()> {
        let t = self;
        positive("train.lr", t.lr)?;
        probability("train.gamma", t.gamma)?;
        probability("train.gae_lambda", t.gae_lambda)?;
        non_negative("train.entropy_coef", t.entropy_coef)?;
        non_negative("train.value_coef", t.value_coef)?;
        positive("train.clip", t.clip)?;
        positive_count("train.ppo_epochs", t.ppo_epochs)?;
        positive_count("train.minibatches", t.minibatches)?;
        positive_count("train.n_envs", t.n_envs)?;
        positive_count("train.hidden", t.hidden)?;
        positive("train.max_grad_norm", t.max_grad_norm)?;
        positive("train.huber_delta", t.huber_delta)?;
        finite("train.log_std_init", t.log_std_init)?;
        Ok(())
    }
}

/// `scenario` with its `[train]` table written out in full (every key, defaults included), so
/// that two scenarios that train alike compare (and print) alike.
///
/// # Errors
/// As [`TrainConfig::from_scenario`].
pub fn with_full_train_table(scenario: &Scenario) -> Result<Scenario> {
    Ok(Scenario {
        train: TrainConfig::from_scenario(scenario)?.to_table(),
        ..scenario.clone()
    })
}

/// toml's messages span several lines; errors here are one line.
fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(overrides: &[(&str, &str)]) -> Result<Scenario> {
        let o: Vec<(String, String)> = overrides
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Scenario::from_toml(iovmarket::config::PAPER_TOML, &o)
    }

    #[test]
    fn the_paper_preset_is_the_default() {
        assert_eq!(
            TrainConfig::from_scenario(&Scenario::paper()).unwrap(),
            TrainConfig::default()
        );
        assert_eq!(
            TrainConfig::from_scenario(&Scenario::default()).unwrap(),
            TrainConfig::default()
        );
    }

    #[test]
    fn set_names_reach_the_fields() {
        let s = scenario(&[("train.lr", "0.01"), ("train.critic", "local")]).unwrap();
        let t = TrainConfig::from_scenario(&s).unwrap();
        assert_eq!((t.lr, t.critic), (0.01, CriticKind::Local));
        let t = TrainConfig::from_table(&toml::from_str("distribution = \"beta\"").unwrap());
        assert_eq!(t.unwrap().distribution, BidDistribution::Beta);
    }

    #[test]
    fn errors_name_the_key() {
        for (k, v) in [
            ("train.foo", "1"),
            ("train.lr", "-1"),
            ("train.lr", "\"fast\""),
            ("train.gamma", "2"),
            ("train.critic", "nope"),
            ("train.n_envs", "0"),
        ] {
            let s = scenario(&[(k, v)]).unwrap();
            let e = TrainConfig::from_scenario(&s).unwrap_err().to_string();
            assert!(e.contains(k), "{k} = {v}: {e}");
        }
    }

    #[test]
    fn full_tables_compare_alike() {
        let a = with_full_train_table(&Scenario::default()).unwrap();
        let b = with_full_train_table(&Scenario::paper()).unwrap();
        assert_eq!(a, b);
    }
}
