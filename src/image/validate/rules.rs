//! The per-entry rules: [`EntryChecker`] judges each member the archive
//! reader hands out against the limits and the policy, keeping a model of
//! the tree being unpacked; at the end it resolves every symlink once
//! against the whole tree. The walk runs it for the validator and the
//! unpacker alike.

use super::archive::{Entry, Kind};
use super::tree::{Found, NodeId, NodeKind, PathProblem, Placed, Resolution, Tree, split_member};
use super::{Limits, Policy, Violation, Violations, display_path, rule};
use schemars::JsonSchema;
use serde::Serialize;

/// Entries of each kind seen so far.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, JsonSchema, serde::Deserialize)]
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
    /// Violations only the whole tree shows (where symlinks lead).
    pub violations: Violations,
    /// Things allowed by the policy but worth knowing (setuid files under
    /// `--allow-setuid`, devices under `--allow-devices`, dropped xattrs).
    pub notices: Violations,
}

/// Judges entries one at a time; see the module docs.
pub struct EntryChecker {
    limits: Limits,
    policy: Policy,
    tree: Tree,
    counts: Counts,
    unpacked_bytes: u64,
    fatal: bool,
    notices: Violations,
}

impl EntryChecker {
    pub fn new(limits: Limits, policy: Policy) -> Self {
        EntryChecker {
            limits,
            policy,
            tree: Tree::new(),
            counts: Counts::default(),
            unpacked_bytes: 0,
            fatal: false,
            notices: Violations::default(),
        }
    }

    /// Whether a limit was crossed that makes reading on pointless or
    /// harmful (too many entries, too many bytes): stop the stream.
    pub fn must_stop(&self) -> bool {
        self.fatal
    }

    pub fn counts(&self) -> &Counts {
        &self.counts
    }

    /// Checks one entry against every rule, updating the model of the
    /// tree; returns this entry's violations (empty when it is fine).
    pub fn check(&mut self, entry: &Entry) -> Vec<Violation> {
        let shown = display_path(&entry.path);
        let mut found = Vec::new();
        let mut add = |rule: &'static str, detail: String| {
            found.push(Violation::new(rule, &shown, detail));
        };
        self.count(entry.kind);
        if self.counts.entries > self.limits.max_entries {
            self.fatal = true;
            add(
                rule::TOO_MANY_ENTRIES,
                format!("more than {} entries", self.limits.max_entries),
            );
            return found;
        }
        for (rule, detail) in &entry.problems {
            add(rule, detail.clone());
        }
        let parts = self.check_member_name(&entry.path, &mut add);
        self.check_type_and_mode(entry, &shown, &mut add);
        self.check_attributes(entry, &shown, &mut add);
        self.count_bytes(entry, &mut add);
        let target = match entry.kind {
            Kind::Symlink => self.check_symlink_target(&entry.link, &mut add),
            Kind::Hardlink => self.check_hardlink_target(&entry.link, &mut add),
            _ => None,
        };
        if let Some(parts) = parts {
            self.place(entry.kind, &parts, target, &mut add);
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
        if let Some(name) = &entry.sparse_name {
            found.extend(self.check_sparse_name(&entry.path, name));
        }
        found
    }

    fn count(&mut self, kind: Kind) {
        let c = &mut self.counts;
        c.entries += 1;
        match kind {
            Kind::File => c.files += 1,
            Kind::Dir => c.directories += 1,
            Kind::Symlink => c.symlinks += 1,
            Kind::Hardlink => c.hardlinks += 1,
            Kind::CharDevice | Kind::BlockDevice | Kind::Fifo => c.special += 1,
            Kind::Unsupported(_) => {}
        }
    }

