//! `pm play PLAYBOOK [-- ARGS]`: ansible-playbook, only over a network that
//! is up (SPEC §5).
//!
//! The gate is `pm net status`'s own judgment ([`net::require_running`]):
//! Running with a Tailscale IP, or the precondition error, and then no
//! ansible process is started at all. A playbook that runs and fails is
//! `play_failed` (exit 10), with ansible-playbook's code in `ansible_rc`:
//! its own codes (1 to 250) would collide with pm's table.

pub mod ansible;

use crate::context::Context;
use crate::error::PmError;
use crate::net;
use ansible::{FailedTask, HostRecap, Recap};
use anyhow::Result;
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

/// What to run.
#[derive(Clone, Debug)]
pub struct PlayOptions {
    pub playbook: PathBuf,
    /// Passed to ansible-playbook after the playbook.
    pub args: Vec<String>,
    /// `--dry-run`: ansible's check mode (`--check`).
    pub check: bool,
}

/// The network the playbook ran over.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Network {
    pub backend_state: Option<String>,
    pub ips: Vec<String>,
    pub hostname: Option<String>,
}

/// A playbook that ran and succeeded.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Played {
    /// Some host reported a change.
    pub changed: bool,
    pub dry_run: bool,
    pub playbook: PathBuf,
    pub ansible_rc: i32,
    /// Per host: ok, changed, unreachable, failed, skipped, rescued, ignored.
    pub recap: BTreeMap<String, HostRecap>,
    pub failed_tasks: Vec<FailedTask>,
    pub network: Network,
    pub duration_ms: u64,
}

pub fn play(ctx: &mut Context, options: &PlayOptions) -> Result<Played> {
    let status = net::require_running(ctx)?;
    if !options.playbook.is_file() {
        return Err(PmError::not_found(
            format!("playbook {}", options.playbook.display()),
            Some(
                "give the path of a playbook file (relative to the current directory)".to_string(),
            ),
        )
        .into());
    }
    let mut args = options.args.clone();
    if options.check {
        args.push("--check".to_string());
    }
    let started = Instant::now();
    let ran = ansible::run(&ctx.config, &options.playbook, &args, ctx.quiet)?;
    tracing::info!(rc = ran.rc, hosts = ran.recap.hosts.len(), "play_complete");
    if ran.rc != 0 {
        return Err(PmError::PlayFailed {
            playbook: options.playbook.display().to_string(),
            rc: ran.rc,
            summary: summary(&ran.recap),
            recap: serde_json::to_value(&ran.recap.hosts)?,
        }
        .into());
    }
    Ok(Played {
        changed: ran.recap.hosts.values().any(|h| h.changed > 0),
        dry_run: options.check,
        playbook: options.playbook.clone(),
        ansible_rc: ran.rc,
        recap: ran.recap.hosts,
        failed_tasks: ran.recap.failed_tasks,
        network: Network {
            backend_state: status.backend_state,
            ips: status.ips,
            hostname: status.hostname,
        },
        duration_ms: started.elapsed().as_millis() as u64,
    })
}

/// `host: ok=1 changed=0 unreachable=0 failed=1 skipped=0`, a line each,
/// then the tasks that failed.
pub fn summary(recap: &Recap) -> String {
    let mut lines: Vec<String> = recap
        .hosts
        .iter()
        .map(|(host, r)| format!("{host}: {}", counts(r)))
        .collect();
    lines.extend(
        recap
            .failed_tasks
            .iter()
            .map(|t| format!("{} on {}: {}", t.status, t.host, t.task)),
    );
    lines.join("\n")
}

pub fn counts(r: &HostRecap) -> String {
    format!(
        "ok={} changed={} unreachable={} failed={} skipped={}",
        r.ok, r.changed, r.unreachable, r.failed, r.skipped
    )
}
