//! The one place that prints results and errors.
//!
//! A command returns a value that is `Serialize` (its `--json` form) and
//! knows its human rendering ([`Render`]). This module decides which to
//! print, so the JSON contract is the same for every command: with `--json`
//! exactly one document on stdout, the result on success and
//! `{"error": {"code", "message", "hint", ...}}` on failure. Human messages,
//! logs and progress go to stderr only.

use crate::error::{ExitCode, classify};
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

/// Prints an error (JSON on stdout, or text on stderr) and returns its exit code.
pub fn print_error(err: &anyhow::Error, json_mode: bool) -> ExitCode {
    let c = classify(err);
    let message = crate::secret::redact(&c.message).into_owned();
    let hint = c.hint.map(|h| crate::secret::redact(&h).into_owned());
    if json_mode {
        let mut body = json!({
            "code": c.code,
            "message": message,
            "hint": hint,
            "retryable": c.retryable,
        });
        if let Value::Object(map) = &mut body {
            map.extend(c.details);
        }
        let doc = json!({ "error": body });
        let _ = writeln!(std::io::stdout().lock(), "{doc}");
    } else {
        let mut stderr = std::io::stderr().lock();
        let _ = writeln!(stderr, "pm: error: {message}");
        if let Some(hint) = hint {
            let _ = writeln!(stderr, "pm: hint: {hint}");
        }
    }
    c.exit
}

/// A usage error from clap, in the same contract as every other error.
pub fn print_usage_error(err: &clap::Error, json_mode: bool) -> ExitCode {
    if json_mode {
        let rendered = err.render().to_string();
        let message = rendered
            .lines()
            .next()
            .unwrap_or("invalid usage")
            .trim_start_matches("error: ")
            .to_string();
        let doc = json!({"error": {
            "code": "usage",
            "message": message,
            "hint": "see `pm --help` or `pm <command> --help`",
            "retryable": false,
        }});
        let _ = writeln!(std::io::stdout().lock(), "{doc}");
    } else {
        let _ = err.print();
    }
    ExitCode::Usage
}

/// A message for the person at the terminal (stderr), unless `-q`.
pub fn notice(quiet: bool, message: &str) {
    if !quiet {
        let _ = writeln!(std::io::stderr().lock(), "pm: {message}");
    }
}
