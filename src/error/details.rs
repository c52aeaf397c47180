//! The fields each error code adds to the JSON error document, as types.
//!
//! [`of`] turns an error into its fields and the schema of their type in
//! one match, so what `pm schema` says an error carries is the type that
//! was serialised. [`codes`] is every code of the contract, taken from one
//! sample of each variant: its code, exit code and retryability come from
//! the same methods a real error uses.

use super::{ExitCode, PmError, STORE_CHECKSUM, TransientCause, signal_name};
use crate::image::violation::Violations;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// A schema of a type, built in a given generator.
pub type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

/// An error's own fields and the schema of the type they came from.
pub struct Details {
    pub fields: Map<String, Value>,
    pub schema: SchemaFn,
}

fn typed<T: Serialize + JsonSchema>(value: T) -> Details {
    let fields = match serde_json::to_value(&value) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    Details {
        fields,
        schema: T::json_schema,
    }
}

/// One code of the contract, for `pm schema`.
pub struct CodeSpec {
    pub code: &'static str,
    /// Most codes have one; `interrupted` has one per signal.
    pub exits: Vec<ExitCode>,
    pub retryable: bool,
    pub details: SchemaFn,
}

/// The code of any failure that is not a [`PmError`] (see `classify`).
pub const INTERNAL: &str = "internal";

/// Every error code pm prints, `internal` included, sorted by code.
pub fn codes() -> Vec<CodeSpec> {
    let mut codes: Vec<CodeSpec> = vec![CodeSpec {
        code: INTERNAL,
        exits: vec![ExitCode::Failure],
        retryable: false,
        details: NoDetails::json_schema,
    }];
    for e in samples() {
        match codes.iter_mut().find(|c| c.code == e.code()) {
            Some(known) => known.exits.push(e.exit_code()),
            None => codes.push(CodeSpec {
                code: e.code(),
                exits: vec![e.exit_code()],
                retryable: e.retryable(),
                details: of(&e).schema,
            }),
        }
    }
    codes.sort_by_key(|c| c.code);
    codes
}

