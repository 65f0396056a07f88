//! `Secret`: a value that must never reach a log, an error message or a `Debug` print.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A secret value (a token, a password, a key).
///
/// `Debug` prints a redaction and there is no `Display`, so a secret can only reach text through
/// [`Secret::expose`], and every place that does so can be found with a search for `expose`.
/// Serialization is transparent: the stores must write the real value.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret<T = String>(T);

impl<T> Secret<T> {
    /// Wraps a value.
    pub const fn new(value: T) -> Self {
        Self(value)
    }

    /// The secret itself. Call this only where the value is sent, stored or printed on purpose.
    pub const fn expose(&self) -> &T {
        &self.0
    }

    /// Takes the secret out of its wrapper.
    pub fn into_exposed(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl<T: Serialize> Serialize for Secret<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Secret<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::Secret;

    #[test]
    fn debug_redacts() {
        let secret = Secret::from("hunter2");
        let printed = format!("{secret:?} {secret:#?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        insta::assert_snapshot!(format!("{secret:?}"), @"Secret(<redacted>)");
    }

    #[test]
    fn serializes_transparently() {
        let secret = Secret::from("hunter2");
        assert_eq!(serde_json::to_string(&secret).unwrap(), r#""hunter2""#);
        let back: Secret = serde_json::from_str(r#""hunter2""#).unwrap();
        assert_eq!(back.expose(), "hunter2");
    }
}
