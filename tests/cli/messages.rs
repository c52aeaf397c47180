//! What a new user reads: usage errors with clap's whole message in JSON,
//! the version, every error printed once, pipelines that carry the first
//! failure unchanged, and hints that fit their cause.

use crate::support::{Sandbox, document, error_code, json_of};
use std::io::Write;
use std::process::Stdio;

/// Runs pm; returns (stdout, stderr, exit code).
fn run(cmd: &mut assert_cmd::Command) -> (String, String, i32) {
    let out = cmd.output().expect("run pm");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

/// The error appears once on stderr: one `pm: error:` line, no log line
/// repeating it.
fn assert_error_printed_once(stderr: &str) {
    assert_eq!(
        stderr.matches("pm: error:").count(),
        1,
        "one error line: {stderr}"
    );
    assert!(
        !stderr.contains("WARN") && !stderr.contains("_failed"),
        "no log line repeats the error: {stderr}"
    );
}

#[test]
fn usage_errors_in_json_keep_the_message_the_tip_and_the_usage() {
    let sb = Sandbox::new();
    let (doc, code) = json_of(sb.pm().args(["image", "fetch"]));
    assert_eq!((error_code(&doc), code), ("usage", 2), "{doc}");
    let message = doc["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("required arguments were not provided") && message.contains("<SOURCE>"),
        "{doc}"
    );
    assert!(
        doc["error"]["usage"]
            .as_str()
            .is_some_and(|u| u.starts_with("pm image fetch")),
        "{doc}"
    );

    // A noun without its verb names the verbs, not the noun's about text.
    let (doc, code) = json_of(sb.pm().arg("image"));
    assert_eq!((error_code(&doc), code), ("usage", 2), "{doc}");
    let message = doc["error"]["message"].as_str().unwrap();
    for verb in ["fetch", "validate", "activate"] {
        assert!(message.contains(verb), "{doc}");
    }
    assert!(!message.contains("root-filesystem images"), "{doc}");

    // clap's tip survives.
    let (doc, _) = json_of(sb.pm().args(["state", "prun"]));
    assert!(
        doc["error"]["hint"]
            .as_str()
            .is_some_and(|h| h.contains("similar subcommand exists: 'prune'")),
        "{doc}"
    );
}

#[test]
fn the_version_is_pms_everywhere_and_json_on_request() {
    let sb = Sandbox::new();
    let (doc, code) = json_of(sb.pm().arg("--version"));
    assert_eq!(code, 0);
    assert_eq!(doc["name"], "pm");
    assert_eq!(doc["version"], env!("CARGO_PKG_VERSION"));
    sb.pm()
        .args(["image", "--version"])
        .assert()
        .success()
        .stdout(format!("pm {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn an_error_is_printed_once_on_stderr_with_and_without_json() {
    let sb = Sandbox::new();
    for json in [false, true] {
        let mut cmd = sb.pm();
        cmd.args(["image", "fetch", "/nonexistent/root.tar"]);
        if json {
            cmd.arg("--json");
        }
        let (stdout, stderr, code) = run(&mut cmd);
        assert_eq!(code, 4, "{stderr}");
        assert_error_printed_once(&stderr);
        if json {
            let doc = document(cmd.get_args(), &stdout);
            assert_eq!(error_code(&doc), "not_found");
        } else {
            assert!(stdout.is_empty(), "{stdout}");
        }
    }
    let dir = sb.path().join("a-directory");
    std::fs::create_dir(&dir).unwrap();
    let (_, stderr, _) = run(sb.pm().args(["image", "validate"]).arg(&dir));
    assert_error_printed_once(&stderr);
}

/// Runs `pm ARGS --json` with `stdin` piped in; returns its stdout, checked
/// against `pm schema`.
fn stage(sb: &Sandbox, args: &[&str], stdin: &str) -> String {
    let mut child = sb
        .pm_std()
        .args(args)
        .arg("--json")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn pm");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("wait");
    document(args, &out.stdout);
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn a_failed_pipeline_carries_the_first_failure_through_unchanged() {
    let sb = Sandbox::new();
    let first = stage(&sb, &["image", "show", "nosuch"], "");
    let first_doc = document(["image", "show"], &first);
    assert_eq!(error_code(&first_doc), "not_found");
    let second = stage(&sb, &["image", "validate", "-"], &first);
    let third = stage(&sb, &["image", "activate", "-"], &second);
    let doc = document(["image", "activate"], &third);
    assert_eq!(error_code(&doc), "upstream_failed", "{doc}");
    let err = &doc["error"];
    assert_eq!(err["upstream_code"], "not_found", "{doc}");
    assert_eq!(
        err["upstream_message"], first_doc["error"]["message"],
        "{doc}"
    );
    assert_eq!(err["upstream_hint"], first_doc["error"]["hint"], "{doc}");
    let message = err["message"].as_str().unwrap();
    assert_eq!(
        message.matches("previous command failed").count(),
        1,
        "not nested: {message}"
    );
}

#[test]
fn validating_a_text_file_says_it_is_not_an_archive_not_to_allow_devices() {
    let sb = Sandbox::new();
    let file = sb.path().join("notes.txt");
    std::fs::write(&file, "hello\n").unwrap();
    let (doc, code) = json_of(sb.pm().args(["image", "validate"]).arg(&file));
    assert_eq!((error_code(&doc), code), ("image_rejected", 3), "{doc}");
    let hint = doc["error"]["hint"].as_str().unwrap();
    assert!(!hint.contains("--allow-devices"), "{hint}");
    assert!(hint.contains("tar"), "{hint}");
}

#[test]
fn validating_a_directory_says_so_once_with_a_hint_about_directories() {
    let sb = Sandbox::new();
    let dir = sb.path().join("rootfs");
    std::fs::create_dir(&dir).unwrap();
    let (doc, code) = json_of(sb.pm().args(["image", "validate"]).arg(&dir));
    assert_eq!((error_code(&doc), code), ("unreadable", 4), "{doc}");
    let message = doc["error"]["message"].as_str().unwrap();
    assert_eq!(message.matches("is a directory").count(), 1, "{message}");
    let hint = doc["error"]["hint"].as_str().unwrap();
    assert!(
        hint.contains("is a directory: give an archive file"),
        "{hint}"
    );
}

#[test]
fn a_backup_into_a_missing_directory_is_not_found_with_the_path_given() {
    let sb = Sandbox::new();
    let target = sb.path().join("no-such-dir/pm.db");
    let (doc, code) = json_of(sb.pm().args(["state", "backup"]).arg(&target));
    assert_eq!((error_code(&doc), code), ("not_found", 4), "{doc}");
    let message = doc["error"]["message"].as_str().unwrap();
    assert!(!message.contains(".partial"), "{message}");
    assert!(message.contains("no-such-dir"), "{message}");
    assert!(
        doc["error"]["hint"]
            .as_str()
            .is_some_and(|h| h.contains("mkdir -p")),
        "{doc}"
    );
}
