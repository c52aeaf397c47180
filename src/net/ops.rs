//! `pm net status|wait` (read-only: the socket, `tailscale status` and the
//! read-only state) and `pm net down|leave` (under the network lock, each
//! state recorded like `up`'s).

use super::machine::status_failed;
use super::record::Recorder;
use super::tailscale::{Cause, Failure, Observed, Tailscale, failure};
use super::{DaemonReport, NetConfig, SocketState, daemon};
use crate::config::Config;
use crate::context::Context;
use crate::error::PmError;
use crate::state::{NetNode, NetRun, format_ms, now_ms};
use anyhow::Result;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;
use std::time::{Duration, Instant};

/// Between two looks while `pm net wait` waits.
const WAIT_POLL: Duration = Duration::from_millis(250);

/// `pm net status`: the node now, and what pm recorded.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct NetStatus {
    /// Running with a Tailscale IP: what `pm play` and `pm net wait` need.
    pub connected: bool,
    /// `None` when no daemon answered.
    pub backend_state: Option<String>,
    pub ips: Vec<String>,
    pub hostname: Option<String>,
    pub dns_name: Option<String>,
    pub tailnet: Option<String>,
    pub tags: Vec<String>,
    pub health: Vec<String>,
    pub daemon: DaemonReport,
    /// Why a listening daemon gave no status.
    pub problem: Option<String>,
    pub last_up: Option<LastUp>,
    pub last_run: Option<RunView>,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct LastUp {
    pub at: String,
    pub attempts: Option<u32>,
    pub ips: Vec<String>,
    pub hostname: Option<String>,
}

