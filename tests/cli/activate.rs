//! `pm image activate|deactivate` on the dir backend, on the host: the same
//! behaviour the thin backend shows inside the guest (see `thin.rs`).

use crate::rootfs::{
    assert_holds_example, hostile_tar, running_as_root, store_image, validated_example,
};
use crate::support::{Sandbox, error_code, json_of, output_document, wait_for_line};
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
    let doc = output_document(["image", "activate"], &out);
    assert_eq!(doc["changed"], true);
    assert_eq!(entries(&volumes(&sb).join("bases")).len(), 1);
}

/// Stores `archive`, validates it with `flags` and activates it on the dir
/// backend; returns the activation's document.
fn validated_activation(sb: &Sandbox, archive: &[u8], flags: &[&str]) -> serde_json::Value {
    let digest = store_image(sb, archive);
    let (doc, code) = json_of(sb.pm().args(["image", "validate", &digest]).args(flags));
    assert_eq!(code, 0, "{doc}");
    activate(sb, &digest, "it")
}

fn base_of(sb: &Sandbox, activation: &serde_json::Value) -> PathBuf {
    let digest = activation["image"].as_str().unwrap_or_default();
    volumes(sb)
        .join("bases")
        .join(digest.trim_start_matches("sha256:"))
}

/// Issue 10 item 7: GNU sparse files, accepted by the validator, were
/// refused at activation. Now they are unpacked, holes kept as holes.
#[test]
fn gnu_sparse_files_are_unpacked_with_their_holes() {
    let sb = Sandbox::new();
    let runs: Vec<(u64, Vec<u8>)> = (0..7u8)
        .map(|i| (u64::from(i) << 20, vec![i + 1; 512 * (usize::from(i) + 1)]))
        .collect();
    let chunks: Vec<(u64, &[u8])> = runs.iter().map(|(o, d)| (*o, &d[..])).collect();
    let real = 16u64 << 20;
    let mut t = crate::archives::Tar::new(crate::archives::Flavour::Gnu);
    t.dir("var/").gnu_sparse("var/disk.img", &chunks, real);
    let doc = validated_activation(&sb, &t.finish(), &[]);
    let mut expected = vec![0u8; real as usize];
    for (offset, data) in &runs {
        expected[*offset as usize..*offset as usize + data.len()].copy_from_slice(data);
    }
    for root in [
        PathBuf::from(doc["path"].as_str().unwrap()),
        base_of(&sb, &doc),
    ] {
        let file = root.join("var/disk.img");
        assert!(
            std::fs::read(&file).unwrap() == expected,
            "{} content",
            file.display()
        );
    }
    use std::os::unix::fs::MetadataExt;
    let base = std::fs::metadata(base_of(&sb, &doc).join("var/disk.img")).unwrap();
    assert!(
        base.blocks() * 512 < 4 << 20,
        "the holes stayed holes: {} blocks",
        base.blocks()
    );
}

/// A tar with a character device, a block device and a FIFO.
fn special_tar() -> Vec<u8> {
    let mut t = crate::archives::Tar::pax();
    t.dir("dev/")
        .device(b'3', "dev/null")
        .dir("run/")
        .device(b'6', "run/fifo");
    let mut loop0 = crate::archives::Header::new(b"dev/loop0", b'4');
    loop0.major = 7;
    loop0.minor = 0;
    t.entry(loop0, b"");
    t.finish()
}

/// Issue 10 item 7: an `--allow-devices` image is unpacked with its
/// device nodes (as root) and FIFOs, in the base and in each copy.
#[test]
fn device_nodes_and_fifos_are_created_when_root() {
    if !running_as_root() {
        return; // the refusal is tested below
    }
    use std::os::unix::fs::FileTypeExt;
    let sb = Sandbox::new();
    let doc = validated_activation(&sb, &special_tar(), &["--allow-devices"]);
    for root in [
        PathBuf::from(doc["path"].as_str().unwrap()),
        base_of(&sb, &doc),
    ] {
        let dev = pm::image::fsat::open_root(&root.join("dev")).unwrap();
        for (name, kind, device) in [
            (&b"null"[..], libc::S_IFCHR, (1, 3)),
            (b"loop0", libc::S_IFBLK, (7, 0)),
        ] {
            let meta = pm::image::fsat::stat(&dev, name).unwrap();
            assert_eq!(
                (meta.format, meta.device),
                (kind, device),
                "{}",
                root.display()
            );
        }
        let fifo = std::fs::symlink_metadata(root.join("run/fifo")).unwrap();
        assert!(fifo.file_type().is_fifo());
    }
}

