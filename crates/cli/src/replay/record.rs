//! Recording an episode for the replay page: what each slot's markets saw and did, restricted
//! to the drawn window, as compact columns.
//!
//! ## What a frame is
//! Frame t (0-based) is the episode's slot t + 1: the vehicles where that slot's markets saw
//! them (positions, serving RSU, pending request, valuation, waited slots, mean rate), the bids
//! the bidder made, and the trades the markets cleared. The per-slot metrics are the whole
//! scenario's, not the window's.
//!
//! ## Compact encoding
//! Columns, not objects, so JSON spends a few characters per number: positions are integers in
//! units of `q` metres (a four-thousandth of the view's larger side, 0.25 m for the paper's
//! 1 km, about a fifth of a pixel on the page's map) from the view's lower-left corner;
//! valuations, bids and prices are integers in thousandths; rates in 0.1 Mbit/s; latencies in
//! tenths of a millisecond. Vehicle ids are delta-coded within a frame (they ascend). The
//! request columns (valuation, bid, waited slots) hold only the vehicles with a pending request,
//! and the bid is stored as its difference from the valuation (0 for a truthful bidder). The
//! paper scenario's 100 slots take 0.24 MB.
//!
//! ## Sampling
//! When more than `max_vehicles` vehicles are in the window at slot 1, the page keeps every k-th
//! vehicle by id (k = ⌈in view / max⌉, the same vehicles in every frame so that the animation
//! follows them) plus, in every frame, each vehicle that trades in the window.

use anyhow::Result;
use iovmarket::agents::Bidder;
use iovmarket::agents::ObservationSource;
use iovmarket::env::{IovEnv, MultiAgentEnv};
use iovmarket::metrics::SlotMetrics;
use iovmarket::rsu::NO_RSU;
use serde::Serialize;

use crate::commands::render::{rsu_colours, View, PALETTE};

/// Positions are quantised to this many steps across the view's larger side.
const POSITION_STEPS: f64 = 4_000.0;

/// Everything the page needs, serialised as its embedded JSON.
#[derive(Debug, Clone, Serialize)]
pub struct Recording {
    /// Format version of this JSON (the page checks it).
    pub format: u32,
    /// Page heading.
    pub title: String,
    /// One line under the heading: scenario, mechanism, bidder, seed.
    pub subtitle: String,
    /// Number of frames (slots played).
    pub slots: usize,
    /// The drawn window `[x0, y0, x1, y1]` in metres.
    pub view: [f64; 4],
    /// Metres per position unit.
    pub q: f64,
    /// Road centre lines meeting the view, as flat `[x, y, x, y, ..]` in position units.
    pub roads: Vec<Vec<i64>>,
    /// Road width (all lanes) in metres.
    pub road_w: f64,
    /// RSU coverage radius in metres.
    pub coverage: f64,
    /// Colours by palette index.
    pub palette: Vec<&'static str>,
    /// The RSUs whose coverage meets the view.
    pub rsu: RsuColumns,
    /// Vehicles in the scenario (agent slots).
    pub vehicles: usize,
    /// Every k-th vehicle by id is drawn (1: all).
    pub sample_every: usize,
    /// Per-slot metrics of the whole scenario.
    pub series: Series,
    /// Per slot and RSU of `rsu`: the mean price buyers paid (thousandths), −1 without trades;
    /// slot-major (`slot × rsu.id.len() + r`).
    pub price: Vec<i64>,
    /// Drawn vehicles, frame after frame.
    pub frames: Frames,
    /// Trades whose buyer is drawn, frame after frame.
    pub trades: Trades,
}

/// RSUs shown (those whose coverage meets the view); vehicles refer to them by position here.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RsuColumns {
    /// Global RSU index.
    pub id: Vec<u32>,
    /// x in position units.
    pub x: Vec<i64>,
    /// y in position units.
    pub y: Vec<i64>,
    /// Palette index (neighbours differ).
    pub colour: Vec<usize>,
}

