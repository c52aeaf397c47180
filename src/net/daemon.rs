//! tailscaled: is one answering on the socket, and starting one that
//! outlives pm when none is.
//!
//! Whether a daemon runs is asked of the socket itself (connect(2)), not
//! of the CLI: the CLI re-dials a missing daemon for 2 to 5 s before it says
//! so (safesocket.ConnectContext), and a stale socket file (nobody behind
//! it) is normal after a crash, not an error: the daemon removes it and
//! listens (safesocket/unixsocket.go). A daemon pm starts leads its own
//! session, with stdio on its log file beside the state, and is ready only
//! once `tailscale status` answers: it listens a moment before it can die
//! of a failed engine (B.7).

use crate::error::PmError;
use crate::net::NetConfig;
use crate::net::tailscale::{DaemonCause, DaemonMessages, TAILSCALED, Tailscale};
use crate::tool::{Detached, Exit, Messages, Tool};
use anyhow::Result;
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

/// Between two looks at a starting daemon: its socket, then its exit.
const POLL: Duration = Duration::from_millis(20);

/// A log past this size is moved to `tailscaled.log.1` before a start.
const LOG_ROTATE_BYTES: u64 = 16 << 20;

/// The longest readiness probe while the daemon starts. A daemon that dies
/// right after it listened stays a zombie (pm's child) until pm looks
/// again, and the CLI keeps re-dialling for 5 s while any `tailscaled`
/// process exists: a short probe lets pm reap it and say why sooner.
const READY_PROBE: Duration = Duration::from_secs(2);

/// What the daemon writes at start that pm reads to explain a failure.
const LOG_TAIL_BYTES: u64 = 64 << 10;

/// What the socket says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SocketState {
    /// Something accepts connections (a daemon, most likely).
    Listening,
    /// No file at the path.
    Absent,
    /// A socket file nobody listens on (a daemon that died).
    Stale,
    /// Not allowed to connect (another user's daemon, a 0600 socket).
    Denied,
}

impl SocketState {
    pub fn probe(socket: &Path) -> SocketState {
        match UnixStream::connect(socket) {
            Ok(_) => SocketState::Listening,
            Err(e) => match e.kind() {
                std::io::ErrorKind::NotFound => SocketState::Absent,
                std::io::ErrorKind::PermissionDenied => SocketState::Denied,
                _ => SocketState::Stale,
            },
        }
    }
}

/// Starts tailscaled detached and waits until it answers. A daemon that
/// exits first is explained from its log: a busy socket, or its own error.
pub fn start(cfg: &NetConfig, env: &BTreeMap<String, String>, ts: &Tailscale) -> Result<Detached> {
    let tool = Tool::locate(&TAILSCALED, &cfg.tailscaled_path, env)?;
    let log = &cfg.daemon_log;
    rotate(log);
    let offset = std::fs::metadata(log).map_or(0, |m| m.len());
    let mut args = vec![
        format!("--statedir={}", cfg.statedir.display()),
        format!("--socket={}", cfg.socket.display()),
    ];
    if !cfg.tun.is_empty() {
        args.push(format!("--tun={}", cfg.tun));
    }
    let daemon = tool.call(&args).spawn_detached(log)?;
    tracing::info!(pid = daemon.pid, socket = %cfg.socket.display(), log = %log.display(), "net_daemon_started");
    wait_ready(cfg, ts, daemon, offset)
}

fn wait_ready(cfg: &NetConfig, ts: &Tailscale, daemon: Detached, offset: u64) -> Result<Detached> {
    let started = Instant::now();
    let deadline = started + cfg.daemon_timeout;
    loop {
        if let Some(exit) = exited(daemon)? {
            return Err(died(cfg, exit, offset));
        }
        if SocketState::probe(&cfg.socket) == SocketState::Listening {
            let left = deadline.saturating_duration_since(Instant::now());
            if let Ok(Ok(_)) = ts.status(left.clamp(POLL, READY_PROBE)) {
                tracing::info!(
                    pid = daemon.pid,
                    waited_ms = started.elapsed().as_millis() as u64,
                    "net_daemon_ready"
                );
                return Ok(daemon);
            }
        }
        if Instant::now() >= deadline {
            stop(daemon);
            return Err(PmError::NetDaemonFailed {
                reason: format!(
                    "it did not answer on {} within {} s (stopped again)",
                    cfg.socket.display(),
                    cfg.daemon_timeout.as_secs()
                ),
                log: cfg.daemon_log.clone(),
            }
            .into());
        }
        std::thread::sleep(POLL);
    }
}

fn exited(daemon: Detached) -> Result<Option<Exit>> {
    daemon
        .exited()
        .map_err(|e| PmError::io("cannot check on the tailscaled pm started", e).into())
}

