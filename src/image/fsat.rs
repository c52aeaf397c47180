//! File operations relative to directory descriptors, for code that writes
//! or copies a whole tree (the unpacker, the `dir` backend's copy): every
//! call names one component inside a directory already open, never a path
//! built from the root, so depth does not run into `PATH_MAX` and no call
//! follows a symlink planted in the tree (`O_NOFOLLOW`, `AT_SYMLINK_NOFOLLOW`,
//! `O_EXCL`).

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Flags of a directory descriptor used as the base of `*at` calls.
#[cfg(target_os = "linux")]
const DIR_HANDLE: i32 = libc::O_PATH | libc::O_DIRECTORY;
#[cfg(not(target_os = "linux"))]
const DIR_HANDLE: i32 = libc::O_RDONLY | libc::O_DIRECTORY;

/// What a directory entry is, as `fstatat` says without following links.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Dir,
    File,
    Symlink,
    /// Devices, FIFOs and sockets.
    Other,
}

fn cstring(name: &[u8]) -> io::Result<CString> {
    CString::new(name).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

fn check(rc: libc::c_int) -> io::Result<()> {
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

fn owned(fd: libc::c_int) -> io::Result<OwnedFd> {
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the call just returned this new descriptor.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Opens the directory at `path` (a root the caller chose, not archive input).
pub fn open_root(path: &Path) -> io::Result<OwnedFd> {
    let c = cstring(path.as_os_str().as_bytes())?;
    // SAFETY: NUL-terminated path.
    owned(unsafe { libc::open(c.as_ptr(), DIR_HANDLE | libc::O_CLOEXEC) })
}

/// Opens the directory `name` inside `dir`, refusing a symlink.
pub fn open_dir(dir: &impl AsRawFd, name: &[u8]) -> io::Result<OwnedFd> {
    let c = cstring(name)?;
    let flags = DIR_HANDLE | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    // SAFETY: valid fd and NUL-terminated name.
    owned(unsafe { libc::openat(dir.as_raw_fd(), c.as_ptr(), flags) })
}

/// Opens the directory `name` inside `dir` for listing, refusing a symlink.
pub fn open_dir_listing(dir: &impl AsRawFd, name: &[u8]) -> io::Result<OwnedFd> {
    let c = cstring(name)?;
    let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    // SAFETY: valid fd and NUL-terminated name.
    owned(unsafe { libc::openat(dir.as_raw_fd(), c.as_ptr(), flags) })
}

pub fn mkdir(dir: &impl AsRawFd, name: &[u8], mode: u32) -> io::Result<()> {
    let c = cstring(name)?;
    // SAFETY: valid fd and NUL-terminated name.
    check(unsafe { libc::mkdirat(dir.as_raw_fd(), c.as_ptr(), mode as libc::mode_t) })
}

/// Removes the non-directory `name` if it is there.
pub fn unlink_if_present(dir: &impl AsRawFd, name: &[u8]) -> io::Result<()> {
    let c = cstring(name)?;
    // SAFETY: valid fd and NUL-terminated name.
    match check(unsafe { libc::unlinkat(dir.as_raw_fd(), c.as_ptr(), 0) }) {
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(()),
        other => other,
    }
}

/// Creates the file `name`, which must not exist (`O_EXCL`, no symlink).
pub fn create_file(dir: &impl AsRawFd, name: &[u8], mode: u32) -> io::Result<File> {
    let c = cstring(name)?;
    let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    // SAFETY: valid fd and NUL-terminated name.
    let fd =
        owned(unsafe { libc::openat(dir.as_raw_fd(), c.as_ptr(), flags, mode as libc::c_uint) })?;
    Ok(File::from(fd))
}

/// Opens the file `name` for reading, refusing a symlink.
pub fn open_file(dir: &impl AsRawFd, name: &[u8]) -> io::Result<File> {
    let c = cstring(name)?;
    let flags = libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    // SAFETY: valid fd and NUL-terminated name.
    Ok(File::from(owned(unsafe {
        libc::openat(dir.as_raw_fd(), c.as_ptr(), flags)
    })?))
}

pub fn symlink(target: &[u8], dir: &impl AsRawFd, name: &[u8]) -> io::Result<()> {
    let (t, c) = (cstring(target)?, cstring(name)?);
    // SAFETY: valid fd and NUL-terminated strings.
    check(unsafe { libc::symlinkat(t.as_ptr(), dir.as_raw_fd(), c.as_ptr()) })
}

pub fn read_link(dir: &impl AsRawFd, name: &[u8]) -> io::Result<Vec<u8>> {
    let c = cstring(name)?;
    let mut buf = vec![0u8; libc::PATH_MAX as usize + 1];
    // SAFETY: valid fd, NUL-terminated name, and a buffer of buf.len() bytes.
    let n = unsafe {
        libc::readlinkat(
            dir.as_raw_fd(),
            c.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    buf.truncate(n as usize);
    Ok(buf)
}

/// A hard link `to_dir/to_name` of `from_dir/from_name` (never following
/// a final symlink).
pub fn hard_link(
    from_dir: &impl AsRawFd,
    from_name: &[u8],
    to_dir: &impl AsRawFd,
    to_name: &[u8],
) -> io::Result<()> {
    let (f, t) = (cstring(from_name)?, cstring(to_name)?);
    // SAFETY: valid fds and NUL-terminated names; flags 0 never follows.
    check(unsafe {
        libc::linkat(
            from_dir.as_raw_fd(),
            f.as_ptr(),
            to_dir.as_raw_fd(),
            t.as_ptr(),
            0,
        )
    })
}

/// A device node or FIFO; `kind` is `S_IFCHR`, `S_IFBLK` or `S_IFIFO`.
pub fn mknod(
    dir: &impl AsRawFd,
    name: &[u8],
    kind: libc::mode_t,
    mode: u32,
    (major, minor): (u64, u64),
) -> io::Result<()> {
    let c = cstring(name)?;
    let dev = make_dev(major, minor)?;
    let mode = kind | (mode & 0o7777) as libc::mode_t;
    // SAFETY: valid fd and NUL-terminated name.
    check(unsafe { libc::mknodat(dir.as_raw_fd(), c.as_ptr(), mode, dev) })
}

#[cfg(target_os = "linux")]
fn make_dev(major: u64, minor: u64) -> io::Result<libc::dev_t> {
    let (Ok(major), Ok(minor)) = (u32::try_from(major), u32::try_from(minor)) else {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    };
    Ok(libc::makedev(major, minor))
}

#[cfg(not(target_os = "linux"))]
fn make_dev(major: u64, minor: u64) -> io::Result<libc::dev_t> {
    let (Ok(major), Ok(minor)) = (i32::try_from(major), i32::try_from(minor)) else {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    };
    Ok(libc::makedev(major, minor))
}

/// What `stat` says about an entry, in the same types on every platform.
#[derive(Clone, Copy, Debug)]
pub struct Meta {
    pub kind: FileKind,
    /// `S_IFMT` bits of the mode (to recreate a device or FIFO).
    pub format: libc::mode_t,
    /// Permission bits, `& 0o7777`.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub mtime: i64,
    pub dev: u64,
    pub ino: u64,
    pub nlink: u64,
    /// (major, minor) of a device.
    pub device: (u64, u64),
}

/// The metadata of `name`, not following a symlink.
pub fn stat(dir: &impl AsRawFd, name: &[u8]) -> io::Result<Meta> {
    let c = cstring(name)?;
    // SAFETY: an all-zero stat is a valid value for fstatat to fill.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: valid fd, NUL-terminated name and a stat to fill.
    check(unsafe {
        libc::fstatat(
            dir.as_raw_fd(),
            c.as_ptr(),
            &mut st,
            libc::AT_SYMLINK_NOFOLLOW,
        )
    })?;
    Ok(meta_of(&st))
}

// The field types of `struct stat` differ between Linux and macOS (u16
// modes, i32 devices): the casts are no-ops on one and needed on the other.
#[allow(clippy::unnecessary_cast, clippy::useless_conversion)]
fn meta_of(st: &libc::stat) -> Meta {
    let format = st.st_mode & libc::S_IFMT;
    let kind = match format {
        libc::S_IFDIR => FileKind::Dir,
        libc::S_IFREG => FileKind::File,
        libc::S_IFLNK => FileKind::Symlink,
        _ => FileKind::Other,
    };
    let rdev = st.st_rdev;
    Meta {
        kind,
        format,
        mode: u32::from(st.st_mode) & 0o7777,
        uid: st.st_uid,
        gid: st.st_gid,
        mtime: st.st_mtime as i64,
        dev: st.st_dev as u64,
        ino: st.st_ino as u64,
        nlink: st.st_nlink as u64,
        device: (libc::major(rdev) as u64, libc::minor(rdev) as u64),
    }
}

/// The names in a directory opened with [`open_dir_listing`] (`.` and `..`
/// left out). Takes the descriptor: listing consumes it.
pub fn list(dir: OwnedFd) -> io::Result<Vec<Vec<u8>>> {
    let fd = std::os::fd::IntoRawFd::into_raw_fd(dir);
    // SAFETY: fd is an open directory descriptor, owned by the DIR now.
    let stream = unsafe { libc::fdopendir(fd) };
    if stream.is_null() {
        let e = io::Error::last_os_error();
        // SAFETY: fdopendir failed, so fd is still ours to close.
        unsafe { libc::close(fd) };
        return Err(e);
    }
    let mut names = Vec::new();
    loop {
        // SAFETY: stream is a valid DIR until closedir below.
        let entry = unsafe { libc::readdir(stream) };
        if entry.is_null() {
            break;
        }
        // SAFETY: readdir returned a valid dirent whose d_name is NUL-terminated.
        let name = unsafe { std::ffi::CStr::from_ptr((*entry).d_name.as_ptr()) };
        let name = name.to_bytes();
        if name != b"." && name != b".." {
            names.push(name.to_vec());
        }
    }
    // SAFETY: stream is valid and closed once.
    unsafe { libc::closedir(stream) };
    Ok(names)
}

/// The permission bits of `name` (a directory or file, never a symlink).
pub fn chmod(dir: &impl AsRawFd, name: &[u8], mode: u32) -> io::Result<()> {
    let c = cstring(name)?;
    // SAFETY: valid fd and NUL-terminated name.
    check(unsafe {
        libc::fchmodat(
            dir.as_raw_fd(),
            c.as_ptr(),
            (mode & 0o7777) as libc::mode_t,
            0,
        )
    })
}

/// Owner (when given), permission bits and mtime of an open file.
pub fn set_meta_fd(fd: RawFd, owner: Option<(u32, u32)>, mode: u32, mtime: i64) -> io::Result<()> {
    // Owner first: chown clears setuid/setgid, so the mode comes after.
    if let Some((uid, gid)) = owner {
        // SAFETY: fd is open.
        check(unsafe { libc::fchown(fd, uid, gid) })?;
    }
    // SAFETY: fd is open.
    check(unsafe { libc::fchmod(fd, (mode & 0o7777) as libc::mode_t) })?;
    let times = [timespec(mtime), timespec(mtime)];
    // SAFETY: fd is open; two timespecs.
    check(unsafe { libc::futimens(fd, times.as_ptr()) })
}

/// Owner (when given), permission bits (when given: never for a symlink)
/// and mtime of `name` in `dir`, not following a symlink.
pub fn set_meta_at(
    dir: &impl AsRawFd,
    name: &[u8],
    owner: Option<(u32, u32)>,
    mode: Option<u32>,
    mtime: i64,
) -> io::Result<()> {
    let c = cstring(name)?;
    let fd = dir.as_raw_fd();
    if let Some((uid, gid)) = owner {
        // SAFETY: valid fd and NUL-terminated name; the entry itself.
        check(unsafe { libc::fchownat(fd, c.as_ptr(), uid, gid, libc::AT_SYMLINK_NOFOLLOW) })?;
    }
    if let Some(mode) = mode {
        chmod(dir, name, mode)?;
    }
    let times = [timespec(mtime), timespec(mtime)];
    // SAFETY: valid fd, name and a two-element timespec array.
    check(unsafe { libc::utimensat(fd, c.as_ptr(), times.as_ptr(), libc::AT_SYMLINK_NOFOLLOW) })
}

fn timespec(secs: i64) -> libc::timespec {
    libc::timespec {
        tv_sec: secs as libc::time_t,
        tv_nsec: 0,
    }
}
