//! The one place that runs `bw`: in a pty (expectrl), headless, with secrets
//! only in the child's environment.
//!
//! bw is a Node program written for people: it colours and re-renders on a
//! terminal, mixes stderr into what a pty shows, exits 0 on some failures and
//! lingers a second or two after printing. So every call here
//! - runs bw in a fresh pty with `BW_NOINTERACTION=true`, so it can never sit
//!   at a prompt, and `TERM=dumb`, so it does not colour;
//! - gives it the session (`BW_SESSION`) and the master password (a private
//!   variable named by `--passwordenv`) through its environment only, never
//!   argv, and drops any `BW_*` setting of the caller that would change what
//!   bw prints (`BW_RAW`, `BW_QUIET`, `BW_RESPONSE`, a stale `BW_SESSION`);
//! - reads the output as it comes and waits for bw to exit, under a deadline
//!   after which its whole process group is killed ([`PmError::BwTimeout`]).
//!
//! What the output means is decided by the caller, with `messages`.

use crate::error::PmError;
use crate::failpoint;
use crate::secret::Secret;
use anyhow::Result;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

/// The variable bw reads the master password from (`--passwordenv`). It is
/// set in bw's environment only, never in pm's own.
pub const PASSWORD_VAR: &str = "PM_BW_MASTER_PASSWORD";

/// How long to wait between checks for bw's exit once its pty is closed.
/// bw is normally gone by then; this only bounds a process that closed its
/// terminal and kept running.
const EXIT_POLL: Duration = Duration::from_millis(5);

/// How to run bw: which program, on which data directory, for how long.
#[derive(Clone, Debug)]
pub struct Bw {
    program: PathBuf,
    data_dir: Option<PathBuf>,
    timeout: Duration,
    /// The environment bw starts from: pm's captured one, less `BW_*`.
    base_env: BTreeMap<String, String>,
}

/// What one bw call printed (colours and carriage returns removed) and how
/// it ended. The text may hold secrets (item values, a session key), so it is
/// zeroed on drop and never logged by this module when the call says so.
pub struct BwRun {
    /// `None` when bw died from a signal.
    pub exit_code: Option<i32>,
    pub output: Zeroizing<String>,
}

impl BwRun {
    pub fn succeeded(&self) -> bool {
        self.exit_code == Some(0)
    }

    /// The output's lines, without empty ones.
    pub fn lines(&self) -> impl Iterator<Item = &str> {
        self.output.lines().map(str::trim).filter(|l| !l.is_empty())
    }
}

/// What a call hands bw besides its arguments.
#[derive(Default)]
pub struct BwInputs<'a> {
    pub session: Option<&'a Secret>,
    pub password: Option<&'a Secret>,
    /// The output carries vault data (items, a session key): keep it out of
    /// the debug log.
    pub sensitive_output: bool,
}

/// How a call ended before its output is read.
enum Ended {
    Exited {
        raw: Vec<u8>,
        exit_code: Option<i32>,
    },
    TimedOut,
}

impl Bw {
    /// Finds the program (a path, or a name looked up in the captured PATH)
    /// and prepares bw's environment from pm's captured one.
    pub fn locate(
        program: &str,
        data_dir: Option<PathBuf>,
        timeout: Duration,
        env: &BTreeMap<String, String>,
    ) -> Result<Bw> {
        let found =
            find_program(program, env.get("PATH").map(String::as_str)).ok_or_else(|| {
                PmError::BwMissing {
                    program: program.to_string(),
                }
            })?;
        let base_env = env
            .iter()
            .filter(|(k, _)| !k.starts_with("BW_"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Ok(Bw {
            program: found,
            data_dir,
            timeout,
            base_env,
        })
    }

    /// Runs `bw ARGS` to its exit and returns what it printed. Fails only
    /// when bw cannot start or overruns the deadline: what the output means
    /// is the caller's to decide.
    pub fn run(&self, args: &[&str], inputs: &BwInputs) -> Result<BwRun> {
        let command_name = args.join(" ");
        let started = Instant::now();
        tracing::debug!(command = %command_name, "vault_bw_start");
        let session = expectrl::Session::spawn(self.command(args, inputs)).map_err(|e| {
            tracing::debug!(error = %e, program = %self.program.display(), "vault_bw_failed");
            PmError::BwMissing {
                program: self.program.display().to_string(),
            }
        })?;
        failpoint::hit(&format!("vault_bw_spawned_{}", args.first().unwrap_or(&"")));
        let pid = session.get_process().pid().as_raw();
        let pty = session
            .get_process()
            .get_raw_handle()
            .map_err(|e| PmError::io("cannot open bw's pty", std::io::Error::other(e)))?;
        let ended = drive(&pty, pid, started + self.timeout);
        if !matches!(ended, Ok(Ended::Exited { .. })) {
            kill_group(pid);
        }
        // Closing the pty after bw is reaped: nothing can block on it now.
        drop(pty);
        drop(session);
        let (raw, exit_code) = match ended? {
            Ended::Exited { raw, exit_code } => (raw, exit_code),
            Ended::TimedOut => {
                tracing::warn!(command = %command_name, secs = self.timeout.as_secs(), "vault_bw_failed");
                return Err(PmError::BwTimeout {
                    command: command_name,
                    secs: self.timeout.as_secs(),
                }
                .into());
            }
        };
        let run = BwRun {
            exit_code,
            output: Zeroizing::new(clean_terminal_output(&raw)),
        };
        drop(Zeroizing::new(raw));
        tracing::debug!(
            command = %command_name,
            exit_code = ?run.exit_code,
            elapsed_ms = started.elapsed().as_millis() as u64,
            output_bytes = run.output.len(),
            "vault_bw_complete"
        );
        if !inputs.sensitive_output {
            tracing::debug!(command = %command_name, output = %run.output.as_str(), "vault_bw_output");
        }
        // env(1) reports a missing interpreter (no node) with 127.
        if run.exit_code == Some(127) {
            return Err(PmError::BwMissing {
                program: self.program.display().to_string(),
            }
            .into());
        }
        Ok(run)
    }

    fn command(&self, args: &[&str], inputs: &BwInputs) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.args(args).env_clear().envs(&self.base_env);
        cmd.env("BW_NOINTERACTION", "true").env("TERM", "dumb");
        if let Some(dir) = &self.data_dir {
            cmd.env("BITWARDENCLI_APPDATA_DIR", dir);
        }
        if let Some(session) = inputs.session {
            cmd.env("BW_SESSION", session.expose());
        }
        if let Some(password) = inputs.password {
            cmd.env(PASSWORD_VAR, password.expose());
        }
        cmd
    }
}

/// Reads the pty until bw closes it, then reaps bw; all before `deadline`.
fn drive(pty: &File, pid: i32, deadline: Instant) -> Result<Ended> {
    let Some(raw) = read_until_eof(pty, deadline)? else {
        return Ok(Ended::TimedOut);
    };
    Ok(match wait_for_exit(pid, deadline)? {
        Some(exit_code) => Ended::Exited { raw, exit_code },
        None => Ended::TimedOut,
    })
}

/// Reads the pty until bw closes it (EOF, or EIO on Linux once the last
/// writer is gone), waiting in poll(2) rather than spinning as expectrl's
/// `expect` does: bw needs the CPU more than we do. `None` at the deadline.
fn read_until_eof(pty: &File, deadline: Instant) -> Result<Option<Vec<u8>>> {
    let mut raw = Vec::new();
    let mut buf = Zeroizing::new([0u8; 8192]);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            drop(Zeroizing::new(raw));
            return Ok(None);
        }
        let mut fds = libc::pollfd {
            fd: pty.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = left.as_millis().clamp(1, i32::MAX as u128) as i32;
        // SAFETY: one valid, initialised pollfd and a count of 1.
        let ready = unsafe { libc::poll(&mut fds, 1, ms) };
        if ready < 0 {
            let err = std::io::Error::last_os_error();
            if err.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(PmError::io("cannot wait for bw's output", err).into());
        }
        if ready == 0 {
            continue;
        }
        match (&*pty).read(&mut buf[..]) {
            Ok(0) => return Ok(Some(raw)),
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(e) if e.raw_os_error() == Some(libc::EIO) => return Ok(Some(raw)),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(PmError::io("cannot read bw's output", e).into()),
        }
    }
}

