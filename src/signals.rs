//! SIGINT and SIGTERM (a Ctrl-C, an Ansible timeout, `systemctl stop`): stop
//! cleanly, once; a second signal kills at once.
//!
//! The handler only records the signal and wakes a watcher thread, both
//! async-signal-safe, and `SA_RESETHAND` restores the default action, so the
//! second signal is the kernel's. What happens next depends on where pm is:
//!
//! - work that can stop at a safe point (a fetch between parts) runs inside
//!   [`cooperative`]: it watches [`cancelled`] / [`received`], abandons what
//!   is in flight exactly as a crash would, keeps what is finished, and
//!   returns `PmError::Interrupted`, which is reported like any error;
//! - anywhere else the watcher itself prints the `interrupted` error and
//!   exits, leaving the step in flight the way a crash would, which every
//!   mutating path is built to survive (journalled intents, atomic renames,
//!   one SQLite transaction per change).
//!
//! Either way the exit code is 128 + the signal (130, 143), as a shell
//! reports a process killed by it.

use crate::error::{PmError, classify, signal_name};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};

/// The first signal received, 0 until then.
static SIGNAL: AtomicI32 = AtomicI32::new(0);
/// The write end of the pipe that wakes the watcher, -1 before `install`.
static WAKE_FD: AtomicI32 = AtomicI32::new(-1);
/// How many cooperative scopes are active.
static COOPERATIVE: AtomicUsize = AtomicUsize::new(0);
/// Set by whoever prints the command's one result or error first.
static OUTPUT_CLAIMED: AtomicBool = AtomicBool::new(false);
/// What the watcher needs to report on its own.
static REPORT: OnceLock<Report> = OnceLock::new();
/// Wakes async work waiting in [`cancelled`].
static CANCEL: OnceLock<tokio::sync::watch::Sender<i32>> = OnceLock::new();

struct Report {
    json: bool,
    /// The command line, redacted, to run again.
    rerun: String,
}

/// Installs the handlers for SIGINT and SIGTERM. `argv` is the command line
/// with secrets already redacted (it is quoted in the resume hint).
pub fn install(json: bool, argv: &[String]) {
    let rerun = rerun_text(argv);
    if REPORT.set(Report { json, rerun }).is_err() {
        return;
    }
    let _ = CANCEL.set(tokio::sync::watch::channel(0).0);
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: a valid two-element array for pipe(2).
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        return;
    }
    for fd in fds {
        // SAFETY: fcntl on fds we just created; children must not inherit them.
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    }
    let read_fd = fds[0];
    if std::thread::Builder::new()
        .name("pm-signals".to_string())
        .spawn(move || watch(read_fd))
        .is_err()
    {
        return;
    }
    WAKE_FD.store(fds[1], Ordering::SeqCst);
    for signal in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: a zeroed sigaction with a handler that only does
        // async-signal-safe work (atomics, write(2)).
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as *const () as libc::sighandler_t;
            action.sa_flags = libc::SA_RESETHAND | libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
}

extern "C" fn on_signal(signal: libc::c_int) {
    let saved = errno();
    // The next signal of either kind is the kernel's: it kills at once
    // (SA_RESETHAND already did this for the one that came).
    for other in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: signal(2) with SIG_DFL is async-signal-safe.
        unsafe { libc::signal(other, libc::SIG_DFL) };
    }
    let _ = SIGNAL.compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst);
    let fd = WAKE_FD.load(Ordering::SeqCst);
    if fd >= 0 {
        let byte = 1u8;
        // SAFETY: write(2) is async-signal-safe; one byte from a live buffer.
        unsafe { libc::write(fd, (&byte as *const u8).cast(), 1) };
    }
    set_errno(saved);
}

#[cfg(target_os = "linux")]
fn errno() -> libc::c_int {
    // SAFETY: errno is thread-local and always readable.
    unsafe { *libc::__errno_location() }
}

#[cfg(target_os = "linux")]
fn set_errno(value: libc::c_int) {
    // SAFETY: as above; a handler must leave errno as it found it.
    unsafe { *libc::__errno_location() = value }
}

#[cfg(not(target_os = "linux"))]
fn errno() -> libc::c_int {
    // SAFETY: errno is thread-local and always readable.
    unsafe { *libc::__error() }
}

#[cfg(not(target_os = "linux"))]
fn set_errno(value: libc::c_int) {
    // SAFETY: as above.
    unsafe { *libc::__error() = value }
}

