//! Safe unpacking of an image archive into a root directory.
//!
//! The archive is treated as hostile even though it was validated: the blob
//! on disk may have been swapped since. The unpacker is a [`Visitor`] of the
//! validator's own walk ([`crate::image::validate::walk`]): it is handed
//! each member only once the validator's rules found it, and everything
//! before it, fine, and it writes the member exactly as the walk decided it
//! is (kind, name, mode, size, sparse map). After the first violation it
//! writes nothing more; the caller removes the partial root.
//!
//! Every write names one component inside a directory descriptor
//! ([`crate::image::fsat`]): parents are opened one component at a time with
//! `O_NOFOLLOW`, files created with `O_EXCL`, so nothing follows a symlink
//! (not even one the archive created a moment earlier) and a path's depth
//! never meets `PATH_MAX`.
//!
//! Kept: modes (setuid included, when the policy allowed it), owners (when
//! running as root), symlinks, hardlinks, mtimes, the holes of GNU sparse
//! files, FIFOs, and device nodes (as root; otherwise refused with
//! `needs_root`). Dropped: extended attributes, ACLs and file capabilities
//! (the validator reports them). Directory modes and times are applied
//! last, so a read-only directory can still be filled.

use crate::digest::hex;
use crate::error::PmError;
use crate::image::fsat;
use crate::image::validate::{
    Entry, Kind, Limits, Policy, Violation, Visitor, display_path, rule, tree::split_member, walk,
};
use crate::progress::Progress;
use anyhow::{Context as _, Result};
use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;
use std::rc::Rc;

/// What an unpack wrote.
#[derive(Debug, Default, Clone, Copy)]
pub struct UnpackStats {
    pub entries: u64,
    pub bytes: u64,
}

/// Counts bytes read from the archive file, for progress, and hashes them,
/// so the unpacker knows whether it read the very blob that was validated.
struct Counting<'a, R> {
    inner: R,
    progress: &'a dyn Progress,
    hash: Rc<RefCell<Hashed>>,
}

/// The SHA-256 of what was read, and whether it reached the end.
#[derive(Default)]
struct Hashed {
    hasher: Sha256,
    at_end: bool,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.advance(n as u64);
        let mut hash = self.hash.borrow_mut();
        hash.hasher.update(&buf[..n]);
        hash.at_end |= n == 0 && !buf.is_empty();
        Ok(n)
    }
}

/// What was validated: the blob's SHA-256 (hex) and the limits and policy
/// it was found safe under.
pub struct Validated<'a> {
    pub sha256: &'a str,
    pub limits: &'a Limits,
    pub policy: &'a Policy,
}

/// Unpacks the archive file `blob` (tar, tar.gz or tar.zst) into the
/// existing directory `root`, through the validator's walk with the limits
/// and policy of `validated`. The validator's verdict on where the symlinks
/// lead is reused when the bytes read hash to `validated.sha256`; any other
/// bytes are judged in full. `as_root` decides whether owners are applied
/// and devices made. `after_first_file` runs once (a failpoint for crash
/// tests).
pub fn unpack_file(
    blob: &Path,
    root: &Path,
    validated: &Validated<'_>,
    as_root: bool,
    progress: &dyn Progress,
    after_first_file: &mut dyn FnMut(),
) -> Result<UnpackStats> {
    let file =
        File::open(blob).map_err(|e| PmError::io(format!("cannot open {}", blob.display()), e))?;
    progress.set_total(file.metadata().map(|m| m.len()).unwrap_or(0));
    let hash = Rc::new(RefCell::new(Hashed::default()));
    let counted = Counting {
        inner: file,
        progress,
        hash: hash.clone(),
    };
    let root_fd = fsat::open_root(root)
        .map_err(|e| PmError::io(format!("cannot open {}", root.display()), e))?;
    let mut writer = Writer {
        root: root_fd,
        as_root,
        dirs: Vec::new(),
        stats: UnpackStats::default(),
        parent: None,
        after_first_file,
        first_file_done: false,
        read: Some((hash, validated.sha256.to_ascii_lowercase())),
    };
    let report = walk(counted, validated.limits, validated.policy, &mut writer)?;
    if !report.is_safe() {
        return Err(PmError::UnpackRefused {
            violations: report.violations(),
        }
        .into());
    }
    writer.apply_dir_meta()?;
    progress.finish();
    Ok(writer.stats)
}

