//! Example root filesystems for the activation tests: built as tar archives
//! in memory, put in a sandbox's image store and validated by the real
//! `pm image validate`.

use crate::support::{Sandbox, json_of};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// One expected entry of the example image.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Dir { mode: u32 },
    File { mode: u32, uid: u64, data: Vec<u8> },
    Symlink { target: String },
}

/// The example image's entries, by path.
pub fn example_tree() -> BTreeMap<&'static str, Node> {
    let mut tree = BTreeMap::new();
    tree.insert("etc", Node::Dir { mode: 0o755 });
    tree.insert("usr", Node::Dir { mode: 0o755 });
    tree.insert("usr/bin", Node::Dir { mode: 0o755 });
    tree.insert("root", Node::Dir { mode: 0o700 });
    tree.insert(
        "etc/hostname",
        Node::File {
            mode: 0o644,
            uid: 0,
            data: b"machine\n".to_vec(),
        },
    );
    tree.insert(
        "usr/bin/hello",
        Node::File {
            mode: 0o755,
            uid: 0,
            data: b"#!/bin/sh\necho hello\n".to_vec(),
        },
    );
    tree.insert(
        "root/secret",
        Node::File {
            mode: 0o600,
            uid: 1000,
            data: vec![7u8; 300_000],
        },
    );
    tree.insert(
        "bin",
        Node::Symlink {
            target: "usr/bin".to_string(),
        },
    );
    tree.insert(
        "etc/localtime",
        Node::Symlink {
            target: "/usr/share/zoneinfo/UTC".to_string(),
        },
    );
    tree
}

/// A tar of [`example_tree`], plus a hardlink `usr/bin/hi` → `usr/bin/hello`.
pub fn example_tar() -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, node) in example_tree() {
        let mut header = tar::Header::new_gnu();
        header.set_mtime(1_700_000_000);
        match node {
            Node::Dir { mode } => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(mode);
                header.set_size(0);
                builder.append_data(&mut header, path, &[][..]).unwrap();
            }
            Node::File { mode, uid, data } => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(mode);
                header.set_uid(uid);
                header.set_gid(uid);
                header.set_size(data.len() as u64);
                builder.append_data(&mut header, path, &data[..]).unwrap();
            }
            Node::Symlink { target } => {
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_mode(0o777);
                header.set_size(0);
                builder.append_link(&mut header, path, target).unwrap();
            }
        }
    }
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Link);
    header.set_mode(0o755);
    header.set_size(0);
    builder
        .append_link(&mut header, "usr/bin/hi", "usr/bin/hello")
        .unwrap();
    builder.into_inner().unwrap()
}

/// A tar that tries to write outside the root.
pub fn hostile_tar() -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Regular);
    header.set_mode(0o644);
    header.set_size(5);
    // `append_data` refuses `..`; write the name into the header directly.
    let name = b"../../escaped-by-pm-test";
    header.as_old_mut().name[..name.len()].copy_from_slice(name);
    header.set_cksum();
    builder.append(&header, &b"owned"[..]).unwrap();
    builder.into_inner().unwrap()
}

pub fn sha256_hex(path: &Path) -> String {
    let out = Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("run sha256sum");
    assert!(out.status.success(), "sha256sum {}", path.display());
    String::from_utf8(out.stdout).unwrap()[..64].to_string()
}

/// Fetches `archive` from a local file into the sandbox's image store
/// (the real `pm image fetch`) and returns its digest.
pub fn store_image(sb: &Sandbox, archive: &[u8]) -> String {
    let file = sb.path().join(format!("image-{}.tar", archive.len()));
    std::fs::write(&file, archive).unwrap();
    let (doc, code) = json_of(sb.pm().args(["image", "fetch", file.to_str().unwrap()]));
    assert_eq!(code, 0, "{doc}");
    let digest = doc["digest"].as_str().unwrap().to_string();
    assert_eq!(digest, format!("sha256:{}", sha256_hex(&file)));
    digest
}

/// Stores and validates the example image; returns its digest.
pub fn validated_example(sb: &Sandbox) -> String {
    let digest = store_image(sb, &example_tar());
    let (doc, code) = json_of(sb.pm().args(["image", "validate", &digest]));
    assert_eq!(code, 0, "{doc}");
    digest
}

/// Asserts that `root` holds exactly the example image's files.
pub fn assert_holds_example(root: &Path, as_root: bool) {
    use std::os::unix::fs::MetadataExt;
    for (path, node) in example_tree() {
        let full = root.join(path);
        let meta =
            std::fs::symlink_metadata(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()));
        match node {
            Node::Dir { mode } => {
                assert!(meta.is_dir(), "{path} is a directory");
                assert_eq!(meta.mode() & 0o7777, mode, "{path} mode");
            }
            Node::File { mode, uid, data } => {
                assert!(meta.is_file(), "{path} is a file");
                assert_eq!(meta.mode() & 0o7777, mode, "{path} mode");
                assert_eq!(std::fs::read(&full).unwrap(), data, "{path} content");
                assert_eq!(meta.mtime(), 1_700_000_000, "{path} mtime");
                if as_root {
                    assert_eq!(u64::from(meta.uid()), uid, "{path} owner");
                }
            }
            Node::Symlink { target } => {
                assert!(meta.file_type().is_symlink(), "{path} is a symlink");
                assert_eq!(std::fs::read_link(&full).unwrap().to_str().unwrap(), target);
            }
        }
    }
    let hello = std::fs::metadata(root.join("usr/bin/hello")).unwrap();
    let hi = std::fs::metadata(root.join("usr/bin/hi")).unwrap();
    assert_eq!(
        hello.ino(),
        hi.ino(),
        "usr/bin/hi is a hardlink of usr/bin/hello"
    );
}

pub fn running_as_root() -> bool {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() == 0 }
}
