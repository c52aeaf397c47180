//! The tar format as pm reads it: one [`Entry`] per member, with its kind,
//! name, link target, mode, size and sparse map decided here and nowhere
//! else, so the validator and the unpacker (which both get their entries
//! from this reader, through [`super::walk`]) cannot see a member two ways.
//!
//! The reader is strict where tar readers disagree: GNU tar, Python's
//! tarfile, libarchive and the `tar` crate read some byte sequences as
//! different archives, and an archive that means one thing to the validator
//! and another to whoever unpacks it later is refused rather than guessed
//! at. Malformed PAX records, PAX records next to GNU long names, data on a
//! header that has none, PAX global headers that change entries: each stops
//! the walk with the violation (`corrupt_header` or `ambiguous_header`).
//!
//! Formats: v7, ustar/POSIX (prefix field, PAX `x` records), GNU (`L`/`K`
//! long names, old-style sparse files `S`). PAX sparse files
//! (`GNU.sparse.*` records) and multi-volume members are refused as
//! unsupported.

use super::stream::{is_source_error, violation_from_io};
use super::{Violation, display_path, rule};
use std::io::{self, Read};

/// A tar block.
pub const BLOCK: u64 = 512;

/// Bytes of headers, GNU long names, PAX records and sparse maps allowed
/// before one entry. They are read into memory, so without this bound an
/// `L` entry declaring 8 GiB would be.
pub const EXTENSION_ALLOWANCE: u64 = 1 << 20;

/// What a member is, decided once from its type flag and name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Regular files, contiguous files and GNU sparse files.
    File,
    Dir,
    Symlink,
    Hardlink,
    CharDevice,
    BlockDevice,
    Fifo,
    /// A type pm does not unpack (volume labels, multi-volume parts, ...).
    Unsupported(u8),
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::File => "file",
            Kind::Dir => "directory",
            Kind::Symlink => "symlink",
            Kind::Hardlink => "hardlink",
            Kind::CharDevice => "character device",
            Kind::BlockDevice => "block device",
            Kind::Fifo => "FIFO",
            Kind::Unsupported(_) => "unsupported entry",
        }
    }
}

/// One stored run of a sparse file: `len` bytes of data at `offset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chunk {
    pub offset: u64,
    pub len: u64,
}

/// One member of the archive, extension headers applied.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The name (GNU long name or PAX `path` when given).
    pub path: Vec<u8>,
    /// The link target of symlinks and hardlinks (GNU long link or PAX
    /// `linkpath` when given); empty for other kinds.
    pub link: Vec<u8>,
    pub kind: Kind,
    /// The mode field as written (file-type bits included); rules and the
    /// unpacker look at `mode & 0o7777`.
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub mtime: i64,
    /// Bytes of file content: the real size of a sparse file, 0 for
    /// anything but files.
    pub size: u64,
    /// Bytes of data that follow the header in the stream.
    pub stored: u64,
    /// Where the stored bytes of a sparse file go; `None` for a plain file
    /// (all stored bytes, in order).
    pub sparse: Option<Vec<Chunk>>,
    /// (major, minor) of a device.
    pub device: (u64, u64),
    /// Extended attributes and ACLs in PAX records (the unpacker drops them).
    pub attributes: Attributes,
    /// `GNU.sparse.name` of a PAX sparse file: where GNU tar would put it.
    pub sparse_name: Option<Vec<u8>>,
    /// Problems of this entry's headers that do not stop the walk.
    pub problems: Vec<(&'static str, String)>,
}

/// What PAX records say about extended attributes.
#[derive(Clone, Debug, Default)]
pub struct Attributes {
    /// Names of extended attributes (`SCHILY.xattr.*`, `LIBARCHIVE.xattr.*`,
    /// `RHT.security.selinux`).
    pub xattrs: Vec<Vec<u8>>,
    /// `security.capability` is among them: file capabilities.
    pub capability: bool,
    /// POSIX ACLs (`SCHILY.acl.*`).
    pub acls: bool,
}

/// Why the walk cannot go on.
#[derive(Debug)]
pub enum Stop {
    /// The archive is malformed here.
    Bad(Violation),
    /// The source file could not be read (not the archive's fault).
    Source(io::Error),
}

impl Stop {
    fn bad(rule: &'static str, path: &[u8], detail: String) -> Stop {
        Stop::Bad(Violation::new(rule, &display_path(path), detail))
    }
}

