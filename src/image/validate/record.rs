//! Validation results of stored images, in the state table
//! `image_validations` (one row per digest: the latest verdict), so
//! `pm image activate` can refuse an image not validated safe and a re-run
//! with the same limits is recognised.

use super::{Limits, Policy, RULES_VERSION, Report, Verdict};
use crate::digest::Digest;
use crate::lock::Held;
use crate::state::{Reader, State, ValidationRow, format_ms};
use anyhow::Result;
use serde::Serialize;

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

/// The latest validation of a stored image, if any.
pub fn validation_for(db: &Reader, digest: &Digest) -> Result<Option<ValidationRecord>> {
    let Some(stored) = db.validation(digest)? else {
        return Ok(None);
    };
    let report: Report = serde_json::from_str(&stored.report_json)
        .map_err(|e| anyhow::anyhow!("the stored validation of {digest} is unreadable: {e}"))?;
    Ok(Some(ValidationRecord {
        digest: digest.clone(),
        verdict: if stored.verdict == "safe" {
            Verdict::Safe
        } else {
            Verdict::Rejected
        },
        rules_version: stored.rules_version,
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
    let limits = serde_json::to_string(&(&report.limits, &report.policy))?;
    let violations = serde_json::to_string(&report.violations)?;
    let full = serde_json::to_string(report)?;
    state.write(held, |tx| {
        tx.record_validation(&ValidationRow {
            digest,
            verdict,
            rules_version: RULES_VERSION,
            limits_json: &limits,
            entries: report.counts.entries,
            unpacked_bytes: report.unpacked_bytes,
            violations_json: &violations,
            report_json: &full,
        })
    })
}
