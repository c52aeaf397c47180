//! `pm vault` against the real `bw` CLI (installed by scripts/test-linux.sh)
//! on an offline fixture data directory: no server, no network.
//!
//! bw takes 1-4 s per call, so each test makes few calls and starts from the
//! state it needs (an unlocked fixture with a cached session when the test
//! is not about unlocking).

use crate::bw_fixture::{
    AUTHKEY, AUTHKEY_ID, AUTHKEY_OLD, BwFixture, DUP_IDS, GITHUB_PASSWORD, MASTER_PASSWORD,
    NON_ASCII, SERVER,
};
use crate::support::{Sandbox, document, error_code, json_of, wait_for_line};
use serde_json::Value;
use std::io::BufReader;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// The variable the tests keep the master password in, for --password-env.
const PASSWORD_VAR: &str = "FIXTURE_MASTER_PASSWORD";

/// The real bw: the one scripts/test-linux.sh installs, else one on PATH.
fn bw_program() -> PathBuf {
    let local = Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/node/node_modules/.bin/bw");
    if local.is_file() {
        return local;
    }
    let on_path = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("bw"))
            .find(|p| p.is_file())
    });
    on_path.unwrap_or_else(|| {
        panic!(
            "the real `bw` CLI is not installed: run `bash scripts/test-linux.sh` \
             (it installs @bitwarden/cli under .tools/node)"
        )
    })
}

/// A sandbox whose pm talks to the real bw on its own fixture data dir.
struct VaultSandbox {
    sb: Sandbox,
    fixture: BwFixture,
    bw: PathBuf,
}

impl VaultSandbox {
    fn new(make: fn(&Path) -> BwFixture) -> VaultSandbox {
        let sb = Sandbox::new();
        let fixture = make(&sb.path().join("bw-data"));
        VaultSandbox {
            sb,
            fixture,
            bw: bw_program(),
        }
    }

    fn locked() -> VaultSandbox {
        VaultSandbox::new(BwFixture::locked)
    }

    /// Unlocked, with the session already in pm's cache.
    fn unlocked() -> VaultSandbox {
        VaultSandbox::with_cached_session(BwFixture::unlocked)
    }

    fn with_cached_session(make: fn(&Path) -> BwFixture) -> VaultSandbox {
        let vs = VaultSandbox::new(make);
        let session = vs.fixture.session.clone().expect("unlocked fixture");
        vs.cache_session(&session);
        vs
    }

    /// Unlocked like `unlocked`, on a free (not premium) account.
    fn unlocked_free() -> VaultSandbox {
        VaultSandbox::with_cached_session(BwFixture::unlocked_free)
    }

    fn unauthenticated() -> VaultSandbox {
        VaultSandbox::new(BwFixture::unauthenticated)
    }

    fn session_dir(&self) -> PathBuf {
        self.sb.path().join("run/pm")
    }

    fn session_file(&self) -> PathBuf {
        self.session_dir().join("vault-session")
    }

    fn cached_session(&self) -> Option<String> {
        std::fs::read_to_string(self.session_file()).ok()
    }

    fn cache_session(&self, session: &str) {
        std::fs::create_dir_all(self.session_dir()).unwrap();
        std::fs::set_permissions(self.session_dir(), std::fs::Permissions::from_mode(0o700))
            .unwrap();
        std::fs::write(self.session_file(), session).unwrap();
        std::fs::set_permissions(self.session_file(), std::fs::Permissions::from_mode(0o600))
            .unwrap();
    }

    fn password_file(&self) -> PathBuf {
        let path = self.sb.path().join("master-password");
        std::fs::write(&path, format!("{MASTER_PASSWORD}\n")).unwrap();
        path
    }

    fn pm_std(&self) -> std::process::Command {
        let mut cmd = self.sb.pm_std();
        cmd.env_remove("BW_SESSION")
            .env_remove("BITWARDENCLI_APPDATA_DIR")
            .env("PM_VAULT_BW_PATH", &self.bw)
            .env("PM_VAULT_DATA_DIR", &self.fixture.dir)
            .env("PM_VAULT_SESSION_DIR", self.session_dir())
            .env(PASSWORD_VAR, MASTER_PASSWORD);
        cmd
    }

