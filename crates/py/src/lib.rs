//! # iovmarket-py: the Python binding
//!
//! Builds the private extension module `iovmarket._core`; the public Python package
//! (`python/iovmarket/`) is pure Python over it: the PettingZoo `ParallelEnv`, the vectorised
//! `VecEnv`, `simulate` and the Ray `sweep`.
//!
//! | Python (`iovmarket._core`) | Rust |
//! |---|---|
//! | `Scenario` | [`scenario::PyScenario`] over [`iovmarket::Scenario`] |
//! | `Env` | [`env::PyEnv`] over [`iovmarket::env::IovEnv`] |
//! | `VecEnv` | [`vec_env::PyVecEnv`] over [`iovmarket::env::VecEnv`] |
//! | `simulate` | [`simulate::simulate`] |
//! | `ConfigError`, `EpisodeOverError` | [`error`], where every core error is mapped |
//!
//! Every long call (reset, step, simulate) releases the GIL. The crate is a workspace member but
//! not a default member, so `cargo test` at the root never builds PyO3; build it with
//! `pip install ./crates/py` (maturin) or check it with `cargo clippy -p iovmarket-py`.

pub mod env;
pub mod error;
pub mod metrics;
pub mod scenario;
pub mod simulate;
pub mod train;
pub mod vec_env;

use pyo3::prelude::*;

/// The extension module `iovmarket._core`.
#[pymodule]
#[pyo3(name = "_core")]
fn core_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_class::<scenario::PyScenario>()?;
    m.add_class::<env::PyEnv>()?;
    m.add_class::<vec_env::PyVecEnv>()?;
    m.add_function(wrap_pyfunction!(simulate::simulate, m)?)?;
    m.add_function(wrap_pyfunction!(train::train, m)?)?;
    m.add("ConfigError", py.get_type::<error::ConfigError>())?;
    m.add("EpisodeOverError", py.get_type::<error::EpisodeOverError>())?;
    m.add("SLOT_FLOAT_FIELDS", metrics::slot_float_names())?;
    m.add("SLOT_INT_FIELDS", metrics::slot_int_names())?;
    m.add("EPISODE_FLOAT_FIELDS", metrics::episode_float_names())?;
    m.add("EPISODE_INT_FIELDS", metrics::episode_int_names())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
