//! The `.netrc` tokenizer and parser: text in, entries (`machine`/`default` with `login`,
//! `account`, `password`) out, each with the line it starts on.
//!
//! It follows Python's `netrc` module: whitespace-separated tokens, double-quoted tokens, `#`
//! comments where a keyword is expected, `macdef` bodies that run to an empty line, `user` as a
//! synonym of `login`, and an error for any other word where a keyword is expected. It departs
//! from Python where Python has a known bug or where curl's reading is the one users rely on;
//! each departure is a case in the table at the bottom of `store.rs`:
//!
//! - a backslash outside quotes escapes only `"`; any other backslash is part of the value, as in
//!   curl and GNU inetutils (Python 3.11 drops it, cpython#99080: `CORP\alice` became
//!   `CORPalice`);
//! - inside quotes, `\n`, `\r` and `\t` are a newline, carriage return and tab, as curl documents;
//!   any other escaped character stands for itself;
//! - a `#` where a keyword is expected always comments out the rest of its line (Python rejects
//!   `#comment more words` and a `# comment` after blank lines);
//! - keywords are matched without regard to case, as curl does;
//! - a quote that is never closed is an error (Python swallows the rest of the file into the
//!   value), and a `macdef` body may end at the end of the file (Python rejects it; curl and ftp
//!   accept it).
//!
//! Errors carry a line number and a fixed reason, never a token of the file: a token in the
//! wrong place is often half of a password.

use std::fmt;

/// One `machine` or `default` entry.
#[derive(Clone, PartialEq, Eq, Default)]
pub(crate) struct Entry {
    /// The machine name; `None` for `default`.
    pub(crate) machine: Option<String>,
    pub(crate) login: Option<String>,
    pub(crate) account: Option<String>,
    pub(crate) password: Option<String>,
    /// 1-based line of the `machine` or `default` keyword.
    pub(crate) line: usize,
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry")
            .field("machine", &self.machine)
            .field("login", &self.login)
            // `account` is a second password for FTP servers that ask for one.
            .field("account", &self.account.as_ref().map(|_| "<redacted>"))
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("line", &self.line)
            .finish()
    }
}

/// Why the text is not a `.netrc` file, and on which line. The reason never quotes the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub(crate) struct SyntaxError {
    /// 1-based line of the offending token.
    pub(crate) line: usize,
    pub(crate) reason: Reason,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Reason {
    #[error(
        "expected `machine`, `default` or `macdef` here; an entry starts with `machine HOST` or \
         `default`"
    )]
    UnexpectedTopLevelWord,
    #[error(
        "expected `login`, `password`, `account`, `machine`, `default` or `macdef` here; a value \
         that contains spaces must be written in double quotes"
    )]
    UnexpectedWord,
    #[error("`machine` must be followed by a host name")]
    MissingMachineName,
    #[error("a double-quoted value is never closed; add the closing `\"`")]
    UnterminatedQuote,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Keyword {
    Machine,
    Default,
    Macdef,
    Login,
    Account,
    Password,
}

impl Keyword {
    fn parse(word: &str) -> Option<Self> {
        const KEYWORDS: [(&str, Keyword); 7] = [
            ("machine", Keyword::Machine),
            ("default", Keyword::Default),
            ("macdef", Keyword::Macdef),
            ("login", Keyword::Login),
            ("user", Keyword::Login),
            ("account", Keyword::Account),
            ("password", Keyword::Password),
        ];
        KEYWORDS
            .iter()
            .find(|(name, _)| word.eq_ignore_ascii_case(name))
            .map(|&(_, keyword)| keyword)
    }
}

/// Parses the whole text. Entries come in file order; duplicates are all kept.
pub(crate) fn parse(text: &str) -> Result<Vec<Entry>, SyntaxError> {
    let mut lexer = Lexer {
        text,
        pos: 0,
        line: 1,
    };
    let mut entries = Vec::new();
    let mut next = lexer.keyword()?;
    while let Some((word, line)) = next {
        match Keyword::parse(&word) {
            Some(Keyword::Macdef) => {
                lexer.value()?;
                lexer.skip_macro_body();
                next = lexer.keyword()?;
            }
            Some(keyword @ (Keyword::Machine | Keyword::Default)) => {
                let machine = if keyword == Keyword::Machine {
                    let name = lexer.value()?.ok_or(SyntaxError {
                        line,
                        reason: Reason::MissingMachineName,
                    })?;
                    Some(name)
                } else {
                    None
                };
                let mut entry = Entry {
                    machine,
                    line,
                    ..Entry::default()
                };
                next = parse_fields(&mut lexer, &mut entry)?;
                entries.push(entry);
            }
            _ => {
                return Err(SyntaxError {
                    line,
                    reason: Reason::UnexpectedTopLevelWord,
                });
            }
        }
    }
    Ok(entries)
}

