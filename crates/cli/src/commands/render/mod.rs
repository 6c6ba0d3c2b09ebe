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

mod svg;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use iovmarket::agents::TruthfulBidder;
use iovmarket::env::{IovEnv, MultiAgentEnv};
use iovmarket::metrics::{SlotMetrics, TradeRecord};

use super::ConfigArgs;
use crate::output::write_atomic;
pub use svg::render_svg;
pub(crate) use svg::{rsu_colours, PALETTE};

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
        None => View {
            x0: 0.0,
            y0: 0.0,
            x1: area,
            y1: area,
        },
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

#[cfg(test)]
mod tests {
    use super::svg::{fmt_m, rsu_colours, scale_bar_m, LEFT, TOP};
    use super::*;
    use iovmarket::rsu::NO_RSU;

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
