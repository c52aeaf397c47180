//! `pm image fetch|list|show|rm|gc` against real S3 servers on loopback
//! (s3s-fs in-process, moto for If-Match), a static HTTP origin, and a
//! fault-injecting proxy of our own in front of them.

mod origin;
mod proxy;
mod servers;

use crate::support::{Sandbox, error_code, json_of, output_document};
use origin::Origin;
use proxy::{Fault, Proxy};
use serde_json::Value;
use servers::{ACCESS_KEY, Moto, SECRET_KEY, Setup, data, s3s_endpoint, sha256_hex};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Stdio};

const MIB: usize = 1 << 20;

/// A bucket of its own on the shared s3s-fs server, with one object.
fn bucket_with(name: &str, key: &str, body: &[u8]) -> Setup {
    let setup = Setup::new(s3s_endpoint());
    setup.bucket(name);
    setup.put(name, key, body);
    setup
}

/// pm configured for an S3 endpoint through the standard AWS variables,
/// with small parts so test objects have many.
fn pm_s3(sb: &Sandbox, endpoint: &str) -> std::process::Command {
    let mut cmd = sb.pm_std();
    for (key, _) in std::env::vars() {
        if key.starts_with("AWS_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("PM_IMAGE_PART_SIZE", "1MiB")
        .env("PM_IMAGE_CONCURRENCY", "4")
        .env("PM_IMAGE_STALL_TIMEOUT", "2");
    cmd
}

/// `pm_s3` for tests that count requests or the bytes the proxy forwards.
/// A takeover at the end of a download (`image.split_tail`) adds requests
/// and closes a connection with bytes in flight, which the proxy counts as
/// sent, so these turn it off; its own tests are below.
fn pm_s3_counted(sb: &Sandbox, endpoint: &str) -> std::process::Command {
    let mut cmd = pm_s3(sb, endpoint);
    cmd.env("PM_IMAGE_SPLIT_TAIL", "false");
    cmd
}

fn cmd(std: std::process::Command) -> assert_cmd::Command {
    assert_cmd::Command::from_std(std)
}

fn fetch_json(std: std::process::Command, source: &str) -> (Value, i32) {
    let mut c = cmd(std);
    c.args(["image", "fetch", source]);
    json_of(&mut c)
}

fn state_db(sb: &Sandbox) -> rusqlite::Connection {
    rusqlite::Connection::open(sb.state_path()).expect("open state")
}

fn recorded_parts(sb: &Sandbox) -> BTreeSet<u64> {
    let db = state_db(sb);
    let mut stmt = db
        .prepare("SELECT part FROM download_parts")
        .expect("query");
    stmt.query_map([], |r| r.get::<_, i64>(0))
        .expect("rows")
        .map(|p| p.expect("part") as u64)
        .collect()
}

fn count(sb: &Sandbox, table: &str) -> i64 {
    state_db(sb)
        .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .expect("count")
}

fn partial_files(sb: &Sandbox) -> Vec<String> {
    std::fs::read_dir(sb.path().join("state/images/partial"))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".part"))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn fetch_of_multipart_object_stores_verified_blob_and_second_run_is_unchanged() {
    let body = data(5 * MIB + 12345, 1);
    bucket_with("multi", "img/root.tar", &body);
    let proxy = Proxy::start(s3s_endpoint());
    let sb = Sandbox::new();

    let (doc, code) = fetch_json(
        pm_s3_counted(&sb, &proxy.endpoint),
        "s3://multi/img/root.tar",
    );
    assert_eq!(code, 0, "{doc}");
    let hex = sha256_hex(&body);
    assert_eq!(doc["digest"], format!("sha256:{hex}"));
    assert_eq!(doc["id"], &hex[..12]);
    assert_eq!(doc["size"], body.len() as u64);
    assert_eq!(doc["changed"], true);
    assert_eq!(doc["source"], "s3://multi/img/root.tar");
    assert_eq!(doc["bytes_downloaded"], body.len() as u64);
    let blob = sb.path().join(format!("state/images/sha256/{hex}"));
    assert_eq!(doc["path"], blob.display().to_string());
    assert_eq!(std::fs::read(&blob).expect("blob"), body);
    assert_eq!(proxy.gets(), 6, "one ranged GET per 1 MiB part");
    assert!(partial_files(&sb).is_empty());
    let (size, etag): (i64, Option<String>) = state_db(&sb)
        .query_row(
            "SELECT i.size, s.etag FROM images i JOIN image_sources s ON s.digest = i.digest WHERE s.source = 's3://multi/img/root.tar'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("state row");
    assert_eq!(size, body.len() as i64);
    assert!(etag.is_some());
    assert_eq!(count(&sb, "downloads"), 0);

    proxy.reset_counts();
    let (again, code) = fetch_json(
        pm_s3_counted(&sb, &proxy.endpoint),
        "s3://multi/img/root.tar",
    );
    assert_eq!(code, 0);
    assert_eq!(again["changed"], false);
    assert_eq!(again["digest"], doc["digest"]);
    assert_eq!(again["bytes_downloaded"], 0);
    assert!(again["duration_ms"].as_u64().expect("duration") < 1000);
    assert_eq!((proxy.heads(), proxy.gets()), (0, 0), "no request at all");
}

#[test]
fn fetch_resumes_after_kill_without_refetching_parts() {
    let body = data(12 * MIB, 2);
    bucket_with("resume", "root.tar", &body);
    for kill_after in [1u64, 4, 9] {
        let proxy = Proxy::start(s3s_endpoint());
        let sb = Sandbox::new();
        let mut first = pm_s3_counted(&sb, &proxy.endpoint);
        first
            .env(
                "PM_FAILPOINTS",
                format!("fetch_part_recorded=kill@{kill_after}"),
            )
            .args(["image", "fetch", "s3://resume/root.tar"]);
        let status = first.status().expect("run pm");
        assert_eq!(status.signal(), Some(9), "killed after {kill_after} parts");
        let done = recorded_parts(&sb);
        assert!(done.len() as u64 >= kill_after, "{done:?}");
        assert!(done.len() < 12);
        assert_eq!(count(&sb, "images"), 0, "nothing ready after a kill");

        // A fresh proxy: the killed run's connections may still be
        // draining through the old one.
        let proxy = Proxy::start(s3s_endpoint());
        let (doc, code) = fetch_json(pm_s3_counted(&sb, &proxy.endpoint), "s3://resume/root.tar");
        assert_eq!(code, 0, "{doc}");
        assert_eq!(doc["digest"], format!("sha256:{}", sha256_hex(&body)));
        let resumed = (done.len() * MIB) as u64;
        assert_eq!(doc["bytes_resumed"], resumed);
        assert_eq!(proxy.body_bytes(), body.len() as u64 - resumed);
        assert_eq!(doc["bytes_downloaded"], proxy.body_bytes());
        for part in &done {
            let range = format!(
                "bytes={}-{}",
                part * MIB as u64,
                (part + 1) * MIB as u64 - 1
            );
            assert!(
                !proxy.ranges().contains(&range),
                "finished part {part} fetched again"
            );
        }
        assert_eq!(count(&sb, "downloads"), 0);
        assert!(partial_files(&sb).is_empty());
    }
}

/// A power cut loses what the page cache held: after a reboot (another
/// boot_id) only the parts written before the last checkpoint fsync count.
#[test]
fn a_resume_after_a_reboot_keeps_only_the_parts_synced_before_it() {
    let body = data(12 * MIB, 12);
    bucket_with("reboot", "root.tar", &body);
    let sb = Sandbox::new();
    let proxy = Proxy::start(s3s_endpoint());
    let mut first = pm_s3_counted(&sb, &proxy.endpoint);
    first
        .env("PM_IMAGE_SYNC_EVERY", "3MiB")
        .env("PM_FAILPOINTS", "fetch_part_recorded=kill@8")
        .args(["image", "fetch", "s3://reboot/root.tar"]);
    assert_eq!(first.status().expect("run pm").signal(), Some(9));
    let db = state_db(&sb);
    let durable: BTreeSet<u64> = db
        .prepare("SELECT part FROM download_parts WHERE durable = 1")
        .expect("query")
        .query_map([], |r| r.get::<_, i64>(0))
        .expect("rows")
        .map(|p| p.expect("part") as u64)
        .collect();
    let recorded = recorded_parts(&sb);
    assert_eq!(durable.len(), 6, "two checkpoints of 3 parts: {durable:?}");
    assert_eq!(recorded.len(), 8, "{recorded:?}");
    // What a reboot changes, as far as pm can tell.
    db.execute("UPDATE downloads SET boot_id = 'an-earlier-boot'", [])
        .expect("rewrite boot_id");

    let proxy = Proxy::start(s3s_endpoint());
    let (doc, code) = fetch_json(pm_s3_counted(&sb, &proxy.endpoint), "s3://reboot/root.tar");
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["digest"], format!("sha256:{}", sha256_hex(&body)));
    assert_eq!(doc["bytes_resumed"], (6 * MIB) as u64);
    assert_eq!(proxy.body_bytes(), (6 * MIB) as u64);
    let range = |part: u64| {
        format!(
            "bytes={}-{}",
            part * MIB as u64,
            (part + 1) * MIB as u64 - 1
        )
    };
    for part in &recorded {
        assert_eq!(
            proxy.ranges().contains(&range(*part)),
            !durable.contains(part),
            "part {part}: only unsynced parts are fetched again"
        );
    }
}

#[test]
fn transient_faults_are_retried_per_part_and_recover() {
    let body = data(4 * MIB, 3);
    bucket_with("faults", "root.tar", &body);
    let proxy = Proxy::start(s3s_endpoint());
    proxy.inject([
        Fault::Drop,
        Fault::SlowDown,
        Fault::Truncate(1000),
        Fault::Stall,
    ]);
    let sb = Sandbox::new();
    let mut pm = pm_s3(&sb, &proxy.endpoint);
    pm.env("PM_IMAGE_CONCURRENCY", "1");
    let (doc, code) = fetch_json(pm, "s3://faults/root.tar");
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["digest"], format!("sha256:{}", sha256_hex(&body)));
    assert_eq!(proxy.gets(), 4 + 4, "four parts and four retried attempts");
}

