//! The one driver for `ansible-playbook`, with its messages.
//!
//! The per-host recap comes from a callback plugin pm ships
//! (`pm_recap.py`), never from the text: ansible's `json` stdout callback
//! lives in a collection that may not be installed, and replacing the
//! stdout callback would hide the human output that `pm play` streams. The
//! plugin is written for each run into a private directory placed first on
//! `ANSIBLE_CALLBACK_PLUGINS` (after any the caller set), and it writes the
//! recap to a file in that directory.

use crate::config::{Config, key};
use crate::error::PmError;
use crate::paths::create_private_dir;
use crate::tool::{Messages, Run, Stream, Tool, ToolSpec};
use anyhow::Result;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub static ANSIBLE_PLAYBOOK: ToolSpec = ToolSpec {
    name: "ansible-playbook",
    log_name: "play_ansible",
    config_key: Some("play.ansible_playbook_path"),
    // Ansible's own settings (and a caller's SSH agent for remote hosts)
    // are the caller's business: they pass through.
    env: &["ANSIBLE_*", "SSH_AUTH_SOCK"],
};

const PLUGIN: &str = include_str!("pm_recap.py");
const RECAP_VAR: &str = "PM_PLAY_RECAP_FILE";

/// ansible-playbook's words that mean it could not run at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cause {
    Locale,
}

pub struct AnsibleMessages;

impl Messages for AnsibleMessages {
    type Cause = Cause;
    const TABLE: &'static [(&'static str, Cause)] = &[
        ("requires the locale encoding to be UTF-8", Cause::Locale),
        ("could not initialize the preferred locale", Cause::Locale),
    ];
}

/// One host's line of the recap.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub struct HostRecap {
    #[serde(default)]
    pub ok: u64,
    #[serde(default)]
    pub changed: u64,
    #[serde(default)]
    pub unreachable: u64,
    #[serde(default, rename(deserialize = "failures"))]
    pub failed: u64,
    #[serde(default)]
    pub skipped: u64,
    #[serde(default)]
    pub rescued: u64,
    #[serde(default)]
    pub ignored: u64,
}

#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub struct FailedTask {
    pub host: String,
    pub task: String,
    pub status: String,
}

/// What the plugin wrote; empty when the playbook never got to its end
/// (a parse error, a crash).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct Recap {
    #[serde(default)]
    pub hosts: BTreeMap<String, HostRecap>,
    #[serde(default)]
    pub failed_tasks: Vec<FailedTask>,
}

/// A finished run.
pub struct Ran {
    pub rc: i32,
    pub recap: Recap,
}

/// The plugin's directory for one run, removed afterwards.
struct Workdir(PathBuf);

impl Workdir {
    fn create(config: &Config) -> Result<Workdir> {
        let base = config.env.var("TMPDIR").unwrap_or("/tmp");
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = Path::new(base).join(format!("pm-play.{}.{nanos}", std::process::id()));
        let what = format!("cannot prepare {}", dir.display());
        let io = |e| PmError::io(what.clone(), e);
        if dir.exists() {
            return Err(io(std::io::ErrorKind::AlreadyExists.into()).into());
        }
        create_private_dir(&dir).map_err(io)?;
        let workdir = Workdir(dir);
        std::fs::write(workdir.0.join("pm_recap.py"), PLUGIN).map_err(io)?;
        Ok(workdir)
    }
}

impl Drop for Workdir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `ansible-playbook PLAYBOOK ARGS` in pm's working directory, its
/// output streamed to stderr line by line (unless `quiet`), and reads the
/// recap the plugin wrote.
pub fn run(config: &Config, playbook: &Path, args: &[String], quiet: bool) -> Result<Ran> {
    let timeout = Duration::from_secs(config.int(key::PLAY_TIMEOUT).max(1) as u64);
    let tool = Tool::locate(
        &ANSIBLE_PLAYBOOK,
        config.string(key::PLAY_ANSIBLE_PLAYBOOK_PATH),
        &config.env.vars,
    )?
    .with_timeout(timeout);
    let workdir = Workdir::create(config)?;
    let recap_file = workdir.0.join("recap.json");
    let plugins = match config.env.var("ANSIBLE_CALLBACK_PLUGINS") {
        Some(theirs) => format!("{}:{theirs}", workdir.0.display()),
        None => workdir.0.display().to_string(),
    };
    // The one place pm hands a tool's output to the user as it comes:
    // `pm play` streams the playbook's progress to stderr (stdout stays
    // pm's result), as the operator would see it run by hand.
    let mut stream = |_: Stream, line: &str| {
        if !quiet {
            eprintln!("{line}");
        }
    };
    let mut argv = vec![playbook.display().to_string()];
    argv.extend(args.iter().cloned());
    let run = tool
        .call(&argv)
        .env("ANSIBLE_CALLBACK_PLUGINS", &plugins)
        .env(RECAP_VAR, &recap_file)
        .on_line(&mut stream)
        // Already on stderr: keep it out of the debug log a second time.
        .sensitive()
        .run_piped()?;
    let recap = read_recap(&recap_file);
    refuse_unusable(&run)?;
    Ok(Ran {
        rc: run.exit_code().unwrap_or(-1),
        recap,
    })
}

fn read_recap(path: &Path) -> Recap {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "play_recap_unreadable");
            Recap::default()
        }),
        Err(_) => Recap::default(),
    }
}

/// ansible-playbook that could not start its work because of the host's
/// setup (not the playbook's fault) is pm's tool failure.
fn refuse_unusable(run: &Run) -> Result<()> {
    if run.succeeded() {
        return Ok(());
    }
    if run.classify::<AnsibleMessages>() == Some(Cause::Locale) {
        return Err(PmError::ToolFailed {
            tool: "ansible-playbook".to_string(),
            message: "ansible requires a UTF-8 locale: set LC_ALL=C.UTF-8 (or LANG) for pm play"
                .to_string(),
        }
        .into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plugins_recap_is_read_with_ansibles_names() {
        let text = r#"{"hosts": {"localhost": {"ok": 3, "failures": 1, "unreachable": 0,
            "changed": 2, "skipped": 1, "rescued": 0, "ignored": 0}},
            "failed_tasks": [{"host": "localhost", "task": "boom", "status": "failed"}]}"#;
        let recap: Recap = serde_json::from_str(text).unwrap();
        let host = &recap.hosts["localhost"];
        assert_eq!(
            (host.ok, host.changed, host.failed, host.skipped),
            (3, 2, 1, 1)
        );
        assert_eq!(recap.failed_tasks[0].task, "boom");
        let shown = serde_json::to_value(host).unwrap();
        assert_eq!(shown["failed"], 1, "{shown}");
    }

    #[test]
    fn a_missing_or_damaged_recap_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_recap(&dir.path().join("none")).hosts.is_empty());
        std::fs::write(dir.path().join("bad"), "{").unwrap();
        assert!(read_recap(&dir.path().join("bad")).hosts.is_empty());
    }
}
