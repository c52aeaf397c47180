//! The thin backend against a real kernel's device-mapper. These tests are
//! `#[ignore]`d on the host (whose kernel may lack device-mapper) and run
//! inside a throwaway User-Mode Linux guest:
//!
//!     bash scripts/uml/run-dm-tests.sh          # or scripts/test-linux.sh
//!
//! Each test uses its own pool name, so nothing it leaves can be confused
//! with another test's devices.

use crate::rootfs::{assert_holds_example, hostile_tar, validated_example};
use crate::support::{Sandbox, error_code, json_of};
use serde_json::Value;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A sandbox with a pool name of its own and a folder for loop files.
struct ThinBox {
    sb: Sandbox,
    pool: String,
}

impl ThinBox {
    fn new(tag: &str) -> ThinBox {
        require_device_mapper();
        ThinBox {
            sb: Sandbox::new(),
            pool: format!("pmt-{tag}"),
        }
    }

    fn pm(&self) -> assert_cmd::Command {
        let mut cmd = self.sb.pm();
        cmd.env("PM_POOL_NAME", &self.pool)
            .env("PM_POOL_VOLUME_SIZE", "256MiB");
        cmd
    }

    fn pm_std(&self) -> std::process::Command {
        let mut cmd = self.sb.pm_std();
        cmd.env("PM_POOL_NAME", &self.pool)
            .env("PM_POOL_VOLUME_SIZE", "256MiB");
        cmd
    }

    fn loop_dir(&self) -> PathBuf {
        self.sb.path().join("pool")
    }

    fn create_pool(&self, data_size: &str) -> Value {
        let dir = self.loop_dir();
        let (doc, code) = json_of(self.pm().args([
            "pool",
            "create",
            "--loop-dir",
            dir.to_str().unwrap(),
            "--data-size",
            data_size,
        ]));
        assert_eq!(code, 0, "{doc}");
        doc
    }

    fn activate(&self, digest: &str, name: &str) -> Value {
        let (doc, code) = json_of(self.pm().args([
            "image",
            "activate",
            digest,
            "--backend",
            "thin",
            "--name",
            name,
        ]));
        assert_eq!(code, 0, "{doc}");
        doc
    }

    /// This pool's devices in `dmsetup ls`.
    fn dm_devices(&self) -> Vec<String> {
        dm_ls()
            .into_iter()
            .filter(|n| n.starts_with(&format!("{}-", self.pool)))
            .collect()
    }

    fn destroy(&self) {
        let (doc, code) = json_of(self.pm().args(["pool", "destroy", "--force"]));
        assert_eq!(code, 0, "{doc}");
        assert!(
            self.dm_devices().is_empty(),
            "destroy left {:?}",
            self.dm_devices()
        );
    }
}

fn require_device_mapper() {
    assert!(
        Path::new("/dev/mapper/control").exists(),
        "no device-mapper here: run these tests with `bash scripts/uml/run-dm-tests.sh` (or scripts/test-linux.sh)"
    );
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn dm_ls() -> Vec<String> {
    let text = run(Command::new("dmsetup").arg("ls"));
    let mut names: Vec<String> = text
        .lines()
        .filter(|l| !l.starts_with("No devices"))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect();
    names.sort();
    names
}

fn mounts_under_pm_runtime() -> Vec<String> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .filter_map(|l| l.split(' ').nth(4).map(str::to_string))
        .filter(|p| p.starts_with("/run/pm/mnt"))
        .collect()
}

/// `/dev/dm-N` of a device-mapper name.
fn devnode(name: &str) -> PathBuf {
    for entry in std::fs::read_dir("/sys/block").unwrap().flatten() {
        if let Ok(n) = std::fs::read_to_string(entry.path().join("dm/name"))
            && n.trim() == name
        {
            return Path::new("/dev").join(entry.file_name());
        }
    }
    panic!("no dm device named {name}");
}

/// Mounts a device for the duration of `f`.
fn with_mount<T>(device: &Path, options: &str, f: impl FnOnce(&Path) -> T) -> T {
    let dir = tempfile::tempdir().unwrap();
    run(Command::new("mount")
        .args(["-o", options])
        .arg(device)
        .arg(dir.path()));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(dir.path())));
    run(Command::new("umount").arg(dir.path()));
    result.unwrap_or_else(|p| std::panic::resume_unwind(p))
}

