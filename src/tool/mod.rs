//! The one driver for external programs (bw, mkfs.ext4, and next tailscale,
//! ansible-playbook, ray): every child pm starts goes through here.
//!
//! It owns what must be true of every such child, so no tool driver has to
//! remember it:
//! - the program is found once, at a configured path or in `PATH`, and a
//!   missing one is an error naming the config key ([`Tool::locate`]);
//! - the child's environment is scrubbed: an allow-list
//!   ([`locate::COMMON_ENV`] plus the tool's own names in its [`ToolSpec`])
//!   and what the call adds, so pm's settings and a caller's secrets never
//!   leak into it;
//! - secrets reach it through its environment or its stdin, never argv
//!   ([`Call::env_secret`], [`Call::stdin_secret`]): there is no way to put a
//!   [`Secret`] in the arguments;
//! - it leads its own session and process group, runs under a deadline, and
//!   at the deadline the whole group is killed and the child reaped
//!   ([`ToolError::TimedOut`]);
//! - what it prints is kept in zeroizing buffers and goes to the debug log
//!   only (`-vv`), never to the user: callers translate it, with the tool's
//!   message table behind [`Messages`], into pm's own sentences.
//!
//! Two ways to run: [`Call::run_pty`] (a terminal, for programs written for
//! people, like bw or `tailscale up`) and [`Call::run_piped`] (stdout and
//! stderr apart, optionally handed on line by line as they come, for
//! `tailscale status --json` or a streamed `ansible-playbook`). A daemon that
//! must outlive pm (tailscaled) is started with [`Call::spawn_detached`].
//!
//! ```text
//! static TAILSCALE: ToolSpec = ToolSpec { name: "tailscale", log_name: "net_tailscale",
//!     config_key: Some("net.tailscale_path"), env: &[] };
//! let ts = Tool::locate(&TAILSCALE, config.string(key::NET_TAILSCALE_PATH), &config.env.vars)?;
//! let run = ts.call(["status", "--json"]).timeout(Duration::from_secs(10)).run_piped()?;
//! ```

mod buffer;
pub mod locate;
mod process;
pub mod terminal;
#[cfg(test)]
mod tests;

use crate::error::PmError;
use crate::failpoint;
use crate::secret::Secret;
use process::{Ended, LineSink, Source, StdinFeed};
use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::fs::File;
use std::io::Write;
use std::os::fd::OwnedFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

pub use locate::find_program;
pub use process::CAPTURE_LIMIT;

/// The deadline of a call when its tool was given none.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// What pm knows about one external program, declared once beside its
/// driver.
#[derive(Debug)]
pub struct ToolSpec {
    /// What errors call it: `bw`, `mkfs.ext4`, `tailscale`.
    pub name: &'static str,
    /// Prefix of its log events (`vault_bw_start`, `vault_bw_complete`,
    /// `vault_bw_output`, `vault_bw_failed`) and of its failpoints
    /// (`vault_bw_spawned_<first argument>`).
    pub log_name: &'static str,
    /// The config key that sets its path, named when it is missing.
    pub config_key: Option<&'static str>,
    /// Variables of pm's environment it may see besides
    /// [`locate::COMMON_ENV`]; a trailing `*` matches a prefix.
    pub env: &'static [&'static str],
}

/// A located program with its scrubbed environment and its deadline.
#[derive(Clone)]
pub struct Tool {
    spec: &'static ToolSpec,
    program: PathBuf,
    env: BTreeMap<String, String>,
    timeout: Duration,
}

/// Names only: an allowed variable can still carry a credential (a proxy
/// URL with a password).
impl fmt::Debug for Tool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tool")
            .field("name", &self.spec.name)
            .field("program", &self.program)
            .field("env", &self.env.keys().collect::<Vec<_>>())
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// How a child ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    Signal(i32),
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Exit::Code(code) => write!(f, "exit code {code}"),
            Exit::Signal(signal) => write!(f, "killed by signal {signal}"),
        }
    }
}

/// Which output a line came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// The pty: stdout and stderr together, escape sequences removed.
    Terminal,
    Stdout,
    Stderr,
}

