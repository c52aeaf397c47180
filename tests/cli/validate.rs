//! `pm image validate`: hostile archives rejected with every violation
//! listed, real root filesystems accepted, verdicts of stored images kept.

use crate::archives::{Flavour, Header, Tar, gzip, gzip_with_zeros, zstd, zstd_with_zeros};
use crate::support::{Sandbox, error_code, json_of, output_document};
use serde_json::Value;
use std::path::PathBuf;

fn write(sb: &Sandbox, name: &str, bytes: &[u8]) -> PathBuf {
    let path = sb.path().join(name);
    std::fs::write(&path, bytes).expect("write archive");
    path
}

fn validate(sb: &Sandbox, path: &std::path::Path, flags: &[&str]) -> (Value, i32) {
    json_of(sb.pm().args(["image", "validate"]).arg(path).args(flags))
}

/// (rule, path) of every violation in a rejection.
fn violations(doc: &Value) -> Vec<(String, String)> {
    doc["error"]["violations"]
        .as_array()
        .unwrap_or_else(|| panic!("no violations list: {doc}"))
        .iter()
        .map(|v| {
            (
                v["rule"].as_str().expect("rule").to_string(),
                v["path"].as_str().expect("path").to_string(),
            )
        })
        .collect()
}

struct Case {
    name: &'static str,
    archive: Vec<u8>,
    flags: &'static [&'static str],
    rule: &'static str,
    /// The entry path the violation must name, when it has one.
    path: Option<&'static str>,
}

fn case(
    name: &'static str,
    archive: Vec<u8>,
    rule: &'static str,
    path: Option<&'static str>,
) -> Case {
    Case {
        name,
        archive,
        flags: &[],
        rule,
        path,
    }
}

fn with_flags(mut c: Case, flags: &'static [&'static str]) -> Case {
    c.flags = flags;
    c
}

fn tar(build: impl FnOnce(&mut Tar)) -> Vec<u8> {
    let mut t = Tar::pax();
    build(&mut t);
    t.finish()
}

fn gnu(build: impl FnOnce(&mut Tar)) -> Vec<u8> {
    let mut t = Tar::new(Flavour::Gnu);
    build(&mut t);
    t.finish()
}

