//! The scenario: every component's configuration, gathered (DESIGN.md §4.2).
//!
//! Each component owns its config type beside its trait: [`ScenarioConfig`] (the shared world,
//! `[scenario]`), [`MobilityConfig`] in [`crate::mobility`], [`ChannelConfig`] in
//! [`crate::channel`], [`WorkloadConfig`] in [`crate::workload`], [`MarketConfig`] (with the
//! mechanism registry [`MechanismKind`]) in [`crate::market`], [`RewardConfig`] in
//! [`crate::metrics`] and [`AgentsConfig`] (with [`BidderKind`]) in [`crate::agents`]. A
//! [`Scenario`] only gathers them. It is read from TOML into its raw form [`RawScenario`],
//! overridden with `table.key=value` pairs, and validated once, by `TryFrom<RawScenario>`;
//! afterwards it is trusted (the env does not check it again) and read-only by convention: code
//! that edits a field (as `reproduce` does with typed values) keeps it in range.
//!
//! The `[train]` table belongs to the learner (`iovmarket_learn::TrainConfig`): the core keeps
//! it as an opaque TOML table, so that the core carries no PPO hyperparameters; the learner
//! parses and validates it, unknown keys included. Unknown keys and out-of-range values of every
//! other table are errors here that name the key. `configs/paper.toml` is the paper's scenario
//! and equals [`Scenario::default`] (plus its `[train]` table).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub use crate::agents::{ActionKind, AgentsConfig, BidderKind, ObservationKind};
pub use crate::channel::ChannelConfig;
pub use crate::market::{MarketConfig, MechanismKind, PowerResample, RawMarketConfig};
pub use crate::metrics::{RewardConfig, RewardKind, WelfareKind};
pub use crate::mobility::{MobilityConfig, MobilityKind};
pub use crate::workload::WorkloadConfig;
pub use crate::world::ScenarioConfig;

/// The paper's scenario preset, embedded so the binary runs without files.
pub const PAPER_TOML: &str = include_str!("../../../configs/paper.toml");

/// A complete, validated description of one experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(try_from = "RawScenario")]
pub struct Scenario {
    /// Sizes, geometry, time.
    pub scenario: ScenarioConfig,
    /// Vehicle movement (M1).
    pub mobility: MobilityConfig,
    /// Radio channel (M2–M4).
    pub channel: ChannelConfig,
    /// Requests and their sizes (M5–M6).
    pub workload: WorkloadConfig,
    /// Local markets (M7).
    pub market: MarketConfig,
    /// Reward and welfare (M8–M11).
    pub reward: RewardConfig,
    /// Agents: observations and non-learned bidders.
    pub agents: AgentsConfig,
    /// The learner's `[train]` table, unparsed (owned by `iovmarket_learn::TrainConfig`).
    pub train: toml::Table,
}

/// A scenario as written in TOML, before validation: every table defaulted, unknown keys
/// rejected, choices still names (`market.mechanism`, `agents.bidder`).
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct RawScenario {
    /// `[scenario]`.
    pub scenario: ScenarioConfig,
    /// `[mobility]`.
    pub mobility: MobilityConfig,
    /// `[channel]`.
    pub channel: ChannelConfig,
    /// `[workload]`.
    pub workload: WorkloadConfig,
    /// `[market]`, with the mechanism by name.
    pub market: RawMarketConfig,
    /// `[reward]`.
    pub reward: RewardConfig,
    /// `[agents]`, with the bidder by name.
    pub agents: RawAgentsConfig,
    /// `[train]`, passed through.
    pub train: toml::Table,
}

/// `[agents]` as written in TOML.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawAgentsConfig {
    /// `paper` or `extended`.
    pub observation: ObservationKind,
    /// The bidder's name (`truthful`, `random`, `shaded:F`, `latency_aware`, `learned`).
    pub bidder: String,
    /// `relative` or `absolute`.
    pub action: ActionKind,
    /// Scale of relative bids.
    pub bid_scale: f64,
}

impl Default for RawAgentsConfig {
    fn default() -> Self {
        let a = AgentsConfig::default();
        Self {
            observation: a.observation,
            bidder: a.bidder.to_string(),
            action: a.action,
            bid_scale: a.bid_scale,
        }
    }
}

