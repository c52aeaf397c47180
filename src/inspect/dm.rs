//! Device-mapper support (the control node, the thin-pool target, udev) and
//! the kernel's view of pm's pool, through query ioctls only: listing
//! devices, target versions and a table's status. Nothing here creates,
//! loads, reloads or removes a device, and no call waits for udev.

use schemars::JsonSchema;
use serde::Serialize;

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct DmFacts {
    /// Whether pm could use the thin backend here (`problem` says why not).
    pub usable: bool,
    /// `/dev/mapper/control` exists.
    pub control_node: bool,
    /// The kernel lists device-mapper in `/proc/misc` (`null`: unknown).
    pub in_kernel: Option<bool>,
    /// `loaded`, `loadable` (a module the kernel loads on first use),
    /// `missing`, or `unknown` (targets cannot be listed without root).
    pub thin_pool_target: &'static str,
    /// Loaded targets with their versions (`thin-pool 1.23.0`), when listable.
    pub targets: Vec<String>,
    pub udev: Udev,
    pub problem: Option<String>,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Udev {
    /// `/run/udev/control` exists: the devicemapper crate then waits for
    /// udev on every change, forever if no udevd answers.
    pub control_socket: bool,
    pub daemon_running: bool,
}

/// The pool as the kernel has it.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct KernelPool {
    pub active: bool,
    /// Devices named `<pool>-thin-<id>`.
    pub thin_devices: usize,
    pub usage: Option<PoolUsage>,
}

/// A thin pool's usage from its status line (dm-thin's documentation).
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[schemars(rename = "KernelPoolUsage")]
pub struct PoolUsage {
    pub data_percent: f64,
    pub metadata_percent: f64,
    pub data_used_blocks: u64,
    pub data_total_blocks: u64,
    pub metadata_used_blocks: u64,
    pub metadata_total_blocks: u64,
    /// Data block size from the pool's table.
    pub block_bytes: Option<u64>,
    /// `good`, `read_only`, `out_of_space`, `error` or `failed`.
    pub health: String,
    pub needs_check: bool,
}

pub fn percent(used: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        (used as f64) * 100.0 / (total as f64)
    }
}

#[cfg(not(target_os = "linux"))]
pub fn probe() -> DmFacts {
    DmFacts {
        usable: false,
        control_node: false,
        in_kernel: None,
        thin_pool_target: "unknown",
        targets: Vec::new(),
        udev: Udev {
            control_socket: false,
            daemon_running: false,
        },
        problem: Some("device-mapper exists only on Linux".to_string()),
    }
}

#[cfg(not(target_os = "linux"))]
pub fn kernel_pool(_name: &str) -> anyhow::Result<KernelPool> {
    anyhow::bail!("device-mapper exists only on Linux")
}

#[cfg(target_os = "linux")]
pub use linux::{kernel_pool, probe};

#[cfg(target_os = "linux")]
mod linux {
    use super::*;
    use anyhow::{Context as _, Result};
    use devicemapper::{DM, DevId, DmFlags, DmName, DmOptions, ThinPoolStatus};
    use std::path::Path;
    use std::str::FromStr;

    pub fn probe() -> DmFacts {
        let control_node = Path::new("/dev/mapper/control").exists();
        let in_kernel = std::fs::read_to_string("/proc/misc").ok().map(|t| {
            t.lines()
                .any(|l| l.split_whitespace().nth(1) == Some("device-mapper"))
        });
        let udev = Udev {
            control_socket: Path::new("/run/udev/control").exists(),
            daemon_running: udevd_running(),
        };
        let listed = if control_node {
            loaded_targets().map_err(|e| format!("{e:#}"))
        } else {
            Err("/dev/mapper/control does not exist".to_string())
        };
        let targets = listed.clone().unwrap_or_default();
        let thin_pool_target = thin_target_state(&targets, listed.is_ok());
        let problem = if !control_node {
            Some("/dev/mapper/control does not exist: this kernel has no dm-mod".to_string())
        } else if udev.control_socket && !udev.daemon_running {
            Some("/run/udev/control exists but no udevd is running: device changes would wait forever".to_string())
        } else if let Err(why) = &listed {
            Some(format!(
                "cannot talk to device-mapper ({why}); pm needs root for it"
            ))
        } else if thin_pool_target == "missing" {
            Some("the thin-pool target is neither loaded nor available as a module".to_string())
        } else {
            None
        };
        DmFacts {
            usable: problem.is_none(),
            control_node,
            in_kernel,
            thin_pool_target,
            targets: targets.iter().map(|(n, v)| format!("{n} {v}")).collect(),
            udev,
            problem,
        }
    }

    fn loaded_targets() -> Result<Vec<(String, String)>> {
        let dm = DM::new().context("opening /dev/mapper/control")?;
        let versions = dm.list_versions().context("listing targets")?;
        Ok(versions
            .into_iter()
            .map(|(name, a, b, c)| (name, format!("{a}.{b}.{c}")))
            .collect())
    }

