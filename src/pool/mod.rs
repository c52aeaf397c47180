//! Pools and activations: turning a validated image into something a
//! machine boots — a thin snapshot on a device-mapper pool, or a directory
//! copy where there is no device-mapper.
//!
//! This module decides what the pool, volume (one base per image and
//! backend), activation and intent rows mean (`state::pool` stores them).
//! Every change to the kernel or the volume folders is journalled: an intent row is committed *before* the change
//! (with any thin id it will use, allocated from a counter that only grows,
//! so an id the kernel may still hold is never handed out again) and closed
//! in the same transaction that records the result. A crash in between
//! leaves an open intent, which [`reconcile`] rolls back (creations) or
//! finishes (removals) at the start of the next pool or activation command.

pub mod admin;
pub mod dir;
pub mod fs;
#[cfg(target_os = "linux")]
pub mod loopdev;
pub mod reconcile;
#[cfg(target_os = "linux")]
pub mod thin;

use crate::config::{Config, key};
use crate::digest::Digest;
use crate::error::PmError;
use crate::failpoint;
use crate::lock::Held;
use crate::state::{
    ActivationRow, IntentOp, IntentOutcome, IntentSpec, Reader, State, format_ms, now_ms,
};
pub use crate::state::{BackendKind, PoolRecord, VolumeRecord};
#[cfg(target_os = "linux")]
use anyhow::Context as _;
use anyhow::Result;
use schemars::JsonSchema;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The backend to use and whether it was picked automatically.
#[derive(Clone, Debug, Serialize)]
pub struct BackendChoice {
    pub backend: BackendKind,
    pub automatic: bool,
    /// Why `dir` was chosen automatically.
    pub reason: Option<String>,
}

/// `thin`, `dir`, or `auto`: thin when device-mapper answers, else dir.
pub fn choose_backend(requested: &str) -> BackendChoice {
    match requested {
        "thin" => BackendChoice {
            backend: BackendKind::Thin,
            automatic: false,
            reason: None,
        },
        "dir" => BackendChoice {
            backend: BackendKind::Dir,
            automatic: false,
            reason: None,
        },
        _ => match device_mapper_problem() {
            None => BackendChoice {
                backend: BackendKind::Thin,
                automatic: true,
                reason: None,
            },
            Some(why) => BackendChoice {
                backend: BackendKind::Dir,
                automatic: true,
                reason: Some(why),
            },
        },
    }
}

#[cfg(target_os = "linux")]
fn device_mapper_problem() -> Option<String> {
    thin::open_dm().err().map(|e| format!("{e:#}"))
}

#[cfg(not(target_os = "linux"))]
fn device_mapper_problem() -> Option<String> {
    Some("not Linux".to_string())
}

/// The settings pools and activations run with (config keys `pool.*`).
#[derive(Clone, Debug)]
pub struct PoolSettings {
    pub name: String,
    pub block_size: u64,
    pub low_water: u64,
    pub volume_size: u64,
    pub max_data_percent: i64,
    pub max_metadata_percent: i64,
    /// Folder of the dir backend's bases and activations (beside the state).
    pub dir_root: PathBuf,
    /// Private mountpoints live under here.
    pub runtime_dir: PathBuf,
    /// Whether owners can be applied when unpacking.
    pub as_root: bool,
    /// pm's captured environment, for the tools the pool runs (mkfs).
    pub env: std::collections::BTreeMap<String, String>,
}

impl PoolSettings {
    pub fn from_config(config: &Config) -> PoolSettings {
        PoolSettings {
            name: config.string(key::POOL_NAME).to_string(),
            block_size: config.bytes(key::POOL_BLOCK_SIZE),
            low_water: config.int(key::POOL_LOW_WATER_MARK).max(0) as u64,
            volume_size: config.bytes(key::POOL_VOLUME_SIZE),
            max_data_percent: config.int(key::POOL_MAX_DATA_PERCENT),
            max_metadata_percent: config.int(key::POOL_MAX_METADATA_PERCENT),
            dir_root: config.paths().volumes(),
            runtime_dir: config.env.runtime_dir(),
            as_root: config.env.is_root,
            env: config.env.vars.clone(),
        }
    }
}

