//! The one error type whose variants are pm's stable error codes.
//!
//! Errors are created where the cause is known, carried up through `anyhow`
//! with context, and rendered exactly once by `output`. The exit code and the
//! snake_case `code` a script matches on are methods of the error, never
//! numbers chosen at a call site. The table in `ExitCode` is documented in the
//! README and in `pm --help`; its numbers never change meaning.

pub mod details;

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
    /// `pm play`: ansible-playbook ran and reported failure (its own code,
    /// 1-250, collides with this table, so it is in `ansible_rc` instead).
    PlaybookFailed = 10,
    /// Stopped by SIGINT (Ctrl-C): 128 + 2, as a shell reports it.
    InterruptedInt = 130,
    /// Stopped by SIGTERM (a timeout, `kill`, systemd): 128 + 15.
    InterruptedTerm = 143,
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
  9  precondition not met
  10 the playbook ran and failed (pm play; ansible-playbook's code is in ansible_rc)
  130  interrupted by SIGINT (Ctrl-C); state kept, run again to resume
  143  interrupted by SIGTERM; state kept, run again to resume
pm doctor: 0 no check failed (warnings allowed), 9 a check failed, 1 doctor could not run";

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

    /// The first failure of a pipeline, carried through every later command
    /// unchanged (never nested).
    #[error("the previous command failed ({code}): {message}")]
    UpstreamFailed {
        code: String,
        message: String,
        hint: Option<String>,
    },

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

    /// An external program (other than bw) not found or unable to start.
    #[error("{tool} (`{program}`) was not found or cannot run")]
    ToolMissing {
        tool: String,
        program: String,
        config_key: Option<String>,
    },

    /// An external program (other than bw) overran its deadline and was
    /// killed with its process group.
    #[error("`{tool} {command}` did not finish within {secs} s and was killed")]
    ToolTimeout {
        tool: String,
        command: String,
        secs: u64,
    },
    #[error("{source_url} is {size} bytes, more than the limit of {max} bytes")]
    ImageTooLarge {
        source_url: String,
        size: u64,
        max: u64,
    },

    /// `reason` is one sentence; `hint` says what to change for that cause.
    #[error("access to {source_url} was denied: {reason}")]
    FetchDenied {
        source_url: String,
        reason: String,
        hint: String,
    },

    #[error("fetching {source_url} failed after {attempts} attempts: {last}")]
    FetchTransient {
        source_url: String,
        attempts: u32,
        last: String,
        /// What kind of transient failure, for the hint.
        cause: TransientCause,
        /// Bytes of finished parts a rerun resumes from (0: nothing kept).
        kept_bytes: u64,
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
    FetchUnsupported {
        source_url: String,
        reason: String,
        hint: Option<String>,
    },

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

    // inspect/doctor (issue 14): doctor's own failure, kept apart from "a
    // check failed" (exit 9) so cron and monitoring can tell them apart.
    #[error("pm doctor could not run: {reason}")]
    DoctorCouldNotRun { reason: String },

    // net (issue 13): Tailscale, as pm net makes sense of it.
    #[error(
        "the coordination server rejected the auth key from vault item `{item}` ({attempts} attempt(s)): {server}"
    )]
    NetAuthFailed {
        item: String,
        field: String,
        attempts: u32,
        server: String,
    },

    #[error("this machine is waiting for approval by a tailnet admin")]
    NetNeedsMachineAuth { admin_url: String },

    #[error("the network is not up: {reason}")]
    NetNotRunning {
        backend_state: Option<String>,
        reason: String,
    },

    #[error("the coordination server refused the login ({attempts} attempt(s)): {server}")]
    NetBackendError { attempts: u32, server: String },

    #[error(
        "tailscale did not reach the Running state within {secs} s{}",
        health_suffix(health)
    )]
    NetTimeout {
        secs: u64,
        backend_state: Option<String>,
        health: Vec<String>,
    },

    #[error("tailscaled could not be started: {reason}")]
    NetDaemonFailed { reason: String, log: PathBuf },

    #[error("something else already listens on {socket} and does not answer as tailscaled")]
    NetSocketBusy { socket: PathBuf, log: PathBuf },

    #[error("`tailscale up` requires settings pm does not manage to be restated: {}", flags.join(" "))]
    NetSettingsConflict { flags: Vec<String> },

    // play: ansible-playbook gated on the network.
    #[error(
        "playbook {playbook} failed (ansible-playbook exit code {rc}){}",
        summary_suffix(summary)
    )]
    PlayFailed {
        playbook: String,
        rc: i32,
        /// One line per host, `host: ok=1 changed=0 ...`, for people.
        summary: String,
        /// The per-host recap from the callback plugin, for `--json`.
        recap: Value,
    },
    // provider (issue 15): registration and the onboarding into Ray.
    #[error("this host is not registered as a provider")]
    ProviderNotRegistered,

    #[error("the host does not meet the onboarding prerequisites: {}", failures.join("; "))]
    ProviderPrerequisites { failures: Vec<String> },

    #[error("the Ray cluster address {address:?} is not HOST:PORT: {reason}")]
    RayAddressInvalid { address: String, reason: String },

    #[error("the Ray head at {address} is unreachable: {reason}")]
    RayHeadUnreachable { address: String, reason: String },

    #[error("the Ray head at {address} refused the auth token ({source_of_token})")]
    RayAuthFailed {
        address: String,
        source_of_token: String,
    },

    #[error(
        "Ray or Python differ from the head at {address}: the head runs Ray {head_ray} on Python {head_python}, this node would run Ray {local_ray} on Python {local_python}"
    )]
    RayVersionMismatch {
        address: String,
        head_ray: String,
        head_python: String,
        local_ray: String,
        local_python: String,
    },

    #[error("`ray start` did not join {address}: {reason}")]
    RayJoinFailed { address: String, reason: String },

    #[error("the Ray node {node_id} is not ALIVE in the cluster: {reason}")]
    RayNodeNotAlive { node_id: String, reason: String },

    #[error("the provider's Python environment {venv} could not be made: {reason}")]
    PythonEnvFailed { venv: PathBuf, reason: String },
    /// SIGINT or SIGTERM: the step in flight was finished or abandoned the
    /// way a crash would leave it.
    #[error("interrupted by {} while {doing}", signal_name(*signal))]
    Interrupted {
        signal: i32,
        /// What pm was doing: `fetching s3://b/k`.
        doing: String,
        /// What is kept for a rerun, in words (`5 of 12 parts, 5 MiB`).
        kept: Option<String>,
        /// The same in bytes, for scripts.
        kept_bytes: Option<u64>,
        /// The command that resumes or retries the work.
        resume: Option<String>,
    },
}

