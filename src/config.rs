//! The effective configuration and where each value came from.
//!
//! Every setting pm reads is declared once in [`KEYS`]: its dotted key in the
//! TOML file, its `PM_*` environment variable, its kind and its default. The
//! value is resolved in the order flag > environment > config file > default,
//! and the winning source is kept so `pm config show` can say where each value
//! came from. Domain code asks the `Config` for a key; nothing else reads the
//! environment or the file.

use crate::error::PmError;
use anyhow::{Context as _, Result};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// What kind of value a key holds; decides how env and file text is parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Bool,
    /// A signed integer.
    Int,
    /// An integer of 0 or more (a count, a number of seconds): a negative
    /// value is refused wherever it comes from, never clamped.
    Count,
    /// A byte count: `1048576`, `512MiB`, `8G`, `8GiB`.
    Bytes,
    /// A free-form string (paths included).
    Str,
    /// One of a fixed set of words.
    Choice(&'static [&'static str]),
}

/// One declared setting.
pub struct KeyDef {
    /// The dotted key in the TOML file (`lock_timeout`, `image.max_size`).
    pub key: &'static str,
    /// The environment variable that sets it.
    pub env: &'static str,
    pub kind: Kind,
    /// The default, computed from the [`Environment`] (some depend on uid or XDG).
    pub default: fn(&Environment) -> Value,
    pub doc: &'static str,
}

