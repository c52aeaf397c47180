//! The byte stream under the tar reader: format detection by magic bytes,
//! decompression (gzip members one by one, so bytes after the last one are
//! `trailing_garbage`; zstd, skippable frames included), the streaming
//! compression-ratio guard, and the classification of stream errors into
//! violations.

use super::{Limits, Violation, Violations, rule};
use schemars::JsonSchema;
use std::cell::Cell;
use std::fmt;
use std::io::{self, BufRead, BufReader, Read};
use std::rc::Rc;

/// Output below this is never judged by the ratio guard: tiny archives
/// (an empty tar is 10 KiB of zeros in a few dozen compressed bytes)
/// legitimately compress far beyond any sane limit.
pub const RATIO_GRACE_BYTES: u64 = 1 << 20;

/// Buffer between the file and the decompressor.
const INPUT_BUFFER: usize = 256 << 10;

/// The container format, found by magic bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, JsonSchema, serde::Deserialize)]
pub enum Format {
    #[serde(rename = "tar")]
    Tar,
    #[serde(rename = "tar.gz")]
    TarGzip,
    #[serde(rename = "tar.zst")]
    TarZstd,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Tar => "tar",
            Format::TarGzip => "tar.gz",
            Format::TarZstd => "tar.zst",
        })
    }
}

/// The decompressed tar stream handed to the tar reader, with the guards
/// that protect the host while it is read.
pub struct ArchiveStream<'a> {
    inner: Box<dyn Read + 'a>,
    consumed: Rc<Cell<u64>>,
}

impl ArchiveStream<'_> {
    /// Bytes taken from the source so far (compressed, for tar.gz/tar.zst).
    pub fn source_bytes(&self) -> u64 {
        self.consumed.get()
    }
}

impl Read for ArchiveStream<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf)
    }
}

/// A stream failure the validator reports as a rule of its own.
#[derive(Debug)]
enum StreamFault {
    RatioExceeded {
        out: u64,
        compressed: u64,
        limit: u64,
    },
    /// Bytes after the last gzip member that do not start another one.
    TrailingGarbage,
    Decompress {
        format: Format,
        source: io::Error,
    },
    Source(io::Error),
}

impl fmt::Display for StreamFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamFault::RatioExceeded {
                out,
                compressed,
                limit,
            } => write!(
                f,
                "{out} bytes decompressed from {compressed} compressed bytes, more than {limit}:1; stopped reading"
            ),
            StreamFault::TrailingGarbage => write!(
                f,
                "data after the end of the gzip stream that is not another gzip member"
            ),
            StreamFault::Decompress { format, source } => {
                write!(f, "the {format} compression is corrupt: {source}")
            }
            StreamFault::Source(e) => write!(f, "cannot read the image: {e}"),
        }
    }
}

impl std::error::Error for StreamFault {}

/// Counts the compressed bytes taken from the source, and marks read
/// errors of the source so they are not mistaken for a corrupt archive.
struct SourceReader<R> {
    inner: R,
    consumed: Rc<Cell<u64>>,
}

impl<R: Read> Read for SourceReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.inner.read(buf) {
                Ok(n) => {
                    self.consumed.set(self.consumed.get() + n as u64);
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io::Error::other(StreamFault::Source(e))),
            }
        }
    }
}

/// Counts the compressed bytes the decoder actually consumed (not what the
/// buffer read ahead), which is what the ratio guard must divide by.
struct ConsumedCounter<B> {
    inner: B,
    consumed: Rc<Cell<u64>>,
}

impl<B: BufRead> Read for ConsumedCounter<B> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.consumed.set(self.consumed.get() + n as u64);
        Ok(n)
    }
}

impl<B: BufRead> BufRead for ConsumedCounter<B> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        self.consumed.set(self.consumed.get() + amt as u64);
        self.inner.consume(amt);
    }
}

