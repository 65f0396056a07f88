//! pixi's `[mirrors]`: a table from a URL prefix to the mirrors that serve what is under it, and
//! the URLs to try, in order, for one request ([`Mirrors::candidates`]).
//!
//! The rules are rattler's mirror middleware with pixi's normalization of the table:
//!
//! - every key and every mirror is parsed as a URL and gets a trailing `/` (pixi's
//!   `ensure_trailing_slash`), so `https://conda.anaconda.org/conda-forge` is the prefix
//!   `https://conda.anaconda.org/conda-forge/` and matches at a path segment boundary only (not
//!   `…/conda-forge-nightly/`); the host is lowercased and a default port dropped, as URLs are;
//! - a request URL (as serialized) that starts with a prefix is mirrored; the longest such prefix
//!   wins;
//! - the rest of the URL after the prefix (path, query, fragment) is appended to each mirror, in
//!   the order listed. The original URL is not tried unless the list names it (rattler replaces
//!   the URL; it never falls back to the original).
//!
//! What differs from rattler: the rest is appended as text, where rattler uses `Url::join`
//! (which reads a rest such as `a:b` as a URL of its own). Which of the candidates is tried
//! next, and when, is the caller's (rattler picks the mirror with the fewest failures so far
//! and leaves the retry to a retry middleware; `auth fetch` tries them in order).

use std::fmt;

use auth_core::SafeUrl;
use url::Url;

/// A `[mirrors]` table, checked: prefix → mirrors (see the module documentation).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Mirrors {
    /// Longest prefix first, so the first that matches is the longest.
    entries: Vec<Entry>,
}

#[derive(Clone, PartialEq, Eq)]
struct Entry {
    /// The key, normalized: a URL ending with `/`, without user information, query or fragment.
    prefix: String,
    /// The mirrors, each normalized to end with `/`.
    mirrors: Vec<Url>,
}

/// A `[mirrors]` table that cannot be used, naming the key (and mirror) at fault. URLs are shown
/// redacted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MirrorsError {
    /// A key is not a URL that can be a prefix.
    #[error("[mirrors] key `{key}` is not a URL prefix: {reason}")]
    BadKey {
        /// The key as written, redacted.
        key: SafeUrl,
        /// What is wrong with it.
        reason: String,
    },
    /// A mirror of a key is not a URL that can have paths appended.
    #[error("[mirrors] `{key}` lists `{mirror}`, which is not a mirror URL: {reason}")]
    BadMirror {
        /// The key, redacted.
        key: SafeUrl,
        /// The mirror as written, redacted.
        mirror: SafeUrl,
        /// What is wrong with it.
        reason: String,
    },
    /// A key with an empty list.
    #[error("[mirrors] `{key}` lists no mirror; list one or more URLs, or remove the key")]
    NoMirror {
        /// The key, redacted.
        key: SafeUrl,
    },
    /// Two keys of one table that are the same prefix once normalized.
    #[error("[mirrors] two keys are the prefix `{prefix}`; keep one of them")]
    Duplicate {
        /// The prefix, redacted.
        prefix: SafeUrl,
    },
}

impl Mirrors {
    /// Checks and normalizes a table as it is written in a config file: each key with its
    /// mirrors, in order.
    ///
    /// # Errors
    /// [`MirrorsError`] for the first key (or mirror) that is not a URL, is `mailto:`-like (can
    /// have no path under it), has a query or fragment, or (a key) has a user name or password;
    /// for a key without mirrors, and for two keys that are the same prefix.
    pub fn new<K, L, M>(table: impl IntoIterator<Item = (K, L)>) -> Result<Self, MirrorsError>
    where
        K: AsRef<str>,
        L: IntoIterator<Item = M>,
        M: AsRef<str>,
    {
        let mut entries: Vec<Entry> = Vec::new();
        for (key, list) in table {
            let key = key.as_ref();
            let bad_key = |reason: String| MirrorsError::BadKey {
                key: SafeUrl::new(key),
                reason,
            };
            let prefix = base(key).map_err(bad_key)?;
            if !prefix.username().is_empty() || prefix.password().is_some() {
                return Err(bad_key(
                    "it has a user name or password; a prefix is matched against URLs without \
                     them"
                        .to_owned(),
                ));
            }
            let mut mirrors = Vec::new();
            for mirror in list {
                let mirror = mirror.as_ref();
                mirrors.push(base(mirror).map_err(|reason| MirrorsError::BadMirror {
                    key: SafeUrl::new(key),
                    mirror: SafeUrl::new(mirror),
                    reason,
                })?);
            }
            if mirrors.is_empty() {
                return Err(MirrorsError::NoMirror {
                    key: SafeUrl::new(key),
                });
            }
            let prefix = String::from(prefix);
            if entries.iter().any(|entry| entry.prefix == prefix) {
                return Err(MirrorsError::Duplicate {
                    prefix: SafeUrl::new(&prefix),
                });
            }
            entries.push(Entry { prefix, mirrors });
        }
        let mut mirrors = Self { entries };
        mirrors.sort();
        Ok(mirrors)
    }

