//! The shared state: one SQLite file that every pm command opens.
//!
//! This module is the only code that talks to SQLite; every table sits
//! behind typed functions in the file named for it (`images`, `downloads`,
//! `validations`, `pool`, `history`, `steps`, `net`, `provider`). Three handles:
//!
//! - [`ReadState`], for commands that change nothing: opened read-only, it
//!   never creates, migrates or writes the file. Where there is no state
//!   file yet it answers from an empty in-memory schema, so a listing on a
//!   fresh host is empty instead of an error (and leaves nothing behind).
//! - [`State`], for mutating commands: creates the file owner-only and
//!   migrates its schema. Its writes go through [`State::write`], which
//!   takes a lock token ([`Held`]) as proof that the caller holds the state,
//!   pool or download lock, so "the caller holds the lock" is a parameter,
//!   not a comment. The one exception is the append-only history
//!   ([`State::append_history`]).
//! - [`WriteTx`], the typed transaction inside `write`: every statement a
//!   command may combine atomically is a method of it.
//!
//! Both handles dereference to a [`Reader`], which holds every query.
//!
//! The file is in WAL mode so readers never block the writer, has a busy
//! timeout so concurrent writers queue instead of failing, and every write
//! transaction starts with `BEGIN IMMEDIATE`: a deferred transaction that
//! later upgrades to a write gets SQLITE_BUSY at once in WAL mode, ignoring
//! the busy timeout. Schema changes are numbered migrations keyed by
//! `PRAGMA user_version`.

mod downloads;
mod history;
mod images;
mod migrations;
mod net;
mod pool;
mod provider;
mod steps;
mod validations;

pub use downloads::{Interrupted, NewDownload, StaleDownload};
pub use history::{HistoryEntry, HistoryFilter, NewHistoryEntry};
pub use images::ImageRow;
pub use net::{NetEvent, NetNode, NetRun, NetRunEnd};
pub use pool::{
    ActivationRow, BackendKind, Intent, IntentOp, IntentOutcome, IntentSpec, PoolRecord,
    VolumeRecord,
};
pub use provider::{NodeRow, ProviderRow, ProviderStatus};
pub use steps::{SessionStatus, StepEnd, StepRecord, StepSession, StepStatus};
pub use validations::{StoredValidation, ValidationRow};

use crate::error::PmError;
use crate::lock::Held;
use crate::paths::{StatePaths, create_private_dir, create_private_file};
use anyhow::{Context as _, Result};
use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};
use schemars::JsonSchema;
use serde::Serialize;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long a writer waits for another writer's transaction. Transactions
/// are short (long work happens outside them), so this is generous.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// A connection to the state and every query on it.
pub struct Reader {
    conn: Connection,
    path: PathBuf,
    /// False for a [`ReadState`] over a file that does not exist.
    exists: bool,
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader").field("path", &self.path).finish()
    }
}

/// The read-only handle (see the module docs).
#[derive(Debug)]
pub struct ReadState(Reader);

/// The write handle (see the module docs).
#[derive(Debug)]
pub struct State(Reader);

/// A write transaction; see [`State::write`].
pub struct WriteTx<'c>(Transaction<'c>);

impl Deref for ReadState {
    type Target = Reader;
    fn deref(&self) -> &Reader {
        &self.0
    }
}

impl Deref for State {
    type Target = Reader;
    fn deref(&self) -> &Reader {
        &self.0
    }
}

impl<'c> Deref for WriteTx<'c> {
    type Target = Transaction<'c>;
    fn deref(&self) -> &Transaction<'c> {
        &self.0
    }
}

fn unusable(path: &Path) -> impl Fn(rusqlite::Error) -> anyhow::Error + '_ {
    move |e| {
        PmError::StateUnusable {
            path: path.to_path_buf(),
            reason: e.to_string(),
        }
        .into()
    }
}

