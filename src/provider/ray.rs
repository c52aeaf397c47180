//! The one driver of Ray, on the process driver in `tool`, with Ray's
//! message table beside it (`ray_messages`): `ray start` joining the
//! cluster, and a probe (`probe.py`, run with the venv's Python) that reads
//! the versions installed and, through the GCS client, the head's versions
//! and the cluster's node list.
//!
//! Every call sets `RAY_AUTH_MODE` explicitly (a token file in `~/.ray`
//! turns auth on silently otherwise) and gets the token only through its
//! environment (the probe) or a 0600 file named by `RAY_AUTH_TOKEN_PATH`
//! (the node, whose daemons and workers read it for as long as it runs).
//! Ray retries an unreachable head for minutes, so the caller checks
//! reachability first with [`reachable`], within a short bound.

use super::ray_messages::{RayMessage, RayMessages};
use super::settings::{Address, Auth, Resources, Settings};
use crate::error::PmError;
use crate::secret::Secret;
use crate::tool::{Run, Tool, ToolError, ToolSpec};
use anyhow::Result;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::net::{IpAddr, SocketAddr, TcpStream, UdpSocket};
use std::path::Path;
use std::time::Duration;

/// `ray` in the provider's venv.
pub static RAY: ToolSpec = ToolSpec {
    name: "ray",
    log_name: "provider_ray",
    config_key: Some("provider.venv"),
    env: &[],
};

/// The venv's Python, running the probe.
pub static RAY_PYTHON: ToolSpec = ToolSpec {
    name: "python (provider venv)",
    log_name: "provider_probe",
    config_key: Some("provider.venv"),
    env: &[],
};

const PROBE: &str = include_str!("probe.py");
const PROBE_VAR: &str = "PM_RAY_PROBE";
const PROBE_LAUNCHER: &str = "import os; exec(os.environ['PM_RAY_PROBE'])";
/// How long reading the installed versions may take (it imports Ray).
const VERSIONS_TIMEOUT: Duration = Duration::from_secs(60);

/// A Ray and Python version pair.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Versions {
    pub ray: String,
    pub python: String,
}

/// What a venv has installed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Installed {
    pub python: String,
    pub ray: Option<String>,
}

/// One node as the GCS lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterNode {
    pub node_id: String,
    pub node_ip: String,
    pub alive: bool,
    pub is_head: bool,
    pub temp_dir: String,
}

/// What the probe read from the cluster.
#[derive(Clone, Debug, Deserialize)]
pub struct ClusterView {
    pub local: Versions,
    /// `None` when the head published no version metadata.
    pub head: Option<Versions>,
    pub nodes: Vec<ClusterNode>,
}

impl ClusterView {
    pub fn node(&self, node_id: &str) -> Option<&ClusterNode> {
        self.nodes.iter().find(|n| n.node_id == node_id)
    }

    pub fn alive_count(&self) -> usize {
        self.nodes.iter().filter(|n| n.alive).count()
    }
}

/// What `ray start` is given.
pub struct Join<'a> {
    pub address: &'a Address,
    pub node_ip: &'a str,
    pub temp_dir: &'a Path,
    /// The token file (token auth only).
    pub token_file: Option<&'a Path>,
    pub resources: Resources,
    pub timeout: Duration,
}

/// Ray in one venv, with the cluster's auth settings.
pub struct Ray {
    ray: Tool,
    python: Tool,
    auth: Auth,
    python_match: String,
}

impl Ray {
    /// The venv's `ray` and `python`; missing ones name `provider.venv`.
    pub fn locate(settings: &Settings) -> Result<Ray> {
        let bin = settings.venv.join("bin");
        let find =
            |spec, name: &str| Tool::locate(spec, &bin.join(name).to_string_lossy(), &settings.env);
        Ok(Ray {
            ray: find(&RAY, "ray")?,
            python: find(&RAY_PYTHON, "python")?,
            auth: settings.auth.clone(),
            python_match: settings.python_match.clone(),
        })
    }

