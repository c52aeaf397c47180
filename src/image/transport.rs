//! Transport failures (connect, DNS, TLS, resets, timeouts) in one sentence,
//! for S3 and http(s) sources alike.
//!
//! The HTTP stacks report these as nested error chains whose `Debug` forms
//! (`ConnectError("tcp connect error", 127.0.0.1:1, Os { code: 111 ... })`)
//! are for developers; here the chain is searched for the operating-system
//! error or the TLS complaint inside it and said plainly. The raw chain goes
//! to the debug log (`-vv`) at the call site.

use crate::image::remote::Fault;
use std::error::Error;
use std::io::ErrorKind;

/// What a failed request that got no HTTP answer means, as a [`Fault`].
/// `endpoint` names where pm tried to go (`http://127.0.0.1:9000`).
pub fn fault(err: &(dyn Error + 'static), endpoint: &str) -> Fault {
    let texts = chain_texts(err);
    let has = |needle: &str| {
        texts
            .iter()
            .any(|t| t.to_ascii_lowercase().contains(needle))
    };
    if has("certificate") || has("tls") || has("handshake") || has("alert") {
        return Fault::Tls(format!(
            "the TLS handshake with {endpoint} failed: {}",
            tls_reason(&texts)
        ));
    }
    if has("dns error") || has("failed to lookup address") || has("name or service not known") {
        return Fault::Unreachable(format!("cannot resolve the host of {endpoint}"));
    }
    match io_kind(err) {
        Some(kind) => match kind {
            ErrorKind::ConnectionRefused => Fault::Unreachable(format!(
                "cannot connect to {endpoint}: connection refused (nothing listens there)"
            )),
            ErrorKind::HostUnreachable | ErrorKind::NetworkUnreachable => Fault::Unreachable(
                format!("cannot connect to {endpoint}: no route to the host"),
            ),
            ErrorKind::AddrNotAvailable => Fault::Unreachable(format!(
                "cannot connect to {endpoint}: the address is not available"
            )),
            ErrorKind::TimedOut => {
                Fault::Transient(format!("the connection to {endpoint} timed out"))
            }
            ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted | ErrorKind::BrokenPipe => {
                Fault::Transient(format!("{endpoint} reset the connection"))
            }
            ErrorKind::UnexpectedEof => {
                Fault::Transient(format!("{endpoint} closed the connection early"))
            }
            _ => Fault::Transient(format!(
                "the request to {endpoint} failed: {}",
                last(&texts)
            )),
        },
        None if has("connect") => {
            Fault::Unreachable(format!("cannot connect to {endpoint}: {}", last(&texts)))
        }
        None if has("connection closed") || has("incomplete") => {
            Fault::Transient(format!("{endpoint} closed the connection early"))
        }
        None => Fault::Transient(format!(
            "the request to {endpoint} failed: {}",
            last(&texts)
        )),
    }
}

/// The Display text of every error in the chain, outermost first.
pub fn chain_texts(err: &(dyn Error + 'static)) -> Vec<String> {
    let mut texts = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        texts.push(e.to_string());
        next = e.source();
    }
    texts
}

/// The innermost message: usually the one that says what really happened.
/// Only its first line, without a trailing `(os error N)`.
pub fn last(texts: &[String]) -> String {
    let text = texts
        .iter()
        .rev()
        .find(|t| !t.trim().is_empty())
        .map_or("unknown error", String::as_str);
    let line = text.lines().next().unwrap_or(text).trim();
    match line.rfind(" (os error") {
        Some(i) => line[..i].to_string(),
        None => line.to_string(),
    }
}

fn io_kind(err: &(dyn Error + 'static)) -> Option<ErrorKind> {
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            // hyper wraps the real error inside an io::Error of kind Other.
            match io.get_ref() {
                Some(inner) if io.kind() == ErrorKind::Other => {
                    if let Some(kind) = io_kind(inner) {
                        return Some(kind);
                    }
                }
                _ => return Some(io.kind()),
            }
        }
        next = e.source();
    }
    None
}

/// rustls says `invalid peer certificate: UnknownIssuer`: keep that part.
fn tls_reason(texts: &[String]) -> String {
    texts
        .iter()
        .rev()
        .find(|t| t.contains("certificate") || t.contains("alert") || t.contains("handshake"))
        .map_or_else(
            || last(texts),
            |t| t.lines().next().unwrap_or(t).to_string(),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Wrap(&'static str, std::io::Error);
    impl std::fmt::Display for Wrap {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }
    impl Error for Wrap {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&self.1)
        }
    }

    #[test]
    fn a_refused_connection_is_unreachable_in_one_sentence() {
        let err = Wrap(
            "tcp connect error",
            std::io::Error::from_raw_os_error(libc::ECONNREFUSED),
        );
        match fault(&err, "http://127.0.0.1:1") {
            Fault::Unreachable(text) => assert_eq!(
                text,
                "cannot connect to http://127.0.0.1:1: connection refused (nothing listens there)"
            ),
            other => panic!("{other:?}"),
        }
    }
}
