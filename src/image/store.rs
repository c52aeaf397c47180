//! The content-addressed image store beside the state file.
//!
//! A blob lives at `<state dir>/images/sha256/<hex>` and is recorded in the
//! `images` table only once it is complete, verified and renamed into place,
//! so a row in `images` always means "this file is whole and has this digest".
//! Sources (`s3://…`, `https://…`, local paths) map to digests in
//! `image_sources`; several sources may name the same content.

use crate::error::PmError;
use crate::state::{State, format_ms};
use anyhow::Result;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Length of the short id shown to people (like docker's 12-hex ids).
pub const SHORT_ID_LEN: usize = 12;

/// Where blobs live for a given state file.
#[derive(Clone, Debug)]
pub struct ImageStore {
    root: PathBuf,
}

/// A complete, verified image in the store.
#[derive(Clone, Debug, Serialize)]
pub struct ImageRecord {
    /// The first 12 hex digits of the digest.
    pub id: String,
    /// `sha256:<64 hex>`.
    pub digest: String,
    pub size: u64,
    pub path: PathBuf,
    /// Every source this content was fetched from, most recent first.
    pub sources: Vec<String>,
    pub created_at: String,
}

impl ImageStore {
    /// The store that belongs to a state file: `images/` beside it.
    pub fn for_state(state_path: &Path) -> ImageStore {
        let dir = state_path.parent().unwrap_or(Path::new("."));
        ImageStore {
            root: dir.join("images"),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `images/sha256/<hex>`.
    pub fn blob_path(&self, hex: &str) -> PathBuf {
        self.root.join("sha256").join(hex)
    }

    /// Records a blob that is complete, verified and already renamed into
    /// place, and the source it came from. Idempotent.
    pub fn record_ready(
        &self,
        state: &mut State,
        hex: &str,
        size: u64,
        source: &str,
        etag: Option<&str>,
    ) -> Result<ImageRecord> {
        let digest = format!("sha256:{hex}");
        let path = self.blob_path(hex);
        let now = crate::state::now_ms();
        state.write(|tx| {
            tx.execute(
                "INSERT INTO images (digest, size, path, created_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (digest) DO NOTHING",
                params![digest, size as i64, path.display().to_string(), now],
            )?;
            tx.execute(
                "INSERT INTO image_sources (source, digest, etag, fetched_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (source) DO UPDATE SET digest = ?2, etag = ?3, fetched_at = ?4",
                params![source, digest, etag, now],
            )?;
            Ok(())
        })?;
        self.by_digest(state, &digest)?
            .ok_or_else(|| anyhow::anyhow!("image {digest} vanished right after being recorded"))
    }

    pub fn by_digest(&self, state: &State, digest: &str) -> Result<Option<ImageRecord>> {
        let row = state
            .reader()
            .query_row(
                "SELECT digest, size, path, created_at FROM images WHERE digest = ?1",
                [digest],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, i64>(3)?,
                    ))
                },
            )
            .optional()?;
        let Some((digest, size, path, created_at)) = row else {
            return Ok(None);
        };
        let sources = state
            .reader()
            .prepare("SELECT source FROM image_sources WHERE digest = ?1 ORDER BY fetched_at DESC")?
            .query_map([&digest], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(Some(ImageRecord {
            id: short_id(&digest),
            size: size as u64,
            path: PathBuf::from(path),
            sources,
            created_at: format_ms(created_at),
            digest,
        }))
    }

    /// The digest last fetched from `source`, if any.
    pub fn digest_for_source(&self, state: &State, source: &str) -> Result<Option<String>> {
        Ok(state
            .reader()
            .query_row(
                "SELECT digest FROM image_sources WHERE source = ?1",
                [source],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// All images, newest first.
    pub fn list(&self, state: &State) -> Result<Vec<ImageRecord>> {
        let digests = state
            .reader()
            .prepare("SELECT digest FROM images ORDER BY created_at DESC, digest")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        let mut out = Vec::with_capacity(digests.len());
        for digest in digests {
            out.extend(self.by_digest(state, &digest)?);
        }
        Ok(out)
    }

    /// What still uses an image (activations, once they exist), so `rm`
    /// can refuse. Later features add their tables here.
    pub fn users_of(&self, state: &State, digest: &str) -> Result<Vec<String>> {
        let has_activations: bool = state.reader().query_row(
            "SELECT count(*) > 0 FROM pragma_table_info('activations') WHERE name = 'image_digest'",
            [],
            |r| r.get(0),
        )?;
        if !has_activations {
            return Ok(Vec::new());
        }
        Ok(state
            .reader()
            .prepare("SELECT 'activation ' || name FROM activations WHERE image_digest = ?1")?
            .query_map([digest], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?)
    }

    /// Forgets an image and deletes its blob. The row goes first: a crash in
    /// between leaves an unreferenced blob for `gc`, never a row without a file.
    pub fn remove(&self, state: &mut State, digest: &str) -> Result<()> {
        state.write(|tx| {
            tx.execute("DELETE FROM image_sources WHERE digest = ?1", [digest])?;
            tx.execute("DELETE FROM images WHERE digest = ?1", [digest])?;
            Ok(())
        })?;
        let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
        match std::fs::remove_file(self.blob_path(hex)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(PmError::io(
                format!("cannot delete {}", self.blob_path(hex).display()),
                e,
            )
            .into()),
            _ => Ok(()),
        }
    }

    /// Finds an image by short id or id prefix (at least 4 hex digits), full
    /// digest (with or without `sha256:`), or a source it was fetched from.
    /// An ambiguous prefix is an error listing the candidates, never a guess.
    pub fn resolve(&self, state: &State, reference: &str) -> Result<ImageRecord> {
        if let Some(digest) = self.digest_for_source(state, reference)?
            && let Some(record) = self.by_digest(state, &digest)?
        {
            return Ok(record);
        }
        let hex = reference.strip_prefix("sha256:").unwrap_or(reference);
        if hex.len() >= 4 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
            let pattern = format!("sha256:{}%", hex.to_ascii_lowercase());
            let matches = state
                .reader()
                .prepare("SELECT digest FROM images WHERE digest LIKE ?1 ORDER BY digest LIMIT 10")?
                .query_map([&pattern], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()?;
            match matches.as_slice() {
                [one] => {
                    if let Some(record) = self.by_digest(state, one)? {
                        return Ok(record);
                    }
                }
                [] => {}
                many => {
                    return Err(PmError::usage(
                        format!("image reference {reference:?} is ambiguous"),
                        Some(format!(
                            "use more digits; it matches {}",
                            many.iter()
                                .map(|d| short_id(d))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )),
                    )
                    .into());
                }
            }
        }
        Err(PmError::not_found(
            format!("image {reference:?}"),
            Some("see `pm image list`; fetch it first with `pm image fetch SOURCE`".to_string()),
        )
        .into())
    }
}

/// `sha256:abcdef…` → `abcdef012345`.
pub fn short_id(digest: &str) -> String {
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    hex.chars().take(SHORT_ID_LEN).collect()
}
