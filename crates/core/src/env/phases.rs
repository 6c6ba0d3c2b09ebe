//! The per-slot phases before bidding (DESIGN.md §1.1–§1.5): association (3b), shadowing
//! (M3) and request arrivals (M5) per vehicle chunk, then member lists, VM powers and asks
//! (§1.3) and fast fading (M4) per RSU.
//!
//! ## Invariants
//! Every draw comes from a stream named by (component, slot, vehicle chunk or RSU), so the
//! phases give the same result serially or in parallel.

use rand::Rng;
use rand_distr::StandardNormal;
use rayon::prelude::*;

use super::market::Market;
use super::IovEnv;
use crate::channel::{gudmundson_step, rayleigh_power, LinkBudget};
use crate::market::PowerResample;
use crate::mobility::Positions;
use crate::par::{self, CHUNK};
use crate::rng::{stream, ChaCha8Rng, Stream};
use crate::rsu::{RsuLayout, NO_RSU};
use crate::workload::{RequestsChunk, SizeTable};
use crate::Scenario;

impl IovEnv {
    /// Start of an episode: every market forgets its price and draws its VM powers from slot
    /// 0's radio stream (per-slot powers are redrawn by [`IovEnv::prepare`] anyway).
    pub(super) fn reset_markets(&mut self, seed: u64) {
        let ctx = RadioContext {
            link: &self.link,
            distance_m: &self.distance_m,
            shadow_db: &self.shadow_db,
            scenario: &self.scenario,
        };
        for (r, m) in self.markets.iter_mut().enumerate() {
            m.last_price = 0.0;
            draw_powers(m, &ctx, &mut stream(seed, Stream::Radio, 0, r as u64));
        }
    }

    /// Slot `t` begins: association, shadowing, arrivals, VM powers, asks and fading.
    pub(super) fn prepare(&mut self, t: u64) {
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
