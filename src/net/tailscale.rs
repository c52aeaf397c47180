//! The one driver for the `tailscale` CLI and the `tailscaled` daemon, with
//! their messages (reference: external-clis.md part B) in one table each.
//!
//! The CLI prints one line on stderr and exits 1 for nearly every failure
//! (B.1), so the exit code says little: the words say what happened. Every
//! call names the daemon's socket first (`--socket` must precede the
//! subcommand) and runs under a deadline; `up` always carries `--timeout`
//! too, because with an unreachable control server it would otherwise block
//! forever without a word (B.3 step 6).

use crate::net::NetConfig;
use crate::tool::{Messages, Run, Stream, Tool, ToolError, ToolSpec};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

pub static TAILSCALE: ToolSpec = ToolSpec {
    name: "tailscale",
    log_name: "net_tailscale",
    config_key: Some("net.tailscale_path"),
    env: &[],
};

pub static TAILSCALED: ToolSpec = ToolSpec {
    name: "tailscaled",
    log_name: "net_tailscaled",
    config_key: Some("net.tailscaled_path"),
    env: &[],
};

/// How much longer than `up --timeout` pm waits before it kills `up` and
/// its process group: the CLI's own timeout should win (it says why), but
/// a CLI that hangs anyway must not hold pm for long.
fn up_grace(timeout: Duration) -> Duration {
    (timeout / 2).clamp(Duration::from_secs(2), Duration::from_secs(15))
}

/// What a `tailscale` message means to pm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// `backend error: invalid key: …`: unknown, expired, revoked or used.
    KeyRejected,
    /// Any other `backend error: …` from the coordination server.
    BackendError,
    /// `up` on a configured node without every non-default setting.
    SettingsConflict,
    /// `--login-server` changed on a running node without `--force-reauth`.
    LoginServerChange,
    /// The node waits for a tailnet admin's approval.
    MachineAuth,
    /// `up --timeout` ran out before the node was Running.
    Timeout,
    /// The daemon went away while `up` watched it.
    DaemonLost,
    /// Nothing answered on the socket.
    DaemonAbsent,
    /// `up` asked for a browser login (it was given no key).
    BrowserLogin,
    /// tailscaled refused the caller (not root, not the operator).
    AccessDenied,
    /// The coordination server could not be reached.
    ControlUnreachable,
    /// `down` on a node that is already stopped (exit 0).
    AlreadyStopped,
    /// `up --auth-key=file:` could not read the file.
    KeyFileUnreadable,
}

/// The CLI's words, most specific first (B.2, B.3, B.6).
pub struct CliMessages;

impl Messages for CliMessages {
    type Cause = Cause;
    const TABLE: &'static [(&'static str, Cause)] = &[
        ("backend error: invalid key:", Cause::KeyRejected),
        ("backend error: ", Cause::BackendError),
        ("requires mentioning all", Cause::SettingsConflict),
        (
            "can't change --login-server without --force-reauth",
            Cause::LoginServerChange,
        ),
        // Before the timeout: `up` prints this, waits, then times out.
        (
            "To approve your machine, visit (as admin):",
            Cause::MachineAuth,
        ),
        (
            "timeout waiting for Tailscale service to enter a Running state",
            Cause::Timeout,
        ),
        ("unexpected EOF", Cause::DaemonLost),
        ("failed to connect to local tailscaled", Cause::DaemonAbsent),
        (
            "Failed to connect to local Tailscale daemon",
            Cause::DaemonAbsent,
        ),
        ("To authenticate, visit:", Cause::BrowserLogin),
        ("Access denied", Cause::AccessDenied),
        ("fetch control key:", Cause::ControlUnreachable),
        ("register request:", Cause::ControlUnreachable),
        ("Tailscale was already stopped.", Cause::AlreadyStopped),
        ("no such file or directory", Cause::KeyFileUnreadable),
    ];
}