/// One activation, as printed: the stored row and, for a thin activation,
/// its live device node.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct ActivationRecord {
    pub id: String,
    pub name: String,
    pub image: Digest,
    pub backend: BackendKind,
    /// The thin snapshot's id in the pool (thin backend).
    pub snapshot_id: Option<i64>,
    /// `/dev/dm-N` (thin) — present while the snapshot is active.
    pub device: Option<PathBuf>,
    /// The device-mapper name (thin) or the directory (dir).
    pub path: String,
    pub created_at: String,
}

impl From<ActivationRow> for ActivationRecord {
    fn from(row: ActivationRow) -> ActivationRecord {
        ActivationRecord {
            id: row.id,
            name: row.name,
            image: row.image,
            backend: row.backend,
            snapshot_id: row.snapshot_id,
            device: None,
            path: row.path,
            created_at: format_ms(row.created_at_ms),
        }
    }
}

/// Every activation with its live device, oldest first (for listings).
pub fn list_activations(db: &Reader) -> Result<Vec<ActivationRecord>> {
    Ok(db
        .activations()?
        .into_iter()
        .map(|row| with_device(ActivationRecord::from(row)))
        .collect())
}

// ---------------------------------------------------------------- journal

/// Takes the next thin id; the counter never goes back.
#[cfg(target_os = "linux")]
fn allocate_thin_id(tx: &crate::state::WriteTx<'_>, pool: &str) -> Result<i64> {
    let id = tx.allocate_thin_id(pool)?;
    if id > thin::MAX_THIN_ID {
        anyhow::bail!("the pool has used up its 24-bit thin ids; recreate it");
    }
    Ok(id)
}

fn new_activation_id() -> String {
    use std::io::Read;
    let mut bytes = [0u8; 6];
    if std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .is_err()
    {
        let t = now_ms().to_le_bytes();
        bytes.copy_from_slice(&t[..6]);
    }
    crate::digest::hex(&bytes)
}

// ------------------------------------------------------------- activation

/// What `activate` needs to know about the image.
pub struct ActivateRequest<'a> {
    pub digest: &'a Digest,
    pub blob: &'a Path,
    pub name: Option<&'a str>,
    pub choice: BackendChoice,
}

/// The result of `pm image activate`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Activated {
    #[serde(flatten)]
    pub activation: ActivationRecord,
    pub backend_chosen_automatically: bool,
    pub backend_reason: Option<String>,
    /// The image's base volume was created by this activation.
    pub base_created: bool,
    pub reconciled: Vec<reconcile::Repair>,
    pub changed: bool,
}

/// How activation reads and unpacks the image (the validator's rules). It
/// is only called when a base volume must be filled, so it owns any
/// progress display: an activation that finds its name already active
/// shows none.
pub trait Unpacker {
    fn unpack(&self, blob: &Path, root: &Path) -> Result<u64>;
}

/// Activates an image, under the pool lock (`pool_lock`).
pub fn activate(
    state: &mut State,
    pool_lock: &dyn Held,
    settings: &PoolSettings,
    request: ActivateRequest<'_>,
    unpacker: &dyn Unpacker,
) -> Result<Activated> {
    let reconciled = reconcile::reconcile(state, pool_lock, settings)?;
    let backend = request.choice.backend;
    if let Some(existing) = existing_activation(state, &request)? {
        return Ok(Activated {
            activation: with_device(ActivationRecord::from(existing)),
            backend_chosen_automatically: request.choice.automatic,
            backend_reason: request.choice.reason,
            base_created: false,
            reconciled,
            changed: false,
        });
    }
    let id = new_activation_id();
    let name = request.name.unwrap_or(&id).to_string();
    let job = ActivationJob {
        settings,
        pool_lock,
        request: &request,
        unpacker,
        id: &id,
        name: &name,
    };
    let (activation, base_created) = match backend {
        BackendKind::Dir => dir_activate(state, &job)?,
        BackendKind::Thin => thin_activate(state, &job)?,
    };
    Ok(Activated {
        activation,
        backend_chosen_automatically: request.choice.automatic,
        backend_reason: request.choice.reason,
        base_created,
        reconciled,
        changed: true,
    })
}

