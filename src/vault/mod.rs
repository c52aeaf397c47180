//! The Bitwarden vault, read through the official `bw` CLI (SPEC §4).
//!
//! This is the small in-process interface the rest of pm uses (`pm net`
//! fetches and re-fetches its auth key with [`Vault::get`]):
//!
//! ```text
//! let vault = Vault::open(&ctx.config, VaultOptions::default())?;
//! let key = vault.get("tailscale-authkey", &Field::Password)?.value;
//! ```
//!
//! It owns the session life cycle: the session key is cached in an
//! owner-only file under the runtime directory (`session`), handed to bw in
//! its environment (`bw`), and minted again, once, when bw says it is no
//! longer valid and a master password source is configured (`password`).
//! bw's messages are translated into pm errors in one table (`messages`).
//! Names are matched exactly here: bw's own search is by substring.

pub mod bw;
pub mod messages;
pub mod password;
pub mod session;

use crate::config::{Config, Environment};
use crate::error::PmError;
use crate::lock::{self, Holder};
use crate::secret::Secret;
use anyhow::Result;
use bw::{Bw, BwInputs, BwRun, PASSWORD_VAR};
use messages::BwMessage;
pub use password::PasswordSource;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;
use session::SessionCache;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// How many similar names a "not found" error suggests.
const MAX_SIMILAR: usize = 5;

/// What the caller adds to the config: command-line password sources, and
/// whether a person is at the terminal to be asked.
#[derive(Clone, Debug, Default)]
pub struct VaultOptions {
    pub password_file: Option<PathBuf>,
    pub password_env: Option<String>,
    /// Stdin is a terminal: prompt for the password when nothing else gives it.
    pub interactive: bool,
}

/// The vault as pm sees it: a bw program, a data directory, a cached session
/// and a way to get the master password.
pub struct Vault {
    bw: Bw,
    cache: SessionCache,
    password: PasswordSource,
    env: Environment,
    lock_timeout: Duration,
}

/// bw's account state for this data directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    Unauthenticated,
    Locked,
    Unlocked,
}

/// pm's cached session, as bw judged it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    /// No session cached.
    None,
    /// The cached session unlocks the vault.
    Valid,
    /// A session is cached but bw no longer accepts it.
    Stale,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct VaultStatus {
    pub status: AccountStatus,
    /// `null` for the default bitwarden.com cloud.
    pub server: Option<String>,
    pub last_sync: Option<String>,
    pub user_email: Option<String>,
    pub session: SessionState,
    pub session_file: PathBuf,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Unlocked {
    pub changed: bool,
    pub status: AccountStatus,
    pub session_file: PathBuf,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Locked {
    pub changed: bool,
    pub status: AccountStatus,
}

/// One field of one item. `value` is the secret asked for.
#[derive(Debug)]
pub struct Found {
    pub id: String,
    pub name: String,
    pub field: Field,
    pub value: Secret,
}

/// Which part of an item to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Field {
    Password,
    Username,
    Notes,
    /// The first URI of a login.
    Uri,
    /// The current TOTP code (computed by bw from the item's TOTP secret).
    Totp,
    /// A custom field, by exact name.
    Custom(String),
}

impl Field {
    pub fn parse(name: &str) -> Field {
        match name {
            "password" => Field::Password,
            "username" => Field::Username,
            "notes" => Field::Notes,
            "uri" => Field::Uri,
            "totp" => Field::Totp,
            other => Field::Custom(other.to_string()),
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::Password => "password",
            Field::Username => "username",
            Field::Notes => "notes",
            Field::Uri => "uri",
            Field::Totp => "totp",
            Field::Custom(name) => name,
        })
    }
}

/// One try of a read with a session: done, or bw refused the session.
enum Attempt<T> {
    Done(T),
    Locked,
}

