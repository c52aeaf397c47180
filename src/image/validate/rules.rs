//! The per-entry rules: [`EntryChecker`] judges each tar entry against the
//! limits and the policy while keeping a model of the tree being unpacked,
//! so the validator and the unpacker enforce exactly the same rules.

use super::stream::EntryBudget;
use super::tree::{Found, NodeId, NodeKind, PathProblem, Placed, Resolution, Tree, split_member};
use super::{Limits, Policy, Violation, display_path, rule};
use serde::Serialize;
use std::collections::HashSet;
use std::io::Read;

/// Entries of each kind seen so far.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Counts {
    pub entries: u64,
    pub files: u64,
    pub directories: u64,
    pub symlinks: u64,
    pub hardlinks: u64,
    /// Character and block devices and FIFOs.
    pub special: u64,
}

/// What [`EntryChecker::finish`] knows at the end of the archive.
#[derive(Clone, Debug)]
pub struct Summary {
    pub counts: Counts,
    /// Bytes of file data unpacking would write.
    pub unpacked_bytes: u64,
    /// Violations only the whole tree shows (symlink chains through links
    /// that came later).
    pub violations: Vec<Violation>,
    /// Things allowed by the policy but worth knowing (setuid files under
    /// `--allow-setuid`, devices under `--allow-devices`).
    pub notices: Vec<Violation>,
}

/// The facts of one entry the rules look at, taken from a `tar::Entry`
/// (GNU long names and PAX `path`/`linkpath` records already applied).
#[derive(Clone, Copy, Debug)]
pub struct EntryFacts<'a> {
    pub path: &'a [u8],
    pub link: Option<&'a [u8]>,
    pub kind: tar::EntryType,
    /// `None` when the header's mode field is not a number.
    pub mode: Option<u32>,
    /// Bytes of file data (the PAX `size` or the sparse real size when set).
    pub size: u64,
    /// Bytes the entry occupies in the stream (differs for sparse files).
    pub stored_size: u64,
}

/// How an entry is treated; `Ignored` entries (PAX global headers) carry
/// no file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    File,
    Dir,
    Symlink,
    Hardlink,
    Device,
    Fifo,
    Ignored,
    Unsupported,
}

fn shape_of(kind: tar::EntryType, path: &[u8]) -> Shape {
    use tar::EntryType as T;
    match kind {
        // A v7 archive marks directories only by a trailing slash.
        T::Regular if path.ends_with(b"/") => Shape::Dir,
        T::Regular | T::Continuous | T::GNUSparse => Shape::File,
        T::Directory => Shape::Dir,
        T::Symlink => Shape::Symlink,
        T::Link => Shape::Hardlink,
        T::Char | T::Block => Shape::Device,
        T::Fifo => Shape::Fifo,
        T::XGlobalHeader => Shape::Ignored,
        _ => Shape::Unsupported,
    }
}

/// Judges entries one at a time; see the module docs.
pub struct EntryChecker {
    limits: Limits,
    policy: Policy,
    tree: Tree,
    counts: Counts,
    unpacked_bytes: u64,
    fatal: bool,
    budget: Option<EntryBudget>,
    /// Symlinks in the tree, re-resolved at the end when later entries may
    /// have changed where they lead.
    symlinks: Vec<(NodeId, String)>,
    reported_links: HashSet<NodeId>,
    notices: Vec<Violation>,
}

impl EntryChecker {
    pub fn new(limits: Limits, policy: Policy) -> Self {
        EntryChecker {
            limits,
            policy,
            tree: Tree::default(),
            counts: Counts::default(),
            unpacked_bytes: 0,
            fatal: false,
            budget: None,
            symlinks: Vec::new(),
            reported_links: HashSet::new(),
            notices: Vec::new(),
        }
    }

    /// Bounds what the tar parser may read between entries (long names,
    /// PAX records) to the entry's data plus a small allowance. Attach the
    /// budget of the stream from [`super::open_archive`].
    pub fn attach(&mut self, budget: EntryBudget) {
        budget.grant(0);
        self.budget = Some(budget);
    }

    /// Whether a limit was crossed that makes reading on pointless or
    /// harmful (too many entries, too many bytes): stop the stream.
    pub fn must_stop(&self) -> bool {
        self.fatal
    }