/// A directory's metadata, applied when everything is unpacked.
struct DirMeta {
    path: Vec<u8>,
    depth: usize,
    mode: u32,
    owner: Option<(u32, u32)>,
    mtime: i64,
}

/// Writes the members the walk hands it.
struct Writer<'f> {
    root: OwnedFd,
    as_root: bool,
    dirs: Vec<DirMeta>,
    stats: UnpackStats,
    /// The last parent directory opened, by path: members come grouped by
    /// directory, so most need no walk from the root.
    parent: Option<(Vec<u8>, OwnedFd)>,
    after_first_file: &'f mut dyn FnMut(),
    first_file_done: bool,
    /// The hash of the bytes read, and the validated blob's.
    read: Option<(Rc<RefCell<Hashed>>, String)>,
}

impl Visitor for Writer<'_> {
    fn links_already_judged(&mut self) -> bool {
        let Some((hash, validated)) = self.read.take() else {
            return false;
        };
        let hash = std::mem::take(&mut *hash.borrow_mut());
        hash.at_end && hex(&hash.hasher.finalize()) == validated
    }

    fn visit(
        &mut self,
        entry: &Entry,
        data: &mut dyn Read,
        refused: &mut Vec<Violation>,
    ) -> Result<()> {
        let shown = display_path(&entry.path);
        let parts = split_member(&entry.path)
            .map_err(|_| anyhow::anyhow!("{shown}: a name the rules should have refused"))?;
        let owner = self.owner(entry);
        let Some((name, parents)) = parts.split_last() else {
            // The root directory itself: its metadata only.
            if entry.kind == Kind::Dir {
                self.dirs.push(dir_meta(&[], entry, owner));
            }
            return Ok(());
        };
        let parent = self
            .parent_dir(parents)
            .with_context(|| format!("creating the parents of {shown}"))?;
        let written = match entry.kind {
            Kind::Dir => self.write_dir(&parent, name, &parts, entry, owner),
            Kind::File => self.write_file(&parent, name, entry, owner, data),
            Kind::Symlink => write_symlink(&parent, name, entry, owner),
            Kind::Hardlink => self.write_hardlink(&parent, name, &parts, entry),
            Kind::CharDevice | Kind::BlockDevice | Kind::Fifo => {
                self.write_special(&parent, name, entry, owner, refused)
            }
            Kind::Unsupported(_) => {
                refused.push(Violation::new(
                    rule::UNSUPPORTED_ENTRY_TYPE,
                    &shown,
                    "the unpacker does not create this entry type".into(),
                ));
                Ok(())
            }
        };
        self.parent = Some((parents.join(&b'/'), parent));
        written.with_context(|| format!("unpacking {shown}"))?;
        self.stats.entries += 1;
        Ok(())
    }
}

