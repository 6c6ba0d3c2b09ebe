//! `iovmarket render`: an SVG map of one slot: roads, RSUs and their coverage, vehicles coloured
//! by serving RSU, and the slot's trades as lines from RSU to buyer.
//!
//! The episode runs from `--seed` with truthful bidders (whatever `agents.bidder` says) up to slot
//! T. The map shows the vehicles where they were during slot T (the positions its markets saw)
//! and the trades cleared in slot T.
//!
//! ## Large scenarios
//! The SVG stays a sane size whatever the scenario: `--window X0,Y0,X1,Y1` (metres) draws part
//! of the area, and when more than `--max-vehicles` vehicles fall in the view, only every k-th of
//! the non-trading ones is drawn (the subtitle says so); trading vehicles and all trades in the
//! view are always drawn. RSU labels appear only when at most 64 RSUs are in view. For
//! `configs/city.toml` (100 000 vehicles, 1024 RSUs) the full map is about 0.5 MB.
//!
//! ## Colours
//! RSUs get colours from a 10-colour palette by greedy colouring in index order, so that RSUs
//! whose coverage discs overlap never share a colour while the palette lasts (a grid layout needs
//! at most 9). A vehicle takes its serving RSU's colour; unserved vehicles are grey; vehicles not
//! on the map (trace replay) are not drawn.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use iovmarket::agents::TruthfulBidder;
use iovmarket::env::{IovEnv, MultiAgentEnv};
use iovmarket::metrics::{SlotMetrics, TradeRecord};
use iovmarket::rsu::NO_RSU;

use super::ConfigArgs;
use crate::output::write_atomic;

/// Flags of `render`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Slot to draw (1-based, at most `scenario.episode_slots`).
    #[arg(long, default_value_t = 1)]
    pub slot: u64,
    /// Run seed (overrides `scenario.seed`).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Draw only this part of the area, in metres: `X0,Y0,X1,Y1`. By default, the whole area.
    #[arg(long, value_name = "X0,Y0,X1,Y1")]
    pub window: Option<String>,
    /// Most vehicles drawn; beyond it every k-th non-trading vehicle is drawn.
    #[arg(long, default_value_t = 5000)]
    pub max_vehicles: usize,
    /// The SVG file to write.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// Runs `render`.
pub fn run(args: Args) -> Result<ExitCode> {
    let mut extra = Vec::new();
    if let Some(s) = args.seed {
        extra.push(("scenario.seed".to_string(), s.to_string()));
    }
    let scenario = args.config.scenario(&extra)?;
    let slots = scenario.scenario.episode_slots as u64;
    if args.slot == 0 || args.slot > slots {
        bail!(
            "--slot: {} is out of range; expected 1..={slots} (scenario.episode_slots)",
            args.slot
        );
    }
    if args.max_vehicles == 0 {
        bail!("--max-vehicles: 0 is out of range; expected an integer >= 1");
    }
    let area = scenario.scenario.area_m;
    let view = match &args.window {
        Some(w) => parse_window(w).context("--window")?,
        None => View::whole(area),
    };
    let seed = scenario.scenario.seed;
    let mut env = IovEnv::new(scenario.clone()).context("cannot build the environment")?;
    env.reset(seed)?;
    let mut actions = vec![0.0; env.num_agents()];
    for _ in 1..args.slot {
        env.step_with(&mut TruthfulBidder, &mut actions)?;
    }
    // The positions and association that slot T's markets see, then slot T itself.
    let positions = env.positions().clone();
    let serving = env.serving().to_vec();
    let out = env.step_with(&mut TruthfulBidder, &mut actions)?;
    let rsus = env.rsus();
    let lanes = scenario.mobility.lanes_per_direction as f64;
    let map = MapData {
        title: format!(
            "iovmarket: slot {} of {}, seed {}",
            args.slot,
            args.config
                .config
                .as_ref()
                .map_or("the paper scenario".to_string(), |p| p
                    .display()
                    .to_string()),
            seed
        ),
        roads: env.mobility().roads(),
        road_width_m: 2.0 * lanes * scenario.mobility.lane_width_m,
        rsu_x: rsus.x.clone(),
        rsu_y: rsus.y.clone(),
        coverage_m: rsus.coverage_m,
        vehicle_x: positions.x,
        vehicle_y: positions.y,
        active: positions.active,
        serving,
        trades: env.last_trades().to_vec(),
        metrics: out.metrics,
        mechanism: scenario.market.mechanism.to_string(),
    };
    let svg = render_svg(&map, &view, args.max_vehicles);
    write_atomic(&args.out, svg.as_bytes())?;
    eprintln!(
        "wrote {} ({} KB): slot {}, {} trades",
        args.out.display(),
        svg.len().div_ceil(1024),
        args.slot,
        out.metrics.trades
    );
    Ok(ExitCode::SUCCESS)
}

