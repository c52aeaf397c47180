//! The `dir` backend, for hosts without device-mapper: a base is an
//! unpacked directory, an activation a copy of it — reflinked file by file
//! (FICLONE) where the filesystem shares extents, a plain copy elsewhere.
//!
//! Every tree is built under a `.partial` name and renamed into place, so a
//! crash leaves at most a `.partial` folder, which reconciliation removes.

use crate::error::PmError;
use anyhow::{Context as _, Result};
use std::fs::{self, File};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// `_IOW(0x94, 9, int)`
const FICLONE: libc::c_ulong = 0x4004_9409;

pub fn bases_dir(root: &Path) -> PathBuf {
    root.join("bases")
}

pub fn activations_dir(root: &Path) -> PathBuf {
    root.join("activations")
}

pub fn partial(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

/// Removes a tree if it exists (a partial or finished volume).
pub fn remove_tree(path: &Path) -> Result<()> {
    match fs::symlink_metadata(path) {
        Ok(_) => {
            make_writable(path);
            fs::remove_dir_all(path)
                .map_err(|e| PmError::io(format!("cannot remove {}", path.display()), e).into())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(PmError::io(format!("cannot inspect {}", path.display()), e).into()),
    }
}

/// Read-only directories inside an image would stop remove_dir_all.
fn make_writable(path: &Path) {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return;
    };
    if meta.is_dir() {
        let _ = fs::set_permissions(path, fs::Permissions::from_mode(meta.mode() | 0o700));
        if let Ok(entries) = fs::read_dir(path) {
            for e in entries.flatten() {
                make_writable(&e.path());
            }
        }
    }
}

/// How a copy was made, for the activation's report.
#[derive(Debug, Default, Clone, Copy)]
pub struct CopyStats {
    pub files: u64,
    pub reflinked: u64,
    pub bytes: u64,
}

/// Copies `src` to `dst` (which must not exist), keeping modes, owners (as
/// root), symlinks, hardlinks within the tree, and mtimes.
pub fn copy_tree(src: &Path, dst: &Path, as_root: bool) -> Result<CopyStats> {
    let mut stats = CopyStats::default();
    let mut links = std::collections::HashMap::new();
    copy_dir(src, dst, as_root, &mut stats, &mut links)?;
    Ok(stats)
}

fn copy_dir(
    src: &Path,
    dst: &Path,
    as_root: bool,
    stats: &mut CopyStats,
    links: &mut std::collections::HashMap<(u64, u64), PathBuf>,
) -> Result<()> {
    fs::create_dir(dst).map_err(|e| PmError::io(format!("cannot create {}", dst.display()), e))?;
    for entry in fs::read_dir(src).with_context(|| format!("reading {}", src.display()))? {
        let entry = entry?;
        let from = entry.path();
        let to = dst.join(entry.file_name());
        let meta = fs::symlink_metadata(&from)?;
        let kind = meta.file_type();
        if kind.is_dir() {
            copy_dir(&from, &to, as_root, stats, links)?;
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(&from)?, &to)?;
            finish_meta(&to, &meta, as_root, true)?;
        } else if kind.is_file() {
            if meta.nlink() > 1 {
                if let Some(first) = links.get(&(meta.dev(), meta.ino())) {
                    fs::hard_link(first, &to)?;
                    continue;
                }
                links.insert((meta.dev(), meta.ino()), to.clone());
            }
            copy_file(&from, &to, stats)?;
            finish_meta(&to, &meta, as_root, false)?;
        }
    }
    let meta = fs::symlink_metadata(src)?;
    finish_meta(dst, &meta, as_root, false)
}

fn copy_file(from: &Path, to: &Path, stats: &mut CopyStats) -> Result<()> {
    let source = File::open(from).with_context(|| format!("opening {}", from.display()))?;
    let target = File::create(to).with_context(|| format!("creating {}", to.display()))?;
    stats.files += 1;
    // SAFETY: both descriptors are open; FICLONE takes the source fd.
    let rc = unsafe { libc::ioctl(target.as_raw_fd(), FICLONE, source.as_raw_fd()) };
    if rc == 0 {
        stats.reflinked += 1;
        return Ok(());
    }
    let mut source = source;
    let mut target = target;
    stats.bytes += std::io::copy(&mut source, &mut target)
        .with_context(|| format!("copying {}", from.display()))?;
    Ok(())
}

fn finish_meta(path: &Path, meta: &fs::Metadata, as_root: bool, symlink: bool) -> Result<()> {
    if as_root {
        std::os::unix::fs::lchown(path, Some(meta.uid()), Some(meta.gid()))?;
    }
    if !symlink {
        fs::set_permissions(path, fs::Permissions::from_mode(meta.mode() & 0o7777))?;
    }
    let mtime = std::time::UNIX_EPOCH + std::time::Duration::from_secs(meta.mtime().max(0) as u64);
    let times = fs::FileTimes::new().set_modified(mtime);
    if !symlink {
        // Best effort: a file without read permission (mode 000) keeps the
        // copy's mtime rather than failing the activation.
        let _ = File::open(path).and_then(|f| f.set_times(times));
    }
    Ok(())
}