    /// Whether the table is empty (no URL is mirrored).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The normalized prefixes, longest first.
    pub fn prefixes(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|entry| entry.prefix.as_str())
    }

    /// This table, with the prefixes of `lower` it does not have: for layered config files, the
    /// file that wins first.
    #[must_use]
    pub fn or(mut self, lower: Self) -> Self {
        for entry in lower.entries {
            if !self.entries.iter().any(|own| own.prefix == entry.prefix) {
                self.entries.push(entry);
            }
        }
        self.sort();
        self
    }

    /// The mirror URLs for `url`, in the order to try them, when a prefix matches it; `None`
    /// when `url` is not mirrored.
    pub fn mirrors_for(&self, url: &Url) -> Option<Vec<Url>> {
        let text = url.as_str();
        let entry = self
            .entries
            .iter()
            .find(|entry| text.starts_with(&entry.prefix))?;
        let rest = &text[entry.prefix.len()..];
        Some(
            entry
                .mirrors
                .iter()
                // A mirror is a base URL ending with `/` and `rest` a path, query and fragment
                // that parsed before: the text parses (a failure drops that mirror).
                .filter_map(|mirror| Url::parse(&format!("{}{rest}", mirror.as_str())).ok())
                .collect(),
        )
    }

    /// The URLs to try for `url`, in order: its mirrors when a prefix matches, else `url`
    /// itself.
    pub fn candidates(&self, url: &Url) -> Vec<Url> {
        self.mirrors_for(url).unwrap_or_else(|| vec![url.clone()])
    }

    fn sort(&mut self) {
        self.entries.sort_by(|a, b| {
            b.prefix
                .len()
                .cmp(&a.prefix.len())
                .then_with(|| a.prefix.cmp(&b.prefix))
        });
    }
}

impl fmt::Debug for Mirrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Redacted: a mirror URL may carry a user name and password.
        f.debug_map()
            .entries(self.entries.iter().map(|entry| {
                (
                    SafeUrl::new(&entry.prefix),
                    entry.mirrors.iter().map(SafeUrl::from).collect::<Vec<_>>(),
                )
            }))
            .finish()
    }
}

