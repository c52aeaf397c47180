//! `pm doctor`'s checks: each a stable id, a line saying what it checks,
//! and a function from the facts to a finding. A check asks the facts for
//! the sections it judges and nothing else, and knows what "already done"
//! looks like (no pool on a dir-backend host is not a problem).
//!
//! Ids are stable: scripts, `--only`/`--skip` and Prometheus alerts name
//! them. A new check is one entry in [`CHECKS`].

use super::{Facts, Section, human_bytes};
use crate::config::key;
use schemars::JsonSchema;
use serde::Serialize;

/// pass < warn < fail: the worst finding decides doctor's exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    Warn,
    Fail,
}

impl Status {
    pub const ALL: [Status; 3] = [Status::Pass, Status::Warn, Status::Fail];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
        }
    }
}

/// What a check found.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Finding {
    pub id: &'static str,
    pub status: Status,
    pub message: String,
    pub hint: Option<String>,
}

/// A finding before its check's id is attached.
pub struct Judged {
    status: Status,
    message: String,
    hint: Option<String>,
}

fn pass(message: impl Into<String>) -> Judged {
    Judged {
        status: Status::Pass,
        message: message.into(),
        hint: None,
    }
}

fn warn(message: impl Into<String>, hint: impl Into<String>) -> Judged {
    Judged {
        status: Status::Warn,
        message: message.into(),
        hint: Some(hint.into()),
    }
}

fn fail(message: impl Into<String>, hint: impl Into<String>) -> Judged {
    Judged {
        status: Status::Fail,
        message: message.into(),
        hint: Some(hint.into()),
    }
}

/// A warning that is a failure when `failing`.
fn warn_or_fail(failing: bool, message: String, hint: String) -> Judged {
    if failing {
        fail(message, hint)
    } else {
        warn(message, hint)
    }
}

pub struct Check {
    pub id: &'static str,
    /// What it checks, for `pm doctor --list`.
    pub about: &'static str,
    run: fn(&Facts) -> Judged,
}

impl Check {
    pub fn run(&self, facts: &Facts) -> Finding {
        let j = (self.run)(facts);
        Finding {
            id: self.id,
            status: j.status,
            message: crate::secret::redact(&j.message).into_owned(),
            hint: j.hint,
        }
    }
}

pub static CHECKS: &[Check] = &[
    Check {
        id: "state.integrity",
        about: "the state database opens, its schema is known and PRAGMA integrity_check is ok",
        run: state_integrity,
    },
    Check {
        id: "state.intents",
        about: "no change to volumes or the pool was left half-done by a crash",
        run: state_intents,
    },
    Check {
        id: "state.locks",
        about: "no pm lock has been held longer than doctor.lock_warn_age",
        run: state_locks,
    },
    Check {
        id: "disk.state",
        about: "free space and inodes where the state file lives",
        run: |f| disk(f, "state"),
    },
    Check {
        id: "disk.images",
        about: "free space and inodes for the image store",
        run: |f| disk(f, "images"),
    },
    Check {
        id: "disk.volumes",
        about: "free space and inodes for the dir backend's volumes",
        run: |f| disk(f, "volumes"),
    },
    Check {
        id: "dm.support",
        about: "device-mapper can carry the thin backend where pm needs it",
        run: dm_support,
    },
    Check {
        id: "pool.kernel",
        about: "the recorded thin pool is active and healthy in the kernel",
        run: pool_kernel,
    },
    Check {
        id: "pool.data_usage",
        about: "thin pool data usage is below pool.max_data_percent",
        run: |f| pool_usage(f, Usage::Data),
    },
    Check {
        id: "pool.metadata_usage",
        about: "thin pool metadata usage is below pool.max_metadata_percent",
        run: |f| pool_usage(f, Usage::Metadata),
    },
    Check {
        id: "tool.bw",
        about: "the Bitwarden CLI is installed and answers (pm vault)",
        run: |f| tool(f, "bw"),
    },
    Check {
        id: "tool.tailscale",
        about: "the tailscale CLI is installed and answers (pm net)",
        run: |f| tool(f, "tailscale"),
    },
    Check {
        id: "tool.tailscaled",
        about: "the tailscale daemon is installed and answers (pm net)",
        run: |f| tool(f, "tailscaled"),
    },
    Check {
        id: "tool.ansible-playbook",
        about: "ansible-playbook is installed and answers (pm play)",
        run: |f| tool(f, "ansible-playbook"),
    },
    Check {
        id: "tool.ray",
        about: "the ray CLI is installed and answers (pm provider)",
        run: |f| tool(f, "ray"),
    },
    Check {
        id: "tool.mkfs.ext4",
        about: "mkfs.ext4 is installed (needed by the thin backend)",
        run: |f| tool(f, "mkfs.ext4"),
    },
    Check {
        id: "vault.session",
        about: "a cached vault session file is owner-only, so pm uses it",
        run: vault_session,
    },
    Check {
        id: "net.status",
        about: "tailscale is connected, where it is installed",
        run: net_status,
    },
    Check {
        id: "provider.onboarding",
        about: "a registered provider's onboarding did not stop at a failed step",
        run: provider_onboarding,
    },
];

