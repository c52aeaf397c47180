//! The pm.platform Ansible collection (`ansible/`): built offline with
//! `ansible-galaxy collection build`, installed from the tarball into a
//! temporary collections path, checked by `ansible-test sanity` with no
//! network (a namespace of its own), and its modules and lookup run by the
//! real ansible-core 2.19 against pm. Also the helpers every playbook test
//! uses: the environment ansible-playbook runs in, and its recap read as
//! JSON (`tests/cli/ansible/callback_plugins/recap_json.py`).

use crate::bw_fixture::{AUTHKEY, GITHUB_PASSWORD, MASTER_PASSWORD};
use crate::net::Net;
use crate::rootfs::{example_tar, hostile_tar};
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Instant;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A program of `.tools/venv-ansible` (scripts/test-linux.sh installs it).
pub fn ansible_tool(name: &str) -> PathBuf {
    let path = repo().join(".tools/venv-ansible/bin").join(name);
    assert!(
        path.is_file(),
        "ansible-core is not installed: run `bash scripts/test-linux.sh` (it installs ansible-core==2.19.* into .tools/venv-ansible)"
    );
    path
}

/// The built tarball and the collections path it was installed into.
pub struct Installed {
    pub tarball: PathBuf,
    pub collections: PathBuf,
    pub build_log: String,
}

/// Builds `ansible/` and installs the tarball, once per test process, into
/// `/tmp/pm-collection-<pid>`, outside the repository: ansible-test lists a
/// collection's files with git when it sits in a work tree, and would find
/// none of an ignored directory's. Removed at exit (and, should a process
/// have been killed, by the next one).
pub fn installed() -> &'static Installed {
    static INSTALLED: OnceLock<Installed> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let started = Instant::now();
        for entry in std::fs::read_dir("/tmp").into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(pid) = name.strip_prefix("pm-collection-")
                && !Path::new("/proc").join(pid).exists()
            {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        let root = PathBuf::from(format!("/tmp/pm-collection-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        let galaxy = |args: &[&str]| {
            let out = Command::new(ansible_tool("ansible-galaxy"))
                .args(args)
                .current_dir(&root)
                .env("ANSIBLE_HOME", root.join("home"))
                .env("LC_ALL", "C.UTF-8")
                .env("ANSIBLE_NOCOLOR", "1")
                .output()
                .expect("run ansible-galaxy");
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(out.status.success(), "ansible-galaxy {args:?}:\n{text}");
            text
        };
        let source = repo().join("ansible");
        let dist = root.join("dist");
        let mut log = galaxy(&[
            "collection",
            "build",
            source.to_str().unwrap(),
            "--output-path",
            dist.to_str().unwrap(),
        ]);
        let tarball = dist.join(format!("pm-platform-{}.tar.gz", env!("CARGO_PKG_VERSION")));
        assert!(tarball.is_file(), "no {}: {log}", tarball.display());
        let collections = root.join("collections");
        log += &galaxy(&[
            "collection",
            "install",
            tarball.to_str().unwrap(),
            "-p",
            collections.to_str().unwrap(),
        ]);
        // SAFETY: registers a plain extern "C" function with no arguments.
        unsafe { libc::atexit(remove_at_exit) };
        eprintln!(
            "ansible: collection built and installed in {:.1?}",
            started.elapsed()
        );
        Installed {
            tarball,
            collections,
            build_log: log,
        }
    })
}

extern "C" fn remove_at_exit() {
    let _ = std::fs::remove_dir_all(format!("/tmp/pm-collection-{}", std::process::id()));
}

/// The environment of an ansible-playbook run whose files live in `dir`:
/// its own Ansible home and temp dirs, a UTF-8 locale, the installed
/// collection, the recap_json stdout callback, and pm as `PM`.
pub fn ansible_env(cmd: &mut Command, dir: &Path) {
    let ans = dir.join("ansible");
    cmd.env("ANSIBLE_HOME", &ans)
        .env("ANSIBLE_LOCAL_TEMP", ans.join("tmp"))
        .env("ANSIBLE_REMOTE_TEMP", ans.join("rtmp"))
        .env("LC_ALL", "C.UTF-8")
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_LOCALHOST_WARNING", "false")
        .env("ANSIBLE_INVENTORY_UNPARSED_WARNING", "false")
        .env("ANSIBLE_COLLECTIONS_PATH", &installed().collections)
        .env(
            "ANSIBLE_CALLBACK_PLUGINS",
            repo().join("tests/cli/ansible/callback_plugins"),
        )
        .env("ANSIBLE_STDOUT_CALLBACK", "recap_json")
        .env("PM", assert_cmd::cargo::cargo_bin("pm"))
        .current_dir(dir);
}

