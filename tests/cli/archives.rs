//! Builds tar archives byte by byte, so the tests can make the hostile
//! archives a well-behaved tar writer refuses to produce: `..` names, NUL
//! bytes, bad checksums, lying sizes, truncation.

use std::io::Write;

/// Which header dialect the builder writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavour {
    /// POSIX ustar; long names through PAX `x` records.
    Pax,
    /// GNU: `ustar  ` magic; long names through `L`/`K` entries.
    Gnu,
    /// Old v7 tar: no magic at all.
    V7,
}

pub struct Tar {
    pub flavour: Flavour,
    out: Vec<u8>,
}

/// One raw header's fields; anything not set is zero.
pub struct Header<'a> {
    pub name: &'a [u8],
    pub typeflag: u8,
    pub mode: u32,
    pub size: u64,
    pub link: &'a [u8],
    pub major: u32,
    pub minor: u32,
}

impl<'a> Header<'a> {
    pub fn new(name: &'a [u8], typeflag: u8) -> Header<'a> {
        Header {
            name,
            typeflag,
            mode: if typeflag == b'5' { 0o755 } else { 0o644 },
            size: 0,
            link: b"",
            major: 0,
            minor: 0,
        }
    }
}

fn octal(field: &mut [u8], value: u64) {
    let text = format!("{:0width$o}", value, width = field.len() - 1);
    assert!(text.len() < field.len(), "{value} does not fit the field");
    field[..text.len()].copy_from_slice(text.as_bytes());
    field[text.len()] = 0;
}

impl Tar {
    pub fn new(flavour: Flavour) -> Tar {
        Tar {
            flavour,
            out: Vec::new(),
        }
    }

    pub fn pax() -> Tar {
        Tar::new(Flavour::Pax)
    }

    /// A 512-byte header block; names longer than the field are cut (the
    /// caller adds a PAX or GNU record for the full name).
    pub fn header_block(&self, h: &Header<'_>) -> [u8; 512] {
        let mut b = [0u8; 512];
        let name = &h.name[..h.name.len().min(100)];
        b[..name.len()].copy_from_slice(name);
        octal(&mut b[100..108], u64::from(h.mode));
        octal(&mut b[108..116], 0);
        octal(&mut b[116..124], 0);
        if h.size < 8 << 30 {
            octal(&mut b[124..136], h.size);
        } else {
            // base-256 for sizes beyond the octal field (GNU and star do this)
            b[124] = 0x80;
            b[128..136].copy_from_slice(&h.size.to_be_bytes());
        }
        octal(&mut b[136..148], 1_700_000_000);
        b[156] = h.typeflag;
        let link = &h.link[..h.link.len().min(100)];
        b[157..157 + link.len()].copy_from_slice(link);
        match self.flavour {
            Flavour::Pax => {
                b[257..263].copy_from_slice(b"ustar\0");
                b[263..265].copy_from_slice(b"00");
            }
            Flavour::Gnu => b[257..265].copy_from_slice(b"ustar  \0"),
            Flavour::V7 => {}
        }
        b[265..269].copy_from_slice(b"root");
        b[297..301].copy_from_slice(b"root");
        octal(&mut b[329..337], u64::from(h.major));
        octal(&mut b[337..345], u64::from(h.minor));
        b[148..156].fill(b' ');
        let sum: u32 = b.iter().map(|&x| u32::from(x)).sum();
        let text = format!("{sum:06o}\0 ");
        b[148..156].copy_from_slice(text.as_bytes());
        b
    }

    fn data(&mut self, data: &[u8]) {
        self.out.extend_from_slice(data);
        let pad = (512 - data.len() % 512) % 512;
        self.out.extend(std::iter::repeat_n(0, pad));
    }

    /// A header as given, then `data` padded to a block.
    pub fn entry(&mut self, h: Header<'_>, data: &[u8]) -> &mut Tar {
        self.long_names(h.name, h.link);
        let block = self.header_block(&h);
        self.out.extend_from_slice(&block);
        self.data(data);
        self
    }