impl Vault {
    /// The vault as configured (`vault.*` keys), with `options` on top.
    /// Fails with `bw_missing` when bw cannot be found.
    pub fn open(config: &Config, options: VaultOptions) -> Result<Vault> {
        let non_empty = |key: crate::config::Key<crate::config::kinds::Str>| {
            Some(config.string(key).to_string()).filter(|v| !v.is_empty())
        };
        let password = if let Some(file) = options.password_file {
            PasswordSource::File(file)
        } else if let Some(var) = options.password_env {
            PasswordSource::Env(var)
        } else if let Some(file) = non_empty(crate::config::key::VAULT_PASSWORD_FILE) {
            PasswordSource::File(PathBuf::from(file))
        } else if let Some(var) = non_empty(crate::config::key::VAULT_PASSWORD_ENV) {
            PasswordSource::Env(var)
        } else if options.interactive {
            PasswordSource::Terminal
        } else {
            PasswordSource::None
        };
        let timeout =
            Duration::from_secs(config.int(crate::config::key::VAULT_TIMEOUT).max(1) as u64);
        let bw = Bw::locate(
            config.string(crate::config::key::VAULT_BW_PATH),
            non_empty(crate::config::key::VAULT_DATA_DIR).map(PathBuf::from),
            timeout,
            &config.env.vars,
        )?;
        Ok(Vault {
            bw,
            cache: SessionCache::new(PathBuf::from(
                config.string(crate::config::key::VAULT_SESSION_DIR),
            )),
            password,
            env: config.env.clone(),
            lock_timeout: Duration::from_secs(config.count(crate::config::key::LOCK_TIMEOUT)),
        })
    }

    /// bw's account state, and whether pm's cached session still works.
    pub fn status(&self) -> Result<VaultStatus> {
        let cached = self.cache.load()?;
        let bw_status = self.bw_status(cached.as_ref())?;
        let status = account_status(&bw_status)?;
        let session = match (&cached, status) {
            (None, _) => SessionState::None,
            (Some(_), AccountStatus::Unlocked) => SessionState::Valid,
            (Some(_), _) => SessionState::Stale,
        };
        let text = |key: &str| bw_status[key].as_str().map(str::to_string);
        Ok(VaultStatus {
            status,
            server: text("serverUrl"),
            last_sync: text("lastSync"),
            user_email: text("userEmail"),
            session,
            session_file: self.cache.path(),
        })
    }

    /// Unlocks the vault and caches the session. `changed: false` when the
    /// cached session already works.
    pub fn unlock(&self) -> Result<Unlocked> {
        let cached = self.cache.load()?;
        if let Some(session) = &cached {
            match account_status(&self.bw_status(Some(session))?)? {
                AccountStatus::Unlocked => return Ok(self.unlocked(false)),
                AccountStatus::Unauthenticated => return Err(PmError::VaultNotLoggedIn.into()),
                AccountStatus::Locked => {}
            }
        }
        if self.password.is_none() {
            return Err(match &cached {
                Some(stale) => self.session_expired(stale)?,
                None => self.explain_locked()?,
            });
        }
        let (_, minted) = self.unlock_now(cached.as_ref())?;
        Ok(self.unlocked(minted))
    }

    /// What `unlock` would do, changing nothing (`--dry-run`): the same
    /// errors, and `changed` when the cached session does not already work.
    pub fn predict_unlock(&self) -> Result<Unlocked> {
        let cached = self.cache.load()?;
        match account_status(&self.bw_status(cached.as_ref())?)? {
            AccountStatus::Unlocked if cached.is_some() => Ok(self.unlocked(false)),
            AccountStatus::Unauthenticated => Err(PmError::VaultNotLoggedIn.into()),
            _ if self.password.is_none() => Err(match cached {
                Some(_) => PmError::VaultSessionExpired.into(),
                None => PmError::VaultLocked.into(),
            }),
            _ => Ok(self.unlocked(true)),
        }
    }

    /// What `lock` would do, changing nothing (`--dry-run`).
    pub fn predict_lock(&self) -> Result<Locked> {
        let cached = self.cache.load()?;
        let status = match account_status(&self.bw_status(None)?)? {
            AccountStatus::Unauthenticated => AccountStatus::Unauthenticated,
            _ => AccountStatus::Locked,
        };
        Ok(Locked {
            changed: cached.is_some(),
            status,
        })
    }

