//! Tables `downloads` and `download_parts`: resumable fetches. A row in
//! `downloads` is an interrupted or running fetch; `download_parts` lists the
//! parts already written to its partial file. All of them are trusted within
//! the same boot; after a reboot only the `durable` ones, written before an
//! fsync of the partial file.

use super::{Reader, WriteTx};
use anyhow::Result;
use rusqlite::{OptionalExtension, params};
use std::path::{Path, PathBuf};

/// The `downloads` row of an earlier, interrupted run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interrupted {
    pub etag: Option<String>,
    pub size: u64,
    pub part_size: u64,
    pub boot_id: Option<String>,
}

/// A download about to start.
pub struct NewDownload<'a> {
    pub source: &'a str,
    pub etag: Option<&'a str>,
    pub size: u64,
    pub part_size: u64,
    pub partial_path: &'a Path,
    pub boot_id: Option<&'a str>,
}

/// A download untouched for a while, for `pm image gc`.
#[derive(Clone, Debug)]
pub struct StaleDownload {
    pub source: String,
    pub partial_path: PathBuf,
}

impl Reader {
    pub fn interrupted_download(&self, source: &str) -> Result<Option<Interrupted>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT etag, size, part_size, boot_id FROM downloads WHERE source = ?1",
                [source],
                |r| {
                    Ok(Interrupted {
                        etag: r.get(0)?,
                        size: r.get::<_, i64>(1)? as u64,
                        part_size: r.get::<_, i64>(2)? as u64,
                        boot_id: r.get(3)?,
                    })
                },
            )
            .optional()?)
    }

    /// The parts recorded as written; only the durable ones unless
    /// `all_written` (a resume within the same boot).
    pub fn done_parts(&self, source: &str, all_written: bool) -> Result<Vec<u64>> {
        let mut stmt = self
            .conn()
            .prepare("SELECT part FROM download_parts WHERE source = ?1 AND (durable = 1 OR ?2)")?;
        let parts = stmt
            .query_map(params![source, all_written], |r| r.get::<_, i64>(0))?
            .collect::<rusqlite::Result<Vec<i64>>>()?;
        Ok(parts
            .into_iter()
            .filter_map(|p| u64::try_from(p).ok())
            .collect())
    }

    /// Downloads not updated since `cutoff_ms`.
    pub fn stale_downloads(&self, cutoff_ms: i64) -> Result<Vec<StaleDownload>> {
        Ok(self
            .conn()
            .prepare("SELECT source, partial_path FROM downloads WHERE updated_at < ?1")?
            .query_map([cutoff_ms], |r| {
                Ok(StaleDownload {
                    source: r.get(0)?,
                    partial_path: PathBuf::from(r.get::<_, String>(1)?),
                })
            })?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// The partial file of every recorded download.
    pub fn download_partial_paths(&self) -> Result<Vec<PathBuf>> {
        Ok(self
            .conn()
            .prepare("SELECT partial_path FROM downloads")?
            .query_map([], |r| r.get::<_, String>(0))?
            .map(|p| p.map(PathBuf::from))
            .collect::<rusqlite::Result<_>>()?)
    }
}

impl WriteTx<'_> {
    /// Starts a download afresh, replacing any earlier row for the source.
    pub fn start_download(&self, d: &NewDownload<'_>) -> Result<()> {
        let now = super::now_ms();
        self.forget_download(d.source)?;
        self.execute(
            "INSERT INTO downloads (source, etag, size, part_size, partial_path, boot_id, started_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
            params![
                d.source,
                d.etag,
                d.size as i64,
                d.part_size as i64,
                d.partial_path.display().to_string(),
                d.boot_id,
                now
            ],
        )?;
        Ok(())
    }

    /// One part written to the partial file.
    pub fn record_part(&self, source: &str, part: u64) -> Result<()> {
        self.execute(
            "INSERT OR IGNORE INTO download_parts (source, part) VALUES (?1, ?2)",
            params![source, part as i64],
        )?;
        self.execute(
            "UPDATE downloads SET updated_at = ?2 WHERE source = ?1",
            params![source, super::now_ms()],
        )?;
        Ok(())
    }

    /// Parts covered by an fsync of the partial file: they survive a power cut.
    pub fn mark_parts_durable(&self, source: &str, parts: &[u64]) -> Result<()> {
        let mut stmt =
            self.prepare("UPDATE download_parts SET durable = 1 WHERE source = ?1 AND part = ?2")?;
        for &part in parts {
            stmt.execute(params![source, part as i64])?;
        }
        Ok(())
    }

    /// Drops a download's row (and its parts, by cascade).
    pub fn forget_download(&self, source: &str) -> Result<()> {
        self.execute("DELETE FROM downloads WHERE source = ?1", [source])?;
        Ok(())
    }
}
