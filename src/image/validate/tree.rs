//! The validator's model of the tree an archive would unpack to, and path
//! resolution inside it as the kernel would do it after a chroot into the
//! image root.
//!
//! Nodes live in an arena; component names are interned once, and edges
//! are one map keyed by (parent id, name id), so a node costs a few words
//! whatever its depth and a lookup allocates nothing. Paths are raw bytes:
//! tar names need not be UTF-8.
//!
//! Symlinks are resolved once, at the end, against the final tree (a link
//! can point through links and directories that come later in the
//! archive). Each link's resolution is memoised: a link met while
//! resolving another reuses its result instead of walking its target
//! again, so resolving every link costs in total about the bytes of all the
//! targets, however they chain. See [`Tree::resolve_all`].

use std::collections::HashMap;

pub type NodeId = u32;
pub const ROOT: NodeId = 0;

type NameId = u32;

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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolution {
    /// Stays inside the root (dangling targets included: `/proc/self/mounts`).
    Inside,
    /// A component after a file or device (`file/../..`): the kernel stops
    /// with ENOTDIR, so the link leads nowhere: dead, not an escape.
    Dead,
    /// Climbs above the image root with `..`.
    Escapes,
    /// More symlinks followed than the limit (a loop or a long chain).
    TooManyHops,
}

/// Where a resolution got to: the node it names, or, after components that
/// do not exist, how many of them lie below the last node that does (they
/// are walked lexically, so `missing/../../x` still counts as climbing).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Place {
    node: NodeId,
    missing: u32,
}

/// A memoised resolution of one symlink.
#[derive(Clone, Copy, Debug)]
enum Memo {
    InProgress,
    /// Resolved to `place`, following `hops` symlinks (itself included).
    At {
        place: Place,
        hops: u32,
    },
    Failed(Resolution),
}

#[derive(Clone, Copy, Debug)]
struct Node {
    kind: NodeKind,
    parent: NodeId,
    name: NameId,
}

#[derive(Default)]
pub struct Tree {
    nodes: Vec<Node>,
    names: HashMap<Box<[u8]>, NameId>,
    name_bytes: Vec<Box<[u8]>>,
    children: HashMap<(NodeId, NameId), NodeId>,
    targets: HashMap<NodeId, Box<[u8]>>,
}

impl Tree {
    pub fn new() -> Tree {
        let mut tree = Tree::default();
        let name = tree.intern(b"");
        tree.nodes.push(Node {
            kind: NodeKind::Dir,
            parent: ROOT,
            name,
        });
        tree
    }

    /// Nodes besides the root, implicit parent directories included: the
    /// inodes unpacking would create.
    pub fn node_count(&self) -> usize {
        self.nodes.len() - 1
    }

    pub fn kind(&self, id: NodeId) -> NodeKind {
        self.nodes[id as usize].kind
    }

    /// The path of a node from the root, `a/b/c` (for reports).
    pub fn path_of(&self, mut id: NodeId) -> Vec<u8> {
        let mut parts = Vec::new();
        while id != ROOT {
            let node = self.nodes[id as usize];
            parts.push(&*self.name_bytes[node.name as usize]);
            id = node.parent;
        }
        parts.reverse();
        parts.join(&b'/')
    }

    fn intern(&mut self, name: &[u8]) -> NameId {
        if let Some(&id) = self.names.get(name) {
            return id;
        }
        let id = self.name_bytes.len() as NameId;
        self.name_bytes.push(name.into());
        self.names.insert(name.into(), id);
        id
    }

    fn child(&self, parent: NodeId, name: &[u8]) -> Option<NodeId> {
        let name = *self.names.get(name)?;
        self.children.get(&(parent, name)).copied()
    }