/// Reaps bw. `Some(exit code)` (`None` inside for a signal), or `None` when
/// it is still running at the deadline.
fn wait_for_exit(pid: i32, deadline: Instant) -> Result<Option<Option<i32>>> {
    loop {
        let mut status = 0;
        // SAFETY: waitpid on our own child with a valid status pointer.
        let reaped = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if reaped == pid {
            let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
            return Ok(Some(code));
        }
        if reaped < 0 {
            let err = std::io::Error::last_os_error();
            if err.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(PmError::io("cannot wait for bw to exit", err).into());
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        std::thread::sleep(EXIT_POLL);
    }
}

/// Kills bw and anything it started (it leads its own session and process
/// group in the pty), then reaps it.
fn kill_group(pid: i32) {
    // SAFETY: signalling and reaping our own child's process group.
    unsafe {
        libc::kill(-pid, libc::SIGKILL);
        let mut status = 0;
        libc::waitpid(pid, &mut status, 0);
    }
}

/// A path to an executable: `program` itself when it names a path, else the
/// first match in `path_var`.
fn find_program(program: &str, path_var: Option<&str>) -> Option<PathBuf> {
    let is_executable = |p: &Path| {
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.contains('/') {
        let path = PathBuf::from(program);
        return is_executable(&path).then_some(path);
    }
    path_var?
        .split(':')
        .filter(|dir| !dir.is_empty())
        .map(|dir| Path::new(dir).join(program))
        .find(|p| is_executable(p))
}

/// What a person would have seen: escape sequences (colours, cursor moves of
/// the prompt) and carriage returns removed.
pub fn clean_terminal_output(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\x1b' => skip_escape(&mut chars),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Skips one escape sequence after ESC: CSI (`ESC [ ... final`), OSC
/// (`ESC ] ... BEL or ESC \`) or a two-character one.
fn skip_escape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    match chars.next() {
        Some('[') => {
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
        }
        Some(']') => {
            while let Some(c) = chars.next() {
                if c == '\x07' || (c == '\x1b' && chars.next_if_eq(&'\\').is_some()) {
                    break;
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_output_loses_colours_cursor_moves_and_carriage_returns() {
        let raw = b"\x1b[32m?\x1b[39m \x1b[1mMaster password:\x1b[22m\x1b[0m \x1b[37D\x1b[37C\r\n\x1b[91mNot found.\x1b[39m\r\n";
        assert_eq!(
            clean_terminal_output(raw),
            "? Master password: \nNot found.\n"
        );
    }

    #[test]
    fn programs_are_found_by_path_or_in_path() {
        assert_eq!(
            find_program("sh", Some("/nonexistent:/bin:/usr/bin")),
            Some(PathBuf::from("/bin/sh"))
        );
        assert_eq!(find_program("no-such-program-pm", Some("/bin")), None);
        assert_eq!(
            find_program("/bin/sh", None),
            Some(PathBuf::from("/bin/sh"))
        );
        let dir = tempfile::tempdir().unwrap();
        let not_executable = dir.path().join("bw");
        std::fs::write(&not_executable, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&not_executable, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(find_program(not_executable.to_str().unwrap(), None), None);
    }
}
