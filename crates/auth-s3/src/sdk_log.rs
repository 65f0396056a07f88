//! Keeps HTTP bodies out of the AWS SDK's log lines: its errors print the raw response they
//! failed on in their `Debug` form, bytes and all (an instance-metadata token, an STS answer).

use std::borrow::Cow;

/// Where a body's `Debug` form starts: `SdkBody { inner: Once(Some(b"…")), retryable: true }`.
const BODY: &str = "SdkBody {";

/// What a body's contents become.
const REDACTED: &str = "SdkBody { <redacted> }";

/// `text` with the contents of every `SdkBody { … }` replaced by `<redacted>`, whatever the
/// body holds (quotes and braces inside its byte string are skipped as the string's own); a
/// body cut off before its closing brace is redacted to the end. Text without a body is
/// returned as it is.
pub fn redact_sdk_bodies(text: &str) -> Cow<'_, str> {
    if !text.contains(BODY) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(BODY) {
        out.push_str(&rest[..start]);
        out.push_str(REDACTED);
        rest = &rest[start + BODY.len()..];
        rest = &rest[closing_brace(rest).map_or(rest.len(), |end| end + 1)..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// The byte index of the `}` that closes a `{` just before `text`, outside string literals.
fn closing_brace(text: &str) -> Option<usize> {
    let mut depth = 0_usize;
    let mut in_string = false;
    let mut escaped = false;
    for (index, byte) in text.bytes().enumerate() {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'{' => depth += 1,
            b'}' if depth == 0 => return Some(index),
            b'}' => depth -= 1,
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn bodies_are_redacted_and_the_rest_kept() {
        let cases = [
            ("no body here", "no body here"),
            (
                // What the SDK logged for moto's instance-metadata token (no TTL header).
                r#"raw: Response { status: StatusCode(200), body: SdkBody { inner: Once(Some(b"fake-imdsv2-token")), retryable: true }, extensions: Extensions { extensions_1x: {} } } })"#,
                r"raw: Response { status: StatusCode(200), body: SdkBody { <redacted> }, extensions: Extensions { extensions_1x: {} } } })",
            ),
            (
                r#"a SdkBody { inner: Once(Some(b"{\"SecretAccessKey\": \"s}e\\\"c\"}")) } b SdkBody { inner: Taken } c"#,
                "a SdkBody { <redacted> } b SdkBody { <redacted> } c",
            ),
            (
                r#"cut off: SdkBody { inner: Once(Some(b"secr"#,
                "cut off: SdkBody { <redacted> }",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(redact_sdk_bodies(text), expected, "{text}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// Whatever bytes a body holds, none of them reaches the line: its `Debug` form (a byte
        /// string, `"` and `\\` escaped as `bytes::Bytes` writes them) is gone, and what
        /// surrounds it stays.
        #[test]
        fn prop_no_byte_of_a_body_survives(
            body in proptest::collection::vec(any::<u8>(), 1..64),
            before in "[a-z :(]{0,12}",
            after in "[a-z ,)]{0,12}",
        ) {
            let escaped: String = body
                .iter()
                .flat_map(|&byte| std::ascii::escape_default(byte))
                .map(char::from)
                .collect();
            let secret = format!("b\"{escaped}\"");
            let line = format!(
                "{before}SdkBody {{ inner: Once(Some({secret})), retryable: true }}{after}"
            );
            let redacted = redact_sdk_bodies(&line);
            prop_assert_eq!(redacted, format!("{before}{REDACTED}{after}"));
        }
    }
}
