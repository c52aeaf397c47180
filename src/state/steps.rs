//! The step runner's tables (`step_sessions`, `steps`): every statement the
//! runner in `crate::steps` needs, behind typed functions.

use super::{Reader, State};
use crate::lock::Held;
use anyhow::Result;
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use rusqlite::{OptionalExtension, Row, params};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

/// Where a session stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    /// Running, interrupted, or run in part (`--only`): resumed next time.
    Open,
    /// Every step of the plan is done.
    Done,
    /// The last run stopped at a failed step: resumed next time.
    Failed,
}

/// Where one step of a session stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    /// Its act began and has not finished (still running, or pm crashed).
    Started,
    /// Its act finished.
    Done,
    /// Its act failed its last attempt.
    Failed,
    /// Its check found it already done: nothing was acted.
    Skipped,
}

/// Text in the database: unknown text is an error, never a guess.
macro_rules! text_enum {
    ($type:ty { $($variant:ident = $text:literal),+ $(,)? }) => {
        impl $type {
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }
        }

        impl ToSql for $type {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.as_str()))
            }
        }

        impl FromSql for $type {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                match value.as_str()? {
                    $($text => Ok(Self::$variant),)+
                    other => Err(FromSqlError::Other(
                        format!("unknown {} {other:?}", stringify!($type)).into(),
                    )),
                }
            }
        }
    };
}

text_enum!(SessionStatus { Open = "open", Done = "done", Failed = "failed" });
text_enum!(StepStatus {
    Started = "started",
    Done = "done",
    Failed = "failed",
    Skipped = "skipped",
});

/// One run (or resumed runs) of a plan on a subject.
#[derive(Clone, Debug, Serialize)]
pub struct StepSession {
    pub id: i64,
    pub plan: String,
    pub subject: String,
    pub status: SessionStatus,
    pub started_at_ms: i64,
    pub finished_at_ms: Option<i64>,
}

/// One step's row in a session.
#[derive(Clone, Debug, Serialize)]
pub struct StepRecord {
    pub key: String,
    pub position: i64,
    pub status: StepStatus,
    pub attempts: u32,
    pub started_at_ms: Option<i64>,
    pub finished_at_ms: Option<i64>,
    pub duration_ms: Option<i64>,
    /// The last failed attempt's error (kept after a later success, so
    /// "done after 3 attempts" can say what failed).
    pub last_error: Option<String>,
    pub detail: Option<Value>,
}

/// How a step's evaluation ended, for [`State::finish_step`].
#[derive(Clone, Debug)]
pub struct StepEnd<'a> {
    pub position: i64,
    /// `Done`, `Skipped` or `Failed`.
    pub status: StepStatus,
    pub started_at_ms: i64,
    pub finished_at_ms: i64,
    pub duration_ms: i64,
    pub error: Option<&'a str>,
    pub detail: Option<&'a Value>,
}

const SESSION_COLUMNS: &str = "id, plan, subject, status, started_at, finished_at";

fn session_of(r: &Row<'_>) -> rusqlite::Result<StepSession> {
    Ok(StepSession {
        id: r.get(0)?,
        plan: r.get(1)?,
        subject: r.get(2)?,
        status: r.get(3)?,
        started_at_ms: r.get(4)?,
        finished_at_ms: r.get(5)?,
    })
}

fn record_of(r: &Row<'_>) -> rusqlite::Result<StepRecord> {
    let detail: Option<String> = r.get(8)?;
    Ok(StepRecord {
        key: r.get(0)?,
        position: r.get(1)?,
        status: r.get(2)?,
        attempts: r.get(3)?,
        started_at_ms: r.get(4)?,
        finished_at_ms: r.get(5)?,
        duration_ms: r.get(6)?,
        last_error: r.get(7)?,
        detail: detail.and_then(|d| serde_json::from_str(&d).ok()),
    })
}

