//! The onboarding plan on the step runner: `prereqs`, `net`, `python-env`,
//! `ray-join`, `verify`, in the order `provider.steps` gives. Every check
//! looks at the world as it is (the venv, the node's processes, the
//! cluster's node list), never only at what the state says, so a step that
//! finished just before pm died is found done and not acted twice.
//!
//! The checks and acts share [`Onboard`], which holds what one run needs:
//! the settings, the provider, the token (read from the vault once, when a
//! step first needs it), the Ray driver (located once the venv exists) and a
//! progress line per step. The runner holds the state for its own records,
//! so a step that writes the state opens its own handle, under the provider
//! lock the whole run holds.

use super::node::{self, Raylet};
use super::pyenv;
use super::ray::{self, ClusterView, Join, Ray};
use super::settings::{Address, Auth, MAX_TEMP_DIR_LEN, Settings};
use super::token;
use crate::config::Config;
use crate::error::{ExitCode, PmError, classify};
use crate::failpoint;
use crate::lock::Held;
use crate::progress::{Bars, StepLine};
use crate::secret::{Secret, redact};
use crate::state::{NodeRow, ProviderRow, ReadState, State, now_ms};
use crate::steps::{Check, FnStep, Plan, Retry, Step, is_retryable, step};
use anyhow::Result;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The plan's name in the state.
pub const PLAN: &str = "provider onboard";

/// Every step there is, in the order they make sense.
pub const ALL_STEPS: [&str; 5] = ["prereqs", "net", "python-env", "ray-join", "verify"];

/// How often `verify` and the join look at the node list.
const POLL: Duration = Duration::from_secs(1);
/// How long a node `ray start` reported up may take to be listed.
const REGISTER_WAIT: Duration = Duration::from_secs(15);
/// Room a new venv with Ray needs (the venv is ~300 MB, pip unpacks beside).
const VENV_SPACE: u64 = 1 << 30;

/// The node as it runs: its raylet and what the cluster says of it.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct LiveNode {
    pub node_id: String,
    pub node_ip: String,
    pub cluster_address: String,
    pub process_group: i64,
    pub raylet_pid: i64,
    pub temp_dir: String,
    pub alive: bool,
    /// ALIVE nodes in the cluster, this one included.
    pub alive_nodes: usize,
}

impl LiveNode {
    fn new(raylet: &Raylet, view: &ClusterView) -> LiveNode {
        LiveNode {
            node_id: raylet.node_id.clone(),
            node_ip: raylet.node_ip.clone(),
            cluster_address: raylet.gcs_address.clone(),
            process_group: i64::from(raylet.process_group),
            raylet_pid: i64::from(raylet.pid),
            temp_dir: raylet.temp_dir.display().to_string(),
            alive: view.node(&raylet.node_id).is_some_and(|n| n.alive),
            alive_nodes: view.alive_count(),
        }
    }

    pub fn row(&self, joined_at_ms: i64, verified_at_ms: Option<i64>) -> NodeRow {
        NodeRow {
            cluster_address: self.cluster_address.clone(),
            node_ip: self.node_ip.clone(),
            node_id: self.node_id.clone(),
            process_group: self.process_group,
            raylet_pid: self.raylet_pid,
            temp_dir: self.temp_dir.clone(),
            joined_at_ms,
            verified_at_ms,
        }
    }
}

/// What one onboarding run works with (the plan's context).
pub struct Onboard<'a> {
    pub settings: &'a Settings,
    pub config: &'a Config,
    pub provider: &'a ProviderRow,
    pub state_path: PathBuf,
    pub lock: &'a dyn Held,
    pub bars: Bars,
    /// A person is at the terminal: the vault may ask for its password.
    pub interactive: bool,
    pub dry_run: bool,
    /// The live node, as the last check or act found it.
    pub node: Option<LiveNode>,
    token: Option<Option<Secret>>,
    ray: Option<Ray>,
    line: Option<(Box<dyn StepLine>, Instant)>,
}

