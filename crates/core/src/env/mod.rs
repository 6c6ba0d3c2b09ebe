//! The multi-agent environment: one IoV market simulation with PettingZoo-parallel semantics.
//!
//! [`IovEnv`] runs the slot loop of DESIGN.md §1.1. `reset(seed)` places the vehicles and prepares
//! slot 1; `step(actions)` clears every RSU's market with the given bids, computes the metrics and
//! the shared reward, then moves to the next slot (mobility, channel, arrivals, VM powers and
//! fading) so that [`IovEnv::observe`] and [`IovEnv::state`] describe the next decision.
//! Observations are computed on demand into caller-owned flat `f32` buffers, so a simulation with
//! fixed bidders never pays for them.
//!
//! The rooms: the per-vehicle phases and radio draws (`phases.rs`), the per-RSU market
//! (`market.rs`), observations and their [`ObservationLayout`] (`observation.rs`) and the
//! vectorised [`VecEnv`] (`vec.rs`).
//!
//! ## Invariants
//! - Same scenario and seed → bit-identical trajectories, whatever the thread count: every
//!   random draw comes from a stream named by (component, slot, RSU or vehicle chunk).
//! - [`StepOutcome::reward`] is the shared reward R(t) of (6); what each agent learns from is
//!   [`MultiAgentEnv::rewards`]: R(t) for every agent (`reward.kind = "shared"`, cooperative
//!   MAPPO) or each buyer's own utility (`"individual"`, DESIGN.md §1.7).
//! - Common random numbers (DESIGN.md §2.2): no random draw depends on anyone's bid. Arrivals
//!   and sizes are drawn per (slot, vehicle chunk) for every vehicle whatever its state, block
//!   fading per (slot, vehicle), the order book's tie keys are hashed from the order id, so one
//!   vehicle's deviation changes the market only through its bid.
//!
//! ## Performance
//! Per slot O(V + N·M + Σ_n b_n log b_n). From [`crate::par::PARALLEL_FROM`] vehicles on, the
//! per-vehicle phases (mobility, association, shadowing, arrivals; chunks of [`crate::par::CHUNK`]
//! vehicles) and the per-RSU phases (radio draws, clearing) run in parallel (rayon); small
//! scenarios such as the paper's stay on the calling thread, where rayon would cost more than the
//! work. Still serial: building each market's member list, request ageing and gathering the
//! trades, all O(V) passes of a few operations per vehicle. `configs/city.toml` (100 000
//! vehicles, 1024 RSUs) takes about 30–40 ms per slot on one core and about 21 ms on two
//! (`env_step/city100k`). Observations are the memory hazard at that scale: `observe` writes
//! V × (2N + 5) floats with the extended observation, 821 MB for the city preset.

mod market;
mod observation;
mod phases;
mod vec;

pub use observation::{
    ObservationLayout, STATE_BUYER_SHARE, STATE_LAST_PRICE, STATE_MAX_VALUATION, STATE_MEAN_ASK,
    STATE_MEAN_VALUATION, STATE_PER_RSU, STATE_SELLER_SHARE,
};
pub use phases::{seller_valuation, unit_cost};
pub use vec::VecEnv;

use rayon::prelude::*;

use crate::agents::{ActionKind, BidMapping, Bidder, BidderView};
use crate::channel::LinkBudget;
use crate::error::{Error, Result};
use crate::market::MechanismKind;
use crate::metrics::{add_individual_utilities, RewardKind, SlotMetrics, TradeRecord};
use crate::mobility::{self, Mobility, Positions};
use crate::par;
use crate::rng::{stream, ChaCha8Rng, Stream};
use crate::rsu::{RsuLayout, NO_RSU};
use crate::workload::{Requests, SizeTable};
use crate::Scenario;
use market::{clear_market, ClearContext, Market};

