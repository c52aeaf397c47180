//! The output contract every command follows: one JSON document with
//! `--json`, errors shaped alike, logs only on stderr.

use crate::support::{Sandbox, error_code, json_of};

#[test]
fn every_foundation_command_prints_one_json_document() {
    let sb = Sandbox::new();
    let backup = sb.path().join("b.db");
    let cases: Vec<Vec<String>> = vec![
        vec!["state".into(), "show".into()],
        vec!["state".into(), "history".into()],
        vec![
            "state".into(),
            "prune".into(),
            "--older-than".into(),
            "1d".into(),
        ],
        vec![
            "state".into(),
            "backup".into(),
            backup.display().to_string(),
        ],
        vec!["config".into(), "show".into()],
        vec!["completions".into(), "bash".into()],
    ];
    for args in cases {
        let (doc, code) = json_of(sb.pm().args(&args));
        assert_eq!(code, 0, "{args:?}: {doc}");
        assert!(
            doc.is_object() && doc.get("error").is_none(),
            "{args:?}: {doc}"
        );
    }
}

#[test]
fn failures_are_json_with_documented_codes_and_exit_codes() {
    let sb = Sandbox::new();
    let cases: &[(&[&str], &str, i32)] = &[
        (&["state", "frobnicate"], "usage", 2),
        (&["state", "prune", "--older-than", "soonish"], "usage", 2),
        (&["completions", "tcsh"], "usage", 2),
        (
            &["config", "show", "--config", "/nonexistent.toml"],
            "not_found",
            4,
        ),
    ];
    for (args, code, exit) in cases {
        let (doc, got) = json_of(sb.pm().args(*args));
        assert_eq!(got, *exit, "{args:?}: {doc}");
        assert_eq!(error_code(&doc), *code, "{args:?}");
    }
}

#[test]
fn human_errors_go_to_stderr_with_a_hint() {
    let sb = Sandbox::new();
    let out = sb
        .pm()
        .args(["config", "show", "--config", "/nonexistent.toml"])
        .output()
        .unwrap();
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("pm: error: config file /nonexistent.toml not found"),
        "{stderr}"
    );
    assert!(stderr.contains("pm: hint: "), "{stderr}");
}

#[test]
fn json_logs_go_to_stderr_and_stdout_stays_one_document() {
    let sb = Sandbox::new();
    let out = sb
        .pm()
        .args([
            "-vv",
            "--log-format",
            "json",
            "state",
            "prune",
            "--older-than",
            "1d",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1);
    let stderr = String::from_utf8(out.stderr).unwrap();
    let events: Vec<serde_json::Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let names: Vec<&str> = events
        .iter()
        .filter_map(|e| e["message"].as_str())
        .collect();
    assert!(names.contains(&"command_start"), "{names:?}");
    assert!(names.contains(&"lock_acquire_complete"), "{names:?}");
    assert!(names.contains(&"command_complete"), "{names:?}");
}

#[test]
fn quiet_mode_logs_nothing_on_success() {
    let sb = Sandbox::new();
    sb.pm()
        .args(["-q", "state", "prune", "--older-than", "1d"])
        .assert()
        .success()
        .stderr("");
}

#[test]
fn version_and_help_document_the_exit_codes() {
    let sb = Sandbox::new();
    sb.pm()
        .arg("--version")
        .assert()
        .success()
        .stdout(predicates::str::starts_with(concat!(
            "pm ",
            env!("CARGO_PKG_VERSION")
        )));
    sb.pm()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicates::str::contains("5  state or pool lock busy"));
}

#[test]
fn dynamic_completion_offers_commands_from_the_history() {
    let sb = Sandbox::new();
    sb.pm()
        .args(["state", "prune", "--older-than", "1d"])
        .assert()
        .success();
    let out = sb
        .pm()
        .env("COMPLETE", "bash")
        .env("_CLAP_COMPLETE_INDEX", "4")
        .env("_CLAP_COMPLETE_COMP_TYPE", "9")
        .env("_CLAP_COMPLETE_SPACE", "true")
        .env("_CLAP_IFS", "\n")
        .args(["--", "pm", "state", "history", "--command", "sta"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.lines().any(|l| l == "state prune"), "{stdout:?}");
}

#[test]
fn dynamic_completion_offers_stored_image_ids() {
    let sb = Sandbox::new();
    let file = sb.path().join("tiny.tar");
    std::fs::write(&file, vec![0u8; 1024]).unwrap();
    let (doc, code) = json_of(sb.pm().args(["image", "fetch"]).arg(&file));
    assert_eq!(code, 0, "{doc}");
    let id = doc["id"].as_str().unwrap().to_string();
    let out = sb
        .pm()
        .env("COMPLETE", "bash")
        .env("_CLAP_COMPLETE_INDEX", "3")
        .env("_CLAP_COMPLETE_COMP_TYPE", "9")
        .env("_CLAP_COMPLETE_SPACE", "true")
        .env("_CLAP_IFS", "\n")
        .args(["--", "pm", "image", "show", &id[..3]])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.lines().any(|l| l == id), "{stdout:?}");
}

#[test]
fn every_json_error_says_whether_retrying_can_help() {
    let sb = Sandbox::new();
    let (doc, code) = json_of(sb.pm().args(["image", "show", "0123456789ab"]));
    assert_eq!(
        (code, &doc["error"]["retryable"]),
        (4, &serde_json::json!(false)),
        "{doc}"
    );
    let (doc, code) = json_of(sb.pm().args(["image", "nosuchverb"]));
    assert_eq!(
        (code, &doc["error"]["retryable"]),
        (2, &serde_json::json!(false)),
        "{doc}"
    );
    // A lock that stays busy is worth retrying.
    let paths = pm::paths::StatePaths::new(&sb.state_path());
    std::fs::create_dir_all(sb.state_path().parent().unwrap()).unwrap();
    let held = std::fs::File::create(paths.state_lock()).unwrap();
    held.lock().unwrap();
    let (doc, code) = json_of(sb.pm().args([
        "state",
        "prune",
        "--older-than",
        "1d",
        "--lock-timeout",
        "0",
    ]));
    assert_eq!(
        (code, &doc["error"]["retryable"]),
        (5, &serde_json::json!(true)),
        "{doc}"
    );
}
