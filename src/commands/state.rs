//! `pm state show|history|prune|backup`: the shared state file itself.

use crate::context::Context;
use crate::error::PmError;
use crate::output::{Outcome, Render};
use crate::schema::Output;
use crate::state::{HistoryEntry, HistoryFilter, StateSummary, format_ms, now_ms};
use anyhow::Result;
use clap::{Args, Subcommand};
use clap_complete::engine::ArgValueCompleter;
use schemars::JsonSchema;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Args)]
pub struct StateArgs {
    #[command(subcommand)]
    pub verb: StateVerb,
}

#[derive(Debug, Subcommand)]
pub enum StateVerb {
    /// Show the state file's path, schema version, sizes and rows per table
    Show,
    /// Show the history of mutating commands, newest first
    History {
        /// Only this command and the ones below it (`image` matches `image fetch`)
        #[arg(long, value_name = "COMMAND", add = ArgValueCompleter::new(crate::complete::history_commands))]
        command: Option<String>,
        /// Only entries at or after this time: a duration ago (`2h`, `7days`) or an RFC 3339 timestamp
        #[arg(long, value_name = "WHEN")]
        since: Option<String>,
        /// Only entries at or before this time (same forms as --since)
        #[arg(long, value_name = "WHEN")]
        until: Option<String>,
        /// At most this many entries
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Delete history entries older than a duration (takes the lock)
    Prune {
        /// Age beyond which entries are deleted: `30days`, `12h`, `90d`
        #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
        older_than: Duration,
    },
    /// Write a consistent copy of the state file, safe while other commands run
    Backup {
        /// Where to write the copy
        file: PathBuf,
        /// Replace FILE if it exists
        #[arg(long)]
        force: bool,
    },
}

impl StateVerb {
    pub fn name(&self) -> &'static str {
        match self {
            StateVerb::Show => "show",
            StateVerb::History { .. } => "history",
            StateVerb::Prune { .. } => "prune",
            StateVerb::Backup { .. } => "backup",
        }
    }

    pub fn is_mutating(&self) -> bool {
        matches!(self, StateVerb::Prune { .. })
    }
}

/// What each verb prints, for `pm schema`.
pub fn outputs() -> Vec<Output> {
    vec![
        Output::read_only::<Show>("state show"),
        Output::read_only::<History>("state history"),
        Output::mutating::<Pruned>("state prune"),
        Output::read_only::<BackedUp>("state backup"),
    ]
}

pub fn run(args: StateArgs, ctx: &mut Context) -> Result<Outcome> {
    match args.verb {
        StateVerb::Show => Outcome::of(&Show(ctx.read_state()?.summary()?)),
        StateVerb::History {
            command,
            since,
            until,
            limit,
        } => {
            let filter = HistoryFilter {
                command,
                since_ms: since.as_deref().map(parse_when).transpose()?,
                until_ms: until.as_deref().map(parse_when).transpose()?,
                limit,
            };
            Outcome::of(&History {
                entries: ctx.read_state()?.history(&filter)?,
            })
        }
        StateVerb::Prune { older_than } => prune(ctx, older_than),
        StateVerb::Backup { file, force } => backup(ctx, file, force),
    }
}

fn prune(ctx: &mut Context, older_than: Duration) -> Result<Outcome> {
    let cutoff_ms = now_ms() - older_than.as_millis().min(i64::MAX as u128) as i64;
    let removed = if ctx.dry_run {
        ctx.read_state()?.history_count_before(cutoff_ms)?
    } else {
        let lock = ctx.lock()?;
        ctx.state()?
            .write(&lock, |tx| tx.prune_history(cutoff_ms))?
    };
    Outcome::of(&Pruned {
        changed: removed > 0,
        removed,
        cutoff: format_ms(cutoff_ms),
    })
}

fn backup(ctx: &mut Context, file: PathBuf, force: bool) -> Result<Outcome> {
    if file.exists() && !force {
        return Err(PmError::usage(
            format!("{} already exists", file.display()),
            Some("choose another file or pass --force to replace it".to_string()),
        )
        .into());
    }
    check_backup_directory(&file)?;
    let state = ctx.read_state()?;
    if !state.exists() {
        return Err(PmError::not_found(
            format!("state file {}", state.path().display()),
            Some(
                "no pm command has written a state here yet; check --state / PM_STATE".to_string(),
            ),
        )
        .into());
    }
    let source = state.path().to_path_buf();
    let bytes = state
        .backup_to(&file)
        .map_err(|e| backup_failure(&file, e))?;
    Outcome::of(&BackedUp {
        changed: true,
        source,
        path: file,
        bytes,
    })
}

