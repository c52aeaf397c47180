//! Tables `pools`, `volumes`, `activations` and `intents`: the thin pool (or
//! dir root), one base volume per image and backend, the activations, and
//! the journal that makes every kernel or volume change crash-safe (an
//! intent row committed before the change, closed in the transaction that
//! records its result). What the rows mean is `crate::pool`'s business.

use super::{Reader, WriteTx, now_ms};
use crate::digest::Digest;
use crate::error::PmError;
use anyhow::Result;
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSqlOutput, ValueRef};
use rusqlite::{OptionalExtension, ToSql, params};
use schemars::JsonSchema;
use serde::Serialize;

/// Where activations live.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BackendKind {
    Thin,
    Dir,
}

impl BackendKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BackendKind::Thin => "thin",
            BackendKind::Dir => "dir",
        }
    }

    pub fn parse(text: &str) -> Option<BackendKind> {
        match text {
            "thin" => Some(BackendKind::Thin),
            "dir" => Some(BackendKind::Dir),
            _ => None,
        }
    }
}

/// What an intent is about to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IntentOp {
    CreatePool,
    DestroyPool,
    CreateBase,
    CreateSnapshot,
    RemoveActivation,
    RemoveBase,
}

impl IntentOp {
    const ALL: [IntentOp; 6] = [
        IntentOp::CreatePool,
        IntentOp::DestroyPool,
        IntentOp::CreateBase,
        IntentOp::CreateSnapshot,
        IntentOp::RemoveActivation,
        IntentOp::RemoveBase,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IntentOp::CreatePool => "create_pool",
            IntentOp::DestroyPool => "destroy_pool",
            IntentOp::CreateBase => "create_base",
            IntentOp::CreateSnapshot => "create_snapshot",
            IntentOp::RemoveActivation => "remove_activation",
            IntentOp::RemoveBase => "remove_base",
        }
    }

    pub fn parse(text: &str) -> Option<IntentOp> {
        IntentOp::ALL.into_iter().find(|op| op.as_str() == text)
    }

    /// Creations are rolled back by reconciliation; removals are finished.
    pub fn is_creation(self) -> bool {
        matches!(
            self,
            IntentOp::CreatePool | IntentOp::CreateBase | IntentOp::CreateSnapshot
        )
    }
}

/// How an intent was closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntentOutcome {
    /// The change was made and its result recorded.
    Done,
    /// A creation was undone (by the command itself or by reconciliation).
    RolledBack,
    /// A removal was completed by reconciliation.
    Finished,
}

impl IntentOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            IntentOutcome::Done => "done",
            IntentOutcome::RolledBack => "rolled_back",
            IntentOutcome::Finished => "finished",
        }
    }
}

macro_rules! text_enum_sql {
    ($ty:ty, $what:literal) => {
        impl ToSql for $ty {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.as_str()))
            }
        }

        impl FromSql for $ty {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                let text = value.as_str()?;
                <$ty>::parse(text).ok_or_else(|| {
                    FromSqlError::Other(format!(concat!("unknown ", $what, " {:?}"), text).into())
                })
            }
        }
    };
}

text_enum_sql!(BackendKind, "backend");
text_enum_sql!(IntentOp, "intent operation");

impl ToSql for IntentOutcome {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}

/// The pool as recorded.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct PoolRecord {
    pub name: String,
    pub data_dev: String,
    pub metadata_dev: String,
    pub loop_backed: bool,
    pub data_bytes: u64,
    pub metadata_bytes: u64,
    pub block_sectors: u64,
    pub low_water: u64,
    pub next_thin_id: i64,
}

/// One image's base volume.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct VolumeRecord {
    pub digest: Digest,
    pub backend: BackendKind,
    pub thin_id: Option<i64>,
    pub path: String,
    /// Bytes unpacked into the volume.
    pub size: u64,
    /// Thin: the device's size in bytes, fixed when it was created; its
    /// snapshots and any later re-activation must use the same, whatever
    /// `pool.volume_size` says now. 0 for directories.
    pub virtual_size: u64,
}

