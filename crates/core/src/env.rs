//! The multi-agent environment: one IoV market simulation with PettingZoo-parallel semantics.
//!
//! [`IovEnv`] runs the slot loop of DESIGN.md §1.1. `reset(seed)` places the vehicles and prepares
//! slot 1; `step(actions)` clears every RSU's market with the given bids, computes the metrics and
//! the shared reward, then moves to the next slot (mobility, channel, arrivals, VM powers and
//! fading) so that [`IovEnv::observe`] and [`IovEnv::state`] describe the next decision.
//! Observations are computed on demand into caller-owned flat `f32` buffers, so a simulation with
//! fixed bidders never pays for them.
//!
//! ## Invariants
//! - Same scenario and seed → bit-identical trajectories, whatever the thread count: every
//!   random draw comes from a stream named by (component, slot, RSU or vehicle chunk).
//! - The reward is shared by all agents (cooperative MAPPO).
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

use rand::Rng;
use rayon::prelude::*;

use crate::agents::Bidder;
use crate::channel::{gudmundson_step, rayleigh_power, LinkBudget};
use crate::config::{ObservationKind, PowerResample, Scenario};
use crate::error::{Error, Result};
use crate::market::{Mechanism, MechanismKind, OrderBook, Trade};
use crate::metrics::{transfer_latency_ms, SlotMetrics, TradeRecord};
use crate::mobility::{self, Mobility, Positions};
use crate::par::{self, CHUNK};
use crate::rng::{stream, ChaCha8Rng, Stream};
use crate::rsu::{RsuLayout, NO_RSU};
use crate::workload::{Requests, RequestsChunk, SizeTable};
use rand_distr::StandardNormal;

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
    fn observe(&self, out: &mut [f32]);
    /// Writes the global state (`state_dim`).
    fn state(&self, out: &mut [f32]);
    /// Writes 1 for agents whose action matters this slot (pending request, in range), else 0.
    fn active(&self, out: &mut [f32]);
    /// Plays one slot.
    ///
    /// # Errors
    /// Wrong action count, non-finite actions, or a finished episode.
    fn step(&mut self, actions: &[f32]) -> Result<StepOutcome>;
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

/// One RSU's market and radio state.
#[derive(Debug, Clone, Default)]
struct Market {
    /// Vehicles associated to this RSU, in vehicle order.
    members: Vec<u32>,
    /// Members with a pending request.
    pending: usize,
    /// VM transmit powers in W.
    power_w: Vec<f64>,
    /// One ask per VM unit: index = vm · capacity + unit.
    asks: Vec<f64>,
    /// Link gain of each member (path loss and shadowing folded in, [`LinkBudget::link_gain`]).
    gain: Vec<f64>,
    /// Fast-fading power of each VM → member link: `fading[i · M + m]`. Rates are computed from
    /// it only where they are used (traded links, observations), not for every link.
    fading: Vec<f64>,
    /// Price buyers paid in the last slot with trades (mean), 0 before any trade.
    last_price: f64,
    book: OrderBook,
    trades: Vec<Trade>,
    records: Vec<TradeRecord>,
    buyers: usize,
}

/// One IoV market simulation.
#[derive(Debug)]
pub struct IovEnv {
    scenario: Scenario,
    mechanism: MechanismKind,
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
}

impl IovEnv {
    /// An env for `scenario` (validated again here), not yet reset.
    ///
    /// # Errors
    /// Config errors; an unreadable size trace or mobility trace.
    pub fn new(scenario: Scenario) -> Result<Self> {
        scenario.validate()?;
        // Before any per-vehicle or per-RSU allocation (issue 15: 1e9 vehicles aborted).
        crate::memory::check(
            &scenario,
            crate::memory::simulation_bytes(&scenario),
            "one simulation",
        )?;
        let mechanism = MechanismKind::from_config(&scenario.market)
            .map_err(|e| Error::config("market.mechanism", e))?;
        let mobility = mobility::build(&scenario)?;
        let sizes = SizeTable::from_config(&scenario.workload)?;
        let link = LinkBudget::new(&scenario.channel);
        let rsus = RsuLayout::new(&scenario);
        let v = scenario.scenario.vehicles;
        let n = rsus.len();
        let seed = scenario.scenario.seed;
        Ok(Self {
            mechanism,
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
            scenario,
        })
    }

