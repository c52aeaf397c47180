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
    // The derive's command, without the examples `--help` appends (the
    // pages have their own EXAMPLES section) and without the `help`
    // subcommand, which has no page of its own.
    let mut cmd = without_help_subcommand(<crate::cli::Cli as clap::CommandFactory>::command());
    cmd.build();
    man_pages(&cmd, "pm", &mut files)?;
    Ok(files)
}

fn without_help_subcommand(cmd: clap::Command) -> clap::Command {
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    let mut cmd = cmd.disable_help_subcommand(true);
    for name in names {
        cmd = cmd.mut_subcommand(&name, without_help_subcommand);
    }
    cmd
}

/// A page per command and subcommand: pm.1, pm-state.1, pm-state-prune.1...
fn man_pages(
    cmd: &clap::Command,
    name: &str,
    files: &mut Vec<(PathBuf, Vec<u8>)>,
) -> std::io::Result<()> {
    let path = name.replace('-', " ");
    let page = cmd.clone().name(name.to_string()).bin_name(path.clone());
    let mut buf = Vec::new();
    man_page(page, &path, &mut buf)?;
    files.push((Path::new("man").join(format!("{name}.1")), buf));
    for sub in cmd.get_subcommands() {
        man_pages(sub, &format!("{name}-{}", sub.get_name()), files)?;
    }
    Ok(())
}

/// clap_mangen's sections, then pm's own: NOTES (the command's extra help
/// text), EXAMPLES, EXIT STATUS, ENVIRONMENT, FILES and SEE ALSO.
fn man_page(page: clap::Command, path: &str, out: &mut Vec<u8>) -> std::io::Result<()> {
    let is_root = path == "pm";
    let has_notes = !is_root && page.get_after_help().is_some();
    let has_options = page.get_arguments().any(|a| !a.is_hide_set());
    let has_subcommands = page.has_subcommands();
    let man = clap_mangen::Man::new(page);
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    if has_options {
        man.render_options_section(out)?;
    }
    if has_subcommands {
        man.render_subcommands_section(out)?;
    }
    if has_notes {
        let mut extra = Vec::new();
        man.render_extra_section(&mut extra)?;
        out.extend(
            String::from_utf8_lossy(&extra)
                .replacen(".SH EXTRA", ".SH NOTES", 1)
                .bytes(),
        );
    }
    let mut text = String::new();
    examples_section(&mut text, path);
    exit_status_section(&mut text);
    environment_section(&mut text, path);
    files_section(&mut text, path);
    see_also_section(&mut text, path);
    out.extend(text.bytes());
    man.render_version_section(out)
}

