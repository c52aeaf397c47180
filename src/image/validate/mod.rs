//! `pm image validate`: judges a root-filesystem archive as hostile input in
//! one streaming pass, with bounded memory, and lists every violation.
//!
//! - [`stream`]: format by magic bytes, decompression, the compression-ratio
//!   guard and the classification of stream errors;
//! - [`archive`]: the tar format, read strictly: each member's kind, name,
//!   size and mode decided once;
//! - [`walk`]: the one walk over an archive that the validator and the
//!   unpacker of `pm image activate` share;
//! - [`rules`]: [`EntryChecker`], the per-entry rules;
//! - [`tree`]: the model of the unpacked tree and symlink resolution inside
//!   the image root, memoised;
//! - [`record`]: validation results of stored images in the state.
//!
//! Each rule has a stable snake_case name (see [`rule`]) that scripts match on.

pub mod archive;
pub mod record;
pub mod rules;
pub mod stream;
pub mod tree;
pub mod walk;

pub use crate::image::violation::{Violation, Violations, display_path};
pub use archive::{Chunk, Entry, Kind};
pub use record::{ValidationRecord, record_validation, validation_for};
pub use rules::{Counts, EntryChecker, Summary};
pub use stream::{ArchiveStream, Format, check_archive_end, open_archive, violation_from_io};
pub use walk::{JudgeOnly, Visitor, walk};

use crate::config::Config;
use crate::error::PmError;
use crate::progress::Progress;
use anyhow::Result;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
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
    pub const AMBIGUOUS_HEADER: &str = "ambiguous_header";
    pub const FILE_CAPABILITY: &str = "file_capability";
    pub const TOO_MANY_SYMLINK_HOPS: &str = "too_many_symlink_hops";
    /// Notices only: extended attributes and ACLs the unpacker drops.
    pub const XATTR: &str = "xattr";
    /// unpack_refused only: a device node, and pm does not run as root.
    pub const NEEDS_ROOT: &str = crate::image::violation::NEEDS_ROOT;
    pub const EMPTY_ARCHIVE: &str = "empty_archive";
    pub const NOT_AN_ARCHIVE: &str = "not_an_archive";
    pub const UNSUPPORTED_FORMAT: &str = "unsupported_format";
    pub const UNREADABLE: &str = "unreadable";
}

/// Bumped when the rules change, so stored verdicts of an older validator
/// are not trusted as current. 2: pm's own tar reader (strict PAX, GNU long
/// names, v7 directories), file capabilities, the total symlink-hop limit,
/// limit names as the flags spell them.
pub const RULES_VERSION: u32 = 2;

/// The limits in force; every one is a flag of `pm image validate` and a
/// config key `image.<field>`, under the same name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema, Deserialize)]
pub struct Limits {
    /// Total bytes of file data unpacking may write.
    pub max_unpacked_size: u64,
    /// Entries in the archive, and files plus directories unpacking creates.
    pub max_entries: u64,
    /// Bytes in an entry name or link target.
    pub max_path_length: u64,
    /// Bytes in one path component.
    pub max_component_length: u64,
    /// Components in an entry name.
    pub max_depth: u64,
    /// Symlinks followed while resolving one link (the kernel's is 40).
    pub max_symlink_hops: u32,
    /// Symlinks followed while resolving all the links of the image (each
    /// link is resolved once; a link met again counts one hop).
    pub max_total_symlink_hops: u64,
    /// Decompressed bytes per compressed byte; 0 turns the guard off.
    pub max_compression_ratio: u64,
}

/// The defaults are the config keys' (`image.max_*` in `config::KEYS`):
/// written once, there.
impl Default for Limits {
    fn default() -> Self {
        Limits::from_config(&Config::defaults())
    }
}

impl Limits {
    /// The `image.*` limits of the effective configuration.
    pub fn from_config(config: &Config) -> Limits {
        use crate::config::key;
        Limits {
            max_unpacked_size: config.bytes(key::IMAGE_MAX_UNPACKED_SIZE),
            max_entries: config.count(key::IMAGE_MAX_ENTRIES),
            max_path_length: config.count(key::IMAGE_MAX_PATH_LENGTH),
            max_component_length: config.count(key::IMAGE_MAX_COMPONENT_LENGTH),
            max_depth: config.count(key::IMAGE_MAX_DEPTH),
            max_symlink_hops: config
                .count(key::IMAGE_MAX_SYMLINK_HOPS)
                .min(u64::from(u32::MAX)) as u32,
            max_total_symlink_hops: config.count(key::IMAGE_MAX_TOTAL_SYMLINK_HOPS),
            max_compression_ratio: config.count(key::IMAGE_MAX_COMPRESSION_RATIO),
        }
    }
}

/// What the policy allows beyond the safe default.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, JsonSchema, Deserialize)]
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

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Safe,
    Rejected,
}

/// The result of one validation pass.
#[derive(Clone, Debug, Serialize, JsonSchema, Deserialize)]
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
    /// The first violations found, at most 1000 (`MAX_KEPT`).
    pub violations: Vec<Violation>,
    /// Every violation found, by rule (kept in the list or not).
    #[serde(default)]
    pub violation_counts: BTreeMap<String, u64>,
    /// Allowed by the policy but reported (setuid files, devices, xattrs).
    pub notices: Vec<Violation>,
    #[serde(default)]
    pub notice_counts: BTreeMap<String, u64>,
}

impl Report {
    pub fn is_safe(&self) -> bool {
        self.verdict == Verdict::Safe
    }

    /// The violations, kept and counted.
    pub fn violations(&self) -> Violations {
        Violations {
            list: self.violations.clone(),
            counts: self.violation_counts.clone(),
        }
    }

    /// Sets the violations, and the verdict with them.
    pub fn set_violations(&mut self, found: Violations) {
        self.verdict = match found.is_empty() {
            true => Verdict::Safe,
            false => Verdict::Rejected,
        };
        self.violations = found.list;
        self.violation_counts = found.counts;
    }

    pub fn set_notices(&mut self, found: Violations) {
        self.notices = found.list;
        self.notice_counts = found.counts;
    }

    /// The typed error for a rejected report.
    pub fn rejection(&self) -> PmError {
        PmError::ImageRejected {
            violations: self.violations(),
        }
    }
}

/// Validates an archive in one streaming pass and lists every violation.
/// `Err` only when the source cannot be read; a hostile or malformed
/// archive is an `Ok` report with verdict `rejected`.
pub fn validate_reader<R: Read>(reader: R, limits: &Limits, policy: &Policy) -> Result<Report> {
    walk(reader, limits, policy, &mut JudgeOnly)
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