impl Reader {
    /// The newest session of `plan` on `subject`, whatever its status.
    pub fn latest_step_session(&self, plan: &str, subject: &str) -> Result<Option<StepSession>> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM step_sessions
              WHERE plan = ?1 AND subject = ?2 ORDER BY id DESC LIMIT 1"
        );
        Ok(self
            .conn()
            .query_row(&sql, params![plan, subject], session_of)
            .optional()?)
    }

    /// The newest session of `plan` on `subject` that is not done: the one
    /// a new run resumes.
    pub fn resumable_step_session(&self, plan: &str, subject: &str) -> Result<Option<StepSession>> {
        Ok(self
            .latest_step_session(plan, subject)?
            .filter(|s| s.status != SessionStatus::Done))
    }

    /// A session's step rows, in plan order.
    pub fn step_records(&self, session: i64) -> Result<Vec<StepRecord>> {
        let mut stmt = self.conn().prepare(
            "SELECT key, position, status, attempts, started_at, finished_at, duration_ms,
                    last_error, detail
               FROM steps WHERE session = ?1 ORDER BY position, key",
        )?;
        let rows = stmt.query_map([session], record_of)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

impl State {
    /// A new, open session of `plan` on `subject`.
    pub fn create_step_session(
        &mut self,
        held: &dyn Held,
        plan: &str,
        subject: &str,
        now_ms: i64,
    ) -> Result<i64> {
        self.write(held, |tx| {
            tx.execute(
                "INSERT INTO step_sessions (plan, subject, status, started_at) VALUES (?1, ?2, ?3, ?4)",
                params![plan, subject, SessionStatus::Open, now_ms],
            )?;
            Ok(tx.last_insert_rowid())
        })
    }

    /// Commits "started" (and one more attempt) before a step acts. Returns
    /// the step's attempts so far, this one included.
    pub fn start_step(
        &mut self,
        held: &dyn Held,
        session: i64,
        key: &str,
        position: i64,
        started_at_ms: i64,
    ) -> Result<u32> {
        self.write(held, |tx| {
            tx.execute(
                "INSERT INTO steps (session, key, position, status, attempts, started_at)
                 VALUES (?1, ?2, ?3, ?4, 1, ?5)
                 ON CONFLICT (session, key) DO UPDATE SET
                    position = excluded.position, status = excluded.status,
                    attempts = attempts + 1, started_at = excluded.started_at,
                    finished_at = NULL, duration_ms = NULL",
                params![session, key, position, StepStatus::Started, started_at_ms],
            )?;
            Ok(tx.query_row(
                "SELECT attempts FROM steps WHERE session = ?1 AND key = ?2",
                params![session, key],
                |r| r.get(0),
            )?)
        })
    }

    /// Records a failed attempt that will be tried again: the row stays
    /// "started".
    pub fn record_step_error(
        &mut self,
        held: &dyn Held,
        session: i64,
        key: &str,
        error: &str,
    ) -> Result<()> {
        self.write(held, |tx| {
            tx.execute(
                "UPDATE steps SET last_error = ?3 WHERE session = ?1 AND key = ?2",
                params![session, key, error],
            )?;
            Ok(())
        })
    }

    /// Records how a step's evaluation ended (a row is created for a step
    /// whose check found it done, which never started).
    pub fn finish_step(
        &mut self,
        held: &dyn Held,
        session: i64,
        key: &str,
        end: &StepEnd<'_>,
    ) -> Result<()> {
        let detail = end.detail.map(serde_json::to_string).transpose()?;
        self.write(held, |tx| {
            tx.execute(
                "INSERT INTO steps (session, key, position, status, attempts, started_at,
                                    finished_at, duration_ms, last_error, detail)
                 VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (session, key) DO UPDATE SET
                    position = excluded.position, status = excluded.status,
                    started_at = excluded.started_at, finished_at = excluded.finished_at,
                    duration_ms = excluded.duration_ms,
                    last_error = coalesce(excluded.last_error, last_error),
                    detail = coalesce(excluded.detail, detail)",
                params![
                    session,
                    key,
                    end.position,
                    end.status,
                    end.started_at_ms,
                    end.finished_at_ms,
                    end.duration_ms,
                    end.error,
                    detail,
                ],
            )?;
            Ok(())
        })
    }

    /// Sets a session's status; a done or failed one gets its finish time.
    pub fn set_step_session_status(
        &mut self,
        held: &dyn Held,
        session: i64,
        status: SessionStatus,
        now_ms: i64,
    ) -> Result<()> {
        let finished = (status != SessionStatus::Open).then_some(now_ms);
        self.write(held, |tx| {
            tx.execute(
                "UPDATE step_sessions SET status = ?2, finished_at = ?3 WHERE id = ?1",
                params![session, status, finished],
            )?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> (tempfile::TempDir, State, crate::lock::LockGuard) {
        let dir = tempfile::tempdir().unwrap();
        let state = State::open(&dir.path().join("state.db")).unwrap();
        let held = crate::lock::for_tests(dir.path());
        (dir, state, held)
    }

    #[test]
    fn a_step_counts_its_attempts_and_keeps_its_last_error() {
        let (_dir, mut state, held) = state();
        let id = state
            .create_step_session(&held, "onboard", "p-1", 10)
            .unwrap();
        assert_eq!(state.start_step(&held, id, "ray_join", 3, 11).unwrap(), 1);
        state
            .record_step_error(&held, id, "ray_join", "ray is not up")
            .unwrap();
        assert_eq!(state.start_step(&held, id, "ray_join", 3, 12).unwrap(), 2);
        let detail = serde_json::json!({"node": "n1"});
        let end = StepEnd {
            position: 3,
            status: StepStatus::Done,
            started_at_ms: 12,
            finished_at_ms: 20,
            duration_ms: 8,
            error: None,
            detail: Some(&detail),
        };
        state.finish_step(&held, id, "ray_join", &end).unwrap();
        let [record] = state.step_records(id).unwrap().try_into().unwrap();
        assert_eq!(record.status, StepStatus::Done);
        assert_eq!(record.attempts, 2);
        assert_eq!(record.last_error.as_deref(), Some("ray is not up"));
        assert_eq!(record.detail, Some(detail));
        assert_eq!(
            (record.finished_at_ms, record.duration_ms),
            (Some(20), Some(8))
        );
    }

    #[test]
    fn only_a_session_not_done_is_resumable() {
        let (_dir, mut state, held) = state();
        let id = state
            .create_step_session(&held, "onboard", "p-1", 1)
            .unwrap();
        assert_eq!(
            state
                .resumable_step_session("onboard", "p-1")
                .unwrap()
                .map(|s| s.id),
            Some(id)
        );
        assert!(
            state
                .resumable_step_session("onboard", "p-2")
                .unwrap()
                .is_none()
        );
        state
            .set_step_session_status(&held, id, SessionStatus::Done, 5)
            .unwrap();
        assert!(
            state
                .resumable_step_session("onboard", "p-1")
                .unwrap()
                .is_none()
        );
        let latest = state
            .latest_step_session("onboard", "p-1")
            .unwrap()
            .unwrap();
        assert_eq!(
            (latest.status, latest.finished_at_ms),
            (SessionStatus::Done, Some(5))
        );
    }

    #[test]
    fn an_unknown_status_in_the_database_is_an_error() {
        let (_dir, mut state, held) = state();
        let id = state
            .create_step_session(&held, "onboard", "p-1", 1)
            .unwrap();
        state
            .write(&held, |tx| {
                // Bypass the CHECK constraint as a future pm's schema might.
                tx.execute_batch("PRAGMA ignore_check_constraints = ON")?;
                tx.execute(
                    "UPDATE step_sessions SET status = 'paused' WHERE id = ?1",
                    [id],
                )?;
                Ok(())
            })
            .unwrap();
        let err = state.latest_step_session("onboard", "p-1").unwrap_err();
        assert!(
            format!("{err:#}").contains("unknown SessionStatus"),
            "{err:#}"
        );
    }
}
