//! `pm net`'s tables: the tailnet node as pm last saw it (`net_node`, one
//! row) and the runs of `net up|down|leave` with every state their state
//! machine entered (`net_runs`, `net_events`).
//!
//! Writers hold the network lock (`<state>.net.lock`), so a read followed by
//! a write of `net_node` cannot interleave with another pm's. The run log is
//! bounded: starting a run deletes all but the newest [`KEEP_RUNS`], so a
//! cron job every five minutes does not grow the file forever.

use super::{Reader, WriteTx};
use anyhow::Result;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use serde_json::Value;

/// Runs kept in `net_runs` (with their events).
pub const KEEP_RUNS: i64 = 200;

/// What pm last saw of the node, and what it applied to it.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct NetNode {
    pub backend_state: Option<String>,
    pub ips: Vec<String>,
    pub hostname: Option<String>,
    pub dns_name: Option<String>,
    /// The node `applied` belongs to (tailscale's stable node id).
    pub node_id: Option<String>,
    /// The settings pm applied the last time it left the node Running.
    pub applied: Option<Value>,
    pub daemon_pid: Option<u32>,
    pub daemon_started_at_ms: Option<i64>,
    pub last_up_at_ms: Option<i64>,
    pub last_up_attempts: Option<u32>,
    pub updated_at_ms: i64,
}

/// One `net up|down|leave`, with the states it went through.
#[derive(Clone, Debug, Serialize)]
pub struct NetRun {
    pub id: i64,
    pub command: String,
    pub pid: u32,
    pub started_at_ms: i64,
    /// `None` while it runs (or when pm died during it).
    pub finished_at_ms: Option<i64>,
    /// `ok` or `error`.
    pub result: Option<String>,
    pub error_code: Option<String>,
    pub changed: Option<bool>,
    pub attempts: u32,
    pub events: Vec<NetEvent>,
}

#[derive(Clone, Debug, Serialize)]
pub struct NetEvent {
    pub seq: u32,
    pub at_ms: i64,
    pub state: String,
    pub detail: Option<Value>,
}

/// How a run ended, for [`WriteTx::net_finish_run`].
#[derive(Clone, Debug)]
pub struct NetRunEnd<'a> {
    pub finished_at_ms: i64,
    pub ok: bool,
    pub error_code: Option<&'a str>,
    pub changed: Option<bool>,
    pub attempts: u32,
}

impl WriteTx<'_> {
    /// Starts a run and trims the log to the newest [`KEEP_RUNS`]; returns
    /// the run's id.
    pub fn net_begin_run(&self, command: &str, started_at_ms: i64) -> Result<i64> {
        self.execute(
            "INSERT INTO net_runs (command, pid, started_at) VALUES (?1, ?2, ?3)",
            params![command, std::process::id(), started_at_ms],
        )?;
        let id = self.last_insert_rowid();
        self.execute(
            "DELETE FROM net_runs WHERE id <= ?1 - ?2",
            params![id, KEEP_RUNS],
        )?;
        Ok(id)
    }

    /// Records that run `run` entered `state` (its `seq`-th state).
    pub fn net_event(
        &self,
        run: i64,
        seq: u32,
        at_ms: i64,
        state: &str,
        detail: Option<&Value>,
    ) -> Result<()> {
        let detail = detail.map(Value::to_string);
        self.execute(
            "INSERT INTO net_events (run, seq, at, state, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![run, seq, at_ms, state, detail],
        )?;
        Ok(())
    }

    pub fn net_finish_run(&self, run: i64, end: &NetRunEnd<'_>) -> Result<()> {
        self.execute(
            "UPDATE net_runs SET finished_at = ?2, result = ?3, error_code = ?4, changed = ?5, attempts = ?6
              WHERE id = ?1",
            params![
                run,
                end.finished_at_ms,
                if end.ok { "ok" } else { "error" },
                end.error_code,
                end.changed,
                end.attempts
            ],
        )?;
        Ok(())
    }

    /// Replaces the node record.
    pub fn net_save_node(&self, node: &NetNode) -> Result<()> {
        self.execute(
            "INSERT INTO net_node (id, backend_state, ips, hostname, dns_name, node_id, applied,
                                   daemon_pid, daemon_started_at, last_up_at, last_up_attempts, updated_at)
             VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
             ON CONFLICT (id) DO UPDATE SET
                backend_state = excluded.backend_state, ips = excluded.ips,
                hostname = excluded.hostname, dns_name = excluded.dns_name,
                node_id = excluded.node_id, applied = excluded.applied,
                daemon_pid = excluded.daemon_pid, daemon_started_at = excluded.daemon_started_at,
                last_up_at = excluded.last_up_at, last_up_attempts = excluded.last_up_attempts,
                updated_at = excluded.updated_at",
            params![
                node.backend_state,
                serde_json::to_string(&node.ips)?,
                node.hostname,
                node.dns_name,
                node.node_id,
                node.applied.as_ref().map(Value::to_string),
                node.daemon_pid,
                node.daemon_started_at_ms,
                node.last_up_at_ms,
                node.last_up_attempts,
                node.updated_at_ms,
            ],
        )?;
        Ok(())
    }
}