/// The environment interface the learner programs against (PettingZoo parallel semantics over
/// flat buffers).
pub trait MultiAgentEnv: Send {
    /// Number of agents (fixed for the episode).
    fn num_agents(&self) -> usize;
    /// Length of one agent's observation.
    fn obs_dim(&self) -> usize;
    /// Length of the global state.
    fn state_dim(&self) -> usize;
    /// Slots per episode.
    fn episode_slots(&self) -> usize;
    /// Starts an episode.
    ///
    /// # Errors
    /// Input errors of the mobility model.
    fn reset(&mut self, seed: u64) -> Result<()>;
    /// Writes all observations, agent-major (`num_agents × obs_dim`).
    ///
    /// # Errors
    /// [`Error::Shape`] for a buffer of another length.
    fn observe(&self, out: &mut [f32]) -> Result<()>;
    /// Writes the global state (`state_dim`).
    ///
    /// # Errors
    /// [`Error::Shape`] for a buffer of another length.
    fn state(&self, out: &mut [f32]) -> Result<()>;
    /// Writes 1 for agents whose action matters this slot (pending request, in range), else 0.
    ///
    /// # Errors
    /// [`Error::Shape`] for a buffer of another length than `num_agents`.
    fn active(&self, out: &mut [f32]) -> Result<()>;
    /// Plays one slot.
    ///
    /// # Errors
    /// Wrong action count, non-finite actions, or a finished episode.
    fn step(&mut self, actions: &[f32]) -> Result<StepOutcome>;
    /// Writes each agent's reward of the last slot (`num_agents` values; zeros before the first
    /// step): the shared R(t) for every agent, or each agent's own reward when rewards are
    /// individual.
    ///
    /// # Errors
    /// [`Error::Shape`] for a buffer of another length than `num_agents`.
    fn rewards(&self, out: &mut [f64]) -> Result<()>;
}

/// What one slot returns.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepOutcome {
    /// The shared reward R(t).
    pub reward: f64,
    /// Whether the episode ended (truncation at T).
    pub truncated: bool,
    /// The slot's metrics (the infos).
    pub metrics: SlotMetrics,
}

/// One IoV market simulation.
#[derive(Debug)]
pub struct IovEnv {
    scenario: Scenario,
    layout: ObservationLayout,
    bids: BidMapping,
    mobility: Box<dyn Mobility>,
    sizes: SizeTable,
    link: LinkBudget,
    rsus: RsuLayout,
    seed: u64,
    slot: u64,
    positions: Positions,
    serving: Vec<u32>,
    distance_m: Vec<f64>,
    /// Index of the vehicle in its RSU's member list.
    member_index: Vec<u32>,
    shadow_db: Vec<f64>,
    shadow_rsu: Vec<u32>,
    requests: Requests,
    markets: Vec<Market>,
    records: Vec<TradeRecord>,
    last: SlotMetrics,
    /// Every vehicle's bid of the current step (scratch, reused).
    bid_buf: Vec<f64>,
}

