//! What a report shows, in order, as [`Block`]s for the Markdown and HTML
//! backends.

use super::fleet::Fleet;
use super::{Block, Cell, Report};
use crate::inspect::checks::{Finding, Status};
use crate::inspect::inspection::Inspection;
use crate::inspect::{Section, human_bytes as bytes};

fn yes_no(b: bool) -> Cell {
    Cell::text(if b { "yes" } else { "no" })
}

fn finding<'i>(i: &'i Inspection, id: &str) -> Option<&'i Finding> {
    i.checks.findings.iter().find(|f| f.id == id)
}

pub fn host(r: &Report) -> Vec<Block> {
    let i = &r.inspection;
    let mut out = vec![Block::Paragraph(format!(
        "Collected {} by pm {} in {} ms.",
        i.collected_at, i.pm_version, i.duration_ms
    ))];
    checks(&mut out, i);
    host_facts(&mut out, i);
    pool(&mut out, i);
    disks(&mut out, i);
    tools(&mut out, i);
    state(&mut out, i);
    lists(&mut out, r);
    network_and_provider(&mut out, i);
    history(&mut out, r);
    out
}

fn checks(out: &mut Vec<Block>, i: &Inspection) {
    let c = &i.checks.counts;
    out.push(Block::Heading("Checks".to_string()));
    out.push(Block::Paragraph(format!(
        "{} checks: {} passed, {} warned, {} failed.",
        i.checks.findings.len(),
        c.pass,
        c.warn,
        c.fail
    )));
    let rows = i
        .checks
        .findings
        .iter()
        .map(|f| {
            vec![
                Cell::Status(f.status),
                Cell::code(f.id),
                Cell::text(&f.message),
                Cell::opt(f.hint.clone().filter(|_| f.status != Status::Pass)),
            ]
        })
        .collect();
    out.push(Block::Table {
        head: vec!["status", "check", "finding", "hint"],
        rows,
    });
}

fn host_facts(out: &mut Vec<Block>, i: &Inspection) {
    let h = i.host;
    let system = h
        .distro
        .as_ref()
        .and_then(|d| d.pretty_name.clone().or(d.name.clone()))
        .unwrap_or_else(|| h.os.to_string());
    let mut fields = vec![
        ("Host name".to_string(), Cell::code(&h.hostname)),
        (
            "System".to_string(),
            Cell::text(format!("{system} ({} {})", h.os, h.arch)),
        ),
        ("Kernel".to_string(), Cell::code(&h.kernel.release)),
        (
            "CPU".to_string(),
            Cell::text(format!(
                "{} × {}",
                h.cpu.count,
                h.cpu.model.as_deref().unwrap_or("unknown model")
            )),
        ),
    ];
    if let Some(m) = &h.memory {
        let available = m
            .available_bytes
            .map_or(String::new(), |a| format!(", {} available", bytes(a)));
        fields.push((
            "Memory".to_string(),
            Cell::text(format!("{}{available}", bytes(m.total_bytes))),
        ));
    }
    if let Some(up) = h.uptime_secs {
        fields.push((
            "Uptime".to_string(),
            Cell::text(humantime::format_duration(std::time::Duration::from_secs(up)).to_string()),
        ));
    }
    out.push(Block::Heading("Host".to_string()));
    out.push(Block::Fields(fields));
}

fn usage_bar(i: &Inspection, id: &str, percent: f64) -> Cell {
    Cell::Bar {
        percent,
        label: format!("{percent:.1}%"),
        level: finding(i, id).map_or(Status::Pass, |f| f.status),
    }
}