    fn add(&mut self, parent: NodeId, name: &[u8], kind: NodeKind) -> NodeId {
        let id = self.nodes.len() as NodeId;
        let name = self.intern(name);
        self.nodes.push(Node { kind, parent, name });
        self.children.insert((parent, name), id);
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

    /// Every symlink with a target, in the order they were first placed.
    pub fn symlinks(&self) -> Vec<NodeId> {
        let mut ids: Vec<NodeId> = self.targets.keys().copied().collect();
        ids.sort_unstable();
        ids
    }

    /// Resolves every symlink of the tree, in the order given, as the
    /// kernel would inside a chroot of the image: symlinks met on the way
    /// are followed, each one a hop, at most `max_hops` for one link (the
    /// kernel's limit is 40, counted over the whole lookup). Each link is
    /// walked once; a link met again reuses its memoised result.
    ///
    /// `max_total` bounds the symlinks followed over all links together;
    /// past it resolution stops and `Err` names how many links were judged.
    /// `judge` hears each link's outcome.
    pub fn resolve_all(
        &self,
        links: &[NodeId],
        max_hops: u32,
        max_total: u64,
        judge: &mut dyn FnMut(NodeId, Resolution),
    ) -> Result<(), usize> {
        let mut resolver = Resolver {
            tree: self,
            memo: HashMap::new(),
            max_hops,
            followed: 0,
            max_total,
        };
        for (done, &link) in links.iter().enumerate() {
            if self.kind(link) != NodeKind::Symlink {
                continue;
            }
            match resolver.resolve(link) {
                Some(outcome) => judge(link, outcome),
                None => return Err(done),
            }
        }
        Ok(())
    }
}

/// One step of resolving a link, kept on an explicit stack so chains of
/// any length cannot overflow the call stack.
struct Frame<'t> {
    link: NodeId,
    target: &'t [u8],
    /// Bytes of `target` consumed so far.
    at: usize,
    place: Place,
    hops: u32,
}

struct Resolver<'t> {
    tree: &'t Tree,
    memo: HashMap<NodeId, Memo>,
    max_hops: u32,
    followed: u64,
    max_total: u64,
}

/// What walking one component did.
enum Step {
    Continue,
    /// The component is a symlink not resolved yet: resolve it first.
    Descend(NodeId),
    Fail(Resolution),
}

impl<'t> Resolver<'t> {
    /// The outcome for `link`; `None` once the total bound is passed.
    fn resolve(&mut self, link: NodeId) -> Option<Resolution> {
        if let Some(memo) = self.memo.get(&link) {
            return Some(outcome(*memo));
        }
        let mut stack = vec![self.frame(link)];
        while let Some(frame) = stack.last_mut() {
            let Some((part, next)) = peek_component(frame) else {
                let memo = Memo::At {
                    place: frame.place,
                    hops: frame.hops,
                };
                self.memo.insert(frame.link, memo);
                stack.pop();
                continue;
            };
            match self.step(frame, part)? {
                Step::Continue => frame.at = next,
                // The same component is walked again once `id` is resolved.
                Step::Descend(id) => stack.push(self.frame(id)),
                Step::Fail(why) => {
                    // The failure is every pending link's too: each was
                    // resolving through the one above it.
                    for frame in stack.drain(..) {
                        self.memo.insert(frame.link, Memo::Failed(why));
                    }
                }
            }
        }
        self.memo.get(&link).map(|m| outcome(*m))
    }