    fn pm(&self) -> assert_cmd::Command {
        assert_cmd::Command::from_std(self.pm_std())
    }

    /// `pm vault ARGS --json`: the document and the exit code.
    fn vault_json(&self, args: &[&str]) -> (Value, i32) {
        json_of(self.pm().arg("vault").args(args))
    }

    /// `pm vault get ITEM --field FIELD --json`, expected to succeed.
    fn get_value(&self, item: &str, field: &str) -> String {
        let (doc, code) = self.vault_json(&["get", item, "--field", field]);
        assert_eq!(code, 0, "{doc}");
        assert_eq!(doc["field"], field, "{doc}");
        doc["value"].as_str().expect("value").to_string()
    }
}

fn mode_of(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn status_reports_a_locked_account_and_no_session() {
    let vs = VaultSandbox::locked();
    let (doc, code) = vs.vault_json(&["status"]);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["status"], "locked");
    assert_eq!(doc["user_email"], "fixture@example.com");
    assert_eq!(doc["server"], SERVER);
    assert_eq!(doc["last_sync"], "2026-11-21T23:32:53.000Z");
    assert_eq!(doc["session"], "none");
}

#[test]
fn unlock_from_a_file_caches_an_owner_only_session_that_later_commands_reuse() {
    let vs = VaultSandbox::locked();
    let pw_file = vs.password_file();
    let pw_arg = pw_file.to_str().unwrap();

    let (doc, code) = vs.vault_json(&["unlock", "--password-file", pw_arg]);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["changed"], true);
    assert_eq!(mode_of(&vs.session_file()), 0o600);
    assert_eq!(mode_of(&vs.session_dir()), 0o700);
    let session = vs.cached_session().unwrap();
    assert_eq!(session.len(), 88, "a bw session key");

    let (doc, _) = vs.vault_json(&["status"]);
    assert_eq!(
        (doc["status"].as_str(), doc["session"].as_str()),
        (Some("unlocked"), Some("valid"))
    );

    let (doc, code) = vs.vault_json(&["unlock", "--password-file", pw_arg]);
    assert_eq!((code, &doc["changed"]), (0, &Value::Bool(false)), "{doc}");
    assert_eq!(
        vs.cached_session().unwrap(),
        session,
        "a working session is kept"
    );

    // No password source at all: the cached session alone reads the vault.
    vs.pm()
        .args(["vault", "get", "tailscale-authkey"])
        .assert()
        .success()
        .stdout(format!("{AUTHKEY}\n"));

    let (doc, code) = vs.vault_json(&["lock"]);
    assert_eq!((code, &doc["changed"]), (0, &Value::Bool(true)), "{doc}");
    assert!(
        !vs.session_file().exists(),
        "lock removes the cached session"
    );
    let (doc, _) = vs.vault_json(&["status"]);
    assert_eq!(
        (doc["status"].as_str(), doc["session"].as_str()),
        (Some("locked"), Some("none"))
    );
}

#[test]
fn unlock_reads_the_password_from_the_named_environment_variable() {
    let vs = VaultSandbox::locked();
    let (doc, code) = vs.vault_json(&["unlock", "--password-env", PASSWORD_VAR]);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["changed"], true);
    assert_eq!(vs.cached_session().unwrap().len(), 88);
}

#[test]
fn get_on_a_locked_vault_unlocks_headless_with_the_configured_source() {
    let vs = VaultSandbox::locked();
    let out = vs
        .pm()
        .env("PM_VAULT_PASSWORD_ENV", PASSWORD_VAR)
        .args(["vault", "get", "github.com", "--field", "username"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "octocat\n");
    assert!(vs.cached_session().is_some(), "the new session is cached");
}

#[test]
fn wrong_master_password_is_an_auth_error_and_caches_nothing() {
    let vs = VaultSandbox::locked();
    let out = vs
        .pm()
        .env(PASSWORD_VAR, "not the password")
        .args(["vault", "unlock", "--password-env", PASSWORD_VAR, "--json"])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let doc = document(["vault", "unlock"], &stdout);
    assert_eq!(out.status.code(), Some(6), "{doc}");
    assert_eq!(error_code(&doc), "vault_wrong_password");
    assert!(!stdout.contains("not the password"));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("not the password"));
    assert!(vs.cached_session().is_none());
}