    /// The scenario.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// The mechanism clearing every market.
    pub fn mechanism(&self) -> &MechanismKind {
        &self.mechanism
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

    /// Plays one slot with `bidder`.
    ///
    /// # Errors
    /// As [`MultiAgentEnv::step`].
    pub fn step_with(
        &mut self,
        bidder: &mut dyn Bidder,
        actions: &mut Vec<f32>,
    ) -> Result<StepOutcome> {
        actions.resize(self.num_agents(), 0.0);
        let mut rng = self.bidder_stream();
        bidder.act(self, &mut rng, actions);
        self.step(actions)
    }

    fn n_rsus(&self) -> usize {
        self.rsus.len()
    }

    /// Slot `t` begins: association, shadowing, arrivals, VM powers, asks and fading.
    fn prepare(&mut self, t: u64) {
        let n_veh = self.positions.len();
        let parallel = par::parallel(n_veh);
        // (3b) association, M3 shadowing of the serving pair and M5 arrivals, per vehicle chunk,
        // each chunk with its own streams.
        let ctx = VehicleContext {
            rsus: &self.rsus,
            positions: &self.positions,
            sizes: &self.sizes,
            decorrelation_m: self.scenario.channel.decorrelation_m,
            shadowing_std_db: self.scenario.channel.shadowing_std_db,
            request_prob: self.scenario.workload.request_prob,
            seed: self.seed,
            slot: t,
        };
        let chunks: Vec<VehicleChunk<'_>> = self
            .serving
            .chunks_mut(CHUNK)
            .zip(self.distance_m.chunks_mut(CHUNK))
            .zip(self.shadow_db.chunks_mut(CHUNK))
            .zip(self.shadow_rsu.chunks_mut(CHUNK))
            .zip(self.requests.chunks_mut(CHUNK))
            .map(
                |((((serving, distance_m), shadow_db), shadow_rsu), requests)| VehicleChunk {
                    serving,
                    distance_m,
                    shadow_db,
                    shadow_rsu,
                    requests,
                },
            )
            .collect();
        par::for_each_indexed(chunks, parallel, |k, mut c| ctx.prepare_chunk(k, &mut c));
        // Members of each market.
        for m in &mut self.markets {
            m.members.clear();
            m.pending = 0;
        }
        for v in 0..n_veh {
            let r = self.serving[v];
            if r != NO_RSU {
                let m = &mut self.markets[r as usize];
                self.member_index[v] = m.members.len() as u32;
                m.members.push(v as u32);
                m.pending += self.requests.pending[v] as usize;
            }
        }
        // VM powers, asks and fast fading, one stream per (slot, RSU).
        let seed = self.seed;
        let per_slot = self.scenario.market.vm_power_resample == PowerResample::PerSlot;
        let ctx = RadioContext {
            link: &self.link,
            distance_m: &self.distance_m,
            shadow_db: &self.shadow_db,
            scenario: &self.scenario,
        };
        let radio = |(r, m): (usize, &mut Market)| {
            let mut rng = stream(seed, Stream::Radio, t, r as u64);
            if per_slot {
                draw_powers(m, &ctx, &mut rng);
            }
            draw_links(m, &ctx, &mut rng);
        };
        if parallel {
            self.markets.par_iter_mut().enumerate().for_each(radio);
        } else {
            self.markets.iter_mut().enumerate().for_each(radio);
        }
    }

    fn observation_layout(&self) -> (usize, bool) {
        let n = self.n_rsus();
        match self.scenario.agents.observation {
            ObservationKind::Paper => (n + 2, false),
            ObservationKind::Extended => (2 * n + 5, true),
        }
    }

    /// Mean rate (bit/s) from vehicle `v`'s RSU's VMs to `v`, 0 if unserved.
    fn mean_rate(&self, v: usize) -> f64 {
        let r = self.serving[v];
        if r == NO_RSU {
            return 0.0;
        }
        let m = &self.markets[r as usize];
        let i = self.member_index[v] as usize;
        let vms = m.power_w.len();
        (0..vms).map(|k| m.rate(&self.link, i, k)).sum::<f64>() / vms as f64
    }
}

impl Market {
    /// Rate (bit/s) from VM `vm` to the member at index `i` (§1.4).
    #[inline]
    fn rate(&self, link: &LinkBudget, i: usize, vm: usize) -> f64 {
        let vms = self.power_w.len();
        link.rate(self.power_w[vm], self.gain[i], self.fading[i * vms + vm])
    }
}

/// Read-only inputs of the per-vehicle phases of a slot.
struct VehicleContext<'a> {
    rsus: &'a RsuLayout,
    positions: &'a Positions,
    sizes: &'a SizeTable,
    decorrelation_m: f64,
    shadowing_std_db: f64,
    request_prob: f64,
    seed: u64,
    slot: u64,
}

