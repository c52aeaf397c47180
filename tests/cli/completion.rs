//! Shell completion in a real bash, through a pty: the script
//! `pm completions bash` prints, and the shipped `completions/pm.bash`,
//! complete values that live in the state (image ids, activation names).

use crate::rootfs::validated_example;
use crate::support::{Sandbox, json_of};
use expectrl::Expect;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// An interactive bash with pm on its PATH and the sandbox's environment.
fn bash(sb: &Sandbox) -> expectrl::session::OsSession {
    let pm = assert_cmd::cargo::cargo_bin("pm");
    let pm_dir = pm.parent().expect("bin dir").to_path_buf();
    let inputrc = sb.path().join("inputrc");
    // No bracketed paste: the test reads what readline echoes.
    std::fs::write(&inputrc, "set enable-bracketed-paste off\n").expect("inputrc");
    let sandbox_env = sb.pm_std();
    let mut cmd = std::process::Command::new("bash");
    cmd.args(["--norc", "--noprofile", "-i"]);
    for (key, value) in sandbox_env.get_envs() {
        match value {
            Some(value) => cmd.env(key, value),
            None => cmd.env_remove(key),
        };
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![pm_dir];
    dirs.extend(std::env::split_paths(&path));
    cmd.env("PATH", std::env::join_paths(dirs).expect("PATH"))
        .env("INPUTRC", &inputrc)
        .env("PS1", "ready$ ")
        .env("TERM", "dumb")
        .current_dir(sb.path());
    let mut session = expectrl::Session::spawn(cmd).expect("spawn bash");
    session.set_expect_timeout(Some(Duration::from_secs(60)));
    session.expect("ready$ ").expect("bash prompt");
    session
}

/// Types `partial` and <Tab>, then prints the completed line instead of
/// running it (<Ctrl-A> `echo ` <Enter>), and returns what the terminal
/// showed up to the next prompt.
fn completed_line(session: &mut expectrl::session::OsSession, partial: &str) -> String {
    session.send(format!("{partial}\t")).expect("type");
    session.send("\x01echo COMPLETED: \r").expect("enter");
    let shown = session.expect("ready$ ").expect("the line was printed");
    String::from_utf8_lossy(shown.before()).into_owned()
}

/// The line `echo` printed: after the echoed input, on its own line.
fn printed(shown: &str) -> String {
    shown
        .lines()
        .rev()
        .find_map(|l| l.trim_end().strip_prefix("COMPLETED: "))
        .unwrap_or_else(|| panic!("no completed line in {shown:?}"))
        .to_string()
}

fn repo_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

#[test]
fn the_printed_bash_script_completes_a_stored_image_id() {
    let sb = Sandbox::new();
    let file = sb.path().join("tiny.tar");
    std::fs::write(&file, crate::rootfs::example_tar()).expect("write");
    let (doc, code) = json_of(sb.pm().args(["image", "fetch"]).arg(&file));
    assert_eq!(code, 0, "{doc}");
    let id = doc["id"].as_str().expect("id").to_string();

    let mut session = bash(&sb);
    session
        .send_line("source <(pm completions bash)")
        .expect("source");
    session.expect("ready$ ").expect("sourced");
    // The line is printed, not run: `pm image show` accepts a short prefix.
    let shown = completed_line(&mut session, &format!("pm image show {}", &id[..4]));
    assert_eq!(printed(&shown), format!("pm image show {id}"), "{shown}");
}

#[test]
fn the_shipped_bash_file_completes_an_activation_name() {
    let sb = Sandbox::new();
    let digest = validated_example(&sb);
    let (doc, code) = json_of(sb.pm().args([
        "image",
        "activate",
        &digest,
        "--backend",
        "dir",
        "--name",
        "completion-web-1",
    ]));
    assert_eq!(code, 0, "{doc}");

    let mut session = bash(&sb);
    let script = repo_file("completions/pm.bash");
    session
        .send_line(format!("source {}", script.display()))
        .expect("source");
    session.expect("ready$ ").expect("sourced");
    let shown = completed_line(&mut session, "pm image deactivate completion-w");
    assert_eq!(
        printed(&shown),
        "pm image deactivate completion-web-1",
        "{shown}"
    );
}

#[test]
fn every_shell_script_calls_back_into_pm_for_dynamic_values() {
    let sb = Sandbox::new();
    for (shell, callback) in [
        ("bash", "COMPLETE=\"bash\""),
        ("zsh", "COMPLETE=\"zsh\""),
        ("fish", "COMPLETE=fish "),
        ("elvish", "COMPLETE=\"elvish\""),
        ("powershell", "$env:COMPLETE = \"powershell\""),
    ] {
        sb.pm()
            .args(["completions", shell])
            .assert()
            .success()
            .stdout(predicates::str::contains(callback));
    }
}
