//! Opt-in host and address obfuscation (`pm logs collect --obfuscate`):
//! the host's own names (its hostname, its tailnet names) become `host-N`
//! or `domain-N`, and every IP address other than loopback and unspecified
//! becomes an address from the documentation ranges (RFC 5737, RFC 3849),
//! the same one for the same address across the whole bundle, so a reader
//! can still follow one peer through the logs. The map itself is not kept.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Mutex;

/// Names shorter than this are not replaced: a host called `pm` or `ci`
/// would turn every such word in the logs into a host name.
const MIN_NAME_LEN: usize = 3;

pub struct Obfuscator {
    /// (name, replacement), longest name first.
    names: Vec<(String, String)>,
    addresses: Mutex<BTreeMap<String, String>>,
}

impl Obfuscator {
    /// `names`: the host's names; those with a dot are domains unless they
    /// start with the host name (an FQDN).
    pub fn new(hostname: &str, names: &[String]) -> Obfuscator {
        let mut all: Vec<String> = std::iter::once(hostname.to_string())
            .chain(names.iter().cloned())
            .map(|n| n.trim_end_matches('.').to_string())
            .filter(|n| n.len() >= MIN_NAME_LEN && n != "localhost")
            .collect();
        all.sort();
        all.dedup();
        let (mut hosts, mut domains) = (0, 0);
        let mut mapped: Vec<(String, String)> = all
            .into_iter()
            .map(|n| {
                let is_host = !n.contains('.') || n.starts_with(&format!("{hostname}."));
                let replacement = if is_host {
                    hosts += 1;
                    format!("host-{hosts}")
                } else {
                    domains += 1;
                    format!("domain-{domains}")
                };
                (n, replacement)
            })
            .collect();
        mapped.sort_by_key(|(n, _)| std::cmp::Reverse(n.len()));
        Obfuscator {
            names: mapped,
            addresses: Mutex::new(BTreeMap::new()),
        }
    }

    pub fn apply(&self, text: &str) -> String {
        let mut out = self.addresses_replaced(text);
        for (name, replacement) in &self.names {
            out = replace_words(&out, name, replacement);
        }
        out
    }

    fn addresses_replaced(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut i = 0;
        let is_addr_char = |c: char| c.is_ascii_hexdigit() || c == '.' || c == ':';
        while let Some(start) = text[i..].find(is_addr_char).map(|s| i + s) {
            let end = text[start..]
                .find(|c: char| !is_addr_char(c))
                .map_or(text.len(), |e| start + e);
            out.push_str(&text[i..start]);
            let word_before = text[..start]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_ascii_alphanumeric());
            let run = &text[start..end];
            match (!word_before).then(|| self.address(run)).flatten() {
                Some(replaced) => out.push_str(&replaced),
                None => out.push_str(run),
            }
            i = end;
        }
        out.push_str(&text[i..]);
        out
    }

    /// The run with its address replaced: `10.1.2.3`, `10.1.2.3:8080`,
    /// `fd7a:115c::1`; `None` when it holds no address to hide.
    fn address(&self, run: &str) -> Option<String> {
        let trimmed = run.trim_end_matches(['.', ':']);
        let tail = &run[trimmed.len()..];
        if let Ok(v4) = trimmed.parse::<Ipv4Addr>() {
            return (!v4.is_loopback() && !v4.is_unspecified())
                .then(|| self.mapped(trimmed, true) + tail);
        }
        if let Some((host, port)) = trimmed.rsplit_once(':')
            && let Ok(v4) = host.parse::<Ipv4Addr>()
            && port.chars().all(|c| c.is_ascii_digit())
        {
            return (!v4.is_loopback() && !v4.is_unspecified())
                .then(|| format!("{}:{port}{tail}", self.mapped(host, true)));
        }
        let v6 = trimmed.parse::<Ipv6Addr>().ok()?;
        (!v6.is_loopback() && !v6.is_unspecified()).then(|| self.mapped(trimmed, false) + tail)
    }

    fn mapped(&self, address: &str, v4: bool) -> String {
        let mut map = self.addresses.lock().unwrap_or_else(|e| e.into_inner());
        let n = map.len() + 1;
        map.entry(address.to_string())
            .or_insert_with(|| documentation_address(n, v4))
            .clone()
    }
}

/// The n-th address of the documentation ranges.
fn documentation_address(n: usize, v4: bool) -> String {
    if !v4 {
        return format!("2001:db8::{n:x}");
    }
    let nets = ["192.0.2", "198.51.100", "203.0.113"];
    match nets.get((n - 1) / 254) {
        Some(net) => format!("{net}.{}", (n - 1) % 254 + 1),
        None => format!("ipv4-{n}"),
    }
}

/// Replaces `name` where it is a whole word (not inside a longer name).
fn replace_words(text: &str, name: &str, replacement: &str) -> String {
    let part_of_name = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while let Some(found) = text[i..].find(name) {
        let start = i + found;
        let end = start + name.len();
        let before = text[..start].chars().next_back();
        let after = text[end..].chars().next();
        out.push_str(&text[i..start]);
        if before.is_some_and(part_of_name) || after.is_some_and(part_of_name) {
            out.push_str(name);
        } else {
            out.push_str(replacement);
        }
        i = end;
    }
    out.push_str(&text[i..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_addresses_are_replaced_consistently() {
        let o = Obfuscator::new(
            "web-7",
            &[
                "web-7.corp.example.ts.net.".to_string(),
                "corp.example.ts.net".to_string(),
            ],
        );
        let out = o.apply(
            "web-7 at 10.1.2.3:8080 and 10.1.2.3, peer fd7a:115c:a1e0::1, web-7.corp.example.ts.net; web-70 127.0.0.1 v1.47.0 12:30:01",
        );
        assert_eq!(
            out,
            "host-1 at 192.0.2.1:8080 and 192.0.2.1, peer 2001:db8::2, host-2; web-70 127.0.0.1 v1.47.0 12:30:01"
        );
        assert_eq!(documentation_address(255, true), "198.51.100.1");
    }
}
