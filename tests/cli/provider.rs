//! `pm provider register|onboard|status|leave`.
//!
//! The first tests need no cluster. The last one walks every scenario
//! against the one real Ray 2.60 cluster of the test process (see
//! `ray_cluster`, which lends it to one test at a time): a head in one
//! network namespace, the provider's host in another, token auth with the
//! vault fixture's token read by the real `bw`.

use crate::bw_fixture::{BwFixture, RAY_TOKEN, RAY_TOKEN_STALE};
use crate::ray_cluster::{
    self as cluster, BLACK_HOLE, Cluster, HOST_IP, PORT, host_ns, members, raylet_of,
};
use crate::support::{Sandbox, error_code, json_of, output_document};
use serde_json::{Value, json};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn steps_of(doc: &Value) -> Vec<(String, String)> {
    doc["steps"]
        .as_array()
        .unwrap_or_else(|| panic!("no steps: {doc}"))
        .iter()
        .map(|s| {
            let outcome = s.get("outcome").or_else(|| s.get("status")).unwrap();
            (
                s["key"].as_str().unwrap().to_string(),
                outcome.as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn step<'d>(doc: &'d Value, key: &str) -> &'d Value {
    doc["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == key)
        .unwrap_or_else(|| panic!("no step {key}: {doc}"))
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

// ------------------------------------------------------------ no cluster

#[test]
fn register_makes_one_id_and_updates_only_what_changed() {
    let sb = Sandbox::new();
    let (dry, code) =
        json_of(
            sb.pm()
                .args(["provider", "register", "--username", "ops", "--dry-run"]),
        );
    assert_eq!((code, dry["changed"].as_bool()), (0, Some(true)), "{dry}");
    // A prediction, like the image commands' dry runs: no state file is
    // made on a fresh host, and no lock is taken.
    let state = sb.path().join("state/state.db");
    assert!(!state.exists(), "a dry run made {}", state.display());
    assert!(!sb.path().join("state/state.db.provider.lock").exists());
    let (status, _) = json_of(sb.pm().args(["provider", "status"]));
    assert_eq!(status["registered"], false, "a dry run registers nothing");

    let (first, code) = json_of(sb.pm().args(["provider", "register", "--username", "ops"]));
    assert_eq!(code, 0, "{first}");
    assert_eq!(
        (first["changed"].as_bool(), first["created"].as_bool()),
        (Some(true), Some(true))
    );
    let id = first["provider"]["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("prov-") && id.len() == 21, "{id}");
    let platform = &first["provider"]["platform"];
    assert_eq!(platform["os"], std::env::consts::OS);
    assert!(platform["cpus"].as_u64().unwrap() >= 1);
    assert!(platform["memory_bytes"].as_u64().unwrap() > 0);
    assert!(
        platform["python"].as_str().unwrap().starts_with("3."),
        "{platform}"
    );
    assert_eq!(first["provider"]["status"], "inactive");

    let (again, _) = json_of(sb.pm().args(["provider", "register", "--username", "ops"]));
    assert_eq!(again["changed"], false, "{again}");
    assert_eq!(again["provider"]["id"], id.as_str(), "the id is made once");

    let (renamed, _) = json_of(sb.pm().args(["provider", "register", "--username", "ops2"]));
    assert_eq!(renamed["changed"], true);
    assert_eq!(renamed["updated"], serde_json::json!(["username"]));
    assert_eq!(renamed["provider"]["id"], id.as_str());

    let (status, code) = json_of(sb.pm().args(["provider", "status"]));
    assert_eq!(code, 0);
    assert_eq!(status["provider"]["username"], "ops2");
    assert_eq!(status["node"], Value::Null);
}

#[test]
fn onboard_refuses_an_unregistered_host_and_an_unknown_step() {
    let sb = Sandbox::new();
    let (doc, code) = json_of(sb.pm().args(["provider", "onboard"]));
    assert_eq!((error_code(&doc), code), ("provider_not_registered", 9));
    json_of(sb.pm().args(["provider", "register"]));
    let (doc, code) = json_of(
        sb.pm()
            .args(["provider", "onboard"])
            .env("PM_PROVIDER_STEPS", "prereqs,ray-joyn"),
    );
    assert_eq!((error_code(&doc), code), ("usage", 2), "{doc}");
    assert!(doc["error"]["hint"].as_str().unwrap().contains("ray-join"));
}

/// The `net` step is `pm net up`, in-process: against the tailscale
/// stand-ins and the vault fixture it joins the tailnet, and its check
/// (`pm net status`) then finds it done.
#[test]
fn the_net_step_brings_the_tailnet_up_in_process() {
    let net = crate::net::Net::new(crate::bw_fixture::AUTHKEY);
    let (doc, code) = net.json(&["provider", "register"]);
    assert_eq!(code, 0, "{doc}");
    let (doc, code) = net.json(&["provider", "onboard", "--only", "net"]);
    assert_eq!(code, 0, "{doc}");
    let net_step = |doc: &Value| {
        doc["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["key"] == "net")
            .cloned()
            .unwrap()
    };
    assert_eq!(net_step(&doc)["outcome"], json!("acted"), "{doc}");
    let (status, _) = net.json(&["net", "status"]);
    assert_eq!(status["connected"], true, "{status}");
    let (doc, code) = net.json(&["provider", "onboard", "--only", "net"]);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(net_step(&doc)["outcome"], "already_done", "{doc}");
}

#[test]
fn an_address_that_would_join_nothing_fails_the_prerequisites() {
    let sb = Sandbox::new();
    json_of(sb.pm().args(["provider", "register"]));
    for (address, words) in [
        ("", "empty"),
        (":6379", "not a name or IP"),
        ("ray://h:10001", "ray://"),
    ] {
        let (doc, code) = json_of(
            sb.pm()
                .args(["provider", "onboard"])
                .env("PM_PROVIDER_STEPS", "prereqs")
                .env("PM_PROVIDER_CLUSTER_ADDRESS", address),
        );
        assert_eq!(
            (error_code(&doc), code),
            ("provider_prerequisites", 9),
            "{doc}"
        );
        let failures = doc["error"]["failures"].to_string();
        assert!(failures.contains(words), "{address:?}: {failures}");
    }
}

/// A private index's credentials stay out of pip's argv, pm's debug log
/// and the error: pm hands the URL to pip as PIP_INDEX_URL.
#[test]
fn the_package_index_url_reaches_pip_only_in_its_environment() {
    let sb = Sandbox::new();
    json_of(sb.pm().args(["provider", "register"]));
    let out = sb
        .pm()
        .args(["-vv", "provider", "onboard", "--only", "python-env"])
        .env("PM_PROVIDER_PYTHON", cluster::ray_venv().join("bin/python"))
        .env("PM_PROVIDER_VENV", sb.path().join("venv"))
        .env(
            "PM_PROVIDER_INDEX_URL",
            "http://ops:idx-s3cr3t@127.0.0.1:9/simple",
        )
        .env("PIP_RETRIES", "0")
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(!out.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains("provider_pip_start"), "{stderr}");
    assert!(
        !stdout.contains("idx-s3cr3t") && !stderr.contains("idx-s3cr3t"),
        "{stdout}\n{stderr}"
    );
}

/// Every provider setting is a config key `pm config show` lists; the
/// steps are a TOML array in the file, a comma-separated list in the
/// environment.
#[test]
fn the_steps_and_every_provider_setting_are_config_keys() {
    let sb = Sandbox::new();
    let file = sb.path().join("pm.toml");
    std::fs::write(
        &file,
        "[provider]\nsteps = [\"prereqs\", \"ray-join\"]\ncluster_address = \"10.0.0.1:6379\"\n",
    )
    .unwrap();
    let (doc, code) = json_of(sb.pm().args(["config", "show", "--config"]).arg(&file));
    assert_eq!(code, 0, "{doc}");
    let setting = |key: &str| {
        doc["settings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["key"] == key)
            .unwrap_or_else(|| panic!("{key} is not in config show"))
            .clone()
    };
    assert_eq!(
        setting("provider.steps")["value"],
        serde_json::json!(["prereqs", "ray-join"])
    );
    assert_eq!(setting("provider.steps")["source"]["kind"], "file");
    for key in [
        "provider.cluster_address",
        "provider.token_item",
        "provider.token_field",
        "provider.auth_mode",
        "provider.venv",
        "provider.ray_version",
        "provider.python",
        "provider.retry_attempts",
        "provider.verify_hold",
    ] {
        setting(key);
    }
    let (doc, _) = json_of(
        sb.pm()
            .args(["config", "show"])
            .env("PM_PROVIDER_STEPS", "prereqs, verify"),
    );
    let steps = doc["settings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == "provider.steps")
        .unwrap();
    assert_eq!(steps["value"], serde_json::json!(["prereqs", "verify"]));
    std::fs::write(&file, "[provider]\nsteps = \"prereqs\"\n").unwrap();
    let (doc, code) = json_of(sb.pm().args(["config", "show", "--config"]).arg(&file));
    assert_eq!((error_code(&doc), code), ("config_invalid", 2), "{doc}");
}

/// Two onboardings of one host never interleave: the provider lock is held
/// for the whole of one, and the other says whom it waited for.
#[test]
fn a_second_onboarding_waits_for_the_provider_lock() {
    use std::io::BufReader;
    let sb = Sandbox::new();
    json_of(sb.pm().args(["provider", "register"]));
    let mut holder = sb
        .pm_std()
        .args(["provider", "onboard", "--only", "prereqs"])
        .env("PM_PROVIDER_CLUSTER_ADDRESS", "192.0.2.10:6379")
        .env("PM_FAILPOINTS", "lock_held=pause")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(holder.stderr.take().unwrap());
    crate::support::wait_for_line(&mut stderr, "failpoint lock_held paused");
    let (doc, code) = json_of(sb.pm().args(["provider", "leave", "--lock-timeout", "0"]));
    assert_eq!((error_code(&doc), code), ("lock_busy", 5), "{doc}");
    assert!(
        doc["error"]["message"]
            .as_str()
            .unwrap()
            .contains("the provider lock")
    );
    assert!(
        doc["error"]["holder"]
            .as_str()
            .unwrap()
            .contains("pm provider onboard"),
        "{doc}"
    );
    drop(holder.stdin.take());
    assert!(holder.wait().unwrap().success());
}

#[test]
fn leave_with_nothing_to_leave_changes_nothing() {
    let sb = Sandbox::new();
    let (doc, code) = json_of(sb.pm().args(["provider", "leave"]));
    assert_eq!(
        (code, doc["changed"].as_bool(), &doc["provider"]),
        (0, Some(false), &Value::Null)
    );
    json_of(sb.pm().args(["provider", "register"]));
    let (doc, _) = json_of(sb.pm().args(["provider", "leave"]));
    assert_eq!(doc["changed"], false, "{doc}");
    assert_eq!(doc["status"], "inactive");
}

// ------------------------------------------------------- the Ray cluster

/// bw on the fixture, with the session cached for every host.
struct Vault {
    fixture: BwFixture,
    session_dir: PathBuf,
}

impl Vault {
    fn new(cluster: &Cluster) -> Vault {
        let fixture = BwFixture::unlocked(&cluster.dir("bw"));
        let session_dir = cluster.dir("run/pm");
        std::fs::set_permissions(&session_dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        let file = session_dir.join("vault-session");
        std::fs::write(&file, fixture.session.as_deref().expect("unlocked")).unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        Vault {
            fixture,
            session_dir,
        }
    }
}

fn bw_program() -> PathBuf {
    let local = Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/node/node_modules/.bin/bw");
    assert!(
        local.is_file(),
        "bw is not installed: run `bash scripts/test-linux.sh`"
    );
    local
}

/// One provider host: its own state, temp dir and settings, pm run inside
/// the host's network namespace.
struct Host {
    dir: PathBuf,
    env: Vec<(String, String)>,
    /// Everything pm printed, checked for the token at the end.
    printed: std::cell::RefCell<Vec<u8>>,
}

impl Host {
    fn new(cluster: &Cluster, vault: &Vault, name: &str) -> Host {
        let dir = cluster.dir(name);
        let s = |v: &Path| v.display().to_string();
        let mut env = cluster::provider_env(&cluster.scratch.path().join("venv"));
        env.extend([
            ("PM_STATE", s(&dir.join("state.db"))),
            (
                "PM_PROVIDER_STEPS",
                "prereqs,python-env,ray-join,verify".to_string(),
            ),
            ("PM_VAULT_BW_PATH", s(&bw_program())),
            ("PM_VAULT_DATA_DIR", s(&vault.fixture.dir)),
            ("PM_VAULT_SESSION_DIR", s(&vault.session_dir)),
        ]);
        Host {
            env: env.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            dir,
            printed: std::cell::RefCell::new(Vec::new()),
        }
    }

    fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_string(), value.into()));
        self
    }

    fn temp_dir(&self) -> PathBuf {
        self.dir.join("provider/ray")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &host_ns()])
            .arg(assert_cmd::cargo::cargo_bin("pm"))
            .args(args);
        for (key, _) in std::env::vars() {
            if key.starts_with("PM_")
                || key.starts_with("XDG_")
                || key.starts_with("RAY_")
                || key == "BW_SESSION"
            {
                cmd.env_remove(key);
            }
        }
        cmd.env("HOME", &self.dir)
            .env("XDG_RUNTIME_DIR", self.dir.join("run"));
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd
    }

    fn run(&self, args: &[&str], extra: &[(&str, &str)]) -> Output {
        let out = self
            .command(args)
            .envs(extra.iter().copied())
            .output()
            .expect("run pm");
        let mut printed = self.printed.borrow_mut();
        printed.extend_from_slice(&out.stdout);
        printed.extend_from_slice(&out.stderr);
        out
    }

    /// `pm ARGS --json`: the one JSON document and the exit code.
    fn json(&self, args: &[&str]) -> (Value, i32) {
        self.json_with(args, &[])
    }

    fn json_with(&self, args: &[&str], extra: &[(&str, &str)]) -> (Value, i32) {
        let mut all = args.to_vec();
        all.push("--json");
        let out = self.run(&all, extra);
        let doc = output_document(&all, &out);
        (doc, out.status.code().unwrap_or(-1))
    }

    fn onboard(&self) -> (Value, i32) {
        let started = Instant::now();
        let (doc, code) = self.json(&["provider", "onboard"]);
        let steps: Vec<String> = doc["steps"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| {
                format!(
                    "{} {}ms",
                    s["key"].as_str().unwrap_or("?"),
                    s["duration_ms"]
                )
            })
            .collect();
        eprintln!(
            "ray:   onboard {:.1?}: {}",
            started.elapsed(),
            steps.join(", ")
        );
        (doc, code)
    }

    /// Neither token ever shows in what pm printed, in its state file, or
    /// on any command line of the node.
    fn assert_no_token_leaked(&self) {
        let mut haystack = self.printed.borrow().clone();
        for file in ["state.db", "state.db-wal"] {
            haystack.extend(std::fs::read(self.dir.join(file)).unwrap_or_default());
        }
        for (pid, _) in cluster::processes_under(&self.dir) {
            haystack.extend(std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default());
        }
        let text = String::from_utf8_lossy(&haystack);
        for token in [RAY_TOKEN, RAY_TOKEN_STALE] {
            assert!(!text.contains(token), "the Ray token leaked");
        }
    }
}

/// Every scenario the issue names, against one head (and a bystander Ray
/// node for `leave`). Prints the time each took.
#[test]
fn ray_onboarding_against_a_real_cluster() {
    let started = Instant::now();
    let cluster = cluster::lease("provider::ray_onboarding_against_a_real_cluster");
    let vault = Vault::new(&cluster);
    let a = Host::new(&cluster, &vault, "a");
    let timed = |name: &str, scenario: &dyn Fn()| {
        let t = Instant::now();
        scenario();
        eprintln!("ray: {name} took {:.1?}", t.elapsed());
    };
    timed("fresh onboard", &|| {
        fresh_onboard_joins_the_cluster(&cluster, &a)
    });
    timed("re-run", &|| a_rerun_changes_nothing(&cluster, &a));
    let bystander = cluster.start_bystander();
    timed("leave", &|| {
        leave_stops_only_this_providers_node(&cluster, &a, bystander)
    });
    timed("kill mid-join + resume", &|| {
        a_kill_mid_join_resumes_without_acting_twice(&cluster, &a)
    });
    timed("unreachable head", &|| {
        an_unreachable_head_fails_fast_with_the_transient_code(&cluster, &vault)
    });
    timed("wrong token", &|| {
        a_wrong_token_fails_with_the_auth_code(&cluster, &vault)
    });
    timed("python mismatch", &|| {
        a_python_unlike_the_heads_is_refused_before_ray_start(&cluster, &vault)
    });
    a.assert_no_token_leaked();
    cluster.stop_node(bystander);
    eprintln!("ray: all scenarios in {:.1?}", started.elapsed());
}

fn fresh_onboard_joins_the_cluster(cluster: &Cluster, a: &Host) {
    let (doc, code) = a.json(&["provider", "register", "--username", "ops"]);
    assert_eq!(code, 0, "{doc}");

    let (dry, code) = a.json(&["provider", "onboard", "--dry-run"]);
    assert_eq!(code, 0, "{dry}");
    assert_eq!(
        steps_of(&dry),
        pairs(&[
            ("prereqs", "already_done"),
            ("python-env", "would_act"),
            ("ray-join", "would_act"),
            ("verify", "would_act"),
        ]),
        "{dry}"
    );
    assert_eq!(
        (dry["changed"].as_bool(), &dry["session"]),
        (Some(true), &Value::Null)
    );
    assert!(
        !cluster.scratch.path().join("venv").exists(),
        "a dry run makes no venv"
    );

    let (doc, code) = a.onboard();
    assert_eq!(code, 0, "{doc}");
    assert_eq!(
        steps_of(&doc),
        pairs(&[
            ("prereqs", "already_done"),
            ("python-env", "acted"),
            ("ray-join", "acted"),
            ("verify", "acted"),
        ]),
        "{doc}"
    );
    let node_id = doc["node"]["node_id"].as_str().unwrap().to_string();
    assert_eq!(doc["node"]["node_ip"], HOST_IP);
    assert!(
        step(&doc, "verify")["detail"]["held_secs"]
            .as_u64()
            .unwrap()
            >= 2
    );

    // The head's own view, asked from its namespace: two nodes, ALIVE.
    let alive = cluster.alive_nodes();
    assert_eq!(alive.len(), 2, "{alive:?}");
    assert!(
        alive
            .iter()
            .any(|n| n["node_id"] == node_id.as_str() && n["ip"] == HOST_IP)
    );

    let token_file = a.dir.join("provider/ray-auth-token");
    let mode = std::fs::metadata(&token_file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);

    let (status, _) = a.json(&["provider", "status"]);
    assert_eq!(status["provider"]["status"], "active", "{status}");
    assert_eq!(
        (
            status["node"]["node_id"].as_str(),
            status["node"]["running"].as_bool()
        ),
        (Some(node_id.as_str()), Some(true))
    );
    assert!(
        status["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["status"] == "done" || s["status"] == "skipped")
    );
}

fn a_rerun_changes_nothing(cluster: &Cluster, a: &Host) {
    let (again, code) = a.onboard();
    assert_eq!(code, 0, "{again}");
    assert_eq!(again["changed"], false, "{again}");
    assert!(
        steps_of(&again)
            .iter()
            .all(|(_, outcome)| outcome == "already_done"),
        "{again}"
    );
    assert_eq!(cluster.alive_nodes().len(), 2);
}

fn leave_stops_only_this_providers_node(cluster: &Cluster, a: &Host, bystander: i32) {
    let (raylet, group, node_id) = raylet_of(&a.temp_dir()).expect("a's raylet");
    let others: Vec<i32> = [cluster.head_group, bystander]
        .into_iter()
        .flat_map(members)
        .collect();
    assert!(
        others.len() >= 6,
        "the head's and the bystander's processes: {others:?}"
    );
    assert_eq!(cluster.alive_nodes().len(), 3, "head, bystander, a");

    let (dry, _) = a.json(&["provider", "leave", "--dry-run"]);
    assert_eq!(dry["changed"], true);
    assert!(
        dry["stopped"]["pids"]
            .as_array()
            .unwrap()
            .contains(&raylet.into())
    );
    assert_eq!(
        members(group).len(),
        dry["stopped"]["pids"].as_array().unwrap().len(),
        "nothing stopped yet"
    );

    let (left, code) = a.json(&["provider", "leave"]);
    assert_eq!(code, 0, "{left}");
    assert_eq!(
        (
            left["changed"].as_bool(),
            left["cluster_confirmed"].as_bool()
        ),
        (Some(true), Some(true)),
        "{left}"
    );
    assert!(members(group).is_empty(), "the node's processes are gone");
    let stopped: Vec<i64> = left["stopped"]["pids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_i64().unwrap())
        .collect();
    for pid in &others {
        assert!(
            !stopped.contains(&i64::from(*pid)),
            "pm signalled another node's process {pid}"
        );
        assert!(
            cluster::group_of(*pid).is_some(),
            "process {pid} of another Ray node was stopped"
        );
    }
    let nodes = cluster.nodes();
    let ours = nodes
        .iter()
        .find(|n| n["node_id"] == node_id.as_str())
        .expect("a's node is listed (dead)");
    assert_eq!(ours["alive"], false, "{nodes:?}");
    assert_eq!(
        cluster.alive_nodes().len(),
        2,
        "the head and the bystander stay"
    );
    assert!(!a.dir.join("provider/ray-auth-token").exists());

    let (status, _) = a.json(&["provider", "status"]);
    assert_eq!(
        (status["provider"]["status"].as_str(), &status["node"]),
        (Some("inactive"), &Value::Null)
    );
    let (again, _) = a.json(&["provider", "leave"]);
    assert_eq!(again["changed"], false, "leaving twice: {again}");
}

fn a_kill_mid_join_resumes_without_acting_twice(cluster: &Cluster, a: &Host) {
    let out = a.run(
        &["provider", "onboard"],
        &[("PM_FAILPOINTS", "provider_ray_started=kill")],
    );
    assert_eq!(
        out.status.signal(),
        Some(libc::SIGKILL),
        "pm died right after `ray start`"
    );
    let (raylet, _, node_id) = raylet_of(&a.temp_dir()).expect("the node ray start left running");
    let (status, _) = a.json(&["provider", "status"]);
    assert_eq!(step(&status, "ray-join")["status"], "started", "{status}");
    assert_eq!(step(&status, "ray-join")["attempts"], 1);

    let (doc, code) = a.onboard();
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["resumed"], true);
    assert_eq!(
        steps_of(&doc),
        pairs(&[
            ("prereqs", "done_earlier"),
            ("python-env", "done_earlier"),
            ("ray-join", "already_done"),
            ("verify", "acted"),
        ]),
        "{doc}"
    );
    assert_eq!(
        step(&doc, "ray-join")["attempts"],
        1,
        "checked, not acted again"
    );
    assert_eq!(
        raylet_of(&a.temp_dir()).map(|r| r.0),
        Some(raylet),
        "the same raylet: no second `ray start`"
    );
    assert_eq!(doc["node"]["node_id"], node_id.as_str());
    let ours: Vec<Value> = cluster
        .nodes()
        .into_iter()
        .filter(|n| n["temp_dir"] == a.temp_dir().display().to_string() && n["alive"] == true)
        .collect();
    assert_eq!(ours.len(), 1, "one node of this provider: {ours:?}");
    let (status, _) = a.json(&["provider", "status"]);
    assert_eq!(
        status["node"]["node_id"],
        node_id.as_str(),
        "the resumed run recorded the node"
    );
    let (left, _) = a.json(&["provider", "leave"]);
    assert_eq!(left["changed"], true);
}

fn an_unreachable_head_fails_fast_with_the_transient_code(cluster: &Cluster, vault: &Vault) {
    let b = Host::new(cluster, vault, "b").with(
        "PM_PROVIDER_CLUSTER_ADDRESS",
        format!("{BLACK_HOLE}:{PORT}"),
    );
    b.json(&["provider", "register"]);
    let started = Instant::now();
    let (doc, code) = b.onboard();
    let took = started.elapsed();
    assert_eq!(
        (error_code(&doc), code),
        ("ray_head_unreachable", 8),
        "{doc}"
    );
    assert!(took < Duration::from_secs(30), "bounded: {took:?}");
    let (status, _) = b.json(&["provider", "status"]);
    assert_eq!(step(&status, "ray-join")["status"], "failed");
    assert_eq!(
        step(&status, "ray-join")["attempts"],
        3,
        "retried with backoff: {status}"
    );
    assert!(raylet_of(&b.temp_dir()).is_none());
}

fn a_wrong_token_fails_with_the_auth_code(cluster: &Cluster, vault: &Vault) {
    let c =
        Host::new(cluster, vault, "c").with("PM_PROVIDER_TOKEN_ITEM", "ray-cluster-token-stale");
    c.json(&["provider", "register"]);
    let (doc, code) = c.onboard();
    assert_eq!((error_code(&doc), code), ("ray_auth_failed", 6), "{doc}");
    assert!(
        doc["error"]["message"]
            .as_str()
            .unwrap()
            .contains("ray-cluster-token-stale")
    );
    let (status, _) = c.json(&["provider", "status"]);
    assert_eq!(
        step(&status, "ray-join")["attempts"],
        1,
        "a refused token is not retried"
    );
    assert!(raylet_of(&c.temp_dir()).is_none());
    c.assert_no_token_leaked();
}

/// Ray compares Python to the patch level, and a node whose Python differs
/// joins and then fails jobs: pm refuses before `ray start` runs.
fn a_python_unlike_the_heads_is_refused_before_ray_start(cluster: &Cluster, vault: &Vault) {
    let head_python = python_version(&cluster::ray_venv().join("bin/python"));
    let other = other_patch_release(&head_python);
    let venv = cluster.scratch.path().join("venv-other");
    venv_sharing_ray(&other, &venv);
    let d = Host::new(cluster, vault, "d")
        .with("PM_PROVIDER_PYTHON", other.display().to_string())
        .with("PM_PROVIDER_VENV", venv.display().to_string());
    d.json(&["provider", "register"]);
    let (dry, _) = d.json(&["provider", "onboard", "--dry-run"]);
    assert_eq!(step(&dry, "python-env")["outcome"], "already_done", "{dry}");
    let (doc, code) = d.json(&["provider", "onboard", "-vv", "--log-format", "json"]);
    assert_eq!(
        (error_code(&doc), code),
        ("ray_version_mismatch", 9),
        "{doc}"
    );
    assert_eq!(doc["error"]["head"]["python"], head_python.as_str());
    assert_ne!(doc["error"]["local"]["python"], head_python.as_str());
    let (status, _) = d.json(&["provider", "status"]);
    assert_eq!(step(&status, "python-env")["status"], "skipped", "{status}");
    assert_eq!(step(&status, "python-env")["detail"]["ray"], "2.60.0");
    assert_eq!(step(&status, "ray-join")["attempts"], 1, "not retried");
    let log = String::from_utf8_lossy(&d.printed.borrow()).into_owned();
    assert!(log.contains("provider_probe_start"), "the preflight ran");
    assert!(!log.contains("provider_ray_start"), "`ray start` never ran");
    assert!(!d.temp_dir().exists(), "Ray made no temp dir");
}

/// A venv of `python` with the Ray of .tools/venv-ray (the same cp311
/// wheels, through a .pth file) and the `ray` script pip would write, so
/// that this scenario does not install Ray a second time.
fn venv_sharing_ray(python: &Path, venv: &Path) {
    let status = Command::new(python)
        .args(["-m", "venv", "--without-pip"])
        .arg(venv)
        .status()
        .unwrap();
    assert!(status.success(), "{} -m venv", python.display());
    let ray_site = std::fs::read_dir(cluster::ray_venv().join("lib"))
        .unwrap()
        .flatten()
        .map(|e| e.path().join("site-packages"))
        .find(|p| p.join("ray").is_dir())
        .expect("venv-ray's site-packages");
    let site = venv
        .join("lib")
        .join(ray_site.parent().unwrap().file_name().unwrap())
        .join("site-packages");
    std::fs::write(
        site.join("pm-test-ray.pth"),
        format!("{}\n", ray_site.display()),
    )
    .unwrap();
    let script = venv.join("bin/ray");
    let text = format!(
        "#!{}/bin/python\nimport sys\nfrom ray.scripts.scripts import main\nsys.exit(main())\n",
        venv.display()
    );
    std::fs::write(&script, text).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn python_version(python: &Path) -> String {
    let out = Command::new(python)
        .args(["-c", "import platform; print(platform.python_version())"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// An interpreter of the head's major.minor with another patch level (the
/// same wheels install into it): Debian's beside pyenv's, or another pyenv.
fn other_patch_release(version: &str) -> PathBuf {
    let minor: String = version.split('.').take(2).collect::<Vec<_>>().join(".");
    let mut candidates = vec![
        PathBuf::from(format!("/usr/bin/python{minor}")),
        PathBuf::from(format!("/usr/local/bin/python{minor}")),
    ];
    let pyenv = Path::new(&std::env::var("HOME").unwrap_or_default()).join(".pyenv/versions");
    if let Ok(entries) = std::fs::read_dir(pyenv) {
        candidates.extend(entries.flatten().map(|e| e.path().join("bin/python3")));
    }
    candidates
        .into_iter()
        .filter(|p| p.is_file())
        .find(|p| {
            let v = python_version(p);
            v.starts_with(&format!("{minor}.")) && v != version
        })
        .unwrap_or_else(|| {
            panic!("this test needs a Python {minor}.x other than {version} (Debian's python3 beside pyenv's): none found")
        })
}
