//! Atomic file writes: the one helper every output of the workspace goes through.
//!
//! A file is written to a uniquely named temporary file in the target's directory
//! ([`tempfile::NamedTempFile`]), synced, then renamed over the target, so a failed or
//! interrupted write leaves either the old file or the new one, never a partial file.
//!
//! It lives in the core crate, although the model never writes a file, because core is the one
//! crate that both writers depend on: the CLI (CSVs, figures, `run.json`) and the learner
//! (checkpoints). Each caller wraps the [`std::io::Error`] in its own error type.
//!
//! ## Invariants
//! - Concurrent writers never share a temporary file: its name is chosen by the operating
//!   system with `O_EXCL`, not derived from the process id, so threads of one process writing
//!   into the same directory do not collide.
//! - On failure the temporary file is removed (dropping an unpersisted `NamedTempFile`).
//! - The written file has the mode `File::create` would give it, not the temporary file's 0600.

use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, synced, then
/// renamed over `path`. The directory must exist.
///
/// # Errors
/// The I/O error of creating, writing, syncing or renaming the temporary file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let prefix = match path.file_name() {
        Some(name) => format!(".{}.tmp-", name.to_string_lossy()),
        None => ".tmp-".to_string(),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix);
    // `NamedTempFile` is private (0600) by default; an output file gets the mode `File::create`
    // would give it (0666 less the umask).
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let mut tmp = builder.tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_replaces_without_leaving_temporary_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.csv");
        write_atomic(&path, b"old").unwrap();
        write_atomic(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    /// Regression: the temporary name was `.{name}.tmp-{process id}`, so two threads of one
    /// process writing the same target raced on one temporary file.
    #[test]
    fn many_threads_write_into_one_directory() {
        let dir = tempfile::tempdir().unwrap();
        std::thread::scope(|s| {
            for t in 0..16 {
                let dir = dir.path();
                s.spawn(move || {
                    for k in 0..20 {
                        let body = format!("thread {t} write {k}\n").repeat(200);
                        write_atomic(&dir.join(format!("f{t}.txt")), body.as_bytes()).unwrap();
                        write_atomic(&dir.join("shared.txt"), body.as_bytes()).unwrap();
                    }
                });
            }
        });
        for t in 0..16 {
            let got = std::fs::read_to_string(dir.path().join(format!("f{t}.txt"))).unwrap();
            assert_eq!(got, format!("thread {t} write 19\n").repeat(200));
        }
        // The shared file holds one whole write, never a mix.
        let shared = std::fs::read_to_string(dir.path().join("shared.txt")).unwrap();
        let first = shared.lines().next().unwrap();
        assert!(shared.lines().all(|l| l == first) && shared.lines().count() == 200);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 17);
    }

    #[cfg(unix)]
    #[test]
    fn the_file_mode_is_that_of_file_create() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        write_atomic(&a, b"x").unwrap();
        std::fs::File::create(&b).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode();
        assert_eq!(mode(&a), mode(&b));
    }

    #[test]
    fn a_missing_directory_is_an_error_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no/such/dir/x.csv");
        assert!(write_atomic(&path, b"x").is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
