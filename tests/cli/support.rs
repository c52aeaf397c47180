//! Shared helpers for the end-to-end tests: every test runs the real `pm`
//! binary against its own temporary state, with no `PM_*` variable or config
//! file of the machine leaking in.

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A scratch home for one test: its own state file, config dir and runtime dir.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        Sandbox {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn state_path(&self) -> PathBuf {
        self.path().join("state/state.db")
    }

    /// `pm` with this sandbox's state and a clean environment.
    pub fn pm(&self) -> Command {
        Command::from_std(self.pm_std())
    }

    /// A std::process::Command for the same binary and environment, for
    /// tests that need to hold a child process (pipes, kill).
    pub fn pm_std(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("pm"));
        for (key, _) in std::env::vars() {
            if key.starts_with("PM_") || key.starts_with("XDG_") || key == "NO_COLOR" {
                cmd.env_remove(key);
            }
        }
        cmd.env("HOME", self.path())
            .env("XDG_CONFIG_HOME", self.path().join("config"))
            .env("XDG_STATE_HOME", self.path().join("xdg-state"))
            .env("XDG_RUNTIME_DIR", self.path().join("run"))
            .env("PM_STATE", self.state_path());
        cmd
    }
}

/// Runs `pm ... --json`, asserts exactly one JSON document on stdout and
/// returns it with the exit code. The document is checked against
/// `pm schema` for the command (see [`document`]).
pub fn json_of(cmd: &mut Command) -> (Value, i32) {
    let out = cmd.arg("--json").output().expect("run pm");
    let stdout = String::from_utf8(out.stdout).expect("utf-8 stdout");
    let doc: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}): {stdout:?}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(
        stdout.trim().lines().count(),
        1,
        "one line of JSON: {stdout}"
    );
    crate::schema::assert_conforms(cmd.get_args(), &doc);
    (doc, out.status.code().unwrap_or(-1))
}

/// The JSON document `pm ARGS` printed on `stdout`, checked against
/// `pm schema` for that command. Every test that reads pm's JSON without
/// [`json_of`] reads it through here (or [`output_document`]), so no
/// output escapes the contract.
pub fn document<S: AsRef<std::ffi::OsStr>>(
    args: impl IntoIterator<Item = S>,
    stdout: impl AsRef<[u8]>,
) -> Value {
    checked_document(args, stdout.as_ref(), b"")
}

/// [`document`] of a finished pm, with its stderr in the failure message.
pub fn output_document<S: AsRef<std::ffi::OsStr>>(
    args: impl IntoIterator<Item = S>,
    out: &std::process::Output,
) -> Value {
    checked_document(args, &out.stdout, &out.stderr)
}

/// [`document`] with a stderr read apart for the failure message.
pub fn checked_document<S: AsRef<std::ffi::OsStr>>(
    args: impl IntoIterator<Item = S>,
    stdout: &[u8],
    stderr: &[u8],
) -> Value {
    let text = String::from_utf8_lossy(stdout);
    let doc: Value = serde_json::from_str(text.trim()).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}): {text:?}\nstderr: {}",
            String::from_utf8_lossy(stderr)
        )
    });
    crate::schema::assert_conforms(args, &doc);
    doc
}

/// Asserts the documented error shape and returns the code.
pub fn error_code(doc: &Value) -> &str {
    let err = doc
        .get("error")
        .unwrap_or_else(|| panic!("no error object: {doc}"));
    assert!(
        err["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{doc}"
    );
    assert!(err.get("hint").is_some(), "error has a hint field: {doc}");
    err["code"].as_str().expect("error.code is a string")
}

/// Reads `reader` (a child's stderr) line by line until a line contains
/// `needle`, and returns everything read so far. Fails if the stream ends
/// first: the test synchronises on what pm prints, never on time.
pub fn wait_for_line(reader: &mut impl std::io::BufRead, needle: &str) -> String {
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        let n = reader.read_line(&mut line).expect("read stderr");
        assert!(n > 0, "stream ended before {needle:?}; saw: {seen}");
        seen.push_str(&line);
        if line.contains(needle) {
            return seen;
        }
    }
}