/// Everything the map shows.
#[derive(Debug, Clone, Default)]
pub struct MapData {
    /// First title line.
    pub title: String,
    /// Road centre lines (polylines in metres).
    pub roads: Vec<Vec<[f64; 2]>>,
    /// Width of a road (all lanes, both directions) in metres.
    pub road_width_m: f64,
    /// RSU x in metres.
    pub rsu_x: Vec<f64>,
    /// RSU y in metres.
    pub rsu_y: Vec<f64>,
    /// Coverage radius in metres.
    pub coverage_m: f64,
    /// Vehicle x in metres.
    pub vehicle_x: Vec<f64>,
    /// Vehicle y in metres.
    pub vehicle_y: Vec<f64>,
    /// Whether each vehicle is on the map.
    pub active: Vec<bool>,
    /// Serving RSU of each vehicle.
    pub serving: Vec<u32>,
    /// The slot's trades.
    pub trades: Vec<TradeRecord>,
    /// The slot's metrics.
    pub metrics: SlotMetrics,
    /// Mechanism name.
    pub mechanism: String,
}

/// The part of the area drawn, in metres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct View {
    pub(crate) x0: f64,
    pub(crate) y0: f64,
    pub(crate) x1: f64,
    pub(crate) y1: f64,
}

impl View {
    /// The whole square area of side `area_m`.
    pub(crate) fn whole(area_m: f64) -> Self {
        Self {
            x0: 0.0,
            y0: 0.0,
            x1: area_m,
            y1: area_m,
        }
    }

    pub(crate) fn contains(&self, x: f64, y: f64) -> bool {
        (self.x0..=self.x1).contains(&x) && (self.y0..=self.y1).contains(&y)
    }
}

pub(crate) fn parse_window(s: &str) -> Result<View> {
    let v: Vec<f64> = s
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .with_context(|| format!("`{s}`: expected four numbers X0,Y0,X1,Y1 in metres"))?;
    match v[..] {
        [x0, y0, x1, y1] if v.iter().all(|c| c.is_finite()) && x1 > x0 && y1 > y0 => {
            Ok(View { x0, y0, x1, y1 })
        }
        _ => bail!("`{s}`: expected four finite numbers X0,Y0,X1,Y1 with X1 > X0 and Y1 > Y0"),
    }
}

/// Tableau 10: distinguishable, and legible in print.
pub(crate) const PALETTE: [&str; 10] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22",
    "#17becf", "#7f7f7f",
];
/// Map side in px; the page adds a title band, a legend column and a scale-bar band.
const MAP_PX: f64 = 900.0;
const LEFT: f64 = 30.0;
const TOP: f64 = 96.0;
const LEGEND_W: f64 = 300.0;
const BOTTOM: f64 = 70.0;

/// Greedy colouring: RSUs with overlapping coverage get different palette entries while the
/// palette lasts (then the least-used conflicting colour wraps around by index).
pub(crate) fn rsu_colours(x: &[f64], y: &[f64], coverage: f64) -> Vec<usize> {
    let n = x.len();
    let reach2 = (2.0 * coverage) * (2.0 * coverage);
    // Bucket RSUs into cells of 2·coverage so neighbours are found in the 3 × 3 cells around.
    let cell = (2.0 * coverage).max(1e-9);
    let key = |i: usize| ((x[i] / cell).floor() as i64, (y[i] / cell).floor() as i64);
    let mut cells: std::collections::BTreeMap<(i64, i64), Vec<usize>> = Default::default();
    for i in 0..n {
        cells.entry(key(i)).or_default().push(i);
    }
    let mut colour = vec![usize::MAX; n];
    for i in 0..n {
        let mut used = [false; PALETTE.len()];
        let (cx, cy) = key(i);
        for gx in cx - 1..=cx + 1 {
            for gy in cy - 1..=cy + 1 {
                for &j in cells.get(&(gx, gy)).map_or(&[][..], |v| v.as_slice()) {
                    let d2 = (x[i] - x[j]).powi(2) + (y[i] - y[j]).powi(2);
                    if j < i && d2 < reach2 {
                        used[colour[j]] = true;
                    }
                }
            }
        }
        colour[i] = used.iter().position(|u| !u).unwrap_or(i % PALETTE.len());
    }
    colour
}

