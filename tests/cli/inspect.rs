//! `pm inspect` (and doctor, report, logs collect on the same facts) is
//! read-only by construction: the code cannot reach the write side, and
//! from the outside nothing changes: the state file keeps its bytes and its
//! mtime, no lock file is created or taken, every child it starts answers a
//! read-only question, and a host with no state at all answers.

mod doctor;
mod logs;
mod report;

use crate::support::{Sandbox, json_of};
use serde_json::Value;
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// Every file under `dir` with its size and mtime.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (u64, SystemTime)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                stack.push(path.clone());
            }
            out.insert(path, (meta.len(), meta.modified().unwrap()));
        }
    }
    out
}

pub fn write_executable(path: &Path, script: &str) {
    std::fs::write(path, script).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// The real bw that scripts/test-linux.sh installs.
pub fn real_bw() -> PathBuf {
    let bw = Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/node/node_modules/.bin/bw");
    assert!(
        bw.is_file(),
        "the real bw CLI is not installed: run `bash scripts/test-linux.sh`"
    );
    bw
}

/// A `tailscale` stand-in (the real one cannot be installed here) with the
/// real CLI's words (reference B.2, B.4, B.8): `version`, and `status
/// --json` answering as a Running node or, when `down` exists beside it,
/// as the CLI does with no daemon.
pub fn tailscale_standin(bin: &Path, log: &Path) {
    let script = format!(
        r#"#!/bin/sh
echo "tailscale $*" >> '{log}'
for a in "$@"; do case "$a" in --socket=*) shift ;; esac; done
case "$1" in
version) printf '1.102.0\n  tailscale commit: 0123456789abcdef\n  go version: go1.25.3\n' ;;
status)
  if [ -e '{dir}/down' ]; then
    echo "failed to connect to local tailscaled; it doesn't appear to be running (sudo systemctl start tailscaled ?)" >&2
    exit 1
  fi
  cat <<'EOF'
{{
  "Version": "1.102.0-t0123456789-gabcdef0123",
  "TUN": false,
  "BackendState": "Running",
  "TailscaleIPs": [
    "100.101.102.103",
    "fd7a:115c:a1e0::6901:6667"
  ],
  "Self": {{
    "HostName": "ci-runner",
    "DNSName": "ci-runner.example.ts.net.",
    "Online": true
  }},
  "Health": [],
  "MagicDNSSuffix": "example.ts.net",
  "CurrentTailnet": {{"Name": "example.com", "MagicDNSSuffix": "example.ts.net", "MagicDNSEnabled": true}}
}}
EOF
  ;;
*) echo "unexpected: $*" >&2; exit 2 ;;
esac
"#,
        log = log.display(),
        dir = bin.display()
    );
    write_executable(&bin.join("tailscale"), &script);
}

/// Wrappers that log their argv (and bw's data folder) and run the real
/// program, for the tools installed here.
fn spy_bin(dir: &Path, log: &Path) -> PathBuf {
    let bin = dir.join("spy-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let wrap = |name: &str, real: &Path, extra: &str| {
        let script = format!(
            "#!/bin/sh\necho \"{name} $*{extra}\" >> '{}'\nexec '{}' \"$@\"\n",
            log.display(),
            real.display()
        );
        write_executable(&bin.join(name), &script);
    };
    wrap("bw", &real_bw(), " data=$BITWARDENCLI_APPDATA_DIR");
    wrap("mkfs.ext4", Path::new("/usr/sbin/mkfs.ext4"), "");
    tailscale_standin(&bin, log);
    bin
}

