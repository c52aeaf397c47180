//! `--dry-run` on every mutating command: nothing changes anywhere (no
//! file, no state row, no history entry), and the JSON is the real run's
//! with `changed` predicted and `"dry_run": true`.

use crate::rootfs::example_tar;
use crate::support::{Sandbox, error_code, json_of};
use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Every file and folder under `dir` with its size, mtime and inode: any
/// write, creation or removal changes it. Two things are left out: SQLite's
/// `-wal`/`-shm` files, which any reader of a WAL database creates when they
/// are missing (they hold no data; the next writer removes them), and the
/// mtimes of folders, which their creation changes.
pub fn fingerprint(dir: &Path) -> BTreeMap<String, (u64, i64, i64, u64)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            let name = path.strip_prefix(dir).unwrap().display().to_string();
            if name.ends_with(".db-wal") || name.ends_with(".db-shm") {
                continue;
            }
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                stack.push(path.clone());
                out.insert(name, (0, 0, 0, meta.ino()));
                continue;
            }
            out.insert(
                name,
                (meta.len(), meta.mtime(), meta.mtime_nsec(), meta.ino()),
            );
        }
    }
    out
}

/// Runs `args` with `--dry-run`, asserts nothing changed, returns the JSON.
fn dry(sb: &Sandbox, args: &[&str]) -> serde_json::Value {
    let before = fingerprint(sb.path());
    let (doc, code) = json_of(sb.pm().args(args).arg("--dry-run"));
    assert_eq!(code, 0, "pm {} --dry-run: {doc}", args.join(" "));
    assert_eq!(doc["dry_run"], true, "{doc}");
    assert_eq!(
        fingerprint(sb.path()),
        before,
        "pm {} --dry-run changed files",
        args.join(" ")
    );
    doc
}

fn real(sb: &Sandbox, args: &[&str]) -> serde_json::Value {
    let (doc, code) = json_of(sb.pm().args(args));
    assert_eq!(code, 0, "pm {}: {doc}", args.join(" "));
    assert!(doc.get("dry_run").is_none(), "{doc}");
    doc
}

/// The dry run predicts the real run's `changed`; a second dry run then
/// predicts no change where the command is idempotent.
fn predicts(sb: &Sandbox, args: &[&str]) -> (serde_json::Value, serde_json::Value) {
    let predicted = dry(sb, args);
    let done = real(sb, args);
    assert_eq!(
        predicted["changed"],
        done["changed"],
        "pm {}: predicted {predicted}, real {done}",
        args.join(" ")
    );
    (predicted, done)
}

#[test]
fn the_image_pipeline_predicts_every_change_and_changes_nothing() {
    let sb = Sandbox::new();
    let file = sb.path().join("root.tar");
    std::fs::write(&file, example_tar()).unwrap();
    let file = file.to_str().unwrap();
    // On a fresh host a dry run does not even create the state.
    let (planned, fetched) = predicts(&sb, &["image", "fetch", file]);
    assert_eq!(planned["source"], fetched["source"]);
    let again = dry(&sb, &["image", "fetch", file]);
    assert_eq!(
        (&again["changed"], &again["id"]),
        (&false.into(), &fetched["id"])
    );
    let digest = fetched["digest"].as_str().unwrap().to_string();

    let (planned, _) = predicts(&sb, &["image", "validate", &digest]);
    assert_eq!(planned["recorded"], false, "{planned}");
    assert_eq!(dry(&sb, &["image", "validate", &digest])["changed"], false);

    let activate = [
        "image",
        "activate",
        &digest,
        "--backend",
        "dir",
        "--name",
        "web",
    ];
    let (planned, done) = predicts(&sb, &activate);
    assert_eq!(planned["base_created"], done["base_created"]);
    assert_eq!(planned["name"], "web");
    let again = dry(&sb, &activate);
    assert_eq!(
        (&again["changed"], &again["id"]),
        (&false.into(), &done["id"])
    );

    predicts(&sb, &["image", "deactivate", "web"]);
    assert_eq!(dry(&sb, &["image", "deactivate", "web"])["changed"], false);

    let (planned, done) = predicts(&sb, &["image", "rm", &digest]);
    assert_eq!(planned["bytes_freed"], done["bytes_freed"]);
    assert_eq!(planned["base_volumes"], done["base_volumes"], "{planned}");
}