/// What one call printed and how it ended. The text may hold secrets, so it
/// is zeroed on drop; it is logged only when the call was not `sensitive`.
pub struct Run {
    pub exit: Exit,
    /// Pty: everything the terminal showed, without escape sequences and
    /// carriage returns. Pipes: stdout.
    pub output: Zeroizing<String>,
    /// Pipes: stderr. Pty: empty (stderr is on the terminal).
    pub stderr: Zeroizing<String>,
    pub elapsed: Duration,
}

impl Run {
    /// A run as a test or a stand-in would report it.
    pub fn exited(code: i32, output: &str) -> Run {
        Run {
            exit: Exit::Code(code),
            output: Zeroizing::new(output.to_string()),
            stderr: Zeroizing::new(String::new()),
            elapsed: Duration::ZERO,
        }
    }

    pub fn succeeded(&self) -> bool {
        self.exit == Exit::Code(0)
    }

    /// The exit code; `None` when the child died from a signal.
    pub fn exit_code(&self) -> Option<i32> {
        match self.exit {
            Exit::Code(code) => Some(code),
            Exit::Signal(_) => None,
        }
    }

    /// The output's lines, trimmed, without empty ones.
    pub fn lines(&self) -> impl Iterator<Item = &str> {
        self.output.lines().map(str::trim).filter(|l| !l.is_empty())
    }

    /// The tool's message found in the output, then in stderr.
    pub fn classify<M: Messages>(&self) -> Option<M::Cause> {
        M::classify(&self.output).or_else(|| M::classify(&self.stderr))
    }
}

/// A tool's message table: its own words, most specific first, each mapped
/// to a cause the driver understands. A new message is one line in `TABLE`.
pub trait Messages {
    type Cause: Copy + fmt::Debug + 'static;
    const TABLE: &'static [(&'static str, Self::Cause)];

    /// The cause of the first entry whose text occurs in `text`.
    fn classify(text: &str) -> Option<Self::Cause> {
        Self::quote(text).map(|(cause, _)| cause)
    }

    /// That cause and the line (trimmed) that says it: the line worth
    /// quoting to the user, not whatever the tool happened to print first
    /// (a version warning, log chatter).
    fn quote(text: &str) -> Option<(Self::Cause, &str)> {
        let (words, cause) = Self::TABLE.iter().find(|(words, _)| text.contains(words))?;
        let line = text.lines().find(|l| l.contains(words)).unwrap_or(text);
        Some((*cause, line.trim()))
    }
}

/// Why a call produced no [`Run`]. Drivers map these to their own stable
/// codes (bw keeps `bw_missing` and `bw_timeout`); `?` into `anyhow` gives
/// the generic `tool_missing` / `tool_timeout`.
#[derive(Debug)]
pub enum ToolError {
    /// Not at the configured path nor in `PATH`, or not executable.
    Missing {
        tool: &'static str,
        program: String,
        config_key: Option<&'static str>,
    },
    /// Found but would not start (a missing interpreter: exec failed, or
    /// the `env` of its `#!` line exited 127).
    CannotStart {
        tool: &'static str,
        program: String,
        config_key: Option<&'static str>,
        reason: String,
    },
    /// Overran its deadline; it and its process group were killed.
    TimedOut {
        tool: &'static str,
        command: String,
        after: Duration,
    },
    /// pm could not talk to the child (poll, read, pipe setup).
    Io {
        tool: &'static str,
        what: &'static str,
        source: std::io::Error,
    },
}

impl fmt::Display for ToolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ToolError::Missing { tool, program, .. } => {
                write!(f, "{tool} (`{program}`) was not found")
            }
            ToolError::CannotStart {
                tool,
                program,
                reason,
                ..
            } => write!(f, "{tool} (`{program}`) cannot start: {reason}"),
            ToolError::TimedOut {
                tool,
                command,
                after,
            } => write!(f, "`{tool} {command}` overran {} s", after.as_secs()),
            ToolError::Io { tool, what, source } => write!(f, "{what} {tool}: {source}"),
        }
    }
}

