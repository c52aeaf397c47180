//! The command-line definition (clap derive): global options and the nouns.
//!
//! Each noun's arguments live in its own file under `commands/`; this file
//! only assembles them, so the whole CLI can be read top-down from here.

use crate::commands;
use crate::config::{FlagValues, Value};
use crate::error::EXIT_CODE_TABLE;
use crate::logging::LogFormat;
use clap::{Args, CommandFactory, Parser};
use std::path::PathBuf;

/// The `--help` heading of the options every command takes.
pub const GLOBAL_OPTIONS: &str = "Global options";

const ABOUT: &str =
    "The platform manager toolkit: images, pools, vault, network and providers for compute hosts";

#[derive(Debug, Parser)]
#[command(name = "pm", version, about = ABOUT, after_help = EXIT_CODE_TABLE, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: commands::Command,
}

/// Options every command takes. Each is also settable by a `PM_*`
/// environment variable and the config file (flag > env > file > default).
/// They are listed under their own heading in every `--help`, apart from
/// the command's own flags.
#[derive(Debug, Args)]
#[command(next_help_heading = GLOBAL_OPTIONS)]
pub struct GlobalArgs {
    /// Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]
    #[arg(long, global = true)]
    pub json: bool,

    /// The SQLite state file [env: PM_STATE]
    #[arg(long, global = true, value_name = "PATH")]
    pub state: Option<PathBuf>,

    /// The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Change nothing; print what a real run would report, `changed` included [env: PM_DRY_RUN]
    #[arg(long, global = true)]
    pub dry_run: bool,

    /// Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]
    #[arg(
        long,
        global = true,
        value_name = "SECS",
        allow_negative_numbers = true
    )]
    pub lock_timeout: Option<i64>,

    /// More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Less output on stderr: only errors
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "verbose")]
    pub quiet: u8,

    /// Format of the logs on stderr [env: PM_LOG_FORMAT]
    #[arg(long, global = true, value_enum, value_name = "FORMAT")]
    pub log_format: Option<LogFormat>,
}

impl GlobalArgs {
    /// The values given on the command line, keyed like the config file.
    pub fn flag_values(&self) -> FlagValues {
        let mut flags = FlagValues {
            config: self.config.clone(),
            ..FlagValues::default()
        };
        if self.json {
            flags.values.insert("json", Value::Bool(true));
        }
        if self.dry_run {
            flags.values.insert("dry_run", Value::Bool(true));
        }
        if let Some(path) = &self.state {
            flags
                .values
                .insert("state", Value::Str(path.display().to_string()));
        }
        if let Some(secs) = self.lock_timeout {
            flags.values.insert("lock_timeout", Value::Int(secs));
        }
        if self.verbose > 0 || self.quiet > 0 {
            let level = i64::from(self.verbose) - i64::from(self.quiet);
            flags.values.insert("verbosity", Value::Int(level));
        }
        if let Some(format) = self.log_format {
            let word = match format {
                LogFormat::Text => "text",
                LogFormat::Json => "json",
            };
            flags
                .values
                .insert("log_format", Value::Str(word.to_string()));
        }
        flags
    }
}

/// The clap command, with every command's examples: what main parses with,
/// and what completion and man page generation read.
pub fn command() -> clap::Command {
    crate::help::with_examples(Cli::command())
}
