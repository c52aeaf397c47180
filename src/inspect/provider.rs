//! The provider section: the hook `pm provider` fills. This build has no
//! provider table yet, so the section says "not registered" from what it
//! can see; `pm provider` replaces [`probe`] with its record and the latest
//! `provider onboard` step session (`Reader::latest_step_session`), points
//! the `ray` entry of `tools::TOOLS` at its venv, and lists its Ray token file in
//! [`secret_files`] and Ray's logs in [`log_files`].

use super::Probes;
use crate::config::Config;
use serde::Serialize;
use std::path::PathBuf;

/// The step plan `pm provider onboard` records its sessions under.
pub const ONBOARD_PLAN: &str = "provider onboard";

#[derive(Clone, Debug, Default, Serialize)]
pub struct ProviderFacts {
    pub registered: bool,
    pub id: Option<String>,
    /// `active` or `inactive`.
    pub status: Option<String>,
    /// The latest onboarding session: `open`, `done`, `failed`.
    pub onboarding: Option<String>,
    /// The first step not done, and its last error.
    pub pending_step: Option<String>,
    pub last_error: Option<String>,
    pub cluster_address: Option<String>,
}

pub fn probe(p: &Probes) -> anyhow::Result<ProviderFacts> {
    // Only the state's availability matters until the provider table exists.
    p.state().map_err(|why| anyhow::anyhow!("{why}"))?;
    Ok(ProviderFacts::default())
}

/// Files whose content is a secret pm keeps for the provider (the Ray
/// token file, once `pm provider` writes one).
pub fn secret_files(_config: &Config) -> Vec<PathBuf> {
    Vec::new()
}

/// Ray's logs for the support bundle: (name in the bundle, path).
pub fn log_files(_config: &Config) -> Vec<(String, PathBuf)> {
    Vec::new()
}
