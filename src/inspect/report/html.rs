//! Blocks as one self-contained HTML page: inline CSS, no script, no
//! external asset, so it opens from a file, an e-mail attachment or a CI
//! artifact with nothing else. Usage bars are plain elements whose width is
//! the percentage, with the number written beside them, so the page reads
//! the same without colours or a browser's dev tools.

use super::markdown::status_word;
use super::{Block, Cell};
use crate::inspect::checks::Status;
use std::fmt::Write as _;

const STYLE: &str = "
body { font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 78em; padding: 0 1em; color: #1b1f24; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #d0d7de; padding-bottom: 0.2em; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { border: 1px solid #d0d7de; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
table.fields th { width: 12em; }
code { font: 0.92em ui-monospace, monospace; }
.status { font-weight: 600; white-space: nowrap; }
.pass { color: #1a7f37; } .warn { color: #9a6700; } .fail { color: #cf222e; }
tr.fail { color: inherit; } tr.fail td { background: #ffebe9; }
.meter { white-space: nowrap; }
.bar { display: inline-block; width: 9em; height: 0.9em; background: #eaeef2; border: 1px solid #8c959f; vertical-align: middle; }
.bar > span { display: block; height: 100%; }
.bar.pass > span { background: #2da44e; } .bar.warn > span { background: #d4a72c; } .bar.fail > span { background: #cf222e; }
.bar-label { margin-left: 0.5em; }
";

pub fn render(title: &str, blocks: &[Block]) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{t}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{t}</h1>\n",
        t = escape(title)
    );
    for block in blocks {
        match block {
            Block::Heading(text) => {
                let _ = writeln!(out, "<h2>{}</h2>", escape(text));
            }
            Block::Paragraph(text) => {
                let _ = writeln!(out, "<p>{}</p>", escape(text));
            }
            Block::Fields(fields) => {
                out.push_str("<table class=\"fields\">\n");
                for (label, value) in fields {
                    let _ = writeln!(
                        out,
                        "<tr><th>{}</th><td>{}</td></tr>",
                        escape(label),
                        cell(value)
                    );
                }
                out.push_str("</table>\n");
            }
            Block::Table { head, rows } => table(&mut out, head, rows),
        }
    }
    out.push_str("</body>\n</html>\n");
    out
}

fn table(out: &mut String, head: &[&str], rows: &[Vec<Cell>]) {
    if rows.is_empty() {
        out.push_str("<p>(none)</p>\n");
        return;
    }
    out.push_str("<table>\n<tr>");
    for h in head {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr>\n");
    for row in rows {
        // A row that holds a failure stands out even in a long table.
        let failing = row.iter().any(|c| matches!(c, Cell::Status(Status::Fail)));
        out.push_str(if failing {
            "<tr class=\"fail\">"
        } else {
            "<tr>"
        });
        for c in row {
            let _ = write!(out, "<td>{}</td>", cell(c));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
}

fn class(status: Status) -> &'static str {
    status.as_str()
}

fn cell(c: &Cell) -> String {
    match c {
        Cell::Text(t) => escape(t),
        Cell::Code(t) if t.is_empty() => String::new(),
        Cell::Code(t) => format!("<code>{}</code>", escape(t)),
        Cell::Status(s) => format!(
            "<span class=\"status {}\">{}</span>",
            class(*s),
            escape(status_word(*s))
        ),
        Cell::Bar {
            percent,
            label,
            level,
        } => {
            let width = percent.clamp(0.0, 100.0);
            format!(
                "<span class=\"meter\"><span class=\"bar {c}\" role=\"meter\" aria-valuemin=\"0\" aria-valuemax=\"100\" \
                 aria-valuenow=\"{width:.1}\" title=\"{l}\"><span style=\"width: {width:.1}%\"></span></span>\
                 <span class=\"bar-label\">{l}</span></span>",
                c = class(*level),
                l = escape(label)
            )
        }
        Cell::Empty => String::new(),
    }
}

pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_the_page_has_no_external_asset() {
        let page = render("<x>", &[Block::Paragraph("a & \"b\" <script>".to_string())]);
        assert!(page.contains("&lt;x&gt;"));
        assert!(page.contains("a &amp; &quot;b&quot; &lt;script&gt;"));
        for asset in ["<script", "<link", "src=", "href=", "url("] {
            assert!(!page.contains(asset), "{asset}");
        }
    }
}
