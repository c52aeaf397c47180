//! The shared state: one SQLite file that every pm command opens.
//!
//! This module is the only code that talks to SQLite. The file is in WAL mode
//! so readers never block the writer, has a busy timeout so concurrent writers
//! queue instead of failing, and every write transaction starts with
//! `BEGIN IMMEDIATE`: a deferred transaction that later upgrades to a write
//! gets SQLITE_BUSY at once in WAL mode, ignoring the busy timeout. Schema
//! changes are numbered migrations keyed by `PRAGMA user_version`.

mod history;
mod migrations;

pub use history::{HistoryEntry, HistoryFilter, NewHistoryEntry};

use crate::error::PmError;
use anyhow::{Context as _, Result};
use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};
use serde::Serialize;
use std::fs::{DirBuilder, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long a writer waits for another writer's transaction. Transactions
/// are short (long work happens outside them), so this is generous.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// An open state database.
pub struct State {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State").field("path", &self.path).finish()
    }
}

impl State {
    /// Opens the state file, creating it (owner-only) and its directory if
    /// missing, and brings its schema up to date.
    pub fn open(path: &Path) -> Result<State> {
        if let Some(dir) = path.parent() {
            create_private_dir(dir)?;
        }
        create_private_file(path)?;
        let unusable = |e: rusqlite::Error| PmError::StateUnusable {
            path: path.to_path_buf(),
            reason: e.to_string(),
        };
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(unusable)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(unusable)?;
        enable_wal(&conn).map_err(unusable)?;
        conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;")
            .map_err(unusable)?;
        let mut state = State {
            conn,
            path: path.to_path_buf(),
        };
        migrations::migrate(&mut state.conn, path)?;
        tracing::debug!(path = %path.display(), "state_open_complete");
        Ok(state)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` in a `BEGIN IMMEDIATE` transaction, committed only if `f`
    /// succeeds. A crash at any point leaves either all or none of it.
    pub fn write<T>(&mut self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let path = self.path.clone();
        let unusable = |e: rusqlite::Error| PmError::StateUnusable {
            path: path.clone(),
            reason: e.to_string(),
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(unusable)?;
        let value = f(&tx).map_err(|e| read_only_as_unusable(e, &path))?;
        tx.commit().map_err(unusable)?;
        Ok(value)
    }

    /// The connection, for reads. Writes go through [`State::write`].
    pub fn reader(&self) -> &Connection {
        &self.conn
    }

    /// `PRAGMA integrity_check`: `None` when healthy, else what SQLite found.
    pub fn integrity_problems(&self) -> Result<Option<String>> {
        let mut stmt = self.conn.prepare("PRAGMA integrity_check")?;
        let rows: Vec<String> = stmt
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(if rows == ["ok"] {
            None
        } else {
            Some(rows.join("; "))
        })
    }

    /// Path, schema version, sizes and row counts, for `pm state show`.
    pub fn summary(&self) -> Result<StateSummary> {
        let version: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let page_size: i64 = self.conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        let page_count: i64 = self.conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
        let mut tables = Vec::new();
        let names: Vec<String> = self
            .conn
            .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for name in names {
            // Table names come from sqlite_schema, not from input; quoting
            // keeps even an odd name a single identifier.
            let rows: i64 = self.conn.query_row(
                &format!("SELECT count(*) FROM \"{}\"", name.replace('"', "\"\"")),
                [],
                |r| r.get(0),
            )?;
            tables.push(TableCount { name, rows });
        }
        Ok(StateSummary {
            path: self.path.clone(),
            lock: crate::lock::lock_path_for(&self.path),
            schema_version: version,
            supported_schema_version: migrations::LATEST,
            file_bytes: file_len(&self.path),
            wal_bytes: file_len(&sidecar(&self.path, "-wal")),
            page_size,
            page_count,
            tables,
        })
    }

    /// Copies the database to `dest` through SQLite's online backup API: a
    /// consistent snapshot even while other processes write. The copy is
    /// written beside `dest` and renamed into place, so `dest` is never a
    /// half-written database.
    pub fn backup_to(&self, dest: &Path) -> Result<u64> {
        let tmp = sidecar(dest, ".partial");
        let _ = std::fs::remove_file(&tmp);
        create_private_file(&tmp)?;
        {
            let mut target = Connection::open(&tmp)
                .with_context(|| format!("cannot create {}", tmp.display()))?;
            // Copy in steps so a busy writer is never starved; each step
            // restarts if another connection changed the source meanwhile.
            rusqlite::backup::Backup::new(&self.conn, &mut target)?.run_to_completion(
                256,
                Duration::from_millis(5),
                None,
            )?;
            // A backup is one self-contained file: no WAL beside it.
            target.execute_batch("PRAGMA journal_mode = DELETE;")?;
        }
        let file = std::fs::File::open(&tmp)?;
        file.sync_all()?;
        std::fs::rename(&tmp, dest).map_err(|e| {
            PmError::io(
                format!("cannot move the backup into place at {}", dest.display()),
                e,
            )
        })?;
        Ok(file_len(dest))
    }
}

/// What `pm state show` reports.
#[derive(Debug, Serialize)]
pub struct StateSummary {
    pub path: PathBuf,
    pub lock: PathBuf,
    pub schema_version: i64,
    pub supported_schema_version: i64,
    pub file_bytes: u64,
    pub wal_bytes: u64,
    pub page_size: i64,
    pub page_count: i64,
    pub tables: Vec<TableCount>,
}

#[derive(Debug, Serialize)]
pub struct TableCount {
    pub name: String,
    pub rows: i64,
}

/// Switching to WAL needs a moment of exclusive access; when many processes
/// open a fresh file at once SQLite may answer BUSY without calling the busy
/// handler, so retry for a bounded time.
fn enable_wal(conn: &Connection) -> rusqlite::Result<()> {
    let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
    loop {
        match conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0)) {
            Ok(_) => return Ok(()),
            Err(e) if is_busy(&e) && std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => return Err(e),
        }
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// SQLite opens a file it cannot write (immutable, read-only mount, no
/// permission) read-only without a word, and only the first write fails:
/// that is an unusable state, not a bug.
fn read_only_as_unusable(e: anyhow::Error, path: &Path) -> anyhow::Error {
    let read_only = e
        .chain()
        .filter_map(|c| c.downcast_ref::<rusqlite::Error>())
        .any(|r| r.sqlite_error_code() == Some(rusqlite::ErrorCode::ReadOnly));
    if !read_only {
        return e;
    }
    PmError::StateUnusable {
        path: path.to_path_buf(),
        reason: "the file cannot be written (immutable, a read-only mount, or no write permission)"
            .to_string(),
    }
    .into()
}

/// Creates a directory (and parents) readable only by its owner.
pub fn create_private_dir(dir: &Path) -> Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| PmError::io(format!("cannot create directory {}", dir.display()), e).into())
}

/// Creates an empty owner-only file if none exists; SQLite then keeps the
/// mode for its WAL and shared-memory files.
fn create_private_file(path: &Path) -> Result<()> {
    match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(PmError::io(format!("cannot create {}", path.display()), e).into()),
    }
}

fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// Milliseconds since the Unix epoch, the unit of every timestamp in state.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// RFC 3339 text for a state timestamp.
pub fn format_ms(ms: i64) -> String {
    let t = std::time::UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64);
    humantime::format_rfc3339_millis(t).to_string()
}