#[test]
fn locked_vault_without_a_password_source_is_a_precondition_error() {
    let vs = VaultSandbox::locked();
    let (doc, code) = vs.vault_json(&["get", "tailscale-authkey"]);
    assert_eq!(code, 9, "{doc}");
    assert_eq!(error_code(&doc), "vault_locked");
    assert!(
        doc["error"]["hint"]
            .as_str()
            .unwrap()
            .contains("--password-file")
    );
}

#[test]
fn get_reads_every_field_kind_and_custom_fields() {
    let vs = VaultSandbox::unlocked();
    vs.pm()
        .args(["vault", "get", "github.com"])
        .assert()
        .success()
        .stdout(format!("{GITHUB_PASSWORD}\n"));
    assert_eq!(vs.get_value("tailscale-authkey", "username"), "ci-bot");
    assert_eq!(
        vs.get_value("tailscale-authkey", "uri"),
        "https://login.tailscale.com/admin/settings/keys"
    );
    assert_eq!(
        vs.get_value("ops-note", "notes"),
        "secure note body\nline 2"
    );
    let code = vs.get_value("github.com", "totp");
    assert!(
        code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()),
        "a TOTP code: {code:?}"
    );
    assert_eq!(
        vs.get_value("tailscale-authkey", "tailnet"),
        "example.ts.net"
    );
    assert_eq!(vs.get_value("tailscale-authkey", "auth-key"), AUTHKEY);
    assert_eq!(vs.get_value("tailscale-authkey", "ephemeral"), "true");
}

#[test]
fn names_match_exactly_never_by_substring() {
    let vs = VaultSandbox::unlocked();
    // bw's search for this name also returns tailscale-authkey-old.
    assert_eq!(vs.get_value("tailscale-authkey", "password"), AUTHKEY);
    assert_eq!(
        vs.get_value("6f0c3a59-3f7e-4a43-9d2e-0a1b2c3d4e02", "password"),
        AUTHKEY_OLD
    );

    let (doc, code) = vs.vault_json(&["get", "tailscale"]);
    assert_eq!(code, 4, "{doc}");
    assert_eq!(error_code(&doc), "vault_item_not_found");
    assert_eq!(
        doc["error"]["similar"],
        serde_json::json!(["tailscale-authkey", "tailscale-authkey-old"])
    );
    // "octocat" is github.com's username: a bw match, not a name match.
    let (doc, code) = vs.vault_json(&["get", "octocat"]);
    assert_eq!((code, error_code(&doc)), (4, "vault_item_not_found"));

    let (doc, code) = vs.vault_json(&["get", "dup"]);
    assert_eq!(code, 3, "{doc}");
    assert_eq!(error_code(&doc), "vault_item_ambiguous");
    assert_eq!(doc["error"]["ids"], serde_json::json!(DUP_IDS));
    assert_eq!(vs.get_value(DUP_IDS[1], "password"), "dup-two-password");

    let (doc, code) = vs.vault_json(&["get", "no-such-item"]);
    assert_eq!((code, error_code(&doc)), (4, "vault_item_not_found"));
}

#[test]
fn names_with_non_ascii_characters_are_found_exactly() {
    let vs = VaultSandbox::unlocked();
    for (id, name, password) in NON_ASCII {
        let (doc, code) = vs.vault_json(&["get", name]);
        assert_eq!(code, 0, "{name}: {doc}");
        assert_eq!(doc["value"], password, "{doc}");
        assert_eq!(doc["id"], id, "{doc}");
    }
    // Still exact: another case or a part of the name is not a match.
    let (doc, code) = vs.vault_json(&["get", "zürich-db"]);
    assert_eq!(
        (code, error_code(&doc)),
        (4, "vault_item_not_found"),
        "{doc}"
    );
}

#[test]
fn a_missing_field_names_the_fields_the_item_has() {
    let vs = VaultSandbox::unlocked();
    let (doc, code) = vs.vault_json(&["get", "ops-note", "--field", "password"]);
    assert_eq!(code, 4, "{doc}");
    assert_eq!(error_code(&doc), "vault_field_missing");
    assert_eq!(doc["error"]["available"], serde_json::json!(["notes"]));

    let (doc, code) = vs.vault_json(&["get", AUTHKEY_ID, "--field", "no-such-field"]);
    assert_eq!((code, error_code(&doc)), (4, "vault_field_missing"));
    assert!(
        doc["error"]["available"]
            .as_array()
            .unwrap()
            .contains(&Value::from("tailnet"))
    );
}