#[test]
fn transient_faults_beyond_the_retry_budget_exit_transient() {
    let body = data(2 * MIB, 4);
    bucket_with("slow", "root.tar", &body);
    let proxy = Proxy::start(s3s_endpoint());
    proxy.inject([Fault::SlowDown; 3]);
    let sb = Sandbox::new();
    let mut pm = pm_s3(&sb, &proxy.endpoint);
    pm.env("PM_IMAGE_CONCURRENCY", "1")
        .env("PM_IMAGE_RETRIES", "2");
    let (doc, code) = fetch_json(pm, "s3://slow/root.tar");
    assert_eq!(code, 8, "{doc}");
    assert_eq!(error_code(&doc), "fetch_transient");
    assert_eq!(doc["error"]["attempts"], 3);
    assert!(
        doc["error"]["message"]
            .as_str()
            .unwrap()
            .contains("SlowDown")
    );
    assert_one_sentence(&doc);
    assert!(
        doc["error"]["hint"]
            .as_str()
            .is_some_and(|h| h.contains("throttling")),
        "{doc}"
    );
    assert_eq!(count(&sb, "images"), 0);
}

#[test]
fn permanent_failures_fail_fast_with_their_codes() {
    bucket_with("perm", "root.tar", &data(MIB, 5));
    let proxy = Proxy::start(s3s_endpoint());
    let sb = Sandbox::new();

    let mut wrong_key = pm_s3(&sb, &proxy.endpoint);
    wrong_key.env("AWS_SECRET_ACCESS_KEY", "not-the-secret-key-at-all");
    let (doc, code) = fetch_json(wrong_key, "s3://perm/root.tar");
    assert_eq!((error_code(&doc), code), ("fetch_denied", 6), "{doc}");
    assert_one_sentence(&doc);

    let (doc, code) = fetch_json(pm_s3(&sb, &proxy.endpoint), "s3://perm/missing.tar");
    assert_eq!((error_code(&doc), code), ("not_found", 4), "{doc}");
    assert_eq!(
        doc["error"]["message"],
        "object missing.tar in bucket perm not found"
    );

    let (doc, code) = fetch_json(pm_s3(&sb, &proxy.endpoint), "s3://no-such-bucket/root.tar");
    assert_eq!((error_code(&doc), code), ("not_found", 4), "{doc}");
    assert_eq!(
        doc["error"]["message"],
        format!("bucket no-such-bucket on {} not found", proxy.endpoint)
    );

    // One HEAD each, no retries; a 404 (a HEAD answer has no body to say
    // which is missing) also HEADs the bucket.
    assert_eq!(proxy.heads(), 1 + 2 + 2);
    assert_eq!(proxy.gets(), 0);
}

