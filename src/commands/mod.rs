//! One file per noun. Each parses its verbs' arguments, calls the domain and
//! returns an [`Outcome`]; none prints or exits.

pub mod completions;
pub mod config;
pub mod image;
// net (issue 13)
pub mod net;
pub mod play;
pub mod provider;
pub mod state;
pub mod vault;
// pool/activate (issue 6)
pub mod activation;
pub mod pool;
// inspect, doctor, report, logs collect (issue 14)
pub mod doctor;
pub mod inspect;
pub mod logs;
pub mod report;
// the JSON contract (issue 16)
pub mod schema;

use crate::context::Context;
use crate::output::Outcome;
use anyhow::Result;
use clap::Subcommand;

/// The nouns (see `cli` for the global options around them).
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Fetch, validate and activate root-filesystem images
    Image(image::ImageArgs),
    /// The device-mapper thin pool that activations live on
    Pool(pool::PoolArgs),
    /// Inspect and maintain the shared state file
    State(state::StateArgs),
    /// Show the effective configuration
    Config(config::ConfigArgs),
    /// Print a shell completion script
    Completions(completions::CompletionsArgs),
    /// Read secrets from a Bitwarden vault through the bw CLI
    Vault(vault::VaultArgs),
    /// Every fact about this host, read-only (platform, device-mapper, pool, disks, tools, state, network, provider)
    Inspect(inspect::InspectArgs),
    /// Judge this host: one finding per check; exit 0 all well or warnings, 9 a check failed, 1 doctor could not run
    Doctor(doctor::DoctorArgs),
    /// The inspection and the state's lists as JSON, Markdown or one HTML page; `fleet` merges many hosts
    Report(report::ReportArgs),
    /// Support bundles: pm's logs, the state and the inspection, secrets redacted
    Logs(logs::LogsArgs),
    /// Join and leave the Tailscale network (tailscale, tailscaled; the auth key from the vault)
    Net(net::NetArgs),
    /// Run an Ansible playbook, only once the network is up
    Play(play::PlayArgs),
    /// Register this host as a compute provider and onboard it into a Ray cluster
    Provider(provider::ProviderArgs),
    /// The JSON Schema of each command's JSON output: the versioned contract
    Schema(schema::SchemaArgs),
}

/// Runs a parsed command.
pub fn run(command: Command, ctx: &mut Context) -> Result<Outcome> {
    match command {
        Command::Image(args) => image::run(args, ctx),
        Command::State(args) => state::run(args, ctx),
        Command::Pool(args) => pool::run(args, ctx),
        Command::Config(args) => config::run(args, ctx),
        Command::Completions(args) => completions::run(args),
        Command::Vault(args) => vault::run(args, ctx),
        Command::Inspect(args) => inspect::run(args, ctx),
        Command::Doctor(args) => doctor::run(args, ctx),
        Command::Report(args) => report::run(args, ctx),
        Command::Logs(args) => logs::run(args, ctx),
        Command::Net(args) => net::run(args, ctx),
        Command::Play(args) => play::run(args, ctx),
        Command::Provider(args) => provider::run(args, ctx),
        Command::Schema(args) => schema::run(args),
    }
}

/// The command path recorded in history and shown by lock waiters.
pub fn name(command: &Command) -> String {
    match command {
        Command::Image(args) => format!("image {}", args.verb.name()),
        Command::State(args) => format!("state {}", args.verb.name()),
        Command::Pool(args) => format!("pool {}", args.verb.name()),
        Command::Config(_) => "config show".to_string(),
        Command::Completions(_) => "completions".to_string(),
        Command::Vault(args) => format!("vault {}", args.verb.name()),
        Command::Inspect(_) => "inspect".to_string(),
        Command::Doctor(_) => "doctor".to_string(),
        Command::Report(args) => args.name().to_string(),
        Command::Logs(args) => format!("logs {}", args.verb.name()),
        Command::Net(args) => format!("net {}", args.verb.name()),
        Command::Play(_) => "play".to_string(),
        Command::Provider(args) => format!("provider {}", args.verb.name()),
        Command::Schema(_) => "schema".to_string(),
    }
}

/// Whether the command changes state; those are recorded in the history.
pub fn is_mutating(command: &Command) -> bool {
    match command {
        Command::Image(args) => args.verb.is_mutating(),
        Command::State(args) => args.verb.is_mutating(),
        Command::Pool(args) => args.verb.is_mutating(),
        Command::Config(_) | Command::Completions(_) | Command::Schema(_) => false,
        Command::Vault(args) => args.verb.is_mutating(),
        // They change no state: `logs collect`, `report -o` and `doctor
        // --textfile-dir` write only the output file they are given.
        Command::Inspect(_) | Command::Doctor(_) | Command::Report(_) | Command::Logs(_) => false,
        Command::Net(args) => args.verb.is_mutating(),
        // A playbook changes the hosts it runs on.
        Command::Play(_) => true,
        Command::Provider(args) => args.verb.is_mutating(),
    }
}

/// What every command prints with `--json`, for `pm schema`: one entry per
/// command path of the CLI (a test holds the two together).
pub fn outputs() -> Vec<crate::schema::Output> {
    [
        image::outputs(),
        pool::outputs(),
        state::outputs(),
        config::outputs(),
        completions::outputs(),
        vault::outputs(),
        inspect::outputs(),
        doctor::outputs(),
        report::outputs(),
        logs::outputs(),
        net::outputs(),
        play::outputs(),
        provider::outputs(),
        schema::outputs(),
    ]
    .into_iter()
    .flatten()
    .collect()
}
