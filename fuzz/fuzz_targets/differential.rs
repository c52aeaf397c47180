//! Differential: what the unpacker writes against what the validator saw.
//! The same bytes go through the validator's walk, recorded entry by entry,
//! and through `unpack_file` into a scratch root; then
//! - the verdicts agree: the unpacker refuses exactly what the validator
//!   rejects, and unpacks everything it accepts;
//! - every inode on disk is one the validator saw the same way (kind,
//!   permission bits, size and content, link target), and nothing the
//!   validator saw is missing;
//! - nothing is written outside the root.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pm::image::fsat::{self, FileKind};
use pm::image::unpack::{Validated, unpack_file};
use pm::image::validate::{Entry, Kind, Limits, Policy, Violation, Visitor, tree, walk};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// An inode as the validator saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Node {
    Dir { mode: Option<u32> },
    File { mode: u32, size: u64, content: u64 },
    Symlink { target: Vec<u8> },
}

/// Records every entry the walk hands out, reading its data the way the
/// unpacker lays it out (sparse runs at their offsets, holes as zeros).
#[derive(Default)]
struct Recorder {
    tree: BTreeMap<Vec<u8>, Node>,
}

impl Visitor for Recorder {
    fn visit(&mut self, entry: &Entry, data: &mut dyn Read, _: &mut Vec<Violation>) -> anyhow::Result<()> {
        let Ok(parts) = tree::split_member(&entry.path) else {
            panic!("the walk handed out a name the rules refuse: {:?}", entry.path);
        };
        let mut at = Vec::new();
        for part in parts.iter().take(parts.len().saturating_sub(1)) {
            at = join(&at, part);
            self.tree.entry(at.clone()).or_insert(Node::Dir { mode: None });
        }
        let path = parts.join(&b'/');
        // An entry replaces what was there, even if its data then breaks off.
        if entry.kind != Kind::Dir {
            self.tree.remove(&path);
        }
        let node = match entry.kind {
            Kind::Dir => Node::Dir {
                mode: Some(entry.mode & 0o7777),
            },
            Kind::File => Node::File {
                mode: entry.mode & 0o7777,
                size: entry.size,
                content: content_of(entry, data)?,
            },
            Kind::Symlink => Node::Symlink {
                target: entry.link.clone(),
            },
            Kind::Hardlink => {
                let target = tree::split_member(&entry.link).expect("a checked target").join(&b'/');
                self.tree.get(&target).cloned().expect("the rules found the target")
            }
            other => panic!("the walk handed out {other:?} under a policy without devices"),
        };
        if !path.is_empty() {
            self.tree.insert(path, node);
        }
        Ok(())
    }
}

fn join(a: &[u8], b: &[u8]) -> Vec<u8> {
    match a.is_empty() {
        true => b.to_vec(),
        false => [a, b"/", b].concat(),
    }
}

/// FNV-1a, 64 bits: enough to tell contents apart here.
fn fnv(hash: &mut u64, bytes: &[u8]) {
    for &b in bytes {
        *hash ^= u64::from(b);
        *hash = hash.wrapping_mul(0x100_0000_01b3);
    }
}

const FNV_START: u64 = 0xcbf2_9ce4_8422_2325;

fn content_of(entry: &Entry, data: &mut dyn Read) -> std::io::Result<u64> {
    let mut hash = FNV_START;
    let mut buf = vec![0u8; 64 << 10];
    let mut copy = |hash: &mut u64, data: &mut dyn Read, mut n: u64| -> std::io::Result<()> {
        while n > 0 {
            let want = n.min(buf.len() as u64) as usize;
            data.read_exact(&mut buf[..want])?;
            fnv(hash, &buf[..want]);
            n -= want as u64;
        }
        Ok(())
    };
    match &entry.sparse {
        None => copy(&mut hash, data, entry.size)?,
        Some(chunks) => {
            let mut at = 0;
            for chunk in chunks {
                fnv(&mut hash, &vec![0u8; (chunk.offset - at) as usize]);
                copy(&mut hash, data, chunk.len)?;
                at = chunk.offset + chunk.len;
            }
            fnv(&mut hash, &vec![0u8; (entry.size - at) as usize]);
        }
    }
    Ok(hash)
}

