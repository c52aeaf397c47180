//! `scripts/demo.sh` on a fresh Debian machine: before it builds, it checks
//! the Debian packages the build needs (one list, `scripts/packages.sh`,
//! shared with `scripts/test-linux.sh`) and names what is missing with the
//! one command that installs it. The machine is played by stand-ins on PATH:
//! a `dpkg-query` that answers for a chosen set of packages, and a `cargo`
//! that only records that the build started.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn executable(path: &Path, script: &str) {
    std::fs::write(path, script).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A bin directory with a `dpkg-query` that reports `missing` as not
/// installed (as dpkg-query does: a message and exit 1) and everything else
/// as installed, and a `cargo` that writes `cargo-called` and fails.
fn fresh_machine(dir: &Path, missing: &[&str]) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    executable(
        &bin.join("dpkg-query"),
        &format!(
            "#!/bin/sh\nfor p; do :; done\ncase \" {} \" in\n  *\" $p \"*) echo \"dpkg-query: no packages found matching $p\" >&2; exit 1 ;;\nesac\nprintf 'install ok installed'\n",
            missing.join(" ")
        ),
    );
    executable(
        &bin.join("cargo"),
        &format!(
            "#!/bin/sh\ntouch {}\nexit 97\n",
            dir.join("cargo-called").display()
        ),
    );
    bin
}

fn demo(dir: &Path, bin: &Path) -> std::process::Output {
    std::process::Command::new("bash")
        .arg(repo().join("scripts/demo.sh"))
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("PM_NO_INSTALL", "1")
        .env_remove("PM_DEMO_PM")
        .current_dir(dir)
        .output()
        .expect("run demo.sh")
}

#[test]
fn the_demo_names_missing_build_packages_and_the_command_before_building() {
    let dir = tempfile::tempdir().unwrap();
    let bin = fresh_machine(dir.path(), &["libdevmapper-dev", "libclang-dev"]);
    let out = demo(dir.path(), &bin);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("needed and not installed: libdevmapper-dev libclang-dev"),
        "{stderr}"
    );
    assert!(
        stderr.contains("install them with: apt-get install -y libdevmapper-dev libclang-dev")
            || stderr.contains(
                "install them with: sudo apt-get install -y libdevmapper-dev libclang-dev"
            ),
        "{stderr}"
    );
    assert!(
        !dir.path().join("cargo-called").exists(),
        "the build started without its packages"
    );
}

#[test]
fn the_demo_builds_once_the_packages_are_there() {
    let dir = tempfile::tempdir().unwrap();
    let bin = fresh_machine(dir.path(), &[]);
    let out = demo(dir.path(), &bin);
    assert!(
        dir.path().join("cargo-called").exists(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_demo_and_the_test_script_share_one_package_list() {
    let packages = std::fs::read_to_string(repo().join("scripts/packages.sh")).unwrap();
    for needed in ["libdevmapper-dev", "libclang-dev", "pkg-config"] {
        assert!(packages.contains(needed), "{needed}");
    }
    for script in ["scripts/demo.sh", "scripts/test-linux.sh"] {
        let text = std::fs::read_to_string(repo().join(script)).unwrap();
        assert!(
            text.contains("source scripts/packages.sh"),
            "{script} does not use the shared list"
        );
        assert!(
            !text.contains("libdevmapper-dev"),
            "{script} keeps a list of its own"
        );
    }
}