/// One ansible-playbook run: the recap_json document and what it printed.
pub struct Run {
    pub doc: Value,
    pub rc: i32,
    pub stdout: String,
    pub stderr: String,
    pub secs: f64,
}

impl Run {
    /// Runs `cmd` (an ansible-playbook command line, maybe behind
    /// `ip netns exec`).
    pub fn of(mut cmd: Command) -> Run {
        let started = Instant::now();
        let out = cmd
            .stdin(Stdio::null())
            .output()
            .expect("run ansible-playbook");
        let secs = started.elapsed().as_secs_f64();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let doc = stdout
            .lines()
            .rev()
            .find(|l| l.starts_with('{'))
            .and_then(|l| serde_json::from_str(l).ok())
            .unwrap_or_else(|| panic!("no recap document:\n{stdout}\n{stderr}"));
        Run {
            doc,
            rc: out.status.code().unwrap_or(-1),
            stdout,
            stderr,
            secs,
        }
    }

    /// localhost's recap: ok, changed, failures, skipped, ...
    pub fn recap(&self) -> &Value {
        &self.doc["stats"]["localhost"]
    }

    pub fn count(&self, what: &str) -> u64 {
        self.recap()[what]
            .as_u64()
            .unwrap_or_else(|| panic!("no {what} in the recap: {}", self.doc))
    }

