//! Many processes at once on one state file.

use crate::support::Sandbox;
use std::process::Stdio;

#[test]
fn fifty_concurrent_prunes_all_succeed_and_record_fifty_rows() {
    let sb = Sandbox::new();
    let children: Vec<_> = (0..50)
        .map(|_| {
            sb.pm_std()
                .args(["state", "prune", "--older-than", "1000days", "--json"])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn pm")
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "a prune failed: {stderr}");
        assert!(!stderr.contains("database is locked"), "{stderr}");
    }
    let conn = rusqlite::Connection::open(sb.state_path()).unwrap();
    let rows: i64 = conn
        .query_row(
            "SELECT count(*) FROM history WHERE command = 'state prune' AND result = 'ok'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(rows, 50);
}
