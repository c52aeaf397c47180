//! The local processes of the Ray node this provider started, found and
//! stopped without `ray stop` (which kills every Ray process on the
//! machine, whatever node or namespace it belongs to).
//!
//! `ray start` runs as the leader of a session and process group of its own
//! (the process driver starts every child that way), and Ray's daemons
//! (raylet, log monitor, agents, and the workers the raylet forks) keep that
//! group after it exits. So the node is one process group, and stopping it
//! is signalling that group, nothing else. Before any signal the group must
//! still hold this node's raylet, recognised by its own command line
//! (`--temp_dir=` the provider's temp dir), so a recycled group id can never
//! aim a signal at someone else's processes.
//!
//! Processes are read from /proc on Linux, and from `ps` elsewhere (macOS).

use schemars::JsonSchema;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How often a stop looks whether the group is gone.
const POLL: Duration = Duration::from_millis(100);
/// How long a SIGKILLed group may take to disappear.
const KILL_GRACE: Duration = Duration::from_secs(5);

/// The raylet of a node, read from its command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Raylet {
    pub pid: i32,
    pub process_group: i32,
    pub node_id: String,
    /// `--gcs-address`: the head it joined.
    pub gcs_address: String,
    pub node_ip: String,
    pub temp_dir: PathBuf,
}

/// One process as /proc shows it.
#[derive(Clone, Debug)]
struct Proc {
    pid: i32,
    process_group: i32,
    zombie: bool,
    argv: Vec<String>,
}

/// The running raylet whose `--temp_dir` is `temp_dir`: the node of the
/// provider that owns that directory.
pub fn find_raylet(temp_dir: &Path) -> Option<Raylet> {
    processes()
        .into_iter()
        .filter(|p| !p.zombie)
        .find_map(|p| raylet_of(&p).filter(|r| r.temp_dir == temp_dir))
}

fn raylet_of(p: &Proc) -> Option<Raylet> {
    let program = p.argv.first()?;
    if !program.ends_with("/raylet") {
        return None;
    }
    let flag = |name: &str| {
        p.argv
            .iter()
            .find_map(|a| a.strip_prefix(name)?.strip_prefix('='))
            .map(str::to_string)
    };
    Some(Raylet {
        pid: p.pid,
        process_group: p.process_group,
        node_id: flag("--node_id")?,
        gcs_address: flag("--gcs-address")?,
        node_ip: flag("--node_ip_address")?,
        temp_dir: PathBuf::from(flag("--temp_dir")?),
    })
}

/// The live (not zombie) members of a process group.
pub fn group_members(process_group: i32) -> Vec<i32> {
    processes()
        .into_iter()
        .filter(|p| p.process_group == process_group && !p.zombie)
        .map(|p| p.pid)
        .collect()
}

/// How a stop went.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, JsonSchema)]
pub struct Stopped {
    /// The processes signalled (the node's group at the time).
    pub pids: Vec<i32>,
    /// Some did not end on SIGTERM within the grace time.
    pub killed: bool,
}

/// Stops the node's process group: SIGTERM (the raylet then tells the head
/// it is leaving), up to `grace` for the group to end, then SIGKILL.
/// Refuses a group that does not hold `raylet` any more (see the module).
pub fn stop(raylet: &Raylet, grace: Duration) -> std::io::Result<Stopped> {
    let still_ours = find_raylet(&raylet.temp_dir)
        .is_some_and(|r| r.pid == raylet.pid && r.process_group == raylet.process_group);
    if !still_ours {
        return Ok(Stopped::default());
    }
    let pids = group_members(raylet.process_group);
    signal_group(raylet.process_group, libc::SIGTERM)?;
    if wait_gone(raylet.process_group, grace) {
        return Ok(Stopped {
            pids,
            killed: false,
        });
    }
    tracing::warn!(
        group = raylet.process_group,
        "provider_node_stop, SIGKILL after the grace time"
    );
    signal_group(raylet.process_group, libc::SIGKILL)?;
    if !wait_gone(raylet.process_group, KILL_GRACE) {
        return Err(std::io::Error::other(format!(
            "process group {} is still running after SIGKILL",
            raylet.process_group
        )));
    }
    Ok(Stopped { pids, killed: true })
}

fn signal_group(group: i32, signal: libc::c_int) -> std::io::Result<()> {
    // SAFETY: kill(2) with a negative pid signals that process group only;
    // the caller checked that the group is the node's.
    if unsafe { libc::kill(-group, signal) } == 0 {
        return Ok(());
    }
    let err = std::io::Error::last_os_error();
    match err.raw_os_error() {
        // Gone already: what the stop wanted.
        Some(libc::ESRCH) => Ok(()),
        _ => Err(err),
    }
}

/// Polls until no live process is left in the group, for at most `limit`.
fn wait_gone(group: i32, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if group_members(group).is_empty() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(POLL);
    }
}

/// Every process /proc lists, with its group and command line.
#[cfg(target_os = "linux")]
fn processes() -> Vec<Proc> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(read_proc)
        .collect()
}