/// Stops decompression as soon as output/input passes the limit (after the
/// first [`RATIO_GRACE_BYTES`]), and marks decompressor errors.
struct RatioGuard<D> {
    decoder: D,
    format: Format,
    consumed: Rc<Cell<u64>>,
    produced: u64,
    limit: u64,
    tripped: bool,
}

impl<D: Read> Read for RatioGuard<D> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.tripped {
            return Err(self.fault());
        }
        let n = match self.decoder.read(buf) {
            Ok(n) => n,
            Err(e) if is_marked(&e) => return Err(e),
            Err(e) => {
                return Err(io::Error::other(StreamFault::Decompress {
                    format: self.format,
                    source: e,
                }));
            }
        };
        self.produced += n as u64;
        if self.limit > 0
            && self.produced > RATIO_GRACE_BYTES
            && self.produced > self.consumed.get().max(1).saturating_mul(self.limit)
        {
            self.tripped = true;
            return Err(self.fault());
        }
        Ok(n)
    }
}

impl<D> RatioGuard<D> {
    fn fault(&self) -> io::Error {
        io::Error::other(StreamFault::RatioExceeded {
            out: self.produced,
            compressed: self.consumed.get(),
            limit: self.limit,
        })
    }
}

/// gzip members one after the other (as `gzip -d` reads them); what
/// follows the last member must be nothing, or it is trailing garbage.
struct GzipMembers<B: BufRead> {
    current: Option<flate2::bufread::GzDecoder<B>>,
}

impl<B: BufRead> Read for GzipMembers<B> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let Some(decoder) = self.current.as_mut() else {
                return Ok(0);
            };
            let n = decoder.read(buf)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            let Some(decoder) = self.current.take() else {
                return Ok(0);
            };
            let mut rest = decoder.into_inner();
            let next = rest.fill_buf()?;
            if next.is_empty() {
                return Ok(0);
            }
            if next[0] != 0x1f || next.get(1).is_some_and(|&b| b != 0x8b) {
                return Err(io::Error::other(StreamFault::TrailingGarbage));
            }
            self.current = Some(flate2::bufread::GzDecoder::new(rest));
        }
    }
}

fn is_marked(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<StreamFault>())
}

/// What the first bytes say the file is.
enum Magic {
    Gzip,
    Zstd,
    Tar,
    Empty,
    Other(&'static str),
    Unknown,
}

fn sniff(head: &[u8]) -> Magic {
    const TABLE: &[(&[u8], &str)] = &[
        (b"PK\x03\x04", "a zip archive"),
        (b"PK\x05\x06", "an empty zip archive"),
        (b"BZh", "bzip2 data"),
        (b"\xfd7zXZ\x00", "xz data"),
        (b"7z\xbc\xaf\x27\x1c", "a 7-zip archive"),
        (b"\x04\x22\x4d\x18", "lz4 data"),
        (b"Rar!", "a rar archive"),
        (b"\x1f\x9d", "compress (.Z) data"),
        (b"\x89PNG", "a PNG image"),
        (b"\x7fELF", "an ELF executable"),
        (b"QFI\xfb", "a qcow2 disk image"),
        (b"!<arch>", "an ar archive (.deb)"),
    ];
    if head.is_empty() {
        return Magic::Empty;
    }
    if head.starts_with(&[0x1f, 0x8b]) {
        return Magic::Gzip;
    }
    if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) || is_zstd_skippable(head) {
        return Magic::Zstd;
    }
    if let Some((_, what)) = TABLE.iter().find(|(magic, _)| head.starts_with(magic)) {
        return Magic::Other(what);
    }
    if looks_like_tar(head) {
        return Magic::Tar;
    }
    Magic::Unknown
}

/// A zstd skippable frame (magic 0x184D2A50 to 0x184D2A5F, little-endian):
/// pzstd starts its output with one, and the decoder skips it.
fn is_zstd_skippable(head: &[u8]) -> bool {
    head.len() >= 4 && head[0] & 0xf0 == 0x50 && head[1..4] == [0x2a, 0x4d, 0x18]
}