/// The fields an error adds beside `code`, `message`, `hint` and `retryable`.
pub fn of(e: &PmError) -> Details {
    match e {
        PmError::Usage { .. } => typed(Usage { usage: None }),
        PmError::ConfigInvalid { path, line, .. } => typed(ConfigInvalid {
            file: path.clone(),
            line: *line,
        }),
        PmError::LockBusy {
            path,
            holder,
            waited,
            ..
        } => typed(LockBusy {
            lock: path.clone(),
            holder: holder.clone(),
            waited_secs: waited.as_secs_f64(),
        }),
        PmError::UpstreamFailed {
            code,
            message,
            hint,
        } => typed(UpstreamFailed {
            upstream_code: code.clone(),
            upstream_message: message.clone(),
            upstream_hint: hint.clone(),
        }),
        PmError::VaultItemNotFound { item, similar } => typed(VaultItemNotFound {
            item: item.clone(),
            similar: similar.clone(),
        }),
        PmError::VaultItemAmbiguous { item, ids } => typed(VaultItemAmbiguous {
            item: item.clone(),
            ids: ids.clone(),
        }),
        PmError::VaultFieldMissing {
            item,
            field,
            available,
        } => typed(VaultFieldMissing {
            item: item.clone(),
            field: field.clone(),
            available: available.clone(),
        }),
        PmError::ImageRejected { violations } | PmError::UnpackRefused { violations } => {
            typed(violations.details())
        }
        PmError::Unreadable { path, .. } => typed(Unreadable { path: path.clone() }),
        PmError::ImageTooLarge { size, max, .. } => typed(ImageTooLarge {
            size: *size,
            max_size: *max,
        }),
        PmError::FetchTransient {
            attempts,
            kept_bytes,
            ..
        } => typed(FetchTransient {
            attempts: *attempts,
            kept_bytes: *kept_bytes,
        }),
        PmError::Interrupted {
            signal,
            kept,
            kept_bytes,
            resume,
            ..
        } => typed(Interrupted {
            signal: signal_name(*signal),
            kept: kept.clone(),
            kept_bytes: kept_bytes.unwrap_or(0),
            resume: resume.clone(),
        }),
        PmError::ImageInUse { users, .. } => typed(ImageInUse {
            users: users.clone(),
        }),
        PmError::ToolMissing {
            tool,
            program,
            config_key,
        } => typed(ToolMissing {
            tool: tool.clone(),
            program: program.clone(),
            config_key: config_key.clone(),
        }),
        PmError::ToolTimeout {
            tool,
            command,
            secs,
        } => typed(ToolTimeout {
            tool: tool.clone(),
            command: command.clone(),
            timeout_secs: *secs,
        }),
        PmError::DigestMismatch {
            expected,
            actual,
            from,
            ..
        } => typed(DigestMismatch {
            expected: expected.clone(),
            actual: actual.clone(),
            checked_against: from.to_string(),
        }),
        PmError::NetAuthFailed {
            item,
            field,
            attempts,
            server,
        } => typed(NetAuthFailed {
            item: item.clone(),
            field: field.clone(),
            attempts: *attempts,
            server_message: server.clone(),
        }),
        PmError::NetNeedsMachineAuth { admin_url } => typed(NetNeedsMachineAuth {
            admin_url: admin_url.clone(),
        }),
        PmError::NetNotRunning { backend_state, .. } => typed(NetNotRunning {
            backend_state: backend_state.clone(),
        }),
        PmError::NetBackendError { attempts, server } => typed(NetBackendError {
            attempts: *attempts,
            server_message: server.clone(),
        }),
        PmError::NetTimeout {
            secs,
            backend_state,
            health,
        } => typed(NetTimeout {
            timeout_secs: *secs,
            backend_state: backend_state.clone(),
            health: health.clone(),
        }),
        PmError::NetDaemonFailed { log, .. } => typed(NetDaemonFailed { log: log.clone() }),
        PmError::NetSocketBusy { socket, log } => typed(NetSocketBusy {
            socket: socket.clone(),
            log: log.clone(),
        }),
        PmError::NetSettingsConflict { flags } => typed(NetSettingsConflict {
            flags: flags.clone(),
        }),
        PmError::PlayFailed {
            playbook,
            rc,
            recap,
            ..
        } => typed(PlayFailed {
            playbook: playbook.clone(),
            ansible_rc: *rc,
            recap: recap.clone(),
        }),
        PmError::ProviderPrerequisites { failures } => typed(ProviderPrerequisites {
            failures: failures.clone(),
        }),
        PmError::RayAddressInvalid { address, .. }
        | PmError::RayHeadUnreachable { address, .. }
        | PmError::RayAuthFailed { address, .. }
        | PmError::RayJoinFailed { address, .. } => typed(RayAddress {
            address: address.clone(),
        }),
        PmError::RayVersionMismatch {
            address,
            head_ray,
            head_python,
            local_ray,
            local_python,
        } => typed(RayVersionMismatch {
            address: address.clone(),
            head: RayVersions {
                ray: head_ray.clone(),
                python: head_python.clone(),
            },
            local: RayVersions {
                ray: local_ray.clone(),
                python: local_python.clone(),
            },
        }),
        PmError::RayNodeNotAlive { node_id, .. } => typed(RayNodeNotAlive {
            node_id: node_id.clone(),
        }),
        PmError::PythonEnvFailed { venv, .. } => typed(PythonEnvFailed { venv: venv.clone() }),
        // Said in the message and the hint; nothing a script needs apart.
        PmError::StateUnusable { .. }
        | PmError::StateTooNew { .. }
        | PmError::NotFound { .. }
        | PmError::BadInputDocument { .. }
        | PmError::NoPool
        | PmError::PoolConflict { .. }
        | PmError::PoolFull { .. }
        | PmError::PoolInUse { .. }
        | PmError::DeviceMapperUnavailable { .. }
        | PmError::ImageNotValidated { .. }
        | PmError::DeviceBusy { .. }
        | PmError::ToolFailed { .. }
        | PmError::FetchDenied { .. }
        | PmError::ObjectChanged { .. }
        | PmError::FetchUnsupported { .. }
        | PmError::Io { .. }
        | PmError::BwMissing { .. }
        | PmError::BwTimeout { .. }
        | PmError::BwFailed { .. }
        | PmError::VaultNotLoggedIn
        | PmError::VaultWrongPassword
        | PmError::VaultLocked
        | PmError::VaultSessionExpired
        | PmError::VaultPasswordSource { .. }
        | PmError::VaultPremiumRequired { .. }
        | PmError::VaultServerUnreachable
        | PmError::DoctorCouldNotRun { .. }
        | PmError::ProviderNotRegistered => typed(NoDetails {}),
    }
}

/// No fields beyond code, message, hint and retryable.
#[derive(Serialize, JsonSchema)]
pub struct NoDetails {}

