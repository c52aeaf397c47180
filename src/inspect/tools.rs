//! The external tools pm drives, found and asked their version through the
//! tool driver (scrubbed environment, own process group, killed at
//! `inspect.probe_timeout`). The questions are fixed: [`READ_ONLY_CALLS`]
//! is every argument list this module (and the network hook) may run, so
//! no probe can start a command that changes anything. A tool that is not
//! installed is a fact (`found: false`), never an error.

use super::Probes;
use super::write::ScratchDir;
use crate::config::{Config, key};
use crate::tool::{Call, Tool, ToolError, ToolSpec};
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// One fixed, read-only question to a tool.
#[derive(Debug)]
pub struct ReadOnlyCall {
    pub tool: &'static str,
    pub args: &'static [&'static str],
}

pub static BW_VERSION: ReadOnlyCall = ReadOnlyCall {
    tool: "bw",
    args: &["--version"],
};
pub static TAILSCALE_VERSION: ReadOnlyCall = ReadOnlyCall {
    tool: "tailscale",
    args: &["version"],
};
pub static TAILSCALED_VERSION: ReadOnlyCall = ReadOnlyCall {
    tool: "tailscaled",
    args: &["--version"],
};
pub static ANSIBLE_VERSION: ReadOnlyCall = ReadOnlyCall {
    tool: "ansible-playbook",
    args: &["--version"],
};
pub static RAY_VERSION: ReadOnlyCall = ReadOnlyCall {
    tool: "ray",
    args: &["--version"],
};
pub static MKFS_VERSION: ReadOnlyCall = ReadOnlyCall {
    tool: "mkfs.ext4",
    args: &["-V"],
};
/// The network hook's one question to the daemon.
pub static TAILSCALE_STATUS: ReadOnlyCall = ReadOnlyCall {
    tool: "tailscale",
    args: &["status", "--json"],
};

/// Everything the inspection may run.
pub static READ_ONLY_CALLS: &[&ReadOnlyCall] = &[
    &BW_VERSION,
    &TAILSCALE_VERSION,
    &TAILSCALED_VERSION,
    &ANSIBLE_VERSION,
    &RAY_VERSION,
    &MKFS_VERSION,
    &TAILSCALE_STATUS,
];

/// The one way the inspection starts a child: a declared question, after
/// the tool's global options (`tailscale --socket=PATH`).
pub fn read_only<'t>(
    tool: &'t Tool,
    question: &'static ReadOnlyCall,
    global: &[String],
) -> Call<'t> {
    debug_assert!(READ_ONLY_CALLS.iter().any(|c| std::ptr::eq(*c, question)));
    let args: Vec<&str> = global
        .iter()
        .map(String::as_str)
        .chain(question.args.iter().copied())
        .collect();
    tool.call(args)
}

pub(super) static TAILSCALE: ToolSpec = ToolSpec {
    name: "tailscale",
    log_name: "inspect_tailscale",
    config_key: Some("net.tailscale_path"),
    env: &[],
};
static TAILSCALED: ToolSpec = ToolSpec {
    name: "tailscaled",
    log_name: "inspect_tailscaled",
    config_key: Some("net.tailscaled_path"),
    env: &[],
};
static ANSIBLE_PLAYBOOK: ToolSpec = ToolSpec {
    name: "ansible-playbook",
    log_name: "inspect_ansible_playbook",
    config_key: None,
    env: &["ANSIBLE_CONFIG"],
};
static RAY: ToolSpec = ToolSpec {
    name: "ray",
    log_name: "inspect_ray",
    config_key: None,
    env: &[],
};

/// A tool pm uses, and how to ask it its version.
pub struct ToolDef {
    pub name: &'static str,
    /// What pm needs it for.
    pub purpose: &'static str,
    spec: &'static ToolSpec,
    version: &'static ReadOnlyCall,
    /// The configured program (a path or a name in PATH).
    program: fn(&Config) -> String,
    /// The environment it is looked up and run with.
    env: fn(&Config) -> BTreeMap<String, String>,
}

fn captured_env(config: &Config) -> BTreeMap<String, String> {
    config.env.vars.clone()
}

/// mkfs lives in sbin, which cron's PATH lacks (as `pool::fs` finds it).
fn mkfs_env(config: &Config) -> BTreeMap<String, String> {
    crate::pool::fs::mkfs_env(&config.env.vars)
}

