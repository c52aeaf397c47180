//! The thin backend's kernel side: a device-mapper thin pool, its thin
//! volumes and snapshots, through the `devicemapper` crate's ioctls.
//!
//! Names are `<pool>-meta`, `<pool>-data` (linear devices over the given
//! block devices or loop devices), `<pool>-pool` and `<pool>-thin-<id>`, so
//! every device pm made can be recognised — and its thin id read back — by
//! name alone when reconciling after a crash. This module does no
//! bookkeeping: the journal in `pool::mod` decides what to call and when.

use super::PoolRecord;
use super::loopdev;
use crate::error::PmError;
use anyhow::{Context as _, Result};
use devicemapper::{
    DM, DataBlocks, DevId, Device, DmDevice, DmError, DmName, DmOptions, DmUuid, LinearDev,
    LinearDevTargetParams, LinearTargetParams, Sectors, TargetLine, ThinDev, ThinDevId,
    ThinPoolDev, ThinPoolStatus,
};
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// udev may hold a device for a moment after use; removal retries this often.
const BUSY_ATTEMPTS: u32 = 10;
const BUSY_PAUSE: Duration = Duration::from_millis(100);
const SECTOR: u64 = 512;
/// Thin ids are 24-bit in the kernel's metadata.
pub const MAX_THIN_ID: i64 = (1 << 24) - 1;

/// Opens the device-mapper control device, or says why it cannot.
pub fn open_dm() -> Result<DM> {
    if !Path::new("/dev/mapper/control").exists() {
        return Err(PmError::DeviceMapperUnavailable {
            reason: "/dev/mapper/control does not exist".to_string(),
        }
        .into());
    }
    // The crate waits for udev whenever this socket exists; with no udevd
    // behind it that wait never ends, so refuse instead of hanging.
    if Path::new("/run/udev/control").exists() && !udevd_running() {
        return Err(PmError::DeviceMapperUnavailable {
            reason: "/run/udev/control exists but no udevd is running".to_string(),
        }
        .into());
    }
    DM::new().map_err(|e| {
        PmError::DeviceMapperUnavailable {
            reason: e.to_string(),
        }
        .into()
    })
}

/// Whether device-mapper can be used here (for `--backend auto`).
pub fn available() -> bool {
    open_dm().is_ok()
}

fn udevd_running() -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return false;
    };
    entries.flatten().any(|e| {
        std::fs::read_to_string(e.path().join("comm"))
            .map(|c| matches!(c.trim(), "systemd-udevd" | "udevd"))
            .unwrap_or(false)
    })
}

pub fn thin_name(pool: &str, id: i64) -> String {
    format!("{pool}-thin-{id}")
}

/// `ThinDev::new` or `ThinDev::setup`.
type ThinDevFn = fn(
    &DM,
    &DmName,
    Option<&DmUuid>,
    Sectors,
    &ThinPoolDev,
    ThinDevId,
) -> std::result::Result<ThinDev, DmError>;

fn dm_name(name: &str) -> Result<&DmName> {
    DmName::new(name).map_err(|e| anyhow::anyhow!("bad device-mapper name {name:?}: {e}"))
}

/// The thin id in a `<pool>-thin-<id>` name.
pub fn thin_id_of(pool: &str, name: &str) -> Option<i64> {
    name.strip_prefix(pool)?
        .strip_prefix("-thin-")?
        .parse()
        .ok()
}

/// Whether a dm error is EBUSY (the only one worth retrying).
fn is_busy(err: &DmError) -> bool {
    match err {
        DmError::Core(devicemapper::errors::Error::Ioctl(_, _, _, errno)) => {
            **errno as i32 == libc::EBUSY
        }
        _ => false,
    }
}

/// Runs `op`, retrying a bounded number of times on EBUSY only.
fn retry_busy<T>(what: &str, mut op: impl FnMut() -> Result<T, DmError>) -> Result<T> {
    for attempt in 1..=BUSY_ATTEMPTS {
        match op() {
            Ok(v) => return Ok(v),
            Err(e) if is_busy(&e) && attempt < BUSY_ATTEMPTS => {
                tracing::debug!(what, attempt, "dm_busy_retry");
                std::thread::sleep(BUSY_PAUSE);
            }
            Err(e) if is_busy(&e) => {
                return Err(PmError::DeviceBusy {
                    what: what.to_string(),
                    attempts: BUSY_ATTEMPTS,
                }
                .into());
            }
            Err(e) => return Err(anyhow::Error::new(e).context(what.to_string())),
        }
    }
    unreachable!("the loop returns on its last attempt")
}