/// What is on disk under `dir`, read descriptor-relative; directories are
/// opened up for listing after their mode was read.
fn on_disk(dir: &std::os::fd::OwnedFd, at: &[u8], out: &mut BTreeMap<Vec<u8>, Node>, modes: bool) {
    let listing = fsat::open_dir_listing(dir, b".").expect("list");
    for name in fsat::list(listing).expect("list") {
        let path = join(at, &name);
        let meta = fsat::stat(dir, &name).expect("stat");
        let node = match meta.kind {
            FileKind::Dir => {
                fsat::chmod(dir, &name, meta.mode | 0o700).expect("chmod");
                let child = fsat::open_dir(dir, &name).expect("open");
                on_disk(&child, &path, out, modes);
                Node::Dir {
                    mode: modes.then_some(meta.mode),
                }
            }
            FileKind::File => {
                fsat::chmod(dir, &name, meta.mode | 0o400).expect("chmod");
                let mut file = fsat::open_file(dir, &name).expect("open");
                let mut bytes = Vec::new();
                file.read_to_end(&mut bytes).expect("read");
                let mut content = FNV_START;
                fnv(&mut content, &bytes);
                Node::File {
                    mode: meta.mode,
                    size: bytes.len() as u64,
                    content,
                }
            }
            FileKind::Symlink => Node::Symlink {
                target: fsat::read_link(dir, &name).expect("readlink"),
            },
            FileKind::Other => panic!("a device or FIFO on disk: {path:?}"),
        };
        out.insert(path, node);
    }
}

/// The validator's tree as it must look on disk: directories without a
/// member of their own were made 0755; modes are compared only when the
/// unpack finished (directory modes are applied last).
fn expected(seen: BTreeMap<Vec<u8>, Node>, finished: bool) -> BTreeMap<Vec<u8>, Node> {
    seen.into_iter()
        .map(|(path, node)| {
            let node = match node {
                Node::Dir { mode } => Node::Dir {
                    mode: finished.then(|| mode.unwrap_or(0o755)),
                },
                other => other,
            };
            (path, node)
        })
        .collect()
}

static RUNS: AtomicU64 = AtomicU64::new(0);

fn scratch() -> PathBuf {
    let base = match Path::new("/dev/shm").is_dir() {
        true => PathBuf::from("/dev/shm"),
        false => std::env::temp_dir(),
    };
    let n = RUNS.fetch_add(1, Ordering::Relaxed);
    base.join(format!("pm-fuzz-{}-{n}", std::process::id()))
}

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_unpacked_size: 1 << 20,
        max_entries: 500,
        max_depth: 32,
        max_total_symlink_hops: 10_000,
        ..Limits::default()
    };
    let policy = Policy {
        allow_devices: false,
        allow_setuid: true,
    };
    let mut seen = Recorder::default();
    let report = walk(data, &limits, &policy, &mut seen).expect("a byte slice never fails to read");

    let dir = scratch();
    let (root, outside, blob) = (dir.join("root"), dir.join("outside"), dir.join("blob"));
    for d in [&root, &outside] {
        std::fs::create_dir_all(d).expect("scratch");
    }
    std::fs::write(&blob, data).expect("blob");
    let validated = Validated {
        sha256: "",
        limits: &limits,
        policy: &policy,
    };
    let unpacked = unpack_file(&blob, &root, &validated, false, &pm::progress::Silent, &mut || {});

    assert_eq!(
        unpacked.is_ok(),
        report.is_safe(),
        "the unpacker and the validator disagree: {unpacked:?} vs {:?}",
        report.violations
    );
    let mut disk = BTreeMap::new();
    on_disk(&fsat::open_root(&root).expect("root"), b"", &mut disk, unpacked.is_ok());
    assert_eq!(disk, expected(seen.tree, unpacked.is_ok()), "on disk vs seen");
    assert!(std::fs::read_dir(&outside).expect("outside").next().is_none());
    let mut around: Vec<_> = std::fs::read_dir(&dir)
        .expect("scratch")
        .map(|e| e.expect("entry").file_name())
        .collect();
    around.sort();
    assert_eq!(around, ["blob", "outside", "root"], "nothing beside the root");
    pm::pool::dir::remove_tree(&dir).expect("clean up");
});
