//! The host as a compute provider (SPEC §6): registered once (an id made
//! once per host, the username, the platform detected), then onboarded into
//! a Ray cluster by a resumable plan of steps (`steps`), inspected by
//! `status`, and taken out again by `leave`, which stops only the Ray node
//! this provider started (`node`).
//!
//! - `settings`: the `provider.*` keys, the head's address, the Ray pin;
//! - `platform`: what `register` detects;
//! - `ray` (+ `ray_messages`, `probe.py`): the one Ray driver;
//! - `pyenv`: the venv with the pinned Ray (pip, and pip's messages);
//! - `token`: the cluster token, from the vault to a 0600 file;
//! - `node`: the node's processes, found and stopped by process group;
//! - `steps`: the onboarding plan on the step runner.

mod node;
pub mod platform;
mod pyenv;
pub mod ray;
mod ray_messages;
pub mod settings;
pub mod steps;
mod token;

pub use node::Stopped;
pub use settings::Settings;
pub use steps::{ALL_STEPS, LiveNode, PLAN};

use crate::config::Config;
use crate::error::PmError;
use crate::lock::Held;
use crate::progress::Bars;
use crate::state::{
    NodeRow, ProviderRow, ProviderStatus, ReadState, Reader, SessionStatus, State, format_ms,
    now_ms,
};
use crate::steps::{Options, PlanReport, Runner, Selection};
use anyhow::Result;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;
use std::time::{Duration, Instant};

/// The provider as commands print it.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct ProviderView {
    pub id: String,
    pub username: String,
    pub status: ProviderStatus,
    pub platform: Value,
    /// Onboardings so far (`leave` starts the next).
    pub generation: i64,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&ProviderRow> for ProviderView {
    fn from(row: &ProviderRow) -> ProviderView {
        ProviderView {
            id: row.id.clone(),
            username: row.username.clone(),
            status: row.status,
            platform: row.platform.clone(),
            generation: row.generation,
            created_at: format_ms(row.created_at_ms),
            updated_at: format_ms(row.updated_at_ms),
        }
    }
}

/// The subject of the onboarding plan's sessions: the provider, and which
/// onboarding of it, so a run after `leave` starts afresh.
pub fn subject(provider: &ProviderRow) -> String {
    format!("{}#{}", provider.id, provider.generation)
}

// ------------------------------------------------------------------ register