fn pool(out: &mut Vec<Block>, i: &Inspection) {
    out.push(Block::Heading("Thin pool".to_string()));
    let p = match i.pool {
        Section::Known(p) => p,
        Section::Unavailable { unavailable } => {
            out.push(Block::Paragraph(format!("Unknown: {unavailable}")));
            return;
        }
    };
    let dm = i.device_mapper;
    let dm_cell = if dm.usable {
        Cell::text(format!("usable (thin-pool target {})", dm.thin_pool_target))
    } else {
        Cell::text(format!(
            "not usable: {}",
            dm.problem.as_deref().unwrap_or("unknown")
        ))
    };
    let mut fields = vec![
        ("Pool".to_string(), Cell::code(format!("{}-pool", p.name))),
        ("Backend setting".to_string(), Cell::code(&p.backend)),
        ("Device-mapper".to_string(), dm_cell),
    ];
    if !p.configured {
        fields.push((
            "Recorded".to_string(),
            Cell::text("no thin pool is recorded in the state"),
        ));
    }
    match &p.kernel {
        Some(Section::Unavailable { unavailable }) => {
            fields.push((
                "Kernel".to_string(),
                Cell::text(format!("unknown: {unavailable}")),
            ));
        }
        Some(Section::Known(k)) => {
            let state = if k.active { "active" } else { "not active" };
            fields.push((
                "Kernel".to_string(),
                Cell::text(format!("{state}, {} thin device(s)", k.thin_devices)),
            ));
        }
        None => {}
    }
    if let Some(u) = p.usage() {
        fields.push((
            "Data usage".to_string(),
            usage_bar(i, "pool.data_usage", u.data_percent),
        ));
        fields.push((
            "Metadata usage".to_string(),
            usage_bar(i, "pool.metadata_usage", u.metadata_percent),
        ));
        fields.push(("Health".to_string(), Cell::text(&u.health)));
    }
    out.push(Block::Fields(fields));
}

fn disks(out: &mut Vec<Block>, i: &Inspection) {
    out.push(Block::Heading("Disk space".to_string()));
    let rows = i
        .disks
        .iter()
        .map(|(what, d)| match d {
            Section::Known(d) => vec![
                Cell::text(*what),
                Cell::code(d.measured_at.display().to_string()),
                Cell::Bar {
                    percent: 100.0 - d.free_percent,
                    label: format!("{:.1}% used", 100.0 - d.free_percent),
                    level: finding(i, &format!("disk.{what}")).map_or(Status::Pass, |f| f.status),
                },
                Cell::text(bytes(d.available_bytes)),
                Cell::text(bytes(d.total_bytes)),
            ],
            Section::Unavailable { unavailable } => {
                vec![
                    Cell::text(*what),
                    Cell::text(unavailable),
                    Cell::Empty,
                    Cell::Empty,
                    Cell::Empty,
                ]
            }
        })
        .collect();
    out.push(Block::Table {
        head: vec!["for", "filesystem at", "usage", "available", "size"],
        rows,
    });
}

fn tools(out: &mut Vec<Block>, i: &Inspection) {
    out.push(Block::Heading("Tools".to_string()));
    let rows = i
        .tools
        .values()
        .map(|t| {
            let status = finding(i, &format!("tool.{}", t.name)).map_or(Status::Pass, |f| f.status);
            vec![
                Cell::code(t.name),
                Cell::Status(status),
                Cell::opt(t.version.clone()),
                Cell::opt(t.program.as_ref().map(|p| p.display().to_string())),
                Cell::text(t.purpose),
                Cell::opt(t.problem.clone()),
            ]
        })
        .collect();
    out.push(Block::Table {
        head: vec!["tool", "status", "version", "program", "used for", "note"],
        rows,
    });
}

