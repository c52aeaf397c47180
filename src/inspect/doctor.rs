//! `pm doctor`: which checks run (`--only`, `--skip`), the verdict over
//! their findings, the exit code it gives, and its Prometheus rendering.
//!
//! Three outcomes are kept apart, for cron and monitoring: no check failed
//! (warnings allowed) exits 0; a check failed (or, with `--strict`, warned)
//! exits 9, "precondition not met", with the verdict printed as a result;
//! doctor itself could not run exits 1 (`doctor_could_not_run`), or 2 for a
//! wrong command line. A check cannot make doctor fail to run: a fact that
//! cannot be read is a finding.

use super::Facts;
use super::Section;
use super::checks::{CHECKS, Check, Finding, Status};
use crate::error::{ExitCode, PmError};
use anyhow::Result;
use schemars::JsonSchema;
use serde::Serialize;
use std::fmt::Write as _;

pub fn all_checks() -> Vec<&'static Check> {
    CHECKS.iter().collect()
}

/// An id names one check, or a group by its prefix: `tool` is every
/// `tool.*` check, `pool` every `pool.*`.
fn names(pattern: &str, id: &str) -> bool {
    id == pattern
        || id
            .strip_prefix(pattern)
            .is_some_and(|rest| rest.starts_with('.'))
}

/// `--only a,b --only c` → `[a, b, c]`.
fn split(values: &[String]) -> Vec<String> {
    values
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .collect()
}

/// The checks `--only` and `--skip` leave. An id that names no check is a
/// usage error: a typo must not silently skip nothing.
pub fn select(only: &[String], skip: &[String]) -> Result<Vec<&'static Check>> {
    let (only, skip) = (split(only), split(skip));
    if let Some(unknown) = only
        .iter()
        .chain(&skip)
        .find(|p| !CHECKS.iter().any(|c| names(p, c.id)))
    {
        return Err(PmError::usage(
            format!("no check is named {unknown:?}"),
            Some("`pm doctor --list` shows every check id".to_string()),
        )
        .into());
    }
    Ok(CHECKS
        .iter()
        .filter(|c| only.is_empty() || only.iter().any(|p| names(p, c.id)))
        .filter(|c| !skip.iter().any(|p| names(p, c.id)))
        .collect())
}

#[derive(Clone, Debug, Default, Serialize, JsonSchema)]
#[schemars(rename = "FindingCounts")]
pub struct Counts {
    pub pass: usize,
    pub warn: usize,
    pub fail: usize,
}

/// The findings and what they add up to.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[schemars(rename = "DoctorVerdict")]
pub struct Verdict {
    /// The worst finding (`pass` when no check ran).
    pub status: Status,
    /// Whether warnings count as failures (`--strict`).
    pub strict: bool,
    /// The exit code of `pm doctor` for this verdict: 0 or 9.
    pub exit_code: u8,
    pub counts: Counts,
    /// The checks that make the verdict fail.
    pub failed: Vec<&'static str>,
    pub findings: Vec<Finding>,
}

pub fn judge(facts: &Facts, checks: &[&Check], strict: bool) -> Verdict {
    let findings: Vec<Finding> = checks.iter().map(|c| c.run(facts)).collect();
    let mut counts = Counts::default();
    for f in &findings {
        match f.status {
            Status::Pass => counts.pass += 1,
            Status::Warn => counts.warn += 1,
            Status::Fail => counts.fail += 1,
        }
    }
    let failing = |s: Status| s == Status::Fail || (strict && s == Status::Warn);
    let failed: Vec<&'static str> = findings
        .iter()
        .filter(|f| failing(f.status))
        .map(|f| f.id)
        .collect();
    let exit = if failed.is_empty() {
        ExitCode::Success
    } else {
        ExitCode::Precondition
    };
    Verdict {
        status: findings
            .iter()
            .map(|f| f.status)
            .max()
            .unwrap_or(Status::Pass),
        strict,
        exit_code: exit as u8,
        counts,
        failed,
        findings,
    }
}

impl Verdict {
    pub fn exit(&self) -> ExitCode {
        if self.failed.is_empty() {
            ExitCode::Success
        } else {
            ExitCode::Precondition
        }
    }

    /// One line per finding (and its hint), then the counts.
    pub fn human(&self) -> String {
        let width = self.findings.iter().map(|f| f.id.len()).max().unwrap_or(0);
        let mut out = String::new();
        for f in &self.findings {
            let _ = writeln!(
                out,
                "{:<4}  {:<width$}  {}",
                f.status.as_str(),
                f.id,
                f.message
            );
            if let (Some(hint), true) = (&f.hint, f.status != Status::Pass) {
                let _ = writeln!(out, "      {:<width$}  hint: {hint}", "");
            }
        }
        let c = &self.counts;
        let _ = writeln!(
            out,
            "{} checks: {} passed, {} warned, {} failed{}",
            self.findings.len(),
            c.pass,
            c.warn,
            c.fail,
            if self.strict {
                " (--strict: warnings fail)"
            } else {
                ""
            }
        );
        out
    }
}

