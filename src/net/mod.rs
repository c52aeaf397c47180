//! The Tailscale network (SPEC §5): `pm net up|status|wait|down|leave`.
//!
//! `up` is a bounded state machine (`machine`), not a single try: start
//! tailscaled if nothing answers (detached, it outlives pm), read the
//! node's status, and only when it is not already Running with the wanted
//! settings, fix it: `tailscale set` for settings that need no login, or
//! `tailscale up` with the auth key read from the vault in-process. A key
//! the server rejects is read again (after `bw sync`, since it may have
//! been rotated) and retried with backoff, a bounded number of times; every
//! other outcome is classified from tailscale's own words (`tailscale`) and
//! retried or reported with its own code. Every state is logged and
//! recorded (`record`), and the result is recorded in the state's
//! `net_node` row for `pm net status`.
//!
//! The key never appears in an argv, an environment or a log: it lives in a
//! [`Secret`](crate::secret::Secret) and, for the length of one `up`, in a
//! 0600 file (`keyfile`).
//!
//! Other commands that need the network call [`ensure_up`] (the provider's
//! onboarding) or [`require_running`] (`pm play`).

pub mod daemon;
mod keyfile;
mod machine;
mod ops;
mod record;
pub mod settings;
pub mod tailscale;

pub use daemon::SocketState;
pub use machine::{Plan, plan};
pub use ops::{NetDown, NetLeft, NetStatus, NetWaited, down, leave, require_running, status, wait};

use crate::config::{Config, key};
use crate::context::Context;
use crate::state::NetNode;
use crate::steps::{Retry, always};
use anyhow::Result;
use schemars::JsonSchema;
use serde::Serialize;
use settings::Wanted;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;
use tailscale::Observed;

/// The longest wait between two logins, whatever the attempt.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(30);

/// Everything `pm net` reads from the config, resolved once.
#[derive(Clone, Debug)]
pub struct NetConfig {
    pub tailscale_path: String,
    pub tailscaled_path: String,
    pub socket: PathBuf,
    pub statedir: PathBuf,
    pub tun: String,
    /// The vault item and field holding the auth key.
    pub item: String,
    pub field: String,
    pub wanted: Wanted,
    pub up_timeout: Duration,
    pub daemon_timeout: Duration,
    pub command_timeout: Duration,
    /// Logins tried with a rejected key before giving up (at least 1).
    pub login_attempts: u32,
    pub retry: Retry,
    pub key_dir: PathBuf,
    pub daemon_log: PathBuf,
}

impl NetConfig {
    pub fn from_config(config: &Config) -> NetConfig {
        let secs = |k| Duration::from_secs(config.int(k).max(1) as u64);
        let attempts = config.int(key::NET_LOGIN_ATTEMPTS).clamp(1, 100) as u32;
        NetConfig {
            tailscale_path: config.string(key::NET_TAILSCALE_PATH).to_string(),
            tailscaled_path: config.string(key::NET_TAILSCALED_PATH).to_string(),
            socket: PathBuf::from(config.string(key::NET_SOCKET)),
            statedir: PathBuf::from(config.string(key::NET_STATEDIR)),
            tun: config.string(key::NET_TUN).trim().to_string(),
            item: config.string(key::NET_AUTH_KEY_ITEM).to_string(),
            field: config.string(key::NET_AUTH_KEY_FIELD).to_string(),
            wanted: Wanted::from_config(config),
            up_timeout: secs(key::NET_UP_TIMEOUT),
            daemon_timeout: secs(key::NET_DAEMON_TIMEOUT),
            command_timeout: secs(key::NET_COMMAND_TIMEOUT),
            login_attempts: attempts,
            retry: Retry {
                attempts,
                first_delay: Duration::from_millis(
                    config.int(key::NET_RETRY_DELAY_MS).max(0) as u64
                ),
                max_delay: MAX_RETRY_DELAY,
                retry_if: always,
            },
            key_dir: PathBuf::from(config.string(key::NET_KEY_DIR)),
            daemon_log: config.paths().tailscaled_log(),
        }
    }
}

/// How `pm net up` runs.
#[derive(Clone, Copy, Debug, Default)]
pub struct UpOptions {
    /// Look and say what would change; start, write and log in nothing.
    pub dry_run: bool,
    /// A person is at the terminal: a locked vault may ask for its password.
    pub interactive: bool,
}

/// The daemon, as a report shows it.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct DaemonReport {
    pub socket: PathBuf,
    pub state: SocketState,
    pub running: bool,
    pub pid: Option<u32>,
    /// This command started it.
    pub started: bool,
    pub log: PathBuf,
}

/// What `pm net up` did (and [`ensure_up`] returns).
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct NetUp {
    pub changed: bool,
    pub dry_run: bool,
    pub backend_state: Option<String>,
    pub ips: Vec<String>,
    pub hostname: Option<String>,
    pub dns_name: Option<String>,
    pub tailnet: Option<String>,
    /// What was done (or, in a dry run, would be): `start_daemon`,
    /// `apply_settings`, `login`, `relogin`, `resume`, `await_approval`.
    pub actions: Vec<&'static str>,
    /// Logins tried with a key from the vault.
    pub attempts: u32,
    /// Settings pm does not manage that tailscale wanted restated.
    pub restated: Vec<String>,
    pub daemon: DaemonReport,
    /// Every state the machine entered, in order.
    pub states: Vec<&'static str>,
    pub duration_ms: u64,
}

/// Brings the node up as `pm net up` does, for commands that need the
/// network first (the provider's onboarding): the effective config from the
/// context, the network lock for the whole run, the same report (with
/// `changed`). A locked vault asks for its password only when stdin is a
/// terminal.
pub fn ensure_up(ctx: &mut Context) -> Result<NetUp> {
    let options = UpOptions {
        dry_run: false,
        interactive: std::io::stdin().is_terminal(),
    };
    up(ctx, &options)
}

/// `pm net up`.
pub fn up(ctx: &mut Context, options: &UpOptions) -> Result<NetUp> {
    let config = ctx.config.clone();
    let cfg = NetConfig::from_config(&config);
    if options.dry_run {
        return machine::dry_run(ctx, &cfg);
    }
    let ts = tailscale::Tailscale::locate(&cfg, &config.env.vars)?;
    let quiet = ctx.quiet;
    let lock = ctx.net_lock()?;
    keyfile::sweep_stale(&cfg.key_dir);
    let state = ctx.state()?;
    let rec = record::Recorder::begin(state, &lock, "net up")?;
    machine::Machine::new(&cfg, &config, options, quiet, ts, rec).run()
}

/// The settings pm last applied, when they belong to the node seen now.
fn applied_to(node: Option<&NetNode>, seen: &Observed) -> Option<Wanted> {
    let node = node?;
    if node.node_id.is_none() || node.node_id != seen.node_id {
        return None;
    }
    serde_json::from_value(node.applied.clone()?).ok()
}
