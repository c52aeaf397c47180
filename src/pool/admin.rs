//! `pm pool create|status|destroy`: the thin pool itself.

use super::reconcile::{self, Repair};
use super::{PoolRecord, PoolSettings, remove_pool_everywhere};
use crate::error::PmError;
use crate::lock::Held;
use crate::state::{BackendKind, Intent, IntentOp, IntentOutcome, IntentSpec, Reader, State};
use anyhow::Result;
use schemars::JsonSchema;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Where the pool's space comes from.
pub enum PoolDevices {
    /// Existing block devices.
    Block { data: PathBuf, metadata: PathBuf },
    /// Sparse files pm creates in a folder, attached through loop devices.
    LoopFiles {
        dir: PathBuf,
        data_size: u64,
        metadata_size: u64,
    },
}

/// The result of `pm pool create`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PoolCreated {
    pub pool: PoolRecord,
    pub reconciled: Vec<Repair>,
    pub changed: bool,
}

/// The record a create request describes (sizes of block devices read now).
fn describe(settings: &PoolSettings, devices: &PoolDevices) -> Result<PoolRecord> {
    if settings.block_size == 0 || !settings.block_size.is_multiple_of(64 << 10) {
        return Err(PmError::usage(
            format!(
                "pool.block_size {} is not a multiple of 64KiB",
                settings.block_size
            ),
            Some("use 64KiB, 128KiB, ... 1GiB".to_string()),
        )
        .into());
    }
    let (data_dev, metadata_dev, loop_backed, data_bytes, metadata_bytes) = match devices {
        PoolDevices::Block { data, metadata } => {
            #[cfg(target_os = "linux")]
            let (data_bytes, metadata_bytes) = (
                super::loopdev::block_device_info(data)?.1,
                super::loopdev::block_device_info(metadata)?.1,
            );
            #[cfg(not(target_os = "linux"))]
            let (data_bytes, metadata_bytes) = (0, 0);
            (
                data.clone(),
                metadata.clone(),
                false,
                data_bytes,
                metadata_bytes,
            )
        }
        PoolDevices::LoopFiles {
            dir,
            data_size,
            metadata_size,
        } => {
            let dir = std::path::absolute(dir)?;
            let (data, metadata) = super::loop_files(&dir, &settings.name);
            (data, metadata, true, *data_size, *metadata_size)
        }
    };
    Ok(PoolRecord {
        name: settings.name.clone(),
        data_dev: data_dev.display().to_string(),
        metadata_dev: metadata_dev.display().to_string(),
        loop_backed,
        data_bytes,
        metadata_bytes,
        block_sectors: settings.block_size / 512,
        low_water: settings.low_water,
        next_thin_id: 1,
    })
}

/// Creates the pool, or confirms the one that exists (`changed: false`),
/// under the pool lock.
pub fn create_pool(
    state: &mut State,
    pool_lock: &dyn Held,
    settings: &PoolSettings,
    devices: &PoolDevices,
) -> Result<PoolCreated> {
    let reconciled = reconcile::reconcile(state, pool_lock, settings)?;
    let wanted = describe(settings, devices)?;
    if let Some(existing) = existing_pool(state, settings, &wanted)? {
        return Ok(PoolCreated {
            pool: existing,
            reconciled,
            changed: false,
        });
    }
    create_new(state, pool_lock, settings, wanted, reconciled)
}

/// What `create_pool` would do, touching nothing (`--dry-run`).
pub fn predict_create(
    db: &Reader,
    settings: &PoolSettings,
    devices: &PoolDevices,
) -> Result<PoolCreated> {
    let wanted = describe(settings, devices)?;
    let existing = existing_pool(db, settings, &wanted)?;
    Ok(PoolCreated {
        changed: existing.is_none(),
        pool: existing.unwrap_or(wanted),
        reconciled: Vec::new(),
    })
}

/// The recorded pool, if it is the one wanted; another one is a conflict.
fn existing_pool(
    db: &Reader,
    settings: &PoolSettings,
    wanted: &PoolRecord,
) -> Result<Option<PoolRecord>> {
    let Some(existing) = db.pool(&settings.name)? else {
        return Ok(None);
    };
    if existing.data_dev != wanted.data_dev || existing.metadata_dev != wanted.metadata_dev {
        return Err(PmError::PoolConflict {
            name: settings.name.clone(),
            differs: format!(
                "it uses {} and {}",
                existing.data_dev, existing.metadata_dev
            ),
        }
        .into());
    }
    Ok(Some(existing))
}

