//! `pm play PLAYBOOK [-- ARGS]`: ansible-playbook over a network that is up.

use crate::context::Context;
use crate::output::{Outcome, Render};
use crate::play::{self, PlayOptions, Played};
use crate::schema::Output;
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct PlayArgs {
    /// The playbook file
    pub playbook: PathBuf,

    /// Arguments for ansible-playbook, after `--` (e.g. -- -i hosts -e x=1)
    #[arg(last = true, value_name = "ARGS")]
    pub args: Vec<String>,
}

/// What it prints, for `pm schema`.
pub fn outputs() -> Vec<Output> {
    vec![Output::mutating::<Played>("play")]
}

pub fn run(args: PlayArgs, ctx: &mut Context) -> Result<Outcome> {
    let options = PlayOptions {
        playbook: args.playbook,
        args: args.args,
        // --dry-run (or PM_DRY_RUN) is ansible's check mode.
        check: ctx.dry_run,
    };
    Outcome::of(&play::play(ctx, &options)?)
}

impl Render for Played {
    fn human(&self) -> String {
        let mut text = format!(
            "playbook {}: ok (ansible-playbook exit code {}){}",
            self.playbook.display(),
            self.ansible_rc,
            if self.dry_run { ", check mode" } else { "" }
        );
        for (host, recap) in &self.recap {
            text.push_str(&format!("\n  {host}: {}", play::counts(recap)));
        }
        text
    }
}
