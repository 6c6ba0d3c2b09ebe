//! One RSU's local market inside the env: its members, VMs, radio state and clearing (M7).

use crate::channel::{block_fading_latency_ms, rayleigh_power, LinkBudget};
use crate::market::{Mechanism, MechanismKind, OrderBook, Trade};
use crate::metrics::TradeRecord;
use crate::rng::{stream, ChaCha8Rng, Stream};
use crate::workload::Requests;

/// One RSU's market and radio state.
#[derive(Debug, Clone, Default)]
pub(super) struct Market {
    /// Vehicles associated to this RSU, in vehicle order.
    pub members: Vec<u32>,
    /// Members with a pending request.
    pub pending: usize,
    /// VM transmit powers in W.
    pub power_w: Vec<f64>,
    /// One ask per VM unit: index = vm · capacity + unit.
    pub asks: Vec<f64>,
    /// Link gain of each member (path loss and shadowing folded in, [`LinkBudget::link_gain`]).
    pub gain: Vec<f64>,
    /// Fast-fading power of each VM → member link: `fading[i · M + m]`. Rates are computed from
    /// it only where they are used (traded links, observations), not for every link.
    pub fading: Vec<f64>,
    /// Price buyers paid in the last slot with trades (mean), 0 before any trade.
    pub last_price: f64,
    book: OrderBook,
    trades: Vec<Trade>,
    /// Trades of the last slot.
    pub records: Vec<TradeRecord>,
    /// Buyers that bid in the last slot.
    pub buyers: usize,
}

impl Market {
    /// Rate (bit/s) from VM `vm` to the member at index `i` (§1.4).
    #[inline]
    pub fn rate(&self, link: &LinkBudget, i: usize, vm: usize) -> f64 {
        let vms = self.power_w.len();
        link.rate(self.power_w[vm], self.gain[i], self.fading[i * vms + vm])
    }

    /// Mean rate (bit/s) from the VMs to the member at index `i`.
    pub fn mean_rate(&self, link: &LinkBudget, i: usize) -> f64 {
        let vms = self.power_w.len();
        (0..vms).map(|k| self.rate(link, i, k)).sum::<f64>() / vms as f64
    }
}

/// Read-only inputs of the per-RSU clearing.
pub(super) struct ClearContext<'a> {
    pub mechanism: &'a MechanismKind,
    pub link: &'a LinkBudget,
    pub requests: &'a Requests,
    /// Every vehicle's bid, in [0, `bid_max`].
    pub bids: &'a [f64],
    pub capacity: usize,
    pub coherence_ms: f64,
    pub latency_cap_ms: f64,
    pub seed: u64,
    pub slot: u64,
}

/// Clears RSU `r`'s market (M7) and writes its trade records.
pub(super) fn clear_market(r: usize, m: &mut Market, ctx: &ClearContext<'_>, rng: &mut ChaCha8Rng) {
    let req = ctx.requests;
    let bids = m.members.iter().filter_map(|&v| {
        let bid = ctx.bids[v as usize];
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
        let (latency_ms, late) = transfer_latency(m, ctx, i, vm, v, req.size[v]);
        records.push(TradeRecord {
            vehicle: t.buyer,
            rsu: r as u32,
            vm: vm as u32,
            value: req.value[v],
            cost: ask,
            bid: ctx.bids[v],
            ask,
            buyer_pays: t.buyer_pays,
            seller_gets: t.seller_gets,
            latency_ms,
            late,
        });
    }
    if !records.is_empty() {
        m.last_price = records.iter().map(|t| t.buyer_pays).sum::<f64>() / records.len() as f64;
    }
    m.records = records;
}

/// M10: the delivery time of vehicle `v`'s request of `size_bytes` from VM `vm` to the member at
/// index `i`, under block fading, and whether it was late. The first block uses the slot's fading
/// draw of the link; later blocks draw from the vehicle's own stream of this slot, so no other
/// draw shifts.
fn transfer_latency(
    m: &Market,
    ctx: &ClearContext<'_>,
    i: usize,
    vm: usize,
    v: usize,
    size_bytes: u32,
) -> (f64, bool) {
    let mut later: Option<ChaCha8Rng> = None;
    let (power, gain) = (m.power_w[vm], m.gain[i]);
    block_fading_latency_ms(
        8.0 * f64::from(size_bytes),
        m.rate(ctx.link, i, vm),
        ctx.coherence_ms,
        ctx.latency_cap_ms,
        || {
            let rng = later
                .get_or_insert_with(|| stream(ctx.seed, Stream::BlockFading, ctx.slot, v as u64));
            ctx.link.rate(power, gain, rayleigh_power(rng))
        },
    )
}