impl<'a> Onboard<'a> {
    pub fn new(
        settings: &'a Settings,
        config: &'a Config,
        provider: &'a ProviderRow,
        lock: &'a dyn Held,
        bars: Bars,
    ) -> Onboard<'a> {
        Onboard {
            settings,
            config,
            provider,
            state_path: config.state_path(),
            lock,
            bars,
            interactive: false,
            dry_run: false,
            node: None,
            token: None,
            ray: None,
            line: None,
        }
    }

    /// The token, read from the vault the first time a step needs it.
    fn token(&mut self) -> Result<Option<Secret>> {
        if self.token.is_none() {
            let fetched = token::fetch(self.config, &self.settings.auth, self.interactive)?;
            self.token = Some(fetched);
        }
        Ok(self.token.clone().flatten())
    }

    fn ray(&mut self) -> Result<&Ray> {
        if self.ray.is_none() {
            self.ray = Some(Ray::locate(self.settings)?);
        }
        Ok(self.ray.as_ref().expect("just located"))
    }

    /// The cluster seen from here: the head's versions and its nodes.
    fn cluster(&mut self, address: &Address) -> Result<ClusterView> {
        ray::reachable(address, self.settings.timeouts.connect)?;
        let token = self.token()?;
        let timeout = self.settings.timeouts.probe;
        self.ray()?.cluster(address, token.as_ref(), timeout)
    }

    /// The node of `raylet` as the cluster lists it now.
    fn live(&mut self, address: &Address, raylet: &Raylet) -> Result<LiveNode> {
        let view = self.cluster(address)?;
        let live = LiveNode::new(raylet, &view);
        self.node = Some(live.clone());
        Ok(live)
    }

    /// Records the node in the state, on a handle of its own (the runner
    /// holds one for its step records).
    fn record_node(&self, live: &LiveNode, verified_at_ms: Option<i64>) -> Result<()> {
        let mut state = State::open(&self.state_path)?;
        let joined = state
            .provider_node(&self.provider.id)?
            .filter(|r| r.node_id == live.node_id)
            .map_or_else(now_ms, |r| r.joined_at_ms);
        let row = live.row(joined, verified_at_ms);
        state.write(self.lock, |tx| {
            tx.record_provider_node(&self.provider.id, &row)
        })
    }

    fn recorded_node(&self) -> Result<Option<NodeRow>> {
        ReadState::open(&self.state_path)?.provider_node(&self.provider.id)
    }

    fn begin_line(&mut self, text: &str) {
        if let Some((line, _)) = &self.line {
            line.set_message(text);
        } else {
            self.line = Some((self.bars.step_line(text), Instant::now()));
        }
    }

    fn end_line(&mut self, mark: &str, text: &str) {
        if let Some((line, started)) = self.line.take() {
            let secs = started.elapsed().as_secs_f64();
            line.finish(&format!("{mark} {text} ({secs:.1} s)"));
        }
    }
}

/// The plan of `keys` (from `provider.steps`), each step retried under
/// `retry` for the failures it can outlive.
pub fn plan<'p, 'a: 'p>(keys: &[String], retry: Retry) -> Result<Plan<'p, Onboard<'a>>> {
    let mut plan = Plan::new(PLAN);
    for key in keys {
        let shown = match key.as_str() {
            "prereqs" => step(
                "prereqs",
                "check that this host can run a Ray node",
                prereqs_check,
                prereqs_act,
            )
            .retry(Retry::once()),
            "net" => step(
                "net",
                "bring the network up (pm net up)",
                net_check,
                net_act,
            )
            .retry(Retry {
                retry_if: net_retryable,
                ..retry
            }),
            "python-env" => step(
                "python-env",
                "make the venv with the pinned Ray",
                python_env_check,
                python_env_act,
            )
            .retry(retry),
            "ray-join" => step(
                "ray-join",
                "join the Ray cluster (ray start --address)",
                ray_join_check,
                ray_join_act,
            )
            .retry(Retry {
                retry_if: transient,
                ..retry
            }),
            "verify" => step(
                "verify",
                "check that the node is ALIVE and stays ALIVE",
                verify_check,
                verify_act,
            )
            .retry(Retry {
                retry_if: transient,
                ..retry
            }),
            other => {
                return Err(PmError::usage(
                    format!("provider.steps names an unknown step `{other}`"),
                    Some(format!("the steps are: {}", ALL_STEPS.join(", "))),
                )
                .into());
            }
        };
        plan = plan.step(Shown(shown));
    }
    Ok(plan)
}

/// Worth another try: the head or a tool not answering. A refusal (auth,
/// versions, a bad setting) is not.
fn transient(err: &anyhow::Error) -> bool {
    matches!(
        classify(err).exit,
        ExitCode::Transient | ExitCode::ToolUnavailable
    )
}

fn net_retryable(err: &anyhow::Error) -> bool {
    is_retryable(err)
}

/// A step with a progress line (a spinner on a terminal, nothing else).
struct Shown<'a, C>(FnStep<'a, C>);