/// Per-vehicle state of one chunk of [`CHUNK`] vehicles.
struct VehicleChunk<'a> {
    serving: &'a mut [u32],
    distance_m: &'a mut [f64],
    shadow_db: &'a mut [f64],
    shadow_rsu: &'a mut [u32],
    requests: RequestsChunk<'a>,
}

impl VehicleContext<'_> {
    /// Association (3b), shadowing (M3) and arrivals (M5) of chunk `k`.
    fn prepare_chunk(&self, k: usize, c: &mut VehicleChunk<'_>) {
        let range = k * CHUNK..k * CHUNK + c.serving.len();
        let p = self.positions;
        let (x, y, moved) = (
            &p.x[range.clone()],
            &p.y[range.clone()],
            &p.moved_m[range.clone()],
        );
        let active = &p.active[range];
        for (i, (serving, distance)) in c
            .serving
            .iter_mut()
            .zip(c.distance_m.iter_mut())
            .enumerate()
        {
            (*serving, *distance) = if active[i] {
                self.rsus.associate(x[i], y[i])
            } else {
                (NO_RSU, 0.0)
            };
        }
        let mut rng = stream(self.seed, Stream::Shadowing, self.slot, k as u64);
        let links = c.shadow_db.iter_mut().zip(c.shadow_rsu.iter_mut());
        for ((shadow, shadow_rsu), (&serving, &moved)) in links.zip(c.serving.iter().zip(moved)) {
            let z: f64 = rng.sample(StandardNormal);
            *shadow = if serving == *shadow_rsu {
                gudmundson_step(
                    *shadow,
                    moved,
                    self.decorrelation_m,
                    self.shadowing_std_db,
                    z,
                )
            } else {
                self.shadowing_std_db * z
            };
            *shadow_rsu = serving;
        }
        let mut rng = stream(self.seed, Stream::Requests, self.slot, k as u64);
        c.requests
            .arrive(active, self.request_prob, self.sizes, &mut rng);
    }
}

/// Read-only inputs of the per-RSU radio draws.
struct RadioContext<'a> {
    link: &'a LinkBudget,
    distance_m: &'a [f64],
    shadow_db: &'a [f64],
    scenario: &'a Scenario,
}

