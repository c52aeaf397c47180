//! `pm net up` as a state machine: each [`Phase`] does one thing and names
//! the next, and every phase entered is logged and recorded.
//!
//! ```text
//! probe_daemon ─┬─ listening ──────────────────────────────▶ read_status
//!               └─ absent/stale ─▶ start_daemon ───────────▶ read_status
//! read_status ─┬─ Running, wanted settings ────────────────▶ running
//!              ├─ Running, settable drift ─▶ apply_settings ─▶ verify
//!              ├─ Running, tags/server drift ─▶ fetch_key ─▶ login (force-reauth)
//!              ├─ Stopped with a node key ─▶ login (resume, no key)
//!              ├─ NeedsMachineAuth ─▶ await_approval ─▶ verify
//!              └─ otherwise ─▶ fetch_key ─▶ login
//! login ─┬─ ok ─▶ verify ─▶ running
//!        ├─ key rejected ─▶ backoff ─▶ fetch_key (bw sync first) ─▶ login   (at most N)
//!        ├─ backend error ─▶ backoff ─▶ login                               (at most N)
//!        ├─ settings conflict ─▶ login, restating what tailscale lists      (once)
//!        ├─ daemon lost ─▶ probe_daemon ─▶ start_daemon                     (once)
//!        └─ machine auth / timeout / other ─▶ failed
//! ```
//!
//! Why not the resumable step runner: nothing here should resume. Each run
//! starts from what the daemon says now, and a run cut short leaves nothing
//! half-done that a later run must finish (the key file aside, which the
//! next run sweeps). What is kept is the record of each run.
//!
//! Termination: every loop back costs a bounded budget (key attempts,
//! backend errors, one restart, one restatement, one resume), and the
//! machine stops after [`MAX_STATES`] states whatever happens.

use super::keyfile::KeyFile;
use super::record::Recorder;
use super::settings::{Drift, Wanted, drift, missing_flags};
use super::tailscale::{Cause, Failure, Observed, Tailscale, failure};
use super::{DaemonReport, NetConfig, NetUp, SocketState, UpOptions, applied_to, daemon};
use crate::config::Config;
use crate::context::Context;
use crate::error::PmError;
use crate::output::notice;
use crate::secret::{Secret, redact};
use crate::state::{NetNode, now_ms};
use crate::tool::{Detached, Stream, ToolError};
use crate::vault::{Field, Vault, VaultOptions};
use anyhow::{Result, anyhow};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// A run that enters more states than this has a bug, not bad luck.
const MAX_STATES: usize = 64;

/// Between two looks at a node that is settling.
const STATUS_POLL: Duration = Duration::from_millis(200);

/// What to do about a node, judged from its status alone (the dry run's
/// answer, and where the machine starts).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Plan {
    /// Running with the wanted settings: nothing to do.
    InPlace,
    ApplySettings(Vec<&'static str>),
    Relogin(Vec<&'static str>),
    AwaitApproval,
    AwaitRunning,
    /// Stopped (`pm net down`) with a node key: `up` without a key.
    Resume,
    Login {
        force_reauth: bool,
    },
}

impl Plan {
    fn actions(&self) -> Vec<&'static str> {
        match self {
            Plan::InPlace | Plan::AwaitRunning => vec![],
            Plan::ApplySettings(_) => vec!["apply_settings"],
            Plan::Relogin(_) => vec!["relogin"],
            Plan::AwaitApproval => vec!["await_approval"],
            Plan::Resume => vec!["resume"],
            Plan::Login { .. } => vec!["login"],
        }
    }
}

pub fn plan(seen: &Observed, wanted: &Wanted, applied: Option<&Wanted>) -> Plan {
    match seen.backend_state.as_str() {
        "Running" if seen.connected() => match drift(wanted, seen, applied) {
            Drift::None => Plan::InPlace,
            Drift::Settable(names) => Plan::ApplySettings(names),
            Drift::Relogin(names) => Plan::Relogin(names),
        },
        "Running" | "Starting" => Plan::AwaitRunning,
        "NeedsMachineAuth" => Plan::AwaitApproval,
        "Stopped" if seen.have_node_key => Plan::Resume,
        _ => Plan::Login {
            force_reauth: seen.have_node_key,
        },
    }
}

/// One `tailscale up`: with a key from the vault or without (a resume).
#[derive(Clone, Copy, Debug)]
struct Login {
    with_key: bool,
    force_reauth: bool,
}