/// The Prometheus text format (0.0.4): the verdict, and the facts the
/// checks gathered. No timestamps: the collector's file mtime tells how old
/// the numbers are (`node_textfile_mtime_seconds`).
pub fn prometheus(verdict: &Verdict, facts: &Facts) -> String {
    let mut p = Prom::default();
    p.family(
        "pm_doctor_check_status",
        "Outcome of each pm doctor check: 1 for its status, 0 for the others.",
    );
    for f in &verdict.findings {
        for s in Status::ALL {
            let value = if f.status == s { 1.0 } else { 0.0 };
            p.sample(
                "pm_doctor_check_status",
                &[("check", f.id), ("status", s.as_str())],
                value,
            );
        }
    }
    p.family(
        "pm_doctor_checks",
        "Number of pm doctor checks with each status.",
    );
    let c = &verdict.counts;
    for (s, n) in [("pass", c.pass), ("warn", c.warn), ("fail", c.fail)] {
        p.sample("pm_doctor_checks", &[("status", s)], n as f64);
    }
    p.family(
        "pm_doctor_failed",
        "1 when pm doctor exits 9: a check failed (or warned, with --strict).",
    );
    p.sample(
        "pm_doctor_failed",
        &[],
        if verdict.failed.is_empty() { 0.0 } else { 1.0 },
    );
    p.family("pm_doctor_duration_seconds", "How long pm doctor took.");
    p.sample(
        "pm_doctor_duration_seconds",
        &[],
        facts.elapsed_ms() as f64 / 1000.0,
    );
    p.family("pm_info", "The pm version that wrote this file.");
    p.sample("pm_info", &[("version", env!("CARGO_PKG_VERSION"))], 1.0);
    fact_metrics(&mut p, facts);
    p.0
}

fn fact_metrics(p: &mut Prom, facts: &Facts) {
    if let Some(Section::Known(pool)) = facts.pool_if_gathered()
        && let Some(u) = pool.usage()
    {
        p.family(
            "pm_pool_usage_ratio",
            "Thin pool usage as the kernel reports it (0 to 1).",
        );
        for (kind, percent) in [("data", u.data_percent), ("metadata", u.metadata_percent)] {
            p.sample(
                "pm_pool_usage_ratio",
                &[("pool", &pool.name), ("kind", kind)],
                percent / 100.0,
            );
        }
    }
    if let Some(disks) = facts.disks_if_gathered() {
        p.family(
            "pm_filesystem_available_bytes",
            "Bytes free to pm where it writes.",
        );
        for (what, d) in disks {
            if let Some(d) = d.known() {
                let path = d.measured_at.display().to_string();
                p.sample(
                    "pm_filesystem_available_bytes",
                    &[("what", what), ("path", &path)],
                    d.available_bytes as f64,
                );
            }
        }
    }
    let tools = facts.tools_if_gathered();
    if !tools.is_empty() {
        p.family("pm_tool_installed", "1 when the tool was found.");
        for t in tools {
            p.sample(
                "pm_tool_installed",
                &[("tool", t.name)],
                if t.found { 1.0 } else { 0.0 },
            );
        }
    }
    if let Some(Section::Known(i)) = facts.images_if_gathered() {
        p.family("pm_images", "Images in the store.");
        p.sample("pm_images", &[], i.count as f64);
    }
    if let Some(Section::Known(a)) = facts.activations_if_gathered() {
        p.family("pm_activations", "Activations on either backend.");
        p.sample("pm_activations", &[], a.count as f64);
    }
}

/// A Prometheus text-format writer: families of gauges.
#[derive(Default)]
struct Prom(String);

impl Prom {
    fn family(&mut self, name: &str, help: &str) {
        let help = help.replace('\\', "\\\\").replace('\n', "\\n");
        let _ = writeln!(self.0, "# HELP {name} {help}\n# TYPE {name} gauge");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.0.push_str(name);
        if !labels.is_empty() {
            let parts: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", escape_label(v)))
                .collect();
            let _ = write!(self.0, "{{{}}}", parts.join(","));
        }
        let _ = writeln!(self.0, " {value}");
    }
}

fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_name_checks_and_groups_and_unknown_ones_are_refused() {
        let ids = |only: &[&str], skip: &[&str]| -> Vec<&str> {
            let own = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
            select(&own(only), &own(skip))
                .unwrap()
                .iter()
                .map(|c| c.id)
                .collect()
        };
        assert_eq!(ids(&["state.integrity"], &[]), ["state.integrity"]);
        assert!(ids(&["tool"], &[]).iter().all(|id| id.starts_with("tool.")));
        assert_eq!(ids(&["tool"], &[]).len(), 6);
        assert_eq!(ids(&["tool.bw,state.integrity"], &["state"]), ["tool.bw"]);
        assert!(!ids(&[], &["tool"]).iter().any(|id| id.starts_with("tool.")));
        assert!(
            select(&["tool.b".to_string()], &[]).is_err(),
            "a prefix must end at a dot"
        );
        assert!(select(&[], &["nope".to_string()]).is_err());
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