impl From<ToolError> for PmError {
    fn from(e: ToolError) -> PmError {
        match e {
            ToolError::Missing {
                tool,
                program,
                config_key,
            }
            | ToolError::CannotStart {
                tool,
                program,
                config_key,
                ..
            } => PmError::ToolMissing {
                tool: tool.to_string(),
                program,
                config_key: config_key.map(str::to_string),
            },
            ToolError::TimedOut {
                tool,
                command,
                after,
            } => PmError::ToolTimeout {
                tool: tool.to_string(),
                command,
                secs: after.as_secs(),
            },
            ToolError::Io { tool, what, source } => PmError::io(format!("{what} {tool}"), source),
        }
    }
}

/// `?` in pm's `anyhow` functions: always through a typed [`PmError`], so a
/// tool failure can never surface as `internal`.
impl From<ToolError> for anyhow::Error {
    fn from(e: ToolError) -> anyhow::Error {
        PmError::from(e).into()
    }
}

impl Tool {
    /// Finds `configured` (a path, or a name looked up in `env`'s `PATH`)
    /// and keeps the part of `env` the tool may see.
    pub fn locate(
        spec: &'static ToolSpec,
        configured: &str,
        env: &BTreeMap<String, String>,
    ) -> Result<Tool, ToolError> {
        let program =
            find_program(configured, env.get("PATH").map(String::as_str)).ok_or_else(|| {
                ToolError::Missing {
                    tool: spec.name,
                    program: configured.to_string(),
                    config_key: spec.config_key,
                }
            })?;
        Ok(Tool {
            spec,
            program,
            env: locate::scrub_env(env, spec.env),
            timeout: DEFAULT_TIMEOUT,
        })
    }

    /// The deadline of every call that does not set its own.
    pub fn with_timeout(mut self, timeout: Duration) -> Tool {
        self.timeout = timeout;
        self
    }

    pub fn program(&self) -> &Path {
        &self.program
    }

    pub fn spec(&self) -> &'static ToolSpec {
        self.spec
    }

    /// One call of the tool with these arguments (never a secret: argv is
    /// visible to every user of the host).
    pub fn call<S: AsRef<OsStr>>(&self, args: impl IntoIterator<Item = S>) -> Call<'_> {
        Call {
            tool: self,
            args: args.into_iter().map(|a| a.as_ref().to_owned()).collect(),
            env: Vec::new(),
            stdin: None,
            lines: None,
            timeout: self.timeout,
            sensitive: false,
            cwd: None,
        }
    }
}

enum EnvValue<'a> {
    Plain(OsString),
    Secret(&'a Secret),
}

/// One invocation being prepared: arguments, what it is given, and how
/// long it may take. Finish it with `run_pty`, `run_piped` or
/// `spawn_detached`.
pub struct Call<'a> {
    tool: &'a Tool,
    args: Vec<OsString>,
    env: Vec<(String, EnvValue<'a>)>,
    stdin: Option<&'a Secret>,
    lines: Option<LineSink<'a>>,
    timeout: Duration,
    sensitive: bool,
    cwd: Option<PathBuf>,
}

impl<'a> Call<'a> {
    /// One more argument (a path, say).
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    /// Sets a variable in the child's environment.
    pub fn env(mut self, name: &str, value: impl AsRef<OsStr>) -> Self {
        let value = EnvValue::Plain(value.as_ref().to_owned());
        self.env.push((name.to_string(), value));
        self
    }

    /// Hands a secret to the child in its environment, readable only by the
    /// child's user (unlike argv).
    pub fn env_secret(mut self, name: &str, value: &'a Secret) -> Self {
        self.env.push((name.to_string(), EnvValue::Secret(value)));
        self
    }

    /// Feeds a secret on stdin: with pipes, exactly its bytes and then end
    /// of file; on a pty, typed as one line (the pty does not echo).
    pub fn stdin_secret(mut self, value: &'a Secret) -> Self {
        self.stdin = Some(value);
        self
    }

    /// Hands on each line of output as it arrives (`pm play` streams
    /// ansible-playbook's). The lines are still captured in the [`Run`].
    pub fn on_line(mut self, sink: &'a mut dyn FnMut(Stream, &str)) -> Self {
        self.lines = Some(sink);
        self
    }