/// The message is one sentence: no Rust debug dump, no SDK error chain.
fn assert_one_sentence(doc: &Value) {
    let message = doc["error"]["message"].as_str().expect("message");
    for dump in [
        "{",
        "Os ",
        "Error(",
        "DispatchFailure",
        "ProviderError",
        "\n",
    ] {
        assert!(!message.contains(dump), "{dump:?} in {message}");
    }
    assert!(!message.contains('\n'), "{message}");
    assert!(
        doc["error"]["hint"].as_str().is_some_and(|h| !h.is_empty()),
        "{doc}"
    );
}

/// pm with no AWS credentials anywhere: no variables, no files, and no
/// instance metadata service (which is off this machine).
fn pm_without_credentials(sb: &Sandbox, endpoint: &str) -> std::process::Command {
    let mut pm = pm_s3(sb, endpoint);
    pm.env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY");
    pm
}

#[test]
fn missing_or_failing_credentials_are_one_sentence_and_the_sdk_stays_quiet() {
    bucket_with("nocreds", "root.tar", &data(MIB, 23));
    let sb = Sandbox::new();
    let out = cmd(pm_without_credentials(&sb, s3s_endpoint()))
        .args(["image", "fetch", "s3://nocreds/root.tar", "--json"])
        .output()
        .expect("run");
    let doc = output_document(["image", "fetch"], &out);
    assert_eq!(error_code(&doc), "fetch_denied", "{doc}");
    assert_eq!(out.status.code(), Some(6));
    assert_eq!(
        doc["error"]["message"],
        "access to s3://nocreds/root.tar was denied: no AWS credentials were found"
    );
    assert!(
        doc["error"]["hint"]
            .as_str()
            .is_some_and(|h| h.contains("AWS_ACCESS_KEY_ID")),
        "{doc}"
    );

    // A profile whose credential_process fails: the SDK logs WARN lines of
    // its own while it tries the chain. They stay below the default
    // verbosity; -v shows them.
    let config = sb.path().join("aws-config");
    std::fs::write(
        &config,
        "[profile broken]\nregion = us-east-1\ncredential_process = /bin/false\n",
    )
    .expect("aws config");
    let broken = |verbose: bool| {
        let mut pm = pm_without_credentials(&sb, s3s_endpoint());
        pm.env("AWS_CONFIG_FILE", &config)
            .env("AWS_PROFILE", "broken");
        let mut c = cmd(pm);
        if verbose {
            c.arg("-v");
        }
        c.args(["image", "fetch", "s3://nocreds/root.tar", "--json"])
            .output()
            .expect("run")
    };
    let out = broken(false);
    let doc = output_document(["image", "fetch"], &out);
    assert_eq!(error_code(&doc), "fetch_denied", "{doc}");
    assert_one_sentence(&doc);
    assert!(
        doc["error"]["message"]
            .as_str()
            .unwrap()
            .contains("the AWS credential provider failed"),
        "{doc}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("WARN"),
        "SDK logs at the default verbosity: {stderr}"
    );
    assert_eq!(stderr.matches("pm: error:").count(), 1, "{stderr}");
    let verbose = broken(true);
    assert!(
        String::from_utf8_lossy(&verbose.stderr).contains("WARN"),
        "-v shows the SDK's warnings"
    );
}

#[test]
fn an_unreachable_endpoint_says_so_and_that_nothing_was_downloaded() {
    let sb = Sandbox::new();
    let closed = format!("http://127.0.0.1:{}", servers::free_port());
    let mut pm = pm_s3(&sb, &closed);
    pm.env("PM_IMAGE_RETRIES", "1");
    let (doc, code) = fetch_json(pm, "s3://any/root.tar");
    assert_eq!((error_code(&doc), code), ("fetch_transient", 8), "{doc}");
    assert_one_sentence(&doc);
    let message = doc["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("cannot connect to {closed}: connection refused")),
        "{message}"
    );
    let hint = doc["error"]["hint"].as_str().unwrap();
    assert!(!hint.contains("finished parts are kept"), "{hint}");
    assert!(hint.contains("nothing was downloaded"), "{hint}");
    assert_eq!(doc["error"]["kept_bytes"], 0);
}

