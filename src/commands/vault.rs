//! `pm vault status|unlock|lock|get`: secrets from Bitwarden through `bw`.

use crate::context::Context;
use crate::output::{Outcome, Render};
use crate::schema::Output;
use crate::vault::{
    AccountStatus, Field, Found, Locked, SessionState, Unlocked, Vault, VaultOptions, VaultStatus,
};
use anyhow::Result;
use clap::{Args, Subcommand};
use schemars::JsonSchema;
use serde::{Serialize, Serializer};
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct VaultArgs {
    #[command(subcommand)]
    pub verb: VaultVerb,
}

#[derive(Debug, Subcommand)]
pub enum VaultVerb {
    /// Show whether bw is logged in, locked or unlocked, and whether pm's cached session works
    Status,
    /// Unlock the vault and cache the session for later pm commands (owner-only file)
    Unlock(PasswordArgs),
    /// Lock the vault and remove the cached session
    Lock,
    /// Print one field of the item with exactly this name or id (raw on stdout)
    Get(GetArgs),
}

impl VaultVerb {
    pub fn name(&self) -> &'static str {
        match self {
            VaultVerb::Status => "status",
            VaultVerb::Unlock(_) => "unlock",
            VaultVerb::Lock => "lock",
            VaultVerb::Get(_) => "get",
        }
    }

    /// Unlock and lock change bw's state and the cached session; get may
    /// unlock on the way, but what it is for is reading.
    pub fn is_mutating(&self) -> bool {
        matches!(self, VaultVerb::Unlock(_) | VaultVerb::Lock)
    }
}

/// Where the master password comes from when the vault must be unlocked.
/// Without either, pm asks on the terminal (only when stdin is one).
#[derive(Debug, Args)]
pub struct PasswordArgs {
    /// Read the master password from the first line of this file [config: vault.password_file]
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,

    /// Read the master password from this environment variable [config: vault.password_env]
    #[arg(long, value_name = "VAR", conflicts_with = "password_file")]
    pub password_env: Option<String>,
}

#[derive(Debug, Args)]
pub struct GetArgs {
    /// The item's exact name (case-sensitive) or its id
    pub item: String,

    /// password, username, notes, uri, totp, or the name of a custom field
    #[arg(long, short, default_value = "password", value_name = "FIELD")]
    pub field: String,

    /// Pull the vault from the server first (`bw sync`), to see secrets rotated elsewhere
    #[arg(long)]
    pub sync: bool,

    #[command(flatten)]
    pub password: PasswordArgs,
}

pub fn run(args: VaultArgs, ctx: &mut Context) -> Result<Outcome> {
    match args.verb {
        VaultVerb::Status => Outcome::of(&open(ctx, None)?.status()?),
        VaultVerb::Unlock(password) if ctx.dry_run => {
            Outcome::of(&open(ctx, Some(password))?.predict_unlock()?)
        }
        VaultVerb::Unlock(password) => Outcome::of(&open(ctx, Some(password))?.unlock()?),
        VaultVerb::Lock if ctx.dry_run => Outcome::of(&open(ctx, None)?.predict_lock()?),
        VaultVerb::Lock => Outcome::of(&open(ctx, None)?.lock()?),
        VaultVerb::Get(get) => {
            let vault = open(ctx, Some(get.password))?;
            if get.sync {
                vault.sync()?;
            }
            Outcome::of(&vault.get(&get.item, &Field::parse(&get.field))?)
        }
    }
}

fn open(ctx: &Context, password: Option<PasswordArgs>) -> Result<Vault> {
    let options = match password {
        Some(args) => VaultOptions {
            password_file: args.password_file,
            password_env: args.password_env,
            interactive: std::io::stdin().is_terminal(),
        },
        None => VaultOptions::default(),
    };
    Vault::open(&ctx.config, options)
}

impl Render for VaultStatus {
    fn human(&self) -> String {
        let status = match self.status {
            AccountStatus::Unauthenticated => "not logged in (run `bw login`)",
            AccountStatus::Locked => "locked",
            AccountStatus::Unlocked => "unlocked",
        };
        let session = match self.session {
            SessionState::None => "none cached".to_string(),
            SessionState::Valid => format!("valid, cached in {}", self.session_file.display()),
            SessionState::Stale => format!(
                "stale (bw no longer accepts it), cached in {}",
                self.session_file.display()
            ),
        };
        let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_string());
        format!(
            "vault:     {status}\nserver:    {}\naccount:   {}\nlast sync: {}\nsession:   {session}",
            self.server
                .clone()
                .unwrap_or_else(|| "bitwarden.com (default)".to_string()),
            or_dash(&self.user_email),
            or_dash(&self.last_sync),
        )
    }
}

impl Render for Unlocked {
    fn human(&self) -> String {
        if self.changed {
            format!(
                "vault unlocked; session cached in {}",
                self.session_file.display()
            )
        } else {
            "vault already unlocked".to_string()
        }
    }
}

impl Render for Locked {
    fn human(&self) -> String {
        match (self.changed, self.status) {
            (_, AccountStatus::Unauthenticated) => {
                "bw is not logged in; nothing to lock".to_string()
            }
            (true, _) => "vault locked; cached session removed".to_string(),
            (false, _) => "vault locked".to_string(),
        }
    }
}

/// `get` is the one command whose output is a secret, on purpose: the raw
/// value for `$(pm vault get ...)`, or `{"item","id","field","value"}`.
/// What `vault get --json` prints: the one place a secret's value is
/// exposed to stdout.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "Found")]
struct Printed<'a> {
    /// The item's name.
    item: &'a str,
    id: &'a str,
    field: String,
    value: &'a str,
}

impl Serialize for Found {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Printed {
            item: &self.name,
            id: &self.id,
            field: self.field.to_string(),
            value: self.value.expose(),
        }
        .serialize(serializer)
    }
}

/// What each verb prints, for `pm schema`.
pub fn outputs() -> Vec<Output> {
    vec![
        Output::read_only::<VaultStatus>("vault status"),
        Output::mutating::<Unlocked>("vault unlock"),
        Output::mutating::<Locked>("vault lock"),
        Output::read_only::<Printed>("vault get"),
    ]
}

impl Render for Found {
    fn human(&self) -> String {
        self.value.expose().to_string()
    }
}
