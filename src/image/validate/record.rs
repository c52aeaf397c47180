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
use crate::digest::Digest;
use crate::lock::Held;
use crate::state::{Reader, State, ValidationRow, format_ms};
use anyhow::Result;
use serde::Serialize;

/// Violations (and notices) a record keeps in full; the rest are counted.
pub const RECORDED_VIOLATIONS: usize = 100;

/// The stored verdict on an image.
#[derive(Clone, Debug, Serialize)]
pub struct ValidationRecord {
    pub digest: Digest,
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
/// A record an older pm wrote (other rules, another shape) counts as no
/// validation: the image is validated again, never misread.
pub fn validation_for(db: &Reader, digest: &Digest) -> Result<Option<ValidationRecord>> {
    let Some(stored) = db.validation(digest)? else {
        return Ok(None);
    };
    if stored.rules_version != RULES_VERSION {
        return Ok(None);
    }
    let report: Report = match serde_json::from_str(&stored.report_json) {
        Ok(report) => report,
        Err(e) => {
            tracing::debug!(digest = %digest, error = %e, "stored_validation_unreadable");
            return Ok(None);
        }
    };
    Ok(Some(ValidationRecord {
        digest: digest.clone(),
        verdict: if stored.verdict == "safe" {
            Verdict::Safe
        } else {
            Verdict::Rejected
        },
        rules_version: RULES_VERSION,
        validated_at: format_ms(stored.validated_at_ms),
        report,
    }))
}

/// Stores the verdict on a stored image, replacing an earlier one.
pub fn record_validation(
    state: &mut State,
    held: &dyn Held,
    digest: &Digest,
    report: &Report,
) -> Result<()> {
    let verdict = match report.verdict {
        Verdict::Safe => "safe",
        Verdict::Rejected => "rejected",
    };
    let summary = bounded(report);
    let limits = serde_json::to_string(&(&summary.limits, &summary.policy))?;
    let violations = serde_json::to_string(&summary.violations)?;
    let full = serde_json::to_string(&summary)?;
    state.write(held, |tx| {
        tx.record_validation(&ValidationRow {
            digest,
            verdict,
            rules_version: RULES_VERSION,
            limits_json: &limits,
            entries: summary.counts.entries,
            unpacked_bytes: summary.unpacked_bytes,
            violations_json: &violations,
            report_json: &full,
        })
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
