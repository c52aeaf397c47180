//! The validator's model of the tree an archive would unpack to, and path
//! resolution inside it as the kernel would do it after a chroot into the
//! image root.
//!
//! Nodes live in an arena; edges are one map keyed by (parent id, name), so
//! a node costs its name and a few words whatever the depth. Paths are raw
//! bytes: tar names need not be UTF-8.

use std::collections::HashMap;

pub type NodeId = u32;
pub const ROOT: NodeId = 0;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    Dir,
    /// Regular files and hardlinks to them.
    File,
    Symlink,
    /// Devices and FIFOs.
    Special,
}

/// Why an entry's own path cannot be placed under the root.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathProblem {
    Nul,
    Absolute,
    Traversal,
}

/// Splits an archive member name into its components, dropping empty and
/// `.` components (`./etc//passwd` is `etc/passwd`). An empty result is the
/// root itself.
pub fn split_member(raw: &[u8]) -> Result<Vec<&[u8]>, PathProblem> {
    if raw.contains(&0) {
        return Err(PathProblem::Nul);
    }
    if raw.first() == Some(&b'/') {
        return Err(PathProblem::Absolute);
    }
    let mut parts = Vec::new();
    for part in raw.split(|&b| b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => return Err(PathProblem::Traversal),
            name => parts.push(name),
        }
    }
    Ok(parts)
}

/// Where placing an entry in the tree got to.
#[derive(Debug, PartialEq, Eq)]
pub enum Placed {
    /// Placed; `replaced` is the kind of a different entry it replaced.
    Node {
        id: NodeId,
        replaced: Option<NodeKind>,
    },
    /// A parent is a symlink: unpacking would write through it. `at` is the
    /// number of components up to and including the symlink.
    ThroughSymlink { at: usize },
    /// A parent is a file or a device.
    ParentNotDir { at: usize },
}

/// What a path names, without following symlinks (for hardlink targets).
#[derive(Debug, PartialEq, Eq)]
pub enum Found {
    Node(NodeId, NodeKind),
    Missing,
    ThroughSymlink,
    ParentNotDir,
}

/// The outcome of resolving a symlink inside the image root.
#[derive(Debug, PartialEq, Eq)]
pub enum Resolution {
    /// Stays inside the root (dangling targets included: `/proc/self/mounts`).
    Inside,
    /// Climbs above the image root with `..`.
    Escapes,
    /// More symlinks followed than the limit (a loop or a long chain).
    TooManyHops,
}

#[derive(Clone, Copy, Debug)]
struct Node {
    kind: NodeKind,
    parent: NodeId,
}

pub struct Tree {
    nodes: Vec<Node>,
    /// (parent id as 4 little-endian bytes, name) → child.
    children: HashMap<Box<[u8]>, NodeId>,
    targets: HashMap<NodeId, Box<[u8]>>,
    scratch: Vec<u8>,
}

impl Default for Tree {
    fn default() -> Self {
        Tree {
            nodes: vec![Node {
                kind: NodeKind::Dir,
                parent: ROOT,
            }],
            children: HashMap::new(),
            targets: HashMap::new(),
            scratch: Vec::new(),
        }
    }
}

impl Tree {
    /// Nodes besides the root, implicit parent directories included: the
    /// inodes unpacking would create.
    pub fn node_count(&self) -> usize {
        self.nodes.len() - 1
    }

    pub fn kind(&self, id: NodeId) -> NodeKind {
        self.nodes[id as usize].kind
    }

    fn child(&self, parent: NodeId, name: &[u8]) -> Option<NodeId> {
        let mut key = Vec::with_capacity(4 + name.len());
        key.extend_from_slice(&parent.to_le_bytes());
        key.extend_from_slice(name);
        self.children.get(key.as_slice()).copied()
    }

    fn add(&mut self, parent: NodeId, name: &[u8], kind: NodeKind) -> NodeId {
        let id = self.nodes.len() as NodeId;
        self.nodes.push(Node { kind, parent });
        self.scratch.clear();
        self.scratch.extend_from_slice(&parent.to_le_bytes());
        self.scratch.extend_from_slice(name);
        self.children.insert(self.scratch.as_slice().into(), id);
        id
    }