/// In the spirit of containerd's TestBreakouts: every traversal spelling,
/// every link escape, header overrides, hardlink tricks, special files,
/// each limit, bombs, and broken streams.
fn hostile_cases() -> Vec<Case> {
    let deep_dotdot = format!("{}etc/passwd", "../".repeat(40));
    let long_abs = format!("/{}", "a/".repeat(60));
    let long_target = format!("{}etc/shadow", "../".repeat(50));
    let mut cases = vec![
        // --- traversal spellings ---
        case(
            "dotdot",
            tar(|t| {
                t.file("../evil", b"x");
            }),
            "path_traversal",
            Some("../evil"),
        ),
        case(
            "dotdot_nested",
            tar(|t| {
                t.file("a/../../evil", b"x");
            }),
            "path_traversal",
            Some("a/../../evil"),
        ),
        case(
            "dot_then_dotdot",
            tar(|t| {
                t.file("./../evil", b"x");
            }),
            "path_traversal",
            Some("./../evil"),
        ),
        case(
            "dotdot_inside_is_still_refused",
            tar(|t| {
                t.dir("a/");
                t.file("a/../b", b"x");
            }),
            "path_traversal",
            Some("a/../b"),
        ),
        case(
            "dotdot_directory",
            tar(|t| {
                t.dir("a/b/../../../");
            }),
            "path_traversal",
            Some("a/b/../../../"),
        ),
        case(
            "absolute",
            tar(|t| {
                t.file("/etc/passwd", b"x");
            }),
            "absolute_path",
            Some("/etc/passwd"),
        ),
        case(
            "absolute_double_slash",
            tar(|t| {
                t.file("//etc/passwd", b"x");
            }),
            "absolute_path",
            Some("//etc/passwd"),
        ),
        case(
            "absolute_dotdot",
            tar(|t| {
                t.file("/../etc/passwd", b"x");
            }),
            "absolute_path",
            Some("/../etc/passwd"),
        ),
        // --- PAX and GNU header overrides of an innocent name ---
        case(
            "pax_path_traversal",
            tar(|t| {
                t.pax_record(&[("path", b"../../etc/passwd")]);
                t.file("innocent", b"x");
            }),
            "path_traversal",
            Some("../../etc/passwd"),
        ),
        case(
            "pax_path_absolute",
            tar(|t| {
                t.pax_record(&[("path", b"/etc/shadow")]);
                t.file("innocent", b"x");
            }),
            "absolute_path",
            Some("/etc/shadow"),
        ),
        case(
            "pax_path_nul",
            tar(|t| {
                t.pax_record(&[("path", b"ok\0/../../x")]);
                t.file("innocent", b"x");
            }),
            "nul_in_name",
            Some("ok\\0/../../x"),
        ),
        case(
            "pax_sparse_name_traversal",
            tar(|t| {
                t.pax_record(&[
                    ("GNU.sparse.major", b"1"),
                    ("GNU.sparse.minor", b"0"),
                    ("GNU.sparse.name", b"../../etc/cron.d/evil"),
                ]);
                t.file("GNUSparseFile.0/evil", b"x");
            }),
            "path_traversal",
            Some("../../etc/cron.d/evil"),
        ),
        case(
            "gnu_longname_traversal",
            gnu(|t| {
                t.file(&deep_dotdot, b"x");
            }),
            "path_traversal",
            None,
        ),
        case(
            "gnu_longname_absolute",
            gnu(|t| {
                t.file(&long_abs, b"x");
            }),
            "absolute_path",
            None,
        ),
        case(
            "gnu_longname_nul",
            gnu(|t| {
                t.gnu_long(b'L', b"safe\0../../x");
                t.file("innocent", b"x");
            }),
            "nul_in_name",
            None,
        ),
        // --- symlink escapes, chains, writes through links ---
        case(
            "symlink_relative_escape",
            tar(|t| {
                t.symlink("evil", "../../../etc");
            }),
            "symlink_escape",
            Some("evil"),
        ),
        case(
            "symlink_nested_escape",
            tar(|t| {
                t.dir("a/b/");
                t.symlink("a/b/evil", "../../../x");
            }),
            "symlink_escape",
            Some("a/b/evil"),
        ),
        case(
            "symlink_escape_via_missing_dir",
            tar(|t| {
                t.symlink("evil", "nothing/../../etc");
            }),
            "symlink_escape",
            Some("evil"),
        ),
        case(
            "symlink_chain_escape_defined_later",
            tar(|t| {
                t.symlink("c1", "c2/x");
                t.symlink("c2", "sub/../..");
            }),
            "symlink_escape",
            Some("c1"),
        ),
        case(
            "symlink_chain_through_dir_link",
            tar(|t| {
                t.dir("deep/er/");
                t.symlink("up", "deep/er");
                t.symlink("out", "up/../../..");
            }),
            "symlink_escape",
            Some("out"),
        ),
        case(
            "symlink_loop",
            tar(|t| {
                t.symlink("a", "b");
                t.symlink("b", "a");
            }),
            "symlink_loop",
            Some("a"),
        ),
        case(
            "symlink_self_loop",
            tar(|t| {
                t.symlink("me", "./me");
            }),
            "symlink_loop",
            Some("me"),
        ),
        case(
            "pax_linkpath_escape",
            tar(|t| {
                t.pax_record(&[("linkpath", b"../../../../etc")]);
                t.symlink("innocent", "fine");
            }),
            "symlink_escape",
            Some("innocent"),
        ),
        case(
            "gnu_longlink_escape",
            gnu(|t| {
                t.symlink("lnk", &long_target);
            }),
            "symlink_escape",
            Some("lnk"),
        ),
        case(
            "file_through_symlink",
            tar(|t| {
                t.symlink("lnk", "/etc");
                t.file("lnk/passwd", b"x");
            }),
            "write_through_symlink",
            Some("lnk/passwd"),
        ),
        case(
            "dir_replaced_by_symlink_then_file",
            tar(|t| {
                t.dir("etc/");
                t.symlink("etc", "/tmp");
                t.file("etc/passwd", b"x");
            }),
            "write_through_symlink",
            Some("etc/passwd"),
        ),
        case(
            "symlink_to_root_then_file",
            tar(|t| {
                t.symlink("r", "/");
                t.file("r/etc/shadow", b"x");
            }),
            "write_through_symlink",
            Some("r/etc/shadow"),
        ),
        case(
            "dir_replaced_by_symlink_type_change",
            tar(|t| {
                t.dir("etc/");
                t.symlink("etc", "/tmp");
            }),
            "type_change",
            Some("etc"),
        ),
        // --- hardlink tricks ---
        case(
            "hardlink_outside",
            tar(|t| {
                t.hardlink("h", "../../etc/passwd");
            }),
            "hardlink_escape",
            Some("h"),
        ),
        case(
            "hardlink_absolute",
            tar(|t| {
                t.hardlink("h", "/etc/passwd");
            }),
            "hardlink_escape",
            Some("h"),
        ),
        case(
            "hardlink_missing",
            tar(|t| {
                t.hardlink("h", "not/there");
            }),
            "hardlink_target_missing",
            Some("h"),
        ),
        case(
            "hardlink_forward_reference",
            tar(|t| {
                t.hardlink("h", "later");
                t.file("later", b"x");
            }),
            "hardlink_target_missing",
            Some("h"),
        ),
        case(
            "hardlink_through_symlink",
            tar(|t| {
                t.symlink("lnk", "/etc");
                t.hardlink("h", "lnk/passwd");
            }),
            "hardlink_through_symlink",
            Some("h"),
        ),
        case(
            "hardlink_to_symlink",
            tar(|t| {
                t.symlink("s", "/etc/shadow");
                t.hardlink("h", "s");
            }),
            "hardlink_through_symlink",
            Some("h"),
        ),
        case(
            "hardlink_to_directory",
            tar(|t| {
                t.dir("d/");
                t.hardlink("h", "d");
            }),
            "hardlink_to_directory",
            Some("h"),
        ),
        // --- special files and modes ---
        case(
            "char_device",
            tar(|t| {
                t.device(b'3', "dev/null");
            }),
            "device_node",
            Some("dev/null"),
        ),
        case(
            "block_device",
            tar(|t| {
                t.device(b'4', "dev/sda");
            }),
            "device_node",
            Some("dev/sda"),
        ),
        case(
            "fifo",
            tar(|t| {
                t.device(b'6', "run/pipe");
            }),
            "fifo",
            Some("run/pipe"),
        ),
        case(
            "setuid",
            tar(|t| {
                t.file_mode("bin/su", 0o4755, b"x");
            }),
            "setuid",
            Some("bin/su"),
        ),
        case(
            "setgid",
            tar(|t| {
                t.file_mode("bin/wall", 0o2755, b"x");
            }),
            "setgid",
            Some("bin/wall"),
        ),
        case(
            "type_change_file_to_dir",
            tar(|t| {
                t.file("x", b"x");
                t.dir("x/");
            }),
            "type_change",
            Some("x/"),
        ),
        case(
            "parent_is_a_file",
            tar(|t| {
                t.file("x", b"x");
                t.file("x/y", b"y");
            }),
            "parent_not_directory",
            Some("x/y"),
        ),
        case(
            "unsupported_entry_type",
            tar(|t| {
                t.entry(Header::new(b"vol", b'V'), b"");
            }),
            "unsupported_entry_type",
            Some("vol"),
        ),
        // --- limits ---
        with_flags(
            case(
                "too_many_entries",
                tar(|t| {
                    for i in 0..20 {
                        t.file(&format!("f{i}"), b"");
                    }
                }),
                "too_many_entries",
                Some("f10"),
            ),
            &["--max-entries", "10"],
        ),
        with_flags(
            case(
                "unpacked_size",
                tar(|t| {
                    t.file("big", &[7u8; 4096]);
                }),
                "unpacked_size",
                Some("big"),
            ),
            &["--max-unpacked-size", "1KiB"],
        ),
        with_flags(
            case(
                "path_too_long",
                tar(|t| {
                    t.file(&"p/".repeat(50), b"x");
                }),
                "path_too_long",
                None,
            ),
            &["--max-path-length", "64"],
        ),
        case(
            "component_too_long",
            tar(|t| {
                t.file(&"c".repeat(300), b"x");
            }),
            "component_too_long",
            None,
        ),
        with_flags(
            case(
                "too_deep",
                tar(|t| {
                    t.file("d/".repeat(10).trim_end_matches('/'), b"x");
                }),
                "too_deep",
                None,
            ),
            &["--max-depth", "8"],
        ),
        with_flags(
            case(
                "symlink_hops",
                tar(|t| {
                    for i in 0..5 {
                        t.symlink(&format!("n{i}"), &format!("n{}", i + 1));
                    }
                }),
                "symlink_loop",
                Some("n0"),
            ),
            &["--max-symlink-hops", "3"],
        ),
        // --- broken streams ---
        case(
            "not_an_archive",
            b"#!/bin/sh\necho this is not a tarball\n".repeat(20),
            "not_an_archive",
            None,
        ),
        case("zip_renamed_to_tar", zip_file(), "unsupported_format", None),
        case(
            "xz_data",
            b"\xfd7zXZ\x00\x00\x04rest-of-an-xz-stream".to_vec(),
            "unsupported_format",
            None,
        ),
        case("empty_file", Vec::new(), "empty_archive", None),
        case(
            "gzip_of_text",
            gzip(b"hello, I am not a tar archive at all\n"),
            "not_an_archive",
            None,
        ),
        case(
            "missing_end_marker",
            Tar::pax().file("a", b"x").unterminated(),
            "truncated",
            None,
        ),
        case(
            "truncated_in_data",
            {
                let mut t = Tar::pax();
                t.file("big", &[1u8; 5000]);
                let mut bytes = t.unterminated();
                bytes.truncate(512 + 2000);
                bytes
            },
            "truncated",
            None,
        ),
        case(
            "truncated_in_header",
            tar(|t| {
                t.file("a", b"x");
            })[..700]
                .to_vec(),
            "truncated",
            None,
        ),
        case(
            "truncated_gzip",
            {
                let full = gzip(&tar(|t| {
                    t.file("a", &[3u8; 100_000]);
                }));
                full[..full.len() / 2].to_vec()
            },
            "truncated",
            None,
        ),
        case(
            "bad_checksum",
            {
                let mut bytes = tar(|t| {
                    t.file("a", b"x");
                    t.file("b", b"y");
                });
                bytes[1024 + 10] ^= 0x55; // a name byte of the second header
                bytes
            },
            "bad_checksum",
            None,
        ),
        case(
            "corrupt_size_field",
            {
                let t = Tar::pax();
                let mut h = t.header_block(&Header::new(b"a", b'0'));
                h[124..136].copy_from_slice(b"zzzzzzzzzzz\0");
                fix_checksum(&mut h);
                let mut bytes = h.to_vec();
                bytes.extend_from_slice(&[0u8; 1024]);
                bytes
            },
            "corrupt_header",
            None,
        ),
        case(
            "trailing_garbage",
            {
                let mut bytes = tar(|t| {
                    t.file("a", b"x");
                });
                bytes.extend_from_slice(b"and then some garbage");
                bytes
            },
            "trailing_garbage",
            None,
        ),
        case(
            "corrupt_gzip",
            {
                // incompressible data, so the damage lands in the deflate data
                let noise: Vec<u8> = (0..200_000u32)
                    .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                    .collect();
                let mut bytes = gzip(&tar(|t| {
                    t.file("a", &noise);
                }));
                let at = bytes.len() * 3 / 4;
                for b in &mut bytes[at..at + 16] {
                    *b ^= 0xa5;
                }
                bytes
            },
            "corrupt_compression",
            None,
        ),
        case(
            "oversized_gnu_long_name",
            gnu(|t| {
                t.gnu_long(b'L', &vec![b'n'; 3 << 20]);
                t.file("x", b"");
            }),
            "oversized_header",
            None,
        ),
    ];
    cases.extend(bomb_cases());
    cases
}

