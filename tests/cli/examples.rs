//! Every example in `examples/` run against sandboxed state, asserting what
//! it promises: the site playbooks (`examples/ansible/`, plain `command`
//! tasks and the pm.platform collection) with the real ansible-core 2.19,
//! the real bw on the offline vault fixture, the tailscale stand-ins and the
//! shared real Ray cluster; and the shell pipelines and the cron wrapper
//! (`examples/shell/`) with the real jq.

use crate::bw_fixture::{AUTHKEY, GITHUB_PASSWORD, MASTER_PASSWORD, RAY_TOKEN};
use crate::collection::{Run, ansible_env, ansible_tool};
use crate::dry_run::fingerprint;
use crate::net::Net;
use crate::ray_cluster::{self, Cluster, host_ns, raylet_of};
use crate::rootfs::{assert_holds_example, example_tar, hostile_tar, running_as_root};
use crate::support::{Sandbox, json_of, wait_for_line};
use serde_json::Value;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

fn example(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(path)
}

// ------------------------------------------------------ the site playbooks

/// A host the site playbook takes from nothing to serving: pm's sandbox
/// with no state, a locked vault (bw logged in) and its master password in
/// a file, no tailscale daemon, a local image file, and pm's provider
/// settings for the shared cluster. pm and ansible-playbook run inside the
/// provider's network namespace, where the head is reachable.
struct SiteHost {
    net: Net,
    image: PathBuf,
    password_file: PathBuf,
    credential_dir: PathBuf,
}

impl SiteHost {
    fn new(cluster: &Cluster) -> SiteHost {
        let mut net = Net::new(AUTHKEY);
        net.lock_vault();
        let dir = net.sb.path().to_path_buf();
        let image = dir.join("web.tar");
        std::fs::write(&image, example_tar()).unwrap();
        let password_file = dir.join("bw-master");
        std::fs::write(&password_file, format!("{MASTER_PASSWORD}\n")).unwrap();
        std::fs::set_permissions(&password_file, std::fs::Permissions::from_mode(0o600)).unwrap();
        // One venv for both playbooks' hosts: pm makes it for the first,
        // the second finds it done.
        for (key, value) in ray_cluster::provider_env(&cluster.scratch.path().join("venv-site")) {
            net.set(key, &value);
        }
        let credential_dir = dir.join("credentials");
        SiteHost {
            net,
            image,
            password_file,
            credential_dir,
        }
    }

    fn dir(&self) -> &Path {
        self.net.sb.path()
    }

    fn state(&self) -> PathBuf {
        self.net.sb.state_path()
    }