/// Per-slot metrics (whole scenario), one entry per frame.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Series {
    /// Executed trades.
    pub trades: Vec<usize>,
    /// Buyers that bid.
    pub buyers: Vec<usize>,
    /// Requests dropped after waiting `request_ttl` slots.
    pub dropped: Vec<usize>,
    /// Social welfare SW(t) (M8, configured definition).
    pub welfare: Vec<f64>,
    /// Budget β(t) (M9).
    pub budget: Vec<f64>,
    /// Latency L(t) in ms (M10).
    pub latency: Vec<f64>,
    /// Shared reward R(t) (M11).
    pub reward: Vec<f64>,
    /// Vehicles in the window (before sampling).
    pub in_view: Vec<usize>,
}

/// Drawn vehicles of every frame: frame t owns rows `off[t]..off[t + 1]`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Frames {
    /// Row offsets, `slots + 1` entries.
    pub off: Vec<usize>,
    /// Vehicle id, delta-coded within the frame.
    pub id: Vec<u32>,
    /// x in position units.
    pub x: Vec<i64>,
    /// y in position units.
    pub y: Vec<i64>,
    /// Serving RSU as an index into `rsu`, −1 if none.
    pub rsu: Vec<i64>,
    /// Bit 0: pending request; bit 1: submitted a positive bid to its RSU's market.
    pub flags: Vec<u8>,
    /// Mean rate from the serving RSU's VMs (0.1 Mbit/s), 0 if unserved.
    pub rate: Vec<i64>,
    /// Valuation u_v of the request (thousandths); one entry per row with a pending request.
    pub value: Vec<i64>,
    /// Bid minus valuation (thousandths), the bid being the bidder's action mapped to a bid
    /// whether or not it was submitted; one entry per row with a pending request.
    pub shade: Vec<i64>,
    /// Slots the request has waited; one entry per row with a pending request.
    pub waited: Vec<u32>,
}

/// Trades of every frame: frame t owns rows `off[t]..off[t + 1]`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Trades {
    /// Row offsets, `slots + 1` entries.
    pub off: Vec<usize>,
    /// Buyer, as a row index within the frame's vehicles.
    pub vehicle: Vec<usize>,
    /// RSU, as an index into `rsu`.
    pub rsu: Vec<usize>,
    /// Selling VM within the RSU.
    pub vm: Vec<u32>,
    /// Buyer payment (thousandths).
    pub pays: Vec<i64>,
    /// Seller receipt (thousandths).
    pub gets: Vec<i64>,
    /// Seller's ask (thousandths).
    pub ask: Vec<i64>,
    /// Transfer latency (tenths of a ms).
    pub latency: Vec<i64>,
}

/// What to record.
#[derive(Debug, Clone)]
pub struct Options {
    /// The drawn window.
    pub view: View,
    /// Most vehicles drawn per frame, trading ones aside (see the module docs).
    pub max_vehicles: usize,
    /// Slots to play from the start of the episode.
    pub slots: usize,
    /// Page heading.
    pub title: String,
    /// Line under the heading.
    pub subtitle: String,
}

fn thousandths(x: f64) -> i64 {
    (x * 1000.0).round() as i64
}

/// Rounds to 4 decimals, so the JSON prints short numbers.
fn round4(x: f64) -> f64 {
    (x * 1e4).round() / 1e4
}