#[test]
fn an_untrusted_tls_endpoint_is_a_tls_error_with_a_hint() {
    let origin = servers::TlsOrigin::start(b"not an S3 server");
    let endpoint = origin.url.trim_end_matches("/root.tar").to_string();
    let sb = Sandbox::new();
    let (doc, code) = fetch_json(pm_s3(&sb, &endpoint), "s3://any/root.tar");
    assert_eq!((error_code(&doc), code), ("fetch_unsupported", 3), "{doc}");
    assert_one_sentence(&doc);
    let message = doc["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("the TLS handshake with {endpoint} failed")),
        "{message}"
    );
    assert!(
        doc["error"]["hint"]
            .as_str()
            .is_some_and(|h| h.contains("SSL_CERT_FILE")),
        "{doc}"
    );
}

#[test]
fn max_size_refusal_happens_before_any_get() {
    bucket_with("big", "root.tar", &data(3 * MIB, 6));
    let proxy = Proxy::start(s3s_endpoint());
    let sb = Sandbox::new();
    let mut pm = cmd(pm_s3(&sb, &proxy.endpoint));
    pm.args(["image", "fetch", "s3://big/root.tar", "--max-size", "2MiB"]);
    let (doc, code) = json_of(&mut pm);
    assert_eq!((error_code(&doc), code), ("image_too_large", 3), "{doc}");
    assert_eq!(doc["error"]["size"], 3 * MIB as u64);
    assert_eq!(proxy.heads(), 1);
    assert_eq!(proxy.gets(), 0, "refused before any GET");
    assert!(partial_files(&sb).is_empty());
}

#[test]
fn sha256_mismatch_leaves_nothing_marked_ready() {
    let body = data(2 * MIB, 7);
    bucket_with("mismatch", "root.tar", &body);
    let sb = Sandbox::new();
    let wrong = sha256_hex(b"something else");
    let mut pm = cmd(pm_s3(&sb, s3s_endpoint()));
    pm.args(["image", "fetch", "s3://mismatch/root.tar", "--sha256"])
        .arg(format!("sha256:{wrong}"));
    let (doc, code) = json_of(&mut pm);
    assert_eq!((error_code(&doc), code), ("digest_mismatch", 3), "{doc}");
    assert_eq!(
        doc["error"]["actual"],
        format!("sha256:{}", sha256_hex(&body))
    );
    assert_eq!(count(&sb, "images"), 0);
    assert_eq!(count(&sb, "downloads"), 0);
    assert!(partial_files(&sb).is_empty());
    let blobs = std::fs::read_dir(sb.path().join("state/images/sha256")).map_or(0, |d| d.count());
    assert_eq!(blobs, 0);

    // The right digest is accepted.
    let mut pm = cmd(pm_s3(&sb, s3s_endpoint()));
    pm.args(["image", "fetch", "s3://mismatch/root.tar", "--sha256"])
        .arg(sha256_hex(&body));
    let (doc, code) = json_of(&mut pm);
    assert_eq!(code, 0, "{doc}");
}

/// s3s-fs keeps the SHA-256 the object was uploaded with and returns it on
/// HEAD; bytes damaged on the way must fail that check, not become an image.
#[test]
fn bytes_damaged_in_transit_fail_the_stores_checksum_and_nothing_is_ready() {
    let body = data(3 * MIB, 13);
    bucket_with("damaged", "root.tar", &body);
    let sb = Sandbox::new();
    let proxy = Proxy::start(s3s_endpoint());
    proxy.inject([Fault::Corrupt]);
    let (doc, code) = fetch_json(pm_s3_counted(&sb, &proxy.endpoint), "s3://damaged/root.tar");
    assert_eq!((error_code(&doc), code), ("digest_mismatch", 3), "{doc}");
    assert_eq!(doc["error"]["checked_against"], "the store's checksum");
    assert_eq!(
        doc["error"]["expected"],
        format!("sha256:{}", sha256_hex(&body))
    );
    assert!(
        doc["error"]["hint"]
            .as_str()
            .is_some_and(|h| h.contains("fetch again")),
        "{doc}"
    );
    assert_eq!(count(&sb, "images"), 0);
    assert_eq!(count(&sb, "downloads"), 0);
    assert!(partial_files(&sb).is_empty());

    // Nothing of the damaged run is trusted: the next fetch starts over.
    proxy.reset_counts();
    let (doc, code) = fetch_json(pm_s3_counted(&sb, &proxy.endpoint), "s3://damaged/root.tar");
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["digest"], format!("sha256:{}", sha256_hex(&body)));
    assert_eq!(proxy.body_bytes(), body.len() as u64);
}

#[test]
fn object_changed_between_runs_restarts_from_zero() {
    let setup = bucket_with("changes", "root.tar", &data(6 * MIB, 8));
    let sb = Sandbox::new();
    let mut first = pm_s3(&sb, s3s_endpoint());
    first
        .env("PM_FAILPOINTS", "fetch_part_recorded=kill@2")
        .args(["image", "fetch", "s3://changes/root.tar"]);
    assert_eq!(first.status().expect("run").signal(), Some(9));
    let v2 = data(6 * MIB, 9);
    setup.put("changes", "root.tar", &v2);

    let out = cmd(pm_s3(&sb, s3s_endpoint()))
        .args(["image", "fetch", "s3://changes/root.tar", "--json"])
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("changed since the interrupted download"),
        "{stderr}"
    );
    let doc = output_document(["image", "fetch"], &out);
    assert_eq!(doc["digest"], format!("sha256:{}", sha256_hex(&v2)));
    assert_eq!(doc["bytes_resumed"], 0);
}

#[test]
fn object_changed_during_download_is_caught_by_if_match_on_moto() {
    let moto = Moto::start();
    let setup = Setup::new(&moto.endpoint);
    setup.bucket("moto");
    setup.put("moto", "root.tar", &data(3 * MIB, 10));
    let v2 = data(3 * MIB, 11);
    let proxy = Proxy::start(&moto.endpoint);
    {
        let replacement = v2.clone();
        let endpoint = moto.endpoint.clone();
        proxy.before_get(move |n| {
            if n == 2 {
                Setup::new(&endpoint).put("moto", "root.tar", &replacement);
            }
        });
    }
    let sb = Sandbox::new();
    let mut pm = pm_s3(&sb, &proxy.endpoint);
    pm.env("PM_IMAGE_CONCURRENCY", "1");
    let out = cmd(pm)
        .args(["image", "fetch", "s3://moto/root.tar", "--json"])
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("changed during the download"), "{stderr}");
    let doc = output_document(["image", "fetch"], &out);
    assert_eq!(doc["digest"], format!("sha256:{}", sha256_hex(&v2)));
}

