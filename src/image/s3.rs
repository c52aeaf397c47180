//! The S3 side of a fetch: one aws-sdk-s3 client per fetch, HEAD and ranged
//! GETs, and the translation of S3's answers into [`Fault`]s.
//!
//! The client uses the standard AWS credential and region chain (env,
//! profiles, container and instance roles) and a slim HTTP stack (hyper 1 +
//! rustls with ring). The SDK's own retries are off: the download engine
//! retries per part with its own backoff and counts the attempts it reports.

use crate::error::PmError;
use crate::image::remote::{Fault, ObjectInfo};
use crate::image::transport;
use anyhow::Result;
use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_credential_types::provider::error::CredentialsError;
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
    /// Where the requests go, for messages: the endpoint URL, or AWS's.
    endpoint: String,
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
        let endpoint_label = match endpoint {
            Some(url) => url.to_string(),
            None => format!("AWS S3 in {region}"),
        };
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
            endpoint: endpoint_label,
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
            .await;
        let out = match out {
            Ok(out) => out,
            Err(err) => return Err(self.head_fault(err).await),
        };
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
        let out = request.send().await.map_err(|e| self.fault(e))?;
        Ok(S3Body(out.body))
    }

    fn fault<E>(&self, err: SdkError<E, aws_sdk_s3::config::http::HttpResponse>) -> Fault
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        tracing::debug!(error = %DisplayErrorContext(&err), "fetch_s3_request_failed");
        classify(&err, &self.endpoint, &self.bucket, &self.key)
    }

    /// A HEAD answer has no body, so a 404 does not say whether the bucket
    /// or the key is missing: one HEAD of the bucket tells them apart.
    async fn head_fault<E>(&self, err: SdkError<E, aws_sdk_s3::config::http::HttpResponse>) -> Fault
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let fault = self.fault(err);
        if !matches!(fault, Fault::Missing { .. }) {
            return fault;
        }
        match self.client.head_bucket().bucket(&self.bucket).send().await {
            Err(SdkError::ServiceError(e)) if e.raw().status().as_u16() == 404 => {
                no_such_bucket(&self.bucket, &self.endpoint)
            }
            _ => no_such_key(&self.bucket, &self.key),
        }
    }
}

/// The body of one ranged GET.
pub struct S3Body(ByteStream);

impl S3Body {
    pub async fn next_chunk(&mut self) -> Result<Option<Bytes>, Fault> {
        match self.0.next().await {
            None => Ok(None),
            Some(Ok(bytes)) => Ok(Some(bytes)),
            Some(Err(e)) => {
                tracing::debug!(error = %DisplayErrorContext(&e), "fetch_s3_body_failed");
                Err(Fault::Transient(format!(
                    "the response body was cut off: {}",
                    transport::last(&transport::chain_texts(&e))
                )))
            }
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
        Err(e) => {
            tracing::debug!(error = %DisplayErrorContext(&e), "fetch_credentials_failed");
            let (reason, hint) = credentials_failure(&e);
            Err(PmError::FetchDenied {
                source_url: format!("s3://{bucket}/{key}"),
                reason,
                hint,
            }
            .into())
        }
    }
}

/// Why the credential chain gave nothing, in one sentence, and what to do.
fn credentials_failure(e: &CredentialsError) -> (String, String) {
    let detail = transport::last(&transport::chain_texts(e));
    let detail = detail.trim_end_matches(". Stderr:").trim_end_matches('.');
    match e {
        CredentialsError::CredentialsNotLoaded(_) => (
            "no AWS credentials were found".to_string(),
            "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, name a profile with AWS_PROFILE, or run where an instance or container role is available".to_string(),
        ),
        CredentialsError::ProviderTimedOut(_) => (
            "the AWS credential provider did not answer in time".to_string(),
            "off EC2, set AWS_EC2_METADATA_DISABLED=true and give credentials another way; on EC2, check the instance role".to_string(),
        ),
        CredentialsError::InvalidConfiguration(_) => (
            format!("the AWS configuration is invalid: {detail}"),
            "fix the AWS config and credentials files (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, ~/.aws/)".to_string(),
        ),
        _ => (
            format!("the AWS credential provider failed: {detail}"),
            "check the profile's credential_process, SSO or role settings (AWS_PROFILE), or give AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY".to_string(),
        ),
    }
}

/// S3 errors by S3 error code and HTTP status; transport failures by what
/// the connection reported. Every fault text is one sentence.
fn classify<E>(
    err: &SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
    endpoint: &str,
    bucket: &str,
    key: &str,
) -> Fault
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match err {
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            let code = service.err().code().unwrap_or("");
            let text = match service.err().message() {
                Some(m) => format!("{status} {code}: {m}"),
                None => format!("HTTP {status} {code}").trim_end().to_string(),
            };
            service_fault(status, code, text, endpoint, bucket, key)
        }
        SdkError::TimeoutError(_) => {
            Fault::Transient(format!("the request to {endpoint} timed out"))
        }
        SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            transport::fault(err, endpoint)
        }
        _ => Fault::Unsupported(format!(
            "the request could not be made: {}",
            transport::last(&transport::chain_texts(err))
        )),
    }
}

fn service_fault(
    status: u16,
    code: &str,
    text: String,
    endpoint: &str,
    bucket: &str,
    key: &str,
) -> Fault {
    let denied = |reason: String, hint: &str| Fault::Denied {
        reason,
        hint: hint.to_string(),
    };
    match code {
        "SlowDown" | "Throttling" | "ThrottlingException" | "RequestLimitExceeded"
        | "TooManyRequests" => Fault::Throttled(text),
        "NoSuchBucket" => no_such_bucket(bucket, endpoint),
        "NoSuchKey" => no_such_key(bucket, key),
        "InvalidAccessKeyId" => denied(
            "the store does not know the access key id".to_string(),
            "check AWS_ACCESS_KEY_ID (or the profile's aws_access_key_id) and that it belongs to this store",
        ),
        "SignatureDoesNotMatch" => denied(
            "the request signature does not match: the secret access key is wrong for this access key id".to_string(),
            "check AWS_SECRET_ACCESS_KEY (or the profile's aws_secret_access_key)",
        ),
        "ExpiredToken" | "TokenRefreshRequired" | "InvalidToken" => denied(
            "the session token has expired or is not valid".to_string(),
            "refresh the temporary credentials (AWS_SESSION_TOKEN, `aws sso login`, the role)",
        ),
        _ if status == 401 || status == 403 => denied(
            format!("the store refused to serve s3://{bucket}/{key} ({text})"),
            "check the credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE) and that they allow s3:GetObject on the object under the bucket policy",
        ),
        _ if status >= 500 => Fault::from_status(status, format!("the store answered {text}")),
        _ => Fault::from_status(status, text),
    }
}

fn no_such_bucket(bucket: &str, endpoint: &str) -> Fault {
    Fault::Missing {
        what: format!("bucket {bucket} on {endpoint}"),
        hint: "check the bucket name, and the endpoint (--endpoint-url, image.endpoint_url, AWS_ENDPOINT_URL) or region (AWS_REGION)".to_string(),
    }
}

fn no_such_key(bucket: &str, key: &str) -> Fault {
    Fault::Missing {
        what: format!("object {key} in bucket {bucket}"),
        hint: format!("check the key; `aws s3 ls s3://{bucket}/` lists what the bucket holds"),
    }
}