/// Text for roff: backslashes and dashes escaped, no line starting a request.
fn roff(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    escaped
        .lines()
        .map(|l| {
            if l.starts_with('.') || l.starts_with('\'') {
                format!("\\&{l}")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn examples_section(text: &mut String, path: &str) {
    let examples = crate::help::examples(path);
    if examples.is_empty() {
        return;
    }
    text.push_str(".SH EXAMPLES\n");
    for (what, line) in examples {
        text.push_str(&format!(
            ".PP\n{}\n.PP\n.RS 4\n.nf\n{}\n.fi\n.RE\n",
            roff(what),
            roff(line)
        ));
    }
}

/// The documented exit codes (the table `pm --help` prints).
fn exit_status_section(text: &mut String) {
    text.push_str(".SH \"EXIT STATUS\"\n");
    for line in crate::error::EXIT_CODE_TABLE.lines().skip(1) {
        if let Some((code, meaning)) = line.trim().split_once(char::is_whitespace) {
            text.push_str(&format!(".TP\n\\fB{code}\\fR\n{}\n", roff(meaning.trim())));
        }
    }
    text.push_str(&format!(
        ".PP\nWith \\fB\\-\\-json\\fR a failure also prints {} on stdout.\n",
        roff("{\"error\": {\"code\", \"message\", \"hint\", ...}}")
    ));
}

/// The config sections whose keys a command reads.
fn config_sections(path: &str) -> &'static [&'static str] {
    let uses_pool = ["activate", "deactivate", "rm", "gc"]
        .iter()
        .any(|verb| path == format!("pm image {verb}"));
    match path {
        "pm" | "pm config" | "pm config show" => &["image", "pool", "vault"],
        _ if uses_pool => &["image", "pool"],
        _ if path.starts_with("pm image") => &["image"],
        _ if path.starts_with("pm pool") => &["pool"],
        _ if path.starts_with("pm vault") => &["vault"],
        _ => &[],
    }
}

/// Variables that are not pm settings but change what a command does.
fn other_variables(path: &str) -> Vec<(&'static str, &'static str)> {
    let mut vars = vec![
        ("NO_COLOR", "honoured: pm draws no colours in any case"),
        (
            "XDG_STATE_HOME, XDG_CONFIG_HOME",
            "where the state and the user's config file live for a user other than root",
        ),
    ];
    if path == "pm" || path.starts_with("pm image fetch") || path == "pm image" {
        vars.extend([
            (
                "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN",
                "static S3 credentials (the standard AWS credential chain)",
            ),
            (
                "AWS_PROFILE, AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE",
                "the AWS profile and its files",
            ),
            ("AWS_REGION", "the S3 region (us-east-1 when none is found)"),
            (
                "AWS_ENDPOINT_URL",
                "an S3-compatible endpoint, below --endpoint-url and image.endpoint_url",
            ),
            (
                "AWS_EC2_METADATA_DISABLED",
                "true: do not ask the EC2 instance metadata service for credentials",
            ),
            (
                "SSL_CERT_FILE",
                "extra trusted certificates for https sources and endpoints",
            ),
        ]);
    }
    if path == "pm" || path.starts_with("pm completions") {
        vars.push((
            "COMPLETE",
            "set by the completion scripts: pm answers a completion request instead of running",
        ));
    }
    vars
}

fn environment_section(text: &mut String, path: &str) {
    text.push_str(".SH ENVIRONMENT\n");
    text.push_str(".PP\nEvery setting is a flag, a variable and a config key, in the order flag > environment > config file > default.\n");
    let sections = config_sections(path);
    for key in crate::config::KEYS {
        let section = key.key.split_once('.').map(|(s, _)| s);
        let shown = match section {
            None => true,
            Some(s) => sections.contains(&s),
        };
        if shown {
            text.push_str(&format!(
                ".TP\n\\fB{}\\fR\n{} (config key \\fI{}\\fR)\n",
                roff(key.env),
                roff(key.doc),
                roff(key.key)
            ));
        }
    }
    if path == "pm" || !sections.is_empty() || path.starts_with("pm state") {
        text.push_str(&format!(
            ".TP\n\\fBPM_CONFIG\\fR\n{}\n",
            roff("the config file, as --config")
        ));
    }
    for (name, meaning) in other_variables(path) {
        text.push_str(&format!(".TP\n\\fB{}\\fR\n{}\n", roff(name), roff(meaning)));
    }
}

fn files_section(text: &mut String, path: &str) {
    let mut files = vec![
        (
            "/etc/pm/config.toml, $XDG_CONFIG_HOME/pm/config.toml",
            "the config file, the first that exists (--config, PM_CONFIG)",
        ),
        (
            "/var/lib/pm/state.db (root), $XDG_STATE_HOME/pm/state.db",
            "the SQLite state (--state, PM_STATE)",
        ),
        (
            "STATE.lock",
            "the state lock beside the state file; STATE.pool.lock, the pool lock",
        ),
    ];
    if path == "pm" || path.starts_with("pm image") {
        files.extend([
            (
                "STATE_DIR/images/sha256/HEX",
                "the stored images, by digest",
            ),
            (
                "STATE_DIR/images/partial/",
                "interrupted downloads, resumed by the next fetch and removed by pm image gc",
            ),
        ]);
    }
    if path == "pm" || path.starts_with("pm image") || path.starts_with("pm pool") {
        files.extend([
            (
                "STATE_DIR/volumes/",
                "the dir backend's base volumes and activations",
            ),
            (
                "/run/pm/mnt/",
                "private mountpoints of thin volumes while an image is unpacked",
            ),
        ]);
    }
    if path == "pm" || path.starts_with("pm vault") {
        files.push((
            "VAULT_SESSION_DIR/vault-session",
            "the cached bw session (0600, never in the state)",
        ));
    }
    if path == "pm" || path.starts_with("pm completions") {
        files.push((
            "completions/, man/",
            "in the source tree: these scripts and pages, generated from the CLI definition",
        ));
    }
    text.push_str(".SH FILES\n");
    for (file, meaning) in files {
        text.push_str(&format!(".TP\n\\fI{}\\fR\n{}\n", roff(file), roff(meaning)));
    }
}

/// The parent page and pm(1): pages that exist.
fn see_also_section(text: &mut String, path: &str) {
    let words: Vec<&str> = path.split(' ').collect();
    if words.len() < 2 {
        return;
    }
    let mut pages = Vec::new();
    if words.len() > 2 {
        pages.push(format!("{}(1)", words[..words.len() - 1].join("-")));
    }
    pages.push("pm(1)".to_string());
    text.push_str(&format!(".SH \"SEE ALSO\"\n{}\n", roff(&pages.join(", "))));
}
