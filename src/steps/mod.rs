//! The resumable step runner: a plan of named steps, each one checked
//! ("already done?") before it acts, with its progress in the state so a
//! crashed or failed run resumes where it stopped (`pm provider onboard`,
//! and `pm net up` if it wants).
//!
//! It owns the rules, so a plan only says what its steps are:
//! - a step's row says `started` (committed) before it acts and `done`
//!   after; a step whose check finds it done is `skipped`, never acted;
//! - a run resumes the newest session of the plan on its subject that is
//!   not done, at the first step not done or skipped, and evaluates every
//!   step from there; a step left `started` by a crash is checked again, so
//!   it is acted only if it did not finish;
//! - a failing step is tried again under its own [`Retry`] (backoff with
//!   jitter, checked again before every try), then the run stops there;
//! - timing, attempts, the last error and the step's detail JSON are
//!   recorded per step;
//! - [`Selection`] gives `--from STEP` and `--only STEP`, and a dry run
//!   reports what each step would do, checking only, writing nothing.
//!
//! The SQL is the state module's (`state::steps`). Checks must not change
//! anything (a dry run calls them); acts must be idempotent (a crash may
//! repeat one whose check cannot see it finished). Two runs of the same
//! plan on the same subject must not overlap: the caller holds a lock.
//!
//! ```text
//! let plan = Plan::new("provider onboard")
//!     .step(step("network_up", "bring the tailnet up", net_is_up, net_up).retry(Retry::default()))
//!     .step(step("ray_join", "join the Ray cluster", ray_joined, ray_join));
//! let report = Runner::new(&mut state, &lock).run(&plan, &provider_id, &mut cx, &Options::default())?;
//! ```

mod retry;
#[cfg(test)]
mod tests;

pub use retry::{Retry, always, is_retryable};

use crate::error::PmError;
use crate::lock::Held;
use crate::secret::redact;
use crate::state::{
    Reader, SessionStatus, State, StepEnd, StepRecord, StepSession, StepStatus, now_ms,
};
use anyhow::Result;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// What a step's check found.
#[derive(Clone, Debug, PartialEq)]
pub enum Check {
    /// Nothing to do; the detail is recorded (say, the address found).
    Done(Value),
    /// The step must act, and why (shown by a dry run).
    Needed(String),
}

impl Check {
    pub fn done() -> Check {
        Check::Done(Value::Null)
    }

    pub fn needed(reason: impl Into<String>) -> Check {
        Check::Needed(reason.into())
    }
}

/// One step of a plan, over the plan's context `C` (what its checks and
/// acts need: config, the vault, a state handle of their own, tools).
pub trait Step<C> {
    /// Stable: recorded in the state, named by `--from` / `--only`.
    fn key(&self) -> &'static str;
    /// What acting does, for a dry run and `status`.
    fn describe(&self) -> String;
    /// Whether the step is already done. Changes nothing.
    fn check(&self, cx: &mut C) -> Result<Check>;
    /// Does the step; returns the detail to record (`Value::Null` for none).
    fn act(&self, cx: &mut C) -> Result<Value>;
    fn retry(&self) -> Retry {
        Retry::default()
    }
}

type CheckFn<'a, C> = Box<dyn Fn(&mut C) -> Result<Check> + 'a>;
type ActFn<'a, C> = Box<dyn Fn(&mut C) -> Result<Value> + 'a>;

/// A step made of two functions, for plans that need no type per step.
pub struct FnStep<'a, C> {
    key: &'static str,
    description: String,
    check: CheckFn<'a, C>,
    act: ActFn<'a, C>,
    retry: Retry,
}

/// A step from a check and an act, retried by [`Retry::default`].
pub fn step<'a, C>(
    key: &'static str,
    description: impl Into<String>,
    check: impl Fn(&mut C) -> Result<Check> + 'a,
    act: impl Fn(&mut C) -> Result<Value> + 'a,
) -> FnStep<'a, C> {
    FnStep {
        key,
        description: description.into(),
        check: Box::new(check),
        act: Box::new(act),
        retry: Retry::default(),
    }
}