#[cfg(not(target_os = "linux"))]
fn create_new(
    _: &mut State,
    _: &dyn Held,
    _: &PoolSettings,
    _: PoolRecord,
    _: Vec<Repair>,
) -> Result<PoolCreated> {
    Err(PmError::DeviceMapperUnavailable {
        reason: "not Linux".to_string(),
    }
    .into())
}

#[cfg(target_os = "linux")]
fn create_new(
    state: &mut State,
    pool_lock: &dyn Held,
    settings: &PoolSettings,
    wanted: PoolRecord,
    reconciled: Vec<Repair>,
) -> Result<PoolCreated> {
    super::thin::open_dm()?;
    let loop_dir = loop_dir_of(&wanted);
    let intent = begin_pool_intent(state, pool_lock, IntentOp::CreatePool, loop_dir.as_deref())?;
    let built = (|| {
        if wanted.loop_backed {
            make_sparse(Path::new(&wanted.data_dev), wanted.data_bytes)?;
            make_sparse(Path::new(&wanted.metadata_dev), wanted.metadata_bytes)?;
        }
        super::thin::ThinPool::create(&wanted)
    })();
    if let Err(e) = built {
        remove_pool_everywhere(state, pool_lock, settings, loop_dir.as_deref())?;
        state.write(pool_lock, |tx| {
            tx.finish_intent(intent.id, IntentOutcome::RolledBack)
        })?;
        return Err(e);
    }
    state.write(pool_lock, |tx| {
        tx.insert_pool(&wanted)?;
        tx.finish_intent(intent.id, IntentOutcome::Done)
    })?;
    Ok(PoolCreated {
        pool: wanted,
        reconciled,
        changed: true,
    })
}

#[cfg(target_os = "linux")]
fn make_sparse(path: &Path, size: u64) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| PmError::io(format!("cannot create {}", dir.display()), e))?;
    }
    // A fresh, all-zero file: the pool's metadata must not start with old data.
    let file = std::fs::File::create(path)
        .map_err(|e| PmError::io(format!("cannot create {}", path.display()), e))?;
    file.set_len(size)
        .map_err(|e| PmError::io(format!("cannot size {}", path.display()), e))?;
    Ok(())
}

/// The result of `pm pool destroy`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PoolDestroyed {
    pub name: String,
    pub removed_activations: usize,
    pub removed_volumes: usize,
    pub reconciled: Vec<Repair>,
    pub changed: bool,
}

/// Destroys the pool, under the pool lock; refuses while activations exist
/// unless `force`.
pub fn destroy_pool(
    state: &mut State,
    pool_lock: &dyn Held,
    settings: &PoolSettings,
    force: bool,
) -> Result<PoolDestroyed> {
    let Some(record) = state.pool(&settings.name)? else {
        return Ok(nothing_to_destroy(settings));
    };
    let reconciled = reconcile::reconcile(state, pool_lock, settings)?;
    let (activations, volumes) = thin_users(state, force)?;
    let loop_dir = loop_dir_of(&record);
    let intent = begin_pool_intent(state, pool_lock, IntentOp::DestroyPool, loop_dir.as_deref())?;
    remove_pool_everywhere(state, pool_lock, settings, loop_dir.as_deref())?;
    state.write(pool_lock, |tx| {
        tx.finish_intent(intent.id, IntentOutcome::Done)
    })?;
    Ok(PoolDestroyed {
        name: settings.name.clone(),
        removed_activations: activations,
        removed_volumes: volumes,
        reconciled,
        changed: true,
    })
}

/// What `destroy_pool` would do, touching nothing (`--dry-run`).
pub fn predict_destroy(db: &Reader, settings: &PoolSettings, force: bool) -> Result<PoolDestroyed> {
    if db.pool(&settings.name)?.is_none() {
        return Ok(nothing_to_destroy(settings));
    }
    let (activations, volumes) = thin_users(db, force)?;
    Ok(PoolDestroyed {
        name: settings.name.clone(),
        removed_activations: activations,
        removed_volumes: volumes,
        reconciled: Vec::new(),
        changed: true,
    })
}