/// The newest recorded `net up|down|leave`, with every state it entered.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct RunView {
    pub command: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub result: Option<String>,
    pub error_code: Option<String>,
    pub changed: Option<bool>,
    pub attempts: u32,
    pub states: Vec<StateView>,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct StateView {
    pub state: String,
    pub at: String,
    pub detail: Option<Value>,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct NetWaited {
    pub backend_state: String,
    pub ips: Vec<String>,
    pub hostname: Option<String>,
    pub waited_ms: u64,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct NetDown {
    pub changed: bool,
    pub dry_run: bool,
    pub backend_state: Option<String>,
    pub daemon_running: bool,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct NetLeft {
    pub changed: bool,
    pub dry_run: bool,
    pub backend_state: Option<String>,
    pub daemon_started: bool,
}

/// The socket, and the daemon's status when something listens.
struct Look {
    socket: SocketState,
    seen: Option<Result<Observed, Failure>>,
}

fn look(cfg: &NetConfig, config: &Config) -> Result<Look> {
    let socket = SocketState::probe(&cfg.socket);
    let seen = match socket {
        SocketState::Listening => {
            let ts = Tailscale::locate(cfg, &config.env.vars)?;
            Some(ts.status(cfg.command_timeout)?)
        }
        _ => None,
    };
    Ok(Look { socket, seen })
}

fn daemon_report(cfg: &NetConfig, socket: SocketState, started: bool) -> DaemonReport {
    let running = socket == SocketState::Listening;
    DaemonReport {
        socket: cfg.socket.clone(),
        state: socket,
        running,
        pid: if running {
            daemon::find_pid(&cfg.socket)
        } else {
            None
        },
        started,
        log: cfg.daemon_log.clone(),
    }
}

/// `pm net status`. Works with no daemon (it says so) and no state file.
pub fn status(ctx: &mut Context) -> Result<NetStatus> {
    let cfg = NetConfig::from_config(&ctx.config);
    let now = look(&cfg, &ctx.config)?;
    let state = ctx.read_state()?;
    let node = state.net_node()?;
    let run = state.net_last_run()?;
    let (seen, problem) = match now.seen {
        Some(Ok(seen)) => (Some(seen), None),
        Some(Err(failed)) => (None, Some(failed.line)),
        None => (None, None),
    };
    let seen_or_default = seen.clone().unwrap_or_default();
    Ok(NetStatus {
        connected: seen.as_ref().is_some_and(Observed::connected),
        backend_state: seen.map(|s| s.backend_state),
        ips: seen_or_default.ips,
        hostname: seen_or_default.hostname,
        dns_name: seen_or_default.dns_name,
        tailnet: seen_or_default.tailnet,
        tags: seen_or_default.tags,
        health: seen_or_default.health,
        daemon: daemon_report(&cfg, now.socket, false),
        problem,
        last_up: node.as_ref().and_then(last_up),
        last_run: run.map(run_view),
    })
}

fn last_up(node: &NetNode) -> Option<LastUp> {
    Some(LastUp {
        at: format_ms(node.last_up_at_ms?),
        attempts: node.last_up_attempts,
        ips: node.ips.clone(),
        hostname: node.hostname.clone(),
    })
}

fn run_view(run: NetRun) -> RunView {
    RunView {
        command: run.command,
        started_at: format_ms(run.started_at_ms),
        finished_at: run.finished_at_ms.map(format_ms),
        result: run.result,
        error_code: run.error_code,
        changed: run.changed,
        attempts: run.attempts,
        states: run
            .events
            .into_iter()
            .map(|e| StateView {
                state: e.state,
                at: format_ms(e.at_ms),
                detail: e.detail,
            })
            .collect(),
    }
}

/// Why a status is not "connected", in a sentence.
fn not_running_reason(status: &NetStatus) -> String {
    match (&status.backend_state, &status.problem) {
        (Some(state), _) if state == "Running" => "tailscale is Running without an IP".to_string(),
        (Some(state), _) => match status.health.first() {
            Some(health) => format!("tailscale is {state}: {health}"),
            None => format!("tailscale is {state}"),
        },
        (None, Some(problem)) => format!("tailscaled does not answer: {problem}"),
        (None, None) => format!(
            "tailscaled is not running (nothing answers on {})",
            status.daemon.socket.display()
        ),
    }
}

/// The gate of `pm play`: the node is connected now, or a precondition
/// error says why not.
pub fn require_running(ctx: &mut Context) -> Result<NetStatus> {
    let status = status(ctx)?;
    if status.connected {
        return Ok(status);
    }
    Err(PmError::NetNotRunning {
        backend_state: status.backend_state.clone(),
        reason: not_running_reason(&status),
    }
    .into())
}

/// `pm net wait --timeout`: until the node is connected, or the
/// precondition error at the deadline. Reads only.
pub fn wait(ctx: &mut Context, timeout: Duration) -> Result<NetWaited> {
    let cfg = NetConfig::from_config(&ctx.config);
    let started = Instant::now();
    let deadline = started + timeout;
    loop {
        let now = look(&cfg, &ctx.config)?;
        let (state, reason) = match now.seen {
            Some(Ok(seen)) if seen.connected() => {
                return Ok(NetWaited {
                    backend_state: seen.backend_state,
                    ips: seen.ips,
                    hostname: seen.hostname,
                    waited_ms: started.elapsed().as_millis() as u64,
                });
            }
            Some(Ok(seen)) => (
                Some(seen.backend_state.clone()),
                format!("tailscale is {}", seen.backend_state),
            ),
            Some(Err(failed)) => (None, format!("tailscaled does not answer: {}", failed.line)),
            None => (None, "tailscaled is not running".to_string()),
        };
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(PmError::NetNotRunning {
                backend_state: state,
                reason: format!("{reason} after waiting {} s", timeout.as_secs()),
            }
            .into());
        }
        std::thread::sleep(WAIT_POLL.min(left));
    }
}

/// Runs a recorded `net down|leave` under the network lock.
fn recorded<T>(
    ctx: &mut Context,
    command: &str,
    changed: fn(&T) -> bool,
    body: impl FnOnce(&mut Recorder<'_>, &NetConfig, &Config) -> Result<T>,
) -> Result<T> {
    let config = ctx.config.clone();
    let cfg = NetConfig::from_config(&config);
    let lock = ctx.net_lock()?;
    let state = ctx.state()?;
    let mut rec = Recorder::begin(state, &lock, command)?;
    let result = body(&mut rec, &cfg, &config);
    match &result {
        Ok(value) => rec.finish(Ok(changed(value)), 0)?,
        Err(e) => {
            if let Err(record) = rec.finish(Err(e), 0) {
                tracing::warn!(error = format!("{record:#}"), "net_record_failed");
            }
        }
    }
    result
}

/// `pm net down`: disconnect, keeping the node's login. Idempotent: a
/// stopped node, or no daemon at all, is `changed: false`.
pub fn down(ctx: &mut Context, dry_run: bool) -> Result<NetDown> {
    if dry_run {
        let cfg = NetConfig::from_config(&ctx.config);
        let now = look(&cfg, &ctx.config)?;
        let state = match now.seen {
            Some(Ok(seen)) => Some(seen.backend_state),
            _ => None,
        };
        return Ok(NetDown {
            changed: state.as_deref().is_some_and(|s| s != "Stopped"),
            dry_run: true,
            backend_state: state,
            daemon_running: now.socket == SocketState::Listening,
        });
    }
    recorded(
        ctx,
        "net down",
        |d: &NetDown| d.changed,
        |rec, cfg, config| {
            rec.enter("probe_daemon", Value::Null)?;
            if SocketState::probe(&cfg.socket) != SocketState::Listening {
                return Ok(NetDown {
                    changed: false,
                    dry_run: false,
                    backend_state: None,
                    daemon_running: false,
                });
            }
            let ts = Tailscale::locate(cfg, &config.env.vars)?;
            rec.enter("read_status", Value::Null)?;
            let seen = ts
                .status(cfg.command_timeout)?
                .map_err(|f| status_failed(&f))?;
            let changed = seen.backend_state != "Stopped";
            if changed {
                rec.enter("stop", Value::Null)?;
                let run = ts.down()?;
                if let Some(failed) =
                    failure(&run).filter(|f| f.cause != Some(Cause::AlreadyStopped))
                {
                    return Err(status_failed(&failed));
                }
                remember(rec, |node| node.backend_state = Some("Stopped".to_string()))?;
            }
            rec.enter("stopped", Value::Null)?;
            Ok(NetDown {
                changed,
                dry_run: false,
                backend_state: Some("Stopped".to_string()),
                daemon_running: true,
            })
        },
    )
}

/// `pm net leave`: log the node out (`tailscale logout`), so an ephemeral
/// node leaves the tailnet at once and a later join keeps its name. The
/// daemon is started if need be: only it can tell the server.
pub fn leave(ctx: &mut Context, dry_run: bool) -> Result<NetLeft> {
    if dry_run {
        let cfg = NetConfig::from_config(&ctx.config);
        let now = look(&cfg, &ctx.config)?;
        let recorded = ctx.read_state()?.net_node()?;
        let changed = match &now.seen {
            Some(Ok(seen)) => is_logged_in(seen),
            _ => recorded.is_some_and(|n| n.node_id.is_some()),
        };
        return Ok(NetLeft {
            changed,
            dry_run: true,
            backend_state: now.seen.and_then(Result::ok).map(|s| s.backend_state),
            daemon_started: false,
        });
    }
    recorded(
        ctx,
        "net leave",
        |l: &NetLeft| l.changed,
        |rec, cfg, config| {
            let ts = Tailscale::locate(cfg, &config.env.vars)?;
            rec.enter("probe_daemon", Value::Null)?;
            let daemon_started = SocketState::probe(&cfg.socket) != SocketState::Listening;
            if daemon_started {
                rec.enter("start_daemon", Value::Null)?;
                daemon::start(cfg, &config.env.vars, &ts)?;
            }
            rec.enter("read_status", Value::Null)?;
            let seen = ts
                .status(cfg.command_timeout)?
                .map_err(|f| status_failed(&f))?;
            let changed = is_logged_in(&seen);
            if changed {
                rec.enter("logout", Value::Null)?;
                if let Some(failed) = failure(&ts.logout()?) {
                    return Err(logout_failed(&failed));
                }
            }
            remember(rec, |node| {
                *node = NetNode {
                    backend_state: Some("NeedsLogin".to_string()),
                    daemon_pid: node.daemon_pid,
                    daemon_started_at_ms: node.daemon_started_at_ms,
                    last_up_at_ms: node.last_up_at_ms,
                    last_up_attempts: node.last_up_attempts,
                    ..NetNode::default()
                }
            })?;
            rec.enter("logged_out", Value::Null)?;
            Ok(NetLeft {
                changed,
                dry_run: false,
                backend_state: Some("NeedsLogin".to_string()),
                daemon_started,
            })
        },
    )
}

/// Logged in (or logging in): anything but a logged-out node without a key.
fn is_logged_in(seen: &Observed) -> bool {
    seen.have_node_key || !matches!(seen.backend_state.as_str(), "NeedsLogin" | "NoState")
}

fn logout_failed(failed: &Failure) -> anyhow::Error {
    match failed.cause {
        Some(Cause::ControlUnreachable) => PmError::NetBackendError {
            attempts: 1,
            server: failed.line.clone(),
        }
        .into(),
        _ => status_failed(failed),
    }
}

/// Updates the recorded node.
fn remember(rec: &mut Recorder<'_>, change: impl FnOnce(&mut NetNode)) -> Result<()> {
    let mut node = rec.node()?.unwrap_or_default();
    change(&mut node);
    node.updated_at_ms = now_ms();
    rec.save_node(&node)
}