fn state_integrity(f: &Facts) -> Judged {
    let s = match f.state() {
        Section::Known(s) => s,
        Section::Unavailable { unavailable } => {
            return fail(
                format!("the state cannot be read: {unavailable}"),
                "restore the file from a `pm state backup` copy, or upgrade pm if it is newer",
            );
        }
    };
    if !s.exists {
        return pass(format!(
            "no state file at {} yet (a fresh host)",
            s.path.display()
        ));
    }
    if s.integrity != "ok" {
        return fail(
            format!("PRAGMA integrity_check found: {}", s.integrity),
            "stop pm commands and restore from a `pm state backup` copy",
        );
    }
    pass(format!(
        "{} is healthy (schema {}, {})",
        s.path.display(),
        s.schema_version,
        human_bytes(s.file_bytes)
    ))
}

fn state_intents(f: &Facts) -> Judged {
    let Some(s) = f.state().known() else {
        return warn(
            "cannot read the state (see state.integrity)",
            "fix state.integrity first",
        );
    };
    if s.open_intents.is_empty() {
        return pass("no interrupted changes");
    }
    let ops: Vec<String> = s
        .open_intents
        .iter()
        .map(|i| format!("{} ({})", i.op, i.backend))
        .collect();
    warn(
        format!("{} interrupted change(s): {}", ops.len(), ops.join(", ")),
        "the next `pm image activate|deactivate` or `pm pool` command reconciles them",
    )
}

fn state_locks(f: &Facts) -> Judged {
    let Some(s) = f.state().known() else {
        return warn(
            "cannot read the state (see state.integrity)",
            "fix state.integrity first",
        );
    };
    let limit = f.config().int(key::DOCTOR_LOCK_WARN_AGE).max(0) as u64;
    let stuck: Vec<String> = s
        .locks
        .iter()
        .filter_map(|l| {
            let h = l.holder.as_ref()?;
            (h.held_secs > limit).then(|| {
                format!(
                    "the {} lock by pid {} ({}) for {} s",
                    l.what, h.pid, h.command, h.held_secs
                )
            })
        })
        .collect();
    if stuck.is_empty() {
        let held = s.locks.iter().filter(|l| l.held == Some(true)).count();
        return pass(format!("{held} of pm's locks held now, none for long"));
    }
    warn(
        format!("held for long: {}", stuck.join("; ")),
        "a pm command may be stuck; look at that process before killing it",
    )
}

fn disk(f: &Facts, what: &str) -> Judged {
    let config = f.config();
    let warn_at = config.int(key::DOCTOR_DISK_WARN_PERCENT) as f64;
    let fail_at = config.int(key::DOCTOR_DISK_FAIL_PERCENT) as f64;
    let d = match f.disk(what) {
        Some(Section::Known(d)) => d,
        Some(Section::Unavailable { unavailable }) => {
            return warn(
                format!("cannot measure: {unavailable}"),
                "check the path and its permissions",
            );
        }
        None => return warn("not measured", "this is a bug in pm"),
    };
    let free = d.free_percent.min(d.free_inodes_percent.unwrap_or(100.0));
    let message = format!(
        "{:.1}% free ({} of {}){} at {}",
        d.free_percent,
        human_bytes(d.available_bytes),
        human_bytes(d.total_bytes),
        d.free_inodes_percent
            .map_or(String::new(), |i| format!(", {i:.1}% inodes free")),
        d.measured_at.display()
    );
    let hint = format!(
        "free space on {} (`pm image gc`, `pm state prune`), or lower doctor.disk_{}_percent",
        d.measured_at.display(),
        if free < fail_at { "fail" } else { "warn" }
    );
    if free < fail_at {
        fail(message, hint)
    } else if free < warn_at {
        warn(message, hint)
    } else {
        pass(message)
    }
}

