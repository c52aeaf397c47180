//! A process killed inside a write transaction leaves a consistent state.

use crate::support::Sandbox;
use std::os::unix::process::ExitStatusExt;

fn history_rows(sb: &Sandbox) -> i64 {
    let conn = rusqlite::Connection::open(sb.state_path()).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    conn.query_row("SELECT count(*) FROM history", [], |r| r.get(0))
        .unwrap()
}

fn run_prunes(sb: &Sandbox, n: usize) {
    for _ in 0..n {
        sb.pm()
            .args(["state", "prune", "--older-than", "1000days"])
            .assert()
            .success();
    }
}

#[test]
fn kill_inside_the_prune_transaction_rolls_it_back() {
    let sb = Sandbox::new();
    run_prunes(&sb, 3);
    let status = sb
        .pm_std()
        .args(["state", "prune", "--older-than", "0s"])
        .env("PM_FAILPOINTS", "prune_uncommitted=kill")
        .status()
        .unwrap();
    assert_eq!(status.signal(), Some(libc::SIGKILL));
    // The delete of all three rows never committed, and the killed command
    // recorded nothing.
    assert_eq!(history_rows(&sb), 3);
    sb.pm().args(["state", "show"]).assert().success();
}

#[test]
fn kill_while_recording_history_leaves_no_half_written_row() {
    let sb = Sandbox::new();
    run_prunes(&sb, 2);
    let status = sb
        .pm_std()
        .args(["state", "prune", "--older-than", "1000days"])
        .env("PM_FAILPOINTS", "history_insert_uncommitted=kill")
        .status()
        .unwrap();
    assert_eq!(status.signal(), Some(libc::SIGKILL));
    assert_eq!(history_rows(&sb), 2);
    let conn = rusqlite::Connection::open(sb.state_path()).unwrap();
    let incomplete: i64 = conn
        .query_row(
            "SELECT count(*) FROM history WHERE command = '' OR args = '' OR result NOT IN ('ok','error')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(incomplete, 0);
    // And the next command works normally.
    run_prunes(&sb, 1);
    assert_eq!(history_rows(&sb), 3);
}