    /// Locks bw (every session it issued stops working) and removes the
    /// cached session. `changed` says whether a session was cached.
    pub fn lock(&self) -> Result<Locked> {
        let cached = self.cache.load()?;
        let had_session = self.cache.clear()?;
        let run = self.bw.run(
            &["lock"],
            &BwInputs {
                session: cached.as_ref(),
                ..BwInputs::default()
            },
        )?;
        let status = if run.succeeded() {
            AccountStatus::Locked
        } else if messages::classify(&run.output) == Some(BwMessage::NotLoggedIn) {
            // Nothing can be unlocked without an account: the goal is met.
            AccountStatus::Unauthenticated
        } else {
            return Err(failure("lock", &run));
        };
        Ok(Locked {
            changed: had_session,
            status,
        })
    }

    /// One field of the item named exactly `wanted` (or with that id).
    /// Unlocks first when the vault is locked and a password source is
    /// configured; mints a new session once when the cached one is refused.
    pub fn get(&self, wanted: &str, field: &Field) -> Result<Found> {
        let (item, session) = self.find_item(wanted)?;
        let id = item["id"].as_str().unwrap_or_default().to_string();
        let value = self.field_value(&session, &item, &id, wanted, field)?;
        Ok(Found {
            id,
            name: wanted.to_string(),
            field: field.clone(),
            value,
        })
    }

    /// Pulls the vault from its server (`bw sync`), so that a secret rotated
    /// elsewhere (an expired auth key replaced) is what the next `get` reads.
    pub fn sync(&self) -> Result<()> {
        self.with_session(|session| self.sync_with(session))
            .map(|_| ())
    }

    /// Runs `read` with a working session: the cached one, or a new one when
    /// none is cached (this needs a password source), renewed once when bw
    /// refuses the cached one. Returns the session used with the result.
    fn with_session<T>(&self, read: impl Fn(&Secret) -> Result<Attempt<T>>) -> Result<(T, Secret)> {
        let (session, from_cache) = match self.cache.load()? {
            Some(session) => (session, true),
            None => (self.unlock_or_explain(None)?, false),
        };
        match read(&session)? {
            Attempt::Done(value) => Ok((value, session)),
            Attempt::Locked if from_cache && !self.password.is_none() => {
                tracing::info!("vault_session_refused, unlocking again");
                let renewed = self.unlock_now(Some(&session))?.0;
                match read(&renewed)? {
                    Attempt::Done(value) => Ok((value, renewed)),
                    Attempt::Locked => Err(PmError::VaultSessionExpired.into()),
                }
            }
            Attempt::Locked => Err(self.session_expired(&session)?),
        }
    }

    fn sync_with(&self, session: &Secret) -> Result<Attempt<()>> {
        let run = self.bw.run(
            &["sync"],
            &BwInputs {
                session: Some(session),
                ..BwInputs::default()
            },
        )?;
        match messages::classify(&run.output) {
            Some(BwMessage::Synced) if run.succeeded() => Ok(Attempt::Done(())),
            Some(BwMessage::Locked) => Ok(Attempt::Locked),
            _ => Err(failure("sync", &run)),
        }
    }

    fn unlocked(&self, changed: bool) -> Unlocked {
        Unlocked {
            changed,
            status: AccountStatus::Unlocked,
            session_file: self.cache.path(),
        }
    }