/// The activation of this image already under the requested name (an
/// activation of another image under it is a usage error).
fn existing_activation(
    db: &Reader,
    request: &ActivateRequest<'_>,
) -> Result<Option<ActivationRow>> {
    let Some(name) = request.name else {
        return Ok(None);
    };
    let Some(existing) = db.activations()?.into_iter().find(|a| a.name == name) else {
        return Ok(None);
    };
    if &existing.image != request.digest {
        return Err(PmError::usage(
            format!(
                "the name {name:?} is already used by an activation of {}",
                existing.image
            ),
            Some("choose another --name, or deactivate that one first".to_string()),
        )
        .into());
    }
    Ok(Some(existing))
}

/// What `pm image activate --dry-run` reports: the activation a real run
/// would make or find, with what cannot be known before it runs (the new
/// id, path, snapshot) left empty.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PlannedActivation {
    pub id: Option<String>,
    pub name: Option<String>,
    pub image: Digest,
    pub backend: BackendKind,
    pub snapshot_id: Option<i64>,
    pub device: Option<PathBuf>,
    pub path: Option<String>,
    pub created_at: Option<String>,
    pub backend_chosen_automatically: bool,
    pub backend_reason: Option<String>,
    /// A real run would create the image's base volume.
    pub base_created: bool,
    pub reconciled: Vec<reconcile::Repair>,
    pub changed: bool,
}

/// What `activate` would do, touching nothing: no reconciliation, no
/// volume, no state.
pub fn predict_activate(
    db: &Reader,
    settings: &PoolSettings,
    request: ActivateRequest<'_>,
) -> Result<PlannedActivation> {
    let backend = request.choice.backend;
    let existing = existing_activation(db, &request)?;
    if backend == BackendKind::Thin && db.pool(&settings.name)?.is_none() {
        return Err(PmError::NoPool.into());
    }
    let found = existing.map(|row| with_device(ActivationRecord::from(row)));
    let base_created = found.is_none() && db.base_volume(request.digest, backend)?.is_none();
    Ok(PlannedActivation {
        changed: found.is_none(),
        id: found.as_ref().map(|a| a.id.clone()),
        name: request.name.map(str::to_string),
        image: request.digest.clone(),
        backend: found.as_ref().map_or(backend, |a| a.backend),
        snapshot_id: found.as_ref().and_then(|a| a.snapshot_id),
        device: found.as_ref().and_then(|a| a.device.clone()),
        path: found.as_ref().map(|a| a.path.clone()),
        created_at: found.as_ref().map(|a| a.created_at.clone()),
        backend_chosen_automatically: request.choice.automatic,
        backend_reason: request.choice.reason,
        base_created,
        reconciled: Vec::new(),
    })
}

/// One new activation, whichever the backend.
#[derive(Clone, Copy)]
struct ActivationJob<'a> {
    settings: &'a PoolSettings,
    pool_lock: &'a dyn Held,
    request: &'a ActivateRequest<'a>,
    unpacker: &'a dyn Unpacker,
    id: &'a str,
    name: &'a str,
}

impl ActivationJob<'_> {
    /// The row recorded once the activation stands.
    fn row(&self, backend: BackendKind, snapshot_id: Option<i64>, path: String) -> ActivationRow {
        ActivationRow {
            id: self.id.to_string(),
            name: self.name.to_string(),
            image: self.request.digest.clone(),
            backend,
            snapshot_id,
            path,
            created_at_ms: now_ms(),
        }
    }
}

