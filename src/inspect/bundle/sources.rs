//! Where pm reads secrets from: read here once more, only to learn the
//! values the bundle must not contain (redaction by known source). Nothing
//! read here is written anywhere; the manifest names the sources, never the
//! values.
//!
//! - the cached vault session (`vault.session_dir`), and the master
//!   password sources (`vault.password_file`, the variable named by
//!   `vault.password_env`);
//! - pm's environment: every variable whose name says secret
//!   (`AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `RAY_AUTH_TOKEN`, ...);
//! - the AWS shared credentials and config files the S3 client reads;
//! - Ray's token file (`RAY_AUTH_TOKEN_PATH`, `~/.ray/auth_token`);
//! - config values: a password in a URL, or a key named like a secret;
//! - the files the network and provider hooks name (`net::secret_files`,
//!   `provider::secret_files`).

use super::redact::is_secret_name;
use crate::config::{Config, Value, key};
use crate::inspect::{net, provider};
use crate::vault::session::SessionCache;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Secret files are small; a big one is not a secret file.
const MAX_SECRET_FILE: u64 = 64 << 10;

#[derive(Default)]
pub struct Known {
    pub values: Vec<Zeroizing<String>>,
    /// What was read, for the manifest (never a value).
    pub sources: Vec<String>,
}

impl Known {
    fn add(&mut self, value: &str, source: String) {
        let value = value.trim();
        if value.len() >= super::redact::MIN_KNOWN_LEN {
            self.values.push(Zeroizing::new(value.to_string()));
            if !self.sources.contains(&source) {
                self.sources.push(source);
            }
        }
    }

    /// The whole file, and each of its lines (a token file may end in a
    /// newline, a credentials file holds several).
    fn add_file(&mut self, path: &Path, what: &str) {
        let Some(text) = read_small(path) else {
            return;
        };
        let source = format!("{what} ({})", path.display());
        self.add(&text, source.clone());
        for line in text.lines() {
            self.add(line, source.clone());
        }
    }
}

fn read_small(path: &Path) -> Option<Zeroizing<String>> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > MAX_SECRET_FILE {
        return None;
    }
    std::fs::read_to_string(path).ok().map(Zeroizing::new)
}

pub fn gather(config: &Config) -> Known {
    let mut known = Known::default();
    vault(config, &mut known);
    environment(config, &mut known);
    aws_files(config, &mut known);
    ray(config, &mut known);
    config_values(config, &mut known);
    for path in net::secret_files(config) {
        known.add_file(&path, "a pm net secret file");
    }
    for path in provider::secret_files(config) {
        known.add_file(&path, "a pm provider secret file");
    }
    known
}

fn vault(config: &Config, known: &mut Known) {
    let cache = SessionCache::new(PathBuf::from(config.string(key::VAULT_SESSION_DIR)));
    known.add_file(&cache.path(), "the cached vault session");
    let file = config.string(key::VAULT_PASSWORD_FILE);
    if !file.is_empty()
        && let Some(text) = read_small(Path::new(file))
        && let Some(first) = text.lines().next()
    {
        known.add(first, format!("the master password file ({file})"));
    }
    let var = config.string(key::VAULT_PASSWORD_ENV);
    if let Some(value) = config.env.var(var).filter(|_| !var.is_empty()) {
        known.add(value, format!("the master password variable {var}"));
    }
}

fn environment(config: &Config, known: &mut Known) {
    for (name, value) in &config.env.vars {
        if is_secret_name(name) {
            known.add(value, format!("the environment variable {name}"));
        }
        if let Some(password) = url_password(value) {
            known.add(
                password,
                format!("a password in the environment variable {name}"),
            );
        }
    }
}

fn home(config: &Config) -> Option<PathBuf> {
    config.env.var("HOME").map(PathBuf::from)
}

/// `aws_secret_access_key = ...` and `aws_session_token = ...` lines of the
/// shared files (the standard chain's locations and variables).
fn aws_files(config: &Config, known: &mut Known) {
    let files = [
        ("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials"),
        ("AWS_CONFIG_FILE", ".aws/config"),
    ];
    for (var, default) in files {
        let path = config
            .env
            .var(var)
            .map(PathBuf::from)
            .or_else(|| home(config).map(|h| h.join(default)));
        let Some(path) = path else { continue };
        let Some(text) = read_small(&path) else {
            continue;
        };
        for line in text.lines() {
            if let Some((name, value)) = line.split_once('=')
                && is_secret_name(name.trim())
            {
                known.add(value, format!("the AWS file {}", path.display()));
            }
        }
    }
}

fn ray(config: &Config, known: &mut Known) {
    if let Some(path) = config.env.var("RAY_AUTH_TOKEN_PATH") {
        known.add_file(Path::new(path), "Ray's token file");
    }
    if let Some(home) = home(config) {
        known.add_file(&home.join(".ray/auth_token"), "Ray's token file");
    }
}

/// pm's own settings never hold a secret: secrets come from the vault or
/// from files, and the settings that say where (`vault.password_file`,
/// `net.auth_key_item`, `provider.token_item`) name them without being
/// them (a name-based guess would redact the word "password" everywhere,
/// since `net.auth_key_field` defaults to it). What a setting can carry is
/// a password inside a URL.
fn config_values(config: &Config, known: &mut Known) {
    for setting in &config.settings {
        let Value::Str(value) = &setting.value else {
            continue;
        };
        if let Some(password) = url_password(value) {
            known.add(
                password,
                format!("a password in the config key {}", setting.key),
            );
        }
    }
}

/// The password of `scheme://user:password@host...`.
pub fn url_password(text: &str) -> Option<&str> {
    let authority = text.split_once("://")?.1;
    let authority = authority.split(['/', '?', '#']).next()?;
    let (userinfo, _) = authority.rsplit_once('@')?;
    let (_, password) = userinfo.split_once(':')?;
    (!password.is_empty()).then_some(password)
}