/// Decompression bombs: a few MiB compressed at most, GiB declared.
fn bomb_cases() -> Vec<Case> {
    // Declared under the size limit: only the ratio guard can stop it.
    let mut h = Header::new(b"zeros", b'0');
    h.size = 4 << 30;
    let header = Tar::pax().header_block(&h);
    // Declared far over the size limit: refused at its header.
    let mut huge = Header::new(b"huge", b'0');
    huge.size = 64 << 30;
    let huge_header = Tar::pax().header_block(&huge);
    vec![
        case(
            "gzip_bomb",
            gzip_with_zeros(&header, 256 << 20),
            "compression_ratio",
            Some("zeros"),
        ),
        case(
            "zstd_bomb",
            zstd_with_zeros(&header, 256 << 20),
            "compression_ratio",
            Some("zeros"),
        ),
        case(
            "declared_64gib",
            gzip_with_zeros(&huge_header, 8 << 20),
            "unpacked_size",
            Some("huge"),
        ),
    ]
}

fn fix_checksum(h: &mut [u8; 512]) {
    h[148..156].fill(b' ');
    let sum: u32 = h.iter().map(|&x| u32::from(x)).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
}

/// A real (stored, uncompressed) zip archive holding one file.
fn zip_file() -> Vec<u8> {
    let mut z = Vec::new();
    z.extend_from_slice(b"PK\x03\x04\x0a\x00\x00\x00\x00\x00\x00\x00\x00\x00");
    z.extend_from_slice(&[0x3a, 0x5f, 0xf4, 0x9e]); // crc32 of "hi\n"
    z.extend_from_slice(&3u32.to_le_bytes());
    z.extend_from_slice(&3u32.to_le_bytes());
    z.extend_from_slice(&5u16.to_le_bytes());
    z.extend_from_slice(&0u16.to_le_bytes());
    z.extend_from_slice(b"a.txthi\n");
    z.extend_from_slice(&[0u8; 600]);
    z
}