#[test]
fn inspect_answers_on_a_host_with_no_state_and_creates_nothing() {
    let sb = Sandbox::new();
    let before = snapshot(sb.path());
    let (doc, code) = json_of(sb.pm().arg("inspect"));
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["schema"], 1);
    assert_eq!(doc["state"]["exists"], false, "{doc}");
    assert_eq!(doc["state"]["integrity"], "ok");
    assert_eq!(doc["images"]["count"], 0);
    assert_eq!(doc["pool"]["configured"], false);
    assert!(doc["hostname"].as_str().is_some_and(|h| !h.is_empty()));
    assert!(doc["host"]["kernel"]["release"].as_str().is_some());
    for tool in [
        "bw",
        "tailscale",
        "tailscaled",
        "ansible-playbook",
        "ray",
        "mkfs.ext4",
    ] {
        assert!(doc["tools"][tool]["found"].is_boolean(), "{tool}: {doc}");
    }
    for what in ["state", "images", "volumes"] {
        assert!(
            doc["disks"][what]["total_bytes"].as_u64().unwrap() > 0,
            "{doc}"
        );
    }
    let ids: Vec<&str> = doc["checks"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"state.integrity") && ids.contains(&"tool.bw"),
        "{ids:?}"
    );
    sb.pm()
        .arg("inspect")
        .assert()
        .success()
        .stdout(predicates::str::contains("checks:"));
    assert_eq!(
        snapshot(sb.path()),
        before,
        "inspect created or changed nothing"
    );
}

/// A state with history and an image, its lock files removed.
pub fn populated(sb: &Sandbox) -> String {
    let digest = crate::rootfs::validated_example(sb);
    let paths = pm::paths::StatePaths::new(&sb.state_path());
    for lock in [paths.state_lock(), paths.pool_lock()] {
        let _ = std::fs::remove_file(lock);
    }
    digest
}

