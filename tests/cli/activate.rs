//! `pm image activate|deactivate` on the dir backend, on the host: the same
//! behaviour the thin backend shows inside the guest (see `thin.rs`).

use crate::rootfs::{
    assert_holds_example, hostile_tar, running_as_root, store_image, validated_example,
};
use crate::support::{Sandbox, error_code, json_of, wait_for_line};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};

fn activate(sb: &Sandbox, digest: &str, name: &str) -> serde_json::Value {
    let (doc, code) = json_of(sb.pm().args([
        "image",
        "activate",
        digest,
        "--backend",
        "dir",
        "--name",
        name,
    ]));
    assert_eq!(code, 0, "{doc}");
    doc
}

fn volumes(sb: &Sandbox) -> PathBuf {
    sb.state_path().parent().unwrap().join("volumes")
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn activate_refuses_an_image_that_was_not_validated() {
    let sb = Sandbox::new();
    let digest = store_image(&sb, &crate::rootfs::example_tar());
    let (doc, code) = json_of(
        sb.pm()
            .args(["image", "activate", &digest, "--backend", "dir"]),
    );
    assert_eq!(code, 9, "{doc}");
    assert_eq!(error_code(&doc), "image_not_validated");
    assert!(entries(&volumes(&sb).join("bases")).is_empty());
}

#[test]
fn activate_with_validate_flag_validates_first() {
    let sb = Sandbox::new();
    let digest = store_image(&sb, &crate::rootfs::example_tar());
    let (doc, code) = json_of(sb.pm().args([
        "image",
        "activate",
        &digest,
        "--backend",
        "dir",
        "--validate",
    ]));
    assert_eq!(code, 0, "{doc}");
    assert_holds_example(Path::new(doc["path"].as_str().unwrap()), running_as_root());
}

#[test]
fn two_activations_hold_the_image_and_writes_stay_isolated() {
    let sb = Sandbox::new();
    let digest = validated_example(&sb);
    let a = activate(&sb, &digest, "web-1");
    let b = activate(&sb, &digest, "web-2");
    assert_eq!(a["changed"], true);
    assert_eq!(a["base_created"], true);
    assert_eq!(
        b["base_created"], false,
        "the second activation reuses the base"
    );
    assert_eq!(a["backend"], "dir");
    assert_ne!(a["id"], b["id"]);
    let (pa, pb) = (
        PathBuf::from(a["path"].as_str().unwrap()),
        PathBuf::from(b["path"].as_str().unwrap()),
    );
    assert_holds_example(&pa, running_as_root());
    assert_holds_example(&pb, running_as_root());

    std::fs::write(pa.join("etc/hostname"), "changed\n").unwrap();
    std::fs::write(pa.join("new-file"), "x").unwrap();
    assert_eq!(
        std::fs::read_to_string(pb.join("etc/hostname")).unwrap(),
        "machine\n"
    );
    assert!(!pb.join("new-file").exists());
    let base = volumes(&sb)
        .join("bases")
        .join(digest.trim_start_matches("sha256:"));
    assert_eq!(
        std::fs::read_to_string(base.join("etc/hostname")).unwrap(),
        "machine\n"
    );
    assert!(!base.join("new-file").exists());
}

#[test]
fn activating_the_same_name_again_changes_nothing() {
    let sb = Sandbox::new();
    let digest = validated_example(&sb);
    let first = activate(&sb, &digest, "db");
    let again = activate(&sb, &digest, "db");
    assert_eq!(again["changed"], false);
    assert_eq!(again["id"], first["id"]);
    assert_eq!(entries(&volumes(&sb).join("activations")).len(), 1);
}

#[test]
fn deactivate_removes_the_copy_and_unknown_names_are_not_found() {
    let sb = Sandbox::new();
    let digest = validated_example(&sb);
    let a = activate(&sb, &digest, "tmp");
    let path = PathBuf::from(a["path"].as_str().unwrap());
    let (doc, code) = json_of(sb.pm().args(["image", "deactivate", "tmp"]));
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["changed"], true);
    assert!(!path.exists());
    let (doc, code) = json_of(sb.pm().args(["image", "deactivate", "tmp", "--strict"]));
    assert_eq!(code, 4, "{doc}");
    assert_eq!(error_code(&doc), "not_found");
}

