//! Reading the JSON document a previous `pm ... --json` printed, for `-`.

use crate::error::PmError;
use anyhow::Result;
use serde_json::Value;
use std::io::Read;

/// Documents larger than this are not pm output.
const MAX_DOCUMENT_BYTES: u64 = 16 << 20;

/// Reads one JSON object; a previous command's error document becomes an
/// `upstream_failed` error carrying its code, so a pipeline fails with the
/// first real cause instead of a confusing one.
pub fn read_document(reader: impl Read) -> Result<Value> {
    let mut text = String::new();
    reader
        .take(MAX_DOCUMENT_BYTES)
        .read_to_string(&mut text)
        .map_err(|e| PmError::BadInputDocument {
            reason: format!("cannot read standard input: {e}"),
        })?;
    if text.trim().is_empty() {
        return Err(PmError::BadInputDocument {
            reason: "standard input is empty".to_string(),
        }
        .into());
    }
    let doc: Value = serde_json::from_str(&text).map_err(|e| PmError::BadInputDocument {
        reason: format!("not JSON ({e})"),
    })?;
    if !doc.is_object() {
        return Err(PmError::BadInputDocument {
            reason: "expected a JSON object".to_string(),
        }
        .into());
    }
    if let Some(err) = doc.get("error") {
        return Err(upstream_failure(err).into());
    }
    Ok(doc)
}

/// The first failure of the pipeline: a previous `upstream_failed` is
/// unwrapped, so however deep the pipeline, the code, message and hint are
/// those of the command that really failed.
fn upstream_failure(err: &Value) -> PmError {
    let text = |field: &str| err.get(field).and_then(Value::as_str).map(str::to_string);
    let (code, message, hint) = if text("code").as_deref() == Some("upstream_failed") {
        (
            text("upstream_code"),
            text("upstream_message"),
            text("upstream_hint"),
        )
    } else {
        (text("code"), text("message"), text("hint"))
    };
    PmError::UpstreamFailed {
        code: code.unwrap_or_else(|| "unknown".to_string()),
        message: message.unwrap_or_default(),
        hint,
    }
}

/// The first of `fields` that the document has as a string.
pub fn string_field(doc: &Value, fields: &[&str]) -> Result<String> {
    fields
        .iter()
        .find_map(|f| doc.get(*f).and_then(Value::as_str))
        .map(str::to_string)
        .ok_or_else(|| {
            PmError::BadInputDocument {
                reason: format!("it has none of the fields {}", fields.join(", ")),
            }
            .into()
        })
}

/// An argument that may be `-`: then the first of `fields` in the JSON
/// document a previous pm command printed on stdin, else the argument itself.
pub fn argument_or_piped(arg: &str, fields: &[&str]) -> Result<String> {
    if arg != "-" {
        return Ok(arg.to_string());
    }
    let doc = read_document(std::io::stdin().lock())?;
    string_field(&doc, fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_errors_and_garbage_are_told_apart() {
        let err =
            read_document(&br#"{"error":{"code":"not_found","message":"x"}}"#[..]).unwrap_err();
        assert_eq!(
            err.downcast_ref::<PmError>().unwrap().code(),
            "upstream_failed"
        );
        let err = read_document(&b"[1]"[..]).unwrap_err();
        assert_eq!(
            err.downcast_ref::<PmError>().unwrap().code(),
            "bad_input_document"
        );
        let nested = br#"{"error":{"code":"upstream_failed","message":"the previous command failed (not_found): x","upstream_code":"not_found","upstream_message":"x","upstream_hint":"h"}}"#;
        let err = read_document(&nested[..]).unwrap_err();
        match err.downcast_ref::<PmError>() {
            Some(PmError::UpstreamFailed {
                code,
                message,
                hint,
            }) => {
                assert_eq!((code.as_str(), message.as_str()), ("not_found", "x"));
                assert_eq!(hint.as_deref(), Some("h"));
            }
            other => panic!("{other:?}"),
        }
        let doc = read_document(&br#"{"id":"abc"}"#[..]).unwrap();
        assert_eq!(string_field(&doc, &["digest", "id"]).unwrap(), "abc");
    }
}
