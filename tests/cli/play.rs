//! `pm play` with the real ansible-core (installed by scripts/test-linux.sh
//! into .tools/venv-ansible), gated on the network of the tailscale
//! stand-ins. The node is brought up by hand with the stand-in CLI, as an
//! operator might: the gate is what `pm net status` sees, not pm's record.

use crate::bw_fixture::AUTHKEY;
use crate::net::{Net, standin};
use crate::support::{error_code, output_document};
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn ansible_playbook() -> PathBuf {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/venv-ansible/bin/ansible-playbook");
    assert!(
        path.is_file(),
        "ansible-core is not installed: run `bash scripts/test-linux.sh` (it installs ansible-core==2.19.* into .tools/venv-ansible)"
    );
    path
}

fn playbook(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/cli/playbooks")
        .join(name)
}

/// A host for playbooks: pm's sandbox and a daemon the test started.
struct Host {
    net: Net,
    daemon: Option<Child>,
}

impl Host {
    fn new() -> Host {
        let mut net = Net::new(AUTHKEY);
        let ans = net.sb.path().join("ansible");
        for (var, dir) in [
            ("ANSIBLE_HOME", ""),
            ("ANSIBLE_LOCAL_TEMP", "tmp"),
            ("ANSIBLE_REMOTE_TEMP", "rtmp"),
        ] {
            net.set(var, &ans.join(dir).display().to_string());
        }
        net.set("LC_ALL", "C.UTF-8");
        net.set("ANSIBLE_NOCOLOR", "1");
        net.set("ANSIBLE_LOCALHOST_WARNING", "false");
        net.set("ANSIBLE_INVENTORY_UNPARSED_WARNING", "false");
        net.set(
            "PM_PLAY_ANSIBLE_PLAYBOOK_PATH",
            &ansible_playbook().display().to_string(),
        );
        Host { net, daemon: None }
    }

    /// Starts the stand-in daemon and waits for its socket (polled, with
    /// a deadline).
    fn start_daemon(&mut self) {
        let log = std::fs::File::create(self.net.sb.path().join("daemon.log")).unwrap();
        let child = Command::new(standin("tailscaled"))
            .arg("--tun=userspace-networking")
            .arg(format!("--statedir={}", self.net.statedir().display()))
            .arg(format!("--socket={}", self.net.socket().display()))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        self.daemon = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while UnixStream::connect(self.net.socket()).is_err() {
            assert!(Instant::now() < deadline, "tailscaled did not listen");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// `tailscale up` by hand, with the key in a file.
    fn join(&mut self) {
        self.start_daemon();
        let key = self.net.sb.path().join("key");
        std::fs::write(&key, AUTHKEY).unwrap();
        let out = self.net.tailscale(&[
            "up",
            &format!("--auth-key=file:{}", key.display()),
            "--timeout=20s",
        ]);
        assert!(out.status.success(), "{out:?}");
    }

    /// `pm play ARGS --json` with the wrapper (if any) as ansible-playbook.
    fn play(&self, args: &[&str]) -> (Value, i32, String) {
        let out = self
            .net
            .pm()
            .args(["--json", "play"])
            .args(args)
            .output()
            .unwrap();
        let doc = output_document(["play"], &out);
        let stderr = String::from_utf8(out.stderr).unwrap();
        (doc, out.status.code().unwrap_or(-1), stderr)
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        if let Some(mut child) = self.daemon.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[test]
fn play_refuses_while_the_network_is_down_and_starts_no_ansible() {
    let mut host = Host::new();
    let marker = host.net.sb.path().join("ansible-ran");
    let wrapper = host.net.sb.path().join("ansible-playbook");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\ntouch '{}'\nexec '{}' \"$@\"\n",
            marker.display(),
            ansible_playbook().display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    host.net.set(
        "PM_PLAY_ANSIBLE_PLAYBOOK_PATH",
        &wrapper.display().to_string(),
    );
    let ok = playbook("ok.yml");
    let ok = ok.to_str().unwrap();

    let (doc, code, _) = host.play(&[ok]);
    assert_eq!((code, error_code(&doc)), (9, "net_not_running"), "{doc}");
    assert!(
        doc["error"]["message"]
            .as_str()
            .unwrap()
            .contains("tailscaled is not running"),
        "{doc}"
    );

    // A daemon that answers but is logged out is no better.
    host.start_daemon();
    let (doc, code, _) = host.play(&[ok]);
    assert_eq!((code, error_code(&doc)), (9, "net_not_running"), "{doc}");
    assert_eq!(doc["error"]["backend_state"], "NeedsLogin", "{doc}");
    assert!(!marker.exists(), "no ansible-playbook process was started");
}

#[test]
fn play_runs_a_real_playbook_over_a_running_network_and_reports_the_recap() {
    let mut host = Host::new();
    host.join();
    let ok = playbook("ok.yml");
    let (doc, code, stderr) = host.play(&[ok.to_str().unwrap(), "--", "-e", "greeting=hello"]);
    assert_eq!(code, 0, "{doc}\n{stderr}");
    assert_eq!(
        (doc["ansible_rc"].as_i64(), doc["changed"].as_bool()),
        (Some(0), Some(true))
    );
    let recap = &doc["recap"]["localhost"];
    assert_eq!(
        [
            &recap["ok"],
            &recap["changed"],
            &recap["skipped"],
            &recap["failed"],
            &recap["unreachable"]
        ],
        [3, 1, 1, 0, 0],
        "{doc}"
    );
    assert_eq!(doc["network"]["backend_state"], "Running", "{doc}");
    assert!(
        stderr.contains("PLAY RECAP") && stderr.contains("TASK [a change]"),
        "ansible's own output is streamed to stderr: {stderr}"
    );
    let (history, _) = host.net.json(&["state", "history", "--command", "play"]);
    assert_eq!(history["entries"][0]["result"], "ok", "{history}");
    assert_eq!(history["entries"][0]["changed"], true, "{history}");
}

#[test]
fn a_failing_playbook_exits_10_with_ansible_rc_and_the_recap() {
    let mut host = Host::new();
    host.join();
    let fail = playbook("fail.yml");
    let (doc, code, stderr) = host.play(&[fail.to_str().unwrap()]);
    assert_eq!(
        (code, error_code(&doc)),
        (10, "play_failed"),
        "{doc}\n{stderr}"
    );
    let err = &doc["error"];
    assert_eq!(err["ansible_rc"], 2, "{doc}");
    assert_eq!(
        (
            err["recap"]["localhost"]["failed"].as_u64(),
            err["recap"]["localhost"]["ok"].as_u64()
        ),
        (Some(1), Some(1)),
        "{doc}"
    );
    let message = err["message"].as_str().unwrap();
    assert!(
        message.contains("ansible-playbook exit code 2")
            && message.contains("failed on localhost: boom"),
        "{doc}"
    );

    // The human summary says the same.
    let out = host
        .net
        .pm()
        .args(["play", fail.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(10));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("pm: error: playbook") && stderr.contains("exit code 2"),
        "{stderr}"
    );

    let missing = host.play(&["/nonexistent/site.yml"]);
    assert_eq!(
        (missing.1, error_code(&missing.0)),
        (4, "not_found"),
        "{}",
        missing.0
    );
}