/// JSON text from the state; a damaged value reads as absent rather than
/// failing a status command.
fn json_of(text: Option<String>) -> Option<Value> {
    text.and_then(|t| serde_json::from_str(&t).ok())
}

impl Reader {
    /// The node record, if any `pm net` command wrote one.
    pub fn net_node(&self) -> Result<Option<NetNode>> {
        let node = self
            .conn()
            .query_row(
                "SELECT backend_state, ips, hostname, dns_name, node_id, applied, daemon_pid,
                        daemon_started_at, last_up_at, last_up_attempts, updated_at
                   FROM net_node WHERE id = 1",
                [],
                |r| {
                    let ips: String = r.get(1)?;
                    Ok(NetNode {
                        backend_state: r.get(0)?,
                        ips: serde_json::from_str(&ips).unwrap_or_default(),
                        hostname: r.get(2)?,
                        dns_name: r.get(3)?,
                        node_id: r.get(4)?,
                        applied: json_of(r.get(5)?),
                        daemon_pid: r.get(6)?,
                        daemon_started_at_ms: r.get(7)?,
                        last_up_at_ms: r.get(8)?,
                        last_up_attempts: r.get(9)?,
                        updated_at_ms: r.get(10)?,
                    })
                },
            )
            .optional()?;
        Ok(node)
    }

    /// The newest run, with its events in order.
    pub fn net_last_run(&self) -> Result<Option<NetRun>> {
        let run = self
            .conn()
            .query_row(
                "SELECT id, command, pid, started_at, finished_at, result, error_code, changed, attempts
                   FROM net_runs ORDER BY id DESC LIMIT 1",
                [],
                |r| {
                    Ok(NetRun {
                        id: r.get(0)?,
                        command: r.get(1)?,
                        pid: r.get(2)?,
                        started_at_ms: r.get(3)?,
                        finished_at_ms: r.get(4)?,
                        result: r.get(5)?,
                        error_code: r.get(6)?,
                        changed: r.get(7)?,
                        attempts: r.get(8)?,
                        events: Vec::new(),
                    })
                },
            )
            .optional()?;
        let Some(mut run) = run else { return Ok(None) };
        let mut stmt = self
            .conn()
            .prepare("SELECT seq, at, state, detail FROM net_events WHERE run = ?1 ORDER BY seq")?;
        run.events = stmt
            .query_map([run.id], |r| {
                Ok(NetEvent {
                    seq: r.get(0)?,
                    at_ms: r.get(1)?,
                    state: r.get(2)?,
                    detail: json_of(r.get(3)?),
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(Some(run))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lock;
    use crate::state::State;
    use serde_json::json;

    #[test]
    fn a_run_keeps_its_events_and_the_node_record_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let mut state = State::open(&path).unwrap();
        let held = lock::for_tests(dir.path());
        assert!(state.net_node().unwrap().is_none());
        assert!(state.net_last_run().unwrap().is_none());
        let node = NetNode {
            backend_state: Some("Running".to_string()),
            ips: vec!["100.101.102.103".to_string()],
            applied: Some(json!({"hostname": "h"})),
            last_up_attempts: Some(2),
            updated_at_ms: 5,
            ..NetNode::default()
        };
        let run = state
            .write(&held, |tx| {
                let run = tx.net_begin_run("net up", 1)?;
                tx.net_event(run, 0, 2, "probe_daemon", None)?;
                tx.net_event(run, 1, 3, "key_rejected", Some(&json!({"attempt": 1})))?;
                tx.net_finish_run(
                    run,
                    &NetRunEnd {
                        finished_at_ms: 4,
                        ok: true,
                        error_code: None,
                        changed: Some(true),
                        attempts: 2,
                    },
                )?;
                tx.net_save_node(&node)?;
                Ok(run)
            })
            .unwrap();
        assert_eq!(state.net_node().unwrap().as_ref(), Some(&node));
        let last = state.net_last_run().unwrap().unwrap();
        assert_eq!((last.id, last.attempts, last.changed), (run, 2, Some(true)));
        let states: Vec<&str> = last.events.iter().map(|e| e.state.as_str()).collect();
        assert_eq!(states, ["probe_daemon", "key_rejected"]);
        assert_eq!(last.events[1].detail, Some(json!({"attempt": 1})));
    }

    #[test]
    fn the_run_log_keeps_only_the_newest_runs() {
        let dir = tempfile::tempdir().unwrap();
        let mut state = State::open(&dir.path().join("state.db")).unwrap();
        let held = lock::for_tests(dir.path());
        state
            .write(&held, |tx| {
                for i in 0..KEEP_RUNS + 5 {
                    let run = tx.net_begin_run("net up", i)?;
                    tx.net_event(run, 0, i, "probe_daemon", None)?;
                }
                Ok(())
            })
            .unwrap();
        let runs: i64 = state
            .conn()
            .query_row("SELECT count(*) FROM net_runs", [], |r| r.get(0))
            .unwrap();
        let events: i64 = state
            .conn()
            .query_row("SELECT count(*) FROM net_events", [], |r| r.get(0))
            .unwrap();
        assert_eq!((runs, events), (KEEP_RUNS, KEEP_RUNS));
    }
}
