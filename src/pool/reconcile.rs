//! Reconciliation: bringing state and the kernel (or the volume folders)
//! back into agreement at the start of every pool and activation command.
//!
//! - An open intent means pm stopped between announcing a change and
//!   recording its result. Creations are rolled back (their device or
//!   folder removed, their thin id deleted from the pool — the id itself is
//!   never handed out again); removals and pool destruction are finished.
//! - Mountpoints left under pm's private mount folder are unmounted.
//! - A pool in state but not in the kernel (after a reboot) is set up again,
//!   and so are the thin devices of its volumes and activations.
//! - Thin devices under pm's prefix that state does not know are removed.
//! - `.partial` folders of the dir backend are removed.
//!
//! Each repair is reported, so the command can say what it did.

use super::{BackendKind, PoolSettings, dir, fs};
use crate::lock::Held;
use crate::state::{Intent, IntentOp, IntentOutcome, Reader, State};
use anyhow::Result;
use schemars::JsonSchema;
use serde::Serialize;
use std::path::Path;

/// One thing reconciliation did.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Repair {
    pub action: String,
    pub subject: String,
}

fn repair(action: &str, subject: impl Into<String>) -> Repair {
    let r = Repair {
        action: action.to_string(),
        subject: subject.into(),
    };
    tracing::info!(action = %r.action, subject = %r.subject, "reconcile_repair");
    r
}

/// Reconciles everything this pool and the dir backend own.
/// Runs under the pool lock (`pool_lock`), so it never sees another live
/// command's intents.
pub fn reconcile(
    state: &mut State,
    pool_lock: &dyn Held,
    settings: &PoolSettings,
) -> Result<Vec<Repair>> {
    let mut done = Vec::new();
    for mount in fs::mounts_under(&settings.runtime_dir.join("mnt"))? {
        let ours = mount
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with(&format!("{}-thin-", settings.name)));
        if ours {
            fs::unmount_and_remove(&mount)?;
            done.push(repair(
                "unmounted_stale_mountpoint",
                mount.display().to_string(),
            ));
        }
    }
    let dm_usable = device_mapper_usable();
    for intent in state.open_intents()? {
        if intent.backend == BackendKind::Thin && !dm_usable {
            // Left open for a run that can reach the kernel; dir work goes on.
            tracing::warn!(
                intent = intent.id,
                op = intent.op.as_str(),
                "reconcile_skipped_no_device_mapper"
            );
            continue;
        }
        finish_open_intent(state, pool_lock, settings, &intent)?;
        let outcome = if intent.op.is_creation() {
            IntentOutcome::RolledBack
        } else {
            IntentOutcome::Finished
        };
        state.write(pool_lock, |tx| tx.finish_intent(intent.id, outcome))?;
        done.push(repair(
            &format!("{}_{}", outcome.as_str(), intent.op.as_str()),
            intent
                .path
                .clone()
                .or(intent.digest.as_ref().map(ToString::to_string))
                .unwrap_or_default(),
        ));
    }
    done.extend(partial_folders(settings)?);
    #[cfg(target_os = "linux")]
    if dm_usable {
        done.extend(thin_kernel(state, settings)?);
    }
    Ok(done)
}

#[cfg(target_os = "linux")]
fn device_mapper_usable() -> bool {
    super::thin::available()
}

#[cfg(not(target_os = "linux"))]
fn device_mapper_usable() -> bool {
    false
}

/// Rolls back a creation or finishes a removal.
fn finish_open_intent(
    state: &mut State,
    pool_lock: &dyn Held,
    settings: &PoolSettings,
    intent: &Intent,
) -> Result<()> {
    match intent.op {
        IntentOp::CreatePool | IntentOp::DestroyPool => {
            super::remove_pool_everywhere(state, pool_lock, settings, intent.path.as_deref())
        }
        IntentOp::CreateBase | IntentOp::CreateSnapshot | IntentOp::RemoveActivation => {
            remove_backing(state, settings, intent)?;
            // After a creation a row can only exist if the result was
            // recorded, and then the intent would be closed; delete
            // defensively all the same.
            match &intent.activation {
                Some(id) => state.write(pool_lock, |tx| tx.remove_activation(id)),
                None => Ok(()),
            }
        }
        IntentOp::RemoveBase => {
            remove_backing(state, settings, intent)?;
            match &intent.digest {
                Some(digest) => {
                    state.write(pool_lock, |tx| tx.remove_volume(digest, intent.backend))
                }
                None => Ok(()),
            }
        }
    }
}

