//! The one place that runs `bw`, on the process driver in `tool`: in a pty,
//! headless, with secrets only in the child's environment.
//!
//! bw is a Node program written for people: it colours and re-renders on a
//! terminal, mixes stderr into what a pty shows, exits 0 on some failures and
//! lingers a second or two after printing. So every call here
//! - runs bw in a fresh pty with `BW_NOINTERACTION=true`, so it can never sit
//!   at a prompt, and `TERM=dumb`, so it does not colour;
//! - gives it the session (`BW_SESSION`) and the master password (a private
//!   variable named by `--passwordenv`) through its environment only, never
//!   argv; the rest of its environment is `tool`'s allow-list plus bw's own
//!   names below, so no `BW_*` setting of the caller that would change what
//!   bw prints (`BW_RAW`, `BW_QUIET`, `BW_RESPONSE`, a stale `BW_SESSION`)
//!   reaches it;
//! - reads the output as it comes and waits for bw to exit, under a deadline
//!   after which its whole process group is killed ([`PmError::BwTimeout`]).
//!
//! What the output means is decided by the caller, with `messages`.

use crate::error::PmError;
use crate::secret::Secret;
use crate::tool::{Run, Tool, ToolError, ToolSpec};
use anyhow::Result;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// The variable bw reads the master password from (`--passwordenv`). It is
/// set in bw's environment only, never in pm's own.
pub const PASSWORD_VAR: &str = "PM_BW_MASTER_PASSWORD";

/// bw as the process driver knows it. Besides the common variables it sees
/// its own data directory setting and Node's extra CA bundle (a self-hosted
/// server with a private CA).
pub static BW: ToolSpec = ToolSpec {
    name: "bw",
    log_name: "vault_bw",
    config_key: Some("vault.bw_path"),
    env: &["BITWARDENCLI_APPDATA_DIR", "NODE_EXTRA_CA_CERTS"],
};

/// What one bw call printed (colours and carriage returns removed) and how
/// it ended.
pub type BwRun = Run;

/// How to run bw: which program, on which data directory, for how long.
#[derive(Clone, Debug)]
pub struct Bw {
    tool: Tool,
    data_dir: Option<PathBuf>,
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

impl Bw {
    /// Finds the program (a path, or a name looked up in the captured PATH)
    /// and prepares bw's environment from pm's captured one.
    pub fn locate(
        program: &str,
        data_dir: Option<PathBuf>,
        timeout: Duration,
        env: &BTreeMap<String, String>,
    ) -> Result<Bw> {
        let tool = Tool::locate(&BW, program, env).map_err(bw_error)?;
        Ok(Bw {
            tool: tool.with_timeout(timeout),
            data_dir,
        })
    }

    /// Runs `bw ARGS` to its exit and returns what it printed. Fails only
    /// when bw cannot start or overruns the deadline: what the output means
    /// is the caller's to decide.
    pub fn run(&self, args: &[&str], inputs: &BwInputs) -> Result<BwRun> {
        let mut call = self
            .tool
            .call(args)
            .env("BW_NOINTERACTION", "true")
            .env("TERM", "dumb");
        if let Some(dir) = &self.data_dir {
            call = call.env("BITWARDENCLI_APPDATA_DIR", dir);
        }
        if let Some(session) = inputs.session {
            call = call.env_secret("BW_SESSION", session);
        }
        if let Some(password) = inputs.password {
            call = call.env_secret(PASSWORD_VAR, password);
        }
        if inputs.sensitive_output {
            call = call.sensitive();
        }
        call.run_pty().map_err(bw_error)
    }
}

/// bw's stable codes for what the driver reports: `bw_missing` and
/// `bw_timeout` predate the driver and scripts match on them.
fn bw_error(e: ToolError) -> anyhow::Error {
    match e {
        ToolError::Missing { program, .. } | ToolError::CannotStart { program, .. } => {
            PmError::BwMissing { program }.into()
        }
        ToolError::TimedOut { command, after, .. } => PmError::BwTimeout {
            command,
            secs: after.as_secs(),
        }
        .into(),
        other => other.into(),
    }
}