/// A tar stream starts with a header whose checksum adds up, or with the
/// zero blocks of an empty archive.
fn looks_like_tar(head: &[u8]) -> bool {
    if head.len() < 512 {
        return false;
    }
    let block = &head[..512];
    if block.iter().all(|&b| b == 0) {
        return true;
    }
    let field = &block[148..156];
    let digits: Vec<u8> = field
        .iter()
        .copied()
        .skip_while(|&b| b == b' ' || b == 0)
        .take_while(|&b| (b'0'..=b'7').contains(&b))
        .collect();
    let Ok(text) = std::str::from_utf8(&digits) else {
        return false;
    };
    let Ok(stored) = u32::from_str_radix(text, 8) else {
        return false;
    };
    let sum: u32 = block[..148]
        .iter()
        .chain(&block[156..])
        .map(|&b| u32::from(b))
        .sum::<u32>()
        + 8 * u32::from(b' ');
    sum == stored
}

/// Reads up to `n` bytes (the caller chains them back in front).
fn read_head(reader: &mut impl Read, n: usize) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(n);
    reader.take(n as u64).read_to_end(&mut head)?;
    Ok(head)
}

fn rejected(rule: &'static str, detail: String) -> anyhow::Error {
    crate::error::PmError::ImageRejected {
        violations: Violations::one(Violation::new(rule, "", detail)),
    }
    .into()
}

/// Detects the format by magic bytes and returns the decompressed tar
/// stream with its guards. An empty file, a non-archive or an unsupported
/// format is an `image_rejected` error naming what was found.
pub fn open_archive<'a, R: Read + 'a>(
    reader: R,
    limits: &Limits,
) -> anyhow::Result<(Format, ArchiveStream<'a>)> {
    let consumed_total = Rc::new(Cell::new(0));
    let mut source = BufReader::with_capacity(
        INPUT_BUFFER,
        SourceReader {
            inner: reader,
            consumed: consumed_total.clone(),
        },
    );
    let head = fill_head(&mut source, 512).map_err(source_error)?;
    let (format, decoded) = decoder_for(sniff(&head), &head, source, limits)?;
    let inner = match format {
        Format::Tar => decoded,
        _ => tar_inside(format, decoded)?,
    };
    Ok((
        format,
        ArchiveStream {
            inner,
            consumed: consumed_total,
        },
    ))
}

type Source<R> = BufReader<SourceReader<R>>;

/// The decompressor the magic bytes call for, guarded; a refusal for
/// anything that is not tar, gzip or zstd.
fn decoder_for<'a, R: Read + 'a>(
    magic: Magic,
    head: &[u8],
    source: Source<R>,
    limits: &Limits,
) -> anyhow::Result<(Format, Box<dyn Read + 'a>)> {
    let consumed = Rc::new(Cell::new(0));
    let counted = ConsumedCounter {
        inner: source,
        consumed: consumed.clone(),
    };
    Ok(match magic {
        Magic::Gzip => {
            let decoder = GzipMembers {
                current: Some(flate2::bufread::GzDecoder::new(counted)),
            };
            let format = Format::TarGzip;
            (format, guarded(decoder, format, consumed, limits))
        }
        Magic::Zstd => {
            let decoder = zstd::stream::read::Decoder::with_buffer(counted)
                .map_err(|e| rejected(rule::CORRUPT_COMPRESSION, format!("zstd: {e}")))?;
            let format = Format::TarZstd;
            (format, guarded(decoder, format, consumed, limits))
        }
        Magic::Tar => (Format::Tar, Box::new(counted.inner)),
        Magic::Empty => return Err(rejected(rule::EMPTY_ARCHIVE, "the file is empty".into())),
        Magic::Other(what) => {
            return Err(rejected(
                rule::UNSUPPORTED_FORMAT,
                format!("found {what}; expected tar, tar.gz or tar.zst"),
            ));
        }
        Magic::Unknown => {
            return Err(rejected(
                rule::NOT_AN_ARCHIVE,
                format!(
                    "neither tar, gzip nor zstd; it starts with {}",
                    hex_prefix(head)
                ),
            ));
        }
    })
}