impl IovEnv {
    /// An env for `scenario` (validated when it was built), not yet reset.
    ///
    /// # Errors
    /// An unreadable size trace or mobility trace; [`Error::Config`] on `scenario.max_memory_gb`
    /// when the scenario's estimated memory exceeds the limit of [`crate::memory::check`];
    /// [`Error::Config`] for `market.bid_max` when
    /// it is below the largest valuation of the size table (a truthful bid would be capped, so
    /// `truthful` would silently stop being truthful).
    pub fn new(scenario: Scenario) -> Result<Self> {
        // Before any per-vehicle or per-RSU allocation (issue 15: 1e9 vehicles aborted).
        crate::memory::check(
            &scenario,
            crate::memory::simulation_bytes(&scenario),
            "one simulation",
        )?;
        let mobility = mobility::build(&scenario.scenario, &scenario.mobility)?;
        let sizes = SizeTable::from_config(&scenario.workload)?;
        let (bid_max, max_valuation) = (scenario.market.bid_max, sizes.max_valuation());
        if max_valuation > bid_max {
            let table = match scenario.workload.size_trace.as_str() {
                "" => "the MeQSum size table".to_string(),
                path => format!("workload.size_trace `{path}`"),
            };
            return Err(Error::config(
                "market.bid_max",
                format!(
                    "{bid_max} is below the largest valuation {max_valuation:.4} of {table}; \
                     raise market.bid_max to at least {max_valuation:.4}"
                ),
            ));
        }
        let link = LinkBudget::new(&scenario.channel);
        let rsus = RsuLayout::new(&scenario.scenario);
        let layout = ObservationLayout::new(&scenario, sizes.max_valuation());
        let bids = BidMapping::new(scenario.market.bid_max, scenario.agents.bid_scale);
        let v = scenario.scenario.vehicles;
        let n = rsus.len();
        let seed = scenario.scenario.seed;
        Ok(Self {
            layout,
            bids,
            mobility,
            sizes,
            link,
            rsus,
            seed,
            slot: 0,
            positions: Positions::new(v),
            serving: vec![NO_RSU; v],
            distance_m: vec![0.0; v],
            member_index: vec![0; v],
            shadow_db: vec![0.0; v],
            shadow_rsu: vec![NO_RSU; v],
            requests: Requests::new(v),
            markets: vec![Market::default(); n],
            records: Vec::new(),
            last: SlotMetrics::default(),
            bid_buf: Vec::new(),
            scenario,
        })
    }

    /// The scenario.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// Named offsets and bounds of the observation and state vectors.
    pub fn layout(&self) -> &ObservationLayout {
        &self.layout
    }

    /// The action → bid mapping.
    pub fn bid_mapping(&self) -> BidMapping {
        self.bids
    }

    /// The mechanism clearing every market.
    pub fn mechanism(&self) -> &MechanismKind {
        &self.scenario.market.mechanism
    }

    /// Pending requests (valuations, sizes, waiting times).
    pub fn requests(&self) -> &Requests {
        &self.requests
    }

    /// Vehicle positions.
    pub fn positions(&self) -> &Positions {
        &self.positions
    }

    /// Serving RSU of each vehicle ([`NO_RSU`] if none).
    pub fn serving(&self) -> &[u32] {
        &self.serving
    }

    /// RSU positions and coverage.
    pub fn rsus(&self) -> &RsuLayout {
        &self.rsus
    }

    /// The mobility model (for its road geometry).
    pub fn mobility(&self) -> &dyn Mobility {
        self.mobility.as_ref()
    }

    /// Trades of the last slot.
    pub fn last_trades(&self) -> &[TradeRecord] {
        &self.records
    }

    /// Metrics of the last slot.
    pub fn last_metrics(&self) -> &SlotMetrics {
        &self.last
    }

    /// Last clearing price of each RSU's market (mean buyer payment of its last slot with trades).
    pub fn clearing_prices(&self) -> Vec<f64> {
        self.markets.iter().map(|m| m.last_price).collect()
    }

    /// Slots played in this episode.
    pub fn slot(&self) -> u64 {
        self.slot
    }

    /// The run seed of the current episode.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Whether the episode has ended.
    pub fn is_done(&self) -> bool {
        self.slot as usize >= self.scenario.scenario.episode_slots
    }

    /// The random stream a non-learned bidder should use for the coming slot.
    pub fn bidder_stream(&self) -> ChaCha8Rng {
        stream(self.seed, Stream::Bidders, self.slot + 1, 0)
    }

