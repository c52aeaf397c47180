//! `pm net up|status|wait|down|leave`: the Tailscale network.

use crate::context::Context;
use crate::net::{self, NetDown, NetLeft, NetStatus, NetUp, NetWaited, SocketState, UpOptions};
use crate::output::{Outcome, Render};
use crate::schema::Output;
use anyhow::Result;
use clap::{Args, Subcommand};
use std::io::IsTerminal;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct NetArgs {
    #[command(subcommand)]
    pub verb: NetVerb,
}

#[derive(Debug, Subcommand)]
pub enum NetVerb {
    /// Join the tailnet: start tailscaled if none answers, log in with the auth key from the vault (read again when rejected), apply the settings
    Up,
    /// Show the node's state, addresses and health, the daemon, and the last recorded run (read-only)
    Status,
    /// Wait until the node is Running with a Tailscale IP; exit 9 when the timeout passes first
    Wait {
        /// Seconds to wait
        #[arg(long, value_name = "SECS", default_value_t = 60)]
        timeout: u64,
    },
    /// Disconnect from the tailnet, keeping the node's login (tailscale down)
    Down,
    /// Log the node out of the tailnet (tailscale logout): an ephemeral node is removed at once
    Leave,
}

impl NetVerb {
    pub fn name(&self) -> &'static str {
        match self {
            NetVerb::Up => "up",
            NetVerb::Status => "status",
            NetVerb::Wait { .. } => "wait",
            NetVerb::Down => "down",
            NetVerb::Leave => "leave",
        }
    }

    pub fn is_mutating(&self) -> bool {
        matches!(self, NetVerb::Up | NetVerb::Down | NetVerb::Leave)
    }
}

/// What each verb prints, for `pm schema` (the dry runs print the same
/// types, which say `dry_run` themselves).
pub fn outputs() -> Vec<Output> {
    vec![
        Output::mutating::<NetUp>("net up"),
        Output::read_only::<NetStatus>("net status"),
        Output::read_only::<NetWaited>("net wait"),
        Output::mutating::<NetDown>("net down"),
        Output::mutating::<NetLeft>("net leave"),
    ]
}

pub fn run(args: NetArgs, ctx: &mut Context) -> Result<Outcome> {
    match args.verb {
        NetVerb::Up => {
            let options = UpOptions {
                dry_run: ctx.dry_run,
                interactive: std::io::stdin().is_terminal(),
            };
            Outcome::of(&net::up(ctx, &options)?)
        }
        NetVerb::Status => Outcome::of(&net::status(ctx)?),
        NetVerb::Wait { timeout } => Outcome::of(&net::wait(ctx, Duration::from_secs(timeout))?),
        NetVerb::Down => Outcome::of(&net::down(ctx, ctx.dry_run)?),
        NetVerb::Leave => Outcome::of(&net::leave(ctx, ctx.dry_run)?),
    }
}

fn or_dash(value: &Option<String>) -> &str {
    value.as_deref().unwrap_or("-")
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "-".to_string()
    } else {
        items.join(", ")
    }
}

impl Render for NetUp {
    fn human(&self) -> String {
        let node = format!("{} ({})", or_dash(&self.hostname), list(&self.ips));
        match (self.dry_run, self.changed) {
            (true, false) => "dry run: the node is up as wanted; nothing would change".to_string(),
            (true, true) => format!("dry run: would {}", self.actions.join(", ")),
            (false, false) => format!("tailnet: already up as {node}"),
            (false, true) if self.attempts > 0 => format!(
                "tailnet: up as {node}; did {} ({} login attempt(s) with a key)",
                self.actions.join(", "),
                self.attempts
            ),
            (false, true) => format!("tailnet: up as {node}; did {}", self.actions.join(", ")),
        }
    }
}

impl Render for NetStatus {
    fn human(&self) -> String {
        let network = match (&self.backend_state, self.connected) {
            (Some(state), true) => format!("connected ({state})"),
            (Some(state), false) => format!("not connected ({state})"),
            (None, _) if self.daemon.running => {
                "not connected: tailscaled does not answer".to_string()
            }
            (None, _) => "not connected: tailscaled is not running".to_string(),
        };
        let socket = self.daemon.socket.display();
        let daemon = match self.daemon.state {
            SocketState::Listening => {
                let pid = self.daemon.pid.map_or("-".to_string(), |p| p.to_string());
                format!("running, pid {pid}, socket {socket}")
            }
            SocketState::Absent => format!("not running (no socket {socket})"),
            SocketState::Stale => format!("not running (stale socket {socket})"),
            SocketState::Denied => format!("unknown (no permission on socket {socket})"),
        };
        let last_up = self.last_up.as_ref().map_or("never".to_string(), |u| {
            format!("{}, {} attempt(s)", u.at, u.attempts.unwrap_or(0))
        });
        let last_run = self.last_run.as_ref().map_or("none".to_string(), |r| {
            format!(
                "{} at {}: {}{}",
                r.command,
                r.started_at,
                r.result.as_deref().unwrap_or("unfinished"),
                r.error_code
                    .as_ref()
                    .map_or(String::new(), |c| format!(" ({c})"))
            )
        });
        let mut text = format!(
            "network:    {network}\naddresses:  {}\nhostname:   {} ({})\ntailnet:    {}\nhealth:     {}\ntailscaled: {daemon}\nlast up:    {last_up}\nlast run:   {last_run}",
            list(&self.ips),
            or_dash(&self.hostname),
            or_dash(&self.dns_name),
            or_dash(&self.tailnet),
            list(&self.health),
        );
        if let Some(problem) = &self.problem {
            text.push_str(&format!("\nproblem:    {problem}"));
        }
        text
    }
}

impl Render for NetWaited {
    fn human(&self) -> String {
        format!(
            "connected ({}) after {:.1} s: {}",
            self.backend_state,
            self.waited_ms as f64 / 1000.0,
            list(&self.ips)
        )
    }
}

impl Render for NetDown {
    fn human(&self) -> String {
        let prefix = if self.dry_run { "dry run: " } else { "" };
        match (self.changed, self.daemon_running) {
            (true, _) if self.dry_run => "dry run: would disconnect from the tailnet".to_string(),
            (true, _) => {
                "tailnet: disconnected (the login is kept; `pm net up` resumes)".to_string()
            }
            (false, true) => format!("{prefix}tailnet: already stopped"),
            (false, false) => format!("{prefix}tailscaled is not running; nothing to stop"),
        }
    }
}

impl Render for NetLeft {
    fn human(&self) -> String {
        match (self.dry_run, self.changed) {
            (true, true) => "dry run: would log the node out of the tailnet".to_string(),
            (true, false) | (false, false) => "tailnet: already logged out".to_string(),
            (false, true) => "tailnet: logged out; the node has left the tailnet".to_string(),
        }
    }
}
