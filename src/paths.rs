//! Every path pm derives from the state file, in one place: the locks beside
//! it, the image store and the dir backend's volumes in its directory. And
//! the two helpers that create them owner-only.
//!
//! A leaf module: it depends on nothing else of pm's, so the state, the
//! locks, the store and the pool can all use it without depending on each
//! other.

use std::fs::{DirBuilder, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// The files and folders that belong to one state file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatePaths {
    state: PathBuf,
}

impl StatePaths {
    pub fn new(state: &Path) -> StatePaths {
        StatePaths {
            state: state.to_path_buf(),
        }
    }

    /// The SQLite file.
    pub fn state(&self) -> &Path {
        &self.state
    }

    /// The folder holding the state file and everything beside it.
    pub fn dir(&self) -> &Path {
        self.state
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
    }

    /// `<state>.lock`: the state lock (short critical sections).
    pub fn state_lock(&self) -> PathBuf {
        sidecar(&self.state, ".lock")
    }

    /// `<state>.pool.lock`: the pool lock (work on volumes and activations).
    pub fn pool_lock(&self) -> PathBuf {
        sidecar(&self.state, ".pool.lock")
    }

    /// `<state>.net.lock`: the network lock, held for a whole `pm net
    /// up|down|leave` (a login can take a minute and must not run twice).
    pub fn net_lock(&self) -> PathBuf {
        sidecar(&self.state, ".net.lock")
    }

    /// `tailscaled.log`: stdout and stderr of a tailscaled pm started.
    pub fn tailscaled_log(&self) -> PathBuf {
        self.dir().join("tailscaled.log")
    }

    /// `<state>.provider.lock`: the provider lock, held for a whole
    /// `pm provider onboard` or `leave`, so two onboardings of one host
    /// never interleave.
    pub fn provider_lock(&self) -> PathBuf {
        sidecar(&self.state, ".provider.lock")
    }

    /// `provider/`: the provider's venv, Ray's temp dir and the node's auth
    /// token file (owner-only).
    pub fn provider_dir(&self) -> PathBuf {
        self.dir().join("provider")
    }

    /// `<state>-wal`: SQLite's write-ahead log.
    pub fn wal(&self) -> PathBuf {
        sidecar(&self.state, "-wal")
    }

    /// `images/`: the content-addressed store.
    pub fn images(&self) -> PathBuf {
        self.dir().join("images")
    }

    /// `images/sha256/<hex>`: one verified blob.
    pub fn blob(&self, hex: &str) -> PathBuf {
        self.images().join("sha256").join(hex)
    }

    /// `images/partial/`: downloads in progress and their locks.
    pub fn partial_downloads(&self) -> PathBuf {
        self.images().join("partial")
    }

    /// `volumes/`: the dir backend's bases and activations.
    pub fn volumes(&self) -> PathBuf {
        self.dir().join("volumes")
    }
}

/// `path` with `suffix` appended to its file name.
pub fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Creates a directory (and parents) readable only by its owner.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

/// Creates an empty owner-only file if none exists.
pub fn create_private_file(path: &Path) -> io::Result<()> {
    match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_derives_from_the_state_file() {
        let p = StatePaths::new(Path::new("/var/lib/pm/state.db"));
        assert_eq!(p.state_lock(), Path::new("/var/lib/pm/state.db.lock"));
        assert_eq!(p.pool_lock(), Path::new("/var/lib/pm/state.db.pool.lock"));
        assert_eq!(p.net_lock(), Path::new("/var/lib/pm/state.db.net.lock"));
        assert_eq!(p.tailscaled_log(), Path::new("/var/lib/pm/tailscaled.log"));
        assert_eq!(
            p.provider_lock(),
            Path::new("/var/lib/pm/state.db.provider.lock")
        );
        assert_eq!(p.provider_dir(), Path::new("/var/lib/pm/provider"));
        assert_eq!(p.blob("ab"), Path::new("/var/lib/pm/images/sha256/ab"));
        assert_eq!(p.volumes(), Path::new("/var/lib/pm/volumes"));
        assert_eq!(StatePaths::new(Path::new("s.db")).dir(), Path::new("."));
    }
}