/// What kind of transient failure a fetch gave up on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransientCause {
    /// No connection could be made (refused, no route, DNS).
    Unreachable,
    /// The store kept answering SlowDown / 503 / 429.
    Throttled,
    /// 5xx, resets, timeouts, short bodies.
    Other,
}

/// `SIGTERM`, `SIGINT`, or `signal N`.
pub fn signal_name(signal: i32) -> String {
    match signal {
        libc::SIGINT => "SIGINT".to_string(),
        libc::SIGTERM => "SIGTERM".to_string(),
        libc::SIGHUP => "SIGHUP".to_string(),
        n => format!("signal {n}"),
    }
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
            PmError::ToolMissing { .. } => "tool_missing",
            PmError::ToolTimeout { .. } => "tool_timeout",
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
            PmError::DoctorCouldNotRun { .. } => "doctor_could_not_run",
            PmError::ImageTooLarge { .. } => "image_too_large",
            PmError::FetchDenied { .. } => "fetch_denied",
            PmError::FetchTransient { .. } => "fetch_transient",
            PmError::DigestMismatch { .. } => "digest_mismatch",
            PmError::ObjectChanged { .. } => "object_changed",
            PmError::FetchUnsupported { .. } => "fetch_unsupported",
            PmError::ImageInUse { .. } => "image_in_use",
            PmError::NetAuthFailed { .. } => "net_auth_failed",
            PmError::NetNeedsMachineAuth { .. } => "net_needs_machine_auth",
            PmError::NetNotRunning { .. } => "net_not_running",
            PmError::NetBackendError { .. } => "net_backend_error",
            PmError::NetTimeout { .. } => "net_timeout",
            PmError::NetDaemonFailed { .. } => "net_daemon_failed",
            PmError::NetSocketBusy { .. } => "net_socket_busy",
            PmError::NetSettingsConflict { .. } => "net_settings_conflict",
            PmError::PlayFailed { .. } => "play_failed",
            PmError::ProviderNotRegistered => "provider_not_registered",
            PmError::ProviderPrerequisites { .. } => "provider_prerequisites",
            PmError::RayAddressInvalid { .. } => "ray_address_invalid",
            PmError::RayHeadUnreachable { .. } => "ray_head_unreachable",
            PmError::RayAuthFailed { .. } => "ray_auth_failed",
            PmError::RayVersionMismatch { .. } => "ray_version_mismatch",
            PmError::RayJoinFailed { .. } => "ray_join_failed",
            PmError::RayNodeNotAlive { .. } => "ray_node_not_alive",
            PmError::PythonEnvFailed { .. } => "python_env_failed",
            PmError::Interrupted { .. } => "interrupted",
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
            PmError::DeviceMapperUnavailable { .. }
            | PmError::ToolFailed { .. }
            | PmError::ToolMissing { .. }
            | PmError::ToolTimeout { .. } => ExitCode::ToolUnavailable,
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
            PmError::DoctorCouldNotRun { .. } => ExitCode::Failure,
            PmError::ImageTooLarge { .. }
            | PmError::DigestMismatch { .. }
            | PmError::FetchUnsupported { .. } => ExitCode::Rejected,
            PmError::FetchDenied { .. } => ExitCode::Auth,
            PmError::ImageInUse { .. } => ExitCode::Precondition,
            PmError::FetchTransient { .. } | PmError::ObjectChanged { .. } => ExitCode::Transient,
            PmError::NetAuthFailed { .. } => ExitCode::Auth,
            PmError::NetNeedsMachineAuth { .. }
            | PmError::NetNotRunning { .. }
            | PmError::NetSettingsConflict { .. } => ExitCode::Precondition,
            PmError::NetBackendError { .. } | PmError::NetTimeout { .. } => ExitCode::Transient,
            PmError::NetDaemonFailed { .. } | PmError::NetSocketBusy { .. } => {
                ExitCode::ToolUnavailable
            }
            PmError::PlayFailed { .. } => ExitCode::PlaybookFailed,
            PmError::ProviderNotRegistered
            | PmError::ProviderPrerequisites { .. }
            | PmError::RayVersionMismatch { .. } => ExitCode::Precondition,
            PmError::RayJoinFailed { .. } | PmError::PythonEnvFailed { .. } => {
                ExitCode::ToolUnavailable
            }
            PmError::RayAddressInvalid { .. } => ExitCode::Usage,
            PmError::RayHeadUnreachable { .. } | PmError::RayNodeNotAlive { .. } => {
                ExitCode::Transient
            }
            PmError::RayAuthFailed { .. } => ExitCode::Auth,
            PmError::Interrupted { signal, .. } if *signal == libc::SIGINT => {
                ExitCode::InterruptedInt
            }
            PmError::Interrupted { .. } => ExitCode::InterruptedTerm,
        }
    }

    /// Whether trying the same command again later can help: transient
    /// failures that outlasted their retries, and a lock that stayed busy.
    /// Scripts and playbooks retry only these.
    pub fn retryable(&self) -> bool {
        matches!(self.exit_code(), ExitCode::Transient | ExitCode::LockBusy)
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
            PmError::UpstreamFailed { hint: Some(hint), .. } => Some(format!(
                "fix the first failure of the pipeline: {hint}"
            )),
            PmError::UpstreamFailed { .. } => {
                Some("fix the failure of the previous command in the pipeline first".to_string())
            }
            PmError::ImageRejected { violations } => Some(rejection_hint(violations)),
            PmError::Unreadable { path, source } => Some(unreadable_hint(path, source)),
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
            PmError::ToolMissing {
                tool,
                config_key: Some(key),
                ..
            } => Some(format!("install {tool}, or point {key} at it")),
            PmError::ToolMissing { tool, .. } => {
                Some(format!("install {tool} where PATH finds it"))
            }
            PmError::ToolTimeout { .. } => Some(
                "the tool may be waiting on a server, a lock or a device; run again with -vv to see its output"
                    .to_string(),
            ),
            PmError::Io { source, .. } => io_hint(source),
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
            PmError::FetchDenied { hint, .. } => Some(hint.clone()),
            PmError::FetchTransient {
                cause, kept_bytes, ..
            } => Some(transient_hint(*cause, *kept_bytes)),
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
            PmError::FetchUnsupported { hint, .. } => hint.clone(),
            PmError::ImageInUse { .. } => {
                Some("deactivate it first, or pass --force".to_string())
            }
            PmError::DoctorCouldNotRun { .. } => Some(
                "no check was judged; fix the cause (often --textfile-dir) and run pm doctor again"
                    .to_string(),
            ),
            PmError::NetAuthFailed { item, field, .. } => Some(format!(
                "put a valid, unexpired auth key into the {field} of vault item `{item}` \
                 (net.auth_key_item; Tailscale admin console, Settings, Keys; a one-off key works once); \
                 pm syncs the vault and reads the key again before every attempt"
            )),
            PmError::NetNeedsMachineAuth { admin_url } => Some(format!(
                "approve this machine at {admin_url}, or use a pre-authorized auth key; then run `pm net up` again"
            )),
            PmError::NetNotRunning { .. } => Some(
                "run `pm net up`, or wait for it with `pm net wait --timeout SECS`; `pm net status` shows why"
                    .to_string(),
            ),
            PmError::NetBackendError { .. } => Some(
                "the server refused for a reason other than the key; try again later, and check net.tags and net.login_server if it persists"
                    .to_string(),
            ),
            PmError::NetTimeout { .. } => Some(
                "check that this host reaches the coordination server (net.login_server); `pm net status` shows tailscaled's health; raise net.up_timeout on a slow link"
                    .to_string(),
            ),
            PmError::NetDaemonFailed { log, .. } => Some(format!(
                "tailscaled's own words are in {}; check net.tun (userspace-networking needs neither root nor /dev/net/tun) and net.statedir",
                log.display()
            )),
            PmError::NetSocketBusy { socket, .. } => Some(format!(
                "stop the process listening on {}, or point net.socket at another path",
                socket.display()
            )),
            PmError::NetSettingsConflict { .. } => Some(
                "a setting pm does not manage was changed by hand and tailscale will not keep it; undo it with `tailscale set`, or run `tailscale up --reset` once"
                    .to_string(),
            ),
            PmError::PlayFailed { .. } => Some(
                "ansible-playbook's own output is above on stderr; with --json the per-host recap is in error.recap"
                    .to_string(),
            ),
            PmError::ProviderNotRegistered => {
                Some("run `pm provider register` first".to_string())
            }
            PmError::ProviderPrerequisites { .. } => Some(
                "fix what is listed, then run `pm provider onboard` again".to_string(),
            ),
            PmError::RayAddressInvalid { .. } => Some(
                "set provider.cluster_address (PM_PROVIDER_CLUSTER_ADDRESS) to the head's HOST:PORT, e.g. 100.101.84.71:6379"
                    .to_string(),
            ),
            PmError::RayHeadUnreachable { .. } => Some(
                "check that the head is up and that this host can reach it (the network step, a firewall); try again later"
                    .to_string(),
            ),
            PmError::RayAuthFailed { .. } => Some(
                "put the cluster's token in the vault item named by provider.token_item (and provider.token_field), or fix provider.auth_mode"
                    .to_string(),
            ),
            PmError::RayVersionMismatch { .. } => Some(
                "pin the head's Ray version in provider.ray_version and build the venv from the head's Python (provider.python); the node was not started"
                    .to_string(),
            ),
            PmError::RayJoinFailed { .. } => Some(
                "run again with -vv for Ray's output; the node's logs are under provider.ray_temp_dir"
                    .to_string(),
            ),
            PmError::RayNodeNotAlive { .. } => Some(
                "the node may have lost the head; `pm provider onboard --from ray-join` joins it again"
                    .to_string(),
            ),
            PmError::PythonEnvFailed { .. } => Some(
                "run again with -vv for pip's output; for an offline host point provider.wheelhouse at a folder of wheels"
                    .to_string(),
            ),
            PmError::Interrupted { kept, resume, .. } => Some(interrupted_hint(kept, resume)),
        }
    }

    /// Command-specific fields added beside `code`, `message` and `hint`
    /// (their types, for `pm schema`, are in [`details`]).
    pub fn details(&self) -> Map<String, Value> {
        details::of(self).fields
    }
}