#[test]
#[ignore = "needs device-mapper: runs inside User-Mode Linux"]
fn pool_create_status_destroy_on_loop_files_match_dmsetup() {
    let tb = ThinBox::new("status");
    let created = tb.create_pool("256MiB");
    assert_eq!(created["changed"], true);
    let again = tb.create_pool("256MiB");
    assert_eq!(
        again["changed"], false,
        "creating the same pool again changes nothing"
    );

    let (status, code) = json_of(tb.pm().args(["pool", "status"]));
    assert_eq!(code, 0, "{status}");
    // `0 <len> thin-pool <trans> <used meta>/<total meta> <used data>/<total data> ...`
    let line = run(Command::new("dmsetup").args(["status", &format!("{}-pool", tb.pool)]));
    let fields: Vec<&str> = line.split_whitespace().collect();
    let (meta_used, meta_total) = fields[4].split_once('/').unwrap();
    let (data_used, data_total) = fields[5].split_once('/').unwrap();
    let usage = &status["usage"];
    assert_eq!(
        usage["metadata_used_blocks"].as_u64().unwrap().to_string(),
        meta_used
    );
    assert_eq!(
        usage["metadata_total_blocks"].as_u64().unwrap().to_string(),
        meta_total
    );
    assert_eq!(
        usage["data_used_blocks"].as_u64().unwrap().to_string(),
        data_used
    );
    assert_eq!(
        usage["data_total_blocks"].as_u64().unwrap().to_string(),
        data_total
    );
    assert_eq!(
        data_total.parse::<u64>().unwrap(),
        (256u64 << 20) / (64 << 10)
    );
    assert_eq!(
        status["mismatches"].as_array().unwrap().len(),
        0,
        "{status}"
    );

    let (doc, code) = json_of(tb.pm().args(["pool", "destroy"]));
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["changed"], true);
    assert!(tb.dm_devices().is_empty(), "{:?}", tb.dm_devices());
    assert!(!tb.loop_dir().join(format!("{}-data.img", tb.pool)).exists());
    let (doc, code) = json_of(tb.pm().args(["pool", "status"]));
    assert_eq!(code, 9, "{doc}");
    assert_eq!(error_code(&doc), "no_pool");
}

#[test]
#[ignore = "needs device-mapper: runs inside User-Mode Linux"]
fn two_thin_activations_hold_the_image_and_writes_stay_isolated() {
    let tb = ThinBox::new("iso");
    let before = dm_ls();
    tb.create_pool("256MiB");
    let digest = validated_example(&tb.sb);
    let a = tb.activate(&digest, "vm-a");
    let b = tb.activate(&digest, "vm-b");
    assert_eq!(a["base_created"], true);
    assert_eq!(b["base_created"], false);
    assert_eq!(a["backend"], "thin");
    let (snap_a, snap_b) = (
        a["snapshot_id"].as_i64().unwrap(),
        b["snapshot_id"].as_i64().unwrap(),
    );
    assert_ne!(snap_a, snap_b);
    let (dev_a, dev_b) = (
        PathBuf::from(a["device"].as_str().unwrap()),
        PathBuf::from(b["device"].as_str().unwrap()),
    );
    assert_eq!(dev_a, devnode(&format!("{}-thin-{snap_a}", tb.pool)));

    with_mount(&dev_a, "rw", |root| {
        assert_holds_example(root, true);
        std::fs::write(root.join("etc/hostname"), "vm-a\n").unwrap();
        std::fs::write(root.join("only-in-a"), "a").unwrap();
    });
    with_mount(&dev_b, "rw", |root| {
        assert_holds_example(root, true);
        assert!(!root.join("only-in-a").exists());
    });
    let base = devnode(&format!("{}-thin-1", tb.pool));
    with_mount(&base, "ro,noload", |root| {
        assert_holds_example(root, true);
        assert!(!root.join("only-in-a").exists());
    });

    let again = tb.activate(&digest, "vm-a");
    assert_eq!(again["changed"], false);
    assert_eq!(again["snapshot_id"], a["snapshot_id"]);

    for name in ["vm-a", "vm-b"] {
        let (doc, code) = json_of(tb.pm().args(["image", "deactivate", name]));
        assert_eq!(code, 0, "{doc}");
    }
    assert_eq!(
        tb.dm_devices().len(),
        4,
        "pool, meta, data and the base remain: {:?}",
        tb.dm_devices()
    );
    let (doc, code) = json_of(tb.pm().args(["image", "rm", &digest]));
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["base_volumes"][0]["thin_id"], 1, "{doc}");
    assert_eq!(
        tb.dm_devices().len(),
        3,
        "rm removed the base: {:?}",
        tb.dm_devices()
    );
    let (doc, code) = json_of(tb.pm().args(["image", "gc"]));
    assert_eq!(code, 0, "{doc}");
    let (doc, code) = json_of(tb.pm().args(["pool", "destroy"]));
    assert_eq!(code, 0, "{doc}");
    assert_eq!(dm_ls(), before, "dmsetup ls is as before");
}