fn dir_activate(state: &mut State, job: &ActivationJob<'_>) -> Result<(ActivationRecord, bool)> {
    let ActivationJob {
        settings,
        pool_lock,
        request,
        ..
    } = *job;
    let root = &settings.dir_root;
    for dir in [dir::bases_dir(root), dir::activations_dir(root)] {
        crate::paths::create_private_dir(&dir)
            .map_err(|e| PmError::io(format!("cannot create {}", dir.display()), e))?;
    }
    let (base, base_created) = match state.base_volume(request.digest, BackendKind::Dir)? {
        Some(base) => (base, false),
        None => (dir_create_base(state, job)?, true),
    };
    let path = dir::activations_dir(root).join(job.id);
    let path_text = path.display().to_string();
    let intent = state.write(pool_lock, |tx| {
        tx.begin_intent(
            IntentOp::CreateSnapshot,
            BackendKind::Dir,
            IntentSpec {
                digest: Some(request.digest),
                activation: Some(job.id),
                path: Some(&path_text),
                ..IntentSpec::default()
            },
        )
    })?;
    let partial = dir::partial(&path);
    if let Err(e) = dir::copy_tree(Path::new(&base.path), &partial, settings.as_root) {
        dir::remove_tree(&partial)?;
        state.write(pool_lock, |tx| {
            tx.finish_intent(intent.id, IntentOutcome::RolledBack)
        })?;
        return Err(e);
    }
    std::fs::rename(&partial, &path)
        .map_err(|e| PmError::io(format!("cannot move {} into place", path.display()), e))?;
    failpoint::hit("activate_after_snapshot");
    let row = job.row(BackendKind::Dir, None, path_text);
    state.write(pool_lock, |tx| {
        tx.record_activation(&row)?;
        tx.finish_intent(intent.id, IntentOutcome::Done)
    })?;
    Ok((ActivationRecord::from(row), base_created))
}

/// Unpacks the image into a new base folder, under a `.partial` name.
fn dir_create_base(state: &mut State, job: &ActivationJob<'_>) -> Result<VolumeRecord> {
    let ActivationJob {
        settings,
        pool_lock,
        request,
        unpacker,
        ..
    } = *job;
    let path = dir::bases_dir(&settings.dir_root).join(request.digest.hex());
    let path_text = path.display().to_string();
    let intent = state.write(pool_lock, |tx| {
        tx.begin_intent(
            IntentOp::CreateBase,
            BackendKind::Dir,
            IntentSpec {
                digest: Some(request.digest),
                path: Some(&path_text),
                ..IntentSpec::default()
            },
        )
    })?;
    failpoint::hit("activate_after_intent");
    let partial = dir::partial(&path);
    dir::remove_tree(&partial)?;
    dir::remove_tree(&path)?;
    std::fs::create_dir(&partial)
        .map_err(|e| PmError::io(format!("cannot create {}", partial.display()), e))?;
    let size = match unpacker.unpack(request.blob, &partial) {
        Ok(size) => size,
        Err(e) => {
            dir::remove_tree(&partial)?;
            state.write(pool_lock, |tx| {
                tx.finish_intent(intent.id, IntentOutcome::RolledBack)
            })?;
            return Err(e);
        }
    };
    std::fs::rename(&partial, &path)
        .map_err(|e| PmError::io(format!("cannot move {} into place", path.display()), e))?;
    let volume = VolumeRecord {
        digest: request.digest.clone(),
        backend: BackendKind::Dir,
        thin_id: None,
        path: path_text,
        size,
        virtual_size: 0,
    };
    state.write(pool_lock, |tx| {
        tx.record_volume(&volume)?;
        tx.finish_intent(intent.id, IntentOutcome::Done)
    })?;
    Ok(volume)
}

#[cfg(not(target_os = "linux"))]
fn thin_activate(_: &mut State, _: &ActivationJob<'_>) -> Result<(ActivationRecord, bool)> {
    Err(PmError::DeviceMapperUnavailable {
        reason: "not Linux".to_string(),
    }
    .into())
}

