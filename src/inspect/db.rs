//! The state file's health and what it records (images, activations,
//! history, interrupted changes), and who holds pm's locks. Everything is
//! read through the read-only [`Reader`]; a lock is never taken to find out
//! whether it is held (`/proc/locks` says so).

use super::Probes;
use crate::lock::Holder;
use crate::paths::StatePaths;
use crate::state::{
    BackendKind, HistoryEntry, HistoryFilter, Reader, TableCount, format_ms, now_ms,
};
use anyhow::Result;
use schemars::JsonSchema;
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Serialize, JsonSchema)]
pub struct StateFacts {
    pub path: PathBuf,
    /// False on a host where no mutating pm command has run yet.
    pub exists: bool,
    pub schema_version: i64,
    pub supported_schema_version: i64,
    /// `ok`, or what `PRAGMA integrity_check` found.
    pub integrity: String,
    pub file_bytes: u64,
    pub wal_bytes: u64,
    pub tables: Vec<TableCount>,
    /// Changes a command journalled and never finished (a crash): the next
    /// pool or activation command reconciles them.
    pub open_intents: Vec<OpenIntent>,
    pub locks: Vec<LockFacts>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct OpenIntent {
    pub id: i64,
    pub op: &'static str,
    pub backend: &'static str,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct LockFacts {
    /// `state` or `pool`.
    pub what: &'static str,
    pub path: PathBuf,
    pub exists: bool,
    /// Whether a process holds it now (`null` where the kernel does not say).
    pub held: Option<bool>,
    pub holder: Option<HolderFacts>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct HolderFacts {
    pub pid: u32,
    pub command: String,
    pub since: String,
    pub held_secs: u64,
}

pub fn state(p: &Probes) -> Result<StateFacts> {
    let db = p.state().map_err(|why| anyhow::anyhow!("{why}"))?;
    let summary = db.summary()?;
    let integrity = if db.exists() {
        db.integrity_problems()?.unwrap_or_else(|| "ok".to_string())
    } else {
        "ok".to_string()
    };
    let open_intents = db
        .open_intents()?
        .into_iter()
        .map(|i| OpenIntent {
            id: i.id,
            op: i.op.as_str(),
            backend: i.backend.as_str(),
        })
        .collect();
    let paths = StatePaths::new(db.path());
    Ok(StateFacts {
        path: summary.path,
        exists: summary.exists,
        schema_version: summary.schema_version,
        supported_schema_version: summary.supported_schema_version,
        integrity,
        file_bytes: summary.file_bytes,
        wal_bytes: summary.wal_bytes,
        tables: summary.tables,
        open_intents,
        locks: vec![
            lock_facts("state", &paths.state_lock()),
            lock_facts("pool", &paths.pool_lock()),
        ],
    })
}

fn lock_facts(what: &'static str, path: &Path) -> LockFacts {
    let meta = std::fs::metadata(path).ok();
    let holder = std::fs::read_to_string(path)
        .ok()
        .and_then(|text| serde_json::from_str::<Holder>(text.trim()).ok())
        .map(|h| {
            let now = (now_ms() / 1000).max(0) as u64;
            HolderFacts {
                pid: h.pid,
                command: h.command,
                since: format_ms(h.started_at as i64 * 1000),
                held_secs: now.saturating_sub(h.started_at),
            }
        });
    let held = meta.as_ref().and_then(flock_held);
    LockFacts {
        what,
        path: path.to_path_buf(),
        exists: meta.is_some(),
        held,
        // A record left by a holder that died (kill -9) names nobody.
        holder: if held == Some(false) { None } else { holder },
    }
}

/// Whether `/proc/locks` lists a lock on this file: lines like
/// `1: FLOCK  ADVISORY  WRITE 1234 08:01:1234567 0 EOF` (device in hex).
#[cfg(target_os = "linux")]
fn flock_held(meta: &std::fs::Metadata) -> Option<bool> {
    use std::os::unix::fs::MetadataExt;
    let text = std::fs::read_to_string("/proc/locks").ok()?;
    let (major, minor) = (libc::major(meta.dev()), libc::minor(meta.dev()));
    let wanted = format!("{major:02x}:{minor:02x}:{}", meta.ino());
    Some(text.lines().any(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        fields.get(1) != Some(&"->") && fields.contains(&wanted.as_str())
    }))
}

#[cfg(not(target_os = "linux"))]
fn flock_held(_meta: &std::fs::Metadata) -> Option<bool> {
    None
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ImagesFacts {
    pub count: usize,
    pub total_bytes: u64,
    /// By the stored verdict of `pm image validate`.
    pub safe: usize,
    pub rejected: usize,
    pub not_validated: usize,
}

pub fn images(p: &Probes) -> Result<ImagesFacts> {
    let db = p.state().map_err(|why| anyhow::anyhow!("{why}"))?;
    let rows = db.images()?;
    let mut facts = ImagesFacts {
        count: rows.len(),
        total_bytes: rows.iter().map(|r| r.size).sum(),
        safe: 0,
        rejected: 0,
        not_validated: 0,
    };
    for row in &rows {
        match db.validation(&row.digest)?.map(|v| v.verdict) {
            Some(v) if v == "safe" => facts.safe += 1,
            Some(_) => facts.rejected += 1,
            None => facts.not_validated += 1,
        }
    }
    Ok(facts)
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ActivationsFacts {
    pub count: usize,
    pub thin: usize,
    pub dir: usize,
}

pub fn activations(p: &Probes) -> Result<ActivationsFacts> {
    let db = p.state().map_err(|why| anyhow::anyhow!("{why}"))?;
    let rows = db.activations()?;
    let thin = rows
        .iter()
        .filter(|a| a.backend == BackendKind::Thin)
        .count();
    Ok(ActivationsFacts {
        count: rows.len(),
        thin,
        dir: rows.len() - thin,
    })
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct HistoryFacts {
    /// Mutating commands in the last 24 hours, and how many failed.
    pub last_24h: usize,
    pub failed_last_24h: usize,
    pub last: Option<HistoryEntry>,
    pub last_failure: Option<HistoryEntry>,
}

/// Enough rows for a day of a busy host's cron jobs.
const DAY_ROWS: u32 = 10_000;

pub fn history(p: &Probes) -> Result<HistoryFacts> {
    let db = p.state().map_err(|why| anyhow::anyhow!("{why}"))?;
    let day = db.history(&HistoryFilter {
        since_ms: Some(now_ms() - 24 * 3600 * 1000),
        limit: DAY_ROWS,
        ..HistoryFilter::default()
    })?;
    let failed = day.iter().filter(|e| e.result != "ok").count();
    let last_failure = day.iter().find(|e| e.result != "ok").cloned();
    Ok(HistoryFacts {
        last_24h: day.len(),
        failed_last_24h: failed,
        last: recent(db, 1)?.into_iter().next(),
        last_failure,
    })
}

/// The newest `n` history entries.
pub fn recent(db: &Reader, n: u32) -> Result<Vec<HistoryEntry>> {
    db.history(&HistoryFilter {
        limit: n,
        ..HistoryFilter::default()
    })
}