#[test]
#[ignore = "needs device-mapper: runs inside User-Mode Linux"]
fn pool_destroy_refuses_while_activations_exist() {
    let tb = ThinBox::new("inuse");
    tb.create_pool("128MiB");
    let digest = validated_example(&tb.sb);
    tb.activate(&digest, "busy");
    let (doc, code) = json_of(tb.pm().args(["pool", "destroy"]));
    assert_eq!(code, 9, "{doc}");
    assert_eq!(error_code(&doc), "pool_in_use");
    tb.destroy();
}

/// Kills `pm image activate` at `point`, then checks the next command
/// reconciles: no orphan device, no stale mountpoint, state = kernel.
fn crash_and_recover(point: &str) {
    let tb = ThinBox::new(&point.replace('_', "").chars().take(20).collect::<String>());
    tb.create_pool("256MiB");
    let digest = validated_example(&tb.sb);
    let status = tb
        .pm_std()
        .args([
            "image",
            "activate",
            &digest,
            "--backend",
            "thin",
            "--name",
            "crashy",
        ])
        .env("PM_FAILPOINTS", format!("{point}=kill"))
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert_eq!(status.signal(), Some(libc::SIGKILL), "pm died at {point}");

    let (status, code) = json_of(tb.pm().args(["pool", "status"]));
    assert_eq!(code, 0, "{status}");
    assert!(
        !status["mismatches"].as_array().unwrap().is_empty(),
        "status reports the interrupted work: {status}"
    );

    let doc = tb.activate(&digest, "crashy");
    assert!(!doc["reconciled"].as_array().unwrap().is_empty(), "{doc}");
    assert!(
        mounts_under_pm_runtime().is_empty(),
        "stale mounts: {:?}",
        mounts_under_pm_runtime()
    );
    let snap = doc["snapshot_id"].as_i64().unwrap();
    with_mount(
        Path::new(doc["device"].as_str().unwrap()),
        "ro,noload",
        |root| assert_holds_example(root, true),
    );

    let (status, code) = json_of(tb.pm().args(["pool", "status"]));
    assert_eq!(code, 0, "{status}");
    assert_eq!(
        status["mismatches"].as_array().unwrap().len(),
        0,
        "{status}"
    );
    let thin: Vec<String> = tb
        .dm_devices()
        .into_iter()
        .filter(|n| n.contains("-thin-"))
        .collect();
    assert_eq!(
        thin.len(),
        2,
        "only the base and the new snapshot: {thin:?}"
    );
    assert!(thin.contains(&format!("{}-thin-{snap}", tb.pool)));
    tb.destroy();
}

#[test]
#[ignore = "needs device-mapper: runs inside User-Mode Linux"]
fn kill_after_the_intent_is_written_is_reconciled() {
    crash_and_recover("activate_after_intent");
}

#[test]
#[ignore = "needs device-mapper: runs inside User-Mode Linux"]
fn kill_after_the_thin_device_is_created_is_reconciled() {
    crash_and_recover("activate_after_thin_create");
}

