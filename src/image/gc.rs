//! `pm image gc`: frees what no image needs — interrupted downloads older
//! than a threshold (and partial files no download row knows), and blobs in
//! `images/sha256/` that no `images` row references (left by a crash between
//! the rename and the record, or by a crash in `rm`).
//!
//! It runs under the state lock (blobs are renamed and recorded under the
//! same lock, so none is caught half-way) and skips any download whose
//! per-source lock is held: that fetch is running right now.

use crate::context::Context;
use crate::digest::Digest;
use crate::output::Render;
use crate::paths::StatePaths;
use crate::state::{Reader, StaleDownload, now_ms};
use anyhow::Result;
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::HashSet;
use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Serialize, JsonSchema)]
pub struct GcReport {
    pub changed: bool,
    /// Interrupted downloads removed (their sources).
    pub partial_downloads: Vec<String>,
    /// Files removed from `images/partial/` and `images/sha256/`.
    pub files: Vec<PathBuf>,
    pub bytes_freed: u64,
    /// Base volumes no activation uses (pool/activate).
    pub base_volumes: Vec<crate::pool::VolumeRecord>,
}

impl Render for GcReport {
    fn human(&self) -> String {
        if !self.changed {
            return "nothing to collect".to_string();
        }
        format!(
            "removed {} interrupted download(s), {} file(s) and {} unused base volume(s), {} bytes freed",
            self.partial_downloads.len(),
            self.files.len(),
            self.base_volumes.len(),
            self.bytes_freed
        )
    }
}

pub fn collect(ctx: &mut Context, partial_age: Duration) -> Result<GcReport> {
    let cutoff = now_ms() - partial_age.as_millis() as i64;
    let paths = ctx.paths().clone();
    if ctx.dry_run {
        return predict(ctx.read_state()?, &paths, cutoff);
    }
    let pool_lock = ctx.pool_lock()?;
    let lock = ctx.lock()?;
    let state = ctx.state()?;
    let found = garbage(state, &paths, cutoff)?;
    let mut report = GcReport::empty();
    for stale in found.downloads {
        state.write(&lock, |tx| tx.forget_download(&stale.source))?;
        remove_counted(&stale.partial_path, &mut report);
        report.partial_downloads.push(stale.source);
    }
    for path in found.files {
        remove_counted(&path, &mut report);
    }
    let settings = crate::pool::PoolSettings::from_config(&ctx.config);
    report.base_volumes =
        crate::pool::remove_unused_bases(ctx.state()?, &pool_lock, &settings, None)?;
    report.changed = report.has_work();
    Ok(report)
}

/// What `collect` would free, touching nothing (`--dry-run`).
fn predict(db: &Reader, paths: &StatePaths, cutoff: i64) -> Result<GcReport> {
    let found = garbage(db, paths, cutoff)?;
    let mut report = GcReport::empty();
    for stale in found.downloads {
        report.bytes_freed += file_size(&stale.partial_path);
        report.files.push(stale.partial_path);
        report.partial_downloads.push(stale.source);
    }
    for path in found.files {
        report.bytes_freed += file_size(&path);
        report.files.push(path);
    }
    report.base_volumes = crate::pool::unused_bases(db, None)?;
    report.changed = report.has_work();
    Ok(report)
}

impl GcReport {
    fn empty() -> GcReport {
        GcReport {
            changed: false,
            partial_downloads: Vec::new(),
            files: Vec::new(),
            bytes_freed: 0,
            base_volumes: Vec::new(),
        }
    }

    fn has_work(&self) -> bool {
        !self.files.is_empty()
            || !self.partial_downloads.is_empty()
            || !self.base_volumes.is_empty()
    }
}

/// What no image needs: stale downloads nobody is running, partial files
/// no row knows about (a crash before the row was written), and blobs no
/// `images` row references.
struct Garbage {
    downloads: Vec<StaleDownload>,
    files: Vec<PathBuf>,
}

fn garbage(db: &Reader, paths: &StatePaths, cutoff: i64) -> Result<Garbage> {
    let downloads: Vec<StaleDownload> = db
        .stale_downloads(cutoff)?
        .into_iter()
        .filter(|d| !download_is_running(&d.partial_path))
        .collect();
    let known: HashSet<PathBuf> = db.download_partial_paths()?.into_iter().collect();
    let mut files: Vec<PathBuf> = files_in(&paths.partial_downloads())
        .into_iter()
        .filter(|path| {
            path.extension().is_some_and(|e| e == "part")
                && !known.contains(path)
                && !download_is_running(path)
                && older_than(path, cutoff)
        })
        .collect();
    let digests: HashSet<Digest> = db.images()?.into_iter().map(|i| i.digest).collect();
    files.extend(
        files_in(&paths.images().join("sha256"))
            .into_iter()
            .filter(|path| {
                let digest = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .and_then(Digest::parse);
                digest.is_none_or(|d| !digests.contains(&d))
            }),
    );
    Ok(Garbage { downloads, files })
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// A fetch holds `<key>.lock` beside `<key>.part` for as long as it runs.
fn download_is_running(partial: &Path) -> bool {
    let lock = partial.with_extension("lock");
    let Ok(file) = File::open(&lock) else {
        return false;
    };
    match file.try_lock() {
        Ok(()) => {
            let _ = file.unlock();
            false
        }
        Err(TryLockError::WouldBlock) => true,
        Err(TryLockError::Error(_)) => true,
    }
}

fn older_than(path: &Path, cutoff_ms: i64) -> bool {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .is_some_and(|d| (d.as_millis() as i64) < cutoff_ms)
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default()
}

fn remove_counted(path: &Path, report: &mut GcReport) {
    let size = file_size(path);
    if std::fs::remove_file(path).is_ok() {
        report.bytes_freed += size;
        report.files.push(path.to_path_buf());
    }
}
