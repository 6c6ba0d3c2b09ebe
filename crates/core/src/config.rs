//! The scenario: every quantity of the model (DESIGN.md §1) as a config value with its default.
//!
//! A [`Scenario`] is read from TOML (tables `scenario`, `mobility`, `channel`, `workload`,
//! `market`, `reward`, `agents`, `train`), overridden with `table.key=value` pairs and validated
//! once, in [`Scenario::from_toml`]. Unknown keys and out-of-range values are errors that name the
//! key. `configs/paper.toml` is the paper's scenario and equals [`Scenario::default`].

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, Short};

/// The paper's scenario preset, embedded so the binary runs without files.
pub const PAPER_TOML: &str = include_str!("../../../configs/paper.toml");

/// A complete, validated description of one experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
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
    /// Learning hyperparameters (used by `iovmarket-learn`).
    pub train: TrainConfig,
}

/// `[scenario]`: sizes, geometry and time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScenarioConfig {
    /// Number of vehicles (agents). By default, 80.
    pub vehicles: usize,
    /// Number of RSUs; a perfect square unless `rsu_positions` is given. By default, 4.
    pub rsus: usize,
    /// VMs (sellers) per RSU. By default, 5.
    pub vms_per_rsu: usize,
    /// Side of the square area in metres. By default, 1000.
    pub area_m: f64,
    /// Distance between parallel roads in metres. By default, 250.
    pub block_m: f64,
    /// RSU coverage radius in metres. By default, 500.
    pub coverage_m: f64,
    /// Slot length in seconds. By default, 1.0.
    pub slot_s: f64,
    /// Slots per episode (T). By default, 100.
    pub episode_slots: usize,
    /// Run seed; every random stream derives from it. By default, 0.
    pub seed: u64,
    /// Explicit RSU positions `[[x, y], ..]`; empty means a regular grid. By default, empty.
    pub rsu_positions: Vec<[f64; 2]>,
    /// Memory limit in GB (10⁹ bytes) for the estimate of [`crate::memory`]; 0 means the
    /// machine's available memory. By default, 0.
    pub max_memory_gb: f64,
}

impl Default for ScenarioConfig {
    fn default() -> Self {
        Self {
            vehicles: 80,
            rsus: 4,
            vms_per_rsu: 5,
            area_m: 1000.0,
            block_m: 250.0,
            coverage_m: 500.0,
            slot_s: 1.0,
            episode_slots: 100,
            seed: 0,
            rsu_positions: Vec::new(),
            max_memory_gb: 0.0,
        }
    }
}

/// Which mobility model moves the vehicles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MobilityKind {
    /// Manhattan grid with lanes (M1).
    Grid,
    /// Replay of a SUMO FCD trace.
    Trace,
}

/// `[mobility]`: vehicle movement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MobilityConfig {
    /// `grid` or `trace`. By default, `grid`.
    pub kind: MobilityKind,
    /// SUMO FCD trace (XML or CSV) for `kind = "trace"`, a path relative to the working
    /// directory. By default, empty.
    pub trace: String,
    /// Trace seconds skipped before slot 0, counted from the trace's first timestep (e.g. to
    /// skip SUMO's warm-up while the network fills). Only used with `kind = "trace"`.
    /// By default, 0.
    pub trace_start_s: f64,
    /// Mean vehicle speed in km/h. By default, 90.
    pub speed_mean_kmh: f64,
    /// Standard deviation of vehicle speed in km/h. By default, 10.
    pub speed_std_kmh: f64,
    /// Lower truncation of the speed distribution in km/h. By default, 60.
    pub speed_min_kmh: f64,
    /// Upper truncation of the speed distribution in km/h. By default, 120.
    pub speed_max_kmh: f64,
    /// Probability of turning at an intersection. By default, 0.4.
    pub turn_prob: f64,
    /// Lanes per direction on every road. By default, 2.
    pub lanes_per_direction: usize,
    /// Lane width in metres. By default, 3.5.
    pub lane_width_m: f64,
}

impl Default for MobilityConfig {
    fn default() -> Self {
        Self {
            kind: MobilityKind::Grid,
            trace: String::new(),
            trace_start_s: 0.0,
            speed_mean_kmh: 90.0,
            speed_std_kmh: 10.0,
            speed_min_kmh: 60.0,
            speed_max_kmh: 120.0,
            turn_prob: 0.4,
            lanes_per_direction: 2,
            lane_width_m: 3.5,
        }
    }
}

