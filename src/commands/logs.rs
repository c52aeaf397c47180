//! `pm logs collect`: a tar.gz support bundle, secrets redacted (see
//! `inspect::bundle`).

use super::inspect::with_facts;
use crate::context::Context;
use crate::error::PmError;
use crate::inspect::bundle::{self, Collected, Options};
use crate::output::{Outcome, Render};
use crate::schema::Output;
use anyhow::Result;
use clap::{Args, Subcommand};
use schemars::JsonSchema;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct LogsArgs {
    #[command(subcommand)]
    pub verb: LogsVerb,
}

#[derive(Debug, Subcommand)]
pub enum LogsVerb {
    /// Write a tar.gz support bundle: pm's and tailscaled's logs, a state dump, inspect, doctor, config; secrets redacted
    Collect {
        /// Where to write the bundle [default: ./pm-support-<UTC time>.tar.gz]
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Replace FILE if it exists
        #[arg(long)]
        force: bool,
        /// Also replace this host's names and every IP address (consistently) in the bundle
        #[arg(long)]
        obfuscate: bool,
    },
}

impl LogsVerb {
    pub fn name(&self) -> &'static str {
        match self {
            LogsVerb::Collect { .. } => "collect",
        }
    }
}

/// What each verb prints, for `pm schema`.
pub fn outputs() -> Vec<Output> {
    vec![Output::read_only::<Bundled>("logs collect")]
}

pub fn run(args: LogsArgs, ctx: &mut Context) -> Result<Outcome> {
    let LogsVerb::Collect {
        output,
        force,
        obfuscate,
    } = args.verb;
    let output = output.unwrap_or_else(|| PathBuf::from(bundle::default_name()));
    if output.exists() && !force {
        return Err(PmError::usage(
            format!("{} already exists", output.display()),
            Some("choose another file or pass --force to replace it".to_string()),
        )
        .into());
    }
    let options = Options { output, obfuscate };
    Outcome::of(&Bundled(with_facts(ctx, |facts| {
        bundle::collect(facts, &options)
    })?))
}

#[derive(serde::Serialize, JsonSchema)]
#[serde(transparent)]
struct Bundled(Collected);

impl Render for Bundled {
    fn human(&self) -> String {
        let c = &self.0;
        let mut out = format!(
            "wrote {} ({} bytes, {} items, {} secrets redacted{})\n",
            c.path.display(),
            c.bytes,
            c.items,
            c.redactions,
            if c.obfuscated {
                ", hosts and addresses obfuscated"
            } else {
                ""
            }
        );
        for left in &c.left_out {
            out.push_str(&format!("  left out: {left}\n"));
        }
        out
    }
}