    fn frame(&mut self, link: NodeId) -> Frame<'t> {
        self.memo.insert(link, Memo::InProgress);
        let target = self.tree.targets.get(&link).map_or(&b""[..], |t| &t[..]);
        let start = match target.first() {
            // An absolute target restarts at the image root.
            Some(b'/') => ROOT,
            _ => self.tree.nodes[link as usize].parent,
        };
        Frame {
            link,
            target,
            at: 0,
            place: Place {
                node: start,
                missing: 0,
            },
            hops: 1,
        }
    }

    /// Walks one component of the top frame; `None` past the total bound.
    fn step(&mut self, frame: &mut Frame<'t>, part: &[u8]) -> Option<Step> {
        let tree = self.tree;
        let place = &mut frame.place;
        if place.missing == 0 && tree.kind(place.node) != NodeKind::Dir {
            // Anything after a file, even `.` or a trailing slash: ENOTDIR.
            return Some(Step::Fail(Resolution::Dead));
        }
        match part {
            b"" | b"." => {}
            b".." if place.missing > 0 => place.missing -= 1,
            b".." if place.node == ROOT => return Some(Step::Fail(Resolution::Escapes)),
            b".." => place.node = tree.nodes[place.node as usize].parent,
            _ if place.missing > 0 => place.missing = place.missing.saturating_add(1),
            name => match tree.child(place.node, name) {
                None => place.missing = 1,
                Some(id) if tree.kind(id) == NodeKind::Symlink => return self.follow(frame, id),
                Some(id) => place.node = id,
            },
        }
        Some(Step::Continue)
    }

    /// Continues through the symlink `id` with its memoised resolution, or
    /// asks for it to be resolved first.
    fn follow(&mut self, frame: &mut Frame<'t>, id: NodeId) -> Option<Step> {
        let Some(memo) = self.memo.get(&id).copied() else {
            return Some(Step::Descend(id));
        };
        self.followed += 1;
        if self.followed > self.max_total {
            return None;
        }
        Some(match memo {
            // Resolving `id` needs `id` itself: a loop.
            Memo::InProgress => Step::Fail(Resolution::TooManyHops),
            Memo::Failed(why) => Step::Fail(why),
            Memo::At { place, hops } => {
                frame.hops = frame.hops.saturating_add(hops);
                if frame.hops > self.max_hops {
                    return Some(Step::Fail(Resolution::TooManyHops));
                }
                frame.place = place;
                Step::Continue
            }
        })
    }
}

fn outcome(memo: Memo) -> Resolution {
    match memo {
        Memo::At { .. } => Resolution::Inside,
        Memo::Failed(why) => why,
        Memo::InProgress => Resolution::TooManyHops,
    }
}