/// What comes next in the archive.
pub enum Next {
    Entry(Box<Entry>),
    /// The first zero block: the end-of-archive marker starts here.
    End,
}

/// Reads members one at a time; the data of the current member is read
/// through [`TarReader::data`], and whatever is left of it is skipped when
/// the next member is asked for.
pub struct TarReader<R> {
    inner: R,
    /// Data bytes of the current member not read yet, then its padding.
    left: u64,
    pad: u64,
    /// The current member's name, to say where a stream error happened.
    current: Vec<u8>,
    /// Set when reading the current member's data failed.
    fault: Option<Stop>,
}

/// GNU long names, PAX records: what applies to the next member.
#[derive(Default)]
struct Pending {
    long_name: Option<Vec<u8>>,
    long_link: Option<Vec<u8>>,
    pax: Option<Pax>,
    /// Bytes read for extensions since the last member.
    bytes: u64,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.long_name.is_none() && self.long_link.is_none() && self.pax.is_none()
    }
}

/// The PAX records pm applies.
#[derive(Default)]
struct Pax {
    path: Option<Vec<u8>>,
    linkpath: Option<Vec<u8>>,
    size: Option<u64>,
    uid: Option<u64>,
    gid: Option<u64>,
    mtime: Option<i64>,
    attributes: Attributes,
    /// A key other readers act on and pm does not (PAX sparse files,
    /// multi-volume members): the entry is unsupported.
    unsupported: Option<String>,
    /// `GNU.sparse.name`: where GNU tar would put a PAX sparse file.
    sparse_name: Option<Vec<u8>>,
}

impl<R: Read> TarReader<R> {
    pub fn new(inner: R) -> TarReader<R> {
        TarReader {
            inner,
            left: 0,
            pad: 0,
            current: Vec::new(),
            fault: None,
        }
    }

    pub fn into_inner(self) -> R {
        self.inner
    }