/// What the kernel holds under a pool's prefix.
#[derive(Debug, Default)]
pub struct KernelView {
    pub pool_active: bool,
    /// thin id → dm name.
    pub thins: BTreeMap<i64, String>,
    /// Other names with the prefix (meta, data, strays).
    pub others: Vec<String>,
}

pub fn kernel_view(dm: &DM, pool: &str) -> Result<KernelView> {
    let mut view = KernelView::default();
    let pool_name = format!("{pool}-pool");
    for (name, _, _) in dm.list_devices().context("listing device-mapper devices")? {
        let name = name.to_string();
        if name == pool_name {
            view.pool_active = true;
        } else if let Some(id) = thin_id_of(pool, &name) {
            view.thins.insert(id, name);
        } else if name.starts_with(&format!("{pool}-")) {
            view.others.push(name);
        }
    }
    Ok(view)
}

/// Usage numbers of a pool, as the kernel reports them.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct PoolUsage {
    pub block_bytes: u64,
    pub data_used_blocks: u64,
    pub data_total_blocks: u64,
    pub data_percent: f64,
    pub metadata_used_blocks: u64,
    pub metadata_total_blocks: u64,
    pub metadata_percent: f64,
    pub health: String,
}

/// A live pool.
pub struct ThinPool {
    pub dm: DM,
    pub dev: ThinPoolDev,
    pub name: String,
}

fn linear_over(dm: &DM, name: &str, device: libc::dev_t, bytes: u64) -> Result<LinearDev> {
    let params = LinearTargetParams::new(Device::from(device), Sectors(0));
    let line = TargetLine::new(
        Sectors(0),
        Sectors(bytes / SECTOR),
        LinearDevTargetParams::Linear(params),
    );
    LinearDev::setup(dm, dm_name(name)?, None, vec![line])
        .with_context(|| format!("setting up linear device {name}"))
}

/// A device number and its size in bytes.
type DeviceSize = (libc::dev_t, u64);

/// The device number and size of the pool's metadata and data devices,
/// attaching loop devices for file-backed pools. The loop handles must be
/// kept until the linear devices hold the loops (autoclear).
fn backing_devices(record: &PoolRecord) -> Result<(Vec<loopdev::LoopDevice>, [DeviceSize; 2])> {
    let mut held = Vec::new();
    let mut out = [(0, 0); 2];
    for (slot, path) in [&record.metadata_dev, &record.data_dev]
        .into_iter()
        .enumerate()
    {
        let path = Path::new(path);
        out[slot] = if record.loop_backed {
            let device = loopdev::attach(path)?;
            let info = loopdev::block_device_info(&device.path)?;
            held.push(device);
            info
        } else {
            loopdev::block_device_info(path)?
        };
    }
    Ok((held, out))
}

fn pool_table_parts(
    dm: &DM,
    record: &PoolRecord,
) -> Result<(LinearDev, LinearDev, Vec<loopdev::LoopDevice>)> {
    let (held, [(meta_dev, meta_bytes), (data_dev, data_bytes)]) = backing_devices(record)?;
    let meta = linear_over(dm, &format!("{}-meta", record.name), meta_dev, meta_bytes)?;
    let data = linear_over(dm, &format!("{}-data", record.name), data_dev, data_bytes)?;
    Ok((meta, data, held))
}

fn features() -> Vec<String> {
    // The metadata is on a fresh device and images are unpacked whole, so
    // zeroing new blocks first would only cost time.
    vec!["skip_block_zeroing".to_string()]
}

