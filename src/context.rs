//! What every command runs with: the effective config, the output mode, the
//! state (opened on first use, read-only or for writing) and the locks.

use crate::config::{Config, key};
use crate::lock::{self, Holder, LockGuard};
use crate::output;
use crate::paths::StatePaths;
use crate::progress::{Bars, Progress};
use crate::state::{NewHistoryEntry, ReadState, State};
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
    /// `--dry-run`: change nothing (state, kernel, files, children that
    /// mutate); report what a real run would.
    pub dry_run: bool,
    /// The command path, e.g. `state prune`, for the lock and the history.
    pub command: String,
    paths: StatePaths,
    state: Option<State>,
    read_state: Option<ReadState>,
    stderr_is_terminal: bool,
}

impl Context {
    pub fn new(config: Config, command: String) -> Context {
        Context {
            json: config.bool(key::JSON),
            dry_run: config.bool(key::DRY_RUN),
            quiet: config.int(key::VERBOSITY) < 0,
            stderr_is_terminal: std::io::stderr().is_terminal(),
            paths: config.paths(),
            config,
            command,
            state: None,
            read_state: None,
        }
    }

    /// The state file and everything beside it.
    pub fn paths(&self) -> &StatePaths {
        &self.paths
    }

    /// The state for a mutating command, opened (and created or migrated)
    /// on first use. Its writes take a lock token.
    pub fn state(&mut self) -> Result<&mut State> {
        if self.state.is_none() {
            self.state = Some(State::open(self.paths.state())?);
        }
        Ok(self.state.as_mut().expect("state was just opened"))
    }

    /// The state for a command that changes nothing: read-only, never
    /// created or migrated (empty where no state file exists).
    pub fn read_state(&mut self) -> Result<&ReadState> {
        if self.read_state.is_none() {
            self.read_state = Some(ReadState::open(self.paths.state())?);
        }
        Ok(self.read_state.as_ref().expect("state was just opened"))
    }

    /// Appends a mutating command to the history, on the state this command
    /// opened or a fresh handle.
    pub fn record_history(&mut self, entry: &NewHistoryEntry) -> Result<()> {
        self.state()?.append_history(entry)
    }

    /// Takes the state lock for a mutating critical section, waiting up to
    /// `--lock-timeout` and saying once on stderr whom it waits for.
    pub fn lock(&self) -> Result<LockGuard> {
        self.wait_for_lock(&self.paths.state_lock(), "the state lock")
    }

    /// Takes the pool lock, held for the whole of any work on volumes and
    /// activations (see `lock`); taken before the state lock, never after.
    pub fn pool_lock(&self) -> Result<LockGuard> {
        self.wait_for_lock(&self.paths.pool_lock(), "the pool lock")
    }

    /// Takes the network lock, held for the whole of `pm net up|down|leave`
    /// (a login may take a minute); independent of the state and pool locks.
    pub fn net_lock(&self) -> Result<LockGuard> {
        self.wait_for_lock(&self.paths.net_lock(), "the network lock")
    }

    /// Takes the provider lock, held for a whole `pm provider onboard` or
    /// `leave` (minutes: a pip install, a Ray join); taken before the state
    /// lock, never after.
    pub fn provider_lock(&self) -> Result<LockGuard> {
        self.wait_for_lock(&self.paths.provider_lock(), "the provider lock")
    }

    fn wait_for_lock(&self, path: &Path, what: &'static str) -> Result<LockGuard> {
        let me = Holder::this_process(&format!("pm {}", self.command));
        let timeout = Duration::from_secs(self.config.count(key::LOCK_TIMEOUT));
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
        self.bars().bytes(label, total)
    }

    /// Bars to make later (see [`Bars`]).
    pub fn bars(&self) -> Bars {
        Bars {
            visible: self.stderr_is_terminal && !self.quiet,
        }
    }
}