    /// For names or targets over 100 bytes (or with bytes a header cannot
    /// hold): a PAX record or GNU long-name entries before the header.
    fn long_names(&mut self, name: &[u8], link: &[u8]) {
        let needs = |s: &[u8]| s.len() > 100 || s.contains(&0);
        match self.flavour {
            Flavour::Pax => {
                let mut records: Vec<(&str, &[u8])> = Vec::new();
                if needs(name) {
                    records.push(("path", name));
                }
                if needs(link) {
                    records.push(("linkpath", link));
                }
                if !records.is_empty() {
                    self.pax_record(&records);
                }
            }
            Flavour::Gnu | Flavour::V7 => {
                if needs(link) {
                    self.gnu_long(b'K', link);
                }
                if needs(name) {
                    self.gnu_long(b'L', name);
                }
            }
        }
    }

    /// A PAX `x` header with these records for the next entry.
    pub fn pax_record(&mut self, records: &[(&str, &[u8])]) -> &mut Tar {
        self.pax_raw(b'x', &pax_body(records))
    }

    /// A PAX `g` (global) header with these records.
    pub fn pax_global(&mut self, records: &[(&str, &[u8])]) -> &mut Tar {
        self.pax_raw(b'g', &pax_body(records))
    }

    /// A PAX header (`x` or `g`) whose data is `body` exactly, well formed
    /// or not.
    pub fn pax_raw(&mut self, typeflag: u8, body: &[u8]) -> &mut Tar {
        let mut h = Header::new(b"./PaxHeaders/x", typeflag);
        h.size = body.len() as u64;
        let block = self.header_block(&h);
        self.out.extend_from_slice(&block);
        self.data(body);
        self
    }

    /// An old-style GNU sparse file (type `S`): `chunks` are (offset, data)
    /// runs of a file of `real_size` bytes; more than four chunks go into
    /// extension blocks after the header, 21 to a block.
    pub fn gnu_sparse(&mut self, path: &str, chunks: &[(u64, &[u8])], real_size: u64) -> &mut Tar {
        let stored: Vec<u8> = chunks.iter().flat_map(|(_, d)| d.iter().copied()).collect();
        let mut h = Header::new(path.as_bytes(), b'S');
        h.size = stored.len() as u64;
        let saved = self.flavour;
        self.flavour = Flavour::Gnu;
        let mut block = self.header_block(&h);
        self.flavour = saved;
        let field = |b: &mut [u8], at: usize, (offset, len): (u64, u64)| {
            octal(&mut b[at..at + 12], offset);
            octal(&mut b[at + 12..at + 24], len);
        };
        let runs: Vec<(u64, u64)> = chunks.iter().map(|(o, d)| (*o, d.len() as u64)).collect();
        for (i, run) in runs.iter().take(4).enumerate() {
            field(&mut block, 386 + i * 24, *run);
        }
        block[482] = u8::from(runs.len() > 4);
        octal(&mut block[483..495], real_size);
        reseal(&mut block);
        self.out.extend_from_slice(&block);
        let rest: Vec<_> = runs.iter().skip(4).collect();
        for (n, group) in rest.chunks(21).enumerate() {
            let mut ext = [0u8; 512];
            for (i, run) in group.iter().enumerate() {
                field(&mut ext, i * 24, **run);
            }
            ext[504] = u8::from((n + 1) * 21 < rest.len());
            self.out.extend_from_slice(&ext);
        }
        self.data(&stored);
        self
    }

    /// A GNU `L` (long name) or `K` (long link) entry.
    pub fn gnu_long(&mut self, typeflag: u8, value: &[u8]) -> &mut Tar {
        let mut body = value.to_vec();
        body.push(0);
        let mut h = Header::new(b"././@LongLink", typeflag);
        h.size = body.len() as u64;
        let saved = self.flavour;
        self.flavour = Flavour::Gnu;
        let block = self.header_block(&h);
        self.flavour = saved;
        self.out.extend_from_slice(&block);
        self.data(&body);
        self
    }

    pub fn dir(&mut self, path: &str) -> &mut Tar {
        self.entry(Header::new(path.as_bytes(), b'5'), b"")
    }