/// `text` as a URL that paths can be appended to, ending with `/`; else what is wrong with it.
fn base(text: &str) -> Result<Url, String> {
    let mut url = Url::parse(text).map_err(|err| err.to_string())?;
    if url.cannot_be_a_base() {
        return Err("it can have no path under it".to_owned());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("it has a `?` query or a `#` fragment, which no path can follow".to_owned());
    }
    if !url.path().ends_with('/') {
        // Not `join`, which would replace the last segment.
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, RngSeed};

    use super::*;

    /// A table as a config file writes it: keys and their lists.
    type Table<'a> = [(&'a str, &'a [&'a str])];

    fn table(entries: &Table) -> Mirrors {
        Mirrors::new(entries.iter().map(|(key, list)| (*key, list.iter()))).unwrap()
    }

    fn candidates(mirrors: &Mirrors, url: &str) -> Vec<String> {
        mirrors
            .candidates(&Url::parse(url).unwrap())
            .into_iter()
            .map(String::from)
            .collect()
    }

    #[test]
    fn candidates_follow_pixis_rules() {
        let mirrors = table(&[
            (
                "https://conda.anaconda.org/conda-forge",
                &["https://prefix.dev/conda-forge"],
            ),
            (
                "https://repo.prefix.dev/",
                &["https://mirror-a.example/", "https://mirror-b.example/base"],
            ),
            (
                "https://repo.prefix.dev/special/",
                &["s3://bucket/special/"],
            ),
            (
                "HTTPS://Self.Example:443/ch",
                &["https://m.example/ch", "https://self.example/ch"],
            ),
        ]);
        let cases: &[(&str, &[&str])] = &[
            // The rest is appended to the mirror, whose path keeps its last segment.
            (
                "https://conda.anaconda.org/conda-forge/noarch/repodata.json",
                &["https://prefix.dev/conda-forge/noarch/repodata.json"],
            ),
            // In the order listed, each mirror's path kept.
            (
                "https://repo.prefix.dev/ch/x.conda?v=1#f",
                &[
                    "https://mirror-a.example/ch/x.conda?v=1#f",
                    "https://mirror-b.example/base/ch/x.conda?v=1#f",
                ],
            ),
            // The longest prefix wins.
            (
                "https://repo.prefix.dev/special/x",
                &["s3://bucket/special/x"],
            ),
            // A segment boundary: `conda-forge-nightly` is not under `conda-forge`.
            (
                "https://conda.anaconda.org/conda-forge-nightly/x",
                &["https://conda.anaconda.org/conda-forge-nightly/x"],
            ),
            // The key itself without its slash is not under it (as in pixi).
            (
                "https://conda.anaconda.org/conda-forge",
                &["https://conda.anaconda.org/conda-forge"],
            ),
            // Another scheme, host or port is another prefix.
            (
                "http://repo.prefix.dev/ch/x",
                &["http://repo.prefix.dev/ch/x"],
            ),
            (
                "https://repo.prefix.dev:8443/ch/x",
                &["https://repo.prefix.dev:8443/ch/x"],
            ),
            (
                "https://prefix.dev/conda-forge/x",
                &["https://prefix.dev/conda-forge/x"],
            ),
            // A key is normalized as a URL: case and default port.
            (
                "https://self.example/ch/x",
                &["https://m.example/ch/x", "https://self.example/ch/x"],
            ),
            // A URL with its own credential is not under a key (which has none), so it is never
            // sent elsewhere.
            (
                "https://u:p@repo.prefix.dev/ch/x",
                &["https://u:p@repo.prefix.dev/ch/x"],
            ),
            // A rest that looks like a scheme is still a path (`Url::join` would not say so).
            (
                "https://repo.prefix.dev/a:b",
                &[
                    "https://mirror-a.example/a:b",
                    "https://mirror-b.example/base/a:b",
                ],
            ),
        ];
        for (url, expected) in cases {
            assert_eq!(candidates(&mirrors, url), *expected, "{url}");
        }
        assert_eq!(
            mirrors.prefixes().collect::<Vec<_>>(),
            [
                "https://conda.anaconda.org/conda-forge/",
                "https://repo.prefix.dev/special/",
                "https://repo.prefix.dev/",
                "https://self.example/ch/",
            ]
        );
        assert!(
            mirrors
                .mirrors_for(&Url::parse("https://other.example/x").unwrap())
                .is_none()
        );
    }

    #[test]
    fn a_bad_table_names_the_key_redacted() {
        let error = |entries: &[(&str, &[&str])]| {
            Mirrors::new(entries.iter().map(|(key, list)| (*key, list.iter())))
                .unwrap_err()
                .to_string()
        };
        let cases: &[(&Table, &str)] = &[
            (
                &[("conda-forge", &["https://m.example/"])],
                "[mirrors] key `conda-forge` is not a URL prefix: relative URL without a base",
            ),
            (
                &[("urn:isbn:0451450523", &["https://m.example/"])],
                "[mirrors] key `urn:isbn:0451450523` is not a URL prefix: it can have no path \
                 under it",
            ),
            (
                &[("https://h.example/?q=1", &["https://m.example/"])],
                "[mirrors] key `https://h.example/?q=****` is not a URL prefix: it has a `?` query \
                 or a `#` fragment, which no path can follow",
            ),
            (
                &[("https://u:s3cret@h.example/", &["https://m.example/"])],
                "[mirrors] key `https://****@h.example/` is not a URL prefix: it has a user name \
                 or password; a prefix is matched against URLs without them",
            ),
            (
                &[("https://h.example/", &["https://m.example/", "m.example"])],
                "[mirrors] `https://h.example/` lists `m.example`, which is not a mirror URL: \
                 relative URL without a base",
            ),
            (
                &[("https://h.example/", &[])],
                "[mirrors] `https://h.example/` lists no mirror; list one or more URLs, or remove \
                 the key",
            ),
            (
                &[
                    ("https://h.example", &["https://m.example/"]),
                    ("https://H.example:443/", &["https://n.example/"]),
                ],
                "[mirrors] two keys are the prefix `https://h.example/`; keep one of them",
            ),
        ];
        for (entries, expected) in cases {
            assert_eq!(error(entries), *expected);
        }
        // A mirror may carry its own credential; it is not shown.
        let mirrors = table(&[("https://h.example/", &["https://u:s3cret@m.example/"])]);
        assert!(!format!("{mirrors:?}").contains("s3cret"), "{mirrors:?}");
    }

    #[test]
    fn a_higher_table_wins_per_prefix() {
        let own = table(&[("https://h.example/ch", &["https://own.example/"])]);
        let pixi = table(&[
            ("https://h.example/ch/", &["https://pixi.example/"]),
            ("https://h.example/", &["https://pixi-root.example/"]),
        ]);
        let layered = own.or(pixi);
        assert_eq!(
            candidates(&layered, "https://h.example/ch/x"),
            ["https://own.example/x"]
        );
        assert_eq!(
            candidates(&layered, "https://h.example/other/x"),
            ["https://pixi-root.example/other/x"]
        );
        assert!(Mirrors::default().is_empty() && !layered.is_empty());
    }

    /// A fixed seed unless `PROPTEST_RNG_SEED` gives one, and no failure files in the tree.
    fn config() -> Config {
        let mut config = Config::default();
        if config.rng_seed == RngSeed::Random {
            config.rng_seed = RngSeed::Fixed(0x0031_4150);
        }
        config.failure_persistence = None;
        config
    }

    fn segment() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z0-9_~-][a-z0-9._~-]{0,7}",
            "[a-z]{1,3}:[a-z]{1,3}",
            "%[0-9A-F]{2}[a-z]{0,3}",
            Just("@".to_owned()),
        ]
    }

    fn path() -> impl Strategy<Value = String> {
        prop::collection::vec(segment(), 0..4).prop_map(|segments| segments.join("/"))
    }

    fn origin(label: &'static str) -> impl Strategy<Value = String> {
        (
            prop_oneof![Just("https"), Just("http"), Just("s3")],
            "[a-z]{1,6}",
            prop_oneof![Just(String::new()), Just(":8443".to_owned())],
        )
            .prop_map(move |(scheme, host, port)| format!("{scheme}://{label}-{host}.test{port}"))
    }

    proptest! {
        #![proptest_config(config())]

        /// Every candidate is a mirror of the matching prefix with the rest of the URL after
        /// it; a URL under another prefix gets none of this prefix's mirrors.
        #[test]
        fn prop_a_candidate_is_a_mirror_and_the_rest_of_the_url(
            key in (origin("key"), path()),
            other in (origin("other"), path()),
            mirrors in prop::collection::vec((origin("mirror"), path()), 1..4),
            other_mirror in (origin("elsewhere"), path()),
            rest in path(),
            query in prop_oneof![Just(String::new()), "\\?[a-z]=[a-z0-9:/]{0,6}"],
            slash in any::<bool>(),
        ) {
            let key = format!("{}/{}{}", key.0, key.1, if slash { "/" } else { "" });
            let other = format!("{}/{}", other.0, other.1);
            let mirror_urls: Vec<String> =
                mirrors.iter().map(|(origin, path)| format!("{origin}/{path}")).collect();
            let other_mirror = format!("{}/{}", other_mirror.0, other_mirror.1);
            let table = Mirrors::new([
                (key.clone(), mirror_urls.clone()),
                (other.clone(), vec![other_mirror.clone()]),
            ])
            .unwrap();
            let prefix = base(&key).unwrap().to_string();
            let url = Url::parse(&format!("{prefix}{rest}{query}")).unwrap();
            let tail = &url.as_str()[prefix.len()..];
            let found = table.candidates(&url);
            prop_assert_eq!(found.len(), mirror_urls.len());
            for (candidate, mirror) in found.iter().zip(&mirror_urls) {
                let mirror = base(mirror).unwrap();
                prop_assert!(candidate.as_str().starts_with(mirror.as_str()), "{candidate} {mirror}");
                prop_assert!(candidate.as_str().ends_with(tail), "{candidate} {tail}");
                prop_assert_eq!(candidate.as_str().len(), mirror.as_str().len() + tail.len());
            }
            let elsewhere = base(&other_mirror).unwrap();
            prop_assert!(found.iter().all(|url| !url.as_str().starts_with(elsewhere.as_str())));

            // A URL under the other prefix gets only the other prefix's mirror.
            let other_prefix = base(&other).unwrap().to_string();
            let under_other = Url::parse(&format!("{other_prefix}{rest}")).unwrap();
            let found = table.candidates(&under_other);
            prop_assert_eq!(found.len(), 1);
            prop_assert!(found[0].as_str().starts_with(elsewhere.as_str()));
            // A URL under neither is itself.
            let neither = Url::parse(&format!("https://unmirrored.test/{rest}")).unwrap();
            prop_assert_eq!(table.candidates(&neither), vec![neither]);
        }
    }
}
