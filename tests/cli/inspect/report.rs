//! `pm report` in each format, the HTML page opened in a real headless
//! Chromium (screenshot and DOM), and `pm report fleet` over the shapes in
//! which Ansible saves `pm inspect --json`.

use super::populated;
use crate::support::{Sandbox, json_of};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

#[test]
fn report_json_and_markdown_hold_the_inspection_and_the_state_lists() {
    let sb = Sandbox::new();
    let digest = populated(&sb);
    let short = &digest["sha256:".len().."sha256:".len() + 12];
    let (doc, code) = json_of(sb.pm().args(["report"]));
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["inspection"]["schema"], 1);
    assert_eq!(doc["images"][0]["id"], *short);
    assert_eq!(doc["images"][0]["verdict"], "safe");
    let commands: Vec<&str> = doc["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["command"].as_str().unwrap())
        .collect();
    assert_eq!(commands, ["image validate", "image fetch"], "newest first");

    let out = sb
        .pm()
        .args(["report", "--format", "markdown"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let md = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "# pm report: ",
        "## Checks",
        "`state.integrity`",
        "## Images (1)",
        short,
        "## Recent history",
        "`pm image fetch`",
        "## Disk space",
    ] {
        assert!(md.contains(needle), "{needle} in:\n{md}");
    }
    let (doc, code) = json_of(sb.pm().args(["report", "--format", "markdown"]));
    assert_eq!(code, 0);
    assert_eq!(doc["format"], "markdown");
    assert!(doc["content"].as_str().unwrap().contains("## Checks"));
}

/// Real headless Chromium, offline: no network beyond the file, a fresh
/// profile, no background services.
fn chromium(profile: &Path, args: &[String]) -> std::process::Output {
    let program = Path::new("/usr/bin/chromium");
    assert!(
        program.exists(),
        "Chromium is not installed: run `bash scripts/test-linux.sh` (apt package chromium)"
    );
    let out = std::process::Command::new(program)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .expect("run chromium");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The DOM of `page` after Chromium loaded it, and a screenshot's size.
fn open_in_chromium(page: &Path, work: &Path) -> (String, (u32, u32)) {
    let url = format!("file://{}", page.display());
    let dom = chromium(
        &work.join("profile-dom"),
        &["--dump-dom".to_string(), url.clone()],
    );
    let shot = work.join("shot.png");
    chromium(
        &work.join("profile-shot"),
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1280,2000".to_string(),
            url,
        ],
    );
    let png = std::fs::read(&shot).expect("a screenshot was taken");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
    let be = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
    assert!(
        png.len() > 10_000,
        "the page rendered something: {} bytes",
        png.len()
    );
    (String::from_utf8(dom.stdout).unwrap(), (be(16), be(20)))
}

#[test]
fn the_html_report_opens_in_headless_chromium() {
    let sb = Sandbox::new();
    let digest = populated(&sb);
    let page = sb.path().join("report.html");
    let (doc, code) = json_of(
        sb.pm()
            .args(["report", "--format", "html", "-o"])
            .arg(&page),
    );
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["format"], "html");
    let html = std::fs::read_to_string(&page).unwrap();
    for external in ["<script", "<link", "src=", "href=", "url(", "@import"] {
        assert!(!html.contains(external), "self-contained: no {external}");
    }
    let (dom, size) = open_in_chromium(&page, sb.path());
    assert_eq!(size, (1280, 2000));
    let hostname = doc_hostname(&sb);
    for needle in [
        format!("<title>pm report: {hostname}</title>"),
        "<h2>Checks</h2>".to_string(),
        "<code>state.integrity</code>".to_string(),
        "<h2>Disk space</h2>".to_string(),
        "role=\"meter\"".to_string(),
        "<h2>Images (1)</h2>".to_string(),
        format!("<code>{}</code>", &digest[7..19]),
        "<code>pm image validate</code>".to_string(),
    ] {
        assert!(dom.contains(&needle), "{needle} in the DOM");
    }
}

fn doc_hostname(sb: &Sandbox) -> String {
    let (doc, _) = json_of(sb.pm().arg("inspect"));
    doc["hostname"].as_str().unwrap().to_string()
}

