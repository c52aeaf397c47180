//! The provider's Python environment: a venv made from `provider.python`
//! with the pinned Ray, installed by pip, and reused as long as it matches
//! (same Python as the interpreter, a Ray the pin accepts). pip's messages
//! are classified in one table here.

use super::ray::{self, Installed};
use super::settings::{Settings, VersionPin};
use crate::error::PmError;
use crate::paths::create_private_dir;
use crate::secret::Secret;
use crate::tool::{Messages, Run, Tool, ToolError, ToolSpec};
use anyhow::Result;
use serde::Serialize;
use std::path::Path;
use std::time::Duration;

/// The interpreter the venv is made from.
pub static INTERPRETER: ToolSpec = ToolSpec {
    name: "python",
    log_name: "provider_python",
    config_key: Some("provider.python"),
    env: &[],
};

/// pip, run as `<venv>/bin/python -m pip`; it keeps an operator's `PIP_*`
/// settings (a mirror, a CA bundle).
pub static PIP: ToolSpec = ToolSpec {
    name: "pip",
    log_name: "provider_pip",
    config_key: Some("provider.venv"),
    env: &["PIP_*"],
};

const QUICK: Duration = Duration::from_secs(30);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PipMessage {
    NotAvailable,
    Unreachable,
    NoSpace,
    NoVenvModule,
}

/// pip's and venv's words, most specific first.
pub const PIP_MESSAGES: &[(&str, PipMessage)] = &[
    ("No matching distribution found", PipMessage::NotAvailable),
    (
        "Could not find a version that satisfies",
        PipMessage::NotAvailable,
    ),
    ("No space left on device", PipMessage::NoSpace),
    ("ensurepip is not available", PipMessage::NoVenvModule),
    ("No module named venv", PipMessage::NoVenvModule),
    (
        "Temporary failure in name resolution",
        PipMessage::Unreachable,
    ),
    (
        "Failed to establish a new connection",
        PipMessage::Unreachable,
    ),
    ("Network is unreachable", PipMessage::Unreachable),
    ("Read timed out", PipMessage::Unreachable),
    ("ConnectTimeoutError", PipMessage::Unreachable),
];

pub struct PipMessages;

impl Messages for PipMessages {
    type Cause = PipMessage;
    const TABLE: &'static [(&'static str, PipMessage)] = PIP_MESSAGES;
}

/// A venv that matches.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Ready {
    pub venv: String,
    pub python: String,
    pub ray: String,
}

/// The interpreter `provider.python` names.
pub fn interpreter(settings: &Settings) -> Result<Tool> {
    Ok(Tool::locate(&INTERPRETER, &settings.python, &settings.env)?)
}

/// `platform.python_version()` of `python`.
pub fn python_version(python: &Tool) -> Result<String> {
    let run = python
        .call([
            "-I",
            "-c",
            "import platform; print(platform.python_version())",
        ])
        .timeout(QUICK)
        .run_piped()?;
    match run.lines().last() {
        Some(v) if run.succeeded() && v.starts_with(|c: char| c.is_ascii_digit()) => {
            Ok(v.to_string())
        }
        _ => Err(PmError::ToolFailed {
            tool: "python".to_string(),
            message: format!(
                "`{}` did not say its version ({})",
                python.program().display(),
                run.exit
            ),
        }
        .into()),
    }
}

/// Whether `python` can make venvs (Debian splits `venv` and `ensurepip`
/// into python3-venv).
pub fn can_make_venvs(python: &Tool) -> Result<bool> {
    let run = python
        .call(["-I", "-c", "import venv, ensurepip"])
        .timeout(QUICK)
        .run_piped()?;
    Ok(run.succeeded())
}

/// The venv as it is: ready, or why not.
pub fn inspect(
    settings: &Settings,
    pin: &VersionPin,
    wanted_python: &str,
) -> Result<Result<Ready, String>> {
    let venv = settings.venv.display().to_string();
    Ok(match ray::installed(settings)? {
        None => Err(format!("no venv at {venv}")),
        Some(Installed { python, .. }) if python != wanted_python => Err(format!(
            "the venv has Python {python}, provider.python is {wanted_python}"
        )),
        Some(Installed { ray: None, .. }) => Err(format!("the venv at {venv} has no Ray")),
        Some(Installed { ray: Some(ray), .. }) if !pin.matches(&ray) => Err(format!(
            "the venv has Ray {ray}, provider.ray_version is {pin}"
        )),
        Some(Installed {
            python,
            ray: Some(ray),
        }) => Ok(Ready { venv, python, ray }),
    })
}

