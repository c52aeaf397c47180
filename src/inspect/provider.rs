//! The provider section: this host's provider record (`pm provider
//! register`), its Ray node and its latest onboarding session, as the state
//! has them; the Ray token file for the support bundle's redaction and Ray's
//! logs for the bundle.

use super::Probes;
use crate::config::Config;
use schemars::JsonSchema;
use serde::Serialize;
use std::path::PathBuf;

/// The step plan `pm provider onboard` records its sessions under.
pub const ONBOARD_PLAN: &str = "provider onboard";

#[derive(Clone, Debug, Default, Serialize, JsonSchema)]
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
    let db = p.state().map_err(|why| anyhow::anyhow!("{why}"))?;
    let Some(provider) = db.provider()? else {
        return Ok(ProviderFacts::default());
    };
    let node = db.provider_node(&provider.id)?;
    let session = crate::steps::status(db, ONBOARD_PLAN, &crate::provider::subject(&provider))?;
    let pending = session.as_ref().and_then(|s| {
        s.steps
            .iter()
            .find(|step| step.status != crate::state::StepStatus::Done)
            .map(|step| (step.key.clone(), step.last_error.clone()))
    });
    Ok(ProviderFacts {
        registered: true,
        id: Some(provider.id.clone()),
        status: Some(provider.status.as_str().to_string()),
        onboarding: session.map(|s| s.session.status.as_str().to_string()),
        pending_step: pending.as_ref().map(|(key, _)| key.clone()),
        last_error: pending.and_then(|(_, error)| error),
        cluster_address: node.map(|n| n.cluster_address),
    })
}

/// Files whose content is a secret pm keeps for the provider: the Ray
/// token file `onboard` writes for the node.
pub fn secret_files(config: &Config) -> Vec<PathBuf> {
    vec![config.paths().provider_dir().join("ray-auth-token")]
}

/// Ray's logs for the support bundle: (name in the bundle, path).
pub fn log_files(config: &Config) -> Vec<(String, PathBuf)> {
    let logs = PathBuf::from(config.string(crate::config::key::PROVIDER_RAY_TEMP_DIR))
        .join("session_latest/logs");
    ["raylet.out", "raylet.err", "gcs_server.out"]
        .into_iter()
        .map(|name| (format!("ray/{name}"), logs.join(name)))
        .collect()
}
