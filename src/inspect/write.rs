//! The only writes the inspection commands make, in one place so that
//! "read-only" can be checked from the source (`tests/cli/inspect.rs`):
//!
//! - the output the operator asked for (`pm report -o`, `pm doctor
//!   --textfile-dir`, `pm logs collect -o`): written to a temporary file in
//!   the destination's folder and renamed over it, so a reader (the
//!   node_exporter textfile collector, a browser) never sees half a file.
//!   The temporary name starts with a dot and does not end in `.prom`, so
//!   the collector never reads it;
//! - a scratch folder for a tool that insists on writing somewhere while it
//!   answers a question (`bw --version` creates its data folder), removed
//!   when the probe is done.

use crate::error::PmError;
use anyhow::Result;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// Writes `dest` whole or not at all; returns the bytes written.
pub fn atomically(
    dest: &Path,
    mode: u32,
    fill: impl FnOnce(&mut File) -> Result<()>,
) -> Result<u64> {
    let dir = dest
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = dest
        .file_name()
        .ok_or_else(|| PmError::usage(format!("{} is not a file name", dest.display()), None))?;
    let temp = dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let io = |what: &str, e: std::io::Error| PmError::io(format!("{what} {}", temp.display()), e);
    let _ = std::fs::remove_file(&temp);
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&temp)
        .map_err(|e| io("cannot create", e))?;
    let written = fill(&mut file)
        .and_then(|()| {
            file.flush()?;
            file.sync_all()?;
            Ok(file.metadata()?.len())
        })
        .and_then(|len| {
            std::fs::rename(&temp, dest).map_err(|e| {
                PmError::io(format!("cannot move {} into place", dest.display()), e)
            })?;
            Ok(len)
        });
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    // The rename is durable once the folder is synced; a failure here only
    // weakens durability, the file is already whole.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    written
}

/// [`atomically`] for bytes already in memory.
pub fn bytes_atomically(dest: &Path, mode: u32, bytes: &[u8]) -> Result<u64> {
    atomically(dest, mode, |f| Ok(f.write_all(bytes)?))
}

/// A private folder (0700) under `tmp`, removed with everything in it when
/// dropped.
pub struct ScratchDir(PathBuf);

impl ScratchDir {
    pub fn new(tmp: &Path) -> std::io::Result<ScratchDir> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = tmp.join(format!("pm-inspect-{}-{n}", std::process::id()));
        std::fs::DirBuilder::new().mode(0o700).create(&path)?;
        Ok(ScratchDir(path))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