/// One activation as recorded.
#[derive(Clone, Debug)]
pub struct ActivationRow {
    pub id: String,
    pub name: String,
    pub image: Digest,
    pub backend: BackendKind,
    /// The thin snapshot's id in the pool (thin backend).
    pub snapshot_id: Option<i64>,
    /// The device-mapper name (thin) or the directory (dir).
    pub path: String,
    pub created_at_ms: i64,
}

/// An intended change, committed before the change is made.
#[derive(Clone, Debug)]
pub struct Intent {
    pub id: i64,
    pub op: IntentOp,
    pub backend: BackendKind,
    pub thin_id: Option<i64>,
    pub digest: Option<Digest>,
    pub activation: Option<String>,
    pub path: Option<String>,
}

/// What an intent is about, before it has an id.
#[derive(Default)]
pub struct IntentSpec<'a> {
    pub thin_id: Option<i64>,
    pub digest: Option<&'a Digest>,
    pub activation: Option<&'a str>,
    pub path: Option<&'a str>,
}

impl Reader {
    pub fn pool(&self, name: &str) -> Result<Option<PoolRecord>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT name, data_dev, metadata_dev, loop_backed, data_bytes, metadata_bytes,
                        block_sectors, low_water, next_thin_id FROM pools WHERE name = ?1",
                [name],
                |r| {
                    Ok(PoolRecord {
                        name: r.get(0)?,
                        data_dev: r.get(1)?,
                        metadata_dev: r.get(2)?,
                        loop_backed: r.get(3)?,
                        data_bytes: r.get::<_, i64>(4)? as u64,
                        metadata_bytes: r.get::<_, i64>(5)? as u64,
                        block_sectors: r.get::<_, i64>(6)? as u64,
                        low_water: r.get::<_, i64>(7)? as u64,
                        next_thin_id: r.get(8)?,
                    })
                },
            )
            .optional()?)
    }

    pub fn volumes(&self) -> Result<Vec<VolumeRecord>> {
        let mut stmt = self.conn().prepare(
            "SELECT digest, backend, thin_id, path, size, virtual_size FROM volumes ORDER BY created_at",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok(VolumeRecord {
                    digest: r.get(0)?,
                    backend: r.get(1)?,
                    thin_id: r.get(2)?,
                    path: r.get(3)?,
                    size: r.get::<_, i64>(4)? as u64,
                    virtual_size: r.get::<_, i64>(5)? as u64,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    pub fn base_volume(
        &self,
        digest: &Digest,
        backend: BackendKind,
    ) -> Result<Option<VolumeRecord>> {
        Ok(self
            .volumes()?
            .into_iter()
            .find(|v| &v.digest == digest && v.backend == backend))
    }

    /// Every activation, oldest first.
    pub fn activations(&self) -> Result<Vec<ActivationRow>> {
        let mut stmt = self.conn().prepare(
            "SELECT id, name, image_digest, backend, thin_id, path, created_at
               FROM activations ORDER BY created_at, name",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok(ActivationRow {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    image: r.get(2)?,
                    backend: r.get(3)?,
                    snapshot_id: r.get(4)?,
                    path: r.get(5)?,
                    created_at_ms: r.get(6)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// The activation with this id or name.
    pub fn activation(&self, id_or_name: &str) -> Result<Option<ActivationRow>> {
        Ok(self
            .activations()?
            .into_iter()
            .find(|a| a.id == id_or_name || a.name == id_or_name))
    }

    /// Intents not closed yet: changes interrupted half-way. An operation
    /// this pm does not know (a newer pm wrote it) stops reconciliation
    /// instead of being taken for finished.
    pub fn open_intents(&self) -> Result<Vec<Intent>> {
        let mut stmt = self.conn().prepare(
            "SELECT id, op, backend, thin_id, digest, activation, path FROM intents
             WHERE finished_at IS NULL ORDER BY id",
        )?;
        let raw = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<i64>>(3)?,
                    r.get::<_, Option<Digest>>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, Option<String>>(6)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        raw.into_iter()
            .map(|(id, op, backend, thin_id, digest, activation, path)| {
                let unknown = |what: &str, value: &str| PmError::StateUnusable {
                    path: self.path().to_path_buf(),
                    reason: format!(
                        "interrupted change {id} has the unknown {what} {value:?} \
                         (written by a newer pm?); nothing was reconciled"
                    ),
                };
                Ok(Intent {
                    id,
                    op: IntentOp::parse(&op).ok_or_else(|| unknown("operation", &op))?,
                    backend: BackendKind::parse(&backend)
                        .ok_or_else(|| unknown("backend", &backend))?,
                    thin_id,
                    digest,
                    activation,
                    path,
                })
            })
            .collect()
    }
}

impl WriteTx<'_> {
    pub fn insert_pool(&self, p: &PoolRecord) -> Result<()> {
        self.execute(
            "INSERT INTO pools (name, data_dev, metadata_dev, loop_backed, data_bytes, metadata_bytes,
                                block_sectors, low_water, next_thin_id, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                p.name,
                p.data_dev,
                p.metadata_dev,
                p.loop_backed,
                p.data_bytes as i64,
                p.metadata_bytes as i64,
                p.block_sectors as i64,
                p.low_water as i64,
                p.next_thin_id,
                now_ms()
            ],
        )?;
        Ok(())
    }

    /// Forgets the pool and everything that lived on it.
    pub fn forget_pool(&self, name: &str) -> Result<()> {
        self.execute(
            "DELETE FROM activations WHERE backend = ?1",
            [BackendKind::Thin],
        )?;
        self.execute(
            "DELETE FROM volumes WHERE backend = ?1",
            [BackendKind::Thin],
        )?;
        self.execute("DELETE FROM pools WHERE name = ?1", [name])?;
        Ok(())
    }

    /// Takes the next thin id; the counter never goes back, so an id the
    /// kernel may still hold is never handed out again.
    pub fn allocate_thin_id(&self, pool: &str) -> Result<i64> {
        Ok(self.query_row(
            "UPDATE pools SET next_thin_id = next_thin_id + 1 WHERE name = ?1 RETURNING next_thin_id - 1",
            [pool],
            |r| r.get(0),
        )?)
    }

    pub fn begin_intent(
        &self,
        op: IntentOp,
        backend: BackendKind,
        spec: IntentSpec<'_>,
    ) -> Result<Intent> {
        self.execute(
            "INSERT INTO intents (op, backend, thin_id, digest, activation, path, started_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                op,
                backend,
                spec.thin_id,
                spec.digest,
                spec.activation,
                spec.path,
                now_ms()
            ],
        )?;
        Ok(Intent {
            id: self.last_insert_rowid(),
            op,
            backend,
            thin_id: spec.thin_id,
            digest: spec.digest.cloned(),
            activation: spec.activation.map(str::to_string),
            path: spec.path.map(str::to_string),
        })
    }

    pub fn finish_intent(&self, id: i64, outcome: IntentOutcome) -> Result<()> {
        self.execute(
            "UPDATE intents SET finished_at = ?2, outcome = ?3 WHERE id = ?1",
            params![id, now_ms(), outcome],
        )?;
        Ok(())
    }

    pub fn record_volume(&self, v: &VolumeRecord) -> Result<()> {
        self.execute(
            "INSERT INTO volumes (digest, backend, thin_id, path, size, virtual_size, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                v.digest,
                v.backend,
                v.thin_id,
                v.path,
                v.size as i64,
                v.virtual_size as i64,
                now_ms()
            ],
        )?;
        Ok(())
    }

    pub fn remove_volume(&self, digest: &Digest, backend: BackendKind) -> Result<()> {
        self.execute(
            "DELETE FROM volumes WHERE digest = ?1 AND backend = ?2",
            params![digest, backend],
        )?;
        Ok(())
    }

    pub fn record_activation(&self, a: &ActivationRow) -> Result<()> {
        self.execute(
            "INSERT INTO activations (id, name, image_digest, backend, thin_id, path, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                a.id,
                a.name,
                a.image,
                a.backend,
                a.snapshot_id,
                a.path,
                a.created_at_ms
            ],
        )?;
        Ok(())
    }

    pub fn remove_activation(&self, id: &str) -> Result<()> {
        self.execute("DELETE FROM activations WHERE id = ?1", [id])?;
        Ok(())
    }
}