impl ThinPool {
    /// Creates a fresh pool (the metadata device must start zeroed).
    pub fn create(record: &PoolRecord) -> Result<ThinPool> {
        let dm = open_dm()?;
        let dev = {
            let (meta, data, _held) = pool_table_parts(&dm, record)?;
            zero_start(&meta.devnode())?;
            ThinPoolDev::new(
                &dm,
                dm_name(&format!("{}-pool", record.name))?,
                None,
                meta,
                data,
                Sectors(record.block_sectors),
                DataBlocks(record.low_water),
                features(),
            )
            .context("creating the thin pool")?
        };
        Ok(ThinPool {
            dev,
            dm,
            name: record.name.clone(),
        })
    }

    /// Attaches to the pool, setting it up again from its devices when the
    /// kernel no longer has it (after a reboot).
    pub fn open(record: &PoolRecord) -> Result<ThinPool> {
        let dm = open_dm()?;
        let pool_name = format!("{}-pool", record.name);
        let dev = {
            let (meta, data, _held) = if devicemapper::device_exists(&dm, dm_name(&pool_name)?)? {
                let (meta, data) = existing_parts(&dm, record)?;
                (meta, data, Vec::new())
            } else {
                pool_table_parts(&dm, record)?
            };
            ThinPoolDev::setup(
                &dm,
                dm_name(&pool_name)?,
                None,
                meta,
                data,
                Sectors(record.block_sectors),
                DataBlocks(record.low_water),
                features(),
            )
            .context("setting up the thin pool")?
        };
        Ok(ThinPool {
            dev,
            dm,
            name: record.name.clone(),
        })
    }

    pub fn usage(&self) -> Result<PoolUsage> {
        let status = self
            .dev
            .status(&self.dm, DmOptions::default())
            .context("reading the pool status")?;
        let block_bytes = self.dev.data_block_size().0 * SECTOR;
        match status {
            ThinPoolStatus::Working(w) => {
                let u = &w.usage;
                Ok(PoolUsage {
                    block_bytes,
                    data_used_blocks: u.used_data.0,
                    data_total_blocks: u.total_data.0,
                    data_percent: percent(u.used_data.0, u.total_data.0),
                    metadata_used_blocks: u.used_meta.0,
                    metadata_total_blocks: u.total_meta.0,
                    metadata_percent: percent(u.used_meta.0, u.total_meta.0),
                    health: format!("{:?}", w.summary).to_lowercase(),
                })
            }
            ThinPoolStatus::Error => Err(anyhow::anyhow!(
                "the kernel could not report the pool status"
            )),
            ThinPoolStatus::Fail => Err(anyhow::anyhow!("the thin pool has failed")),
        }
    }

    fn thin_length(bytes: u64) -> Sectors {
        Sectors(bytes / SECTOR)
    }

    /// Creates a new thin volume with this id and activates it.
    pub fn create_thin(&self, id: i64, bytes: u64) -> Result<PathBuf> {
        self.thin_device(id, bytes, ThinDev::new, "creating")
    }

    /// Activates an existing thin volume (idempotent).
    pub fn activate_thin(&self, id: i64, bytes: u64) -> Result<PathBuf> {
        self.thin_device(id, bytes, ThinDev::setup, "activating")
    }

    /// `ThinDev::new` (send `create_thin` to the pool, then activate) and
    /// `ThinDev::setup` (activate what the pool already has) take the same
    /// arguments; only the verb in the error differs.
    fn thin_device(&self, id: i64, bytes: u64, make: ThinDevFn, doing: &str) -> Result<PathBuf> {
        let name = thin_name(&self.name, id);
        let dev = make(
            &self.dm,
            dm_name(&name)?,
            None,
            Self::thin_length(bytes),
            &self.dev,
            thin_id(id)?,
        )
        .with_context(|| format!("{doing} thin volume {name}"))?;
        Ok(dev.devnode())
    }

    /// Takes a snapshot of an (active) origin under a new id, and activates it.
    pub fn snapshot(&self, origin: i64, id: i64, bytes: u64) -> Result<PathBuf> {
        let origin_name = thin_name(&self.name, origin);
        let origin_dev = ThinDev::setup(
            &self.dm,
            dm_name(&origin_name)?,
            None,
            Self::thin_length(bytes),
            &self.dev,
            thin_id(origin)?,
        )
        .with_context(|| format!("activating thin volume {origin_name}"))?;
        let name = thin_name(&self.name, id);
        let snap = origin_dev
            .snapshot(&self.dm, dm_name(&name)?, None, &self.dev, thin_id(id)?)
            .with_context(|| format!("snapshotting {origin_name} as {name}"))?;
        Ok(snap.devnode())
    }

