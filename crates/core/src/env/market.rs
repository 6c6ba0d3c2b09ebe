//! One RSU's local market inside the env: its members, VMs, radio state and clearing (M7).

use crate::agents::BidMapping;
use crate::channel::LinkBudget;
use crate::market::{Mechanism, MechanismKind, OrderBook, Trade};
use crate::metrics::{transfer_latency_ms, TradeRecord};
use crate::rng::ChaCha8Rng;
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
    /// Actions, already clamped into [0, 1].
    pub actions: &'a [f32],
    pub bids: BidMapping,
    pub capacity: usize,
}

/// Clears RSU `r`'s market (M7) and writes its trade records.
pub(super) fn clear_market(r: usize, m: &mut Market, ctx: &ClearContext<'_>, rng: &mut ChaCha8Rng) {
    let req = ctx.requests;
    let bids = m.members.iter().filter_map(|&v| {
        let bid = ctx.bids.bid(ctx.actions[v as usize]);
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
            bid: ctx.bids.bid(ctx.actions[v]),
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