    /// The current member's data (its stored bytes).
    pub fn data(&mut self) -> EntryData<'_, R> {
        EntryData { reader: self }
    }

    /// The stream error met while the current member's data was read.
    pub fn take_fault(&mut self) -> Option<Stop> {
        self.fault.take()
    }

    /// The next member, or the end-of-archive marker.
    pub fn next_entry(&mut self) -> Result<Next, Stop> {
        self.skip_rest()?;
        let mut pending = Pending::default();
        loop {
            let Some(block) = self.read_header(&pending)? else {
                return Ok(Next::End);
            };
            let header = Header(&block);
            match header.typeflag() {
                b'x' => self.read_pax_local(&header, &mut pending)?,
                b'g' => self.read_pax_global(&header, &pending)?,
                b'L' | b'K' => self.read_long_name(&header, &mut pending)?,
                _ => {
                    let entry = self.member(&header, pending)?;
                    self.current.clone_from(&entry.path);
                    return Ok(Next::Entry(Box::new(entry)));
                }
            }
        }
    }

    /// The next header block, checked; `None` at a zero block.
    fn read_header(&mut self, pending: &Pending) -> Result<Option<[u8; 512]>, Stop> {
        let mut block = [0u8; 512];
        let got = self.read_full(&mut block, b"")?;
        let all_zero = got == block.len() && block.iter().all(|&b| b == 0);
        if !pending.is_empty() && (got == 0 || all_zero) {
            return Err(Stop::bad(
                rule::TRUNCATED,
                b"",
                "extension headers describe a member that never comes".into(),
            ));
        }
        if got == 0 {
            return Err(Stop::bad(
                rule::TRUNCATED,
                b"",
                "the archive ends without its end-of-archive marker (two zero blocks)".into(),
            ));
        }
        if got < block.len() {
            return Err(Stop::bad(
                rule::TRUNCATED,
                b"",
                format!("the archive ends inside a header ({got} of 512 bytes)"),
            ));
        }
        if all_zero {
            return Ok(None);
        }
        Header(&block).verify_checksum()?;
        Ok(Some(block))
    }

    fn read_pax_local(&mut self, header: &Header<'_>, pending: &mut Pending) -> Result<(), Stop> {
        if pending.pax.is_some() {
            return Err(ambiguous("two PAX headers for one member"));
        }
        let data = self.read_extension(header, pending)?;
        pending.pax = Some(parse_pax_local(&data)?);
        Ok(())
    }

    /// A global header's records apply, for GNU tar and libarchive, to every
    /// later member; pm applies none, so only keys that change nothing are
    /// allowed (git archive writes a `comment`).
    fn read_pax_global(&mut self, header: &Header<'_>, pending: &Pending) -> Result<(), Stop> {
        if !pending.is_empty() {
            return Err(ambiguous(
                "a PAX global header between a member's extension headers",
            ));
        }
        let mut scratch = Pending::default();
        let data = self.read_extension(header, &mut scratch)?;
        for (key, _) in pax_records(&data)? {
            if !matches!(key, b"comment" | b"charset" | b"hdrcharset") {
                return Err(ambiguous(&format!(
                    "a PAX global header sets {:?}, which other readers apply to every later member and pm does not",
                    display_path(key)
                )));
            }
        }
        Ok(())
    }

    fn read_long_name(&mut self, header: &Header<'_>, pending: &mut Pending) -> Result<(), Stop> {
        let is_name = header.typeflag() == b'L';
        let slot_taken = match is_name {
            true => pending.long_name.is_some(),
            false => pending.long_link.is_some(),
        };
        if slot_taken {
            return Err(ambiguous("two GNU long-name headers for one member"));
        }
        let mut data = self.read_extension(header, pending)?;
        // GNU tar ends the name with a NUL (counted in the size); a NUL
        // inside stays, for the name rules to refuse.
        while data.last() == Some(&0) {
            data.pop();
        }
        if data.is_empty() {
            return Err(Stop::bad(
                rule::CORRUPT_HEADER,
                b"",
                "an empty GNU long name".into(),
            ));
        }
        match is_name {
            true => pending.long_name = Some(data),
            false => pending.long_link = Some(data),
        }
        Ok(())
    }

    /// The data of an extension header, within [`EXTENSION_ALLOWANCE`].
    fn read_extension(
        &mut self,
        header: &Header<'_>,
        pending: &mut Pending,
    ) -> Result<Vec<u8>, Stop> {
        let size = header.size()?;
        pending.bytes = pending.bytes.saturating_add(size).saturating_add(BLOCK);
        if pending.bytes > EXTENSION_ALLOWANCE {
            return Err(Stop::bad(
                rule::OVERSIZED_HEADER,
                b"",
                format!(
                    "more than {EXTENSION_ALLOWANCE} bytes of headers, long names or PAX records before a member"
                ),
            ));
        }
        let mut data = vec![0u8; size as usize];
        if self.read_full(&mut data, b"")? < data.len() {
            return Err(Stop::bad(
                rule::TRUNCATED,
                b"",
                "the archive ends inside an extension header".into(),
            ));
        }
        self.skip(padding(size), b"")?;
        Ok(data)
    }

    /// Builds the member whose header is `header`, with `pending` applied.
    fn member(&mut self, header: &Header<'_>, pending: Pending) -> Result<Entry, Stop> {
        let Pending {
            long_name,
            long_link,
            pax,
            mut bytes,
        } = pending;
        let pax = pax.unwrap_or_default();
        if long_name.is_some() && pax.path.is_some() {
            return Err(ambiguous(
                "both a GNU long name and a PAX path for one member (readers disagree on which wins)",
            ));
        }
        if long_link.is_some() && pax.linkpath.is_some() {
            return Err(ambiguous(
                "both a GNU long link and a PAX linkpath for one member (readers disagree on which wins)",
            ));
        }
        let path = long_name.or(pax.path).unwrap_or_else(|| header.name());
        let mut problems = Vec::new();
        let kind = kind_of(header.typeflag(), &path, &mut problems);
        if let Some(what) = pax.unsupported {
            problems.push((rule::UNSUPPORTED_ENTRY_TYPE, what));
        }
        let fields = Fields::read(header, &path, pax.uid, pax.gid, pax.mtime)?;
        let stored = pax.size.unwrap_or(fields.size);
        let (size, sparse) = match kind {
            Kind::File if header.typeflag() == b'S' => {
                if pax.size.is_some() {
                    return Err(ambiguous("a PAX size on a GNU sparse member"));
                }
                let (chunks, real) = self.sparse_map(header, &path, &mut bytes)?;
                (real, Some(chunks))
            }
            Kind::File => (stored, None),
            Kind::Unsupported(_) => (0, None),
            _ if stored > 0 => {
                return Err(Stop::bad(
                    rule::AMBIGUOUS_HEADER,
                    &path,
                    format!(
                        "a {} header declares {stored} bytes of data (GNU tar skips them, other readers take them for the next header)",
                        kind.name()
                    ),
                ));
            }
            _ => (0, None),
        };
        let link = match kind {
            Kind::Symlink | Kind::Hardlink => long_link
                .or(pax.linkpath)
                .unwrap_or_else(|| header.link_name()),
            _ => Vec::new(),
        };
        self.left = stored;
        self.pad = padding(stored);
        Ok(Entry {
            path,
            link,
            kind,
            mode: fields.mode,
            uid: fields.uid,
            gid: fields.gid,
            mtime: fields.mtime,
            size,
            stored,
            sparse,
            device: fields.device,
            attributes: pax.attributes,
            sparse_name: pax.sparse_name,
            problems,
        })
    }

    /// The chunks and real size of an old-style GNU sparse member: four
    /// chunks in the header, more in extension blocks after it.
    fn sparse_map(
        &mut self,
        header: &Header<'_>,
        path: &[u8],
        bytes: &mut u64,
    ) -> Result<(Vec<Chunk>, u64), Stop> {
        let bad = |detail: String| Stop::bad(rule::CORRUPT_HEADER, path, detail);
        if !header.is_gnu() {
            return Err(bad("a sparse member (type S) without a GNU header".into()));
        }
        let mut map = SparseMap::default();
        map.add_fields(header.0, 386, 4, path)?;
        let mut extended = header.0[482] != 0;
        while extended {
            *bytes += BLOCK;
            if *bytes > EXTENSION_ALLOWANCE {
                return Err(bad(format!(
                    "a sparse map over {EXTENSION_ALLOWANCE} bytes"
                )));
            }
            let mut block = [0u8; 512];
            if self.read_full(&mut block, path)? < block.len() {
                return Err(Stop::bad(
                    rule::TRUNCATED,
                    path,
                    "the archive ends inside a sparse map".into(),
                ));
            }
            map.add_fields(&block, 0, 21, path)?;
            extended = block[504] != 0;
        }
        let real = header
            .number(483..495)
            .ok_or_else(|| bad("the sparse real size is not a number".into()))?;
        let stored = header.size()?;
        if map.stored != stored {
            return Err(bad(format!(
                "the sparse map lists {} bytes of data, the header {stored}",
                map.stored
            )));
        }
        if map.end > real {
            return Err(bad(format!(
                "the sparse map reaches past the real size {real}"
            )));
        }
        Ok((map.chunks, real))
    }

    /// Reads until `buf` is full or the stream ends; returns the bytes read.
    fn read_full(&mut self, buf: &mut [u8], path: &[u8]) -> Result<usize, Stop> {
        let mut got = 0;
        while got < buf.len() {
            match self.inner.read(&mut buf[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(stop_from_io(e, path)),
            }
        }
        Ok(got)
    }

    /// Reads and drops `n` bytes, which must be there.
    fn skip(&mut self, mut n: u64, path: &[u8]) -> Result<(), Stop> {
        let mut buf = [0u8; 32 << 10];
        while n > 0 {
            let want = n.min(buf.len() as u64) as usize;
            let got = self.read_full(&mut buf[..want], path)?;
            if got < want {
                return Err(Stop::bad(
                    rule::TRUNCATED,
                    path,
                    "the archive ends inside this entry's data".into(),
                ));
            }
            n -= got as u64;
        }
        Ok(())
    }

    /// Skips what is left of the current member's data and padding.
    fn skip_rest(&mut self) -> Result<(), Stop> {
        let n = self.left.saturating_add(self.pad);
        self.left = 0;
        self.pad = 0;
        let path = std::mem::take(&mut self.current);
        self.skip(n, &path)
    }
}

