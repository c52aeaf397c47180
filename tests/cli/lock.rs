//! The state lock: waiters name the holder, give up on time, and read-only
//! commands never wait.

use crate::support::{Sandbox, document, error_code, json_of, wait_for_line};
use std::io::BufReader;
use std::process::{Child, ChildStderr, Stdio};

/// A `pm state prune` that holds the lock until its stdin is closed.
struct Holder {
    child: Child,
    stderr: BufReader<ChildStderr>,
}

impl Holder {
    fn start(sb: &Sandbox) -> Holder {
        let mut child = sb
            .pm_std()
            .args(["state", "prune", "--older-than", "1000days"])
            .env("PM_FAILPOINTS", "lock_held=pause")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn holder");
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        wait_for_line(&mut stderr, "failpoint lock_held paused");
        Holder { child, stderr }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Lets the holder finish and checks it succeeded.
    fn release(mut self) {
        drop(self.child.stdin.take());
        let status = self.child.wait().unwrap();
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut self.stderr, &mut rest).unwrap();
        assert!(status.success(), "holder failed: {rest}");
    }
}

#[test]
fn waiter_names_the_holder_and_times_out_with_lock_busy() {
    let sb = Sandbox::new();
    let holder = Holder::start(&sb);
    let out = sb
        .pm()
        .args([
            "state",
            "prune",
            "--older-than",
            "1d",
            "--lock-timeout",
            "1",
            "--json",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let expected = format!(
        "waiting for the state lock held by pid {} (pm state prune)",
        holder.pid()
    );
    assert!(stderr.contains(&expected), "stderr: {stderr}");
    assert_eq!(
        stderr.matches("waiting for").count(),
        1,
        "said once: {stderr}"
    );
    assert_eq!(out.status.code(), Some(5));
    let doc = document(["state", "prune"], &out.stdout);
    assert_eq!(error_code(&doc), "lock_busy");
    assert!(
        doc["error"]["holder"]
            .as_str()
            .unwrap()
            .contains(&holder.pid().to_string())
    );
    holder.release();
}

#[test]
fn zero_timeout_fails_at_once_without_waiting() {
    let sb = Sandbox::new();
    let holder = Holder::start(&sb);
    let (doc, code) = json_of(sb.pm().args([
        "state",
        "prune",
        "--older-than",
        "1d",
        "--lock-timeout",
        "0",
    ]));
    assert_eq!(code, 5);
    assert_eq!(error_code(&doc), "lock_busy");
    assert!(doc["error"]["waited_secs"].as_f64().unwrap() < 1.0);
    holder.release();
}

#[test]
fn lock_timeout_from_the_environment_applies() {
    let sb = Sandbox::new();
    let holder = Holder::start(&sb);
    let (doc, code) = json_of(
        sb.pm()
            .args(["state", "prune", "--older-than", "1d"])
            .env("PM_LOCK_TIMEOUT", "0"),
    );
    assert_eq!((code, error_code(&doc)), (5, "lock_busy"));
    holder.release();
}

#[test]
fn read_only_commands_run_while_the_lock_is_held() {
    let sb = Sandbox::new();
    let holder = Holder::start(&sb);
    for args in [
        &["state", "show"][..],
        &["state", "history"],
        &["config", "show"],
    ] {
        let (doc, code) = json_of(sb.pm().args(args).arg("--lock-timeout").arg("0"));
        assert_eq!(code, 0, "{args:?}: {doc}");
    }
    holder.release();
}

#[test]
fn waiter_proceeds_once_the_holder_finishes() {
    let sb = Sandbox::new();
    let holder = Holder::start(&sb);
    let mut waiter = sb
        .pm_std()
        .args([
            "state",
            "prune",
            "--older-than",
            "1d",
            "--json",
            "--lock-timeout",
            "120",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(waiter.stderr.take().unwrap());
    wait_for_line(&mut stderr, "waiting for the state lock");
    holder.release();
    let out = waiter.wait_with_output().unwrap();
    assert!(out.status.success());
    let doc = document(["state", "prune"], &out.stdout);
    assert_eq!(doc["changed"], false);
}

#[test]
fn a_busy_lock_is_reported_once_on_stderr() {
    let sb = Sandbox::new();
    let holder = Holder::start(&sb);
    let out = sb
        .pm()
        .args([
            "state",
            "prune",
            "--older-than",
            "1d",
            "--lock-timeout",
            "0",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert_eq!(stderr.matches("pm: error:").count(), 1, "{stderr}");
    assert!(
        !stderr.contains("WARN"),
        "a log line repeats the error: {stderr}"
    );
    holder.release();
}