/// Every key pm understands. Later features add theirs here, so `config show`
/// and the README table stay complete.
pub static KEYS: &[KeyDef] = &[
    KeyDef {
        key: "json",
        env: "PM_JSON",
        kind: Kind::Bool,
        default: |_| Value::Bool(false),
        doc: "print exactly one JSON document on stdout",
    },
    KeyDef {
        key: "state",
        env: "PM_STATE",
        kind: Kind::Str,
        default: |env| Value::Str(env.default_state_path().display().to_string()),
        doc: "the SQLite state file; the lock file lives beside it",
    },
    KeyDef {
        key: "lock_timeout",
        env: "PM_LOCK_TIMEOUT",
        kind: Kind::Count,
        default: |_| Value::Int(60),
        doc: "seconds a mutating command waits for the state lock (0 = fail at once)",
    },
    KeyDef {
        key: "verbosity",
        env: "PM_VERBOSITY",
        kind: Kind::Int,
        default: |_| Value::Int(0),
        doc: "log detail on stderr: -1 errors only, 0 warnings, 1 info, 2 debug, 3 trace",
    },
    KeyDef {
        key: "log_format",
        env: "PM_LOG_FORMAT",
        kind: Kind::Choice(&["text", "json"]),
        default: |_| Value::Str("text".to_string()),
        doc: "format of the logs on stderr",
    },
    // vault: the Bitwarden CLI.
    KeyDef {
        key: "vault.bw_path",
        env: "PM_VAULT_BW_PATH",
        kind: Kind::Str,
        default: |_| Value::Str("bw".to_string()),
        doc: "the Bitwarden CLI: a path, or a name looked up in PATH",
    },
    KeyDef {
        key: "vault.data_dir",
        env: "PM_VAULT_DATA_DIR",
        kind: Kind::Str,
        default: |_| Value::Str(String::new()),
        doc: "bw's data directory (BITWARDENCLI_APPDATA_DIR); empty = bw's own default",
    },
    KeyDef {
        key: "vault.password_file",
        env: "PM_VAULT_PASSWORD_FILE",
        kind: Kind::Str,
        default: |_| Value::Str(String::new()),
        doc: "file whose first line is the master password (for headless unlock)",
    },
    KeyDef {
        key: "vault.password_env",
        env: "PM_VAULT_PASSWORD_ENV",
        kind: Kind::Str,
        default: |_| Value::Str(String::new()),
        doc: "name of the environment variable that holds the master password",
    },
    KeyDef {
        key: "vault.session_dir",
        env: "PM_VAULT_SESSION_DIR",
        kind: Kind::Str,
        default: |env| Value::Str(env.runtime_dir().display().to_string()),
        doc: "owner-only directory of the cached bw session (default: the runtime directory)",
    },
    KeyDef {
        key: "vault.timeout",
        env: "PM_VAULT_TIMEOUT",
        kind: Kind::Int,
        default: |_| Value::Int(60),
        doc: "seconds one bw call may take before pm kills it (bw needs 1-5 s, more under load)",
    },
    // `pm image validate` limits and policy (flags of the same names override).
    KeyDef {
        key: "image.max_unpacked_size",
        env: "PM_IMAGE_MAX_UNPACKED_SIZE",
        kind: Kind::Bytes,
        default: |_| Value::Int(8 << 30),
        doc: "most bytes of file data an image may unpack to",
    },
    KeyDef {
        key: "image.max_entries",
        env: "PM_IMAGE_MAX_ENTRIES",
        kind: Kind::Count,
        default: |_| Value::Int(100_000),
        doc: "most entries in an image (and files plus directories it creates)",
    },
    KeyDef {
        key: "image.max_path_length",
        env: "PM_IMAGE_MAX_PATH_LENGTH",
        kind: Kind::Count,
        default: |_| Value::Int(4096),
        doc: "most bytes in an entry name or link target",
    },
    KeyDef {
        key: "image.max_component_length",
        env: "PM_IMAGE_MAX_COMPONENT_LENGTH",
        kind: Kind::Count,
        default: |_| Value::Int(255),
        doc: "most bytes in one path component",
    },
    KeyDef {
        key: "image.max_depth",
        env: "PM_IMAGE_MAX_DEPTH",
        kind: Kind::Count,
        default: |_| Value::Int(256),
        doc: "most directory levels in an entry name",
    },
    KeyDef {
        key: "image.max_symlink_hops",
        env: "PM_IMAGE_MAX_SYMLINK_HOPS",
        kind: Kind::Count,
        default: |_| Value::Int(40),
        doc: "most symlinks followed resolving one link (like the kernel)",
    },
    KeyDef {
        key: "image.max_total_symlink_hops",
        env: "PM_IMAGE_MAX_TOTAL_SYMLINK_HOPS",
        kind: Kind::Count,
        default: |_| Value::Int(1_000_000),
        doc: "most symlinks followed resolving all the links of an image (each link is resolved once)",
    },
    KeyDef {
        key: "image.max_compression_ratio",
        env: "PM_IMAGE_MAX_COMPRESSION_RATIO",
        kind: Kind::Count,
        default: |_| Value::Int(100),
        doc: "most decompressed bytes per compressed byte, past the first MiB (0 = off)",
    },
    KeyDef {
        key: "image.allow_devices",
        env: "PM_IMAGE_ALLOW_DEVICES",
        kind: Kind::Bool,
        default: |_| Value::Bool(false),
        doc: "accept device nodes and FIFOs in images",
    },
    KeyDef {
        key: "image.allow_setuid",
        env: "PM_IMAGE_ALLOW_SETUID",
        kind: Kind::Bool,
        default: |_| Value::Bool(false),
        doc: "accept setuid and setgid files in images (still reported)",
    },
    // pool/activate (issue 6)
    KeyDef {
        key: "pool.backend",
        env: "PM_POOL_BACKEND",
        kind: Kind::Choice(&["auto", "thin", "dir"]),
        default: |_| Value::Str("auto".to_string()),
        doc: "where activations live: thin (device-mapper), dir (directory copies), auto (thin when device-mapper is present)",
    },
    KeyDef {
        key: "pool.name",
        env: "PM_POOL_NAME",
        kind: Kind::Str,
        default: |_| Value::Str("pm".to_string()),
        doc: "prefix of every device-mapper name pm creates (<name>-pool, <name>-thin-<id>)",
    },
    KeyDef {
        key: "pool.block_size",
        env: "PM_POOL_BLOCK_SIZE",
        kind: Kind::Bytes,
        default: |_| Value::Int(64 << 10),
        doc: "thin pool data block size (a multiple of 64KiB)",
    },
    KeyDef {
        key: "pool.low_water_mark",
        env: "PM_POOL_LOW_WATER_MARK",
        kind: Kind::Int,
        default: |_| Value::Int(0),
        doc: "free data blocks below which the kernel raises a pool event",
    },
    KeyDef {
        key: "pool.volume_size",
        env: "PM_POOL_VOLUME_SIZE",
        kind: Kind::Bytes,
        default: |_| Value::Int(2 << 30),
        doc: "virtual size of each image's thin volume (and so of each snapshot)",
    },
    KeyDef {
        key: "pool.max_data_percent",
        env: "PM_POOL_MAX_DATA_PERCENT",
        kind: Kind::Int,
        default: |_| Value::Int(90),
        doc: "refuse new volumes and snapshots when pool data usage is above this",
    },
    KeyDef {
        key: "pool.max_metadata_percent",
        env: "PM_POOL_MAX_METADATA_PERCENT",
        kind: Kind::Int,
        default: |_| Value::Int(80),
        doc: "refuse new volumes and snapshots when pool metadata usage is above this",
    },
    // image fetch
    KeyDef {
        key: "image.max_size",
        env: "PM_IMAGE_MAX_SIZE",
        kind: Kind::Bytes,
        default: |_| Value::Int(64 << 30),
        doc: "largest image `pm image fetch` accepts; checked before any byte is downloaded",
    },
    KeyDef {
        key: "image.part_size",
        env: "PM_IMAGE_PART_SIZE",
        kind: Kind::Bytes,
        default: |_| Value::Int(8 << 20),
        doc: "size of each ranged GET of a fetch (and of each resumable unit)",
    },
    KeyDef {
        key: "image.sync_every",
        env: "PM_IMAGE_SYNC_EVERY",
        kind: Kind::Bytes,
        default: |_| Value::Int(256 << 20),
        doc: "a fetch fsyncs its partial file after this many new bytes; a resume after a power cut keeps what was synced",
    },
    KeyDef {
        key: "image.concurrency",
        env: "PM_IMAGE_CONCURRENCY",
        kind: Kind::Int,
        default: |_| Value::Int(8),
        doc: "parallel ranged GETs per fetch; memory is at most concurrency x part size",
    },
    KeyDef {
        key: "image.retries",
        env: "PM_IMAGE_RETRIES",
        kind: Kind::Int,
        default: |_| Value::Int(5),
        doc: "retries per part on transient failures (5xx, SlowDown, resets, timeouts, short bodies)",
    },
    KeyDef {
        key: "image.stall_timeout",
        env: "PM_IMAGE_STALL_TIMEOUT",
        kind: Kind::Int,
        default: |_| Value::Int(30),
        doc: "seconds without a byte before a request counts as stalled and is retried",
    },
    KeyDef {
        key: "image.endpoint_url",
        env: "PM_IMAGE_ENDPOINT_URL",
        kind: Kind::Str,
        default: |_| Value::Str(String::new()),
        doc: "S3 endpoint for S3-compatible stores (path-style); empty: AWS_ENDPOINT_URL or AWS",
    },
    KeyDef {
        key: "image.gc_partial_age",
        env: "PM_IMAGE_GC_PARTIAL_AGE",
        kind: Kind::Str,
        default: |_| Value::Str("24h".to_string()),
        doc: "`pm image gc` removes interrupted downloads untouched for this long (e.g. 24h, 7d)",
    },
];

