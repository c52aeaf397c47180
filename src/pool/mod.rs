//! Pools and activations: turning a validated image into something a
//! machine boots — a thin snapshot on a device-mapper pool, or a directory
//! copy where there is no device-mapper.
//!
//! This module owns the pool, volume (one base per image and backend),
//! activation and intent tables. Every change to the kernel or the volume
//! folders is journalled: an intent row is committed *before* the change
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

use crate::config::Config;
use crate::error::PmError;
use crate::failpoint;
use crate::progress::Progress;
use crate::state::{State, now_ms};
#[cfg(target_os = "linux")]
use anyhow::Context as _;
use anyhow::Result;
use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Where activations live.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
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

    fn parse(text: &str) -> BackendKind {
        if text == "thin" {
            BackendKind::Thin
        } else {
            BackendKind::Dir
        }
    }
}

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
}

impl PoolSettings {
    pub fn from_config(config: &Config) -> PoolSettings {
        let state = config.state_path();
        let dir = state.parent().unwrap_or(Path::new(".")).to_path_buf();
        PoolSettings {
            name: config.string("pool.name").to_string(),
            block_size: config.int("pool.block_size").max(0) as u64,
            low_water: config.int("pool.low_water_mark").max(0) as u64,
            volume_size: config.int("pool.volume_size").max(0) as u64,
            max_data_percent: config.int("pool.max_data_percent"),
            max_metadata_percent: config.int("pool.max_metadata_percent"),
            dir_root: dir.join("volumes"),
            runtime_dir: config.env.runtime_dir(),
            as_root: config.env.is_root,
        }
    }
}

/// The pool as recorded in state.
#[derive(Clone, Debug, Serialize)]
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