#[test]
fn deactivating_an_absent_activation_is_unchanged_unless_strict() {
    let sb = Sandbox::new();
    let (doc, code) = json_of(sb.pm().args(["image", "deactivate", "never-was"]));
    assert_eq!(
        (code, &doc["changed"]),
        (0, &serde_json::json!(false)),
        "{doc}"
    );
    assert_eq!(doc["name"], "never-was");
    let (doc, code) = json_of(
        sb.pm()
            .args(["image", "deactivate", "never-was", "--strict"]),
    );
    assert_eq!((code, error_code(&doc)), (4, "not_found"), "{doc}");
}

#[test]
fn activate_output_pipes_into_deactivate() {
    let sb = Sandbox::new();
    let digest = validated_example(&sb);
    let a = activate(&sb, &digest, "piped");
    let (doc, code) = json_of(
        sb.pm()
            .args(["image", "deactivate", "-"])
            .write_stdin(a.to_string()),
    );
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["name"], "piped");
}

#[test]
fn automatic_backend_says_why_it_chose_dir() {
    if Path::new("/dev/mapper/control").exists() {
        return; // this host has device-mapper: auto picks thin (tested in the guest)
    }
    let sb = Sandbox::new();
    let digest = validated_example(&sb);
    let (doc, code) = json_of(sb.pm().args(["image", "activate", &digest]));
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["backend"], "dir");
    assert_eq!(doc["backend_chosen_automatically"], true);
    assert!(
        doc["backend_reason"]
            .as_str()
            .unwrap()
            .contains("device-mapper"),
        "{doc}"
    );
}

fn killed_at(sb: &Sandbox, digest: &str, point: &str) {
    let status = sb
        .pm_std()
        .args([
            "image",
            "activate",
            digest,
            "--backend",
            "dir",
            "--name",
            "crashy",
        ])
        .env("PM_FAILPOINTS", format!("{point}=kill"))
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert_eq!(status.signal(), Some(libc::SIGKILL), "pm died at {point}");
}

#[test]
fn a_kill_during_unpack_is_rolled_back_by_the_next_command() {
    let sb = Sandbox::new();
    let digest = validated_example(&sb);
    killed_at(&sb, &digest, "activate_during_unpack");
    let bases = volumes(&sb).join("bases");
    assert!(
        entries(&bases).iter().any(|n| n.ends_with(".partial")),
        "the crash left a partial base"
    );

    let doc = activate(&sb, &digest, "crashy");
    let repairs = doc["reconciled"].as_array().unwrap();
    assert!(
        repairs
            .iter()
            .any(|r| r["action"] == "rolled_back_create_base"),
        "{doc}"
    );
    assert_eq!(doc["base_created"], true);
    assert_eq!(
        entries(&bases),
        vec![digest.trim_start_matches("sha256:").to_string()]
    );
    assert_holds_example(Path::new(doc["path"].as_str().unwrap()), running_as_root());
}

#[test]
fn a_kill_after_the_copy_leaves_no_orphan_activation() {
    let sb = Sandbox::new();
    let digest = validated_example(&sb);
    killed_at(&sb, &digest, "activate_after_snapshot");
    let activations = volumes(&sb).join("activations");
    assert_eq!(
        entries(&activations).len(),
        1,
        "the crash left the copy behind"
    );

    let (doc, code) = json_of(sb.pm().args(["image", "deactivate", "crashy", "--strict"]));
    assert_eq!(code, 4, "the activation was never recorded: {doc}");
    assert!(
        entries(&activations).is_empty(),
        "reconciliation removed the orphan copy"
    );
    let doc = activate(&sb, &digest, "crashy");
    assert_eq!(
        doc["base_created"], false,
        "the finished base survived the crash"
    );
}