    /// Checks one entry against every rule, updating the model of the
    /// tree; returns this entry's violations (empty when it is fine).
    pub fn check_entry<R: Read>(&mut self, entry: &mut tar::Entry<'_, R>) -> Vec<Violation> {
        let sparse_name = pax_record(entry, b"GNU.sparse.name");
        let header = entry.header();
        let path = entry.path_bytes();
        let link = entry.link_name_bytes();
        let stored_size = if header.entry_type().is_gnu_sparse() {
            header.entry_size().unwrap_or(0)
        } else {
            entry.size()
        };
        let mut found = self.check(EntryFacts {
            path: &path,
            link: link.as_deref(),
            kind: header.entry_type(),
            mode: header.mode().ok(),
            size: entry.size(),
            stored_size,
        });
        if let Some(name) = sparse_name {
            found.extend(self.check_sparse_name(&path, &name));
        }
        found
    }

    /// A PAX sparse file (GNU formats 0.1 and 1.0) carries its real name in a
    /// `GNU.sparse.name` record, and GNU tar extracts to that name, not to
    /// the header's placeholder. The tar crate (and so pm's unpacker) uses
    /// the placeholder; another extractor would not, so the real name gets
    /// the same name checks, reported under it.
    fn check_sparse_name(&self, placeholder: &[u8], name: &[u8]) -> Vec<Violation> {
        let shown = display_path(name);
        let mut found = Vec::new();
        self.check_member_name(name, &mut |rule, detail| {
            found.push(Violation::new(
                rule,
                &shown,
                format!(
                    "{detail} (the GNU.sparse.name of {})",
                    display_path(placeholder)
                ),
            ));
        });
        found
    }