    /// The head's versions and the node list, read from the GCS at
    /// `address`. The caller checked that it accepts connections.
    pub fn cluster(
        &self,
        address: &Address,
        token: Option<&Secret>,
        timeout: Duration,
    ) -> Result<ClusterView> {
        let secs = timeout.as_secs().max(1).to_string();
        let addr = address.to_string();
        // The probe's own RPC timeouts bound each query; the deadline bounds
        // the GCS client's connection, which Ray retries without end.
        let deadline = timeout * 2 + Duration::from_secs(5);
        let run = self.probe(&["cluster", &addr, &secs], token, deadline);
        let run = match run {
            Err(ToolError::TimedOut { after, .. }) => {
                return Err(unreachable(
                    address,
                    format!(
                        "it accepts connections but its GCS did not answer within {} s",
                        after.as_secs()
                    ),
                ));
            }
            other => other?,
        };
        match run {
            Ok(doc) => Ok(serde_json::from_value(doc)?),
            Err(failure) => Err(failure.into_error(Some(address), &self.auth)),
        }
    }

    /// Runs the probe; its JSON, or what it reported failing.
    fn probe(
        &self,
        args: &[&str],
        token: Option<&Secret>,
        timeout: Duration,
    ) -> Result<std::result::Result<Value, ProbeFailure>, ToolError> {
        probe(&self.python, &self.auth, args, token, timeout)
    }

    /// `ray start --address ...`: starts this host's node and returns once
    /// Ray says it runs. Its daemons stay in the process group `ray start`
    /// led (see `node`).
    pub fn start(&self, join: &Join<'_>) -> Result<()> {
        let mut args = vec![
            "start".to_string(),
            format!("--address={}", join.address),
            format!("--node-ip-address={}", join.node_ip),
            format!("--temp-dir={}", join.temp_dir.display()),
            "--disable-usage-stats".to_string(),
            "--log-style=record".to_string(),
            "--log-color=false".to_string(),
        ];
        let r = join.resources;
        args.extend(r.num_cpus.map(|n| format!("--num-cpus={n}")));
        args.extend(r.num_gpus.map(|n| format!("--num-gpus={n}")));
        args.extend(
            r.object_store_memory
                .map(|b| format!("--object-store-memory={b}")),
        );
        let mut call = self
            .ray
            .call(&args)
            .env("RAY_AUTH_MODE", self.auth.mode())
            .env("RAY_USAGE_STATS_ENABLED", "0")
            .env("RAY_DEFAULT_PYTHON_VERSION_MATCH_LEVEL", &self.python_match)
            .timeout(join.timeout);
        if let Some(file) = join.token_file {
            call = call.env("RAY_AUTH_TOKEN_PATH", file);
        }
        let run = call.run_piped().map_err(|e| match e {
            ToolError::TimedOut { after, .. } => join_failed(
                join.address,
                format!(
                    "it did not finish within {} s and was killed with its processes",
                    after.as_secs()
                ),
            ),
            other => other.into(),
        })?;
        if run.succeeded() && run.output.contains("Ray runtime started") {
            return Ok(());
        }
        Err(start_failure(&run, join, &self.auth))
    }
}

/// Runs the probe with `python`; its JSON, or what it reported failing.
fn probe(
    python: &Tool,
    auth: &Auth,
    args: &[&str],
    token: Option<&Secret>,
    timeout: Duration,
) -> Result<std::result::Result<Value, ProbeFailure>, ToolError> {
    let mut call = python
        .call(["-I", "-c", PROBE_LAUNCHER])
        .env(PROBE_VAR, PROBE)
        .env("RAY_AUTH_MODE", auth.mode())
        .env("RAY_USAGE_STATS_ENABLED", "0")
        .timeout(timeout);
    for arg in args {
        call = call.arg(arg);
    }
    if let Some(token) = token {
        call = call.env_secret("RAY_AUTH_TOKEN", token);
    }
    let run = call.run_piped()?;
    let doc = run
        .output
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .and_then(|l| serde_json::from_str::<Value>(l).ok());
    Ok(match doc {
        Some(doc) if run.succeeded() && doc.get("error").is_none() => Ok(doc),
        Some(doc) => Err(ProbeFailure {
            kind: doc["error"]["type"]
                .as_str()
                .unwrap_or("unknown")
                .to_string(),
            cause: classify_reported(&doc["error"]["message"], &run),
        }),
        None => Err(ProbeFailure {
            kind: format!("{} without a result", run.exit),
            cause: run.classify::<RayMessages>(),
        }),
    })
}

/// The Python and Ray versions installed in the venv: `None` when the venv
/// has no Python, `ray: None` when it has no Ray.
pub fn installed(settings: &Settings) -> Result<Option<Installed>> {
    let program = settings.venv.join("bin").join("python");
    if !program.exists() {
        return Ok(None);
    }
    let python = Tool::locate(&RAY_PYTHON, &program.to_string_lossy(), &settings.env)?;
    match probe(
        &python,
        &settings.auth,
        &["installed"],
        None,
        VERSIONS_TIMEOUT,
    )? {
        Ok(doc) => Ok(Some(serde_json::from_value(doc)?)),
        Err(failure) => Err(failure.into_error(None, &settings.auth)),
    }
}