/// A round scale-bar length (1, 2 or 5 × 10^k metres) near a fifth of `span`.
fn scale_bar_m(span: f64) -> f64 {
    let target = span / 5.0;
    let p = 10f64.powf(target.log10().floor());
    [5.0, 2.0, 1.0]
        .iter()
        .map(|m| m * p)
        .find(|&l| l <= target)
        .unwrap_or(p)
}

fn fmt_m(m: f64) -> String {
    if m >= 1000.0 {
        format!("{} km", m / 1000.0)
    } else {
        format!("{m} m")
    }
}

/// Where things go on the page: the scale, the colours, and what of the map is drawn.
struct Canvas<'a> {
    view: View,
    /// Pixels per metre.
    s: f64,
    map_w: f64,
    map_h: f64,
    width: f64,
    height: f64,
    /// Palette index of each RSU.
    colours: Vec<usize>,
    /// Trades whose buyer is in view.
    trades: Vec<&'a TradeRecord>,
    /// The vehicles drawn.
    shown: Vec<usize>,
    /// Every `every`-th non-trading vehicle is drawn.
    every: usize,
    in_view_total: usize,
    /// Vehicle dot radius in px.
    dot: f64,
    rsus_in_view: Vec<usize>,
}

impl<'a> Canvas<'a> {
    /// The layout of `map` over `view`, drawing at most `max_vehicles` vehicles.
    fn new(map: &'a MapData, view: &View, max_vehicles: usize) -> Self {
        let span = (view.x1 - view.x0).max(view.y1 - view.y0);
        let s = MAP_PX / span;
        let (map_w, map_h) = ((view.x1 - view.x0) * s, (view.y1 - view.y0) * s);
        let width = LEFT + MAP_PX + LEGEND_W;
        let height = TOP + MAP_PX + BOTTOM;
        let colours = rsu_colours(&map.rsu_x, &map.rsu_y, map.coverage_m);
        let n_veh = map.vehicle_x.len();
        let in_view = |v: usize| map.active[v] && view.contains(map.vehicle_x[v], map.vehicle_y[v]);
        let trades: Vec<&TradeRecord> = map
            .trades
            .iter()
            .filter(|t| in_view(t.vehicle as usize))
            .collect();
        let mut trading = vec![false; n_veh];
        for t in &trades {
            trading[t.vehicle as usize] = true;
        }
        let candidates = (0..n_veh).filter(|&v| in_view(v) && !trading[v]).count();
        let room = max_vehicles.saturating_sub(trades.len()).max(1);
        let every = candidates.div_ceil(room).max(1);
        let mut shown = Vec::new();
        let mut k = 0;
        for (v, &trades_now) in trading.iter().enumerate() {
            if !in_view(v) {
                continue;
            }
            if trades_now {
                shown.push(v);
            } else {
                if k % every == 0 {
                    shown.push(v);
                }
                k += 1;
            }
        }
        let in_view_total = candidates + trades.len();
        let dot = match shown.len() {
            0..=300 => 4.0,
            301..=3000 => 2.2,
            _ => 1.3,
        };
        let rsus_in_view: Vec<usize> = (0..map.rsu_x.len())
            .filter(|&r| {
                let c = map.coverage_m;
                map.rsu_x[r] + c >= view.x0
                    && map.rsu_x[r] - c <= view.x1
                    && map.rsu_y[r] + c >= view.y0
                    && map.rsu_y[r] - c <= view.y1
            })
            .collect();

        Self {
            view: *view,
            s,
            map_w,
            map_h,
            width,
            height,
            colours,
            trades,
            shown,
            every,
            in_view_total,
            dot,
            rsus_in_view,
        }
    }

