//! Filesystems on thin volumes: mkfs, private mountpoints, and finding
//! mountpoints a crashed pm left behind.

use crate::error::PmError;
use anyhow::Result;
use std::path::{Path, PathBuf};
use std::process::Command;
#[cfg(target_os = "linux")]
use {anyhow::Context as _, std::ffi::CString, std::os::unix::ffi::OsStrExt};

/// `mkfs.ext4` on a fresh thin volume; lazy init keeps it fast on a thin
/// device, where untouched blocks cost nothing.
pub fn mkfs_ext4(device: &Path) -> Result<()> {
    let out = Command::new("mkfs.ext4")
        .args([
            "-q",
            "-F",
            "-E",
            "lazy_itable_init=1,lazy_journal_init=1,nodiscard",
        ])
        .arg(device)
        .output()
        .map_err(|e| PmError::ToolFailed {
            tool: "mkfs.ext4".to_string(),
            message: format!("cannot run it ({e}); install e2fsprogs"),
        })?;
    if !out.status.success() {
        tracing::debug!(stderr = %String::from_utf8_lossy(&out.stderr), "mkfs_failed");
        return Err(PmError::ToolFailed {
            tool: "mkfs.ext4".to_string(),
            message: format!("{} on {}", out.status, device.display()),
        }
        .into());
    }
    Ok(())
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
