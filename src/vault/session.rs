//! The cached bw session key: one owner-only file under the runtime
//! directory (`$XDG_RUNTIME_DIR/pm/vault-session` or `/run/pm/...`), so the
//! next pm command can read the vault without the master password.
//!
//! Never in the state database: the runtime directory is a tmpfs that a
//! reboot clears, and a session must not outlive the machine's uptime in a
//! backup. The file is written whole or not at all (temp file created 0600,
//! then renamed), in a directory only the owner can enter.

use crate::error::PmError;
use crate::secret::Secret;
use anyhow::Result;
use std::fs::{DirBuilder, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::PathBuf;
use zeroize::Zeroizing;

const FILE_NAME: &str = "vault-session";

pub struct SessionCache {
    dir: PathBuf,
}

impl SessionCache {
    pub fn new(runtime_dir: PathBuf) -> SessionCache {
        SessionCache { dir: runtime_dir }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join(FILE_NAME)
    }

    /// The lock file that serialises unlocks, beside the session.
    pub fn lock_path(&self) -> PathBuf {
        self.dir.join("vault.lock")
    }

    /// The cached session, if there is one. A file that others could read is
    /// not trusted (and not used): someone may have planted it.
    pub fn load(&self) -> Result<Option<Secret>> {
        let path = self.path();
        let meta = match std::fs::metadata(&path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(PmError::io(format!("cannot read {}", path.display()), e).into()),
        };
        // SAFETY: geteuid has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        if meta.uid() != me || meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(path = %path.display(), "vault_session_ignored_unsafe_mode");
            return Ok(None);
        }
        let text = Zeroizing::new(
            std::fs::read_to_string(&path)
                .map_err(|e| PmError::io(format!("cannot read {}", path.display()), e))?,
        );
        let key = text.trim();
        Ok((!key.is_empty()).then(|| Secret::new(key)))
    }

    /// Replaces the cached session atomically.
    pub fn store(&self, session: &Secret) -> Result<()> {
        self.ensure_private_dir()?;
        let path = self.path();
        let temp = self
            .dir
            .join(format!(".{FILE_NAME}.{}.tmp", std::process::id()));
        let _ = std::fs::remove_file(&temp);
        let write = || -> std::io::Result<()> {
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&temp)?;
            file.write_all(session.expose().as_bytes())?;
            file.sync_all()?;
            std::fs::rename(&temp, &path)
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&temp);
            PmError::io(format!("cannot write {}", path.display()), e)
        })?;
        tracing::debug!(path = %path.display(), "vault_session_stored");
        Ok(())
    }

    /// Removes the cached session; true if there was one.
    pub fn clear(&self) -> Result<bool> {
        let path = self.path();
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
            Err(e) => Err(PmError::io(format!("cannot remove {}", path.display()), e).into()),
        }
    }

    /// Removes the cached session only if it is still `stale`: another pm
    /// may have stored a fresh one meanwhile.
    pub fn clear_if(&self, stale: &Secret) -> Result<()> {
        if let Some(current) = self.load()?
            && current.expose() == stale.expose()
        {
            self.clear()?;
        }
        Ok(())
    }

    /// Creates the directory 0700, or tightens an existing one of ours.
    fn ensure_private_dir(&self) -> Result<()> {
        let dir = &self.dir;
        let io = |e| PmError::io(format!("cannot create directory {}", dir.display()), e);
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(io)?;
        let mode = std::fs::metadata(dir).map_err(io)?.permissions().mode();
        if mode & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_session_is_owner_only_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let cache = SessionCache::new(dir.path().join("run/pm"));
        assert!(cache.load().unwrap().is_none());
        cache.store(&Secret::new("session-key-for-test")).unwrap();
        let mode = std::fs::metadata(cache.path())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let dir_mode = std::fs::metadata(dir.path().join("run/pm"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(dir_mode & 0o777, 0o700);
        assert_eq!(
            cache.load().unwrap().unwrap().expose(),
            "session-key-for-test"
        );
        assert!(cache.clear().unwrap());
        assert!(!cache.clear().unwrap());
    }

    #[test]
    fn a_session_file_others_can_read_is_not_used() {
        let dir = tempfile::tempdir().unwrap();
        let cache = SessionCache::new(dir.path().to_path_buf());
        cache.store(&Secret::new("planted-session-key")).unwrap();
        std::fs::set_permissions(cache.path(), std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(cache.load().unwrap().is_none());
    }
}
