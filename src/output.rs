//! The one place that prints results and errors.
//!
//! A command returns a value that is `Serialize` (its `--json` form) and
//! knows its human rendering ([`Render`]). This module decides which to
//! print, so the JSON contract is the same for every command: with `--json`
//! exactly one document on stdout, the result on success and
//! `{"error": {"code", "message", "hint", ...}}` on failure. Human messages,
//! logs and progress go to stderr only.

use crate::error::{ExitCode, PmError, classify};
use anyhow::Result;
use serde::Serialize;
use serde_json::{Value, json};
use std::io::Write;

/// A command's result: serialisable for `--json`, and readable by a person.
pub trait Render: Serialize {
    /// The text printed on stdout without `--json`.
    fn human(&self) -> String;
}

/// A rendered result, ready to print.
#[derive(Debug)]
pub struct Outcome {
    pub json: Value,
    pub human: String,
    /// Non-zero for results that are not failures but need attention
    /// (`pm doctor` finding a problem).
    pub exit: ExitCode,
}

impl Outcome {
    pub fn of<T: Render>(result: &T) -> Result<Outcome> {
        Ok(Outcome {
            json: serde_json::to_value(result)?,
            human: result.human(),
            exit: ExitCode::Success,
        })
    }

    pub fn with_exit(mut self, exit: ExitCode) -> Outcome {
        self.exit = exit;
        self
    }

    /// Marks the result of a `--dry-run`: `"dry_run": true` in the JSON, a
    /// note in the human text.
    pub fn mark_dry_run(&mut self) {
        if let Value::Object(map) = &mut self.json {
            map.insert("dry_run".to_string(), Value::Bool(true));
        }
        self.human = format!("(dry run: nothing was changed)\n{}", self.human);
    }

    /// The `changed` field mutating commands report, for the history.
    pub fn changed(&self) -> Option<bool> {
        self.json.get("changed").and_then(Value::as_bool)
    }
}

pub fn print_outcome(outcome: &Outcome, json_mode: bool) {
    wait_unless_first_to_print();
    let mut stdout = std::io::stdout().lock();
    let text = if json_mode {
        let mut doc = outcome.json.to_string();
        doc.push('\n');
        doc
    } else {
        let mut text = outcome.human.clone();
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text
    };
    // A closed pipe (`pm ... | head`) is not an error worth a panic.
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

/// Prints an error and returns its exit code: once on stderr for a person,
/// and with `--json` also as the one document on stdout.
pub fn print_error(err: &anyhow::Error, json_mode: bool) -> ExitCode {
    wait_unless_first_to_print();
    let mut c = classify(err);
    c.message = crate::secret::redact(&c.message).into_owned();
    c.hint = c.hint.map(|h| crate::secret::redact(&h).into_owned());
    if json_mode {
        let _ = writeln!(std::io::stdout().lock(), "{}", c.document());
    }
    print_error_text(&c.message, c.hint.as_deref());
    c.exit
}

/// A command prints one result or one error. When a signal's report got
/// there first, this thread waits for the exit that follows it.
fn wait_unless_first_to_print() {
    if !crate::signals::claim_output() {
        loop {
            std::thread::park();
        }
    }
}

fn print_error_text(message: &str, hint: Option<&str>) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "pm: error: {message}");
    if let Some(hint) = hint {
        let _ = writeln!(stderr, "pm: hint: {hint}");
    }
}

/// A usage error from clap, in the same contract as every other error:
/// clap's own text on stderr, and with `--json` its full message, tip and
/// usage line in the document.
pub fn print_usage_error(err: &clap::Error, json_mode: bool) -> ExitCode {
    if !json_mode {
        let _ = err.print();
        return ExitCode::Usage;
    }
    let usage = UsageError::parse(&err.render().to_string());
    let usage_error = PmError::usage(usage.message, Some(usage.hint));
    let mut c = classify(&usage_error.into());
    // Only clap's errors carry its usage line (null when it showed none).
    c.details
        .insert("usage".to_string(), Value::from(usage.usage));
    let _ = writeln!(std::io::stdout().lock(), "{}", c.document());
    print_error_text(&c.message, c.hint.as_deref());
    c.exit
}

