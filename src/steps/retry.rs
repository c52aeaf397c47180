//! How often, and how far apart, a step is tried.

use crate::error::{ExitCode, classify};
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

/// A step's retry policy: up to `attempts` tries, waiting `first_delay`,
/// then twice as long each time up to `max_delay`, with "equal jitter"
/// (half fixed, half random) so hosts that failed together do not retry
/// together. Only errors `retry_if` accepts are tried again.
#[derive(Clone, Copy, Debug)]
pub struct Retry {
    /// Tries in all, the first included; at least 1.
    pub attempts: u32,
    pub first_delay: Duration,
    pub max_delay: Duration,
    pub retry_if: fn(&anyhow::Error) -> bool,
}

impl Default for Retry {
    /// Three tries, 1 s then 2 s apart (plus jitter), for anything that
    /// trying again can fix.
    fn default() -> Retry {
        Retry {
            attempts: 3,
            first_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            retry_if: is_retryable,
        }
    }
}

impl Retry {
    /// One try: a failure is final.
    pub fn once() -> Retry {
        Retry {
            attempts: 1,
            ..Retry::default()
        }
    }

    /// The wait after the `failed`-th try (1 for the first).
    pub fn delay(&self, failed: u32) -> Duration {
        let doubling = 1u32 << failed.saturating_sub(1).min(16);
        let base = self
            .first_delay
            .saturating_mul(doubling)
            .min(self.max_delay);
        let half = base / 2;
        let random = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        half + Duration::from_nanos(random % (half.as_nanos() as u64 + 1))
    }
}

/// Whether trying again can help: not for a usage error, input refused as
/// invalid, something that does not exist, or refused credentials. Those
/// need a person; everything else (a transient failure, a tool not
/// answering, a precondition not met yet, I/O) may pass.
pub fn is_retryable(err: &anyhow::Error) -> bool {
    !matches!(
        classify(err).exit,
        ExitCode::Usage | ExitCode::Rejected | ExitCode::NotFound | ExitCode::Auth
    )
}

/// Retries every error (for a step whose own errors are all worth it).
pub fn always(_: &anyhow::Error) -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::PmError;

    #[test]
    fn delays_double_within_their_jitter_and_stay_under_the_cap() {
        let retry = Retry {
            attempts: 10,
            first_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
            retry_if: always,
        };
        for (failed, base_ms) in [
            (1, 100),
            (2, 200),
            (3, 400),
            (4, 800),
            (5, 1000),
            (30, 1000),
        ] {
            let delay = retry.delay(failed);
            let base = Duration::from_millis(base_ms);
            assert!(delay >= base / 2 && delay <= base, "{failed}: {delay:?}");
        }
    }

    #[test]
    fn errors_a_person_must_fix_are_not_retried() {
        assert!(!is_retryable(&PmError::usage("bad flag", None).into()));
        assert!(!is_retryable(&PmError::VaultWrongPassword.into()));
        assert!(is_retryable(&PmError::VaultServerUnreachable.into()));
        assert!(is_retryable(&anyhow::anyhow!("an unexpected I/O failure")));
    }
}
