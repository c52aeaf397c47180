//! `pm doctor`: the inspection judged, one finding per check, an exit code
//! for cron and monitoring, and a Prometheus textfile.

use super::inspect::with_facts;
use crate::context::Context;
use crate::error::{PmError, classify};
use crate::inspect::checks::{CHECKS, required_tools};
use crate::inspect::doctor::{self, Verdict};
use crate::inspect::{tools, write};
use crate::output::{Outcome, Render};
use crate::schema::Output;
use anyhow::Result;
use clap::{Args, ValueEnum};
use clap_complete::engine::{ArgValueCompleter, CompletionCandidate};
use schemars::JsonSchema;
use serde::Serialize;
use std::path::PathBuf;

/// The file `--textfile-dir` writes; node_exporter reads every `*.prom`.
pub const TEXTFILE_NAME: &str = "pm.prom";

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Run only these checks: ids, or groups such as `tool` (repeatable, or comma-separated)
    #[arg(long, value_name = "ID", add = ArgValueCompleter::new(check_ids))]
    pub only: Vec<String>,
    /// Skip these checks: ids or groups (repeatable, or comma-separated)
    #[arg(long, value_name = "ID", add = ArgValueCompleter::new(check_ids))]
    pub skip: Vec<String>,
    /// List the checks with what each one checks, and run none
    #[arg(long, conflicts_with_all = ["only", "skip", "strict", "textfile_dir"])]
    pub list: bool,
    /// Warnings count as failures (exit 9)
    #[arg(long)]
    pub strict: bool,
    /// What stdout gets when JSON output is not asked for: text, json, or the Prometheus text format
    #[arg(long, value_enum, default_value_t = DoctorFormat::Text)]
    pub format: DoctorFormat,
    /// Also write DIR/pm.prom for node_exporter's textfile collector (atomically, no timestamps)
    #[arg(long, value_name = "DIR")]
    pub textfile_dir: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DoctorFormat {
    Text,
    Json,
    Prom,
}

/// Check ids and their groups, for shell completion.
fn check_ids(current: &std::ffi::OsStr) -> Vec<CompletionCandidate> {
    let prefix = current.to_str().unwrap_or("");
    let mut ids: Vec<(String, &str)> = CHECKS.iter().map(|c| (c.id.to_string(), c.about)).collect();
    for c in CHECKS {
        if let Some((group, _)) = c.id.split_once('.')
            && !ids.iter().any(|(id, _)| id == group)
        {
            ids.push((group.to_string(), "every check of this group"));
        }
    }
    ids.into_iter()
        .filter(|(id, _)| id.starts_with(prefix))
        .map(|(id, about)| CompletionCandidate::new(id).help(Some(about.to_string().into())))
        .collect()
}

/// What it prints, for `pm schema`: the verdict, or the checks (`--list`).
pub fn outputs() -> Vec<Output> {
    vec![Output::read_only::<Doctor>("doctor").or::<CheckList>()]
}

pub fn run(args: DoctorArgs, ctx: &mut Context) -> Result<Outcome> {
    if args.list {
        return Outcome::of(&CheckList::new());
    }
    let checks = doctor::select(&args.only, &args.skip)?;
    check_required_tools(ctx)?;
    // Past the command line, anything that stops doctor is "could not run"
    // (exit 1), never a code a check failure could have.
    let result = with_facts(ctx, |facts| {
        let verdict = doctor::judge(facts, &checks, args.strict);
        let prom = doctor::prometheus(&verdict, facts);
        let textfile = match &args.textfile_dir {
            Some(dir) => Some(write_textfile(dir, &prom)?),
            None => None,
        };
        Ok(Doctor {
            verdict,
            textfile,
            format: args.format,
            prom,
        })
    });
    let doctor = result.map_err(|e| {
        let c = classify(&e);
        PmError::DoctorCouldNotRun { reason: c.message }
    })?;
    let exit = doctor.verdict.exit();
    Ok(Outcome::of(&doctor)?.with_exit(exit))
}

/// A misspelt tool in `doctor.required_tools` would never fail: refuse it.
fn check_required_tools(ctx: &Context) -> Result<()> {
    let listed = required_tools(ctx.config.string(crate::config::key::DOCTOR_REQUIRED_TOOLS));
    if let Some(unknown) = listed.iter().find(|t| tools::def(t).is_none()) {
        let known: Vec<&str> = tools::TOOLS.iter().map(|t| t.name).collect();
        return Err(PmError::usage(
            format!("doctor.required_tools names {unknown:?}, which pm does not know"),
            Some(format!("known tools: {}", known.join(", "))),
        )
        .into());
    }
    Ok(())
}

fn write_textfile(dir: &std::path::Path, prom: &str) -> Result<PathBuf> {
    if !dir.is_dir() {
        return Err(PmError::not_found(format!("textfile folder {}", dir.display()), None).into());
    }
    let path = dir.join(TEXTFILE_NAME);
    // Readable by node_exporter, which runs as its own user.
    write::bytes_atomically(&path, 0o644, prom.as_bytes())?;
    Ok(path)
}

#[derive(Serialize, JsonSchema)]
struct Doctor {
    #[serde(flatten)]
    verdict: Verdict,
    /// The textfile written, with --textfile-dir.
    textfile: Option<PathBuf>,
    #[serde(skip)]
    format: DoctorFormat,
    #[serde(skip)]
    prom: String,
}

impl Render for Doctor {
    fn human(&self) -> String {
        match self.format {
            DoctorFormat::Text => self.verdict.human(),
            DoctorFormat::Prom => self.prom.clone(),
            DoctorFormat::Json => serde_json::to_string(self).unwrap_or_default(),
        }
    }
}

#[derive(Serialize, JsonSchema)]
struct CheckList {
    checks: Vec<ListedCheck>,
}

#[derive(Serialize, JsonSchema)]
struct ListedCheck {
    id: &'static str,
    about: &'static str,
}

impl CheckList {
    fn new() -> CheckList {
        CheckList {
            checks: CHECKS
                .iter()
                .map(|c| ListedCheck {
                    id: c.id,
                    about: c.about,
                })
                .collect(),
        }
    }
}

impl Render for CheckList {
    fn human(&self) -> String {
        let width = self.checks.iter().map(|c| c.id.len()).max().unwrap_or(0);
        self.checks
            .iter()
            .map(|c| format!("{:<width$}  {}\n", c.id, c.about))
            .collect()
    }
}