/// Starts `pm image fetch` held at a failpoint; returns once it is there.
fn start_paused(mut pm: std::process::Command, source: &str, point: &str) -> Child {
    let mut child = pm
        .env("PM_FAILPOINTS", format!("{point}=pause"))
        .args(["image", "fetch", source, "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn pm");
    wait_for_line(&mut child, "paused");
    child
}

/// Reads the child's stderr until a line contains `needle`; the rest of
/// stderr is drained in the background so the child never blocks on it.
fn wait_for_line(child: &mut Child, needle: &str) {
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    loop {
        let line = lines
            .next()
            .unwrap_or_else(|| panic!("pm ended before printing {needle:?}"))
            .expect("stderr line");
        if line.contains(needle) {
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
}

fn finish(child: Child) -> Value {
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success(), "pm failed: {:?}", out.status);
    output_document(["image", "fetch"], &out)
}

#[test]
fn twenty_concurrent_fetches_of_one_source_download_it_once() {
    let body = data(4 * MIB, 12);
    bucket_with("crowd", "root.tar", &body);
    let proxy = Proxy::start(s3s_endpoint());
    let sb = Sandbox::new();
    // The first holds the download at its first recorded part...
    let mut first = start_paused(
        pm_s3_counted(&sb, &proxy.endpoint),
        "s3://crowd/root.tar",
        "fetch_part_recorded",
    );
    // ...while 19 more start and each says what it waits for.
    let mut others = Vec::new();
    for _ in 0..19 {
        let mut child = pm_s3_counted(&sb, &proxy.endpoint)
            .args(["image", "fetch", "s3://crowd/root.tar", "--json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        wait_for_line(&mut child, "which is fetching s3://crowd/root.tar");
        others.push(child);
    }
    drop(first.stdin.take()); // release the failpoint
    let mut docs = vec![finish(first)];
    docs.extend(others.into_iter().map(finish));
    let digest = format!("sha256:{}", sha256_hex(&body));
    assert!(docs.iter().all(|d| d["digest"] == digest));
    assert_eq!(docs.iter().filter(|d| d["changed"] == true).count(), 1);
    assert_eq!(proxy.body_bytes(), body.len() as u64, "downloaded once");
    assert_eq!(proxy.heads(), 1);
}

#[test]
fn fetches_of_different_sources_do_not_wait_for_each_other() {
    bucket_with("para", "a.tar", &data(3 * MIB, 13));
    let b_body = data(2 * MIB, 14);
    bucket_with("para", "b.tar", &b_body);
    let sb = Sandbox::new();
    let a = start_paused(
        pm_s3(&sb, s3s_endpoint()),
        "s3://para/a.tar",
        "fetch_part_recorded",
    );
    // A is mid-download (its partial file exists, its download lock held);
    // B runs to completion meanwhile.
    let mut b = pm_s3(&sb, s3s_endpoint());
    b.env("PM_LOCK_TIMEOUT", "0");
    let (doc, code) = fetch_json(b, "s3://para/b.tar");
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["digest"], format!("sha256:{}", sha256_hex(&b_body)));
    let mut a = a;
    drop(a.stdin.take());
    assert_eq!(finish(a)["changed"], true);
}

#[test]
fn http_source_is_fetched_with_ranges_and_if_match() {
    let body = data(3 * MIB + 7, 15);
    let origin = Origin::start(body.clone());
    let sb = Sandbox::new();
    let (doc, code) = fetch_json(pm_s3(&sb, s3s_endpoint()), &origin.url);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["digest"], format!("sha256:{}", sha256_hex(&body)));
    assert_eq!(doc["source"], origin.url);
    let (again, _) = fetch_json(pm_s3(&sb, s3s_endpoint()), &origin.url);
    assert_eq!(again["changed"], false);

    // A kill, then the origin's object changes: the resume notices.
    let other = Sandbox::new();
    let url = format!("{}?v=2", origin.url);
    let mut first = pm_s3(&other, s3s_endpoint());
    first
        .env("PM_FAILPOINTS", "fetch_part_recorded=kill@1")
        .args(["image", "fetch", &url]);
    assert_eq!(first.status().expect("run").signal(), Some(9));
    let v2 = data(3 * MIB + 7, 16);
    origin.replace(v2.clone());
    let (doc, code) = fetch_json(pm_s3(&other, s3s_endpoint()), &url);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["digest"], format!("sha256:{}", sha256_hex(&v2)));
}

#[test]
fn local_source_is_copied_into_the_store() {
    let sb = Sandbox::new();
    let body = data(MIB + 3, 17);
    std::fs::write(sb.path().join("root.tar"), &body).expect("write");
    let mut pm = sb.pm();
    pm.current_dir(sb.path())
        .args(["image", "fetch", "root.tar"]);
    let (doc, code) = json_of(&mut pm);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["digest"], format!("sha256:{}", sha256_hex(&body)));
    let canonical = std::fs::canonicalize(sb.path().join("root.tar")).expect("path");
    assert_eq!(doc["source"], canonical.display().to_string());

    let mut again = sb.pm();
    again.args(["image", "fetch"]).arg(&canonical);
    assert_eq!(json_of(&mut again).0["changed"], false);

    let mut missing = sb.pm();
    missing.args(["image", "fetch", "/nonexistent/root.tar"]);
    let (doc, code) = json_of(&mut missing);
    assert_eq!((error_code(&doc), code), ("not_found", 4));
}

