//! Every state a `pm net` command enters is logged (`net_transition`) and
//! recorded in the state (`net_events` of its `net_runs` row) as it
//! happens, so `pm net status` can say how the last run went even when pm
//! was killed halfway.

use crate::error::classify;
use crate::lock::Held;
use crate::secret::redact;
use crate::state::{NetNode, NetRunEnd, State, now_ms};
use anyhow::Result;
use serde_json::{Value, json};

pub struct Recorder<'a> {
    state: &'a mut State,
    lock: &'a dyn Held,
    run: i64,
    seq: u32,
    last: &'static str,
    /// The states entered, in order (for the command's report).
    pub states: Vec<&'static str>,
}

impl<'a> Recorder<'a> {
    /// Starts the run of `command` (`net up`); writes need the net lock.
    pub fn begin(state: &'a mut State, lock: &'a dyn Held, command: &str) -> Result<Recorder<'a>> {
        let run = state.write(lock, |tx| tx.net_begin_run(command, now_ms()))?;
        Ok(Recorder {
            state,
            lock,
            run,
            seq: 0,
            last: "start",
            states: Vec::new(),
        })
    }

    /// Enters `to`. The detail is redacted of every live secret before it
    /// is logged or stored (a server message could quote anything).
    pub fn enter(&mut self, to: &'static str, detail: Value) -> Result<()> {
        let text = redact(&detail.to_string()).into_owned();
        let detail = serde_json::from_str(&text).unwrap_or(Value::String(text));
        tracing::info!(from = self.last, to, detail = %detail, "net_transition");
        let (run, seq) = (self.run, self.seq);
        self.state.write(self.lock, |tx| {
            tx.net_event(run, seq, now_ms(), to, Some(&detail))
        })?;
        self.seq += 1;
        self.last = to;
        self.states.push(to);
        Ok(())
    }

    pub fn node(&self) -> Result<Option<NetNode>> {
        self.state.net_node()
    }

    pub fn save_node(&mut self, node: &NetNode) -> Result<()> {
        self.state.write(self.lock, |tx| tx.net_save_node(node))
    }

    /// Ends the run: `changed` on success, or the error's code (recorded
    /// as a last `failed` state too).
    pub fn finish(&mut self, outcome: Result<bool, &anyhow::Error>, attempts: u32) -> Result<()> {
        let code = match outcome {
            Ok(_) => None,
            Err(e) => {
                let c = classify(e);
                self.enter("failed", json!({"code": c.code, "message": c.message}))?;
                Some(c.code)
            }
        };
        let end = NetRunEnd {
            finished_at_ms: now_ms(),
            ok: code.is_none(),
            error_code: code,
            changed: outcome.ok(),
            attempts,
        };
        let run = self.run;
        self.state
            .write(self.lock, |tx| tx.net_finish_run(run, &end))
    }
}
