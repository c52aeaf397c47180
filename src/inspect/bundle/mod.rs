//! `pm logs collect`: a tar.gz support bundle of pm's logs, tailscaled's
//! log, a state dump, the inspection, doctor's verdict, a report and the
//! effective config, each with a manifest entry (what, from where, size,
//! truncated or not, how long it took, how many secrets were removed).
//!
//! What it owes the host: it reads originals and never moves or changes
//! them (opened read-only, `O_NOATIME` where allowed, non-blocking so a FIFO
//! cannot hang it), it bounds every item's size (`logs.max_item_size`: a log
//! keeps its newest lines) and time (`logs.item_timeout`: a file on a hung
//! mount is left out, and the manifest says so), and it writes only the
//! bundle, atomically. What it owes the reader: every item, the manifest
//! included, passes through [`redact::Redactor`] first.

pub mod obfuscate;
pub mod redact;
pub mod sources;

use super::report::{self, Format};
use super::{Facts, host, net, provider, write};
use crate::config::key;
use crate::state::{HistoryFilter, Reader, format_ms, now_ms};
use anyhow::Result;
use flate2::Compression;
use flate2::write::GzEncoder;
use obfuscate::Obfuscator;
use redact::Redactor;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Value, json};
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// History rows in the state dump.
const HISTORY_DUMP_ROWS: u32 = 1000;
/// Files taken from one folder of `logs.paths`.
const MAX_FILES_PER_FOLDER: usize = 64;

pub struct Options {
    pub output: PathBuf,
    pub obfuscate: bool,
}

/// One entry of `manifest.json`.
#[derive(Debug, Serialize)]
pub struct Entry {
    /// Its path in the bundle (under the bundle's folder).
    pub name: String,
    pub what: String,
    /// A file it was read from, or `pm (in process)`.
    pub source: String,
    /// `ok`, `missing`, `unreadable`, `timed_out` or `not_a_file`.
    pub status: &'static str,
    pub bytes: u64,
    pub original_bytes: u64,
    pub truncated: bool,
    pub duration_ms: u64,
    pub redactions: usize,
    pub error: Option<String>,
}

#[derive(Serialize, JsonSchema)]
pub struct Collected {
    pub changed: bool,
    pub path: PathBuf,
    pub bytes: u64,
    pub items: usize,
    pub redactions: usize,
    pub obfuscated: bool,
    /// Items listed in the manifest but not in the bundle, and why.
    pub left_out: Vec<String>,
}

/// What an item's source gave, before redaction.
struct Raw {
    text: String,
    original_bytes: u64,
    truncated: bool,
}

struct Bundle {
    redactor: Redactor,
    max_bytes: u64,
    timeout: Duration,
    entries: Vec<Entry>,
    files: Vec<(String, String)>,
}

pub fn collect(facts: &Facts, options: &Options) -> Result<Collected> {
    let config = facts.config();
    let known = sources::gather(config);
    let obfuscator = options.obfuscate.then(|| {
        let network = facts.network();
        Obfuscator::new(&host::hostname(), &net::host_names(network))
    });
    let mut bundle = Bundle {
        redactor: Redactor::new(known.values, obfuscator),
        max_bytes: config.bytes(key::LOGS_MAX_ITEM_SIZE).max(1024),
        timeout: Duration::from_secs(config.int(key::LOGS_ITEM_TIMEOUT).max(1) as u64),
        entries: Vec::new(),
        files: Vec::new(),
    };
    in_process_items(&mut bundle, facts)?;
    log_items(&mut bundle, facts);
    let manifest = manifest(&bundle, &known.sources, options.obfuscate);
    let manifest = bundle
        .redactor
        .redact(&serde_json::to_string_pretty(&manifest)?);
    bundle
        .files
        .push(("manifest.json".to_string(), manifest.text));
    let written = write_tar_gz(&options.output, &bundle.files)?;
    Ok(Collected {
        changed: true,
        path: options.output.clone(),
        bytes: written,
        items: bundle.files.len(),
        redactions: bundle.entries.iter().map(|e| e.redactions).sum::<usize>()
            + manifest.replacements,
        obfuscated: options.obfuscate,
        left_out: bundle
            .entries
            .iter()
            .filter(|e| e.status != "ok")
            .map(|e| format!("{} ({})", e.name, e.status))
            .collect(),
    })
}

impl Bundle {
    /// Two logs of the same name from different folders keep both:
    /// `pm.log`, `pm-2.log`.
    fn unique(&self, name: &str) -> String {
        let taken = |n: &str| self.entries.iter().any(|e| e.name == n);
        if !taken(name) {
            return name.to_string();
        }
        let (stem, ext) = match name.rsplit_once('.') {
            Some((stem, ext)) if !ext.contains('/') => (stem, format!(".{ext}")),
            _ => (name, String::new()),
        };
        (2..)
            .map(|n| format!("{stem}-{n}{ext}"))
            .find(|candidate| !taken(candidate))
            .unwrap_or_default()
    }

