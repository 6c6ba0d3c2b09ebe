//! An advisory lock on an output directory, so two runs cannot write into the same `--out`.
//!
//! Two `train` runs started into one directory both used to report success while one's work
//! was silently lost. `train`, `simulate --out` and `reproduce` now take an exclusive lock on
//! `DIR/.iovmarket.lock` (`flock`, released by the OS when the process ends, even on kill -9)
//! before any work, and write their pid and command line into it; a second run exits 2 naming
//! that holder. The file is left in place: deleting it would let a third run lock a fresh file
//! while the second still holds the old one.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::Path;

use anyhow::{bail, Context, Result};

/// Name of the lock file inside the output directory.
pub const LOCK_FILE: &str = ".iovmarket.lock";

/// A held lock; dropping it (or the process ending) releases it.
#[derive(Debug)]
pub struct OutputLock {
    _file: File,
}

/// Creates `dir` if needed and locks it for this process.
///
/// # Errors
/// The directory cannot be created or the lock file opened; another process holds the lock
/// (the message names it).
pub fn lock_output(dir: &Path) -> Result<OutputLock> {
    fs::create_dir_all(dir)
        .with_context(|| format!("cannot create directory {}", dir.display()))?;
    let path = dir.join(LOCK_FILE);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .with_context(|| format!("cannot open the lock file {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            let holder = if holder.is_empty() {
                "another process".to_string()
            } else {
                holder.to_string()
            };
            bail!(
                "{} is in use by another run ({holder}); wait for it to finish or choose another \
                 --out",
                dir.display()
            );
        }
        Err(TryLockError::Error(e)) => {
            return Err(e).with_context(|| format!("cannot lock {}", path.display()))
        }
    }
    let command: Vec<String> = std::env::args().collect();
    let holder = format!("pid {}: {}\n", std::process::id(), command.join(" "));
    (|| -> std::io::Result<()> {
        file.set_len(0)?;
        file.rewind()?;
        file.write_all(holder.as_bytes())?;
        file.flush()
    })()
    .with_context(|| format!("cannot write the lock file {}", path.display()))?;
    Ok(OutputLock { _file: file })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_names_the_first_holder_and_a_dropped_lock_frees_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("run");
        let first = lock_output(&out).unwrap();
        // flock locks belong to the open file description, so a second open in this process
        // conflicts like another process would.
        let e = format!("{:#}", lock_output(&out).unwrap_err());
        assert!(e.contains("is in use by another run"), "{e}");
        assert!(e.contains(&format!("pid {}", std::process::id())), "{e}");
        drop(first);
        lock_output(&out).unwrap();
    }
}