/// `: health line; health line` after a timeout, when tailscaled said why.
fn health_suffix(health: &[String]) -> String {
    if health.is_empty() {
        String::new()
    } else {
        format!(": {}", health.join("; "))
    }
}

/// The per-host recap after a failed playbook, one host a line.
fn summary_suffix(summary: &str) -> String {
    if summary.is_empty() {
        String::new()
    } else {
        format!("\n  {}", summary.replace('\n', "\n  "))
    }
}

/// A hint that fits what was found: the flags only when they would help.
fn rejection_hint(violations: &Violations) -> String {
    let has = |rules: &[&str]| rules.iter().any(|rule| violations.has_rule(rule));
    if has(&["not_an_archive", "unsupported_format", "empty_archive"]) {
        return "this is not an image pm can use: give a tar, tar.gz or tar.zst archive of a root filesystem".to_string();
    }
    if has(&[
        "truncated",
        "bad_checksum",
        "corrupt_header",
        "corrupt_compression",
    ]) {
        return "the archive is damaged or incomplete: fetch or build it again".to_string();
    }
    let mut flags = Vec::new();
    if has(&["device_node", "fifo"]) {
        flags.push("--allow-devices");
    }
    if has(&["setuid", "setgid"]) {
        flags.push("--allow-setuid");
    }
    let limits = has(&[
        "too_many_entries",
        "unpacked_size",
        "compression_ratio",
        "path_too_long",
        "component_too_long",
        "too_deep",
    ]);
    let mut hint = "do not use this image".to_string();
    if !flags.is_empty() {
        hint.push_str(&format!(
            "; if it is meant to have them, validate again with {}",
            flags.join(" / ")
        ));
    }
    if limits {
        hint.push_str(
            "; if the image is trusted to be this large, raise the --max-* limit named by the rule",
        );
    }
    hint
}