/// A resolved value.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Value {
    Bool(bool),
    Int(i64),
    Str(String),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Str(s) => f.write_str(s),
        }
    }
}

/// Where a value came from.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Source {
    Flag,
    Env { var: String },
    File { path: PathBuf },
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag => f.write_str("flag"),
            Source::Env { var } => write!(f, "env {var}"),
            Source::File { path } => write!(f, "file {}", path.display()),
            Source::Default => f.write_str("default"),
        }
    }
}

/// The process environment pm depends on, captured once in `main` so that
/// nothing below reads `std::env` on its own and tests can construct one.
#[derive(Clone, Debug, Default)]
pub struct Environment {
    pub vars: BTreeMap<String, String>,
    pub is_root: bool,
}

impl Environment {
    pub fn capture() -> Self {
        Environment {
            vars: std::env::vars().collect(),
            // SAFETY: geteuid has no preconditions and cannot fail.
            is_root: unsafe { libc::geteuid() } == 0,
        }
    }

    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    fn home(&self) -> PathBuf {
        PathBuf::from(self.var("HOME").unwrap_or("/"))
    }

    fn xdg(&self, var: &str, fallback: &str) -> PathBuf {
        match self.var(var) {
            Some(dir) if Path::new(dir).is_absolute() => PathBuf::from(dir),
            _ => self.home().join(fallback),
        }
    }