#[cfg(target_os = "linux")]
fn thin_activate(state: &mut State, job: &ActivationJob<'_>) -> Result<(ActivationRecord, bool)> {
    let ActivationJob {
        settings,
        pool_lock,
        request,
        ..
    } = *job;
    let record = state.pool(&settings.name)?.ok_or(PmError::NoPool)?;
    let pool = thin::ThinPool::open(&record)?;
    let (base, base_created) = match state.base_volume(request.digest, BackendKind::Thin)? {
        Some(base) => (base, false),
        None => (thin_create_base(state, job, &pool)?, true),
    };
    check_space(&pool, settings)?;
    let origin = base.thin_id.context("the base volume has no thin id")?;
    let intent = state.write(pool_lock, |tx| {
        let thin_id = allocate_thin_id(tx, &settings.name)?;
        let dm_name = thin::thin_name(&settings.name, thin_id);
        tx.begin_intent(
            IntentOp::CreateSnapshot,
            BackendKind::Thin,
            IntentSpec {
                thin_id: Some(thin_id),
                digest: Some(request.digest),
                activation: Some(job.id),
                path: Some(&dm_name),
            },
        )
    })?;
    let snap_id = intent.thin_id.unwrap_or_default();
    let device = match pool.snapshot(origin, snap_id, base.virtual_size) {
        Ok(device) => device,
        Err(e) => {
            if pool.remove_thin(snap_id).is_ok() {
                state.write(pool_lock, |tx| {
                    tx.finish_intent(intent.id, IntentOutcome::RolledBack)
                })?;
            }
            return Err(e);
        }
    };
    failpoint::hit("activate_after_snapshot");
    let row = job.row(
        BackendKind::Thin,
        Some(snap_id),
        thin::thin_name(&settings.name, snap_id),
    );
    state.write(pool_lock, |tx| {
        tx.record_activation(&row)?;
        tx.finish_intent(intent.id, IntentOutcome::Done)
    })?;
    let mut activation = ActivationRecord::from(row);
    activation.device = Some(device);
    Ok((activation, base_created))
}

/// Creates and fills the image's base thin volume, or rolls it back.
#[cfg(target_os = "linux")]
fn thin_create_base(
    state: &mut State,
    job: &ActivationJob<'_>,
    pool: &thin::ThinPool,
) -> Result<VolumeRecord> {
    let ActivationJob {
        settings,
        pool_lock,
        request,
        unpacker,
        ..
    } = *job;
    check_space(pool, settings)?;
    let intent = state.write(pool_lock, |tx| {
        let thin_id = allocate_thin_id(tx, &settings.name)?;
        let dm_name = thin::thin_name(&settings.name, thin_id);
        tx.begin_intent(
            IntentOp::CreateBase,
            BackendKind::Thin,
            IntentSpec {
                thin_id: Some(thin_id),
                digest: Some(request.digest),
                path: Some(&dm_name),
                ..IntentSpec::default()
            },
        )
    })?;
    failpoint::hit("activate_after_intent");
    let thin_id = intent.thin_id.unwrap_or_default();
    match fill_base(pool, settings, request, unpacker, thin_id) {
        Ok(size) => {
            let volume = VolumeRecord {
                digest: request.digest.clone(),
                backend: BackendKind::Thin,
                thin_id: Some(thin_id),
                path: thin::thin_name(&settings.name, thin_id),
                size,
                virtual_size: settings.volume_size,
            };
            state.write(pool_lock, |tx| {
                tx.record_volume(&volume)?;
                tx.finish_intent(intent.id, IntentOutcome::Done)
            })?;
            Ok(volume)
        }
        Err(e) => {
            // Roll back now; if this fails too, the open intent lets the
            // next command do it.
            let mount = fs::mount_dir(&settings.runtime_dir, &settings.name, thin_id);
            if fs::unmount_and_remove(&mount).is_ok() && pool.remove_thin(thin_id).is_ok() {
                state.write(pool_lock, |tx| {
                    tx.finish_intent(intent.id, IntentOutcome::RolledBack)
                })?;
            }
            Err(e)
        }
    }
}

