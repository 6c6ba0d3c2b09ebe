//! Errors of the learner.

use std::path::PathBuf;

use thiserror::Error;

/// Everything that can go wrong while training, evaluating or loading a checkpoint.
#[derive(Debug, Error)]
pub enum Error {
    /// An error of the model core (config, env).
    #[error(transparent)]
    Core(#[from] iovmarket::Error),
    /// A training setting outside its range.
    #[error("config key `{key}`: {message}")]
    Config {
        /// Dotted key, e.g. `train.n_envs`.
        key: &'static str,
        /// What was wrong and what was expected.
        message: String,
    },
    /// An I/O error on a named file.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file does not start with the checkpoint magic bytes.
    #[error("{}: not an iovmarket checkpoint", path.display())]
    NotACheckpoint {
        /// The file.
        path: PathBuf,
    },
    /// A checkpoint written by an incompatible format version.
    #[error("{}: checkpoint format version {found}, this build reads version {expected}", path.display())]
    Version {
        /// The file.
        path: PathBuf,
        /// Version in the file.
        found: u32,
        /// Version this build reads.
        expected: u32,
    },
    /// The file is shorter than its header says.
    #[error("{}: truncated checkpoint ({got} of {expected} bytes)", path.display())]
    Truncated {
        /// The file.
        path: PathBuf,
        /// Bytes the header announces.
        expected: u64,
        /// Bytes present.
        got: u64,
    },
    /// Checksum mismatch or an undecodable payload.
    #[error("{}: corrupt checkpoint: {message}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What failed.
        message: String,
    },
    /// A checkpoint that does not fit the scenario or run it is used with.
    #[error(
        "checkpoint does not match: {what} is {checkpoint} in the checkpoint but {current} here"
    )]
    Mismatch {
        /// Which quantity differs.
        what: String,
        /// Its value in the checkpoint.
        checkpoint: String,
        /// Its value in the current run.
        current: String,
    },
    /// Training produced a non-finite loss or parameter.
    #[error("training diverged at epoch {epoch}: {what} is not finite")]
    Diverged {
        /// The PPO iteration.
        epoch: usize,
        /// What became non-finite.
        what: &'static str,
    },
    /// The rayon thread pool could not be built.
    #[error("cannot start {threads} worker threads: {message}")]
    ThreadPool {
        /// Requested thread count.
        threads: usize,
        /// The pool builder's message.
        message: String,
    },
}

/// Result alias of the learner.
pub type Result<T, E = Error> = std::result::Result<T, E>;
