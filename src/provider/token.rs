//! The Ray cluster's auth token: read from the vault in-process (the same
//! `Vault::get` as `pm vault get`), held as a [`Secret`], and handed to the
//! node as a 0600 file that `RAY_AUTH_TOKEN_PATH` names: its daemons and
//! the workers they start later read it for as long as the node runs, so the
//! file stays until `leave`. It is never in argv, the state, logs or JSON.

use super::settings::Auth;
use crate::config::Config;
use crate::error::PmError;
use crate::paths::create_private_dir;
use crate::secret::Secret;
use crate::vault::{Field, Vault, VaultOptions};
use anyhow::{Context as _, Result};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// The token `auth` asks for: `None` when auth is disabled.
pub fn fetch(config: &Config, auth: &Auth, interactive: bool) -> Result<Option<Secret>> {
    let Auth::Token { item, field } = auth else {
        return Ok(None);
    };
    let options = VaultOptions {
        interactive,
        ..VaultOptions::default()
    };
    let vault = Vault::open(config, options)?;
    let found = vault
        .get(item, &Field::parse(field))
        .with_context(|| format!("reading the Ray token from vault item `{item}`"))?;
    let token = found.value.expose().trim();
    if token.is_empty() {
        return Err(PmError::VaultFieldMissing {
            item: item.clone(),
            field: field.clone(),
            available: Vec::new(),
        }
        .into());
    }
    Ok(Some(Secret::new(token)))
}

/// Writes the token file: a fresh 0600 file in a 0700 directory, renamed
/// into place, so Ray never reads a half-written token.
pub fn write_file(path: &Path, token: &Secret) -> Result<()> {
    let io = |what: &str, e: std::io::Error| PmError::io(format!("{what} {}", path.display()), e);
    if let Some(dir) = path.parent() {
        create_private_dir(dir).map_err(|e| io("cannot create the directory of", e))?;
    }
    let tmp = crate::paths::sidecar(path, ".partial");
    let _ = std::fs::remove_file(&tmp);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| io("cannot create", e))?;
    file.write_all(token.expose().as_bytes())
        .and_then(|_| file.sync_all())
        .map_err(|e| io("cannot write", e))?;
    std::fs::rename(&tmp, path).map_err(|e| io("cannot move into place", e))?;
    Ok(())
}

/// Removes the token file; `true` when there was one.
pub fn remove_file(path: &Path) -> Result<bool> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(PmError::io(format!("cannot remove {}", path.display()), e).into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_token_file_is_owner_only_and_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("provider/ray-auth-token");
        write_file(&path, &Secret::new("first-token-value")).unwrap();
        write_file(&path, &Secret::new("second-token-value")).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "second-token-value"
        );
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let dir_mode = std::fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(dir_mode & 0o777, 0o700);
        assert!(remove_file(&path).unwrap());
        assert!(!remove_file(&path).unwrap());
    }
}