    /// Removes the dm device of a thin id (if active) and deletes the id
    /// from the pool's metadata (if present). Safe to repeat.
    pub fn remove_thin(&self, id: i64) -> Result<()> {
        let name = thin_name(&self.name, id);
        let dm_name = dm_name(&name)?;
        if devicemapper::device_exists(&self.dm, dm_name)? {
            retry_busy(&format!("removing {name}"), || {
                self.dm
                    .device_remove(&DevId::Name(dm_name), DmOptions::default())
                    .map(|_| ())
            })?;
        }
        let message = format!("delete {id}");
        match devicemapper::message(&self.dm, &self.dev, &message) {
            Ok(()) => Ok(()),
            // The id was never created, or already deleted.
            Err(DmError::Core(devicemapper::errors::Error::Ioctl(_, _, _, errno)))
                if *errno as i32 == libc::ENODATA =>
            {
                Ok(())
            }
            Err(e) => Err(anyhow::Error::new(e).context(format!("deleting thin id {id}"))),
        }
    }

    /// Tears down the pool and its linear devices; thin devices must be gone.
    pub fn teardown(mut self) -> Result<()> {
        let name = self.name.clone();
        let dm = &self.dm;
        retry_busy(&format!("removing pool {name}"), || self.dev.teardown(dm))
    }
}

/// Removes every dm device under the prefix, thin devices first (used by
/// `pool destroy` and to roll back a half-created pool).
pub fn remove_all_named(dm: &DM, pool: &str) -> Result<()> {
    let view = kernel_view(dm, pool)?;
    let mut names: Vec<String> = view.thins.into_values().collect();
    if view.pool_active {
        names.push(format!("{pool}-pool"));
    }
    names.extend(view.others);
    for name in names {
        let n = dm_name(&name)?;
        retry_busy(&format!("removing {name}"), || {
            dm.device_remove(&DevId::Name(n), DmOptions::default())
                .map(|_| ())
        })?;
    }
    Ok(())
}

fn existing_parts(dm: &DM, record: &PoolRecord) -> Result<(LinearDev, LinearDev)> {
    // The linear devices exist: rebuild the same tables from the kernel's.
    let mut parts = Vec::new();
    for suffix in ["meta", "data"] {
        let name = format!("{}-{suffix}", record.name);
        let n = dm_name(&name)?;
        let device = dm
            .table_deps(&DevId::Name(n), DmOptions::default())
            .with_context(|| format!("reading the devices under {name}"))?
            .first()
            .copied()
            .ok_or_else(|| anyhow::anyhow!("{name} has no underlying device"))?;
        let (_, table) = dm
            .table_status(&DevId::Name(n), DmOptions::default())
            .with_context(|| format!("reading the table of {name}"))?;
        let sectors: u64 = table.iter().map(|(_, len, _, _)| *len).sum();
        let params = LinearTargetParams::new(device, Sectors(0));
        let line = TargetLine::new(
            Sectors(0),
            Sectors(sectors),
            LinearDevTargetParams::Linear(params),
        );
        parts.push(LinearDev::setup(dm, n, None, vec![line])?);
    }
    let data = parts.pop().expect("two parts were pushed");
    let meta = parts.pop().expect("two parts were pushed");
    Ok((meta, data))
}

fn thin_id(id: i64) -> Result<ThinDevId> {
    ThinDevId::new_u64(id as u64).map_err(|e| anyhow::anyhow!("thin id {id}: {e}"))
}

fn percent(used: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        (used as f64) * 100.0 / (total as f64)
    }
}

/// Zeroes the first 4 KiB: a new pool must not find old metadata there.
fn zero_start(device: &Path) -> Result<()> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(device)
        .with_context(|| format!("cannot open {}", device.display()))?;
    file.write_all(&[0u8; 4096])?;
    file.sync_all()?;
    Ok(())
}