/// `[channel]`: the RSU-to-vehicle radio link.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChannelConfig {
    /// Bandwidth of each VM's orthogonal band in Hz. By default, 1e6.
    pub bandwidth_hz: f64,
    /// Log-normal shadowing standard deviation in dB. By default, 8.
    pub shadowing_std_db: f64,
    /// Shadowing decorrelation distance in metres. By default, 50.
    pub decorrelation_m: f64,
    /// RSU antenna height in metres. By default, 25.
    pub rsu_height_m: f64,
    /// Vehicle antenna height in metres. By default, 1.5.
    pub vehicle_height_m: f64,
    /// RSU antenna gain in dBi. By default, 8.
    pub rsu_antenna_gain_dbi: f64,
    /// Vehicle antenna gain in dBi. By default, 3.
    pub vehicle_antenna_gain_dbi: f64,
    /// Vehicle receiver noise figure in dB. By default, 9.
    pub vehicle_noise_figure_db: f64,
    /// Thermal noise power spectral density in dBm/Hz. By default, -174.
    pub noise_psd_dbm_hz: f64,
    /// Upper bound of the VM transmit power p_m ~ U(0, max] in W. By default, 10.
    pub vm_power_max_w: f64,
}

impl Default for ChannelConfig {
    fn default() -> Self {
        Self {
            bandwidth_hz: 1e6,
            shadowing_std_db: 8.0,
            decorrelation_m: 50.0,
            rsu_height_m: 25.0,
            vehicle_height_m: 1.5,
            rsu_antenna_gain_dbi: 8.0,
            vehicle_antenna_gain_dbi: 3.0,
            vehicle_noise_figure_db: 9.0,
            noise_psd_dbm_hz: -174.0,
            vm_power_max_w: 10.0,
        }
    }
}

/// `[workload]`: request arrivals and sizes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkloadConfig {
    /// Probability that a vehicle without a pending request gets one in a slot. By default, 0.5.
    pub request_prob: f64,
    /// Slots a request stays pending before it is dropped. By default, 5.
    pub request_ttl: usize,
    /// File of request sizes in bytes, one per line; empty means the shipped MeQSum table.
    /// By default, empty.
    pub size_trace: String,
}

impl Default for WorkloadConfig {
    fn default() -> Self {
        Self {
            request_prob: 0.5,
            request_ttl: 5,
            size_trace: String::new(),
        }
    }
}

/// When VM transmit powers are redrawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PowerResample {
    /// Every slot.
    PerSlot,
    /// Once per episode, at reset.
    PerEpisode,
}

/// `[market]`: the local double auctions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MarketConfig {
    /// Clearing rule, by registry name (see [`crate::market::MechanismKind`]). By default, `mcafee`.
    pub mechanism: String,
    /// k of the k-double auction, in [0, 1]. By default, 0.5.
    pub kda_k: f64,
    /// Largest bid. By default, 1.2.
    pub bid_max: f64,
    /// Units a VM can sell per slot (3c). By default, 1.
    pub vm_capacity: usize,
    /// Growth κ of the marginal cost of a VM's k-th unit. By default, 0.1.
    pub marginal_cost_growth: f64,
    /// `per_slot` or `per_episode`. By default, `per_slot`.
    pub vm_power_resample: PowerResample,
}

impl Default for MarketConfig {
    fn default() -> Self {
        Self {
            mechanism: "mcafee".into(),
            kda_k: 0.5,
            bid_max: 1.2,
            vm_capacity: 1,
            marginal_cost_growth: 0.1,
            vm_power_resample: PowerResample::PerSlot,
        }
    }
}

/// Which social-welfare definition enters the reward (M8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WelfareKind {
    /// Σ over trades of (u_v − u_m).
    GainsFromTrade,
    /// Σ (u_v − p_v) + Σ (p_m − u_m) over trades.
    ParticipantsUtility,
    /// The paper's literal Σ u_v + Σ u_m over trades.
    PaperEq1,
}

/// `[reward]`: the shared reward (6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RewardConfig {
    /// Welfare definition used in the reward. By default, `gains_from_trade`.
    pub welfare: WelfareKind,
    /// α, weight of the squared budget. By default, 1.0.
    pub budget_weight: f64,
    /// λ, weight of latency per millisecond. By default, 1.0.
    pub latency_weight: f64,
}

impl Default for RewardConfig {
    fn default() -> Self {
        Self {
            welfare: WelfareKind::GainsFromTrade,
            budget_weight: 1.0,
            latency_weight: 1.0,
        }
    }
}

/// Observation variant (5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObservationKind {
    /// The paper's: market shares, last clearing price, log-rate.
    Paper,
    /// The paper's plus own valuation, request flag, slots waited and RSU one-hot.
    Extended,
}

