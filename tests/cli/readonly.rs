//! Read-only commands are read-only by construction: they open the state
//! through the read-only handle, so on a host without a state file they
//! create nothing (no file, no directory, no lock), and they never wait for
//! a lock. Mutating commands meet a state they cannot understand with a
//! clear error instead of guessing.

use crate::support::{Sandbox, error_code, json_of, output_document};
use std::path::Path;

/// Every read-only command, with what it answers on an empty host.
const READ_ONLY: &[(&[&str], i32)] = &[
    (&["image", "list"], 0),
    (&["image", "activations"], 0),
    (&["image", "show", "0123456789ab"], 4),
    (&["state", "show"], 0),
    (&["state", "history"], 0),
    (&["state", "backup", "/nonexistent-pm-test-dir/copy.db"], 4),
    (&["pool", "status"], 9),
    (&["config", "show"], 0),
    (&["provider", "status"], 0),
];

fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in walk(dir) {
        out.push(entry.strip_prefix(dir).unwrap().display().to_string());
    }
    out.sort();
    out
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        }
        out.push(path);
    }
    out
}

#[test]
fn read_only_commands_on_a_host_without_state_create_nothing() {
    let sb = Sandbox::new();
    let before = files_under(sb.path());
    for (args, code) in READ_ONLY {
        let (doc, got) = json_of(sb.pm().args(*args));
        assert_eq!(got, *code, "pm {}: {doc}", args.join(" "));
    }
    let (doc, _) = json_of(sb.pm().args(["image", "list"]));
    assert_eq!(doc["images"], serde_json::json!([]));
    let (doc, _) = json_of(sb.pm().args(["state", "show"]));
    assert_eq!(doc["exists"], false, "{doc}");
    // Dynamic completion reads the state too.
    sb.pm()
        .env("COMPLETE", "bash")
        .env("_CLAP_COMPLETE_INDEX", "3")
        .env("_CLAP_COMPLETE_COMP_TYPE", "9")
        .env("_CLAP_COMPLETE_SPACE", "true")
        .env("_CLAP_IFS", "\n")
        .args(["--", "pm", "image", "show", ""])
        .assert()
        .success();
    assert_eq!(files_under(sb.path()), before, "nothing was created");
}

/// As root the default state is /var/lib/pm/state.db: run the commands in a
/// private mount namespace with an empty /var/lib, so the host's is never
/// touched, and check that they leave it empty.
#[test]
fn read_only_commands_as_root_create_nothing_under_var_lib() {
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: needs root for a private mount namespace");
        return;
    }
    let sb = Sandbox::new();
    let pm = assert_cmd::cargo::cargo_bin("pm");
    let mut script = String::from("set -e; mount -t tmpfs pm-test /var/lib\n");
    for (args, code) in READ_ONLY {
        script.push_str(&format!(
            "set +e; '{}' {} --json >/dev/null; rc=$?; set -e; [ $rc = {code} ] || {{ echo \"pm {} exited $rc\"; exit 1; }}\n",
            pm.display(),
            args.join(" "),
            args.join(" ")
        ));
    }
    script.push_str("ls -A /var/lib\n");
    let out = std::process::Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", &script])
        .env_remove("PM_STATE")
        .env("HOME", sb.path())
        .env("XDG_CONFIG_HOME", sb.path().join("config"))
        .output()
        .expect("run unshare");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.trim(), "", "/var/lib stayed empty");
}

/// As an unprivileged user the default is under $XDG_STATE_HOME (or
/// ~/.local/state): nothing appears in the home directory either.
#[test]
fn read_only_commands_as_a_user_create_nothing_in_home() {
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: needs root to switch to an unprivileged user");
        return;
    }
    let home = tempfile::tempdir().unwrap();
    std::fs::set_permissions(
        home.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .unwrap();
    let pm = assert_cmd::cargo::cargo_bin("pm");
    for (args, code) in READ_ONLY {
        let out = std::process::Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&pm)
            .args(*args)
            .arg("--json")
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", home.path())
            .output()
            .expect("run setpriv");
        assert_eq!(
            out.status.code(),
            Some(*code),
            "pm {}: {}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(files_under(home.path()), Vec::<String>::new());
}

#[test]
fn image_list_answers_while_another_process_holds_both_locks() {
    let sb = Sandbox::new();
    let (doc, code) = json_of(sb.pm().args(["state", "prune", "--older-than", "1d"]));
    assert_eq!(code, 0, "{doc}");
    let paths = pm::paths::StatePaths::new(&sb.state_path());
    let hold = |path: std::path::PathBuf| {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .unwrap();
        file.lock().unwrap();
        file
    };
    let _pool = hold(paths.pool_lock());
    let _state = hold(paths.state_lock());
    // With a zero lock timeout, any attempt to lock would fail at once.
    let out = sb
        .pm()
        .args(["image", "list", "--json", "--lock-timeout", "0"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("waiting"), "{stderr}");
    let doc = output_document(["image", "list"], &out);
    assert_eq!(doc["images"], serde_json::json!([]));
}

#[test]
fn an_unknown_intent_operation_stops_reconciliation_with_a_clear_error() {
    let sb = Sandbox::new();
    let (doc, code) = json_of(sb.pm().args(["state", "prune", "--older-than", "1d"]));
    assert_eq!(code, 0, "{doc}");
    let conn = rusqlite::Connection::open(sb.state_path()).unwrap();
    conn.execute(
        "INSERT INTO intents (op, backend, started_at) VALUES ('frobnicate', 'dir', 0)",
        [],
    )
    .unwrap();
    drop(conn);
    let (doc, code) = json_of(sb.pm().args(["image", "deactivate", "anything"]));
    assert_eq!((code, error_code(&doc)), (9, "state_unusable"), "{doc}");
    let message = doc["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("unknown operation \"frobnicate\""),
        "{message}"
    );
    let conn = rusqlite::Connection::open(sb.state_path()).unwrap();
    let open: i64 = conn
        .query_row(
            "SELECT count(*) FROM intents WHERE finished_at IS NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(open, 1, "the unknown intent was not marked finished");
}