    /// Page x of area x (metres).
    fn px(&self, x: f64) -> f64 {
        LEFT + (x - self.view.x0) * self.s
    }

    /// Page y of area y (metres); north is up.
    fn py(&self, y: f64) -> f64 {
        TOP + (self.view.y1 - y) * self.s
    }
}

/// The SVG text of `map` over `view`, drawing at most `max_vehicles` vehicles (see module docs),
/// layer by layer from the bottom up.
pub fn render_svg(map: &MapData, view: &View, max_vehicles: usize) -> String {
    let c = Canvas::new(map, view, max_vehicles);
    let (width, height) = (c.width, c.height);
    let mut o = String::with_capacity(64 * (c.shown.len() + c.trades.len()) + 16_384);
    let _ = writeln!(
        o,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="Helvetica, Arial, sans-serif">"#
    );
    let mut style = String::from(
        ".road{fill:none;stroke:#d9d9d9;stroke-linecap:butt}.cov{fill-opacity:0.07;stroke-opacity:0.55;stroke-width:1}\
         .rsu{stroke:#000;stroke-width:1.2}.tr{stroke:#222;stroke-opacity:0.75;stroke-width:1.5}\
         .v{stroke:#fff;stroke-width:0.5}.u{fill:#b0b0b0}.lbl{font-size:11px;fill:#222}",
    );
    for (i, c) in PALETTE.iter().enumerate() {
        let _ = write!(style, ".c{i}{{fill:{c};stroke:{c}}}.v.c{i}{{stroke:#fff}}");
    }
    let _ = writeln!(o, "<style>{style}</style>");
    let _ = writeln!(
        o,
        r##"<rect width="{width}" height="{height}" fill="#fff"/>"##
    );
    title(&mut o, map, &c);
    frame(&mut o, &c);
    roads(&mut o, map, &c);
    coverage(&mut o, map, &c);
    trade_lines(&mut o, map, &c);
    vehicles(&mut o, map, &c);
    rsus(&mut o, map, &c);
    let _ = writeln!(o, "</g>");
    scale_bar(&mut o, &c);
    legend(&mut o, map);
    let _ = writeln!(o, "</svg>");
    o
}

/// The title band: the title, the slot's figures, and the subsampling note.
fn title(o: &mut String, map: &MapData, c: &Canvas) {
    let (every, in_view_total) = (c.every, c.in_view_total);
    let m = &map.metrics;
    let _ = writeln!(
        o,
        r#"<text x="{LEFT}" y="30" font-size="20" font-weight="bold">{}</text>"#,
        escape(&map.title)
    );
    let _ = writeln!(
        o,
        r##"<text x="{LEFT}" y="56" font-size="13" fill="#333">{} vehicles on the map, {} RSUs, mechanism {}, truthful bids: {} trades, {} buyers, welfare {:.3}, budget {:.3}</text>"##,
        map.active.iter().filter(|&&a| a).count(),
        map.rsu_x.len(),
        escape(&map.mechanism),
        m.trades,
        m.buyers,
        m.welfare,
        m.budget,
    );
    if every > 1 {
        let _ = writeln!(
            o,
            r##"<text x="{LEFT}" y="76" font-size="13" fill="#333">Drawing {} of the {} vehicles in view: every trading vehicle and every {}th other one.</text>"##,
            c.shown.len(),
            in_view_total,
            every
        );
    }
}