/// The next `/`-separated component of the frame's target and where the
/// one after it starts; `None` when the target is walked.
fn peek_component<'t>(frame: &Frame<'t>) -> Option<(&'t [u8], usize)> {
    if frame.target.is_empty() || frame.at > frame.target.len() {
        return None;
    }
    let rest = &frame.target[frame.at..];
    let len = rest.iter().position(|&b| b == b'/').unwrap_or(rest.len());
    Some((&rest[..len], frame.at + len + 1))
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

    fn resolve(tree: &Tree, id: NodeId, max_hops: u32) -> Resolution {
        let mut got = None;
        tree.resolve_all(&[id], max_hops, u64::MAX, &mut |_, r| got = Some(r))
            .expect("within the total");
        got.expect("judged")
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
        let mut tree = Tree::new();
        dir(&mut tree, "bin");
        dir(&mut tree, "etc");
        let sh = link(&mut tree, "bin/sh", "busybox");
        let mtab = link(&mut tree, "etc/mtab", "/proc/self/mounts");
        let up = link(&mut tree, "etc/up", "../bin/../etc/./x");
        let rootdots = link(&mut tree, "etc/root", "/");
        for id in [sh, mtab, up, rootdots] {
            assert_eq!(resolve(&tree, id, 40), Resolution::Inside);
        }
    }

    #[test]
    fn climbing_above_the_root_escapes_even_through_missing_dirs() {
        let mut tree = Tree::new();
        dir(&mut tree, "a/b");
        let direct = link(&mut tree, "a/b/l", "../../../etc/shadow");
        let missing = link(&mut tree, "x", "nothing/../../etc");
        let absolute = link(&mut tree, "a/abs", "/a/../..");
        for id in [direct, missing, absolute] {
            assert_eq!(resolve(&tree, id, 40), Resolution::Escapes);
        }
    }

    #[test]
    fn chains_are_followed_and_dotdot_applies_to_the_real_directory() {
        let mut tree = Tree::new();
        dir(&mut tree, "deep/er");
        // `up` points into deep/er; `up/../..` is then deep/er/../.. = root,
        // and one more `..` leaves it.
        link(&mut tree, "up", "deep/er");
        let ok = link(&mut tree, "ok", "up/../..");
        let out = link(&mut tree, "out", "up/../../..");
        assert_eq!(resolve(&tree, ok, 40), Resolution::Inside);
        assert_eq!(resolve(&tree, out, 40), Resolution::Escapes);
        // a chain whose last link climbs out makes the first one escape too
        let last = link(&mut tree, "c3", "../../x");
        link(&mut tree, "c2", "c3");
        let first = link(&mut tree, "c1", "c2");
        assert_eq!(resolve(&tree, last, 40), Resolution::Escapes);
        assert_eq!(resolve(&tree, first, 40), Resolution::Escapes);
    }

    #[test]
    fn loops_and_long_chains_hit_the_hop_limit() {
        let mut tree = Tree::new();
        let a = link(&mut tree, "a", "b");
        link(&mut tree, "b", "a");
        let me = link(&mut tree, "me", "./me");
        assert_eq!(resolve(&tree, a, 40), Resolution::TooManyHops);
        assert_eq!(resolve(&tree, me, 40), Resolution::TooManyHops);
        for i in 0..5 {
            link(&mut tree, &format!("n{i}"), &format!("n{}", i + 1));
        }
        let Found::Node(n0, _) = tree.find(&parts("n0")) else {
            panic!()
        };
        assert_eq!(resolve(&tree, n0, 40), Resolution::Inside);
        assert_eq!(resolve(&tree, n0, 3), Resolution::TooManyHops);
    }

    #[test]
    fn hops_add_up_through_memoised_links_like_the_kernel_counts_them() {
        let mut tree = Tree::new();
        // `dot` is one hop; `many` goes through it five times: 6 hops.
        link(&mut tree, "dot", ".");
        let many = link(&mut tree, "many", "dot/dot/dot/dot/dot");
        assert_eq!(resolve(&tree, many, 6), Resolution::Inside);
        assert_eq!(resolve(&tree, many, 5), Resolution::TooManyHops);
    }

    #[test]
    fn dotdot_through_a_file_is_a_dead_link_not_an_escape() {
        let mut tree = Tree::new();
        tree.place(&parts("file"), NodeKind::File, None);
        let dead = link(&mut tree, "l", "file/../../..");
        let via = link(&mut tree, "via", "l/../..");
        assert_eq!(resolve(&tree, dead, 40), Resolution::Dead);
        assert_eq!(resolve(&tree, via, 40), Resolution::Dead);
        let plain = link(&mut tree, "p", "file");
        assert_eq!(resolve(&tree, plain, 40), Resolution::Inside);
    }

    #[test]
    fn the_total_bound_stops_resolution() {
        let mut tree = Tree::new();
        link(&mut tree, "dot", ".");
        let ids: Vec<NodeId> = (0..10)
            .map(|i| link(&mut tree, &format!("l{i}"), "dot/dot"))
            .collect();
        let mut judged = 0;
        let result = tree.resolve_all(&ids, 40, 7, &mut |_, _| judged += 1);
        assert_eq!(result, Err(3));
        assert_eq!(judged, 3);
    }

    #[test]
    fn writing_through_a_symlink_or_a_file_is_caught() {
        let mut tree = Tree::new();
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
        let mut tree = Tree::new();
        tree.place(&parts("usr/lib/x.so"), NodeKind::File, None);
        assert_eq!(tree.node_count(), 3);
        assert!(matches!(
            tree.find(&parts("usr/lib")),
            Found::Node(_, NodeKind::Dir)
        ));
        assert_eq!(tree.path_of(3), b"usr/lib/x.so");
    }
}