    /// Adds an item made in this process (its time is what it took).
    fn add_made(&mut self, name: &str, what: &str, started: Instant, text: String) {
        let original_bytes = text.len() as u64;
        let raw = Raw {
            text,
            original_bytes,
            truncated: false,
        };
        self.add(name, what, "pm (in process)".to_string(), started, Ok(raw));
    }

    fn add(
        &mut self,
        name: &str,
        what: &str,
        source: String,
        started: Instant,
        raw: Result<Raw, (&'static str, String)>,
    ) {
        let duration_ms = started.elapsed().as_millis() as u64;
        let name = &self.unique(name);
        let entry = match raw {
            Ok(raw) => {
                let clean = self.redactor.redact(&raw.text);
                let entry = Entry {
                    name: name.to_string(),
                    what: what.to_string(),
                    source,
                    status: "ok",
                    bytes: clean.text.len() as u64,
                    original_bytes: raw.original_bytes,
                    truncated: raw.truncated,
                    duration_ms,
                    redactions: clean.replacements,
                    error: None,
                };
                self.files
                    .push((self.redactor.redact(name).text, clean.text));
                entry
            }
            Err((status, error)) => Entry {
                name: name.to_string(),
                what: what.to_string(),
                source,
                status,
                bytes: 0,
                original_bytes: 0,
                truncated: false,
                duration_ms,
                redactions: 0,
                error: Some(error),
            },
        };
        self.entries.push(entry);
    }
}

fn pretty(value: &impl Serialize) -> Result<String> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    Ok(text)
}

fn in_process_items(bundle: &mut Bundle, facts: &Facts) -> Result<()> {
    let started = Instant::now();
    let report = report::build(facts);
    bundle.add_made(
        "inspect.json",
        "pm inspect --json",
        started,
        pretty(&report.inspection)?,
    );
    let started = Instant::now();
    bundle.add_made(
        "inspect.txt",
        "pm inspect",
        started,
        report::text::summary(&report.inspection),
    );
    let started = Instant::now();
    bundle.add_made(
        "doctor.txt",
        "pm doctor",
        started,
        report.inspection.checks.human(),
    );
    let started = Instant::now();
    bundle.add_made(
        "doctor.json",
        "pm doctor --json",
        started,
        pretty(&report.inspection.checks)?,
    );
    let started = Instant::now();
    bundle.add_made(
        "report.html",
        "pm report --format html",
        started,
        report::render(&report, Format::Html)?,
    );
    let started = Instant::now();
    bundle.add_made(
        "config.json",
        "pm config show --json",
        started,
        pretty(facts.config())?,
    );
    let started = Instant::now();
    let dump = match facts.probes().state() {
        Ok(db) => state_dump(db, facts.config().string(key::POOL_NAME))?,
        Err(why) => json!({"unavailable": why}),
    };
    bundle.add_made(
        "state.json",
        "a dump of the state database",
        started,
        pretty(&dump)?,
    );
    Ok(())
}

/// Every table pm keeps, through the read-only handle's typed queries.
fn state_dump(db: &Reader, pool_name: &str) -> Result<Value> {
    let images: Vec<Value> = db
        .images()?
        .into_iter()
        .map(|row| {
            let verdict = db.validation(&row.digest).ok().flatten().map(|v| v.verdict);
            json!({"digest": row.digest, "size": row.size, "path": row.path, "sources": row.sources,
                   "created_at": format_ms(row.created_at_ms), "verdict": verdict})
        })
        .collect();
    let intents: Vec<Value> = db
        .open_intents()?
        .into_iter()
        .map(|i| {
            json!({"id": i.id, "op": i.op, "backend": i.backend, "thin_id": i.thin_id,
                        "digest": i.digest, "activation": i.activation, "path": i.path})
        })
        .collect();
    Ok(json!({
        "summary": db.summary()?,
        "pool": db.pool(pool_name)?,
        "images": images,
        "volumes": db.volumes()?,
        "activations": crate::pool::list_activations(db)?,
        "open_intents": intents,
        "history": db.history(&HistoryFilter { limit: HISTORY_DUMP_ROWS, ..HistoryFilter::default() })?,
    }))
}

fn log_items(bundle: &mut Bundle, facts: &Facts) {
    let config = facts.config();
    let listed = config.string(key::LOGS_PATHS);
    for entry in listed.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let path = Path::new(entry);
        if path.is_dir() {
            for file in folder_files(path) {
                let name = format!(
                    "logs/pm/{}",
                    file.file_name()
                        .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
                );
                add_file(bundle, &name, "a pm log (logs.paths)", &file);
            }
        } else {
            let name = format!(
                "logs/pm/{}",
                path.file_name()
                    .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
            );
            add_file(bundle, &name, "a pm log (logs.paths)", path);
        }
    }
    for (name, path) in net::log_files(config) {
        add_file(
            bundle,
            &format!("logs/net/{name}"),
            "the network's log (pm net)",
            &path,
        );
    }
    for (name, path) in provider::log_files(config) {
        add_file(
            bundle,
            &format!("logs/provider/{name}"),
            "the provider's log (pm provider)",
            &path,
        );
    }
}