/// The backup is written beside `file`: its directory must exist (pm does
/// not invent directories an operator may have mistyped).
fn check_backup_directory(file: &Path) -> Result<()> {
    let dir = match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    if dir.is_dir() {
        return Ok(());
    }
    Err(PmError::not_found(
        format!("directory {}", dir.display()),
        Some(format!(
            "create it first (`mkdir -p {}`) or give a path in an existing directory",
            dir.display()
        )),
    )
    .into())
}

/// A write failure named by the file the operator gave, not by the
/// temporary file beside it that the backup is written to first.
fn backup_failure(file: &Path, err: anyhow::Error) -> anyhow::Error {
    match err.downcast::<PmError>() {
        Ok(PmError::Io { source, .. }) => PmError::io(
            format!("cannot write the backup {}", file.display()),
            source,
        )
        .into(),
        Ok(other) => other.into(),
        Err(other) => other,
    }
}

/// `2h` means two hours ago; anything else must be an RFC 3339 timestamp.
fn parse_when(text: &str) -> Result<i64> {
    if let Ok(ago) = humantime::parse_duration(text) {
        return Ok(now_ms() - ago.as_millis().min(i64::MAX as u128) as i64);
    }
    let at = humantime::parse_rfc3339_weak(text).map_err(|_| {
        PmError::usage(
            format!("cannot read {text:?} as a time"),
            Some(
                "give a duration ago (`2h`, `7days`) or a timestamp (`2026-11-22T10:00:00Z`)"
                    .to_string(),
            ),
        )
    })?;
    let ms = at
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    Ok(ms)
}

fn parse_duration(text: &str) -> std::result::Result<Duration, String> {
    humantime::parse_duration(text).map_err(|e| format!("{e} (examples: 30days, 12h, 90d)"))
}

#[derive(Serialize, JsonSchema)]
struct Show(StateSummary);

impl Render for Show {
    fn human(&self) -> String {
        let s = &self.0;
        if !s.exists {
            return format!(
                "no state file at {} yet (the first mutating command creates it)\n",
                s.path.display()
            );
        }
        let mut out = format!(
            "path:    {}\nlock:    {}\nschema:  {} (this pm: {})\nsize:    {} bytes (+ {} bytes WAL)\ntables:\n",
            s.path.display(),
            s.lock.display(),
            s.schema_version,
            s.supported_schema_version,
            s.file_bytes,
            s.wal_bytes
        );
        for t in &s.tables {
            out.push_str(&format!("  {:<24} {}\n", t.name, t.rows));
        }
        out
    }
}

#[derive(Serialize, JsonSchema)]
struct History {
    entries: Vec<HistoryEntry>,
}

impl Render for History {
    fn human(&self) -> String {
        if self.entries.is_empty() {
            return "no history entries match\n".to_string();
        }
        let mut out = String::new();
        for e in &self.entries {
            let outcome = match (&e.result[..], &e.error_code, e.changed) {
                ("ok", _, Some(true)) => "ok, changed".to_string(),
                ("ok", _, _) => "ok".to_string(),
                (_, Some(code), _) => format!("error {code}"),
                (r, None, _) => r.to_string(),
            };
            out.push_str(&format!(
                "{:>6}  {}  pm {:<22} {:>7} ms  {}  {}\n",
                e.id,
                e.started_at,
                e.command,
                e.duration_ms,
                outcome,
                e.args.join(" ")
            ));
        }
        out
    }
}

#[derive(Serialize, JsonSchema)]
struct Pruned {
    changed: bool,
    removed: usize,
    cutoff: String,
}

impl Render for Pruned {
    fn human(&self) -> String {
        format!(
            "removed {} history entr{} older than {}\n",
            self.removed,
            if self.removed == 1 { "y" } else { "ies" },
            self.cutoff
        )
    }
}

#[derive(Serialize, JsonSchema)]
struct BackedUp {
    changed: bool,
    source: PathBuf,
    path: PathBuf,
    bytes: u64,
}

impl Render for BackedUp {
    fn human(&self) -> String {
        format!(
            "backed up {} to {} ({} bytes)\n",
            self.source.display(),
            self.path.display(),
            self.bytes
        )
    }
}