#[test]
fn inspect_doctor_report_and_logs_leave_the_state_as_it_was() {
    let sb = Sandbox::new();
    populated(&sb);
    let state_dir = sb.state_path().parent().unwrap().to_path_buf();
    let bytes = std::fs::read(sb.state_path()).unwrap();
    let before = snapshot(&state_dir);
    let out = tempfile::tempdir().unwrap();
    let runs: [&[&str]; 4] = [
        &["inspect"],
        &["doctor"],
        &[
            "report",
            "--format",
            "html",
            "-o",
            &out.path().join("r.html").display().to_string(),
        ],
        &[
            "logs",
            "collect",
            "-o",
            &out.path().join("b.tar.gz").display().to_string(),
        ],
    ];
    for args in runs {
        let (doc, code) = json_of(sb.pm().args(args));
        assert!(code == 0 || code == 9, "pm {}: {doc}", args.join(" "));
    }
    assert_eq!(std::fs::read(sb.state_path()).unwrap(), bytes, "same bytes");
    let after = snapshot(&state_dir);
    assert_eq!(
        after[&sb.state_path()],
        before[&sb.state_path()],
        "same size and mtime"
    );
    for (path, meta) in &after {
        let name = path.file_name().unwrap().to_string_lossy();
        if !before.contains_key(path) {
            assert!(
                !name.ends_with(".lock"),
                "a lock file appeared: {}",
                path.display()
            );
            // SQLite's read-only WAL readers create an empty -wal and the
            // shared-memory index; the database itself is untouched.
            assert!(
                name.ends_with("-shm") || (name.ends_with("-wal") && meta.0 == 0),
                "{}",
                path.display()
            );
        } else if !name.ends_with("-shm") {
            // (-shm is SQLite's shared-memory index: every reader maps it.)
            assert_eq!(&before[path], meta, "{} changed", path.display());
        }
    }
    let (history, _) = json_of(sb.pm().args(["state", "history"]));
    let commands: Vec<&str> = history["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["command"].as_str().unwrap())
        .collect();
    assert!(
        commands.iter().all(|c| c.starts_with("image ")),
        "none of them is recorded: {commands:?}"
    );
}

fn hold(path: &Path, holder: &Value) -> std::fs::File {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(path)
        .unwrap();
    file.lock().unwrap();
    writeln!(file, "{holder}").unwrap();
    file
}

#[test]
fn inspect_never_takes_or_waits_for_a_lock_and_names_a_stuck_holder() {
    let sb = Sandbox::new();
    populated(&sb);
    let paths = pm::paths::StatePaths::new(&sb.state_path());
    let two_hours_ago = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 7200;
    let holder = serde_json::json!({"pid": 4242, "command": "pm image activate web", "started_at": two_hours_ago});
    let _state = hold(&paths.state_lock(), &holder);
    let _pool = hold(&paths.pool_lock(), &holder);
    let started = Instant::now();
    let (doc, code) = json_of(sb.pm().args(["inspect", "--lock-timeout", "0"]));
    assert_eq!(code, 0, "{doc}");
    assert!(started.elapsed() < Duration::from_secs(20));
    for lock in doc["state"]["locks"].as_array().unwrap() {
        assert_eq!(lock["held"], true, "{lock}");
        assert_eq!(lock["holder"]["pid"], 4242, "{lock}");
        assert!(lock["holder"]["held_secs"].as_u64().unwrap() >= 7200);
    }
    let (doc, code) = json_of(
        sb.pm()
            .args(["doctor", "--only", "state.locks", "--strict"]),
    );
    assert_eq!(
        code, 9,
        "held for two hours warns, and --strict fails it: {doc}"
    );
    let message = doc["findings"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("pid 4242 (pm image activate web)"),
        "{message}"
    );
}

#[test]
fn every_child_inspect_starts_answers_a_read_only_question() {
    let sb = Sandbox::new();
    let log = sb.path().join("calls.log");
    let bin = spy_bin(sb.path(), &log);
    let path = format!("{}:/usr/bin:/bin", bin.display());
    let socket = sb.path().join("ts.sock");
    let (doc, code) = json_of(
        sb.pm()
            .arg("inspect")
            .env("PATH", &path)
            .env("PM_NET_SOCKET", &socket),
    );
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["tools"]["bw"]["version"], "2026.6.0", "{doc}");
    assert!(
        doc["tools"]["mkfs.ext4"]["version"]
            .as_str()
            .unwrap()
            .starts_with("1."),
        "{doc}"
    );
    assert_eq!(doc["tools"]["tailscale"]["version"], "1.102.0");
    let net = &doc["network"];
    assert_eq!(
        (net["connected"].as_bool(), net["backend_state"].as_str()),
        (Some(true), Some("Running")),
        "{net}"
    );
    assert_eq!(net["dns_name"], "ci-runner.example.ts.net");
    let calls = std::fs::read_to_string(&log).unwrap();
    let allowed = [
        "bw --version".to_string(),
        "mkfs.ext4 -V".to_string(),
        "tailscale version".to_string(),
        format!("tailscale --socket={} status --json", socket.display()),
    ];
    let mut seen = std::collections::BTreeSet::new();
    for line in calls.lines() {
        let (call, data) = line.split_once(" data=").unwrap_or((line, ""));
        assert!(
            allowed.contains(&call.to_string()),
            "a child outside the read-only questions: {line}"
        );
        if call.starts_with("bw ") {
            // bw writes its data folder even for --version: a scratch one,
            // gone once the probe is done.
            assert!(
                data.contains("pm-inspect-") && !Path::new(data).exists(),
                "{line}"
            );
        }
        seen.insert(call.to_string());
    }
    assert_eq!(
        seen.len(),
        allowed.len(),
        "each question was asked: {calls}"
    );

    std::fs::write(bin.join("down"), "").unwrap();
    let (doc, code) = json_of(sb.pm().args(["doctor", "--only", "net"]).env("PATH", &path));
    assert_eq!(code, 0, "a daemon that is not running is a warning: {doc}");
    assert_eq!(doc["findings"][0]["status"], "warn", "{doc}");
    let (doc, code) = json_of(
        sb.pm()
            .args(["doctor", "--only", "net"])
            .env("PATH", &path)
            .env("PM_DOCTOR_REQUIRED_TOOLS", "tailscale"),
    );
    assert_eq!(
        code, 9,
        "and a failure where the host needs the network: {doc}"
    );
}