    /// `program ARGS` inside the provider's namespace with this host's
    /// environment (pm's settings, no RAY_* of the caller's).
    fn in_namespace(&self, program: &Path) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &host_ns()]).arg(program);
        for (key, value) in self.net.pm_std().get_envs() {
            match value {
                Some(value) => cmd.env(key, value),
                None => cmd.env_remove(key),
            };
        }
        for (key, _) in std::env::vars() {
            if key.starts_with("RAY_") {
                cmd.env_remove(key);
            }
        }
        cmd
    }

    fn pm(&self, args: &[&str]) -> (Value, i32) {
        let out = self
            .in_namespace(&assert_cmd::cargo::cargo_bin("pm"))
            .args(args)
            .arg("--json")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let doc = serde_json::from_str(text.trim()).unwrap_or_else(|e| {
            panic!(
                "pm {args:?}: not one JSON document ({e}): {text}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (doc, out.status.code().unwrap_or(-1))
    }

    fn play(&self, playbook: &str, check: bool) -> Run {
        let mut cmd = self.in_namespace(&ansible_tool("ansible-playbook"));
        ansible_env(&mut cmd, self.dir());
        cmd.arg("-i")
            .arg(example("ansible/inventory.ini"))
            .arg(example(&format!("ansible/{playbook}")));
        for (var, value) in [
            ("image_source", &self.image),
            ("vault_password_file", &self.password_file),
            ("credential_dir", &self.credential_dir),
        ] {
            cmd.arg("-e").arg(format!("{var}={}", value.display()));
        }
        cmd.args([
            "-e",
            "credential_item=github.com",
            "-e",
            "backend=dir",
            "-e",
            "provider_user=ops",
        ]);
        if check {
            cmd.arg("--check");
        }
        let run = Run::of(cmd);
        eprintln!(
            "ansible: {playbook}{} in {:.1}s: changed={} (slowest: {})",
            if check { " --check" } else { "" },
            run.secs,
            run.count("changed"),
            run.slow_tasks()
        );
        run
    }

    /// The state file, the image store and the volumes, as files on disk,
    /// and how many changes the history holds.
    fn snapshot(&self) -> (Vec<u64>, String, usize) {
        let state = self.state();
        let meta = std::fs::metadata(&state).unwrap();
        let root = state.parent().unwrap();
        let files = format!(
            "{:?} {:?}",
            fingerprint(&root.join("images")),
            fingerprint(&root.join("volumes"))
        );
        let (history, _) = self.pm(&["state", "history"]);
        (
            vec![
                meta.len(),
                meta.mtime() as u64,
                meta.mtime_nsec() as u64,
                meta.ino(),
            ],
            files,
            history["entries"].as_array().unwrap().len(),
        )
    }
}

impl Drop for SiteHost {
    /// A node a failed run left joined is stopped with its process group
    /// (the cluster's own teardown covers only its scratch directory).
    fn drop(&mut self) {
        ray_cluster::stop_everything_under(self.dir());
    }
}

/// Walks one site playbook: from nothing to serving, again with nothing to
/// do, then (after the host lost its activation, its tailnet connection
/// and its Ray node) a check run that predicts exactly those and changes
/// nothing.
fn walk_site(cluster: &Cluster, playbook: &str, first_changes: &[&str]) {
    let host = SiteHost::new(cluster);
    assert!(!host.state().exists(), "a fresh host has no state");
    let secrets = [GITHUB_PASSWORD, MASTER_PASSWORD, AUTHKEY, RAY_TOKEN];

    // 1. From nothing.
    let first = host.play(playbook, false);
    let printed = first.printed();
    assert_eq!(
        (first.rc, first.count("failures")),
        (0, 0),
        "{playbook}: {printed}"
    );
    assert_eq!(
        first.tasks("changed"),
        first_changes,
        "{playbook}: {}",
        first.doc
    );
    assert_eq!(first.count("changed"), first_changes.len() as u64);
    for secret in secrets {
        assert!(!printed.contains(secret), "{playbook} printed a secret");
    }
    // Serving: the activation holds the image, the node is in the cluster,
    // the tailnet is up, the credential is deployed.
    let (activations, _) = host.pm(&["image", "activations"]);
    let web = &activations["activations"][0];
    assert_eq!(web["name"], "web", "{activations}");
    assert_holds_example(Path::new(web["path"].as_str().unwrap()), running_as_root());
    let (status, _) = host.pm(&["provider", "status"]);
    assert_eq!(status["provider"]["status"], "active", "{status}");
    let node_id = status["node"]["node_id"].as_str().unwrap().to_string();
    assert!(
        cluster
            .alive_nodes()
            .iter()
            .any(|n| n["node_id"] == node_id.as_str()),
        "the head lists the node ALIVE"
    );
    let (net, _) = host.pm(&["net", "status"]);
    assert_eq!(net["connected"], true, "{net}");
    let credential = host.credential_dir.join("registry-password");
    assert_eq!(
        std::fs::read_to_string(&credential).unwrap(),
        GITHUB_PASSWORD
    );
    assert_eq!(
        std::fs::metadata(&credential).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // 2. Again: nothing to do.
    let second = host.play(playbook, false);
    assert_eq!(second.rc, 0, "{playbook}: {}", second.printed());
    assert_eq!(
        second.count("changed"),
        0,
        "{playbook}: the second run changed {:?}",
        second.tasks("changed")
    );

    // 3. The host loses its activation, its connection and its node; a
    // check run predicts those three and changes nothing.
    for (args, what) in [
        (&["image", "deactivate", "web"][..], "deactivate"),
        (&["net", "down"][..], "net down"),
        (&["provider", "leave"][..], "provider leave"),
    ] {
        let (doc, code) = host.pm(args);
        assert_eq!((code, &doc["changed"]), (0, &true.into()), "{what}: {doc}");
    }
    let temp_dir = host.state().parent().unwrap().join("provider/ray");
    assert!(raylet_of(&temp_dir).is_none(), "leave stopped the node");
    let before = host.snapshot();
    let check = host.play(playbook, true);
    assert_eq!(check.rc, 0, "{playbook} --check: {}", check.printed());
    assert_eq!(
        check.tasks("changed"),
        [
            "Join the tailnet (pm reads the auth key from the vault itself)",
            "Activate it",
            "Onboard into the Ray cluster (resumes where a failed run stopped)",
        ],
        "{playbook} --check: {}",
        check.doc
    );
    assert_eq!(check.count("changed"), 3);
    assert_eq!(
        host.snapshot(),
        before,
        "{playbook} --check changed the state file, the images or the volumes"
    );
    let (activations, _) = host.pm(&["image", "activations"]);
    assert_eq!(activations["activations"], serde_json::json!([]));
    let (net, _) = host.pm(&["net", "status"]);
    assert_eq!(net["connected"], false, "{net}");
    assert!(raylet_of(&temp_dir).is_none(), "check mode started no node");
    let (status, _) = host.pm(&["provider", "status"]);
    assert_eq!(status["provider"]["status"], "inactive", "{status}");
}

/// Both site playbooks, each on a host of its own, against the one Ray
/// cluster of the test process. Prints the time of every run.
#[test]
fn the_site_playbooks_take_a_host_from_nothing_to_serving() {
    let started = Instant::now();
    let cluster =
        ray_cluster::lease("examples::the_site_playbooks_take_a_host_from_nothing_to_serving");
    let t = Instant::now();
    walk_site(
        &cluster,
        "site-command.yml",
        &[
            "Unlock the vault",
            "Make the credential directory",
            "Deploy the registry credential",
            "Join the tailnet (pm reads the auth key from the vault itself)",
            "Fetch the image",
            "Validate it (hostile until proven safe)",
            "Activate it",
            "Register the provider",
            "Onboard into the Ray cluster (resumes where a failed run stopped)",
        ],
    );
    eprintln!("ansible: site-command.yml walked in {:.1?}", t.elapsed());
    let t = Instant::now();
    walk_site(
        &cluster,
        "site-collection.yml",
        &[
            "Make the credential directory",
            "Deploy the registry credential (pm unlocks the vault with the password file if it must)",
            "Join the tailnet (pm reads the auth key from the vault itself)",
            "Fetch the image",
            "Validate it (hostile until proven safe)",
            "Activate it",
            "Register the provider",
            "Onboard into the Ray cluster (resumes where a failed run stopped)",
        ],
    );
    eprintln!("ansible: site-collection.yml walked in {:.1?}", t.elapsed());
    eprintln!("ansible: the site playbooks in {:.1?}", started.elapsed());
}

// ------------------------------------------------------ the shell examples

/// `examples/shell/NAME` with the sandbox's environment (its state, no
/// PM_* of the caller's) and this build of pm as `PM`.
fn script(env: std::process::Command, name: &str) -> Command {
    let mut cmd = Command::new(example(&format!("shell/{name}")));
    for (key, value) in env.get_envs() {
        match value {
            Some(value) => cmd.env(key, value),
            None => cmd.env_remove(key),
        };
    }
    cmd.env("PM", assert_cmd::cargo::cargo_bin("pm"));
    cmd
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn the_activate_pipeline_prints_where_and_exits_with_the_first_failure() {
    let sb = Sandbox::new();
    let image = sb.path().join("web.tar");
    std::fs::write(&image, example_tar()).unwrap();
    let hostile = sb.path().join("hostile.tar");
    std::fs::write(&hostile, hostile_tar()).unwrap();
    let activate = |source: &Path, name: &str| {
        script(sb.pm_std(), "activate.sh")
            .arg(source)
            .arg(name)
            .output()
            .unwrap()
    };

    let out = activate(&image, "web");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let path = text(&out.stdout);
    let path = path.trim();
    assert_eq!(path.lines().count(), 1, "one line: {path}");
    assert_holds_example(Path::new(path), running_as_root());
    let again = activate(&image, "web");
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(text(&again.stdout).trim(), path, "the same activation");

    // A rejected image: exit 3 from validate, though activate exits 9
    // (upstream_failed); its violations are listed.
    let out = activate(&hostile, "bad");
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(
        stderr.contains("activate.sh: image_rejected: image rejected: 1 violation"),
        "{stderr}"
    );
    assert!(
        stderr.contains("  path_traversal\t../../escaped-by-pm-test"),
        "{stderr}"
    );
    // No such source: exit 4 from fetch, the first stage.
    let out = activate(&sb.path().join("missing.tar"), "bad");
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("activate.sh: not_found: file "), "{stderr}");
    let (activations, _) = json_of(sb.pm().args(["image", "activations"]));
    let names: Vec<&str> = activations["activations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["web"]);

    // changes.sh: what changed, one line per command that changed
    // something (the pipeline's three stages ran at once; the order of
    // their rows is the order they finished in).
    let out = script(sb.pm_std(), "changes.sh")
        .arg("1h")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let mut changed: Vec<(String, String)> = text(&out.stdout)
        .lines()
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            assert_eq!(fields.len(), 3, "{line}");
            assert!(fields[0].ends_with('Z'), "a UTC time: {line}");
            (fields[1].to_string(), fields[2].to_string())
        })
        .collect();
    changed.sort();
    let ok = |c: &str| (c.to_string(), "ok".to_string());
    assert_eq!(
        changed,
        [
            ok("image activate"),
            ok("image fetch"),
            ok("image fetch"), // the hostile image, stored before it was judged
            ok("image validate"),
        ]
    );
}

#[test]
fn pm_cron_is_quiet_retries_what_is_retryable_and_mails_the_rest() {
    let sb = Sandbox::new();
    let log = sb.path().join("log/cron.log");
    let cron = |extra: &[(&str, &str)]| {
        let mut cmd = script(sb.pm_std(), "pm-cron");
        cmd.env("PM_CRON_LOG", &log).envs(extra.iter().copied());
        cmd
    };
    let log_text = || std::fs::read_to_string(&log).unwrap_or_default();

    // It works: nothing printed (cron mails nothing), one line logged.
    let out = cron(&[])
        .args(["state", "prune", "--older-than", "90days"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", log_text());
    assert!(out.stdout.is_empty() && out.stderr.is_empty(), "{out:?}");
    assert!(
        log_text().contains("pm state prune --older-than 90days: ok, changed=false"),
        "{}",
        log_text()
    );

    // Another pm holds the state lock.
    let mut holder = sb
        .pm_std()
        .env("PM_FAILPOINTS", "lock_held=pause")
        .args(["state", "prune", "--older-than", "1000days"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(holder.stderr.take().unwrap());
    wait_for_line(&mut stderr, "failpoint lock_held paused");

    // Still busy after every attempt: exit 75, nothing mailed.
    let out = cron(&[
        ("PM_CRON_ATTEMPTS", "2"),
        ("PM_CRON_DELAY", "0"),
        ("PM_CRON_LOCK_TIMEOUT", "0"),
    ])
    .args(["state", "prune", "--older-than", "90days"])
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(75), "{}", log_text());
    assert!(out.stdout.is_empty() && out.stderr.is_empty(), "{out:?}");
    let logged = log_text();
    assert!(
        logged.contains("lock_busy (exit 5, retryable), attempt 1 of 2, again in 0s")
            && logged
                .contains("lock_busy (exit 5, retryable) after 2 attempts; left to the next run")
            && logged.contains("pm: error: the state lock"),
        "{logged}"
    );

    // Busy at the first attempt, free during the second: done. The lock is
    // released while the second attempt waits for it (it says so).
    let mut waiting = cron(&[
        ("PM_CRON_LOG", "/dev/stderr"),
        ("PM_CRON_ATTEMPTS", "3"),
        ("PM_CRON_DELAY", "0"),
        ("PM_CRON_LOCK_TIMEOUT", "3"),
    ])
    .args(["state", "prune", "--older-than", "90days"])
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    let mut cron_log = std::io::BufReader::new(waiting.stderr.take().unwrap());
    wait_for_line(&mut cron_log, "attempt 1 of 3, again in 0s");
    wait_for_line(&mut cron_log, "waiting for the state lock held by");
    drop(holder.stdin.take());
    assert!(holder.wait().unwrap().success());
    let rest = wait_for_line(&mut cron_log, "pm state prune --older-than 90days: ok");
    assert!(waiting.wait().unwrap().success(), "{rest}");

    // A failure no retry can fix: pm's words on stderr, for the mail.
    let hostile = sb.path().join("hostile.tar");
    std::fs::write(&hostile, hostile_tar()).unwrap();
    let out = cron(&[])
        .args(["image", "validate"])
        .arg(&hostile)
        .output()
        .unwrap();
    let mail = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{mail}");
    assert!(out.stdout.is_empty());
    assert!(
        mail.starts_with(&format!(
            "pm-cron: pm image validate {}: input rejected as unsafe or invalid (exit 3, image_rejected)\n",
            hostile.display()
        )) && mail.contains("pm-cron: image rejected: 1 violation")
            && mail.contains("pm-cron: hint: do not use this image"),
        "{mail}"
    );
}

/// Every job of examples/shell/crontab, run as cron would (through pm-cron)
/// on a host with the tailscale stand-ins: each succeeds and prints nothing.
#[test]
fn the_crontab_jobs_run_quietly() {
    let net = Net::new(AUTHKEY);
    let log = net.sb.path().join("cron.log");
    let crontab = std::fs::read_to_string(example("shell/crontab")).unwrap();
    let jobs: Vec<Vec<&str>> = crontab
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty() && !l.contains('='))
        .map(|l| l.split_whitespace().skip(6).collect())
        .collect();
    assert!(jobs.len() >= 3, "{crontab}");
    for job in jobs {
        assert_eq!(job[0], "/usr/local/bin/pm-cron", "{job:?}");
        let out = script(net.pm_std(), "pm-cron")
            .args(&job[1..])
            .env("PM_CRON_LOG", &log)
            .output()
            .unwrap();
        let logged = std::fs::read_to_string(&log).unwrap_or_default();
        assert_eq!(out.status.code(), Some(0), "{job:?}: {logged}");
        assert!(
            out.stdout.is_empty() && out.stderr.is_empty(),
            "{job:?}: {out:?}"
        );
        assert!(
            logged.contains(&format!("pm {}: ok, changed=", job[1..].join(" "))),
            "{logged}"
        );
    }
    let (status, _) = net.json(&["net", "status"]);
    assert_eq!(
        status["connected"], true,
        "`pm-cron net up` joined: {status}"
    );
}