/// A real inspection of this sandbox, edited into another host's.
fn host_doc(sb: &Sandbox, name: &str, data_percent: f64, failing: Option<&str>) -> Value {
    let (mut doc, _) = json_of(sb.pm().arg("inspect"));
    doc["hostname"] = json!(name);
    doc["pool"]["configured"] = json!(true);
    doc["pool"]["kernel"] = json!({"active": true, "thin_devices": 2, "usage": {
        "data_percent": data_percent, "metadata_percent": 12.5, "health": "good"}});
    let findings = doc["checks"]["findings"].as_array_mut().unwrap();
    for f in findings.iter_mut() {
        f["status"] = json!("pass");
    }
    if let Some(id) = failing {
        let f = findings.iter_mut().find(|f| f["id"] == id).unwrap();
        f["status"] = json!("fail");
        f["message"] = json!(format!("{id} failed on {name}"));
    }
    doc
}

fn fleet_files(sb: &Sandbox) -> PathBuf {
    let dir = sb.path().join("facts");
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, v: &Value| std::fs::write(dir.join(name), v.to_string()).unwrap();
    // `pm inspect --json > web-1.json`
    write("web-1.json", &host_doc(sb, "web-1", 42.5, None));
    // `ansible -m setup --tree facts/` with the pm.fact local fact
    write(
        "db-1",
        &json!({"ansible_facts": {"ansible_local": {"pm": host_doc(sb, "db-1", 95.0, Some("pool.data_usage"))}}}),
    );
    // a saved `command: pm inspect --json` result
    let doc = host_doc(sb, "gpu-1", 10.0, None);
    write(
        "gpu-1.json",
        &json!({"changed": false, "rc": 0, "stdout": doc.to_string()}),
    );
    std::fs::write(dir.join("broken.json"), "{not json").unwrap();
    dir
}

#[test]
fn fleet_merges_hosts_from_ansible_and_flags_the_failing_ones() {
    let sb = Sandbox::new();
    let dir = fleet_files(&sb);
    let (doc, code) = json_of(sb.pm().args(["report", "fleet"]).arg(&dir));
    assert_eq!(code, 0, "{doc}");
    assert_eq!(
        doc["counts"],
        json!({"hosts": 4, "failing": 1, "warning": 0, "unreadable": 1})
    );
    assert_eq!(doc["failing_hosts"], json!(["broken", "db-1"]));
    let hosts: Vec<&str> = doc["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["host"].as_str().unwrap())
        .collect();
    assert_eq!(
        hosts,
        ["broken", "db-1", "gpu-1", "web-1"],
        "failing first, then by name"
    );
    let db = &doc["hosts"][1];
    assert_eq!(db["failing"], json!(["pool.data_usage"]));
    assert_eq!(db["pool_data_percent"], 95.0);
    assert!(
        doc["hosts"][0]["problem"]
            .as_str()
            .unwrap()
            .contains("not JSON")
    );

    let out = sb
        .pm()
        .args(["report", "fleet", "--format", "markdown"])
        .arg(dir.join("web-1.json"))
        .arg(dir.join("db-1"))
        .output()
        .unwrap();
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(
        md.contains("| `db-1` | ✗ FAIL | `pool.data_usage` |"),
        "{md}"
    );
    assert!(
        md.contains("## Failing checks") && md.contains("pool.data_usage failed on db-1"),
        "{md}"
    );

    let (doc, code) = json_of(
        sb.pm()
            .args(["report", "fleet"])
            .arg(sb.path().join("nope.json")),
    );
    assert_eq!(code, 4, "a file that does not exist: {doc}");
}

#[test]
fn the_fleet_page_draws_pool_usage_as_bars_in_chromium() {
    let sb = Sandbox::new();
    let dir = fleet_files(&sb);
    let page = sb.path().join("fleet.html");
    let (doc, code) = json_of(
        sb.pm()
            .args(["report", "fleet", "--format", "html", "-o"])
            .arg(&page)
            .arg(&dir),
    );
    assert_eq!(code, 0, "{doc}");
    let (dom, _) = open_in_chromium(&page, sb.path());
    assert!(dom.contains("<title>pm fleet report</title>"));
    assert!(
        dom.contains("aria-valuenow=\"42.5\"") && dom.contains("width: 42.5%"),
        "web-1's bar"
    );
    assert!(
        dom.contains("<span class=\"bar fail\"") && dom.contains("aria-valuenow=\"95.0\""),
        "db-1's failing bar"
    );
    assert!(
        dom.contains("<tr class=\"fail\"><td><code>db-1</code>"),
        "the failing host's row is flagged"
    );
    assert!(
        dom.contains(">42.5%</span>"),
        "the number is written beside the bar"
    );
}
