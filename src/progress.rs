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

impl Bars {
    /// A line for one step of a plan: a spinner beside `message` while the
    /// step runs, then the line that `finish` leaves. Silence off a terminal.
    pub fn step_line(self, message: &str) -> Box<dyn StepLine> {
        if self.visible {
            Box::new(Spinner::new(message))
        } else {
            Box::new(Silent)
        }
    }
}

/// What a running step reports (see [`Bars::step_line`]).
pub trait StepLine {
    fn set_message(&self, message: &str);
    /// Stops the spinner and leaves `message` on the line.
    fn finish(&self, message: &str);
}

/// Reports nothing.
pub struct Silent;

impl StepLine for Silent {
    fn set_message(&self, _: &str) {}
    fn finish(&self, _: &str) {}
}

/// An indicatif spinner line on stderr.
pub struct Spinner(ProgressBar);

impl Spinner {
    fn new(message: &str) -> Spinner {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template("{spinner} {msg} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        bar.set_style(style);
        bar.set_message(message.to_string());
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Spinner(bar)
    }
}

impl StepLine for Spinner {
    fn set_message(&self, message: &str) {
        self.0.set_message(message.to_string());
    }
    fn finish(&self, message: &str) {
        self.0.set_style(
            ProgressStyle::with_template("{msg}").unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        self.0.finish_with_message(message.to_string());
    }
}

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
