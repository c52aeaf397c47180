//! `pm image validate`: judges a root-filesystem archive as hostile input in
//! one streaming pass, with bounded memory, and lists every violation.
//!
//! - [`stream`]: format by magic bytes, decompression, the compression-ratio
//!   guard and the classification of stream errors;
//! - [`tree`]: the model of the unpacked tree and symlink resolution inside
//!   the image root;
//! - [`rules`]: [`EntryChecker`], the per-entry rules, which the unpacker of
//!   `pm image activate` calls for every entry too;
//! - [`record`]: validation results of stored images in the state.
//!
//! Each rule has a stable snake_case name (see [`rule`]) that scripts match on.

pub mod record;
pub mod rules;
pub mod stream;
pub mod tree;

pub use record::{ValidationRecord, record_validation, validation_for};
pub use rules::{Counts, EntryChecker, EntryFacts, Summary};
pub use stream::{
    ArchiveStream, EntryBudget, Format, check_archive_end, open_archive, violation_from_io,
};

use crate::config::Config;
use crate::error::PmError;
use crate::progress::Progress;
use anyhow::Result;
use serde::{Deserialize, Serialize};
use std::io::Read;

/// The stable rule names, as they appear in `violations[].rule`.
pub mod rule {
    pub const ABSOLUTE_PATH: &str = "absolute_path";
    pub const PATH_TRAVERSAL: &str = "path_traversal";
    pub const NUL_IN_NAME: &str = "nul_in_name";
    pub const INVALID_PATH: &str = "invalid_path";
    pub const PATH_TOO_LONG: &str = "path_too_long";
    pub const COMPONENT_TOO_LONG: &str = "component_too_long";
    pub const TOO_DEEP: &str = "too_deep";
    pub const WRITE_THROUGH_SYMLINK: &str = "write_through_symlink";
    pub const PARENT_NOT_DIRECTORY: &str = "parent_not_directory";
    pub const SYMLINK_ESCAPE: &str = "symlink_escape";
    pub const SYMLINK_LOOP: &str = "symlink_loop";
    pub const HARDLINK_ESCAPE: &str = "hardlink_escape";
    pub const HARDLINK_TARGET_MISSING: &str = "hardlink_target_missing";
    pub const HARDLINK_THROUGH_SYMLINK: &str = "hardlink_through_symlink";
    pub const HARDLINK_TO_DIRECTORY: &str = "hardlink_to_directory";
    pub const DEVICE_NODE: &str = "device_node";
    pub const FIFO: &str = "fifo";
    pub const SETUID: &str = "setuid";
    pub const SETGID: &str = "setgid";
    pub const TYPE_CHANGE: &str = "type_change";
    pub const UNSUPPORTED_ENTRY_TYPE: &str = "unsupported_entry_type";
    pub const TOO_MANY_ENTRIES: &str = "too_many_entries";
    pub const UNPACKED_SIZE: &str = "unpacked_size";
    pub const COMPRESSION_RATIO: &str = "compression_ratio";
    pub const OVERSIZED_HEADER: &str = "oversized_header";
    pub const TRUNCATED: &str = "truncated";
    pub const BAD_CHECKSUM: &str = "bad_checksum";
    pub const CORRUPT_HEADER: &str = "corrupt_header";
    pub const CORRUPT_COMPRESSION: &str = "corrupt_compression";
    pub const TRAILING_GARBAGE: &str = "trailing_garbage";
    pub const EMPTY_ARCHIVE: &str = "empty_archive";
    pub const NOT_AN_ARCHIVE: &str = "not_an_archive";
    pub const UNSUPPORTED_FORMAT: &str = "unsupported_format";
    pub const UNREADABLE: &str = "unreadable";
}

/// Bumped when the rules change, so stored verdicts of an older validator
/// are not trusted as current.
pub const RULES_VERSION: u32 = 1;