/// `usage`: a command line clap refused, or a value pm refused.
#[derive(Serialize, JsonSchema)]
pub struct Usage {
    /// clap's usage line of the command (null when clap showed none);
    /// absent when pm itself refused a value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<Option<String>>,
}

/// `config_invalid`.
#[derive(Serialize, JsonSchema)]
pub struct ConfigInvalid {
    /// The config file.
    pub file: PathBuf,
    /// The line of the bad key or value.
    pub line: usize,
}

/// `lock_busy`.
#[derive(Serialize, JsonSchema)]
pub struct LockBusy {
    /// The lock file.
    pub lock: PathBuf,
    /// Who held it: pid and command.
    pub holder: String,
    pub waited_secs: f64,
}

/// `upstream_failed`: the first failure of a pipeline, carried unchanged.
#[derive(Serialize, JsonSchema)]
pub struct UpstreamFailed {
    pub upstream_code: String,
    pub upstream_message: String,
    pub upstream_hint: Option<String>,
}

/// `vault_item_not_found`.
#[derive(Serialize, JsonSchema)]
pub struct VaultItemNotFound {
    pub item: String,
    /// Names bw matched by substring.
    pub similar: Vec<String>,
}

/// `vault_item_ambiguous`.
#[derive(Serialize, JsonSchema)]
pub struct VaultItemAmbiguous {
    pub item: String,
    /// The ids of the items with that exact name.
    pub ids: Vec<String>,
}

/// `vault_field_missing`.
#[derive(Serialize, JsonSchema)]
pub struct VaultFieldMissing {
    pub item: String,
    pub field: String,
    /// The fields the item has.
    pub available: Vec<String>,
}

/// `unreadable`.
#[derive(Serialize, JsonSchema)]
pub struct Unreadable {
    pub path: PathBuf,
}

/// `image_too_large`: refused on HEAD, nothing downloaded.
#[derive(Serialize, JsonSchema)]
pub struct ImageTooLarge {
    pub size: u64,
    pub max_size: u64,
}

/// `fetch_transient`.
#[derive(Serialize, JsonSchema)]
pub struct FetchTransient {
    pub attempts: u32,
    /// Bytes of finished parts a rerun resumes from.
    pub kept_bytes: u64,
}

/// `interrupted`: SIGINT or SIGTERM.
#[derive(Serialize, JsonSchema)]
pub struct Interrupted {
    /// `SIGINT`, `SIGTERM`, ...
    pub signal: String,
    /// What is kept for a rerun, in words.
    pub kept: Option<String>,
    pub kept_bytes: u64,
    /// The command that resumes or retries the work.
    pub resume: Option<String>,
}

/// `image_in_use`.
#[derive(Serialize, JsonSchema)]
pub struct ImageInUse {
    /// The activations and volumes that use the image.
    pub users: Vec<String>,
}

/// `tool_missing`.
#[derive(Serialize, JsonSchema)]
pub struct ToolMissing {
    pub tool: String,
    pub program: String,
    /// The config key that sets the tool's path.
    pub config_key: Option<String>,
}

/// `tool_timeout`.
#[derive(Serialize, JsonSchema)]
pub struct ToolTimeout {
    pub tool: String,
    pub command: String,
    pub timeout_secs: u64,
}

/// `digest_mismatch`: the download was discarded.
#[derive(Serialize, JsonSchema)]
pub struct DigestMismatch {
    pub expected: String,
    pub actual: String,
    /// `--sha256`, or the store's checksum.
    pub checked_against: String,
}

/// `net_auth_failed`.
#[derive(Serialize, JsonSchema)]
pub struct NetAuthFailed {
    /// The vault item the auth key came from.
    pub item: String,
    pub field: String,
    pub attempts: u32,
    /// What the coordination server said.
    pub server_message: String,
}

/// `net_needs_machine_auth`.
#[derive(Serialize, JsonSchema)]
pub struct NetNeedsMachineAuth {
    pub admin_url: String,
}

/// `net_not_running`.
#[derive(Serialize, JsonSchema)]
pub struct NetNotRunning {
    pub backend_state: Option<String>,
}

/// `net_backend_error`.
#[derive(Serialize, JsonSchema)]
pub struct NetBackendError {
    pub attempts: u32,
    pub server_message: String,
}

/// `net_timeout`.
#[derive(Serialize, JsonSchema)]
pub struct NetTimeout {
    pub timeout_secs: u64,
    pub backend_state: Option<String>,
    /// tailscaled's health messages.
    pub health: Vec<String>,
}