    /// This call's deadline, instead of the tool's.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The output holds secrets (vault items, a session key): keep it out
    /// of the debug log too.
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    pub fn current_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cwd = Some(dir.into());
        self
    }

    /// Runs the child on a fresh pty (it leads its own session there) to its
    /// exit or the deadline.
    pub fn run_pty(mut self) -> Result<Run, ToolError> {
        let started = self.log_start("pty");
        let (child, pty) = process::spawn_pty(self.command()).map_err(|e| self.cannot_start(e))?;
        self.spawned();
        if let Some(secret) = self.stdin
            && let Err(e) = type_line(&pty, secret)
        {
            process::kill_group(child.pid);
            child.close();
            return Err(self.io("cannot write to the terminal of", e));
        }
        let mut sources = [Source::new(pty, Stream::Terminal)];
        let ended = self.pump(child.pid, &mut sources, None, started);
        let [terminal] = sources;
        // Closing the pty after the child is reaped: nothing can block on it.
        let output = Zeroizing::new(terminal::clean_terminal_output(
            terminal.captured.as_slice(),
        ));
        drop(terminal);
        child.close();
        self.finish(started, ended, output, Zeroizing::new(String::new()))
    }

    /// Runs the child with stdout and stderr on pipes (stdin: the secret
    /// given, else /dev/null), in a session of its own, to its exit or the
    /// deadline.
    pub fn run_piped(mut self) -> Result<Run, ToolError> {
        let started = self.log_start("pipes");
        let mut child = process::spawn_piped(self.command(), self.stdin.is_some())
            .map_err(|e| self.cannot_start(e.to_string()))?;
        self.spawned();
        let pid = child.id() as i32;
        let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
            process::kill_group(pid);
            return Err(self.io(
                "cannot read the output of",
                std::io::ErrorKind::BrokenPipe.into(),
            ));
        };
        let stdin = match (child.stdin.take(), self.stdin) {
            (Some(pipe), Some(secret)) => Some(StdinFeed::new(
                OwnedFd::from(pipe),
                secret.expose().as_bytes(),
            )),
            _ => None,
        };
        let stdin = match stdin.transpose() {
            Ok(stdin) => stdin,
            Err(e) => {
                process::kill_group(pid);
                return Err(self.io("cannot feed the stdin of", e));
            }
        };
        let mut sources = [
            Source::new(File::from(OwnedFd::from(stdout)), Stream::Stdout),
            Source::new(File::from(OwnedFd::from(stderr)), Stream::Stderr),
        ];
        let ended = self.pump(pid, &mut sources, stdin, started);
        let [out, err] = sources;
        let (output, stderr) = (out.captured.into_text(), err.captured.into_text());
        self.finish(started, ended, output, stderr)
    }

    /// Starts a daemon that must outlive pm (tailscaled): a new session, so
    /// the terminal's hangup never reaches it; stdin from /dev/null, stdout
    /// and stderr appended to `log` (created 0600); working directory `/`
    /// unless set, so it pins no mount. Not waited for: the deadline does
    /// not apply.
    pub fn spawn_detached(self, log: &Path) -> Result<Detached, ToolError> {
        self.log_start("detached");
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(log)
            .map_err(|e| self.io("cannot open the log file of", e))?;
        let err = out
            .try_clone()
            .map_err(|e| self.io("cannot open the log file of", e))?;
        let mut cmd = self.command();
        if self.cwd.is_none() {
            cmd.current_dir("/");
        }
        cmd.stdin(std::process::Stdio::null())
            .stdout(out)
            .stderr(err);
        process::new_session(&mut cmd);
        let child = cmd.spawn().map_err(|e| self.cannot_start(e.to_string()))?;
        self.spawned();
        let pid = child.id();
        tracing::debug!(pid, log = %log.display(), "{}_detached", self.tool.spec.log_name);
        Ok(Detached { pid })
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.tool.program);
        cmd.args(&self.args).env_clear().envs(&self.tool.env);
        for (name, value) in &self.env {
            match value {
                EnvValue::Plain(value) => cmd.env(name, value),
                EnvValue::Secret(secret) => cmd.env(name, secret.expose()),
            };
        }
        if let Some(dir) = &self.cwd {
            cmd.current_dir(dir);
        }
        cmd
    }

    /// The arguments as logs and errors show them (they never hold secrets).
    fn command_line(&self) -> String {
        let args: Vec<_> = self.args.iter().map(|a| a.to_string_lossy()).collect();
        args.join(" ")
    }

    fn log_start(&self, mode: &str) -> Instant {
        tracing::debug!(command = %self.command_line(), mode, "{}_start", self.tool.spec.log_name);
        Instant::now()
    }

    /// A test can stop or crash pm right after the child started.
    fn spawned(&self) {
        let first = self.args.first().map(|a| a.to_string_lossy());
        failpoint::hit(&format!(
            "{}_spawned_{}",
            self.tool.spec.log_name,
            first.as_deref().unwrap_or("")
        ));
    }

    /// Reads to the end or the deadline; kills the group unless the child
    /// was reaped.
    fn pump(
        &mut self,
        pid: i32,
        sources: &mut [Source],
        stdin: Option<StdinFeed<'_>>,
        started: Instant,
    ) -> std::io::Result<Ended> {
        let ended = process::pump(
            pid,
            sources,
            stdin,
            started + self.timeout,
            self.lines.take(),
        );
        if !matches!(ended, Ok(Ended::Exited(_))) {
            process::kill_group(pid);
        }
        for source in sources.iter().filter(|s| s.captured.dropped() > 0) {
            tracing::debug!(
                stream = ?source.stream,
                kept = source.captured.len(),
                dropped = source.captured.dropped(),
                "{}_output_truncated",
                self.tool.spec.log_name
            );
        }
        ended
    }

    fn finish(
        &self,
        started: Instant,
        ended: std::io::Result<Ended>,
        output: Zeroizing<String>,
        stderr: Zeroizing<String>,
    ) -> Result<Run, ToolError> {
        let log_name = self.tool.spec.log_name;
        let command = self.command_line();
        let ended = ended.map_err(|e| self.io("cannot read the output of", e))?;
        if !self.sensitive {
            tracing::debug!(command = %command, output = %output.as_str(), stderr = %stderr.as_str(), "{log_name}_output");
        }
        let Ended::Exited(exit) = ended else {
            tracing::warn!(command = %command, secs = self.timeout.as_secs(), "{log_name}_failed, killed at its deadline");
            return Err(ToolError::TimedOut {
                tool: self.tool.spec.name,
                command,
                after: self.timeout,
            });
        };
        let run = Run {
            exit,
            output,
            stderr,
            elapsed: started.elapsed(),
        };
        tracing::debug!(
            command = %command,
            exit_code = ?run.exit_code(),
            elapsed_ms = run.elapsed.as_millis() as u64,
            output_bytes = run.output.len(),
            "{log_name}_complete"
        );
        // env(1) on a `#!/usr/bin/env node` line reports a missing
        // interpreter with 127, as a shell does a missing command.
        if run.exit == Exit::Code(127) {
            return Err(self.cannot_start("exit code 127: its interpreter is missing".to_string()));
        }
        Ok(run)
    }

    fn cannot_start(&self, reason: String) -> ToolError {
        tracing::debug!(error = %reason, program = %self.tool.program.display(), "{}_failed", self.tool.spec.log_name);
        ToolError::CannotStart {
            tool: self.tool.spec.name,
            program: self.tool.program.display().to_string(),
            config_key: self.tool.spec.config_key,
            reason,
        }
    }

    fn io(&self, what: &'static str, source: std::io::Error) -> ToolError {
        ToolError::Io {
            tool: self.tool.spec.name,
            what,
            source,
        }
    }
}

/// Types the secret and Enter on the terminal.
fn type_line(mut pty: &File, secret: &Secret) -> std::io::Result<()> {
    pty.write_all(secret.expose().as_bytes())?;
    pty.write_all(b"\n")
}

/// A daemon started by [`Call::spawn_detached`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Detached {
    pub pid: u32,
}

impl Detached {
    /// Whether it has exited already (and how), while pm is its parent: a
    /// caller waiting for the daemon's socket stops waiting for a dead one.
    pub fn exited(&self) -> std::io::Result<Option<Exit>> {
        process::try_reap(self.pid as i32)
    }
}
