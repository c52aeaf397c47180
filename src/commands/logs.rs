//! `pm logs collect`: a support bundle.

use crate::context::Context;
use crate::output::Outcome;
use anyhow::Result;
use clap::{Args, Subcommand};

#[derive(Debug, Args)]
pub struct LogsArgs {
    #[command(subcommand)]
    pub verb: LogsVerb,
}

#[derive(Debug, Subcommand)]
pub enum LogsVerb {
    Collect,
}

impl LogsVerb {
    pub fn name(&self) -> &'static str {
        "collect"
    }
}

pub fn run(_args: LogsArgs, _ctx: &mut Context) -> Result<Outcome> {
    todo!()
}
