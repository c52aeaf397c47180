//! `pm report fleet FILE...`: many hosts' `pm inspect --json` documents, as
//! an Ansible run collects them, merged into one table that flags the hosts
//! whose checks fail.
//!
//! A FILE may be the document itself, Ansible's fact cache or `setup --tree`
//! output (`ansible_facts.ansible_local.pm`, from the `pm.fact` local fact),
//! a saved `command` result whose `stdout` is the document, or a folder of
//! such files. Fields are read by name, so documents from other pm versions
//! merge as far as they share fields; a file that holds no inspection is a
//! flagged row, not an error.

use crate::error::PmError;
use crate::inspect::SCHEMA_VERSION;
use crate::inspect::checks::Status;
use crate::inspect::doctor::Counts;
use anyhow::Result;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Inspection documents are a few kB; anything far larger is not one.
const MAX_DOCUMENT_BYTES: u64 = 16 << 20;

#[derive(Serialize, JsonSchema)]
pub struct Fleet {
    pub counts: FleetCounts,
    /// Hosts with a failing check or an unreadable document.
    pub failing_hosts: Vec<String>,
    /// Failing hosts first, then by name.
    pub hosts: Vec<FleetHost>,
}

#[derive(Default, Serialize, JsonSchema)]
pub struct FleetCounts {
    pub hosts: usize,
    pub failing: usize,
    pub warning: usize,
    pub unreadable: usize,
}

#[derive(Serialize, JsonSchema)]
pub struct FleetHost {
    pub host: String,
    pub file: PathBuf,
    /// `fail` when a check failed or the document is unreadable.
    pub status: Status,
    pub readable: bool,
    pub schema: Option<u64>,
    pub pm_version: Option<String>,
    pub collected_at: Option<String>,
    pub system: Option<String>,
    pub kernel: Option<String>,
    pub pool_data_percent: Option<f64>,
    pub pool_metadata_percent: Option<f64>,
    pub min_disk_free_percent: Option<f64>,
    pub images: Option<u64>,
    pub activations: Option<u64>,
    pub network: Option<String>,
    pub counts: Counts,
    pub failing: Vec<String>,
    pub warning: Vec<String>,
    pub findings: Vec<FleetFinding>,
    pub problem: Option<String>,
}

#[derive(Serialize, JsonSchema)]
pub struct FleetFinding {
    pub id: String,
    pub status: Status,
    pub message: String,
}

impl FleetHost {
    /// The status of one check on this host (`pass` when not reported).
    pub fn check_status(&self, id: &str) -> Status {
        self.findings
            .iter()
            .find(|f| f.id == id)
            .map_or(Status::Pass, |f| f.status)
    }
}

/// Reads every FILE (a folder: each file in it, sorted).
pub fn read(files: &[PathBuf]) -> Result<Fleet> {
    let mut hosts = Vec::new();
    for path in expand(files)? {
        hosts.push(host_of(&path));
    }
    hosts.sort_by(|a, b| b.status.cmp(&a.status).then_with(|| a.host.cmp(&b.host)));
    let mut counts = FleetCounts {
        hosts: hosts.len(),
        ..FleetCounts::default()
    };
    for h in &hosts {
        match (h.readable, h.status) {
            (false, _) => counts.unreadable += 1,
            (true, Status::Fail) => counts.failing += 1,
            (true, Status::Warn) => counts.warning += 1,
            (true, Status::Pass) => {}
        }
    }
    let failing_hosts = hosts
        .iter()
        .filter(|h| h.status == Status::Fail)
        .map(|h| h.host.clone())
        .collect();
    Ok(Fleet {
        counts,
        failing_hosts,
        hosts,
    })
}

fn expand(files: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for path in files {
        if path.is_dir() {
            let mut inside: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| PmError::io(format!("cannot list {}", path.display()), e))?
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect();
            inside.sort();
            out.extend(inside);
        } else if path.exists() {
            out.push(path.clone());
        } else {
            return Err(PmError::not_found(
                format!("file {}", path.display()),
                Some("give `pm inspect --json` documents, or folders of them".to_string()),
            )
            .into());
        }
    }
    Ok(out)
}

fn host_of(path: &Path) -> FleetHost {
    let fallback = path.file_stem().map_or_else(
        || path.display().to_string(),
        |s| s.to_string_lossy().into_owned(),
    );
    match load(path) {
        Ok(doc) => from_inspection(path, &fallback, &doc),
        Err(why) => unreadable(path, fallback, why),
    }
}

