//! The append-only record of every mutating command.

use super::{Reader, State, WriteTx, format_ms};
use anyhow::Result;
use rusqlite::params;
use schemars::JsonSchema;
use serde::Serialize;

/// A finished command, as recorded.
#[derive(Debug, Clone)]
pub struct NewHistoryEntry {
    pub started_at_ms: i64,
    pub duration_ms: i64,
    pub command: String,
    /// The arguments after `pm`, already redacted.
    pub args: Vec<String>,
    pub ok: bool,
    pub error_code: Option<String>,
    pub changed: Option<bool>,
}

/// A recorded command, as `pm state history` shows it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct HistoryEntry {
    pub id: i64,
    pub started_at: String,
    pub duration_ms: i64,
    pub command: String,
    pub args: Vec<String>,
    pub pid: i64,
    pub result: String,
    pub error_code: Option<String>,
    pub changed: Option<bool>,
}

/// Which rows `pm state history` returns.
#[derive(Debug, Clone, Default)]
pub struct HistoryFilter {
    /// Matches the command or any command below it: `image` matches
    /// `image fetch` and `image validate`.
    pub command: Option<String>,
    pub since_ms: Option<i64>,
    pub until_ms: Option<i64>,
    pub limit: u32,
}

impl State {
    /// Appends a finished command to the history. The one write that needs
    /// no lock token: it is a single INSERT in its own transaction, which
    /// SQLite serialises with every other writer, and no pm decision reads
    /// the history back in between.
    pub fn append_history(&mut self, entry: &NewHistoryEntry) -> Result<()> {
        let args = serde_json::to_string(&entry.args)?;
        self.transaction(|tx| {
            tx.execute(
                "INSERT INTO history (started_at, duration_ms, command, args, pid, result, error_code, changed)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    entry.started_at_ms,
                    entry.duration_ms,
                    entry.command,
                    args,
                    std::process::id(),
                    if entry.ok { "ok" } else { "error" },
                    entry.error_code,
                    entry.changed,
                ],
            )?;
            crate::failpoint::hit("history_insert_uncommitted");
            Ok(())
        })
    }
}

impl WriteTx<'_> {
    /// Deletes history rows that started before `cutoff_ms`; returns how many.
    pub fn prune_history(&self, cutoff_ms: i64) -> Result<usize> {
        let removed = self.execute("DELETE FROM history WHERE started_at < ?1", [cutoff_ms])?;
        crate::failpoint::hit("prune_uncommitted");
        Ok(removed)
    }
}

impl Reader {
    /// Newest first.
    pub fn history(&self, filter: &HistoryFilter) -> Result<Vec<HistoryEntry>> {
        let mut stmt = self.conn().prepare(
            "SELECT id, started_at, duration_ms, command, args, pid, result, error_code, changed
               FROM history
              WHERE (?1 IS NULL OR command = ?1 OR command LIKE ?1 || ' %')
                AND (?2 IS NULL OR started_at >= ?2)
                AND (?3 IS NULL OR started_at <= ?3)
              ORDER BY started_at DESC, id DESC
              LIMIT ?4",
        )?;
        let rows = stmt.query_map(
            params![
                filter.command,
                filter.since_ms,
                filter.until_ms,
                filter.limit
            ],
            |r| {
                let args: String = r.get(4)?;
                Ok(HistoryEntry {
                    id: r.get(0)?,
                    started_at: format_ms(r.get(1)?),
                    duration_ms: r.get(2)?,
                    command: r.get(3)?,
                    args: serde_json::from_str(&args).unwrap_or_default(),
                    pid: r.get(5)?,
                    result: r.get(6)?,
                    error_code: r.get(7)?,
                    changed: r.get(8)?,
                })
            },
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// How many rows started before `cutoff_ms` (what a prune would remove).
    pub fn history_count_before(&self, cutoff_ms: i64) -> Result<usize> {
        let n: i64 = self.conn().query_row(
            "SELECT count(*) FROM history WHERE started_at < ?1",
            [cutoff_ms],
            |r| r.get(0),
        )?;
        Ok(n.max(0) as usize)
    }

    /// Distinct recorded command names, for shell completion.
    pub fn history_commands(&self) -> Result<Vec<String>> {
        let mut stmt = self
            .conn()
            .prepare("SELECT DISTINCT command FROM history ORDER BY command")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