impl<C> FnStep<'_, C> {
    pub fn retry(mut self, retry: Retry) -> Self {
        self.retry = retry;
        self
    }
}

impl<C> Step<C> for FnStep<'_, C> {
    fn key(&self) -> &'static str {
        self.key
    }
    fn describe(&self) -> String {
        self.description.clone()
    }
    fn check(&self, cx: &mut C) -> Result<Check> {
        (self.check)(cx)
    }
    fn act(&self, cx: &mut C) -> Result<Value> {
        (self.act)(cx)
    }
    fn retry(&self) -> Retry {
        self.retry
    }
}

/// A named, ordered list of steps (which may borrow for `'a`).
pub struct Plan<'a, C> {
    name: &'static str,
    steps: Vec<Box<dyn Step<C> + 'a>>,
}

impl<'a, C> Plan<'a, C> {
    /// `name` is recorded with every session (`provider onboard`).
    pub fn new(name: &'static str) -> Plan<'a, C> {
        Plan {
            name,
            steps: Vec::new(),
        }
    }

    pub fn step(mut self, step: impl Step<C> + 'a) -> Self {
        self.steps.push(Box::new(step));
        self
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    pub fn keys(&self) -> Vec<&'static str> {
        self.steps.iter().map(|s| s.key()).collect()
    }

    /// The position of `key`, or a usage error listing the steps.
    fn position(&self, key: &str) -> Result<usize> {
        self.steps
            .iter()
            .position(|s| s.key() == key)
            .ok_or_else(|| {
                PmError::usage(
                    format!("`{}` has no step `{key}`", self.name),
                    Some(format!("its steps: {}", self.keys().join(", "))),
                )
                .into()
            })
    }
}

/// Which steps a run evaluates.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Selection {
    /// From the first step not done in the resumed session (or all, in a
    /// new one).
    #[default]
    Resume,
    /// `--from STEP`: this step and every one after it, whatever their
    /// records say; each is still checked before it acts.
    From(String),
    /// `--only STEP`: this step alone.
    Only(String),
}

impl Selection {
    /// From `--from` and `--only` flags, which exclude each other.
    pub fn from_flags(from: Option<String>, only: Option<String>) -> Result<Selection> {
        match (from, only) {
            (None, None) => Ok(Selection::Resume),
            (Some(key), None) => Ok(Selection::From(key)),
            (None, Some(key)) => Ok(Selection::Only(key)),
            (Some(_), Some(_)) => {
                Err(PmError::usage("--from and --only exclude each other", None).into())
            }
        }
    }
}

