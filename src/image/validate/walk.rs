//! The one walk over an archive, shared by `pm image validate` and the
//! unpacker of `pm image activate`: open (format, decompression, guards) →
//! read each member ([`super::archive`]) → judge it ([`EntryChecker`]) →
//! hand it to a [`Visitor`] → at the end, resolve every symlink and check
//! what follows the end-of-archive marker. The validator's visitor writes
//! nothing; the unpacker's writes each member it is handed. Both get the
//! same [`Entry`] values from the same code, and a member is handed over
//! only while the walk has found nothing wrong, so the unpacker can never
//! write something the validator would have judged differently.

use super::archive::{Entry, Next, Stop, TarReader};
use super::rules::EntryChecker;
use super::stream::{ArchiveStream, check_archive_end, open_archive, source_failure};
use super::{Limits, Policy, Report, Verdict, Violation, Violations, rule};
use crate::error::PmError;
use anyhow::Result;
use std::io::Read;

/// What the walk does with each member it found fine.
pub trait Visitor {
    /// Called for each member, in archive order, as long as neither it nor
    /// any member before it broke a rule. `data` reads its stored bytes. An
    /// error that is not the archive's (a full disk) ends the walk with it;
    /// a violation the visitor finds itself (a device it cannot create)
    /// goes into `refused` and the walk goes on judging, writing nothing.
    fn visit(
        &mut self,
        entry: &Entry,
        data: &mut dyn Read,
        refused: &mut Vec<Violation>,
    ) -> Result<()>;

    /// Asked once the stream has ended cleanly: whether where the symlinks
    /// lead was already judged for exactly these bytes (the unpacker knows
    /// when it read the very blob the validator found safe), so resolving
    /// them again would only redo the validator's work.
    fn links_already_judged(&mut self) -> bool {
        false
    }
}

/// The validator's visitor: looks, writes nothing.
pub struct JudgeOnly;

impl Visitor for JudgeOnly {
    fn visit(&mut self, _: &Entry, _: &mut dyn Read, _: &mut Vec<Violation>) -> Result<()> {
        Ok(())
    }
}

/// Walks the archive `reader`, judging every member and handing the good
/// ones to `visitor`. `Err` only when the source cannot be read or the
/// visitor fails on its own account; a hostile or malformed archive is an
/// `Ok` report with verdict `rejected`.
pub fn walk<R: Read>(
    reader: R,
    limits: &Limits,
    policy: &Policy,
    visitor: &mut dyn Visitor,
) -> Result<Report> {
    let mut report = Report::empty(limits, policy);
    let (format, stream) = match open_archive(reader, limits) {
        Ok(opened) => opened,
        Err(e) => return rejected_at_open(e, report),
    };
    report.format = Some(format);
    let mut checker = EntryChecker::new(limits.clone(), policy.clone());
    let mut tar = TarReader::new(stream);
    let mut violations = Violations::default();
    let ended = members(&mut tar, &mut checker, &mut violations, visitor)?;
    let mut stream = tar.into_inner();
    if ended {
        finish_stream(&mut stream, limits, &mut violations)?;
    }
    report.compressed_bytes = stream.source_bytes();
    if ended && checker.counts().entries == 0 {
        violations.push(Violation::new(
            rule::EMPTY_ARCHIVE,
            "",
            "the archive holds no entries (only its end-of-archive marker)".into(),
        ));
    }
    let resolve_links = !(ended && violations.is_empty() && visitor.links_already_judged());
    let summary = checker.finish(resolve_links);
    violations.merge(summary.violations);
    report.counts = summary.counts;
    report.unpacked_bytes = summary.unpacked_bytes;
    report.set_notices(summary.notices);
    report.set_violations(violations);
    Ok(report)
}

/// Reads, judges and visits members until the end-of-archive marker
/// (`true`) or a stop: a broken stream or a fatal limit (`false`).
fn members<R: Read>(
    tar: &mut TarReader<R>,
    checker: &mut EntryChecker,
    violations: &mut Violations,
    visitor: &mut dyn Visitor,
) -> Result<bool> {
    loop {
        let entry = match tar.next_entry() {
            Ok(Next::Entry(entry)) => entry,
            Ok(Next::End) => return Ok(true),
            Err(stop) => {
                violations.push(stopped(stop)?);
                return Ok(false);
            }
        };
        let found = checker.check(&entry);
        let clean = found.is_empty() && violations.is_empty();
        violations.extend(found);
        if checker.must_stop() {
            return Ok(false);
        }
        if !clean {
            // Write nothing more, but read on so every violation is listed.
            continue;
        }
        let mut refused = Vec::new();
        let visited = visitor.visit(&entry, &mut tar.data(), &mut refused);
        violations.extend(refused);
        if let Err(e) = visited {
            // A read error inside the member's data is the archive's fault
            // (truncated, a bomb): a violation under the member's name.
            match tar.take_fault() {
                Some(stop) => {
                    violations.push(stopped(stop)?);
                    return Ok(false);
                }
                None => return Err(e),
            }
        }
    }
}

/// The violation a stop stands for; a source read error is not one.
fn stopped(stop: Stop) -> Result<Violation> {
    match stop {
        Stop::Bad(v) => Ok(v),
        Stop::Source(e) => Err(source_failure(e)),
    }
}

/// After the end-of-archive marker only zeros may follow, at least one
/// more zero block of them, and then the end of the compressed stream.
fn finish_stream(
    stream: &mut ArchiveStream<'_>,
    limits: &Limits,
    violations: &mut Violations,
) -> Result<()> {
    if let Some(v) = check_archive_end(stream, limits) {
        if v.rule == rule::UNREADABLE {
            return Err(PmError::io(
                format!("cannot read the image: {}", v.detail),
                std::io::Error::other(v.detail.clone()),
            )
            .into());
        }
        violations.push(v);
    }
    Ok(())
}

/// Not an archive, an unsupported format, an empty file: a rejected
/// report; a source that cannot be read: the error.
fn rejected_at_open(e: anyhow::Error, mut report: Report) -> Result<Report> {
    match e.downcast::<PmError>() {
        Ok(PmError::ImageRejected { violations }) => {
            report.set_violations(violations);
            Ok(report)
        }
        Ok(other) => Err(other.into()),
        Err(e) => Err(e),
    }
}

impl Report {
    fn empty(limits: &Limits, policy: &Policy) -> Report {
        Report {
            verdict: Verdict::Safe,
            format: None,
            compressed_bytes: 0,
            unpacked_bytes: 0,
            counts: Default::default(),
            limits: limits.clone(),
            policy: policy.clone(),
            violations: Vec::new(),
            violation_counts: Default::default(),
            notices: Vec::new(),
            notice_counts: Default::default(),
        }
    }
}
