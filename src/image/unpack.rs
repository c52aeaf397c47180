//! Safe unpacking of an image archive into a root directory.
//!
//! The archive is treated as hostile even though it was validated: the blob
//! on disk may have been swapped since. Every entry goes through the
//! validator's `EntryChecker` before anything is written, and
//! every path is resolved by the kernel *inside* the root (`openat2` with
//! `RESOLVE_IN_ROOT`): `..`, absolute paths and symlinks — including ones the
//! archive itself created a moment earlier — can never reach outside it.
//! Where there is no openat2 (macOS), paths are walked one component at a
//! time with `O_NOFOLLOW` and `..` is refused: stricter, never looser.
//! Files are created relative to directory descriptors with `O_NOFOLLOW` and
//! `O_EXCL`, so no step follows a link planted by an earlier entry.
//!
//! Modes (setuid included, when the guard allowed it), owners (when running
//! as root), symlinks, hardlinks and mtimes are preserved. Directory modes
//! and times are applied last, so a read-only directory can still be filled.
//! On failure the caller removes the partial root.

use crate::error::PmError;
use crate::image::validate::{
    ArchiveStream, EntryChecker, Limits, Policy, Violation, check_archive_end, display_path,
    open_archive, rule,
};
use crate::progress::Progress;
use anyhow::{Context as _, Result};
use std::ffi::CString;
use std::fs::File;
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

#[cfg(target_os = "linux")]
const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
#[cfg(target_os = "linux")]
const RESOLVE_IN_ROOT: u64 = 0x10;

/// `struct open_how` for openat2(2).
#[cfg(target_os = "linux")]
#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

type Entry<'a, 'b> = tar::Entry<'a, ArchiveStream<'b>>;

/// What the unpacker refuses on its own, beyond the validator's rules:
/// entry types it does not create (devices and FIFOs, even where the policy
/// allows them in a validated image).
fn unsupported(entry: &Entry<'_, '_>) -> Option<Violation> {
    use tar::EntryType as T;
    match entry.header().entry_type() {
        T::Regular | T::Continuous | T::Directory | T::Symlink | T::Link => None,
        T::XGlobalHeader | T::XHeader | T::GNULongName | T::GNULongLink => None,
        other => Some(Violation::new(
            rule::UNSUPPORTED_ENTRY_TYPE,
            &display_path(&entry.path_bytes()),
            format!("the unpacker does not create {other:?} entries"),
        )),
    }
}

/// What an unpack wrote.
#[derive(Debug, Default, Clone, Copy)]
pub struct UnpackStats {
    pub entries: u64,
    pub bytes: u64,
}

struct DirMeta {
    path: PathBuf,
    mode: u32,
    owner: Option<(u32, u32)>,
    mtime: i64,
}

/// Counts bytes read from the archive file, for progress.
struct Counting<'a, R> {
    inner: R,
    progress: &'a dyn Progress,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.advance(n as u64);
        Ok(n)
    }
}