/// Plays `opts.slots` slots of `env` from `seed` with `bidder` and records them.
///
/// # Errors
/// Env errors (mobility input).
pub fn record(
    env: &mut IovEnv,
    bidder: &mut dyn Bidder,
    seed: u64,
    opts: &Options,
    mut on_slot: impl FnMut(),
) -> Result<Recording> {
    let view = opts.view;
    let q = (view.x1 - view.x0).max(view.y1 - view.y0) / POSITION_STEPS;
    let qx = |x: f64| ((x - view.x0) / q).round() as i64;
    let qy = |y: f64| ((y - view.y0) / q).round() as i64;
    env.reset(seed)?;
    let scenario = env.scenario().clone();

    // Static layers: RSUs whose coverage meets the view, roads whose box meets it.
    let rsus = env.rsus();
    let cov = rsus.coverage_m;
    let all_colours = rsu_colours(&rsus.x, &rsus.y, cov);
    let mut local = vec![-1i64; rsus.len()];
    let mut rsu = RsuColumns::default();
    for r in 0..rsus.len() {
        let (x, y) = (rsus.x[r], rsus.y[r]);
        if x + cov >= view.x0 && x - cov <= view.x1 && y + cov >= view.y0 && y - cov <= view.y1 {
            local[r] = rsu.id.len() as i64;
            rsu.id.push(r as u32);
            rsu.x.push(qx(x));
            rsu.y.push(qy(y));
            rsu.colour.push(all_colours[r]);
        }
    }
    let roads = env
        .mobility()
        .roads()
        .into_iter()
        .filter(|line| {
            let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
            for p in line {
                for k in 0..2 {
                    lo[k] = lo[k].min(p[k]);
                    hi[k] = hi[k].max(p[k]);
                }
            }
            hi[0] >= view.x0 && lo[0] <= view.x1 && hi[1] >= view.y0 && lo[1] <= view.y1
        })
        .map(|line| line.iter().flat_map(|p| [qx(p[0]), qy(p[1])]).collect())
        .collect();

    let mut frames = Frames {
        off: vec![0],
        ..Default::default()
    };
    let mut trades = Trades {
        off: vec![0],
        ..Default::default()
    };
    let mut series = Series::default();
    let mut price = Vec::with_capacity(opts.slots * rsu.id.len());
    let mut sample_every = 1;
    let mut actions = vec![0.0; env.num_agents()];
    // Scratch: the row of each vehicle in the current frame.
    let mut row_of = vec![usize::MAX; env.num_agents()];
    for t in 0..opts.slots {
        // What slot t + 1's markets see, before they clear.
        let positions = env.positions();
        let in_view: Vec<usize> = (0..positions.len())
            .filter(|&v| positions.active[v] && view.contains(positions.x[v], positions.y[v]))
            .collect();
        if t == 0 {
            sample_every = in_view.len().div_ceil(opts.max_vehicles).max(1);
        }
        let before: Vec<Snapshot> = in_view.iter().map(|&v| Snapshot::of(env, v)).collect();
        let out = env.step_with(bidder, &mut actions)?;
        on_slot();
        let records = env.last_trades();
        let mut trading = vec![false; in_view.len()];
        // `in_view` ascends, so a binary search finds a buyer's place in it.
        for rec in records {
            if let Ok(i) = in_view.binary_search(&(rec.vehicle as usize)) {
                trading[i] = true;
            }
        }
        let mut last_id = 0u32;
        let base = *frames.off.last().expect("offsets start with 0");
        for (i, (&v, s)) in in_view.iter().zip(&before).enumerate() {
            if !trading[i] && v % sample_every != 0 {
                continue;
            }
            row_of[v] = frames.id.len() - base;
            frames.id.push(v as u32 - last_id);
            last_id = v as u32;
            frames.x.push(qx(s.x));
            frames.y.push(qy(s.y));
            frames.rsu.push(match s.serving {
                NO_RSU => -1,
                r => local[r as usize],
            });
            let bid = env.last_bids()[v];
            let submitted = s.pending && s.serving != NO_RSU && bid > 0.0;
            frames
                .flags
                .push(s.pending as u8 | (u8::from(submitted) << 1));
            frames.rate.push((s.rate_bps / 1e5).round() as i64);
            if s.pending {
                let value = thousandths(s.value);
                frames.value.push(value);
                frames.shade.push(thousandths(bid) - value);
                frames.waited.push(s.waited);
            }
        }
        frames.off.push(frames.id.len());
        for rec in records {
            let v = rec.vehicle as usize;
            if in_view.binary_search(&v).is_err() {
                continue;
            }
            trades.vehicle.push(row_of[v]);
            trades.rsu.push(local[rec.rsu as usize] as usize);
            trades.vm.push(rec.vm);
            trades.pays.push(thousandths(rec.buyer_pays));
            trades.gets.push(thousandths(rec.seller_gets));
            trades.ask.push(thousandths(rec.ask));
            trades.latency.push((rec.latency_ms * 10.0).round() as i64);
        }
        trades.off.push(trades.vehicle.len());
        // Clearing price of each shown RSU: the mean payment of its trades this slot.
        let mut sum = vec![(0.0f64, 0usize); rsu.id.len()];
        for rec in records {
            let l = local[rec.rsu as usize];
            if l >= 0 {
                let e = &mut sum[l as usize];
                e.0 += rec.buyer_pays;
                e.1 += 1;
            }
        }
        price.extend(sum.iter().map(|&(s, n)| {
            if n == 0 {
                -1
            } else {
                thousandths(s / n as f64)
            }
        }));
        push_metrics(&mut series, &out.metrics, in_view.len());
        if out.truncated {
            break;
        }
    }
    Ok(Recording {
        format: 1,
        title: opts.title.clone(),
        subtitle: opts.subtitle.clone(),
        slots: series.trades.len(),
        view: [view.x0, view.y0, view.x1, view.y1],
        q,
        roads,
        road_w: 2.0 * scenario.mobility.lanes_per_direction as f64 * scenario.mobility.lane_width_m,
        coverage: cov,
        palette: PALETTE.to_vec(),
        rsu,
        vehicles: env.num_agents(),
        sample_every,
        series,
        price,
        frames,
        trades,
    })
}