/// Creates the base thin volume, makes a filesystem on it and unpacks the
/// image into it through a private mountpoint.
#[cfg(target_os = "linux")]
fn fill_base(
    pool: &thin::ThinPool,
    settings: &PoolSettings,
    request: &ActivateRequest<'_>,
    unpacker: &dyn Unpacker,
    thin_id: i64,
) -> Result<u64> {
    let device = pool.create_thin(thin_id, settings.volume_size)?;
    failpoint::hit("activate_after_thin_create");
    fs::mkfs_ext4(&device, &settings.env)?;
    let mount = fs::mount_dir(&settings.runtime_dir, &settings.name, thin_id);
    fs::mount_ext4(&device, &mount)?;
    let unpacked = unpacker.unpack(request.blob, &mount);
    let synced = sync_fs(&mount);
    fs::unmount_and_remove(&mount)?;
    synced?;
    unpacked
}

#[cfg(target_os = "linux")]
fn sync_fs(dir: &Path) -> Result<()> {
    let f = std::fs::File::open(dir)?;
    // SAFETY: f is an open descriptor on the mounted filesystem.
    if unsafe { libc::syncfs(std::os::fd::AsRawFd::as_raw_fd(&f)) } != 0 {
        return Err(std::io::Error::last_os_error()).context("syncfs");
    }
    Ok(())
}

/// The free-space guard: a thin pool that runs full hangs every
/// filesystem on it, so refuse new volumes well before that.
#[cfg(target_os = "linux")]
fn check_space(pool: &thin::ThinPool, settings: &PoolSettings) -> Result<()> {
    let usage = pool.usage()?;
    if usage.data_percent > settings.max_data_percent as f64 {
        return Err(PmError::PoolFull {
            what: "data",
            percent: usage.data_percent,
            limit: settings.max_data_percent,
        }
        .into());
    }
    if usage.metadata_percent > settings.max_metadata_percent as f64 {
        return Err(PmError::PoolFull {
            what: "metadata",
            percent: usage.metadata_percent,
            limit: settings.max_metadata_percent,
        }
        .into());
    }
    Ok(())
}

/// Adds the live device node of a thin activation.
#[cfg(target_os = "linux")]
fn with_device(mut a: ActivationRecord) -> ActivationRecord {
    if a.backend == BackendKind::Thin {
        let sys = Path::new("/dev/mapper").join(&a.path);
        a.device = dm_devnode(&a.path).or(Some(sys));
    }
    a
}

/// Only the thin backend has device nodes, and only on Linux.
#[cfg(not(target_os = "linux"))]
fn with_device(a: ActivationRecord) -> ActivationRecord {
    a
}

/// `/dev/dm-N` of a dm device, from sysfs.
#[cfg(target_os = "linux")]
fn dm_devnode(name: &str) -> Option<PathBuf> {
    let dir = std::fs::read_dir("/sys/block").ok()?;
    dir.flatten().find_map(|e| {
        let n = std::fs::read_to_string(e.path().join("dm/name")).ok()?;
        (n.trim() == name).then(|| Path::new("/dev").join(e.file_name()))
    })
}

/// The result of `pm image deactivate`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Deactivated {
    /// The activation asked for (its id when it was found).
    pub id: Option<String>,
    pub name: String,
    pub backend: Option<BackendKind>,
    pub reconciled: Vec<reconcile::Repair>,
    pub changed: bool,
}

/// Removes an activation (its snapshot or copy), under the pool lock. An
/// activation that does not exist is already gone: `changed: false`, or
/// `not_found` when `strict`.
pub fn deactivate(
    state: &mut State,
    pool_lock: &dyn Held,
    settings: &PoolSettings,
    reference: &str,
    strict: bool,
) -> Result<Deactivated> {
    let reconciled = reconcile::reconcile(state, pool_lock, settings)?;
    let Some(activation) = state.activation(reference)? else {
        if strict {
            return Err(PmError::not_found(
                format!("activation {reference:?}"),
                Some("see `pm image activations` for what is active".to_string()),
            )
            .into());
        }
        return Ok(Deactivated {
            id: None,
            name: reference.to_string(),
            backend: None,
            reconciled,
            changed: false,
        });
    };
    let intent = state.write(pool_lock, |tx| {
        tx.begin_intent(
            IntentOp::RemoveActivation,
            activation.backend,
            IntentSpec {
                thin_id: activation.snapshot_id,
                digest: Some(&activation.image),
                activation: Some(&activation.id),
                path: Some(&activation.path),
            },
        )
    })?;
    reconcile::remove_backing(state, settings, &intent)?;
    state.write(pool_lock, |tx| {
        tx.remove_activation(&activation.id)?;
        tx.finish_intent(intent.id, IntentOutcome::Done)
    })?;
    Ok(Deactivated {
        id: Some(activation.id),
        name: activation.name,
        backend: Some(activation.backend),
        reconciled,
        changed: true,
    })
}

