//! What a judged archive is found to break, in a bounded form: one
//! [`Violation`] per broken rule (rule, entry path, detail), names shown
//! escaped and cut to [`SHOWN_NAME_BYTES`], and [`Violations`], the list that
//! keeps the first [`MAX_KEPT`] and counts every one by rule.
//!
//! A leaf module: the validator, the unpacker and the error type all use it,
//! and it uses none of them.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Violations (and notices) kept in full; past this only their count per
/// rule grows, so a hostile archive cannot make the report, the JSON or the
/// state record grow with it.
pub const MAX_KEPT: usize = 1000;

/// Bytes of an entry name shown in a report; the rest is replaced by a
/// marker that says how much was cut.
pub const SHOWN_NAME_BYTES: usize = 256;

/// Characters of a violation's detail kept (details quote names, which
/// are already bounded; this is the backstop).
const MAX_DETAIL_CHARS: usize = 1024;

/// One broken rule: which, where, and what exactly.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Violation {
    pub rule: String,
    /// The entry's path as written in the archive (`""` for the archive as
    /// a whole), escaped and bounded by [`display_path`].
    pub path: String,
    pub detail: String,
}

impl Violation {
    /// `path` is shown as given: pass it through [`display_path`] first.
    pub fn new(rule: &'static str, path: &str, detail: String) -> Violation {
        Violation {
            rule: rule.to_string(),
            path: path.to_string(),
            detail: bounded_detail(detail),
        }
    }

    /// One line for people: `rule  path: detail`.
    pub fn line(&self) -> String {
        let path = if self.path.is_empty() {
            "(archive)"
        } else {
            &self.path
        };
        format!("{:<24} {path}: {}", self.rule, self.detail)
    }
}

fn bounded_detail(detail: String) -> String {
    if detail.chars().count() <= MAX_DETAIL_CHARS {
        return detail;
    }
    let mut cut: String = detail.chars().take(MAX_DETAIL_CHARS).collect();
    cut.push_str("...");
    cut
}