fn state(out: &mut Vec<Block>, i: &Inspection) {
    out.push(Block::Heading("State".to_string()));
    let s = match i.state {
        Section::Known(s) => s,
        Section::Unavailable { unavailable } => {
            out.push(Block::Paragraph(format!(
                "The state cannot be read: {unavailable}"
            )));
            return;
        }
    };
    let mut fields = vec![
        ("File".to_string(), Cell::code(s.path.display().to_string())),
        ("Exists".to_string(), yes_no(s.exists)),
        (
            "Schema".to_string(),
            Cell::text(format!(
                "{} (this pm: {})",
                s.schema_version, s.supported_schema_version
            )),
        ),
        ("Integrity".to_string(), Cell::text(&s.integrity)),
        (
            "Size".to_string(),
            Cell::text(format!(
                "{} (+ {} WAL)",
                bytes(s.file_bytes),
                bytes(s.wal_bytes)
            )),
        ),
        (
            "Interrupted changes".to_string(),
            Cell::text(s.open_intents.len().to_string()),
        ),
    ];
    for l in &s.locks {
        let held = match (&l.held, &l.holder) {
            (Some(true), Some(h)) => format!(
                "held by pid {} ({}) for {} s",
                h.pid, h.command, h.held_secs
            ),
            (Some(true), None) => "held".to_string(),
            (Some(false), _) => "free".to_string(),
            (None, _) => "unknown".to_string(),
        };
        fields.push((format!("{} lock", l.what), Cell::text(held)));
    }
    out.push(Block::Fields(fields));
}

fn lists(out: &mut Vec<Block>, r: &Report) {
    match &r.images {
        Section::Known(images) => {
            out.push(Block::Heading(format!("Images ({})", images.len())));
            let rows = images
                .iter()
                .map(|m| {
                    vec![
                        Cell::code(&m.id),
                        Cell::text(bytes(m.size)),
                        Cell::text(m.verdict.as_deref().unwrap_or("not validated")),
                        Cell::opt(m.source.clone()),
                        Cell::text(&m.created_at),
                    ]
                })
                .collect();
            out.push(Block::Table {
                head: vec!["id", "size", "verdict", "source", "fetched"],
                rows,
            });
        }
        Section::Unavailable { unavailable } => {
            out.push(Block::Heading("Images".to_string()));
            out.push(Block::Paragraph(format!("Unknown: {unavailable}")));
        }
    }
    if let Section::Known(acts) = &r.activations {
        out.push(Block::Heading(format!("Activations ({})", acts.len())));
        let rows = acts
            .iter()
            .map(|a| {
                let at = a
                    .device
                    .as_ref()
                    .map_or(a.path.clone(), |d| d.display().to_string());
                vec![
                    Cell::code(&a.name),
                    Cell::code(a.image.short_id()),
                    Cell::text(a.backend.as_str()),
                    Cell::code(at),
                    Cell::text(&a.created_at),
                ]
            })
            .collect();
        out.push(Block::Table {
            head: vec!["name", "image", "backend", "device or path", "created"],
            rows,
        });
    }
}

fn network_and_provider(out: &mut Vec<Block>, i: &Inspection) {
    let n = i.network;
    out.push(Block::Heading("Network".to_string()));
    if !n.configured {
        out.push(Block::Paragraph(
            "Not configured: tailscale is not installed.".to_string(),
        ));
    } else {
        out.push(Block::Fields(vec![
            ("Daemon".to_string(), Cell::text(n.daemon)),
            ("State".to_string(), Cell::opt(n.backend_state.clone())),
            ("Connected".to_string(), yes_no(n.connected)),
            (
                "Tailscale IPs".to_string(),
                Cell::code(n.tailscale_ips.join(", ")),
            ),
            (
                "Name".to_string(),
                Cell::opt(n.dns_name.clone().or(n.hostname.clone())),
            ),
            ("Health".to_string(), Cell::text(n.health.join(" "))),
            ("Note".to_string(), Cell::opt(n.problem.clone())),
        ]));
    }
    out.push(Block::Heading("Provider".to_string()));
    match i.provider {
        Section::Known(p) if p.registered => out.push(Block::Fields(vec![
            ("Id".to_string(), Cell::opt(p.id.clone())),
            ("Status".to_string(), Cell::opt(p.status.clone())),
            ("Onboarding".to_string(), Cell::opt(p.onboarding.clone())),
            (
                "Pending step".to_string(),
                Cell::opt(p.pending_step.clone()),
            ),
            ("Cluster".to_string(), Cell::opt(p.cluster_address.clone())),
        ])),
        Section::Known(_) => out.push(Block::Paragraph(
            "No provider is registered on this host.".to_string(),
        )),
        Section::Unavailable { unavailable } => {
            out.push(Block::Paragraph(format!("Unknown: {unavailable}")))
        }
    }
}