    /// What a bidder sees of the coming slot.
    pub fn bidder_view(&self) -> BidderView<'_> {
        BidderView {
            valuations: &self.requests.value,
            pending: &self.requests.pending,
            sizes: &self.requests.size,
            latency_weight: self.scenario.reward.latency_weight,
            bids: self.bids,
            source: self,
        }
    }

    /// The actions `bidder` takes in the coming slot, written to `actions` (resized to the
    /// number of agents), drawn from [`IovEnv::bidder_stream`].
    ///
    /// # Errors
    /// As [`Bidder::act`].
    pub fn bidder_actions(&self, bidder: &mut dyn Bidder, actions: &mut Vec<f32>) -> Result<()> {
        actions.resize(self.num_vehicles(), 0.0);
        let mut rng = self.bidder_stream();
        bidder.act(&self.bidder_view(), &mut rng, actions)
    }

    /// Plays one slot with `bidder`.
    ///
    /// # Errors
    /// As [`MultiAgentEnv::step`].
    pub fn step_with(
        &mut self,
        bidder: &mut dyn Bidder,
        actions: &mut Vec<f32>,
    ) -> Result<StepOutcome> {
        self.bidder_actions(bidder, actions)?;
        let kind = bidder.action_kind(self.scenario.agents.action);
        self.step_as(actions, kind)
    }

    /// Every vehicle's bid in the last step (0 for a vehicle that sat out; empty before the
    /// first step). A bid counts only for a vehicle with a pending request in coverage.
    pub fn last_bids(&self) -> &[f64] {
        &self.bid_buf
    }

    /// Steps with explicit bids, one per vehicle (≥ 0; capped at `market.bid_max` like every
    /// bid): for callers that set bids directly, such as best-response searches.
    ///
    /// # Errors
    /// As [`MultiAgentEnv::step`]; a negative or non-finite bid is [`Error::InvalidBid`].
    pub fn step_bids(&mut self, bids: &[f64]) -> Result<StepOutcome> {
        self.check_step(bids.len(), "bids")?;
        if let Some((index, &value)) = bids
            .iter()
            .enumerate()
            .find(|(_, b)| !(b.is_finite() && **b >= 0.0))
        {
            return Err(Error::InvalidBid { index, value });
        }
        let bid_max = self.scenario.market.bid_max;
        let mut buf = std::mem::take(&mut self.bid_buf);
        buf.clear();
        buf.extend(bids.iter().map(|b| b.min(bid_max)));
        let out = self.clear_with(&buf);
        self.bid_buf = buf;
        out
    }

    /// [`MultiAgentEnv::step`] with actions of `kind`: each action is clamped into [0, 1] and
    /// mapped to its bid ([`BidMapping`]).
    fn step_as(&mut self, actions: &[f32], kind: ActionKind) -> Result<StepOutcome> {
        self.check_step(actions.len(), "actions")?;
        if let Some((index, &value)) = actions.iter().enumerate().find(|(_, a)| !a.is_finite()) {
            return Err(Error::InvalidAction { index, value });
        }
        let mut buf = std::mem::take(&mut self.bid_buf);
        buf.clear();
        buf.extend(
            actions
                .iter()
                .zip(&self.requests.value)
                .map(|(&a, &u)| self.bids.bid(kind, BidMapping::clamp(a).0, u)),
        );
        let out = self.clear_with(&buf);
        self.bid_buf = buf;
        let mut out = out?;
        let clamped = actions.iter().filter(|&&a| BidMapping::clamp(a).1).count();
        self.last.clamped_actions = clamped;
        out.metrics.clamped_actions = clamped;
        Ok(out)
    }

    /// An episode still running and `len` values, one per vehicle, for the coming step.
    fn check_step(&self, len: usize, what: &'static str) -> Result<()> {
        if self.is_done() {
            return Err(Error::EpisodeOver {
                slot: self.slot,
                slots: self.episode_slots(),
            });
        }
        let expected = self.num_vehicles();
        if len != expected {
            return Err(Error::Shape {
                what,
                expected,
                got: len,
            });
        }
        Ok(())
    }

    fn num_vehicles(&self) -> usize {
        self.scenario.scenario.vehicles
    }
}

impl MultiAgentEnv for IovEnv {
    fn num_agents(&self) -> usize {
        self.num_vehicles()
    }

    fn obs_dim(&self) -> usize {
        self.layout.obs_dim()
    }

    fn state_dim(&self) -> usize {
        self.layout.state_dim()
    }

    fn episode_slots(&self) -> usize {
        self.scenario.scenario.episode_slots
    }

