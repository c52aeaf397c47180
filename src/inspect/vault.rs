//! The vault as far as it can be seen without running bw: where pm caches
//! its session and whether that file is one pm would trust. (`bw status`
//! is not asked: bw rewrites its data file as it answers.)

use super::Probes;
use crate::config::key;
use crate::vault::session::SessionCache;
use schemars::JsonSchema;
use serde::Serialize;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::PathBuf;

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct VaultFacts {
    pub session_file: PathBuf,
    /// A session is cached (the vault was unlocked by pm and not locked since).
    pub session_cached: bool,
    /// The cache is owner-only and ours; pm ignores it otherwise.
    pub session_file_safe: Option<bool>,
    /// `file`, `env` or `none`: how a headless unlock gets the master password.
    pub password_source: &'static str,
    /// `vault.data_dir`, when set.
    pub data_dir: Option<String>,
}

pub fn probe(p: &Probes) -> VaultFacts {
    let config = p.config;
    let cache = SessionCache::new(PathBuf::from(config.string(key::VAULT_SESSION_DIR)));
    let session_file = cache.path();
    let meta = std::fs::metadata(&session_file).ok();
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    let password_source = if !config.string(key::VAULT_PASSWORD_FILE).is_empty() {
        "file"
    } else if !config.string(key::VAULT_PASSWORD_ENV).is_empty() {
        "env"
    } else {
        "none"
    };
    let data_dir = Some(config.string(key::VAULT_DATA_DIR).to_string()).filter(|d| !d.is_empty());
    VaultFacts {
        session_cached: meta.as_ref().is_some_and(|m| m.len() > 0),
        session_file_safe: meta
            .as_ref()
            .map(|m| m.uid() == me && m.permissions().mode() & 0o077 == 0),
        session_file,
        password_source,
        data_dir,
    }
}
