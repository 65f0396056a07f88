//! `Document`: the credentials file as text and the byte ranges of its entries.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use serde::de::{self, Deserializer as _, MapAccess, Visitor};
use serde_json::value::RawValue;

/// The parsed shape of the file: each entry's key and the range of its raw JSON value.
#[derive(Debug, Default)]
pub(crate) struct Document {
    pub(crate) text: String,
    pub(crate) entries: Vec<Entry>,
}

#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) key: KeyText,
    pub(crate) value: Range<usize>,
}

/// A key, borrowed from the text when it has no escapes (almost always).
#[derive(Debug)]
pub(crate) enum KeyText {
    InText(Range<usize>),
    Unescaped(Box<str>),
}

/// Where and why the text is not a credentials document. The reason never quotes the text.
#[derive(Debug)]
pub(crate) struct SyntaxError {
    pub(crate) line: usize,
    pub(crate) column: usize,
    pub(crate) reason: String,
}

impl Document {
    /// Parses the file's bytes: UTF-8 text, else an error at the first byte that is not.
    pub(crate) fn parse_bytes(bytes: Vec<u8>) -> Result<Self, SyntaxError> {
        match String::from_utf8(bytes) {
            Ok(text) => Self::parse(text),
            Err(err) => {
                let bytes = err.as_bytes();
                let at = err.utf8_error().valid_up_to();
                // Line and column as serde_json counts them (1-based, the column in bytes), so
                // every error of a corrupt file points the same way.
                let line_start = bytes[..at]
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |newline| newline + 1);
                Err(SyntaxError {
                    // One more segment than newlines before the line.
                    line: bytes[..line_start].split(|&b| b == b'\n').count(),
                    column: at - line_start + 1,
                    reason: "the file is not valid UTF-8 text, as JSON must be".to_owned(),
                })
            }
        }
    }

    /// Parses the file's text. Empty (or all-whitespace) text is an empty document.
    pub(crate) fn parse(text: String) -> Result<Self, SyntaxError> {
        if text.trim().is_empty() {
            return Ok(Self {
                text,
                entries: Vec::new(),
            });
        }
        let entries = {
            let mut de = serde_json::Deserializer::from_str(&text);
            let raw = de
                .deserialize_map(EntriesVisitor)
                .and_then(|raw| de.end().map(|()| raw));
            let raw = raw.map_err(|err| describe(&err))?;
            let base = text.as_ptr().addr();
            raw.into_iter()
                .map(|(key, value)| {
                    let start = value.get().as_ptr().addr() - base;
                    let key = match key {
                        Cow::Borrowed(key) => {
                            let start = key.as_ptr().addr() - base;
                            KeyText::InText(start..start + key.len())
                        }
                        Cow::Owned(key) => KeyText::Unescaped(key.into()),
                    };
                    Entry {
                        key,
                        value: start..start + value.get().len(),
                    }
                })
                .collect()
        };
        Ok(Self { text, entries })
    }

    pub(crate) fn key<'a>(&'a self, entry: &'a Entry) -> &'a str {
        match &entry.key {
            KeyText::InText(range) => &self.text[range.clone()],
            KeyText::Unescaped(key) => key,
        }
    }

    pub(crate) fn value<'a>(&'a self, entry: &Entry) -> &'a str {
        &self.text[entry.value.clone()]
    }

    /// Writes a document of these entries (key, raw JSON value), sorted by key as rattler does.
    pub(crate) fn render<'a>(entries: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
        let mut out = String::from("{");
        let mut first = true;
        for (key, value) in entries {
            out.push_str(if first { "\n  " } else { ",\n  " });
            first = false;
            out.push_str(&serde_json::to_string(key).expect("a string always serializes"));
            out.push_str(": ");
            out.push_str(value);
        }
        out.push_str(if first { "}\n" } else { "\n}\n" });
        out
    }
}

fn describe(err: &serde_json::Error) -> SyntaxError {
    let reason = match err.classify() {
        // serde_json's syntax messages never quote the input; drop its own " at line.." suffix.
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
            let message = err.to_string();
            match message.rfind(" at line ") {
                Some(at) => message[..at].to_owned(),
                None => message,
            }
        }
        serde_json::error::Category::Data => {
            "the file must hold one JSON object that maps hosts to credentials".to_owned()
        }
        serde_json::error::Category::Io => "the file could not be read".to_owned(),
    };
    // serde_json says column 0 for an error before the first character; ours are 1-based.
    SyntaxError {
        line: err.line().max(1),
        column: err.column().max(1),
        reason,
    }
}

