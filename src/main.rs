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
    let json_requested = argv.iter().any(|a| a == "--json")
        || env.var("PM_JSON").is_some_and(|v| {
            pm::config::parse_value(pm::config::Kind::Bool, v) == Ok(pm::config::Value::Bool(true))
        });

    let cli = match command()
        .try_get_matches_from(&argv)
        .and_then(|m| Cli::from_arg_matches(&m))
    {
        Ok(cli) => cli,
        Err(e) if e.kind() == ErrorKind::DisplayHelp => {
            let _ = e.print();
            return ExitCode::Success;
        }
        // One version for every subcommand (`pm image --version` is pm's),
        // and a document with `--json`.
        Err(e) if e.kind() == ErrorKind::DisplayVersion => {
            output::print_version(json_requested);
            return ExitCode::Success;
        }
        Err(e) => return output::print_usage_error(&e, json_requested),
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
        let entry = NewHistoryEntry {
            started_at_ms,
            duration_ms: now_ms() - started_at_ms,
            command: name.clone(),
            args: redacted_argv.iter().skip(1).cloned().collect(),
            ok: result.is_ok(),
            error_code: result
                .as_ref()
                .err()
                .map(|e| pm::error::classify(e).code.to_string()),
            changed: result.as_ref().ok().and_then(|o| o.changed()),
        };
        // A history write that fails must not turn a successful command
        // into a failure, so it is logged and dropped.
        if let Err(e) = ctx.record_history(&entry) {
            tracing::warn!(error = format!("{e:#}"), "history_record_failed");
        }
    }

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
