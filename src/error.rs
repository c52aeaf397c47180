//! The one error type whose variants are pm's stable error codes.
//!
//! Errors are created where the cause is known, carried up through `anyhow`
//! with context, and rendered exactly once by `output`. The exit code and the
//! snake_case `code` a script matches on are methods of the error, never
//! numbers chosen at a call site. The table in `ExitCode` is documented in the
//! README and in `pm --help`; its numbers never change meaning.

use crate::image::violation::Violations;
use serde_json::{Map, Value, json};
use std::path::PathBuf;
use std::time::Duration;

/// The `from` of a [`PmError::DigestMismatch`] found by the store's own checksum.
pub const STORE_CHECKSUM: &str = "the store's checksum";

/// The documented exit codes. Each failure category has its own number so
/// cron jobs and Ansible tasks can branch on it without parsing text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ExitCode {
    Success = 0,
    /// Something unexpected: a bug or an I/O error with no better category.
    Failure = 1,
    /// The command line or the config file is wrong.
    Usage = 2,
    /// Input was rejected as unsafe or invalid (hostile image, bad document).
    Rejected = 3,
    /// The named thing (image, item, activation, file) does not exist.
    NotFound = 4,
    /// The state lock stayed busy for the whole `--lock-timeout`.
    LockBusy = 5,
    /// Authentication failed (wrong password, rejected key, denied credentials).
    Auth = 6,
    /// An external tool is missing or not answering.
    ToolUnavailable = 7,
    /// A transient failure persisted after retries: try again later.
    Transient = 8,
    /// A precondition is not met (network not up, no pool, image in use).
    Precondition = 9,
}

/// The table printed in `pm --help` and mirrored in the README.
pub const EXIT_CODE_TABLE: &str = "\
Exit codes:
  0  success
  1  unexpected failure (bug, I/O error)
  2  usage error (bad flag, bad config file)
  3  input rejected as unsafe or invalid
  4  not found
  5  state or pool lock busy (timed out waiting)
  6  authentication failed
  7  external tool missing or unavailable
  8  transient failure after retries (try again later)
  9  precondition not met";

/// Every failure pm reports on purpose. Anything else is `internal`.
#[derive(Debug, thiserror::Error)]
pub enum PmError {
    #[error("{message}")]
    Usage {
        message: String,
        hint: Option<String>,
    },

    #[error("{path}:{line}: {message}")]
    ConfigInvalid {
        path: PathBuf,
        line: usize,
        message: String,
    },

    #[error("{what} {path} is held by {holder}; gave up after {waited:.1?}")]
    LockBusy {
        what: &'static str,
        path: PathBuf,
        holder: String,
        waited: Duration,
    },

    #[error("the state database {path} is unusable: {reason}")]
    StateUnusable { path: PathBuf, reason: String },

