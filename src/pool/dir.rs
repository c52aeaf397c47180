//! The `dir` backend, for hosts without device-mapper: a base is an
//! unpacked directory, an activation a copy of it — reflinked file by file
//! (FICLONE) where the filesystem shares extents, a plain copy elsewhere.
//!
//! Every tree is built under a `.partial` name and renamed into place, so a
//! crash leaves at most a `.partial` folder, which reconciliation removes.

use crate::error::PmError;
use crate::image::fsat::{self, FileKind, Meta};
use anyhow::{Context as _, Result};
use std::collections::HashMap;
use std::fs;
use std::os::fd::{AsRawFd, OwnedFd};
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
            if let Ok(root) = fsat::open_root(path) {
                make_writable(&root, 0);
            }
            fs::remove_dir_all(path)
                .map_err(|e| PmError::io(format!("cannot remove {}", path.display()), e).into())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(PmError::io(format!("cannot inspect {}", path.display()), e).into()),
    }
}

/// Read-only directories inside an image would stop remove_dir_all; they
/// are opened one component at a time, so any depth is reached. Best
/// effort: what cannot be opened is left for remove_dir_all to report.
fn make_writable(dir: &OwnedFd, depth: usize) {
    // The validator bounds the depth of an image (256 by default); this is
    // the backstop against a tree pm did not make.
    if depth > 4096 {
        return;
    }
    let Ok(listing) = fsat::open_dir_listing(dir, b".") else {
        return;
    };
    for name in fsat::list(listing).unwrap_or_default() {
        let Ok(meta) = fsat::stat(dir, &name) else {
            continue;
        };
        if meta.kind != FileKind::Dir {
            continue;
        }
        let _ = fsat::chmod(dir, &name, meta.mode | 0o700);
        if let Ok(child) = fsat::open_dir(dir, &name) {
            make_writable(&child, depth + 1);
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
/// root), symlinks, hardlinks within the tree, FIFOs and device nodes (as
/// root), and mtimes. Every step is relative to an open directory, so a
/// path of any length is copied.
pub fn copy_tree(src: &Path, dst: &Path, as_root: bool) -> Result<CopyStats> {
    fs::create_dir(dst).map_err(|e| PmError::io(format!("cannot create {}", dst.display()), e))?;
    let open = |path: &Path| {
        fsat::open_root(path).map_err(|e| PmError::io(format!("cannot open {}", path.display()), e))
    };
    let (src_root, dst_root) = (open(src)?, open(dst)?);
    let mut copy = Copy {
        dst_root: dst_root.try_clone()?,
        as_root,
        stats: CopyStats::default(),
        links: HashMap::new(),
    };
    copy.dir(&src_root, &dst_root, &mut Vec::new())
        .with_context(|| format!("copying {} to {}", src.display(), dst.display()))?;
    let meta = fsat::stat(&src_root, b".")?;
    finish_meta(&dst_root, b".", &meta, as_root)?;
    Ok(copy.stats)
}

/// One copy in progress.
struct Copy {
    dst_root: OwnedFd,
    as_root: bool,
    stats: CopyStats,
    /// (dev, inode) of a file with several links → where its first copy is
    /// (components from the destination root).
    links: HashMap<(u64, u64), Vec<Vec<u8>>>,
}

impl Copy {
    /// Copies the contents of `src` into the existing `dst`; `at` is the
    /// path of both from their roots.
    fn dir(&mut self, src: &OwnedFd, dst: &OwnedFd, at: &mut Vec<Vec<u8>>) -> Result<()> {
        let names = fsat::list(fsat::open_dir_listing(src, b".")?)?;
        for name in names {
            let meta = fsat::stat(src, &name)?;
            at.push(name.clone());
            self.entry(src, dst, &name, &meta, at)
                .with_context(|| format!("copying {}", String::from_utf8_lossy(&at.join(&b'/'))))?;
            at.pop();
        }
        Ok(())
    }

    fn entry(
        &mut self,
        src: &OwnedFd,
        dst: &OwnedFd,
        name: &[u8],
        meta: &Meta,
        at: &mut Vec<Vec<u8>>,
    ) -> Result<()> {
        match meta.kind {
            FileKind::Dir => {
                fsat::mkdir(dst, name, 0o700)?;
                let (from, to) = (fsat::open_dir(src, name)?, fsat::open_dir(dst, name)?);
                self.dir(&from, &to, at)?;
                finish_meta(dst, name, meta, self.as_root)
            }
            FileKind::Symlink => {
                fsat::symlink(&fsat::read_link(src, name)?, dst, name)?;
                let owner = self.as_root.then_some((meta.uid, meta.gid));
                fsat::set_meta_at(dst, name, owner, None, meta.mtime)?;
                Ok(())
            }
            FileKind::File => {
                if meta.nlink > 1 {
                    let key = (meta.dev, meta.ino);
                    if let Some(first) = self.links.get(&key) {
                        return self.link_to_first(first.clone(), dst, name);
                    }
                    self.links.insert(key, at.clone());
                }
                self.file(src, dst, name)?;
                finish_meta(dst, name, meta, self.as_root)
            }
            FileKind::Other => {
                fsat::mknod(dst, name, meta.format, meta.mode, meta.device)?;
                finish_meta(dst, name, meta, self.as_root)
            }
        }
    }

    fn link_to_first(&self, first: Vec<Vec<u8>>, dst: &OwnedFd, name: &[u8]) -> Result<()> {
        let Some((first_name, parents)) = first.split_last() else {
            anyhow::bail!("a hardlink to the root");
        };
        let mut dir = self.dst_root.try_clone()?;
        for part in parents {
            dir = fsat::open_dir(&dir, part)?;
        }
        fsat::hard_link(&dir, first_name, dst, name)?;
        Ok(())
    }

    fn file(&mut self, src: &OwnedFd, dst: &OwnedFd, name: &[u8]) -> Result<()> {
        let mut source = fsat::open_file(src, name)?;
        let mut target = fsat::create_file(dst, name, 0o600)?;
        self.stats.files += 1;
        // SAFETY: both descriptors are open; FICLONE takes the source fd.
        let rc = unsafe { libc::ioctl(target.as_raw_fd(), FICLONE as _, source.as_raw_fd()) };
        if rc == 0 {
            self.stats.reflinked += 1;
            return Ok(());
        }
        self.stats.bytes += std::io::copy(&mut source, &mut target)?;
        Ok(())
    }
}

/// Owner (as root), mode and mtime of a copied entry, from the source's.
fn finish_meta(dir: &OwnedFd, name: &[u8], meta: &Meta, as_root: bool) -> Result<()> {
    let owner = as_root.then_some((meta.uid, meta.gid));
    fsat::set_meta_at(dir, name, owner, Some(meta.mode), meta.mtime)?;
    Ok(())
}