/// Why a path could not be read, in terms of what to do about it.
fn unreadable_hint(path: &std::path::Path, source: &std::io::Error) -> String {
    match source.kind() {
        std::io::ErrorKind::IsADirectory => format!(
            "{} is a directory: give an archive file (tar, tar.gz, tar.zst) or a stored image",
            path.display()
        ),
        std::io::ErrorKind::PermissionDenied => format!(
            "pm cannot read {}: check its permissions (or run as its owner)",
            path.display()
        ),
        _ => "check the path and its permissions".to_string(),
    }
}

/// A hint for an operating-system error with no better category.
fn io_hint(source: &std::io::Error) -> Option<String> {
    use std::io::ErrorKind;
    let hint = match source.kind() {
        ErrorKind::NotFound => {
            "a directory on the path does not exist: create it or choose another path"
        }
        ErrorKind::PermissionDenied => {
            "check the permissions of the path (or run as a user who may write there)"
        }
        ErrorKind::StorageFull => "the filesystem is full: free space and try again",
        ErrorKind::ReadOnlyFilesystem => "the filesystem is read-only: choose a writable path",
        _ => return None,
    };
    Some(hint.to_string())
}

fn transient_hint(cause: TransientCause, kept_bytes: u64) -> String {
    let what = match cause {
        TransientCause::Unreachable => {
            "the endpoint did not accept connections: check the URL (--endpoint-url, image.endpoint_url, AWS_ENDPOINT_URL), the network and that the store is up"
        }
        TransientCause::Throttled => {
            "the store is throttling requests: try again later, or lower --concurrency"
        }
        TransientCause::Other => "the store or the network is failing; try again later",
    };
    if kept_bytes > 0 {
        format!(
            "{what}; the {kept_bytes} bytes of finished parts are kept and the next run resumes from them"
        )
    } else {
        format!("{what}; nothing was downloaded")
    }
}