pub struct RegisterOptions {
    pub username: Option<String>,
    pub dry_run: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Registered {
    pub changed: bool,
    pub dry_run: bool,
    /// A new record (a new id).
    pub created: bool,
    /// What differs from the record (`username`, platform fields).
    pub updated: Vec<String>,
    pub provider: ProviderView,
}

/// Registers the host: a new id the first time, afterwards an update when
/// the username or the platform changed, and `changed: false` otherwise.
pub fn register(
    state: &mut State,
    lock: &dyn Held,
    settings: &Settings,
    options: RegisterOptions,
) -> Result<Registered> {
    let registered = plan_register(state, settings, options)?;
    let (row, now) = (&registered.row, registered.row.updated_at_ms);
    if registered.report.changed && !registered.report.dry_run {
        state.write(lock, |tx| match registered.report.created {
            true => tx.insert_provider(&row.id, &row.username, &row.platform, now),
            false => tx.update_provider(&row.id, &row.username, &row.platform, now),
        })?;
    }
    Ok(registered.report)
}

/// What `register` would do, from a read-only state: no lock is taken and
/// a host without a state file keeps having none.
pub fn register_dry_run(
    state: &ReadState,
    settings: &Settings,
    options: RegisterOptions,
) -> Result<Registered> {
    Ok(plan_register(state, settings, options)?.report)
}

/// A registration worked out: the row to write, and the report.
struct Registration {
    row: ProviderRow,
    report: Registered,
}

fn plan_register(
    state: &Reader,
    settings: &Settings,
    options: RegisterOptions,
) -> Result<Registration> {
    let username = options
        .username
        .unwrap_or_else(|| settings.username.clone());
    if username.trim().is_empty() {
        return Err(PmError::usage(
            "no username for the provider",
            Some("give --username NAME or set provider.username".to_string()),
        )
        .into());
    }
    let python = pyenv::interpreter(settings)
        .and_then(|p| pyenv::python_version(&p))
        .ok();
    let platform = serde_json::to_value(platform::detect(python))?;
    let now = now_ms();
    let (row, created, updated) = match state.provider()? {
        None => {
            let row = new_provider(&username, platform, now);
            (row, true, Vec::new())
        }
        Some(mut row) => {
            let mut updated = platform::differences(&row.platform, &platform);
            if row.username != username {
                updated.insert(0, "username".to_string());
            }
            if !updated.is_empty() {
                (row.username, row.platform, row.updated_at_ms) = (username, platform, now);
            }
            (row, false, updated)
        }
    };
    let report = Registered {
        changed: created || !updated.is_empty(),
        dry_run: options.dry_run,
        created,
        updated,
        provider: ProviderView::from(&row),
    };
    Ok(Registration { row, report })
}

fn new_provider(username: &str, platform: Value, now: i64) -> ProviderRow {
    use std::io::Read;
    let mut bytes = [0u8; 8];
    if std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .is_err()
    {
        bytes = (now as u64 ^ u64::from(std::process::id()).rotate_left(32)).to_le_bytes();
    }
    ProviderRow {
        id: format!("prov-{}", crate::digest::hex(&bytes)),
        username: username.to_string(),
        platform,
        status: ProviderStatus::Inactive,
        generation: 1,
        created_at_ms: now,
        updated_at_ms: now,
    }
}

// ------------------------------------------------------------------- onboard

pub struct OnboardOptions {
    pub selection: Selection,
    pub dry_run: bool,
    /// A person is at the terminal (the vault may ask for its password).
    pub interactive: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Onboarded {
    pub provider: String,
    #[serde(flatten)]
    pub report: PlanReport,
    /// The node as the run last saw it.
    pub node: Option<LiveNode>,
}

/// Runs the onboarding plan (`provider.steps`) for this host's provider,
/// resuming its unfinished session; the provider is active once every step
/// is done.
pub fn onboard(
    state: &mut State,
    lock: &dyn Held,
    config: &Config,
    settings: &Settings,
    bars: Bars,
    options: OnboardOptions,
) -> Result<Onboarded> {
    let provider = state.provider()?.ok_or(PmError::ProviderNotRegistered)?;
    let plan = steps::plan(&settings.steps, settings.retry)?;
    let mut cx = steps::Onboard::new(settings, config, &provider, lock, bars);
    cx.interactive = options.interactive;
    cx.dry_run = options.dry_run;
    let run_options = Options {
        selection: options.selection,
        dry_run: options.dry_run,
    };
    let report = Runner::new(state, lock).run(&plan, &subject(&provider), &mut cx, &run_options)?;
    let node = cx.node.take();
    if !options.dry_run && report.status == Some(SessionStatus::Done) {
        activate(state, lock, &provider, node.as_ref())?;
    }
    Ok(Onboarded {
        provider: provider.id.clone(),
        report,
        node,
    })
}

/// The plan is done: the node as last seen is the recorded one (a check
/// may have found it after a crash that lost the record), and the provider
/// is active.
fn activate(
    state: &mut State,
    lock: &dyn Held,
    provider: &ProviderRow,
    node: Option<&LiveNode>,
) -> Result<()> {
    let recorded = state.provider_node(&provider.id)?;
    let row = node.map(|live| {
        let same = recorded.as_ref().filter(|r| r.node_id == live.node_id);
        live.row(
            same.map_or_else(now_ms, |r| r.joined_at_ms),
            same.and_then(|r| r.verified_at_ms),
        )
    });
    state.write(lock, |tx| {
        if let Some(row) = row.as_ref().filter(|r| Some(*r) != recorded.as_ref()) {
            tx.record_provider_node(&provider.id, row)?;
        }
        tx.set_provider_status(&provider.id, ProviderStatus::Active, now_ms())
    })
}

// -------------------------------------------------------------------- status

#[derive(Debug, Serialize, JsonSchema)]
pub struct StatusView {
    pub registered: bool,
    pub provider: Option<ProviderView>,
    /// As configured (`provider.cluster_address`).
    pub cluster_address: String,
    pub node: Option<NodeView>,
    /// The steps configured (`provider.steps`).
    pub plan: Vec<String>,
    pub session: Option<SessionSummary>,
    pub steps: Vec<StepView>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct NodeView {
    #[serde(flatten)]
    pub row: NodeRow,
    /// Whether its raylet runs on this host now.
    pub running: bool,
    pub joined_at: String,
    pub verified_at: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SessionSummary {
    pub id: i64,
    pub status: SessionStatus,
    pub started_at: String,
    pub finished_at: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct StepView {
    pub key: String,
    /// `pending` for a step the session has not reached.
    pub status: String,
    pub attempts: u32,
    /// Seconds since the step last finished (or started).
    pub age_secs: Option<i64>,
    pub duration_ms: Option<i64>,
    pub last_error: Option<String>,
    pub detail: Option<Value>,
}

/// The provider, its node and the steps of its current onboarding, from
/// the state (read-only) and the process table; the cluster is not asked.
pub fn status(reader: &Reader, settings: &Settings) -> Result<StatusView> {
    let provider = reader.provider()?;
    let node = match &provider {
        Some(p) => reader.provider_node(&p.id)?.map(|row| NodeView {
            running: node::find_raylet(&settings.temp_dir)
                .is_some_and(|r| r.node_id == row.node_id),
            joined_at: format_ms(row.joined_at_ms),
            verified_at: row.verified_at_ms.map(format_ms),
            row,
        }),
        None => None,
    };
    let view = match &provider {
        Some(p) => crate::steps::status(reader, PLAN, &subject(p))?,
        None => None,
    };
    let now = now_ms();
    let steps = settings
        .steps
        .iter()
        .map(|key| {
            let record = view
                .as_ref()
                .and_then(|v| v.steps.iter().find(|r| &r.key == key));
            StepView {
                key: key.clone(),
                status: record.map_or("pending", |r| r.status.as_str()).to_string(),
                attempts: record.map_or(0, |r| r.attempts),
                age_secs: record
                    .and_then(|r| r.finished_at_ms.or(r.started_at_ms))
                    .map(|t| (now - t) / 1000),
                duration_ms: record.and_then(|r| r.duration_ms),
                last_error: record.and_then(|r| r.last_error.clone()),
                detail: record.and_then(|r| r.detail.clone()),
            }
        })
        .collect();
    Ok(StatusView {
        registered: provider.is_some(),
        provider: provider.as_ref().map(ProviderView::from),
        cluster_address: settings.cluster_address.clone(),
        node,
        plan: settings.steps.clone(),
        session: view.map(|v| SessionSummary {
            id: v.session.id,
            status: v.session.status,
            started_at: format_ms(v.session.started_at_ms),
            finished_at: v.session.finished_at_ms.map(format_ms),
        }),
        steps,
    })
}

// --------------------------------------------------------------------- leave

pub struct LeaveOptions {
    pub dry_run: bool,
    pub interactive: bool,
}

#[derive(Debug, Default, Serialize, JsonSchema)]
pub struct Left {
    pub changed: bool,
    pub dry_run: bool,
    /// `None` on a host that was never registered.
    pub provider: Option<String>,
    pub node_id: Option<String>,
    /// The processes of this provider's node that were (or would be)
    /// signalled; no other process is.
    pub stopped: Stopped,
    /// Whether the head was seen to list the node as no longer ALIVE;
    /// `None` when no node was stopped.
    pub cluster_confirmed: Option<bool>,
    /// Why the head could not confirm it.
    pub note: Option<String>,
    pub status: Option<ProviderStatus>,
}

/// Stops this provider's Ray node (its process group, see `node`), waits
/// for the head to drop it, removes the token file and marks the provider
/// inactive. Nothing to do is `changed: false`.
pub fn leave(
    state: &mut State,
    lock: &dyn Held,
    config: &Config,
    settings: &Settings,
    options: LeaveOptions,
) -> Result<Left> {
    let Some(provider) = state.provider()? else {
        return Ok(Left {
            dry_run: options.dry_run,
            ..Left::default()
        });
    };
    let recorded = state.provider_node(&provider.id)?;
    let raylet = node::find_raylet(&settings.temp_dir);
    let node_id = raylet
        .as_ref()
        .map(|r| r.node_id.clone())
        .or_else(|| recorded.as_ref().map(|r| r.node_id.clone()));
    let token_file = settings.token_file.exists();
    let changed = raylet.is_some()
        || recorded.is_some()
        || token_file
        || provider.status == ProviderStatus::Active;
    let mut left = Left {
        changed,
        dry_run: options.dry_run,
        provider: Some(provider.id.clone()),
        node_id: node_id.clone(),
        status: Some(if changed {
            ProviderStatus::Inactive
        } else {
            provider.status
        }),
        ..Left::default()
    };
    if options.dry_run {
        left.stopped.pids = raylet.map_or_else(Vec::new, |r| node::group_members(r.process_group));
        return Ok(left);
    }
    if let Some(raylet) = &raylet {
        left.stopped = node::stop(raylet, settings.timeouts.stop)
            .map_err(|e| PmError::io("cannot stop the provider's Ray node", e))?;
    }
    if let (Some(id), false) = (&node_id, left.stopped.pids.is_empty()) {
        match confirm_gone(config, settings, id, options.interactive) {
            Ok(gone) => left.cluster_confirmed = Some(gone),
            Err(e) => {
                left.cluster_confirmed = Some(false);
                left.note = Some(crate::secret::redact(&format!("{e:#}")).into_owned());
            }
        }
    }
    token::remove_file(&settings.token_file)?;
    if changed {
        state.write(lock, |tx| {
            tx.clear_provider_node(&provider.id)?;
            tx.set_provider_status(&provider.id, ProviderStatus::Inactive, now_ms())?;
            tx.next_provider_generation(&provider.id, now_ms())
        })?;
    }
    Ok(left)
}

/// Polls the head until it no longer lists `node_id` ALIVE (a raylet
/// stopped by SIGTERM says goodbye; one that was killed is dropped when its
/// heartbeats stop).
fn confirm_gone(
    config: &Config,
    settings: &Settings,
    node_id: &str,
    interactive: bool,
) -> Result<bool> {
    let address = settings.address()?;
    let token = token::fetch(config, &settings.auth, interactive)?;
    let driver = ray::Ray::locate(settings)?;
    let deadline = Instant::now() + settings.timeouts.verify.max(Duration::from_secs(5));
    loop {
        ray::reachable(&address, settings.timeouts.connect)?;
        let view = driver.cluster(&address, token.as_ref(), settings.timeouts.probe)?;
        if !view.node(node_id).is_some_and(|n| n.alive) {
            return Ok(true);
        }
        if Instant::now() >= deadline {
            return Ok(false);
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}
