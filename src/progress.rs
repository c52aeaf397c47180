//! Progress for long work, shown only to a person at a terminal.
//!
//! Domain code reports through [`Progress`] and never knows whether a bar is
//! drawn: on a terminal it is an indicatif bar on stderr, in cron, Ansible,
//! pipes or with `-q` it is silence.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// What long-running domain code reports.
pub trait Progress: Send + Sync {
    /// The total is known (or changed).
    fn set_total(&self, total: u64);
    /// `n` more units done.
    fn advance(&self, n: u64);
    /// The work is over; remove the bar.
    fn finish(&self);
}

/// Makes bars later, for work that may not happen (an unpack that finds
/// its activation already there must not flash one). Copy it anywhere.
#[derive(Clone, Copy, Debug)]
pub struct Bars {
    /// Whether bars are drawn: stderr is a terminal and `-q` is not given.
    pub visible: bool,
}

impl Bars {
    /// A byte bar labelled `label`, or silence.
    pub fn bytes(self, label: &str, total: u64) -> Box<dyn Progress> {
        if self.visible {
            Box::new(Bar::bytes(label, total))
        } else {
            Box::new(Silent)
        }
    }
}

/// Reports nothing.
pub struct Silent;

impl Progress for Silent {
    fn set_total(&self, _: u64) {}
    fn advance(&self, _: u64) {}
    fn finish(&self) {}
}

/// An indicatif bar on stderr.
pub struct Bar(ProgressBar);

impl Bar {
    /// A byte-counting bar (`12.3 MiB/1.0 GiB, 210 MiB/s, 4s`).
    pub fn bytes(label: &str, total: u64) -> Bar {
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(
            "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_message(label.to_string());
        Bar(bar)
    }
}

impl Progress for Bar {
    fn set_total(&self, total: u64) {
        self.0.set_length(total);
    }
    fn advance(&self, n: u64) {
        self.0.inc(n);
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}
