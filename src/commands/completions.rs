//! `pm completions <SHELL>`: the dynamic completion script for a shell.

use crate::output::{Outcome, Render};
use crate::schema::Output;
use anyhow::Result;
use clap::Args;
use clap_complete::Shell;
use schemars::JsonSchema;
use serde::Serialize;

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to print the script for
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Serialize, JsonSchema)]
struct Script {
    shell: String,
    script: String,
}

impl Render for Script {
    fn human(&self) -> String {
        self.script.clone()
    }
}

/// What it prints, for `pm schema`.
pub fn outputs() -> Vec<Output> {
    vec![Output::read_only::<Script>("completions")]
}

pub fn run(args: CompletionsArgs) -> Result<Outcome> {
    Outcome::of(&Script {
        shell: args.shell.to_string(),
        script: crate::generate::completion_script(args.shell, &completer()),
    })
}

/// The program the script calls back. Like `COMPLETE=bash pm`: `pm` when pm
/// was found on PATH (the script then matches `completions/`), else the
/// binary's own path, so `./target/debug/pm completions bash` completes with
/// that binary.
fn completer() -> String {
    let invoked = std::env::args_os().next().unwrap_or_default();
    if !invoked.to_string_lossy().contains('/') {
        return "pm".to_string();
    }
    std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| invoked.to_string_lossy().into_owned())
}
