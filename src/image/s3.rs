//! The S3 side of a fetch: one aws-sdk-s3 client per fetch, HEAD and ranged
//! GETs, and the translation of S3's answers into [`Fault`]s.
//!
//! The client uses the standard AWS credential and region chain (env,
//! profiles, container and instance roles) and a slim HTTP stack (hyper 1 +
//! rustls with ring). The SDK's own retries are off: the download engine
//! retries per part with its own backoff and counts the attempts it reports.

use crate::error::PmError;
use crate::image::remote::{Fault, ObjectInfo};
use anyhow::Result;
use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_sdk_s3::config::{Region, ResponseChecksumValidation};
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumMode, ChecksumType};
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use bytes::Bytes;

/// A client bound to one object.
pub struct S3Object {
    client: aws_sdk_s3::Client,
    bucket: String,
    key: String,
    /// The credentials' secret parts, held so the log redactor knows them
    /// for as long as the client may log.
    _redacted: Vec<crate::secret::Secret>,
}

/// Region used when the chain finds none: S3-compatible stores ignore it,
/// and AWS redirects nothing for path-style requests to us-east-1 buckets.
const FALLBACK_REGION: &str = "us-east-1";

impl S3Object {
    /// Builds the client. `endpoint` (an S3-compatible store) switches to
    /// path-style addressing, which such stores expect.
    pub async fn connect(bucket: &str, key: &str, endpoint: Option<&str>) -> Result<S3Object> {
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(Provider::Rustls(CryptoMode::Ring))
            .build_https();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http)
            .retry_config(RetryConfig::disabled());
        if let Some(url) = endpoint {
            loader = loader.endpoint_url(url);
        }
        let shared = loader.load().await;
        let redacted = register_credentials_for_redaction(&shared, bucket, key).await?;
        let region = shared
            .region()
            .cloned()
            .unwrap_or_else(|| Region::new(FALLBACK_REGION));
        let config = aws_sdk_s3::config::Builder::from(&shared)
            .region(region)
            .force_path_style(endpoint.is_some())
            // Ranged GETs carry no whole-object checksum; the engine hashes
            // the whole object itself, so per-response validation would only
            // burn the CPU the hash needs.
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
            .build();
        Ok(S3Object {
            client: aws_sdk_s3::Client::from_conf(config),
            bucket: bucket.to_string(),
            key: key.to_string(),
            _redacted: redacted,
        })
    }

    /// Size, ETag and (when the store keeps one for the whole object) the
    /// SHA-256 checksum.
    pub async fn head(&self) -> Result<ObjectInfo, Fault> {
        let out = self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(&self.key)
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await
            .map_err(classify)?;
        let size = out
            .content_length()
            .and_then(|n| u64::try_from(n).ok())
            .ok_or_else(|| Fault::Unsupported("HEAD gave no Content-Length".to_string()))?;
        // A composite (multipart) checksum is a checksum of part checksums,
        // not of the bytes: only a full-object one can verify the download.
        let full_object = !matches!(out.checksum_type(), Some(ChecksumType::Composite));
        let sha256 = out
            .checksum_sha256()
            .filter(|c| full_object && !c.contains('-'))
            .and_then(|c| aws_smithy_types::base64::decode(c).ok())
            .filter(|raw| raw.len() == 32)
            .map(|raw| crate::digest::hex(&raw));
        Ok(ObjectInfo {
            size,
            etag: out.e_tag().map(str::to_string),
            sha256,
        })
    }

    /// `bytes=start-end` (inclusive), only if the ETag is still `etag`.
    pub async fn get_range(
        &self,
        start: u64,
        end: u64,
        etag: Option<&str>,
    ) -> Result<S3Body, Fault> {
        let mut request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(&self.key)
            .range(format!("bytes={start}-{end}"));
        if let Some(etag) = etag {
            request = request.if_match(etag);
        }
        let out = request.send().await.map_err(classify)?;
        Ok(S3Body(out.body))
    }
}

/// The body of one ranged GET.
pub struct S3Body(ByteStream);

impl S3Body {
    pub async fn next_chunk(&mut self) -> Result<Option<Bytes>, Fault> {
        match self.0.next().await {
            None => Ok(None),
            Some(Ok(bytes)) => Ok(Some(bytes)),
            Some(Err(e)) => Err(Fault::Transient(format!(
                "body interrupted: {}",
                DisplayErrorContext(&e)
            ))),
        }
    }
}

/// Resolves the credentials once, so that a missing chain fails before any
/// request with a clear error, and registers the secret parts with the log
/// redactor: whatever the SDK logs at debug level, they never reach stderr.
async fn register_credentials_for_redaction(
    shared: &aws_config::SdkConfig,
    bucket: &str,
    key: &str,
) -> Result<Vec<crate::secret::Secret>> {
    use aws_sdk_s3::config::ProvideCredentials;
    let Some(provider) = shared.credentials_provider() else {
        return Ok(Vec::new());
    };
    match provider.provide_credentials().await {
        Ok(creds) => {
            let secret = crate::secret::Secret::new(creds.secret_access_key());
            let token = creds.session_token().map(crate::secret::Secret::new);
            Ok(std::iter::once(secret).chain(token).collect())
        }
        Err(e) => Err(PmError::FetchDenied {
            source_url: format!("s3://{bucket}/{key}"),
            reason: format!("no usable AWS credentials ({})", DisplayErrorContext(&e)),
        }
        .into()),
    }
}

/// S3 errors by HTTP status and S3 error code.
fn classify<E>(err: SdkError<E, aws_sdk_s3::config::http::HttpResponse>) -> Fault
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match &err {
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            let code = service.err().code().unwrap_or("");
            let text = match service.err().message() {
                Some(m) => format!("{status} {code}: {m}"),
                None => format!("HTTP {status} {code}").trim_end().to_string(),
            };
            if code == "SlowDown" {
                return Fault::Transient(text);
            }
            Fault::from_status(status, text)
        }
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            Fault::Transient(DisplayErrorContext(&err).to_string())
        }
        _ => Fault::Unsupported(DisplayErrorContext(&err).to_string()),
    }
}