#[test]
fn a_tool_that_hangs_is_killed_at_the_probe_timeout() {
    let sb = Sandbox::new();
    // The ray pm probes is the one in the provider's venv.
    let venv = sb.path().join("venv");
    let bin = venv.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let marker = format!("61.{}", std::process::id());
    write_executable(
        &bin.join("ray"),
        &format!("#!/bin/sh\nexec sleep {marker}\n"),
    );
    let started = Instant::now();
    let (doc, code) = json_of(
        sb.pm()
            .args(["doctor", "--only", "tool.ray"])
            .env("PM_PROVIDER_VENV", &venv)
            .env("PM_INSPECT_PROBE_TIMEOUT", "1"),
    );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(code, 0, "{doc}");
    let finding = &doc["findings"][0];
    assert_eq!(finding["status"], "warn");
    assert!(
        finding["message"]
            .as_str()
            .unwrap()
            .contains("did not answer within 1 s"),
        "{finding}"
    );
    let left: Vec<String> = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .filter(|c| c.contains(&marker))
        .collect();
    assert!(
        left.is_empty(),
        "the probe's process group was killed: {left:?}"
    );
}

#[test]
fn a_damaged_state_is_a_finding_not_a_failure_to_inspect() {
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.state_path().parent().unwrap()).unwrap();
    std::fs::write(sb.state_path(), vec![0x42u8; 8192]).unwrap();
    let (doc, code) = json_of(sb.pm().arg("inspect"));
    assert_eq!(code, 0, "{doc}");
    assert!(
        doc["state"]["unavailable"]
            .as_str()
            .unwrap()
            .contains("unusable"),
        "{doc}"
    );
    assert!(doc["images"]["unavailable"].is_string());
    assert!(
        doc["host"]["hostname"].is_string(),
        "the other sections still answer"
    );
    let (doc, code) = json_of(sb.pm().args(["doctor", "--only", "state.integrity"]));
    assert_eq!(code, 9, "{doc}");
    assert_eq!(doc["failed"], serde_json::json!(["state.integrity"]));
}

/// A line with the text of its string literals dropped (messages may say
/// "State" or "rename" without the code doing either).
fn without_strings(line: &str) -> String {
    // A quote as a char literal opens no string.
    let line = line.replace("'\"'", "' '").replace("'\\\"'", "' '");
    let mut out = String::new();
    let mut in_string = false;
    let mut escaped = false;
    for c in line.chars() {
        match (in_string, escaped, c) {
            (true, false, '\\') => escaped = true,
            (true, true, _) => escaped = false,
            (_, _, '"') => {
                in_string = !in_string;
                out.push('"');
            }
            (false, _, c) => out.push(c),
            _ => {}
        }
    }
    out
}

/// Code lines (comments and string text dropped) of every file under src/inspect.
fn inspect_sources() -> Vec<(PathBuf, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/inspect");
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let code: Vec<String> = std::fs::read_to_string(&path)
                    .unwrap()
                    .lines()
                    .map(|l| without_strings(l.split("//").next().unwrap_or("")))
                    .collect();
                out.push((path, code.join("\n")));
            }
        }
    }
    out
}

#[test]
fn the_inspect_code_cannot_reach_the_write_side() {
    let sources = inspect_sources();
    assert!(sources.len() > 10, "found the sources");
    // The write handle, the locks, the context that hands out both, kernel
    // changes, and children other than the declared questions.
    let forbidden_words = [
        "State",
        "WriteTx",
        "LockGuard",
        "Held",
        "ThinPool",
        "reconcile",
        "acquire",
    ];
    let forbidden_calls = [
        "context::",
        "spawn_detached",
        "run_pty",
        ".write(&",
        "State::open",
    ];
    // File system changes outside the one module that writes the output.
    let writes = [
        "fs::write",
        "remove_file",
        "remove_dir",
        "rename(",
        "create_dir",
        "set_permissions",
        ".write(true)",
        "set_len",
    ];
    for (path, code) in &sources {
        let name = path
            .strip_prefix(env!("CARGO_MANIFEST_DIR"))
            .unwrap()
            .display()
            .to_string();
        let words: Vec<&str> = code
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .collect();
        for w in forbidden_words {
            assert!(!words.contains(&w), "{name} names {w}");
        }
        for c in forbidden_calls {
            assert!(!code.contains(c), "{name} calls {c}");
        }
        if !name.ends_with("inspect/write.rs") {
            for w in writes {
                assert!(!code.contains(w), "{name} writes ({w}) outside write.rs");
            }
        }
        if !name.ends_with("inspect/tools.rs") {
            assert!(
                !code.contains(".call("),
                "{name} starts a child outside tools::read_only"
            );
        }
    }
}
