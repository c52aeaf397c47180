//! `pm inspect`: every fact about this host, read-only (see `inspect`).

use crate::context::Context;
use crate::inspect::{Facts, Inspection, Probes, report};
use crate::output::{Outcome, Render};
use crate::schema::Output;
use crate::state::ReadState;
use anyhow::Result;
use clap::Args;
use schemars::JsonSchema;
use serde::Serialize;

#[derive(Debug, Args)]
pub struct InspectArgs {}

/// Runs `f` on the facts of this host: the state opened read-only (a file
/// that cannot be opened is the reason its sections give, not an error) and
/// the effective config. Shared by inspect, doctor, report and logs.
pub fn with_facts<T>(ctx: &Context, f: impl FnOnce(&Facts) -> Result<T>) -> Result<T> {
    let opened = ReadState::open(ctx.paths().state()).map_err(|e| format!("{e:#}"));
    let state = opened.as_ref().map(|s| &**s).map_err(String::as_str);
    let facts = Facts::new(Probes::new(state, &ctx.config));
    f(&facts)
}

/// What it prints, for `pm schema`.
pub fn outputs() -> Vec<Output> {
    vec![Output::read_only::<Inspected>("inspect")]
}

pub fn run(_args: InspectArgs, ctx: &mut Context) -> Result<Outcome> {
    with_facts(ctx, |facts| {
        Outcome::of(&Inspected(Inspection::collect(facts)))
    })
}

#[derive(Serialize, JsonSchema)]
#[serde(transparent)]
struct Inspected<'f>(Inspection<'f>);

impl Render for Inspected<'_> {
    fn human(&self) -> String {
        report::text::summary(&self.0)
    }
}