fn dm_support(f: &Facts) -> Judged {
    let dm = f.device_mapper();
    let pool_recorded = f.pool().known().is_some_and(|p| p.configured);
    let backend = f.config().choice(key::POOL_BACKEND);
    if dm.usable {
        return pass(format!("usable (thin-pool target {})", dm.thin_pool_target));
    }
    let why = dm.problem.clone().unwrap_or_else(|| "unknown".to_string());
    let hint = "load dm-thin-pool (modprobe dm-thin-pool) and run pm as root, or set pool.backend = \"dir\"";
    match (backend, pool_recorded) {
        (_, true) => fail(
            format!("a thin pool is recorded but device-mapper is not usable: {why}"),
            hint,
        ),
        ("thin", false) => fail(
            format!("pool.backend is thin but device-mapper is not usable: {why}"),
            hint,
        ),
        ("dir", false) => pass("not needed (pool.backend = dir)"),
        _ => pass(format!(
            "not usable here, so activations use the dir backend: {why}"
        )),
    }
}

fn pool_kernel(f: &Facts) -> Judged {
    let p = match f.pool() {
        Section::Known(p) => p,
        Section::Unavailable { unavailable } => {
            return warn(
                format!("cannot read the pool record: {unavailable}"),
                "fix state.integrity first",
            );
        }
    };
    let Some(kernel) = &p.kernel else {
        return pass(format!("no thin pool is recorded (pool.name = {})", p.name));
    };
    let k = match kernel {
        Section::Known(k) => k,
        Section::Unavailable { unavailable } => {
            return fail(
                format!("cannot ask the kernel about {}-pool: {unavailable}", p.name),
                "run pm doctor as root",
            );
        }
    };
    if !k.active {
        return warn(
            format!(
                "{}-pool is recorded but not active in the kernel (a reboot?)",
                p.name
            ),
            "the next `pm pool` or `pm image activate` command sets it up again",
        );
    }
    match &k.usage {
        Some(u) if u.health != "good" || u.needs_check => fail(
            format!(
                "{}-pool is {}{}",
                p.name,
                u.health,
                if u.needs_check { ", needs_check" } else { "" }
            ),
            "the pool needs repair (thin_check / thin_repair) before pm can use it",
        ),
        _ => pass(format!(
            "{}-pool is active with {} thin device(s)",
            p.name, k.thin_devices
        )),
    }
}

#[derive(Clone, Copy)]
enum Usage {
    Data,
    Metadata,
}

fn pool_usage(f: &Facts, which: Usage) -> Judged {
    let Some(p) = f.pool().known() else {
        return warn(
            "cannot read the pool record (see state.integrity)",
            "fix state.integrity first",
        );
    };
    if !p.configured {
        return pass("no thin pool is recorded");
    }
    let Some(u) = p.usage() else {
        return warn(
            "the pool's usage is unknown (see pool.kernel)",
            "fix pool.kernel first",
        );
    };
    let (what, percent, limit, key) = match which {
        Usage::Data => (
            "data",
            u.data_percent,
            p.max_data_percent,
            "pool.max_data_percent",
        ),
        Usage::Metadata => (
            "metadata",
            u.metadata_percent,
            p.max_metadata_percent,
            "pool.max_metadata_percent",
        ),
    };
    let margin = f.config().int(key::DOCTOR_POOL_WARN_MARGIN) as f64;
    let message = format!("{what} {percent:.1}% used (pm refuses new volumes above {limit}%)");
    let hint = format!(
        "deactivate what is no longer needed and `pm image gc`, grow the pool, or raise {key}"
    );
    if percent > limit as f64 {
        fail(message, hint)
    } else if percent > limit as f64 - margin {
        warn(message, hint)
    } else {
        pass(message)
    }
}

/// Whether the host needs the tool: named in `doctor.required_tools`, or
/// mkfs.ext4 where the thin backend is in use.
fn required(f: &Facts, name: &str) -> bool {
    let listed = required_tools(f.config().string(key::DOCTOR_REQUIRED_TOOLS))
        .iter()
        .any(|t| t == name);
    let thin = name == "mkfs.ext4"
        && (f.config().choice(key::POOL_BACKEND) == "thin"
            || f.pool().known().is_some_and(|p| p.configured));
    listed || thin
}