/// Classifies the probe's reported message, then its raw output.
fn classify_reported(message: &Value, run: &Run) -> Option<RayMessage> {
    use crate::tool::Messages;
    message
        .as_str()
        .and_then(RayMessages::classify)
        .or_else(|| run.classify::<RayMessages>())
}

/// The probe ran and reported a failure.
struct ProbeFailure {
    /// The Python exception's type (`AuthenticationError`).
    kind: String,
    cause: Option<RayMessage>,
}

impl ProbeFailure {
    fn into_error(self, address: Option<&Address>, auth: &Auth) -> anyhow::Error {
        let address_text = address.map_or_else(String::new, Address::to_string);
        match self.cause {
            Some(RayMessage::AuthRejected | RayMessage::NoToken) => PmError::RayAuthFailed {
                address: address_text,
                source_of_token: auth.describe(),
            }
            .into(),
            Some(RayMessage::Unreachable) if address.is_some() => unreachable(
                address.expect("checked"),
                "its GCS did not answer".to_string(),
            ),
            Some(RayMessage::RayMissing) => PmError::ToolMissing {
                tool: "ray".to_string(),
                program: "the venv's Python has no `ray` module".to_string(),
                config_key: Some("provider.venv".to_string()),
            }
            .into(),
            _ => PmError::ToolFailed {
                tool: "ray".to_string(),
                message: format!(
                    "the cluster query failed ({}); -vv shows Ray's output",
                    self.kind
                ),
            }
            .into(),
        }
    }
}

fn start_failure(run: &Run, join: &Join<'_>, auth: &Auth) -> anyhow::Error {
    let reason = match run.classify::<RayMessages>() {
        Some(RayMessage::AuthRejected | RayMessage::NoToken) => {
            return PmError::RayAuthFailed {
                address: join.address.to_string(),
                source_of_token: auth.describe(),
            }
            .into();
        }
        Some(RayMessage::Unreachable) => {
            return unreachable(
                join.address,
                "`ray start` could not reach its GCS".to_string(),
            );
        }
        Some(RayMessage::VersionMismatch) => {
            "Ray refused: its Ray or Python version differs from the head's".to_string()
        }
        Some(RayMessage::SocketPathTooLong) => format!(
            "the temp dir {} is too long for Ray's sockets (provider.ray_temp_dir)",
            join.temp_dir.display()
        ),
        Some(RayMessage::PortInUse) => "a port Ray needs is in use on this host".to_string(),
        Some(RayMessage::RayMissing) => "the venv's Python has no `ray` module".to_string(),
        None => format!("it ended with {} and did not say it started", run.exit),
    };
    join_failed(join.address, reason)
}

fn join_failed(address: &Address, reason: String) -> anyhow::Error {
    PmError::RayJoinFailed {
        address: address.to_string(),
        reason,
    }
    .into()
}

fn unreachable(address: &Address, reason: String) -> anyhow::Error {
    PmError::RayHeadUnreachable {
        address: address.to_string(),
        reason,
    }
    .into()
}

/// Whether the head accepts TCP connections, within `timeout` for each of
/// its addresses: a dead head otherwise costs ~40 s per Ray probe and
/// minutes per `ray start`.
pub fn reachable(address: &Address, timeout: Duration) -> Result<SocketAddr> {
    let addrs = address
        .resolve()
        .map_err(|e| unreachable(address, format!("cannot resolve {}: {e}", address.host)))?;
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(_) => return Ok(addr),
            Err(e) => last = Some(e),
        }
    }
    let reason = match last {
        None => format!("{} resolves to no address", address.host),
        Some(e) => connect_failure(&e, address.port, timeout),
    };
    Err(unreachable(address, reason))
}

fn connect_failure(e: &std::io::Error, port: u16, timeout: Duration) -> String {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::ConnectionRefused => format!("nothing listens on port {port} (connection refused)"),
        K::TimedOut | K::WouldBlock => format!("no answer within {} s", timeout.as_secs()),
        K::HostUnreachable | K::NetworkUnreachable => "no route to it".to_string(),
        _ => e.to_string(),
    }
}