/// Makes the venv (again, with `--clear`, when it has another Python) and
/// installs the pinned Ray into it.
pub fn make(
    settings: &Settings,
    pin: &VersionPin,
    python: &Tool,
    wanted_python: &str,
) -> Result<Ready> {
    let venv = &settings.venv;
    let rebuild = matches!(ray::installed(settings)?, Some(i) if i.python != wanted_python);
    if let Some(parent) = venv.parent() {
        create_private_dir(parent)
            .map_err(|e| PmError::io(format!("cannot create {}", parent.display()), e))?;
    }
    if rebuild || !venv.join("bin").join("python").exists() {
        let mut args = vec!["-m", "venv"];
        if rebuild {
            args.push("--clear");
        }
        let run = python
            .call(&args)
            .arg(venv)
            .timeout(settings.timeouts.install)
            .run_piped()
            .map_err(|e| env_error(venv, e))?;
        if !run.succeeded() {
            return Err(pip_failure(venv, &run, "`python -m venv` failed"));
        }
    }
    pip_install(settings, pin)?;
    inspect(settings, pin, wanted_python)?.map_err(|reason| {
        PmError::PythonEnvFailed {
            venv: venv.clone(),
            reason: format!("after the install, {reason}"),
        }
        .into()
    })
}

fn pip_install(settings: &Settings, pin: &VersionPin) -> Result<()> {
    let venv = &settings.venv;
    let program = venv.join("bin").join("python");
    let pip = Tool::locate(&PIP, &program.to_string_lossy(), &settings.env)?;
    let mut args = vec![
        "-m".to_string(),
        "pip".to_string(),
        "install".to_string(),
        "--disable-pip-version-check".to_string(),
        "--no-input".to_string(),
        "--quiet".to_string(),
    ];
    // A private index URL often carries `user:token@`: it goes to pip in its
    // environment (PIP_INDEX_URL), not on argv where every user can read it,
    // and as a Secret, so no log or error shows it.
    let mut index = None;
    if let Some(dir) = &settings.wheelhouse {
        args.extend(["--no-index".to_string(), "--find-links".to_string()]);
        args.push(dir.display().to_string());
    } else if let Some(url) = &settings.index_url {
        index = Some(Secret::new(url.clone()));
    }
    args.push(pin.requirement());
    let mut call = pip.call(&args).timeout(settings.timeouts.install);
    if let Some(url) = &index {
        call = call.env_secret("PIP_INDEX_URL", url);
    }
    let run = call.run_piped().map_err(|e| env_error(venv, e))?;
    if run.succeeded() {
        return Ok(());
    }
    Err(pip_failure(
        venv,
        &run,
        &format!("pip could not install {}", pin.requirement()),
    ))
}

fn env_error(venv: &Path, e: ToolError) -> anyhow::Error {
    match e {
        ToolError::TimedOut { after, .. } => PmError::PythonEnvFailed {
            venv: venv.to_path_buf(),
            reason: format!(
                "it did not finish within {} s (provider.install_timeout)",
                after.as_secs()
            ),
        }
        .into(),
        other => other.into(),
    }
}

fn pip_failure(venv: &Path, run: &Run, what: &str) -> anyhow::Error {
    let why = match run.classify::<PipMessages>() {
        Some(PipMessage::NotAvailable) => "it is not in the index or wheelhouse",
        Some(PipMessage::Unreachable) => "the package index is unreachable",
        Some(PipMessage::NoSpace) => "the disk is full",
        Some(PipMessage::NoVenvModule) => {
            "the interpreter cannot make venvs (install python3-venv)"
        }
        None => "-vv shows its output",
    };
    PmError::PythonEnvFailed {
        venv: venv.to_path_buf(),
        reason: format!("{what}: {why}"),
    }
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pips_failures_are_recognised() {
        let cases = [
            (
                "ERROR: Could not find a version that satisfies the requirement ray==9.9.* (from versions: none)",
                PipMessage::NotAvailable,
            ),
            (
                "WARNING: Retrying ... Failed to establish a new connection: [Errno -3] Temporary failure in name resolution",
                PipMessage::Unreachable,
            ),
            (
                "The virtual environment was not created successfully because ensurepip is not available.",
                PipMessage::NoVenvModule,
            ),
        ];
        for (text, cause) in cases {
            assert_eq!(PipMessages::classify(text), Some(cause), "{text}");
        }
    }
}