/// An entry name for reports: printable UTF-8 as it is; a backslash, NUL,
/// control characters, bidirectional overrides and bytes that are not UTF-8
/// escaped (`\\`, `\0`, `\n`, `\x1b`, `\u{202e}`), so a name can neither
/// forge lines nor hide bytes; and at most [`SHOWN_NAME_BYTES`] of the name,
/// the rest counted (`...[+N bytes]`).
pub fn display_path(raw: &[u8]) -> String {
    let (shown, cut) = match raw.len() > SHOWN_NAME_BYTES {
        true => (&raw[..SHOWN_NAME_BYTES], raw.len() - SHOWN_NAME_BYTES),
        false => (raw, 0),
    };
    let mut out = String::with_capacity(shown.len() + 16);
    for chunk in shown.utf8_chunks() {
        for c in chunk.valid().chars() {
            escape_char(c, &mut out);
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    if cut > 0 {
        out.push_str(&format!("...[+{cut} bytes]"));
    }
    out
}

fn escape_char(c: char, out: &mut String) {
    match c {
        '\\' => out.push_str("\\\\"),
        '\0' => out.push_str("\\0"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if c.is_control() => out.push_str(&format!("\\x{:02x}", u32::from(c))),
        // Bidirectional overrides and invisible marks would let a name read
        // differently on a terminal from what it is.
        '\u{200b}'..='\u{200f}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}'
        | '\u{feff}' => out.push_str(&format!("\\u{{{:04x}}}", u32::from(c))),
        c => out.push(c),
    }
}

/// Violations in the order found: the first [`MAX_KEPT`] in full, and the
/// number of each rule, kept or not.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violations {
    pub list: Vec<Violation>,
    pub counts: BTreeMap<String, u64>,
}

impl Violations {
    pub fn one(v: Violation) -> Violations {
        let mut all = Violations::default();
        all.push(v);
        all
    }

    pub fn push(&mut self, v: Violation) {
        *self.counts.entry(v.rule.clone()).or_default() += 1;
        if self.list.len() < MAX_KEPT {
            self.list.push(v);
        }
    }

    pub fn extend(&mut self, found: impl IntoIterator<Item = Violation>) {
        for v in found {
            self.push(v);
        }
    }

    /// Adds another list: its counts all, its kept ones while there is room.
    pub fn merge(&mut self, other: Violations) {
        for (rule, n) in other.counts {
            *self.counts.entry(rule).or_default() += n;
        }
        let room = MAX_KEPT.saturating_sub(self.list.len());
        self.list.extend(other.list.into_iter().take(room));
    }

    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// Every violation found, kept or not.
    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }

    /// Found but not kept in full.
    pub fn omitted(&self) -> u64 {
        self.total() - self.list.len() as u64
    }

    pub fn has_rule(&self, rule: &str) -> bool {
        self.counts.contains_key(rule)
    }

    /// The first `n` kept, with every count (for the bounded state record).
    pub fn truncated(&self, n: usize) -> Violations {
        Violations {
            list: self.list.iter().take(n).cloned().collect(),
            counts: self.counts.clone(),
        }
    }

    /// `image rejected: 2 violations` and one line per kept violation, then
    /// what was left out, so the human error lists every one it can.
    pub fn message(&self, what: &str) -> String {
        let total = self.total();
        let mut text = format!("{what}: {total} violation{}", plural(total));
        for v in &self.list {
            text.push_str("\n  ");
            text.push_str(&v.line());
        }
        if self.omitted() > 0 {
            let by_rule: Vec<String> = self
                .counts
                .iter()
                .map(|(r, n)| format!("{r} {n}"))
                .collect();
            text.push_str(&format!(
                "\n  ... and {} more not listed (by rule: {})",
                self.omitted(),
                by_rule.join(", ")
            ));
        }
        text
    }

    /// The fields of the JSON error (`image_rejected`, `unpack_refused`).
    pub fn details(&self) -> ViolationDetails {
        ViolationDetails {
            violations: self.list.clone(),
            violation_counts: self.counts.clone(),
            violations_omitted: self.omitted(),
        }
    }

    /// The hint of a refused unpack: what the operator can do depends on why.
    pub fn unpack_hint(&self) -> String {
        if self.has_rule(NEEDS_ROOT) {
            return "device nodes can only be created by root: run `pm image activate` as root, or validate the image without --allow-devices and rebuild it without device nodes".to_string();
        }
        "the stored archive changed since it was validated: remove it and fetch it again"
            .to_string()
    }
}

/// What an error about an archive adds beside its code and message.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct ViolationDetails {
    /// The first violations found, in archive order, each in full.
    pub violations: Vec<Violation>,
    /// How many of each rule were found, listed or not.
    pub violation_counts: BTreeMap<String, u64>,
    /// How many were counted but not listed.
    pub violations_omitted: u64,
}

/// The rule of an entry the unpacker cannot create as the user it runs as
/// (device nodes without root): not the archive's fault.
pub const NEEDS_ROOT: &str = "needs_root";

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_escaped_and_bounded() {
        assert_eq!(display_path(b"ok\0/../x"), "ok\\0/../x");
        assert_eq!(display_path(b"a\nb\\c"), "a\\nb\\\\c");
        assert_eq!(display_path(b"\xff\xfeok"), "\\xff\\xfeok");
        assert_eq!(display_path("名前".as_bytes()), "名前");
        assert_eq!(display_path("a\u{202e}b".as_bytes()), "a\\u{202e}b");
        let long = display_path(&[b'a'; 5000]);
        assert!(long.starts_with(&"a".repeat(SHOWN_NAME_BYTES)));
        assert!(long.ends_with(&format!("...[+{} bytes]", 5000 - SHOWN_NAME_BYTES)));
    }

    #[test]
    fn the_list_keeps_the_first_and_counts_all() {
        let mut all = Violations::default();
        for i in 0..(MAX_KEPT + 10) {
            all.push(Violation::new("setuid", &format!("f{i}"), String::new()));
        }
        all.push(Violation::new("fifo", "p", String::new()));
        assert_eq!(all.list.len(), MAX_KEPT);
        assert_eq!(all.total(), MAX_KEPT as u64 + 11);
        assert_eq!(all.omitted(), 11);
        assert_eq!(all.counts["fifo"], 1);
        assert!(all.message("image rejected").contains("11 more"));
        let mut other = Violations::default();
        other.push(Violation::new("fifo", "q", String::new()));
        all.merge(other);
        assert_eq!((all.list.len(), all.counts["fifo"]), (MAX_KEPT, 2));
    }
}
