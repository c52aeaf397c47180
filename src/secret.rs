//! Secrets in memory, and the redaction every log line passes through.
//!
//! A [`Secret`] cannot be printed, serialised or logged by accident: its
//! `Debug` says `[redacted]`, it has no `Display` or `Serialize`, and its
//! bytes are zeroed on drop. Creating one also registers its text with the
//! log redactor, so even a child process's output that echoes it (and ends up
//! in a debug log) has it replaced. The value itself leaves only through
//! [`Secret::expose`], at the few places that hand it to a pipe, a 0600 file
//! or a child's environment.

use std::borrow::Cow;
use std::sync::{Arc, RwLock, Weak};
use zeroize::Zeroizing;

/// Text that must never appear in argv, logs, JSON, the state or errors.
pub struct Secret(Arc<Zeroizing<String>>);

/// What a redacted secret is replaced with.
pub const REDACTED: &str = "[redacted]";

/// Secrets shorter than this are not registered: replacing every "a" in the
/// logs would destroy them without protecting anything real.
const MIN_REDACTABLE_LEN: usize = 4;

/// The live secrets, for the redactor. Weak references, not copies: a
/// secret's one copy is zeroed when its last [`Secret`] drops, and the
/// registry forgets it then. Hold a `Secret` for as long as its text may
/// show up in output (the S3 client keeps its credentials' for the fetch).
static REGISTERED: RwLock<Vec<Weak<Zeroizing<String>>>> = RwLock::new(Vec::new());

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        let value = Arc::new(Zeroizing::new(value.into()));
        register(&value);
        Secret(value)
    }

    /// The secret text, for handing to a pipe, a private file or a child's
    /// environment. Never format it into a message.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl Clone for Secret {
    /// Another handle on the same zeroed-on-drop copy.
    fn clone(&self) -> Self {
        Secret(Arc::clone(&self.0))
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(REDACTED)
    }
}

fn register(value: &Arc<Zeroizing<String>>) {
    if value.len() < MIN_REDACTABLE_LEN {
        return;
    }
    let mut registered = REGISTERED.write().unwrap_or_else(|e| e.into_inner());
    registered.retain(|w| w.strong_count() > 0);
    registered.push(Arc::downgrade(value));
}

/// Replaces every live secret in `text`.
pub fn redact(text: &str) -> Cow<'_, str> {
    let registered = REGISTERED.read().unwrap_or_else(|e| e.into_inner());
    let mut out = Cow::Borrowed(text);
    for secret in registered.iter().filter_map(Weak::upgrade) {
        if out.contains(secret.as_str()) {
            out = Cow::Owned(out.replace(secret.as_str(), REDACTED));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_and_never_debug_printed() {
        let s = Secret::new("hunter2-very-secret");
        assert_eq!(format!("{s:?}"), REDACTED);
        assert_eq!(
            redact("password=hunter2-very-secret!"),
            "password=[redacted]!"
        );
        assert_eq!(s.expose(), "hunter2-very-secret");
    }

    #[test]
    fn a_dropped_secret_leaves_no_copy_in_the_registry() {
        let s = Secret::new("short-lived-secret-value");
        let weak = Arc::downgrade(&s.0);
        drop(s);
        assert!(
            weak.upgrade().is_none(),
            "the one copy is gone (and zeroed)"
        );
        assert_eq!(
            redact("x short-lived-secret-value"),
            "x short-lived-secret-value"
        );
    }
}
