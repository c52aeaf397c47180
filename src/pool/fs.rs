//! Filesystems on thin volumes: mkfs, private mountpoints, and finding
//! mountpoints a crashed pm left behind.

use crate::error::PmError;
use crate::tool::{Tool, ToolError, ToolSpec};
use anyhow::Result;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
#[cfg(target_os = "linux")]
use {anyhow::Context as _, std::ffi::CString, std::os::unix::ffi::OsStrExt};

pub static MKFS_EXT4: ToolSpec = ToolSpec {
    name: "mkfs.ext4",
    log_name: "pool_mkfs",
    config_key: None,
    // e2fsprogs' own settings file, for hosts that tune it.
    env: &["MKE2FS_CONFIG"],
};

/// Lazy init makes mkfs take seconds even on a large volume; one that takes
/// minutes is stuck on its device (a thin pool out of space queues I/O), and
/// is killed rather than left to hang pm.
const MKFS_TIMEOUT: Duration = Duration::from_secs(300);

/// Where mkfs lives on every distribution, searched after `PATH`: cron and
/// some service managers run root with a `PATH` without the sbin folders.
const SBIN_DIRS: &str = "/usr/sbin:/sbin";

/// `mkfs.ext4` on a fresh thin volume; lazy init keeps it fast on a thin
/// device, where untouched blocks cost nothing.
pub fn mkfs_ext4(device: &Path, env: &BTreeMap<String, String>) -> Result<()> {
    let mkfs = Tool::locate(&MKFS_EXT4, "mkfs.ext4", &mkfs_env(env))
        .map_err(mkfs_error)?
        .with_timeout(MKFS_TIMEOUT);
    let run = mkfs
        .call([
            "-q",
            "-F",
            "-E",
            "lazy_itable_init=1,lazy_journal_init=1,nodiscard",
        ])
        .arg(device)
        .run_piped()
        .map_err(mkfs_error)?;
    if !run.succeeded() {
        // Its words stay in the debug log (the driver logged them).
        return Err(PmError::ToolFailed {
            tool: "mkfs.ext4".to_string(),
            message: format!("{} on {}", run.exit, device.display()),
        }
        .into());
    }
    Ok(())
}

/// pm's captured environment with the sbin folders appended to `PATH`
/// (cron's `PATH` has neither).
pub fn mkfs_env(env: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut env = env.clone();
    let path = match env.get("PATH") {
        Some(path) if !path.is_empty() => format!("{path}:{SBIN_DIRS}"),
        _ => SBIN_DIRS.to_string(),
    };
    env.insert("PATH".to_string(), path);
    env
}

/// A missing mkfs keeps its documented code, `tool_failed`, with the fix.
fn mkfs_error(e: ToolError) -> anyhow::Error {
    match e {
        ToolError::Missing { .. } | ToolError::CannotStart { .. } => PmError::ToolFailed {
            tool: "mkfs.ext4".to_string(),
            message: format!("cannot run it ({e}); install e2fsprogs"),
        }
        .into(),
        other => other.into(),
    }
}

/// Where pm mounts volumes while it fills them: one folder per thin id
/// under `<runtime dir>/mnt`, so stale ones are easy to find.
pub fn mount_dir(runtime: &Path, pool: &str, thin_id: i64) -> PathBuf {
    runtime.join("mnt").join(format!("{pool}-thin-{thin_id}"))
}

#[cfg(target_os = "linux")]
pub fn mount_ext4(device: &Path, target: &Path) -> Result<()> {
    std::fs::create_dir_all(target)
        .map_err(|e| PmError::io(format!("cannot create {}", target.display()), e))?;
    let dev = CString::new(device.as_os_str().as_bytes())?;
    let dir = CString::new(target.as_os_str().as_bytes())?;
    let fstype = CString::new("ext4")?;
    // SAFETY: NUL-terminated strings and no data argument.
    let rc = unsafe {
        libc::mount(
            dev.as_ptr(),
            dir.as_ptr(),
            fstype.as_ptr(),
            libc::MS_NOSUID | libc::MS_NODEV,
            std::ptr::null(),
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error())
            .with_context(|| format!("mounting {} on {}", device.display(), target.display()));
    }
    Ok(())
}

/// Unmounts (if mounted) and removes the mountpoint folder.
pub fn unmount_and_remove(target: &Path) -> Result<()> {
    if is_mountpoint(target)? {
        unmount(target)?;
    }
    match std::fs::remove_dir(target) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(PmError::io(format!("cannot remove {}", target.display()), e).into()),
    }
}

#[cfg(target_os = "linux")]
fn unmount(target: &Path) -> Result<()> {
    let dir = CString::new(target.as_os_str().as_bytes())?;
    // SAFETY: NUL-terminated path.
    if unsafe { libc::umount2(dir.as_ptr(), 0) } != 0 {
        let err = std::io::Error::last_os_error();
        // Busy (a process still inside): detach it lazily rather than leak it.
        // SAFETY: as above.
        if unsafe { libc::umount2(dir.as_ptr(), libc::MNT_DETACH) } != 0 {
            return Err(err).with_context(|| format!("unmounting {}", target.display()));
        }
    }
    Ok(())
}

/// Only thin volumes are mounted, and only on Linux: elsewhere `mounts_under`
/// finds nothing and this is never reached.
#[cfg(not(target_os = "linux"))]
fn unmount(target: &Path) -> Result<()> {
    anyhow::bail!("cannot unmount {} on this system", target.display())
}

/// Mountpoints currently mounted under `dir` (none where there is no
/// /proc/self/mountinfo).
pub fn mounts_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    Ok(text
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(|p| PathBuf::from(p.replace("\\040", " ")))
        .filter(|p| p.starts_with(dir))
        .collect())
}

fn is_mountpoint(target: &Path) -> Result<bool> {
    Ok(mounts_under(target)?.iter().any(|p| p == target))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::FileExt;

    /// mkfs.ext4 works on a plain file as on a device: the driver's pipes,
    /// deadline and translation are exercised without device-mapper.
    #[test]
    fn mkfs_makes_ext4_through_the_driver_and_keeps_its_words_out_of_errors() {
        let dir = tempfile::tempdir().unwrap();
        let image = dir.path().join("volume");
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&image)
            .unwrap();
        file.set_len(16 << 20).unwrap();
        mkfs_ext4(&image, &std::env::vars().collect()).unwrap();
        let mut magic = [0u8; 2];
        file.read_exact_at(&mut magic, 0x438).unwrap();
        assert_eq!(magic, [0x53, 0xef], "the ext4 superblock magic");

        let missing = dir.path().join("no-such-device");
        let err = mkfs_ext4(&missing, &std::env::vars().collect()).unwrap_err();
        let pm = err.downcast_ref::<PmError>().expect("a typed error");
        assert_eq!(pm.code(), "tool_failed");
        let message = format!("{err:#}");
        assert!(message.contains("exit code"), "{message}");
        assert!(
            !message.contains("does not exist"),
            "mkfs's own words reached the error: {message}"
        );
    }
}