    /// Places an entry at `parts` (non-empty), creating missing parents as
    /// directories the way an unpacker would.
    pub fn place(&mut self, parts: &[&[u8]], kind: NodeKind, target: Option<&[u8]>) -> Placed {
        let Some((name, parents)) = parts.split_last() else {
            return Placed::Node {
                id: ROOT,
                replaced: (kind != NodeKind::Dir).then_some(NodeKind::Dir),
            };
        };
        let mut dir = ROOT;
        for (i, part) in parents.iter().enumerate() {
            dir = match self.child(dir, part) {
                None => self.add(dir, part, NodeKind::Dir),
                Some(id) => match self.kind(id) {
                    NodeKind::Dir => id,
                    NodeKind::Symlink => return Placed::ThroughSymlink { at: i + 1 },
                    NodeKind::File | NodeKind::Special => {
                        return Placed::ParentNotDir { at: i + 1 };
                    }
                },
            };
        }
        let (id, replaced) = match self.child(dir, name) {
            None => (self.add(dir, name, kind), None),
            Some(id) => {
                let old = self.kind(id);
                self.nodes[id as usize].kind = kind;
                (id, (old != kind).then_some(old))
            }
        };
        match target {
            Some(t) if kind == NodeKind::Symlink => {
                self.targets.insert(id, t.into());
            }
            _ => {
                self.targets.remove(&id);
            }
        }
        Placed::Node { id, replaced }
    }

    /// What `parts` names, following no symlink.
    pub fn find(&self, parts: &[&[u8]]) -> Found {
        let mut node = ROOT;
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                match self.kind(node) {
                    NodeKind::Dir => {}
                    NodeKind::Symlink => return Found::ThroughSymlink,
                    NodeKind::File | NodeKind::Special => return Found::ParentNotDir,
                }
            }
            match self.child(node, part) {
                Some(id) => node = id,
                None => return Found::Missing,
            }
        }
        Found::Node(node, self.kind(node))
    }

    /// Resolves the symlink `link` as the kernel would inside a chroot of
    /// the image, following symlinks met on the way (each one a hop, like
    /// the kernel's limit of 40). Components that do not exist yet are
    /// walked lexically, so `missing/../../x` still counts as climbing.
    pub fn resolve_symlink(&self, link: NodeId, max_hops: u32) -> Resolution {
        let Some(target) = self.targets.get(&link) else {
            return Resolution::Inside;
        };
        let mut hops = 1;
        let mut dir = self.nodes[link as usize].parent;
        let mut missing_depth = 0u32;
        let mut pending: Vec<&[u8]> = Vec::new();
        push_target(&mut pending, &mut dir, target);
        while let Some(part) = pending.pop() {
            match part {
                b"" | b"." => {}
                b".." => {
                    if missing_depth > 0 {
                        missing_depth -= 1;
                    } else if dir == ROOT {
                        return Resolution::Escapes;
                    } else {
                        dir = self.nodes[dir as usize].parent;
                    }
                }
                name if missing_depth > 0 => {
                    let _ = name;
                    missing_depth += 1;
                }
                name => match self.child(dir, name) {
                    None => missing_depth += 1,
                    Some(id) => match self.kind(id) {
                        NodeKind::Dir => dir = id,
                        NodeKind::Symlink => {
                            hops += 1;
                            if hops > max_hops {
                                return Resolution::TooManyHops;
                            }
                            if let Some(next) = self.targets.get(&id) {
                                push_target(&mut pending, &mut dir, next);
                            }
                        }
                        // The kernel stops with ENOTDIR if more follows.
                        NodeKind::File | NodeKind::Special => return Resolution::Inside,
                    },
                },
            }
        }
        Resolution::Inside
    }
}

