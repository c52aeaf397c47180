//! The thin pool: what the state records and what the kernel reports
//! (usage through `dm::kernel_pool`, never `ThinPool::open`, which sets a
//! missing pool up again).

use super::dm::{self, KernelPool};
use super::{Probes, Section};
use crate::config::key;
use crate::state::PoolRecord;
use anyhow::Result;
use schemars::JsonSchema;
use serde::Serialize;

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct PoolFacts {
    /// `pool.name`: the prefix of every dm name pm makes.
    pub name: String,
    /// `pool.backend`: `auto`, `thin` or `dir`.
    pub backend: String,
    /// A thin pool is recorded in the state.
    pub configured: bool,
    pub record: Option<PoolRecord>,
    /// The kernel's view; `null` when no pool is recorded.
    pub kernel: Option<Section<KernelPool>>,
    pub max_data_percent: i64,
    pub max_metadata_percent: i64,
}

impl PoolFacts {
    pub fn usage(&self) -> Option<&dm::PoolUsage> {
        self.kernel.as_ref()?.known()?.usage.as_ref()
    }
}

pub fn probe(p: &Probes) -> Result<PoolFacts> {
    let db = p.state().map_err(|why| anyhow::anyhow!("{why}"))?;
    let name = p.config.string(key::POOL_NAME).to_string();
    let record = db.pool(&name)?;
    let kernel = record
        .as_ref()
        .map(|_| Section::from_result(dm::kernel_pool(&name)));
    Ok(PoolFacts {
        configured: record.is_some(),
        backend: p.config.choice(key::POOL_BACKEND).to_string(),
        max_data_percent: p.config.int(key::POOL_MAX_DATA_PERCENT),
        max_metadata_percent: p.config.int(key::POOL_MAX_METADATA_PERCENT),
        name,
        record,
        kernel,
    })
}