#[test]
fn list_show_rm_and_gc_manage_the_store() {
    let sb = Sandbox::new();
    let (one, two) = (data(1000, 18), data(2000, 19));
    std::fs::write(sb.path().join("one.tar"), &one).expect("write");
    std::fs::write(sb.path().join("two.tar"), &two).expect("write");
    for name in ["one.tar", "two.tar"] {
        let mut pm = sb.pm();
        pm.arg("image").arg("fetch").arg(sb.path().join(name));
        assert_eq!(json_of(&mut pm).1, 0);
    }
    let (list, _) = json_of(sb.pm().args(["image", "list"]));
    assert_eq!(list["images"].as_array().expect("images").len(), 2);
    let (filtered, _) = json_of(sb.pm().args(["image", "list", "--source", "two.tar"]));
    let images = filtered["images"].as_array().expect("images");
    assert_eq!(images.len(), 1);
    let id = images[0]["id"].as_str().expect("id").to_string();
    assert_eq!(images[0]["digest"], format!("sha256:{}", sha256_hex(&two)));

    let (shown, code) = json_of(sb.pm().args(["image", "show", &id]));
    assert_eq!(code, 0);
    assert_eq!(shown["size"], 2000);
    let (piped, _) = json_of(
        sb.pm()
            .args(["image", "show", "-"])
            .write_stdin(filtered["images"][0].to_string()),
    );
    assert_eq!(piped["id"], id.as_str());

    let (removed, code) = json_of(sb.pm().args(["image", "rm", &id]));
    assert_eq!((removed["changed"].clone(), code), (Value::Bool(true), 0));
    assert!(
        !sb.path()
            .join(format!("state/images/sha256/{}", sha256_hex(&two)))
            .exists()
    );
    let (gone, code) = json_of(sb.pm().args(["image", "rm", &id]));
    assert_eq!((error_code(&gone), code), ("not_found", 4));

    // gc: an interrupted download and an orphan blob.
    bucket_with("gcbucket", "root.tar", &data(3 * MIB, 20));
    let mut killed = pm_s3(&sb, s3s_endpoint());
    killed
        .env("PM_FAILPOINTS", "fetch_part_recorded=kill@1")
        .args(["image", "fetch", "s3://gcbucket/root.tar"]);
    assert_eq!(killed.status().expect("run").signal(), Some(9));
    let orphan = sb
        .path()
        .join(format!("state/images/sha256/{}", "ab".repeat(32)));
    std::fs::write(&orphan, b"orphan").expect("orphan");
    let (kept, _) = json_of(sb.pm().args(["image", "gc"]));
    assert_eq!(
        kept["partial_downloads"].as_array().expect("list").len(),
        0,
        "young partials stay"
    );
    assert!(!orphan.exists());
    let (collected, code) = json_of(sb.pm().args(["image", "gc", "--older-than", "0s"]));
    assert_eq!(code, 0);
    assert_eq!(collected["changed"], true);
    assert_eq!(collected["partial_downloads"][0], "s3://gcbucket/root.tar");
    assert!(partial_files(&sb).is_empty());
    assert_eq!(count(&sb, "downloads"), 0);
    let (list, _) = json_of(sb.pm().args(["image", "list"]));
    assert_eq!(list["images"].as_array().expect("images").len(), 1);
}

#[test]
fn credentials_never_reach_logs_json_or_state() {
    bucket_with("creds", "root.tar", &data(2 * MIB, 21));
    let sb = Sandbox::new();
    let mut ok = cmd(pm_s3(&sb, s3s_endpoint()));
    ok.args([
        "-vvv",
        "--log-format",
        "json",
        "image",
        "fetch",
        "s3://creds/root.tar",
        "--json",
    ]);
    let out = ok.output().expect("run");
    assert!(out.status.success());
    let mut denied = pm_s3(&sb, s3s_endpoint());
    denied.env("AWS_SECRET_ACCESS_KEY", "wrong-secret-also-private-91823");
    let out2 = cmd(denied)
        .args(["-vvv", "image", "fetch", "s3://creds/missing.tar", "--json"])
        .output()
        .expect("run");
    assert!(!out2.status.success());
    let state = std::fs::read(sb.state_path()).expect("state");
    let wal = std::fs::read(sb.path().join("state/state.db-wal")).unwrap_or_default();
    for (secret, texts) in [
        (SECRET_KEY, vec![&out.stdout, &out.stderr, &state, &wal]),
        (
            "wrong-secret-also-private-91823",
            vec![&out2.stdout, &out2.stderr, &state, &wal],
        ),
    ] {
        for text in texts {
            assert!(
                !String::from_utf8_lossy(text).contains(secret),
                "secret leaked: {}",
                String::from_utf8_lossy(text)
            );
        }
    }
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("fetch_complete"),
        "the debug log was on"
    );
}

#[test]
fn https_source_is_verified_against_trusted_roots() {
    let body = data(2 * MIB + 5, 22);
    let origin = servers::TlsOrigin::start(&body);
    let sb = Sandbox::new();
    // Not trusted: a permanent failure, not a retry loop.
    let (doc, code) = fetch_json(pm_s3(&sb, s3s_endpoint()), &origin.url);
    assert_eq!((error_code(&doc), code), ("fetch_unsupported", 3), "{doc}");
    assert!(
        doc["error"]["message"]
            .as_str()
            .unwrap()
            .contains("certificate"),
        "{doc}"
    );

    let mut trusted = pm_s3(&sb, s3s_endpoint());
    trusted.env("SSL_CERT_FILE", &origin.cert);
    let (doc, code) = fetch_json(trusted, &origin.url);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["digest"], format!("sha256:{}", sha256_hex(&body)));
}

