//! The sections of facts, each gathered on first use and kept. A check asks
//! for the sections it judges; `pm inspect` asks for all of them.

use super::db::{self, ActivationsFacts, HistoryFacts, ImagesFacts, StateFacts};
use super::disk::{self, DiskFacts};
use super::dm::{self, DmFacts};
use super::host::{self, HostFacts};
use super::net::{self, NetworkFacts};
use super::pool::{self, PoolFacts};
use super::provider::{self, ProviderFacts};
use super::tools::{self, TOOLS, ToolFacts};
use super::vault::{self, VaultFacts};
use super::{Probes, Section};
use crate::config::Config;
use std::cell::OnceCell;
use std::time::Instant;

type Disks = Vec<(&'static str, Section<DiskFacts>)>;

/// Every section, gathered lazily from the [`Probes`].
pub struct Facts<'a> {
    probes: Probes<'a>,
    started: Instant,
    host: OnceCell<HostFacts>,
    dm: OnceCell<DmFacts>,
    pool: OnceCell<Section<PoolFacts>>,
    disks: OnceCell<Disks>,
    tools: Vec<OnceCell<ToolFacts>>,
    state: OnceCell<Section<StateFacts>>,
    images: OnceCell<Section<ImagesFacts>>,
    activations: OnceCell<Section<ActivationsFacts>>,
    history: OnceCell<Section<HistoryFacts>>,
    vault: OnceCell<VaultFacts>,
    network: OnceCell<NetworkFacts>,
    provider: OnceCell<Section<ProviderFacts>>,
}

impl<'a> Facts<'a> {
    pub fn new(probes: Probes<'a>) -> Facts<'a> {
        Facts {
            probes,
            started: Instant::now(),
            host: OnceCell::new(),
            dm: OnceCell::new(),
            pool: OnceCell::new(),
            disks: OnceCell::new(),
            tools: TOOLS.iter().map(|_| OnceCell::new()).collect(),
            state: OnceCell::new(),
            images: OnceCell::new(),
            activations: OnceCell::new(),
            history: OnceCell::new(),
            vault: OnceCell::new(),
            network: OnceCell::new(),
            provider: OnceCell::new(),
        }
    }

    pub fn config(&self) -> &'a Config {
        self.probes.config
    }

    pub fn probes(&self) -> &Probes<'a> {
        &self.probes
    }

    pub fn host(&self) -> &HostFacts {
        self.host.get_or_init(host::probe)
    }

    pub fn device_mapper(&self) -> &DmFacts {
        self.dm.get_or_init(dm::probe)
    }

    pub fn pool(&self) -> &Section<PoolFacts> {
        self.pool
            .get_or_init(|| Section::from_result(pool::probe(&self.probes)))
    }

    /// The pool, only if something already asked for it.
    pub fn pool_if_gathered(&self) -> Option<&Section<PoolFacts>> {
        self.pool.get()
    }

    pub fn disks(&self) -> &Disks {
        self.disks.get_or_init(|| disk::probe(&self.probes))
    }

    pub fn disks_if_gathered(&self) -> Option<&Disks> {
        self.disks.get()
    }

    pub fn disk(&self, what: &str) -> Option<&Section<DiskFacts>> {
        self.disks()
            .iter()
            .find(|(w, _)| *w == what)
            .map(|(_, s)| s)
    }

    /// One tool, probed on first use.
    pub fn tool(&self, name: &str) -> Option<&ToolFacts> {
        let i = TOOLS.iter().position(|t| t.name == name)?;
        Some(self.tools[i].get_or_init(|| tools::probe(self.probes.config, &TOOLS[i])))
    }

    /// Every tool; those not probed yet are probed in parallel.
    pub fn tools(&self) -> Vec<&ToolFacts> {
        if self.tools.iter().any(|c| c.get().is_none()) {
            for (cell, facts) in self.tools.iter().zip(tools::probe_all(&self.probes)) {
                let _ = cell.set(facts);
            }
        }
        self.tools.iter().filter_map(OnceCell::get).collect()
    }

    pub fn tools_if_gathered(&self) -> Vec<&ToolFacts> {
        self.tools.iter().filter_map(OnceCell::get).collect()
    }

    pub fn state(&self) -> &Section<StateFacts> {
        self.state
            .get_or_init(|| Section::from_result(db::state(&self.probes)))
    }

    pub fn images(&self) -> &Section<ImagesFacts> {
        self.images
            .get_or_init(|| Section::from_result(db::images(&self.probes)))
    }

    pub fn images_if_gathered(&self) -> Option<&Section<ImagesFacts>> {
        self.images.get()
    }

    pub fn activations(&self) -> &Section<ActivationsFacts> {
        self.activations
            .get_or_init(|| Section::from_result(db::activations(&self.probes)))
    }

    pub fn activations_if_gathered(&self) -> Option<&Section<ActivationsFacts>> {
        self.activations.get()
    }

    pub fn history(&self) -> &Section<HistoryFacts> {
        self.history
            .get_or_init(|| Section::from_result(db::history(&self.probes)))
    }

    pub fn vault(&self) -> &VaultFacts {
        self.vault.get_or_init(|| vault::probe(&self.probes))
    }

    pub fn network(&self) -> &NetworkFacts {
        self.network.get_or_init(|| net::probe(&self.probes))
    }

    pub fn provider(&self) -> &Section<ProviderFacts> {
        self.provider
            .get_or_init(|| Section::from_result(provider::probe(&self.probes)))
    }

    pub fn elapsed_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }
}
