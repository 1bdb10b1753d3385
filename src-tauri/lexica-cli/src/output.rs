//! Printing: aligned tables for people, JSON for scripts.
//!
//! Everything printed for people that came from outside the CLI (opinion text, case names,
//! errors, queries, source names, history) goes through [`clean`] first: a terminal obeys
//! control characters, so an opinion or a stored error carrying `ESC [ 2 J` or an OSC title
//! sequence could clear the screen, recolour what follows, or forge lines. JSON output needs no
//! cleaning: serde_json escapes every control character.

use std::borrow::Cow;

use serde::Serialize;

/// The escape character that starts ANSI sequences.
const ESC: char = '\u{1b}';
/// The bell, which ends an OSC sequence (as does `ESC \`).
const BEL: char = '\u{7}';

/// `text` without terminal control: ANSI escape sequences (CSI `ESC [ … final`, OSC
/// `ESC ] … BEL|ESC \`, and two-character `ESC x`) removed whole, and every other C0 control
/// character but newline and tab, DEL, and every C1 control character (U+0080–U+009F, which
/// some terminals read as escapes: U+009B is a one-character CSI) removed. Borrowed when
/// there is nothing to remove, which is almost always.
pub fn clean(text: &str) -> Cow<'_, str> {
    let is_control = |c: char| (c.is_control() && c != '\n' && c != '\t') || c == ESC;
    if !text.chars().any(is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ESC {
            match chars.next() {
                // CSI: parameters and intermediates, up to a final byte in @..~.
                Some('[') => {
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                }
                // OSC (and DCS, SOS, PM, APC, which end the same way): up to BEL or ESC \.
                Some(']' | 'P' | 'X' | '^' | '_') => {
                    while let Some(c) = chars.next() {
                        if c == BEL {
                            break;
                        }
                        if c == ESC {
                            chars.next_if_eq(&'\\');
                            break;
                        }
                    }
                }
                // A two-character escape (`ESC c` resets the terminal); the second goes too.
                Some(_) | None => {}
            }
        } else if !is_control(c) {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Where results go and in which form.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    pub json: bool,
}

impl Output {
    /// Prints `value` as pretty JSON, or runs `human` to print it for people.
    pub fn show<T: Serialize>(&self, value: &T, human: impl FnOnce(&T)) {
        if self.json {
            match serde_json::to_string_pretty(value) {
                Ok(text) => println!("{text}"),
                Err(e) => eprintln!("error: could not write JSON: {e}"),
            }
        } else {
            human(value);
        }
    }
}

/// Prints rows as left-aligned columns under a header.
pub fn table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        // Widths are measured before cleaning; a cell that loses characters is only shorter.
        println!("{}", clean(padded.join("  ").trim_end()));
    };
    line(header.iter().map(|h| h.to_uppercase()).collect());
    for row in rows {
        line(row.clone());
    }
    if rows.is_empty() {
        println!("(none)");
    }
}

/// Prints a failure: one line on stderr for people (details indented under it), or a JSON
/// object `{"error": {kind, message, fields}}` on stdout for scripts.
pub fn print_error(report: &lexica_core::ErrorReport, json: bool) {
    if json {
        let value = serde_json::json!({ "error": report });
        println!("{}", serde_json::to_string_pretty(&value).unwrap_or_else(|_| report.message.clone()));
    } else {
        eprintln!("error: {}", clean(&report.message));
    }
}

pub fn yes_no(b: bool) -> String {
    if b { "yes".into() } else { "no".into() }
}

pub fn opt(s: &Option<String>) -> String {
    s.clone().unwrap_or_else(|| "-".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_removes_terminal_control_and_keeps_text() {
        assert!(matches!(clean("plain text\twith tab\nand newline — ünïcode"), Cow::Borrowed(_)));
        assert_eq!(clean("\x1b[31mred\x1b[0m text"), "red text");
        assert_eq!(clean("a\x1b[1;33;48;5;200mb"), "ab");
        assert_eq!(clean("title\x1b]0;pwned\x07 after"), "title after");
        assert_eq!(clean("osc\x1b]8;;http://x\x1b\\link"), "osclink");
        assert_eq!(clean("reset\x1bc now"), "reset now");
        assert_eq!(clean("bell\x07 back\x08space cr\r del\x7f nul\0"), "bell backspace cr del nul");
        assert_eq!(clean("c1 \u{9b}2J csi \u{85}nel"), "c1 2J csi nel");
        assert_eq!(clean("trailing\x1b"), "trailing");
        assert_eq!(clean("cut \x1b[31"), "cut ");
    }
}