/// The numeric fields of a member's header, PAX overrides applied.
struct Fields {
    mode: u32,
    uid: u64,
    gid: u64,
    mtime: i64,
    size: u64,
    device: (u64, u64),
}

impl Fields {
    fn read(
        header: &Header<'_>,
        path: &[u8],
        uid: Option<u64>,
        gid: Option<u64>,
        mtime: Option<i64>,
    ) -> Result<Fields, Stop> {
        let field = |range: std::ops::Range<usize>, what: &str| {
            header.number(range).ok_or_else(|| {
                Stop::bad(
                    rule::CORRUPT_HEADER,
                    path,
                    format!("malformed tar header: the {what} field is not a number"),
                )
            })
        };
        let mode = field(100..108, "mode")?;
        // An id that does not fit a uid_t would wrap (and -1 means "keep
        // the current owner" to chown): refused, not guessed at.
        let id = |value: u64, what: &str| match value < u64::from(u32::MAX) {
            true => Ok(value),
            false => Err(Stop::bad(
                rule::CORRUPT_HEADER,
                path,
                format!("malformed tar header: the {what} {value} is out of range"),
            )),
        };
        let device = match header.typeflag() {
            b'3' | b'4' => (
                field(329..337, "device major")?,
                field(337..345, "device minor")?,
            ),
            _ => (0, 0),
        };
        Ok(Fields {
            mode: (mode & 0o7_777_777) as u32,
            uid: id(uid.map_or_else(|| field(108..116, "uid"), Ok)?, "uid")?,
            gid: id(gid.map_or_else(|| field(116..124, "gid"), Ok)?, "gid")?,
            mtime: match mtime {
                Some(mtime) => mtime,
                None => field(136..148, "mtime")? as i64,
            },
            size: field(124..136, "size")?,
            device,
        })
    }
}