    #[error(
        "the state database {path} has schema version {found}, newer than this pm ({supported})"
    )]
    StateTooNew {
        path: PathBuf,
        found: i64,
        supported: i64,
    },

    #[error("{what} not found")]
    NotFound { what: String, hint: Option<String> },

    #[error("the document on standard input is not usable: {reason}")]
    BadInputDocument { reason: String },

    #[error("the previous command failed ({code}): {message}")]
    UpstreamFailed { code: String, message: String },

    #[error("{}", violations.message("image rejected"))]
    ImageRejected { violations: Violations },

    #[error("cannot read {path}: {source}")]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    // pool/activate (issue 6)
    #[error("no thin pool is set up")]
    NoPool,

    #[error("a pool named {name:?} already exists with other settings: {differs}")]
    PoolConflict { name: String, differs: String },

    #[error("the pool is {what} full ({percent:.1}% used, limit {limit}%)")]
    PoolFull {
        what: &'static str,
        percent: f64,
        limit: i64,
    },

    #[error("the pool still holds {activations} activation(s)")]
    PoolInUse { activations: usize },

    #[error("device-mapper is not available: {reason}")]
    DeviceMapperUnavailable { reason: String },

    #[error("image {image} has not been validated as safe")]
    ImageNotValidated { image: String },

    #[error("{}", violations.message("the archive was refused while unpacking"))]
    UnpackRefused { violations: Violations },

    #[error("{what} stayed busy after {attempts} attempts")]
    DeviceBusy { what: String, attempts: u32 },

    #[error("{tool} failed: {message}")]
    ToolFailed { tool: String, message: String },
    #[error("{source_url} is {size} bytes, more than the limit of {max} bytes")]
    ImageTooLarge {
        source_url: String,
        size: u64,
        max: u64,
    },

    #[error("access to {source_url} was denied: {reason}")]
    FetchDenied { source_url: String, reason: String },

    #[error("fetching {source_url} failed after {attempts} attempts: {last}")]
    FetchTransient {
        source_url: String,
        attempts: u32,
        last: String,
    },

    /// `from` says who expected the digest: `--sha256` or [`STORE_CHECKSUM`].
    #[error("{source_url} has digest {actual}, expected {expected} ({from})")]
    DigestMismatch {
        source_url: String,
        expected: String,
        actual: String,
        from: &'static str,
    },

    #[error("{source_url} changed while it was being downloaded, again after a restart")]
    ObjectChanged { source_url: String },

    #[error("image {image} is in use by {}", users.join(", "))]
    ImageInUse { image: String, users: Vec<String> },

    #[error("{source_url} cannot be fetched: {reason}")]
    FetchUnsupported { source_url: String, reason: String },

    #[error("{message}")]
    Io {
        message: String,
        #[source]
        source: std::io::Error,
    },

    // vault: the Bitwarden CLI and what it reports.
    #[error("the Bitwarden CLI `{program}` was not found or cannot run")]
    BwMissing { program: String },

    #[error("`bw {command}` did not finish within {secs} s")]
    BwTimeout { command: String, secs: u64 },

    #[error("`bw {command}` failed: {reason}")]
    BwFailed { command: String, reason: String },

    #[error("bw is not logged in to a Bitwarden account")]
    VaultNotLoggedIn,

    #[error("bw rejected the master password")]
    VaultWrongPassword,

    #[error("the vault is locked and no master password source was given")]
    VaultLocked,

    #[error(
        "the cached vault session is no longer valid (locked, expired or replaced by another unlock)"
    )]
    VaultSessionExpired,

    #[error("no vault item is named exactly `{item}`")]
    VaultItemNotFound { item: String, similar: Vec<String> },

    #[error("{count} vault items are named `{item}`", count = ids.len())]
    VaultItemAmbiguous { item: String, ids: Vec<String> },

    #[error("vault item `{item}` has no {field}")]
    VaultFieldMissing {
        item: String,
        field: String,
        available: Vec<String>,
    },

    #[error("cannot read the master password: {reason}")]
    VaultPasswordSource { reason: String },

    #[error("bw refused: {reason}")]
    VaultPremiumRequired { reason: String },

    #[error("bw could not reach its Bitwarden server")]
    VaultServerUnreachable,
}

impl PmError {
    pub fn usage(message: impl Into<String>, hint: impl Into<Option<String>>) -> Self {
        PmError::Usage {
            message: message.into(),
            hint: hint.into(),
        }
    }

    pub fn not_found(what: impl Into<String>, hint: impl Into<Option<String>>) -> Self {
        PmError::NotFound {
            what: what.into(),
            hint: hint.into(),
        }
    }

    pub fn io(message: impl Into<String>, source: std::io::Error) -> Self {
        PmError::Io {
            message: message.into(),
            source,
        }
    }

