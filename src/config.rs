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
use schemars::JsonSchema;
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
    /// Words in order: a TOML array of strings, or comma-separated text in
    /// the environment (`PM_PROVIDER_STEPS=prereqs,ray-join`).
    List,
}

/// One declared setting.
pub struct KeyDef {
    /// The dotted key in the TOML file (`lock_timeout`, `image.max_size`).
    pub key: &'static str,
    /// The environment variable that sets it.
    pub env: &'static str,
    /// A second variable read when the first is unset (a standard one such
    /// as `AWS_ENDPOINT_URL`), so `config show` reports it too.
    pub alias: Option<&'static str>,
    pub kind: Kind,
    /// The default, computed from the [`Environment`] (some depend on uid or XDG).
    pub default: fn(&Environment) -> Value,
    pub doc: &'static str,
}

/// The typed handle of a key: `config.bytes(key::IMAGE_MAX_SIZE)`. Handles
/// are generated with [`KEYS`] by `keys!`, so a misspelt key does not
/// compile and a handle always names a declared key of its kind.
pub struct Key<K> {
    name: &'static str,
    kind: std::marker::PhantomData<K>,
}

impl<K> Key<K> {
    const fn new(name: &'static str) -> Key<K> {
        Key {
            name,
            kind: std::marker::PhantomData,
        }
    }

    pub fn name(&self) -> &'static str {
        self.name
    }
}

impl<K> Clone for Key<K> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<K> Copy for Key<K> {}

/// The kinds of [`Key`], as types.
pub mod kinds {
    pub enum Bool {}
    pub enum Int {}
    pub enum Bytes {}
    pub enum Str {}
    pub enum Choice {}
    /// An integer that cannot be negative (timeouts, limits).
    pub enum Count {}
    pub enum List {}
}

/// Declares [`KEYS`] and, for each, a typed constant in [`key`].
macro_rules! keys {
    ($(
        $konst:ident : $kind:ident $([$($word:literal),+])? = $key:literal,
            env $env:literal $(, alias $alias:literal)?,
            default $default:expr,
            $doc:literal;
    )*) => {
        /// Every key pm understands (see the `keys!` invocation below).
        pub static KEYS: &[KeyDef] = &[$(
            KeyDef {
                key: $key,
                env: $env,
                alias: keys!(@alias $($alias)?),
                kind: keys!(@kind $kind $([$($word),+])?),
                default: $default,
                doc: $doc,
            },
        )*];

        /// Typed handles of every key in [`KEYS`].
        pub mod key {
            use super::{Key, kinds};
            $( pub const $konst: Key<kinds::$kind> = Key::new($key); )*
        }
    };
    (@alias) => { None };
    (@alias $alias:literal) => { Some($alias) };
    (@kind Choice [$($word:literal),+]) => { Kind::Choice(&[$($word),+]) };
    (@kind $kind:ident) => { Kind::$kind };
}