fn folder_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| !p.is_dir())
        .collect();
    files.sort();
    files.truncate(MAX_FILES_PER_FOLDER);
    files
}

fn add_file(bundle: &mut Bundle, name: &str, what: &str, path: &Path) {
    let started = Instant::now();
    let raw = read_bounded(path, bundle.max_bytes, bundle.timeout);
    bundle.add(name, what, path.display().to_string(), started, raw);
}

/// Reads the file's last `max` bytes on a thread of its own, waiting at
/// most `timeout` for it (a file on a hung mount must not hang pm).
fn read_bounded(path: &Path, max: u64, timeout: Duration) -> Result<Raw, (&'static str, String)> {
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(("missing", "no such file".to_string()));
        }
        Err(e) => return Err(("unreadable", e.to_string())),
        Ok(m) if !m.is_file() => return Err(("not_a_file", "not a regular file".to_string())),
        Ok(_) => {}
    }
    let (tx, rx) = mpsc::channel();
    let owned = path.to_path_buf();
    std::thread::spawn(move || {
        let _ = tx.send(read_tail(&owned, max));
    });
    match rx.recv_timeout(timeout) {
        Ok(Ok(raw)) => Ok(raw),
        Ok(Err(e)) => Err(("unreadable", e.to_string())),
        Err(_) => Err((
            "timed_out",
            format!("not read within {} s", timeout.as_secs()),
        )),
    }
}

fn open_original(path: &Path) -> std::io::Result<std::fs::File> {
    let open = |flags| {
        std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(flags)
            .open(path)
    };
    // O_NOATIME keeps even the access time of the original; only its owner
    // (or root) may ask for it.
    #[cfg(target_os = "linux")]
    if let Ok(file) = open(libc::O_NONBLOCK | libc::O_NOATIME) {
        return Ok(file);
    }
    open(libc::O_NONBLOCK)
}

/// The newest `max` bytes, starting at a line (a line cut in two could
/// hide half a secret from the redactor).
fn read_tail(path: &Path, max: u64) -> std::io::Result<Raw> {
    let mut file = open_original(path)?;
    let len = file.metadata()?.len();
    let truncated = len > max;
    if truncated {
        file.seek(SeekFrom::Start(len - max))?;
    }
    let mut bytes = Vec::new();
    file.take(max).read_to_end(&mut bytes)?;
    if truncated {
        let first_line_end = bytes
            .iter()
            .position(|b| *b == b'\n')
            .map_or(bytes.len(), |i| i + 1);
        bytes.drain(..first_line_end);
    }
    Ok(Raw {
        text: String::from_utf8_lossy(&bytes).into_owned(),
        original_bytes: len,
        truncated,
    })
}

fn manifest(bundle: &Bundle, known_sources: &[String], obfuscated: bool) -> Value {
    json!({
        "pm_version": env!("CARGO_PKG_VERSION"),
        "created_at": format_ms(now_ms()),
        "hostname": host::hostname(),
        "obfuscated": obfuscated,
        "limits": {
            "max_item_bytes": bundle.max_bytes,
            "item_timeout_secs": bundle.timeout.as_secs(),
        },
        "redaction": {
            "known_sources": known_sources,
            "shapes": redact::SHAPES,
            "replacements": bundle.entries.iter().map(|e| e.redactions).sum::<usize>(),
        },
        "items": bundle.entries,
    })
}

/// `pm-support-20261201T210733Z.tar.gz`: the default bundle name.
pub fn default_name() -> String {
    let stamp: String = format_ms(now_ms())
        .chars()
        .take(19)
        .filter(|c| c.is_ascii_digit() || *c == 'T')
        .collect();
    format!("pm-support-{stamp}Z.tar.gz")
}

/// Everything under one folder named like the bundle, owner-only.
fn write_tar_gz(dest: &Path, files: &[(String, String)]) -> Result<u64> {
    let folder = dest
        .file_name()
        .map(|n| {
            n.to_string_lossy()
                .trim_end_matches(".tar.gz")
                .trim_end_matches(".tgz")
                .to_string()
        })
        .unwrap_or_else(|| "pm-support".to_string());
    let mtime = (now_ms() / 1000).max(0) as u64;
    write::atomically(dest, 0o600, |file| {
        let mut tar = tar::Builder::new(GzEncoder::new(file, Compression::default()));
        for (name, text) in files {
            let mut header = tar::Header::new_gnu();
            header.set_size(text.len() as u64);
            header.set_mode(0o600);
            header.set_mtime(mtime);
            header.set_entry_type(tar::EntryType::Regular);
            tar.append_data(&mut header, format!("{folder}/{name}"), text.as_bytes())?;
        }
        tar.into_inner()?.finish()?;
        Ok(())
    })
}