#[test]
fn a_refused_session_is_an_error_without_a_source_and_renewed_once_with_one() {
    let vs = VaultSandbox::unlocked();
    let stale = format!("{}==", "A".repeat(86));
    vs.cache_session(&stale);
    let (doc, code) = vs.vault_json(&["get", "tailscale-authkey"]);
    assert_eq!(code, 6, "{doc}");
    assert_eq!(error_code(&doc), "vault_session_expired");
    assert!(
        vs.cached_session().is_none(),
        "the refused session is dropped"
    );

    vs.cache_session(&stale);
    let pw_file = vs.password_file();
    let out = vs
        .pm()
        .args(["vault", "get", "tailscale-authkey", "--password-file"])
        .arg(&pw_file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("{AUTHKEY}\n")
    );
    let renewed = vs.cached_session().unwrap();
    assert!(renewed != stale && renewed.len() == 88);
}

#[test]
fn an_unauthenticated_data_dir_reports_not_logged_in() {
    let vs = VaultSandbox::unauthenticated();
    let (doc, code) = vs.vault_json(&["status"]);
    assert_eq!(
        (code, doc["status"].as_str()),
        (0, Some("unauthenticated")),
        "{doc}"
    );

    let (doc, code) = vs.vault_json(&["unlock", "--password-env", PASSWORD_VAR]);
    assert_eq!(code, 9, "{doc}");
    assert_eq!(error_code(&doc), "vault_not_logged_in");
    assert!(doc["error"]["hint"].as_str().unwrap().contains("bw login"));

    let (doc, code) = vs.vault_json(&["get", "tailscale-authkey"]);
    assert_eq!((code, error_code(&doc)), (9, "vault_not_logged_in"));
}

#[test]
fn a_missing_bw_is_reported_with_an_install_hint() {
    let vs = VaultSandbox::locked();
    for program in ["/nonexistent/bw", "pm-test-no-such-bw"] {
        let (doc, code) = json_of(
            vs.pm()
                .env("PM_VAULT_BW_PATH", program)
                .args(["vault", "status"]),
        );
        assert_eq!(code, 7, "{doc}");
        assert_eq!(error_code(&doc), "bw_missing");
        assert!(
            doc["error"]["hint"]
                .as_str()
                .unwrap()
                .contains("@bitwarden/cli")
        );
    }
}

/// The real bw cannot be made to hang on cue, so this one case uses a
/// stand-in: it prints nothing (as bw does before its first output) and
/// blocks on its terminal until killed.
#[test]
fn a_hung_bw_is_killed_at_the_timeout() {
    let vs = VaultSandbox::locked();
    let stand_in = vs.sb.path().join("hung-bw");
    let pid_file = vs.sb.path().join("hung-bw.pid");
    std::fs::write(
        &stand_in,
        format!("#!/bin/sh\necho $$ > '{}'\nexec cat\n", pid_file.display()),
    )
    .unwrap();
    std::fs::set_permissions(&stand_in, std::fs::Permissions::from_mode(0o755)).unwrap();

    let started = Instant::now();
    let (doc, code) = json_of(
        vs.pm()
            .env("PM_VAULT_BW_PATH", &stand_in)
            .env("PM_VAULT_TIMEOUT", "1")
            .args(["vault", "status"]),
    );
    assert_eq!(code, 7, "{doc}");
    assert_eq!(error_code(&doc), "bw_timeout");
    assert!(started.elapsed() < Duration::from_secs(20));
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    assert!(
        !Path::new(&format!("/proc/{}", pid.trim())).exists(),
        "the hung bw was killed and reaped"
    );
}

