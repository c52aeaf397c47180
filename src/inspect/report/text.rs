//! `pm inspect` for a person: one line per section.

use crate::inspect::inspection::Inspection;
use crate::inspect::{Section, human_bytes as bytes};
use std::fmt::Write as _;

pub fn summary(i: &Inspection) -> String {
    let mut out = String::new();
    let h = i.host;
    let system = h
        .distro
        .as_ref()
        .and_then(|d| d.pretty_name.clone())
        .unwrap_or_else(|| h.os.to_string());
    let memory = h.memory.as_ref().map_or(String::new(), |m| {
        format!(", {} memory", bytes(m.total_bytes))
    });
    let _ = writeln!(
        out,
        "host:        {} ({system}, {} {}, kernel {}, {} CPUs{memory})",
        h.hostname, h.os, h.arch, h.kernel.release, h.cpu.count
    );
    let _ = writeln!(out, "state:       {}", state_line(i));
    let _ = writeln!(out, "pool:        {}", pool_line(i));
    let dm = i.device_mapper;
    let _ = writeln!(
        out,
        "dm:          {}",
        if dm.usable {
            "usable".to_string()
        } else {
            format!("not usable: {}", dm.problem.as_deref().unwrap_or("?"))
        }
    );
    for (what, d) in &i.disks {
        let line = match d {
            Section::Known(d) => format!(
                "{:.1}% free, {} available at {}",
                d.free_percent,
                bytes(d.available_bytes),
                d.measured_at.display()
            ),
            Section::Unavailable { unavailable } => format!("unknown: {unavailable}"),
        };
        let _ = writeln!(out, "disk {what:<7} {line}");
    }
    let tools: Vec<String> = i
        .tools
        .values()
        .map(|t| match (&t.version, t.found) {
            (Some(v), _) => format!("{} {v}", t.name),
            (None, true) => format!("{} (version unknown)", t.name),
            (None, false) => format!("{} missing", t.name),
        })
        .collect();
    let _ = writeln!(out, "tools:       {}", tools.join(", "));
    let _ = writeln!(out, "images:      {}", images_line(i));
    let _ = writeln!(out, "network:     {}", network_line(i));
    let _ = writeln!(out, "provider:    {}", provider_line(i));
    let c = &i.checks.counts;
    let _ = writeln!(
        out,
        "checks:      {} passed, {} warned, {} failed{}",
        c.pass,
        c.warn,
        c.fail,
        if i.checks.failed.is_empty() {
            String::new()
        } else {
            format!(" ({})", i.checks.failed.join(", "))
        }
    );
    out
}

fn state_line(i: &Inspection) -> String {
    match i.state {
        Section::Known(s) if !s.exists => format!("no state file at {} yet", s.path.display()),
        Section::Known(s) => format!(
            "{} (schema {}, integrity {}, {} interrupted changes)",
            s.path.display(),
            s.schema_version,
            s.integrity,
            s.open_intents.len()
        ),
        Section::Unavailable { unavailable } => format!("unreadable: {unavailable}"),
    }
}

fn pool_line(i: &Inspection) -> String {
    match i.pool {
        Section::Known(p) if !p.configured => {
            format!("no thin pool recorded (pool.backend = {})", p.backend)
        }
        Section::Known(p) => match p.usage() {
            Some(u) => format!(
                "{}-pool data {:.1}%, metadata {:.1}%, {}",
                p.name, u.data_percent, u.metadata_percent, u.health
            ),
            None => format!("{}-pool recorded, usage unknown", p.name),
        },
        Section::Unavailable { unavailable } => format!("unknown: {unavailable}"),
    }
}

fn images_line(i: &Inspection) -> String {
    match (i.images, i.activations) {
        (Section::Known(m), Section::Known(a)) => format!(
            "{} ({} safe, {} rejected, {} not validated; {}), {} activation(s)",
            m.count,
            m.safe,
            m.rejected,
            m.not_validated,
            bytes(m.total_bytes),
            a.count
        ),
        (Section::Unavailable { unavailable }, _) | (_, Section::Unavailable { unavailable }) => {
            format!("unknown: {unavailable}")
        }
    }
}

fn network_line(i: &Inspection) -> String {
    let n = i.network;
    if !n.configured {
        return "not configured (tailscale is not installed)".to_string();
    }
    match (&n.backend_state, n.connected) {
        (Some(state), true) => format!("{state} ({})", n.tailscale_ips.join(", ")),
        (Some(state), false) => format!("{state}, not connected"),
        (None, _) => format!(
            "daemon {}: {}",
            n.daemon,
            n.problem.as_deref().unwrap_or("")
        ),
    }
}

fn provider_line(i: &Inspection) -> String {
    match i.provider {
        Section::Known(p) if p.registered => format!(
            "{} ({})",
            p.id.as_deref().unwrap_or("?"),
            p.onboarding.as_deref().unwrap_or("not onboarded")
        ),
        Section::Known(_) => "not registered".to_string(),
        Section::Unavailable { unavailable } => format!("unknown: {unavailable}"),
    }
}
