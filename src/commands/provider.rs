//! `pm provider register|onboard|status|leave`: the host as a compute
//! provider, onboarded into a Ray cluster (see `provider` for the work).

use crate::context::Context;
use crate::output::{Outcome, Render};
use crate::provider::{
    self, ALL_STEPS, LeaveOptions, Left, OnboardOptions, Onboarded, RegisterOptions, Registered,
    Settings, StatusView,
};
use crate::schema::Output;
use crate::steps::{Outcome as StepOutcome, Selection};
use anyhow::Result;
use clap::{Args, Subcommand};
use std::io::IsTerminal;

#[derive(Debug, Args)]
pub struct ProviderArgs {
    #[command(subcommand)]
    pub verb: ProviderVerb,
}

#[derive(Debug, Subcommand)]
pub enum ProviderVerb {
    /// Register this host as a provider: an id made once, the username, the platform detected
    Register(RegisterArgs),
    /// Run the onboarding steps (provider.steps), resuming where the last run stopped
    Onboard(OnboardArgs),
    /// Show the provider, its Ray node and the onboarding steps (read-only)
    Status,
    /// Stop this provider's Ray node (and no other Ray process) and mark it inactive
    Leave(LeaveArgs),
}

impl ProviderVerb {
    pub fn name(&self) -> &'static str {
        match self {
            ProviderVerb::Register(_) => "register",
            ProviderVerb::Onboard(_) => "onboard",
            ProviderVerb::Status => "status",
            ProviderVerb::Leave(_) => "leave",
        }
    }

    pub fn is_mutating(&self) -> bool {
        !matches!(self, ProviderVerb::Status)
    }
}