impl ReadState {
    /// Opens the state read-only. A missing file is an empty state; a file
    /// written by an older pm is read through an in-memory copy brought up to
    /// date, since a read-only command must not migrate it.
    pub fn open(path: &Path) -> Result<ReadState> {
        if !path.exists() {
            let mut conn = Connection::open_in_memory().map_err(unusable(path))?;
            migrations::migrate(&mut conn, path)?;
            return Ok(ReadState(Reader {
                conn,
                path: path.to_path_buf(),
                exists: false,
            }));
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(unusable(path))?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(unusable(path))?;
        let version = migrations::version(&conn).map_err(unusable(path))?;
        migrations::refuse_newer(version, path)?;
        let conn = if version < migrations::LATEST {
            upgraded_copy(&conn, path)?
        } else {
            conn
        };
        Ok(ReadState(Reader {
            conn,
            path: path.to_path_buf(),
            exists: true,
        }))
    }
}

/// An in-memory copy of an older state, migrated, for reading only.
fn upgraded_copy(conn: &Connection, path: &Path) -> Result<Connection> {
    let mut copy = Connection::open_in_memory().map_err(unusable(path))?;
    rusqlite::backup::Backup::new(conn, &mut copy)
        .and_then(|b| b.run_to_completion(1024, Duration::from_millis(5), None))
        .map_err(unusable(path))?;
    migrations::migrate(&mut copy, path)?;
    tracing::debug!(path = %path.display(), "state_read_through_upgraded_copy");
    Ok(copy)
}

impl State {
    /// Opens the state file for writing, creating it (owner-only) and its
    /// directory if missing, and brings its schema up to date.
    pub fn open(path: &Path) -> Result<State> {
        let io = |what: &str, e: std::io::Error| PmError::StateUnusable {
            path: path.to_path_buf(),
            reason: format!("{what}: {e}"),
        };
        if let Some(dir) = path.parent() {
            create_private_dir(dir).map_err(|e| {
                PmError::io(format!("cannot create directory {}", dir.display()), e)
            })?;
        }
        // SQLite keeps this mode for its WAL and shared-memory files.
        create_private_file(path).map_err(|e| io("cannot create it", e))?;
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(unusable(path))?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(unusable(path))?;
        if conn.is_readonly(rusqlite::MAIN_DB).unwrap_or(false) {
            return Err(PmError::StateUnusable {
                path: path.to_path_buf(),
                reason: "it can only be opened read-only (an immutable file, a read-only \
                         filesystem, or its directory is not writable)"
                    .to_string(),
            }
            .into());
        }
        enable_wal(&conn).map_err(unusable(path))?;
        conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;")
            .map_err(unusable(path))?;
        let mut state = State(Reader {
            conn,
            path: path.to_path_buf(),
            exists: true,
        });
        migrations::migrate(&mut state.0.conn, path)?;
        tracing::debug!(path = %path.display(), "state_open_complete");
        Ok(state)
    }

    /// Runs `f` in a `BEGIN IMMEDIATE` transaction, committed only if `f`
    /// succeeds. A crash at any point leaves either all or none of it.
    /// `_held` is the lock that makes the change safe against other pm
    /// commands (the state, pool or a download lock).
    pub fn write<T>(
        &mut self,
        _held: &dyn Held,
        f: impl FnOnce(&WriteTx<'_>) -> Result<T>,
    ) -> Result<T> {
        self.transaction(f)
    }

    fn transaction<T>(&mut self, f: impl FnOnce(&WriteTx<'_>) -> Result<T>) -> Result<T> {
        let path = self.0.path.clone();
        let tx = self
            .0
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(unusable(&path))?;
        let tx = WriteTx(tx);
        let value = f(&tx).map_err(|e| storage_failure(e, &path))?;
        tx.0.commit().map_err(unusable(&path))?;
        Ok(value)
    }
}

/// A statement that failed because of the file rather than the data (disk
/// full, read-only, I/O error, corruption) makes the state unusable; other
/// errors pass through as they are.
fn storage_failure(e: anyhow::Error, path: &Path) -> anyhow::Error {
    use rusqlite::ErrorCode as C;
    let code = e
        .chain()
        .find_map(|c| c.downcast_ref::<rusqlite::Error>())
        .and_then(rusqlite::Error::sqlite_error_code);
    match code {
        Some(
            C::DiskFull | C::ReadOnly | C::SystemIoFailure | C::DatabaseCorrupt | C::NotADatabase,
        ) => PmError::StateUnusable {
            path: path.to_path_buf(),
            reason: format!("{e:#}"),
        }
        .into(),
        _ => e,
    }
}

impl Reader {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the state file exists (a [`ReadState`] answers for a missing
    /// one from an empty schema).
    pub fn exists(&self) -> bool {
        self.exists
    }

    fn conn(&self) -> &Connection {
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
        let paths = StatePaths::new(&self.path);
        let version = migrations::version(&self.conn)?;
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
            exists: self.exists,
            lock: paths.state_lock(),
            schema_version: version,
            supported_schema_version: migrations::LATEST,
            file_bytes: file_len(&self.path),
            wal_bytes: file_len(&paths.wal()),
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
        let tmp = crate::paths::sidecar(dest, ".partial");
        let _ = std::fs::remove_file(&tmp);
        create_private_file(&tmp)
            .map_err(|e| PmError::io(format!("cannot create {}", tmp.display()), e))?;
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
#[derive(Debug, Serialize, JsonSchema)]
pub struct StateSummary {
    pub path: PathBuf,
    /// False on a host where no pm command has written a state yet.
    pub exists: bool,
    pub lock: PathBuf,
    pub schema_version: i64,
    pub supported_schema_version: i64,
    pub file_bytes: u64,
    pub wal_bytes: u64,
    pub page_size: i64,
    pub page_count: i64,
    pub tables: Vec<TableCount>,
}

#[derive(Debug, Serialize, JsonSchema)]
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