/// The current member's stored bytes, for the unpacker.
pub struct EntryData<'a, R> {
    reader: &'a mut TarReader<R>,
}

impl<R: Read> Read for EntryData<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let r = &mut *self.reader;
        if r.left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = buf.len().min(r.left.min(usize::MAX as u64) as usize);
        let n = match r.inner.read(&mut buf[..want]) {
            Ok(0) => {
                r.fault = Some(Stop::bad(
                    rule::TRUNCATED,
                    &r.current,
                    "the archive ends inside this entry's data".into(),
                ));
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "archive truncated",
                ));
            }
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Err(e),
            Err(e) => {
                r.fault = Some(stop_from_io(e, &r.current));
                return Err(io::Error::other("the archive stream failed"));
            }
        };
        r.left -= n as u64;
        Ok(n)
    }
}

fn stop_from_io(e: io::Error, path: &[u8]) -> Stop {
    if is_source_error(&e) {
        return Stop::Source(e);
    }
    Stop::Bad(violation_from_io(&e, &display_path(path)))
}

fn ambiguous(detail: &str) -> Stop {
    Stop::bad(rule::AMBIGUOUS_HEADER, b"", detail.to_string())
}

fn padding(size: u64) -> u64 {
    (BLOCK - size % BLOCK) % BLOCK
}

/// The one decision of what a type flag and name make.
fn kind_of(typeflag: u8, path: &[u8], problems: &mut Vec<(&'static str, String)>) -> Kind {
    let slash = path.ends_with(b"/");
    match typeflag {
        // v7 archives mark directories only by the trailing slash; GNU tar,
        // Python and libarchive agree on that for the old type flag.
        b'\0' if slash => Kind::Dir,
        b'0' | b'7' | b'S' | b'\0' => {
            if slash {
                // GNU tar makes this a directory, Python a file "name/",
                // the tar crate a file "name": refused, but judged as the
                // file it claims to be (its mode and bytes count).
                problems.push((
                    rule::AMBIGUOUS_HEADER,
                    "a regular-file header whose name ends in / (readers disagree on whether it is a file or a directory)".into(),
                ));
            }
            Kind::File
        }
        b'1' => Kind::Hardlink,
        b'2' => Kind::Symlink,
        b'3' => Kind::CharDevice,
        b'4' => Kind::BlockDevice,
        b'5' => Kind::Dir,
        b'6' => Kind::Fifo,
        other => Kind::Unsupported(other),
    }
}

/// A raw 512-byte header.
struct Header<'a>(&'a [u8; 512]);