/// Runs pm with `vault.bw_path` pointing at a wrapper that records the argv
/// and environment pm hands to bw, then execs the real bw. Returns what the
/// bw run for `verb` was given (argv, `environ` as KEY=VALUE lines) with pm's stdout and
/// stderr. The wrapper records itself from inside the exec'd process, so
/// nothing races bw's own start-up (reading /proc of the child from here did:
/// a read during its exec sees an empty environment).
fn run_through_recording_bw(
    vs: &VaultSandbox,
    mut cmd: std::process::Command,
    verb: &str,
) -> (Vec<String>, String, String, String) {
    let record = vs.sb.path().join(format!("bw-record-{verb}"));
    std::fs::create_dir_all(&record).unwrap();
    let wrapper = record.join("bw");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nprintf '%s\\0' \"$@\" > '{dir}/argv-'$1\ncat /proc/$$/environ > '{dir}/environ-'$1\nexec '{bw}' \"$@\"\n",
            dir = record.display(),
            bw = vs.bw.display(),
        ),
    )
    .unwrap();
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = cmd
        .env("PM_VAULT_BW_PATH", &wrapper)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "pm failed: {log}");
    let argv: Vec<String> = std::fs::read(record.join(format!("argv-{verb}")))
        .unwrap()
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    assert_eq!(
        argv.first().map(String::as_str),
        Some(verb),
        "bw's argv: {argv:?}"
    );
    let environ =
        String::from_utf8_lossy(&std::fs::read(record.join(format!("environ-{verb}"))).unwrap())
            .replace('\0', "\n");
    (argv, environ, String::from_utf8(out.stdout).unwrap(), log)
}

#[test]
fn secrets_never_reach_argv_logs_json_or_the_state_file() {
    let vs = VaultSandbox::locked();

    let mut unlock = vs.pm_std();
    unlock.args([
        "-vvv",
        "vault",
        "unlock",
        "--password-env",
        PASSWORD_VAR,
        "--json",
    ]);
    let (argv, environ, stdout, log) = run_through_recording_bw(&vs, unlock, "unlock");
    assert!(
        !argv.iter().any(|a| a.contains(MASTER_PASSWORD)),
        "{argv:?}"
    );
    assert!(
        environ
            .lines()
            .any(|l| l == format!("PM_BW_MASTER_PASSWORD={MASTER_PASSWORD}")),
        "the password reaches bw through its environment"
    );
    let session = vs.cached_session().expect("unlocked");
    assert!(
        log.contains("vault_bw_complete"),
        "the debug log is there: {log}"
    );
    for text in [&stdout, &log] {
        assert!(
            !text.contains(MASTER_PASSWORD) && !text.contains(&session),
            "{text}"
        );
    }

    let mut get = vs.pm_std();
    get.args([
        "-vvv",
        "--log-format",
        "json",
        "vault",
        "get",
        "tailscale-authkey",
        "--json",
    ]);
    let (argv, environ, stdout, log) = run_through_recording_bw(&vs, get, "list");
    assert!(!argv.iter().any(|a| a.contains(&session)), "{argv:?}");
    assert!(
        environ
            .lines()
            .any(|l| l == format!("BW_SESSION={session}"))
    );
    let doc = document(["vault", "get"], &stdout);
    assert_eq!(
        doc["value"], AUTHKEY,
        "the value asked for is the one secret in JSON"
    );
    assert!(!stdout.contains(&session) && !stdout.contains(MASTER_PASSWORD));
    for secret in [MASTER_PASSWORD, session.as_str(), AUTHKEY, AUTHKEY_OLD] {
        assert!(!log.contains(secret), "a secret in the logs: {log}");
    }

    let state_dir = vs.sb.state_path().parent().unwrap().to_path_buf();
    let mut state_files = 0;
    for entry in std::fs::read_dir(state_dir).unwrap().flatten() {
        let bytes = std::fs::read(entry.path()).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(MASTER_PASSWORD) && !text.contains(&session));
        state_files += 1;
    }
    assert!(
        state_files > 0,
        "unlock was recorded in the state's history"
    );
}

#[test]
fn unlock_prompts_for_the_password_when_stdin_is_a_terminal() {
    use expectrl::Expect;
    let vs = VaultSandbox::locked();
    let mut cmd = vs.pm_std();
    cmd.args(["vault", "unlock"]);
    let mut pty = expectrl::Session::spawn(cmd).unwrap();
    pty.set_expect_timeout(Some(Duration::from_secs(60)));
    pty.expect("Master password: ").unwrap();
    pty.send_line(MASTER_PASSWORD).unwrap();
    let rest = pty.expect(expectrl::Eof).unwrap();
    let shown = String::from_utf8_lossy(rest.as_bytes()).into_owned();
    assert!(shown.contains("vault unlocked"), "{shown}");
    assert!(
        !shown.contains(MASTER_PASSWORD),
        "the password was echoed: {shown}"
    );
    assert_eq!(vs.cached_session().unwrap().len(), 88);
}