/// The limits in force; every one is a flag and a config key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Total bytes of file data unpacking may write.
    pub max_unpacked_bytes: u64,
    /// Entries in the archive, and files plus directories unpacking creates.
    pub max_entries: u64,
    /// Bytes in an entry name or link target.
    pub max_path_len: u64,
    /// Bytes in one path component.
    pub max_component_len: u64,
    /// Components in an entry name.
    pub max_depth: u64,
    /// Symlinks followed while resolving one link (the kernel's is 40).
    pub max_symlink_hops: u32,
    /// Decompressed bytes per compressed byte; 0 turns the guard off.
    pub max_ratio: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_unpacked_bytes: 8 << 30,
            max_entries: 100_000,
            max_path_len: 4096,
            max_component_len: 255,
            max_depth: 256,
            max_symlink_hops: 40,
            max_ratio: 100,
        }
    }
}

impl Limits {
    /// The `image.*` limits of the effective configuration.
    pub fn from_config(config: &Config) -> Limits {
        use crate::config::key;
        let count = |k| config.int(k).max(0) as u64;
        Limits {
            max_unpacked_bytes: config.bytes(key::IMAGE_MAX_UNPACKED_SIZE),
            max_entries: count(key::IMAGE_MAX_ENTRIES),
            max_path_len: count(key::IMAGE_MAX_PATH_LENGTH),
            max_component_len: count(key::IMAGE_MAX_COMPONENT_LENGTH),
            max_depth: count(key::IMAGE_MAX_DEPTH),
            max_symlink_hops: count(key::IMAGE_MAX_SYMLINK_HOPS).min(u64::from(u32::MAX)) as u32,
            max_ratio: count(key::IMAGE_MAX_COMPRESSION_RATIO),
        }
    }
}

/// What the policy allows beyond the safe default.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// Character and block devices and FIFOs.
    pub allow_devices: bool,
    /// setuid and setgid files.
    pub allow_setuid: bool,
}

impl Policy {
    pub fn from_config(config: &Config) -> Policy {
        Policy {
            allow_devices: config.bool(crate::config::key::IMAGE_ALLOW_DEVICES),
            allow_setuid: config.bool(crate::config::key::IMAGE_ALLOW_SETUID),
        }
    }
}

/// One broken rule: which, where, and what exactly.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    pub rule: String,
    /// The entry's path as written in the archive (`""` for the archive as
    /// a whole); NUL bytes shown as `\0`.
    pub path: String,
    pub detail: String,
}

impl Violation {
    pub fn new(rule: &'static str, path: &str, detail: String) -> Violation {
        Violation {
            rule: rule.to_string(),
            path: path.to_string(),
            detail,
        }
    }

    /// One line for people: `rule  path: detail`.
    pub fn line(&self) -> String {
        let path = if self.path.is_empty() {
            "(archive)"
        } else {
            &self.path
        };
        format!("{:<24} {path}: {}", self.rule, self.detail)
    }
}

/// An entry name for reports: lossy UTF-8, NUL shown as `\0`.
pub fn display_path(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw).replace('\0', "\\0")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Safe,
    Rejected,
}

/// The result of one validation pass.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Report {
    pub verdict: Verdict,
    /// `None` when the file is not an archive at all.
    pub format: Option<Format>,
    /// Bytes read from the file.
    pub compressed_bytes: u64,
    /// Bytes of file data unpacking would write.
    pub unpacked_bytes: u64,
    pub counts: Counts,
    pub limits: Limits,
    pub policy: Policy,
    pub violations: Vec<Violation>,
    /// Allowed by the policy but reported (setuid files, devices).
    pub notices: Vec<Violation>,
}

impl Report {
    pub fn is_safe(&self) -> bool {
        self.verdict == Verdict::Safe
    }

    /// The typed error for a rejected report.
    pub fn rejection(&self) -> PmError {
        PmError::ImageRejected {
            violations: self.violations.clone(),
        }
    }
}