#[test]
#[ignore = "needs device-mapper: runs inside User-Mode Linux"]
fn kill_during_unpack_is_reconciled() {
    crash_and_recover("activate_during_unpack");
}

#[test]
#[ignore = "needs device-mapper: runs inside User-Mode Linux"]
fn kill_after_the_snapshot_is_reconciled() {
    crash_and_recover("activate_after_snapshot");
}

#[test]
#[ignore = "needs device-mapper: runs inside User-Mode Linux"]
fn free_space_guard_trips_on_a_filled_pool() {
    let tb = ThinBox::new("full");
    tb.create_pool("64MiB");
    let digest = validated_example(&tb.sb);
    let a = tb.activate(&digest, "filler");
    run(Command::new("dd")
        .arg("if=/dev/zero")
        .arg(format!("of={}", a["device"].as_str().unwrap()))
        .args([
            "bs=1M",
            "count=40",
            "oflag=direct",
            "conv=fsync",
            "status=none",
        ]));
    let (doc, code) = json_of(tb.pm().env("PM_POOL_MAX_DATA_PERCENT", "50").args([
        "image",
        "activate",
        &digest,
        "--backend",
        "thin",
        "--name",
        "one-too-many",
    ]));
    assert_eq!(code, 9, "{doc}");
    assert_eq!(error_code(&doc), "pool_full");
    assert!(
        doc["error"]["message"].as_str().unwrap().contains("data"),
        "{doc}"
    );
    let thin = tb
        .dm_devices()
        .into_iter()
        .filter(|n| n.contains("-thin-"))
        .count();
    assert_eq!(thin, 2, "no snapshot was created");
    tb.destroy();
}

#[test]
#[ignore = "needs device-mapper: runs inside User-Mode Linux"]
fn the_thin_unpacker_refuses_a_swapped_archive_and_leaves_no_device() {
    let tb = ThinBox::new("swap");
    tb.create_pool("128MiB");
    let digest = validated_example(&tb.sb);
    let blob = crate::activate::stored_blob(&tb.sb.state_path(), &digest);
    std::fs::write(&blob, hostile_tar()).unwrap();
    let (doc, code) = json_of(
        tb.pm()
            .args(["image", "activate", &digest, "--backend", "thin"]),
    );
    assert_eq!(code, 3, "{doc}");
    assert_eq!(error_code(&doc), "unpack_refused");
    let thin = tb
        .dm_devices()
        .into_iter()
        .filter(|n| n.contains("-thin-"))
        .count();
    assert_eq!(thin, 0, "the half-made base was removed");
    assert!(mounts_under_pm_runtime().is_empty());
    tb.destroy();
}

/// The size of a `/dev/dm-N` device, from sysfs.
fn device_bytes(device: &str) -> u64 {
    let name = Path::new(device).file_name().unwrap().to_str().unwrap();
    let sectors = std::fs::read_to_string(format!("/sys/block/{name}/size")).unwrap();
    sectors.trim().parse::<u64>().unwrap() * 512
}

fn dmsetup(args: &[&str]) -> String {
    run(Command::new("dmsetup")
        .env("DM_DISABLE_UDEV", "1")
        .args(args))
}