/// Removes what an intent's volume or activation occupies: the thin device
/// and id (and any mountpoint), or the folder and its `.partial`.
pub fn remove_backing(db: &Reader, settings: &PoolSettings, intent: &Intent) -> Result<()> {
    match intent.backend {
        BackendKind::Dir => {
            if let Some(path) = &intent.path {
                dir::remove_tree(&dir::partial(Path::new(path)))?;
                dir::remove_tree(Path::new(path))?;
            }
            Ok(())
        }
        BackendKind::Thin => {
            let Some(thin_id) = intent.thin_id else {
                return Ok(());
            };
            fs::unmount_and_remove(&fs::mount_dir(
                &settings.runtime_dir,
                &settings.name,
                thin_id,
            ))?;
            remove_thin_id(db, settings, thin_id)
        }
    }
}

#[cfg(target_os = "linux")]
fn remove_thin_id(db: &Reader, settings: &PoolSettings, thin_id: i64) -> Result<()> {
    let Some(record) = db.pool(&settings.name)? else {
        // No pool: nothing can hold the id any more.
        return Ok(());
    };
    let pool = super::thin::ThinPool::open(&record)?;
    pool.remove_thin(thin_id)
}

#[cfg(not(target_os = "linux"))]
fn remove_thin_id(_: &Reader, _: &PoolSettings, _: i64) -> Result<()> {
    Ok(())
}

/// `.partial` folders no open intent is working on (all intents are closed
/// by the time this runs).
fn partial_folders(settings: &PoolSettings) -> Result<Vec<Repair>> {
    let mut done = Vec::new();
    for folder in [
        dir::bases_dir(&settings.dir_root),
        dir::activations_dir(&settings.dir_root),
    ] {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "partial") {
                dir::remove_tree(&path)?;
                done.push(repair("removed_partial_folder", path.display().to_string()));
            }
        }
    }
    Ok(done)
}

/// The thin pool against the kernel: set up what state has and the kernel
/// lacks, remove what the kernel has under pm's prefix and state lacks.
#[cfg(target_os = "linux")]
fn thin_kernel(state: &Reader, settings: &PoolSettings) -> Result<Vec<Repair>> {
    use super::thin;
    let mut done = Vec::new();
    let Some(record) = state.pool(&settings.name)? else {
        return Ok(done);
    };
    let dm = thin::open_dm()?;
    let before = thin::kernel_view(&dm, &settings.name)?;
    let pool = thin::ThinPool::open(&record)?;
    if !before.pool_active {
        done.push(repair(
            "set_up_pool_again",
            format!("{}-pool", settings.name),
        ));
    }
    let known = known_thin_ids(state)?;
    for (id, name) in &before.thins {
        if !known.contains_key(id) {
            pool.remove_thin(*id)?;
            done.push(repair("removed_orphan_thin_device", name.clone()));
        }
    }
    for (id, thin) in &known {
        if !before.thins.contains_key(id) {
            pool.activate_thin(*id, thin.virtual_size)?;
            done.push(repair(
                "reactivated_thin_device",
                thin::thin_name(&settings.name, *id),
            ));
        }
    }
    Ok(done)
}

/// A thin device state knows of.
#[cfg(target_os = "linux")]
pub struct KnownThin {
    pub what: String,
    /// Its size in bytes: a snapshot has its base's.
    pub virtual_size: u64,
}

/// Thin ids of recorded volumes and activations → what they are.
#[cfg(target_os = "linux")]
pub fn known_thin_ids(db: &Reader) -> Result<std::collections::BTreeMap<i64, KnownThin>> {
    let mut known = std::collections::BTreeMap::new();
    let volumes = db.volumes()?;
    for v in &volumes {
        if let Some(id) = v.thin_id {
            known.insert(
                id,
                KnownThin {
                    what: format!("base of {}", v.digest),
                    virtual_size: v.virtual_size,
                },
            );
        }
    }
    for a in db.activations()? {
        if let Some(id) = a.snapshot_id {
            let base = volumes
                .iter()
                .find(|v| v.digest == a.image && v.thin_id.is_some());
            known.insert(
                id,
                KnownThin {
                    what: format!("activation {} ({})", a.name, a.id),
                    virtual_size: base.map_or(0, |v| v.virtual_size),
                },
            );
        }
    }
    Ok(known)
}
