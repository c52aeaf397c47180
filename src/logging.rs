//! Structured logs on stderr through `tracing`, with secrets redacted.
//!
//! Event names follow `thing_start` / `thing_complete` / `thing_failed`, so a
//! log shipper can match on them. Every line passes through the redactor in
//! `secret` before it reaches stderr, whatever field or child output carried
//! a secret into it.

use std::io::Write;
use tracing::Level;
use tracing_subscriber::fmt::MakeWriter;

/// The log format on stderr.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Installs the global subscriber. `verbosity`: <0 errors, 0 warnings,
/// 1 info, 2 debug, 3+ trace.
pub fn init(verbosity: i64, format: LogFormat) {
    let level = match verbosity {
        i64::MIN..=-1 => Level::ERROR,
        0 => Level::WARN,
        1 => Level::INFO,
        2 => Level::DEBUG,
        _ => Level::TRACE,
    };
    let builder = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(RedactingStderr)
        .with_target(false)
        .with_ansi(false);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// Buffers one log event and writes it redacted, in one write, on drop.
struct RedactingLine(Vec<u8>);

impl Write for RedactingLine {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for RedactingLine {
    fn drop(&mut self) {
        let text = String::from_utf8_lossy(&self.0);
        let clean = crate::secret::redact(&text);
        let _ = std::io::stderr().lock().write_all(clean.as_bytes());
    }
}

struct RedactingStderr;

impl<'a> MakeWriter<'a> for RedactingStderr {
    type Writer = RedactingLine;

    fn make_writer(&'a self) -> Self::Writer {
        RedactingLine(Vec::with_capacity(256))
    }
}