    pub fn default_state_path(&self) -> PathBuf {
        if self.is_root {
            PathBuf::from("/var/lib/pm/state.db")
        } else {
            self.xdg("XDG_STATE_HOME", ".local/state")
                .join("pm/state.db")
        }
    }

    /// `/etc/pm/config.toml` first, then the user's XDG config file.
    fn default_config_paths(&self) -> Vec<PathBuf> {
        vec![
            PathBuf::from("/etc/pm/config.toml"),
            self.xdg("XDG_CONFIG_HOME", ".config")
                .join("pm/config.toml"),
        ]
    }

    /// Where runtime secrets (the vault session) are cached: never the state.
    /// `$XDG_RUNTIME_DIR/pm` when the session has one (root included), else
    /// `/run/pm` for root and a per-user directory under `/tmp` for others
    /// (a cron job has no `XDG_RUNTIME_DIR` and cannot create `/run/pm`).
    pub fn runtime_dir(&self) -> PathBuf {
        match self.var("XDG_RUNTIME_DIR") {
            Some(dir) if Path::new(dir).is_absolute() => PathBuf::from(dir).join("pm"),
            _ if self.is_root => PathBuf::from("/run/pm"),
            // SAFETY: geteuid has no preconditions and cannot fail.
            _ => PathBuf::from(format!("/tmp/pm-{}", unsafe { libc::geteuid() })),
        }
    }
}

/// Values given as global flags; `None` means "not on the command line".
#[derive(Clone, Debug, Default)]
pub struct FlagValues {
    pub config: Option<PathBuf>,
    pub values: BTreeMap<&'static str, Value>,
}

/// One effective setting.
#[derive(Clone, Debug, Serialize)]
pub struct Setting {
    pub key: &'static str,
    pub value: Value,
    pub source: Source,
    pub env: &'static str,
    #[serde(skip)]
    pub doc: &'static str,
}

/// The effective configuration.
#[derive(Clone, Debug, Serialize)]
pub struct Config {
    /// The config file that was read, if any.
    pub file: Option<PathBuf>,
    pub file_source: Source,
    pub settings: Vec<Setting>,
    #[serde(skip)]
    pub env: Environment,
}

impl Config {
    /// Resolves every key in [`KEYS`].
    pub fn load(flags: &FlagValues, env: Environment) -> Result<Config> {
        let (file, file_source) = locate_config_file(flags, &env)?;
        let file_values = match &file {
            Some(path) => read_config_file(path)?,
            None => BTreeMap::new(),
        };
        let mut settings = Vec::with_capacity(KEYS.len());
        for def in KEYS {
            let (value, source) = if let Some(v) = flags.values.get(def.key) {
                check_flag(def, v)?;
                (v.clone(), Source::Flag)
            } else if let Some(text) = env.var(def.env) {
                let value = parse_value(def.kind, text).map_err(|why| {
                    PmError::usage(
                        format!("{}={text:?}: {why}", def.env),
                        Some(format!("unset {} or give it a valid value", def.env)),
                    )
                })?;
                (
                    value,
                    Source::Env {
                        var: def.env.to_string(),
                    },
                )
            } else if let Some(v) = file_values.get(def.key) {
                (
                    v.clone(),
                    Source::File {
                        path: file.clone().unwrap_or_default(),
                    },
                )
            } else {
                ((def.default)(&env), Source::Default)
            };
            settings.push(Setting {
                key: def.key,
                value,
                source,
                env: def.env,
                doc: def.doc,
            });
        }
        Ok(Config {
            file,
            file_source,
            settings,
            env,
        })
    }

