//! The content-addressed image store beside the state file.
//!
//! A blob lives at `<state dir>/images/sha256/<hex>` and is recorded in the
//! `images` table only once it is complete, verified and renamed into place,
//! so a row in `images` always means "this file is whole and has this digest".
//! Sources (`s3://…`, `https://…`, local paths) map to digests in
//! `image_sources`; several sources may name the same content.

use crate::digest::Digest;
use crate::error::PmError;
use crate::image::source::Source;
use crate::lock::Held;
use crate::paths::StatePaths;
use crate::state::{ImageRow, Reader, State, format_ms};
use anyhow::Result;
use schemars::JsonSchema;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Where blobs live for a given state file.
#[derive(Clone, Debug)]
pub struct ImageStore {
    paths: StatePaths,
}

/// A complete, verified image in the store.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct ImageRecord {
    /// The first 12 hex digits of the digest.
    pub id: String,
    pub digest: Digest,
    pub size: u64,
    pub path: PathBuf,
    /// Every source this content was fetched from, most recent first.
    pub sources: Vec<String>,
    pub created_at: String,
}

impl From<ImageRow> for ImageRecord {
    fn from(row: ImageRow) -> ImageRecord {
        ImageRecord {
            id: row.digest.short_id().to_string(),
            digest: row.digest,
            size: row.size,
            path: row.path,
            sources: row.sources,
            created_at: format_ms(row.created_at_ms),
        }
    }
}

impl ImageStore {
    pub fn new(paths: &StatePaths) -> ImageStore {
        ImageStore {
            paths: paths.clone(),
        }
    }

    /// `images/`.
    pub fn root(&self) -> PathBuf {
        self.paths.images()
    }

    /// `images/sha256/<hex>`.
    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.paths.blob(digest.hex())
    }

    /// Records a blob that is complete, verified and already renamed into
    /// place, and the source it came from. Idempotent.
    pub fn record_ready(
        &self,
        state: &mut State,
        held: &dyn Held,
        digest: &Digest,
        size: u64,
        source: &str,
        etag: Option<&str>,
    ) -> Result<ImageRecord> {
        let path = self.blob_path(digest);
        state.write(held, |tx| {
            tx.record_image(digest, size, &path, source, etag)
        })?;
        self.by_digest(state, digest)?
            .ok_or_else(|| anyhow::anyhow!("image {digest} vanished right after being recorded"))
    }

    pub fn by_digest(&self, db: &Reader, digest: &Digest) -> Result<Option<ImageRecord>> {
        Ok(db.image(digest)?.map(ImageRecord::from))
    }

    /// All images, newest first.
    pub fn list(&self, db: &Reader) -> Result<Vec<ImageRecord>> {
        Ok(db.images()?.into_iter().map(ImageRecord::from).collect())
    }

    /// What still uses an image (its activations), so `rm` can refuse.
    pub fn users_of(&self, db: &Reader, digest: &Digest) -> Result<Vec<String>> {
        Ok(db
            .activations()?
            .into_iter()
            .filter(|a| &a.image == digest)
            .map(|a| format!("activation {}", a.name))
            .collect())
    }

    /// Forgets an image and deletes its blob. The row goes first: a crash in
    /// between leaves an unreferenced blob for `gc`, never a row without a file.
    pub fn remove(&self, state: &mut State, held: &dyn Held, digest: &Digest) -> Result<()> {
        state.write(held, |tx| tx.remove_image(digest))?;
        let blob = self.blob_path(digest);
        match std::fs::remove_file(&blob) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(PmError::io(format!("cannot delete {}", blob.display()), e).into())
            }
            _ => Ok(()),
        }
    }

    /// Finds an image by a source it was fetched from (a local path given
    /// relative to `cwd` as well, resolved the way `fetch` records it), by
    /// full digest (with or without `sha256:`), or by short id or id prefix
    /// (at least 4 hex digits). An ambiguous prefix is an error listing the
    /// candidates, never a guess.
    pub fn resolve(&self, db: &Reader, reference: &str, cwd: &Path) -> Result<ImageRecord> {
        if let Some(record) = self.by_source(db, reference, cwd)? {
            return Ok(record);
        }
        let hex = reference
            .strip_prefix("sha256:")
            .unwrap_or(reference)
            .to_ascii_lowercase();
        if hex.len() >= 4 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
            match db.digests_with_prefix(&hex, 10)?.as_slice() {
                [one] => {
                    if let Some(record) = self.by_digest(db, one)? {
                        return Ok(record);
                    }
                }
                [] => {}
                many => {
                    let ids: Vec<&str> = many.iter().map(Digest::short_id).collect();
                    return Err(PmError::usage(
                        format!("image reference {reference:?} is ambiguous"),
                        Some(format!("use more digits; it matches {}", ids.join(", "))),
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

    /// The image last fetched from `reference` as written, or as `fetch`
    /// would spell it (an absolute, resolved local path).
    fn by_source(&self, db: &Reader, reference: &str, cwd: &Path) -> Result<Option<ImageRecord>> {
        let canonical = Source::parse(reference, cwd).ok().map(|s| s.canonical());
        for source in std::iter::once(reference.to_string()).chain(canonical) {
            if let Some(digest) = db.digest_for_source(&source)?
                && let Some(record) = self.by_digest(db, &digest)?
            {
                return Ok(Some(record));
            }
        }
        Ok(None)
    }
}
