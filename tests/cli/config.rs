//! Configuration: flag > environment > file > default, and clear errors.

use crate::support::{Sandbox, error_code, json_of, output_document};
use serde_json::Value;

fn setting<'a>(doc: &'a Value, key: &str) -> &'a Value {
    doc["settings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == key)
        .unwrap_or_else(|| panic!("no setting {key} in {doc}"))
}

fn write_config(sb: &Sandbox, text: &str) -> std::path::PathBuf {
    let path = sb.path().join("pm.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn flag_beats_env_beats_file_beats_default() {
    let sb = Sandbox::new();
    let file = write_config(
        &sb,
        "lock_timeout = 7\nverbosity = 1\nlog_format = \"json\"\n",
    );

    let (doc, _) = json_of(sb.pm().args(["config", "show"]).arg("--config").arg(&file));
    assert_eq!(setting(&doc, "lock_timeout")["value"], 7);
    assert_eq!(setting(&doc, "lock_timeout")["source"]["kind"], "file");
    assert_eq!(setting(&doc, "json")["source"]["kind"], "flag");

    let (doc, _) = json_of(
        sb.pm()
            .args(["config", "show"])
            .env("PM_CONFIG", &file)
            .env("PM_LOCK_TIMEOUT", "8"),
    );
    assert_eq!(setting(&doc, "lock_timeout")["value"], 8);
    assert_eq!(
        setting(&doc, "lock_timeout")["source"]["var"],
        "PM_LOCK_TIMEOUT"
    );
    assert_eq!(doc["file_source"]["kind"], "env");

    let (doc, _) = json_of(
        sb.pm()
            .args(["config", "show", "--lock-timeout", "9"])
            .env("PM_CONFIG", &file)
            .env("PM_LOCK_TIMEOUT", "8"),
    );
    assert_eq!(setting(&doc, "lock_timeout")["value"], 9);
    assert_eq!(setting(&doc, "lock_timeout")["source"]["kind"], "flag");

    let (doc, _) = json_of(sb.pm().args(["config", "show"]));
    assert_eq!(setting(&doc, "lock_timeout")["value"], 60);
    assert_eq!(setting(&doc, "lock_timeout")["source"]["kind"], "default");
    assert_eq!(setting(&doc, "state")["source"]["var"], "PM_STATE");
}

#[test]
fn the_user_config_file_is_found_under_xdg_config_home() {
    let sb = Sandbox::new();
    let dir = sb.path().join("config/pm");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.toml"), "lock_timeout = 3\n").unwrap();
    let (doc, _) = json_of(sb.pm().args(["config", "show"]));
    assert_eq!(setting(&doc, "lock_timeout")["value"], 3);
    assert_eq!(doc["file"], dir.join("config.toml").display().to_string());
}

#[test]
fn malformed_config_names_the_file_and_line() {
    let sb = Sandbox::new();
    let file = write_config(&sb, "# comment\njson = false\nlock_timeout = = 3\n");
    let (doc, code) = json_of(sb.pm().args(["config", "show"]).arg("--config").arg(&file));
    assert_eq!(code, 2);
    assert_eq!(error_code(&doc), "config_invalid");
    assert_eq!(doc["error"]["line"], 3);
    assert_eq!(doc["error"]["file"], file.display().to_string());
    let message = doc["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("{}:3", file.display())),
        "{message}"
    );
}

#[test]
fn wrong_types_and_unknown_keys_are_errors_with_lines() {
    let sb = Sandbox::new();
    let file = write_config(&sb, "json = true\n\nlock_timeout = \"soon\"\n");
    let (doc, code) = json_of(sb.pm().args(["state", "show"]).arg("--config").arg(&file));
    assert_eq!((code, error_code(&doc)), (2, "config_invalid"));
    assert_eq!(doc["error"]["line"], 3);

    let file = write_config(&sb, "json = true\nlock_timout = 5\n");
    let (doc, _) = json_of(sb.pm().args(["state", "show"]).arg("--config").arg(&file));
    assert_eq!(doc["error"]["line"], 2);
    assert!(
        doc["error"]["message"]
            .as_str()
            .unwrap()
            .contains("lock_timout")
    );
}

#[test]
fn bad_environment_values_and_missing_config_files_are_clear() {
    let sb = Sandbox::new();
    let (doc, code) = json_of(
        sb.pm()
            .args(["config", "show"])
            .env("PM_LOCK_TIMEOUT", "soon"),
    );
    assert_eq!((code, error_code(&doc)), (2, "usage"));
    assert!(
        doc["error"]["message"]
            .as_str()
            .unwrap()
            .contains("PM_LOCK_TIMEOUT")
    );

    let (doc, code) = json_of(
        sb.pm()
            .args(["config", "show", "--config", "/nonexistent/pm.toml"]),
    );
    assert_eq!((code, error_code(&doc)), (4, "not_found"));
}

#[test]
fn json_from_the_environment_switches_output() {
    let sb = Sandbox::new();
    let out = sb
        .pm()
        .args(["state", "show"])
        .env("PM_JSON", "1")
        .output()
        .unwrap();
    let doc = output_document(["state", "show"], &out);
    assert!(doc["schema_version"].is_number());
}

#[test]
fn config_show_writes_sizes_like_the_readme_keeps_sections_together_and_marks_unset() {
    let sb = Sandbox::new();
    let out = sb.pm().args(["config", "show"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let line = |key: &str| {
        text.lines()
            .find(|l| l.split_whitespace().next() == Some(key))
            .unwrap_or_else(|| panic!("no {key} in {text}"))
            .to_string()
    };
    assert!(
        line("image.max_unpacked_size").contains("= 8GiB "),
        "{text}"
    );
    assert!(line("image.part_size").contains("= 8MiB "), "{text}");
    assert!(line("pool.block_size").contains("= 64KiB "), "{text}");
    assert!(line("vault.password_file").contains("= (unset) "), "{text}");
    assert!(line("image.endpoint_url").contains("= (unset) "), "{text}");

    // Each section's keys form one run of lines.
    let sections: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|k| !k.starts_with('#'))
        .map(|k| k.split_once('.').map_or("", |(s, _)| s))
        .collect();
    let mut runs = sections.clone();
    runs.dedup();
    let mut distinct = runs.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(runs.len(), distinct.len(), "sections interleaved: {runs:?}");

    let (doc, _) = json_of(sb.pm().args(["config", "show"]));
    let keys: Vec<&str> = doc["settings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["key"].as_str().unwrap())
        .collect();
    let mut json_runs: Vec<&str> = keys
        .iter()
        .map(|k| k.split_once('.').map_or("", |(s, _)| s))
        .collect();
    json_runs.dedup();
    assert_eq!(json_runs, runs, "the JSON lists keys in the same order");
}

/// Issue 10 (seen on the way): `--lock-timeout -1` got clap's "unexpected
/// argument" while `PM_LOCK_TIMEOUT=-1` silently meant 0. Both, and the
/// config file, refuse a negative value the same way; so do the image
/// limits, which were clamped to 0.
#[test]
fn a_negative_lock_timeout_is_refused_from_flag_env_and_file_alike() {
    let sb = Sandbox::new();
    let config = sb.path().join("config.toml");
    std::fs::write(&config, "lock_timeout = -1\n").unwrap();
    let runs = [
        json_of(sb.pm().args([
            "--lock-timeout",
            "-1",
            "state",
            "prune",
            "--older-than",
            "1d",
        ])),
        json_of(
            sb.pm()
                .args(["--lock-timeout=-1", "state", "prune", "--older-than", "1d"]),
        ),
        json_of(
            sb.pm()
                .args(["state", "prune", "--older-than", "1d"])
                .env("PM_LOCK_TIMEOUT", "-1"),
        ),
        json_of(
            sb.pm()
                .args(["state", "prune", "--older-than", "1d"])
                .env("PM_CONFIG", &config),
        ),
        json_of(
            sb.pm()
                .args(["config", "show"])
                .env("PM_IMAGE_MAX_ENTRIES", "-1"),
        ),
    ];
    for (doc, code) in &runs {
        assert_eq!(*code, 2, "{doc}");
        let message = doc["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("expected a whole number, 0 or more"),
            "{doc}"
        );
    }
    let (doc, code) = json_of(sb.pm().args([
        "--lock-timeout",
        "0",
        "state",
        "prune",
        "--older-than",
        "1d",
    ]));
    assert_eq!(code, 0, "{doc}");
}
