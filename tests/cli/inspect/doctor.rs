//! `pm doctor`: exit codes that tell "all well or warnings", "a check
//! failed" and "doctor could not run" apart; choosing checks; the
//! Prometheus textfile, written atomically and read by the real
//! `prometheus_client` parser.

use crate::support::{Sandbox, error_code, json_of};
use serde_json::Value;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// A PATH with no optional tool on it (ray, tailscale, ansible...).
fn bare_path(sb: &Sandbox) -> String {
    let bin = sb.path().join("empty-bin");
    std::fs::create_dir_all(&bin).unwrap();
    format!("{}:/usr/bin:/bin", bin.display())
}

fn ids(doc: &Value) -> Vec<String> {
    doc["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("{doc}"))
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn doctor_exit_codes_tell_all_well_warnings_failures_and_could_not_run() {
    let sb = Sandbox::new();
    let path = bare_path(&sb);
    let doctor = |args: &[&str]| json_of(sb.pm().arg("doctor").args(args).env("PATH", &path));

    let (doc, code) = doctor(&["--only", "state,pool"]);
    assert_eq!(
        (code, doc["status"].as_str()),
        (0, Some("pass")),
        "all pass: {doc}"
    );

    let (doc, code) = doctor(&["--only", "tool.ray"]);
    assert_eq!(
        (code, doc["status"].as_str()),
        (0, Some("warn")),
        "a missing tool warns: {doc}"
    );
    assert_eq!(doc["failed"], serde_json::json!([]));

    let (doc, code) = doctor(&["--only", "tool.ray", "--strict"]);
    assert_eq!(code, 9, "--strict makes a warning fail: {doc}");

    let (doc, code) = json_of(
        sb.pm()
            .args(["doctor", "--only", "tool.ray,state"])
            .env("PATH", &path)
            .env("PM_DOCTOR_REQUIRED_TOOLS", "ray, bw"),
    );
    assert_eq!(code, 9, "a tool the host needs fails: {doc}");
    assert_eq!(doc["status"], "fail");
    assert_eq!(doc["failed"], serde_json::json!(["tool.ray"]));
    assert!(
        doc.get("error").is_none(),
        "a failed check is a result, not an error: {doc}"
    );

    let not_a_dir = sb.path().join("not-a-dir");
    std::fs::write(&not_a_dir, "").unwrap();
    let (doc, code) = doctor(&["--textfile-dir", not_a_dir.to_str().unwrap()]);
    assert_eq!(
        (code, error_code(&doc)),
        (1, "doctor_could_not_run"),
        "{doc}"
    );

    let (doc, code) = json_of(
        sb.pm()
            .arg("doctor")
            .env("PM_DOCTOR_REQUIRED_TOOLS", "tailscal"),
    );
    assert_eq!(
        (code, error_code(&doc)),
        (2, "usage"),
        "a misspelt required tool: {doc}"
    );

    let human = sb
        .pm()
        .args(["doctor", "--only", "tool.ray"])
        .env("PATH", &path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains("warn  tool.ray") && text.contains("hint: install ray"),
        "{text}"
    );
    assert!(
        text.contains("1 checks: 0 passed, 1 warned, 0 failed"),
        "{text}"
    );
}

#[test]
fn only_skip_and_list_choose_checks_and_an_unknown_id_is_a_usage_error() {
    let sb = Sandbox::new();
    let (list, code) = json_of(sb.pm().args(["doctor", "--list"]));
    assert_eq!(code, 0);
    let listed: Vec<&str> = list["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    for id in [
        "state.integrity",
        "pool.data_usage",
        "pool.metadata_usage",
        "disk.state",
        "tool.bw",
        "tool.mkfs.ext4",
        "net.status",
    ] {
        assert!(listed.contains(&id), "{id} in {listed:?}");
    }
    assert!(
        list["checks"][0]["about"]
            .as_str()
            .is_some_and(|a| !a.is_empty())
    );

    let (doc, code) = json_of(
        sb.pm()
            .args([
                "doctor",
                "--only",
                "tool",
                "--skip",
                "tool.bw",
                "--skip",
                "tool.ray,tool.tailscaled",
            ])
            .env("PATH", bare_path(&sb)),
    );
    assert_eq!(code, 0, "{doc}");
    assert_eq!(
        ids(&doc),
        ["tool.tailscale", "tool.ansible-playbook", "tool.mkfs.ext4"]
    );

    let (doc, code) = json_of(sb.pm().args([
        "doctor",
        "--skip",
        "tool",
        "--skip",
        "net,provider,vault,dm",
    ]));
    assert!(
        ids(&doc).iter().all(|id| id.starts_with("state.")
            || id.starts_with("disk.")
            || id.starts_with("pool.")),
        "{doc}"
    );
    assert_eq!(code, 0, "{doc}");

    for bad in [
        &["--only", "tool.nope"][..],
        &["--skip", "stat"],
        &["--only", "state.integrity,bogus"],
    ] {
        let (doc, code) = json_of(sb.pm().arg("doctor").args(bad));
        assert_eq!((code, error_code(&doc)), (2, "usage"), "{bad:?}: {doc}");
        assert!(doc["error"]["hint"].as_str().unwrap().contains("--list"));
    }
}

/// The real Prometheus text parser, from .tools/venv.
fn python() -> PathBuf {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/venv/bin/python");
    let ok = std::process::Command::new(&python)
        .args(["-c", "import prometheus_client"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "prometheus_client is not installed in .tools/venv: run `bash scripts/test-linux.sh`"
    );
    python
}

const PARSE: &str = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = {}
for family in text_string_to_metric_families(open(sys.argv[1]).read()):
    for s in family.samples:
        out.setdefault(s.name, []).append({"labels": s.labels, "value": s.value, "timestamp": s.timestamp, "type": family.type})
print(json.dumps(out))
"#;

fn parse_prometheus(file: &Path) -> Value {
    let out = std::process::Command::new(python())
        .args(["-c", PARSE])
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the parser refused the file: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_textfile_is_replaced_atomically_and_parses_as_prometheus_text() {
    let sb = Sandbox::new();
    let dir = sb.path().join("textfile");
    std::fs::create_dir_all(&dir).unwrap();
    let prom = dir.join("pm.prom");
    std::fs::write(&prom, "stale content\n").unwrap();
    let kept = dir.join("old-copy");
    std::fs::hard_link(&prom, &kept).unwrap();
    let old_inode = std::fs::metadata(&prom).unwrap().ino();

    let (doc, code) = json_of(
        sb.pm()
            .args(["doctor", "--only", "state,disk,tool.ray", "--textfile-dir"])
            .arg(&dir)
            .env("PATH", bare_path(&sb))
            // The disk checks pass whatever this machine's free space, so
            // the one warning counted below is the missing ray's.
            .env("PM_DOCTOR_DISK_WARN_PERCENT", "0")
            .env("PM_DOCTOR_DISK_FAIL_PERCENT", "0"),
    );
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["textfile"], prom.display().to_string());

    let meta = std::fs::metadata(&prom).unwrap();
    assert_ne!(meta.ino(), old_inode, "a new file was renamed into place");
    assert_eq!(
        std::fs::read_to_string(&kept).unwrap(),
        "stale content\n",
        "the old file was never rewritten in place"
    );
    assert_eq!(
        meta.permissions().mode() & 0o777,
        0o644,
        "node_exporter can read it"
    );
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["old-copy", "pm.prom"],
        "no temporary file left behind"
    );

    let text = std::fs::read_to_string(&prom).unwrap();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let value_fields = line.rsplit('}').next().unwrap().split_whitespace().count();
        assert!(value_fields <= 2, "no timestamp on a sample: {line}");
    }
    let samples = parse_prometheus(&prom);
    let status = samples["pm_doctor_check_status"].as_array().unwrap();
    let one = |check: &str, status_word: &str| {
        status
            .iter()
            .find(|s| s["labels"]["check"] == check && s["labels"]["status"] == status_word)
            .unwrap_or_else(|| panic!("{check} {status_word}"))["value"]
            .as_f64()
            .unwrap()
    };
    assert_eq!(one("state.integrity", "pass"), 1.0);
    assert_eq!(one("state.integrity", "fail"), 0.0);
    assert_eq!(one("tool.ray", "warn"), 1.0);
    assert!(
        status
            .iter()
            .all(|s| s["timestamp"].is_null() && s["type"] == "gauge")
    );
    assert_eq!(samples["pm_doctor_failed"][0]["value"], 0.0);
    let checks: Vec<&Value> = samples["pm_doctor_checks"]
        .as_array()
        .unwrap()
        .iter()
        .collect();
    let warned = checks
        .iter()
        .find(|s| s["labels"]["status"] == "warn")
        .unwrap();
    assert_eq!(warned["value"], 1.0);
    assert!(
        samples["pm_filesystem_available_bytes"]
            .as_array()
            .is_some_and(|a| a.len() == 3),
        "{samples}"
    );

    // --format prom prints the same families on stdout.
    let out = sb
        .pm()
        .args(["doctor", "--only", "state", "--format", "prom"])
        .output()
        .unwrap();
    let stdout_prom = sb.path().join("stdout.prom");
    std::fs::write(&stdout_prom, &out.stdout).unwrap();
    assert!(parse_prometheus(&stdout_prom)["pm_doctor_check_status"].is_array());
}

#[test]
fn a_session_file_others_can_read_is_a_warning() {
    let sb = Sandbox::new();
    let dir = sb.path().join("run/pm");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("vault-session"), "a-session-key-for-the-test").unwrap();
    std::fs::set_permissions(
        dir.join("vault-session"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    let (doc, code) = json_of(sb.pm().args(["doctor", "--only", "vault.session"]));
    assert_eq!((code, doc["status"].as_str()), (0, Some("pass")), "{doc}");
    std::fs::set_permissions(
        dir.join("vault-session"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let (doc, code) = json_of(sb.pm().args(["doctor", "--only", "vault.session"]));
    assert_eq!((code, doc["status"].as_str()), (0, Some("warn")), "{doc}");
    assert!(
        !doc.to_string().contains("a-session-key-for-the-test"),
        "never the value"
    );
}