// Every key pm understands, each with its typed handle in `key`. Later
// features add theirs here, so `config show` and the README table stay
// complete.
keys! {
    JSON: Bool = "json", env "PM_JSON",
        default |_| Value::Bool(false),
        "print exactly one JSON document on stdout";
    STATE: Str = "state", env "PM_STATE",
        default |env| Value::Str(env.default_state_path().display().to_string()),
        "the SQLite state file; the lock file lives beside it";
    DRY_RUN: Bool = "dry_run", env "PM_DRY_RUN",
        default |_| Value::Bool(false),
        "change nothing: report the `changed` a real run would (Ansible check mode)";
    LOCK_TIMEOUT: Count = "lock_timeout", env "PM_LOCK_TIMEOUT",
        default |_| Value::Int(60),
        "seconds a mutating command waits for the state lock (0 = fail at once)";
    VERBOSITY: Int = "verbosity", env "PM_VERBOSITY",
        default |_| Value::Int(0),
        "log detail on stderr: -1 errors only, 0 warnings, 1 info, 2 debug, 3 trace";
    LOG_FORMAT: Choice["text", "json"] = "log_format", env "PM_LOG_FORMAT",
        default |_| Value::Str("text".to_string()),
        "format of the logs on stderr";
    // vault: the Bitwarden CLI.
    VAULT_BW_PATH: Str = "vault.bw_path", env "PM_VAULT_BW_PATH",
        default |_| Value::Str("bw".to_string()),
        "the Bitwarden CLI: a path, or a name looked up in PATH";
    VAULT_DATA_DIR: Str = "vault.data_dir", env "PM_VAULT_DATA_DIR",
        default |_| Value::Str(String::new()),
        "bw's data directory (BITWARDENCLI_APPDATA_DIR); empty = bw's own default";
    VAULT_PASSWORD_FILE: Str = "vault.password_file", env "PM_VAULT_PASSWORD_FILE",
        default |_| Value::Str(String::new()),
        "file whose first line is the master password (for headless unlock)";
    VAULT_PASSWORD_ENV: Str = "vault.password_env", env "PM_VAULT_PASSWORD_ENV",
        default |_| Value::Str(String::new()),
        "name of the environment variable that holds the master password";
    VAULT_SESSION_DIR: Str = "vault.session_dir", env "PM_VAULT_SESSION_DIR",
        default |env| Value::Str(env.runtime_dir().display().to_string()),
        "owner-only directory of the cached bw session (default: the runtime directory)";
    VAULT_TIMEOUT: Int = "vault.timeout", env "PM_VAULT_TIMEOUT",
        default |_| Value::Int(60),
        "seconds one bw call may take before pm kills it (bw needs 1-5 s, more under load)";
    // `pm image validate` limits and policy (flags of the same names override).
    IMAGE_MAX_UNPACKED_SIZE: Bytes = "image.max_unpacked_size", env "PM_IMAGE_MAX_UNPACKED_SIZE",
        default |_| Value::Int(8 << 30),
        "most bytes of file data an image may unpack to";
    IMAGE_MAX_ENTRIES: Count = "image.max_entries", env "PM_IMAGE_MAX_ENTRIES",
        default |_| Value::Int(100_000),
        "most entries in an image (and files plus directories it creates)";
    IMAGE_MAX_PATH_LENGTH: Count = "image.max_path_length", env "PM_IMAGE_MAX_PATH_LENGTH",
        default |_| Value::Int(4096),
        "most bytes in an entry name or link target";
    IMAGE_MAX_COMPONENT_LENGTH: Count = "image.max_component_length", env "PM_IMAGE_MAX_COMPONENT_LENGTH",
        default |_| Value::Int(255),
        "most bytes in one path component";
    IMAGE_MAX_DEPTH: Count = "image.max_depth", env "PM_IMAGE_MAX_DEPTH",
        default |_| Value::Int(256),
        "most directory levels in an entry name";
    IMAGE_MAX_SYMLINK_HOPS: Count = "image.max_symlink_hops", env "PM_IMAGE_MAX_SYMLINK_HOPS",
        default |_| Value::Int(40),
        "most symlinks followed resolving one link (like the kernel)";
    IMAGE_MAX_TOTAL_SYMLINK_HOPS: Count = "image.max_total_symlink_hops", env "PM_IMAGE_MAX_TOTAL_SYMLINK_HOPS",
        default |_| Value::Int(1_000_000),
        "most symlinks followed resolving all the links of an image (each link is resolved once)";
    IMAGE_MAX_COMPRESSION_RATIO: Count = "image.max_compression_ratio", env "PM_IMAGE_MAX_COMPRESSION_RATIO",
        default |_| Value::Int(100),
        "most decompressed bytes per compressed byte, past the first MiB (0 = off)";
    IMAGE_ALLOW_DEVICES: Bool = "image.allow_devices", env "PM_IMAGE_ALLOW_DEVICES",
        default |_| Value::Bool(false),
        "accept device nodes and FIFOs in images";
    IMAGE_ALLOW_SETUID: Bool = "image.allow_setuid", env "PM_IMAGE_ALLOW_SETUID",
        default |_| Value::Bool(false),
        "accept setuid and setgid files in images (still reported)";
    // pool/activate (issue 6)
    POOL_BACKEND: Choice["auto", "thin", "dir"] = "pool.backend", env "PM_POOL_BACKEND",
        default |_| Value::Str("auto".to_string()),
        "where activations live: thin (device-mapper), dir (directory copies), auto (thin when device-mapper is present)";
    POOL_NAME: Str = "pool.name", env "PM_POOL_NAME",
        default |_| Value::Str("pm".to_string()),
        "prefix of every device-mapper name pm creates (<name>-pool, <name>-thin-<id>)";
    POOL_BLOCK_SIZE: Bytes = "pool.block_size", env "PM_POOL_BLOCK_SIZE",
        default |_| Value::Int(64 << 10),
        "thin pool data block size (a multiple of 64KiB)";
    POOL_LOW_WATER_MARK: Int = "pool.low_water_mark", env "PM_POOL_LOW_WATER_MARK",
        default |_| Value::Int(0),
        "free data blocks below which the kernel raises a pool event";
    POOL_VOLUME_SIZE: Bytes = "pool.volume_size", env "PM_POOL_VOLUME_SIZE",
        default |_| Value::Int(2 << 30),
        "virtual size of each image's thin volume (and so of each snapshot)";
    POOL_MAX_DATA_PERCENT: Int = "pool.max_data_percent", env "PM_POOL_MAX_DATA_PERCENT",
        default |_| Value::Int(90),
        "refuse new volumes and snapshots when pool data usage is above this";
    POOL_MAX_METADATA_PERCENT: Int = "pool.max_metadata_percent", env "PM_POOL_MAX_METADATA_PERCENT",
        default |_| Value::Int(80),
        "refuse new volumes and snapshots when pool metadata usage is above this";
    // image fetch
    IMAGE_MAX_SIZE: Bytes = "image.max_size", env "PM_IMAGE_MAX_SIZE",
        default |_| Value::Int(64 << 30),
        "largest image `pm image fetch` accepts; checked before any byte is downloaded";
    IMAGE_PART_SIZE: Bytes = "image.part_size", env "PM_IMAGE_PART_SIZE",
        default |_| Value::Int(8 << 20),
        "size of each ranged GET of a fetch (and of each resumable unit)";
    IMAGE_SYNC_EVERY: Bytes = "image.sync_every", env "PM_IMAGE_SYNC_EVERY",
        default |_| Value::Int(256 << 20),
        "a fetch fsyncs its partial file after this many new bytes; a resume after a power cut keeps what was synced";
    IMAGE_CONCURRENCY: Int = "image.concurrency", env "PM_IMAGE_CONCURRENCY",
        default |_| Value::Int(8),
        "parallel ranged GETs per fetch; memory is at most concurrency x part size";
    IMAGE_SPLIT_TAIL: Bool = "image.split_tail", env "PM_IMAGE_SPLIT_TAIL",
        default |_| Value::Bool(true),
        "at the end of a fetch, a free connection takes half of what a slower one still has to fetch (one more GET; the slower connection is closed)";
    IMAGE_RETRIES: Int = "image.retries", env "PM_IMAGE_RETRIES",
        default |_| Value::Int(5),
        "retries per part on transient failures (5xx, SlowDown, resets, timeouts, short bodies)";
    IMAGE_STALL_TIMEOUT: Int = "image.stall_timeout", env "PM_IMAGE_STALL_TIMEOUT",
        default |_| Value::Int(30),
        "seconds without a byte before a request counts as stalled and is retried";
    IMAGE_ENDPOINT_URL: Str = "image.endpoint_url", env "PM_IMAGE_ENDPOINT_URL", alias "AWS_ENDPOINT_URL",
        default |_| Value::Str(String::new()),
        "S3 endpoint for S3-compatible stores (path-style); empty: AWS_ENDPOINT_URL or AWS";
    IMAGE_GC_PARTIAL_AGE: Str = "image.gc_partial_age", env "PM_IMAGE_GC_PARTIAL_AGE",
        default |_| Value::Str("24h".to_string()),
        "`pm image gc` removes interrupted downloads untouched for this long (e.g. 24h, 7d)";
    // inspect, doctor, report, logs collect (issue 14)
    INSPECT_PROBE_TIMEOUT: Int = "inspect.probe_timeout", env "PM_INSPECT_PROBE_TIMEOUT",
        default |_| Value::Int(10),
        "seconds one read-only probe of a tool (`--version`, `tailscale status --json`) may take before it is killed";
    DOCTOR_REQUIRED_TOOLS: Str = "doctor.required_tools", env "PM_DOCTOR_REQUIRED_TOOLS",
        default |_| Value::Str(String::new()),
        "tools this host needs, comma-separated (bw, tailscale, tailscaled, ansible-playbook, ray, mkfs.ext4): missing, they fail `pm doctor` instead of warning";
    DOCTOR_DISK_WARN_PERCENT: Int = "doctor.disk_warn_percent", env "PM_DOCTOR_DISK_WARN_PERCENT",
        default |_| Value::Int(10),
        "`pm doctor` warns when a filesystem pm writes to has less than this percent free";
    DOCTOR_DISK_FAIL_PERCENT: Int = "doctor.disk_fail_percent", env "PM_DOCTOR_DISK_FAIL_PERCENT",
        default |_| Value::Int(3),
        "`pm doctor` fails when a filesystem pm writes to has less than this percent free";
    DOCTOR_POOL_WARN_MARGIN: Int = "doctor.pool_warn_margin", env "PM_DOCTOR_POOL_WARN_MARGIN",
        default |_| Value::Int(10),
        "`pm doctor` warns when pool usage is within this many points of pool.max_data_percent / pool.max_metadata_percent (and fails above them)";
    DOCTOR_LOCK_WARN_AGE: Int = "doctor.lock_warn_age", env "PM_DOCTOR_LOCK_WARN_AGE",
        default |_| Value::Int(3600),
        "seconds a pm lock may be held before `pm doctor` warns that a command may be stuck";
    LOGS_PATHS: Str = "logs.paths", env "PM_LOGS_PATHS",
        default |_| Value::Str("/var/log/pm".to_string()),
        "pm's own log files for `pm logs collect`, comma-separated; a folder means the files in it (where cron or systemd sends pm's stderr)";
    LOGS_MAX_ITEM_SIZE: Bytes = "logs.max_item_size", env "PM_LOGS_MAX_ITEM_SIZE",
        default |_| Value::Int(8 << 20),
        "most bytes of one item in a support bundle; a longer log keeps its newest lines";
    LOGS_ITEM_TIMEOUT: Int = "logs.item_timeout", env "PM_LOGS_ITEM_TIMEOUT",
        default |_| Value::Int(30),
        "seconds one item of a support bundle may take to read before it is left out (the manifest says so)";
    // net (issue 13): Tailscale through its CLI and daemon, the auth key from the vault.
    NET_TAILSCALE_PATH: Str = "net.tailscale_path", env "PM_NET_TAILSCALE_PATH",
        default |_| Value::Str("tailscale".to_string()),
        "the tailscale CLI: a path, or a name looked up in PATH";
    NET_TAILSCALED_PATH: Str = "net.tailscaled_path", env "PM_NET_TAILSCALED_PATH",
        default |_| Value::Str("tailscaled".to_string()),
        "the tailscaled daemon `pm net up` starts when none answers: a path, or a name in PATH";
    NET_SOCKET: Str = "net.socket", env "PM_NET_SOCKET",
        default |_| Value::Str("/var/run/tailscale/tailscaled.sock".to_string()),
        "tailscaled's LocalAPI socket (tailscale --socket, tailscaled --socket)";
    NET_STATEDIR: Str = "net.statedir", env "PM_NET_STATEDIR",
        default |_| Value::Str("/var/lib/tailscale".to_string()),
        "tailscaled --statedir: where the daemon keeps the node's keys and settings";
    NET_TUN: Str = "net.tun", env "PM_NET_TUN",
        default |_| Value::Str(String::new()),
        "tailscaled --tun: empty = its default TUN device; userspace-networking needs no root or /dev/net/tun";
    NET_AUTH_KEY_ITEM: Str = "net.auth_key_item", env "PM_NET_AUTH_KEY_ITEM",
        default |_| Value::Str("tailscale-authkey".to_string()),
        "the vault item (exact name or id) holding the Tailscale auth key";
    NET_AUTH_KEY_FIELD: Str = "net.auth_key_field", env "PM_NET_AUTH_KEY_FIELD",
        default |_| Value::Str("password".to_string()),
        "the field of that item holding the key (password, notes, or a custom field)";
    NET_HOSTNAME: Str = "net.hostname", env "PM_NET_HOSTNAME",
        default |_| Value::Str(String::new()),
        "the node's name in the tailnet; empty = left as it is (a new node takes the OS hostname)";
    NET_TAGS: Str = "net.tags", env "PM_NET_TAGS",
        default |_| Value::Str(String::new()),
        "tags the node advertises, comma-separated (tag:ci,tag:gpu); changing them logs in again";
    NET_LOGIN_SERVER: Str = "net.login_server", env "PM_NET_LOGIN_SERVER",
        default |_| Value::Str("https://controlplane.tailscale.com".to_string()),
        "the coordination server (tailscale up --login-server); changing it logs in again";
    NET_ACCEPT_ROUTES: Bool = "net.accept_routes", env "PM_NET_ACCEPT_ROUTES",
        default |_| Value::Bool(false),
        "accept subnet routes other nodes advertise";
    NET_ACCEPT_DNS: Bool = "net.accept_dns", env "PM_NET_ACCEPT_DNS",
        default |_| Value::Bool(true),
        "use the tailnet's DNS settings (MagicDNS)";
    NET_SSH: Bool = "net.ssh", env "PM_NET_SSH",
        default |_| Value::Bool(false),
        "run the Tailscale SSH server on the node";
    NET_OPERATOR: Str = "net.operator", env "PM_NET_OPERATOR",
        default |_| Value::Str(String::new()),
        "a local user allowed to operate tailscaled without root; empty = left as it is";
    NET_UP_TIMEOUT: Int = "net.up_timeout", env "PM_NET_UP_TIMEOUT",
        default |_| Value::Int(60),
        "seconds one login (tailscale up --timeout) or a wait for Running may take";
    NET_DAEMON_TIMEOUT: Int = "net.daemon_timeout", env "PM_NET_DAEMON_TIMEOUT",
        default |_| Value::Int(15),
        "seconds to wait for a tailscaled pm started to answer on its socket";
    NET_COMMAND_TIMEOUT: Int = "net.command_timeout", env "PM_NET_COMMAND_TIMEOUT",
        default |_| Value::Int(15),
        "seconds any other tailscale call (status, set, down, logout) may take before it is killed";
    NET_LOGIN_ATTEMPTS: Int = "net.login_attempts", env "PM_NET_LOGIN_ATTEMPTS",
        default |_| Value::Int(3),
        "logins tried with a key the server rejects (read from the vault again each time) before giving up";
    NET_RETRY_DELAY_MS: Int = "net.retry_delay_ms", env "PM_NET_RETRY_DELAY_MS",
        default |_| Value::Int(2000),
        "milliseconds before the first retry of a login; doubles each time (with jitter), at most 30 s";
    NET_KEY_DIR: Str = "net.key_dir", env "PM_NET_KEY_DIR",
        default |env| Value::Str(env.runtime_dir().display().to_string()),
        "owner-only directory of the short-lived 0600 auth key file `tailscale up` reads";
    PLAY_ANSIBLE_PLAYBOOK_PATH: Str = "play.ansible_playbook_path", env "PM_PLAY_ANSIBLE_PLAYBOOK_PATH",
        default |_| Value::Str("ansible-playbook".to_string()),
        "ansible-playbook for `pm play`: a path, or a name looked up in PATH";
    PLAY_TIMEOUT: Int = "play.timeout", env "PM_PLAY_TIMEOUT",
        default |_| Value::Int(3600),
        "seconds a playbook may run before pm kills ansible-playbook and its workers";
    // provider (issue 15): registration and the onboarding into a Ray cluster.
    PROVIDER_USERNAME: Str = "provider.username", env "PM_PROVIDER_USERNAME",
        default |env| Value::Str(env.login_name()),
        "the provider's username (`pm provider register --username` overrides)";
    PROVIDER_CLUSTER_ADDRESS: Str = "provider.cluster_address", env "PM_PROVIDER_CLUSTER_ADDRESS",
        default |_| Value::Str(String::new()),
        "HOST:PORT of the Ray head's GCS that `onboard` joins (e.g. 100.101.84.71:6379)";
    PROVIDER_AUTH_MODE: Choice["token", "disabled"] = "provider.auth_mode", env "PM_PROVIDER_AUTH_MODE",
        default |_| Value::Str("token".to_string()),
        "Ray token authentication; RAY_AUTH_MODE is always set to this explicitly";
    PROVIDER_TOKEN_ITEM: Str = "provider.token_item", env "PM_PROVIDER_TOKEN_ITEM",
        default |_| Value::Str("ray-cluster-token".to_string()),
        "the vault item (exact name or id) holding the Ray cluster's auth token";
    PROVIDER_TOKEN_FIELD: Str = "provider.token_field", env "PM_PROVIDER_TOKEN_FIELD",
        default |_| Value::Str("password".to_string()),
        "the field of provider.token_item that holds the token (password, notes, or a custom field)";
    PROVIDER_STEPS: List = "provider.steps", env "PM_PROVIDER_STEPS",
        default |_| Value::List(["prereqs", "net", "python-env", "ray-join", "verify"].map(String::from).to_vec()),
        "the onboarding steps, in order (a subset of prereqs, net, python-env, ray-join, verify)";
    PROVIDER_PYTHON: Str = "provider.python", env "PM_PROVIDER_PYTHON",
        default |_| Value::Str("python3".to_string()),
        "the Python interpreter the provider's venv is made from (a path, or a name in PATH)";
    PROVIDER_VENV: Str = "provider.venv", env "PM_PROVIDER_VENV",
        default |_| Value::Str(String::new()),
        "the provider's Python venv with Ray; empty: provider/venv beside the state file";
    PROVIDER_RAY_VERSION: Str = "provider.ray_version", env "PM_PROVIDER_RAY_VERSION",
        default |_| Value::Str("2.60.*".to_string()),
        "the pinned Ray version (2.60.0, or 2.60.* for any patch release)";
    PROVIDER_PYTHON_MATCH: Choice["patch", "minor"] = "provider.python_match", env "PM_PROVIDER_PYTHON_MATCH",
        default |_| Value::Str("patch".to_string()),
        "how closely the node's Python must match the head's (Ray's own default is patch)";
    PROVIDER_WHEELHOUSE: Str = "provider.wheelhouse", env "PM_PROVIDER_WHEELHOUSE",
        default |_| Value::Str(String::new()),
        "a folder of wheels pip installs Ray from offline (--no-index --find-links); empty: the index";
    PROVIDER_INDEX_URL: Str = "provider.index_url", env "PM_PROVIDER_INDEX_URL",
        default |_| Value::Str(String::new()),
        "the package index pip installs Ray from; empty: pip's own setting";
    PROVIDER_RAY_TEMP_DIR: Str = "provider.ray_temp_dir", env "PM_PROVIDER_RAY_TEMP_DIR",
        default |_| Value::Str(String::new()),
        "the Ray node's --temp-dir (at most 43 bytes: Ray's socket paths must fit in 107); empty: provider/ray beside the state file";
    PROVIDER_NODE_IP: Str = "provider.node_ip", env "PM_PROVIDER_NODE_IP",
        default |_| Value::Str(String::new()),
        "the IP the node advertises; empty: the local address this host reaches the head from";
    PROVIDER_NUM_CPUS: Int = "provider.num_cpus", env "PM_PROVIDER_NUM_CPUS",
        default |_| Value::Int(-1),
        "CPUs the node offers the cluster (-1: Ray counts them)";
    PROVIDER_NUM_GPUS: Int = "provider.num_gpus", env "PM_PROVIDER_NUM_GPUS",
        default |_| Value::Int(-1),
        "GPUs the node offers the cluster (-1: Ray counts them)";
    PROVIDER_OBJECT_STORE_MEMORY: Bytes = "provider.object_store_memory", env "PM_PROVIDER_OBJECT_STORE_MEMORY",
        default |_| Value::Int(0),
        "the node's object store size (0: Ray's default, 30% of RAM; at least about 75MiB)";
    PROVIDER_RETRY_ATTEMPTS: Int = "provider.retry_attempts", env "PM_PROVIDER_RETRY_ATTEMPTS",
        default |_| Value::Int(3),
        "tries per onboarding step, the first included, for failures that trying again can fix";
    PROVIDER_RETRY_DELAY: Int = "provider.retry_delay", env "PM_PROVIDER_RETRY_DELAY",
        default |_| Value::Int(2),
        "seconds before a step's second try; doubled each time (with jitter) up to provider.retry_max_delay";
    PROVIDER_RETRY_MAX_DELAY: Int = "provider.retry_max_delay", env "PM_PROVIDER_RETRY_MAX_DELAY",
        default |_| Value::Int(30),
        "the longest wait between two tries of a step, in seconds";
    PROVIDER_CONNECT_TIMEOUT: Int = "provider.connect_timeout", env "PM_PROVIDER_CONNECT_TIMEOUT",
        default |_| Value::Int(5),
        "seconds the preflight waits for a TCP connection to the head (Ray itself retries for minutes)";
    PROVIDER_PROBE_TIMEOUT: Int = "provider.probe_timeout", env "PM_PROVIDER_PROBE_TIMEOUT",
        default |_| Value::Int(20),
        "seconds one query of the cluster (versions, node list) may take before it is killed";
    PROVIDER_JOIN_TIMEOUT: Int = "provider.join_timeout", env "PM_PROVIDER_JOIN_TIMEOUT",
        default |_| Value::Int(180),
        "seconds `ray start --address` may take before it is killed with its process group";
    PROVIDER_INSTALL_TIMEOUT: Int = "provider.install_timeout", env "PM_PROVIDER_INSTALL_TIMEOUT",
        default |_| Value::Int(900),
        "seconds the venv creation and the pip install of Ray may take";
    PROVIDER_VERIFY_TIMEOUT: Int = "provider.verify_timeout", env "PM_PROVIDER_VERIFY_TIMEOUT",
        default |_| Value::Int(60),
        "seconds `verify` waits for the node to be ALIVE in the cluster's node list";
    PROVIDER_VERIFY_HOLD: Int = "provider.verify_hold", env "PM_PROVIDER_VERIFY_HOLD",
        default |_| Value::Int(10),
        "seconds the node must then stay ALIVE (nodes that vanish just after joining are a known failure)";
    PROVIDER_STOP_TIMEOUT: Int = "provider.stop_timeout", env "PM_PROVIDER_STOP_TIMEOUT",
        default |_| Value::Int(30),
        "seconds `leave` gives the node's processes after SIGTERM before SIGKILL";
}