    fn reset(&mut self, seed: u64) -> Result<()> {
        self.seed = seed;
        self.slot = 0;
        self.mobility.reset(seed, &mut self.positions)?;
        self.requests = Requests::new(self.positions.len());
        self.shadow_rsu.fill(NO_RSU);
        self.records.clear();
        self.last = SlotMetrics::default();
        self.reset_markets(seed);
        self.prepare(1);
        Ok(())
    }

    fn observe(&self, out: &mut [f32]) -> Result<()> {
        self.write_observations(out)
    }

    fn state(&self, out: &mut [f32]) -> Result<()> {
        self.write_state(out)
    }

    fn active(&self, out: &mut [f32]) -> Result<()> {
        self.write_active(out)
    }

    fn step(&mut self, actions: &[f32]) -> Result<StepOutcome> {
        self.step_as(actions, self.scenario.agents.action)
    }

    fn rewards(&self, out: &mut [f64]) -> Result<()> {
        let expected = self.num_vehicles();
        if out.len() != expected {
            return Err(Error::Shape {
                what: "rewards",
                expected,
                got: out.len(),
            });
        }
        let cfg = &self.scenario.reward;
        match cfg.kind {
            RewardKind::Shared => out.fill(self.last.reward),
            RewardKind::Individual => {
                out.fill(0.0);
                add_individual_utilities(&self.records, cfg, out);
            }
        }
        Ok(())
    }
}