/// Validates an archive in one streaming pass and lists every violation.
/// `Err` only when the source cannot be read; a hostile or malformed
/// archive is an `Ok` report with verdict `rejected`.
pub fn validate_reader<R: Read>(reader: R, limits: &Limits, policy: &Policy) -> Result<Report> {
    let mut report = Report {
        verdict: Verdict::Safe,
        format: None,
        compressed_bytes: 0,
        unpacked_bytes: 0,
        counts: Counts::default(),
        limits: limits.clone(),
        policy: policy.clone(),
        violations: Vec::new(),
        notices: Vec::new(),
    };
    let (format, stream) = match open_archive(reader, limits) {
        Ok(opened) => opened,
        Err(e) => {
            return match e.downcast::<PmError>() {
                Ok(PmError::ImageRejected { violations }) => {
                    report.violations = violations;
                    report.verdict = Verdict::Rejected;
                    Ok(report)
                }
                Ok(other) => Err(other.into()),
                Err(e) => Err(e),
            };
        }
    };
    report.format = Some(format);
    let mut checker = EntryChecker::new(limits.clone(), policy.clone());
    checker.attach(stream.budget());
    let mut archive = tar::Archive::new(stream);
    // Whether the parser reached the end-of-archive marker (or the end of
    // the stream) without a stream error or a fatal limit.
    let complete = {
        let entries = archive
            .entries()
            .map_err(|e| anyhow::anyhow!("cannot start reading the archive: {e}"))?;
        let mut last_path = String::new();
        let mut ended = true;
        for item in entries {
            match item {
                Ok(mut entry) => {
                    last_path = display_path(&entry.path_bytes());
                    report.violations.extend(checker.check_entry(&mut entry));
                    if checker.must_stop() {
                        ended = false;
                        break;
                    }
                }
                Err(e) if stream::is_source_error(&e) => return Err(stream::source_failure(e)),
                Err(e) => {
                    let mut v = violation_from_io(&e, "");
                    if !last_path.is_empty() {
                        // The stream broke while skipping this entry's data.
                        let in_data = [
                            rule::COMPRESSION_RATIO,
                            rule::TRUNCATED,
                            rule::CORRUPT_COMPRESSION,
                        ];
                        if in_data.contains(&v.rule.as_str()) {
                            v.path = last_path.clone();
                        }
                        v.detail = format!("{} (after entry {last_path:?})", v.detail);
                    }
                    report.violations.push(v);
                    ended = false;
                    break;
                }
            }
        }
        ended
    };
    let mut stream = archive.into_inner();
    report.compressed_bytes = stream.source_bytes();
    if complete {
        stream.budget().lift();
        if let Some(v) = check_archive_end(&mut stream, limits) {
            if v.rule == rule::UNREADABLE {
                return Err(PmError::io(
                    format!("cannot read the image: {}", v.detail),
                    std::io::Error::other(v.detail.clone()),
                )
                .into());
            }
            report.violations.push(v);
        }
        report.compressed_bytes = stream.source_bytes();
    }
    let summary = checker.finish();
    report.violations.extend(summary.violations);
    report.counts = summary.counts;
    report.unpacked_bytes = summary.unpacked_bytes;
    report.notices = summary.notices;
    if !report.violations.is_empty() {
        report.verdict = Verdict::Rejected;
    }
    Ok(report)
}

/// Validates a file on disk. A missing file is `not_found`; one that cannot
/// be opened or read is `unreadable`.
/// `progress` counts the file's bytes as they are read.
pub fn validate_file(
    path: &std::path::Path,
    limits: &Limits,
    policy: &Policy,
    progress: &dyn Progress,
) -> Result<Report> {
    let file = std::fs::File::open(path).map_err(|e| unreadable(path, e))?;
    let meta = file.metadata().map_err(|e| unreadable(path, e))?;
    if meta.is_dir() {
        return Err(unreadable(
            path,
            std::io::Error::new(std::io::ErrorKind::IsADirectory, "is a directory"),
        ));
    }
    progress.set_total(meta.len());
    let reader = ProgressReader {
        inner: file,
        progress,
    };
    let report = validate_reader(reader, limits, policy);
    progress.finish();
    report.map_err(|e| match e.downcast::<PmError>() {
        Ok(PmError::Io { source, .. }) => unreadable(path, source),
        Ok(other) => other.into(),
        Err(e) => e,
    })
}

struct ProgressReader<'p, R> {
    inner: R,
    progress: &'p dyn Progress,
}

impl<R: Read> Read for ProgressReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.advance(n as u64);
        Ok(n)
    }
}

fn unreadable(path: &std::path::Path, e: std::io::Error) -> anyhow::Error {
    if e.kind() == std::io::ErrorKind::NotFound {
        return PmError::not_found(
            format!("image or file {}", path.display()),
            Some(
                "give a stored image (see `pm image list`) or an existing archive file".to_string(),
            ),
        )
        .into();
    }
    PmError::Unreadable {
        path: path.to_path_buf(),
        source: e,
    }
    .into()
}