/// `[agents]`: observations and the bidder used when not learning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AgentsConfig {
    /// `paper` or `extended`. By default, `extended`.
    pub observation: ObservationKind,
    /// `truthful`, `random`, `shaded:F` or `learned`. By default, `truthful`.
    pub bidder: String,
}

impl Default for AgentsConfig {
    fn default() -> Self {
        Self {
            observation: ObservationKind::Extended,
            bidder: "truthful".into(),
        }
    }
}

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
    /// Adam learning rate. By default, 0.001.
    pub lr: f64,
    /// Discount γ. By default, 0.95.
    pub gamma: f64,
    /// GAE λ. By default, 0.95.
    pub gae_lambda: f64,
    /// Entropy coefficient. By default, 0.02.
    pub entropy_coef: f64,
    /// Value-loss coefficient. By default, 0.5.
    pub value_coef: f64,
    /// PPO clip ε. By default, 0.2.
    pub clip: f64,
    /// Passes over each rollout. By default, 10.
    pub ppo_epochs: usize,
    /// Minibatches per pass. By default, 1.
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
    /// Initial log standard deviation of the Gaussian head. By default, -0.5.
    pub log_std_init: f64,
    /// Worker threads for rollouts; 0 means all cores. Results do not depend on it.
    /// By default, 0.
    pub threads: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            lr: 1e-3,
            gamma: 0.95,
            gae_lambda: 0.95,
            entropy_coef: 0.02,
            value_coef: 0.5,
            clip: 0.2,
            ppo_epochs: 10,
            minibatches: 1,
            n_envs: 8,
            epochs: 50,
            hidden: 64,
            max_grad_norm: 10.0,
            huber_delta: 10.0,
            share_policy: true,
            critic: CriticKind::Centralised,
            distribution: BidDistribution::SquashedGaussian,
            log_std_init: -0.5,
            threads: 0,
        }
    }
}

impl Scenario {
    /// The paper's scenario (`configs/paper.toml`).
    pub fn paper() -> Self {
        Self::default()
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
        let scenario: Scenario = toml::Value::Table(table).try_into().map_err(parse_error)?;
        scenario.validate()?;
        Ok(scenario)
    }