    pub fn dir_mode(&mut self, path: &str, mode: u32) -> &mut Tar {
        let mut h = Header::new(path.as_bytes(), b'5');
        h.mode = mode;
        self.entry(h, b"")
    }

    pub fn file(&mut self, path: &str, data: &[u8]) -> &mut Tar {
        self.file_bytes(path.as_bytes(), data)
    }

    pub fn file_bytes(&mut self, path: &[u8], data: &[u8]) -> &mut Tar {
        let mut h = Header::new(path, b'0');
        h.size = data.len() as u64;
        self.entry(h, data)
    }

    pub fn file_mode(&mut self, path: &str, mode: u32, data: &[u8]) -> &mut Tar {
        let mut h = Header::new(path.as_bytes(), b'0');
        h.size = data.len() as u64;
        h.mode = mode;
        self.entry(h, data)
    }

    pub fn symlink(&mut self, path: &str, target: &str) -> &mut Tar {
        self.link_bytes(b'2', path.as_bytes(), target.as_bytes())
    }

    pub fn hardlink(&mut self, path: &str, target: &str) -> &mut Tar {
        self.link_bytes(b'1', path.as_bytes(), target.as_bytes())
    }

    pub fn link_bytes(&mut self, typeflag: u8, path: &[u8], target: &[u8]) -> &mut Tar {
        let mut h = Header::new(path, typeflag);
        h.link = target;
        h.mode = 0o777;
        self.entry(h, b"")
    }

    pub fn device(&mut self, typeflag: u8, path: &str) -> &mut Tar {
        let mut h = Header::new(path.as_bytes(), typeflag);
        h.major = 1;
        h.minor = 3;
        self.entry(h, b"")
    }

    /// The archive with its end-of-archive marker, padded to a 10 KiB
    /// record like GNU tar.
    pub fn finish(&self) -> Vec<u8> {
        let mut out = self.out.clone();
        out.extend_from_slice(&[0u8; 1024]);
        let pad = (10240 - out.len() % 10240) % 10240;
        out.extend(std::iter::repeat_n(0, pad));
        out
    }

    /// The archive without any end-of-archive marker.
    pub fn unterminated(&self) -> Vec<u8> {
        self.out.clone()
    }
}

/// PAX records: "LEN key=value\n" where LEN counts itself.
pub fn pax_body(records: &[(&str, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (key, value) in records {
        let rest = key.len() + value.len() + 3;
        let mut len = rest + 1;
        while len.to_string().len() + rest != len {
            len = len.to_string().len() + rest;
        }
        body.extend_from_slice(format!("{len} {key}=").as_bytes());
        body.extend_from_slice(value);
        body.push(b'\n');
    }
    body
}

/// Recomputes a header's checksum after its fields were changed.
pub fn reseal(b: &mut [u8; 512]) {
    b[148..156].fill(b' ');
    let sum: u32 = b.iter().map(|&x| u32::from(x)).sum();
    b[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes).expect("gzip");
    enc.finish().expect("gzip")
}

pub fn zstd(bytes: &[u8]) -> Vec<u8> {
    zstd::stream::encode_all(bytes, 3).expect("zstd")
}

/// `zeros` zero bytes after `head`, compressed as it streams, so a bomb
/// of many GiB costs only its compressed size in memory.
pub fn gzip_with_zeros(head: &[u8], zeros: u64) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(head).expect("gzip");
    let block = vec![0u8; 1 << 20];
    let mut left = zeros;
    while left > 0 {
        let n = left.min(block.len() as u64) as usize;
        enc.write_all(&block[..n]).expect("gzip");
        left -= n as u64;
    }
    enc.finish().expect("gzip")
}

pub fn zstd_with_zeros(head: &[u8], zeros: u64) -> Vec<u8> {
    let mut enc = zstd::stream::write::Encoder::new(Vec::new(), 19).expect("zstd");
    enc.write_all(head).expect("zstd");
    let block = vec![0u8; 1 << 20];
    let mut left = zeros;
    while left > 0 {
        let n = left.min(block.len() as u64) as usize;
        enc.write_all(&block[..n]).expect("zstd");
        left -= n as u64;
    }
    enc.finish().expect("zstd")
}