impl Selection {
    /// Whether the step at `position` is evaluated, else how it is
    /// reported. `named` is the position of the step `--from` / `--only`
    /// name; `resume_at` the first step not done in the session.
    fn pick(&self, position: usize, named: Option<usize>, resume_at: usize) -> Result<(), Outcome> {
        match self {
            Selection::Resume if position >= resume_at => Ok(()),
            Selection::Resume => Err(Outcome::DoneEarlier),
            Selection::From(_) if Some(position) >= named => Ok(()),
            Selection::Only(_) if Some(position) == named => Ok(()),
            Selection::From(_) | Selection::Only(_) => Err(Outcome::NotSelected),
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Options {
    pub selection: Selection,
    /// Check every selected step and report what it would do; act on
    /// nothing and write nothing.
    pub dry_run: bool,
}

/// What happened to a step in this run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Its check said it was needed, and it acted.
    Acted,
    /// Its check found it done; it did not act.
    AlreadyDone,
    /// Recorded done in the resumed session: not evaluated again.
    DoneEarlier,
    /// Dry run: its check says it would act.
    WouldAct,
    /// Its last try failed; the run stopped here.
    Failed,
    /// Outside `--from` / `--only`.
    NotSelected,
    /// After a failed step.
    NotReached,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct StepReport {
    pub key: &'static str,
    pub description: String,
    pub outcome: Outcome,
    /// Tries in this run (checks that failed included).
    pub attempts: u32,
    pub duration_ms: u64,
    /// Why the check said it was needed.
    pub reason: Option<String>,
    pub error: Option<String>,
    pub detail: Option<Value>,
}

/// What a run did, for `--json` and the human rendering.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct PlanReport {
    pub plan: &'static str,
    pub subject: String,
    /// `None` for a dry run with no session to resume.
    pub session: Option<i64>,
    pub resumed: bool,
    pub dry_run: bool,
    /// Whether a step acted (or, in a dry run, would).
    pub changed: bool,
    /// The session's status after the run (a dry run: as it was).
    pub status: Option<SessionStatus>,
    pub steps: Vec<StepReport>,
}

/// A session as `status` shows it.
#[derive(Clone, Debug, Serialize)]
pub struct SessionView {
    pub session: StepSession,
    pub steps: Vec<StepRecord>,
}

/// The newest session of `plan` on `subject` with its steps.
pub fn status(state: &Reader, plan: &str, subject: &str) -> Result<Option<SessionView>> {
    let Some(session) = state.latest_step_session(plan, subject)? else {
        return Ok(None);
    };
    let steps = state.step_records(session.id)?;
    Ok(Some(SessionView { session, steps }))
}

/// Runs plans against one state handle, under a lock the caller holds
/// (one plan on one subject at a time: the caller's lock says so).
pub struct Runner<'s> {
    state: &'s mut State,
    held: &'s dyn Held,
    sleep: Box<dyn FnMut(Duration) + 's>,
}

/// How one step's evaluation ended, before it is reported.
struct Evaluated {
    report: StepReport,
    failure: Option<anyhow::Error>,
}

impl<'s> Runner<'s> {
    pub fn new(state: &'s mut State, held: &'s dyn Held) -> Runner<'s> {
        Runner {
            state,
            held,
            sleep: Box::new(std::thread::sleep),
        }
    }

    /// Waits between tries with `sleep` instead of the real clock (tests).
    pub fn with_sleep(mut self, sleep: impl FnMut(Duration) + 's) -> Self {
        self.sleep = Box::new(sleep);
        self
    }

    /// Runs (or, with `dry_run`, checks) `plan` on `subject`. A step that
    /// fails its last try ends the run with its error, in the context of
    /// the step; what was done until then is in the state.
    pub fn run<C>(
        &mut self,
        plan: &Plan<'_, C>,
        subject: &str,
        cx: &mut C,
        options: &Options,
    ) -> Result<PlanReport> {
        check_unique_keys(plan)?;
        let named = match &options.selection {
            Selection::Resume => None,
            Selection::From(key) | Selection::Only(key) => Some(plan.position(key)?),
        };
        let (resumed, session) = self.open_session(plan.name, subject, options.dry_run)?;
        let records = match session {
            Some(id) => records_by_key(self.state.step_records(id)?),
            None => BTreeMap::new(),
        };
        let resume_at = first_unfinished(plan, &records);
        let mut report = PlanReport {
            plan: plan.name,
            subject: subject.to_string(),
            session,
            resumed: resumed.is_some(),
            dry_run: options.dry_run,
            changed: false,
            status: resumed.map(|s| s.status),
            steps: Vec::with_capacity(plan.steps.len()),
        };
        let mut failure = None;
        for (position, step) in plan.steps.iter().enumerate() {
            let picked = options.selection.pick(position, named, resume_at);
            let evaluated = match (&failure, picked) {
                (Some(_), _) => Evaluated::not_run(step.as_ref(), Outcome::NotReached),
                (None, Err(outcome)) => Evaluated::not_run(step.as_ref(), outcome),
                (None, Ok(())) => {
                    let prior = records.get(step.key()).map_or(0, |r| r.attempts);
                    let at = (position, prior);
                    self.evaluate(session, at, step.as_ref(), cx, options.dry_run)?
                }
            };
            report.changed |=
                matches!(evaluated.report.outcome, Outcome::Acted | Outcome::WouldAct);
            report.steps.push(evaluated.report);
            failure = failure.or(evaluated.failure);
        }
        if let (Some(id), false) = (session, options.dry_run) {
            let status = self.session_status(plan, id, failure.is_some())?;
            self.state
                .set_step_session_status(self.held, id, status, now_ms())?;
            report.status = Some(status);
        }
        failure.map_or(Ok(report), Err)
    }

