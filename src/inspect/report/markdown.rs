//! Blocks as GitHub-flavoured Markdown: tables, and usage bars drawn with
//! block characters so they read in a terminal too.

use super::{Block, Cell};
use crate::inspect::checks::Status;
use std::fmt::Write as _;

pub fn render_titled(title: Option<&str>, blocks: &[Block]) -> String {
    let mut out = String::new();
    if let Some(title) = title {
        let _ = writeln!(out, "# {}\n", inline(title));
    }
    for block in blocks {
        match block {
            Block::Heading(text) => {
                let _ = writeln!(out, "## {}\n", inline(text));
            }
            Block::Paragraph(text) => {
                let _ = writeln!(out, "{}\n", inline(text));
            }
            Block::Fields(fields) => {
                out.push_str("| | |\n|---|---|\n");
                for (label, value) in fields {
                    let _ = writeln!(
                        out,
                        "| **{}** | {} |",
                        cell_text(&Cell::text(label)),
                        cell_text(value)
                    );
                }
                out.push('\n');
            }
            Block::Table { head, rows } => table(&mut out, head, rows),
        }
    }
    out
}

fn table(out: &mut String, head: &[&str], rows: &[Vec<Cell>]) {
    if rows.is_empty() {
        out.push_str("(none)\n\n");
        return;
    }
    let _ = writeln!(out, "| {} |", head.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(head.len()));
    for row in rows {
        let cells: Vec<String> = row.iter().map(cell_text).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    out.push('\n');
}

pub fn status_word(status: Status) -> &'static str {
    match status {
        Status::Pass => "✓ pass",
        Status::Warn => "! warn",
        Status::Fail => "✗ FAIL",
    }
}

fn cell_text(cell: &Cell) -> String {
    match cell {
        Cell::Text(t) => escape(t),
        Cell::Code(t) if t.is_empty() => String::new(),
        Cell::Code(t) => format!("`{}`", t.replace('`', "'").replace('|', "\\|")),
        Cell::Status(s) => status_word(*s).to_string(),
        Cell::Bar {
            percent,
            label,
            level,
        } => {
            let filled = (percent.clamp(0.0, 100.0) / 10.0).round() as usize;
            let mark = if *level == Status::Pass { "" } else { " ⚠" };
            format!(
                "`{}{}` {}{mark}",
                "█".repeat(filled),
                "░".repeat(10 - filled),
                escape(label)
            )
        }
        Cell::Empty => String::new(),
    }
}

/// Text in a table cell: no pipes, no line breaks, no stray markup.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            // `_` inside words is no emphasis in GitHub's Markdown, and ids
            // such as pool.data_usage stay readable in the raw text.
            '|' | '*' | '`' | '<' | '>' | '[' | ']' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn inline(text: &str) -> String {
    text.replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_cannot_break_the_table() {
        assert_eq!(escape("a|b\nc*d"), "a\\|b c\\*d");
        let bar = cell_text(&Cell::Bar {
            percent: 42.0,
            label: "42.0%".to_string(),
            level: Status::Pass,
        });
        assert_eq!(bar, "`████░░░░░░` 42.0%");
    }
}
