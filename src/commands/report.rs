//! `pm report [--format json|markdown|html] [-o FILE]` and `pm report fleet
//! FILE...`: the inspection and the state's lists, for people and files.

use super::inspect::with_facts;
use crate::context::Context;
use crate::inspect::report::{self, Format, Report, fleet, fleet::Fleet, html, layout, markdown};
use crate::inspect::write;
use crate::output::{Outcome, Render};
use crate::schema::Output;
use anyhow::Result;
use clap::{Args, Subcommand};
use schemars::JsonSchema;
use serde::Serialize;
use std::path::PathBuf;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ReportArgs {
    #[command(subcommand)]
    pub verb: Option<ReportVerb>,
    #[command(flatten)]
    pub render: RenderArgs,
}

#[derive(Debug, Subcommand)]
pub enum ReportVerb {
    /// Merge the inspections (`pm inspect` JSON) of many hosts into one table, flagging failing hosts
    Fleet {
        /// Inspection documents: files as Ansible saves them, or folders of them
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        #[command(flatten)]
        render: RenderArgs,
    },
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// json, markdown or html [default: json when JSON output is asked for, else markdown]
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Write the report to FILE (atomically) instead of stdout
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

impl ReportArgs {
    pub fn name(&self) -> &'static str {
        match self.verb {
            None => "report",
            Some(ReportVerb::Fleet { .. }) => "report fleet",
        }
    }
}

pub fn run(args: ReportArgs, ctx: &mut Context) -> Result<Outcome> {
    match args.verb {
        None => {
            let format = chosen(&args.render, ctx.json);
            let text = with_facts(ctx, |facts| report::render(&report::build(facts), format))?;
            deliver(text, format, args.render.output)
        }
        Some(ReportVerb::Fleet { files, render }) => {
            let format = chosen(&render, ctx.json);
            let merged = fleet::read(&files)?;
            let text = match format {
                Format::Json => format!("{}\n", serde_json::to_string_pretty(&merged)?),
                Format::Markdown => {
                    markdown::render_titled(Some("pm fleet report"), &layout::fleet(&merged))
                }
                Format::Html => html::render("pm fleet report", &layout::fleet(&merged)),
            };
            deliver(text, format, render.output)
        }
    }
}

fn chosen(render: &RenderArgs, json: bool) -> Format {
    render
        .format
        .unwrap_or(if json { Format::Json } else { Format::Markdown })
}

/// Stdout gets the report itself (with `--json`, a JSON report is the
/// document; another format is wrapped as `{"format", "content"}`), or,
/// with `-o`, where it was written.
fn deliver(text: String, format: Format, output: Option<PathBuf>) -> Result<Outcome> {
    if let Some(path) = output {
        let bytes = write::bytes_atomically(&path, 0o644, text.as_bytes())?;
        return Outcome::of(&Written {
            path,
            format: format.name(),
            bytes,
        });
    }
    let doc = match format {
        Format::Json => serde_json::from_str(&text)?,
        _ => serde_json::to_value(Wrapped {
            format: format.name(),
            content: &text,
        })?,
    };
    Ok(Outcome {
        json: doc,
        human: text,
        exit: crate::error::ExitCode::Success,
    })
}

/// A Markdown or HTML report with `--json`: the text in a document.
#[derive(Serialize, JsonSchema)]
struct Wrapped<'t> {
    format: &'static str,
    content: &'t str,
}

/// What each form prints, for `pm schema`: the report (`--format json`),
/// a wrapped text, or where `-o` wrote it.
pub fn outputs() -> Vec<Output> {
    vec![
        Output::read_only::<Report>("report")
            .or::<Wrapped>()
            .or::<Written>(),
        Output::read_only::<Fleet>("report fleet")
            .or::<Wrapped>()
            .or::<Written>(),
    ]
}

#[derive(Serialize, JsonSchema)]
struct Written {
    path: PathBuf,
    format: &'static str,
    bytes: u64,
}

impl Render for Written {
    fn human(&self) -> String {
        format!(
            "wrote the {} report to {} ({} bytes)\n",
            self.format,
            self.path.display(),
            self.bytes
        )
    }
}