/// `net_daemon_failed`.
#[derive(Serialize, JsonSchema)]
pub struct NetDaemonFailed {
    /// tailscaled's log file.
    pub log: PathBuf,
}

/// `net_socket_busy`.
#[derive(Serialize, JsonSchema)]
pub struct NetSocketBusy {
    pub socket: PathBuf,
    pub log: PathBuf,
}

/// `net_settings_conflict`.
#[derive(Serialize, JsonSchema)]
pub struct NetSettingsConflict {
    /// The flags tailscale wants restated.
    pub flags: Vec<String>,
}

/// `play_failed`.
#[derive(Serialize, JsonSchema)]
pub struct PlayFailed {
    pub playbook: String,
    /// ansible-playbook's own exit code.
    pub ansible_rc: i32,
    /// Per host, ansible's counters (ok, changed, unreachable, failed,
    /// skipped, rescued, ignored).
    #[schemars(with = "BTreeMap<String, BTreeMap<String, u64>>")]
    pub recap: Value,
}

/// `provider_prerequisites`.
#[derive(Serialize, JsonSchema)]
pub struct ProviderPrerequisites {
    pub failures: Vec<String>,
}

/// `ray_address_invalid`, `ray_head_unreachable`, `ray_auth_failed`,
/// `ray_join_failed`.
#[derive(Serialize, JsonSchema)]
pub struct RayAddress {
    /// The cluster address, HOST:PORT.
    pub address: String,
}

/// `ray_version_mismatch`.
#[derive(Serialize, JsonSchema)]
pub struct RayVersionMismatch {
    pub address: String,
    pub head: RayVersions,
    pub local: RayVersions,
}

/// Ray and Python versions of one side.
#[derive(Serialize, JsonSchema)]
pub struct RayVersions {
    pub ray: String,
    pub python: String,
}

/// `ray_node_not_alive`.
#[derive(Serialize, JsonSchema)]
pub struct RayNodeNotAlive {
    pub node_id: String,
}

/// `python_env_failed`.
#[derive(Serialize, JsonSchema)]
pub struct PythonEnvFailed {
    pub venv: PathBuf,
}