fn interrupted_hint(kept: &Option<String>, resume: &Option<String>) -> String {
    let kept = match kept {
        Some(kept) => format!("kept: {kept}"),
        None => "the state is consistent".to_string(),
    };
    match resume {
        Some(command) => format!("{kept}; run `{command}` to resume"),
        None => format!("{kept}; run the command again"),
    }
}

/// The code, exit code, message, hint and details of any error, typed or not.
pub struct Classified {
    pub code: &'static str,
    pub exit: ExitCode,
    /// See [`PmError::retryable`].
    pub retryable: bool,
    pub message: String,
    pub hint: Option<String>,
    pub details: Map<String, Value>,
}

impl Classified {
    /// The error document of the JSON contract:
    /// `{"error": {"code", "message", "hint", "retryable", ...details}}`.
    /// Every path that prints an error builds it here (`pm schema` says what
    /// it holds).
    pub fn document(&self) -> Value {
        let mut body = Map::new();
        body.insert("code".to_string(), json!(self.code));
        body.insert("message".to_string(), json!(self.message));
        body.insert("hint".to_string(), json!(self.hint));
        body.insert("retryable".to_string(), json!(self.retryable));
        body.extend(self.details.clone());
        json!({ "error": body })
    }
}

/// Finds the typed `PmError` inside an `anyhow` chain; anything else is an
/// internal failure. The message keeps the context chain (`a: b: c`).
pub fn classify(err: &anyhow::Error) -> Classified {
    let message = chain_message(err);
    match err.chain().find_map(|e| e.downcast_ref::<PmError>()) {
        Some(pm) => Classified {
            code: pm.code(),
            exit: pm.exit_code(),
            retryable: pm.retryable(),
            message,
            hint: pm.hint(),
            details: pm.details(),
        },
        None => Classified {
            code: details::INTERNAL,
            exit: ExitCode::Failure,
            retryable: false,
            message,
            hint: Some("run again with -vv for a debug log; this may be a bug in pm".to_string()),
            details: Map::new(),
        },
    }
}

/// `context: cause: cause`, like `{:#}`, but a cause whose text an outer
/// message already quotes is not repeated (`cannot read d: is a directory`,
/// not `...: is a directory: is a directory`).
fn chain_message(err: &anyhow::Error) -> String {
    let mut message = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if message.contains(&text) {
            continue;
        }
        if !message.is_empty() {
            message.push_str(": ");
        }
        message.push_str(&text);
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_quoted_by_its_context_is_not_repeated() {
        let err = anyhow::Error::from(PmError::Unreadable {
            path: PathBuf::from("d"),
            source: std::io::Error::new(std::io::ErrorKind::IsADirectory, "is a directory"),
        });
        assert_eq!(classify(&err).message, "cannot read d: is a directory");
        let err = anyhow::Error::from(PmError::io(
            "cannot create x",
            std::io::Error::from(std::io::ErrorKind::NotFound),
        ))
        .context("writing the backup");
        assert_eq!(
            classify(&err).message,
            "writing the backup: cannot create x: entity not found"
        );
    }
}
