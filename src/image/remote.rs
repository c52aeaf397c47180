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

/// Why one request failed, as far as retrying is concerned.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Worth retrying: 5xx, SlowDown, reset, timeout, short body.
    Transient(String),
    /// 401/403: credentials or policy.
    Denied(String),
    /// 404: no such bucket, key or URL.
    Missing(String),
    /// 412 on If-Match (or 416): the object is not the one we started on.
    Changed,
    /// Anything else permanent.
    Unsupported(String),
}

impl Fault {
    /// The classification every source shares, by HTTP status.
    pub fn from_status(status: u16, text: String) -> Fault {
        match status {
            401 | 403 => Fault::Denied(text),
            404 | 410 => Fault::Missing(text),
            412 | 416 => Fault::Changed,
            408 | 429 | 500..=599 => Fault::Transient(text),
            _ => Fault::Unsupported(text),
        }
    }
}
