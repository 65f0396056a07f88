//! `escape_control`: text from a user, a file, a keyring or the network made safe for a terminal
//! or a log line, so a key or a server's message cannot move the cursor, set the window title or
//! reverse the text around it.

use std::borrow::Cow;
use std::fmt::Write as _;

/// The text with every character a terminal would act on written as a Rust escape (`\u{1b}`):
/// C0 controls (tab and newline included), DEL, C1 controls, and the Unicode bidirectional
/// overrides and isolates. Borrowed, with no allocation, when there is nothing to escape.
pub fn escape_control(text: &str) -> Cow<'_, str> {
    let Some(first) = text.find(needs_escape) else {
        return Cow::Borrowed(text);
    };
    let mut out = String::with_capacity(text.len() + 8);
    out.push_str(&text[..first]);
    for c in text[first..].chars() {
        if needs_escape(c) {
            // Writing to a String cannot fail.
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c,
            // Bidirectional embeddings, overrides and isolates (the "Trojan Source" characters).
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
            // Line and paragraph separators, which some terminals and log viewers break on.
            | '\u{2028}' | '\u{2029}')
}

#[cfg(test)]
mod tests {
    use super::escape_control;

    #[test]
    fn escapes_what_a_terminal_acts_on() {
        let cases = [
            "prefix.dev",
            "ex\u{1b}]0;PWNED\u{7}ample.com",
            "\u{1b}[31mred",
            "tab\there\nnewline\r",
            "del\u{7f} c1\u{9b}",
            "bidi \u{202e}txt.exe\u{2066}",
            "zoë 東京",
        ];
        let out: Vec<String> = cases
            .iter()
            .map(|c| escape_control(c).into_owned())
            .collect();
        insta::assert_snapshot!(out.join("\n"), @r"
        prefix.dev
        ex\u{1b}]0;PWNED\u{7}ample.com
        \u{1b}[31mred
        tab\u{9}here\u{a}newline\u{d}
        del\u{7f} c1\u{9b}
        bidi \u{202e}txt.exe\u{2066}
        zoë 東京
        ");
    }

    #[test]
    fn borrows_clean_text() {
        assert!(matches!(
            escape_control("repo.prefix.dev"),
            std::borrow::Cow::Borrowed(_)
        ));
    }
}
