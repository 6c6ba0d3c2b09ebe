//! The one place where Rust errors become Python exceptions.
//!
//! | Rust ([`iovmarket::Error`]) | Python |
//! |---|---|
//! | `Config`, `ConfigParse`, `InputFile` | `iovmarket.ConfigError` (a `ValueError`) |
//! | `Io` | `OSError` |
//! | `InvalidAction`, `Shape`, `InvalidOrder` | `ValueError` |
//! | `EpisodeOver` | `iovmarket.EpisodeOverError` (a `RuntimeError`) |
//!
//! The message is always the Rust error's `Display`, which names the offending config key,
//! file and line, or action index.

use pyo3::create_exception;
use pyo3::exceptions::{PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;

create_exception!(
    _core,
    ConfigError,
    PyValueError,
    "A scenario config that cannot be parsed or has an unknown key or out-of-range value; the \
     message names the key."
);
create_exception!(
    _core,
    EpisodeOverError,
    PyRuntimeError,
    "`step` was called after the episode was truncated; call `reset` first."
);

/// Converts a core error into the matching Python exception.
pub fn to_py(err: iovmarket::Error) -> PyErr {
    use iovmarket::Error as E;
    let msg = err.to_string();
    match err {
        E::Config { .. } | E::ConfigParse(_) | E::InputFile { .. } => ConfigError::new_err(msg),
        E::Io { .. } => PyOSError::new_err(msg),
        E::EpisodeOver { .. } => EpisodeOverError::new_err(msg),
        E::InvalidAction { .. } | E::Shape { .. } | E::InvalidOrder { .. } => {
            PyValueError::new_err(msg)
        }
    }
}

/// `?`-friendly conversion of core results.
pub trait IntoPyResult<T> {
    /// The result with its error converted by [`to_py`].
    ///
    /// # Errors
    /// The converted error.
    fn py(self) -> PyResult<T>;
}

impl<T> IntoPyResult<T> for iovmarket::Result<T> {
    fn py(self) -> PyResult<T> {
        self.map_err(to_py)
    }
}