    fn get(&self, key: &str) -> &Value {
        match self.settings.iter().find(|s| s.key == key) {
            Some(setting) => &setting.value,
            None => panic!("config key {key:?} is not declared in config::KEYS"),
        }
    }

    pub fn bool(&self, key: &str) -> bool {
        matches!(self.get(key), Value::Bool(true))
    }

    pub fn int(&self, key: &str) -> i64 {
        match self.get(key) {
            Value::Int(i) => *i,
            other => panic!("config key {key:?} is {other:?}, not an integer"),
        }
    }

    pub fn string(&self, key: &str) -> &str {
        match self.get(key) {
            Value::Str(s) => s,
            other => panic!("config key {key:?} is {other:?}, not a string"),
        }
    }

    pub fn state_path(&self) -> PathBuf {
        PathBuf::from(self.string("state"))
    }
}

/// A flag's value passes the same check as the same key's environment
/// variable (`--lock-timeout -1` is refused like `PM_LOCK_TIMEOUT=-1`).
fn check_flag(def: &KeyDef, value: &Value) -> Result<()> {
    if let (Kind::Count, Value::Int(n)) = (def.kind, value)
        && *n < 0
    {
        let flag = format!("--{}", def.key.replace('_', "-"));
        return Err(PmError::usage(
            format!("{flag} {n}: expected {}", kind_name(def.kind)),
            Some(format!("give {flag} a value of 0 or more")),
        )
        .into());
    }
    Ok(())
}

fn locate_config_file(flags: &FlagValues, env: &Environment) -> Result<(Option<PathBuf>, Source)> {
    let explicit = match (&flags.config, env.var("PM_CONFIG")) {
        (Some(path), _) => Some((path.clone(), Source::Flag)),
        (None, Some(path)) => Some((
            PathBuf::from(path),
            Source::Env {
                var: "PM_CONFIG".to_string(),
            },
        )),
        (None, None) => None,
    };
    if let Some((path, source)) = explicit {
        if !path.exists() {
            return Err(PmError::not_found(
                format!("config file {}", path.display()),
                Some("check the path given with --config or PM_CONFIG".to_string()),
            )
            .into());
        }
        return Ok((Some(path), source));
    }
    let found = env.default_config_paths().into_iter().find(|p| p.exists());
    Ok((found, Source::Default))
}

/// Reads and checks a config file; every problem names the file and line.
fn read_config_file(path: &Path) -> Result<BTreeMap<&'static str, Value>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| PmError::io(format!("cannot read config file {}", path.display()), e))
        .context("loading the configuration")?;
    let invalid = |line: usize, message: String| PmError::ConfigInvalid {
        path: path.to_path_buf(),
        line,
        message,
    };
    let table: toml::Table = toml::from_str(&text).map_err(|e| {
        let line = e
            .span()
            .map(|s| line_of_offset(&text, s.start))
            .unwrap_or(1);
        invalid(line, e.message().trim().to_string())
    })?;
    let mut values = BTreeMap::new();
    for (key, item) in flatten(&table, "") {
        let line = line_of_key(&text, &key);
        let Some(def) = KEYS.iter().find(|d| d.key == key) else {
            return Err(invalid(line, format!("unknown key `{key}`")).into());
        };
        let value = value_from_toml(def.kind, item)
            .map_err(|why| invalid(line, format!("`{key}`: {why}")))?;
        values.insert(def.key, value);
    }
    Ok(values)
}

/// Flattens nested tables into dotted keys: `[image] max_size` → `image.max_size`.
fn flatten<'a>(table: &'a toml::Table, prefix: &str) -> Vec<(String, &'a toml::Value)> {
    let mut out = Vec::new();
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(inner) => out.extend(flatten(inner, &key)),
            other => out.push((key, other)),
        }
    }
    out
}