pub static TOOLS: &[ToolDef] = &[
    ToolDef {
        name: "bw",
        purpose: "pm vault",
        spec: &crate::vault::bw::BW,
        version: &BW_VERSION,
        program: |c| c.string(key::VAULT_BW_PATH).to_string(),
        env: captured_env,
    },
    ToolDef {
        name: "tailscale",
        purpose: "pm net",
        spec: &TAILSCALE,
        version: &TAILSCALE_VERSION,
        program: |c| c.string(key::NET_TAILSCALE_PATH).to_string(),
        env: captured_env,
    },
    ToolDef {
        name: "tailscaled",
        purpose: "pm net",
        spec: &TAILSCALED,
        version: &TAILSCALED_VERSION,
        program: |c| c.string(key::NET_TAILSCALED_PATH).to_string(),
        env: captured_env,
    },
    ToolDef {
        name: "ansible-playbook",
        purpose: "pm play",
        spec: &ANSIBLE_PLAYBOOK,
        version: &ANSIBLE_VERSION,
        program: |c| c.string(key::PLAY_ANSIBLE_PLAYBOOK_PATH).to_string(),
        env: captured_env,
    },
    ToolDef {
        name: "ray",
        purpose: "pm provider",
        spec: &RAY,
        version: &RAY_VERSION,
        // The venv `pm provider onboard` makes holds the Ray it runs.
        program: |c| {
            let venv = match c.string(key::PROVIDER_VENV) {
                "" => c.paths().provider_dir().join("venv"),
                set => std::path::PathBuf::from(set),
            };
            venv.join("bin/ray").display().to_string()
        },
        env: captured_env,
    },
    ToolDef {
        name: "mkfs.ext4",
        purpose: "the thin backend",
        spec: &crate::pool::fs::MKFS_EXT4,
        version: &MKFS_VERSION,
        program: |_| "mkfs.ext4".to_string(),
        env: mkfs_env,
    },
];

impl ToolDef {
    /// The arguments of its version question (`--version`, `-V`).
    pub fn version_args(&self) -> &'static [&'static str] {
        self.version.args
    }
}

pub fn def(name: &str) -> Option<&'static ToolDef> {
    TOOLS.iter().find(|t| t.name == name)
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct ToolFacts {
    pub name: &'static str,
    pub purpose: &'static str,
    /// The configured program.
    pub configured: String,
    /// The config key that sets its path, when it has one.
    pub config_key: Option<&'static str>,
    pub found: bool,
    pub program: Option<PathBuf>,
    pub version: Option<String>,
    /// How long the version probe took.
    pub probe_ms: u64,
    /// Why it is missing, or why its version is not known.
    pub problem: Option<String>,
}

/// Probes every tool in parallel: each waits on its own child, so the
/// whole takes as long as the slowest, bounded by the probe timeout.
pub fn probe_all(p: &Probes) -> Vec<ToolFacts> {
    // Only the config crosses threads: the state's connection is not Sync.
    let config = p.config;
    std::thread::scope(|s| {
        let handles: Vec<_> = TOOLS
            .iter()
            .map(|t| s.spawn(move || probe(config, t)))
            .collect();
        handles
            .into_iter()
            .zip(TOOLS)
            .map(|(h, t)| {
                h.join()
                    .unwrap_or_else(|_| missing(config, t, "the probe panicked"))
            })
            .collect()
    })
}

pub fn probe_timeout(config: &Config) -> Duration {
    Duration::from_secs(config.int(key::INSPECT_PROBE_TIMEOUT).max(1) as u64)
}

pub fn probe(config: &Config, def: &'static ToolDef) -> ToolFacts {
    let started = Instant::now();
    let configured = (def.program)(config);
    let tool = match Tool::locate(def.spec, &configured, &(def.env)(config)) {
        Ok(tool) => tool.with_timeout(probe_timeout(config)),
        Err(e) => return missing(config, def, &e.to_string()),
    };
    let (version, problem) = match version_of(config, def, &tool) {
        Ok(v) => (Some(v), None),
        Err(why) => (None, Some(why)),
    };
    ToolFacts {
        name: def.name,
        purpose: def.purpose,
        configured,
        config_key: def.spec.config_key,
        found: true,
        program: Some(tool.program().to_path_buf()),
        version,
        probe_ms: started.elapsed().as_millis() as u64,
        problem,
    }
}

