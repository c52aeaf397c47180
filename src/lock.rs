//! The advisory locks beside the state file that serialise mutating commands.
//!
//! Each lock is an `flock` on a file, so the kernel releases it when its
//! holder dies however it dies: there is never a stale lock to break. The
//! holder writes who it is (pid, command, start time) into the file, so a
//! waiter can say whom it waits for, as apt does. Read-only commands never
//! take one.
//!
//! Two locks cover the state: the state lock (`<state>.lock`) for short
//! critical sections, and the pool lock (`<state>.pool.lock`) for work on
//! volumes and activations, which can last as long as an unpack. Keeping them
//! apart lets a fetch or a vault unlock go on while an image unpacks. A
//! command that needs both takes the pool lock first.

use crate::error::PmError;
use anyhow::Result;
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How often a waiter retries. Short enough that a freed lock is taken at
/// once in human terms, long enough to cost nothing.
const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// Who holds the lock, as written into the lock file.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Holder {
    pub pid: u32,
    pub command: String,
    /// Seconds since the Unix epoch.
    pub started_at: u64,
}

impl Holder {
    pub fn this_process(command: &str) -> Holder {
        Holder {
            pid: std::process::id(),
            command: command.to_string(),
            started_at: unix_now(),
        }
    }

    /// `pid 1234 (pm image activate), 3 s`
    pub fn describe(&self) -> String {
        let held = unix_now().saturating_sub(self.started_at);
        format!("pid {} ({}), {} s", self.pid, self.command, held)
    }
}

/// The lock, held until dropped.
#[derive(Debug)]
pub struct LockGuard {
    file: File,
    path: PathBuf,
}

impl LockGuard {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        // Clear the holder record before the kernel releases the lock, so a
        // reader never sees a finished process named as the holder.
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

mod sealed {
    pub trait Sealed {}
}

/// Proof that one of pm's locks is held: the state lock, the pool lock or a
/// per-source download lock. Only this module can make one (a [`LockGuard`]
/// from [`acquire`]), so a function that takes `&dyn Held` cannot be called
/// by code that forgot to lock. [`crate::state::State::write`] takes one.
pub trait Held: sealed::Sealed {}

impl sealed::Sealed for LockGuard {}
impl Held for LockGuard {}

/// Takes the lock, waiting up to `timeout`. `what` names it in errors ("the
/// state lock"). `on_wait` is called once, with the holder's description,
/// when the lock is busy and pm starts waiting.
pub fn acquire(
    path: &Path,
    what: &'static str,
    me: &Holder,
    timeout: Duration,
    mut on_wait: impl FnMut(&str),
) -> Result<LockGuard> {
    let mut file = open_lock_file(path)?;
    let start = Instant::now();
    let mut announced = false;
    loop {
        match file.try_lock() {
            Ok(()) => {
                write_holder(&mut file, me)
                    .map_err(|e| PmError::io(format!("cannot write {}", path.display()), e))?;
                tracing::debug!(lock = %path.display(), waited_ms = start.elapsed().as_millis() as u64, "lock_acquire_complete");
                crate::failpoint::hit("lock_held");
                return Ok(LockGuard {
                    file,
                    path: path.to_path_buf(),
                });
            }
            Err(TryLockError::WouldBlock) => {}
            Err(TryLockError::Error(e)) => {
                return Err(PmError::io(format!("cannot lock {}", path.display()), e).into());
            }
        }
        let holder = read_holder(path);
        if start.elapsed() >= timeout {
            // The error itself is printed once, by main.
            tracing::debug!(lock = %path.display(), holder = %holder, "lock_acquire_failed");
            return Err(PmError::LockBusy {
                what,
                path: path.to_path_buf(),
                holder,
                waited: start.elapsed(),
            }
            .into());
        }
        if !announced {
            on_wait(&holder);
            announced = true;
        }
        std::thread::sleep(POLL_INTERVAL.min(timeout.saturating_sub(start.elapsed())));
    }
}

/// The current holder as a human description, for waiters and for `pm doctor`.
pub fn read_holder(path: &Path) -> String {
    let mut text = String::new();
    let parsed = File::open(path)
        .and_then(|mut f| f.read_to_string(&mut text))
        .ok()
        .and_then(|_| serde_json::from_str::<Holder>(text.trim()).ok());
    match parsed {
        Some(holder) => holder.describe(),
        // The holder has the lock but has not written its record yet.
        None => "another process".to_string(),
    }
}

fn open_lock_file(path: &Path) -> Result<File> {
    if let Some(dir) = path.parent() {
        crate::paths::create_private_dir(dir)
            .map_err(|e| PmError::io(format!("cannot create directory {}", dir.display()), e))?;
    }
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map_err(|e| PmError::io(format!("cannot open lock file {}", path.display()), e).into())
}

fn write_holder(file: &mut File, me: &Holder) -> std::io::Result<()> {
    file.set_len(0)?;
    file.seek(SeekFrom::Start(0))?;
    let mut line = serde_json::to_vec(me).map_err(std::io::Error::other)?;
    line.push(b'\n');
    file.write_all(&line)
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A lock in `dir` for unit tests that write the state.
#[cfg(test)]
pub fn for_tests(dir: &Path) -> LockGuard {
    acquire(
        &dir.join("test.lock"),
        "a test lock",
        &Holder::this_process("unit test"),
        Duration::ZERO,
        |_| {},
    )
    .expect("a fresh test lock")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_taker_times_out_naming_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db.lock");
        let first = Holder::this_process("pm test first");
        let _held = acquire(&path, "the state lock", &first, Duration::ZERO, |_| {}).unwrap();
        let mut waited_for = None;
        let err = acquire(
            &path,
            "the state lock",
            &Holder::this_process("pm test second"),
            Duration::from_millis(50),
            |h| waited_for = Some(h.to_string()),
        )
        .unwrap_err();
        let pm = err.downcast_ref::<PmError>().unwrap();
        assert_eq!(pm.code(), "lock_busy");
        assert!(pm.to_string().starts_with("the state lock "), "{pm}");
        assert!(waited_for.unwrap().contains("(pm test first)"));
    }
}