/// A decompressed stream must hold a tar archive: its first block is read
/// and checked, then put back in front.
fn tar_inside<'a>(
    format: Format,
    mut decoded: Box<dyn Read + 'a>,
) -> anyhow::Result<Box<dyn Read + 'a>> {
    let head = match read_head(&mut decoded, 512) {
        Ok(head) => head,
        Err(e) if is_source_error(&e) => return Err(source_error(e)),
        Err(e) => return Err(rejected_from_io(&e)),
    };
    if head.is_empty() {
        return Err(rejected(
            rule::EMPTY_ARCHIVE,
            format!("the {format} stream decompresses to nothing"),
        ));
    }
    if !looks_like_tar(&head) {
        let what = match sniff(&head) {
            Magic::Gzip | Magic::Zstd => "more compressed data".to_string(),
            Magic::Other(what) => what.to_string(),
            _ => format!("data starting with {}", hex_prefix(&head)),
        };
        return Err(rejected(
            rule::NOT_AN_ARCHIVE,
            format!("the {format} stream holds {what}, not a tar archive"),
        ));
    }
    Ok(Box::new(io::Cursor::new(head).chain(decoded)))
}

fn guarded<'a, D: Read + 'a>(
    decoder: D,
    format: Format,
    consumed: Rc<Cell<u64>>,
    limits: &Limits,
) -> Box<dyn Read + 'a> {
    Box::new(RatioGuard {
        decoder,
        format,
        consumed,
        produced: 0,
        limit: limits.max_compression_ratio,
        tripped: false,
    })
}

/// A copy of the first `n` bytes (fewer if one read of the source brings
/// fewer), left in the buffer for the decoder or the tar parser.
fn fill_head<R: Read>(reader: &mut BufReader<R>, n: usize) -> io::Result<Vec<u8>> {
    // One fill is enough: a file fills the 256 KiB buffer at once, and a
    // pipe that delivers a few bytes at a time only makes the sniffing see
    // less (the decoders and the tar parser still judge every byte).
    let buffered = reader.fill_buf()?;
    Ok(buffered[..buffered.len().min(n)].to_vec())
}

fn hex_prefix(head: &[u8]) -> String {
    let shown: Vec<String> = head.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("bytes {}", shown.join(" "))
}

fn source_error(e: io::Error) -> anyhow::Error {
    let e = unmark_source(e);
    crate::error::PmError::io(format!("cannot read the image: {e}"), e).into()
}

/// Whether a read error came from the source file rather than its content.
pub fn is_source_error(e: &io::Error) -> bool {
    find_fault(e).is_some_and(|f| matches!(f, StreamFault::Source(_)))
}

fn unmark_source(e: io::Error) -> io::Error {
    match find_fault(&e) {
        Some(StreamFault::Source(inner)) => io::Error::new(inner.kind(), inner.to_string()),
        _ => e,
    }
}

/// Converts a source read error to the error the command reports.
pub fn source_failure(e: io::Error) -> anyhow::Error {
    source_error(e)
}