/// Unpacks the archive file `blob` (tar, tar.gz or tar.zst) into the
/// existing directory `root`, checking every entry with the validator's
/// rules first. `as_root` decides whether owners are applied.
/// `after_first_file` runs once (a failpoint for crash tests).
pub fn unpack_file(
    blob: &Path,
    root: &Path,
    limits: &Limits,
    policy: &Policy,
    as_root: bool,
    progress: &dyn Progress,
    after_first_file: &mut dyn FnMut(),
) -> Result<UnpackStats> {
    let file =
        File::open(blob).map_err(|e| PmError::io(format!("cannot open {}", blob.display()), e))?;
    progress.set_total(file.metadata().map(|m| m.len()).unwrap_or(0));
    let counted = Counting {
        inner: file,
        progress,
    };
    let (_, stream) = open_archive(counted, limits).map_err(refused_from_rejected)?;
    let mut checker = EntryChecker::new(limits.clone(), policy.clone());
    checker.attach(stream.budget());
    let root_fd = open_dir_plain(root)?;
    let mut tar = tar::Archive::new(stream);
    let mut stats = UnpackStats::default();
    let mut dirs = Vec::new();
    let mut first_file_done = false;
    let mut violations = Vec::new();
    let mut stopped = false;
    for entry in tar.entries().map_err(corrupt)? {
        let mut entry = entry.map_err(corrupt)?;
        let mut found = checker.check_entry(&mut entry);
        found.extend(unsupported(&entry));
        if checker.must_stop() {
            violations.extend(found);
            stopped = true;
            break;
        }
        if !found.is_empty() || !violations.is_empty() {
            // Write nothing more, but read on so every violation is listed.
            violations.extend(found);
            continue;
        }
        let wrote_file = write_entry(&root_fd, &mut entry, as_root, &mut dirs, &mut stats)?;
        stats.entries += 1;
        if wrote_file && !first_file_done {
            first_file_done = true;
            after_first_file();
        }
    }
    violations.extend(checker.finish().violations);
    if !stopped {
        // The same end-of-archive check as the validator's: trailing data
        // here means the blob changed since it was validated.
        let mut stream = tar.into_inner();
        stream.budget().lift();
        violations.extend(check_archive_end(&mut stream, limits));
    }
    if !violations.is_empty() {
        return Err(PmError::UnpackRefused { violations }.into());
    }
    // Deepest first, so a parent's mtime is set after its children changed it.
    dirs.sort_by_key(|d: &DirMeta| std::cmp::Reverse(d.path.components().count()));
    for dir in &dirs {
        let fd = resolve_in_root(&root_fd, &dir.path, libc::O_DIRECTORY | libc::O_RDONLY)?;
        apply_meta(fd.as_raw_fd(), dir.owner, dir.mode, dir.mtime)?;
    }
    progress.finish();
    Ok(stats)
}

/// The validator's `image_rejected` (not an archive, unsupported format)
/// becomes `unpack_refused`: the blob was validated, so it changed since.
fn refused_from_rejected(e: anyhow::Error) -> anyhow::Error {
    match e.downcast::<PmError>() {
        Ok(PmError::ImageRejected { violations }) => PmError::UnpackRefused { violations }.into(),
        Ok(other) => other.into(),
        Err(e) => e,
    }
}

fn corrupt(e: std::io::Error) -> anyhow::Error {
    PmError::UnpackRefused {
        violations: vec![crate::image::validate::violation_from_io(&e, "")],
    }
    .into()
}

/// Splits an entry path into its parent and final name, dropping `.` and a
/// leading `/` (resolution is inside the root anyway). `None` for the root itself.
fn split(path: &Path) -> Option<(PathBuf, std::ffi::OsString)> {
    let parts: Vec<_> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_owned()),
            _ => None,
        })
        .collect();
    let (last, parent) = parts.split_last()?;
    Some((parent.iter().collect(), last.clone()))
}