    /// [`EntryChecker::check_entry`] on facts already taken from an entry.
    pub fn check(&mut self, entry: EntryFacts<'_>) -> Vec<Violation> {
        let mut found = Vec::new();
        if let Some(budget) = &self.budget {
            budget.grant(entry.stored_size);
        }
        let shape = shape_of(entry.kind, entry.path);
        if shape == Shape::Ignored {
            return found;
        }
        let shown = display_path(entry.path);
        let mut add = |rule: &'static str, detail: String| {
            found.push(Violation::new(rule, &shown, detail));
        };
        self.count(shape);
        if self.counts.entries > self.limits.max_entries {
            self.fatal = true;
            add(
                rule::TOO_MANY_ENTRIES,
                format!("more than {} entries", self.limits.max_entries),
            );
            return found;
        }
        let parts = self.check_member_name(entry.path, &mut add);
        self.check_type_and_mode(shape, entry, &mut add);
        if shape == Shape::File {
            self.unpacked_bytes = self.unpacked_bytes.saturating_add(entry.size);
            if self.unpacked_bytes > self.limits.max_unpacked_bytes {
                self.fatal = true;
                add(
                    rule::UNPACKED_SIZE,
                    format!(
                        "unpacking would write more than {} bytes (this entry: {} bytes)",
                        self.limits.max_unpacked_bytes, entry.size
                    ),
                );
            }
        }
        let link = entry.link.unwrap_or_default();
        let target = match shape {
            Shape::Symlink => self.check_symlink_target(link, &mut add),
            Shape::Hardlink => self.check_hardlink_target(link, &mut add),
            _ => None,
        };
        if let Some(parts) = parts {
            self.place(shape, &parts, target, &shown, &mut add);
        }
        if self.tree.node_count() as u64 > self.limits.max_entries && !self.fatal {
            self.fatal = true;
            add(
                rule::TOO_MANY_ENTRIES,
                format!(
                    "unpacking would create more than {} files and directories",
                    self.limits.max_entries
                ),
            );
        }
        found
    }

    fn count(&mut self, shape: Shape) {
        let c = &mut self.counts;
        c.entries += 1;
        match shape {
            Shape::File => c.files += 1,
            Shape::Dir => c.directories += 1,
            Shape::Symlink => c.symlinks += 1,
            Shape::Hardlink => c.hardlinks += 1,
            Shape::Device | Shape::Fifo => c.special += 1,
            Shape::Ignored | Shape::Unsupported => {}
        }
    }

    /// The entry's own name: `None` when it cannot be placed in the tree.
    fn check_member_name<'p>(
        &self,
        path: &'p [u8],
        add: &mut impl FnMut(&'static str, String),
    ) -> Option<Vec<&'p [u8]>> {
        let limits = &self.limits;
        if path.len() as u64 > limits.max_path_len {
            add(
                rule::PATH_TOO_LONG,
                format!("{} bytes, more than {}", path.len(), limits.max_path_len),
            );
        }
        let parts = match split_member(path) {
            Ok(parts) => parts,
            Err(problem) => {
                let (rule, detail) = match problem {
                    PathProblem::Nul => (rule::NUL_IN_NAME, "the name contains a NUL byte"),
                    PathProblem::Absolute => (
                        rule::ABSOLUTE_PATH,
                        "the name starts with / (outside the image root)",
                    ),
                    PathProblem::Traversal => {
                        (rule::PATH_TRAVERSAL, "the name contains a .. component")
                    }
                };
                add(rule, detail.to_string());
                return None;
            }
        };
        let mut placeable = path.len() as u64 <= limits.max_path_len;
        if let Some(long) = parts
            .iter()
            .find(|p| p.len() as u64 > limits.max_component_len)
        {
            add(
                rule::COMPONENT_TOO_LONG,
                format!(
                    "a component of {} bytes, more than {}",
                    long.len(),
                    limits.max_component_len
                ),
            );
            placeable = false;
        }
        if parts.len() as u64 > limits.max_depth {
            add(
                rule::TOO_DEEP,
                format!(
                    "{} levels deep, more than {}",
                    parts.len(),
                    limits.max_depth
                ),
            );
            placeable = false;
        }
        placeable.then_some(parts)
    }

    fn check_type_and_mode(
        &mut self,
        shape: Shape,
        entry: EntryFacts<'_>,
        add: &mut impl FnMut(&'static str, String),
    ) {
        let shown = display_path(entry.path);
        match shape {
            Shape::Device | Shape::Fifo => {
                let (rule, what) = if shape == Shape::Fifo {
                    (rule::FIFO, "a FIFO")
                } else if entry.kind == tar::EntryType::Char {
                    (rule::DEVICE_NODE, "a character device")
                } else {
                    (rule::DEVICE_NODE, "a block device")
                };
                if self.policy.allow_devices {
                    self.notice(rule, &shown, format!("{what} (allowed by --allow-devices)"));
                } else {
                    add(
                        rule,
                        format!("{what}; pass --allow-devices if the image needs it"),
                    );
                }
            }
            Shape::Unsupported => add(
                rule::UNSUPPORTED_ENTRY_TYPE,
                format!(
                    "entry type {:?} cannot be unpacked",
                    entry.kind.as_byte() as char
                ),
            ),
            _ => {}
        }
        let Some(mode) = entry.mode else {
            add(
                rule::CORRUPT_HEADER,
                "the mode field is not a number".to_string(),
            );
            return;
        };
        if shape == Shape::Dir {
            // setgid on a directory only passes the group on (Debian ships
            // /var/mail that way); it grants nothing.
            return;
        }
        for (bit, rule, what) in [
            (0o4000, rule::SETUID, "setuid"),
            (0o2000, rule::SETGID, "setgid"),
        ] {
            if mode & bit == 0 {
                continue;
            }
            let detail = format!("mode {mode:o} is {what}");
            if self.policy.allow_setuid {
                self.notice(
                    rule,
                    &shown,
                    format!("{detail} (allowed by --allow-setuid)"),
                );
            } else {
                add(
                    rule,
                    format!("{detail}; pass --allow-setuid if the image needs it"),
                );
            }
        }
    }

    fn notice(&mut self, rule: &'static str, path: &str, detail: String) {
        self.notices.push(Violation::new(rule, path, detail));
    }

    /// A symlink's target may be absolute (resolved against the image root)
    /// but not hold NUL or exceed the path limit; where it leads is judged
    /// once it is in the tree.
    fn check_symlink_target<'l>(
        &self,
        link: &'l [u8],
        add: &mut impl FnMut(&'static str, String),
    ) -> Option<&'l [u8]> {
        if link.is_empty() {
            add(
                rule::INVALID_PATH,
                "the symlink has an empty target".to_string(),
            );
            return None;
        }
        if link.contains(&0) {
            add(
                rule::NUL_IN_NAME,
                "the symlink target contains a NUL byte".to_string(),
            );
            return None;
        }
        if link.len() as u64 > self.limits.max_path_len {
            add(
                rule::PATH_TOO_LONG,
                format!(
                    "the symlink target is {} bytes, more than {}",
                    link.len(),
                    self.limits.max_path_len
                ),
            );
            return None;
        }
        Some(link)
    }

    /// A hardlink names another member of the archive, already unpacked,
    /// reached without any symlink.
    fn check_hardlink_target<'l>(
        &self,
        link: &'l [u8],
        add: &mut impl FnMut(&'static str, String),
    ) -> Option<&'l [u8]> {
        let target = display_path(link);
        let parts = match split_member(link) {
            Ok(parts) if !parts.is_empty() => parts,
            Ok(_) => {
                add(
                    rule::HARDLINK_TO_DIRECTORY,
                    "the hardlink names the image root".to_string(),
                );
                return None;
            }
            Err(PathProblem::Nul) => {
                add(
                    rule::NUL_IN_NAME,
                    "the hardlink target contains a NUL byte".to_string(),
                );
                return None;
            }
            Err(_) => {
                add(
                    rule::HARDLINK_ESCAPE,
                    format!("the hardlink target {target:?} is outside the image root"),
                );
                return None;
            }
        };
        match self.tree.find(&parts) {
            Found::Node(_, NodeKind::File | NodeKind::Special) => return Some(link),
            Found::Node(_, NodeKind::Dir) => add(
                rule::HARDLINK_TO_DIRECTORY,
                format!("the hardlink target {target:?} is a directory"),
            ),
            Found::Node(_, NodeKind::Symlink) | Found::ThroughSymlink => add(
                rule::HARDLINK_THROUGH_SYMLINK,
                format!("the hardlink target {target:?} is reached through a symlink"),
            ),
            Found::Missing | Found::ParentNotDir => add(
                rule::HARDLINK_TARGET_MISSING,
                format!("the hardlink target {target:?} is not an earlier entry of the archive"),
            ),
        }
        None
    }

    fn place(
        &mut self,
        shape: Shape,
        parts: &[&[u8]],
        target: Option<&[u8]>,
        shown: &str,
        add: &mut impl FnMut(&'static str, String),
    ) {
        let kind = match shape {
            Shape::Dir => NodeKind::Dir,
            Shape::File | Shape::Hardlink => NodeKind::File,
            Shape::Symlink => NodeKind::Symlink,
            Shape::Device | Shape::Fifo => NodeKind::Special,
            Shape::Ignored | Shape::Unsupported => return,
        };
        if parts.is_empty() {
            if kind != NodeKind::Dir {
                add(
                    rule::INVALID_PATH,
                    "the entry would replace the image root itself".to_string(),
                );
            }
            return;
        }
        let prefix = |at: usize| {
            parts[..at]
                .iter()
                .map(|p| display_path(p))
                .collect::<Vec<_>>()
                .join("/")
        };
        match self.tree.place(parts, kind, target) {
            Placed::ThroughSymlink { at } => add(
                rule::WRITE_THROUGH_SYMLINK,
                format!(
                    "{} is a symlink; unpacking would write through it",
                    prefix(at)
                ),
            ),
            Placed::ParentNotDir { at } => add(
                rule::PARENT_NOT_DIRECTORY,
                format!("{} is not a directory in the archive", prefix(at)),
            ),
            Placed::Node { id, replaced } => {
                if let Some(old) = replaced {
                    add(
                        rule::TYPE_CHANGE,
                        format!(
                            "replaces an earlier {} with a {}",
                            kind_name(old),
                            kind_name(kind)
                        ),
                    );
                }
                if kind == NodeKind::Symlink {
                    self.judge_symlink(id, add);
                    self.symlinks.push((id, shown.to_string()));
                }
            }
        }
    }

    fn judge_symlink(&mut self, id: NodeId, add: &mut impl FnMut(&'static str, String)) -> bool {
        match self.tree.resolve_symlink(id, self.limits.max_symlink_hops) {
            Resolution::Inside => false,
            Resolution::Escapes => {
                self.reported_links.insert(id);
                add(
                    rule::SYMLINK_ESCAPE,
                    "resolving the symlink inside the image climbs above its root".to_string(),
                );
                true
            }
            Resolution::TooManyHops => {
                self.reported_links.insert(id);
                add(
                    rule::SYMLINK_LOOP,
                    format!(
                        "resolving the symlink follows more than {} symlinks (a loop or a chain too long)",
                        self.limits.max_symlink_hops
                    ),
                );
                true
            }
        }
    }

    /// Ends the archive: re-resolves every symlink against the whole tree
    /// (a link may point through links that came after it).
    pub fn finish(mut self) -> Summary {
        let mut violations = Vec::new();
        if !self.fatal {
            let symlinks = std::mem::take(&mut self.symlinks);
            for (id, shown) in &symlinks {
                if self.reported_links.contains(id) || self.tree.kind(*id) != NodeKind::Symlink {
                    continue;
                }
                let mut add = |rule: &'static str, detail: String| {
                    violations.push(Violation::new(rule, shown, detail));
                };
                self.judge_symlink(*id, &mut add);
            }
        }
        Summary {
            counts: self.counts,
            unpacked_bytes: self.unpacked_bytes,
            violations,
            notices: self.notices,
        }
    }
}