impl Writer<'_> {
    fn owner(&self, entry: &Entry) -> Option<(u32, u32)> {
        // The reader refuses ids that do not fit a uid_t.
        self.as_root.then_some((entry.uid as u32, entry.gid as u32))
    }

    /// The directory `parents` inside the root, made where missing (mode
    /// 0755 until a member of its own says otherwise), never through a
    /// symlink.
    fn parent_dir(&mut self, parents: &[&[u8]]) -> Result<OwnedFd> {
        let key = parents.join(&b'/');
        if let Some((path, fd)) = self.parent.take()
            && path == key
        {
            return Ok(fd);
        }
        let mut dir = self.root.try_clone()?;
        for part in parents {
            dir = match fsat::open_dir(&dir, part) {
                Ok(next) => next,
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                    fsat::mkdir(&dir, part, 0o755)?;
                    fsat::open_dir(&dir, part)?
                }
                Err(e) => return Err(e.into()),
            };
        }
        Ok(dir)
    }

    fn write_dir(
        &mut self,
        parent: &OwnedFd,
        name: &[u8],
        parts: &[&[u8]],
        entry: &Entry,
        owner: Option<(u32, u32)>,
    ) -> Result<()> {
        match fsat::mkdir(parent, name, 0o700) {
            Err(e) if e.raw_os_error() != Some(libc::EEXIST) => return Err(e.into()),
            _ => {}
        }
        self.dirs.push(dir_meta(parts, entry, owner));
        Ok(())
    }

    fn write_file(
        &mut self,
        parent: &OwnedFd,
        name: &[u8],
        entry: &Entry,
        owner: Option<(u32, u32)>,
        data: &mut dyn Read,
    ) -> Result<()> {
        fsat::unlink_if_present(parent, name)?;
        let mut file = fsat::create_file(parent, name, 0o600)?;
        if let Err(e) = write_data(&mut file, entry, data) {
            // The archive broke inside this file's data: no half file stays.
            drop(file);
            let _ = fsat::unlink_if_present(parent, name);
            return Err(e.into());
        }
        self.stats.bytes += entry.size;
        fsat::set_meta_fd(file.as_raw_fd(), owner, entry.mode, entry.mtime)?;
        if !self.first_file_done {
            self.first_file_done = true;
            (self.after_first_file)();
        }
        Ok(())
    }

    fn write_hardlink(
        &mut self,
        parent: &OwnedFd,
        name: &[u8],
        parts: &[&[u8]],
        entry: &Entry,
    ) -> Result<()> {
        let target = split_member(&entry.link)
            .map_err(|_| anyhow::anyhow!("a hardlink target the rules should have refused"))?;
        if target == parts {
            // A link to itself: the file stays as it is.
            return Ok(());
        }
        let Some((target_name, target_parents)) = target.split_last() else {
            anyhow::bail!("a hardlink to the root the rules should have refused");
        };
        let target_dir = self.existing_dir(target_parents)?;
        fsat::unlink_if_present(parent, name)?;
        fsat::hard_link(&target_dir, target_name, parent, name)?;
        Ok(())
    }

    /// An existing directory inside the root, opened without following a
    /// symlink.
    fn existing_dir(&self, parts: &[&[u8]]) -> Result<OwnedFd> {
        let mut dir = self.root.try_clone()?;
        for part in parts {
            dir = fsat::open_dir(&dir, part)?;
        }
        Ok(dir)
    }

    /// A FIFO anyone can make; a device node only root can.
    fn write_special(
        &mut self,
        parent: &OwnedFd,
        name: &[u8],
        entry: &Entry,
        owner: Option<(u32, u32)>,
        refused: &mut Vec<Violation>,
    ) -> Result<()> {
        let kind = match entry.kind {
            Kind::CharDevice => libc::S_IFCHR,
            Kind::BlockDevice => libc::S_IFBLK,
            _ => libc::S_IFIFO,
        };
        if kind != libc::S_IFIFO && !self.as_root {
            refused.push(Violation::new(
                rule::NEEDS_ROOT,
                &display_path(&entry.path),
                format!(
                    "a {} ({}:{}): only root can create device nodes",
                    entry.kind.name(),
                    entry.device.0,
                    entry.device.1
                ),
            ));
            return Ok(());
        }
        fsat::unlink_if_present(parent, name)?;
        fsat::mknod(parent, name, kind, entry.mode, entry.device)?;
        fsat::set_meta_at(parent, name, owner, Some(entry.mode), entry.mtime)?;
        Ok(())
    }

    /// Directory modes and times, deepest first, so a parent's mtime is set
    /// after its children changed it and a read-only directory was filled.
    fn apply_dir_meta(&mut self) -> Result<()> {
        self.parent = None;
        self.dirs.sort_by_key(|d| std::cmp::Reverse(d.depth));
        for dir in &self.dirs {
            let parts: Vec<&[u8]> = match dir.depth {
                0 => Vec::new(),
                _ => dir.path.split(|&b| b == b'/').collect(),
            };
            let applied = match parts.split_last() {
                None => fsat::set_meta_at(&self.root, b".", dir.owner, Some(dir.mode), dir.mtime)
                    .map_err(anyhow::Error::from),
                Some((name, parents)) => self.existing_dir(parents).and_then(|p| {
                    Ok(fsat::set_meta_at(
                        &p,
                        name,
                        dir.owner,
                        Some(dir.mode),
                        dir.mtime,
                    )?)
                }),
            };
            applied.with_context(|| format!("setting the mode of {}", display_path(&dir.path)))?;
        }
        Ok(())
    }
}

