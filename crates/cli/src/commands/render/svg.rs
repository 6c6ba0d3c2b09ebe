//! The SVG of `render`, layer by layer from the bottom up: title band, map frame, roads,
//! coverage discs, trades, vehicles, RSUs, then the scale bar and the legend. [`Canvas`] places
//! everything once (scale, colours, what is in view, which vehicles are drawn); each layer is
//! one function writing its SVG group.

use std::fmt::Write as _;

use iovmarket::metrics::TradeRecord;
use iovmarket::rsu::NO_RSU;

use super::{MapData, View};

/// Tableau 10: distinguishable, and legible in print.
pub(crate) const PALETTE: [&str; 10] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22",
    "#17becf", "#7f7f7f",
];
/// Map side in px; the page adds a title band, a legend column and a scale-bar band.
const MAP_PX: f64 = 900.0;
pub(super) const LEFT: f64 = 30.0;
pub(super) const TOP: f64 = 96.0;
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
pub(super) fn scale_bar_m(span: f64) -> f64 {
    let target = span / 5.0;
    let p = 10f64.powf(target.log10().floor());
    [5.0, 2.0, 1.0]
        .iter()
        .map(|m| m * p)
        .find(|&l| l <= target)
        .unwrap_or(p)
}

pub(super) fn fmt_m(m: f64) -> String {
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