fn missing(config: &Config, def: &'static ToolDef, why: &str) -> ToolFacts {
    ToolFacts {
        name: def.name,
        purpose: def.purpose,
        configured: (def.program)(config),
        config_key: def.spec.config_key,
        found: false,
        program: None,
        version: None,
        probe_ms: 0,
        problem: Some(why.to_string()),
    }
}

fn version_of(config: &Config, def: &ToolDef, tool: &Tool) -> Result<String, String> {
    if def.name == "bw"
        && let Some(v) = npm_package_version(tool.program())
    {
        return Ok(v);
    }
    let scratch;
    let mut call = read_only(tool, def.version, &[]);
    if def.name == "bw" {
        // bw creates its data folder on first use, even for --version:
        // give it a throwaway one rather than let it touch the real one.
        let tmp = PathBuf::from(config.env.var("TMPDIR").unwrap_or("/tmp"));
        scratch = ScratchDir::new(&tmp).map_err(|e| format!("no scratch folder: {e}"))?;
        call = call.env("BITWARDENCLI_APPDATA_DIR", scratch.path());
    }
    let run = call.run_piped().map_err(|e| describe(&e))?;
    let text = if run.output.trim().is_empty() {
        run.stderr.as_str()
    } else {
        run.output.as_str()
    };
    if !run.succeeded() {
        return Err(format!(
            "`{} {}` ended with {}",
            def.name,
            def.version.args.join(" "),
            run.exit
        ));
    }
    version_in(text).ok_or_else(|| "no version in its output".to_string())
}

fn describe(e: &ToolError) -> String {
    match e {
        ToolError::TimedOut { after, .. } => {
            format!(
                "its version probe did not answer within {} s and was killed",
                after.as_secs()
            )
        }
        other => other.to_string(),
    }
}

/// The npm build of bw is `.../@bitwarden/cli/build/bw.js`: its version is
/// in the package's manifest, read without starting Node.
fn npm_package_version(program: &Path) -> Option<String> {
    let real = std::fs::canonicalize(program).ok()?;
    let build = real.parent().filter(|d| d.ends_with("build"))?;
    let manifest = std::fs::read_to_string(build.parent()?.join("package.json")).ok()?;
    let doc: serde_json::Value = serde_json::from_str(&manifest).ok()?;
    doc["version"].as_str().map(str::to_string)
}

/// The first word of the first line that looks like a version: `2026.6.0`,
/// `ray, version 2.60.0`, `ansible-playbook [core 2.19.3]`,
/// `mke2fs 1.47.0 (5-Feb-2023)`, `1.102.0`.
pub fn version_in(text: &str) -> Option<String> {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    line.split(|c: char| c.is_whitespace() || c == ',' || c == '[' || c == ']' || c == '(')
        .map(|w| w.trim_start_matches('v'))
        .find(|w| {
            let mut parts = w.split('.');
            parts.clone().count() >= 2
                && parts
                    .all(|p| !p.is_empty() && p.chars().next().is_some_and(|c| c.is_ascii_digit()))
        })
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_found_in_each_tools_words() {
        assert_eq!(version_in("2026.6.0").as_deref(), Some("2026.6.0"));
        assert_eq!(
            version_in("ray, version 2.60.0\n").as_deref(),
            Some("2.60.0")
        );
        assert_eq!(
            version_in("ansible-playbook [core 2.19.3]\n  config file = None").as_deref(),
            Some("2.19.3")
        );
        assert_eq!(
            version_in("mke2fs 1.47.0 (5-Feb-2023)\n\tUsing EXT2FS Library version 1.47.0")
                .as_deref(),
            Some("1.47.0")
        );
        assert_eq!(
            version_in("1.102.0\n  tailscale commit: abc\n  go version: go1.25").as_deref(),
            Some("1.102.0")
        );
        assert_eq!(version_in("no version here"), None);
    }

    #[test]
    fn every_tool_asks_a_read_only_question() {
        for t in TOOLS {
            assert!(
                READ_ONLY_CALLS.iter().any(|c| std::ptr::eq(*c, t.version)),
                "{} asks an undeclared question",
                t.name
            );
            assert_eq!(t.version.tool, t.name);
        }
    }
}