/// The error for a daemon that exited at start, in its own words.
fn died(cfg: &NetConfig, exit: Exit, offset: u64) -> anyhow::Error {
    let text = read_from(&cfg.daemon_log, offset);
    tracing::debug!(%exit, log = %text, "net_daemon_failed");
    let said = match DaemonMessages::quote(&text) {
        Some((DaemonCause::SocketBusy, _)) => {
            return PmError::NetSocketBusy {
                socket: cfg.socket.clone(),
                log: cfg.daemon_log.clone(),
            }
            .into();
        }
        // The line that failed, even if shutdown chatter followed it.
        Some((DaemonCause::BackendFailed, line)) => strip_log_prefix(line),
        None => text
            .lines()
            .rev()
            .map(strip_log_prefix)
            .find(|l| !l.is_empty())
            .unwrap_or("it printed nothing"),
    };
    PmError::NetDaemonFailed {
        reason: format!("it exited at start ({exit}): {said}"),
        log: cfg.daemon_log.clone(),
    }
    .into()
}

/// A Go log line without its `2006/01/02 15:04:05 ` prefix.
fn strip_log_prefix(line: &str) -> &str {
    let line = line.trim();
    let bytes = line.as_bytes();
    let stamped = bytes.len() > 20
        && bytes[4] == b'/'
        && bytes[7] == b'/'
        && bytes[13] == b':'
        && bytes[19] == b' ';
    if stamped { line[20..].trim() } else { line }
}

fn read_from(log: &Path, offset: u64) -> String {
    let mut text = String::new();
    if let Ok(mut file) = std::fs::File::open(log)
        && file.seek(SeekFrom::Start(offset)).is_ok()
    {
        let _ = file.take(LOG_TAIL_BYTES).read_to_string(&mut text);
    }
    text
}

/// One generation of history is enough to explain the last start.
fn rotate(log: &Path) {
    if std::fs::metadata(log).is_ok_and(|m| m.len() > LOG_ROTATE_BYTES) {
        let old = crate::paths::sidecar(log, ".1");
        if let Err(e) = std::fs::rename(log, &old) {
            tracing::warn!(log = %log.display(), error = %e, "net_daemon_log_rotate_failed");
        }
    }
}

/// Stops a daemon pm started that never became ready (it leads its own
/// process group), and reaps it.
fn stop(daemon: Detached) {
    // SAFETY: signalling our own unreaped child's process group.
    unsafe {
        libc::kill(-(daemon.pid as i32), libc::SIGKILL);
    }
    let deadline = Instant::now() + Duration::from_secs(2);
    while matches!(daemon.exited(), Ok(None)) && Instant::now() < deadline {
        std::thread::sleep(POLL);
    }
}

/// The pid of the tailscaled serving `socket`, from the process table
/// (Linux `/proc`; elsewhere none is found). The real daemon and the test
/// stand-in both name themselves `tailscaled` (comm); the socket is its
/// `--socket` argument, or the default when it has none.
pub fn find_pid(socket: &Path) -> Option<u32> {
    let entries = std::fs::read_dir("/proc").ok()?;
    entries.flatten().find_map(|entry| {
        let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
        let comm = std::fs::read_to_string(entry.path().join("comm")).ok()?;
        let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
        let argv: Vec<String> = cmdline
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let named = comm.trim() == "tailscaled"
            || argv
                .iter()
                .take(2)
                .any(|a| Path::new(a).file_name().is_some_and(|n| n == "tailscaled"));
        (named && Path::new(socket_arg(&argv)) == socket).then_some(pid)
    })
}

/// `--socket=X`, `-socket X` and friends (Go's flag package takes both).
fn socket_arg(argv: &[String]) -> &str {
    let mut args = argv.iter();
    while let Some(arg) = args.next() {
        let bare = arg.trim_start_matches('-');
        if !arg.starts_with('-') {
            continue;
        }
        if let Some(value) = bare.strip_prefix("socket=") {
            return value;
        }
        if bare == "socket" {
            return args.next().map_or("", String::as_str);
        }
    }
    "/var/run/tailscale/tailscaled.sock"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_socket_nobody_listens_on_is_stale_not_absent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sock");
        assert_eq!(SocketState::probe(&path), SocketState::Absent);
        let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        assert_eq!(SocketState::probe(&path), SocketState::Listening);
        drop(listener);
        assert_eq!(SocketState::probe(&path), SocketState::Stale);
    }

    #[test]
    fn the_socket_argument_is_found_in_every_spelling() {
        let argv = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(socket_arg(&argv(&["tailscaled", "--socket=/a"])), "/a");
        assert_eq!(socket_arg(&argv(&["tailscaled", "-socket", "/b"])), "/b");
        assert_eq!(
            socket_arg(&argv(&["tailscaled", "--tun=userspace-networking"])),
            "/var/run/tailscale/tailscaled.sock"
        );
    }

    #[test]
    fn go_log_prefixes_are_dropped() {
        assert_eq!(
            strip_log_prefix("2026/12/01 20:56:48 getLocalBackend error: createEngine: x"),
            "getLocalBackend error: createEngine: x"
        );
        assert_eq!(
            strip_log_prefix("--socket is required"),
            "--socket is required"
        );
    }
}