fn load(path: &Path) -> std::result::Result<Value, String> {
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_DOCUMENT_BYTES).read_to_string(&mut text))
        .map_err(|e| format!("cannot read it: {e}"))?;
    let doc: Value = serde_json::from_str(&text).map_err(|e| format!("not JSON: {e}"))?;
    if let Some(err) = doc.get("error") {
        return Err(format!(
            "pm inspect failed there ({}): {}",
            err["code"].as_str().unwrap_or("?"),
            err["message"].as_str().unwrap_or("")
        ));
    }
    inspection_in(&doc).ok_or_else(|| "holds no pm inspect document".to_string())
}

/// The inspection inside what Ansible saved, at any of its usual places.
fn inspection_in(doc: &Value) -> Option<Value> {
    if doc.get("schema").is_some() && doc.get("checks").is_some() {
        return Some(doc.clone());
    }
    for pointer in [
        "/ansible_facts/ansible_local/pm",
        "/ansible_local/pm",
        "/pm",
    ] {
        if let Some(found) = doc.pointer(pointer).and_then(inspection_in) {
            return Some(found);
        }
    }
    let stdout = doc.get("stdout")?.as_str()?;
    inspection_in(&serde_json::from_str(stdout).ok()?)
}

fn unreadable(path: &Path, host: String, why: String) -> FleetHost {
    FleetHost {
        host,
        file: path.to_path_buf(),
        status: Status::Fail,
        readable: false,
        schema: None,
        pm_version: None,
        collected_at: None,
        system: None,
        kernel: None,
        pool_data_percent: None,
        pool_metadata_percent: None,
        min_disk_free_percent: None,
        images: None,
        activations: None,
        network: None,
        counts: Counts::default(),
        failing: Vec::new(),
        warning: Vec::new(),
        findings: Vec::new(),
        problem: Some(why),
    }
}

fn text(v: &Value) -> Option<String> {
    v.as_str().filter(|s| !s.is_empty()).map(str::to_string)
}

fn from_inspection(path: &Path, fallback: &str, doc: &Value) -> FleetHost {
    let findings = findings_of(doc);
    let ids = |s: Status| -> Vec<String> {
        findings
            .iter()
            .filter(|f| f.status == s)
            .map(|f| f.id.clone())
            .collect()
    };
    let (failing, warning) = (ids(Status::Fail), ids(Status::Warn));
    let counts = Counts {
        pass: findings.len() - failing.len() - warning.len(),
        warn: warning.len(),
        fail: failing.len(),
    };
    let schema = doc["schema"].as_u64();
    let problem = schema
        .filter(|s| *s > u64::from(SCHEMA_VERSION))
        .map(|s| format!("written by a newer pm (document schema {s}); fields may be missing"));
    FleetHost {
        host: text(&doc["hostname"]).unwrap_or_else(|| fallback.to_string()),
        file: path.to_path_buf(),
        status: findings
            .iter()
            .map(|f| f.status)
            .max()
            .unwrap_or(Status::Pass),
        readable: true,
        schema,
        pm_version: text(&doc["pm_version"]),
        collected_at: text(&doc["collected_at"]),
        system: text(&doc["host"]["distro"]["pretty_name"]).or_else(|| text(&doc["host"]["os"])),
        kernel: text(&doc["host"]["kernel"]["release"]),
        pool_data_percent: doc
            .pointer("/pool/kernel/usage/data_percent")
            .and_then(Value::as_f64),
        pool_metadata_percent: doc
            .pointer("/pool/kernel/usage/metadata_percent")
            .and_then(Value::as_f64),
        min_disk_free_percent: min_disk_free(doc),
        images: doc.pointer("/images/count").and_then(Value::as_u64),
        activations: doc.pointer("/activations/count").and_then(Value::as_u64),
        network: network_of(doc),
        counts,
        failing,
        warning,
        findings,
        problem,
    }
}

fn findings_of(doc: &Value) -> Vec<FleetFinding> {
    let status = |s: &str| match s {
        "fail" => Status::Fail,
        "warn" => Status::Warn,
        _ => Status::Pass,
    };
    doc.pointer("/checks/findings")
        .and_then(Value::as_array)
        .map(|all| {
            all.iter()
                .map(|f| FleetFinding {
                    id: text(&f["id"]).unwrap_or_default(),
                    status: status(f["status"].as_str().unwrap_or("")),
                    message: text(&f["message"]).unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn min_disk_free(doc: &Value) -> Option<f64> {
    doc.get("disks")?
        .as_object()?
        .values()
        .filter_map(|d| d["free_percent"].as_f64())
        .min_by(f64::total_cmp)
}

fn network_of(doc: &Value) -> Option<String> {
    let n = doc.get("network")?;
    if n["configured"] == Value::Bool(false) {
        return Some("not configured".to_string());
    }
    let state = text(&n["backend_state"]).unwrap_or_else(|| text(&n["daemon"]).unwrap_or_default());
    let ips = n["tailscale_ips"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    Some(if ips.is_empty() {
        state
    } else {
        format!("{state} ({ips})")
    })
}