impl Header<'_> {
    fn typeflag(&self) -> u8 {
        self.0[156]
    }

    fn is_ustar(&self) -> bool {
        &self.0[257..263] == b"ustar\0"
    }

    fn is_gnu(&self) -> bool {
        &self.0[257..265] == b"ustar  \0"
    }

    /// The name field, with the ustar prefix when there is one.
    fn name(&self) -> Vec<u8> {
        let name = cstr(&self.0[0..100]);
        let prefix = cstr(&self.0[345..500]);
        if !self.is_ustar() || prefix.is_empty() {
            return name.to_vec();
        }
        let mut full = prefix.to_vec();
        full.push(b'/');
        full.extend_from_slice(name);
        full
    }

    fn link_name(&self) -> Vec<u8> {
        cstr(&self.0[157..257]).to_vec()
    }

    fn number(&self, range: std::ops::Range<usize>) -> Option<u64> {
        number(&self.0[range])
    }

    fn size(&self) -> Result<u64, Stop> {
        self.number(124..136).ok_or_else(|| {
            Stop::bad(
                rule::CORRUPT_HEADER,
                &self.name(),
                "malformed tar header: the size field is not a number".into(),
            )
        })
    }

    /// The checksum: the sum of the header's bytes as unsigned values, with
    /// the checksum field counted as spaces.
    fn verify_checksum(&self) -> Result<(), Stop> {
        let sum: u64 = self.0[..148]
            .iter()
            .chain(&self.0[156..])
            .map(|&b| u64::from(b))
            .sum::<u64>()
            + 8 * u64::from(b' ');
        match self.number(148..156) {
            Some(stored) if stored == sum => Ok(()),
            _ => Err(Stop::bad(
                rule::BAD_CHECKSUM,
                b"",
                "a tar header's checksum does not add up".into(),
            )),
        }
    }
}

/// The bytes of a field up to its first NUL.
fn cstr(field: &[u8]) -> &[u8] {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    &field[..end]
}

/// A numeric field: octal digits after optional spaces, ended by spaces or
/// NULs (an empty field is 0), or GNU's base-256 (first byte 0x80, then
/// big-endian). Anything else, negative base-256 included, is `None`.
fn number(field: &[u8]) -> Option<u64> {
    if field.first().is_some_and(|&b| b & 0x80 != 0) {
        if field[0] != 0x80 {
            return None;
        }
        return field[1..].iter().try_fold(0u64, |acc, &b| {
            acc.checked_mul(256)?.checked_add(u64::from(b))
        });
    }
    let start = field.iter().position(|&b| b != b' ').unwrap_or(field.len());
    let digits = field[start..]
        .iter()
        .take_while(|b| (b'0'..=b'7').contains(b))
        .count();
    let rest = &field[start + digits..];
    if !rest.iter().all(|&b| b == b' ' || b == 0) {
        return None;
    }
    field[start..start + digits]
        .iter()
        .try_fold(0u64, |acc, &b| {
            acc.checked_mul(8)?.checked_add(u64::from(b - b'0'))
        })
}

/// The chunks of a sparse map as they are read.
#[derive(Default)]
struct SparseMap {
    chunks: Vec<Chunk>,
    /// Where the last chunk ends in the file.
    end: u64,
    /// Stored bytes listed so far.
    stored: u64,
}

impl SparseMap {
    /// Adds up to `count` (offset, numbytes) pairs of 12-byte fields
    /// starting at `at`; a pair whose fields are both empty ends the list.
    fn add_fields(
        &mut self,
        block: &[u8; 512],
        at: usize,
        count: usize,
        path: &[u8],
    ) -> Result<(), Stop> {
        let bad =
            |detail: &str| Stop::bad(rule::CORRUPT_HEADER, path, format!("sparse map: {detail}"));
        for i in 0..count {
            let field = at + i * 24;
            if block[field] == 0 && block[field + 12] == 0 {
                break;
            }
            let offset = number(&block[field..field + 12])
                .ok_or_else(|| bad("an offset is not a number"))?;
            let len = number(&block[field + 12..field + 24])
                .ok_or_else(|| bad("a length is not a number"))?;
            if offset < self.end {
                return Err(bad("chunks out of order or overlapping"));
            }
            // The data of every chunk but the last fills whole blocks, as
            // GNU tar writes it; anything else is read differently by readers.
            if len > 0 && !self.stored.is_multiple_of(BLOCK) {
                return Err(bad("a chunk's data is not aligned to a block"));
            }
            self.end = offset
                .checked_add(len)
                .ok_or_else(|| bad("a chunk past 2^64"))?;
            self.stored = self
                .stored
                .checked_add(len)
                .ok_or_else(|| bad("more data than 2^64"))?;
            if len > 0 {
                self.chunks.push(Chunk { offset, len });
            }
        }
        Ok(())
    }
}

/// One PAX record: key and value.
type Record<'a> = (&'a [u8], &'a [u8]);

