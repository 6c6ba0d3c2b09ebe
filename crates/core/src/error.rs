//! Error types of the model core.

use thiserror::Error;

/// Everything that can go wrong while building or running the model.
#[derive(Debug, Error)]
pub enum Error {
    /// A config value outside its allowed range.
    #[error("config key `{key}`: {message}")]
    Config {
        /// Dotted key, e.g. `workload.request_prob`.
        key: String,
        /// What was wrong and what was expected.
        message: String,
    },
    /// The config text itself could not be parsed.
    #[error("config: {0}")]
    ConfigParse(String),
    /// An input file (size trace, mobility trace) could not be read or parsed.
    #[error("{path}:{line}: {message}")]
    InputFile {
        /// The file.
        path: String,
        /// 1-based line number (0 when the whole file is at fault).
        line: usize,
        /// What was wrong and what was expected.
        message: String,
    },
    /// An I/O error on a named file.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// An invalid market input (bid or ask).
    // `{:?}` is the shortest round-trip form (-1e308), not a 310-digit decimal.
    #[error("{side}[{index}] = {value:?}: {message}")]
    InvalidOrder {
        /// `bids` or `asks`.
        side: &'static str,
        /// Index in the input array.
        index: usize,
        /// The offending value.
        value: f64,
        /// What was expected.
        message: &'static str,
    },
    /// `step` called on a finished episode.
    #[error("the episode is over (slot {slot} of {slots}); call reset first")]
    EpisodeOver {
        /// Slots played.
        slot: u64,
        /// Episode length.
        slots: usize,
    },
    /// An action that is not a finite number.
    #[error("actions[{index}] = {value:?}: expected a finite number in [0, 1]")]
    InvalidAction {
        /// Agent index.
        index: usize,
        /// The offending value.
        value: f32,
    },
    /// Wrong buffer length passed to the env.
    #[error("{what}: expected length {expected}, got {got}")]
    Shape {
        /// Which buffer.
        what: &'static str,
        /// Expected length.
        expected: usize,
        /// Actual length.
        got: usize,
    },
}

impl Error {
    /// A config error for `key`.
    pub fn config(key: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Config {
            key: key.into(),
            message: message.into(),
        }
    }
}

/// Result alias of the core.
pub type Result<T, E = Error> = std::result::Result<T, E>;