    /// `bw status` as JSON, with `session` in its environment.
    fn bw_status(&self, session: Option<&Secret>) -> Result<Value> {
        let run = self.bw.run(
            &["status"],
            &BwInputs {
                session,
                ..BwInputs::default()
            },
        )?;
        run.lines()
            .filter(|l| l.starts_with('{'))
            .find_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v.get("status").is_some())
            .ok_or_else(|| failure("status", &run))
    }

    fn unlock_or_explain(&self, seen: Option<&Secret>) -> Result<Secret> {
        if self.password.is_none() {
            return Err(self.explain_locked()?);
        }
        Ok(self.unlock_now(seen)?.0)
    }

    /// Mints a session with the master password and caches it. Unlocks are
    /// serialised by a lock file beside the session, because each one
    /// invalidates the session before it: a pm that waited adopts the session
    /// the other one stored instead of replacing it. The bool says whether
    /// this call minted the session.
    fn unlock_now(&self, seen: Option<&Secret>) -> Result<(Secret, bool)> {
        let password = self.password.read(&self.env)?.ok_or(PmError::VaultLocked)?;
        let me = Holder::this_process("pm vault unlock");
        let _guard = lock::acquire(
            &self.cache.lock_path(),
            "the vault unlock lock",
            &me,
            self.lock_timeout,
            |holder| {
                tracing::warn!(holder = %holder, "vault_unlock_waiting");
            },
        )?;
        if let Some(current) = self.cache.load()?
            && seen.is_none_or(|s| s.expose() != current.expose())
        {
            tracing::info!("vault_unlock_adopted");
            return Ok((current, false));
        }
        let run = self.bw.run(
            &["unlock", "--passwordenv", PASSWORD_VAR, "--raw"],
            &BwInputs {
                password: Some(&password),
                sensitive_output: true,
                ..BwInputs::default()
            },
        )?;
        // bw exits 0 without a session when it could not ask for the
        // password, so the session key itself is the proof of success.
        let Some(session) = run.lines().find(|l| is_session_key(l)).map(Secret::new) else {
            return Err(failure("unlock", &run));
        };
        self.cache.store(&session)?;
        tracing::info!(session_file = %self.cache.path().display(), "vault_unlock_complete");
        Ok((session, true))
    }

    /// The error for a locked vault with no password source: bw may also
    /// not be logged in at all, which needs another fix.
    fn explain_locked(&self) -> Result<anyhow::Error> {
        Ok(match account_status(&self.bw_status(None)?)? {
            AccountStatus::Unauthenticated => PmError::VaultNotLoggedIn.into(),
            _ => PmError::VaultLocked.into(),
        })
    }

    /// A refused cached session with no way to mint a new one: drop it, so
    /// `status` and the next command see the truth.
    fn session_expired(&self, stale: &Secret) -> Result<anyhow::Error> {
        self.cache.clear_if(stale)?;
        Ok(PmError::VaultSessionExpired.into())
    }

    /// The item named exactly `wanted` (or with that id). bw's search
    /// narrows the listing, but it is fuzzy and misses some exact names
    /// (those with non-ASCII characters, which its index does not match):
    /// when it yields no exact match, the full listing decides. The names it
    /// did match are kept as the "similar" ones of a not-found error.
    fn find_item(&self, wanted: &str) -> Result<(Value, Secret)> {
        let (items, session) =
            self.with_session(|session| self.list_items(session, Some(wanted)))?;
        let narrowed = match pick_exact(items, wanted) {
            Err(e) if is_item_not_found(&e) => e,
            found => return Ok((found?, session)),
        };
        let (all, session) = self.with_session(|session| self.list_items(session, None))?;
        match pick_exact(all, wanted) {
            Err(e) if is_item_not_found(&e) => Err(narrowed),
            found => Ok((found?, session)),
        }
    }

    /// `bw list items`, narrowed by bw's `--search` when `search` is given.
    fn list_items(&self, session: &Secret, search: Option<&str>) -> Result<Attempt<Vec<Value>>> {
        let mut args = vec!["list", "items"];
        if let Some(text) = search {
            args.extend(["--search", text]);
        }
        let run = self.bw.run(
            &args,
            &BwInputs {
                session: Some(session),
                sensitive_output: true,
                ..BwInputs::default()
            },
        )?;
        let items = run
            .lines()
            .filter(|l| l.starts_with('['))
            .find_map(|l| serde_json::from_str::<Vec<Value>>(l).ok());
        match items {
            Some(items) if run.succeeded() => Ok(Attempt::Done(items)),
            _ if messages::classify(&run.output) == Some(BwMessage::Locked) => Ok(Attempt::Locked),
            _ => Err(failure("list items", &run)),
        }
    }

    fn field_value(
        &self,
        session: &Secret,
        item: &Value,
        id: &str,
        wanted: &str,
        field: &Field,
    ) -> Result<Secret> {
        let text = |v: &Value| v.as_str().filter(|s| !s.is_empty()).map(Secret::new);
        let login = &item["login"];
        let value = match field {
            Field::Password => text(&login["password"]),
            Field::Username => text(&login["username"]),
            Field::Notes => text(&item["notes"]),
            Field::Uri => login["uris"]
                .as_array()
                .and_then(|uris| uris.iter().find_map(|u| text(&u["uri"]))),
            Field::Totp if text(&login["totp"]).is_some() => Some(self.totp_code(session, id)?),
            Field::Totp => None,
            Field::Custom(name) => item["fields"].as_array().and_then(|fields| {
                fields
                    .iter()
                    .find(|f| f["name"].as_str() == Some(name))
                    .and_then(|f| text(&f["value"]))
            }),
        };
        value.ok_or_else(|| {
            PmError::VaultFieldMissing {
                item: wanted.to_string(),
                field: field.to_string(),
                available: available_fields(item),
            }
            .into()
        })
    }

    /// The current code: bw computes it from the item's TOTP secret.
    fn totp_code(&self, session: &Secret, id: &str) -> Result<Secret> {
        let run = self.bw.run(
            &["get", "totp", id],
            &BwInputs {
                session: Some(session),
                sensitive_output: true,
                ..BwInputs::default()
            },
        )?;
        let code = run
            .lines()
            .last()
            .filter(|l| (6..=10).contains(&l.len()) && l.bytes().all(|b| b.is_ascii_digit()));
        match code {
            Some(code) if run.succeeded() => Ok(Secret::new(code)),
            _ => Err(failure("get totp", &run)),
        }
    }
}