#[derive(Debug, Args)]
#[command(after_help = "\
Registering again changes nothing (\"changed\": false) unless the username or
the hardware changed; then the record is updated and \"updated\" names what.")]
pub struct RegisterArgs {
    /// The provider's username [config: provider.username, default: the login name]
    #[arg(long, value_name = "NAME")]
    pub username: Option<String>,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Steps (provider.steps): prereqs, net (pm net up), python-env (a venv with
the pinned Ray), ray-join (ray start --address provider.cluster_address),
verify (ALIVE in the GCS node list, and still ALIVE provider.verify_hold
seconds later). Each is checked first and acted only when needed; a failed
or interrupted run resumes at its first unfinished step. Before ray-join,
pm checks that the head answers, accepts the token from the vault and runs
the same Ray and Python as this node.")]
pub struct OnboardArgs {
    /// Start at this step, evaluating it and every later one
    #[arg(long, value_name = "STEP", value_parser = ALL_STEPS, conflicts_with = "only")]
    pub from: Option<String>,
    /// Evaluate only this step
    #[arg(long, value_name = "STEP", value_parser = ALL_STEPS)]
    pub only: Option<String>,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Only the processes of the node this provider started are stopped: its
process group, checked to still hold its raylet (never `ray stop`, which
stops every Ray process on the machine). Leaving twice changes nothing.")]
pub struct LeaveArgs {}

/// What each verb prints, for `pm schema` (the dry runs print the same
/// types, which say `dry_run` themselves).
pub fn outputs() -> Vec<Output> {
    vec![
        Output::mutating::<Registered>("provider register"),
        Output::mutating::<Onboarded>("provider onboard"),
        Output::read_only::<StatusView>("provider status"),
        Output::mutating::<Left>("provider leave"),
    ]
}

pub fn run(args: ProviderArgs, ctx: &mut Context) -> Result<Outcome> {
    let settings = Settings::from_config(&ctx.config);
    let interactive = std::io::stdin().is_terminal();
    match args.verb {
        ProviderVerb::Register(a) => {
            let options = RegisterOptions {
                username: a.username,
                dry_run: ctx.dry_run,
            };
            if ctx.dry_run {
                let state = ctx.read_state()?;
                return Outcome::of(&provider::register_dry_run(state, &settings, options)?);
            }
            let lock = ctx.provider_lock()?;
            Outcome::of(&provider::register(
                ctx.state()?,
                &lock,
                &settings,
                options,
            )?)
        }
        ProviderVerb::Onboard(a) => {
            let lock = ctx.provider_lock()?;
            let options = OnboardOptions {
                selection: Selection::from_flags(a.from, a.only)?,
                dry_run: ctx.dry_run,
                interactive,
            };
            let (bars, config) = (ctx.bars(), ctx.config.clone());
            let done = provider::onboard(ctx.state()?, &lock, &config, &settings, bars, options)?;
            Outcome::of(&done)
        }
        ProviderVerb::Status => Outcome::of(&provider::status(ctx.read_state()?, &settings)?),
        ProviderVerb::Leave(_) => {
            let lock = ctx.provider_lock()?;
            let options = LeaveOptions {
                dry_run: ctx.dry_run,
                interactive,
            };
            let config = ctx.config.clone();
            Outcome::of(&provider::leave(
                ctx.state()?,
                &lock,
                &config,
                &settings,
                options,
            )?)
        }
    }
}

impl Render for Registered {
    fn human(&self) -> String {
        let p = &self.provider;
        let verb = match (self.created, self.changed, self.dry_run) {
            (true, _, true) => "would register",
            (true, _, false) => "registered",
            (false, true, true) => "would update",
            (false, true, false) => "updated",
            (false, false, _) => "already registered, unchanged:",
        };
        let mut text = format!("{verb} provider {} ({})", p.id, p.username);
        if !self.updated.is_empty() {
            text.push_str(&format!("; changed: {}", self.updated.join(", ")));
        }
        let platform = &p.platform;
        text.push_str(&format!(
            "\nplatform: {} {}, {} CPUs, {} MiB, Python {}",
            platform["os"].as_str().unwrap_or("?"),
            platform["arch"].as_str().unwrap_or("?"),
            platform["cpus"],
            platform["memory_bytes"].as_u64().map_or(0, |b| b >> 20),
            platform["python"].as_str().unwrap_or("-"),
        ));
        text
    }
}

impl Render for Onboarded {
    fn human(&self) -> String {
        let mut out = String::new();
        for step in &self.report.steps {
            let what = match step.outcome {
                StepOutcome::Acted => "done",
                StepOutcome::AlreadyDone => "already done",
                StepOutcome::DoneEarlier => "done earlier",
                StepOutcome::WouldAct => "would act",
                StepOutcome::Failed => "failed",
                StepOutcome::NotSelected => "not selected",
                StepOutcome::NotReached => "not reached",
            };
            out.push_str(&format!("{:<11} {what}", step.key));
            if let Some(reason) = step
                .reason
                .as_ref()
                .filter(|_| step.outcome == StepOutcome::WouldAct)
            {
                out.push_str(&format!(": {reason}"));
            }
            if step.attempts > 1 {
                out.push_str(&format!(" ({} attempts)", step.attempts));
            }
            out.push('\n');
        }
        if let Some(node) = &self.node {
            out.push_str(&format!(
                "node {} {} in {} ({} nodes ALIVE)\n",
                node.node_id,
                if node.alive { "ALIVE" } else { "not ALIVE" },
                node.cluster_address,
                node.alive_nodes
            ));
        }
        out
    }
}

impl Render for StatusView {
    fn human(&self) -> String {
        let Some(p) = &self.provider else {
            return "not registered (run `pm provider register`)".to_string();
        };
        let mut out = format!(
            "provider:  {} ({}), {}\ncluster:   {}\n",
            p.id,
            p.username,
            p.status.as_str(),
            if self.cluster_address.is_empty() {
                "(provider.cluster_address is not set)"
            } else {
                &self.cluster_address
            },
        );
        match &self.node {
            Some(n) => out.push_str(&format!(
                "node:      {} at {}, {}{}\n",
                n.row.node_id,
                n.row.node_ip,
                if n.running { "running" } else { "not running" },
                n.verified_at
                    .as_ref()
                    .map_or(String::new(), |t| format!(", verified {t}")),
            )),
            None => out.push_str("node:      none\n"),
        }
        for step in &self.steps {
            out.push_str(&format!("  {:<11} {:<8}", step.key, step.status));
            if step.attempts > 0 {
                out.push_str(&format!(" attempts {}", step.attempts));
            }
            if let Some(age) = step.age_secs {
                out.push_str(&format!(", {age} s ago"));
            }
            if let Some(e) = &step.last_error {
                out.push_str(&format!("\n              last error: {e}"));
            }
            out.push('\n');
        }
        out
    }
}

impl Render for Left {
    fn human(&self) -> String {
        let Some(id) = &self.provider else {
            return "no provider is registered here: nothing to leave".to_string();
        };
        if !self.changed {
            return format!("provider {id} is not onboarded: nothing to leave");
        }
        let verb = if self.dry_run {
            "would stop"
        } else {
            "stopped"
        };
        let mut text = match (&self.node_id, self.stopped.pids.len()) {
            (Some(node), n) if n > 0 => format!("{verb} the Ray node {node} ({n} processes)"),
            _ => "no Ray node of this provider was running".to_string(),
        };
        match (self.cluster_confirmed, &self.note) {
            (Some(true), _) => text.push_str("; the head no longer lists it ALIVE"),
            (Some(false), Some(note)) => {
                text.push_str(&format!("; the head could not confirm it: {note}"))
            }
            (Some(false), None) => text.push_str("; the head still listed it ALIVE"),
            (None, _) => {}
        }
        text.push_str(&format!("\nprovider {id} is inactive"));
        text
    }
}
