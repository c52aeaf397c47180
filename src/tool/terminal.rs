//! What a person would have seen on a terminal: a pty carries colours,
//! cursor moves and carriage returns that no message table should match on.

/// The text with escape sequences (colours, cursor moves of a prompt) and
/// carriage returns removed.
pub fn clean_terminal_output(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\x1b' => skip_escape(&mut chars),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Skips one escape sequence after ESC: CSI (`ESC [ ... final`), OSC
/// (`ESC ] ... BEL or ESC \`) or a two-character one.
fn skip_escape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    match chars.next() {
        Some('[') => {
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
        }
        Some(']') => {
            while let Some(c) = chars.next() {
                if c == '\x07' || (c == '\x1b' && chars.next_if_eq(&'\\').is_some()) {
                    break;
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_output_loses_colours_cursor_moves_and_carriage_returns() {
        let raw = b"\x1b[32m?\x1b[39m \x1b[1mMaster password:\x1b[22m\x1b[0m \x1b[37D\x1b[37C\r\n\x1b[91mNot found.\x1b[39m\r\n";
        assert_eq!(
            clean_terminal_output(raw),
            "? Master password: \nNot found.\n"
        );
    }
}