/// The account state in `bw status` JSON.
fn account_status(bw_status: &Value) -> Result<AccountStatus> {
    match bw_status["status"].as_str() {
        Some("unauthenticated") => Ok(AccountStatus::Unauthenticated),
        Some("locked") => Ok(AccountStatus::Locked),
        Some("unlocked") => Ok(AccountStatus::Unlocked),
        other => Err(PmError::BwFailed {
            command: "status".to_string(),
            reason: format!("unknown status {other:?}"),
        }
        .into()),
    }
}

fn is_item_not_found(e: &anyhow::Error) -> bool {
    matches!(
        e.downcast_ref::<PmError>(),
        Some(PmError::VaultItemNotFound { .. })
    )
}

/// The one item named exactly `wanted`, or with that id. bw's search also
/// returns items whose name, username or URI merely contains the text.
fn pick_exact(items: Vec<Value>, wanted: &str) -> Result<Value> {
    let field_is = |item: &Value, key: &str| item[key].as_str() == Some(wanted);
    if let Some(by_id) = items.iter().find(|item| field_is(item, "id")) {
        return Ok(by_id.clone());
    }
    let (mut exact, others): (Vec<Value>, Vec<Value>) =
        items.into_iter().partition(|item| field_is(item, "name"));
    match exact.len() {
        1 => Ok(exact.remove(0)),
        0 => {
            let mut similar: Vec<String> = others
                .iter()
                .filter_map(|item| item["name"].as_str().map(str::to_string))
                .collect();
            similar.sort();
            similar.dedup();
            similar.truncate(MAX_SIMILAR);
            Err(PmError::VaultItemNotFound {
                item: wanted.to_string(),
                similar,
            }
            .into())
        }
        _ => Err(PmError::VaultItemAmbiguous {
            item: wanted.to_string(),
            ids: exact
                .iter()
                .filter_map(|item| item["id"].as_str().map(str::to_string))
                .collect(),
        }
        .into()),
    }
}

/// The names of the fields an item has a value for (never the values).
fn available_fields(item: &Value) -> Vec<String> {
    let has = |v: &Value| v.as_str().is_some_and(|s| !s.is_empty());
    let login = &item["login"];
    let mut names: Vec<String> = [
        ("password", has(&login["password"])),
        ("username", has(&login["username"])),
        ("notes", has(&item["notes"])),
        (
            "uri",
            login["uris"]
                .as_array()
                .is_some_and(|uris| uris.iter().any(|u| has(&u["uri"]))),
        ),
        ("totp", has(&login["totp"])),
    ]
    .into_iter()
    .filter(|(_, present)| *present)
    .map(|(name, _)| name.to_string())
    .collect();
    if let Some(fields) = item["fields"].as_array() {
        names.extend(
            fields
                .iter()
                .filter_map(|f| f["name"].as_str().map(str::to_string)),
        );
    }
    names
}

