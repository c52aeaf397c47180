//! `pm state show|history|prune|backup`.

use crate::support::{Sandbox, error_code, json_of};
use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;

fn prune(sb: &Sandbox, older_than: &str) -> serde_json::Value {
    let (doc, code) = json_of(sb.pm().args(["state", "prune", "--older-than", older_than]));
    assert_eq!(code, 0, "{doc}");
    doc
}

#[test]
fn state_is_created_owner_only_with_its_directory() {
    let sb = Sandbox::new();
    prune(&sb, "1000days");
    let (doc, _) = json_of(sb.pm().args(["state", "show"]));
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&sb.state_path()), 0o600);
    assert_eq!(mode(sb.state_path().parent().unwrap()), 0o700);
    let tables: Vec<&str> = doc["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(tables.contains(&"history"), "{tables:?}");
    assert!(doc["file_bytes"].as_u64().unwrap() > 0);
}

#[test]
fn prune_removes_only_old_entries_and_records_itself() {
    let sb = Sandbox::new();
    let first = prune(&sb, "1000days");
    assert_eq!(first["changed"], false);
    prune(&sb, "1000days");
    // Everything before now: the two earlier entries go, and this prune is
    // then recorded itself.
    let doc = prune(&sb, "0s");
    assert_eq!(doc["removed"], 2);
    assert_eq!(doc["changed"], true);
    let (history, _) = json_of(sb.pm().args(["state", "history"]));
    let entries = history["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["command"], "state prune");
    assert_eq!(entries[0]["changed"], true);
    assert_eq!(entries[0]["result"], "ok");
    assert_eq!(entries[0]["args"][3], "0s");
}

#[test]
fn failed_mutating_commands_are_recorded_with_their_code() {
    let sb = Sandbox::new();
    // A lock that cannot be created makes prune fail after the state opened.
    prune(&sb, "1000days");
    let lock = sb.state_path().with_extension("db.lock");
    std::fs::remove_file(&lock).ok();
    std::fs::create_dir(&lock).unwrap();
    let (doc, code) = json_of(sb.pm().args(["state", "prune", "--older-than", "1d"]));
    assert_ne!(code, 0);
    assert_eq!(error_code(&doc), "io_error");
    let (history, _) = json_of(sb.pm().args(["state", "history", "--limit", "1"]));
    assert_eq!(history["entries"][0]["result"], "error");
    assert_eq!(history["entries"][0]["error_code"], "io_error");
}

#[test]
fn history_filters_by_command_time_and_limit() {
    let sb = Sandbox::new();
    for _ in 0..3 {
        prune(&sb, "1000days");
    }
    let (doc, _) = json_of(sb.pm().args(["state", "history", "--command", "state"]));
    assert_eq!(doc["entries"].as_array().unwrap().len(), 3);
    let (doc, _) = json_of(sb.pm().args(["state", "history", "--command", "image"]));
    assert_eq!(doc["entries"].as_array().unwrap().len(), 0);
    let (doc, _) = json_of(sb.pm().args(["state", "history", "--limit", "2"]));
    assert_eq!(doc["entries"].as_array().unwrap().len(), 2);
    let (doc, _) = json_of(sb.pm().args(["state", "history", "--since", "1h"]));
    assert_eq!(doc["entries"].as_array().unwrap().len(), 3);
    let (doc, _) = json_of(
        sb.pm()
            .args(["state", "history", "--until", "2000-01-01T00:00:00Z"]),
    );
    assert_eq!(doc["entries"].as_array().unwrap().len(), 0);
    let (doc, code) = json_of(
        sb.pm()
            .args(["state", "history", "--since", "yesterdayish"]),
    );
    assert_eq!((code, error_code(&doc)), (2, "usage"));
}

#[test]
fn backup_is_a_consistent_copy_even_while_writers_run() {
    let sb = Sandbox::new();
    prune(&sb, "1000days");
    // Writers keep the database busy while the backup runs.
    let writers: Vec<_> = (0..8)
        .map(|_| {
            sb.pm_std()
                .args(["state", "prune", "--older-than", "1000days"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    let dest = sb.path().join("backup.db");
    let (doc, code) = json_of(sb.pm().args(["state", "backup"]).arg(&dest));
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["changed"], true);
    for mut w in writers {
        assert!(w.wait().unwrap().success());
    }
    let conn = rusqlite::Connection::open(&dest).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let rows: i64 = conn
        .query_row("SELECT count(*) FROM history", [], |r| r.get(0))
        .unwrap();
    assert!((1..=9).contains(&rows), "{rows}");
    assert!(
        !dest.with_extension("db-wal").exists(),
        "a backup is one file"
    );

    // The copy is a usable state file, and an existing file is not overwritten.
    sb.pm()
        .args(["state", "show", "--state"])
        .arg(&dest)
        .assert()
        .success();
    let (doc, code) = json_of(sb.pm().args(["state", "backup"]).arg(&dest));
    assert_eq!((code, error_code(&doc)), (2, "usage"));
    sb.pm()
        .args(["state", "backup", "--force"])
        .arg(&dest)
        .assert()
        .success();
}

#[test]
fn a_file_that_is_not_a_database_is_state_unusable() {
    let sb = Sandbox::new();
    let bogus = sb.path().join("bogus.db");
    std::fs::write(&bogus, vec![b'x'; 8192]).unwrap();
    let (doc, code) = json_of(sb.pm().args(["state", "show", "--state"]).arg(&bogus));
    assert_eq!((code, error_code(&doc)), (9, "state_unusable"));
}

#[test]
fn a_state_file_from_a_newer_pm_is_refused() {
    let sb = Sandbox::new();
    prune(&sb, "1000days");
    let conn = rusqlite::Connection::open(sb.state_path()).unwrap();
    conn.pragma_update(None, "user_version", 9999).unwrap();
    drop(conn);
    let (doc, code) = json_of(sb.pm().args(["state", "show"]));
    assert_eq!((code, error_code(&doc)), (9, "state_too_new"));
}

/// Issue 10 (seen on the way): a state file that cannot be written (here
/// immutable as root, read-only otherwise) is `state_unusable`, not
/// `internal`; reading it still works.
#[test]
fn an_unwritable_state_file_is_state_unusable_not_internal() {
    let sb = Sandbox::new();
    prune(&sb, "1d");
    let state = sb.state_path();
    // SAFETY: geteuid cannot fail.
    let as_root = unsafe { libc::geteuid() } == 0;
    let locked = if as_root {
        std::process::Command::new("chattr")
            .arg("+i")
            .arg(&state)
            .status()
            .is_ok_and(|s| s.success())
    } else {
        std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o400)).is_ok()
    };
    if !locked {
        eprintln!(
            "skipped: this filesystem cannot make {} immutable",
            state.display()
        );
        return;
    }
    let file = sb.path().join("image.tar");
    std::fs::write(&file, b"anything").unwrap();
    let (doc, code) = json_of(sb.pm().args(["image", "fetch", file.to_str().unwrap()]));
    let (list, list_code) = json_of(sb.pm().args(["image", "list"]));
    if as_root {
        std::process::Command::new("chattr")
            .arg("-i")
            .arg(&state)
            .status()
            .unwrap();
    }
    assert_eq!((code, error_code(&doc)), (9, "state_unusable"), "{doc}");
    assert_eq!(list_code, 0, "reading still works: {list}");
}