#[test]
fn gc_and_prune_predict_exactly_what_they_remove() {
    let sb = Sandbox::new();
    real(&sb, &["state", "prune", "--older-than", "1000days"]);
    real(&sb, &["state", "prune", "--older-than", "1000days"]);
    let store = sb.state_path().parent().unwrap().join("images/sha256");
    std::fs::create_dir_all(&store).unwrap();
    std::fs::write(store.join("0".repeat(64)), b"an orphan blob").unwrap();
    let (planned, done) = predicts(&sb, &["image", "gc", "--older-than", "0s"]);
    assert_eq!(planned["files"], done["files"]);
    assert_eq!(planned["bytes_freed"], 14);
    let (planned, done) = predicts(&sb, &["state", "prune", "--older-than", "0s"]);
    assert_eq!(planned["removed"], done["removed"]);
    assert!(done["removed"].as_u64().unwrap() >= 2, "{done}");
}

#[test]
fn a_dry_run_records_no_history_and_fails_like_a_real_run() {
    let sb = Sandbox::new();
    real(&sb, &["state", "prune", "--older-than", "1000days"]);
    dry(&sb, &["state", "prune", "--older-than", "1000days"]);
    let (history, _) = json_of(sb.pm().args(["state", "history"]));
    assert_eq!(history["entries"].as_array().unwrap().len(), 1, "{history}");
    // What a real run refuses, a dry run refuses the same way.
    let (doc, code) = json_of(
        sb.pm()
            .args(["image", "activate", "0123456789ab", "--dry-run"]),
    );
    assert_eq!((code, error_code(&doc)), (4, "not_found"), "{doc}");
    let (doc, code) =
        json_of(
            sb.pm()
                .args(["image", "deactivate", "nope", "--strict", "--dry-run"]),
        );
    assert_eq!((code, error_code(&doc)), (4, "not_found"), "{doc}");
}

#[test]
fn pool_create_predicts_without_making_its_files() {
    let sb = Sandbox::new();
    let loops = sb.path().join("pool");
    let doc = dry(
        &sb,
        &[
            "pool",
            "create",
            "--loop-dir",
            loops.to_str().unwrap(),
            "--data-size",
            "64MiB",
        ],
    );
    assert_eq!(doc["changed"], true, "{doc}");
    assert!(!loops.exists());
    let doc = dry(&sb, &["pool", "destroy"]);
    assert_eq!(doc["changed"], false, "{doc}");
}

/// `PM_DRY_RUN=1` is `--dry-run` for every command, the verbs that once had
/// a flag of their own (net, play, provider) included.
#[test]
fn pm_dry_run_in_the_environment_is_the_flag() {
    let sb = Sandbox::new();
    let (doc, code) = json_of(sb.pm().args(["provider", "register", "--username", "ops"]));
    assert_eq!((code, &doc["dry_run"]), (0, &false.into()), "{doc}");
    // A dry register reads the state and takes no lock: nothing changes,
    // lock files included.
    let before = fingerprint(sb.path());
    let (doc, code) = json_of(sb.pm().env("PM_DRY_RUN", "1").args([
        "provider",
        "register",
        "--username",
        "ops2",
    ]));
    assert_eq!(code, 0, "{doc}");
    assert_eq!(
        (&doc["dry_run"], &doc["changed"]),
        (&true.into(), &true.into()),
        "{doc}"
    );
    assert_eq!(fingerprint(sb.path()), before, "PM_DRY_RUN=1 changed files");
    let (status, _) = json_of(sb.pm().args(["provider", "status"]));
    assert_eq!(status["provider"]["username"], "ops", "{status}");
}