fn history(out: &mut Vec<Block>, r: &Report) {
    let Section::Known(entries) = &r.history else {
        return;
    };
    out.push(Block::Heading("Recent history".to_string()));
    if entries.is_empty() {
        out.push(Block::Paragraph(
            "No mutating command has run yet.".to_string(),
        ));
        return;
    }
    let rows = entries
        .iter()
        .map(|e| {
            let result = match (&e.error_code, e.changed) {
                (Some(code), _) => Cell::text(format!("error {code}")),
                (None, Some(true)) => Cell::text("ok, changed"),
                (None, _) => Cell::text("ok"),
            };
            vec![
                Cell::text(&e.started_at),
                Cell::code(format!("pm {}", e.command)),
                result,
                Cell::text(format!("{} ms", e.duration_ms)),
            ]
        })
        .collect();
    out.push(Block::Table {
        head: vec!["when", "command", "result", "took"],
        rows,
    });
}

pub fn fleet(f: &Fleet) -> Vec<Block> {
    let mut out = vec![Block::Paragraph(format!(
        "{} host(s): {} with failing checks, {} with warnings, {} unreadable.",
        f.counts.hosts, f.counts.failing, f.counts.warning, f.counts.unreadable
    ))];
    let bar = |percent: Option<f64>, status: Status| {
        percent.map_or(Cell::Empty, |p| Cell::Bar {
            percent: p,
            label: format!("{p:.1}%"),
            level: status,
        })
    };
    let rows = f
        .hosts
        .iter()
        .map(|h| {
            vec![
                Cell::code(&h.host),
                Cell::Status(h.status),
                Cell::code(h.failing.join(", ")),
                Cell::text(format!(
                    "{}/{}/{}",
                    h.counts.pass, h.counts.warn, h.counts.fail
                )),
                Cell::opt(h.system.clone()),
                Cell::opt(h.pm_version.clone()),
                bar(h.pool_data_percent, h.check_status("pool.data_usage")),
                bar(
                    h.pool_metadata_percent,
                    h.check_status("pool.metadata_usage"),
                ),
                Cell::opt(h.min_disk_free_percent.map(|p| format!("{p:.1}%"))),
                Cell::opt(h.images.map(|n| n.to_string())),
                Cell::opt(h.network.clone()),
                Cell::opt(h.problem.clone()),
            ]
        })
        .collect();
    out.push(Block::Table {
        head: vec![
            "host",
            "status",
            "failing checks",
            "pass/warn/fail",
            "system",
            "pm",
            "pool data",
            "pool metadata",
            "least disk free",
            "images",
            "network",
            "note",
        ],
        rows,
    });
    failing_checks(&mut out, f);
    out
}

/// Every failing finding of every host, one row each.
fn failing_checks(out: &mut Vec<Block>, f: &Fleet) {
    let failing: Vec<Vec<Cell>> = f
        .hosts
        .iter()
        .flat_map(|h| {
            h.findings
                .iter()
                .filter(|x| x.status == Status::Fail)
                .map(move |x| {
                    vec![
                        Cell::code(&h.host),
                        Cell::code(&x.id),
                        Cell::text(&x.message),
                    ]
                })
        })
        .collect();
    if !failing.is_empty() {
        out.push(Block::Heading("Failing checks".to_string()));
        out.push(Block::Table {
            head: vec!["host", "check", "finding"],
            rows: failing,
        });
    }
}