#[test]
fn every_hostile_archive_is_rejected_with_its_rule_and_path() {
    let sb = Sandbox::new();
    let cases = hostile_cases();
    assert!(cases.len() >= 35, "only {} hostile cases", cases.len());
    let mut failures = Vec::new();
    for c in &cases {
        let path = write(&sb, &format!("{}.tar", c.name), &c.archive);
        let (doc, code) = validate(&sb, &path, c.flags);
        if code != 3 || doc.get("error").is_none() || error_code(&doc) != "image_rejected" {
            failures.push(format!("{}: exit {code}, {doc}", c.name));
            continue;
        }
        let found = violations(&doc);
        let hit = found
            .iter()
            .any(|(rule, p)| rule == c.rule && c.path.is_none_or(|want| p == want));
        if !hit {
            failures.push(format!(
                "{}: wanted {} at {:?}, got {found:?}",
                c.name, c.rule, c.path
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn decompression_bombs_are_stopped_after_the_first_mib_not_at_the_end() {
    let sb = Sandbox::new();
    for c in bomb_cases()
        .into_iter()
        .filter(|c| c.rule == "compression_ratio")
    {
        assert!(
            c.archive.len() < 4 << 20,
            "{}: the bomb itself stays small",
            c.name
        );
        let path = write(&sb, c.name, &c.archive);
        let (doc, code) = validate(&sb, &path, &[]);
        assert_eq!(code, 3, "{doc}");
        let detail = doc["error"]["violations"][0]["detail"]
            .as_str()
            .expect("detail");
        let produced: u64 = detail
            .split_whitespace()
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{detail}"));
        assert!(
            produced < 8 << 20,
            "{}: stopped after {produced} bytes of output: {detail}",
            c.name
        );
    }
}

/// A root filesystem as distributions ship it.
fn rootfs(flavour: Flavour) -> Vec<u8> {
    let mut t = Tar::new(flavour);
    let long_dir = format!("./usr/share/{}/", "long-directory-name-".repeat(6));
    t.dir("./")
        .dir("./bin/")
        .dir("./etc/")
        .dir("./usr/")
        .dir("./usr/lib/")
        .dir("./usr/share/")
        .dir_mode("./var/mail/", 0o2775)
        .dir_mode("./tmp/", 0o1777)
        .file_mode("./bin/busybox", 0o755, b"\x7fELF pretend busybox")
        .symlink("./bin/sh", "busybox")
        .hardlink("./bin/ls", "./bin/busybox")
        .hardlink("./bin/cat", "bin/busybox")
        .symlink("./lib", "usr/lib")
        .symlink("./etc/mtab", "/proc/self/mounts")
        .symlink("./etc/localtime", "/usr/share/zoneinfo/UTC")
        .symlink("./usr/bin", "../bin")
        .symlink("./usr/lib/libc.so.6", "libc-2.36.so")
        .file("./usr/lib/libc-2.36.so", &[0u8; 3000])
        .file("./etc/hostname", b"rootfs\n")
        .file("./etc/empty", b"")
        .file("./usr/share/ünïcødé — 名前.txt", "ok\n".as_bytes())
        .dir(&long_dir)
        .file(
            &format!("{long_dir}a-file-whose-full-path-is-over-one-hundred-bytes.txt"),
            b"long\n",
        )
        .symlink(
            "./usr/share/long-link",
            &format!(
                "{}a-file-whose-full-path-is-over-one-hundred-bytes.txt",
                &long_dir[1..]
            ),
        )
        .dir("./")
        .dir("./etc/");
    t.finish()
}

#[test]
fn a_realistic_root_filesystem_passes_in_every_format_and_flavour() {
    let sb = Sandbox::new();
    for flavour in [Flavour::Pax, Flavour::Gnu] {
        let raw = rootfs(flavour);
        for (ext, bytes, format) in [
            ("tar", raw.clone(), "tar"),
            ("tar.gz", gzip(&raw), "tar.gz"),
            ("tar.zst", zstd(&raw), "tar.zst"),
        ] {
            // a misleading name: the magic bytes decide
            let path = write(&sb, &format!("rootfs-{flavour:?}.{ext}.img"), &bytes);
            let (doc, code) = validate(&sb, &path, &[]);
            assert_eq!(code, 0, "{flavour:?} {ext}: {doc}");
            assert_eq!(doc["verdict"], "safe", "{doc}");
            assert_eq!(doc["format"], format, "{doc}");
            assert_eq!(doc["violations"], serde_json::json!([]), "{doc}");
            assert_eq!(doc["counts"]["symlinks"], 7, "{doc}");
            assert_eq!(doc["counts"]["hardlinks"], 2, "{doc}");
            assert_eq!(doc["changed"], false, "a plain file records nothing: {doc}");
            assert_eq!(doc["recorded"], false, "{doc}");
        }
    }
}

#[test]
fn archives_written_by_gnu_tar_pass() {
    let sb = Sandbox::new();
    let root = sb.path().join("root");
    for dir in ["bin", "etc", "usr/lib", "var/empty"] {
        std::fs::create_dir_all(root.join(dir)).expect("mkdir");
    }
    std::fs::write(root.join("bin/busybox"), b"busybox").expect("write");
    std::fs::hard_link(root.join("bin/busybox"), root.join("bin/ls")).expect("link");
    std::os::unix::fs::symlink("busybox", root.join("bin/sh")).expect("symlink");
    std::os::unix::fs::symlink("/proc/self/mounts", root.join("etc/mtab")).expect("symlink");
    std::fs::write(root.join(format!("usr/lib/{}", "x".repeat(150))), b"long").expect("write");
    // a sparse file: GNU tar stores only its data, pm counts its real size
    let sparse = std::fs::File::create(root.join("var/empty/sparse.img")).expect("create");
    sparse.set_len(64 << 20).expect("set_len");
    for (format, flag) in [("gnu", "-cf"), ("pax", "-czf")] {
        let out = sb.path().join(format!("{format}.tar"));
        let status = std::process::Command::new("tar")
            .arg(format!("--format={format}"))
            .arg("-C")
            .arg(&root)
            // GNU sparse headers only: PAX sparse (GNU.sparse.* records) is
            // not understood by the tar crate, see the README
            .args((format == "gnu").then_some("--sparse"))
            // 64 MiB of zeros gzipped is a bomb by the 100:1 rule
            .args((format == "pax").then_some("--exclude=./var/empty/sparse.img"))
            .arg(flag)
            .arg(&out)
            .arg(".")
            .status()
            .expect("run tar (install it with bash scripts/test-linux.sh)");
        assert!(status.success(), "tar --format={format}");
        let (doc, code) = validate(&sb, &out, &[]);
        assert_eq!(code, 0, "{format}: {doc}");
        assert_eq!(doc["counts"]["hardlinks"], 1, "{doc}");
        if format == "gnu" {
            let unpacked = doc["unpacked_bytes"].as_u64().expect("unpacked_bytes");
            assert!(
                unpacked >= 64 << 20,
                "the sparse file's real size counts: {doc}"
            );
            assert!(
                std::fs::metadata(&out).expect("archive").len() < 1 << 20,
                "GNU tar stored the file sparse"
            );
        }
    }
}

#[test]
fn json_and_human_output_list_every_violation() {
    let sb = Sandbox::new();
    let bytes = tar(|t| {
        t.file("../one", b"x");
        t.symlink("two", "../../x");
        t.device(b'3', "dev/three");
        t.file_mode("four", 0o4755, b"x");
        t.file("fine", b"ok");
    });
    let path = write(&sb, "many.tar", &bytes);
    let (doc, code) = validate(&sb, &path, &[]);
    assert_eq!(code, 3);
    assert_eq!(error_code(&doc), "image_rejected");
    let found = violations(&doc);
    let want = [
        ("path_traversal", "../one"),
        ("symlink_escape", "two"),
        ("device_node", "dev/three"),
        ("setuid", "four"),
    ];
    for (rule, p) in want {
        assert!(
            found.contains(&(rule.to_string(), p.to_string())),
            "{rule} {p}: {found:?}"
        );
    }
    assert_eq!(found.len(), 4, "{found:?}");
    for v in doc["error"]["violations"].as_array().expect("list") {
        assert!(v["detail"].as_str().is_some_and(|d| !d.is_empty()), "{v}");
    }

    let out = sb
        .pm()
        .args(["image", "validate"])
        .arg(&path)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(3));
    assert!(out.stdout.is_empty(), "errors go to stderr");
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("4 violations"), "{text}");
    for (rule, p) in want {
        assert!(
            text.lines().any(|l| l.contains(rule) && l.contains(p)),
            "{rule} {p}: {text}"
        );
    }
}

#[test]
fn allow_flags_accept_devices_and_setuid_but_still_report_them() {
    let sb = Sandbox::new();
    let bytes = tar(|t| {
        t.device(b'3', "dev/null");
        t.device(b'6', "run/fifo");
        t.file_mode("bin/su", 0o4755, b"x");
    });
    let path = write(&sb, "special.tar", &bytes);
    let (doc, code) = validate(&sb, &path, &["--allow-devices"]);
    assert_eq!(code, 3, "setuid still refused: {doc}");
    assert_eq!(
        violations(&doc),
        [("setuid".to_string(), "bin/su".to_string())]
    );

    let (doc, code) = validate(&sb, &path, &["--allow-devices", "--allow-setuid"]);
    assert_eq!(code, 0, "{doc}");
    let notices: Vec<&str> = doc["notices"]
        .as_array()
        .expect("notices")
        .iter()
        .map(|n| n["rule"].as_str().expect("rule"))
        .collect();
    assert_eq!(notices, ["device_node", "fifo", "setuid"], "{doc}");

    // the same through config keys
    let config = sb.path().join("config.toml");
    std::fs::write(
        &config,
        "[image]\nallow_devices = true\nallow_setuid = true\n",
    )
    .expect("config");
    let (doc, code) = json_of(
        sb.pm()
            .args(["image", "validate"])
            .arg(&path)
            .env("PM_CONFIG", &config),
    );
    assert_eq!(code, 0, "{doc}");
}

#[test]
fn config_limits_apply_and_flags_override_them() {
    let sb = Sandbox::new();
    let bytes = tar(|t| {
        for i in 0..12 {
            t.file(&format!("f{i}"), b"x");
        }
    });
    let path = write(&sb, "twelve.tar", &bytes);
    let (doc, code) = json_of(
        sb.pm()
            .args(["image", "validate"])
            .arg(&path)
            .env("PM_IMAGE_MAX_ENTRIES", "5"),
    );
    assert_eq!(code, 3, "{doc}");
    assert_eq!(violations(&doc)[0].0, "too_many_entries");
    let (doc, code) = json_of(
        sb.pm()
            .args(["image", "validate", "--max-entries", "50"])
            .arg(&path)
            .env("PM_IMAGE_MAX_ENTRIES", "5"),
    );
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["limits"]["max_entries"], 50);
}

#[test]
fn missing_and_unreadable_files_have_their_own_codes() {
    let sb = Sandbox::new();
    let (doc, code) = validate(&sb, &sb.path().join("no-such.tar"), &[]);
    assert_eq!((error_code(&doc), code), ("not_found", 4), "{doc}");
    let (doc, code) = validate(&sb, sb.path(), &[]);
    assert_eq!((error_code(&doc), code), ("unreadable", 4), "{doc}");
}

/// Puts an archive in the image store the way `pm image fetch` does.
fn store_image(sb: &Sandbox, bytes: &[u8], source: &str) -> (String, String) {
    let staging = write(sb, "staging", bytes);
    let out = std::process::Command::new("sha256sum")
        .arg(&staging)
        .output()
        .expect("sha256sum");
    let hex = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .expect("digest")
        .to_string();
    let state_path = sb.state_path();
    std::fs::create_dir_all(state_path.parent().expect("dir")).expect("mkdir");
    let mut state = pm::state::State::open(&state_path).expect("state");
    let paths = pm::paths::StatePaths::new(&state_path);
    let lock = pm::lock::acquire(
        &paths.state_lock(),
        "the state lock",
        &pm::lock::Holder::this_process("test store_image"),
        std::time::Duration::ZERO,
        |_| {},
    )
    .expect("lock");
    let store = pm::image::store::ImageStore::new(&paths);
    let digest = pm::digest::Digest::parse(&hex).expect("digest");
    std::fs::create_dir_all(store.blob_path(&digest).parent().expect("dir")).expect("mkdir");
    std::fs::rename(&staging, store.blob_path(&digest)).expect("into the store");
    let record = store
        .record_ready(&mut state, &lock, &digest, bytes.len() as u64, source, None)
        .expect("record");
    (record.id, record.digest.to_string())
}

fn stored_validation(sb: &Sandbox, digest: &str) -> Option<pm::image::validate::ValidationRecord> {
    let state = pm::state::ReadState::open(&sb.state_path()).expect("state");
    let digest = pm::digest::Digest::parse(digest).expect("digest");
    pm::image::validate::validation_for(&state, &digest).expect("read")
}

#[test]
fn a_stored_image_gets_its_verdict_recorded_and_a_rerun_changes_nothing() {
    let sb = Sandbox::new();
    let (id, digest) = store_image(&sb, &gzip(&rootfs(Flavour::Pax)), "s3://images/root.tar.gz");
    assert!(stored_validation(&sb, &digest).is_none());

    let (doc, code) = json_of(sb.pm().args(["image", "validate", &id]));
    assert_eq!(code, 0, "{doc}");
    assert_eq!(
        (doc["changed"].as_bool(), doc["recorded"].as_bool()),
        (Some(true), Some(true))
    );
    assert_eq!(doc["digest"], digest.as_str());
    let record = stored_validation(&sb, &digest).expect("recorded");
    assert!(record.is_safe());
    assert_eq!(record.report.counts.hardlinks, 2);

    // by source, by digest: the same verdict, nothing changes
    for reference in ["s3://images/root.tar.gz", digest.as_str()] {
        let (doc, code) = json_of(sb.pm().args(["image", "validate", reference]));
        assert_eq!(code, 0, "{doc}");
        assert_eq!(doc["changed"], false, "{reference}: {doc}");
    }
    // other limits: validated again and recorded
    let (doc, _) = json_of(
        sb.pm()
            .args(["image", "validate", &id, "--max-depth", "100"]),
    );
    assert_eq!(doc["changed"], true, "{doc}");
    assert_eq!(
        stored_validation(&sb, &digest)
            .expect("record")
            .report
            .limits
            .max_depth,
        100
    );

    let history = sb
        .pm()
        .args(["state", "history", "--command", "image validate", "--json"])
        .output()
        .expect("history");
    let history = output_document(["state", "history"], &history);
    assert_eq!(
        history["entries"].as_array().map(Vec::len),
        Some(4),
        "{history}"
    );
}

#[test]
fn a_rejected_stored_image_is_recorded_as_rejected() {
    let sb = Sandbox::new();
    let bytes = tar(|t| {
        t.symlink("lnk", "/etc");
        t.file("lnk/passwd", b"x");
    });
    let (id, digest) = store_image(&sb, &bytes, "/srv/evil.tar");
    let (doc, code) = json_of(sb.pm().args(["image", "validate", &id]));
    assert_eq!((error_code(&doc), code), ("image_rejected", 3), "{doc}");
    let record = stored_validation(&sb, &digest).expect("recorded");
    assert!(!record.is_safe());
    assert_eq!(record.report.violations[0].rule, "write_through_symlink");
    // the re-run answers from the record, still rejected
    let (doc, code) = json_of(sb.pm().args(["image", "validate", &digest]));
    assert_eq!((error_code(&doc), code), ("image_rejected", 3), "{doc}");
}

#[test]
fn dash_reads_the_previous_commands_json_from_stdin() {
    let sb = Sandbox::new();
    let (_, digest) = store_image(
        &sb,
        &zstd(&rootfs(Flavour::Gnu)),
        "https://example.invalid/r.tar.zst",
    );
    let doc_in =
        serde_json::json!({"changed": true, "digest": digest, "id": "ignored"}).to_string();
    let (doc, code) = json_of(sb.pm().args(["image", "validate", "-"]).write_stdin(doc_in));
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["digest"], digest.as_str());
    assert_eq!(doc["changed"], true);

    // a document naming only a file
    let path = write(&sb, "plain.tar", &rootfs(Flavour::Pax));
    let doc_in = serde_json::json!({"path": path}).to_string();
    let (doc, code) = json_of(sb.pm().args(["image", "validate", "-"]).write_stdin(doc_in));
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["recorded"], false);

    // an upstream failure is passed on, not misread
    let (doc, code) = json_of(
        sb.pm()
            .args(["image", "validate", "-"])
            .write_stdin(r#"{"error":{"code":"not_found","message":"no such object"}}"#),
    );
    assert_eq!(error_code(&doc), "upstream_failed", "{doc}");
    assert_ne!(code, 0);
}

/// A tar of nothing but zero blocks holds no image: the same as a
/// preallocated download that was never written. Refused as empty.
#[test]
fn an_all_zero_archive_is_refused_as_empty() {
    let sb = Sandbox::new();
    for (name, bytes) in [
        ("end-marker.tar", Tar::pax().finish()),
        ("zeros.tar", vec![0u8; 1 << 20]),
        ("zeros.tar.gz", gzip(&[0u8; 10240])),
    ] {
        let path = write(&sb, name, &bytes);
        let (doc, code) = validate(&sb, &path, &[]);
        assert_eq!(
            (code, error_code(&doc)),
            (3, "image_rejected"),
            "{name}: {doc}"
        );
        assert_eq!(
            violations(&doc),
            [("empty_archive".to_string(), String::new())],
            "{name}"
        );
    }
}

fn rules_of(doc: &Value) -> Vec<String> {
    violations(doc).into_iter().map(|(rule, _)| rule).collect()
}

/// Issue 10 item 1: a regular-file header whose name ends in `/` was judged
/// a directory (no setuid check, no bytes counted) while the unpacker wrote
/// it as a setuid file. Now one function decides the kind: such a header is
/// refused as ambiguous, and judged as the file it claims to be.
#[test]
fn a_file_header_named_like_a_directory_is_refused_and_judged_as_a_file() {
    let sb = Sandbox::new();
    let bytes = tar(|t| {
        t.dir("usr/bin/");
        t.file_mode("usr/bin/su/", 0o4755, &[0x7f; 4096]);
    });
    let path = write(&sb, "su.tar", &bytes);
    let (doc, code) = validate(&sb, &path, &[]);
    assert_eq!(code, 3, "{doc}");
    let found = violations(&doc);
    for rule in ["ambiguous_header", "setuid"] {
        assert!(
            found.contains(&(rule.to_string(), "usr/bin/su/".to_string())),
            "{rule}: {found:?}"
        );
    }
    assert_eq!(doc["error"]["violation_counts"]["setuid"], 1, "{doc}");
    // its bytes count toward the unpacked size
    let (doc, _) = validate(
        &sb,
        &path,
        &["--allow-setuid", "--max-unpacked-size", "1KiB"],
    );
    assert!(
        rules_of(&doc).contains(&"unpacked_size".to_string()),
        "{doc}"
    );

    // the old v7 spelling of a directory (type '\0' and a trailing slash)
    // is a directory for every reader, and so for pm
    let mut t = Tar::new(Flavour::V7);
    t.entry(Header::new(b"etc/", b'\0'), b"");
    t.file("etc/hostname", b"v7\n");
    let path = write(&sb, "v7.tar", &t.finish());
    let (doc, code) = validate(&sb, &path, &[]);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["counts"]["directories"], 1, "{doc}");
    assert_eq!(doc["counts"]["files"], 1, "{doc}");
}

