//! Where an image comes from: `s3://bucket/key`, `http(s)://…`, or a local
//! path. Parsing gives each source one canonical spelling, which is the key
//! under which it is recorded in `image_sources` and `downloads`.

use crate::error::PmError;
use anyhow::Result;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    S3 { bucket: String, key: String },
    Http { url: String },
    Local { path: PathBuf },
}

impl Source {
    /// Parses a source as given on the command line. Relative local paths
    /// are made absolute against `cwd`, so the same file is one source
    /// whatever directory pm runs in.
    pub fn parse(text: &str, cwd: &Path) -> Result<Source> {
        if text.trim().is_empty() {
            // An empty path would name the current directory.
            return Err(PmError::usage(
                "the image source is empty".to_string(),
                Some(
                    "give s3://BUCKET/KEY, an http(s):// URL or the path of an archive".to_string(),
                ),
            )
            .into());
        }
        if let Some(rest) = text.strip_prefix("s3://") {
            return match rest.split_once('/') {
                Some((bucket, key)) if !bucket.is_empty() && !key.is_empty() => Ok(Source::S3 {
                    bucket: bucket.to_string(),
                    key: key.to_string(),
                }),
                _ => Err(PmError::usage(
                    format!("{text:?} is not an S3 object URL"),
                    Some("write it as s3://BUCKET/KEY".to_string()),
                )
                .into()),
            };
        }
        let lower = text.to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            let parsed: hyper::Uri = text.parse().map_err(|e| {
                PmError::usage(
                    format!("{text:?} is not a valid URL: {e}"),
                    Some("give a URL like https://host/path/image.tar.zst".to_string()),
                )
            })?;
            if parsed.host().is_none_or(str::is_empty) {
                return Err(PmError::usage(format!("{text:?} has no host"), None).into());
            }
            return Ok(Source::Http {
                url: text.to_string(),
            });
        }
        if lower.contains("://") {
            return Err(PmError::usage(
                format!("unsupported source {text:?}"),
                Some("use s3://BUCKET/KEY, https://…, http://… or a local path".to_string()),
            )
            .into());
        }
        let path = Path::new(text);
        let absolute = if path.is_absolute() {
            path.to_path_buf()
        } else {
            cwd.join(path)
        };
        // Resolve symlinks and `..` when the file exists; a missing file is
        // reported by the fetch itself with the path as given.
        let path = std::fs::canonicalize(&absolute).unwrap_or(absolute);
        Ok(Source::Local { path })
    }

    /// The canonical text recorded in state.
    pub fn canonical(&self) -> String {
        match self {
            Source::S3 { bucket, key } => format!("s3://{bucket}/{key}"),
            Source::Http { url } => url.clone(),
            Source::Local { path } => path.display().to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_parse_into_their_kinds() {
        let cwd = Path::new("/nonexistent-cwd");
        assert_eq!(
            Source::parse("s3://b/dir/k.tar", cwd).unwrap(),
            Source::S3 {
                bucket: "b".into(),
                key: "dir/k.tar".into()
            }
        );
        assert!(Source::parse("s3://bucket-only", cwd).is_err());
        assert!(Source::parse("s3:///key", cwd).is_err());
        assert!(Source::parse("ftp://h/x", cwd).is_err());
        assert_eq!(
            Source::parse("https://h:8080/a.tar", cwd)
                .unwrap()
                .canonical(),
            "https://h:8080/a.tar"
        );
        assert_eq!(
            Source::parse("rel/a.tar", cwd).unwrap().canonical(),
            "/nonexistent-cwd/rel/a.tar"
        );
    }
}
