//! The node settings pm manages, and how they reach tailscale.
//!
//! Two rules of the CLI shape this (reference B.3 step 2, B.9):
//! - `up` on a configured node fails unless it mentions every non-default
//!   setting, including any changed since with `tailscale set`;
//! - `set` changes a setting without a new login, but it cannot change the
//!   tags or the login server.
//!
//! So every `up` pm runs states every setting pm manages, explicitly, from
//! the config (never from what the node happens to have); drift in the
//! settable ones on a running node is healed with `set` (no vault, no
//! login); only tags and the login server take a new login. A setting pm
//! does not manage that the CLI still wants restated (someone ran
//! `tailscale set --shields-up` by hand) is read from the CLI's own error,
//! which lists current values, and restated once with that value, so pm
//! keeps it rather than reverting it.

use crate::config::{Config, key};
use crate::net::tailscale::Observed;
use serde::{Deserialize, Serialize};

/// What the config asks of the node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wanted {
    /// Empty: not managed (a fresh node takes the OS hostname).
    pub hostname: String,
    /// Normalised: `tag:` prefixed, sorted, without duplicates.
    pub tags: Vec<String>,
    pub login_server: String,
    pub accept_routes: bool,
    pub accept_dns: bool,
    pub ssh: bool,
    /// Empty: not managed. (Stating `--operator=` would drop an operator
    /// set by hand, which tailscale itself keeps for its own user.)
    pub operator: String,
}

/// How the node differs from what is wanted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Drift {
    None,
    /// Only settings `tailscale set` changes: these.
    Settable(Vec<&'static str>),
    /// Tags or the login server: a new login with `--force-reauth`.
    Relogin(Vec<&'static str>),
}

impl Wanted {
    pub fn from_config(config: &Config) -> Wanted {
        Wanted {
            hostname: config.string(key::NET_HOSTNAME).trim().to_string(),
            tags: normalise_tags(config.string(key::NET_TAGS)),
            login_server: config
                .string(key::NET_LOGIN_SERVER)
                .trim()
                .trim_end_matches('/')
                .to_string(),
            accept_routes: config.bool(key::NET_ACCEPT_ROUTES),
            accept_dns: config.bool(key::NET_ACCEPT_DNS),
            ssh: config.bool(key::NET_SSH),
            operator: config.string(key::NET_OPERATOR).trim().to_string(),
        }
    }

    /// The settable flags, for `tailscale set` and every `up`. An empty
    /// hostname or operator is left to the node (and restated from
    /// tailscale's own list when `up` wants it).
    pub fn set_flags(&self) -> Vec<String> {
        let mut flags = vec![
            format!("--accept-routes={}", self.accept_routes),
            format!("--accept-dns={}", self.accept_dns),
            format!("--ssh={}", self.ssh),
        ];
        if !self.hostname.is_empty() {
            flags.push(format!("--hostname={}", self.hostname));
        }
        if !self.operator.is_empty() {
            flags.push(format!("--operator={}", self.operator));
        }
        flags
    }

    /// Every managed setting, for `tailscale up`.
    pub fn up_flags(&self) -> Vec<String> {
        let mut flags = vec![
            format!("--login-server={}", self.login_server),
            format!("--advertise-tags={}", self.tags.join(",")),
        ];
        flags.extend(self.set_flags());
        flags
    }

    /// The URL where a tailnet admin approves machines (B.3 step 5).
    pub fn admin_url(&self) -> String {
        match self.login_server.as_str() {
            "" | "https://controlplane.tailscale.com" | "https://login.tailscale.com" => {
                "https://login.tailscale.com/admin".to_string()
            }
            server => format!("{server}/admin"),
        }
    }
}

/// `ci, tag:gpu,,ci` → `["tag:ci", "tag:gpu"]`, as tailscale reads them.
pub fn normalise_tags(text: &str) -> Vec<String> {
    let mut tags: Vec<String> = text
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| {
            if t.contains(':') {
                t.to_string()
            } else {
                format!("tag:{t}")
            }
        })
        .collect();
    tags.sort();
    tags.dedup();
    tags
}