fn line_of_offset(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The line where a (possibly dotted) key is assigned, for error messages.
fn line_of_key(text: &str, dotted: &str) -> usize {
    let leaf = dotted.rsplit('.').next().unwrap_or(dotted);
    text.lines()
        .position(|l| {
            let l = l.trim_start();
            l.strip_prefix(leaf)
                .or_else(|| l.strip_prefix(dotted))
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map_or(1, |i| i + 1)
}

fn value_from_toml(kind: Kind, item: &toml::Value) -> std::result::Result<Value, String> {
    match (kind, item) {
        (Kind::Bool, toml::Value::Boolean(b)) => Ok(Value::Bool(*b)),
        (Kind::Int, toml::Value::Integer(i)) => Ok(Value::Int(*i)),
        (Kind::Count, toml::Value::Integer(i)) if *i >= 0 => Ok(Value::Int(*i)),
        (Kind::Count, toml::Value::Integer(i)) => {
            Err(format!("expected {}, found {i}", kind_name(kind)))
        }
        (Kind::Bytes, toml::Value::Integer(i)) if *i >= 0 => Ok(Value::Int(*i)),
        (Kind::Bytes | Kind::Str | Kind::Choice(_), toml::Value::String(s)) => parse_value(kind, s),
        (kind, other) => Err(format!(
            "expected {}, found {}",
            kind_name(kind),
            other.type_str()
        )),
    }
}

fn kind_name(kind: Kind) -> String {
    match kind {
        Kind::Bool => "true or false".to_string(),
        Kind::Int => "an integer".to_string(),
        Kind::Count => "a whole number, 0 or more".to_string(),
        Kind::Bytes => "a size such as 512MiB or 8GiB".to_string(),
        Kind::Str => "a string".to_string(),
        Kind::Choice(words) => format!("one of {}", words.join(", ")),
    }
}

/// Parses env or file text according to the key's kind.
pub fn parse_value(kind: Kind, text: &str) -> std::result::Result<Value, String> {
    let text = text.trim();
    let wrong = || format!("expected {}", kind_name(kind));
    match kind {
        Kind::Bool => match text.to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(Value::Bool(true)),
            "0" | "false" | "no" | "off" => Ok(Value::Bool(false)),
            _ => Err(wrong()),
        },
        Kind::Int => text.parse().map(Value::Int).map_err(|_| wrong()),
        Kind::Count => match text.parse::<i64>() {
            Ok(n) if n >= 0 => Ok(Value::Int(n)),
            _ => Err(wrong()),
        },
        Kind::Bytes => parse_bytes(text)
            .map(|b| Value::Int(b as i64))
            .ok_or_else(wrong),
        Kind::Str => Ok(Value::Str(text.to_string())),
        Kind::Choice(words) => words
            .iter()
            .find(|w| **w == text)
            .map(|w| Value::Str(w.to_string()))
            .ok_or_else(wrong),
    }
}

/// `4096`, `64KiB`, `512M`, `8GiB`: binary units whatever the spelling, since
/// disks and images are sized in powers of two.
pub fn parse_bytes(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let number: u64 = digits.parse().ok()?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => return None,
    };
    number.checked_mul(1u64 << shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_accept_binary_units() {
        assert_eq!(parse_bytes("4096"), Some(4096));
        assert_eq!(parse_bytes("64KiB"), Some(64 << 10));
        assert_eq!(parse_bytes("8G"), Some(8 << 30));
        assert_eq!(parse_bytes("8 GiB"), Some(8 << 30));
        assert_eq!(parse_bytes("eight"), None);
        assert_eq!(parse_bytes("99999999999999999999T"), None);
    }

    #[test]
    fn key_lines_are_found_in_sections() {
        let text = "json = true\n[image]\nmax_size = \"x\"\n";
        assert_eq!(line_of_key(text, "image.max_size"), 3);
        assert_eq!(line_of_key(text, "json"), 1);
    }
}