/// Reads `login`, `account` and `password` into the entry up to the next entry or `macdef`,
/// which it returns. A field given twice keeps its last value, as in Python and curl.
fn parse_fields(
    lexer: &mut Lexer<'_>,
    entry: &mut Entry,
) -> Result<Option<(String, usize)>, SyntaxError> {
    loop {
        let Some((word, line)) = lexer.keyword()? else {
            return Ok(None);
        };
        let field = match Keyword::parse(&word) {
            Some(Keyword::Machine | Keyword::Default | Keyword::Macdef) => {
                return Ok(Some((word, line)));
            }
            Some(Keyword::Login) => &mut entry.login,
            Some(Keyword::Account) => &mut entry.account,
            Some(Keyword::Password) => &mut entry.password,
            None => {
                return Err(SyntaxError {
                    line,
                    reason: Reason::UnexpectedWord,
                });
            }
        };
        // A keyword at the very end of the file has no value: the field stays absent.
        if let Some(value) = lexer.value()? {
            *field = Some(value);
        }
    }
}

struct Lexer<'a> {
    text: &'a str,
    pos: usize,
    line: usize,
}

impl Lexer<'_> {
    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        if c == '\n' {
            self.line += 1;
        }
        Some(c)
    }

    fn skip_whitespace(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_whitespace()) {
            self.bump();
        }
    }

    /// Consumes the rest of the current line, its newline included.
    fn skip_line(&mut self) {
        while let Some(c) = self.bump() {
            if c == '\n' {
                break;
            }
        }
    }

    /// The next token where a keyword is expected, with its line; comments are skipped.
    fn keyword(&mut self) -> Result<Option<(String, usize)>, SyntaxError> {
        loop {
            self.skip_whitespace();
            match self.peek() {
                None => return Ok(None),
                Some('#') => self.skip_line(),
                Some(_) => {
                    let line = self.line;
                    return Ok(self.token()?.map(|token| (token, line)));
                }
            }
        }
    }

    /// The next token where a value is expected: a leading `#` is part of it (`password #pass`).
    fn value(&mut self) -> Result<Option<String>, SyntaxError> {
        self.skip_whitespace();
        self.token()
    }

    fn token(&mut self) -> Result<Option<String>, SyntaxError> {
        let Some(first) = self.peek() else {
            return Ok(None);
        };
        let mut token = String::new();
        if first == '"' {
            let line = self.line;
            let unterminated = SyntaxError {
                line,
                reason: Reason::UnterminatedQuote,
            };
            self.bump();
            loop {
                match self.bump().ok_or_else(|| unterminated.clone())? {
                    '"' => break,
                    '\\' => token.push(match self.bump().ok_or_else(|| unterminated.clone())? {
                        'n' => '\n',
                        'r' => '\r',
                        't' => '\t',
                        other => other,
                    }),
                    c => token.push(c),
                }
            }
        } else {
            while let Some(c) = self.peek().filter(|c| !c.is_ascii_whitespace()) {
                self.bump();
                if c == '\\' && self.peek() == Some('"') {
                    continue;
                }
                token.push(c);
            }
        }
        Ok(Some(token))
    }

    /// Skips a `macdef`'s body: the rest of the line that names it, then every line up to and
    /// including the first empty one (or the end of the file).
    fn skip_macro_body(&mut self) {
        self.skip_line();
        while self.pos < self.text.len() {
            let rest = &self.text[self.pos..];
            let end = rest.find('\n').unwrap_or(rest.len());
            let empty = matches!(&rest[..end], "" | "\r");
            self.skip_line();
            if empty {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    fn check(input: &str) -> String {
        match parse(input) {
            Ok(entries) => entries
                .iter()
                .map(|entry| format!("{entry:?}"))
                .collect::<Vec<_>>()
                .join("\n"),
            Err(err) => format!("error: {err}"),
        }
    }

    #[test]
    fn errors_give_the_line_and_never_the_token() {
        insta::assert_snapshot!(check("machine a login u password p\n\nmachine b login u password pa ss\n"), @"error: line 3: expected `login`, `password`, `account`, `machine`, `default` or `macdef` here; a value that contains spaces must be written in double quotes");
        insta::assert_snapshot!(check("\n\nsecret machine a\n"), @"error: line 3: expected `machine`, `default` or `macdef` here; an entry starts with `machine HOST` or `default`");
        insta::assert_snapshot!(check("machine a login u\nmachine\n"), @"error: line 2: `machine` must be followed by a host name");
        insta::assert_snapshot!(check("machine a\nlogin u\npassword \"sec\nret\n"), @"error: line 3: a double-quoted value is never closed; add the closing `\"`");
        insta::assert_snapshot!(check("machine a password \"ends in a backslash\\"), @"error: line 1: a double-quoted value is never closed; add the closing `\"`");
    }

    #[test]
    fn debug_never_shows_a_password_and_lines_are_counted_through_everything() {
        let text =
            "# c\nmacdef m\nbody\n\nmachine a\n  login \"x\ny\"\n  password sekrit\ndefault\n";
        insta::assert_snapshot!(check(text), @r#"
        Entry { machine: Some("a"), login: Some("x\ny"), account: None, password: Some("<redacted>"), line: 5 }
        Entry { machine: None, login: None, account: None, password: None, line: 9 }
        "#);
    }
}
