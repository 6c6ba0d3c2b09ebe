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

use crate::config::{MobilityKind, Scenario};
use crate::error::Result;

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

/// Builds the mobility model the scenario asks for.
///
/// # Errors
/// [`crate::Error::InputFile`] for a trace that cannot be opened, or whose header or first
/// timestep is malformed (later timesteps are read, and checked, as the slots advance).
pub fn build(scenario: &Scenario) -> Result<Box<dyn Mobility>> {
    match scenario.mobility.kind {
        MobilityKind::Grid => Ok(Box::new(Grid::new(scenario))),
        MobilityKind::Trace => {
            let trace = Trace::new(scenario);
            trace.check()?;
            Ok(Box::new(trace))
        }
    }
}
