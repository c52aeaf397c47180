//! The provider's settings, read once from the config (`provider.*` keys),
//! and the small types with rules: the head's address and the Ray pin.

use crate::config::{Config, key};
use crate::error::PmError;
use crate::steps::{Retry, is_retryable};
use anyhow::Result;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The longest `--temp-dir` Ray can use: its deepest socket,
/// `<temp>/session_<date>_<time>_<usec>_<pid>/sockets/plasma_store`, adds up
/// to 64 bytes, and a Unix socket path holds 107.
pub const MAX_TEMP_DIR_LEN: usize = 107 - 64;

/// Where the Ray token comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum Auth {
    /// `RAY_AUTH_MODE=token`, the token read from this vault item's field.
    Token { item: String, field: String },
    /// `RAY_AUTH_MODE=disabled`.
    Disabled,
}

impl Auth {
    /// The value of `RAY_AUTH_MODE`, set explicitly on every Ray call: a
    /// token file left in `~/.ray` turns auth on silently otherwise.
    pub fn mode(&self) -> &'static str {
        match self {
            Auth::Token { .. } => "token",
            Auth::Disabled => "disabled",
        }
    }

    /// Where the token came from, for errors (never the token).
    pub fn describe(&self) -> String {
        match self {
            Auth::Token { item, field } => format!("vault item `{item}`, field {field}"),
            Auth::Disabled => "no token: provider.auth_mode is disabled".to_string(),
        }
    }
}

/// What the node offers the cluster; `None` leaves it to Ray.
#[derive(Clone, Copy, Debug, Default)]
pub struct Resources {
    pub num_cpus: Option<u64>,
    pub num_gpus: Option<u64>,
    pub object_store_memory: Option<u64>,
}

/// Every deadline of the onboarding.
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    pub connect: Duration,
    pub probe: Duration,
    pub join: Duration,
    pub install: Duration,
    pub verify: Duration,
    pub verify_hold: Duration,
    pub stop: Duration,
}

/// The effective `provider.*` configuration.
#[derive(Clone, Debug)]
pub struct Settings {
    pub username: String,
    /// As configured; parsed (and refused when malformed) where it is used.
    pub cluster_address: String,
    pub auth: Auth,
    pub steps: Vec<String>,
    pub python: String,
    pub venv: PathBuf,
    pub ray_version: String,
    /// `patch` or `minor` (Ray's `RAY_DEFAULT_PYTHON_VERSION_MATCH_LEVEL`).
    pub python_match: String,
    pub wheelhouse: Option<PathBuf>,
    pub index_url: Option<String>,
    pub temp_dir: PathBuf,
    /// The node's auth token file (0600), read by Ray through
    /// `RAY_AUTH_TOKEN_PATH` for as long as the node runs.
    pub token_file: PathBuf,
    pub node_ip: Option<String>,
    pub resources: Resources,
    pub retry: Retry,
    pub timeouts: Timeouts,
    /// pm's captured environment, for locating programs.
    pub env: BTreeMap<String, String>,
}

impl Settings {
    pub fn from_config(config: &Config) -> Settings {
        let provider_dir = absolute(&config.paths().provider_dir());
        let text = |k| config.string(k).trim().to_string();
        let non_empty = |k| Some(text(k)).filter(|v| !v.is_empty());
        let path_or =
            |k, default: PathBuf| non_empty(k).map_or(default, |p| absolute(Path::new(&p)));
        let secs = |k| Duration::from_secs(config.int(k).max(0) as u64);
        let count = |k| u64::try_from(config.int(k)).ok();
        Settings {
            username: text(key::PROVIDER_USERNAME),
            cluster_address: text(key::PROVIDER_CLUSTER_ADDRESS),
            auth: match config.choice(key::PROVIDER_AUTH_MODE) {
                "disabled" => Auth::Disabled,
                _ => Auth::Token {
                    item: text(key::PROVIDER_TOKEN_ITEM),
                    field: text(key::PROVIDER_TOKEN_FIELD),
                },
            },
            steps: config.list(key::PROVIDER_STEPS).to_vec(),
            python: text(key::PROVIDER_PYTHON),
            venv: path_or(key::PROVIDER_VENV, provider_dir.join("venv")),
            ray_version: text(key::PROVIDER_RAY_VERSION),
            python_match: config.choice(key::PROVIDER_PYTHON_MATCH).to_string(),
            wheelhouse: non_empty(key::PROVIDER_WHEELHOUSE).map(|p| absolute(Path::new(&p))),
            index_url: non_empty(key::PROVIDER_INDEX_URL),
            temp_dir: path_or(key::PROVIDER_RAY_TEMP_DIR, provider_dir.join("ray")),
            token_file: provider_dir.join("ray-auth-token"),
            node_ip: non_empty(key::PROVIDER_NODE_IP),
            resources: Resources {
                num_cpus: count(key::PROVIDER_NUM_CPUS),
                num_gpus: count(key::PROVIDER_NUM_GPUS),
                object_store_memory: Some(config.bytes(key::PROVIDER_OBJECT_STORE_MEMORY))
                    .filter(|b| *b > 0),
            },
            retry: Retry {
                attempts: config.int(key::PROVIDER_RETRY_ATTEMPTS).clamp(1, 100) as u32,
                first_delay: secs(key::PROVIDER_RETRY_DELAY),
                max_delay: secs(key::PROVIDER_RETRY_MAX_DELAY),
                retry_if: is_retryable,
            },
            timeouts: Timeouts {
                connect: secs(key::PROVIDER_CONNECT_TIMEOUT).max(Duration::from_secs(1)),
                probe: secs(key::PROVIDER_PROBE_TIMEOUT).max(Duration::from_secs(1)),
                join: secs(key::PROVIDER_JOIN_TIMEOUT).max(Duration::from_secs(1)),
                install: secs(key::PROVIDER_INSTALL_TIMEOUT).max(Duration::from_secs(1)),
                verify: secs(key::PROVIDER_VERIFY_TIMEOUT),
                verify_hold: secs(key::PROVIDER_VERIFY_HOLD),
                stop: secs(key::PROVIDER_STOP_TIMEOUT),
            },
            env: config.env.vars.clone(),
        }
    }

