//! `pm config show`: every effective value and where it came from.

use crate::config::{Config, Setting};
use crate::context::Context;
use crate::output::{Outcome, Render};
use anyhow::Result;
use clap::{Args, Subcommand};
use serde::Serialize;

#[derive(Debug, Args)]
pub struct ConfigArgs {
    #[command(subcommand)]
    pub verb: ConfigVerb,
}

#[derive(Debug, Subcommand)]
pub enum ConfigVerb {
    /// Print every effective setting and its source (flag, env, file, default)
    Show,
}

pub fn run(args: ConfigArgs, ctx: &mut Context) -> Result<Outcome> {
    match args.verb {
        ConfigVerb::Show => Outcome::of(&ConfigShow(&ctx.config)),
    }
}

#[derive(Serialize)]
struct ConfigShow<'a>(&'a Config);

impl Render for ConfigShow<'_> {
    fn human(&self) -> String {
        let config = self.0;
        let width = config
            .settings
            .iter()
            .map(|s| s.key.len())
            .max()
            .unwrap_or(0);
        let mut out = match &config.file {
            Some(path) => format!(
                "# config file: {} ({})\n",
                path.display(),
                config.file_source
            ),
            None => "# config file: none found\n".to_string(),
        };
        for Setting {
            key, value, source, ..
        } in &config.settings
        {
            out.push_str(&format!("{key:<width$} = {value}  # {source}\n"));
        }
        out
    }
}