/// Sends `signal` to a child pm.
fn send_signal(child: &Child, signal: i32) {
    // SAFETY: kill(2) on the pid of a child we spawned and have not reaped.
    let rc = unsafe { libc::kill(child.id() as libc::pid_t, signal) };
    assert_eq!(rc, 0, "kill({signal})");
}

/// A proxy that forwards the first `passing` GETs and stalls every later
/// one, and a receiver that hears when the first stalled GET arrives: by
/// then (one part at a time) exactly `passing` parts are finished.
fn stalling_proxy(passing: usize) -> (Proxy, std::sync::mpsc::Receiver<()>) {
    let proxy = Proxy::start(s3s_endpoint());
    proxy.inject(
        std::iter::repeat_n(Fault::Pass, passing).chain(std::iter::repeat_n(Fault::Stall, 8)),
    );
    let (tx, rx) = std::sync::mpsc::channel();
    let stalled = passing as u64 + 1;
    proxy.before_get(move |n| {
        if n == stalled {
            let _ = tx.send(());
        }
    });
    (proxy, rx)
}

fn spawn_fetch(mut pm: std::process::Command, source: &str) -> Child {
    pm.env("PM_IMAGE_CONCURRENCY", "1")
        .env("PM_IMAGE_STALL_TIMEOUT", "600")
        .args(["image", "fetch", source, "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn pm")
}

#[test]
fn a_fetch_stopped_by_sigterm_mid_download_reports_interrupted_and_resumes() {
    let body = data(8 * MIB, 24);
    bucket_with("sigterm", "root.tar", &body);
    let (proxy, stalled) = stalling_proxy(3);
    let sb = Sandbox::new();
    let child = spawn_fetch(pm_s3(&sb, &proxy.endpoint), "s3://sigterm/root.tar");
    stalled
        .recv_timeout(std::time::Duration::from_secs(120))
        .expect("pm reached the fourth part");
    send_signal(&child, libc::SIGTERM);
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(143), "{stderr}");
    let doc = output_document(["image", "fetch"], &out);
    assert_eq!(error_code(&doc), "interrupted", "{doc}");
    let err = &doc["error"];
    assert_eq!(err["signal"], "SIGTERM");
    assert_eq!(err["kept_bytes"], (3 * MIB) as u64, "{doc}\n{stderr}");
    assert!(
        err["kept"]
            .as_str()
            .is_some_and(|k| k.starts_with("3 of 8 parts")),
        "{doc}"
    );
    assert!(
        err["resume"]
            .as_str()
            .is_some_and(|r| r.starts_with("pm image fetch s3://sigterm/root.tar")),
        "{doc}"
    );
    assert!(stderr.contains("SIGTERM received"), "{stderr}");
    assert_eq!(stderr.matches("pm: error:").count(), 1, "{stderr}");
    assert_eq!(recorded_parts(&sb), BTreeSet::from([0, 1, 2]));
    assert_eq!(count(&sb, "images"), 0);

    let proxy = Proxy::start(s3s_endpoint());
    let (doc, code) = fetch_json(pm_s3_counted(&sb, &proxy.endpoint), "s3://sigterm/root.tar");
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["digest"], format!("sha256:{}", sha256_hex(&body)));
    assert_eq!(doc["bytes_resumed"], (3 * MIB) as u64);
    assert_eq!(
        proxy.body_bytes(),
        (5 * MIB) as u64,
        "only the missing parts"
    );
}

#[test]
fn a_second_signal_stops_pm_at_once() {
    bucket_with("twice", "root.tar", &data(4 * MIB, 25));
    let (proxy, _stalled) = stalling_proxy(1);
    let sb = Sandbox::new();
    let mut pm = pm_s3(&sb, &proxy.endpoint);
    // The bookkeeping thread holds at the first part, so the clean stop
    // after the first signal cannot finish.
    pm.env("PM_FAILPOINTS", "fetch_part_recorded=pause");
    let mut child = spawn_fetch(pm, "s3://twice/root.tar");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    crate::support::wait_for_line(&mut stderr, "paused");
    send_signal(&child, libc::SIGINT);
    crate::support::wait_for_line(&mut stderr, "SIGINT received");
    send_signal(&child, libc::SIGINT);
    let status = child.wait().expect("wait");
    assert_eq!(status.signal(), Some(libc::SIGINT), "killed by the second");
}

#[test]
fn a_signal_outside_a_download_exits_130_with_the_document_and_state_stays_usable() {
    let sb = Sandbox::new();
    let body = data(MIB, 26);
    let file = sb.path().join("root.tar");
    std::fs::write(&file, &body).expect("write");
    let mut pm = sb.pm_std();
    // Held after the blob is in the store and before it is recorded: the
    // step a crash would leave half done.
    pm.env("PM_FAILPOINTS", "fetch_before_record=pause")
        .args(["image", "fetch"])
        .arg(&file)
        .arg("--json")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = pm.spawn().expect("spawn");
    // Held open: closing it would release the failpoint.
    let _stdin = child.stdin.take();
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    crate::support::wait_for_line(&mut stderr, "paused");
    send_signal(&child, libc::SIGINT);
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(130));
    let doc = output_document(["image", "fetch"], &out);
    assert_eq!(error_code(&doc), "interrupted", "{doc}");
    assert_eq!(doc["error"]["signal"], "SIGINT");
    assert!(
        doc["error"]["hint"]
            .as_str()
            .is_some_and(|h| h.contains("pm image fetch")),
        "{doc}"
    );
    assert_eq!(count(&sb, "images"), 0, "nothing recorded half way");

    let (again, code) = json_of(sb.pm().args(["image", "fetch"]).arg(&file));
    assert_eq!(code, 0, "{again}");
    assert_eq!(again["digest"], format!("sha256:{}", sha256_hex(&body)));
}