enum Phase {
    ProbeDaemon,
    StartDaemon,
    ReadStatus,
    ApplySettings(Vec<&'static str>),
    FetchKey { refresh: bool, then: Login },
    Login(Login),
    Recover(Failure, Login, Vec<String>),
    Backoff { delay: Duration, then: Box<Phase> },
    AwaitApproval,
    Verify,
    Running(Observed),
}

impl Phase {
    fn name(&self) -> &'static str {
        match self {
            Phase::ProbeDaemon => "probe_daemon",
            Phase::StartDaemon => "start_daemon",
            Phase::ReadStatus => "read_status",
            Phase::ApplySettings(_) => "apply_settings",
            Phase::FetchKey { .. } => "fetch_key",
            Phase::Login(_) => "login",
            Phase::Recover(f, ..) => match f.cause {
                Some(Cause::KeyRejected) => "key_rejected",
                Some(Cause::BackendError) => "backend_error",
                Some(Cause::SettingsConflict) => "settings_conflict",
                Some(Cause::DaemonLost | Cause::DaemonAbsent) => "daemon_lost",
                _ => "login_failed",
            },
            Phase::Backoff { .. } => "backoff",
            Phase::AwaitApproval => "await_approval",
            Phase::Verify => "verify",
            Phase::Running(_) => "running",
        }
    }

    fn detail(&self) -> Value {
        match self {
            Phase::ApplySettings(names) => json!({"settings": names}),
            Phase::FetchKey { refresh, .. } => json!({"sync_first": refresh}),
            Phase::Login(l) => json!({"with_key": l.with_key, "force_reauth": l.force_reauth}),
            Phase::Recover(f, ..) => {
                json!({"cause": f.cause, "said": f.line, "server": f.server_message()})
            }
            Phase::Backoff { delay, .. } => json!({"delay_ms": delay.as_millis() as u64}),
            Phase::Running(seen) => json!({"ips": seen.ips, "hostname": seen.hostname}),
            _ => Value::Null,
        }
    }
}

/// What each loop back has cost so far.
#[derive(Default)]
struct Tally {
    key_attempts: u32,
    backend_errors: u32,
    daemon_starts: u32,
    daemon_losses: u32,
    applied_settings: bool,
    /// A login or `set` of this run stated every wanted setting.
    settings_in_effect: bool,
    relogin: bool,
    resumed: bool,
    restated: bool,
    awaited: bool,
    browser: bool,
}

pub struct Machine<'a> {
    cfg: &'a NetConfig,
    config: &'a Config,
    options: &'a UpOptions,
    quiet: bool,
    ts: Tailscale,
    rec: Recorder<'a>,
    vault: Option<Vault>,
    key: Option<Secret>,
    recorded: Option<NetNode>,
    tally: Tally,
    actions: Vec<&'static str>,
    restated: Vec<String>,
    started_daemon: Option<Detached>,
    started: Instant,
}