fn nothing_to_destroy(settings: &PoolSettings) -> PoolDestroyed {
    PoolDestroyed {
        name: settings.name.clone(),
        removed_activations: 0,
        removed_volumes: 0,
        reconciled: Vec::new(),
        changed: false,
    }
}

/// The thin activations and volumes on the pool; activations refuse the
/// destruction unless `force`.
fn thin_users(db: &Reader, force: bool) -> Result<(usize, usize)> {
    let thin = |b: BackendKind| b == BackendKind::Thin;
    let activations = db
        .activations()?
        .into_iter()
        .filter(|a| thin(a.backend))
        .count();
    let volumes = db
        .volumes()?
        .into_iter()
        .filter(|v| thin(v.backend))
        .count();
    if activations > 0 && !force {
        return Err(PmError::PoolInUse { activations }.into());
    }
    Ok((activations, volumes))
}

/// A thin device the kernel has, and what state says it is.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ThinDevice {
    pub thin_id: i64,
    pub name: String,
    pub known_as: Option<String>,
}

/// The result of `pm pool status` (read-only: mismatches are reported, and
/// repaired by the next mutating pool or activation command).
#[derive(Debug, Serialize, JsonSchema)]
pub struct PoolStatus {
    pub pool: PoolRecord,
    pub active_in_kernel: bool,
    #[cfg(target_os = "linux")]
    pub usage: Option<super::thin::PoolUsage>,
    pub thin_devices: Vec<ThinDevice>,
    pub activations: usize,
    pub mismatches: Vec<String>,
}

#[cfg(target_os = "linux")]
pub fn pool_status(db: &Reader, settings: &PoolSettings) -> Result<PoolStatus> {
    use super::thin;
    let record = db.pool(&settings.name)?.ok_or(PmError::NoPool)?;
    let dm = thin::open_dm()?;
    let view = thin::kernel_view(&dm, &settings.name)?;
    let known = reconcile::known_thin_ids(db)?;
    let mut mismatches = Vec::new();
    let usage = if view.pool_active {
        Some(thin::ThinPool::open(&record)?.usage()?)
    } else {
        mismatches.push(format!(
            "the pool {}-pool is in state but not in the kernel",
            record.name
        ));
        None
    };
    let thin_devices: Vec<ThinDevice> = view
        .thins
        .iter()
        .map(|(id, name)| ThinDevice {
            thin_id: *id,
            name: name.clone(),
            known_as: known.get(id).map(|k| k.what.clone()),
        })
        .collect();
    for d in &thin_devices {
        if d.known_as.is_none() {
            mismatches.push(format!("{} is in the kernel but not in state", d.name));
        }
    }
    for (id, thin) in &known {
        if !view.thins.contains_key(id) {
            mismatches.push(format!(
                "{} (thin id {id}) is in state but not in the kernel",
                thin.what
            ));
        }
    }
    for intent in db.open_intents()? {
        mismatches.push(format!(
            "interrupted {} (intent {})",
            intent.op.as_str(),
            intent.id
        ));
    }
    let activations = db
        .activations()?
        .iter()
        .filter(|a| a.backend == BackendKind::Thin)
        .count();
    Ok(PoolStatus {
        pool: record,
        active_in_kernel: view.pool_active,
        usage,
        thin_devices,
        activations,
        mismatches,
    })
}

#[cfg(not(target_os = "linux"))]
pub fn pool_status(db: &Reader, settings: &PoolSettings) -> Result<PoolStatus> {
    let _ = db.pool(&settings.name)?.ok_or(PmError::NoPool)?;
    Err(PmError::DeviceMapperUnavailable {
        reason: "not Linux".to_string(),
    }
    .into())
}

/// The directory holding a loop-backed pool's files (`None` for a pool on
/// block devices, whose devices pm must never delete).
fn loop_dir_of(record: &PoolRecord) -> Option<String> {
    record
        .loop_backed
        .then(|| {
            Path::new(&record.data_dev)
                .parent()
                .map(|p| p.display().to_string())
        })
        .flatten()
}

/// Journals a pool-wide transition before the kernel is touched.
fn begin_pool_intent(
    state: &mut State,
    pool_lock: &dyn Held,
    op: IntentOp,
    loop_dir: Option<&str>,
) -> Result<Intent> {
    state.write(pool_lock, |tx| {
        tx.begin_intent(
            op,
            BackendKind::Thin,
            IntentSpec {
                path: loop_dir,
                ..IntentSpec::default()
            },
        )
    })
}