impl TryFrom<RawScenario> for Scenario {
    type Error = Error;

    /// Validates every table, and the cross-table constraints, once.
    fn try_from(raw: RawScenario) -> Result<Self> {
        raw.scenario.validate()?;
        raw.mobility.validate(&raw.scenario)?;
        raw.channel.validate()?;
        raw.workload.validate()?;
        let market = MarketConfig::try_from(raw.market)?;
        raw.reward.validate()?;
        let agents = AgentsConfig {
            observation: raw.agents.observation,
            bidder: raw.agents.bidder.parse()?,
            action: raw.agents.action,
            bid_scale: raw.agents.bid_scale,
        };
        agents.validate()?;
        Ok(Self {
            scenario: raw.scenario,
            mobility: raw.mobility,
            channel: raw.channel,
            workload: raw.workload,
            market,
            reward: raw.reward,
            agents,
            train: raw.train,
        })
    }
}

impl Scenario {
    /// The paper's scenario (`configs/paper.toml`, `[train]` table included).
    pub fn paper() -> Self {
        Self::from_toml(PAPER_TOML, &[]).expect("the paper preset is valid")
    }

    /// Parses `text` (TOML), applies `overrides` (`table.key`, TOML value or bare string) and
    /// validates the result.
    ///
    /// # Errors
    /// [`Error::ConfigParse`] for malformed TOML or unknown keys; [`Error::Config`] naming the key
    /// for an override of an unknown key or any out-of-range value.
    pub fn from_toml(text: &str, overrides: &[(String, String)]) -> Result<Self> {
        let mut table: toml::Table = toml::from_str(text).map_err(parse_error)?;
        let known = toml::Table::try_from(Scenario::default())
            .expect("the default scenario serialises to TOML");
        for (key, value) in overrides {
            set_key(&mut table, &known, key, value)?;
        }
        let raw: RawScenario = toml::Value::Table(table).try_into().map_err(parse_error)?;
        Self::try_from(raw)
    }

    /// The scenario as TOML text (every key, defaults included; `[train]` as given).
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a scenario serialises to TOML")
    }
}

/// A parse error on one line (toml's messages span several).
fn parse_error(e: toml::de::Error) -> Error {
    let text = e.to_string();
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    Error::ConfigParse(lines.join("; "))
}

/// Sets `key` (dotted) in `table`, after checking that the key exists in the schema `known`.
/// Keys of `[train]` are passed through: the learner checks them.
fn set_key(table: &mut toml::Table, known: &toml::Table, key: &str, raw: &str) -> Result<()> {
    let parts: Vec<&str> = key.split('.').collect();
    if parts.len() != 2 || parts.iter().any(|p| p.is_empty()) {
        return Err(Error::config(
            key,
            "expected `table.key`, e.g. `market.mechanism`",
        ));
    }
    let section = known
        .get(parts[0])
        .and_then(|v| v.as_table())
        .ok_or_else(|| Error::config(key, format!("unknown table `{}`", parts[0])))?;
    if parts[0] != "train" && !section.contains_key(parts[1]) {
        return Err(Error::config(key, "unknown config key"));
    }
    let value = parse_value(key, raw)?;
    let entry = table
        .entry(parts[0].to_string())
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    let sub = entry
        .as_table_mut()
        .ok_or_else(|| Error::config(parts[0], "must be a table"))?;
    sub.insert(parts[1].to_string(), value);
    Ok(())
}