pub fn pool_record(state: &State, name: &str) -> Result<Option<PoolRecord>> {
    Ok(state
        .reader()
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

/// One image's base volume.
#[derive(Clone, Debug, Serialize)]
pub struct VolumeRecord {
    pub digest: String,
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

pub fn volumes(state: &State) -> Result<Vec<VolumeRecord>> {
    let mut stmt = state
        .reader()
        .prepare("SELECT digest, backend, thin_id, path, size, virtual_size FROM volumes ORDER BY created_at")?;
    let rows = stmt
        .query_map([], |r| {
            Ok(VolumeRecord {
                digest: r.get(0)?,
                backend: BackendKind::parse(&r.get::<_, String>(1)?),
                thin_id: r.get(2)?,
                path: r.get(3)?,
                size: r.get::<_, i64>(4)? as u64,
                virtual_size: r.get::<_, i64>(5)? as u64,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

fn base_volume(state: &State, digest: &str, backend: BackendKind) -> Result<Option<VolumeRecord>> {
    Ok(volumes(state)?
        .into_iter()
        .find(|v| v.digest == digest && v.backend == backend))
}

/// One activation, as recorded and as printed.
#[derive(Clone, Debug, Serialize)]
pub struct ActivationRecord {
    pub id: String,
    pub name: String,
    pub image: String,
    pub backend: BackendKind,
    /// The thin snapshot's id in the pool (thin backend).
    pub snapshot_id: Option<i64>,
    /// `/dev/dm-N` (thin) — present while the snapshot is active.
    pub device: Option<PathBuf>,
    /// The device-mapper name (thin) or the directory (dir).
    pub path: String,
}

pub fn activations(state: &State) -> Result<Vec<ActivationRecord>> {
    let mut stmt = state.reader().prepare(
        "SELECT id, name, image_digest, backend, thin_id, path FROM activations ORDER BY created_at",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok(ActivationRecord {
                id: r.get(0)?,
                name: r.get(1)?,
                image: r.get(2)?,
                backend: BackendKind::parse(&r.get::<_, String>(3)?),
                snapshot_id: r.get(4)?,
                device: None,
                path: r.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Finds an activation by id or name.
pub fn find_activation(state: &State, reference: &str) -> Result<ActivationRecord> {
    activations(state)?
        .into_iter()
        .find(|a| a.id == reference || a.name == reference)
        .ok_or_else(|| {
            PmError::not_found(
                format!("activation {reference:?}"),
                Some("see `pm pool status` for what is active".to_string()),
            )
            .into()
        })
}

// ---------------------------------------------------------------- journal

/// An intended change, committed before the change is made.
#[derive(Clone, Debug)]
pub struct Intent {
    pub id: i64,
    pub op: String,
    pub backend: BackendKind,
    pub thin_id: Option<i64>,
    pub digest: Option<String>,
    pub activation: Option<String>,
    pub path: Option<String>,
}

/// What an intent is about, before it has an id.
#[derive(Default)]
struct IntentSpec<'a> {
    thin_id: Option<i64>,
    digest: Option<&'a str>,
    activation: Option<&'a str>,
    path: Option<&'a str>,
}

fn begin_intent(
    tx: &Transaction<'_>,
    op: &str,
    backend: BackendKind,
    spec: IntentSpec<'_>,
) -> Result<Intent> {
    tx.execute(
        "INSERT INTO intents (op, backend, thin_id, digest, activation, path, started_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            op,
            backend.as_str(),
            spec.thin_id,
            spec.digest,
            spec.activation,
            spec.path,
            now_ms()
        ],
    )?;
    Ok(Intent {
        id: tx.last_insert_rowid(),
        op: op.to_string(),
        backend,
        thin_id: spec.thin_id,
        digest: spec.digest.map(str::to_string),
        activation: spec.activation.map(str::to_string),
        path: spec.path.map(str::to_string),
    })
}

fn finish_intent(tx: &Transaction<'_>, id: i64, outcome: &str) -> Result<()> {
    tx.execute(
        "UPDATE intents SET finished_at = ?2, outcome = ?3 WHERE id = ?1",
        params![id, now_ms(), outcome],
    )?;
    Ok(())
}

pub fn open_intents(state: &State) -> Result<Vec<Intent>> {
    let mut stmt = state.reader().prepare(
        "SELECT id, op, backend, thin_id, digest, activation, path FROM intents
         WHERE finished_at IS NULL ORDER BY id",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok(Intent {
                id: r.get(0)?,
                op: r.get(1)?,
                backend: BackendKind::parse(&r.get::<_, String>(2)?),
                thin_id: r.get(3)?,
                digest: r.get(4)?,
                activation: r.get(5)?,
                path: r.get(6)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Takes the next thin id; the counter never goes back.
#[cfg(target_os = "linux")]
fn allocate_thin_id(tx: &Transaction<'_>, pool: &str) -> Result<i64> {
    let id: i64 = tx.query_row(
        "UPDATE pools SET next_thin_id = next_thin_id + 1 WHERE name = ?1 RETURNING next_thin_id - 1",
        [pool],
        |r| r.get(0),
    )?;
    #[cfg(target_os = "linux")]
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
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// ------------------------------------------------------------- activation

/// What `activate` needs to know about the image.
pub struct ActivateRequest<'a> {
    pub digest: &'a str,
    pub blob: &'a Path,
    pub name: Option<&'a str>,
    pub choice: BackendChoice,
}

/// The result of `pm image activate`.
#[derive(Debug, Serialize)]
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

/// How activation reads and unpacks the image (the validator's rules).
pub trait Unpacker {
    fn unpack(&self, blob: &Path, root: &Path, progress: &dyn Progress) -> Result<u64>;
}

/// Activates an image; the caller holds the state lock.
pub fn activate(
    state: &mut State,
    settings: &PoolSettings,
    request: ActivateRequest<'_>,
    unpacker: &dyn Unpacker,
    progress: &dyn Progress,
) -> Result<Activated> {
    let reconciled = reconcile::reconcile(state, settings)?;
    let backend = request.choice.backend;
    if let Some(name) = request.name
        && let Some(existing) = activations(state)?.into_iter().find(|a| a.name == name)
    {
        if existing.image != request.digest {
            return Err(PmError::usage(
                format!(
                    "the name {name:?} is already used by an activation of {}",
                    existing.image
                ),
                Some("choose another --name, or deactivate that one first".to_string()),
            )
            .into());
        }
        let activation = with_device(settings, existing)?;
        return Ok(Activated {
            activation,
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
        request: &request,
        unpacker,
        progress,
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

fn record_activation(tx: &Transaction<'_>, a: &ActivationRecord) -> Result<()> {
    tx.execute(
        "INSERT INTO activations (id, name, image_digest, backend, thin_id, path, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            a.id,
            a.name,
            a.image,
            a.backend.as_str(),
            a.snapshot_id,
            a.path,
            now_ms()
        ],
    )?;
    Ok(())
}

fn record_volume(tx: &Transaction<'_>, v: &VolumeRecord) -> Result<()> {
    tx.execute(
        "INSERT INTO volumes (digest, backend, thin_id, path, size, virtual_size, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            v.digest,
            v.backend.as_str(),
            v.thin_id,
            v.path,
            v.size as i64,
            v.virtual_size as i64,
            now_ms()
        ],
    )?;
    Ok(())
}

fn hex_of(digest: &str) -> &str {
    digest.strip_prefix("sha256:").unwrap_or(digest)
}

/// One new activation, whichever the backend.
#[derive(Clone, Copy)]
struct ActivationJob<'a> {
    settings: &'a PoolSettings,
    request: &'a ActivateRequest<'a>,
    unpacker: &'a dyn Unpacker,
    progress: &'a dyn Progress,
    id: &'a str,
    name: &'a str,
}

fn dir_activate(state: &mut State, job: &ActivationJob<'_>) -> Result<(ActivationRecord, bool)> {
    let ActivationJob {
        settings,
        request,
        unpacker,
        progress,
        id,
        name,
    } = *job;
    let root = &settings.dir_root;
    crate::state::create_private_dir(&dir::bases_dir(root))?;
    crate::state::create_private_dir(&dir::activations_dir(root))?;
    let mut base_created = false;
    let base = match base_volume(state, request.digest, BackendKind::Dir)? {
        Some(base) => base,
        None => {
            let path = dir::bases_dir(root).join(hex_of(request.digest));
            let path_text = path.display().to_string();
            let intent = state.write(|tx| {
                begin_intent(
                    tx,
                    "create_base",
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
            let unpacked = unpacker.unpack(request.blob, &partial, progress);
            let size = match unpacked {
                Ok(size) => size,
                Err(e) => {
                    dir::remove_tree(&partial)?;
                    state.write(|tx| finish_intent(tx, intent.id, "rolled_back"))?;
                    return Err(e);
                }
            };
            std::fs::rename(&partial, &path).map_err(|e| {
                PmError::io(format!("cannot move {} into place", path.display()), e)
            })?;
            let volume = VolumeRecord {
                digest: request.digest.to_string(),
                backend: BackendKind::Dir,
                thin_id: None,
                path: path_text,
                size,
                virtual_size: 0,
            };
            state.write(|tx| {
                record_volume(tx, &volume)?;
                finish_intent(tx, intent.id, "done")
            })?;
            base_created = true;
            volume
        }
    };
    let path = dir::activations_dir(root).join(id);
    let path_text = path.display().to_string();
    let intent = state.write(|tx| {
        begin_intent(
            tx,
            "create_snapshot",
            BackendKind::Dir,
            IntentSpec {
                digest: Some(request.digest),
                activation: Some(id),
                path: Some(&path_text),
                ..IntentSpec::default()
            },
        )
    })?;
    let partial = dir::partial(&path);
    if let Err(e) = dir::copy_tree(Path::new(&base.path), &partial, settings.as_root) {
        dir::remove_tree(&partial)?;
        state.write(|tx| finish_intent(tx, intent.id, "rolled_back"))?;
        return Err(e);
    }
    std::fs::rename(&partial, &path)
        .map_err(|e| PmError::io(format!("cannot move {} into place", path.display()), e))?;
    failpoint::hit("activate_after_snapshot");
    let activation = ActivationRecord {
        id: id.to_string(),
        name: name.to_string(),
        image: request.digest.to_string(),
        backend: BackendKind::Dir,
        snapshot_id: None,
        device: None,
        path: path_text,
    };
    state.write(|tx| {
        record_activation(tx, &activation)?;
        finish_intent(tx, intent.id, "done")
    })?;
    Ok((activation, base_created))
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
        request,
        unpacker,
        progress,
        id,
        name,
    } = *job;
    let record = pool_record(state, &settings.name)?.ok_or(PmError::NoPool)?;
    let pool = thin::ThinPool::open(&record)?;
    let mut base_created = false;
    let base = match base_volume(state, request.digest, BackendKind::Thin)? {
        Some(base) => base,
        None => {
            check_space(&pool, settings)?;
            let intent = state.write(|tx| {
                let thin_id = allocate_thin_id(tx, &settings.name)?;
                let dm_name = thin::thin_name(&settings.name, thin_id);
                begin_intent(
                    tx,
                    "create_base",
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
            match fill_base(&pool, settings, request, unpacker, progress, thin_id) {
                Ok(size) => {
                    let volume = VolumeRecord {
                        digest: request.digest.to_string(),
                        backend: BackendKind::Thin,
                        thin_id: Some(thin_id),
                        path: thin::thin_name(&settings.name, thin_id),
                        size,
                        virtual_size: settings.volume_size,
                    };
                    state.write(|tx| {
                        record_volume(tx, &volume)?;
                        finish_intent(tx, intent.id, "done")
                    })?;
                    base_created = true;
                    volume
                }
                Err(e) => {
                    // Roll back now; if this fails too, the open intent
                    // lets the next command do it.
                    let mount = fs::mount_dir(&settings.runtime_dir, &settings.name, thin_id);
                    if fs::unmount_and_remove(&mount).is_ok() && pool.remove_thin(thin_id).is_ok() {
                        state.write(|tx| finish_intent(tx, intent.id, "rolled_back"))?;
                    }
                    return Err(e);
                }
            }
        }
    };
    check_space(&pool, settings)?;
    let origin = base.thin_id.context("the base volume has no thin id")?;
    let intent = state.write(|tx| {
        let thin_id = allocate_thin_id(tx, &settings.name)?;
        let dm_name = thin::thin_name(&settings.name, thin_id);
        begin_intent(
            tx,
            "create_snapshot",
            BackendKind::Thin,
            IntentSpec {
                thin_id: Some(thin_id),
                digest: Some(request.digest),
                activation: Some(id),
                path: Some(&dm_name),
            },
        )
    })?;
    let snap_id = intent.thin_id.unwrap_or_default();
    let device = match pool.snapshot(origin, snap_id, base.virtual_size) {
        Ok(device) => device,
        Err(e) => {
            if pool.remove_thin(snap_id).is_ok() {
                state.write(|tx| finish_intent(tx, intent.id, "rolled_back"))?;
            }
            return Err(e);
        }
    };
    failpoint::hit("activate_after_snapshot");
    let activation = ActivationRecord {
        id: id.to_string(),
        name: name.to_string(),
        image: request.digest.to_string(),
        backend: BackendKind::Thin,
        snapshot_id: Some(snap_id),
        device: Some(device),
        path: thin::thin_name(&settings.name, snap_id),
    };
    state.write(|tx| {
        record_activation(tx, &activation)?;
        finish_intent(tx, intent.id, "done")
    })?;
    Ok((activation, base_created))
}

/// Creates the base thin volume, makes a filesystem on it and unpacks the
/// image into it through a private mountpoint.
#[cfg(target_os = "linux")]
fn fill_base(
    pool: &thin::ThinPool,
    settings: &PoolSettings,
    request: &ActivateRequest<'_>,
    unpacker: &dyn Unpacker,
    progress: &dyn Progress,
    thin_id: i64,
) -> Result<u64> {
    let device = pool.create_thin(thin_id, settings.volume_size)?;
    failpoint::hit("activate_after_thin_create");
    fs::mkfs_ext4(&device)?;
    let mount = fs::mount_dir(&settings.runtime_dir, &settings.name, thin_id);
    fs::mount_ext4(&device, &mount)?;
    let unpacked = unpacker.unpack(request.blob, &mount, progress);
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
fn with_device(_settings: &PoolSettings, mut a: ActivationRecord) -> Result<ActivationRecord> {
    if a.backend == BackendKind::Thin {
        let sys = Path::new("/dev/mapper").join(&a.path);
        a.device = dm_devnode(&a.path).or(Some(sys));
    }
    Ok(a)
}

/// Only the thin backend has device nodes, and only on Linux.
#[cfg(not(target_os = "linux"))]
fn with_device(_settings: &PoolSettings, a: ActivationRecord) -> Result<ActivationRecord> {
    Ok(a)
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
#[derive(Debug, Serialize)]
pub struct Deactivated {
    pub id: String,
    pub name: String,
    pub backend: BackendKind,
    pub reconciled: Vec<reconcile::Repair>,
    pub changed: bool,
}

/// Removes an activation (its snapshot or copy); the caller holds the lock.
pub fn deactivate(
    state: &mut State,
    settings: &PoolSettings,
    reference: &str,
) -> Result<Deactivated> {
    let reconciled = reconcile::reconcile(state, settings)?;
    let activation = find_activation(state, reference)?;
    let intent = state.write(|tx| {
        begin_intent(
            tx,
            "remove_activation",
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
    state.write(|tx| {
        tx.execute("DELETE FROM activations WHERE id = ?1", [&activation.id])?;
        finish_intent(tx, intent.id, "done")
    })?;
    Ok(Deactivated {
        id: activation.id,
        name: activation.name,
        backend: activation.backend,
        reconciled,
        changed: true,
    })
}

/// Removes base volumes no activation uses (all, or one image's); returns
/// the volumes freed. For `pm image rm` and `pm image gc`.
pub fn remove_unused_bases(
    state: &mut State,
    settings: &PoolSettings,
    only: Option<&str>,
) -> Result<Vec<VolumeRecord>> {
    reconcile::reconcile(state, settings)?;
    let used: std::collections::BTreeSet<(String, BackendKind)> = activations(state)?
        .into_iter()
        .map(|a| (a.image, a.backend))
        .collect();
    let mut freed = Vec::new();
    for volume in volumes(state)? {
        if only.is_some_and(|d| d != volume.digest)
            || used.contains(&(volume.digest.clone(), volume.backend))
        {
            continue;
        }
        let intent = state.write(|tx| {
            begin_intent(
                tx,
                "remove_base",
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
        state.write(|tx| {
            tx.execute(
                "DELETE FROM volumes WHERE digest = ?1 AND backend = ?2",
                params![volume.digest, volume.backend.as_str()],
            )?;
            finish_intent(tx, intent.id, "done")
        })?;
        freed.push(volume);
    }
    Ok(freed)
}

/// Whether any activation uses the image (so `pm image rm` must refuse).
pub fn image_in_use(state: &State, digest: &str) -> Result<bool> {
    Ok(activations(state)?.iter().any(|a| a.image == digest))
}