fn kind_name(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Dir => "directory",
        NodeKind::File => "file",
        NodeKind::Symlink => "symlink",
        NodeKind::Special => "device or FIFO",
    }
}

/// The value of the PAX record `key` that applies to `entry`, if any. Not
/// asked of a global PAX header itself, whose records are its (unchecked,
/// possibly huge) data: the crate would read it all into memory.
fn pax_record<R: Read>(entry: &mut tar::Entry<'_, R>, key: &[u8]) -> Option<Vec<u8>> {
    if entry.header().entry_type().is_pax_global_extensions() {
        return None;
    }
    let records = entry.pax_extensions().ok()??;
    records
        .flatten()
        .find(|r| r.key_bytes() == key)
        .map(|r| r.value_bytes().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tar::EntryType;

    fn facts<'a>(path: &'a str, kind: EntryType, link: Option<&'a str>) -> EntryFacts<'a> {
        EntryFacts {
            path: path.as_bytes(),
            link: link.map(str::as_bytes),
            kind,
            mode: Some(0o644),
            size: 0,
            stored_size: 0,
        }
    }

    fn rules(found: &[Violation]) -> Vec<&str> {
        found.iter().map(|v| v.rule.as_str()).collect()
    }

    #[test]
    fn a_clean_sequence_has_no_violations() {
        let mut c = EntryChecker::new(Limits::default(), Policy::default());
        for f in [
            facts("./", EntryType::Directory, None),
            facts("./bin/", EntryType::Directory, None),
            facts("./bin/busybox", EntryType::Regular, None),
            facts("./bin/sh", EntryType::Symlink, Some("busybox")),
            facts("./bin/ls", EntryType::Link, Some("./bin/busybox")),
            facts("etc/mtab", EntryType::Symlink, Some("/proc/self/mounts")),
        ] {
            assert_eq!(c.check(f), vec![], "{f:?}");
        }
        let summary = c.finish();
        assert!(summary.violations.is_empty());
        assert_eq!(summary.counts.entries, 6);
        assert_eq!(summary.counts.directories, 2);
    }

    #[test]
    fn a_link_made_escaping_by_a_later_link_is_reported_at_the_end() {
        let mut c = EntryChecker::new(Limits::default(), Policy::default());
        assert!(
            c.check(facts("c1", EntryType::Symlink, Some("c2/x")))
                .is_empty()
        );
        assert_eq!(
            rules(&c.check(facts("c2", EntryType::Symlink, Some("../..")))),
            ["symlink_escape"]
        );
        let summary = c.finish();
        assert_eq!(rules(&summary.violations), ["symlink_escape"]);
        assert_eq!(summary.violations[0].path, "c1");
    }

    #[test]
    fn the_entry_limit_stops_the_checker() {
        let limits = Limits {
            max_entries: 2,
            ..Limits::default()
        };
        let mut c = EntryChecker::new(limits, Policy::default());
        assert!(c.check(facts("a", EntryType::Regular, None)).is_empty());
        assert!(c.check(facts("b", EntryType::Regular, None)).is_empty());
        assert!(!c.must_stop());
        assert_eq!(
            rules(&c.check(facts("c", EntryType::Regular, None))),
            ["too_many_entries"]
        );
        assert!(c.must_stop());
    }

    #[test]
    fn implicit_parent_directories_count_as_created_entries() {
        let limits = Limits {
            max_entries: 3,
            ..Limits::default()
        };
        let mut c = EntryChecker::new(limits, Policy::default());
        let found = c.check(facts("a/b/c/d", EntryType::Regular, None));
        assert_eq!(rules(&found), ["too_many_entries"]);
    }
}
