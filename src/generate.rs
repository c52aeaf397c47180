//! Completion scripts and man pages generated from the CLI definition.
//!
//! The files under `completions/` and `man/` are checked in so packagers need
//! no build step; the `generated_files_match_the_cli` test regenerates them
//! in memory and fails on any drift (`PM_BLESS=1` rewrites them).

use clap_complete::Shell;
use std::path::{Path, PathBuf};

/// Shells we ship a script for, with the file name each expects.
pub const SHELLS: &[(Shell, &str)] = &[
    (Shell::Bash, "pm.bash"),
    (Shell::Zsh, "_pm"),
    (Shell::Fish, "pm.fish"),
    (Shell::Elvish, "pm.elv"),
    (Shell::PowerShell, "_pm.ps1"),
];

/// The dynamic completion script for `shell`: what `COMPLETE=<shell> pm`
/// prints. It calls `completer` (`pm`, found on PATH, in the shipped files)
/// for every completion, so values that live in the state (image ids,
/// activation names) complete too. Every shell `pm completions` accepts has
/// a dynamic adapter in clap_complete.
pub fn completion_script(shell: Shell, completer: &str) -> String {
    let name = shell.to_string();
    let shells = clap_complete::env::Shells::builtins();
    let Some(adapter) = shells.completer(&name) else {
        return String::new();
    };
    let mut buf = Vec::new();
    if adapter
        .write_registration("COMPLETE", "pm", "pm", completer, &mut buf)
        .is_err()
    {
        return String::new();
    }
    let mut script = String::from_utf8_lossy(&buf).into_owned();
    if shell == Shell::Zsh {
        // Autoloaded from $fpath, the file is the body of `_pm`: complete
        // right away instead of only registering for the next <Tab>.
        script.push_str(
            "\nif [ \"$funcstack[1]\" = \"_pm\" ]; then\n    _clap_dynamic_completer_pm \"$@\"\nfi\n",
        );
    }
    script
}

/// Every generated file, as (path relative to the repo, contents).
pub fn all_files() -> std::io::Result<Vec<(PathBuf, Vec<u8>)>> {
    let mut files: Vec<(PathBuf, Vec<u8>)> = SHELLS
        .iter()
        .map(|(shell, name)| {
            (
                Path::new("completions").join(name),
                completion_script(*shell, "pm").into_bytes(),
            )
        })
        .collect();
    let mut cmd = crate::cli::command();
    cmd.build();
    man_pages(&cmd, "pm", &mut files)?;
    Ok(files)
}

/// A page per command and subcommand: pm.1, pm-state.1, pm-state-prune.1...
fn man_pages(
    cmd: &clap::Command,
    name: &str,
    files: &mut Vec<(PathBuf, Vec<u8>)>,
) -> std::io::Result<()> {
    let page = cmd
        .clone()
        .name(name.to_string())
        .bin_name(name.replace('-', " "));
    let mut buf = Vec::new();
    clap_mangen::Man::new(page).render(&mut buf)?;
    files.push((Path::new("man").join(format!("{name}.1")), buf));
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        man_pages(sub, &format!("{name}-{}", sub.get_name()), files)?;
    }
    Ok(())
}