#[cfg(target_os = "linux")]
fn read_proc(pid: i32) -> Option<Proc> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (state, process_group) = parse_stat(&stat)?;
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let argv = cmdline
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    Some(Proc {
        pid,
        process_group,
        zombie: state == 'Z' || state == 'X',
        argv,
    })
}

/// Without /proc: `ps`, whose command column joins the arguments with
/// spaces (the paths Ray is given here have none).
#[cfg(not(target_os = "linux"))]
fn processes() -> Vec<Proc> {
    use crate::tool::{Tool, ToolSpec};
    static PS: ToolSpec = ToolSpec {
        name: "ps",
        log_name: "provider_ps",
        config_key: None,
        env: &[],
    };
    let Ok(ps) = Tool::locate(&PS, "/bin/ps", &std::collections::BTreeMap::new()) else {
        return Vec::new();
    };
    let run = ps
        .call(["-axww", "-o", "pid=,pgid=,stat=,command="])
        .timeout(Duration::from_secs(10))
        .run_piped();
    match run {
        Ok(run) if run.succeeded() => run.output.lines().filter_map(parse_ps_line).collect(),
        _ => Vec::new(),
    }
}

/// `  PID  PGID STAT COMMAND ARGS...`
#[cfg_attr(target_os = "linux", allow(dead_code))]
fn parse_ps_line(line: &str) -> Option<Proc> {
    let mut fields = line.split_whitespace();
    let pid = fields.next()?.parse().ok()?;
    let process_group = fields.next()?.parse().ok()?;
    let state = fields.next()?;
    Some(Proc {
        pid,
        process_group,
        zombie: state.starts_with('Z'),
        argv: fields.map(str::to_string).collect(),
    })
}

/// The state and process group in /proc/PID/stat: `pid (comm) S ppid pgrp
/// ...`, where comm may itself hold spaces and parentheses.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn parse_stat(stat: &str) -> Option<(char, i32)> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let _ppid = fields.next()?;
    let group = fields.next()?.parse().ok()?;
    Some((state, group))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_with_odd_command_names_are_parsed() {
        assert_eq!(
            parse_stat("3230 (raylet) S 1 3204 3204 0 -1 4194560"),
            Some(('S', 3204))
        );
        assert_eq!(
            parse_stat("77 (ray::Dashboard (x) Agent) Z 3230 3204 3204 0"),
            Some(('Z', 3204))
        );
        assert_eq!(parse_stat("garbage"), None);
        let ps = parse_ps_line("  3230  3204 Ss   /v/ray/core/src/ray/raylet/raylet --temp_dir=/t")
            .unwrap();
        assert_eq!((ps.pid, ps.process_group, ps.zombie), (3230, 3204, false));
        assert_eq!(
            ps.argv,
            ["/v/ray/core/src/ray/raylet/raylet", "--temp_dir=/t"]
        );
    }

    #[test]
    fn a_raylet_is_known_by_its_flags_and_other_programs_are_not() {
        let argv = |args: &[&str]| args.iter().map(|a| a.to_string()).collect();
        let raylet = Proc {
            pid: 10,
            process_group: 9,
            zombie: false,
            argv: argv(&[
                "/venv/lib/python3.11/site-packages/ray/core/src/ray/raylet/raylet",
                "--raylet_socket_name=/t/session_1/sockets/raylet",
                "--node_id=abc123",
                "--node_ip_address=10.0.0.2",
                "--temp_dir=/t",
                "--gcs-address=10.0.0.1:6379",
            ]),
        };
        let found = raylet_of(&raylet).unwrap();
        assert_eq!(
            (
                found.node_id.as_str(),
                found.gcs_address.as_str(),
                found.process_group
            ),
            ("abc123", "10.0.0.1:6379", 9)
        );
        assert_eq!(found.temp_dir, Path::new("/t"));
        let monitor = Proc {
            argv: argv(&["/venv/bin/python3", "log_monitor.py", "--temp_dir=/t"]),
            ..raylet
        };
        assert!(raylet_of(&monitor).is_none());
    }

    /// A group that is not a node's (no raylet of the temp dir in it) is
    /// never signalled: the sleeping child here must survive the stop.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_group_without_the_nodes_raylet_is_left_alone() {
        use std::os::unix::process::CommandExt;
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .process_group(0)
            .spawn()
            .unwrap();
        let pid = child.id() as i32;
        let impostor = Raylet {
            pid,
            process_group: pid,
            node_id: "n".to_string(),
            gcs_address: "h:1".to_string(),
            node_ip: "10.0.0.2".to_string(),
            temp_dir: PathBuf::from("/nonexistent-pm-temp"),
        };
        assert_eq!(stop(&impostor, Duration::ZERO).unwrap(), Stopped::default());
        assert_eq!(group_members(pid), [pid], "still running");
        child.kill().unwrap();
        child.wait().unwrap();
    }
}