fn write_entry(
    root: &OwnedFd,
    entry: &mut Entry<'_, '_>,
    as_root: bool,
    dirs: &mut Vec<DirMeta>,
    stats: &mut UnpackStats,
) -> Result<bool> {
    use tar::EntryType as T;
    let header = entry.header().clone();
    let kind = header.entry_type();
    if matches!(
        kind,
        T::XGlobalHeader | T::XHeader | T::GNULongName | T::GNULongLink
    ) {
        return Ok(false);
    }
    let path = entry.path().map_err(corrupt)?.into_owned();
    let mode = header.mode().unwrap_or(0o644) & 0o7777;
    let mtime = header.mtime().unwrap_or(0) as i64;
    let owner = if as_root {
        Some((
            header.uid().unwrap_or(0) as u32,
            header.gid().unwrap_or(0) as u32,
        ))
    } else {
        None
    };
    let Some((parent_path, name)) = split(&path) else {
        // The root directory itself: its metadata only.
        if kind == T::Directory {
            dirs.push(DirMeta {
                path: PathBuf::new(),
                mode,
                owner,
                mtime,
            });
        }
        return Ok(false);
    };
    let parent = ensure_dir(root, &parent_path)?;
    let cname = CString::new(name.as_bytes()).context("entry name has a NUL byte")?;
    match kind {
        T::Directory => {
            // SAFETY: valid fd and NUL-terminated name.
            let rc = unsafe { libc::mkdirat(parent.as_raw_fd(), cname.as_ptr(), 0o700) };
            if rc != 0 {
                let err = std::io::Error::last_os_error();
                if err.raw_os_error() != Some(libc::EEXIST) {
                    return Err(err).with_context(|| format!("mkdir {}", path.display()));
                }
            }
            dirs.push(DirMeta {
                path,
                mode,
                owner,
                mtime,
            });
            Ok(false)
        }
        T::Regular | T::Continuous => {
            remove_existing(&parent, &cname)?;
            // SAFETY: valid fd and NUL-terminated name.
            let fd = unsafe {
                libc::openat(
                    parent.as_raw_fd(),
                    cname.as_ptr(),
                    libc::O_WRONLY
                        | libc::O_CREAT
                        | libc::O_EXCL
                        | libc::O_NOFOLLOW
                        | libc::O_CLOEXEC,
                    0o600,
                )
            };
            if fd < 0 {
                return Err(std::io::Error::last_os_error())
                    .with_context(|| format!("create {}", path.display()));
            }
            // SAFETY: fd was just opened and is owned here.
            let mut file = unsafe { File::from_raw_fd(fd) };
            let n = std::io::copy(entry, &mut file)
                .with_context(|| format!("writing {}", path.display()))?;
            stats.bytes += n;
            apply_meta(file.as_raw_fd(), owner, mode, mtime)?;
            Ok(true)
        }
        T::Symlink => {
            let target = entry
                .link_name()
                .map_err(corrupt)?
                .ok_or_else(|| anyhow::anyhow!("symlink {} has no target", path.display()))?;
            remove_existing(&parent, &cname)?;
            let ctarget = CString::new(target.as_os_str().as_bytes())
                .context("symlink target has a NUL byte")?;
            // SAFETY: valid fd and NUL-terminated strings.
            let rc =
                unsafe { libc::symlinkat(ctarget.as_ptr(), parent.as_raw_fd(), cname.as_ptr()) };
            if rc != 0 {
                return Err(std::io::Error::last_os_error())
                    .with_context(|| format!("symlink {}", path.display()));
            }
            if let Some((uid, gid)) = owner {
                // SAFETY: valid fd and name; the link itself, not its target.
                unsafe {
                    libc::fchownat(
                        parent.as_raw_fd(),
                        cname.as_ptr(),
                        uid,
                        gid,
                        libc::AT_SYMLINK_NOFOLLOW,
                    )
                };
            }
            let times = [timespec(mtime), timespec(mtime)];
            // SAFETY: valid fd, name and a two-element timespec array.
            unsafe {
                libc::utimensat(
                    parent.as_raw_fd(),
                    cname.as_ptr(),
                    times.as_ptr(),
                    libc::AT_SYMLINK_NOFOLLOW,
                )
            };
            Ok(false)
        }
        T::Link => {
            let target = entry
                .link_name()
                .map_err(corrupt)?
                .ok_or_else(|| anyhow::anyhow!("hardlink {} has no target", path.display()))?
                .into_owned();
            let (target_parent, target_name) = split(&target)
                .ok_or_else(|| anyhow::anyhow!("hardlink {} points at the root", path.display()))?;
            let tparent = resolve_in_root(root, &target_parent, DIR_HANDLE)?;
            let ctname = CString::new(target_name.as_bytes()).context("NUL in link target")?;
            remove_existing(&parent, &cname)?;
            // SAFETY: valid fds and names; flags 0 never follows a final symlink.
            let rc = unsafe {
                libc::linkat(
                    tparent.as_raw_fd(),
                    ctname.as_ptr(),
                    parent.as_raw_fd(),
                    cname.as_ptr(),
                    0,
                )
            };
            if rc != 0 {
                return Err(std::io::Error::last_os_error()).with_context(|| {
                    format!("hardlink {} -> {}", path.display(), target.display())
                });
            }
            Ok(false)
        }
        other => Err(PmError::UnpackRefused {
            violations: vec![Violation::new(
                rule::UNSUPPORTED_ENTRY_TYPE,
                &path.display().to_string(),
                format!("{other:?}"),
            )],
        }
        .into()),
    }
}

/// Removes a non-directory left by an earlier entry of the same name.
fn remove_existing(parent: &OwnedFd, name: &CString) -> Result<()> {
    // SAFETY: valid fd and NUL-terminated name.
    let rc = unsafe { libc::unlinkat(parent.as_raw_fd(), name.as_ptr(), 0) };
    if rc != 0 {
        let err = std::io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::ENOENT) {
            return Err(err).context("replacing an earlier entry");
        }
    }
    Ok(())
}