    /// The scenario as TOML text (every key, defaults included).
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a scenario serialises to TOML")
    }

    /// Checks every value against its allowed range.
    ///
    /// # Errors
    /// [`Error::Config`] naming the first offending key and the expected range.
    pub fn validate(&self) -> Result<()> {
        let s = &self.scenario;
        positive_count("scenario.vehicles", s.vehicles)?;
        positive_count("scenario.rsus", s.rsus)?;
        positive_count("scenario.vms_per_rsu", s.vms_per_rsu)?;
        positive("scenario.area_m", s.area_m)?;
        positive("scenario.block_m", s.block_m)?;
        if s.block_m > s.area_m {
            return Err(Error::config(
                "scenario.block_m",
                "must not exceed scenario.area_m",
            ));
        }
        positive("scenario.coverage_m", s.coverage_m)?;
        positive("scenario.slot_s", s.slot_s)?;
        positive_count("scenario.episode_slots", s.episode_slots)?;
        non_negative("scenario.max_memory_gb", s.max_memory_gb)?;
        if s.rsu_positions.is_empty() {
            let side = (s.rsus as f64).sqrt().round() as usize;
            if side * side != s.rsus {
                return Err(Error::config(
                    "scenario.rsus",
                    format!(
                        "{} is not a perfect square; give scenario.rsu_positions explicitly",
                        s.rsus
                    ),
                ));
            }
        } else {
            if s.rsu_positions.len() != s.rsus {
                return Err(Error::config(
                    "scenario.rsu_positions",
                    format!(
                        "has {} entries but scenario.rsus = {}",
                        s.rsu_positions.len(),
                        s.rsus
                    ),
                ));
            }
            for (i, p) in s.rsu_positions.iter().enumerate() {
                if !p
                    .iter()
                    .all(|c| c.is_finite() && *c >= 0.0 && *c <= s.area_m)
                {
                    return Err(Error::config(
                        "scenario.rsu_positions",
                        format!("entry {i} = {p:?} must lie inside [0, area_m]²"),
                    ));
                }
            }
        }

        let m = &self.mobility;
        if m.kind == MobilityKind::Trace && m.trace.is_empty() {
            return Err(Error::config(
                "mobility.trace",
                "a trace file is required when mobility.kind = \"trace\"",
            ));
        }
        non_negative("mobility.trace_start_s", m.trace_start_s)?;
        positive("mobility.speed_mean_kmh", m.speed_mean_kmh)?;
        non_negative("mobility.speed_std_kmh", m.speed_std_kmh)?;
        positive("mobility.speed_min_kmh", m.speed_min_kmh)?;
        positive("mobility.speed_max_kmh", m.speed_max_kmh)?;
        if m.speed_min_kmh > m.speed_mean_kmh || m.speed_mean_kmh > m.speed_max_kmh {
            return Err(Error::config(
                "mobility.speed_mean_kmh",
                "must lie in [mobility.speed_min_kmh, mobility.speed_max_kmh]",
            ));
        }
        probability("mobility.turn_prob", m.turn_prob)?;
        positive_count("mobility.lanes_per_direction", m.lanes_per_direction)?;
        positive("mobility.lane_width_m", m.lane_width_m)?;
        if 2.0 * m.lanes_per_direction as f64 * m.lane_width_m >= s.block_m {
            return Err(Error::config(
                "mobility.lanes_per_direction",
                "roads wider than a block",
            ));
        }

        let c = &self.channel;
        positive("channel.bandwidth_hz", c.bandwidth_hz)?;
        non_negative("channel.shadowing_std_db", c.shadowing_std_db)?;
        positive("channel.decorrelation_m", c.decorrelation_m)?;
        non_negative("channel.rsu_height_m", c.rsu_height_m)?;
        non_negative("channel.vehicle_height_m", c.vehicle_height_m)?;
        finite("channel.rsu_antenna_gain_dbi", c.rsu_antenna_gain_dbi)?;
        finite(
            "channel.vehicle_antenna_gain_dbi",
            c.vehicle_antenna_gain_dbi,
        )?;
        finite("channel.vehicle_noise_figure_db", c.vehicle_noise_figure_db)?;
        finite("channel.noise_psd_dbm_hz", c.noise_psd_dbm_hz)?;
        positive("channel.vm_power_max_w", c.vm_power_max_w)?;

        let w = &self.workload;
        probability("workload.request_prob", w.request_prob)?;
        positive_count("workload.request_ttl", w.request_ttl)?;

        let k = &self.market;
        crate::market::MechanismKind::from_config(k)
            .map_err(|e| Error::config("market.mechanism", e))?;
        probability("market.kda_k", k.kda_k)?;
        positive("market.bid_max", k.bid_max)?;
        positive_count("market.vm_capacity", k.vm_capacity)?;
        non_negative("market.marginal_cost_growth", k.marginal_cost_growth)?;

        let r = &self.reward;
        non_negative("reward.budget_weight", r.budget_weight)?;
        non_negative("reward.latency_weight", r.latency_weight)?;

        crate::agents::BidderKind::parse(&self.agents.bidder)
            .map_err(|e| Error::config("agents.bidder", e))?;

        let t = &self.train;
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
    if !section.contains_key(parts[1]) {
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

fn finite(key: &str, v: f64) -> Result<()> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(Error::config(
            key,
            format!("{} is not a finite number", Short(v)),
        ))
    }
}

fn positive(key: &str, v: f64) -> Result<()> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(Error::config(
            key,
            format!("{} is out of range; expected a finite number > 0", Short(v)),
        ))
    }
}

fn non_negative(key: &str, v: f64) -> Result<()> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(Error::config(
            key,
            format!(
                "{} is out of range; expected a finite number >= 0",
                Short(v)
            ),
        ))
    }
}

fn probability(key: &str, v: f64) -> Result<()> {
    if (0.0..=1.0).contains(&v) {
        Ok(())
    } else {
        Err(Error::config(
            key,
            format!(
                "{} is out of range; expected a probability in [0, 1]",
                Short(v)
            ),
        ))
    }
}

fn positive_count(key: &str, v: usize) -> Result<()> {
    if v > 0 {
        Ok(())
    } else {
        Err(Error::config(
            key,
            "0 is out of range; expected an integer >= 1",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ov(k: &str, v: &str) -> Vec<(String, String)> {
        vec![(k.to_string(), v.to_string())]
    }

    #[test]
    fn paper_toml_is_the_default() {
        assert_eq!(
            Scenario::from_toml(PAPER_TOML, &[]).unwrap(),
            Scenario::default()
        );
    }

    #[test]
    fn overrides_apply_and_round_trip() {
        let s = Scenario::from_toml("", &ov("market.bid_max", "1.5")).unwrap();
        assert_eq!(s.market.bid_max, 1.5);
        let s = Scenario::from_toml("", &ov("agents.bidder", "random")).unwrap();
        assert_eq!(s.agents.bidder, "random");
        let s = Scenario::from_toml("", &ov("scenario.vehicles", "20")).unwrap();
        assert_eq!(s.scenario.vehicles, 20);
        assert_eq!(Scenario::from_toml(&s.to_toml(), &[]).unwrap(), s);
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