/// A file's content: its stored bytes in order, or for a sparse file each
/// run where it belongs (the holes stay holes) and the real size set.
fn write_data(file: &mut File, entry: &Entry, data: &mut dyn Read) -> std::io::Result<()> {
    let Some(chunks) = &entry.sparse else {
        std::io::copy(data, file)?;
        return Ok(());
    };
    for chunk in chunks {
        file.seek(SeekFrom::Start(chunk.offset))?;
        std::io::copy(&mut data.take(chunk.len), file)?;
    }
    file.set_len(entry.size)
}

fn dir_meta(parts: &[&[u8]], entry: &Entry, owner: Option<(u32, u32)>) -> DirMeta {
    DirMeta {
        path: parts.join(&b'/'),
        depth: parts.len(),
        mode: entry.mode,
        owner,
        mtime: entry.mtime,
    }
}

fn write_symlink(
    parent: &OwnedFd,
    name: &[u8],
    entry: &Entry,
    owner: Option<(u32, u32)>,
) -> Result<()> {
    fsat::unlink_if_present(parent, name)?;
    fsat::symlink(&entry.link, parent, name)?;
    fsat::set_meta_at(parent, name, owner, None, entry.mtime)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tar of one symlink climbing out of the root (hand-made header).
    fn escaping_link_tar() -> Vec<u8> {
        let mut h = [0u8; 512];
        h[..4].copy_from_slice(b"evil");
        h[100..108].copy_from_slice(b"0000777\0");
        for field in [108..116, 116..124] {
            h[field].copy_from_slice(b"0000000\0");
        }
        h[124..136].copy_from_slice(b"00000000000\0");
        h[136..148].copy_from_slice(b"00000000000\0");
        h[156] = b'2';
        h[157..165].copy_from_slice(b"../../..");
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[148..156].fill(b' ');
        let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
        h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        let mut tar = h.to_vec();
        tar.extend_from_slice(&[0u8; 1024]);
        tar
    }

    /// The validator's verdict on links is reused only for the very bytes
    /// it judged (read to their end, in every format): the same blob under
    /// another digest is resolved in full.
    #[test]
    fn link_resolution_is_skipped_only_for_the_validated_bytes() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let raw = escaping_link_tar();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&raw).unwrap();
        let formats = [
            ("tar", raw.clone()),
            ("gz", gz.finish().unwrap()),
            ("zst", zstd::stream::encode_all(&raw[..], 3).unwrap()),
        ];
        let (limits, policy) = (Limits::default(), Policy::default());
        for (name, bytes) in formats {
            let blob = dir.path().join(name);
            std::fs::write(&blob, &bytes).unwrap();
            let unpack = |sha256: &str, to: &str| {
                let root = dir.path().join(format!("{name}-{to}"));
                std::fs::create_dir(&root).unwrap();
                let validated = Validated {
                    sha256,
                    limits: &limits,
                    policy: &policy,
                };
                unpack_file(
                    &blob,
                    &root,
                    &validated,
                    false,
                    &crate::progress::Silent,
                    &mut || {},
                )
            };
            // (This blob was never found safe: pretending it was shows that
            // the links are not walked again for the same bytes.)
            let same = unpack(&hex(&Sha256::digest(&bytes)), "same");
            assert!(same.is_ok(), "{name}: {same:?}");
            let err = unpack(&"0".repeat(64), "other").unwrap_err();
            let refused = format!("{err:#}");
            assert!(refused.contains("symlink_escape"), "{name}: {refused}");
        }
    }

    /// A symlink already in the root is never followed to make a parent:
    /// the walk refuses (closed), so nothing is made outside the root.
    #[test]
    fn parents_are_never_made_through_a_symlink() {
        let outside = tempfile::tempdir().unwrap();
        let root = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), root.path().join("abs")).unwrap();
        std::os::unix::fs::symlink("../../../..", root.path().join("up")).unwrap();
        let mut noop = || {};
        let mut writer = Writer {
            root: fsat::open_root(root.path()).unwrap(),
            as_root: false,
            dirs: Vec::new(),
            stats: UnpackStats::default(),
            parent: None,
            after_first_file: &mut noop,
            first_file_done: false,
            read: None,
        };
        for through in [&[&b"abs"[..], b"made"][..], &[b"up", b"made"]] {
            assert!(writer.parent_dir(through).is_err(), "{through:?}");
        }
        assert!(std::fs::read_dir(outside.path()).unwrap().next().is_none());
        writer.parent_dir(&[b"plain", b"dir"]).unwrap();
        assert!(root.path().join("plain/dir").is_dir());
    }
}
