//! The http(s):// side of a fetch: HEAD and ranged GETs over the same
//! hyper 1 + rustls stack the S3 SDK already links in (no second HTTP stack),
//! with the same [`Fault`] classification as S3.

use crate::image::remote::{Fault, ObjectInfo};
use crate::image::transport;
use anyhow::{Context as _, Result};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper::header::{ACCEPT_RANGES, CONTENT_LENGTH, ETAG, IF_MATCH, RANGE};
use hyper::{Method, Request, StatusCode};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

type HttpsClient = Client<HttpsConnector<HttpConnector>, Empty<Bytes>>;

/// A client bound to one URL.
pub struct HttpObject {
    client: HttpsClient,
    url: hyper::Uri,
}

impl HttpObject {
    pub fn connect(url: &str) -> Result<HttpObject> {
        let tls = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .context("cannot load the system's TLS root certificates")?
            .https_or_http()
            .enable_http1()
            .build();
        let client = Client::builder(TokioExecutor::new()).build(tls);
        Ok(HttpObject {
            client,
            url: url.parse().context("invalid URL")?,
        })
    }

    pub async fn head(&self) -> Result<ObjectInfo, Fault> {
        let response = self.send(Method::HEAD, None, None).await?;
        let headers = response.headers();
        let size = headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .ok_or_else(|| Fault::Unsupported("the server sent no Content-Length".to_string()))?;
        if headers
            .get(ACCEPT_RANGES)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"none"))
        {
            return Err(Fault::Unsupported(
                "the server does not serve byte ranges (Accept-Ranges: none)".to_string(),
            ));
        }
        let text = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        // S3-style origins (and proxies in front of S3) may send the
        // object's full SHA-256 checksum.
        let sha256 = text("x-amz-checksum-sha256")
            .and_then(|c| aws_smithy_types::base64::decode(c).ok())
            .filter(|raw| raw.len() == 32)
            .map(|raw| crate::digest::hex(&raw));
        Ok(ObjectInfo {
            size,
            etag: text(ETAG.as_str()),
            sha256,
        })
    }

    pub async fn get_range(
        &self,
        start: u64,
        end: u64,
        etag: Option<&str>,
    ) -> Result<HttpBody, Fault> {
        let response = self.send(Method::GET, Some((start, end)), etag).await?;
        if response.status() != StatusCode::PARTIAL_CONTENT {
            return Err(Fault::Unsupported(format!(
                "the server answered a byte-range request with {} instead of 206",
                response.status()
            )));
        }
        Ok(HttpBody(response.into_body()))
    }

    async fn send(
        &self,
        method: Method,
        range: Option<(u64, u64)>,
        etag: Option<&str>,
    ) -> Result<hyper::Response<Incoming>, Fault> {
        let mut request = Request::builder().method(method).uri(self.url.clone());
        if let Some((start, end)) = range {
            request = request.header(RANGE, format!("bytes={start}-{end}"));
        }
        if let Some(etag) = etag {
            request = request.header(IF_MATCH, etag);
        }
        let request = request
            .body(Empty::new())
            .map_err(|e| Fault::Unsupported(e.to_string()))?;
        let response = self.client.request(request).await.map_err(|e| {
            tracing::debug!(error = %error_chain(&e), "fetch_http_request_failed");
            transport::fault(&e, &self.origin())
        })?;
        let status = response.status();
        match status.as_u16() {
            _ if status.is_success() => Ok(response),
            404 | 410 => Err(Fault::Missing {
                what: format!("{} (HTTP {status})", self.url),
                hint: "check the URL".to_string(),
            }),
            401 | 403 => Err(Fault::Denied {
                reason: format!("the server answered HTTP {status}"),
                hint: "check the URL and that it is meant to be public; a presigned URL may have expired".to_string(),
            }),
            code => Err(Fault::from_status(code, format!("the server answered HTTP {status}"))),
        }
    }

    /// `https://host:port`, for messages about the connection.
    fn origin(&self) -> String {
        match (self.url.scheme_str(), self.url.authority()) {
            (Some(scheme), Some(authority)) => format!("{scheme}://{authority}"),
            _ => self.url.to_string(),
        }
    }
}

/// The body of one ranged GET.
pub struct HttpBody(Incoming);

impl HttpBody {
    pub async fn next_chunk(&mut self) -> Result<Option<Bytes>, Fault> {
        loop {
            match self.0.frame().await {
                None => return Ok(None),
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        return Ok(Some(data));
                    }
                    // Trailers: nothing to keep.
                }
                Some(Err(e)) => {
                    tracing::debug!(error = %error_chain(&e), "fetch_http_body_failed");
                    return Err(Fault::Transient(format!(
                        "the response body was cut off: {}",
                        transport::last(&transport::chain_texts(&e))
                    )));
                }
            }
        }
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