    /// The kernel registers a built-in or loaded target at once; a module
    /// in `modules.dep` is loaded on first use (request_module).
    fn thin_target_state(targets: &[(String, String)], listed: bool) -> &'static str {
        if targets.iter().any(|(n, _)| n == "thin-pool")
            || Path::new("/sys/module/dm_thin_pool").exists()
        {
            return "loaded";
        }
        let release = crate::inspect::host::kernel_release();
        let deps = std::fs::read_to_string(format!("/lib/modules/{release}/modules.dep"));
        match deps {
            Ok(text) if text.contains("dm-thin-pool.ko") => "loadable",
            _ if listed => "missing",
            _ => "unknown",
        }
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

    pub fn kernel_pool(name: &str) -> Result<KernelPool> {
        let dm = DM::new().context("opening /dev/mapper/control")?;
        let names: Vec<String> = dm
            .list_devices()
            .context("listing device-mapper devices")?
            .into_iter()
            .map(|(n, _, _)| n.to_string())
            .collect();
        let pool_name = format!("{name}-pool");
        let thin_prefix = format!("{name}-thin-");
        let active = names.contains(&pool_name);
        let usage = if active {
            Some(pool_usage(&dm, &pool_name)?)
        } else {
            None
        };
        Ok(KernelPool {
            active,
            thin_devices: names.iter().filter(|n| n.starts_with(&thin_prefix)).count(),
            usage,
        })
    }

    fn pool_usage(dm: &DM, pool_name: &str) -> Result<PoolUsage> {
        let dm_name = DmName::new(pool_name).map_err(|e| anyhow::anyhow!("{pool_name}: {e}"))?;
        let id = DevId::Name(dm_name);
        let (_, status) = dm
            .table_status(&id, DmOptions::default())
            .with_context(|| format!("reading the status of {pool_name}"))?;
        let line = status
            .first()
            .map(|(_, _, _, params)| params.clone())
            .ok_or_else(|| anyhow::anyhow!("{pool_name} has no table"))?;
        let mut usage = usage_from_status(&line)?;
        let table = dm
            .table_status(
                &id,
                DmOptions::default().set_flags(DmFlags::DM_STATUS_TABLE),
            )
            .ok();
        usage.block_bytes = table.and_then(|(_, t)| block_bytes_from_table(&t.first()?.3));
        Ok(usage)
    }

    pub fn usage_from_status(line: &str) -> Result<PoolUsage> {
        let status = ThinPoolStatus::from_str(line)
            .map_err(|e| anyhow::anyhow!("cannot read the pool status {line:?}: {e}"))?;
        let working = match status {
            ThinPoolStatus::Working(w) => w,
            ThinPoolStatus::Error => return Ok(broken("error")),
            ThinPoolStatus::Fail => return Ok(broken("failed")),
        };
        let u = &working.usage;
        Ok(PoolUsage {
            data_percent: percent(u.used_data.0, u.total_data.0),
            metadata_percent: percent(u.used_meta.0, u.total_meta.0),
            data_used_blocks: u.used_data.0,
            data_total_blocks: u.total_data.0,
            metadata_used_blocks: u.used_meta.0,
            metadata_total_blocks: u.total_meta.0,
            block_bytes: None,
            health: health_word(&format!("{:?}", working.summary)),
            needs_check: working.needs_check,
        })
    }

    fn broken(health: &str) -> PoolUsage {
        PoolUsage {
            data_percent: 0.0,
            metadata_percent: 0.0,
            data_used_blocks: 0,
            data_total_blocks: 0,
            metadata_used_blocks: 0,
            metadata_total_blocks: 0,
            block_bytes: None,
            health: health.to_string(),
            needs_check: true,
        }
    }

    /// `Good` → `good`, `ReadOnly` → `read_only`, `OutOfSpace` → `out_of_space`.
    fn health_word(debug: &str) -> String {
        let mut out = String::new();
        for (i, c) in debug.chars().enumerate() {
            if c.is_uppercase() && i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        }
        out
    }

    /// `<meta dev> <data dev> <data block size in sectors> <low water> ...`
    fn block_bytes_from_table(params: &str) -> Option<u64> {
        let sectors: u64 = params.split_whitespace().nth(2)?.parse().ok()?;
        Some(sectors * 512)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn a_pool_status_line_gives_usage_and_health() {
            let u = usage_from_status(
                "1 20/256 410/1000 - rw discard_passdown queue_if_no_space - 1024",
            )
            .unwrap();
            assert_eq!((u.data_used_blocks, u.data_total_blocks), (410, 1000));
            assert!((u.data_percent - 41.0).abs() < 1e-9);
            assert!((u.metadata_percent - 20.0 * 100.0 / 256.0).abs() < 1e-9);
            assert_eq!(u.health, "good");
            assert_eq!(usage_from_status("Fail").unwrap().health, "failed");
            assert_eq!(
                block_bytes_from_table("253:0 253:1 128 0 1 skip_block_zeroing"),
                Some(65536)
            );
        }
    }
}