fn push_metrics(s: &mut Series, m: &SlotMetrics, in_view: usize) {
    s.trades.push(m.trades);
    s.buyers.push(m.buyers);
    s.dropped.push(m.dropped);
    s.welfare.push(round4(m.welfare));
    s.budget.push(round4(m.budget));
    s.latency.push(round4(m.latency_ms));
    s.reward.push(round4(m.reward));
    s.in_view.push(in_view);
}

/// One vehicle as the coming slot's market sees it.
struct Snapshot {
    x: f64,
    y: f64,
    serving: u32,
    pending: bool,
    value: f64,
    waited: u32,
    rate_bps: f64,
}

impl Snapshot {
    fn of(env: &IovEnv, v: usize) -> Self {
        let (p, req) = (env.positions(), env.requests());
        Self {
            x: p.x[v],
            y: p.y[v],
            serving: env.serving()[v],
            pending: req.pending[v],
            value: req.value[v],
            waited: req.waited[v],
            rate_bps: env.mean_rate_bps(v),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use iovmarket::agents::TruthfulBidder;
    use iovmarket::Scenario;

    fn paper(slots: usize, view: View, max_vehicles: usize) -> Recording {
        let mut env = IovEnv::new(Scenario::paper()).unwrap();
        let opts = Options {
            view,
            max_vehicles,
            slots,
            title: "t".into(),
            subtitle: "s".into(),
        };
        record(&mut env, &mut TruthfulBidder, 3, &opts, || {}).unwrap()
    }

    /// Decodes frame t's vehicle ids.
    fn ids(r: &Recording, t: usize) -> Vec<u32> {
        let mut id = 0;
        r.frames.id[r.frames.off[t]..r.frames.off[t + 1]]
            .iter()
            .map(|d| {
                id += d;
                id
            })
            .collect()
    }

    /// Where row `row`'s request is in the request columns.
    fn pending_index(r: &Recording, row: usize) -> usize {
        r.frames.flags[..row]
            .iter()
            .filter(|&&f| f & 1 == 1)
            .count()
    }

    #[test]
    fn frames_match_an_independent_run_of_the_same_episode() {
        let r = paper(12, View::whole(1000.0), 5000);
        assert_eq!(r.slots, 12);
        assert_eq!(r.frames.off.len(), 13);
        assert_eq!(r.rsu.id, [0, 1, 2, 3]);
        assert_eq!(r.roads.len(), 8);
        // Replay the same episode by hand and compare slot by slot.
        let mut env = IovEnv::new(Scenario::paper()).unwrap();
        env.reset(3).unwrap();
        let mut actions = Vec::new();
        for t in 0..12 {
            let active = env.positions().active.iter().filter(|&&a| a).count();
            assert_eq!(ids(&r, t).len(), active, "slot {t}: every vehicle drawn");
            let rows = r.frames.off[t]..r.frames.off[t + 1];
            for (row, v) in rows.clone().zip(ids(&r, t)) {
                let v = v as usize;
                assert_eq!(r.frames.x[row], (env.positions().x[v] * 4.0).round() as i64);
                let req = env.requests();
                assert_eq!(r.frames.flags[row] & 1 == 1, req.pending[v]);
                if req.pending[v] {
                    let p = pending_index(&r, row);
                    assert_eq!(r.frames.value[p], thousandths(req.value[v]));
                    assert_eq!(r.frames.waited[p], req.waited[v]);
                }
            }
            let out = env.step_with(&mut TruthfulBidder, &mut actions).unwrap();
            assert_eq!(r.series.trades[t], out.metrics.trades);
            let tr = r.trades.off[t]..r.trades.off[t + 1];
            assert_eq!(tr.len(), out.metrics.trades);
            for (k, rec) in tr.zip(env.last_trades()) {
                let row = r.frames.off[t] + r.trades.vehicle[k];
                assert_eq!(ids(&r, t)[r.trades.vehicle[k]], rec.vehicle);
                assert_eq!(r.trades.pays[k], thousandths(rec.buyer_pays));
                // Truthful McAfee: each buyer bid its valuation, and paid at most that.
                let p = pending_index(&r, row);
                assert_eq!(r.frames.shade[p], 0);
                assert!(r.trades.pays[k] <= r.frames.value[p]);
                assert_eq!(r.frames.flags[row], 3);
            }
        }
        // Prices: −1 exactly for RSUs without a trade in the slot.
        for t in 0..12 {
            for l in 0..4 {
                let traded = (r.trades.off[t]..r.trades.off[t + 1]).any(|k| r.trades.rsu[k] == l);
                assert_eq!(r.price[t * 4 + l] >= 0, traded);
            }
        }
    }

    #[test]
    fn windows_and_sampling_keep_traders_and_follow_the_same_vehicles() {
        let half = View {
            x0: 0.0,
            y0: 0.0,
            x1: 500.0,
            y1: 500.0,
        };
        let r = paper(20, half, 5000);
        assert_eq!(r.sample_every, 1);
        for t in 0..20 {
            assert_eq!(ids(&r, t).len(), r.series.in_view[t]);
            assert!(r.frames.x[r.frames.off[t]..r.frames.off[t + 1]]
                .iter()
                .all(|&x| (0..=4_000).contains(&x)));
        }
        let r = paper(20, View::whole(1000.0), 10);
        assert_eq!(r.sample_every, 8);
        for t in 0..20 {
            let ids = ids(&r, t);
            let traders: Vec<u32> = (r.trades.off[t]..r.trades.off[t + 1])
                .map(|k| ids[r.trades.vehicle[k]])
                .collect();
            assert_eq!(traders.len(), r.series.trades[t]);
            for v in &ids {
                assert!(v % 8 == 0 || traders.contains(v), "slot {t}: vehicle {v}");
            }
            assert_eq!(ids.iter().filter(|&&v| v % 8 == 0).count(), 10);
        }
    }

    #[test]
    fn json_is_compact() {
        let r = paper(100, View::whole(1000.0), 5000);
        let json = serde_json::to_string(&r).unwrap();
        assert!(json.len() < 600_000, "{} bytes", json.len());
    }
}