/// Not a check: writes a locked fixture where scripts/bench/vault.sh asks.
#[test]
#[ignore = "run by scripts/bench/vault.sh"]
fn write_bench_fixture() {
    let dir = std::env::var_os("PM_BENCH_FIXTURE_DIR").expect("PM_BENCH_FIXTURE_DIR");
    BwFixture::locked(Path::new(&dir));
}

#[test]
fn a_totp_code_on_a_free_account_is_a_precondition_error() {
    let vs = VaultSandbox::unlocked_free();
    let (doc, code) = vs.vault_json(&["get", "github.com", "--field", "totp"]);
    assert_eq!(
        (code, error_code(&doc)),
        (9, "vault_premium_required"),
        "{doc}"
    );
    assert!(
        doc["error"]["hint"]
            .as_str()
            .is_some_and(|h| h.contains("premium")),
        "{doc}"
    );
    // The other fields of the same item still answer.
    assert_eq!(vs.get_value("github.com", "password"), GITHUB_PASSWORD);
}

#[test]
fn get_with_sync_reports_an_unreachable_server_as_transient() {
    let vs = VaultSandbox::unlocked();
    // The fixture's server is https://127.0.0.1:9, where nothing listens.
    let (doc, code) = vs.vault_json(&["get", "tailscale-authkey", "--sync"]);
    assert_eq!(code, 8, "{doc}");
    assert_eq!(error_code(&doc), "vault_server_unreachable");
}

/// Each unlock invalidates the session before it, so two pm commands that
/// unlock at once would break each other. The second one waits for the
/// first's unlock and adopts its session instead.
#[test]
fn concurrent_unlocks_share_one_session() {
    let vs = VaultSandbox::locked();
    let spawn = |extra_env: Option<(&str, &str)>| {
        let mut cmd = vs.pm_std();
        cmd.env("PM_VAULT_PASSWORD_ENV", PASSWORD_VAR)
            .args(["-vv", "vault", "get", "tailscale-authkey"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some((k, v)) = extra_env {
            cmd.env(k, v);
        }
        cmd.spawn().unwrap()
    };

    // The first holds the unlock lock, paused just after starting bw unlock.
    let mut first = spawn(Some(("PM_FAILPOINTS", "vault_bw_spawned_unlock=pause")));
    let mut first_err = BufReader::new(first.stderr.take().unwrap());
    wait_for_line(&mut first_err, "failpoint vault_bw_spawned_unlock paused");
    let mut second = spawn(None);
    let mut second_err = BufReader::new(second.stderr.take().unwrap());
    wait_for_line(&mut second_err, "vault_unlock_waiting");

    drop(first.stdin.take());
    drop(second.stdin.take());
    let first_out = first.wait_with_output().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut second_err, &mut rest).unwrap();
    let second_out = second.wait_with_output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&first_out.stdout),
        format!("{AUTHKEY}\n")
    );
    assert_eq!(
        String::from_utf8_lossy(&second_out.stdout),
        format!("{AUTHKEY}\n"),
        "second: {rest}"
    );
    assert!(rest.contains("vault_unlock_adopted"), "{rest}");
    assert!(
        !rest.contains("command=unlock"),
        "the second ran no unlock: {rest}"
    );
}

/// Waits at most 10 s for `pid` (not our child) to exit: its pidfd turns
/// readable when it does, zombie or reaped.
#[cfg(target_os = "linux")]
fn wait_until_dead(pid: i32) -> bool {
    // SAFETY: pidfd_open with no flags returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) } as i32;
    if fd < 0 {
        return std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
    }
    let mut pollfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd; then closing the descriptor we opened.
    let ready = unsafe { libc::poll(&mut pollfd, 1, 10_000) };
    unsafe { libc::close(fd) };
    ready == 1
}

