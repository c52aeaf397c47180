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
