//! The network section: what the daemon says (`tailscale status --json`, a
//! read-only question through the tool driver) and what `pm net` recorded
//! in the state (the last successful up, its attempts, the daemon it
//! started); the log files the support bundle takes in [`log_files`], and
//! any file holding a secret `pm net` wrote in [`secret_files`].

use super::Probes;
use super::tools::{self, TAILSCALE_STATUS};
use crate::config::{Config, key};
use crate::net::tailscale;
use crate::tool::Tool;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;
use std::path::PathBuf;

#[derive(Clone, Debug, Default, Serialize, JsonSchema)]
pub struct NetworkFacts {
    /// The tailscale CLI is installed (else nothing below is known).
    pub configured: bool,
    /// `running`, `not_running` or `unknown`.
    pub daemon: &'static str,
    /// tailscale's BackendState: `Running`, `NeedsLogin`, `Stopped`, ...
    pub backend_state: Option<String>,
    /// Running with a Tailscale IP.
    pub connected: bool,
    pub tailscale_ips: Vec<String>,
    pub hostname: Option<String>,
    /// The node's MagicDNS name, without the trailing dot.
    pub dns_name: Option<String>,
    pub tailnet: Option<String>,
    pub magic_dns_suffix: Option<String>,
    /// tailscale's own health messages.
    pub health: Vec<String>,
    pub version: Option<String>,
    /// When `pm net up` last left the node Running (from the state).
    pub last_up: Option<String>,
    pub last_up_attempts: Option<u32>,
    /// The daemon `pm net` started, if it recorded one.
    pub daemon_pid: Option<u32>,
    pub problem: Option<String>,
}

/// tailscale's global options from pm's config.
fn global_args(config: &Config) -> Vec<String> {
    let socket = config.string(key::NET_SOCKET);
    if socket.is_empty() {
        Vec::new()
    } else {
        vec![format!("--socket={socket}")]
    }
}

pub fn probe(p: &Probes) -> NetworkFacts {
    let mut facts = ask_tailscale(p);
    if let Ok(Some(node)) = p.state().map(|db| db.net_node().ok().flatten()) {
        facts.last_up = node.last_up_at_ms.map(crate::state::format_ms);
        facts.last_up_attempts = node.last_up_attempts;
        facts.daemon_pid = node.daemon_pid;
    }
    facts
}

/// What the daemon says, through `tailscale status --json`.
fn ask_tailscale(p: &Probes) -> NetworkFacts {
    let config = p.config;
    let program = config.string(key::NET_TAILSCALE_PATH);
    let tool = match Tool::locate(&tools::TAILSCALE, program, &config.env.vars) {
        Ok(tool) => tool,
        Err(e) => {
            return NetworkFacts {
                daemon: "unknown",
                problem: Some(e.to_string()),
                ..NetworkFacts::default()
            };
        }
    };
    let run = tools::read_only(&tool, &TAILSCALE_STATUS, &global_args(config))
        .timeout(tools::probe_timeout(config))
        .run_piped();
    let mut facts = NetworkFacts {
        configured: true,
        daemon: "unknown",
        ..NetworkFacts::default()
    };
    match run {
        Ok(run) if run.succeeded() => match serde_json::from_str::<Value>(&run.output) {
            Ok(doc) => read_status(&mut facts, &doc),
            Err(e) => facts.problem = Some(format!("tailscale status --json printed no JSON: {e}")),
        },
        Ok(run) => {
            // B.2: the CLI cannot reach the daemon (its words are in the
            // debug log; the exit code says enough here).
            facts.daemon = "not_running";
            facts.problem = Some(format!(
                "tailscale could not reach tailscaled ({}); is it running?",
                run.exit
            ));
        }
        Err(e) => facts.problem = Some(e.to_string()),
    }
    facts
}

/// B.4, read as `pm net` reads it (connected ⇔ Running with a Tailscale IP).
fn read_status(facts: &mut NetworkFacts, doc: &Value) {
    facts.daemon = "running";
    let Some(seen) = tailscale::observe(doc) else {
        facts.problem = Some("tailscale status --json printed no BackendState".to_string());
        return;
    };
    facts.connected = seen.connected();
    facts.backend_state = Some(seen.backend_state);
    facts.tailscale_ips = seen.ips;
    facts.hostname = seen.hostname;
    facts.dns_name = seen.dns_name.map(|d| d.trim_end_matches('.').to_string());
    facts.tailnet = seen.tailnet;
    facts.magic_dns_suffix = doc["MagicDNSSuffix"]
        .as_str()
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    facts.health = seen.health;
    facts.version = seen.version;
}

/// Logs of the network the support bundle takes: tailscaled's own log,
/// which `pm net up` writes beside the state. (name in the bundle, path)
pub fn log_files(config: &Config) -> Vec<(String, PathBuf)> {
    vec![(
        "tailscaled.log".to_string(),
        config.paths().tailscaled_log(),
    )]
}

/// Files whose content is a secret pm wrote for the network (none today:
/// the auth key file `pm net up` writes is removed after each `up`).
pub fn secret_files(_config: &Config) -> Vec<PathBuf> {
    Vec::new()
}

/// The host's names on the tailnet, for the bundle's opt-in obfuscation.
pub fn host_names(facts: &NetworkFacts) -> Vec<String> {
    [
        &facts.hostname,
        &facts.dns_name,
        &facts.tailnet,
        &facts.magic_dns_suffix,
    ]
    .into_iter()
    .flatten()
    .cloned()
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_running_status_document_is_connected() {
        let doc = serde_json::json!({
            "Version": "1.102.0-t0123", "BackendState": "Running",
            "TailscaleIPs": ["100.101.102.103", "fd7a:115c:a1e0::6901:6667"],
            "Self": {"HostName": "ci-runner", "DNSName": "ci-runner.example.ts.net."},
            "Health": [], "MagicDNSSuffix": "example.ts.net",
            "CurrentTailnet": {"Name": "example.com"}
        });
        let mut f = NetworkFacts::default();
        read_status(&mut f, &doc);
        assert!(f.connected);
        assert_eq!(f.dns_name.as_deref(), Some("ci-runner.example.ts.net"));
        let logged_out = serde_json::json!({"BackendState": "NeedsLogin", "TailscaleIPs": null,
            "Health": ["You are logged out."]});
        let mut f = NetworkFacts::default();
        read_status(&mut f, &logged_out);
        assert!(!f.connected);
        assert_eq!(f.health, ["You are logged out."]);
    }
}
