//! Tables `images` and `image_sources`: a row in `images` means the blob is
//! complete, verified and in place; `image_sources` maps where it came from.

use super::{Reader, WriteTx};
use crate::digest::Digest;
use anyhow::Result;
use rusqlite::{OptionalExtension, params};
use std::path::{Path, PathBuf};

/// A stored image as recorded.
#[derive(Clone, Debug)]
pub struct ImageRow {
    pub digest: Digest,
    pub size: u64,
    pub path: PathBuf,
    /// Every source this content was fetched from, most recent first.
    pub sources: Vec<String>,
    pub created_at_ms: i64,
}

impl Reader {
    pub fn image(&self, digest: &Digest) -> Result<Option<ImageRow>> {
        let row = self
            .conn()
            .query_row(
                "SELECT size, path, created_at FROM images WHERE digest = ?1",
                [digest],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                    ))
                },
            )
            .optional()?;
        let Some((size, path, created_at_ms)) = row else {
            return Ok(None);
        };
        let sources = self
            .conn()
            .prepare("SELECT source FROM image_sources WHERE digest = ?1 ORDER BY fetched_at DESC")?
            .query_map([digest], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(Some(ImageRow {
            digest: digest.clone(),
            size: size as u64,
            path: PathBuf::from(path),
            sources,
            created_at_ms,
        }))
    }

    /// All images, newest first.
    pub fn images(&self) -> Result<Vec<ImageRow>> {
        let digests = self
            .conn()
            .prepare("SELECT digest FROM images ORDER BY created_at DESC, digest")?
            .query_map([], |r| r.get::<_, Digest>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut out = Vec::with_capacity(digests.len());
        for digest in digests {
            out.extend(self.image(&digest)?);
        }
        Ok(out)
    }

    /// The digest last fetched from `source`, if any.
    pub fn digest_for_source(&self, source: &str) -> Result<Option<Digest>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT digest FROM image_sources WHERE source = ?1",
                [source],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Up to `limit` digests whose hex starts with `hex_prefix` (lowercase).
    pub fn digests_with_prefix(&self, hex_prefix: &str, limit: u32) -> Result<Vec<Digest>> {
        let pattern = format!("sha256:{hex_prefix}%");
        Ok(self
            .conn()
            .prepare("SELECT digest FROM images WHERE digest LIKE ?1 ORDER BY digest LIMIT ?2")?
            .query_map(params![pattern, limit], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<Digest>>>()?)
    }
}

impl WriteTx<'_> {
    /// Records a blob that is complete, verified and already renamed into
    /// place, and the source it came from. Idempotent.
    pub fn record_image(
        &self,
        digest: &Digest,
        size: u64,
        path: &Path,
        source: &str,
        etag: Option<&str>,
    ) -> Result<()> {
        let now = super::now_ms();
        self.execute(
            "INSERT INTO images (digest, size, path, created_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (digest) DO NOTHING",
            params![digest, size as i64, path.display().to_string(), now],
        )?;
        self.execute(
            "INSERT INTO image_sources (source, digest, etag, fetched_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (source) DO UPDATE SET digest = ?2, etag = ?3, fetched_at = ?4",
            params![source, digest, etag, now],
        )?;
        Ok(())
    }

    /// Forgets an image and where it came from (its validation goes with it).
    pub fn remove_image(&self, digest: &Digest) -> Result<()> {
        self.execute("DELETE FROM image_sources WHERE digest = ?1", [digest])?;
        self.execute("DELETE FROM images WHERE digest = ?1", [digest])?;
        Ok(())
    }
}