/// The watcher thread: wakes once per signal, tells async work, and when no
/// cooperative work will report it, reports the interruption and exits.
fn watch(read_fd: libc::c_int) {
    let mut byte = 0u8;
    loop {
        // SAFETY: reading one byte into a live buffer from our own pipe.
        let n = unsafe { libc::read(read_fd, (&mut byte as *mut u8).cast(), 1) };
        if n == 1 {
            break;
        }
        if n == 0 || std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            return;
        }
    }
    let signal = SIGNAL.load(Ordering::SeqCst);
    // Decided before the work is woken: once woken it may finish its scope
    // at once, and must still be the one that reports.
    let cooperative = COOPERATIVE.load(Ordering::SeqCst) > 0;
    if let Some(cancel) = CANCEL.get() {
        cancel.send_replace(signal);
    }
    if cooperative {
        write_fd(
            2,
            &format!(
                "pm: {} received: stopping after the step in flight (a second signal stops at once)\n",
                signal_name(signal)
            ),
        );
        return;
    }
    if !claim_output() {
        // The command already finished and is printing its result.
        return;
    }
    let Some(report) = REPORT.get() else { return };
    let err: anyhow::Error = PmError::Interrupted {
        signal,
        doing: format!("running `{}`", report.rerun),
        kept: None,
        kept_bytes: None,
        resume: Some(report.rerun.clone()),
    }
    .into();
    print_directly(&err, report.json);
    // SAFETY: _exit ends the process without running destructors, as a
    // crash would; everything pm writes is built to survive that.
    unsafe { libc::_exit(128 + signal) };
}

/// The error in pm's usual shape, written with write(2): the main thread may
/// hold Rust's stdout or stderr lock, and is about to vanish anyway.
fn print_directly(err: &anyhow::Error, json: bool) {
    let c = classify(err);
    if json {
        write_fd(1, &format!("{}\n", c.document()));
    }
    let mut text = format!("pm: error: {}\n", c.message);
    if let Some(hint) = c.hint {
        text.push_str(&format!("pm: hint: {hint}\n"));
    }
    write_fd(2, &text);
}

fn write_fd(fd: libc::c_int, text: &str) {
    let mut rest = text.as_bytes();
    while !rest.is_empty() {
        // SAFETY: writing from a live buffer to a standard fd.
        let n = unsafe { libc::write(fd, rest.as_ptr().cast(), rest.len()) };
        if n <= 0 {
            return;
        }
        rest = &rest[n as usize..];
    }
}

/// Marks the output as taken; false when someone else took it first. The
/// command's one document is printed by whoever claims it.
pub fn claim_output() -> bool {
    !OUTPUT_CLAIMED.swap(true, Ordering::SeqCst)
}

/// The signal received so far, if any.
pub fn received() -> Option<i32> {
    match SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        signal => Some(signal),
    }
}

/// Resolves with the signal once one is received; never without `install`.
pub async fn cancelled() -> i32 {
    let Some(cancel) = CANCEL.get() else {
        return std::future::pending().await;
    };
    let mut rx = cancel.subscribe();
    match rx.wait_for(|s| *s != 0).await {
        Ok(signal) => *signal,
        Err(_) => std::future::pending().await,
    }
}

/// While the guard lives, a signal is left to the running work, which stops
/// at its next safe point and reports the interruption itself.
pub fn cooperative() -> CooperativeScope {
    COOPERATIVE.fetch_add(1, Ordering::SeqCst);
    CooperativeScope(())
}

pub struct CooperativeScope(());

impl Drop for CooperativeScope {
    fn drop(&mut self) {
        COOPERATIVE.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The command line to run again, as the hint quotes it.
pub fn rerun_command() -> String {
    REPORT
        .get()
        .map_or_else(|| "pm".to_string(), |r| r.rerun.clone())
}

/// `pm image fetch 's3://b/my key'`: words quoted only where a shell needs it.
fn rerun_text(argv: &[String]) -> String {
    let mut words = vec!["pm".to_string()];
    words.extend(argv.iter().skip(1).map(|a| shell_quote(a)));
    words.join(" ")
}

fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rerun_command_is_quoted_for_a_shell() {
        let argv = ["/usr/bin/pm", "image", "fetch", "s3://b/my key", "--json"].map(String::from);
        assert_eq!(rerun_text(&argv), "pm image fetch 's3://b/my key' --json");
    }
}