fn apply_meta(fd: RawFd, owner: Option<(u32, u32)>, mode: u32, mtime: i64) -> Result<()> {
    // Owner first: chown clears setuid/setgid, so the mode comes after.
    if let Some((uid, gid)) = owner {
        // SAFETY: fd is open.
        if unsafe { libc::fchown(fd, uid, gid) } != 0 {
            return Err(std::io::Error::last_os_error()).context("fchown");
        }
    }
    // SAFETY: fd is open.
    if unsafe { libc::fchmod(fd, mode as libc::mode_t) } != 0 {
        return Err(std::io::Error::last_os_error()).context("fchmod");
    }
    let times = [timespec(mtime), timespec(mtime)];
    // SAFETY: fd is open; two timespecs.
    if unsafe { libc::futimens(fd, times.as_ptr()) } != 0 {
        return Err(std::io::Error::last_os_error()).context("futimens");
    }
    Ok(())
}

fn timespec(secs: i64) -> libc::timespec {
    libc::timespec {
        tv_sec: secs as libc::time_t,
        tv_nsec: 0,
    }
}

/// Flags of a directory descriptor used only as the base of `*at` calls.
#[cfg(target_os = "linux")]
const DIR_HANDLE: i32 = libc::O_PATH | libc::O_DIRECTORY;
#[cfg(not(target_os = "linux"))]
const DIR_HANDLE: i32 = libc::O_RDONLY | libc::O_DIRECTORY;

fn open_dir_plain(path: &Path) -> Result<OwnedFd> {
    let c = CString::new(path.as_os_str().as_bytes()).context("NUL in path")?;
    // SAFETY: NUL-terminated path.
    let fd = unsafe { libc::open(c.as_ptr(), DIR_HANDLE | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error())
            .with_context(|| format!("cannot open {}", path.display()));
    }
    // SAFETY: fd was just opened.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// openat2(root, path, RESOLVE_IN_ROOT): the kernel treats `root` as `/`
/// for every step, symlinks and `..` included.
#[cfg(target_os = "linux")]
fn resolve_in_root(root: &OwnedFd, path: &Path, flags: i32) -> Result<OwnedFd> {
    let text = if path.as_os_str().is_empty() {
        Path::new(".")
    } else {
        path
    };
    let c = CString::new(text.as_os_str().as_bytes()).context("NUL in path")?;
    let how = OpenHow {
        flags: (flags | libc::O_CLOEXEC) as u64,
        mode: 0,
        resolve: RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    };
    // SAFETY: valid fd, NUL-terminated path, and a correctly sized open_how.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            root.as_raw_fd(),
            c.as_ptr(),
            &how as *const OpenHow,
            std::mem::size_of::<OpenHow>(),
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error())
            .with_context(|| format!("resolving {} inside the root", path.display()));
    }
    // SAFETY: the syscall returned a new descriptor.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// Without openat2, one component at a time with `O_NOFOLLOW`: a symlink
/// anywhere on the way fails (ELOOP, ENOTDIR) instead of being followed, and
/// `..` is refused outright. The validator already rejects writes through
/// symlinks, so a valid image never needs more.
#[cfg(not(target_os = "linux"))]
fn resolve_in_root(root: &OwnedFd, path: &Path, flags: i32) -> Result<OwnedFd> {
    let mut names = Vec::new();
    for part in path.components() {
        match part {
            Component::Normal(name) => names.push(name),
            Component::CurDir | Component::RootDir => {}
            Component::ParentDir | Component::Prefix(_) => {
                return Err(std::io::Error::from_raw_os_error(libc::EACCES))
                    .with_context(|| format!("resolving {} inside the root", path.display()));
            }
        }
    }
    let open_at = |dir: &OwnedFd, name: &std::ffi::OsStr, flags: i32| -> Result<OwnedFd> {
        let c = CString::new(name.as_bytes()).context("NUL in path")?;
        // SAFETY: valid fd and NUL-terminated name.
        let fd = unsafe { libc::openat(dir.as_raw_fd(), c.as_ptr(), flags | libc::O_CLOEXEC) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error())
                .with_context(|| format!("resolving {} inside the root", path.display()));
        }
        // SAFETY: openat returned a new descriptor.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    };
    let Some((last, parents)) = names.split_last() else {
        return open_at(root, std::ffi::OsStr::new("."), flags);
    };
    let mut dir = open_at(root, std::ffi::OsStr::new("."), DIR_HANDLE)?;
    for name in parents {
        dir = open_at(&dir, name, DIR_HANDLE | libc::O_NOFOLLOW)?;
    }
    open_at(&dir, last, flags | libc::O_NOFOLLOW)
}

