//! Loop devices for pools on sparse files (test hosts), through the
//! `/dev/loop-control` ioctls rather than `losetup`.
//!
//! Devices are attached with `LO_FLAGS_AUTOCLEAR`: the kernel detaches them
//! by itself when the last user (the pool's linear device) lets go, so a pool
//! teardown — or a crash before the pool took hold of them — leaks no loop
//! device.

use crate::error::PmError;
use anyhow::{Context as _, Result};
use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

const LOOP_SET_FD: libc::c_ulong = 0x4C00;
const LOOP_SET_STATUS64: libc::c_ulong = 0x4C04;
const LOOP_CTL_GET_FREE: libc::c_ulong = 0x4C82;
const LO_FLAGS_AUTOCLEAR: u32 = 4;
const LO_NAME_SIZE: usize = 64;
/// Another process may take the free device between asking and attaching.
const ATTACH_ATTEMPTS: u32 = 8;

/// `struct loop_info64` from `<linux/loop.h>`.
#[repr(C)]
struct LoopInfo64 {
    lo_device: u64,
    lo_inode: u64,
    lo_rdevice: u64,
    lo_offset: u64,
    lo_sizelimit: u64,
    lo_number: u32,
    lo_encrypt_type: u32,
    lo_encrypt_key_size: u32,
    lo_flags: u32,
    lo_file_name: [u8; LO_NAME_SIZE],
    lo_crypt_name: [u8; LO_NAME_SIZE],
    lo_encrypt_key: [u8; 32],
    lo_init: [u64; 2],
}

/// An attached loop device. Dropping it closes pm's handle; with autoclear
/// the device stays only while something else (device-mapper) holds it.
pub struct LoopDevice {
    pub path: PathBuf,
    _handle: File,
}

/// Attaches `backing` to a free loop device.
pub fn attach(backing: &Path) -> Result<LoopDevice> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(backing)
        .map_err(|e| PmError::io(format!("cannot open {}", backing.display()), e))?;
    let control = OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/loop-control")
        .map_err(|e| PmError::DeviceMapperUnavailable {
            reason: format!("cannot open /dev/loop-control ({e}); is the loop module loaded?"),
        })?;
    for _ in 0..ATTACH_ATTEMPTS {
        // SAFETY: LOOP_CTL_GET_FREE takes no argument and returns a number.
        let number = unsafe { libc::ioctl(control.as_raw_fd(), LOOP_CTL_GET_FREE) };
        if number < 0 {
            return Err(std::io::Error::last_os_error()).context("LOOP_CTL_GET_FREE");
        }
        let path = PathBuf::from(format!("/dev/loop{number}"));
        let device = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        // SAFETY: LOOP_SET_FD takes the backing file descriptor by value.
        let rc = unsafe { libc::ioctl(device.as_raw_fd(), LOOP_SET_FD, file.as_raw_fd()) };
        if rc < 0 {
            let err = std::io::Error::last_os_error();
            if err.raw_os_error() == Some(libc::EBUSY) {
                continue;
            }
            return Err(err).with_context(|| format!("LOOP_SET_FD on {}", path.display()));
        }
        set_autoclear(&device, backing)
            .with_context(|| format!("LOOP_SET_STATUS64 on {}", path.display()))?;
        return Ok(LoopDevice {
            path,
            _handle: device,
        });
    }
    Err(PmError::DeviceBusy {
        what: "every free loop device".to_string(),
        attempts: ATTACH_ATTEMPTS,
    }
    .into())
}

fn set_autoclear(device: &File, backing: &Path) -> std::io::Result<()> {
    // SAFETY: all-zero is a valid loop_info64.
    let mut info: LoopInfo64 = unsafe { std::mem::zeroed() };
    info.lo_flags = LO_FLAGS_AUTOCLEAR;
    let name = backing.as_os_str().as_encoded_bytes();
    let n = name.len().min(LO_NAME_SIZE - 1);
    info.lo_file_name[..n].copy_from_slice(&name[..n]);
    // SAFETY: the pointer is to a live, correctly laid out loop_info64.
    let rc = unsafe { libc::ioctl(device.as_raw_fd(), LOOP_SET_STATUS64, &info) };
    if rc < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// The device number and size in bytes of a block device.
pub fn block_device_info(path: &Path) -> Result<(libc::dev_t, u64)> {
    use std::io::{Seek, SeekFrom};
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path)
        .map_err(|e| PmError::io(format!("cannot stat {}", path.display()), e))?;
    if !meta.file_type().is_block_device() {
        return Err(PmError::usage(
            format!("{} is not a block device", path.display()),
            Some("give a block device, or use --loop-dir for file-backed pools".to_string()),
        )
        .into());
    }
    let mut file =
        File::open(path).map_err(|e| PmError::io(format!("cannot open {}", path.display()), e))?;
    let size = file.seek(SeekFrom::End(0))?;
    Ok((meta.rdev(), size))
}