/// A stand-in bw (the real one cannot hang on cue) that starts a grandchild
/// holding its terminal, then blocks: pm must kill the whole process group,
/// not only the bw it started.
#[cfg(target_os = "linux")]
#[test]
fn a_hung_bw_is_killed_with_its_whole_process_group_and_named_in_the_error() {
    let vs = VaultSandbox::locked();
    let stand_in = vs.sb.path().join("forking-bw");
    let grandchild_file = vs.sb.path().join("grandchild.pid");
    std::fs::write(
        &stand_in,
        format!(
            "#!/bin/sh\nsleep 1000 &\necho $! > '{file}.tmp'\nmv '{file}.tmp' '{file}'\nexec sleep 1000\n",
            file = grandchild_file.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&stand_in, std::fs::Permissions::from_mode(0o755)).unwrap();

    let started = Instant::now();
    let (doc, code) = json_of(
        vs.pm()
            .env("PM_VAULT_BW_PATH", &stand_in)
            .env("PM_VAULT_TIMEOUT", "2")
            .args(["vault", "status"]),
    );
    assert_eq!((code, error_code(&doc)), (7, "bw_timeout"), "{doc}");
    let message = doc["error"]["message"].as_str().unwrap();
    assert!(message.contains("`bw status`"), "names the tool: {message}");
    assert!(started.elapsed() < Duration::from_secs(30));
    let grandchild: i32 = std::fs::read_to_string(&grandchild_file)
        .expect("the stand-in started its grandchild before the deadline")
        .trim()
        .parse()
        .unwrap();
    assert!(
        wait_until_dead(grandchild),
        "the grandchild {grandchild} outlived the kill"
    );
}

/// bw's own words (here a stand-in's stderr) are translated, never shown:
/// they reach only the debug log.
#[test]
fn bw_stderr_stays_out_of_the_error_and_reaches_only_the_debug_log() {
    let vs = VaultSandbox::locked();
    let stand_in = vs.sb.path().join("failing-bw");
    std::fs::write(
        &stand_in,
        "#!/bin/sh\necho 'FATAL raw-bw-words-xyzzy: something broke' >&2\nexit 1\n",
    )
    .unwrap();
    std::fs::set_permissions(&stand_in, std::fs::Permissions::from_mode(0o755)).unwrap();
    for verbosity in [None, Some("-vv")] {
        let out = vs
            .pm()
            .env("PM_VAULT_BW_PATH", &stand_in)
            .args(verbosity)
            .args(["vault", "status", "--json"])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let doc = document(["vault", "status"], stdout.as_bytes());
        assert_eq!(
            (out.status.code(), error_code(&doc)),
            (Some(7), "bw_failed")
        );
        assert!(
            !stdout.contains("xyzzy"),
            "bw's words in the error: {stdout}"
        );
        let in_log = stderr.contains("raw-bw-words-xyzzy");
        assert_eq!(
            in_log,
            verbosity.is_some(),
            "-vv logs it, nothing else shows it: {stderr}"
        );
    }
}

#[test]
fn unlock_and_lock_dry_runs_predict_and_change_nothing() {
    let vs = VaultSandbox::locked();
    let pw = vs.password_file();
    let pw_arg = pw.to_str().unwrap();
    let (doc, code) = vs.vault_json(&["unlock", "--password-file", pw_arg, "--dry-run"]);
    assert_eq!(
        (code, &doc["changed"], &doc["dry_run"]),
        (0, &true.into(), &true.into()),
        "{doc}"
    );
    assert!(vs.cached_session().is_none(), "a dry run cached no session");
    let (doc, code) = vs.vault_json(&["unlock", "--dry-run"]);
    assert_eq!(
        (code, error_code(&doc)),
        (9, "vault_locked"),
        "the real run's error: {doc}"
    );
    let (doc, code) = vs.vault_json(&["unlock", "--password-file", pw_arg]);
    assert_eq!((code, &doc["changed"]), (0, &true.into()), "{doc}");
    let session = vs.cached_session().expect("unlocked");
    let (doc, _) = vs.vault_json(&["unlock", "--password-file", pw_arg, "--dry-run"]);
    assert_eq!(doc["changed"], false, "{doc}");
    let (doc, code) = vs.vault_json(&["lock", "--dry-run"]);
    assert_eq!((code, &doc["changed"]), (0, &true.into()), "{doc}");
    assert_eq!(
        vs.cached_session().as_deref(),
        Some(session.as_str()),
        "still unlocked"
    );
}