/// Opens the directory `path` inside the root, creating missing components
/// one at a time (each resolved inside the root).
fn ensure_dir(root: &OwnedFd, path: &Path) -> Result<OwnedFd> {
    let dir_flags = DIR_HANDLE;
    match resolve_in_root(root, path, dir_flags) {
        Ok(fd) => return Ok(fd),
        Err(e) if not_found(&e) => {}
        Err(e) => return Err(e),
    }
    let mut current = PathBuf::new();
    let mut fd = resolve_in_root(root, &current, dir_flags)?;
    for part in path.components() {
        let Component::Normal(name) = part else {
            continue;
        };
        current.push(name);
        match resolve_in_root(root, &current, dir_flags) {
            Ok(next) => fd = next,
            Err(e) if not_found(&e) => {
                let c = CString::new(name.as_bytes()).context("NUL in path")?;
                // SAFETY: valid fd and NUL-terminated name.
                if unsafe { libc::mkdirat(fd.as_raw_fd(), c.as_ptr(), 0o755) } != 0 {
                    return Err(std::io::Error::last_os_error())
                        .with_context(|| format!("mkdir {}", current.display()));
                }
                fd = resolve_in_root(root, &current, dir_flags)?;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(fd)
}

fn not_found(e: &anyhow::Error) -> bool {
    e.chain()
        .filter_map(|c| c.downcast_ref::<std::io::Error>())
        .any(|io| io.raw_os_error() == Some(libc::ENOENT))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Even a symlink the validator would have let through cannot carry a
    /// write outside the root: the kernel resolves it inside.
    #[cfg(target_os = "linux")]
    #[test]
    fn paths_through_escaping_symlinks_stay_inside_the_root() {
        let outside = tempfile::tempdir().unwrap();
        let root = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), root.path().join("abs")).unwrap();
        std::os::unix::fs::symlink("../../../..", root.path().join("up")).unwrap();
        // The absolute link's target exists inside the root too; a dangling
        // one makes the unpack fail (closed), never escape.
        std::fs::create_dir_all(root.path().join(outside.path().strip_prefix("/").unwrap()))
            .unwrap();
        let root_fd = open_dir_plain(root.path()).unwrap();
        for through in ["abs/made", "up/made2", "../../made3"] {
            ensure_dir(&root_fd, Path::new(through)).unwrap();
        }
        assert!(
            std::fs::read_dir(outside.path()).unwrap().next().is_none(),
            "nothing outside"
        );
        let inside = root
            .path()
            .join(outside.path().strip_prefix("/").unwrap())
            .join("made");
        assert!(
            inside.is_dir(),
            "the absolute link resolved inside the root"
        );
        assert!(root.path().join("made2").is_dir());
        assert!(root.path().join("made3").is_dir());
    }

    /// Without openat2 the walk refuses instead: no symlink is followed and
    /// no `..` is taken, so nothing is made outside the root either.
    #[cfg(not(target_os = "linux"))]
    #[test]
    fn paths_through_symlinks_or_dotdot_are_refused() {
        let outside = tempfile::tempdir().unwrap();
        let root = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), root.path().join("abs")).unwrap();
        let root_fd = open_dir_plain(root.path()).unwrap();
        for through in ["abs/made", "../../made3"] {
            assert!(
                ensure_dir(&root_fd, Path::new(through)).is_err(),
                "{through}"
            );
        }
        assert!(std::fs::read_dir(outside.path()).unwrap().next().is_none());
        ensure_dir(&root_fd, Path::new("plain/dir")).unwrap();
        assert!(root.path().join("plain/dir").is_dir());
    }
}
