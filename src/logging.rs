//! Structured logs on stderr through `tracing`, with secrets redacted.
//!
//! Event names follow `thing_start` / `thing_complete` / `thing_failed`, so a
//! log shipper can match on them. Every line passes through the redactor in
//! `secret` before it reaches stderr, whatever field or child output carried
//! a secret into it.

use std::io::Write;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// The log format on stderr.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Installs the global subscriber. `verbosity`: <0 errors, 0 warnings,
/// 1 info, 2 debug, 3+ trace, for pm's own events. Libraries (the AWS SDK,
/// hyper, rustls) are silent by default: their warnings (IMDS probes,
/// credential providers tried in turn) are about the chain, not the failure,
/// which pm reports once, translated. `-v` shows their warnings, `-vv` their
/// info, `-vvv` everything.
pub fn init(verbosity: i64, format: LogFormat) {
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter(verbosity))
        .with_writer(RedactingStderr)
        .with_target(false)
        .with_ansi(false);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

fn filter(verbosity: i64) -> EnvFilter {
    let ours = level_name(verbosity.max(-1));
    let libraries = match verbosity {
        i64::MIN..=0 => "off",
        1 => "warn",
        2 => "info",
        _ => "trace",
    };
    EnvFilter::new(format!("{libraries},pm={ours}"))
}

fn level_name(verbosity: i64) -> &'static str {
    match verbosity {
        i64::MIN..=-2 => "off",
        -1 => "error",
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    }
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
