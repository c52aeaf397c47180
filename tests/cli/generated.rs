//! The checked-in completions/ and man/ match the CLI definition.
//! `PM_BLESS=1 cargo test --test cli generated` rewrites them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

#[test]
fn generated_files_match_the_cli() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = pm::generate::all_files().unwrap();
    let bless = std::env::var_os("PM_BLESS").is_some();
    let mut drifted = Vec::new();
    for (rel, contents) in &files {
        let path = root.join(rel);
        if std::fs::read(&path).ok().as_deref() != Some(contents.as_slice()) {
            if bless {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, contents).unwrap();
            } else {
                drifted.push(rel.display().to_string());
            }
        }
    }
    let expected: BTreeSet<PathBuf> = files.iter().map(|(p, _)| p.clone()).collect();
    for dir in ["completions", "man"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let rel = Path::new(dir).join(entry.unwrap().file_name());
            if !expected.contains(&rel) {
                if bless {
                    std::fs::remove_file(root.join(&rel)).unwrap();
                } else {
                    drifted.push(format!("{} (stale)", rel.display()));
                }
            }
        }
    }
    assert!(
        drifted.is_empty(),
        "generated files drifted from the CLI: {drifted:?}; run `PM_BLESS=1 cargo test --test cli generated`"
    );
}

#[test]
fn every_subcommand_has_a_man_page() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for page in [
        "pm.1",
        "pm-state.1",
        "pm-state-prune.1",
        "pm-config-show.1",
        "pm-completions.1",
    ] {
        assert!(root.join("man").join(page).exists(), "man/{page}");
    }
}

fn man_pages() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    let mut pages: Vec<(String, String)> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&path).unwrap())
        })
        .collect();
    pages.sort();
    pages
}

#[test]
fn every_man_page_has_exit_status_environment_files_and_examples() {
    for (name, text) in man_pages() {
        for section in [
            ".SH \"EXIT STATUS\"",
            ".SH ENVIRONMENT",
            ".SH FILES",
            ".SH EXAMPLES",
        ] {
            assert!(text.contains(section), "{name} lacks {section}");
        }
        assert!(text.contains("\\fB143\\fR"), "{name}: the exit codes");
    }
}

#[test]
fn man_pages_refer_only_to_pages_that_exist() {
    let pages = man_pages();
    let names: BTreeSet<String> = pages.iter().map(|(n, _)| n.clone()).collect();
    for (name, text) in &pages {
        // roff writes `pm-image(1)` as `pm\-image(1)`.
        let plain = text.replace("\\-", "-");
        for (at, _) in plain.match_indices("(1)") {
            let start = plain[..at]
                .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                .map_or(0, |i| i + 1);
            let page = format!("{}.1", &plain[start..at]);
            assert!(
                names.contains(&page),
                "{name} refers to {page}, which does not exist"
            );
        }
    }
    assert!(!names.contains("pm-help.1"));
}

/// Every command path (`pm`, `pm image`, `pm image fetch`, ...).
fn command_paths(cmd: &clap::Command, path: &str, out: &mut Vec<(String, bool)>) {
    out.push((path.to_string(), !cmd.has_subcommands()));
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        command_paths(sub, &format!("{path} {}", sub.get_name()), out);
    }
}

#[test]
fn every_help_has_examples_and_global_options_under_their_own_heading() {
    let mut paths = Vec::new();
    command_paths(&pm::cli::command(), "pm", &mut paths);
    assert!(paths.len() > 20, "{paths:?}");
    for (path, _) in &paths {
        let args: Vec<&str> = path.split(' ').skip(1).collect();
        let out = assert_cmd::Command::cargo_bin("pm")
            .unwrap()
            .args(&args)
            .arg("--help")
            .output()
            .unwrap();
        assert!(out.status.success(), "{path} --help");
        let help = String::from_utf8(out.stdout).unwrap();
        assert!(
            help.contains("\nExamples:\n  # "),
            "{path} --help has no examples:\n{help}"
        );
        let heading = help
            .find("\nGlobal options:\n")
            .unwrap_or_else(|| panic!("{path} --help has no global options heading:\n{help}"));
        for global in ["--json", "--state <PATH>", "--lock-timeout", "--log-format"] {
            let at = help.find(global).unwrap();
            assert!(
                at > heading,
                "{path}: {global} is listed before the heading:\n{help}"
            );
        }
    }
}