/// The local address this host reaches `address` from: what the head can
/// reach the node at. No packet is sent (a UDP `connect` only routes).
pub fn local_ip_towards(address: &Address) -> Result<IpAddr> {
    let fail = |e: std::io::Error| unreachable(address, format!("no local route to it: {e}"));
    let target = address.resolve().map_err(fail)?;
    let target = target
        .first()
        .ok_or_else(|| unreachable(address, format!("{} resolves to no address", address.host)))?;
    let bind: SocketAddr = if target.is_ipv4() {
        "0.0.0.0:0".parse().expect("a literal address")
    } else {
        "[::]:0".parse().expect("a literal address")
    };
    let socket = UdpSocket::bind(bind).map_err(fail)?;
    socket.connect(target).map_err(fail)?;
    Ok(socket.local_addr().map_err(fail)?.ip())
}

/// Refuses a node whose Ray or Python differs from the head's: Ray
/// compares them in `ray start` only when the head published them, and a
/// Python that differs in its patch level joins and then fails jobs.
pub fn check_versions(view: &ClusterView, address: &Address, python_match: &str) -> Result<()> {
    let local = &view.local;
    let mismatch = |head: &Versions| PmError::RayVersionMismatch {
        address: address.to_string(),
        head_ray: head.ray.clone(),
        head_python: head.python.clone(),
        local_ray: local.ray.clone(),
        local_python: local.python.clone(),
    };
    let Some(head) = &view.head else {
        let unpublished = Versions {
            ray: "(unpublished)".to_string(),
            python: "(unpublished)".to_string(),
        };
        return Err(mismatch(&unpublished).into());
    };
    let python_matches = match python_match {
        "minor" => minor_of(&head.python) == minor_of(&local.python),
        _ => head.python == local.python,
    };
    if head.ray != local.ray || !python_matches {
        return Err(mismatch(head).into());
    }
    Ok(())
}

fn minor_of(version: &str) -> Vec<&str> {
    version.split('.').take(2).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(head: Option<(&str, &str)>, local: (&str, &str)) -> ClusterView {
        let v = |(ray, python): (&str, &str)| Versions {
            ray: ray.to_string(),
            python: python.to_string(),
        };
        ClusterView {
            local: v(local),
            head: head.map(v),
            nodes: Vec::new(),
        }
    }

    fn code(r: Result<()>) -> &'static str {
        r.err()
            .and_then(|e| e.downcast_ref::<PmError>().map(PmError::code))
            .unwrap_or("ok")
    }

    #[test]
    fn versions_must_match_the_head_ray_exactly_and_python_to_the_level_asked() {
        let a = Address::parse("10.0.0.1:6379").unwrap();
        let same = view(Some(("2.60.0", "3.11.7")), ("2.60.0", "3.11.7"));
        assert_eq!(code(check_versions(&same, &a, "patch")), "ok");
        let patch = view(Some(("2.60.0", "3.11.7")), ("2.60.0", "3.11.2"));
        assert_eq!(
            code(check_versions(&patch, &a, "patch")),
            "ray_version_mismatch"
        );
        assert_eq!(code(check_versions(&patch, &a, "minor")), "ok");
        let minor = view(Some(("2.60.0", "3.12.1")), ("2.60.0", "3.11.7"));
        assert_eq!(
            code(check_versions(&minor, &a, "minor")),
            "ray_version_mismatch"
        );
        let ray = view(Some(("2.59.0", "3.11.7")), ("2.60.0", "3.11.7"));
        assert_eq!(
            code(check_versions(&ray, &a, "patch")),
            "ray_version_mismatch"
        );
        let unpublished = view(None, ("2.60.0", "3.11.7"));
        assert_eq!(
            code(check_versions(&unpublished, &a, "patch")),
            "ray_version_mismatch"
        );
    }

    #[test]
    fn a_closed_port_is_unreachable_at_once() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let open = Address::parse(&format!("127.0.0.1:{port}")).unwrap();
        assert!(reachable(&open, Duration::from_secs(2)).is_ok());
        drop(listener);
        let err = reachable(&open, Duration::from_secs(2)).unwrap_err();
        let pm = err.downcast_ref::<PmError>().unwrap();
        assert_eq!(pm.code(), "ray_head_unreachable");
        assert!(pm.to_string().contains("connection refused"), "{pm}");
    }

    #[test]
    fn the_local_address_towards_loopback_is_loopback() {
        let a = Address::parse("127.0.0.1:6379").unwrap();
        assert_eq!(local_ip_towards(&a).unwrap().to_string(), "127.0.0.1");
    }
}
