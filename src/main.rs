//! parse → context → dispatch → render → exit code. Every command takes this
//! one path; nothing below prints a result or exits the process.

use clap::{FromArgMatches, error::ErrorKind};
use pm::cli::{Cli, command};
use pm::config::{Config, Environment, key};
use pm::context::Context;
use pm::error::ExitCode;
use pm::logging::{self, LogFormat};
use pm::state::{NewHistoryEntry, now_ms};
use pm::{commands, failpoint, output, secret, signals};

fn main() {
    // `COMPLETE=bash pm` and friends answer dynamic completion requests.
    clap_complete::CompleteEnv::with_factory(command).complete();
    let code = run();
    std::process::exit(code as i32);
}

fn run() -> ExitCode {
    let env = Environment::capture();
    failpoint::arm(env.var("PM_FAILPOINTS"));
    let argv: Vec<String> = std::env::args().collect();
    let json_requested = json_requested(&argv, &env);
    let cli = match parse(&argv, json_requested) {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    let config = match Config::load(&cli.global.flag_values(), env) {
        Ok(config) => config,
        Err(e) => return output::print_error(&e, json_requested),
    };
    let format = match config.choice(key::LOG_FORMAT) {
        "json" => LogFormat::Json,
        _ => LogFormat::Text,
    };
    logging::init(config.int(key::VERBOSITY), format);

    let name = commands::name(&cli.command);
    let mutating = commands::is_mutating(&cli.command);
    let mut ctx = Context::new(config, name.clone());
    let redacted_argv: Vec<String> = argv
        .iter()
        .map(|a| secret::redact(a).into_owned())
        .collect();
    signals::install(ctx.json, &redacted_argv);
    let started_at_ms = now_ms();
    tracing::info!(command = %name, "command_start");
    let result = commands::run(cli.command, &mut ctx);
    // A dry run changes nothing, the history included.
    if mutating && !ctx.dry_run {
        record(&mut ctx, &name, &redacted_argv, started_at_ms, &result);
    }
    render(&ctx, &name, mutating, result)
}

/// Whether the error of a failed parse must be JSON: `--json` anywhere, or
/// `PM_JSON` (the config file cannot be read before the command line is).
fn json_requested(argv: &[String], env: &Environment) -> bool {
    argv.iter().any(|a| a == "--json")
        || env.var("PM_JSON").is_some_and(|v| {
            pm::config::parse_value(pm::config::Kind::Bool, v) == Ok(pm::config::Value::Bool(true))
        })
}

/// The command line, or the exit code of help, version or a usage error
/// (already printed).
fn parse(argv: &[String], json_requested: bool) -> Result<Cli, ExitCode> {
    match command()
        .try_get_matches_from(argv)
        .and_then(|m| Cli::from_arg_matches(&m))
    {
        Ok(cli) => Ok(cli),
        Err(e) if e.kind() == ErrorKind::DisplayHelp => {
            let _ = e.print();
            Err(ExitCode::Success)
        }
        // One version for every subcommand (`pm image --version` is pm's),
        // and a document with `--json`.
        Err(e) if e.kind() == ErrorKind::DisplayVersion => {
            output::print_version(json_requested);
            Err(ExitCode::Success)
        }
        Err(e) => Err(output::print_usage_error(&e, json_requested)),
    }
}

/// Appends a mutating command to the history. A history write that fails
/// must not turn a successful command into a failure, so it is logged and
/// dropped.
fn record(
    ctx: &mut Context,
    name: &str,
    redacted_argv: &[String],
    started_at_ms: i64,
    result: &anyhow::Result<output::Outcome>,
) {
    let entry = NewHistoryEntry {
        started_at_ms,
        duration_ms: now_ms() - started_at_ms,
        command: name.to_string(),
        args: redacted_argv.iter().skip(1).cloned().collect(),
        ok: result.is_ok(),
        error_code: result
            .as_ref()
            .err()
            .map(|e| pm::error::classify(e).code.to_string()),
        changed: result.as_ref().ok().and_then(|o| o.changed()),
    };
    if let Err(e) = ctx.record_history(&entry) {
        tracing::warn!(error = format!("{e:#}"), "history_record_failed");
    }
}

/// Prints the result or the error, the one place either is printed.
fn render(
    ctx: &Context,
    name: &str,
    mutating: bool,
    result: anyhow::Result<output::Outcome>,
) -> ExitCode {
    match result {
        Ok(mut outcome) => {
            tracing::info!(command = %name, "command_complete");
            if ctx.dry_run && mutating {
                outcome.mark_dry_run();
            }
            output::print_outcome(&outcome, ctx.json);
            outcome.exit
        }
        Err(e) => {
            tracing::debug!(command = %name, error = format!("{e:#}"), "command_failed");
            output::print_error(&e, ctx.json)
        }
    }
}
