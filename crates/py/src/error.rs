//! The one place where Rust errors become Python exceptions.
//!
//! | Rust ([`iovmarket::Error`], [`iovmarket_learn::Error`]) | Python |
//! |---|---|
//! | `Config`, `ConfigParse`, `InputFile` | `iovmarket.ConfigError` (a `ValueError`) |
//! | `Io` | `OSError` |
//! | `InvalidAction`, `Shape`, `InvalidOrder` | `ValueError` |
//! | `EpisodeOver` | `iovmarket.EpisodeOverError` (a `RuntimeError`) |
//! | learner: checkpoint and training errors | `ValueError` |
//! | arguments of the binding itself ([`invalid_argument`]) | `ValueError` |
//!
//! The message is always the Rust error's `Display`, which names the offending config key,
//! file and line, or action index. No other module builds a Python exception.

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
        E::InvalidAction { .. }
        | E::InvalidBid { .. }
        | E::Shape { .. }
        | E::InvalidOrder { .. } => PyValueError::new_err(msg),
    }
}

/// Converts a learner error: core errors as [`to_py`], a bad `[train]` value as `ConfigError`,
/// I/O as `OSError`, everything else (checkpoints, divergence) as `ValueError`.
pub fn learn_to_py(err: iovmarket_learn::Error) -> PyErr {
    use iovmarket_learn::Error as E;
    match err {
        E::Core(e) => to_py(e),
        E::Config { .. } => ConfigError::new_err(err.to_string()),
        E::Io { .. } => PyOSError::new_err(err.to_string()),
        other => PyValueError::new_err(other.to_string()),
    }
}

/// A `ValueError` for an argument of the binding itself (e.g. `episodes=0`); `message` names
/// the argument and what was expected.
pub fn invalid_argument(message: impl Into<String>) -> PyErr {
    PyValueError::new_err(message.into())
}

/// `?`-friendly conversion of core results (learner results: `.map_err(learn_to_py)`).
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