fn find_fault(e: &io::Error) -> Option<&StreamFault> {
    let mut current: Option<&(dyn std::error::Error + 'static)> = e
        .get_ref()
        .map(|inner| inner as &(dyn std::error::Error + 'static));
    while let Some(err) = current {
        if let Some(fault) = err.downcast_ref::<StreamFault>() {
            return Some(fault);
        }
        if let Some(io) = err.downcast_ref::<io::Error>()
            && let Some(inner) = io.get_ref()
        {
            current = Some(inner);
            continue;
        }
        current = err.source();
    }
    None
}

fn rejected_from_io(e: &io::Error) -> anyhow::Error {
    crate::error::PmError::ImageRejected {
        violations: Violations::one(violation_from_io(e, "")),
    }
    .into()
}

/// The violation a read error of the archive stream stands for: the ratio
/// guard, an oversized extension header, corrupt compression, truncation,
/// a bad header checksum or another malformed header. `path` is the last
/// entry seen, to say where it happened.
pub fn violation_from_io(e: &io::Error, path: &str) -> Violation {
    match find_fault(e) {
        Some(fault @ StreamFault::RatioExceeded { .. }) => {
            Violation::new(rule::COMPRESSION_RATIO, path, fault.to_string())
        }
        Some(fault @ StreamFault::TrailingGarbage) => {
            Violation::new(rule::TRAILING_GARBAGE, "", fault.to_string())
        }
        Some(StreamFault::Decompress { format, source }) => {
            if is_truncation(source) {
                Violation::new(
                    rule::TRUNCATED,
                    path,
                    format!("the {format} stream ends early: {source}"),
                )
            } else {
                Violation::new(
                    rule::CORRUPT_COMPRESSION,
                    path,
                    format!("the {format} compression is corrupt: {source}"),
                )
            }
        }
        Some(StreamFault::Source(source)) => {
            Violation::new(rule::UNREADABLE, path, format!("read error: {source}"))
        }
        None => {
            let text = e.to_string();
            if text.contains("checksum mismatch") {
                Violation::new(
                    rule::BAD_CHECKSUM,
                    path,
                    "a tar header's checksum does not add up".to_string(),
                )
            } else if is_truncation(e) {
                Violation::new(
                    rule::TRUNCATED,
                    path,
                    format!("the archive ends early: {text}"),
                )
            } else {
                Violation::new(
                    rule::CORRUPT_HEADER,
                    path,
                    format!("malformed tar header: {text}"),
                )
            }
        }
    }
}

fn is_truncation(e: &io::Error) -> bool {
    let text = e.to_string();
    e.kind() == io::ErrorKind::UnexpectedEof
        || text.contains("entire block")
        || text.contains("unexpected EOF")
        || text.contains("unexpected end")
        || text.contains("no future member")
}

/// What follows the tar parser's end-of-archive: after the first zero block
/// (which the parser consumed) only zeros may come, and at least a second
/// zero block must. Returns the violation if not.
pub fn check_archive_end(stream: &mut impl Read, limits: &Limits) -> Option<Violation> {
    let mut buf = vec![0u8; 64 << 10];
    let mut total: u64 = 0;
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Some(violation_from_io(&e, "")),
        };
        if let Some(at) = buf[..n].iter().position(|&b| b != 0) {
            return Some(Violation::new(
                rule::TRAILING_GARBAGE,
                "",
                format!(
                    "non-zero data {} bytes after the end-of-archive marker",
                    total + at as u64
                ),
            ));
        }
        total += n as u64;
        if total > limits.max_unpacked_size {
            return Some(Violation::new(
                rule::TRAILING_GARBAGE,
                "",
                format!("more than {total} bytes of padding after the end of the archive"),
            ));
        }
    }
    if total == 0 {
        return Some(Violation::new(
            rule::TRUNCATED,
            "",
            "the archive ends without its end-of-archive marker (two zero blocks)".to_string(),
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_bytes_decide_the_format() {
        assert!(matches!(sniff(b"\x1f\x8b\x08"), Magic::Gzip));
        assert!(matches!(sniff(b"\x28\xb5\x2f\xfd"), Magic::Zstd));
        assert!(matches!(sniff(b"\x50\x2a\x4d\x18rest"), Magic::Zstd));
        assert!(matches!(
            sniff(b"PK\x03\x04rest"),
            Magic::Other("a zip archive")
        ));
        assert!(matches!(sniff(b""), Magic::Empty));
        assert!(matches!(sniff(b"hello world"), Magic::Unknown));
        assert!(matches!(sniff(&[0u8; 512]), Magic::Tar));
    }
}
