//! `pm completions <SHELL>`: the completion script for a shell.

use crate::output::{Outcome, Render};
use anyhow::Result;
use clap::Args;
use clap_complete::Shell;
use serde::Serialize;

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to generate for
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Serialize)]
struct Script {
    shell: String,
    script: String,
}

impl Render for Script {
    fn human(&self) -> String {
        self.script.clone()
    }
}

pub fn run(args: CompletionsArgs) -> Result<Outcome> {
    Outcome::of(&Script {
        shell: args.shell.to_string(),
        script: crate::generate::completion_script(args.shell),
    })
}
