//! Named points where a test can make pm crash or stop, to prove crash safety.
//!
//! `PM_FAILPOINTS=name=action[,name=action]` arms points. Actions:
//! - `kill`: the process sends itself SIGKILL right there, exactly as a power
//!   cut or `kill -9` would leave things (no destructors, no rollback code);
//! - `pause`: prints `pm: failpoint NAME paused` on stderr and waits until its
//!   standard input reaches end-of-file, so a test can hold pm at that point
//!   (for example while it owns the state lock) and release it by closing the
//!   pipe. No sleeps: the test synchronises on the printed line;
//! - `kill@N`: like `kill`, but only at the Nth time the point is hit (a
//!   crash after N parts of a download, say).
//!
//! Unarmed points cost one lookup in an empty list. The variable is read once
//! in `main` through the captured environment.
//!
//! Only builds with the `failpoints` feature have them: the test suite
//! enables it (a dev-dependency of the package on itself), so `cargo build`,
//! `cargo install` and release binaries carry no way to crash on request,
//! and `hit` compiles to nothing there.

#[cfg(feature = "failpoints")]
pub use armed::{arm, hit};

/// Without the feature: no points, whatever the environment says.
#[cfg(not(feature = "failpoints"))]
pub fn arm(_spec: Option<&str>) {}

/// Without the feature: no points, whatever the environment says.
#[cfg(not(feature = "failpoints"))]
#[inline(always)]
pub fn hit(_name: &str) {}

#[cfg(feature = "failpoints")]
mod armed {
    use std::io::Read;
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};

    static ARMED: OnceLock<Vec<(String, String)>> = OnceLock::new();
    /// Hits of armed points, for `kill@N` (points are few: one counter will do
    /// as long as a test arms one counted point at a time).
    static HITS: AtomicU64 = AtomicU64::new(0);

    /// Arms the points named in a `PM_FAILPOINTS` value.
    pub fn arm(spec: Option<&str>) {
        let points = spec
            .unwrap_or("")
            .split(',')
            .filter_map(|item| item.split_once('='))
            .map(|(name, action)| (name.trim().to_string(), action.trim().to_string()))
            .collect();
        let _ = ARMED.set(points);
    }

    /// Marks a point in the code a test may want to crash or stop at.
    pub fn hit(name: &str) {
        let Some(points) = ARMED.get() else { return };
        let Some((_, action)) = points.iter().find(|(n, _)| n == name) else {
            return;
        };
        match action.as_str() {
            "kill" => {
                // SAFETY: kill(2) on our own pid with a valid signal number.
                unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
            }
            "pause" => {
                eprintln!("pm: failpoint {name} paused");
                let mut sink = Vec::new();
                let _ = std::io::stdin().read_to_end(&mut sink);
            }
            counted => {
                if let Some(n) = counted
                    .strip_prefix("kill@")
                    .and_then(|n| n.parse::<u64>().ok())
                    && HITS.fetch_add(1, Ordering::SeqCst) + 1 == n
                {
                    // SAFETY: as above.
                    unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
                }
            }
        }
    }
}