    fn count_bytes(&mut self, entry: &Entry, add: &mut impl FnMut(&'static str, String)) {
        if entry.kind != Kind::File {
            return;
        }
        self.unpacked_bytes = self.unpacked_bytes.saturating_add(entry.size);
        if self.unpacked_bytes > self.limits.max_unpacked_size {
            self.fatal = true;
            add(
                rule::UNPACKED_SIZE,
                format!(
                    "unpacking would write more than {} bytes (this entry: {} bytes)",
                    self.limits.max_unpacked_size, entry.size
                ),
            );
        }
    }

    /// A PAX sparse file (GNU formats 0.1 and 1.0) carries its real name in a
    /// `GNU.sparse.name` record, and GNU tar extracts to that name, not to
    /// the header's placeholder. pm refuses such files as unsupported; the
    /// real name gets the name checks too, reported under it.
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

    /// The entry's own name: `None` when it cannot be placed in the tree.
    fn check_member_name<'p>(
        &self,
        path: &'p [u8],
        add: &mut impl FnMut(&'static str, String),
    ) -> Option<Vec<&'p [u8]>> {
        let limits = &self.limits;
        if path.len() as u64 > limits.max_path_length {
            add(
                rule::PATH_TOO_LONG,
                format!("{} bytes, more than {}", path.len(), limits.max_path_length),
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
        let mut placeable = path.len() as u64 <= limits.max_path_length;
        if let Some(long) = parts
            .iter()
            .find(|p| p.len() as u64 > limits.max_component_length)
        {
            add(
                rule::COMPONENT_TOO_LONG,
                format!(
                    "a component of {} bytes, more than {}",
                    long.len(),
                    limits.max_component_length
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
        entry: &Entry,
        shown: &str,
        add: &mut impl FnMut(&'static str, String),
    ) {
        let special = match entry.kind {
            Kind::Fifo => Some((rule::FIFO, "a FIFO")),
            Kind::CharDevice => Some((rule::DEVICE_NODE, "a character device")),
            Kind::BlockDevice => Some((rule::DEVICE_NODE, "a block device")),
            _ => None,
        };
        if let Some((rule, what)) = special {
            if self.policy.allow_devices {
                self.notices.push(Violation::new(
                    rule,
                    shown,
                    format!("{what} (allowed by --allow-devices)"),
                ));
            } else {
                add(
                    rule,
                    format!("{what}; pass --allow-devices if the image needs it"),
                );
            }
        }
        if let Kind::Unsupported(flag) = entry.kind {
            add(
                rule::UNSUPPORTED_ENTRY_TYPE,
                format!("entry type {:?} cannot be unpacked", flag as char),
            );
        }
        if entry.kind == Kind::Dir {
            // setgid on a directory only passes the group on (Debian ships
            // /var/mail that way); it grants nothing.
            return;
        }
        let mode = entry.mode & 0o7777;
        for (bit, rule, what) in [
            (0o4000, rule::SETUID, "setuid"),
            (0o2000, rule::SETGID, "setgid"),
        ] {
            if mode & bit != 0 {
                self.privilege(rule, shown, format!("mode {mode:o} is {what}"), add);
            }
        }
    }

    /// File capabilities grant privileges the way setuid does, so they fall
    /// under the same policy; other extended attributes and ACLs are only
    /// worth a notice: the unpacker does not apply them.
    fn check_attributes(
        &mut self,
        entry: &Entry,
        shown: &str,
        add: &mut impl FnMut(&'static str, String),
    ) {
        let attrs = &entry.attributes;
        if attrs.capability {
            let detail = "carries file capabilities (security.capability), which grant privileges like setuid".to_string();
            self.privilege(rule::FILE_CAPABILITY, shown, detail, add);
        }
        if attrs.xattrs.is_empty() && !attrs.acls {
            return;
        }
        let names: Vec<String> = attrs
            .xattrs
            .iter()
            .take(8)
            .map(|n| display_path(n))
            .collect();
        let more = attrs.xattrs.len().saturating_sub(names.len());
        let mut what = match names.is_empty() {
            true => String::new(),
            false => format!("extended attributes {}", names.join(", ")),
        };
        if more > 0 {
            what.push_str(&format!(" and {more} more"));
        }
        if attrs.acls {
            what.push_str(if what.is_empty() {
                "POSIX ACLs"
            } else {
                " and POSIX ACLs"
            });
        }
        self.notices.push(Violation::new(
            rule::XATTR,
            shown,
            format!("{what}: not applied by pm's unpacker"),
        ));
    }

    /// A setuid-like privilege: refused, or a notice under --allow-setuid.
    fn privilege(
        &mut self,
        rule: &'static str,
        shown: &str,
        detail: String,
        add: &mut impl FnMut(&'static str, String),
    ) {
        if self.policy.allow_setuid {
            self.notices.push(Violation::new(
                rule,
                shown,
                format!("{detail} (allowed by --allow-setuid)"),
            ));
        } else {
            add(
                rule,
                format!("{detail}; pass --allow-setuid if the image needs it"),
            );
        }
    }

    /// A symlink's target may be absolute (resolved against the image root)
    /// but not hold NUL or exceed the path limit; where it leads is judged
    /// at the end, against the whole tree.
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
        if link.len() as u64 > self.limits.max_path_length {
            add(
                rule::PATH_TOO_LONG,
                format!(
                    "the symlink target is {} bytes, more than {}",
                    link.len(),
                    self.limits.max_path_length
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
        kind: Kind,
        parts: &[&[u8]],
        target: Option<&[u8]>,
        add: &mut impl FnMut(&'static str, String),
    ) {
        let node = match kind {
            Kind::Dir => NodeKind::Dir,
            Kind::File | Kind::Hardlink => NodeKind::File,
            Kind::Symlink => NodeKind::Symlink,
            Kind::CharDevice | Kind::BlockDevice | Kind::Fifo => NodeKind::Special,
            Kind::Unsupported(_) => return,
        };
        if parts.is_empty() {
            if node != NodeKind::Dir {
                add(
                    rule::INVALID_PATH,
                    "the entry would replace the image root itself".to_string(),
                );
            }
            return;
        }
        let prefix = |at: usize| display_path(&parts[..at].join(&b'/'));
        match self.tree.place(parts, node, target) {
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
            Placed::Node { replaced, .. } => {
                if let Some(old) = replaced {
                    add(
                        rule::TYPE_CHANGE,
                        format!(
                            "replaces an earlier {} with a {}",
                            kind_name(old),
                            kind_name(node)
                        ),
                    );
                }
            }
        }
    }

    /// Ends the archive: resolves every symlink against the whole tree (a
    /// link may point through links that came after it), each one once,
    /// unless `resolve_links` is false (the verdict on them is known).
    pub fn finish(self, resolve_links: bool) -> Summary {
        let mut violations = Violations::default();
        if !resolve_links {
            return Summary {
                counts: self.counts,
                unpacked_bytes: self.unpacked_bytes,
                violations,
                notices: self.notices,
            };
        }
        let limits = &self.limits;
        let tree = &self.tree;
        let mut judge = |id: NodeId, outcome: Resolution| {
            let (rule, detail) = match outcome {
                Resolution::Inside | Resolution::Dead => return,
                Resolution::Escapes => (
                    rule::SYMLINK_ESCAPE,
                    "resolving the symlink inside the image climbs above its root".to_string(),
                ),
                Resolution::TooManyHops => (
                    rule::SYMLINK_LOOP,
                    format!(
                        "resolving the symlink follows more than {} symlinks (a loop or a chain too long)",
                        limits.max_symlink_hops
                    ),
                ),
            };
            violations.push(Violation::new(
                rule,
                &display_path(&tree.path_of(id)),
                detail,
            ));
        };
        let links = tree.symlinks();
        let resolved = tree.resolve_all(
            &links,
            limits.max_symlink_hops,
            limits.max_total_symlink_hops,
            &mut judge,
        );
        if let Err(judged) = resolved {
            violations.push(Violation::new(
                rule::TOO_MANY_SYMLINK_HOPS,
                "",
                format!(
                    "resolving the image's symlinks follows more than {} symlinks in all; {judged} of {} links were judged",
                    limits.max_total_symlink_hops,
                    links.len()
                ),
            ));
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

#[cfg(test)]
mod tests {
    use super::super::archive::Attributes;
    use super::*;

    fn entry(path: &str, kind: Kind, link: Option<&str>) -> Entry {
        Entry {
            path: path.as_bytes().to_vec(),
            link: link.unwrap_or_default().as_bytes().to_vec(),
            kind,
            mode: 0o644,
            uid: 0,
            gid: 0,
            mtime: 0,
            size: 0,
            stored: 0,
            sparse: None,
            device: (0, 0),
            attributes: Attributes::default(),
            sparse_name: None,
            problems: Vec::new(),
        }
    }

    fn rules(found: &[Violation]) -> Vec<&str> {
        found.iter().map(|v| v.rule.as_str()).collect()
    }

    #[test]
    fn a_clean_sequence_has_no_violations() {
        let mut c = EntryChecker::new(Limits::default(), Policy::default());
        for e in [
            entry("./", Kind::Dir, None),
            entry("./bin/", Kind::Dir, None),
            entry("./bin/busybox", Kind::File, None),
            entry("./bin/sh", Kind::Symlink, Some("busybox")),
            entry("./bin/ls", Kind::Hardlink, Some("./bin/busybox")),
            entry("etc/mtab", Kind::Symlink, Some("/proc/self/mounts")),
        ] {
            assert_eq!(c.check(&e), vec![], "{e:?}");
        }
        let summary = c.finish(true);
        assert!(summary.violations.is_empty());
        assert_eq!(summary.counts.entries, 6);
        assert_eq!(summary.counts.directories, 2);
    }

    #[test]
    fn a_link_made_escaping_by_a_later_link_is_reported_at_the_end() {
        let mut c = EntryChecker::new(Limits::default(), Policy::default());
        assert!(
            c.check(&entry("c1", Kind::Symlink, Some("c2/x")))
                .is_empty()
        );
        assert!(
            c.check(&entry("c2", Kind::Symlink, Some("../..")))
                .is_empty()
        );
        let summary = c.finish(true);
        let found: Vec<(&str, &str)> = summary
            .violations
            .list
            .iter()
            .map(|v| (v.rule.as_str(), v.path.as_str()))
            .collect();
        assert_eq!(found, [("symlink_escape", "c1"), ("symlink_escape", "c2")]);
    }

    #[test]
    fn the_entry_limit_stops_the_checker() {
        let limits = Limits {
            max_entries: 2,
            ..Limits::default()
        };
        let mut c = EntryChecker::new(limits, Policy::default());
        assert!(c.check(&entry("a", Kind::File, None)).is_empty());
        assert!(c.check(&entry("b", Kind::File, None)).is_empty());
        assert!(!c.must_stop());
        assert_eq!(
            rules(&c.check(&entry("c", Kind::File, None))),
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
        let found = c.check(&entry("a/b/c/d", Kind::File, None));
        assert_eq!(rules(&found), ["too_many_entries"]);
    }

    #[test]
    fn file_capabilities_are_a_privilege_and_other_xattrs_a_notice() {
        let mut c = EntryChecker::new(Limits::default(), Policy::default());
        let mut ping = entry("bin/ping", Kind::File, None);
        ping.attributes.capability = true;
        ping.attributes.xattrs = vec![b"security.capability".to_vec()];
        assert_eq!(rules(&c.check(&ping)), ["file_capability"]);
        let mut labelled = entry("etc/passwd", Kind::File, None);
        labelled.attributes.xattrs = vec![b"security.selinux".to_vec()];
        assert!(c.check(&labelled).is_empty());
        let summary = c.finish(true);
        assert_eq!(summary.notices.counts["xattr"], 2);
    }
}
