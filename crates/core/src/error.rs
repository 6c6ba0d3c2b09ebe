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
    #[error("{side}[{index}] = {}: {message}", Short(*value))]
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
    #[error("actions[{index}] = {}: expected a finite number in [0, 1]", Short(*value))]
    InvalidAction {
        /// Agent index.
        index: usize,
        /// The offending value.
        value: f32,
    },
    /// A bid that is negative or not a finite number.
    #[error("bids[{index}] = {value:e}: expected a finite number >= 0")]
    InvalidBid {
        /// Vehicle index.
        index: usize,
        /// The offending value.
        value: f64,
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

/// A number as written for people: plain (`-2`, `0.5`) at ordinary magnitudes, scientific
/// (`-1e308`, `1e-300`) beyond them, where `{}` would print hundreds of digits. Both forms are
/// the shortest that round-trip.
#[derive(Debug, Clone, Copy)]
pub struct Short<T>(pub T);

impl<T: Copy + std::fmt::Display + std::fmt::LowerExp + Into<f64>> std::fmt::Display for Short<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let x: f64 = self.0.into();
        if x == 0.0 || !x.is_finite() || (1e-5..1e16).contains(&x.abs()) {
            write!(f, "{}", self.0)
        } else {
            write!(f, "{:e}", self.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Short;

    #[test]
    fn short_numbers() {
        assert_eq!(Short(-2.0).to_string(), "-2");
        assert_eq!(Short(0.5).to_string(), "0.5");
        assert_eq!(Short(-1e308).to_string(), "-1e308");
        assert_eq!(Short(1.5e-300).to_string(), "1.5e-300");
        assert_eq!(Short(3e38f32).to_string(), "3e38");
        assert_eq!(Short(f64::NAN).to_string(), "NaN");
    }
}