/// What tailscaled's log says when it exits at start (B.7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DaemonCause {
    /// A live daemon (or anything else) already listens on the socket.
    SocketBusy,
    /// It listened, then could not create its engine or backend.
    BackendFailed,
}

pub struct DaemonMessages;

impl Messages for DaemonMessages {
    type Cause = DaemonCause;
    const TABLE: &'static [(&'static str, DaemonCause)] = &[
        ("address already in use", DaemonCause::SocketBusy),
        ("getLocalBackend error: ", DaemonCause::BackendFailed),
    ];
}

/// A failed call, as pm understands it.
#[derive(Clone, Debug)]
pub struct Failure {
    pub cause: Option<Cause>,
    /// The line that says what went wrong (tailscale's words, no secret:
    /// the CLI never prints the key, only the path of its file).
    pub line: String,
    /// The whole output, for parsing (the settings the CLI wants restated).
    pub text: String,
}

impl Failure {
    /// The server's reason after `backend error: `, if it gave one.
    pub fn server_message(&self) -> Option<&str> {
        self.text
            .lines()
            .find_map(|l| l.trim().strip_prefix("backend error: "))
            .map(str::trim)
    }

    /// The admin console URL `up` printed for machine approval.
    pub fn admin_url(&self) -> Option<String> {
        let mut lines = self.text.lines().map(str::trim);
        lines.find(|l| l.starts_with("To approve your machine"))?;
        lines
            .find(|l| l.starts_with("http://") || l.starts_with("https://"))
            .map(str::to_string)
    }
}

/// The error of a run that did not succeed, or `None` when it did.
pub fn failure(run: &Run) -> Option<Failure> {
    if run.succeeded() {
        return None;
    }
    let text = format!("{}\n{}", run.output.as_str(), run.stderr.as_str());
    let (cause, line) = match CliMessages::quote(&text) {
        Some((cause, line)) => (Some(cause), line),
        // Not in the table: Go's fatalf text is the last thing printed.
        None => (None, last_line(&text).unwrap_or("")),
    };
    let line = line.to_string();
    let line = match (line.is_empty(), run.exit_code()) {
        (false, _) => line,
        (true, Some(code)) => format!("exit code {code} and no message"),
        (true, None) => "killed by a signal".to_string(),
    };
    Some(Failure { cause, line, text })
}

/// The last non-empty line of `text`, trimmed.
fn last_line(text: &str) -> Option<&str> {
    text.lines().map(str::trim).rev().find(|l| !l.is_empty())
}

/// `tailscale status --json`, the parts pm uses (B.4).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Observed {
    pub backend_state: String,
    pub have_node_key: bool,
    pub ips: Vec<String>,
    pub hostname: Option<String>,
    pub dns_name: Option<String>,
    /// The stable node id (`Self.ID`); empty before the first login.
    pub node_id: Option<String>,
    pub tags: Vec<String>,
    pub online: Option<bool>,
    pub health: Vec<String>,
    pub tailnet: Option<String>,
    pub version: Option<String>,
}

impl Observed {
    /// Connected, as the reference defines it: Running with an address.
    pub fn connected(&self) -> bool {
        self.backend_state == "Running" && !self.ips.is_empty()
    }
}

/// Reads a status document; `None` if it is not one.
pub fn parse_status(text: &str) -> Option<Observed> {
    observe(&serde_json::from_str(text.trim()).ok()?)
}

