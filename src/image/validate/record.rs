//! Validation results of stored images, in the state table
//! `image_validations` (one row per digest: the latest verdict), so
//! `pm image activate` can refuse an image not validated safe and a re-run
//! with the same limits is recognised.
//!
//! A record is a bounded summary: the verdict, limits, counts, the first
//! [`RECORDED_VIOLATIONS`] violations and notices and the count of every
//! rule, whatever the archive held. A record of another rules version, or
//! one this pm cannot read, is as good as none: the image is "not validated
//! with these limits".

use super::{Limits, Policy, RULES_VERSION, Report, Verdict};
use crate::state::{State, format_ms, now_ms};
use anyhow::Result;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

/// Violations (and notices) a record keeps in full; the rest are counted.
pub const RECORDED_VIOLATIONS: usize = 100;

/// The stored verdict on an image.
#[derive(Clone, Debug, Serialize)]
pub struct ValidationRecord {
    pub digest: String,
    pub verdict: Verdict,
    pub rules_version: u32,
    pub validated_at: String,
    /// The full report of that validation (limits, counts, violations).
    pub report: Report,
}

impl ValidationRecord {
    /// Safe, by the current rules.
    pub fn is_safe(&self) -> bool {
        self.verdict == Verdict::Safe && self.rules_version == RULES_VERSION
    }

    /// Whether this record answers a validation with these settings now.
    pub fn matches(&self, limits: &Limits, policy: &Policy) -> bool {
        self.rules_version == RULES_VERSION
            && &self.report.limits == limits
            && &self.report.policy == policy
    }
}

/// The latest validation of a stored image by the current rules, if any.
pub fn validation_for(state: &State, digest: &str) -> Result<Option<ValidationRecord>> {
    let row = state
        .reader()
        .query_row(
            "SELECT verdict, rules_version, validated_at, report
             FROM image_validations WHERE digest = ?1",
            [digest],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                ))
            },
        )
        .optional()?;
    let Some((verdict, rules_version, validated_at, report)) = row else {
        return Ok(None);
    };
    if rules_version != i64::from(RULES_VERSION) {
        return Ok(None);
    }
    let report: Report = match serde_json::from_str(&report) {
        Ok(report) => report,
        Err(e) => {
            tracing::debug!(digest, error = %e, "stored_validation_unreadable");
            return Ok(None);
        }
    };
    Ok(Some(ValidationRecord {
        digest: digest.to_string(),
        verdict: if verdict == "safe" {
            Verdict::Safe
        } else {
            Verdict::Rejected
        },
        rules_version: RULES_VERSION,
        validated_at: format_ms(validated_at),
        report,
    }))
}

/// Stores the verdict on a stored image, replacing an earlier one.
pub fn record_validation(state: &mut State, digest: &str, report: &Report) -> Result<()> {
    let verdict = match report.verdict {
        Verdict::Safe => "safe",
        Verdict::Rejected => "rejected",
    };
    let summary = bounded(report);
    let limits = serde_json::to_string(&(&summary.limits, &summary.policy))?;
    let violations = serde_json::to_string(&summary.violations)?;
    let full = serde_json::to_string(&summary)?;
    state.write(|tx| {
        tx.execute(
            "INSERT INTO image_validations
                 (digest, verdict, rules_version, limits, entries, unpacked_bytes, violations, report, validated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (digest) DO UPDATE SET
                 verdict = ?2, rules_version = ?3, limits = ?4, entries = ?5,
                 unpacked_bytes = ?6, violations = ?7, report = ?8, validated_at = ?9",
            params![
                digest,
                verdict,
                RULES_VERSION,
                limits,
                summary.counts.entries as i64,
                summary.unpacked_bytes as i64,
                violations,
                full,
                now_ms()
            ],
        )?;
        Ok(())
    })
}

/// The report with its lists cut to [`RECORDED_VIOLATIONS`] (the counts stay
/// complete).
fn bounded(report: &Report) -> Report {
    let mut summary = report.clone();
    summary.violations.truncate(RECORDED_VIOLATIONS);
    summary.notices.truncate(RECORDED_VIOLATIONS);
    summary
}
