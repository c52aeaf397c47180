//! What every remote source (S3, HTTP) reports to the part engine: the
//! object's facts from a HEAD, and why a request failed. A leaf module, so
//! the engine (`download`) and the clients (`s3`, `http`) both depend on it
//! and not on each other.

/// What a HEAD tells about an object.
#[derive(Clone, Debug)]
pub struct ObjectInfo {
    pub size: u64,
    pub etag: Option<String>,
    /// Lowercase hex SHA-256 of the whole object, when the store has it.
    pub sha256: Option<String>,
}

/// Why one request failed, as far as retrying is concerned. Every text is
/// one sentence for the operator; raw error chains go to the debug log.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Worth retrying: 5xx, reset, timeout, short body.
    Transient(String),
    /// Worth retrying: no connection could be made (refused, DNS, no route).
    Unreachable(String),
    /// Worth retrying, more slowly: SlowDown, 503, 429.
    Throttled(String),
    /// 401/403 or no credentials, with what to change for that cause.
    Denied { reason: String, hint: String },
    /// 404: no such bucket, key or URL (`what` names which).
    Missing { what: String, hint: String },
    /// 412 on If-Match (or 416): the object is not the one we started on.
    Changed,
    /// The TLS handshake failed (an untrusted or invalid certificate): it
    /// will not get better by retrying.
    Tls(String),
    /// Anything else permanent.
    Unsupported(String),
}

impl Fault {
    /// The classification every source shares, by HTTP status.
    pub fn from_status(status: u16, text: String) -> Fault {
        match status {
            401 | 403 => Fault::Denied {
                hint: "check the credentials and the permissions on the object".to_string(),
                reason: text,
            },
            404 | 410 => Fault::Missing {
                what: text,
                hint: "check the bucket, key or URL (and --endpoint-url for S3-compatible stores)"
                    .to_string(),
            },
            412 | 416 => Fault::Changed,
            429 | 503 => Fault::Throttled(text),
            408 | 500..=599 => Fault::Transient(text),
            _ => Fault::Unsupported(text),
        }
    }

    /// Whether another attempt may succeed.
    pub fn retryable(&self) -> bool {
        matches!(
            self,
            Fault::Transient(_) | Fault::Unreachable(_) | Fault::Throttled(_)
        )
    }

    /// The text of a retryable fault, for the retry log.
    pub fn text(&self) -> &str {
        match self {
            Fault::Transient(t) | Fault::Unreachable(t) | Fault::Throttled(t) => t,
            Fault::Tls(t) | Fault::Unsupported(t) => t,
            Fault::Denied { reason, .. } => reason,
            Fault::Missing { what, .. } => what,
            Fault::Changed => "the object changed",
        }
    }
}
