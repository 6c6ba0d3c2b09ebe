//! The journal of `reproduce`: every finished job's output, written atomically under
//! `--out/.journal/` the moment the job completes, so that a killed run loses at most the jobs
//! in flight and `reproduce --resume` skips the rest.
//!
//! Entries are keyed by a stable job id (e.g. `method.ms.ours.v20.s0`, see
//! [`super::plan::job_id`]), one JSON file per job, so other job kinds can journal under ids of
//! their own. `fingerprint.json` holds what the jobs' results depend on (the plan, the complete
//! scenario and the version); a resume against a different fingerprint is refused, so a journal
//! never mixes runs. Numbers round-trip exactly (serde_json's `float_roundtrip`), which makes a
//! resumed run's outputs byte-identical to an uninterrupted run's.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::output::write_atomic;

/// Directory of the journal inside `--out`.
pub(super) const JOURNAL_DIR: &str = ".journal";
const FINGERPRINT: &str = "fingerprint.json";

/// An open journal.
#[derive(Debug)]
pub(super) struct Journal {
    dir: PathBuf,
}

impl Journal {
    /// Opens the journal of `out` for a run with `fingerprint`: a fresh one (any old entries
    /// removed) unless `resume`, in which case the existing one must exist and match.
    ///
    /// # Errors
    /// `--resume` without a journal, or with one of a different plan or config; I/O errors.
    pub(super) fn open(out: &Path, fingerprint: &serde_json::Value, resume: bool) -> Result<Self> {
        let dir = out.join(JOURNAL_DIR);
        let path = dir.join(FINGERPRINT);
        if resume {
            let text = match fs::read(&path) {
                Ok(text) => text,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
                    "--resume: {} holds no unfinished reproduce run (no {}); run without --resume",
                    out.display(),
                    path.display()
                ),
                Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
            };
            let stored: serde_json::Value = serde_json::from_slice(&text)
                .with_context(|| format!("--resume: {} is not valid JSON", path.display()))?;
            if stored != *fingerprint {
                bail!(
                    "--resume: the unfinished run in {} was started with another plan, config or \
                     version ({}); resume with the same flags and config, or run without --resume \
                     to start over",
                    out.display(),
                    first_difference(&stored, fingerprint)
                );
            }
        } else {
            if dir.exists() {
                fs::remove_dir_all(&dir)
                    .with_context(|| format!("cannot remove the old journal {}", dir.display()))?;
            }
            let mut bytes = serde_json::to_vec_pretty(fingerprint)?;
            bytes.push(b'\n');
            write_atomic(&path, &bytes)?;
        }
        Ok(Self { dir })
    }

    fn entry(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    /// The recorded output of job `id`, if it finished.
    ///
    /// # Errors
    /// An entry that cannot be read or parsed (named).
    pub(super) fn get<T: DeserializeOwned>(&self, id: &str) -> Result<Option<T>> {
        let path = self.entry(id);
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).with_context(|| {
                format!(
                    "--resume: journal entry {} is damaged; delete it to rerun that job",
                    path.display()
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    /// Records job `id`'s output (atomically: the entry is complete or absent).
    ///
    /// # Errors
    /// The entry cannot be written.
    pub(super) fn record<T: Serialize>(&self, id: &str, output: &T) -> Result<()> {
        write_atomic(&self.entry(id), &serde_json::to_vec(output)?)
    }

    /// Number of recorded jobs.
    pub(super) fn len(&self) -> usize {
        fs::read_dir(&self.dir).map_or(0, |d| {
            d.filter_map(|e| e.ok())
                .filter(|e| {
                    let name = e.file_name();
                    let name = name.to_string_lossy();
                    name.ends_with(".json") && name != FINGERPRINT
                })
                .count()
        })
    }

    /// Removes the journal (once the whole output set is in place).
    ///
    /// # Errors
    /// The directory cannot be removed.
    pub(super) fn remove(self) -> Result<()> {
        fs::remove_dir_all(&self.dir)
            .with_context(|| format!("cannot remove the journal {}", self.dir.display()))
    }
}

/// The first key (dotted path) whose value differs between two fingerprints.
fn first_difference(a: &serde_json::Value, b: &serde_json::Value) -> String {
    fn walk(a: &serde_json::Value, b: &serde_json::Value, at: &str) -> Option<String> {
        match (a, b) {
            (serde_json::Value::Object(x), serde_json::Value::Object(y)) => {
                for (k, v) in y {
                    let here = if at.is_empty() {
                        k.clone()
                    } else {
                        format!("{at}.{k}")
                    };
                    match x.get(k) {
                        Some(u) => {
                            if let Some(d) = walk(u, v, &here) {
                                return Some(d);
                            }
                        }
                        None => return Some(format!("{here} is new")),
                    }
                }
                x.keys()
                    .find(|k| !y.contains_key(*k))
                    .map(|k| format!("{at}.{k} is gone"))
            }
            _ if a != b => Some(format!("{at}: was {a}, now {b}")),
            _ => None,
        }
    }
    walk(a, b, "").unwrap_or_else(|| "unknown difference".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_exactly_and_a_resume_needs_the_same_fingerprint() {
        let dir = tempfile::tempdir().unwrap();
        let fp = serde_json::json!({"plan": {"epochs": 2}, "version": "x"});
        let j = Journal::open(dir.path(), &fp, false).unwrap();
        // Values whose shortest decimal form does not parse back exactly without
        // `float_roundtrip`.
        let xs = [
            0.1 + 0.2,
            1.0 / 3.0,
            -78.78123456789012,
            5e-324,
            1.7976931348623157e308,
        ];
        j.record("method.ms.ours.v20.s0", &xs).unwrap();
        let back: [f64; 5] = j.get("method.ms.ours.v20.s0").unwrap().unwrap();
        assert_eq!(xs.map(f64::to_bits), back.map(f64::to_bits));
        assert!(j.get::<f64>("method.ms.ours.v40.s0").unwrap().is_none());
        assert_eq!(j.len(), 1);

        let j = Journal::open(dir.path(), &fp, true).unwrap();
        assert_eq!(j.len(), 1);
        let other = serde_json::json!({"plan": {"epochs": 3}, "version": "x"});
        let e = Journal::open(dir.path(), &other, true)
            .unwrap_err()
            .to_string();
        assert!(e.contains("plan.epochs: was 2, now 3"), "{e}");
        // A fresh run clears the old entries.
        let j = Journal::open(dir.path(), &other, false).unwrap();
        assert_eq!(j.len(), 0);
        j.remove().unwrap();
        let e = Journal::open(dir.path(), &other, true)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no unfinished reproduce run"), "{e}");
    }
}