    /// The session a run continues (the newest not done), else a new one;
    /// a dry run creates none.
    fn open_session(
        &mut self,
        plan: &str,
        subject: &str,
        dry_run: bool,
    ) -> Result<(Option<StepSession>, Option<i64>)> {
        let resumed = self.state.resumable_step_session(plan, subject)?;
        let session = match (&resumed, dry_run) {
            (Some(s), _) => Some(s.id),
            (None, true) => None,
            (None, false) => {
                Some(
                    self.state
                        .create_step_session(self.held, plan, subject, now_ms())?,
                )
            }
        };
        Ok((resumed, session))
    }

    /// Done when every step of the plan is recorded done or skipped.
    fn session_status<C>(
        &self,
        plan: &Plan<'_, C>,
        id: i64,
        failed: bool,
    ) -> Result<SessionStatus> {
        if failed {
            return Ok(SessionStatus::Failed);
        }
        let records = records_by_key(self.state.step_records(id)?);
        Ok(if first_unfinished(plan, &records) == plan.steps.len() {
            SessionStatus::Done
        } else {
            SessionStatus::Open
        })
    }

    /// Check, then act, under the step's retry policy.
    fn evaluate<C>(
        &mut self,
        session: Option<i64>,
        (position, prior_attempts): (usize, u32),
        step: &dyn Step<C>,
        cx: &mut C,
        dry_run: bool,
    ) -> Result<Evaluated> {
        let retry = step.retry();
        let mut run = StepRun::begin(step, position, prior_attempts);
        loop {
            run.attempts += 1;
            let tried = match step.check(cx) {
                Ok(Check::Done(detail)) => return self.finished(session, run, Ok(detail), dry_run),
                Ok(Check::Needed(reason)) if dry_run => return Ok(run.would_act(reason)),
                Ok(Check::Needed(reason)) => {
                    run.reason = Some(reason);
                    self.record_started(session, &mut run)?;
                    step.act(cx)
                }
                Err(e) => Err(e),
            };
            let err = match tried {
                Ok(detail) => return self.finished(session, run, Ok(detail), dry_run),
                Err(e) => e,
            };
            let last = run.attempts >= retry.attempts.max(1) || !(retry.retry_if)(&err);
            if last || dry_run {
                return self.finished(session, run, Err(err), dry_run);
            }
            let message = error_text(&err);
            tracing::info!(step = run.key, attempt = run.attempts, error = %message, "step_retry");
            if let Some(id) = session {
                self.state
                    .record_step_error(self.held, id, run.key, &message)?;
            }
            (self.sleep)(retry.delay(run.attempts));
        }
    }

    /// Commits "started" before the step acts. A failure here is the
    /// state's, not the step's: it ends the run instead of being retried.
    fn record_started(&mut self, session: Option<i64>, run: &mut StepRun) -> Result<()> {
        if let Some(id) = session {
            self.state.start_step(
                self.held,
                id,
                run.key,
                run.position as i64,
                run.started_at_ms,
            )?;
        }
        run.acted = true;
        tracing::info!(step = run.key, attempt = run.attempts, "step_start");
        Ok(())
    }