/// The records of a PAX header, parsed exactly: each `LEN key=value\n`
/// with LEN in plain decimal (no sign, no leading zero) counting the whole
/// record, a non-empty key, and no newline inside the value (a newline
/// there is where readers that split on lines and readers that count
/// bytes part ways).
fn pax_records(data: &[u8]) -> Result<Vec<Record<'_>>, Stop> {
    let bad = |detail: String| {
        Stop::bad(
            rule::CORRUPT_HEADER,
            b"",
            format!("malformed PAX record: {detail}"),
        )
    };
    let mut records = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 || digits > 19 || rest.get(digits) != Some(&b' ') {
            return Err(bad(
                "the length is not a plain decimal number followed by a space".into(),
            ));
        }
        if rest[0] == b'0' {
            return Err(bad("the length has a leading zero".into()));
        }
        let len: usize = std::str::from_utf8(&rest[..digits])
            .ok()
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| bad("the length is out of range".into()))?;
        if len <= digits + 1 || len > rest.len() {
            return Err(bad(format!(
                "a length of {len} with {} bytes left",
                rest.len()
            )));
        }
        let (record, tail) = rest.split_at(len);
        rest = tail;
        let Some(body) = record[digits + 1..].strip_suffix(b"\n") else {
            return Err(bad(
                "a record does not end with a newline where its length says".into(),
            ));
        };
        let Some(eq) = body.iter().position(|&b| b == b'=') else {
            return Err(bad("a record without key=value".into()));
        };
        let (key, value) = (&body[..eq], &body[eq + 1..]);
        if key.is_empty() || key.contains(&0) || std::str::from_utf8(key).is_err() {
            return Err(bad(format!(
                "the key {:?} is empty or not UTF-8",
                display_path(key)
            )));
        }
        if value.contains(&b'\n') {
            return Err(bad(format!(
                "the value of {:?} holds a newline",
                display_path(key)
            )));
        }
        if records.iter().any(|(k, _)| *k == key) {
            return Err(Stop::bad(
                rule::AMBIGUOUS_HEADER,
                b"",
                format!(
                    "the PAX key {:?} appears twice (readers disagree on which wins)",
                    display_path(key)
                ),
            ));
        }
        records.push((key, value));
    }
    Ok(records)
}

/// Key prefixes other readers act on that pm does not unpack.
const UNSUPPORTED_KEYS: &[(&str, &str)] = &[
    ("GNU.sparse.", "a PAX sparse file (GNU.sparse.* records)"),
    (
        "GNU.volume.",
        "a multi-volume member (GNU.volume.* records)",
    ),
    ("SCHILY.offset", "a multi-volume member (SCHILY.offset)"),
    (
        "SCHILY.realsize",
        "a star sparse or multi-volume member (SCHILY.realsize)",
    ),
    (
        "SCHILY.filetype",
        "a star file type override (SCHILY.filetype)",
    ),
];

fn parse_pax_local(data: &[u8]) -> Result<Pax, Stop> {
    let mut pax = Pax::default();
    for (key, value) in pax_records(data)? {
        apply_record(&mut pax, key, value)?;
    }
    Ok(pax)
}

fn apply_record(pax: &mut Pax, key: &[u8], value: &[u8]) -> Result<(), Stop> {
    let bad = |what: &str| {
        Stop::bad(
            rule::CORRUPT_HEADER,
            b"",
            format!("malformed PAX record: {} {what}", display_path(key)),
        )
    };
    match key {
        b"path" | b"linkpath" => {
            if value.is_empty() || std::str::from_utf8(value).is_err() {
                return Err(bad("is empty or not UTF-8"));
            }
            let slot = if key == b"path" {
                &mut pax.path
            } else {
                &mut pax.linkpath
            };
            *slot = Some(value.to_vec());
        }
        b"size" => pax.size = Some(decimal(value).ok_or_else(|| bad("is not a decimal number"))?),
        b"uid" => pax.uid = Some(decimal(value).ok_or_else(|| bad("is not a decimal number"))?),
        b"gid" => pax.gid = Some(decimal(value).ok_or_else(|| bad("is not a decimal number"))?),
        b"mtime" => pax.mtime = Some(seconds(value).ok_or_else(|| bad("is not a time"))?),
        b"atime" | b"ctime" => {
            seconds(value).ok_or_else(|| bad("is not a time"))?;
        }
        b"GNU.sparse.name" => {
            pax.sparse_name = Some(value.to_vec());
            apply_attribute_or_vendor(pax, key);
        }
        _ => apply_attribute_or_vendor(pax, key),
    }
    Ok(())
}