/// What `deactivate` would do, touching nothing.
pub fn predict_deactivate(db: &Reader, reference: &str, strict: bool) -> Result<Deactivated> {
    match db.activation(reference)? {
        Some(a) => Ok(Deactivated {
            id: Some(a.id),
            name: a.name,
            backend: Some(a.backend),
            reconciled: Vec::new(),
            changed: true,
        }),
        None if strict => Err(PmError::not_found(
            format!("activation {reference:?}"),
            Some("see `pm image activations` for what is active".to_string()),
        )
        .into()),
        None => Ok(Deactivated {
            id: None,
            name: reference.to_string(),
            backend: None,
            reconciled: Vec::new(),
            changed: false,
        }),
    }
}

/// The base volumes `remove_unused_bases` would remove (`--dry-run`).
pub fn unused_bases(db: &Reader, only: Option<&Digest>) -> Result<Vec<VolumeRecord>> {
    let used: std::collections::BTreeSet<(Digest, BackendKind)> = db
        .activations()?
        .into_iter()
        .map(|a| (a.image, a.backend))
        .collect();
    Ok(db
        .volumes()?
        .into_iter()
        .filter(|v| only.is_none_or(|d| d == &v.digest))
        .filter(|v| !used.contains(&(v.digest.clone(), v.backend)))
        .collect())
}

/// Removes base volumes no activation uses (all, or one image's), under the
/// pool lock; returns the volumes freed. For `pm image rm` and `pm image gc`.
pub fn remove_unused_bases(
    state: &mut State,
    pool_lock: &dyn Held,
    settings: &PoolSettings,
    only: Option<&Digest>,
) -> Result<Vec<VolumeRecord>> {
    reconcile::reconcile(state, pool_lock, settings)?;
    let mut freed = Vec::new();
    for volume in unused_bases(state, only)? {
        let intent = state.write(pool_lock, |tx| {
            tx.begin_intent(
                IntentOp::RemoveBase,
                volume.backend,
                IntentSpec {
                    thin_id: volume.thin_id,
                    digest: Some(&volume.digest),
                    path: Some(&volume.path),
                    ..IntentSpec::default()
                },
            )
        })?;
        reconcile::remove_backing(state, settings, &intent)?;
        state.write(pool_lock, |tx| {
            tx.remove_volume(&volume.digest, volume.backend)?;
            tx.finish_intent(intent.id, IntentOutcome::Done)
        })?;
        freed.push(volume);
    }
    Ok(freed)
}

/// The two files of a loop-backed pool in `dir`.
fn loop_files(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    (
        dir.join(format!("{name}-data.img")),
        dir.join(format!("{name}-metadata.img")),
    )
}

/// Tears down every device under the pool's prefix, deletes the loop files
/// (when `loop_dir` is given) and forgets the pool, its thin volumes and
/// activations. Used by destroy, and by reconciliation to finish or roll
/// back an interrupted create or destroy.
pub fn remove_pool_everywhere(
    state: &mut State,
    pool_lock: &dyn Held,
    settings: &PoolSettings,
    loop_dir: Option<&str>,
) -> Result<()> {
    #[cfg(target_os = "linux")]
    if let Ok(dm) = thin::open_dm() {
        thin::remove_all_named(&dm, &settings.name)?;
    }
    if let Some(dir) = loop_dir {
        let (data, metadata) = loop_files(Path::new(dir), &settings.name);
        for file in [data, metadata] {
            match std::fs::remove_file(&file) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(PmError::io(format!("cannot remove {}", file.display()), e).into());
                }
            }
        }
    }
    state.write(pool_lock, |tx| tx.forget_pool(&settings.name))
}