#[test]
fn the_unpacker_refuses_an_archive_swapped_after_validation() {
    let sb = Sandbox::new();
    let digest = validated_example(&sb);
    let blob = stored_blob(&sb.state_path(), &digest);
    std::fs::write(&blob, hostile_tar()).unwrap();

    let (doc, code) = json_of(
        sb.pm()
            .args(["image", "activate", &digest, "--backend", "dir"]),
    );
    assert_eq!(code, 3, "{doc}");
    assert_eq!(error_code(&doc), "unpack_refused");
    let rules: Vec<&str> = doc["error"]["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"path_traversal"), "{doc}");
    assert!(
        entries(&volumes(&sb).join("bases")).is_empty(),
        "the partial base was removed"
    );
    assert!(!sb.path().join("escaped-by-pm-test").exists());
    assert!(!volumes(&sb).join("escaped-by-pm-test").exists());
}

#[test]
fn the_unpacker_refuses_data_appended_after_validation() {
    let sb = Sandbox::new();
    let digest = validated_example(&sb);
    let blob = stored_blob(&sb.state_path(), &digest);
    let mut bytes = std::fs::read(&blob).unwrap();
    bytes.extend_from_slice(b"appended after the end-of-archive marker");
    std::fs::write(&blob, bytes).unwrap();

    let (doc, code) = json_of(
        sb.pm()
            .args(["image", "activate", &digest, "--backend", "dir"]),
    );
    assert_eq!((code, error_code(&doc)), (3, "unpack_refused"), "{doc}");
    assert_eq!(doc["error"]["violations"][0]["rule"], "trailing_garbage");
    assert!(entries(&volumes(&sb).join("bases")).is_empty());
    assert!(entries(&volumes(&sb).join("activations")).is_empty());
}

#[test]
fn rm_is_refused_while_activated_and_rm_and_gc_remove_unused_bases() {
    let sb = Sandbox::new();
    let digest = validated_example(&sb);
    activate(&sb, &digest, "keep");
    let (doc, code) = json_of(sb.pm().args(["image", "rm", &digest]));
    assert_eq!(code, 9, "{doc}");
    assert_eq!(error_code(&doc), "image_in_use");
    assert!(doc["error"]["users"].to_string().contains("keep"), "{doc}");

    let (doc, code) = json_of(sb.pm().args(["image", "gc"]));
    assert_eq!(code, 0, "{doc}");
    assert_eq!(
        doc["base_volumes"].as_array().unwrap().len(),
        0,
        "the base is in use"
    );

    json_of(sb.pm().args(["image", "deactivate", "keep"]));
    let (doc, code) = json_of(sb.pm().args(["image", "gc"]));
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["base_volumes"][0]["digest"], digest.as_str());
    assert!(entries(&volumes(&sb).join("bases")).is_empty());

    // rm takes the base with it.
    activate(&sb, &digest, "again");
    json_of(sb.pm().args(["image", "deactivate", "again"]));
    assert_eq!(entries(&volumes(&sb).join("bases")).len(), 1);
    let (doc, code) = json_of(sb.pm().args(["image", "rm", &digest]));
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["base_volumes"].as_array().unwrap().len(), 1, "{doc}");
    assert!(entries(&volumes(&sb).join("bases")).is_empty());
}

/// An unpack can take minutes, so it holds the pool lock, not the state
/// lock: a fetch and a prune go on meanwhile (with `--lock-timeout 0`),
/// while pool work waits and says for whom.
#[test]
fn an_unpack_holds_the_pool_lock_and_leaves_the_state_lock_free() {
    use std::process::Stdio;
    let sb = Sandbox::new();
    let digest = validated_example(&sb);
    let mut unpacking = sb
        .pm_std()
        .args([
            "image",
            "activate",
            &digest,
            "--backend",
            "dir",
            "--name",
            "slow",
            "--json",
        ])
        .env("PM_FAILPOINTS", "activate_during_unpack=pause")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(unpacking.stderr.take().unwrap());
    wait_for_line(&mut stderr, "failpoint activate_during_unpack paused");

    let other = sb.path().join("other.tar");
    std::fs::write(&other, b"not an archive, but a fetch does not care").unwrap();
    let (doc, code) =
        json_of(
            sb.pm()
                .arg("--lock-timeout=0")
                .args(["image", "fetch", other.to_str().unwrap()]),
        );
    assert_eq!(code, 0, "a fetch does not wait for the unpack: {doc}");
    let (doc, code) =
        json_of(
            sb.pm()
                .arg("--lock-timeout=0")
                .args(["state", "prune", "--older-than", "1d"]),
        );
    assert_eq!(code, 0, "{doc}");

    for pool_work in [
        vec!["image", "deactivate", "slow"],
        vec!["image", "rm", &digest],
        vec!["image", "gc"],
    ] {
        let (doc, code) = json_of(sb.pm().arg("--lock-timeout=0").args(&pool_work));
        assert_eq!((code, error_code(&doc)), (5, "lock_busy"), "{pool_work:?}");
        let message = doc["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("the pool lock")
                && message.contains(&format!("pid {} (pm image activate)", unpacking.id())),
            "{message}"
        );
    }

    drop(unpacking.stdin.take());
    let out = unpacking.wait_with_output().unwrap();
    assert!(out.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["changed"], true);
    assert_eq!(entries(&volumes(&sb).join("bases")).len(), 1);
}