/// One slow part must not idle the other connections: they fetch ahead of
/// the in-order hash (without buffers; the hasher reads those parts back),
/// and the digest still comes out right.
#[test]
fn a_stalled_part_does_not_hold_back_the_other_connections() {
    let body = data(10 * MIB, 27);
    bucket_with("ahead", "root.tar", &body);
    let proxy = Proxy::start(s3s_endpoint());
    proxy.inject([Fault::Stall]);
    let sb = Sandbox::new();
    let mut pm = pm_s3_counted(&sb, &proxy.endpoint);
    pm.env("PM_IMAGE_CONCURRENCY", "2");
    let (doc, code) = fetch_json(pm, "s3://ahead/root.tar");
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["digest"], format!("sha256:{}", sha256_hex(&body)));
    let ranges = proxy.ranges();
    let range = |part: usize| format!("bytes={}-{}", part * MIB, (part + 1) * MIB - 1);
    // The first GET to arrive is the one that stalled (part 0 or 1).
    let stalled = (0..10).find(|&p| ranges[0] == range(p)).expect("a part");
    let retry = ranges.iter().rposition(|r| *r == range(stalled)).unwrap();
    assert!(retry > 0, "the stalled part was retried: {ranges:?}");
    // Two parts beyond the window (concurrency 2) of the stalled part.
    let beyond_window = ranges
        .iter()
        .position(|r| *r == range(stalled + 3))
        .expect("fetched");
    assert!(
        beyond_window < retry,
        "part {} waited for the stalled part {stalled}: {ranges:?}",
        stalled + 3
    );
    assert_eq!(proxy.gets(), 10 + 1, "ten parts and one retry");
}

/// The end of a download must not leave one connection working while the
/// others idle: the one that comes free takes over the second half of what
/// the held part still lacks, and the held connection stops where that
/// half begins. Without the takeover the held part would wait for its
/// stall timeout and be fetched again whole.
#[test]
fn a_free_connection_takes_over_half_of_the_last_part() {
    let body = data(2 * MIB, 29);
    bucket_with("tail", "root.tar", &body);
    let proxy = Proxy::start(s3s_endpoint());
    proxy.inject([Fault::Hold]);
    let sb = Sandbox::new();
    let mut pm = pm_s3(&sb, &proxy.endpoint);
    pm.env("PM_IMAGE_CONCURRENCY", "2")
        .env("PM_IMAGE_STALL_TIMEOUT", "30");
    let (doc, code) = fetch_json(pm, "s3://tail/root.tar");
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["digest"], format!("sha256:{}", sha256_hex(&body)));
    let ranges = proxy.ranges();
    assert!(
        ranges.len() >= 3,
        "two parts and a piece taken over: {ranges:?}"
    );
    let whole = |part: usize| format!("bytes={}-{}", part * MIB, (part + 1) * MIB - 1);
    let mut first_two = ranges[..2].to_vec();
    first_two.sort();
    assert_eq!(first_two, [whole(0), whole(1)], "{ranges:?}");
    // The held connection had sent half its part; what it still lacked is
    // split in two, and the free connection asks for the second half.
    let (from, to) = ranges[2]
        .strip_prefix("bytes=")
        .and_then(|r| r.split_once('-'))
        .map(|(a, b)| (a.parse::<usize>().unwrap(), b.parse::<usize>().unwrap()))
        .expect("a byte range");
    let part_start = from / MIB * MIB;
    assert!(
        (part_start + MIB / 2..=part_start + 3 * MIB / 4).contains(&from),
        "taken over from {from}: {ranges:?}"
    );
    assert_eq!(to, part_start + MIB - 1, "{ranges:?}");
    // Later takeovers, if any, split what is left of that part again.
    for later in &ranges[3..] {
        let from: usize = later[6..].split('-').next().unwrap().parse().unwrap();
        assert!(from > part_start && from < part_start + MIB, "{ranges:?}");
    }
    assert_eq!(recorded_parts(&sb), BTreeSet::new(), "the download is done");
    assert_eq!(count(&sb, "downloads"), 0);
}

/// Only a connection that finished its piece takes over: the connections
/// an object smaller than a part never needed stay unused.
#[test]
fn an_object_of_one_part_is_one_get() {
    let body = data(700 << 10, 31);
    bucket_with("small", "root.tar", &body);
    let proxy = Proxy::start(s3s_endpoint());
    let sb = Sandbox::new();
    let (doc, code) = fetch_json(pm_s3(&sb, &proxy.endpoint), "s3://small/root.tar");
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["digest"], format!("sha256:{}", sha256_hex(&body)));
    assert_eq!(proxy.ranges(), [format!("bytes=0-{}", body.len() - 1)]);
}

/// Without the takeover (`image.split_tail = false`) every part is one GET.
#[test]
fn split_tail_off_fetches_each_part_once() {
    let body = data(3 * MIB, 30);
    bucket_with("nosplit", "root.tar", &body);
    let proxy = Proxy::start(s3s_endpoint());
    let sb = Sandbox::new();
    let mut pm = pm_s3(&sb, &proxy.endpoint);
    pm.env("PM_IMAGE_SPLIT_TAIL", "false");
    let (doc, code) = fetch_json(pm, "s3://nosplit/root.tar");
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["digest"], format!("sha256:{}", sha256_hex(&body)));
    assert_eq!(proxy.gets(), 3);
    assert_eq!(proxy.body_bytes(), body.len() as u64);
}

/// Issue 10 (seen on the way): `pm image fetch ''` named the current
/// directory and failed with `internal` "Is a directory".
#[test]
fn an_empty_source_is_a_usage_error() {
    let sb = Sandbox::new();
    for empty in ["", "  "] {
        let (doc, code) = json_of(sb.pm().args(["image", "fetch", empty]));
        assert_eq!((code, error_code(&doc)), (2, "usage"), "{empty:?}: {doc}");
        assert!(
            doc["error"]["message"].as_str().unwrap().contains("empty"),
            "{doc}"
        );
    }
}
