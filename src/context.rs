//! What every command runs with: the effective config, the output mode, the
//! state (opened on first use) and the lock.

use crate::config::Config;
use crate::lock::{self, Holder, LockGuard};
use crate::output;
use crate::progress::{Bar, Progress, Silent};
use crate::state::State;
use anyhow::Result;
use std::io::IsTerminal;
use std::path::Path;
use std::time::Duration;

pub struct Context {
    pub config: Config,
    /// `--json`: one JSON document on stdout.
    pub json: bool,
    /// `-q`: no notices on stderr.
    pub quiet: bool,
    /// The command path, e.g. `state prune`, for the lock and the history.
    pub command: String,
    state: Option<State>,
    stderr_is_terminal: bool,
}

impl Context {
    pub fn new(config: Config, command: String) -> Context {
        Context {
            json: config.bool("json"),
            quiet: config.int("verbosity") < 0,
            stderr_is_terminal: std::io::stderr().is_terminal(),
            config,
            command,
            state: None,
        }
    }

    /// The state database, opened (and created or migrated) on first use.
    pub fn state(&mut self) -> Result<&mut State> {
        if self.state.is_none() {
            self.state = Some(State::open(&self.config.state_path())?);
        }
        Ok(self.state.as_mut().expect("state was just opened"))
    }

    /// Whether the state was opened by this command (for history recording).
    pub fn state_if_open(&mut self) -> Option<&mut State> {
        self.state.as_mut()
    }

    /// Takes the state lock for a mutating critical section, waiting up to
    /// `--lock-timeout` and saying once on stderr whom it waits for.
    pub fn lock(&self) -> Result<LockGuard> {
        let path = lock::lock_path_for(&self.config.state_path());
        self.wait_for_lock(&path, "the state lock")
    }

    /// Takes the pool lock, held for the whole of any work on volumes and
    /// activations (see `lock`); taken before the state lock, never after.
    pub fn pool_lock(&self) -> Result<LockGuard> {
        let path = lock::pool_lock_path_for(&self.config.state_path());
        self.wait_for_lock(&path, "the pool lock")
    }

    fn wait_for_lock(&self, path: &Path, what: &'static str) -> Result<LockGuard> {
        let me = Holder::this_process(&format!("pm {}", self.command));
        let timeout = Duration::from_secs(self.config.int("lock_timeout").max(0) as u64);
        let quiet = self.quiet;
        lock::acquire(path, what, &me, timeout, |holder| {
            output::notice(quiet, &format!("waiting for {what} held by {holder}"));
        })
    }

    /// A notice for the person at the terminal (stderr, silenced by `-q`).
    pub fn notice(&self, message: &str) {
        output::notice(self.quiet, message);
    }

    /// A byte progress bar on a terminal, silence elsewhere. The bar has no
    /// colours, so `NO_COLOR` needs nothing further.
    pub fn byte_progress(&self, label: &str, total: u64) -> Box<dyn Progress> {
        if self.stderr_is_terminal && !self.quiet {
            Box::new(Bar::bytes(label, total))
        } else {
            Box::new(Silent)
        }
    }
}
