//! `iovmarket._core.Scenario`: a parsed and validated scenario.

use iovmarket::config::ObservationKind;
use iovmarket::Scenario;
use pyo3::prelude::*;

use crate::error::IntoPyResult;

/// A validated scenario: TOML text (empty for the paper's defaults) plus `table.key` overrides.
#[pyclass(name = "Scenario", module = "iovmarket._core", frozen)]
#[derive(Debug, Clone)]
pub struct PyScenario {
    pub(crate) inner: Scenario,
}

impl PyScenario {
    /// Parses `text` with `overrides` (see [`Scenario::from_toml`]).
    ///
    /// # Errors
    /// `ConfigError` naming the key.
    pub fn parse(text: &str, overrides: &[(String, String)]) -> PyResult<Scenario> {
        Scenario::from_toml(text, overrides)
            .and_then(|s| iovmarket_learn::config::with_full_train_table(&s))
            .py()
    }
}

#[pymethods]
impl PyScenario {
    #[new]
    #[pyo3(signature = (text = "", overrides = Vec::new()))]
    fn new(text: &str, overrides: Vec<(String, String)>) -> PyResult<Self> {
        Ok(Self {
            inner: Self::parse(text, &overrides)?,
        })
    }

    /// The full scenario as TOML (every key, defaults included).
    fn to_toml(&self) -> String {
        self.inner.to_toml()
    }

    /// Number of vehicles (agents).
    #[getter]
    fn vehicles(&self) -> usize {
        self.inner.scenario.vehicles
    }

    /// Number of RSUs (local markets).
    #[getter]
    fn rsus(&self) -> usize {
        self.inner.scenario.rsus
    }

    /// VMs (sellers) per RSU.
    #[getter]
    fn vms_per_rsu(&self) -> usize {
        self.inner.scenario.vms_per_rsu
    }

    /// Slots per episode (T).
    #[getter]
    fn episode_slots(&self) -> usize {
        self.inner.scenario.episode_slots
    }

    /// The run seed.
    #[getter]
    fn seed(&self) -> u64 {
        self.inner.scenario.seed
    }

    /// Side of the square area in metres.
    #[getter]
    fn area_m(&self) -> f64 {
        self.inner.scenario.area_m
    }

    /// The clearing mechanism's name.
    #[getter]
    fn mechanism(&self) -> String {
        self.inner.market.mechanism.to_string()
    }

    /// The configured non-learned bidder.
    #[getter]
    fn bidder(&self) -> String {
        self.inner.agents.bidder.to_string()
    }

    /// Largest bid; an action a in [0, 1] bids a · bid_max.
    #[getter]
    fn bid_max(&self) -> f64 {
        self.inner.market.bid_max
    }

    /// `paper` or `extended`.
    #[getter]
    fn observation(&self) -> &'static str {
        match self.inner.agents.observation {
            ObservationKind::Paper => "paper",
            ObservationKind::Extended => "extended",
        }
    }

    fn __repr__(&self) -> String {
        let s = &self.inner;
        format!(
            "Scenario(vehicles={}, rsus={}, mechanism={:?}, episode_slots={}, seed={})",
            s.scenario.vehicles,
            s.scenario.rsus,
            s.market.mechanism,
            s.scenario.episode_slots,
            s.scenario.seed
        )
    }
}