type StrictCase = (&'static str, Vec<u8>, &'static str);

/// PAX records that do not parse exactly.
fn malformed_pax_cases() -> Vec<StrictCase> {
    vec![
        (
            "pax_length_with_plus_sign",
            tar(|t| {
                t.pax_raw(b'x', b"+24 path=../../etc/passwd\n");
                t.file("innocent", b"x");
            }),
            "corrupt_header",
        ),
        (
            // GNU tar and Python read path=ok\n../x (a traversal); a reader
            // that splits on newlines reads path=ok
            "pax_value_with_newline",
            tar(|t| {
                t.pax_raw(b'x', b"16 path=ok\n../x\n");
                t.file("innocent", b"x");
            }),
            "corrupt_header",
        ),
        (
            "pax_record_that_does_not_parse",
            tar(|t| {
                t.pax_raw(b'x', b"99 path=short\n");
                t.file("innocent", b"x");
            }),
            "corrupt_header",
        ),
        (
            "pax_path_not_utf8",
            tar(|t| {
                t.pax_record(&[("path", b"caf\xe9")]);
                t.file("innocent", b"x");
            }),
            "corrupt_header",
        ),
    ]
}

/// Headers that parse but that readers read differently.
fn ambiguous_header_cases() -> Vec<StrictCase> {
    let with_data = |typeflag: u8, name: &'static [u8]| {
        let mut t = Tar::pax();
        let mut h = Header::new(name, typeflag);
        h.size = 512;
        h.link = b"target";
        t.entry(h, &[b'x'; 512]);
        t.finish()
    };
    let overriding = |build: &dyn Fn(&mut Tar)| {
        tar(|t| {
            build(t);
            t.file("innocent", b"x");
        })
    };
    vec![
        (
            "pax_key_twice",
            overriding(&|t| {
                t.pax_record(&[("path", b"a"), ("path", b"../b")]);
            }),
            "ambiguous_header",
        ),
        (
            "pax_global_sets_path",
            overriding(&|t| {
                t.pax_global(&[("path", b"../../etc/cron.d/evil")]);
            }),
            "ambiguous_header",
        ),
        (
            "pax_global_sets_size",
            overriding(&|t| {
                t.pax_global(&[("size", b"0")]);
            }),
            "ambiguous_header",
        ),
        (
            "gnu_long_name_and_pax_path",
            overriding(&|t| {
                t.gnu_long(b'L', b"one/name");
                t.pax_record(&[("path", b"another/name")]);
            }),
            "ambiguous_header",
        ),
        (
            "directory_with_data",
            with_data(b'5', b"d/"),
            "ambiguous_header",
        ),
        (
            "symlink_with_data",
            with_data(b'2', b"s"),
            "ambiguous_header",
        ),
        ("fifo_with_data", with_data(b'6', b"p"), "ambiguous_header"),
    ]
}