impl<'a> Step<Onboard<'a>> for Shown<'_, Onboard<'a>> {
    fn key(&self) -> &'static str {
        Step::key(&self.0)
    }
    fn describe(&self) -> String {
        Step::describe(&self.0)
    }
    fn retry(&self) -> Retry {
        Step::retry(&self.0)
    }
    fn check(&self, cx: &mut Onboard<'a>) -> Result<Check> {
        let key = self.key();
        cx.begin_line(&format!("{key}: checking"));
        let checked = Step::check(&self.0, cx);
        match &checked {
            Ok(Check::Done(_)) => cx.end_line("✓", &format!("{key}: already done")),
            Ok(Check::Needed(why)) if cx.dry_run => {
                cx.end_line("·", &format!("{key}: would act: {why}"))
            }
            Ok(Check::Needed(_)) => cx.begin_line(&format!("{key}: {}", self.describe())),
            Err(e) => cx.end_line("✗", &format!("{key}: {}", redact(&e.to_string()))),
        }
        checked
    }
    fn act(&self, cx: &mut Onboard<'a>) -> Result<Value> {
        let key = self.key();
        let acted = Step::act(&self.0, cx);
        match &acted {
            Ok(_) => cx.end_line("✓", &format!("{key}: done")),
            Err(e) => cx.end_line("✗", &format!("{key}: {}", redact(&e.to_string()))),
        }
        acted
    }
}

// prereqs: what the host must have before anything is installed. Its check
// is the whole step: it never acts, so it never reports a change.

fn prereqs_check(cx: &mut Onboard<'_>) -> Result<Check> {
    Ok(Check::Done(prerequisites(cx.settings)?))
}

fn prereqs_act(cx: &mut Onboard<'_>) -> Result<Value> {
    prerequisites(cx.settings)
}

fn prerequisites(s: &Settings) -> Result<Value> {
    let mut failures = Vec::new();
    let os = std::env::consts::OS;
    if !matches!(os, "linux" | "macos") {
        failures.push(format!("Ray nodes run on Linux and macOS, not {os}"));
    }
    failures.extend(s.address().err().map(|e| e.to_string()));
    failures.extend(s.pin().err().map(|e| e.to_string()));
    let temp_len = s.temp_dir.as_os_str().len();
    if temp_len > MAX_TEMP_DIR_LEN {
        failures.push(format!(
            "the Ray temp dir {} is {temp_len} bytes, more than the {MAX_TEMP_DIR_LEN} Ray's socket paths allow (provider.ray_temp_dir)",
            s.temp_dir.display()
        ));
    }
    if matches!(&s.auth, Auth::Token { item, .. } if item.is_empty()) {
        failures.push("provider.auth_mode is token but provider.token_item is empty".to_string());
    }
    let python = python_prerequisites(s).unwrap_or_else(|failure| {
        failures.push(failure);
        None
    });
    if !s.venv.join("bin").join("python").exists() {
        match free_bytes(&s.venv) {
            Some(free) if free < VENV_SPACE => failures.push(format!(
                "{} MiB free for the venv at {}, it needs {} MiB",
                free >> 20,
                s.venv.display(),
                VENV_SPACE >> 20
            )),
            _ => {}
        }
    }
    if !failures.is_empty() {
        return Err(PmError::ProviderPrerequisites { failures }.into());
    }
    Ok(json!({"os": os, "python": python, "venv": s.venv, "temp_dir": s.temp_dir}))
}

/// The interpreter's version, or what is wrong with it.
fn python_prerequisites(s: &Settings) -> std::result::Result<Option<String>, String> {
    let python = pyenv::interpreter(s)
        .map_err(|_| format!("provider.python `{}` was not found", s.python))?;
    let version = pyenv::python_version(&python).map_err(|e| e.to_string())?;
    let numbers: Vec<u32> = version.split('.').filter_map(|n| n.parse().ok()).collect();
    if numbers.as_slice() < [3, 9].as_slice() {
        return Err(format!(
            "Ray needs Python 3.9 or newer; provider.python is {version}"
        ));
    }
    if !pyenv::can_make_venvs(&python).map_err(|e| e.to_string())? {
        return Err(format!(
            "provider.python ({version}) cannot make venvs: its venv or ensurepip module is missing (Debian: apt-get install python3-venv)"
        ));
    }
    Ok(Some(version))
}

