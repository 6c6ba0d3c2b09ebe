//! The world every component shares (`[scenario]`): sizes, geometry, time and the run seed.
//!
//! It is a leaf: the components (mobility, RSUs, the env) read it, and it reads none of them.

use serde::{Deserialize, Serialize};

use crate::check::{non_negative, positive, positive_count};
use crate::error::{Error, Result};

/// `[scenario]`: sizes, geometry and time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScenarioConfig {
    /// Number of vehicles (agents). By default, 80.
    pub vehicles: usize,
    /// Number of RSUs; a perfect square unless `rsu_positions` is given. By default, 4.
    pub rsus: usize,
    /// VMs (sellers) per RSU. By default, 5.
    pub vms_per_rsu: usize,
    /// Side of the square area in metres. By default, 1000.
    pub area_m: f64,
    /// Distance between parallel roads in metres. By default, 250.
    pub block_m: f64,
    /// RSU coverage radius in metres. By default, 500.
    pub coverage_m: f64,
    /// Slot length in seconds. By default, 1.0.
    pub slot_s: f64,
    /// Slots per episode (T). By default, 100.
    pub episode_slots: usize,
    /// Run seed; every random stream derives from it. By default, 0.
    pub seed: u64,
    /// Explicit RSU positions `[[x, y], ..]`; empty means a regular grid. By default, empty.
    pub rsu_positions: Vec<[f64; 2]>,
    /// Memory limit in GB (10⁹ bytes) for the estimate of [`crate::memory`]; 0 means the
    /// machine's available memory. By default, 0.
    pub max_memory_gb: f64,
}

impl Default for ScenarioConfig {
    fn default() -> Self {
        Self {
            vehicles: 80,
            rsus: 4,
            vms_per_rsu: 5,
            area_m: 1000.0,
            block_m: 250.0,
            coverage_m: 500.0,
            slot_s: 1.0,
            episode_slots: 100,
            seed: 0,
            rsu_positions: Vec::new(),
            max_memory_gb: 0.0,
        }
    }
}

impl ScenarioConfig {
    /// Checks every value against its allowed range.
    ///
    /// # Errors
    /// [`Error::Config`] naming the first offending `scenario.*` key.
    pub fn validate(&self) -> Result<()> {
        let s = self;
        positive_count("scenario.vehicles", s.vehicles)?;
        positive_count("scenario.rsus", s.rsus)?;
        positive_count("scenario.vms_per_rsu", s.vms_per_rsu)?;
        positive("scenario.area_m", s.area_m)?;
        positive("scenario.block_m", s.block_m)?;
        if s.block_m > s.area_m {
            return Err(Error::config(
                "scenario.block_m",
                "must not exceed scenario.area_m",
            ));
        }
        positive("scenario.coverage_m", s.coverage_m)?;
        positive("scenario.slot_s", s.slot_s)?;
        positive_count("scenario.episode_slots", s.episode_slots)?;
        non_negative("scenario.max_memory_gb", s.max_memory_gb)?;
        if s.rsu_positions.is_empty() {
            let side = (s.rsus as f64).sqrt().round() as usize;
            if side * side != s.rsus {
                return Err(Error::config(
                    "scenario.rsus",
                    format!(
                        "{} is not a perfect square; give scenario.rsu_positions explicitly",
                        s.rsus
                    ),
                ));
            }
        } else {
            if s.rsu_positions.len() != s.rsus {
                return Err(Error::config(
                    "scenario.rsu_positions",
                    format!(
                        "has {} entries but scenario.rsus = {}",
                        s.rsu_positions.len(),
                        s.rsus
                    ),
                ));
            }
            for (i, p) in s.rsu_positions.iter().enumerate() {
                if !p
                    .iter()
                    .all(|c| c.is_finite() && *c >= 0.0 && *c <= s.area_m)
                {
                    return Err(Error::config(
                        "scenario.rsu_positions",
                        format!("entry {i} = {p:?} must lie inside [0, area_m]²"),
                    ));
                }
            }
        }
        Ok(())
    }
}