/// Issue 10 item 2: headers that readers disagree on are refused, not
/// skipped or guessed at.
#[test]
fn malformed_or_ambiguous_headers_are_refused_not_skipped() {
    let sb = Sandbox::new();
    let mut failures = Vec::new();
    for (name, bytes, rule) in malformed_pax_cases()
        .into_iter()
        .chain(ambiguous_header_cases())
    {
        let path = write(&sb, &format!("{name}.tar"), &bytes);
        let (doc, code) = validate(&sb, &path, &["--allow-devices"]);
        if code != 3 || !rules_of(&doc).iter().any(|r| r == rule) {
            failures.push(format!("{name}: wanted {rule}, exit {code}: {doc}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // what git archive writes (a global comment) is fine
    let bytes = tar(|t| {
        t.pax_global(&[("comment", b"0123456789abcdef0123456789abcdef01234567")]);
        t.file("README", b"hello\n");
    });
    let path = write(&sb, "git-archive.tar", &bytes);
    let (doc, code) = validate(&sb, &path, &[]);
    assert_eq!(code, 0, "{doc}");
}

/// Issue 10 item 3: file capabilities grant privilege like setuid; other
/// extended attributes are noticed (the unpacker drops them).
#[test]
fn file_capabilities_are_refused_like_setuid_and_other_xattrs_noticed() {
    let sb = Sandbox::new();
    let bytes = tar(|t| {
        t.pax_record(&[(
            "SCHILY.xattr.security.capability",
            b"\x01\x00\x00\x02\x80\x00",
        )]);
        t.file_mode("usr/bin/ping", 0o755, b"ping");
        t.pax_record(&[("SCHILY.xattr.user.comment", b"hi")]);
        t.file("etc/motd", b"hi\n");
    });
    let path = write(&sb, "caps.tar", &bytes);
    let (doc, code) = validate(&sb, &path, &[]);
    assert_eq!(code, 3, "{doc}");
    assert_eq!(
        violations(&doc),
        [("file_capability".to_string(), "usr/bin/ping".to_string())]
    );
    let (doc, code) = validate(&sb, &path, &["--allow-setuid"]);
    assert_eq!(code, 0, "{doc}");
    let notices: Vec<(&str, &str)> = doc["notices"]
        .as_array()
        .expect("notices")
        .iter()
        .map(|n| (n["rule"].as_str().unwrap(), n["path"].as_str().unwrap()))
        .collect();
    assert!(
        notices.contains(&("file_capability", "usr/bin/ping")),
        "{doc}"
    );
    assert!(notices.contains(&("xattr", "etc/motd")), "{doc}");
}

/// Issue 10 item 4: a hostile archive cannot make the report grow with
/// it: 1000 violations kept, every one counted, names cut and escaped.
#[test]
fn violations_are_capped_counted_and_their_names_bounded() {
    let sb = Sandbox::new();
    // GNU long names: a PAX path may not hold a newline at all
    let long = format!("{}/\n\u{1b}[31m", "n".repeat(250)).repeat(15);
    let bytes = gnu(|t| {
        for i in 0..3000 {
            t.file_mode(&format!("bin/s{i}"), 0o4755, b"");
        }
        t.file_mode(&long, 0o4755, b"");
        // judged at the end, counted in full too
        for i in 0..1500 {
            t.symlink(&format!("up{i}"), "../x");
        }
    });
    let path = write(&sb, "many.tar", &bytes);
    let out = sb
        .pm()
        .args([
            "image",
            "validate",
            "--json",
            "--max-component-length",
            "100",
        ])
        .arg(&path)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(3));
    assert!(
        out.stdout.len() < 1 << 20,
        "{} bytes of JSON",
        out.stdout.len()
    );
    let doc = output_document(["image", "validate"], &out);
    let err = &doc["error"];
    assert_eq!(err["violations"].as_array().map(Vec::len), Some(1000));
    assert_eq!(err["violation_counts"]["setuid"], 3001, "{err}");
    assert_eq!(err["violation_counts"]["symlink_escape"], 1500, "{err}");
    let total: u64 = err["violation_counts"]
        .as_object()
        .expect("counts")
        .values()
        .filter_map(Value::as_u64)
        .sum();
    assert_eq!(err["violations_omitted"], total - 1000, "{err}");
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        !text.contains('\u{1b}'),
        "no raw escape reaches the terminal"
    );

    // the long, hostile name shows escaped and cut, in the kept ones
    let bytes = gnu(|t| {
        t.file_mode(&long, 0o4755, b"");
    });
    let path = write(&sb, "long.tar", &bytes);
    let (doc, _) = validate(&sb, &path, &[]);
    let shown = doc["error"]["violations"][0]["path"]
        .as_str()
        .expect("path");
    assert!(shown.len() < 1200, "{} bytes: {shown}", shown.len());
    assert!(shown.contains("\\n") && shown.contains("\\x1b"), "{shown}");
    assert!(
        shown.ends_with(&format!("...[+{} bytes]", long.len() - 256)),
        "{shown}"
    );
}

/// Issue 10 item 4: the state keeps a bounded summary of a stored image's
/// validation, however many violations the archive holds.
#[test]
fn a_stored_hostile_image_records_a_bounded_summary() {
    let sb = Sandbox::new();
    let bytes = tar(|t| {
        for i in 0..5000 {
            t.file_mode(&format!("{}/s{i}", "d".repeat(200)), 0o6755, b"");
        }
    });
    let (id, digest) = store_image(&sb, &bytes, "/srv/suid.tar");
    let (doc, code) = json_of(sb.pm().args(["image", "validate", &id]));
    assert_eq!((error_code(&doc), code), ("image_rejected", 3));
    let record = stored_validation(&sb, &digest).expect("recorded");
    assert_eq!(record.report.violations.len(), 100);
    assert_eq!(record.report.violation_counts["setuid"], 5000);
    assert_eq!(record.report.violation_counts["setgid"], 5000);
    let state_bytes = std::fs::metadata(sb.state_path()).expect("state").len()
        + std::fs::metadata(sb.state_path().with_extension("db-wal"))
            .map(|m| m.len())
            .unwrap_or(0);
    assert!(
        state_bytes < 4 << 20,
        "the state grew to {state_bytes} bytes"
    );
    // a re-run answers from the record, with the counts
    let (doc, _) = json_of(sb.pm().args(["image", "validate", &digest]));
    assert_eq!(doc["error"]["violation_counts"]["setuid"], 5000, "{doc}");
}

/// Issue 10 item 5: symlinks are resolved once each, memoised, so chains
/// through long targets cost about the bytes of the targets. Before, every
/// link was walked again through every hop, on entry and at the end: this
/// archive took minutes.
#[test]
fn symlink_resolution_is_near_linear_in_the_archive() {
    let sb = Sandbox::new();
    // 40 links chained, each through 500 `d/..` pairs; then 4000 links
    // into the end of the chain, each through 500 pairs too.
    let detour = "d/../".repeat(500);
    let bytes = tar(|t| {
        t.dir("d/");
        t.symlink("c0", &format!("{detour}d"));
        for i in 1..39 {
            t.symlink(&format!("c{i}"), &format!("{detour}c{}", i - 1));
        }
        for j in 0..4000 {
            t.symlink(&format!("t{j}"), &format!("{detour}c38"));
        }
    });
    let path = write(&sb, "chains.tar", &bytes);
    let started = std::time::Instant::now();
    let (doc, code) = validate(&sb, &path, &[]);
    let took = started.elapsed();
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["counts"]["symlinks"], 4039);
    assert!(
        took < std::time::Duration::from_secs(20),
        "{} bytes took {took:?}",
        bytes.len()
    );
}

/// Issue 10 item 5: the hops followed over all the links of an image are
/// bounded by a limit that is a flag, an environment variable and a key.
#[test]
fn the_total_symlink_hop_limit_is_a_flag_env_and_config_key() {
    let sb = Sandbox::new();
    let bytes = tar(|t| {
        t.symlink("dot", ".");
        for j in 0..50 {
            t.symlink(&format!("l{j}"), "dot/dot/dot");
        }
    });
    let path = write(&sb, "hops.tar", &bytes);
    let (doc, code) = validate(&sb, &path, &[]);
    assert_eq!(code, 0, "150 hops are fine by default: {doc}");
    assert_eq!(doc["limits"]["max_total_symlink_hops"], 1_000_000);
    let (doc, code) = validate(&sb, &path, &["--max-total-symlink-hops", "100"]);
    assert_eq!(code, 3, "{doc}");
    assert_eq!(rules_of(&doc), ["too_many_symlink_hops"]);
    let (doc, code) = json_of(
        sb.pm()
            .args(["image", "validate"])
            .arg(&path)
            .env("PM_IMAGE_MAX_TOTAL_SYMLINK_HOPS", "100"),
    );
    assert_eq!(
        (code, rules_of(&doc)),
        (3, vec!["too_many_symlink_hops".to_string()])
    );
    let config = sb.path().join("config.toml");
    std::fs::write(&config, "[image]\nmax_total_symlink_hops = 100\n").expect("config");
    let (doc, code) = json_of(
        sb.pm()
            .args(["image", "validate"])
            .arg(&path)
            .env("PM_CONFIG", &config),
    );
    assert_eq!(code, 3, "{doc}");
}

/// Issue 10 item 6: `file/../..` is resolved as the kernel would: ENOTDIR
/// at the file, so the link is dead, not an escape, whichever comes first.
#[test]
fn a_link_whose_target_climbs_through_a_file_is_dead_not_an_escape() {
    let sb = Sandbox::new();
    for (name, bytes) in [
        (
            "file_first",
            tar(|t| {
                t.file("etc/hostname", b"h\n");
                t.symlink("etc/l", "hostname/../../../..");
            }),
        ),
        (
            "link_first",
            tar(|t| {
                t.symlink("etc/l", "hostname/../../../..");
                t.file("etc/hostname", b"h\n");
            }),
        ),
    ] {
        let path = write(&sb, &format!("{name}.tar"), &bytes);
        let (doc, code) = validate(&sb, &path, &[]);
        assert_eq!(code, 0, "{name}: {doc}");
    }
    // a missing directory is walked lexically: that still escapes
    let bytes = tar(|t| {
        t.symlink("etc/l", "nothing/../../../..");
    });
    let path = write(&sb, "missing.tar", &bytes);
    let (doc, _) = validate(&sb, &path, &[]);
    assert_eq!(rules_of(&doc), ["symlink_escape"]);
}

/// Issue 10 item 8: pzstd starts with a skippable frame; bytes after the
/// last gzip member are trailing garbage, not truncation.
#[test]
fn zstd_skippable_frames_pass_and_bytes_after_gzip_are_trailing_garbage() {
    let sb = Sandbox::new();
    let raw = rootfs(Flavour::Pax);
    let mut skippable = vec![0x50, 0x2a, 0x4d, 0x18];
    skippable.extend_from_slice(&4u32.to_le_bytes());
    skippable.extend_from_slice(b"pzst");
    skippable.extend_from_slice(&zstd(&raw));
    let path = write(&sb, "pzstd.tar.zst", &skippable);
    let (doc, code) = validate(&sb, &path, &[]);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["format"], "tar.zst");

    let mut garbage = gzip(&raw);
    garbage.extend_from_slice(b"this is not a gzip member");
    let path = write(&sb, "garbage.tar.gz", &garbage);
    let (doc, code) = validate(&sb, &path, &[]);
    assert_eq!(code, 3, "{doc}");
    assert_eq!(rules_of(&doc), ["trailing_garbage"]);
    // two members are one stream, as gzip -d reads them
    let mut two = gzip(&raw[..1024]);
    two.extend_from_slice(&gzip(&raw[1024..]));
    let path = write(&sb, "two.tar.gz", &two);
    let (doc, code) = validate(&sb, &path, &[]);
    assert_eq!(code, 0, "{doc}");
}