/// Free bytes on the filesystem that holds `path` (or its nearest
/// existing parent).
fn free_bytes(path: &Path) -> Option<u64> {
    let existing = path.ancestors().find(|p| p.exists())?;
    let c_path = std::ffi::CString::new(existing.as_os_str().as_encoded_bytes()).ok()?;
    // SAFETY: statvfs fills the zeroed struct for a NUL-terminated path.
    unsafe {
        let mut stat: libc::statvfs = std::mem::zeroed();
        if libc::statvfs(c_path.as_ptr(), &mut stat) != 0 {
            return None;
        }
        #[allow(clippy::unnecessary_cast)]
        Some(stat.f_bavail as u64 * stat.f_frsize as u64)
    }
}

// net: `pm net up`, in-process.

fn net_check(cx: &mut Onboard<'_>) -> Result<Check> {
    Ok(match network_is_up(cx)? {
        Some(detail) => Check::Done(detail),
        None => Check::needed("the network is not up"),
    })
}

fn net_act(cx: &mut Onboard<'_>) -> Result<Value> {
    network_up(cx)
}

/// `Some(detail)` (the tailnet IPs) when `pm net status` says the node is
/// Running with an IP. Read-only: it takes no lock and starts nothing.
fn network_is_up(cx: &Onboard<'_>) -> Result<Option<Value>> {
    let status = crate::net::status(&mut net_context(cx))?;
    Ok(status
        .connected
        .then(|| json!({"ips": status.ips, "hostname": status.hostname})))
}

/// `pm net up`, in-process: brings the network up (idempotently, under the
/// network lock) and returns its detail.
fn network_up(cx: &Onboard<'_>) -> Result<Value> {
    let up = crate::net::ensure_up(&mut net_context(cx))?;
    Ok(json!({"ips": up.ips, "hostname": up.hostname, "changed": up.changed}))
}

/// A context of its own for `pm net`: it opens its own state handle (the
/// step runner holds this onboarding's) and takes its own lock.
fn net_context(cx: &Onboard<'_>) -> crate::context::Context {
    crate::context::Context::new(cx.config.clone(), "provider onboard".to_string())
}

// python-env: the venv with the pinned Ray.

fn python_env_check(cx: &mut Onboard<'_>) -> Result<Check> {
    let s = cx.settings;
    let wanted = pyenv::python_version(&pyenv::interpreter(s)?)?;
    Ok(match pyenv::inspect(s, &s.pin()?, &wanted)? {
        Ok(ready) => Check::Done(json!(ready)),
        Err(reason) => Check::Needed(reason),
    })
}

fn python_env_act(cx: &mut Onboard<'_>) -> Result<Value> {
    let s = cx.settings;
    let python = pyenv::interpreter(s)?;
    let wanted = pyenv::python_version(&python)?;
    let ready = pyenv::make(s, &s.pin()?, &python, &wanted)?;
    cx.ray = None;
    Ok(json!(ready))
}

// ray-join: the node started and listed ALIVE by the head.

fn ray_join_check(cx: &mut Onboard<'_>) -> Result<Check> {
    let address = cx.settings.address()?;
    let Some(raylet) = node::find_raylet(&cx.settings.temp_dir) else {
        return Ok(Check::needed("no Ray node of this provider runs"));
    };
    if !address.is(&raylet.gcs_address) {
        return Ok(Check::Needed(format!(
            "the node runs joined to {}, provider.cluster_address is {address}",
            raylet.gcs_address
        )));
    }
    let live = cx.live(&address, &raylet)?;
    Ok(if live.alive {
        Check::Done(json!(live))
    } else {
        Check::needed("the node runs but the cluster does not list it ALIVE")
    })
}

fn ray_join_act(cx: &mut Onboard<'_>) -> Result<Value> {
    let s = cx.settings;
    let address = s.address()?;
    preflight(cx, &address)?;
    if let Some(stale) = node::find_raylet(&s.temp_dir) {
        tracing::info!(pid = stale.pid, joined = %stale.gcs_address, "provider_node_replace");
        node::stop(&stale, s.timeouts.stop)
            .map_err(|e| PmError::io("cannot stop the provider's previous Ray node", e))?;
    }
    let node_ip = match &s.node_ip {
        Some(ip) => ip.clone(),
        None => ray::local_ip_towards(&address)?.to_string(),
    };
    let token_file = match cx.token()? {
        Some(token) => {
            token::write_file(&s.token_file, &token)?;
            Some(s.token_file.as_path())
        }
        None => None,
    };
    cx.ray()?.start(&Join {
        address: &address,
        node_ip: &node_ip,
        temp_dir: &s.temp_dir,
        token_file,
        resources: s.resources,
        timeout: s.timeouts.join,
    })?;
    failpoint::hit("provider_ray_started");
    let live = wait_listed(cx, &address)?;
    cx.record_node(&live, None)?;
    Ok(json!(live))
}