struct EntriesVisitor;

impl<'de> Visitor<'de> for EntriesVisitor {
    type Value = Vec<(Cow<'de, str>, &'de RawValue)>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object that maps hosts to credentials")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0));
        while let Some(key) = map.next_key::<KeySeed<'de>>()? {
            entries.push((key.0, map.next_value()?));
        }
        Ok(entries)
    }
}

/// A map key that borrows from the input when it can (`Cow`'s own impl always copies).
struct KeySeed<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for KeySeed<'de> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = KeySeed<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a host key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(KeySeed(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(KeySeed(Cow::Owned(v.to_owned())))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, RngSeed};

    use super::Document;

    fn check(text: &str) -> String {
        check_bytes(text.as_bytes())
    }

    fn check_bytes(bytes: &[u8]) -> String {
        match Document::parse_bytes(bytes.to_vec()) {
            Ok(doc) => doc
                .entries
                .iter()
                .map(|e| format!("{} = {}", doc.key(e), doc.value(e)))
                .collect::<Vec<_>>()
                .join("\n"),
            Err(err) => format!("error at {}:{}: {}", err.line, err.column, err.reason),
        }
    }

    #[test]
    fn parses_entries_and_reports_errors_without_content() {
        insta::assert_snapshot!(check(r#"{"a": {"BearerToken": "x"}, "b\u0041": [1, 2]}"#), @r#"
        a = {"BearerToken": "x"}
        bA = [1, 2]
        "#);
        insta::assert_snapshot!(check("  \n"), @"");
        insta::assert_snapshot!(check("{\n  \"a\": {\"BearerToken\": \"sekrit\"\n}"), @"error at 3:1: EOF while parsing an object");
        insta::assert_snapshot!(check("{\"a\": 1,}"), @"error at 1:9: trailing comma");
        insta::assert_snapshot!(check("\"sekrit\""), @"error at 1:8: the file must hold one JSON object that maps hosts to credentials");
        insta::assert_snapshot!(check("{} {}"), @"error at 1:4: trailing characters");
        insta::assert_snapshot!(check(&"[".repeat(100_000)), @"error at 1:1: the file must hold one JSON object that maps hosts to credentials");
        insta::assert_snapshot!(check(&format!("{{\"a\": {}", "[".repeat(100_000))), @"error at 1:100006: EOF while parsing a list");
    }

    // Regression: a file with invalid UTF-8 gave a bare "stream did not contain valid UTF-8",
    // with no line, no column and nothing to do.
    #[test]
    fn invalid_utf8_is_located_like_any_syntax_error() {
        insta::assert_snapshot!(check_bytes(b"\xff{}"), @"error at 1:1: the file is not valid UTF-8 text, as JSON must be");
        insta::assert_snapshot!(check_bytes(b"{\n  \"h\xc3\xa9.com\": {\"BearerToken\": \"ab\xc3(\"}\n}"), @"error at 2:33: the file is not valid UTF-8 text, as JSON must be");
        // Columns count bytes, as serde_json's do: `é` is two.
        insta::assert_snapshot!(check_bytes("{\n  \"é\": \"\u{e9}".as_bytes()), @"error at 2:11: EOF while parsing a string");
    }

    /// The suite's config: proptest's defaults (which read `PROPTEST_CASES`), a fixed seed unless
    /// `PROPTEST_RNG_SEED` gives one, and no failure files written into the source tree.
    fn config() -> Config {
        let mut config = Config::default();
        if config.rng_seed == RngSeed::Random {
            config.rng_seed = RngSeed::Fixed(0x0d0c_0e47);
        }
        config.failure_persistence = None;
        config
    }

    proptest! {
        #![proptest_config(config())]

        /// Any bytes: an error or a document whose ranges lie in the text, never a panic.
        #[test]
        fn prop_parse_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
            if let Ok(doc) = Document::parse_bytes(bytes) {
                for entry in &doc.entries {
                    let _ = doc.key(entry);
                    prop_assert!(serde_json::from_str::<serde_json::Value>(doc.value(entry)).is_ok());
                }
            }
        }
    }

    #[test]
    fn renders_sorted_input_verbatim() {
        insta::assert_snapshot!(Document::render([("a\"b", "{\"X\":1}"), ("c", "[ 1 ]")]), @r#"
        {
          "a\"b": {"X":1},
          "c": [ 1 ]
        }
        "#);
        assert_eq!(Document::render([]), "{}\n");
    }
}