/// `bw, ray` → `["bw", "ray"]`.
pub fn required_tools(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

fn tool(f: &Facts, name: &str) -> Judged {
    let Some(t) = f.tool(name) else {
        return fail(
            format!("pm does not know the tool {name}"),
            "this is a bug in pm",
        );
    };
    let needed = required(f, name);
    let setting = t
        .config_key
        .map_or(String::new(), |k| format!(", or point {k} at it"));
    if !t.found {
        let why = if needed {
            "this host needs it for"
        } else {
            "used by"
        };
        return warn_or_fail(
            needed,
            format!("{name} is not installed ({why} {})", t.purpose),
            format!("install {name}{setting}"),
        );
    }
    let at = t
        .program
        .as_ref()
        .map_or(String::new(), |p| format!(" at {}", p.display()));
    match (&t.version, &t.problem) {
        (Some(v), _) => pass(format!("{name} {v}{at}")),
        (None, problem) => warn_or_fail(
            needed
                && problem
                    .as_deref()
                    .is_some_and(|p| p.contains("cannot start")),
            format!(
                "{name}{at} did not say its version: {}",
                problem.as_deref().unwrap_or("unknown")
            ),
            format!(
                "run `{} {}` by hand; reinstall it if it fails",
                t.configured,
                version_args(name)
            ),
        ),
    }
}

fn version_args(name: &str) -> String {
    super::tools::def(name).map_or(String::new(), |d| d.version_args().join(" "))
}

fn vault_session(f: &Facts) -> Judged {
    let v = f.vault();
    match (v.session_cached, v.session_file_safe) {
        (false, _) | (_, None) => {
            pass(format!("no session cached at {}", v.session_file.display()))
        }
        (true, Some(true)) => pass(format!(
            "a session is cached at {} (owner-only)",
            v.session_file.display()
        )),
        (true, Some(false)) => warn(
            format!(
                "{} is readable by others or not ours: pm ignores it",
                v.session_file.display()
            ),
            "remove it and run `pm vault unlock` again",
        ),
    }
}

fn net_status(f: &Facts) -> Judged {
    let n = f.network();
    let needed = required(f, "tailscale") || required(f, "tailscaled");
    if !n.configured {
        return if needed {
            fail(
                "tailscale is not installed",
                "install tailscale, or point net.tailscale_path at it",
            )
        } else {
            pass("not configured (tailscale is not installed)")
        };
    }
    if n.connected {
        let name = n
            .dns_name
            .as_deref()
            .or(n.hostname.as_deref())
            .unwrap_or("?");
        return pass(format!(
            "Running as {name} ({})",
            n.tailscale_ips.join(", ")
        ));
    }
    let state = n.backend_state.as_deref().unwrap_or(n.daemon);
    let mut message = format!("not connected ({state})");
    if let Some(problem) = &n.problem {
        message.push_str(&format!(": {problem}"));
    }
    if !n.health.is_empty() {
        message.push_str(&format!("; tailscale says: {}", n.health.join(" ")));
    }
    warn_or_fail(
        needed,
        message,
        "run `pm net up` (or `pm net status` for details)".to_string(),
    )
}

fn provider_onboarding(f: &Facts) -> Judged {
    let p = match f.provider() {
        Section::Known(p) => p,
        Section::Unavailable { unavailable } => {
            return warn(
                format!("cannot read the provider record: {unavailable}"),
                "fix state.integrity first",
            );
        }
    };
    if !p.registered {
        return pass("no provider is registered on this host");
    }
    let step = p.pending_step.as_deref().unwrap_or("?");
    match p.onboarding.as_deref() {
        Some("done") | None => pass(format!(
            "provider {} onboarded",
            p.id.as_deref().unwrap_or("?")
        )),
        Some("failed") => fail(
            format!(
                "onboarding stopped at step {step}: {}",
                p.last_error.as_deref().unwrap_or("")
            ),
            "run `pm provider onboard` again; it resumes at that step",
        ),
        Some(other) => warn(
            format!("onboarding is {other} at step {step}"),
            "run `pm provider onboard` to finish it",
        ),
    }
}
