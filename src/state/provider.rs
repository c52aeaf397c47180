//! Tables `providers` and `provider_nodes` (migration 8): the one provider
//! of this host and the Ray node `pm provider onboard` started for it. What
//! the rows mean is `crate::provider`'s business; no secret is ever stored
//! here (the Ray token lives in the vault and in a 0600 file).

use super::{Reader, WriteTx};
use anyhow::Result;
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use rusqlite::{OptionalExtension, Row, params};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

/// Whether the provider is serving the cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProviderStatus {
    /// Onboarded: its node joined and was verified.
    Active,
    /// Registered only, or left.
    Inactive,
}

impl ProviderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderStatus::Active => "active",
            ProviderStatus::Inactive => "inactive",
        }
    }
}

impl ToSql for ProviderStatus {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}

impl FromSql for ProviderStatus {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        match value.as_str()? {
            "active" => Ok(ProviderStatus::Active),
            "inactive" => Ok(ProviderStatus::Inactive),
            other => Err(FromSqlError::Other(
                format!("unknown provider status {other:?}").into(),
            )),
        }
    }
}

/// The provider row.
#[derive(Clone, Debug, Serialize)]
pub struct ProviderRow {
    pub id: String,
    pub username: String,
    /// What `register` detected (OS, CPU, memory, GPUs, Python...).
    pub platform: Value,
    pub status: ProviderStatus,
    /// Onboardings so far: `leave` starts the next one.
    pub generation: i64,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

/// The Ray node started for the provider.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct NodeRow {
    pub cluster_address: String,
    pub node_ip: String,
    /// The GCS's id of the node (hex).
    pub node_id: String,
    /// The process group (and session) of every process of the node:
    /// `ray start` led it, its daemons kept it.
    pub process_group: i64,
    pub raylet_pid: i64,
    pub temp_dir: String,
    pub joined_at_ms: i64,
    pub verified_at_ms: Option<i64>,
}

fn provider_of(r: &Row<'_>) -> rusqlite::Result<ProviderRow> {
    let platform: String = r.get(2)?;
    Ok(ProviderRow {
        id: r.get(0)?,
        username: r.get(1)?,
        platform: serde_json::from_str(&platform).unwrap_or(Value::Null),
        status: r.get(3)?,
        generation: r.get(4)?,
        created_at_ms: r.get(5)?,
        updated_at_ms: r.get(6)?,
    })
}

fn node_of(r: &Row<'_>) -> rusqlite::Result<NodeRow> {
    Ok(NodeRow {
        cluster_address: r.get(0)?,
        node_ip: r.get(1)?,
        node_id: r.get(2)?,
        process_group: r.get(3)?,
        raylet_pid: r.get(4)?,
        temp_dir: r.get(5)?,
        joined_at_ms: r.get(6)?,
        verified_at_ms: r.get(7)?,
    })
}

impl Reader {
    /// This host's provider, if it was registered.
    pub fn provider(&self) -> Result<Option<ProviderRow>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT id, username, platform, status, generation, created_at, updated_at
                   FROM providers",
                [],
                provider_of,
            )
            .optional()?)
    }

    /// The node recorded for `provider`, if one is.
    pub fn provider_node(&self, provider: &str) -> Result<Option<NodeRow>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT cluster_address, node_ip, node_id, process_group, raylet_pid, temp_dir,
                        joined_at, verified_at
                   FROM provider_nodes WHERE provider = ?1",
                [provider],
                node_of,
            )
            .optional()?)
    }
}