/// Queues a link target's components (so they pop in order); an absolute
/// target restarts at the image root.
fn push_target<'t>(pending: &mut Vec<&'t [u8]>, dir: &mut NodeId, target: &'t [u8]) {
    if target.first() == Some(&b'/') {
        *dir = ROOT;
    }
    pending.extend(target.split(|&b| b == b'/').rev());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(path: &str) -> Vec<&[u8]> {
        split_member(path.as_bytes()).expect("clean path")
    }

    fn link(tree: &mut Tree, path: &str, target: &str) -> NodeId {
        match tree.place(&parts(path), NodeKind::Symlink, Some(target.as_bytes())) {
            Placed::Node { id, .. } => id,
            other => panic!("{path}: {other:?}"),
        }
    }

    fn dir(tree: &mut Tree, path: &str) {
        tree.place(&parts(path), NodeKind::Dir, None);
    }

    #[test]
    fn member_names_are_split_and_judged() {
        assert_eq!(
            split_member(b"./etc//passwd"),
            Ok(vec![&b"etc"[..], b"passwd"])
        );
        assert_eq!(split_member(b"./"), Ok(vec![]));
        assert_eq!(split_member(b"/etc/passwd"), Err(PathProblem::Absolute));
        assert_eq!(split_member(b"a/../../x"), Err(PathProblem::Traversal));
        assert_eq!(split_member(b"a/.."), Err(PathProblem::Traversal));
        assert_eq!(split_member(b"a\0b"), Err(PathProblem::Nul));
        assert_eq!(split_member(b"a/...").map(|p| p.len()), Ok(2));
    }

    #[test]
    fn absolute_and_relative_targets_inside_the_root_are_fine() {
        let mut tree = Tree::default();
        dir(&mut tree, "bin");
        dir(&mut tree, "etc");
        let sh = link(&mut tree, "bin/sh", "busybox");
        let mtab = link(&mut tree, "etc/mtab", "/proc/self/mounts");
        let up = link(&mut tree, "etc/up", "../bin/../etc/./x");
        let rootdots = link(&mut tree, "etc/root", "/");
        for id in [sh, mtab, up, rootdots] {
            assert_eq!(tree.resolve_symlink(id, 40), Resolution::Inside);
        }
    }

    #[test]
    fn climbing_above_the_root_escapes_even_through_missing_dirs() {
        let mut tree = Tree::default();
        dir(&mut tree, "a/b");
        let direct = link(&mut tree, "a/b/l", "../../../etc/shadow");
        let missing = link(&mut tree, "x", "nothing/../../etc");
        let absolute = link(&mut tree, "a/abs", "/a/../..");
        for id in [direct, missing, absolute] {
            assert_eq!(tree.resolve_symlink(id, 40), Resolution::Escapes);
        }
    }

    #[test]
    fn chains_are_followed_and_dotdot_applies_to_the_real_directory() {
        let mut tree = Tree::default();
        dir(&mut tree, "deep/er");
        // `up` points into deep/er; `up/../..` is then deep/er/../.. = root,
        // and one more `..` leaves it.
        link(&mut tree, "up", "deep/er");
        let ok = link(&mut tree, "ok", "up/../..");
        let out = link(&mut tree, "out", "up/../../..");
        assert_eq!(tree.resolve_symlink(ok, 40), Resolution::Inside);
        assert_eq!(tree.resolve_symlink(out, 40), Resolution::Escapes);
        // a chain whose last link climbs out makes the first one escape too
        let last = link(&mut tree, "c3", "../../x");
        link(&mut tree, "c2", "c3");
        let first = link(&mut tree, "c1", "c2");
        assert_eq!(tree.resolve_symlink(last, 40), Resolution::Escapes);
        assert_eq!(tree.resolve_symlink(first, 40), Resolution::Escapes);
    }

    #[test]
    fn loops_and_long_chains_hit_the_hop_limit() {
        let mut tree = Tree::default();
        let a = link(&mut tree, "a", "b");
        link(&mut tree, "b", "a");
        let me = link(&mut tree, "me", "./me");
        assert_eq!(tree.resolve_symlink(a, 40), Resolution::TooManyHops);
        assert_eq!(tree.resolve_symlink(me, 40), Resolution::TooManyHops);
        for i in 0..5 {
            link(&mut tree, &format!("n{i}"), &format!("n{}", i + 1));
        }
        let n0 = tree.find(&parts("n0"));
        let Found::Node(n0, _) = n0 else { panic!() };
        assert_eq!(tree.resolve_symlink(n0, 40), Resolution::Inside);
        assert_eq!(tree.resolve_symlink(n0, 3), Resolution::TooManyHops);
    }

    #[test]
    fn writing_through_a_symlink_or_a_file_is_caught() {
        let mut tree = Tree::default();
        dir(&mut tree, "etc");
        let replaced = tree.place(&parts("etc"), NodeKind::Symlink, Some(b"/tmp"));
        assert!(matches!(
            replaced,
            Placed::Node {
                replaced: Some(NodeKind::Dir),
                ..
            }
        ));
        assert_eq!(
            tree.place(&parts("etc/passwd"), NodeKind::File, None),
            Placed::ThroughSymlink { at: 1 }
        );
        tree.place(&parts("f"), NodeKind::File, None);
        assert_eq!(
            tree.place(&parts("f/x"), NodeKind::File, None),
            Placed::ParentNotDir { at: 1 }
        );
        assert_eq!(tree.find(&parts("etc/passwd")), Found::ThroughSymlink);
        assert_eq!(tree.find(&parts("nope")), Found::Missing);
    }

    #[test]
    fn missing_parents_become_directories() {
        let mut tree = Tree::default();
        tree.place(&parts("usr/lib/x.so"), NodeKind::File, None);
        assert_eq!(tree.node_count(), 3);
        assert!(matches!(
            tree.find(&parts("usr/lib")),
            Found::Node(_, NodeKind::Dir)
        ));
    }
}
