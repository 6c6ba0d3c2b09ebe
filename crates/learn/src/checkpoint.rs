//! Checkpoints: the complete training state in one file, written atomically, with a checksum.
//!
//! ## Format (version 2; version 1 had no bid parameterisation in the policy)
//! ```text
//! bytes 0..8    magic "IOVMCKPT"
//! bytes 8..12   format version, u32 little-endian
//! bytes 12..20  payload length n, u64 little-endian
//! bytes 20..24  CRC-32 (IEEE) of the payload, u32 little-endian
//! bytes 24..    payload: JSON of [`Snapshot`] (f32 vectors as their u32 bit patterns)
//! ```
//! The file is written to a temporary name in the target directory, synced, then renamed over
//! the target, so a crash leaves either the old or the new checkpoint, never a mix.
//!
//! ## Invariants
//! - Loading a saved snapshot gives back an equal snapshot, bit for bit (f32 as bit patterns,
//!   f64 through `serde_json`'s exact round-trip parser).
//! - Every failure to read is an [`Error`], never a panic: wrong magic, other version,
//!   truncation, checksum mismatch, undecodable JSON, or inconsistent array lengths.

use std::fs;
use std::path::Path;

use iovmarket::Scenario;
use serde::{Deserialize, Serialize};

use crate::config::{with_full_train_table, BidDistribution};
use crate::error::{Error, Result};
use crate::nn::{Adam, Mlp};
use crate::policy::Policy;
use crate::ppo::ValueNorm;
use crate::rollout::Critic;
use crate::stats::EpochStats;

/// First bytes of every checkpoint.
pub const MAGIC: &[u8; 8] = b"IOVMCKPT";
/// The format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 2;
const HEADER: usize = 24;

/// The complete state of a training run after `epoch` epochs.
///
/// The random state is `(seed, epoch)`: every stream the learner draws from (episode seeds,
/// action samples, minibatch shuffles) is a pure function of the run seed and the epoch, so no
/// generator state needs to be stored beyond these two numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The full scenario (TOML), config of the run.
    pub scenario: String,
    /// Run seed.
    pub seed: u64,
    /// Epochs completed.
    pub epoch: usize,
    /// Actor(s).
    pub policy: Policy,
    /// Adam state of each actor.
    pub actor_adam: Vec<Adam>,
    /// The critic.
    pub critic: Critic,
    /// The critic's Adam state.
    pub critic_adam: Adam,
    /// Value-normalisation statistics.
    pub value_norm: ValueNorm,
    /// Statistics of every epoch so far.
    pub curve: Vec<EpochStats>,
}

impl Snapshot {
    /// The scenario stored in the snapshot.
    ///
    /// # Errors
    /// [`Error::Core`] if the stored TOML no longer parses (e.g. written by another version).
    pub fn scenario(&self) -> Result<Scenario> {
        Ok(Scenario::from_toml(&self.scenario, &[])?)
    }

    /// Checks that `scenario` equals the stored one except for `train.epochs`, `train.threads`
    /// and `scenario.max_memory_gb` (which may change on resume).
    ///
    /// # Errors
    /// [`Error::Mismatch`] naming the first differing config line.
    pub fn check_scenario(&self, scenario: &Scenario) -> Result<()> {
        // Compared with full `[train]` tables, `epochs` and `threads` taken from `scenario`, and
        // the memory limit (a property of the machine, not of the run).
        let scenario = &with_full_train_table(scenario)?;
        let mut stored = with_full_train_table(&self.scenario()?)?;
        for key in ["epochs", "threads"] {
            stored.train.insert(key.into(), scenario.train[key].clone());
        }
        stored.scenario.max_memory_gb = scenario.scenario.max_memory_gb;
        if stored == *scenario {
            return Ok(());
        }
        let (a, b) = (stored.to_toml(), scenario.to_toml());
        let (mut table, mut line) = (String::new(), (String::new(), String::new()));
        for (x, y) in a.lines().zip(b.lines()) {
            if x.starts_with('[') {
                table = x.trim_matches(|c| c == '[' || c == ']').to_string();
            }
            if x != y {
                line = (x.to_string(), y.to_string());
                break;
            }
        }
        let key = |l: &str| l.split('=').next().unwrap_or("").trim().to_string();
        let value = |l: &str| l.split_once('=').map_or(l, |(_, v)| v).trim().to_string();
        Err(Error::Mismatch {
            what: format!("config `{table}.{}`", key(&line.0)),
            checkpoint: value(&line.0),
            current: value(&line.1),
        })
    }