#[test]
#[ignore = "needs device-mapper: runs inside User-Mode Linux"]
fn reconcile_sets_up_what_state_has_and_removes_strays() {
    let tb = ThinBox::new("reboot");
    tb.create_pool("128MiB");
    let digest = validated_example(&tb.sb);
    let a = tb.activate(&digest, "survivor");
    // A reboot: every device of the pool disappears from the kernel.
    let mut names = tb.dm_devices();
    names.sort_by_key(|n| {
        (
            !n.contains("-thin-"),
            n.ends_with("-meta") || n.ends_with("-data"),
        )
    });
    for name in &names {
        dmsetup(&["remove", name]);
    }
    assert!(tb.dm_devices().is_empty());
    let (status, code) = json_of(tb.pm().args(["pool", "status"]));
    assert_eq!(code, 0, "{status}");
    assert_eq!(status["active_in_kernel"], false);

    // pool.volume_size changed since: devices come back at the size they
    // were created with, or their filesystems would not match.
    let (doc, code) = json_of(tb.pm().env("PM_POOL_VOLUME_SIZE", "512MiB").args([
        "image",
        "activate",
        &digest,
        "--backend",
        "thin",
        "--name",
        "survivor",
    ]));
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["changed"], false);
    assert_eq!(device_bytes(doc["device"].as_str().unwrap()), 256 << 20);
    let actions: Vec<&str> = doc["reconciled"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"set_up_pool_again"), "{doc}");
    assert!(actions.contains(&"reactivated_thin_device"), "{doc}");
    with_mount(
        Path::new(doc["device"].as_str().unwrap()),
        "ro,noload",
        |root| assert_holds_example(root, true),
    );
    assert_eq!(doc["snapshot_id"], a["snapshot_id"]);

    // A device under pm's prefix that state does not know.
    let pool_dev = format!("{}-pool", tb.pool);
    let majmin = dmsetup(&["info", "-c", "--noheadings", "-o", "major,minor", &pool_dev]);
    dmsetup(&["message", &pool_dev, "0", "create_thin 500"]);
    let table = format!("0 2048 thin {} 500", majmin.trim());
    dmsetup(&[
        "create",
        &format!("{}-thin-500", tb.pool),
        "--table",
        &table,
    ]);
    let (status, _) = json_of(tb.pm().args(["pool", "status"]));
    assert!(
        status["mismatches"].to_string().contains("thin-500"),
        "{status}"
    );
    let (doc, code) = json_of(tb.pm().args(["image", "deactivate", "survivor"]));
    assert_eq!(code, 0, "{doc}");
    assert!(
        doc["reconciled"]
            .to_string()
            .contains("removed_orphan_thin_device"),
        "{doc}"
    );
    assert!(!tb.dm_devices().iter().any(|n| n.ends_with("-thin-500")));
    tb.destroy();
}

/// `pm inspect` and `pm doctor` read the pool's usage from the kernel's
/// status line (as `dmsetup status` prints it) and change no table.
#[test]
#[ignore = "needs device-mapper: runs inside User-Mode Linux"]
fn inspect_and_doctor_read_the_pool_usage_and_change_no_table() {
    let tb = ThinBox::new("inspect");
    tb.create_pool("256MiB");
    let digest = validated_example(&tb.sb);
    tb.activate(&digest, "seen");
    let tables = dmsetup(&["table"]);
    let (doc, code) = json_of(tb.pm().arg("inspect"));
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["device_mapper"]["usable"], true, "{doc}");
    assert_eq!(doc["device_mapper"]["thin_pool_target"], "loaded");
    let kernel = &doc["pool"]["kernel"];
    assert_eq!(kernel["active"], true, "{doc}");
    assert_eq!(kernel["thin_devices"], 2, "the base and the snapshot");
    let usage = &kernel["usage"];
    let line = dmsetup(&["status", &format!("{}-pool", tb.pool)]);
    let fields: Vec<&str> = line.split_whitespace().collect();
    let (data_used, data_total) = fields[5].split_once('/').unwrap();
    assert_eq!(
        usage["data_used_blocks"].as_u64().unwrap().to_string(),
        data_used
    );
    assert_eq!(
        usage["data_total_blocks"].as_u64().unwrap().to_string(),
        data_total
    );
    assert!(usage["data_percent"].as_f64().unwrap() > 0.0, "{usage}");
    assert_eq!(usage["block_bytes"], 64 << 10);
    assert_eq!(usage["health"], "good");
    assert_eq!(dmsetup(&["table"]), tables, "inspect loaded no table");

    let (doc, code) = json_of(tb.pm().args(["doctor", "--only", "pool,dm,tool.mkfs.ext4"]));
    assert_eq!(code, 0, "{doc}");
    let (doc, code) = json_of(
        tb.pm()
            .args(["doctor", "--only", "pool.data_usage"])
            .env("PM_POOL_MAX_DATA_PERCENT", "0"),
    );
    assert_eq!(code, 9, "above the free-space guard: {doc}");
    assert_eq!(doc["failed"], serde_json::json!(["pool.data_usage"]));
    let (doc, code) = json_of(tb.pm().args(["image", "deactivate", "seen"]));
    assert_eq!(code, 0, "{doc}");
    tb.destroy();
}