/// The parts of a parsed status document pm uses; `None` without a
/// BackendState. `pm net` and `pm inspect` both read the daemon through it,
/// so they agree on what "connected" means.
pub fn observe(doc: &Value) -> Option<Observed> {
    let state = doc.get("BackendState")?.as_str()?.to_string();
    let me = &doc["Self"];
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let text_of = |v: &Value| v.as_str().filter(|s| !s.is_empty()).map(str::to_string);
    let mut ips = strings(&me["TailscaleIPs"]);
    if ips.is_empty() {
        ips = strings(&doc["TailscaleIPs"]);
    }
    Some(Observed {
        backend_state: state,
        have_node_key: doc["HaveNodeKey"].as_bool().unwrap_or(false),
        ips,
        hostname: text_of(&me["HostName"]),
        dns_name: text_of(&me["DNSName"]),
        node_id: text_of(&me["ID"]),
        tags: strings(&me["Tags"]),
        online: me["Online"].as_bool(),
        health: strings(&doc["Health"]),
        tailnet: text_of(&doc["CurrentTailnet"]["Name"]),
        version: text_of(&doc["Version"]),
    })
}

/// The CLI, bound to one daemon's socket.
#[derive(Clone, Debug)]
pub struct Tailscale {
    cli: Tool,
    socket: String,
    command_timeout: Duration,
}

impl Tailscale {
    pub fn locate(cfg: &NetConfig, env: &BTreeMap<String, String>) -> Result<Tailscale, ToolError> {
        Ok(Tailscale {
            cli: Tool::locate(&TAILSCALE, &cfg.tailscale_path, env)?,
            socket: cfg.socket.display().to_string(),
            command_timeout: cfg.command_timeout,
        })
    }

    pub fn socket(&self) -> &Path {
        Path::new(&self.socket)
    }

    fn args(&self, sub: &[&str], flags: &[String]) -> Vec<String> {
        let mut args = vec![format!("--socket={}", self.socket)];
        args.extend(sub.iter().map(|s| s.to_string()));
        args.extend(flags.iter().cloned());
        args
    }

    /// `status --json`: what the daemon says, or why it could not.
    pub fn status(&self, timeout: Duration) -> Result<Result<Observed, Failure>, ToolError> {
        let run = self
            .cli
            .call(self.args(&["status", "--json"], &[]))
            .timeout(timeout.min(self.command_timeout))
            .run_piped()?;
        if let Some(failed) = failure(&run) {
            return Ok(Err(failed));
        }
        Ok(parse_status(&run.output).ok_or_else(|| Failure {
            cause: None,
            line: "tailscale status --json printed no status document".to_string(),
            text: run.output.to_string(),
        }))
    }

    /// `up FLAGS` on a pty (a program written for people, which may print
    /// an approval URL and keep waiting), with `--timeout` added. Each line
    /// goes to `on_line` as it comes.
    pub fn up(
        &self,
        flags: &[String],
        timeout: Duration,
        on_line: &mut dyn FnMut(Stream, &str),
    ) -> Result<Run, ToolError> {
        let mut flags = flags.to_vec();
        flags.push(format!("--timeout={}s", timeout.as_secs().max(1)));
        self.cli
            .call(self.args(&["up"], &flags))
            .timeout(timeout + up_grace(timeout))
            .on_line(on_line)
            .run_pty()
    }

    /// `set FLAGS`: settings that need no new login.
    pub fn set(&self, flags: &[String]) -> Result<Run, ToolError> {
        self.quick(&["set"], flags)
    }

    pub fn down(&self) -> Result<Run, ToolError> {
        self.quick(&["down"], &[])
    }

    pub fn logout(&self) -> Result<Run, ToolError> {
        self.quick(&["logout"], &[])
    }

