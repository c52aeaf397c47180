//! The document `pm inspect --json` prints: every section of the facts,
//! and `pm doctor`'s verdict over every check.

use super::db::{ActivationsFacts, HistoryFacts, ImagesFacts, StateFacts};
use super::disk::DiskFacts;
use super::dm::DmFacts;
use super::doctor::{self, Verdict};
use super::facts::Facts;
use super::host::HostFacts;
use super::net::NetworkFacts;
use super::pool::PoolFacts;
use super::provider::ProviderFacts;
use super::tools::ToolFacts;
use super::vault::VaultFacts;
use super::{SCHEMA_VERSION, Section};
use crate::state::{format_ms, now_ms};
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::BTreeMap;

/// What `pm inspect` prints: every section, and every check's finding.
#[derive(Serialize, JsonSchema)]
pub struct Inspection<'f> {
    /// The version of this document's shape ([`SCHEMA_VERSION`]).
    pub schema: u32,
    pub pm_version: &'static str,
    pub hostname: String,
    pub collected_at: String,
    pub duration_ms: u64,
    pub host: &'f HostFacts,
    pub device_mapper: &'f DmFacts,
    pub pool: &'f Section<PoolFacts>,
    /// Keyed `state`, `images`, `volumes`.
    pub disks: BTreeMap<&'static str, &'f Section<DiskFacts>>,
    /// Keyed by tool name.
    pub tools: BTreeMap<&'static str, &'f ToolFacts>,
    pub state: &'f Section<StateFacts>,
    pub images: &'f Section<ImagesFacts>,
    pub activations: &'f Section<ActivationsFacts>,
    pub history: &'f Section<HistoryFacts>,
    pub vault: &'f VaultFacts,
    pub network: &'f NetworkFacts,
    pub provider: &'f Section<ProviderFacts>,
    /// `pm doctor`'s verdict over every check.
    pub checks: Verdict,
}

impl<'f> Inspection<'f> {
    /// Gathers every section and judges every check.
    pub fn collect(facts: &'f Facts<'_>) -> Inspection<'f> {
        // Tools first: they run in parallel, the rest is quick.
        let tools = facts.tools().into_iter().map(|t| (t.name, t)).collect();
        let checks = doctor::judge(facts, &doctor::all_checks(), false);
        Inspection {
            schema: SCHEMA_VERSION,
            pm_version: env!("CARGO_PKG_VERSION"),
            hostname: facts.host().hostname.clone(),
            collected_at: format_ms(now_ms()),
            duration_ms: facts.elapsed_ms(),
            host: facts.host(),
            device_mapper: facts.device_mapper(),
            pool: facts.pool(),
            disks: facts.disks().iter().map(|(w, s)| (*w, s)).collect(),
            tools,
            state: facts.state(),
            images: facts.images(),
            activations: facts.activations(),
            history: facts.history(),
            vault: facts.vault(),
            network: facts.network(),
            provider: facts.provider(),
            checks,
        }
    }
}