impl IovEnv {
    /// Clears every market with `bids` (one per vehicle, in [0, `bid_max`]), computes the slot's
    /// metrics and moves to the next slot.
    fn clear_with(&mut self, bids: &[f64]) -> Result<StepOutcome> {
        let n_veh = self.num_vehicles();
        let t = self.slot + 1;
        let seed = self.seed;
        let ctx = ClearContext {
            mechanism: &self.scenario.market.mechanism,
            link: &self.link,
            requests: &self.requests,
            bids,
            capacity: self.scenario.market.vm_capacity,
            coherence_ms: self.scenario.channel.coherence_ms,
            latency_cap_ms: self.scenario.channel.latency_cap_ms,
            seed,
            slot: t,
        };
        let clear = |(r, m): (usize, &mut Market)| {
            let mut rng = stream(seed, Stream::Market, t, r as u64);
            clear_market(r, m, &ctx, &mut rng);
        };
        if par::parallel(n_veh) {
            self.markets.par_iter_mut().enumerate().for_each(clear);
        } else {
            self.markets.iter_mut().enumerate().for_each(clear);
        }
        self.records.clear();
        let (mut buyers, mut sellers) = (0, 0);
        for m in &self.markets {
            self.records.extend_from_slice(&m.records);
            buyers += m.buyers;
            if !m.members.is_empty() {
                sellers += m.power_w.len();
            }
        }
        for rec in &self.records {
            self.requests.serve(rec.vehicle as usize);
        }
        let dropped = self.requests.age(self.scenario.workload.request_ttl as u32);
        self.last = SlotMetrics::from_trades(
            t,
            &self.records,
            buyers,
            sellers,
            dropped,
            &self.scenario.reward,
        );
        self.slot = t;
        let truncated = self.is_done();
        if !truncated {
            self.mobility.step(seed, t + 1, &mut self.positions)?;
            self.prepare(t + 1);
        }
        Ok(StepOutcome {
            reward: self.last.reward,
            truncated,
            metrics: self.last,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::{ObservationKind, RandomBidder, TruthfulBidder};

    fn run_episode(scenario: &Scenario, seed: u64, bidder: &mut dyn Bidder) -> Vec<SlotMetrics> {
        let mut env = IovEnv::new(scenario.clone()).unwrap();
        env.reset(seed).unwrap();
        let mut actions = Vec::new();
        let mut out = Vec::new();
        loop {
            let o = env.step_with(bidder, &mut actions).unwrap();
            out.push(o.metrics);
            if o.truncated {
                return out;
            }
        }
    }

    #[test]
    fn same_seed_is_bit_identical_and_seeds_differ() {
        let s = Scenario::default();
        let a = run_episode(&s, 3, &mut TruthfulBidder);
        let b = run_episode(&s, 3, &mut TruthfulBidder);
        let c = run_episode(&s, 4, &mut TruthfulBidder);
        assert_eq!(a.len(), 100);
        let bits = |m: &[SlotMetrics]| {
            m.iter()
                .map(|x| (x.reward.to_bits(), x.trades, x.dropped))
                .collect::<Vec<_>>()
        };
        assert_eq!(bits(&a), bits(&b));
        assert_ne!(bits(&a), bits(&c));
        let r = run_episode(&s, 3, &mut RandomBidder);
        assert_ne!(bits(&a), bits(&r));
    }

    #[test]
    fn markets_trade_and_stay_individually_rational() {
        let s = Scenario::default();
        let m = run_episode(&s, 1, &mut TruthfulBidder);
        let trades: usize = m.iter().map(|x| x.trades).sum();
        assert!(trades > 50, "only {trades} trades in an episode");
        assert!(m.iter().all(|x| x.ir_violations == 0));
        assert!(
            m.iter().all(|x| x.budget >= -1e-9),
            "McAfee is weakly budget balanced"
        );
        assert!(
            m.iter().all(|x| x.welfare_gains >= -1e-9),
            "truthful McAfee trades only gains"
        );
    }

    #[test]
    fn observation_and_state_shapes_and_contents() {
        for (kind, dim) in [(ObservationKind::Paper, 6), (ObservationKind::Extended, 13)] {
            let mut s = Scenario::default();
            s.agents.observation = kind;
            let mut env = IovEnv::new(s).unwrap();
            env.reset(0).unwrap();
            assert_eq!(env.obs_dim(), dim);
            let mut obs = vec![f32::NAN; 80 * dim];
            env.observe(&mut obs).unwrap();
            assert!(obs.iter().all(|x| x.is_finite()));
            // Market shares sum to one.
            let shares: f32 = obs[..4].iter().sum();
            assert!((shares - 1.0).abs() < 1e-5);
            if kind == ObservationKind::Extended {
                for v in 0..80 {
                    let o = &obs[v * dim..(v + 1) * dim];
                    assert_eq!(o[7] == 1.0, env.requests().pending[v]);
                    assert_eq!(o[6], env.requests().value[v] as f32);
                    let hot: f32 = o[9..13].iter().sum();
                    assert_eq!(hot, (env.serving()[v] != NO_RSU) as u8 as f32);
                }
            }
            let mut st = vec![f32::NAN; env.state_dim()];
            env.state(&mut st).unwrap();
            assert_eq!(st.len(), 25);
            assert!(st.iter().all(|x| x.is_finite()));
        }
    }

    #[test]
    fn bad_actions_are_errors_not_panics() {
        let mut env = IovEnv::new(Scenario::default()).unwrap();
        env.reset(0).unwrap();
        assert!(matches!(env.step(&[0.5; 3]), Err(Error::Shape { .. })));
        let mut a = vec![0.5; 80];
        a[7] = f32::NAN;
        assert!(matches!(
            env.step(&a),
            Err(Error::InvalidAction { index: 7, .. })
        ));
    }

    #[test]
    fn vec_env_matches_single_envs() {
        let s = Scenario::default();
        let mut ve = VecEnv::new(&s, 3).unwrap();
        ve.reset(&[5, 6, 7]).unwrap();
        let mut single = IovEnv::new(s.clone()).unwrap();
        single.reset(6).unwrap();
        let actions: Vec<f32> = (0..240).map(|i| (i % 7) as f32 / 7.0).collect();
        for _ in 0..10 {
            let outs = ve.step(&actions).unwrap();
            let o = single.step(&actions[80..160]).unwrap();
            assert_eq!(outs[1].reward.to_bits(), o.reward.to_bits());
        }
    }

    /// Regression (issue 10): state feature 1 was VMs / M, always 1.0.
    #[test]
    fn state_carries_the_seller_share_of_each_market() {
        let mut env = IovEnv::new(Scenario::default()).unwrap();
        env.reset(2).unwrap();
        let mut st = vec![0.0; env.state_dim()];
        env.state(&mut st).unwrap();
        let l = *env.layout();
        let mut below_one = 0;
        for (r, m) in env.markets.iter().enumerate() {
            let share = st[l.state_of(r, STATE_SELLER_SHARE)];
            let want = 5.0 / (m.pending as f64 + 5.0);
            assert_eq!(share, want as f32);
            below_one += (share < 1.0) as usize;
        }
        assert!(below_one > 0, "some market has buyers at reset");
    }

    /// Out-of-range actions are clamped (by `BidMapping::clamp`) and counted in the infos.
    #[test]
    fn clamped_actions_are_counted() {
        let mut env = IovEnv::new(Scenario::default()).unwrap();
        env.reset(0).unwrap();
        let mut a = vec![0.5f32; 80];
        a[3] = 1.5;
        a[9] = -0.25;
        let clamped = env.step(&a).unwrap().metrics.clamped_actions;
        assert_eq!(clamped, 2);
        assert_eq!(env.step(&[1.0; 80]).unwrap().metrics.clamped_actions, 0);
    }

    /// Regression (issue 10): buffers of the wrong length were filled partly, silently.
    #[test]
    fn buffers_of_the_wrong_length_are_errors() {
        let mut env = IovEnv::new(Scenario::default()).unwrap();
        env.reset(0).unwrap();
        let shape = |r: Result<()>| matches!(r, Err(Error::Shape { .. }));
        assert!(shape(env.observe(&mut vec![0.0; 80 * 13 - 1])));
        assert!(shape(env.observe(&mut vec![0.0; 80 * 13 + 13])));
        assert!(shape(env.state(&mut [0.0; 24])));
        assert!(shape(env.active(&mut vec![0.0; 81])));
        let ve = VecEnv::new(&Scenario::default(), 2).unwrap();
        assert!(shape(ve.observe(&mut vec![0.0; 80 * 13])));
        assert!(shape(ve.state(&mut [0.0; 25])));
        assert!(shape(ve.active(&mut vec![0.0; 161])));
        assert!(ve.active(&mut vec![0.0; 160]).is_ok());
    }

    /// Regression (issue 10): a size trace with valuations above `bid_max` made `truthful`
    /// bids silently capped.
    #[test]
    fn bid_max_below_the_largest_valuation_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sizes.csv");
        std::fs::write(&path, "100\n5000\n").unwrap();
        let overrides = [("workload.size_trace".to_string(), format!("{path:?}"))];
        let s = Scenario::from_toml("", &overrides).unwrap();
        let e = IovEnv::new(s.clone()).unwrap_err().to_string();
        assert!(e.contains("market.bid_max") && e.contains("1.2"), "{e}");
        assert!(e.contains("1.7918") && e.contains("sizes.csv"), "{e}");
        let mut ok = s;
        ok.market.bid_max = 1.8;
        assert!(IovEnv::new(ok).is_ok());
    }

    #[test]
    fn the_layout_names_every_offset_once() {
        let env = IovEnv::new(Scenario::default()).unwrap();
        let l = env.layout();
        let mut seen = vec![0; l.obs_dim()];
        let mut mark = |i: usize| seen[i] += 1;
        l.shares().for_each(&mut mark);
        mark(l.price());
        mark(l.rate());
        mark(l.valuation().unwrap());
        mark(l.has_request().unwrap());
        mark(l.waited().unwrap());
        l.rsu_one_hot().unwrap().for_each(&mut mark);
        assert!(seen.iter().all(|&c| c == 1), "{seen:?}");
        assert_eq!(l.slot_fraction() + 1, l.state_dim());
        let high = l.observation_high();
        assert!((high[l.valuation().unwrap()] - 1.0949).abs() < 1e-3);
        assert_eq!(high[l.price()], 1.2);
    }
}