impl<'a> Machine<'a> {
    pub fn new(
        cfg: &'a NetConfig,
        config: &'a Config,
        options: &'a UpOptions,
        quiet: bool,
        ts: Tailscale,
        rec: Recorder<'a>,
    ) -> Machine<'a> {
        Machine {
            cfg,
            config,
            options,
            quiet,
            ts,
            rec,
            vault: None,
            key: None,
            recorded: None,
            tally: Tally::default(),
            actions: Vec::new(),
            restated: Vec::new(),
            started_daemon: None,
            started: Instant::now(),
        }
    }

    /// Runs to `running` or a failure, records how it ended, and reports.
    pub fn run(mut self) -> Result<NetUp> {
        let result = self.recorded_node().and_then(|()| self.drive());
        let attempts = self.tally.key_attempts;
        match result {
            Ok(seen) => {
                let pid = self.daemon_pid();
                self.save(&seen, pid)?;
                let up = self.report(seen, pid);
                self.rec.finish(Ok(up.changed), attempts)?;
                Ok(up)
            }
            Err(e) => {
                if let Err(record) = self.remember_pending(&e) {
                    tracing::warn!(error = format!("{record:#}"), "net_record_failed");
                }
                if let Err(record) = self.rec.finish(Err(&e), attempts) {
                    tracing::warn!(error = format!("{record:#}"), "net_record_failed");
                }
                Err(e)
            }
        }
    }

    /// A login that ends waiting for an admin has given the node every
    /// wanted setting: recorded, so the run that sees it approved need not
    /// apply them again.
    fn remember_pending(&mut self, e: &anyhow::Error) -> Result<()> {
        let pending = e
            .chain()
            .any(|c| matches!(c.downcast_ref(), Some(PmError::NetNeedsMachineAuth { .. })));
        if !pending || (self.tally.key_attempts == 0 && !self.tally.resumed) {
            return Ok(());
        }
        match self.ts.status(self.cfg.command_timeout)? {
            Ok(seen) if seen.node_id.is_some() => {
                let node = NetNode {
                    backend_state: Some(seen.backend_state.clone()),
                    node_id: seen.node_id.clone(),
                    applied: serde_json::to_value(&self.cfg.wanted).ok(),
                    updated_at_ms: now_ms(),
                    ..self.recorded.clone().unwrap_or_default()
                };
                self.rec.save_node(&node)
            }
            _ => Ok(()),
        }
    }

    fn recorded_node(&mut self) -> Result<()> {
        self.recorded = self.rec.node()?;
        Ok(())
    }

    fn drive(&mut self) -> Result<Observed> {
        let mut phase = Phase::ProbeDaemon;
        for _ in 0..MAX_STATES {
            self.rec.enter(phase.name(), phase.detail())?;
            phase = match phase {
                Phase::Running(seen) => return Ok(seen),
                other => self.step(other)?,
            };
        }
        Err(anyhow!(
            "pm net up did not settle within {MAX_STATES} states (a bug in pm)"
        ))
    }

    fn step(&mut self, phase: Phase) -> Result<Phase> {
        match phase {
            Phase::ProbeDaemon => self.probe_daemon(),
            Phase::StartDaemon => self.start_daemon(),
            Phase::ReadStatus => self.read_status(),
            Phase::ApplySettings(_) => self.apply_settings(),
            Phase::FetchKey { refresh, then } => self.fetch_key(refresh, then),
            Phase::Login(login) => self.login(login),
            Phase::Recover(failed, login, flags) => self.recover(failed, login, &flags),
            Phase::Backoff { delay, then } => {
                // A backoff between logins, not a wait for a condition.
                std::thread::sleep(delay);
                Ok(*then)
            }
            Phase::AwaitApproval => self.await_approval(),
            Phase::Verify => self.verify(),
            Phase::Running(seen) => Ok(Phase::Running(seen)),
        }
    }

    fn probe_daemon(&mut self) -> Result<Phase> {
        match SocketState::probe(&self.cfg.socket) {
            SocketState::Listening => Ok(Phase::ReadStatus),
            SocketState::Absent | SocketState::Stale => Ok(Phase::StartDaemon),
            SocketState::Denied => Err(PmError::NetDaemonFailed {
                reason: format!(
                    "pm may not connect to {} (permission denied): run pm as the daemon's user or root",
                    self.cfg.socket.display()
                ),
                log: self.cfg.daemon_log.clone(),
            }
            .into()),
        }
    }

    fn start_daemon(&mut self) -> Result<Phase> {
        if self.tally.daemon_starts >= 2 {
            return Err(PmError::NetDaemonFailed {
                reason: "it stopped answering again after pm restarted it".to_string(),
                log: self.cfg.daemon_log.clone(),
            }
            .into());
        }
        self.tally.daemon_starts += 1;
        let started = daemon::start(self.cfg, &self.config.env.vars, &self.ts)?;
        self.started_daemon = Some(started);
        self.act("start_daemon");
        let node = NetNode {
            daemon_pid: Some(started.pid),
            daemon_started_at_ms: Some(now_ms()),
            updated_at_ms: now_ms(),
            ..self.recorded.clone().unwrap_or_default()
        };
        self.rec.save_node(&node)?;
        self.recorded = Some(node);
        Ok(Phase::ReadStatus)
    }

    fn read_status(&mut self) -> Result<Phase> {
        let seen = match self.ts.status(self.cfg.command_timeout)? {
            Ok(seen) => seen,
            // The socket accepts but nothing answers: let a daemon try
            // (it tells a busy socket from a stale one).
            Err(f) if self.tally.daemon_starts == 0 && is_daemon_gone(&f) => {
                return Ok(Phase::StartDaemon);
            }
            Err(f) => return Err(status_failed(&f)),
        };
        self.decide(seen)
    }

    /// The next phase for the node as seen now. Once a login or `set` of
    /// this run succeeded, the wanted settings are in effect: only what
    /// status shows is still compared.
    fn decide(&mut self, seen: Observed) -> Result<Phase> {
        let applied = if self.tally.settings_in_effect {
            Some(self.cfg.wanted.clone())
        } else {
            applied_to(self.recorded.as_ref(), &seen)
        };
        Ok(match plan(&seen, &self.cfg.wanted, applied.as_ref()) {
            Plan::InPlace => Phase::Running(seen),
            Plan::ApplySettings(names) if !self.tally.applied_settings => {
                Phase::ApplySettings(names)
            }
            Plan::Relogin(_) if !self.tally.relogin => {
                self.tally.relogin = true;
                self.with_key(Login {
                    with_key: true,
                    force_reauth: true,
                })
            }
            // Applied once already in this run: what status shows now is
            // the node's final word (a key's own tags win over advertised).
            Plan::ApplySettings(_) | Plan::Relogin(_) => Phase::Running(seen),
            Plan::AwaitApproval if !self.tally.awaited => Phase::AwaitApproval,
            Plan::AwaitApproval => return Err(self.needs_approval(None)),
            Plan::AwaitRunning => Phase::Verify,
            Plan::Resume if !self.tally.resumed => Phase::Login(Login {
                with_key: false,
                force_reauth: false,
            }),
            Plan::Resume => self.with_key(Login {
                with_key: true,
                force_reauth: true,
            }),
            Plan::Login { force_reauth } => self.with_key(Login {
                with_key: true,
                force_reauth,
            }),
        })
    }

    /// `login` once a key is in hand, else `fetch_key` first.
    fn with_key(&self, login: Login) -> Phase {
        if login.with_key && self.key.is_none() {
            Phase::FetchKey {
                refresh: false,
                then: login,
            }
        } else {
            Phase::Login(login)
        }
    }

    fn apply_settings(&mut self) -> Result<Phase> {
        self.tally.applied_settings = true;
        let run = self.ts.set(&self.cfg.wanted.set_flags())?;
        if let Some(failed) = failure(&run) {
            if is_daemon_gone(&failed) {
                return self.daemon_lost();
            }
            return Err(status_failed(&failed));
        }
        self.act("apply_settings");
        self.tally.settings_in_effect = true;
        Ok(Phase::Verify)
    }

    fn fetch_key(&mut self, refresh: bool, then: Login) -> Result<Phase> {
        if self.vault.is_none() {
            let options = VaultOptions {
                interactive: self.options.interactive,
                ..VaultOptions::default()
            };
            self.vault = Some(Vault::open(self.config, options)?);
        }
        let vault = self.vault.as_ref().expect("the vault was just opened");
        if refresh && let Err(e) = vault.sync() {
            // A rotated key may be on the server only, but a vault that
            // cannot sync still has the copy it had: go on with it.
            let why = crate::error::classify(&e);
            let code = why.code;
            notice(
                self.quiet,
                &format!(
                    "could not sync the vault ({}); reading the local copy",
                    why.message
                ),
            );
            self.rec.enter("vault_sync_failed", json!({"code": code}))?;
        }
        let found = vault.get(&self.cfg.item, &Field::parse(&self.cfg.field))?;
        let same = self
            .key
            .as_ref()
            .is_some_and(|old| old.expose() == found.value.expose());
        self.rec.enter(
            "key_fetched",
            json!({"item": self.cfg.item, "id": found.id, "same_as_rejected": same}),
        )?;
        self.key = Some(found.value);
        Ok(Phase::Login(then))
    }

    fn login(&mut self, login: Login) -> Result<Phase> {
        let mut args = self.cfg.wanted.up_flags();
        args.extend(self.restated.iter().cloned());
        if login.force_reauth {
            args.push("--force-reauth".to_string());
        }
        let keyfile = match (&self.key, login.with_key) {
            (Some(key), true) => Some(KeyFile::write(&self.cfg.key_dir, key)?),
            _ => None,
        };
        if login.with_key {
            self.tally.key_attempts += 1;
        } else {
            self.tally.resumed = true;
        }
        args.extend(keyfile.as_ref().map(KeyFile::flag));
        let run = self.up(&args);
        // The key file goes as soon as `up` is done with it, whatever happened.
        drop(keyfile);
        let run = match run {
            Ok(run) => run,
            Err(ToolError::TimedOut { .. }) => return Err(self.timed_out()),
            Err(e) => return Err(e.into()),
        };
        match failure(&run) {
            None => {
                self.act(match (login.with_key, login.force_reauth) {
                    (false, _) => "resume",
                    (true, true) if self.tally.relogin => "relogin",
                    _ => "login",
                });
                self.tally.settings_in_effect = true;
                Ok(Phase::Verify)
            }
            Some(failed) => Ok(Phase::Recover(failed, login, args)),
        }
    }

    /// `tailscale up`, telling the person at the terminal at once when the
    /// node waits for an admin (up keeps waiting for its timeout).
    fn up(&self, args: &[String]) -> Result<crate::tool::Run, ToolError> {
        let (quiet, secs) = (self.quiet, self.cfg.up_timeout.as_secs());
        let mut on_line = |_: Stream, line: &str| {
            if line.contains("To approve your machine") {
                notice(
                    quiet,
                    &format!("this machine waits for a tailnet admin's approval (up to {secs} s)"),
                );
            }
        };
        self.ts.up(args, self.cfg.up_timeout, &mut on_line)
    }

    fn recover(&mut self, failed: Failure, login: Login, args: &[String]) -> Result<Phase> {
        match failed.cause {
            Some(Cause::KeyRejected) => self.key_rejected(&failed, login),
            Some(Cause::BackendError) => {
                self.tally.backend_errors += 1;
                let server = redact(failed.server_message().unwrap_or(&failed.line)).into_owned();
                if self.tally.backend_errors >= self.cfg.login_attempts {
                    return Err(PmError::NetBackendError {
                        attempts: self.tally.backend_errors,
                        server,
                    }
                    .into());
                }
                notice(
                    self.quiet,
                    &format!("the coordination server refused the login ({server}); trying again"),
                );
                Ok(self.backoff(self.tally.backend_errors, Phase::Login(login)))
            }
            Some(Cause::SettingsConflict) => self.restate(&failed, login, args),
            Some(Cause::LoginServerChange) if !login.force_reauth => Ok(self.with_key(Login {
                with_key: true,
                force_reauth: true,
            })),
            Some(Cause::BrowserLogin) if !self.tally.browser => {
                // A resume without a key found the node logged out.
                self.tally.browser = true;
                Ok(self.with_key(Login {
                    with_key: true,
                    force_reauth: true,
                }))
            }
            Some(Cause::MachineAuth) => Err(self.needs_approval(failed.admin_url())),
            Some(Cause::Timeout | Cause::ControlUnreachable) => Err(self.timed_out()),
            Some(Cause::DaemonLost | Cause::DaemonAbsent) => self.daemon_lost(),
            _ => Err(PmError::ToolFailed {
                tool: "tailscale".to_string(),
                message: format!("`tailscale up` failed: {}", redact(&failed.line)),
            }
            .into()),
        }
    }

    fn key_rejected(&mut self, failed: &Failure, login: Login) -> Result<Phase> {
        let server = redact(failed.server_message().unwrap_or(&failed.line)).into_owned();
        let said = format!("{server} ({})", key_problem(&server));
        crate::failpoint::hit("net_key_rejected");
        let (attempt, of) = (self.tally.key_attempts, self.cfg.login_attempts);
        if attempt >= of {
            return Err(PmError::NetAuthFailed {
                item: self.cfg.item.clone(),
                field: self.cfg.field.clone(),
                attempts: attempt,
                server: said,
            }
            .into());
        }
        let next = self.backoff(
            attempt,
            Phase::FetchKey {
                refresh: true,
                then: login,
            },
        );
        notice(
            self.quiet,
            &format!(
                "the coordination server rejected the auth key from vault item `{}`: {said}; \
                 reading it from the vault again, attempt {} of {of}",
                self.cfg.item,
                attempt + 1
            ),
        );
        Ok(next)
    }

    /// Settings someone changed by hand that `up` insists on: restated
    /// with the values tailscale itself lists, once.
    fn restate(&mut self, failed: &Failure, login: Login, args: &[String]) -> Result<Phase> {
        let missing = missing_flags(&failed.text, args);
        if missing.is_empty() || self.tally.restated {
            return Err(PmError::NetSettingsConflict { flags: missing }.into());
        }
        self.tally.restated = true;
        notice(
            self.quiet,
            &format!(
                "keeping settings pm does not manage, as tailscale requires: {}",
                missing.join(" ")
            ),
        );
        self.restated = missing;
        Ok(Phase::Login(login))
    }

    fn daemon_lost(&mut self) -> Result<Phase> {
        self.tally.daemon_losses += 1;
        if self.tally.daemon_losses > 1 {
            return Err(PmError::NetDaemonFailed {
                reason: "it stopped answering during the login again after pm restarted it"
                    .to_string(),
                log: self.cfg.daemon_log.clone(),
            }
            .into());
        }
        notice(
            self.quiet,
            "tailscaled stopped answering during the login; starting it again",
        );
        Ok(Phase::ProbeDaemon)
    }

    fn backoff(&self, failed: u32, then: Phase) -> Phase {
        Phase::Backoff {
            delay: self.cfg.retry.delay(failed),
            then: Box::new(then),
        }
    }

    fn await_approval(&mut self) -> Result<Phase> {
        self.tally.awaited = true;
        notice(
            self.quiet,
            &format!(
                "this machine waits for a tailnet admin's approval at {} (up to {} s)",
                self.cfg.wanted.admin_url(),
                self.cfg.up_timeout.as_secs()
            ),
        );
        // Approved: the node goes Starting, then Running with an address.
        let settled = |s: &Observed| {
            s.connected() || !matches!(s.backend_state.as_str(), "NeedsMachineAuth" | "Starting")
        };
        match self.poll_until(settled)? {
            Some(seen) if seen.connected() => {
                self.act("await_approval");
                self.decide(seen)
            }
            Some(_) => Ok(Phase::ReadStatus),
            None => Err(self.needs_approval(None)),
        }
    }

    fn verify(&mut self) -> Result<Phase> {
        match self.poll_until(|s| s.connected() || s.backend_state == "NeedsMachineAuth")? {
            // Connected: judge the settings once more (a node that came up
            // by itself, from an earlier run's login, was never checked).
            Some(seen) if seen.connected() => self.decide(seen),
            Some(_) if !self.tally.awaited => Ok(Phase::AwaitApproval),
            Some(_) => Err(self.needs_approval(None)),
            None => Err(self.timed_out()),
        }
    }

    /// Status until `done` holds (`Some`), or `None` at `up_timeout`.
    fn poll_until(&self, done: impl Fn(&Observed) -> bool) -> Result<Option<Observed>> {
        let deadline = Instant::now() + self.cfg.up_timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if let Ok(seen) = self.ts.status(left.max(STATUS_POLL))?
                && done(&seen)
            {
                return Ok(Some(seen));
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
            std::thread::sleep(STATUS_POLL.min(left));
        }
    }

    fn needs_approval(&self, url: Option<String>) -> anyhow::Error {
        PmError::NetNeedsMachineAuth {
            admin_url: url.unwrap_or_else(|| self.cfg.wanted.admin_url()),
        }
        .into()
    }

    /// The timeout error, with what the daemon says about its health.
    /// A node found waiting for an admin at that point is that error
    /// instead (`up` may time out before it printed the approval URL).
    fn timed_out(&self) -> anyhow::Error {
        let seen = self
            .ts
            .status(self.cfg.command_timeout)
            .ok()
            .and_then(Result::ok);
        if seen
            .as_ref()
            .is_some_and(|s| s.backend_state == "NeedsMachineAuth")
        {
            return self.needs_approval(None);
        }
        PmError::NetTimeout {
            secs: self.cfg.up_timeout.as_secs(),
            backend_state: seen.as_ref().map(|s| s.backend_state.clone()),
            health: seen.map(|s| s.health).unwrap_or_default(),
        }
        .into()
    }

    fn act(&mut self, action: &'static str) {
        if !self.actions.contains(&action) {
            self.actions.push(action);
        }
    }

    /// Records the node as a successful up left it.
    /// The daemon's pid: the one pm started, else whichever listens on the
    /// socket (a scan of /proc, so done once per run).
    fn daemon_pid(&self) -> Option<u32> {
        self.started_daemon
            .map(|d| d.pid)
            .or_else(|| daemon::find_pid(&self.cfg.socket))
    }

    fn save(&mut self, seen: &Observed, pid: Option<u32>) -> Result<()> {
        let old = self.recorded.clone().unwrap_or_default();
        let node = NetNode {
            backend_state: Some(seen.backend_state.clone()),
            ips: seen.ips.clone(),
            hostname: seen.hostname.clone(),
            dns_name: seen.dns_name.clone(),
            node_id: seen.node_id.clone(),
            applied: serde_json::to_value(&self.cfg.wanted).ok(),
            daemon_pid: pid.or(old.daemon_pid),
            daemon_started_at_ms: old.daemon_started_at_ms,
            last_up_at_ms: Some(now_ms()),
            last_up_attempts: Some(self.tally.key_attempts),
            updated_at_ms: now_ms(),
        };
        self.rec.save_node(&node)
    }

    fn report(&self, seen: Observed, pid: Option<u32>) -> NetUp {
        NetUp {
            changed: !self.actions.is_empty(),
            dry_run: false,
            backend_state: Some(seen.backend_state),
            ips: seen.ips,
            hostname: seen.hostname,
            dns_name: seen.dns_name,
            tailnet: seen.tailnet,
            actions: self.actions.clone(),
            attempts: self.tally.key_attempts,
            restated: self.restated.clone(),
            daemon: DaemonReport {
                socket: self.cfg.socket.clone(),
                state: SocketState::Listening,
                running: true,
                pid,
                started: self.started_daemon.is_some(),
                log: self.cfg.daemon_log.clone(),
            },
            states: self.rec.states.clone(),
            duration_ms: self.started.elapsed().as_millis() as u64,
        }
    }
}