/// Where the store keeps the blob of `digest` (`sha256:...`).
pub fn stored_blob(state: &std::path::Path, digest: &str) -> std::path::PathBuf {
    let paths = pm::paths::StatePaths::new(state);
    let digest = pm::digest::Digest::parse(digest).expect("a digest");
    pm::image::store::ImageStore::new(&paths).blob_path(&digest)
}

#[test]
fn a_relative_path_names_the_image_everywhere_fetch_accepts_it() {
    let sb = Sandbox::new();
    let work = sb.path().join("work");
    std::fs::create_dir(&work).unwrap();
    std::fs::write(work.join("root.tar"), crate::rootfs::example_tar()).unwrap();
    let in_work = |args: &[&str]| {
        let mut cmd = sb.pm();
        cmd.current_dir(&work).args(args);
        json_of(&mut cmd)
    };
    let (fetched, code) = in_work(&["image", "fetch", "root.tar"]);
    assert_eq!(code, 0, "{fetched}");
    let (shown, code) = in_work(&["image", "show", "root.tar"]);
    assert_eq!(code, 0, "{shown}");
    assert_eq!(shown["digest"], fetched["digest"]);
    let (doc, code) = in_work(&["image", "validate", "./root.tar"]);
    assert_eq!(
        (code, &doc["recorded"]),
        (0, &serde_json::json!(true)),
        "{doc}"
    );
    let (doc, code) = in_work(&[
        "image",
        "activate",
        "root.tar",
        "--backend",
        "dir",
        "--name",
        "rel",
    ]);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["image"], fetched["digest"]);
}

#[test]
fn activations_are_listed_on_the_dir_backend_and_shown_with_their_image() {
    let sb = Sandbox::new();
    let digest = validated_example(&sb);
    let (doc, code) = json_of(sb.pm().args(["image", "activations"]));
    assert_eq!(
        (code, &doc["activations"]),
        (0, &serde_json::json!([])),
        "{doc}"
    );
    let a = activate(&sb, &digest, "web-1");
    activate(&sb, &digest, "web-2");

    let (doc, code) = json_of(sb.pm().args(["image", "activations"]));
    assert_eq!(code, 0, "{doc}");
    let listed = doc["activations"].as_array().unwrap();
    let names: Vec<&str> = listed.iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["web-1", "web-2"]);
    assert_eq!(listed[0]["image"], digest);
    assert_eq!(listed[0]["backend"], "dir");
    assert_eq!(listed[0]["path"], a["path"]);
    assert!(listed[0]["created_at"].as_str().unwrap().ends_with('Z'));
    let human = sb.pm().args(["image", "activations"]).output().unwrap();
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains("web-1") && text.contains(a["path"].as_str().unwrap()),
        "{text}"
    );

    let (doc, code) = json_of(sb.pm().args(["image", "show", &digest]));
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["validation"]["verdict"], "safe", "{doc}");
    assert_eq!(doc["validation"]["current"], true);
    assert_eq!(doc["activations"].as_array().unwrap().len(), 2);
    let (doc, _) = json_of(
        sb.pm()
            .args(["image", "activations", "--image", &digest[7..19]]),
    );
    assert_eq!(doc["activations"].as_array().unwrap().len(), 2);
}

#[test]
fn activating_an_active_name_again_draws_no_unpack_bar() {
    use expectrl::Expect;
    let sb = Sandbox::new();
    let digest = validated_example(&sb);
    activate(&sb, &digest, "once");
    let mut cmd = sb.pm_std();
    cmd.args([
        "image",
        "activate",
        &digest,
        "--backend",
        "dir",
        "--name",
        "once",
    ]);
    let mut pty = expectrl::Session::spawn(cmd).unwrap();
    pty.set_expect_timeout(Some(std::time::Duration::from_secs(60)));
    let all = pty.expect(expectrl::Eof).unwrap();
    let shown = String::from_utf8_lossy(all.as_bytes()).into_owned();
    assert!(shown.contains("already active"), "{shown}");
    assert!(!shown.contains("unpacking"), "a bar was drawn: {shown:?}");
}