    /// The names of the tasks with this status.
    pub fn tasks(&self, status: &str) -> Vec<String> {
        self.doc["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["status"] == status)
            .map(|t| t["task"].as_str().unwrap().to_string())
            .collect()
    }

    /// The last result of the task with this name.
    pub fn task(&self, name: &str) -> &Value {
        self.doc["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .rev()
            .find(|t| t["task"] == name)
            .unwrap_or_else(|| panic!("no task {name:?}: {}", self.doc))
    }

    /// The tasks that took a second or more, slowest first, for the log.
    pub fn slow_tasks(&self) -> String {
        let mut tasks: Vec<(f64, String)> = self.doc["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|t| Some((t["secs"].as_f64()?, t["task"].as_str()?.to_string())))
            .filter(|(secs, _)| *secs >= 1.0)
            .collect();
        tasks.sort_by(|a, b| b.0.total_cmp(&a.0));
        tasks
            .iter()
            .map(|(secs, task)| format!("{task} {secs:.1}s"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Everything ansible-playbook printed, for the failure messages.
    pub fn printed(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

fn playbook(name: &str) -> PathBuf {
    repo().join("tests/cli/ansible").join(name)
}

// ---------------------------------------------------------------- tests

#[test]
fn the_collection_builds_offline_and_its_version_is_pms() {
    let installed = installed();
    assert!(installed.tarball.is_file());
    let root = installed
        .collections
        .join("ansible_collections/pm/platform");
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(root.join("MANIFEST.json")).unwrap()).unwrap();
    assert_eq!(
        manifest["collection_info"]["version"],
        env!("CARGO_PKG_VERSION"),
        "ansible/galaxy.yml's version follows Cargo.toml's"
    );
    for plugin in [
        "plugins/modules/pm_image.py",
        "plugins/modules/pm_net.py",
        "plugins/modules/pm_provider.py",
        "plugins/modules/pm_facts.py",
        "plugins/lookup/pm_vault_lookup.py",
        "plugins/module_utils/pm.py",
        "plugins/doc_fragments/pm.py",
    ] {
        assert!(root.join(plugin).is_file(), "{plugin} is in the tarball");
    }
    // ansible-doc renders every plugin from the installed copy.
    for (kind, name) in [
        ("module", "pm_image"),
        ("module", "pm_net"),
        ("module", "pm_provider"),
        ("module", "pm_facts"),
        ("lookup", "pm_vault_lookup"),
    ] {
        let out = Command::new(ansible_tool("ansible-doc"))
            .args(["-t", kind, "--json", &format!("pm.platform.{name}")])
            .env("ANSIBLE_COLLECTIONS_PATH", &installed.collections)
            .env("ANSIBLE_HOME", installed.collections.join("../home"))
            .env("LC_ALL", "C.UTF-8")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "ansible-doc {name}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let doc: Value = serde_json::from_str(&text).unwrap();
        let entry = &doc[format!("pm.platform.{name}")];
        assert!(entry["doc"]["options"].is_object(), "{name}: {doc}");
        assert!(
            entry["examples"].as_str().is_some_and(|e| e.contains(name)),
            "{name} has examples"
        );
    }
    assert!(
        !installed.build_log.contains("WARNING")
            || installed.build_log.contains("collections path"),
        "{}",
        installed.build_log
    );
}

/// `ansible-test sanity` on the installed collection: every test it has
/// that applies (compile, import of every module and plugin, pylint, pep8,
/// validate-modules, which checks that DOCUMENTATION and the argument spec
/// agree, yamllint, ...), in a network namespace with no interface up, so
/// nothing is downloaded: scripts/test-linux.sh prepared its virtual
/// environments beforehand (`.tools/ansible-test-home`). A copy with an
/// undocumented option must then fail validate-modules.
#[test]
fn ansible_test_sanity_passes_offline_and_catches_an_undocumented_option() {
    let installed = installed();
    let home = repo().join(".tools/ansible-test-home");
    assert!(
        home.join(".ansible/test/venv").is_dir(),
        "ansible-test's sanity environments are not prepared: run `bash scripts/test-linux.sh`"
    );
    // The Python of the venv, as scripts/test-linux.sh made the
    // environments for.
    let out = Command::new(ansible_tool("python"))
        .args(["-c", "import sys; print('%d.%d' % sys.version_info[:2])"])
        .output()
        .unwrap();
    let python = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let sanity = |dir: &Path, extra: &[&str]| {
        let started = Instant::now();
        let out = Command::new("unshare")
            .arg("--net")
            .arg(ansible_tool("ansible-test"))
            .args(["sanity", "--local", "--python", &python, "--color", "no"])
            .args(extra)
            .current_dir(dir)
            .env("HOME", &home)
            .env("ANSIBLE_HOME", dir.join("tests/output/home"))
            .env("LC_ALL", "C.UTF-8")
            .output()
            .expect("run unshare");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        eprintln!(
            "ansible: ansible-test sanity {extra:?} in {:.1?}",
            started.elapsed()
        );
        (out.status.success(), text)
    };
    let root = installed
        .collections
        .join("ansible_collections/pm/platform");
    let (ok, text) = sanity(&root, &[]);
    assert!(ok, "ansible-test sanity failed:\n{text}");
    for test in [
        "compile",
        "import",
        "pylint",
        "pep8",
        "validate-modules",
        "yamllint",
        "ansible-doc",
    ] {
        assert!(
            text.contains(&format!("Running sanity test \"{test}\"")),
            "{test} ran:\n{text}"
        );
    }
    assert!(
        !text.contains("Installing requirements") && !text.contains("Downloading"),
        "the environments were ready, nothing was installed:\n{text}"
    );

    // The same check on a copy whose pm_net takes an option its
    // DOCUMENTATION does not have.
    let copy = installed
        .collections
        .join("../drift/ansible_collections/pm/platform");
    let _ = std::fs::remove_dir_all(&copy);
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    let status = Command::new("cp")
        .arg("-a")
        .arg(&root)
        .arg(&copy)
        .status()
        .unwrap();
    assert!(status.success());
    let _ = std::fs::remove_dir_all(copy.join("tests/output"));
    let module = copy.join("plugins/modules/pm_net.py");
    let code = std::fs::read_to_string(&module).unwrap();
    let drifted = code.replace(
        "hostname=dict(type=\"str\"),",
        "hostname=dict(type=\"str\"),\n        undocumented=dict(type=\"str\"),",
    );
    assert_ne!(code, drifted, "the argument spec names hostname");
    std::fs::write(&module, drifted).unwrap();
    let (ok, text) = sanity(&copy, &["--test", "validate-modules"]);
    assert!(
        !ok && text.contains("pm_net.py") && text.contains("undocumented-parameter"),
        "validate-modules caught the drift:\n{text}"
    );
}

/// Every module and the lookup against pm: check mode predicts and
/// changes nothing, `changed` is pm's, a failure carries pm's code, hint
/// and retryable, a busy lock is retried by `until` because pm says it is
/// retryable, a master password reaches pm through its environment, the
/// lookup's value stays out of every output.
#[test]
fn the_modules_wrap_pm_with_check_mode_and_pms_errors() {
    let net = Net::new(AUTHKEY);
    net.lock_vault();
    let dir = net.sb.path();
    std::fs::write(dir.join("root.tar"), example_tar()).unwrap();
    std::fs::write(dir.join("hostile.tar"), hostile_tar()).unwrap();

    // A second state whose lock another pm holds for the whole run.
    let busy = dir.join("busy/state.db");
    let mut holder = net
        .pm_std()
        .env("PM_STATE", &busy)
        .env("PM_FAILPOINTS", "lock_held=pause")
        .args(["state", "prune", "--older-than", "1000days"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(holder.stderr.take().unwrap());
    crate::support::wait_for_line(&mut stderr, "failpoint lock_held paused");

    let mut cmd = Command::new(ansible_tool("ansible-playbook"));
    for (key, value) in net.pm_std().get_envs() {
        match value {
            Some(value) => cmd.env(key, value),
            None => cmd.env_remove(key),
        };
    }
    ansible_env(&mut cmd, dir);
    cmd.env("PM_TEST_MASTER_PASSWORD", MASTER_PASSWORD);
    cmd.arg("-i")
        .arg(repo().join("examples/ansible/inventory.ini"))
        .arg(playbook("modules.yml"))
        .arg("-e")
        .arg(format!(
            "dir={} busy_state={}",
            dir.display(),
            busy.display()
        ));
    let run = Run::of(cmd);
    drop(holder.stdin.take());
    assert!(holder.wait().unwrap().success());
    eprintln!(
        "ansible: modules.yml in {:.1}s (slowest: {})",
        run.secs,
        run.slow_tasks()
    );
    let printed = run.printed();
    assert_eq!(run.rc, 0, "{printed}");
    assert_eq!(run.count("failures"), 0, "{printed}");

    // The failures the playbook provoked, as the tasks saw them.
    let rejected = run.task("validate a hostile image");
    assert_eq!(rejected["status"], "ignored", "{rejected}");
    assert_eq!(
        (&rejected["code"], &rejected["retryable"], &rejected["rc"]),
        (&"image_rejected".into(), &false.into(), &3.into()),
        "{rejected}"
    );
    assert!(
        rejected["msg"]
            .as_str()
            .unwrap()
            .starts_with("image rejected: 1 violation"),
        "msg is pm's message: {rejected}"
    );
    assert_eq!(
        rejected["error"]["violations"][0]["rule"], "path_traversal",
        "the whole error: {rejected}"
    );
    assert!(rejected["hint"].is_string(), "{rejected}");

    let busy = run.task("a busy lock is retried, then fails as retryable");
    assert_eq!(
        (
            &busy["status"],
            &busy["code"],
            &busy["retryable"],
            &busy["rc"]
        ),
        (
            &"ignored".into(),
            &"lock_busy".into(),
            &true.into(),
            &5.into()
        ),
        "{busy}"
    );
    assert_eq!(
        busy["attempts"], 2,
        "until retried what pm called retryable: {busy}"
    );
    let address = run.task("an address that joins nothing");
    assert_eq!(address["code"], "provider_prerequisites", "{address}");
    assert_eq!(address["retryable"], false);
    let missing = run.task("pm that is not there");
    assert_eq!(missing["code"], "pm_missing", "{missing}");
    let lookup = run.task("a missing vault item");
    assert!(
        lookup["msg"]
            .as_str()
            .unwrap()
            .contains("vault_item_not_found, retryable: false"),
        "{lookup}"
    );

    // The secret went to the file and nowhere else.
    let secret = dir.join("secret");
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), GITHUB_PASSWORD);
    assert_eq!(
        std::fs::metadata(&secret).unwrap().permissions().mode() & 0o777,
        0o600
    );
    for secret in [GITHUB_PASSWORD, MASTER_PASSWORD, AUTHKEY] {
        assert!(!printed.contains(secret), "a secret leaked: {printed}");
    }
}
