//! How `auth` talks to people: styled `error:`/`warning:`/`hint:` lines on stderr, tables, times.
//!
//! Every message and table cell goes through [`escape_control`] here, at the sink: a host, key,
//! URL or a peer's words may hold ESC, BEL or bidi controls, and a terminal acts on them (sets
//! the window title, hides text, forges a line). A command's product on stdout (the token of
//! `auth token`, the body of `auth fetch`) does not come here and is written as it is.

use std::borrow::Cow;
use std::io::Write as _;

use anstyle::{AnsiColor, Style};
use auth_core::escape_control;

/// `text` with every control character escaped but the line breaks between its lines: a
/// message may have several lines (a TOML error shows the line it is about), but no carriage
/// return, escape sequence or bell.
pub(crate) fn escape_lines(text: &str) -> Cow<'_, str> {
    if !text.contains('\n') {
        return escape_control(text);
    }
    let lines: Vec<Cow<'_, str>> = text.split('\n').map(escape_control).collect();
    if lines.iter().all(|line| matches!(line, Cow::Borrowed(_))) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(lines.join("\n"))
}

/// Writes messages to stderr, colored or not.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Printer {
    pub(crate) color: bool,
    pub(crate) quiet: u8,
}

impl Printer {
    fn line(self, style: Style, label: &str, message: &str) {
        let message = escape_lines(message);
        let mut stderr = std::io::stderr().lock();
        let _ = if self.color {
            writeln!(stderr, "{style}{label}{style:#} {message}")
        } else {
            writeln!(stderr, "{label} {message}")
        };
    }

    pub(crate) fn error(self, message: &str) {
        if self.quiet < 2 {
            self.line(AnsiColor::Red.on_default().bold(), "error:", message);
        }
    }

    pub(crate) fn warning(self, message: &str) {
        if self.quiet < 1 {
            self.line(AnsiColor::Yellow.on_default().bold(), "warning:", message);
        }
    }

    /// A plain line of progress or result on stderr (stdout is kept for data).
    pub(crate) fn info(self, message: &str) {
        if self.quiet < 1 {
            let _ = writeln!(std::io::stderr().lock(), "{}", escape_lines(message));
        }
    }

    /// `text` in bold on a color terminal, its control characters escaped.
    pub(crate) fn bold(self, text: &str) -> String {
        let text = escape_control(text);
        if self.color {
            let style = Style::new().bold();
            format!("{style}{text}{style:#}")
        } else {
            text.into_owned()
        }
    }
}

/// Left-aligned columns separated by two spaces; the header bold. A cell is one line: every
/// control character in it is escaped, line breaks too.
pub(crate) fn table(printer: Printer, header: &[&str], rows: &[Vec<String>]) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            row.iter()
                .map(|cell| escape_control(cell).into_owned())
                .collect()
        })
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let render = |cells: Vec<String>, bold: bool| {
        let last = cells.len() - 1;
        let mut line = String::new();
        for (at, (cell, width)) in cells.iter().zip(&widths).enumerate() {
            let padded = if at == last {
                cell.clone()
            } else {
                format!("{cell:<width$}  ")
            };
            line.push_str(&if bold { printer.bold(&padded) } else { padded });
        }
        line.trim_end().to_owned()
    };
    let mut out = render(header.iter().map(|h| (*h).to_owned()).collect(), true);
    out.push('\n');
    for row in rows {
        out.push_str(&render(row, false));
        out.push('\n');
    }
    out
}

/// `2026-11-27 10:30 UTC (in 2h 5m)` or `... (expired)`.
pub(crate) fn expiry(at: i64, now: i64) -> String {
    let when = utc(at);
    if at <= now {
        return format!("{when} (expired)");
    }
    let left = at - now;
    let (days, hours, minutes) = (left / 86_400, left % 86_400 / 3600, left % 3600 / 60);
    let relative = if days > 0 {
        format!("{days}d {hours}h")
    } else if hours > 0 {
        format!("{hours}h {minutes}m")
    } else {
        format!("{minutes}m {}s", left % 60)
    };
    format!("{when} (in {relative})")
}

/// A Unix time as `YYYY-MM-DD HH:MM UTC` (Howard Hinnant's civil-from-days algorithm).
fn utc(at: i64) -> String {
    let days = at.div_euclid(86_400);
    let secs = at.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        secs / 3600,
        secs % 3600 / 60
    )
}

#[cfg(test)]
mod tests {
    use super::{Printer, escape_lines, expiry, table};

    #[test]
    fn escapes_all_but_line_breaks() {
        let check = |text: &str| escape_lines(text).into_owned();
        insta::assert_snapshot!(check("prefix.dev"), @"prefix.dev");
        insta::assert_snapshot!(check("ex\u{1b}]0;PWNED\u{7}ample.com"), @r"ex\u{1b}]0;PWNED\u{7}ample.com");
        insta::assert_snapshot!(check("one\ntwo\r\n\tthree\u{9b}\u{7f}"), @r"
        one
        two\u{d}
        \u{9}three\u{9b}\u{7f}
        ");
        insta::assert_snapshot!(check("bidi \u{202e}gpj.exe\n"), @r"bidi \u{202e}gpj.exe");
    }

    #[test]
    fn a_table_cell_is_one_escaped_line() {
        let printer = Printer {
            color: false,
            quiet: 0,
        };
        let rows = vec![
            vec![
                "\u{1b}[31mred.example.com".to_owned(),
                "BearerToken".to_owned(),
            ],
            vec!["two\nlines".to_owned(), "bell\u{7}".to_owned()],
        ];
        insta::assert_snapshot!(table(printer, &["KEY", "KIND"], &rows), @r"
        KEY                        KIND
        \u{1b}[31mred.example.com  BearerToken
        two\u{a}lines              bell\u{7}
        ");
    }

    #[test]
    fn formats_expiry() {
        insta::assert_snapshot!(expiry(1_764_239_400, 1_764_232_000), @"2025-11-27 10:30 UTC (in 2h 3m)");
        insta::assert_snapshot!(expiry(951_782_400, 951_782_400), @"2000-02-29 00:00 UTC (expired)");
        insta::assert_snapshot!(expiry(1_764_239_400 + 3 * 86_400, 1_764_239_400), @"2025-11-30 10:30 UTC (in 3d 0h)");
    }
}