/// The parts of clap's rendered usage error.
#[derive(Debug, PartialEq)]
struct UsageError {
    message: String,
    hint: String,
    usage: Option<String>,
}

impl UsageError {
    /// clap renders `error: WHAT` (continued on indented lines), blank-line
    /// separated `tip:` blocks, `Usage: ...`, and a closing pointer to
    /// `--help`. A command given without its subcommand renders that
    /// command's help instead, which is turned into a message here.
    fn parse(rendered: &str) -> UsageError {
        let blocks: Vec<Vec<&str>> = rendered
            .split("\n\n")
            .map(|b| {
                b.lines()
                    .filter(|l| !l.trim().is_empty())
                    .collect::<Vec<_>>()
            })
            .filter(|b| !b.is_empty())
            .collect();
        let usage = blocks
            .iter()
            .flatten()
            .find_map(|l| l.trim().strip_prefix("Usage: "))
            .map(str::to_string);
        // `pm image fetch --json <SOURCE>` → `pm image fetch`
        let command_path = usage.as_deref().map_or("pm".to_string(), |u| {
            u.split_whitespace()
                .take_while(|w| {
                    w.chars().all(|c| c.is_ascii_lowercase() || c == '-') && !w.starts_with('-')
                })
                .collect::<Vec<_>>()
                .join(" ")
        });
        let see_help = format!("see `{command_path} --help`");
        let Some(first) = blocks.first().and_then(|b| b.first()) else {
            return UsageError {
                message: "invalid usage".to_string(),
                hint: see_help,
                usage,
            };
        };
        let Some(what) = first.strip_prefix("error: ") else {
            return UsageError {
                message: format!(
                    "`{command_path}` needs a command: {}",
                    subcommands(&blocks).join(", ")
                ),
                hint: see_help,
                usage,
            };
        };
        let mut message = what.trim().to_string();
        for line in &blocks[0][1..] {
            message.push(' ');
            message.push_str(line.trim());
        }
        let mut hint: Vec<String> = blocks
            .iter()
            .flatten()
            .filter_map(|l| l.trim().strip_prefix("tip: "))
            .map(str::to_string)
            .collect();
        hint.push(see_help);
        UsageError {
            message,
            hint: hint.join("; "),
            usage,
        }
    }
}

/// The names listed under `Commands:` in a rendered help text.
fn subcommands(blocks: &[Vec<&str>]) -> Vec<String> {
    blocks
        .iter()
        .filter(|b| b[0].trim_end() == "Commands:")
        .flat_map(|b| b[1..].iter())
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect()
}

/// `pm --version`, as text or (with `--json`) as a document.
pub fn print_version(json_mode: bool) {
    let version = env!("CARGO_PKG_VERSION");
    let text = if json_mode {
        json!({"name": "pm", "version": version}).to_string()
    } else {
        format!("pm {version}")
    };
    let _ = writeln!(std::io::stdout().lock(), "{text}");
}

/// A message for the person at the terminal (stderr), unless `-q`.
pub fn notice(quiet: bool, message: &str) {
    if !quiet {
        let _ = writeln!(std::io::stderr().lock(), "pm: {message}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_usage_error_keeps_its_message_tip_and_usage() {
        let rendered = "error: unexpected argument '--foo' found\n\n  tip: to pass '--foo' as a value, use '-- --foo'\n\nUsage: pm state prune [OPTIONS] --older-than <DURATION>\n\nFor more information, try '--help'.\n";
        let parsed = UsageError::parse(rendered);
        assert_eq!(parsed.message, "unexpected argument '--foo' found");
        assert_eq!(
            parsed.hint,
            "to pass '--foo' as a value, use '-- --foo'; see `pm state prune --help`"
        );
        assert_eq!(
            parsed.usage.as_deref(),
            Some("pm state prune [OPTIONS] --older-than <DURATION>")
        );
    }
}