/// One error of every variant, with placeholder values: what [`codes`]
/// reads the codes from. A new variant needs a sample here; the tests fail
/// until its code is documented and known to `pm schema`.
fn samples() -> Vec<PmError> {
    let s = String::new;
    let p = PathBuf::new;
    let io = || std::io::Error::other("sample");
    vec![
        PmError::usage(s(), None),
        PmError::ConfigInvalid {
            path: p(),
            line: 0,
            message: s(),
        },
        PmError::LockBusy {
            what: "",
            path: p(),
            holder: s(),
            waited: Duration::ZERO,
        },
        PmError::StateUnusable {
            path: p(),
            reason: s(),
        },
        PmError::StateTooNew {
            path: p(),
            found: 0,
            supported: 0,
        },
        PmError::not_found(s(), None),
        PmError::BadInputDocument { reason: s() },
        PmError::UpstreamFailed {
            code: s(),
            message: s(),
            hint: None,
        },
        PmError::ImageRejected {
            violations: Violations::default(),
        },
        PmError::Unreadable {
            path: p(),
            source: io(),
        },
        PmError::NoPool,
        PmError::PoolConflict {
            name: s(),
            differs: s(),
        },
        PmError::PoolFull {
            what: "",
            percent: 0.0,
            limit: 0,
        },
        PmError::PoolInUse { activations: 0 },
        PmError::DeviceMapperUnavailable { reason: s() },
        PmError::ImageNotValidated { image: s() },
        PmError::UnpackRefused {
            violations: Violations::default(),
        },
        PmError::DeviceBusy {
            what: s(),
            attempts: 0,
        },
        PmError::ToolFailed {
            tool: s(),
            message: s(),
        },
        PmError::ToolMissing {
            tool: s(),
            program: s(),
            config_key: None,
        },
        PmError::ToolTimeout {
            tool: s(),
            command: s(),
            secs: 0,
        },
        PmError::ImageTooLarge {
            source_url: s(),
            size: 0,
            max: 0,
        },
        PmError::FetchDenied {
            source_url: s(),
            reason: s(),
            hint: s(),
        },
        PmError::FetchTransient {
            source_url: s(),
            attempts: 0,
            last: s(),
            cause: TransientCause::Other,
            kept_bytes: 0,
        },
        PmError::DigestMismatch {
            source_url: s(),
            expected: s(),
            actual: s(),
            from: STORE_CHECKSUM,
        },
        PmError::ObjectChanged { source_url: s() },
        PmError::ImageInUse {
            image: s(),
            users: Vec::new(),
        },
        PmError::FetchUnsupported {
            source_url: s(),
            reason: s(),
            hint: None,
        },
        PmError::io(s(), io()),
        PmError::BwMissing { program: s() },
        PmError::BwTimeout {
            command: s(),
            secs: 0,
        },
        PmError::BwFailed {
            command: s(),
            reason: s(),
        },
        PmError::VaultNotLoggedIn,
        PmError::VaultWrongPassword,
        PmError::VaultLocked,
        PmError::VaultSessionExpired,
        PmError::VaultItemNotFound {
            item: s(),
            similar: Vec::new(),
        },
        PmError::VaultItemAmbiguous {
            item: s(),
            ids: Vec::new(),
        },
        PmError::VaultFieldMissing {
            item: s(),
            field: s(),
            available: Vec::new(),
        },
        PmError::VaultPasswordSource { reason: s() },
        PmError::VaultPremiumRequired { reason: s() },
        PmError::VaultServerUnreachable,
        PmError::DoctorCouldNotRun { reason: s() },
        PmError::NetAuthFailed {
            item: s(),
            field: s(),
            attempts: 0,
            server: s(),
        },
        PmError::NetNeedsMachineAuth { admin_url: s() },
        PmError::NetNotRunning {
            backend_state: None,
            reason: s(),
        },
        PmError::NetBackendError {
            attempts: 0,
            server: s(),
        },
        PmError::NetTimeout {
            secs: 0,
            backend_state: None,
            health: Vec::new(),
        },
        PmError::NetDaemonFailed {
            reason: s(),
            log: p(),
        },
        PmError::NetSocketBusy {
            socket: p(),
            log: p(),
        },
        PmError::NetSettingsConflict { flags: Vec::new() },
        PmError::PlayFailed {
            playbook: s(),
            rc: 0,
            summary: s(),
            recap: Value::Null,
        },
        PmError::ProviderNotRegistered,
        PmError::ProviderPrerequisites {
            failures: Vec::new(),
        },
        PmError::RayAddressInvalid {
            address: s(),
            reason: s(),
        },
        PmError::RayHeadUnreachable {
            address: s(),
            reason: s(),
        },
        PmError::RayAuthFailed {
            address: s(),
            source_of_token: s(),
        },
        PmError::RayVersionMismatch {
            address: s(),
            head_ray: s(),
            head_python: s(),
            local_ray: s(),
            local_python: s(),
        },
        PmError::RayJoinFailed {
            address: s(),
            reason: s(),
        },
        PmError::RayNodeNotAlive {
            node_id: s(),
            reason: s(),
        },
        PmError::PythonEnvFailed {
            venv: p(),
            reason: s(),
        },
        PmError::Interrupted {
            signal: libc::SIGINT,
            doing: s(),
            kept: None,
            kept_bytes: None,
            resume: None,
        },
        PmError::Interrupted {
            signal: libc::SIGTERM,
            doing: s(),
            kept: None,
            kept_bytes: None,
            resume: None,
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_snake_case_and_alike_in_all_its_samples() {
        for spec in codes() {
            let code = spec.code;
            assert!(
                code.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{code}"
            );
        }
        for e in samples() {
            let spec = codes().into_iter().find(|c| c.code == e.code()).unwrap();
            assert_eq!(spec.retryable, e.retryable(), "{}", e.code());
            assert_eq!(
                (spec.details)(&mut SchemaGenerator::default()),
                (of(&e).schema)(&mut SchemaGenerator::default()),
                "{}: one type of details",
                e.code()
            );
        }
        assert_eq!(
            codes()
                .iter()
                .find(|c| c.code == "interrupted")
                .map(|c| c.exits.len()),
            Some(2)
        );
    }

    #[test]
    fn the_fields_are_those_of_the_typed_details() {
        let err = PmError::LockBusy {
            what: "the state lock",
            path: PathBuf::from("/s.lock"),
            holder: "pid 1 (pm x)".to_string(),
            waited: Duration::from_millis(1500),
        };
        let fields = of(&err).fields;
        assert_eq!(fields["lock"], "/s.lock");
        assert_eq!(fields["waited_secs"], 1.5);
        assert!(of(&PmError::NoPool).fields.is_empty());
    }
}