/// `pm` as an unprivileged user: itself when not root, else nobody (the
/// sandbox handed over to it).
fn pm_unprivileged(sb: &Sandbox) -> assert_cmd::Command {
    if !running_as_root() {
        return sb.pm();
    }
    let status = std::process::Command::new("chown")
        .args(["-R", "65534:65534"])
        .arg(sb.path())
        .status()
        .unwrap();
    assert!(status.success());
    let std_cmd = sb.pm_std();
    let mut cmd = std::process::Command::new("setpriv");
    cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(std_cmd.get_program())
        .args(std_cmd.get_args());
    for (key, value) in std_cmd.get_envs() {
        match value {
            Some(value) => cmd.env(key, value),
            None => cmd.env_remove(key),
        };
    }
    assert_cmd::Command::from_std(cmd)
}

/// Issue 10 item 7: without root, device nodes cannot be made: refused at
/// activation with a hint that says so (it used to say the blob changed),
/// while an image with only a FIFO activates.
#[test]
fn device_nodes_without_root_are_refused_with_a_hint_to_run_as_root() {
    let sb = Sandbox::new();
    let archive = sb.path().join("special.tar");
    std::fs::write(&archive, special_tar()).unwrap();
    let fifo_only = sb.path().join("fifo.tar");
    let mut t = crate::archives::Tar::pax();
    t.dir("run/").device(b'6', "run/fifo");
    std::fs::write(&fifo_only, t.finish()).unwrap();
    let run = |args: &[&str]| json_of(pm_unprivileged(&sb).args(args));
    for (file, want_code) in [(&fifo_only, 0), (&archive, 3)] {
        let (doc, code) = run(&["image", "fetch", file.to_str().unwrap()]);
        assert_eq!(code, 0, "{doc}");
        let digest = doc["digest"].as_str().unwrap().to_string();
        let (doc, code) = run(&["image", "validate", &digest, "--allow-devices"]);
        assert_eq!(code, 0, "{doc}");
        let (doc, code) = run(&["image", "activate", &digest, "--backend", "dir"]);
        assert_eq!(code, want_code, "{doc}");
        if want_code == 0 {
            continue;
        }
        assert_eq!(error_code(&doc), "unpack_refused", "{doc}");
        let rules: Vec<&str> = doc["error"]["violations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["rule"].as_str().unwrap())
            .collect();
        assert_eq!(rules, ["needs_root"], "{doc}");
        let hint = doc["error"]["hint"].as_str().unwrap();
        assert!(hint.contains("root") && !hint.contains("changed"), "{hint}");
    }
}

/// Issue 10 item 7: a 4,090-byte path (inside the 4,096 limit) is unpacked
/// and copied: every step is relative to an open directory.
#[test]
fn a_path_of_4090_bytes_is_unpacked_and_copied() {
    let sb = Sandbox::new();
    let mut parts: Vec<String> = (0..15).map(|i| format!("{i:x}").repeat(255)).collect();
    parts.push("f".repeat(250));
    let deep = parts.join("/");
    assert_eq!(deep.len(), 4090);
    let mut t = crate::archives::Tar::pax();
    t.file(&deep, b"deep\n").symlink("short", &deep);
    let doc = validated_activation(&sb, &t.finish(), &[]);
    let second = activate(&sb, doc["image"].as_str().unwrap(), "again");
    for root in [
        PathBuf::from(doc["path"].as_str().unwrap()),
        PathBuf::from(second["path"].as_str().unwrap()),
        base_of(&sb, &doc),
    ] {
        let mut dir = pm::image::fsat::open_root(&root).unwrap();
        for part in &parts[..15] {
            dir = pm::image::fsat::open_dir(&dir, part.as_bytes()).unwrap();
        }
        let mut file = pm::image::fsat::open_file(&dir, parts[15].as_bytes()).unwrap();
        let mut text = String::new();
        std::io::Read::read_to_string(&mut file, &mut text).unwrap();
        assert_eq!(text, "deep\n", "{}", root.display());
        assert_eq!(
            std::fs::read_link(root.join("short"))
                .unwrap()
                .as_os_str()
                .len(),
            4090
        );
    }
}

/// Issue 10 item 1, the unpacker's side: a v7 directory is made a
/// directory, and a swapped-in file header named like a directory is
/// refused like the validator refuses it: nothing is written for it.
#[test]
fn the_unpacker_sees_each_entry_as_the_validator_does() {
    let sb = Sandbox::new();
    let mut t = crate::archives::Tar::new(crate::archives::Flavour::V7);
    t.entry(crate::archives::Header::new(b"etc/", b'\0'), b"");
    t.file("etc/hostname", b"v7\n");
    let doc = validated_activation(&sb, &t.finish(), &[]);
    let root = PathBuf::from(doc["path"].as_str().unwrap());
    assert!(root.join("etc").is_dir());
    assert_eq!(std::fs::read(root.join("etc/hostname")).unwrap(), b"v7\n");

    let digest = validated_example(&sb);
    let blob = stored_blob(&sb.state_path(), &digest);
    let mut t = crate::archives::Tar::pax();
    t.dir("usr/").file_mode("usr/su/", 0o4755, b"\x7fELF");
    std::fs::write(&blob, t.finish()).unwrap();
    let (doc, code) = json_of(sb.pm().args([
        "image",
        "activate",
        &digest,
        "--backend",
        "dir",
        "--name",
        "su",
    ]));
    assert_eq!((code, error_code(&doc)), (3, "unpack_refused"), "{doc}");
    let found: Vec<(&str, &str)> = doc["error"]["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["rule"].as_str().unwrap(), v["path"].as_str().unwrap()))
        .collect();
    assert!(found.contains(&("ambiguous_header", "usr/su/")), "{doc}");
    assert!(found.contains(&("setuid", "usr/su/")), "{doc}");
}

/// Issue 12 item 4: a stream error while unpacking names the entry it hit,
/// as the validator does (the unpacker used to report an empty path).
#[test]
fn the_unpacker_names_the_entry_a_stream_error_hits() {
    let sb = Sandbox::new();
    let digest = validated_example(&sb);
    let blob = stored_blob(&sb.state_path(), &digest);
    let mut t = crate::archives::Tar::pax();
    t.file("big", &[7u8; 100_000]);
    let mut bytes = t.unterminated();
    bytes.truncate(512 + 50_000);
    std::fs::write(&blob, bytes).unwrap();
    let (doc, code) = json_of(
        sb.pm()
            .args(["image", "activate", &digest, "--backend", "dir"]),
    );
    assert_eq!((code, error_code(&doc)), (3, "unpack_refused"), "{doc}");
    assert_eq!(doc["error"]["violations"][0]["rule"], "truncated", "{doc}");
    assert_eq!(doc["error"]["violations"][0]["path"], "big", "{doc}");
    assert!(entries(&volumes(&sb).join("bases")).is_empty());
}

/// Issue 10 item 5: the unpacker reuses the validator's verdict on where
/// the links lead only for the bytes that were validated; a blob swapped
/// for one whose only fault is an escaping symlink is still refused.
#[test]
fn a_swapped_blob_with_an_escaping_link_is_refused() {
    let sb = Sandbox::new();
    let digest = validated_example(&sb);
    let blob = stored_blob(&sb.state_path(), &digest);
    let mut t = crate::archives::Tar::pax();
    t.dir("etc/").symlink("etc/up", "../../../host-root");
    std::fs::write(&blob, t.finish()).unwrap();
    let (doc, code) = json_of(
        sb.pm()
            .args(["image", "activate", &digest, "--backend", "dir"]),
    );
    assert_eq!((code, error_code(&doc)), (3, "unpack_refused"), "{doc}");
    assert_eq!(
        doc["error"]["violations"][0]["rule"], "symlink_escape",
        "{doc}"
    );
    assert_eq!(doc["error"]["violations"][0]["path"], "etc/up", "{doc}");
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