/// How `seen` differs from `wanted`. `applied` is what pm last applied to
/// this same node: the one record of what status cannot show (routes, DNS,
/// SSH, operator, the login server). Without it those count as unknown
/// and are applied with `set`; tags are then judged from what status shows.
pub fn drift(wanted: &Wanted, seen: &Observed, applied: Option<&Wanted>) -> Drift {
    let mut relogin = Vec::new();
    match applied {
        Some(applied) => {
            if applied.login_server != wanted.login_server {
                relogin.push("login_server");
            }
            if applied.tags != wanted.tags {
                relogin.push("tags");
            }
        }
        None => {
            let mut tags = seen.tags.clone();
            tags.sort();
            if !wanted.tags.is_empty() && tags != wanted.tags {
                relogin.push("tags");
            }
        }
    }
    if !relogin.is_empty() {
        return Drift::Relogin(relogin);
    }
    let mut settable = Vec::new();
    if !wanted.hostname.is_empty() && seen.hostname.as_deref() != Some(wanted.hostname.as_str()) {
        settable.push("hostname");
    }
    match applied {
        Some(applied) => {
            let managed = |w: &str, a: &str| !w.is_empty() && w != a;
            let changed = [
                ("hostname", managed(&wanted.hostname, &applied.hostname)),
                (
                    "accept_routes",
                    applied.accept_routes != wanted.accept_routes,
                ),
                ("accept_dns", applied.accept_dns != wanted.accept_dns),
                ("ssh", applied.ssh != wanted.ssh),
                ("operator", managed(&wanted.operator, &applied.operator)),
            ];
            for (name, differs) in changed {
                if differs && !settable.contains(&name) {
                    settable.push(name);
                }
            }
        }
        None => settable = vec!["unknown"],
    }
    if settable.is_empty() {
        Drift::None
    } else {
        Drift::Settable(settable)
    }
}

/// Flags of `up` that are not settings (the CLI lists the ones given, and
/// pm adds some of them itself, like `--timeout`).
const NOT_SETTINGS: &[&str] = &["auth-key", "timeout", "force-reauth", "reset", "json", "qr"];

/// From `up`'s "requires mentioning all non-default flags" error, the
/// flags (with their current values) it wants that `passed` does not
/// name. Empty when the message has no suggested command.
pub fn missing_flags(message: &str, passed: &[String]) -> Vec<String> {
    let Some(command) = message
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("tailscale up"))
    else {
        return Vec::new();
    };
    let name_of = |flag: &str| {
        flag.trim_start_matches('-')
            .split('=')
            .next()
            .unwrap_or("")
            .to_string()
    };
    let passed: Vec<String> = passed.iter().map(|f| name_of(f)).collect();
    shell_words(command)
        .into_iter()
        .skip(2)
        .filter(|w| w.starts_with('-'))
        .filter(|w| !passed.contains(&name_of(w)) && !NOT_SETTINGS.contains(&name_of(w).as_str()))
        .collect()
}