    /// The file contents (header and payload).
    pub fn encode(&self) -> Vec<u8> {
        let payload = serde_json::to_vec(self).expect("a snapshot serialises to JSON");
        let mut out = Vec::with_capacity(HEADER + payload.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        out.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        out.extend_from_slice(&payload);
        out
    }

    /// Decodes file contents; `path` only labels errors.
    ///
    /// # Errors
    /// See the module docs.
    pub fn decode(bytes: &[u8], path: &Path) -> Result<Self> {
        let p = || path.to_path_buf();
        if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
            return Err(Error::NotACheckpoint { path: p() });
        }
        if bytes.len() < HEADER {
            return Err(Error::Truncated {
                path: p(),
                expected: HEADER as u64,
                got: bytes.len() as u64,
            });
        }
        let u32_at = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().expect("4 bytes"));
        let version = u32_at(8);
        if version != FORMAT_VERSION {
            return Err(Error::Version {
                path: p(),
                found: version,
                expected: FORMAT_VERSION,
            });
        }
        let len = u64::from_le_bytes(bytes[12..20].try_into().expect("8 bytes"));
        let total = (HEADER as u64).saturating_add(len);
        if (bytes.len() as u64) < total {
            return Err(Error::Truncated {
                path: p(),
                expected: total,
                got: bytes.len() as u64,
            });
        }
        if (bytes.len() as u64) > total {
            return Err(Error::Corrupt {
                path: p(),
                message: format!("{} trailing bytes", bytes.len() as u64 - total),
            });
        }
        let payload = &bytes[HEADER..];
        let (stored, actual) = (u32_at(20), crc32fast::hash(payload));
        if stored != actual {
            return Err(Error::Corrupt {
                path: p(),
                message: format!("checksum {actual:08x}, header says {stored:08x}"),
            });
        }
        let snap: Snapshot = serde_json::from_slice(payload).map_err(|e| Error::Corrupt {
            path: p(),
            message: e.to_string(),
        })?;
        snap.validate()
            .map_err(|message| Error::Corrupt { path: p(), message })?;
        Ok(snap)
    }

    /// Array lengths agree with the network layouts.
    fn validate(&self) -> std::result::Result<(), String> {
        let pl = &self.policy;
        let want = pl.net.len() + 1;
        if pl.actors.is_empty() || (pl.actors.len() != 1 && pl.actors.len() != pl.agents) {
            return Err(format!(
                "{} actors for {} agents",
                pl.actors.len(),
                pl.agents
            ));
        }
        if pl.net.inputs() != pl.obs_dim {
            return Err("actor input length differs from obs_dim".into());
        }
        let outputs = match pl.distribution {
            BidDistribution::SquashedGaussian => 1,
            BidDistribution::Beta => 2,
        };
        if pl.net.outputs() != outputs {
            return Err("actor head does not fit the bid distribution".into());
        }
        for (what, net) in [("actor", &pl.net), ("critic", &self.critic.net)] {
            if !canonical(net) {
                return Err(format!("inconsistent {what} layer layout"));
            }
        }
        for (i, a) in pl.actors.iter().enumerate() {
            if a.0.len() != want {
                return Err(format!(
                    "actor {i} has {} parameters, expected {want}",
                    a.0.len()
                ));
            }
        }
        if self.actor_adam.len() != pl.actors.len() {
            return Err("one Adam state per actor expected".into());
        }
        let adam_ok = |a: &Adam, n: usize| a.m.len() == n && a.v.len() == n;
        if !self.actor_adam.iter().all(|a| adam_ok(a, want)) {
            return Err("actor Adam state has the wrong length".into());
        }
        let c = self.critic.net.len();
        if self.critic.params.0.len() != c || !adam_ok(&self.critic_adam, c) {
            return Err("critic parameters or Adam state have the wrong length".into());
        }
        if self.curve.len() != self.epoch {
            return Err(format!(
                "{} curve rows for epoch {}",
                self.curve.len(),
                self.epoch
            ));
        }
        Ok(())
    }

    /// Writes the snapshot to `path` atomically (temp file in the same directory, then rename).
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn save(&self, path: &Path) -> Result<()> {
        iovmarket::atomic_file::write_atomic(path, &self.encode()).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Reads a snapshot from `path`.
    ///
    /// # Errors
    /// [`Error::Io`] and the decoding errors of [`Snapshot::decode`].
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = fs::read(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::decode(&bytes, path)
    }
}

/// Whether `net` is exactly the layout [`Mlp::new`] builds for its sizes (so no layer can index
/// outside the parameter vector).
fn canonical(net: &Mlp) -> bool {
    let hidden: Vec<usize> = net.hidden.iter().map(|(l, _)| l.outputs).collect();
    let rebuilt = Mlp::new(net.inputs(), &hidden, net.outputs(), 0, net.activation);
    rebuilt == *net && net.input_norm.eps > 0.0
}