/// The daemon is not there (or went away) rather than saying no.
fn is_daemon_gone(failed: &Failure) -> bool {
    matches!(
        failed.cause,
        Some(Cause::DaemonAbsent | Cause::DaemonLost) | None
    )
}

/// A status or set call tailscale refused, in pm's words.
pub(super) fn status_failed(failed: &Failure) -> anyhow::Error {
    match failed.cause {
        Some(Cause::AccessDenied) => PmError::ToolFailed {
            tool: "tailscale".to_string(),
            message: format!(
                "tailscaled refused pm ({}): run pm as root, or make its user the operator once \
                 (`sudo tailscale set --operator=$USER`, or net.operator)",
                redact(&failed.line)
            ),
        }
        .into(),
        _ => PmError::ToolFailed {
            tool: "tailscale".to_string(),
            message: redact(&failed.line).into_owned(),
        }
        .into(),
    }
}

/// What the server's words mean, for people.
fn key_problem(server: &str) -> &'static str {
    if server.contains("does not exist") {
        "expired, revoked or deleted"
    } else if server.contains("not valid") {
        "a one-off key that was already used"
    } else if server.contains("unable to validate") {
        "not a key this server knows"
    } else {
        "rejected"
    }
}

/// `pm net up --dry-run`: what a run would do, from the socket and the
/// status alone; nothing is started, written or logged in.
pub fn dry_run(ctx: &mut Context, cfg: &NetConfig) -> Result<NetUp> {
    let ts = Tailscale::locate(cfg, &ctx.config.env.vars)?;
    let socket = SocketState::probe(&cfg.socket);
    let node = ctx.read_state()?.net_node()?;
    let seen = match socket {
        SocketState::Listening => ts.status(cfg.command_timeout)?.ok(),
        _ => None,
    };
    let actions = match &seen {
        Some(seen) => plan(seen, &cfg.wanted, applied_to(node.as_ref(), seen).as_ref()).actions(),
        None => vec!["start_daemon", "login"],
    };
    let seen = seen.unwrap_or_default();
    Ok(NetUp {
        changed: !actions.is_empty(),
        dry_run: true,
        backend_state: Some(seen.backend_state).filter(|s| !s.is_empty()),
        ips: seen.ips,
        hostname: seen.hostname,
        dns_name: seen.dns_name,
        tailnet: seen.tailnet,
        actions,
        attempts: 0,
        restated: Vec::new(),
        daemon: DaemonReport {
            socket: cfg.socket.clone(),
            state: socket,
            running: socket == SocketState::Listening,
            pid: daemon::find_pid(&cfg.socket),
            started: false,
            log: cfg.daemon_log.clone(),
        },
        states: vec!["probe_daemon"],
        duration_ms: 0,
    })
}