impl WriteTx<'_> {
    /// The host's provider, inactive. A second one is refused by the
    /// schema (one per host).
    pub fn insert_provider(
        &self,
        id: &str,
        username: &str,
        platform: &Value,
        now_ms: i64,
    ) -> Result<()> {
        self.execute(
            "INSERT INTO providers (id, username, platform, status, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
            params![
                id,
                username,
                platform.to_string(),
                ProviderStatus::Inactive,
                now_ms
            ],
        )?;
        Ok(())
    }

    pub fn update_provider(
        &self,
        id: &str,
        username: &str,
        platform: &Value,
        now_ms: i64,
    ) -> Result<()> {
        self.execute(
            "UPDATE providers SET username = ?2, platform = ?3, updated_at = ?4 WHERE id = ?1",
            params![id, username, platform.to_string(), now_ms],
        )?;
        Ok(())
    }

    pub fn set_provider_status(&self, id: &str, status: ProviderStatus, now_ms: i64) -> Result<()> {
        self.execute(
            "UPDATE providers SET status = ?2, updated_at = ?3 WHERE id = ?1",
            params![id, status, now_ms],
        )?;
        Ok(())
    }

    /// Starts the next onboarding (after a leave).
    pub fn next_provider_generation(&self, id: &str, now_ms: i64) -> Result<()> {
        self.execute(
            "UPDATE providers SET generation = generation + 1, updated_at = ?2 WHERE id = ?1",
            params![id, now_ms],
        )?;
        Ok(())
    }

    /// Records (or replaces) the provider's node.
    pub fn record_provider_node(&self, provider: &str, node: &NodeRow) -> Result<()> {
        self.execute(
            "INSERT INTO provider_nodes (provider, cluster_address, node_ip, node_id,
                                         process_group, raylet_pid, temp_dir, joined_at, verified_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (provider) DO UPDATE SET
                cluster_address = excluded.cluster_address, node_ip = excluded.node_ip,
                node_id = excluded.node_id, process_group = excluded.process_group,
                raylet_pid = excluded.raylet_pid, temp_dir = excluded.temp_dir,
                joined_at = excluded.joined_at, verified_at = excluded.verified_at",
            params![
                provider,
                node.cluster_address,
                node.node_ip,
                node.node_id,
                node.process_group,
                node.raylet_pid,
                node.temp_dir,
                node.joined_at_ms,
                node.verified_at_ms,
            ],
        )?;
        Ok(())
    }

    /// Marks the node verified, if it is still the one recorded.
    pub fn set_node_verified(&self, provider: &str, node_id: &str, at_ms: i64) -> Result<()> {
        self.execute(
            "UPDATE provider_nodes SET verified_at = ?3 WHERE provider = ?1 AND node_id = ?2",
            params![provider, node_id, at_ms],
        )?;
        Ok(())
    }

    /// Forgets the node (it was stopped).
    pub fn clear_provider_node(&self, provider: &str) -> Result<()> {
        self.execute("DELETE FROM provider_nodes WHERE provider = ?1", [provider])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::State;

    fn node(id: &str) -> NodeRow {
        NodeRow {
            cluster_address: "10.0.0.1:6379".to_string(),
            node_ip: "10.0.0.2".to_string(),
            node_id: id.to_string(),
            process_group: 4242,
            raylet_pid: 4243,
            temp_dir: "/var/lib/pm/provider/ray".to_string(),
            joined_at_ms: 10,
            verified_at_ms: None,
        }
    }

    #[test]
    fn one_provider_per_host_and_its_node_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let mut state = State::open(&dir.path().join("state.db")).unwrap();
        let held = crate::lock::for_tests(dir.path());
        assert!(state.provider().unwrap().is_none());
        let platform = serde_json::json!({"os": "linux", "cpus": 2});
        state
            .write(&held, |tx| {
                tx.insert_provider("prov-1", "ops", &platform, 5)
            })
            .unwrap();
        let second = state.write(&held, |tx| {
            tx.insert_provider("prov-2", "ops", &platform, 6)
        });
        assert!(second.is_err(), "a second provider on one host is refused");

        let row = state.provider().unwrap().unwrap();
        assert_eq!(
            (row.id.as_str(), row.status),
            ("prov-1", ProviderStatus::Inactive)
        );
        assert_eq!((row.platform, row.generation), (platform, 1));

        state
            .write(&held, |tx| {
                tx.record_provider_node("prov-1", &node("n1"))?;
                tx.set_node_verified("prov-1", "other", 20)?;
                tx.set_node_verified("prov-1", "n1", 30)?;
                tx.set_provider_status("prov-1", ProviderStatus::Active, 31)
            })
            .unwrap();
        let recorded = state.provider_node("prov-1").unwrap().unwrap();
        assert_eq!(
            recorded.verified_at_ms,
            Some(30),
            "only the recorded node is verified"
        );
        assert_eq!(
            state.provider().unwrap().unwrap().status,
            ProviderStatus::Active
        );

        state
            .write(&held, |tx| {
                tx.clear_provider_node("prov-1")?;
                tx.next_provider_generation("prov-1", 40)
            })
            .unwrap();
        assert!(state.provider_node("prov-1").unwrap().is_none());
        assert_eq!(state.provider().unwrap().unwrap().generation, 2);
    }
}