/// Splits a command line the way a POSIX shell would: single quotes,
/// double quotes and backslashes (the CLI quotes values with go-shellquote).
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                word.extend(chars.by_ref().take_while(|&c| c != '\''));
            }
            '"' => {
                in_word = true;
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => word.extend(chars.next()),
                        c => word.push(c),
                    }
                }
            }
            '\\' => {
                in_word = true;
                word.extend(chars.next());
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wanted() -> Wanted {
        Wanted {
            hostname: "ci".to_string(),
            tags: vec!["tag:ci".to_string()],
            login_server: "https://controlplane.tailscale.com".to_string(),
            accept_routes: false,
            accept_dns: true,
            ssh: false,
            operator: String::new(),
        }
    }

    fn seen(hostname: &str, tags: &[&str]) -> Observed {
        Observed {
            backend_state: "Running".to_string(),
            ips: vec!["100.101.102.103".to_string()],
            hostname: Some(hostname.to_string()),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            ..Observed::default()
        }
    }

    #[test]
    fn tags_are_read_as_tailscale_reads_them() {
        assert_eq!(normalise_tags(" gpu, tag:ci,,ci "), ["tag:ci", "tag:gpu"]);
        assert!(normalise_tags("").is_empty());
    }

    #[test]
    fn drift_is_judged_from_status_and_what_pm_applied() {
        let w = wanted();
        assert_eq!(drift(&w, &seen("ci", &["tag:ci"]), Some(&w)), Drift::None);
        assert_eq!(
            drift(&w, &seen("other", &["tag:ci"]), Some(&w)),
            Drift::Settable(vec!["hostname"])
        );
        let mut old = w.clone();
        old.ssh = true;
        assert_eq!(
            drift(&w, &seen("ci", &["tag:ci"]), Some(&old)),
            Drift::Settable(vec!["ssh"])
        );
        old.tags = vec![];
        assert_eq!(
            drift(&w, &seen("ci", &["tag:ci"]), Some(&old)),
            Drift::Relogin(vec!["tags"])
        );
        // Unknown history: settable ones are applied, tags judged by status.
        assert_eq!(
            drift(&w, &seen("ci", &["tag:ci"]), None),
            Drift::Settable(vec!["unknown"])
        );
        assert_eq!(
            drift(&w, &seen("ci", &[]), None),
            Drift::Relogin(vec!["tags"])
        );
    }

    #[test]
    fn every_up_states_every_managed_setting() {
        let mut w = wanted();
        w.operator = "ops".to_string();
        let flags = w.up_flags();
        for name in [
            "login-server",
            "advertise-tags",
            "hostname",
            "accept-routes",
            "accept-dns",
            "ssh",
            "operator",
        ] {
            assert!(
                flags.iter().any(|f| f.starts_with(&format!("--{name}="))),
                "{name}"
            );
        }
        // Empty: left to the node.
        w.operator = String::new();
        w.hostname = String::new();
        let flags = w.up_flags();
        assert!(
            !flags
                .iter()
                .any(|f| f.starts_with("--operator") || f.starts_with("--hostname"))
        );
    }

    #[test]
    fn the_flags_to_restate_come_from_the_clis_suggestion() {
        let message = "Error: changing settings via 'tailscale up' requires mentioning all\n\
            non-default flags. To proceed, either re-run your command with --reset or\n\
            use the command below to explicitly mention the current value of\n\
            all non-default settings:\n\n\ttailscale up --accept-dns=false --hostname=h2 \
            --timeout=10s --advertise-routes=10.0.0.0/24 --shields-up --nickname='a b'\n\n";
        // --timeout is added by the driver, not in `passed`: still no setting.
        let passed = vec![
            "--accept-dns=false".to_string(),
            "--hostname=h2".to_string(),
        ];
        assert_eq!(
            missing_flags(message, &passed),
            [
                "--advertise-routes=10.0.0.0/24",
                "--shields-up",
                "--nickname=a b"
            ]
        );
        assert!(missing_flags("backend error: x", &passed).is_empty());
    }

    #[test]
    fn shell_words_undo_go_shellquote() {
        assert_eq!(
            shell_words(r#"a 'b c' d\$e "f\"g" 'it'\''s'"#),
            ["a", "b c", "d$e", "f\"g", "it's"]
        );
    }

    #[test]
    fn the_admin_url_follows_the_login_server() {
        let mut w = wanted();
        assert_eq!(w.admin_url(), "https://login.tailscale.com/admin");
        w.login_server = "https://hs.example.com".to_string();
        assert_eq!(w.admin_url(), "https://hs.example.com/admin");
    }
}