/// VM powers p_m ~ U(0, p_max] and the asks they imply (§1.3).
fn draw_powers(m: &mut Market, ctx: &RadioContext<'_>, rng: &mut ChaCha8Rng) {
    let s = ctx.scenario;
    let p_max = s.channel.vm_power_max_w;
    let cap = s.market.vm_capacity;
    let kappa = s.market.marginal_cost_growth;
    m.power_w.clear();
    m.asks.clear();
    for _ in 0..s.scenario.vms_per_rsu {
        // 1 − U[0, 1) lies in (0, 1]: zero power is excluded, p_max included.
        let p = p_max * (1.0 - rng.gen::<f64>());
        m.power_w.push(p);
        let u = seller_valuation(p, p_max);
        m.asks.extend((0..cap).map(|k| unit_cost(u, kappa, k)));
    }
}

/// Seller valuation of one unit: u_m = p_m / p_max (DESIGN.md §1.3, p_max = 10 W).
#[inline]
pub fn seller_valuation(power_w: f64, power_max_w: f64) -> f64 {
    power_w / power_max_w
}

/// Cost of a VM's k-th unit (0-based): u_m · (1 + κ k) (DESIGN.md §1.3).
#[inline]
pub fn unit_cost(u_m: f64, kappa: f64, k: usize) -> f64 {
    u_m * (1.0 + kappa * k as f64)
}

/// Link gains of every member and fresh Rayleigh fading on every VM → member link (M2–M4).
fn draw_links(m: &mut Market, ctx: &RadioContext<'_>, rng: &mut ChaCha8Rng) {
    m.gain.clear();
    m.fading.clear();
    let vms = m.power_w.len();
    for &v in &m.members {
        let v = v as usize;
        m.gain
            .push(ctx.link.link_gain(ctx.distance_m[v], ctx.shadow_db[v]));
        m.fading.extend((0..vms).map(|_| rayleigh_power(rng)));
    }
}

/// Read-only inputs of the per-RSU clearing.
struct ClearContext<'a> {
    mechanism: &'a MechanismKind,
    link: &'a LinkBudget,
    requests: &'a Requests,
    actions: &'a [f32],
    bid_max: f64,
    capacity: usize,
}

/// Clears one RSU's market (M7) and writes its trade records.
fn clear_market(r: usize, m: &mut Market, ctx: &ClearContext<'_>, rng: &mut ChaCha8Rng) {
    let req = ctx.requests;
    let bids = m.members.iter().filter_map(|&v| {
        let bid = ctx.actions[v as usize] as f64 * ctx.bid_max;
        (req.pending[v as usize] && bid > 0.0).then_some((v, bid))
    });
    let asks = m.asks.iter().enumerate().map(|(i, &a)| (i as u32, a));
    m.book.load(bids, asks, rng);
    m.buyers = m.book.bids().len();
    m.trades.clear();
    ctx.mechanism.clear(&m.book, rng, &mut m.trades);
    let mut records = std::mem::take(&mut m.records);
    records.clear();
    for t in &m.trades {
        let v = t.buyer as usize;
        let vm = t.seller as usize / ctx.capacity;
        let i = m
            .members
            .binary_search(&t.buyer)
            .expect("a buyer is a member of its market");
        let ask = m.asks[t.seller as usize];
        records.push(TradeRecord {
            vehicle: t.buyer,
            rsu: r as u32,
            vm: vm as u32,
            value: req.value[v],
            cost: ask,
            bid: ctx.actions[v] as f64 * ctx.bid_max,
            ask,
            buyer_pays: t.buyer_pays,
            seller_gets: t.seller_gets,
            latency_ms: transfer_latency_ms(req.size[v], m.rate(ctx.link, i, vm)),
        });
    }
    if !records.is_empty() {
        m.last_price = records.iter().map(|t| t.buyer_pays).sum::<f64>() / records.len() as f64;
    }
    m.records = records;
}

impl MultiAgentEnv for IovEnv {
    fn num_agents(&self) -> usize {
        self.scenario.scenario.vehicles
    }

    fn obs_dim(&self) -> usize {
        self.observation_layout().0
    }

