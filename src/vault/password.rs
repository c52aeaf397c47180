//! Where the master password comes from: the first line of a file, an
//! environment variable, or a hidden prompt on the terminal. Never argv.
//!
//! The password is read only when an unlock needs it, straight into a
//! [`Secret`], and the buffers it passed through are zeroed.

use crate::config::Environment;
use crate::error::PmError;
use crate::secret::Secret;
use anyhow::Result;
use std::io::{BufRead, Read, Write};
use std::path::PathBuf;
use zeroize::Zeroizing;

/// Files longer than this are not password files; reading stops there.
const MAX_FILE_BYTES: u64 = 64 * 1024;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PasswordSource {
    /// The first line of this file.
    File(PathBuf),
    /// The value of this environment variable (of pm's environment).
    Env(String),
    /// A hidden prompt on the terminal (stdin is one).
    Terminal,
    /// Nothing: a locked vault is an error.
    None,
}

impl PasswordSource {
    pub fn is_none(&self) -> bool {
        matches!(self, PasswordSource::None)
    }

    /// Reads the password now. `Ok(None)` only for [`PasswordSource::None`].
    pub fn read(&self, env: &Environment) -> Result<Option<Secret>> {
        let secret = match self {
            PasswordSource::File(path) => first_line_of(path)?,
            PasswordSource::Env(var) => from_env(env, var)?,
            PasswordSource::Terminal => prompt_hidden("Master password: ")?,
            PasswordSource::None => return Ok(None),
        };
        Ok(Some(secret))
    }
}

fn first_line_of(path: &PathBuf) -> Result<Secret> {
    let unreadable = |why: String| PmError::VaultPasswordSource {
        reason: format!("password file {}: {why}", path.display()),
    };
    let file = std::fs::File::open(path).map_err(|e| unreadable(e.to_string()))?;
    let mut text = Zeroizing::new(String::new());
    file.take(MAX_FILE_BYTES)
        .read_to_string(&mut text)
        .map_err(|e| unreadable(e.to_string()))?;
    let line = text.lines().next().unwrap_or("");
    if line.is_empty() {
        return Err(unreadable("the first line is empty".to_string()).into());
    }
    Ok(Secret::new(line))
}

fn from_env(env: &Environment, var: &str) -> Result<Secret> {
    match env.var(var) {
        Some(value) => Ok(Secret::new(value)),
        None => Err(PmError::VaultPasswordSource {
            reason: format!("environment variable {var} is not set or empty"),
        }
        .into()),
    }
}

/// Asks on stderr and reads one line from stdin with echo off. The caller
/// has checked that stdin is a terminal.
fn prompt_hidden(prompt: &str) -> Result<Secret> {
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(prompt.as_bytes());
    let _ = stderr.flush();
    let line = {
        let _echo_off = EchoOff::on_stdin()?;
        let mut line = Zeroizing::new(String::new());
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| PmError::io("cannot read the master password from the terminal", e))?;
        line
    };
    let _ = stderr.write_all(b"\n");
    let password = line.trim_end_matches(['\n', '\r']);
    if password.is_empty() {
        return Err(PmError::VaultPasswordSource {
            reason: "no password was typed".to_string(),
        }
        .into());
    }
    Ok(Secret::new(password))
}

/// Turns terminal echo off on stdin until dropped, so the password is not
/// shown, and restores the previous settings however the read ends.
struct EchoOff {
    saved: libc::termios,
}

impl EchoOff {
    fn on_stdin() -> Result<EchoOff> {
        // SAFETY: termios is plain data; tcgetattr fills it for fd 0.
        let mut saved: libc::termios = unsafe { std::mem::zeroed() };
        if unsafe { libc::tcgetattr(libc::STDIN_FILENO, &mut saved) } != 0 {
            let err = std::io::Error::last_os_error();
            return Err(PmError::io("cannot read the terminal settings", err).into());
        }
        let mut quiet = saved;
        quiet.c_lflag &= !libc::ECHO;
        // SAFETY: fd 0 with a termios derived from its own settings.
        if unsafe { libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &quiet) } != 0 {
            let err = std::io::Error::last_os_error();
            return Err(PmError::io("cannot turn terminal echo off", err).into());
        }
        Ok(EchoOff { saved })
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        // SAFETY: restoring the settings read from the same fd.
        unsafe { libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &self.saved) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_file_gives_its_first_line_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        std::fs::write(&path, "first line secret\r\nsecond line\n").unwrap();
        let secret = PasswordSource::File(path)
            .read(&Environment::default())
            .unwrap()
            .unwrap();
        assert_eq!(secret.expose(), "first line secret");
    }

    #[test]
    fn unset_variable_and_missing_file_are_source_errors() {
        let env = Environment::default();
        for source in [
            PasswordSource::Env("PM_TEST_NO_SUCH_VAR".to_string()),
            PasswordSource::File(PathBuf::from("/nonexistent/pw")),
        ] {
            let err = source.read(&env).unwrap_err();
            let pm = err.downcast_ref::<PmError>().unwrap();
            assert_eq!(pm.code(), "vault_password_source");
        }
        assert!(PasswordSource::None.read(&env).unwrap().is_none());
    }
}