/// The map's frame and background, and its clip path; opens the clipped group.
fn frame(o: &mut String, c: &Canvas) {
    let (map_w, map_h) = (c.map_w, c.map_h);
    let _ = writeln!(
        o,
        r##"<defs><clipPath id="map"><rect x="{LEFT}" y="{TOP}" width="{map_w:.1}" height="{map_h:.1}"/></clipPath></defs>"##
    );
    let _ = writeln!(
        o,
        r##"<rect x="{LEFT}" y="{TOP}" width="{map_w:.1}" height="{map_h:.1}" fill="#fafafa" stroke="#555"/>"##
    );
    let _ = writeln!(o, r#"<g clip-path="url(#map)">"#);
}

/// Road centre lines, as wide as the roads.
fn roads(o: &mut String, map: &MapData, c: &Canvas) {
    let s = c.s;
    let px = |x: f64| c.px(x);
    let py = |y: f64| c.py(y);
    let road_px = (map.road_width_m * s).max(0.8);
    let _ = writeln!(o, r#"<g class="road" stroke-width="{road_px:.1}">"#);
    for line in &map.roads {
        let pts: Vec<String> = line
            .iter()
            .map(|p| format!("{:.1},{:.1}", px(p[0]), py(p[1])))
            .collect();
        let _ = writeln!(o, r#"<polyline points="{}"/>"#, pts.join(" "));
    }
    let _ = writeln!(o, "</g>");
}

/// Each RSU's coverage disc, in its colour.
fn coverage(o: &mut String, map: &MapData, c: &Canvas) {
    let s = c.s;
    let px = |x: f64| c.px(x);
    let py = |y: f64| c.py(y);
    let _ = writeln!(o, "<g>");
    for &r in &c.rsus_in_view {
        let _ = writeln!(
            o,
            r#"<circle class="cov c{}" cx="{:.1}" cy="{:.1}" r="{:.1}"/>"#,
            c.colours[r],
            px(map.rsu_x[r]),
            py(map.rsu_y[r]),
            map.coverage_m * s
        );
    }
    let _ = writeln!(o, "</g>");
}

/// The slot's trades, as lines from RSU to buyer.
fn trade_lines(o: &mut String, map: &MapData, c: &Canvas) {
    let px = |x: f64| c.px(x);
    let py = |y: f64| c.py(y);
    let _ = writeln!(o, r#"<g class="tr">"#);
    for t in &c.trades {
        let (r, v) = (t.rsu as usize, t.vehicle as usize);
        let _ = writeln!(
            o,
            r#"<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}"/>"#,
            px(map.rsu_x[r]),
            py(map.rsu_y[r]),
            px(map.vehicle_x[v]),
            py(map.vehicle_y[v])
        );
    }
    let _ = writeln!(o, "</g>");
}

/// The drawn vehicles, coloured by serving RSU (grey when unserved).
fn vehicles(o: &mut String, map: &MapData, c: &Canvas) {
    let dot = c.dot;
    let px = |x: f64| c.px(x);
    let py = |y: f64| c.py(y);
    let _ = writeln!(o, r#"<g class="v">"#);
    for &v in &c.shown {
        let class = match map.serving[v] {
            NO_RSU => "u".to_string(),
            r => format!("c{}", c.colours[r as usize]),
        };
        let _ = writeln!(
            o,
            r#"<circle class="v {class}" cx="{:.1}" cy="{:.1}" r="{dot}"/>"#,
            px(map.vehicle_x[v]),
            py(map.vehicle_y[v])
        );
    }
    let _ = writeln!(o, "</g>");
}

/// The RSUs on top, labelled when at most 64 are in view.
fn rsus(o: &mut String, map: &MapData, c: &Canvas) {
    let px = |x: f64| c.px(x);
    let py = |y: f64| c.py(y);
    let side = if c.rsus_in_view.len() > 200 {
        5.0
    } else {
        10.0
    };
    let labels = c.rsus_in_view.len() <= 64;
    let _ = writeln!(o, "<g>");
    for &r in &c.rsus_in_view {
        let (x, y) = (px(map.rsu_x[r]), py(map.rsu_y[r]));
        let _ = writeln!(
            o,
            r#"<rect class="rsu c{}" x="{:.1}" y="{:.1}" width="{side}" height="{side}"/>"#,
            c.colours[r],
            x - side / 2.0,
            y - side / 2.0
        );
        if labels {
            let _ = writeln!(
                o,
                r#"<text class="lbl" x="{:.1}" y="{:.1}">RSU {r}</text>"#,
                x + side / 2.0 + 3.0,
                y - side / 2.0 - 2.0
            );
        }
    }
    let _ = writeln!(o, "</g>");
}

/// The scale bar and the view's extent, below the map.
fn scale_bar(o: &mut String, c: &Canvas) {
    let (s, map_h) = (c.s, c.map_h);
    let view = &c.view;
    let bar_m = scale_bar_m(view.x1 - view.x0);
    let (bx, by) = (LEFT, TOP + map_h + 35.0);
    let bw = bar_m * s;
    let _ = writeln!(
        o,
        r##"<g stroke="#000" stroke-width="2"><line x1="{bx}" y1="{by}" x2="{:.1}" y2="{by}"/><line x1="{bx}" y1="{:.1}" x2="{bx}" y2="{:.1}"/><line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}"/></g>"##,
        bx + bw,
        by - 6.0,
        by + 6.0,
        bx + bw,
        by - 6.0,
        bx + bw,
        by + 6.0
    );
    let _ = writeln!(
        o,
        r#"<text x="{:.1}" y="{:.1}" font-size="13" text-anchor="middle">{}</text>"#,
        bx + bw / 2.0,
        by - 10.0,
        fmt_m(bar_m)
    );
    let _ = writeln!(
        o,
        r##"<text x="{:.1}" y="{:.1}" font-size="12" fill="#555">view x {}–{} m, y {}–{} m (north up)</text>"##,
        bx + bw + 20.0,
        by + 4.0,
        view.x0,
        view.x1,
        view.y0,
        view.y1
    );
}

/// The legend column, right of the map.
fn legend(o: &mut String, map: &MapData) {
    let lx = LEFT + MAP_PX + 25.0;
    let mut ly = TOP + 10.0;
    let _ = writeln!(
        o,
        r#"<text x="{lx}" y="{ly}" font-size="15" font-weight="bold">Legend</text>"#
    );
    ly += 28.0;
    let row = |o: &mut String, ly: f64, glyph: String, text: &str| {
        let _ = writeln!(o, "{glyph}");
        let _ = writeln!(
            o,
            r#"<text x="{:.1}" y="{:.1}" font-size="13">{}</text>"#,
            lx + 34.0,
            ly + 4.5,
            escape(text)
        );
    };
    if !map.roads.is_empty() {
        row(
            &mut *o,
            ly,
            format!(
                r#"<line class="road" x1="{lx}" y1="{ly}" x2="{:.1}" y2="{ly}" stroke-width="8"/>"#,
                lx + 24.0
            ),
            "road",
        );
        ly += 26.0;
    }
    row(
        &mut *o,
        ly,
        format!(
            r#"<rect class="key rsu c0" x="{:.1}" y="{:.1}" width="10" height="10"/>"#,
            lx + 7.0,
            ly - 5.0
        ),
        "RSU (its VMs are the sellers)",
    );
    ly += 26.0;
    row(
        &mut *o,
        ly,
        format!(
            r#"<circle class="cov c0" cx="{:.1}" cy="{ly}" r="10"/>"#,
            lx + 12.0
        ),
        &format!("coverage, radius {}", fmt_m(map.coverage_m)),
    );
    ly += 26.0;
    row(
        &mut *o,
        ly,
        format!(
            r#"<circle class="key v c0" cx="{:.1}" cy="{ly}" r="4"/><circle class="key v c1" cx="{:.1}" cy="{ly}" r="4"/><circle class="key v c2" cx="{:.1}" cy="{ly}" r="4"/>"#,
            lx + 3.0,
            lx + 12.0,
            lx + 21.0
        ),
        "vehicle, colour of its RSU",
    );
    ly += 26.0;
    row(
        &mut *o,
        ly,
        format!(
            r#"<circle class="key v u" cx="{:.1}" cy="{ly}" r="4"/>"#,
            lx + 12.0
        ),
        "vehicle out of coverage",
    );
    ly += 26.0;
    row(
        &mut *o,
        ly,
        format!(
            r#"<line class="tr" x1="{lx}" y1="{ly}" x2="{:.1}" y2="{ly}"/>"#,
            lx + 24.0
        ),
        "trade this slot (RSU to buyer)",
    );
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid_map(n_side: usize, vehicles: usize) -> MapData {
        let step = 1000.0 / n_side as f64;
        let mut m = MapData {
            title: "t <&>".into(),
            coverage_m: step,
            road_width_m: 14.0,
            roads: vec![vec![[125.0, 0.0], [125.0, 1000.0]]],
            ..Default::default()
        };
        for j in 0..n_side {
            for i in 0..n_side {
                m.rsu_x.push((i as f64 + 0.5) * step);
                m.rsu_y.push((j as f64 + 0.5) * step);
            }
        }
        for v in 0..vehicles {
            m.vehicle_x.push((v * 37 % 1000) as f64);
            m.vehicle_y.push((v * 91 % 1000) as f64);
            m.active.push(v % 10 != 9);
            m.serving.push(if v % 7 == 0 { NO_RSU } else { 0 });
        }
        m.trades.push(TradeRecord {
            vehicle: 1,
            rsu: 0,
            ..Default::default()
        });
        m
    }

    #[test]
    fn neighbouring_rsus_get_different_colours() {
        for n in [2, 5, 32] {
            let m = grid_map(n, 0);
            let c = rsu_colours(&m.rsu_x, &m.rsu_y, m.coverage_m * 0.8);
            for i in 0..c.len() {
                for j in 0..i {
                    let d = (m.rsu_x[i] - m.rsu_x[j]).hypot(m.rsu_y[i] - m.rsu_y[j]);
                    if d < 1.6 * m.coverage_m {
                        assert_ne!(c[i], c[j], "RSUs {i} and {j}");
                    }
                }
            }
        }
    }

    #[test]
    fn every_active_vehicle_in_view_is_drawn_and_text_is_escaped() {
        let m = grid_map(2, 50);
        let full = View {
            x0: 0.0,
            y0: 0.0,
            x1: 1000.0,
            y1: 1000.0,
        };
        let svg = render_svg(&m, &full, 5000);
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        let active = m.active.iter().filter(|&&a| a).count();
        assert_eq!(svg.matches(r#"<circle class="v "#).count(), active);
        let trades = svg.split(r#"<g class="tr">"#).nth(1).unwrap();
        let trades = &trades[..trades.find("</g>").unwrap()];
        assert_eq!(trades.matches("<line ").count(), 1);
        assert!(svg.contains("t &lt;&amp;&gt;"));
        assert!(svg.contains(r#"<circle class="v u""#));
        assert_eq!(svg.matches(r#"<circle class="key "#).count(), 4);
        assert!(svg.contains("RSU 3"));
        // A window keeps only what it contains.
        let half = View {
            x0: 0.0,
            y0: 0.0,
            x1: 500.0,
            y1: 500.0,
        };
        let inside = (0..50)
            .filter(|&v| m.active[v] && m.vehicle_x[v] <= 500.0 && m.vehicle_y[v] <= 500.0)
            .count();
        let svg = render_svg(&m, &half, 5000);
        assert_eq!(svg.matches(r#"<circle class="v "#).count(), inside);
    }

    #[test]
    fn large_populations_are_subsampled_but_trading_vehicles_kept() {
        let m = grid_map(4, 20_000);
        let full = View {
            x0: 0.0,
            y0: 0.0,
            x1: 1000.0,
            y1: 1000.0,
        };
        let svg = render_svg(&m, &full, 1000);
        let drawn = svg.matches(r#"<circle class="v "#).count();
        assert!((900..=1001).contains(&drawn), "{drawn}");
        assert!(svg.contains("Drawing"));
        // Vehicle 1 trades: its dot is drawn.
        let (x, y) = (LEFT + 37.0 * 0.9, TOP + (1000.0 - 91.0) * 0.9);
        assert!(svg.contains(&format!(r#"cx="{x:.1}" cy="{y:.1}""#)));
    }

    #[test]
    fn scale_bars_are_round() {
        assert_eq!(scale_bar_m(1000.0), 200.0);
        assert_eq!(scale_bar_m(10_000.0), 2000.0);
        assert_eq!(scale_bar_m(3000.0), 500.0);
        assert_eq!(fmt_m(2000.0), "2 km");
        assert_eq!(fmt_m(250.0), "250 m");
    }

    #[test]
    fn windows_are_validated() {
        assert!(parse_window("0,0,500,400").is_ok());
        for bad in ["0,0,500", "0,0,a,1", "5,0,1,1", "0,0,1,inf"] {
            assert!(parse_window(bad).is_err(), "{bad}");
        }
    }
}
