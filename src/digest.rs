//! [`Digest`]: the SHA-256 content address of an image, and the one hex
//! encoder pm uses.
//!
//! Everywhere an image is named by content it is a `Digest`, never a string
//! with or without a `sha256:` prefix: the prefix is added when it is shown
//! or stored and parsed away once, here.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Length of the short id shown to people (like docker's 12-hex ids).
pub const SHORT_ID_LEN: usize = 12;

const PREFIX: &str = "sha256:";

/// A SHA-256 digest: 64 lowercase hex digits. Shown and stored as
/// `sha256:<hex>`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Digest(String);

impl Digest {
    /// From the 32 bytes a hasher produced.
    pub fn from_bytes(bytes: &[u8; 32]) -> Digest {
        Digest(hex(bytes))
    }

    /// `sha256:<hex>` or bare `<hex>` (any case); `None` unless it is exactly
    /// 64 hex digits.
    pub fn parse(text: &str) -> Option<Digest> {
        let hex = text.strip_prefix(PREFIX).unwrap_or(text);
        (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| Digest(hex.to_ascii_lowercase()))
    }

    /// The 64 hex digits, without the prefix (file names in the store).
    pub fn hex(&self) -> &str {
        &self.0
    }

    /// The first [`SHORT_ID_LEN`] hex digits: the id people type.
    pub fn short_id(&self) -> &str {
        &self.0[..SHORT_ID_LEN]
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PREFIX}{}", self.0)
    }
}

impl Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl schemars::JsonSchema for Digest {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Digest".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A SHA-256 content address: `sha256:` and 64 lowercase hex digits.",
            "type": "string",
            "pattern": "^sha256:[0-9a-f]{64}$",
        })
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Digest, D::Error> {
        let text = String::deserialize(d)?;
        Digest::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("{text:?} is not a sha256 digest")))
    }
}

impl rusqlite::ToSql for Digest {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(rusqlite::types::ToSqlOutput::from(self.to_string()))
    }
}

impl rusqlite::types::FromSql for Digest {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        let text = value.as_str()?;
        Digest::parse(text).ok_or_else(|| {
            rusqlite::types::FromSqlError::Other(format!("{text:?} is not a sha256 digest").into())
        })
    }
}

/// Lowercase hex of any bytes.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_parse_with_or_without_the_prefix_and_show_with_it() {
        let hex64 = "AB".repeat(32);
        let d = Digest::parse(&format!("sha256:{hex64}")).unwrap();
        assert_eq!(Digest::parse(&hex64), Some(d.clone()));
        assert_eq!(d.to_string(), format!("sha256:{}", "ab".repeat(32)));
        assert_eq!(d.short_id(), "abababababab");
        assert_eq!(Digest::parse("sha256:abc"), None);
        assert_eq!(Digest::parse(&"g".repeat(64)), None);
        assert_eq!(hex(&[0x00, 0x9f, 0xff]), "009fff");
    }
}
