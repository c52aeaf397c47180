//! Free space where pm writes: the state file's folder, the image store and
//! the dir backend's volumes (`statvfs`). A folder that does not exist yet
//! is measured at its nearest existing parent, where it would be created.

use super::{Probes, Section};
use schemars::JsonSchema;
use serde::Serialize;
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct DiskFacts {
    /// `state`, `images` or `volumes`.
    pub what: &'static str,
    pub path: PathBuf,
    pub exists: bool,
    /// Where it was measured: the path, or its nearest existing parent.
    pub measured_at: PathBuf,
    pub total_bytes: u64,
    /// Free to an unprivileged writer (`f_bavail`).
    pub available_bytes: u64,
    pub free_percent: f64,
    /// Free inodes as a percentage (`null` where the filesystem has no fixed count).
    pub free_inodes_percent: Option<f64>,
    /// An earlier entry on the same filesystem, if any.
    pub same_filesystem_as: Option<&'static str>,
    #[serde(skip)]
    pub device: u64,
}

pub fn probe(p: &Probes) -> Vec<(&'static str, Section<DiskFacts>)> {
    let paths = p.config.paths();
    let wanted: [(&'static str, PathBuf); 3] = [
        ("state", paths.dir().to_path_buf()),
        ("images", paths.images()),
        ("volumes", paths.volumes()),
    ];
    let mut out: Vec<(&'static str, Section<DiskFacts>)> = Vec::new();
    for (what, path) in wanted {
        let mut section = Section::from_result(measure(what, &path));
        if let Section::Known(facts) = &mut section {
            facts.same_filesystem_as = out.iter().find_map(|(w, s)| {
                s.known()
                    .filter(|earlier| earlier.device == facts.device)
                    .map(|_| *w)
            });
        }
        out.push((what, section));
    }
    out
}

fn measure(what: &'static str, path: &Path) -> anyhow::Result<DiskFacts> {
    let absolute = std::path::absolute(path)?;
    let measured_at = absolute
        .ancestors()
        .find(|a| a.is_dir())
        .unwrap_or(Path::new("/"))
        .to_path_buf();
    let device = std::fs::metadata(&measured_at)?.dev();
    let vfs = statvfs(&measured_at)?;
    let block = vfs.f_frsize as u64;
    let total_bytes = vfs.f_blocks as u64 * block;
    let available_bytes = vfs.f_bavail as u64 * block;
    let inodes = vfs.f_files as u64;
    Ok(DiskFacts {
        what,
        exists: absolute.exists(),
        path: path.to_path_buf(),
        measured_at,
        total_bytes,
        available_bytes,
        free_percent: super::dm::percent(available_bytes, total_bytes),
        free_inodes_percent: (inodes > 0).then(|| super::dm::percent(vfs.f_favail as u64, inodes)),
        same_filesystem_as: None,
        device,
    })
}

fn statvfs(path: &Path) -> std::io::Result<libc::statvfs> {
    let c = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
    // SAFETY: statvfs is plain data that the call fills on success.
    let mut out: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid NUL-terminated path and `out` a valid buffer.
    if unsafe { libc::statvfs(c.as_ptr(), &mut out) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(out)
}