/// A resolved value.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Value {
    Bool(bool),
    Int(i64),
    Str(String),
    List(Vec<String>),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Str(s) => f.write_str(s),
            Value::List(words) => f.write_str(&words.join(",")),
        }
    }
}

/// Where a value came from.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
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

    /// Who runs pm: `USER`, else `LOGNAME`, else `root` for root.
    pub fn login_name(&self) -> String {
        self.var("USER")
            .or_else(|| self.var("LOGNAME"))
            .map(str::to_string)
            .unwrap_or_else(|| if self.is_root { "root" } else { "" }.to_string())
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
#[derive(Clone, Debug, Serialize, JsonSchema)]
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
    /// Every key at its default, with no flag, environment or file: for
    /// code that needs the defaults themselves (`Limits::default`), so each
    /// is written once, in [`KEYS`].
    pub fn defaults() -> Config {
        let env = Environment::default();
        let settings = KEYS
            .iter()
            .map(|def| Setting {
                key: def.key,
                value: (def.default)(&env),
                source: Source::Default,
                env: def.env,
                doc: def.doc,
            })
            .collect();
        Config {
            file: None,
            file_source: Source::Default,
            settings,
            env,
        }
    }

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
            } else if let Some((var, text)) = env_value(def, &env) {
                let value = parse_value(def.kind, text).map_err(|why| {
                    PmError::usage(
                        format!("{var}={text:?}: {why}"),
                        Some(format!("unset {var} or give it a valid value")),
                    )
                })?;
                (
                    value,
                    Source::Env {
                        var: var.to_string(),
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

    /// The value of a declared key. Keys come from [`key`], generated with
    /// [`KEYS`], so every handle is declared and of the kind asked for.
    fn get(&self, key: &'static str) -> &Value {
        match self.settings.iter().find(|s| s.key == key) {
            Some(setting) => &setting.value,
            None => unreachable!("key {key:?} comes from config::key and is declared"),
        }
    }

    pub fn bool(&self, key: Key<kinds::Bool>) -> bool {
        matches!(self.get(key.name), Value::Bool(true))
    }

    pub fn int(&self, key: Key<kinds::Int>) -> i64 {
        match self.get(key.name) {
            Value::Int(i) => *i,
            _ => unreachable!("an Int key holds an integer"),
        }
    }

    /// A count: never negative (the parser refuses it from flag, env and
    /// file alike).
    pub fn count(&self, key: Key<kinds::Count>) -> u64 {
        match self.get(key.name) {
            Value::Int(i) => (*i).max(0) as u64,
            _ => unreachable!("a Count key holds an integer"),
        }
    }

    /// A byte count (never negative: the parser refuses signs).
    pub fn bytes(&self, key: Key<kinds::Bytes>) -> u64 {
        match self.get(key.name) {
            Value::Int(i) => (*i).max(0) as u64,
            _ => unreachable!("a Bytes key holds an integer"),
        }
    }

    pub fn string(&self, key: Key<kinds::Str>) -> &str {
        self.text(key.name)
    }

    pub fn choice(&self, key: Key<kinds::Choice>) -> &str {
        self.text(key.name)
    }

    pub fn list(&self, key: Key<kinds::List>) -> &[String] {
        match self.get(key.name) {
            Value::List(words) => words,
            _ => unreachable!("a List key holds a list"),
        }
    }

    fn text(&self, key: &'static str) -> &str {
        match self.get(key) {
            Value::Str(s) => s,
            _ => unreachable!("a Str or Choice key holds a string"),
        }
    }

    /// Every path derived from the state file.
    pub fn paths(&self) -> crate::paths::StatePaths {
        crate::paths::StatePaths::new(&self.state_path())
    }

    pub fn state_path(&self) -> PathBuf {
        PathBuf::from(self.string(key::STATE))
    }
}

/// The key's variable, else its alias, when set.
fn env_value<'e>(def: &KeyDef, env: &'e Environment) -> Option<(&'static str, &'e str)> {
    std::iter::once(def.env)
        .chain(def.alias)
        .find_map(|var| env.var(var).map(|text| (var, text)))
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
        (Kind::List, toml::Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                toml::Value::String(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
                other => Err(format!(
                    "expected {}, found {}",
                    kind_name(kind),
                    other.type_str()
                )),
            })
            .collect::<std::result::Result<_, _>>()
            .map(Value::List),
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
        Kind::List => "a list of words".to_string(),
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
        Kind::List => Ok(Value::List(
            text.split(',')
                .map(str::trim)
                .filter(|w| !w.is_empty())
                .map(str::to_string)
                .collect(),
        )),
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

/// The declared kind of a key.
pub fn kind_of(key: &str) -> Option<Kind> {
    KEYS.iter().find(|d| d.key == key).map(|d| d.kind)
}

/// A byte count the way the README and config files write it: the largest
/// binary unit that divides it exactly (`8GiB`, `64KiB`, `1536MiB`), else
/// bytes.
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [(u32, &str); 4] = [(40, "TiB"), (30, "GiB"), (20, "MiB"), (10, "KiB")];
    if bytes == 0 {
        return "0".to_string();
    }
    for (shift, unit) in UNITS {
        if bytes.is_multiple_of(1 << shift) {
            return format!("{}{unit}", bytes >> shift);
        }
    }
    bytes.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_shown_in_the_largest_exact_unit() {
        assert_eq!(format_bytes(8 << 30), "8GiB");
        assert_eq!(format_bytes(64 << 10), "64KiB");
        assert_eq!(format_bytes(1536 << 20), "1536MiB");
        assert_eq!(format_bytes(1000), "1000");
        assert_eq!(parse_bytes(&format_bytes(256 << 20)), Some(256 << 20));
    }

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
