//! Vehicle mobility (M1): where every vehicle is at each slot.
//!
//! A [`Mobility`] model owns its private state and writes the shared [`Positions`] (struct of
//! arrays, indexed by vehicle id). Two implementations: [`Grid`], the Manhattan grid with lanes of
//! DESIGN.md §1.2, and trace replay (SUMO FCD, DESIGN.md §4.4).
//!
//! ## Invariants
//! - The number of vehicles is fixed for a run; a vehicle that is not on the map (trace replay)
//!   is marked inactive and takes no part in markets.
//! - `moved_m[v]` is the distance vehicle v travelled in the last step (it drives shadowing).

mod grid;
mod trace;
pub use grid::Grid;
pub use trace::Trace;

use serde::{Deserialize, Serialize};

use crate::check::{non_negative, positive, positive_count, probability};
use crate::error::{Error, Result};
use crate::world::ScenarioConfig;

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

impl MobilityConfig {
    /// Checks every value against its allowed range; lanes must fit in `world`'s blocks.
    ///
    /// # Errors
    /// [`Error::Config`] naming the first offending `mobility.*` key.
    pub fn validate(&self, world: &ScenarioConfig) -> Result<()> {
        let m = self;
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
        if 2.0 * m.lanes_per_direction as f64 * m.lane_width_m >= world.block_m {
            return Err(Error::config(
                "mobility.lanes_per_direction",
                "roads wider than a block",
            ));
        }
        Ok(())
    }
}

/// Vehicle positions, struct of arrays.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Positions {
    /// x coordinate in metres.
    pub x: Vec<f64>,
    /// y coordinate in metres.
    pub y: Vec<f64>,
    /// Distance travelled during the last step, in metres.
    pub moved_m: Vec<f64>,
    /// Whether the vehicle is on the map.
    pub active: Vec<bool>,
}

impl Positions {
    /// `n` inactive vehicles at the origin.
    pub fn new(n: usize) -> Self {
        Self {
            x: vec![0.0; n],
            y: vec![0.0; n],
            moved_m: vec![0.0; n],
            active: vec![false; n],
        }
    }

    /// Number of vehicles.
    pub fn len(&self) -> usize {
        self.x.len()
    }

    /// Whether there are no vehicles.
    pub fn is_empty(&self) -> bool {
        self.x.is_empty()
    }
}

/// A mobility model.
pub trait Mobility: Send + Sync + std::fmt::Debug {
    /// Places the vehicles for a new episode of run `seed`.
    ///
    /// # Errors
    /// Input errors of trace-based models (unreadable or malformed trace).
    fn reset(&mut self, seed: u64, positions: &mut Positions) -> Result<()>;

    /// Moves the vehicles to their positions at slot `slot` (1-based; `reset` gave slot 0).
    ///
    /// # Errors
    /// Input errors of trace-based models.
    fn step(&mut self, seed: u64, slot: u64, positions: &mut Positions) -> Result<()>;

    /// The roads to draw, as polylines, for rendering (may be empty).
    fn roads(&self) -> Vec<Vec<[f64; 2]>> {
        Vec::new()
    }
}

/// Builds the mobility model `config` asks for in `world`.
///
/// # Errors
/// [`crate::Error::InputFile`] for a trace that cannot be opened, or whose header or first
/// timestep is malformed (later timesteps are read, and checked, as the slots advance).
pub fn build(world: &ScenarioConfig, config: &MobilityConfig) -> Result<Box<dyn Mobility>> {
    match config.kind {
        MobilityKind::Grid => Ok(Box::new(Grid::new(world, config))),
        MobilityKind::Trace => {
            let trace = Trace::new(world, config);
            trace.check()?;
            Ok(Box::new(trace))
        }
    }
}
