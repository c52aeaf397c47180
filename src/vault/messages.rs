//! What bw's messages mean: one table from bw's own words to a cause pm
//! understands. A new message is one line in [`MESSAGES`]; the table is
//! bw's [`Messages`] for the process driver.
//!
//! bw prints its errors on stderr, which shares the pty with stdout, and it
//! exits 0 on some failures (an unlock that produced no session), so pm reads
//! the words and never trusts the exit code alone. The texts are those of
//! `@bitwarden/cli` 2026.6.0 (see the tests) plus older spellings still in
//! the field.

use crate::tool::Messages;

/// A cause recognised in bw's output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BwMessage {
    /// No account in the data directory (`bw login` never ran, or logout).
    NotLoggedIn,
    /// The session given is missing, wrong, expired or replaced.
    Locked,
    /// The master password did not decrypt the user key.
    WrongPassword,
    /// bw wanted a password but was told not to prompt.
    PasswordRequired,
    /// bw is prompting: it would wait forever for a keyboard.
    Prompting,
    /// No item matched (also: the item has no such field).
    NotFound,
    /// bw's own search matched more than one item.
    MoreThanOne,
    /// The account lacks premium for this field (TOTP codes).
    PremiumRequired,
    /// bw tried to reach its server and could not.
    ServerUnreachable,
    /// `bw sync` finished: the only success bw reports in words.
    Synced,
}

/// Substrings of bw's output, most specific first: the first one found in
/// the output decides. Matching is on the output with colours removed.
pub const MESSAGES: &[(&str, BwMessage)] = &[
    ("You are not logged in.", BwMessage::NotLoggedIn),
    ("Vault is locked.", BwMessage::Locked),
    (
        "Cryptography error, The decryption operation failed",
        BwMessage::WrongPassword,
    ),
    ("Invalid master password.", BwMessage::WrongPassword),
    ("Master password is required.", BwMessage::PasswordRequired),
    ("? Master password:", BwMessage::Prompting),
    ("More than one result was found.", BwMessage::MoreThanOne),
    ("Not found.", BwMessage::NotFound),
    (
        "Premium status is required to use this feature.",
        BwMessage::PremiumRequired,
    ),
    ("FetchError: request to", BwMessage::ServerUnreachable),
    ("Syncing failed:", BwMessage::ServerUnreachable),
    // Last: any failure bw printed beside it wins.
    ("Syncing complete.", BwMessage::Synced),
];

/// bw's message table, for the process driver.
pub struct BwMessages;

impl Messages for BwMessages {
    type Cause = BwMessage;
    const TABLE: &'static [(&'static str, BwMessage)] = MESSAGES;
}

/// The first known message in bw's (colour-free) output.
pub fn classify(output: &str) -> Option<BwMessage> {
    BwMessages::classify(output)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Outputs recorded from the real bw 2026.6.0 under a pty.
    #[test]
    fn real_bw_outputs_are_classified() {
        let cases = [
            ("You are not logged in.\r\n", Some(BwMessage::NotLoggedIn)),
            ("Vault is locked.\r\n", Some(BwMessage::Locked)),
            (
                "ERROR bitwarden_crypto::keys::master_key: error=The decryption operation failed\r\n\r\n\
                 ERROR bitwarden_core::client::internal: error=Cryptography error, The decryption operation failed\r\n\r\n\
                 Cryptography error, The decryption operation failed\r\n",
                Some(BwMessage::WrongPassword),
            ),
            (
                "Warning: Provided passwordenv X is not set\r\nMaster password is required. Try again in interactive mode or provide a password file or environment variable.\r\n",
                Some(BwMessage::PasswordRequired),
            ),
            (
                "More than one result was found. Try getting a specific object by `id` instead. The following objects were found:\r\n6f0c3a59-3f7e-4a43-9d2e-0a1b2c3d4e05\r\n",
                Some(BwMessage::MoreThanOne),
            ),
            ("Not found.\r\n", Some(BwMessage::NotFound)),
            (
                "? Master password: [input is hidden] ",
                Some(BwMessage::Prompting),
            ),
            (
                "Syncing failed: FetchError: request to https://127.0.0.1:9/api/accounts/revision-date failed",
                Some(BwMessage::ServerUnreachable),
            ),
            ("Syncing complete.\r\n", Some(BwMessage::Synced)),
            ("Your vault is locked.\r\n", None),
            ("{\"status\":\"locked\"}\r\n", None),
        ];
        for (output, want) in cases {
            assert_eq!(classify(output), want, "{output:?}");
        }
    }
}
