//! `pm inspect`, `pm doctor`, `pm report` and `pm logs collect`: what this
//! host is and how it is doing, read without changing anything (SPEC §7).
//!
//! Read-only is a type here, not a promise. Everything below works from a
//! [`Probes`]: the read-only state handle (a [`Reader`], never the write
//! handle, never a lock) and the effective config. Host facts come from
//! reading `/proc`, `/sys`, `/etc/os-release` and `statvfs`; device-mapper is
//! asked through query ioctls only; external tools are asked only the fixed
//! questions in [`tools::READ_ONLY_CALLS`] (`--version`, `status --json`),
//! through the tool driver, each under a deadline. The one module that
//! writes a file is [`write`]: the output the operator asked for (a report,
//! a Prometheus textfile, a support bundle), written beside its destination
//! and renamed into place. `tests/cli/inspect.rs` checks all of this from the
//! source and from the outside.
//!
//! The facts are grouped in independent sections ([`facts::Facts`]), each
//! gathered on first use: a section that cannot be read is `unavailable`
//! with the reason, never an error for the whole command, and a check asks
//! only for the sections it needs (`pm doctor --only state.integrity` runs
//! no tool). The network and provider sections are the hooks `pm net` and
//! `pm provider` fill ([`net`], [`provider`]).
//!
//! - [`facts`]: the sections; [`inspection`]: the document `pm inspect` prints;
//! - [`checks`] and [`doctor`]: the same facts judged, one stable id per check;
//! - [`report`]: JSON, Markdown and HTML renderings, and the fleet table;
//! - [`bundle`]: the support bundle, with its redaction.

pub mod bundle;
pub mod checks;
pub mod db;
pub mod disk;
pub mod dm;
pub mod doctor;
pub mod facts;
pub mod host;
pub mod inspection;
pub mod net;
pub mod pool;
pub mod provider;
pub mod report;
pub mod tools;
pub mod vault;
pub mod write;

pub use facts::Facts;
pub use inspection::Inspection;

use crate::config::Config;
use crate::state::Reader;
use schemars::JsonSchema;
use serde::Serialize;

/// The version of the JSON shape of [`Inspection`], for `pm report fleet`
/// reading documents from hosts running other pm versions. Raised when a
/// field changes meaning or disappears; new fields do not raise it.
pub const SCHEMA_VERSION: u32 = 1;

/// What every probe may use: the state through its read-only handle, and
/// the effective config. No lock, no write handle, no [`crate::context`].
#[derive(Clone, Copy)]
pub struct Probes<'a> {
    state: Result<&'a Reader, &'a str>,
    pub config: &'a Config,
}

impl<'a> Probes<'a> {
    /// `state` is the read-only handle, or why it could not be opened (a
    /// damaged file, a newer schema): then the state sections say so.
    pub fn new(state: Result<&'a Reader, &'a str>, config: &'a Config) -> Probes<'a> {
        Probes { state, config }
    }

    pub fn state(&self) -> Result<&'a Reader, &'a str> {
        self.state
    }
}

/// A group of facts, or why it could not be read. Serialised as the facts
/// themselves, or `{"unavailable": "why"}`, so an Ansible fact reads
/// `ansible_local.pm.pool.usage.data_percent` directly.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(untagged)]
#[schemars(rename = "Section_of_{T}")]
pub enum Section<T> {
    Known(T),
    Unavailable { unavailable: String },
}

impl<T> Section<T> {
    pub fn unavailable(why: impl Into<String>) -> Section<T> {
        Section::Unavailable {
            unavailable: crate::secret::redact(&why.into()).into_owned(),
        }
    }

    /// The facts of a probe that may fail; its error becomes the reason.
    pub fn from_result(result: anyhow::Result<T>) -> Section<T> {
        match result {
            Ok(facts) => Section::Known(facts),
            Err(e) => Section::unavailable(format!("{e:#}")),
        }
    }

    pub fn known(&self) -> Option<&T> {
        match self {
            Section::Known(facts) => Some(facts),
            Section::Unavailable { .. } => None,
        }
    }

    /// Why the facts are missing, when they are.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Section::Known(_) => None,
            Section::Unavailable { unavailable } => Some(unavailable),
        }
    }
}

/// `1536` → `1.5 KiB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