/// A TOML value if `raw` parses as one, otherwise the bare string.
///
/// # Errors
/// [`Error::Config`] for a numeral too large for an f64 (`1e400`), which TOML rejects and which
/// would otherwise reach the schema as a string ("invalid type: string").
fn parse_value(key: &str, raw: &str) -> Result<toml::Value> {
    if let Some(v) = toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
    {
        return Ok(v);
    }
    let numeral = raw
        .trim_start_matches(['+', '-'])
        .starts_with(|c: char| c.is_ascii_digit() || c == '.');
    if numeral && raw.parse::<f64>().is_ok_and(f64::is_infinite) {
        return Err(Error::config(
            key,
            format!(
                "{raw} is out of range for f64 (largest finite value {:e})",
                f64::MAX
            ),
        ));
    }
    Ok(toml::Value::String(raw.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::Kda;

    fn ov(k: &str, v: &str) -> Vec<(String, String)> {
        vec![(k.to_string(), v.to_string())]
    }

    #[test]
    fn paper_toml_is_the_default() {
        let paper = Scenario::paper();
        assert!(!paper.train.is_empty(), "the preset has a [train] table");
        assert_eq!(
            Scenario {
                train: toml::Table::new(),
                ..paper
            },
            Scenario::default()
        );
    }

    #[test]
    fn overrides_apply_and_round_trip() {
        let s = Scenario::from_toml("", &ov("market.bid_max", "1.5")).unwrap();
        assert_eq!(s.market.bid_max, 1.5);
        let s = Scenario::from_toml("", &ov("agents.bidder", "random")).unwrap();
        assert_eq!(s.agents.bidder, BidderKind::Random);
        let s = Scenario::from_toml("", &ov("scenario.vehicles", "20")).unwrap();
        assert_eq!(s.scenario.vehicles, 20);
        assert_eq!(Scenario::from_toml(&s.to_toml(), &[]).unwrap(), s);
    }

    /// The TOML keys and `--set` names are those of the string-typed config this replaced.
    #[test]
    fn typed_choices_keep_their_toml_keys() {
        let s = Scenario::from_toml(
            "[market]\nmechanism = \"kda\"\nkda_k = 0.25\n[agents]\nbidder = \"shaded:0.8\"\n",
            &[],
        )
        .unwrap();
        assert_eq!(s.market.mechanism, MechanismKind::Kda(Kda { k: 0.25 }));
        assert_eq!(s.agents.bidder, BidderKind::Shaded(0.8));
        let o = [
            ("market.mechanism".to_string(), "kda".to_string()),
            ("market.kda_k".to_string(), "0.25".to_string()),
            ("agents.bidder".to_string(), "\"shaded:0.8\"".to_string()),
        ];
        assert_eq!(Scenario::from_toml("", &o).unwrap(), s);
        let text = s.to_toml();
        for line in [
            "mechanism = \"kda\"",
            "kda_k = 0.25",
            "bidder = \"shaded:0.8\"",
        ] {
            assert!(text.contains(line), "{line} missing from\n{text}");
        }
        let s = Scenario::from_toml("", &ov("train.lr", "0.5")).unwrap();
        assert_eq!(s.train["lr"].as_float(), Some(0.5));
    }

    #[test]
    fn unknown_keys_are_named() {
        let e = Scenario::from_toml("", &ov("market.foo", "1"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("market.foo"), "{e}");
        let e = Scenario::from_toml("[market]\nfoo = 1\n", &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("foo"), "{e}");
        let e = Scenario::from_toml("[nope]\n", &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("nope"), "{e}");
    }

    #[test]
    fn out_of_range_values_are_named() {
        for (k, v) in [
            ("scenario.vehicles", "0"),
            ("workload.request_prob", "1.5"),
            ("mobility.turn_prob", "-0.1"),
            ("scenario.rsus", "3"),
            ("market.mechanism", "\"nonsense\""),
            ("market.kda_k", "2"),
            ("agents.bidder", "shaded:x"),
            ("channel.bandwidth_hz", "-1"),
            ("mobility.trace_start_s", "-5"),
        ] {
            let e = Scenario::from_toml("", &ov(k, v)).unwrap_err().to_string();
            assert!(e.contains(k), "{k}: {e}");
        }
        // Issue 15: a numeral beyond f64 is named as such, not as "invalid type: string".
        let e = Scenario::from_toml("", &ov("channel.bandwidth_hz", "1e400"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("channel.bandwidth_hz") && e.contains("out of range for f64"),
            "{e}"
        );
        // Large values print in shortest round-trip form, not as 300-digit decimals.
        let e = Scenario::from_toml("", &ov("channel.bandwidth_hz", "-1e300"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("-1e300 is out of range"), "{e}");
        let e = Scenario::from_toml("", &ov("scenario.vehicles", "-3"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("vehicles"), "{e}");
    }
}