/// What must hold before `ray start`, because its failures look like
/// success or take minutes: the head answers (within a short bound), the
/// token is accepted, and Ray and Python are the head's.
fn preflight(cx: &mut Onboard<'_>, address: &Address) -> Result<()> {
    let view = cx.cluster(address)?;
    ray::check_versions(&view, address, &cx.settings.python_match)
}

/// The node `ray start` just started, once the cluster lists it.
fn wait_listed(cx: &mut Onboard<'_>, address: &Address) -> Result<LiveNode> {
    let deadline = Instant::now() + REGISTER_WAIT;
    loop {
        let raylet =
            node::find_raylet(&cx.settings.temp_dir).ok_or_else(|| PmError::RayJoinFailed {
                address: address.to_string(),
                reason: "`ray start` said the node started, but its raylet is not running"
                    .to_string(),
            })?;
        let live = cx.live(address, &raylet)?;
        if live.alive {
            return Ok(live);
        }
        if Instant::now() >= deadline {
            return Err(not_alive(
                &live.node_id,
                "the head does not list it ALIVE after `ray start`",
            ));
        }
        std::thread::sleep(POLL);
    }
}

// verify: ALIVE in the GCS node list (`ray status` keeps listing dead
// nodes), and still ALIVE `provider.verify_hold` later (nodes that vanish
// seconds after joining are a known failure).

fn verify_check(cx: &mut Onboard<'_>) -> Result<Check> {
    let address = cx.settings.address()?;
    let Some(row) = cx.recorded_node()?.filter(|r| r.verified_at_ms.is_some()) else {
        return Ok(Check::needed("the node has not been verified"));
    };
    let Some(raylet) = node::find_raylet(&cx.settings.temp_dir) else {
        return Ok(Check::needed("no Ray node of this provider runs"));
    };
    if raylet.node_id != row.node_id {
        return Ok(Check::needed("the node running is not the one verified"));
    }
    let live = cx.live(&address, &raylet)?;
    Ok(if live.alive {
        Check::Done(json!(live))
    } else {
        Check::needed("the cluster does not list the node ALIVE")
    })
}

fn verify_act(cx: &mut Onboard<'_>) -> Result<Value> {
    let s = cx.settings;
    let address = s.address()?;
    let running = || node::find_raylet(&s.temp_dir);
    let raylet = running().ok_or_else(|| {
        not_alive(
            "-",
            "no Ray node of this provider runs (run the ray-join step)",
        )
    })?;
    let deadline = Instant::now() + s.timeouts.verify;
    let live = loop {
        let live = cx.live(&address, &raylet)?;
        if live.alive {
            break live;
        }
        if Instant::now() >= deadline {
            let why = format!("not listed ALIVE within {} s", s.timeouts.verify.as_secs());
            return Err(not_alive(&raylet.node_id, &why));
        }
        std::thread::sleep(POLL);
    };
    let held = hold(cx, &address, &raylet)?;
    cx.record_node(&live, Some(now_ms()))?;
    let mut detail = json!(cx.node.clone().unwrap_or(live));
    detail["held_secs"] = json!(held.as_secs());
    Ok(detail)
}

/// Watches the node for `provider.verify_hold`: its raylet must keep
/// running and the cluster must keep listing it ALIVE.
fn hold(cx: &mut Onboard<'_>, address: &Address, raylet: &Raylet) -> Result<Duration> {
    let started = Instant::now();
    let until = started + cx.settings.timeouts.verify_hold;
    while Instant::now() < until {
        std::thread::sleep(POLL.min(until.saturating_duration_since(Instant::now())));
        let secs = started.elapsed().as_secs();
        let still = node::find_raylet(&cx.settings.temp_dir).is_some_and(|r| r.pid == raylet.pid);
        if !still {
            return Err(not_alive(
                &raylet.node_id,
                &format!("its raylet exited {secs} s after it was ALIVE"),
            ));
        }
        if !cx.live(address, raylet)?.alive {
            return Err(not_alive(
                &raylet.node_id,
                &format!("it was ALIVE, and {secs} s later it was not"),
            ));
        }
    }
    Ok(started.elapsed())
}

fn not_alive(node_id: &str, reason: &str) -> anyhow::Error {
    PmError::RayNodeNotAlive {
        node_id: node_id.to_string(),
        reason: reason.to_string(),
    }
    .into()
}