/// Issue 11: the limits in JSON are named as the flags and config keys.
#[test]
fn limits_in_json_are_named_as_the_flags() {
    let sb = Sandbox::new();
    let path = write(&sb, "root.tar", &rootfs(Flavour::Pax));
    let (doc, code) = validate(&sb, &path, &[]);
    assert_eq!(code, 0, "{doc}");
    let mut names: Vec<&str> = doc["limits"]
        .as_object()
        .expect("limits")
        .keys()
        .map(String::as_str)
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "max_component_length",
            "max_compression_ratio",
            "max_depth",
            "max_entries",
            "max_path_length",
            "max_symlink_hops",
            "max_total_symlink_hops",
            "max_unpacked_size",
        ]
    );
    let help = sb
        .pm()
        .args(["image", "validate", "--help"])
        .output()
        .expect("help");
    let help = String::from_utf8_lossy(&help.stdout);
    for name in &names {
        let flag = format!("--{}", name.replace('_', "-"));
        assert!(help.contains(&flag), "{flag} in --help");
    }
}

/// Issue 11: a record written by an older pm (other field names, an older
/// rules version) or one that does not parse is no record: the image is
/// "not validated with these limits", never a crash.
#[test]
fn a_stored_verdict_from_an_older_pm_counts_as_not_validated() {
    let sb = Sandbox::new();
    let (id, digest) = store_image(&sb, &gzip(&rootfs(Flavour::Pax)), "/srv/root.tar.gz");
    let (doc, code) = json_of(sb.pm().args(["image", "validate", &id]));
    assert_eq!(code, 0, "{doc}");
    let conn = rusqlite::Connection::open(sb.state_path()).expect("state");
    let old_report = r#"{"verdict":"safe","format":"tar.gz","compressed_bytes":1,"unpacked_bytes":1,
        "counts":{"entries":1,"files":1,"directories":0,"symlinks":0,"hardlinks":0,"special":0},
        "limits":{"max_unpacked_bytes":8589934592,"max_entries":100000,"max_path_len":4096,
        "max_component_len":255,"max_depth":256,"max_symlink_hops":40,"max_ratio":100},
        "policy":{"allow_devices":false,"allow_setuid":false},"violations":[],"notices":[]}"#;
    for (version, report) in [(1, old_report), (2, "{not json"), (2, old_report)] {
        conn.execute(
            "UPDATE image_validations SET rules_version = ?1, report = ?2 WHERE digest = ?3",
            rusqlite::params![version, report, digest],
        )
        .expect("write");
        let (doc, code) = json_of(sb.pm().args(["image", "activate", &id, "--backend", "dir"]));
        assert_eq!(
            (code, error_code(&doc)),
            (9, "image_not_validated"),
            "rules {version}: {doc}"
        );
    }
    let (doc, code) = json_of(sb.pm().args(["image", "validate", &id]));
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["changed"], true, "validated again: {doc}");
}