    /// Records and reports how a step ended.
    fn finished(
        &mut self,
        session: Option<i64>,
        run: StepRun,
        result: Result<Value>,
        dry_run: bool,
    ) -> Result<Evaluated> {
        let (status, outcome) = match (&result, run.acted) {
            // It acted in this run: a try that failed but did the work, which
            // the check before the next try found done, counts too.
            (Ok(_), true) => (StepStatus::Done, Outcome::Acted),
            // It acted in an earlier run that crashed or failed after.
            (Ok(_), false) if run.prior_attempts > 0 => (StepStatus::Done, Outcome::AlreadyDone),
            (Ok(_), false) => (StepStatus::Skipped, Outcome::AlreadyDone),
            (Err(_), _) => (StepStatus::Failed, Outcome::Failed),
        };
        let duration_ms = run.started.elapsed().as_millis() as u64;
        let (detail, error) = match &result {
            Ok(detail) => (Some(detail.clone()).filter(|d| !d.is_null()), None),
            Err(e) => (None, Some(error_text(e))),
        };
        if let (Some(id), false) = (session, dry_run) {
            let end = StepEnd {
                position: run.position as i64,
                status,
                started_at_ms: run.started_at_ms,
                finished_at_ms: now_ms(),
                duration_ms: duration_ms as i64,
                error: error.as_deref(),
                detail: detail.as_ref(),
            };
            self.state.finish_step(self.held, id, run.key, &end)?;
        }
        tracing::info!(step = run.key, outcome = ?outcome, attempts = run.attempts, duration_ms, "step_complete");
        let failure = result.err().map(|e| {
            e.context(format!(
                "step `{}` failed after {} attempt(s)",
                run.key, run.attempts
            ))
        });
        Ok(Evaluated {
            report: StepReport {
                key: run.key,
                description: run.description,
                outcome,
                attempts: run.attempts,
                duration_ms,
                reason: run.reason,
                error,
                detail,
            },
            failure,
        })
    }
}

/// A step being evaluated.
struct StepRun {
    key: &'static str,
    description: String,
    position: usize,
    started: Instant,
    started_at_ms: i64,
    /// Tries in this run.
    attempts: u32,
    /// Acts recorded for the step in the session before this run.
    prior_attempts: u32,
    reason: Option<String>,
    /// An act began in this run.
    acted: bool,
}

impl StepRun {
    fn begin<C>(step: &dyn Step<C>, position: usize, prior_attempts: u32) -> StepRun {
        StepRun {
            key: step.key(),
            description: step.describe(),
            position,
            started: Instant::now(),
            started_at_ms: now_ms(),
            attempts: 0,
            prior_attempts,
            reason: None,
            acted: false,
        }
    }

    fn would_act(self, reason: String) -> Evaluated {
        Evaluated {
            report: StepReport {
                key: self.key,
                description: self.description,
                outcome: Outcome::WouldAct,
                attempts: self.attempts,
                duration_ms: self.started.elapsed().as_millis() as u64,
                reason: Some(reason),
                error: None,
                detail: None,
            },
            failure: None,
        }
    }
}

impl Evaluated {
    fn not_run<C>(step: &dyn Step<C>, outcome: Outcome) -> Evaluated {
        Evaluated {
            report: StepReport {
                key: step.key(),
                description: step.describe(),
                outcome,
                attempts: 0,
                duration_ms: 0,
                reason: None,
                error: None,
                detail: None,
            },
            failure: None,
        }
    }
}

/// pm's translated message with its context, secrets redacted: what the
/// state keeps as a step's last error.
fn error_text(err: &anyhow::Error) -> String {
    redact(&format!("{err:#}")).into_owned()
}

fn records_by_key(records: Vec<StepRecord>) -> BTreeMap<String, StepRecord> {
    records.into_iter().map(|r| (r.key.clone(), r)).collect()
}

/// The position of the first step not recorded done or skipped (the plan's
/// length when there is none).
fn first_unfinished<C>(plan: &Plan<'_, C>, records: &BTreeMap<String, StepRecord>) -> usize {
    plan.steps
        .iter()
        .position(|step| {
            !records
                .get(step.key())
                .is_some_and(|r| matches!(r.status, StepStatus::Done | StepStatus::Skipped))
        })
        .unwrap_or(plan.steps.len())
}

fn check_unique_keys<C>(plan: &Plan<'_, C>) -> Result<()> {
    let mut keys = plan.keys();
    keys.sort_unstable();
    match keys.windows(2).find(|w| w[0] == w[1]) {
        Some(w) => Err(anyhow::anyhow!(
            "plan `{}` names step `{}` twice",
            plan.name,
            w[0]
        )),
        None => Ok(()),
    }
}
