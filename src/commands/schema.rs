//! `pm schema [NOUN [VERB]]`: the JSON Schema of what commands print with
//! `--json` (see `schema` for how it is made).

use crate::error::PmError;
use crate::error::details::codes;
use crate::output::{Outcome, Render};
use crate::schema::{Catalog, Output, SchemaDocument, catalog, command_schema};
use anyhow::Result;
use clap::Args;

#[derive(Debug, Args)]
#[command(after_help = "\
Each schema (JSON Schema draft 2020-12) covers both documents a command
prints with --json: its result (for a mutating command also what --dry-run
prints, with \"dry_run\": true) and the error document, with the fields each
error code adds. Without an argument: every command's schema, the error
document's, and the error codes, with \"schema_version\". Additive changes
(a new field, a new error code, a new command) keep the version; removing,
renaming or retyping a field, a new value of an enumeration, or a change of
meaning bumps it (README, \"JSON schemas\").")]
pub struct SchemaArgs {
    /// A command (`image fetch`, `inspect`, `report fleet`), or a noun for all of its verbs; none: every command
    #[arg(value_name = "COMMAND", num_args = 0..=2)]
    pub command: Vec<String>,
}

/// What it prints, for `pm schema schema`: the catalog, or one schema.
pub fn outputs() -> Vec<Output> {
    vec![Output::read_only::<Catalog>("schema").or::<SchemaDocument>()]
}

pub fn run(args: SchemaArgs) -> Result<Outcome> {
    let codes = codes();
    let wanted = args.command.join(" ");
    let outputs = super::outputs();
    if wanted.is_empty() {
        return Outcome::of(&catalog(&outputs, &codes));
    }
    if let Some(output) = outputs.iter().find(|o| o.path() == wanted) {
        return Outcome::of(&command_schema(output, &codes));
    }
    let prefix = format!("{wanted} ");
    let selected: Vec<Output> = outputs
        .into_iter()
        .filter(|o| o.path().starts_with(&prefix))
        .collect();
    if selected.is_empty() {
        return Err(PmError::usage(
            format!("pm has no command `{wanted}`"),
            Some(
                "give a command path such as `image fetch` or a noun such as `image`; `pm schema` alone lists every command"
                    .to_string(),
            ),
        )
        .into());
    }
    Outcome::of(&catalog(&selected, &codes))
}

/// Schemas are read by programs and by people alike: indented JSON.
fn pretty(value: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

impl Render for Catalog {
    fn human(&self) -> String {
        pretty(self)
    }
}

impl Render for SchemaDocument {
    fn human(&self) -> String {
        pretty(self)
    }
}