/// A bw session key: 64 random bytes in standard base64 (88 characters).
fn is_session_key(line: &str) -> bool {
    line.len() == 88
        && line.ends_with("==")
        && line[..86]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}

/// Translates a failed bw call into pm's error, keeping bw's own words for
/// the debug log only.
fn failure(command: &str, run: &BwRun) -> anyhow::Error {
    let message = messages::classify(&run.output);
    // Lines that could carry vault data (JSON, a session key) stay out.
    let loggable: Vec<&str> = run
        .lines()
        .filter(|l| !l.starts_with('[') && !l.starts_with('{') && !is_session_key(l))
        .collect();
    tracing::debug!(
        command,
        exit_code = ?run.exit_code(),
        message = ?message,
        output = %loggable.join("\n"),
        "vault_bw_failed"
    );
    let failed = |reason: &str| PmError::BwFailed {
        command: command.to_string(),
        reason: reason.to_string(),
    };
    match message {
        Some(BwMessage::NotLoggedIn) => PmError::VaultNotLoggedIn,
        Some(BwMessage::Locked) => PmError::VaultSessionExpired,
        Some(BwMessage::WrongPassword) => PmError::VaultWrongPassword,
        Some(BwMessage::PasswordRequired | BwMessage::Prompting) => PmError::VaultLocked,
        Some(BwMessage::PremiumRequired) => PmError::VaultPremiumRequired {
            reason: "TOTP codes need a premium account".to_string(),
        },
        Some(BwMessage::NotFound) => failed("bw found no such item"),
        Some(BwMessage::MoreThanOne) => failed("bw found more than one item"),
        Some(BwMessage::ServerUnreachable) => PmError::VaultServerUnreachable,
        None | Some(BwMessage::Synced) if run.succeeded() => {
            failed("bw printed nothing pm understands")
        }
        None | Some(BwMessage::Synced) => failed(&match run.exit_code() {
            Some(code) => format!("exit code {code}, with output pm does not recognise"),
            None => "killed by a signal".to_string(),
        }),
    }
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn item(id: &str, name: &str) -> Value {
        json!({"id": id, "name": name, "login": {"password": format!("pw-{id}")}})
    }

    #[test]
    fn only_exact_names_match_and_substring_hits_are_suggested() {
        let items = vec![
            item("1", "tailscale-authkey-old"),
            item("2", "tailscale-authkey"),
        ];
        let found = pick_exact(items.clone(), "tailscale-authkey").unwrap();
        assert_eq!(found["id"], "2");
        let err = pick_exact(items, "tailscale").unwrap_err();
        let Some(PmError::VaultItemNotFound { similar, .. }) = err.downcast_ref::<PmError>() else {
            panic!("{err:#}");
        };
        assert_eq!(similar, &["tailscale-authkey", "tailscale-authkey-old"]);
    }

    #[test]
    fn two_exact_names_are_ambiguous_unless_asked_by_id() {
        let items = vec![item("a", "dup"), item("b", "dup")];
        let err = pick_exact(items.clone(), "dup").unwrap_err();
        let Some(PmError::VaultItemAmbiguous { ids, .. }) = err.downcast_ref::<PmError>() else {
            panic!("{err:#}");
        };
        assert_eq!(ids, &["a", "b"]);
        assert_eq!(pick_exact(items, "b").unwrap()["id"], "b");
    }

    /// bw exits 0 when an unlock could not ask for the password and made no
    /// session: the exit code alone must not count as success.
    #[test]
    fn exit_code_zero_without_the_expected_output_is_a_failure() {
        let run = BwRun::exited(0, "\n");
        let err = failure("unlock", &run);
        assert_eq!(err.downcast_ref::<PmError>().unwrap().code(), "bw_failed");
    }

    #[test]
    fn session_keys_are_recognised_by_shape() {
        let key = format!("{}==", "A".repeat(86));
        assert!(is_session_key(&key));
        assert!(!is_session_key("Your vault is now unlocked!"));
        assert!(!is_session_key(&format!("{}==", "!".repeat(86))));
    }
}
