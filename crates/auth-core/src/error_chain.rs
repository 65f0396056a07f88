//! An error and its causes as one line of text, each cause said once: what every library crate
//! puts in a message that wraps another crate's error.

use std::error::Error;

/// `err` and its causes on one line, `what failed: why: why`; a cause whose text is already in
/// the line (a wrapper that repeats its source's message) is not said again.
pub fn error_chain(err: &dyn Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use std::fmt;

    use super::*;

    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);

    impl fmt::Display for Layer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }

    impl Error for Layer {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            self.1
                .as_deref()
                .map(|layer| layer as &(dyn Error + 'static))
        }
    }

    fn chain(texts: &[&'static str]) -> Layer {
        let (first, rest) = texts.split_first().expect("one layer at least");
        Layer(first, (!rest.is_empty()).then(|| Box::new(chain(rest))))
    }

    #[test]
    fn causes_follow_once_each() {
        let cases: [(&[&str], &str); 4] = [
            (&["alone"], "alone"),
            (
                &["could not read F", "permission denied"],
                "could not read F: permission denied",
            ),
            (&["a", "b", "c"], "a: b: c"),
            // A wrapper that quotes its source: the source is not said twice.
            (
                &["bad file: no such file", "no such file"],
                "bad file: no such file",
            ),
        ];
        for (texts, expected) in cases {
            assert_eq!(error_chain(&chain(texts)), expected, "{texts:?}");
        }
    }
}