    fn state_dim(&self) -> usize {
        6 * self.n_rsus() + 1
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
        let ctx = RadioContext {
            link: &self.link,
            distance_m: &self.distance_m,
            shadow_db: &self.shadow_db,
            scenario: &self.scenario,
        };
        for (r, m) in self.markets.iter_mut().enumerate() {
            m.last_price = 0.0;
            // Per-episode powers come from slot 0's radio stream; per-slot ones are redrawn.
            draw_powers(m, &ctx, &mut stream(seed, Stream::Radio, 0, r as u64));
        }
        self.prepare(1);
        Ok(())
    }

    fn observe(&self, out: &mut [f32]) {
        let (dim, extended) = self.observation_layout();
        let n = self.n_rsus();
        let vms = self.scenario.scenario.vms_per_rsu;
        let total: usize = self.markets.iter().map(|m| m.pending + vms).sum();
        let shares: Vec<f32> = self
            .markets
            .iter()
            .map(|m| ((m.pending + vms) as f64 / total as f64) as f32)
            .collect();
        let ttl = self.scenario.workload.request_ttl as f32;
        for (v, o) in out
            .chunks_exact_mut(dim)
            .enumerate()
            .take(self.num_agents())
        {
            let r = self.serving[v];
            o[..n].copy_from_slice(&shares);
            o[n] = if r == NO_RSU {
                0.0
            } else {
                self.markets[r as usize].last_price as f32
            };
            o[n + 1] = (self.mean_rate(v) / 1e6).ln_1p() as f32 * std::f32::consts::LOG2_E;
            if extended {
                o[n + 2] = self.requests.value[v] as f32;
                o[n + 3] = self.requests.pending[v] as u8 as f32;
                o[n + 4] = self.requests.waited[v] as f32 / ttl;
                let hot = &mut o[n + 5..2 * n + 5];
                hot.fill(0.0);
                if r != NO_RSU {
                    hot[r as usize] = 1.0;
                }
            }
        }
    }

    fn state(&self, out: &mut [f32]) {
        let v_total = self.num_agents().max(1) as f64;
        let vms = self.scenario.scenario.vms_per_rsu as f64;
        for (m, o) in self.markets.iter().zip(out.chunks_exact_mut(6)) {
            let (mut sum, mut max) = (0.0f64, 0.0f64);
            for &v in &m.members {
                if self.requests.pending[v as usize] {
                    let u = self.requests.value[v as usize];
                    sum += u;
                    max = max.max(u);
                }
            }
            let mean_ask = if m.asks.is_empty() {
                0.0
            } else {
                m.asks.iter().sum::<f64>() / m.asks.len() as f64
            };
            o[0] = (m.pending as f64 / v_total) as f32;
            o[1] = (m.power_w.len() as f64 / vms) as f32;
            o[2] = m.last_price as f32;
            o[3] = if m.pending == 0 {
                0.0
            } else {
                (sum / m.pending as f64) as f32
            };
            o[4] = max as f32;
            o[5] = mean_ask as f32;
        }
        let last = 6 * self.n_rsus();
        out[last] = (self.slot as f64 / self.episode_slots() as f64) as f32;
    }

    fn active(&self, out: &mut [f32]) {
        for (v, o) in out.iter_mut().enumerate().take(self.num_agents()) {
            *o = (self.requests.pending[v] && self.serving[v] != NO_RSU) as u8 as f32;
        }
    }