/// Extended attributes, ACLs and vendor keys.
fn apply_attribute_or_vendor(pax: &mut Pax, key: &[u8]) {
    let text = String::from_utf8_lossy(key);
    let xattr = text
        .strip_prefix("SCHILY.xattr.")
        .or_else(|| text.strip_prefix("LIBARCHIVE.xattr."))
        .map(str::to_string)
        .or_else(|| (text == "RHT.security.selinux").then(|| "security.selinux".to_string()));
    if let Some(name) = xattr {
        // libarchive URL-encodes the name; the capability's is plain ASCII.
        if name == "security.capability" || name == "security%2Ecapability" {
            pax.attributes.capability = true;
        }
        pax.attributes.xattrs.push(name.into_bytes());
        return;
    }
    if text.starts_with("SCHILY.acl.") {
        pax.attributes.acls = true;
        return;
    }
    if let Some((_, what)) = UNSUPPORTED_KEYS.iter().find(|(p, _)| text.starts_with(p)) {
        pax.unsupported.get_or_insert_with(|| what.to_string());
    }
    // Any other key: POSIX says readers ignore keys they do not know.
}

fn decimal(value: &[u8]) -> Option<u64> {
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(value).ok()?.parse().ok()
}

/// A PAX time (`1700000000`, `-12.5`, `1700000000.123456789`): its whole
/// seconds.
fn seconds(value: &[u8]) -> Option<i64> {
    let (negative, unsigned) = match value.strip_prefix(b"-") {
        Some(rest) => (true, rest),
        None => (false, value),
    };
    let (whole, fraction) = match unsigned.iter().position(|&b| b == b'.') {
        Some(dot) => (&unsigned[..dot], Some(&unsigned[dot + 1..])),
        None => (unsigned, None),
    };
    if fraction.is_some_and(|f| f.is_empty() || !f.iter().all(u8::is_ascii_digit)) {
        return None;
    }
    let whole = decimal(whole)?;
    let whole = i64::try_from(whole).ok()?;
    Some(if negative { -whole } else { whole })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(key: &str, value: &[u8]) -> Vec<u8> {
        let rest = key.len() + value.len() + 3;
        let mut len = rest + 1;
        while len.to_string().len() + rest != len {
            len = len.to_string().len() + rest;
        }
        let mut out = format!("{len} {key}=").into_bytes();
        out.extend_from_slice(value);
        out.push(b'\n');
        out
    }

    fn rule_of(result: Result<Vec<Record<'_>>, Stop>) -> String {
        match result {
            Err(Stop::Bad(v)) => v.rule,
            Err(Stop::Source(e)) => panic!("{e}"),
            Ok(records) => format!("ok {}", records.len()),
        }
    }

    #[test]
    fn numbers_are_octal_or_base_256_and_nothing_else() {
        assert_eq!(number(b"0000644\0"), Some(0o644));
        assert_eq!(number(b"  644 \0\0"), Some(0o644));
        assert_eq!(number(b"\0\0\0\0\0\0\0\0"), Some(0));
        assert_eq!(number(b"12 34\0\0\0"), None);
        assert_eq!(number(b"0009\0"), None);
        assert_eq!(number(&[0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]), Some(256));
        assert_eq!(number(&[0xff; 12]), None);
    }

    #[test]
    fn pax_records_parse_exactly_or_not_at_all() {
        let good = [record("path", b"a/b"), record("size", b"12")].concat();
        assert_eq!(rule_of(pax_records(&good)), "ok 2");
        let plus = b"+12 path=a/b\n".to_vec();
        assert_eq!(rule_of(pax_records(&plus)), "corrupt_header");
        let zero = b"013 path=a/b\n".to_vec();
        assert_eq!(rule_of(pax_records(&zero)), "corrupt_header");
        // A length that covers a newline inside the value: GNU tar and
        // Python read `path=x\n../y`, a line splitter reads `path=x`.
        let newline = record("path", b"x\n../y");
        assert_eq!(rule_of(pax_records(&newline)), "corrupt_header");
        let short = b"30 path=a\n".to_vec();
        assert_eq!(rule_of(pax_records(&short)), "corrupt_header");
        let twice = [record("path", b"a"), record("path", b"b")].concat();
        assert_eq!(rule_of(pax_records(&twice)), "ambiguous_header");
    }

    #[test]
    fn times_keep_their_whole_seconds() {
        assert_eq!(seconds(b"1700000000.123456789"), Some(1_700_000_000));
        assert_eq!(seconds(b"-12.5"), Some(-12));
        assert_eq!(seconds(b"12."), None);
        assert_eq!(seconds(b"+12"), None);
    }
}
