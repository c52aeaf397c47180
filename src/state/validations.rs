//! Table `image_validations`: the latest verdict of `pm image validate` on a
//! stored image (one row per digest). What the report holds is the
//! validator's business (`image::validate::record`); this file only stores it.

use super::{Reader, WriteTx};
use crate::digest::Digest;
use anyhow::Result;
use rusqlite::{OptionalExtension, params};

/// A verdict to store. The JSON fields are written by the validator.
pub struct ValidationRow<'a> {
    pub digest: &'a Digest,
    /// `safe` or `rejected`.
    pub verdict: &'static str,
    pub rules_version: u32,
    /// `[limits, policy]` in force.
    pub limits_json: &'a str,
    pub entries: u64,
    pub unpacked_bytes: u64,
    pub violations_json: &'a str,
    pub report_json: &'a str,
}

/// A stored verdict.
#[derive(Clone, Debug)]
pub struct StoredValidation {
    pub verdict: String,
    pub rules_version: u32,
    pub validated_at_ms: i64,
    pub report_json: String,
}

impl Reader {
    pub fn validation(&self, digest: &Digest) -> Result<Option<StoredValidation>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT verdict, rules_version, validated_at, report
                 FROM image_validations WHERE digest = ?1",
                [digest],
                |r| {
                    Ok(StoredValidation {
                        verdict: r.get(0)?,
                        rules_version: r.get::<_, i64>(1)?.clamp(0, i64::from(u32::MAX)) as u32,
                        validated_at_ms: r.get(2)?,
                        report_json: r.get(3)?,
                    })
                },
            )
            .optional()?)
    }
}

impl WriteTx<'_> {
    /// Stores the verdict on a stored image, replacing an earlier one.
    pub fn record_validation(&self, v: &ValidationRow<'_>) -> Result<()> {
        self.execute(
            "INSERT INTO image_validations
                 (digest, verdict, rules_version, limits, entries, unpacked_bytes, violations, report, validated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (digest) DO UPDATE SET
                 verdict = ?2, rules_version = ?3, limits = ?4, entries = ?5,
                 unpacked_bytes = ?6, violations = ?7, report = ?8, validated_at = ?9",
            params![
                v.digest,
                v.verdict,
                v.rules_version,
                v.limits_json,
                v.entries as i64,
                v.unpacked_bytes as i64,
                v.violations_json,
                v.report_json,
                super::now_ms()
            ],
        )?;
        Ok(())
    }
}
