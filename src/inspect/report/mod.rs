//! `pm report`: the inspection plus the state's lists (images, activations,
//! recent history), as JSON, Markdown or one self-contained HTML page; and
//! `pm report fleet`, the same judged across many hosts' `pm inspect --json`
//! documents.
//!
//! Both reports are laid out once as [`Block`]s (`layout`), which the
//! Markdown and HTML backends render; the page and the text can therefore
//! never disagree about what a report holds.

pub mod fleet;
pub mod html;
pub mod layout;
pub mod markdown;
pub mod text;

use super::checks::Status;
use super::db::recent;
use super::{Facts, Inspection, Section};
use crate::pool::{ActivationRecord, list_activations};
use crate::state::{HistoryEntry, Reader, format_ms};
use anyhow::Result;
use schemars::JsonSchema;
use serde::Serialize;

/// How many history entries a report shows.
pub const HISTORY_ROWS: u32 = 25;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Json,
    Markdown,
    Html,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Markdown => "markdown",
            Format::Html => "html",
        }
    }
}

/// One host's report.
#[derive(Serialize, JsonSchema)]
pub struct Report<'f> {
    pub inspection: Inspection<'f>,
    pub images: Section<Vec<ImageLine>>,
    pub activations: Section<Vec<ActivationRecord>>,
    /// The newest mutating commands, newest first.
    pub history: Section<Vec<HistoryEntry>>,
}

/// An image as the report lists it.
#[derive(Serialize, JsonSchema)]
pub struct ImageLine {
    pub id: String,
    pub digest: String,
    pub size: u64,
    pub source: Option<String>,
    pub created_at: String,
    /// The stored verdict of `pm image validate`: `safe`, `rejected`, or `null`.
    pub verdict: Option<String>,
}

pub fn build<'f>(facts: &'f Facts<'_>) -> Report<'f> {
    let inspection = Inspection::collect(facts);
    let db = facts.probes().state();
    Report {
        inspection,
        images: from_state(db, images),
        activations: from_state(db, list_activations),
        history: from_state(db, |db| recent(db, HISTORY_ROWS)),
    }
}

fn from_state<T>(db: Result<&Reader, &str>, read: impl FnOnce(&Reader) -> Result<T>) -> Section<T> {
    match db {
        Ok(db) => Section::from_result(read(db)),
        Err(why) => Section::unavailable(why),
    }
}

fn images(db: &Reader) -> Result<Vec<ImageLine>> {
    let mut out = Vec::new();
    for row in db.images()? {
        let verdict = db.validation(&row.digest)?.map(|v| v.verdict);
        out.push(ImageLine {
            id: row.digest.short_id().to_string(),
            digest: row.digest.to_string(),
            size: row.size,
            source: row.sources.first().cloned(),
            created_at: format_ms(row.created_at_ms),
            verdict,
        });
    }
    Ok(out)
}

/// A report in the asked format.
pub fn render(report: &Report, format: Format) -> Result<String> {
    Ok(match format {
        Format::Json => {
            let mut text = serde_json::to_string_pretty(report)?;
            text.push('\n');
            text
        }
        Format::Markdown => markdown::render_titled(Some(&title(report)), &layout::host(report)),
        Format::Html => html::render(&title(report), &layout::host(report)),
    })
}

pub fn title(report: &Report) -> String {
    format!("pm report: {}", report.inspection.hostname)
}

/// One piece of a laid-out report.
pub enum Block {
    Heading(String),
    Paragraph(String),
    /// Label and value pairs.
    Fields(Vec<(String, Cell)>),
    Table {
        head: Vec<&'static str>,
        rows: Vec<Vec<Cell>>,
    },
}

/// What a cell holds.
#[derive(Clone)]
pub enum Cell {
    Text(String),
    /// Monospaced: ids, paths, versions.
    Code(String),
    Status(Status),
    /// A usage bar: `percent` of 100, coloured by `level`.
    Bar {
        percent: f64,
        label: String,
        level: Status,
    },
    Empty,
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }

    pub fn code(s: impl Into<String>) -> Cell {
        Cell::Code(s.into())
    }

    pub fn opt(s: Option<impl Into<String>>) -> Cell {
        s.map_or(Cell::Empty, |s| Cell::Text(s.into()))
    }
}
