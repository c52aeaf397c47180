//! `pm config show`: every effective value and where it came from.

use crate::config::{self, Config, Kind, Setting, Source, Value};
use crate::context::Context;
use crate::output::{Outcome, Render};
use crate::schema::Output;
use anyhow::Result;
use clap::{Args, Subcommand};
use schemars::JsonSchema;
use serde::Serialize;
use std::path::PathBuf;

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

/// The effective config, keys of one section together (top-level keys
/// first, then each section in the order its first key is declared).
struct ConfigShow<'a>(&'a Config);

impl ConfigShow<'_> {
    fn grouped(&self) -> Vec<&Setting> {
        let settings = &self.0.settings;
        let mut sections: Vec<&str> = vec![""];
        for s in settings {
            let section = section_of(s.key);
            if !sections.contains(&section) {
                sections.push(section);
            }
        }
        let mut grouped: Vec<&Setting> = settings.iter().collect();
        grouped.sort_by_key(|s| sections.iter().position(|x| *x == section_of(s.key)));
        grouped
    }
}

fn section_of(key: &str) -> &str {
    key.split_once('.').map_or("", |(section, _)| section)
}

/// What `config show --json` prints: the config file, where its name came
/// from, and every setting grouped by section.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "ConfigShow")]
struct Shown<'a> {
    file: &'a Option<PathBuf>,
    file_source: &'a Source,
    settings: Vec<&'a Setting>,
}

impl Serialize for ConfigShow<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Shown {
            file: &self.0.file,
            file_source: &self.0.file_source,
            settings: self.grouped(),
        }
        .serialize(serializer)
    }
}

/// What it prints, for `pm schema`.
pub fn outputs() -> Vec<Output> {
    vec![Output::read_only::<Shown>("config show")]
}

impl Render for ConfigShow<'_> {
    fn human(&self) -> String {
        let config = self.0;
        let settings = self.grouped();
        let shown: Vec<(&Setting, String)> =
            settings.iter().map(|s| (*s, shown_value(s))).collect();
        let key_width = shown.iter().map(|(s, _)| s.key.len()).max().unwrap_or(0);
        let value_width = shown.iter().map(|(_, v)| v.len()).max().unwrap_or(0);
        let mut out = match &config.file {
            Some(path) => format!(
                "# config file: {} ({})\n",
                path.display(),
                config.file_source
            ),
            None => "# config file: none found\n".to_string(),
        };
        let mut section = "";
        for (setting, value) in &shown {
            if section_of(setting.key) != section {
                section = section_of(setting.key);
                out.push('\n');
            }
            out.push_str(&format!(
                "{key:<key_width$} = {value:<value_width$}  # {source}\n",
                key = setting.key,
                source = setting.source
            ));
        }
        out
    }
}

/// Sizes as the README writes them (`8GiB`), and `(unset)` for a value
/// nobody gave and that has no default.
fn shown_value(setting: &Setting) -> String {
    match &setting.value {
        Value::Str(s) if s.is_empty() => "(unset)".to_string(),
        Value::Int(n) if config::kind_of(setting.key) == Some(Kind::Bytes) => {
            config::format_bytes(u64::try_from(*n).unwrap_or(0))
        }
        other => other.to_string(),
    }
}