    fn step(&mut self, actions: &[f32]) -> Result<StepOutcome> {
        let n_veh = self.num_agents();
        if self.is_done() {
            return Err(Error::EpisodeOver {
                slot: self.slot,
                slots: self.episode_slots(),
            });
        }
        if actions.len() != n_veh {
            return Err(Error::Shape {
                what: "actions",
                expected: n_veh,
                got: actions.len(),
            });
        }
        if let Some((index, &value)) = actions.iter().enumerate().find(|(_, a)| !a.is_finite()) {
            return Err(Error::InvalidAction { index, value });
        }
        let clamped: Vec<f32>;
        let actions = if actions.iter().all(|a| (0.0..=1.0).contains(a)) {
            actions
        } else {
            clamped = actions.iter().map(|a| a.clamp(0.0, 1.0)).collect();
            &clamped
        };
        let t = self.slot + 1;
        let seed = self.seed;
        let ctx = ClearContext {
            mechanism: &self.mechanism,
            link: &self.link,
            requests: &self.requests,
            actions,
            bid_max: self.scenario.market.bid_max,
            capacity: self.scenario.market.vm_capacity,
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

/// Many envs stepped in one call, in parallel (rayon), results independent of the thread count.
#[derive(Debug)]
pub struct VecEnv {
    envs: Vec<IovEnv>,
}

impl VecEnv {
    /// `n` envs of `scenario`.
    ///
    /// # Errors
    /// As [`IovEnv::new`].
    pub fn new(scenario: &Scenario, n: usize) -> Result<Self> {
        let envs = (0..n)
            .map(|_| IovEnv::new(scenario.clone()))
            .collect::<Result<_>>()?;
        Ok(Self { envs })
    }

    /// The envs.
    pub fn envs(&self) -> &[IovEnv] {
        &self.envs
    }

    /// Mutable access to the envs.
    pub fn envs_mut(&mut self) -> &mut [IovEnv] {
        &mut self.envs
    }

    /// Number of envs.
    pub fn len(&self) -> usize {
        self.envs.len()
    }

    /// Whether there are no envs.
    pub fn is_empty(&self) -> bool {
        self.envs.is_empty()
    }

    /// Resets env i with `seeds[i]`.
    ///
    /// # Errors
    /// As [`MultiAgentEnv::reset`]; wrong seed count.
    pub fn reset(&mut self, seeds: &[u64]) -> Result<()> {
        if seeds.len() != self.envs.len() {
            return Err(Error::Shape {
                what: "seeds",
                expected: self.envs.len(),
                got: seeds.len(),
            });
        }
        self.envs
            .par_iter_mut()
            .zip(seeds)
            .try_for_each(|(e, &s)| e.reset(s))
    }

    /// Steps every env with its slice of `actions` (env-major), returning one outcome per env.
    ///
    /// # Errors
    /// As [`MultiAgentEnv::step`]; wrong action count.
    pub fn step(&mut self, actions: &[f32]) -> Result<Vec<StepOutcome>> {
        let per = self.envs.first().map_or(0, |e| e.num_agents());
        if actions.len() != per * self.envs.len() {
            return Err(Error::Shape {
                what: "actions",
                expected: per * self.envs.len(),
                got: actions.len(),
            });
        }
        self.envs
            .par_iter_mut()
            .zip(actions.par_chunks(per.max(1)))
            .map(|(e, a)| e.step(a))
            .collect()
    }

    /// Writes every env's observations, env-major.
    pub fn observe(&self, out: &mut [f32]) {
        let per = self
            .envs
            .first()
            .map_or(0, |e| e.num_agents() * e.obs_dim());
        self.envs
            .par_iter()
            .zip(out.par_chunks_mut(per.max(1)))
            .for_each(|(e, o)| e.observe(o));
    }

    /// Writes every env's global state, env-major.
    pub fn state(&self, out: &mut [f32]) {
        let per = self.envs.first().map_or(0, |e| e.state_dim());
        self.envs
            .iter()
            .zip(out.chunks_mut(per.max(1)))
            .for_each(|(e, o)| e.state(o));
    }

    /// Writes every env's active mask, env-major.
    pub fn active(&self, out: &mut [f32]) {
        let per = self.envs.first().map_or(0, |e| e.num_agents());
        self.envs
            .iter()
            .zip(out.chunks_mut(per.max(1)))
            .for_each(|(e, o)| e.active(o));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::{RandomBidder, TruthfulBidder};

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
            env.observe(&mut obs);
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
            env.state(&mut st);
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
}