    /// The stable snake_case identifier scripts match on.
    pub fn code(&self) -> &'static str {
        match self {
            PmError::Usage { .. } => "usage",
            PmError::ConfigInvalid { .. } => "config_invalid",
            PmError::LockBusy { .. } => "lock_busy",
            PmError::StateUnusable { .. } => "state_unusable",
            PmError::StateTooNew { .. } => "state_too_new",
            PmError::NotFound { .. } => "not_found",
            PmError::BadInputDocument { .. } => "bad_input_document",
            PmError::UpstreamFailed { .. } => "upstream_failed",
            PmError::ImageRejected { .. } => "image_rejected",
            PmError::Unreadable { .. } => "unreadable",
            PmError::NoPool => "no_pool",
            PmError::PoolConflict { .. } => "pool_conflict",
            PmError::PoolFull { .. } => "pool_full",
            PmError::PoolInUse { .. } => "pool_in_use",
            PmError::DeviceMapperUnavailable { .. } => "device_mapper_unavailable",
            PmError::ImageNotValidated { .. } => "image_not_validated",
            PmError::UnpackRefused { .. } => "unpack_refused",
            PmError::DeviceBusy { .. } => "device_busy",
            PmError::ToolFailed { .. } => "tool_failed",
            PmError::Io { .. } => "io_error",
            PmError::BwMissing { .. } => "bw_missing",
            PmError::BwTimeout { .. } => "bw_timeout",
            PmError::BwFailed { .. } => "bw_failed",
            PmError::VaultNotLoggedIn => "vault_not_logged_in",
            PmError::VaultWrongPassword => "vault_wrong_password",
            PmError::VaultLocked => "vault_locked",
            PmError::VaultSessionExpired => "vault_session_expired",
            PmError::VaultItemNotFound { .. } => "vault_item_not_found",
            PmError::VaultItemAmbiguous { .. } => "vault_item_ambiguous",
            PmError::VaultFieldMissing { .. } => "vault_field_missing",
            PmError::VaultPasswordSource { .. } => "vault_password_source",
            PmError::VaultPremiumRequired { .. } => "vault_premium_required",
            PmError::VaultServerUnreachable => "vault_server_unreachable",
            PmError::ImageTooLarge { .. } => "image_too_large",
            PmError::FetchDenied { .. } => "fetch_denied",
            PmError::FetchTransient { .. } => "fetch_transient",
            PmError::DigestMismatch { .. } => "digest_mismatch",
            PmError::ObjectChanged { .. } => "object_changed",
            PmError::FetchUnsupported { .. } => "fetch_unsupported",
            PmError::ImageInUse { .. } => "image_in_use",
        }
    }

    pub fn exit_code(&self) -> ExitCode {
        match self {
            PmError::Usage { .. } | PmError::ConfigInvalid { .. } => ExitCode::Usage,
            PmError::LockBusy { .. } => ExitCode::LockBusy,
            PmError::StateUnusable { .. } | PmError::StateTooNew { .. } => ExitCode::Precondition,
            PmError::NotFound { .. } => ExitCode::NotFound,
            PmError::BadInputDocument { .. } => ExitCode::Rejected,
            PmError::UpstreamFailed { .. } => ExitCode::Precondition,
            PmError::ImageRejected { .. } => ExitCode::Rejected,
            PmError::Unreadable { .. } => ExitCode::NotFound,
            PmError::NoPool
            | PmError::PoolConflict { .. }
            | PmError::PoolFull { .. }
            | PmError::PoolInUse { .. }
            | PmError::ImageNotValidated { .. } => ExitCode::Precondition,
            PmError::DeviceMapperUnavailable { .. } | PmError::ToolFailed { .. } => {
                ExitCode::ToolUnavailable
            }
            PmError::UnpackRefused { .. } => ExitCode::Rejected,
            PmError::DeviceBusy { .. } => ExitCode::Transient,
            PmError::Io { .. } => ExitCode::Failure,
            PmError::BwMissing { .. } | PmError::BwTimeout { .. } | PmError::BwFailed { .. } => {
                ExitCode::ToolUnavailable
            }
            PmError::VaultWrongPassword | PmError::VaultSessionExpired => ExitCode::Auth,
            PmError::VaultNotLoggedIn
            | PmError::VaultLocked
            | PmError::VaultPremiumRequired { .. } => ExitCode::Precondition,
            PmError::VaultItemNotFound { .. } | PmError::VaultFieldMissing { .. } => {
                ExitCode::NotFound
            }
            PmError::VaultItemAmbiguous { .. } => ExitCode::Rejected,
            PmError::VaultPasswordSource { .. } => ExitCode::Usage,
            PmError::VaultServerUnreachable => ExitCode::Transient,
            PmError::ImageTooLarge { .. }
            | PmError::DigestMismatch { .. }
            | PmError::FetchUnsupported { .. } => ExitCode::Rejected,
            PmError::FetchDenied { .. } => ExitCode::Auth,
            PmError::ImageInUse { .. } => ExitCode::Precondition,
            PmError::FetchTransient { .. } | PmError::ObjectChanged { .. } => ExitCode::Transient,
        }
    }

    /// What the operator can do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            PmError::Usage { hint, .. } | PmError::NotFound { hint, .. } => hint.clone(),
            PmError::ConfigInvalid { path, .. } => Some(format!(
                "fix {} or point --config / PM_CONFIG at another file",
                path.display()
            )),
            PmError::LockBusy { .. } => Some(
                "wait for the other pm command to finish, or raise --lock-timeout".to_string(),
            ),
            PmError::StateUnusable { .. } => Some(
                "run `pm doctor`; restore from a `pm state backup` copy if the file is damaged"
                    .to_string(),
            ),
            PmError::StateTooNew { .. } => {
                Some("upgrade pm, or use --state with another file".to_string())
            }
            PmError::BadInputDocument { .. } => Some(
                "pipe the --json output of a previous pm command, e.g. `pm image fetch SRC --json | pm image validate - --json`"
                    .to_string(),
            ),
            PmError::UpstreamFailed { .. } => {
                Some("fix the failure of the previous command in the pipeline first".to_string())
            }
            PmError::ImageRejected { .. } => Some(
                "do not use this image; if it needs device nodes or setuid files, validate again with --allow-devices / --allow-setuid".to_string(),
            ),
            PmError::Unreadable { .. } => {
                Some("check the path and its permissions".to_string())
            }
            PmError::NoPool => Some(
                "create one with `pm pool create --loop-dir DIR` (or --data DEV --metadata DEV), or use --backend dir"
                    .to_string(),
            ),
            PmError::PoolConflict { .. } => Some(
                "use the existing pool, or `pm pool destroy` it first".to_string(),
            ),
            PmError::PoolFull { .. } => Some(
                "deactivate what is no longer needed, `pm image gc`, or raise pool.max_data_percent / pool.max_metadata_percent".to_string(),
            ),
            PmError::PoolInUse { .. } => Some(
                "deactivate the activations first (`pm image deactivate`), or pass --force".to_string(),
            ),
            PmError::DeviceMapperUnavailable { .. } => Some(
                "load dm-thin-pool (modprobe dm-thin-pool) and run as root, or use --backend dir".to_string(),
            ),
            PmError::ImageNotValidated { .. } => Some(
                "run `pm image validate IMAGE` first, or pass --validate".to_string(),
            ),
            PmError::UnpackRefused { violations } => Some(violations.unpack_hint()),
            PmError::DeviceBusy { .. } => {
                Some("something still holds the device; try again later".to_string())
            }
            PmError::ToolFailed { .. } => Some("run again with -vv for the tool's output".to_string()),
            PmError::Io { .. } => None,
            PmError::BwMissing { .. } => Some(
                "install it (`npm install -g @bitwarden/cli`) or point vault.bw_path / PM_VAULT_BW_PATH at it"
                    .to_string(),
            ),
            PmError::BwTimeout { .. } => Some(
                "bw may be waiting on a server or a lock; raise vault.timeout / PM_VAULT_TIMEOUT, or run with -vv to see its output"
                    .to_string(),
            ),
            PmError::BwFailed { .. } => {
                Some("run again with -vv to see bw's own output in the debug log".to_string())
            }
            PmError::VaultNotLoggedIn => Some(
                "log in once with `bw login` (same user and BITWARDENCLI_APPDATA_DIR / vault.data_dir as pm)"
                    .to_string(),
            ),
            PmError::VaultWrongPassword => Some(
                "check the master password in the file or variable given to --password-file / --password-env"
                    .to_string(),
            ),
            PmError::VaultLocked | PmError::VaultSessionExpired => Some(
                "run `pm vault unlock` at a terminal, or give --password-file FILE / --password-env VAR (config vault.password_file / vault.password_env)"
                    .to_string(),
            ),
            PmError::VaultItemNotFound { similar, .. } if !similar.is_empty() => Some(format!(
                "names match exactly and case-sensitively; similar names: {}",
                similar.join(", ")
            )),
            PmError::VaultItemNotFound { .. } => Some(
                "names match exactly and case-sensitively; an item id works too".to_string(),
            ),
            PmError::VaultItemAmbiguous { ids, .. } => {
                Some(format!("name the item by its id: {}", ids.join(", ")))
            }
            PmError::VaultFieldMissing { available, .. } => Some(format!(
                "fields this item has: {}",
                if available.is_empty() {
                    "none".to_string()
                } else {
                    available.join(", ")
                }
            )),
            PmError::VaultPasswordSource { .. } => Some(
                "--password-file reads the first line of a file; --password-env names a variable that holds the password"
                    .to_string(),
            ),
            PmError::VaultPremiumRequired { .. } => Some(
                "this field needs a Bitwarden premium account (or an organization item with TOTP enabled)"
                    .to_string(),
            ),
            PmError::VaultServerUnreachable => Some(
                "check the network and the server bw is configured for (`bw config server`); try again later"
                    .to_string(),
            ),
            PmError::ImageTooLarge { .. } => Some(
                "raise --max-size (or image.max_size) if this image is expected to be this large"
                    .to_string(),
            ),
            PmError::FetchDenied { .. } => Some(
                "check the AWS credentials (AWS_ACCESS_KEY_ID/AWS_PROFILE) and the bucket policy"
                    .to_string(),
            ),
            PmError::FetchTransient { .. } => Some(
                "the store or the network is failing; try again later (finished parts are kept)"
                    .to_string(),
            ),
            PmError::DigestMismatch { from, .. } if *from == STORE_CHECKSUM => Some(
                "the download was discarded: the bytes received differ from the checksum the store \
                 keeps for the object; fetch again, and if it recurs the stored object is damaged"
                    .to_string(),
            ),
            PmError::DigestMismatch { .. } => Some(
                "the download was discarded; check the expected digest and the object".to_string(),
            ),
            PmError::ObjectChanged { .. } => {
                Some("the object is being rewritten; try again once the upload is done".to_string())
            }
            PmError::FetchUnsupported { .. } => None,
            PmError::ImageInUse { .. } => {
                Some("deactivate it first, or pass --force".to_string())
            }
        }
    }

    /// Command-specific fields added beside `code`, `message` and `hint`.
    pub fn details(&self) -> Map<String, Value> {
        let value = match self {
            PmError::ConfigInvalid { path, line, .. } => json!({"file": path, "line": line}),
            PmError::LockBusy {
                path,
                holder,
                waited,
                ..
            } => json!({
                "lock": path,
                "holder": holder,
                "waited_secs": waited.as_secs_f64(),
            }),
            PmError::UpstreamFailed { code, .. } => json!({"upstream_code": code}),
            PmError::VaultItemNotFound { item, similar } => {
                json!({"item": item, "similar": similar})
            }
            PmError::VaultItemAmbiguous { item, ids } => json!({"item": item, "ids": ids}),
            PmError::VaultFieldMissing {
                item,
                field,
                available,
            } => json!({"item": item, "field": field, "available": available}),
            PmError::ImageRejected { violations } => violations.details(),
            PmError::Unreadable { path, .. } => json!({"path": path}),
            PmError::UnpackRefused { violations } => violations.details(),
            PmError::ImageTooLarge { size, max, .. } => json!({"size": size, "max_size": max}),
            PmError::FetchTransient { attempts, .. } => json!({"attempts": attempts}),
            PmError::ImageInUse { users, .. } => json!({"users": users}),
            PmError::DigestMismatch {
                expected,
                actual,
                from,
                ..
            } => json!({"expected": expected, "actual": actual, "checked_against": from}),
            _ => json!({}),
        };
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }
}

/// The code, exit code, message, hint and details of any error, typed or not.
pub struct Classified {
    pub code: &'static str,
    pub exit: ExitCode,
    pub message: String,
    pub hint: Option<String>,
    pub details: Map<String, Value>,
}

/// Finds the typed `PmError` inside an `anyhow` chain; anything else is an
/// internal failure. The message keeps the context chain (`a: b: c`).
pub fn classify(err: &anyhow::Error) -> Classified {
    let message = format!("{err:#}");
    match err.chain().find_map(|e| e.downcast_ref::<PmError>()) {
        Some(pm) => Classified {
            code: pm.code(),
            exit: pm.exit_code(),
            message,
            hint: pm.hint(),
            details: pm.details(),
        },
        None => Classified {
            code: "internal",
            exit: ExitCode::Failure,
            message,
            hint: Some("run again with -vv for a debug log; this may be a bug in pm".to_string()),
            details: Map::new(),
        },
    }
}