    fn quick(&self, sub: &[&str], flags: &[String]) -> Result<Run, ToolError> {
        self.cli
            .call(self.args(sub, flags))
            .timeout(self.command_timeout)
            .run_piped()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_messages_of_the_reference_are_classified() {
        let cases = [
            (
                "backend error: invalid key: API key does not exist",
                Cause::KeyRejected,
            ),
            (
                "backend error: invalid key: API key k123456CNTRL not valid",
                Cause::KeyRejected,
            ),
            (
                "backend error: node registration rate limited; will retry after 30s",
                Cause::BackendError,
            ),
            (
                "\nTo approve your machine, visit (as admin):\n\n\thttps://login.tailscale.com/admin\n\ntimeout waiting for Tailscale service to enter a Running state; check health with \"tailscale status\"",
                Cause::MachineAuth,
            ),
            (
                "timeout waiting for Tailscale service to enter a Running state; check health with \"tailscale status\"",
                Cause::Timeout,
            ),
            (
                "failed to connect to local tailscaled; it doesn't appear to be running (sudo systemctl start tailscaled ?)",
                Cause::DaemonAbsent,
            ),
            ("unexpected EOF", Cause::DaemonLost),
            (
                "Error: changing settings via 'tailscale up' requires mentioning all\nnon-default flags.",
                Cause::SettingsConflict,
            ),
        ];
        for (text, cause) in cases {
            assert_eq!(CliMessages::classify(text), Some(cause), "{text}");
        }
        assert_eq!(
            DaemonMessages::classify(
                "2026/12/01 20:56:48 safesocket.Listen: /tmp/x.sock: address already in use"
            ),
            Some(DaemonCause::SocketBusy)
        );
    }

    #[test]
    fn a_failure_keeps_the_server_message_and_the_admin_url() {
        let run = Run::exited(1, "backend error: invalid key: API key does not exist\n");
        let failed = failure(&run).unwrap();
        assert_eq!(failed.cause, Some(Cause::KeyRejected));
        assert_eq!(
            failed.server_message(),
            Some("invalid key: API key does not exist")
        );
        let run = Run::exited(
            1,
            "\nTo approve your machine, visit (as admin):\n\n\thttps://hs.example/admin\n\ntimeout waiting",
        );
        assert_eq!(
            failure(&run).unwrap().admin_url().as_deref(),
            Some("https://hs.example/admin")
        );
        assert!(failure(&Run::exited(0, "")).is_none());
    }

    #[test]
    fn a_failure_quotes_the_line_that_says_it_not_a_warning_before_it() {
        let warning =
            "Warning: client version \"1.100.0\" != tailscaled server version \"1.102.0\"\n";
        let run = Run::exited(
            1,
            &format!("{warning}Access denied: watch IPN bus access denied\n"),
        );
        let failed = failure(&run).unwrap();
        assert_eq!(failed.cause, Some(Cause::AccessDenied));
        assert_eq!(failed.line, "Access denied: watch IPN bus access denied");
        let run = Run::exited(1, &format!("{warning}something new went wrong\n"));
        assert_eq!(failure(&run).unwrap().line, "something new went wrong");
    }

    #[test]
    fn a_status_document_gives_state_addresses_and_names() {
        let doc = r#"{"Version": "1.102.0-t0", "BackendState": "Running", "HaveNodeKey": true,
            "TailscaleIPs": ["100.101.102.103"], "Self": {"ID": "nX1CNTRL", "HostName": "ci",
            "DNSName": "ci.example.ts.net.", "TailscaleIPs": ["100.101.102.103", "fd7a::1"],
            "Tags": ["tag:ci"], "Online": true}, "Health": [], "CurrentTailnet": {"Name": "example.com"}}"#;
        let seen = parse_status(doc).unwrap();
        assert!(seen.connected());
        assert_eq!(seen.ips, ["100.101.102.103", "fd7a::1"]);
        assert_eq!(seen.hostname.as_deref(), Some("ci"));
        assert_eq!(seen.tags, ["tag:ci"]);
        assert_eq!(seen.tailnet.as_deref(), Some("example.com"));
        let logged_out = r#"{"BackendState": "NeedsLogin", "TailscaleIPs": null, "Self": {"ID": "", "TailscaleIPs": null},
            "Health": ["You are logged out. The last login error was: fetch control key: x"]}"#;
        let seen = parse_status(logged_out).unwrap();
        assert!(!seen.connected() && !seen.have_node_key && seen.node_id.is_none());
        assert_eq!(seen.health.len(), 1);
        assert!(parse_status("not json").is_none());
    }
}