    /// The head's address, or why it is not one.
    pub fn address(&self) -> Result<Address> {
        Address::parse(&self.cluster_address)
    }

    pub fn pin(&self) -> Result<VersionPin> {
        VersionPin::parse(&self.ray_version)
    }
}

/// `path` made absolute against the working directory, so a configured
/// relative path means the same thing to Ray's daemons as to pm.
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// The head's GCS address: a host (name, IPv4, or bracketed IPv6) and a port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Address {
    pub host: String,
    pub port: u16,
}

impl Address {
    /// Refuses what Ray would take and then fail on much later: an empty
    /// variable gives `--address=:6379`, and `ray://` is the Ray Client's
    /// address, not the GCS's.
    pub fn parse(text: &str) -> Result<Address> {
        let invalid = |reason: &str| -> anyhow::Error {
            PmError::RayAddressInvalid {
                address: text.to_string(),
                reason: reason.to_string(),
            }
            .into()
        };
        let text_trimmed = text.trim();
        if text_trimmed.is_empty() {
            return Err(invalid("it is empty (provider.cluster_address is not set)"));
        }
        if text_trimmed.contains("://") {
            return Err(invalid(
                "a URL is not a GCS address (ray:// is the Ray Client's); give HOST:PORT, port 6379 by default",
            ));
        }
        let Some((host, port)) = text_trimmed.rsplit_once(':') else {
            return Err(invalid("it has no port"));
        };
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        let port: u16 = port
            .parse()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| invalid("the port is not a number from 1 to 65535"))?;
        let host_ok = !host.is_empty()
            && (host.parse::<IpAddr>().is_ok()
                || host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.'));
        if !host_ok {
            return Err(invalid("the host is empty or not a name or IP address"));
        }
        Ok(Address {
            host: host.to_string(),
            port,
        })
    }

    /// Every socket address the host resolves to.
    pub fn resolve(&self) -> std::io::Result<Vec<SocketAddr>> {
        Ok((self.host.as_str(), self.port).to_socket_addrs()?.collect())
    }

    /// Whether `joined` (a raylet's `--gcs-address`) is this address: Ray
    /// writes a name it was given as the IP it resolved it to.
    pub fn is(&self, joined: &str) -> bool {
        joined == self.to_string()
            || self
                .resolve()
                .is_ok_and(|addrs| addrs.iter().any(|a| a.to_string() == joined))
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// The pinned Ray version: exact (`2.60.0`) or a prefix (`2.60.*`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionPin(String);

impl VersionPin {
    pub fn parse(text: &str) -> Result<VersionPin> {
        let text = text.trim();
        let numbers = text.strip_suffix(".*").unwrap_or(text);
        let valid = !numbers.is_empty()
            && numbers
                .split('.')
                .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()));
        if !valid {
            return Err(PmError::usage(
                format!("provider.ray_version {text:?} is not a version such as 2.60.0 or 2.60.*"),
                None,
            )
            .into());
        }
        Ok(VersionPin(text.to_string()))
    }

    /// Whether an installed version satisfies the pin.
    pub fn matches(&self, version: &str) -> bool {
        match self.0.strip_suffix(".*") {
            Some(prefix) => version
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.starts_with('.')),
            None => version == self.0,
        }
    }

    /// What pip is asked to install (PEP 440 takes `==2.60.*` as it is).
    pub fn requirement(&self) -> String {
        format!("ray=={}", self.0)
    }
}

impl fmt::Display for VersionPin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(result: Result<Address>) -> &'static str {
        let err = result.unwrap_err();
        err.downcast_ref::<PmError>()
            .map_or("internal", PmError::code)
    }

    #[test]
    fn addresses_that_would_join_nothing_are_refused() {
        assert_eq!(
            Address::parse("10.0.0.1:6379").unwrap().to_string(),
            "10.0.0.1:6379"
        );
        assert_eq!(
            Address::parse("[fd7a:115c::1]:6379").unwrap().host,
            "fd7a:115c::1"
        );
        assert_eq!(
            Address::parse("head.example.ts.net:6379").unwrap().port,
            6379
        );
        for bad in [
            "",
            ":6379",
            "10.0.0.1",
            "10.0.0.1:",
            "10.0.0.1:0",
            "h:99999",
            "ray://h:10001",
            "a b:1",
        ] {
            assert_eq!(code(Address::parse(bad)), "ray_address_invalid", "{bad:?}");
        }
    }

    #[test]
    fn a_pin_matches_exactly_or_by_prefix() {
        let star = VersionPin::parse("2.60.*").unwrap();
        assert!(star.matches("2.60.0") && star.matches("2.60.11"));
        assert!(!star.matches("2.600.0") && !star.matches("2.61.0") && !star.matches("2.6"));
        assert_eq!(star.requirement(), "ray==2.60.*");
        let exact = VersionPin::parse("2.60.0").unwrap();
        assert!(exact.matches("2.60.0") && !exact.matches("2.60.1"));
        assert!(VersionPin::parse("latest").is_err());
        assert!(VersionPin::parse("2..1").is_err());
    }
}
