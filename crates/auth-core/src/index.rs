//! `CredentialIndex`: find the most specific key for a URL in a few hash lookups, however many
//! keys are stored.
//!
//! Keys are bucketed by host: exact hosts in one map, wildcard bases in another. A lookup probes
//! the exact host, then the host and each parent domain as a wildcard base, longest first, so the
//! cost grows with the number of labels in the URL's host, never with the number of keys. Within
//! a bucket, entries are kept most specific first (port, then path length, then scheme).

use rustc_hash::FxHashMap;

use crate::host::{HostKey, HostSpec};
use crate::url_target::UrlTarget;

/// Host keys mapped to values, with URL lookup.
#[derive(Debug, Clone)]
pub struct CredentialIndex<V> {
    exact: FxHashMap<Box<str>, Vec<(HostKey, V)>>,
    wildcard: FxHashMap<Box<str>, Vec<(HostKey, V)>>,
    /// Keys for every host (`.netrc`'s `default`), tried last.
    any: Vec<(HostKey, V)>,
    /// The longest wildcard base ever inserted: longer host suffixes need no probe.
    longest_base: usize,
    len: usize,
}

impl<V> Default for CredentialIndex<V> {
    fn default() -> Self {
        Self {
            exact: FxHashMap::default(),
            wildcard: FxHashMap::default(),
            any: Vec::new(),
            longest_base: 0,
            len: 0,
        }
    }
}

impl<V> CredentialIndex<V> {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many keys are stored.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no key is stored.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn bucket_mut(&mut self, key: &HostKey) -> &mut Vec<(HostKey, V)> {
        match key.host() {
            HostSpec::Exact(host) => self.exact.entry(host.clone()).or_default(),
            HostSpec::Wildcard(base) => {
                self.longest_base = self.longest_base.max(base.len());
                self.wildcard.entry(base.clone()).or_default()
            }
            HostSpec::Any => &mut self.any,
        }
    }

    fn bucket(&self, key: &HostKey) -> Option<&Vec<(HostKey, V)>> {
        match key.host() {
            HostSpec::Exact(host) => self.exact.get(host),
            HostSpec::Wildcard(base) => self.wildcard.get(base),
            HostSpec::Any => Some(&self.any),
        }
    }

    /// Stores a value under a key (by its exact string), returning the value it replaces.
    pub fn insert(&mut self, key: HostKey, value: V) -> Option<V> {
        let bucket = self.bucket_mut(&key);
        if let Some(slot) = bucket.iter_mut().find(|(k, _)| k.as_str() == key.as_str()) {
            return Some(std::mem::replace(&mut slot.1, value));
        }
        let specificity = key.specificity();
        let at = bucket.partition_point(|(k, _)| k.specificity() >= specificity);
        bucket.insert(at, (key, value));
        self.len += 1;
        None
    }

    /// Removes the entry stored under exactly this key string.
    pub fn remove(&mut self, key: &HostKey) -> Option<V> {
        let (map, name) = match key.host() {
            HostSpec::Exact(name) => (&mut self.exact, name),
            HostSpec::Wildcard(name) => (&mut self.wildcard, name),
            HostSpec::Any => {
                let at = self
                    .any
                    .iter()
                    .position(|(k, _)| k.as_str() == key.as_str())?;
                self.len -= 1;
                return Some(self.any.remove(at).1);
            }
        };
        let bucket = map.get_mut(name)?;
        let at = bucket
            .iter()
            .position(|(k, _)| k.as_str() == key.as_str())?;
        let (_, value) = bucket.remove(at);
        if bucket.is_empty() {
            map.remove(name);
        }
        self.len -= 1;
        Some(value)
    }

    /// The entry stored under exactly this key string.
    pub fn get(&self, key: &HostKey) -> Option<&V> {
        self.bucket(key)?
            .iter()
            .find(|(k, _)| k.as_str() == key.as_str())
            .map(|(_, v)| v)
    }

    /// The most specific entry whose key matches the URL.
    pub fn find(&self, target: &UrlTarget<'_>) -> Option<(&HostKey, &V)> {
        let host = target.host();
        if let Some(hit) = first_match(self.exact.get(host), target) {
            return Some(hit);
        }
        if !self.wildcard.is_empty() {
            let mut base = host;
            loop {
                if base.len() <= self.longest_base
                    && let Some(hit) = first_match(self.wildcard.get(base), target)
                {
                    return Some(hit);
                }
                match base.find('.') {
                    Some(dot) => base = &base[dot + 1..],
                    None => break,
                }
            }
        }
        if self.any.is_empty() {
            return None;
        }
        first_match(Some(&self.any), target)
    }

    /// Every entry, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&HostKey, &V)> {
        self.exact
            .values()
            .chain(self.wildcard.values())
            .flatten()
            .chain(&self.any)
            .map(|(k, v)| (k, v))
    }
}

fn first_match<'i, V>(
    bucket: Option<&'i Vec<(HostKey, V)>>,
    target: &UrlTarget<'_>,
) -> Option<(&'i HostKey, &'i V)> {
    bucket?
        .iter()
        .find(|(key, _)| key.matches_besides_host(target))
        .map(|(k, v)| (k, v))
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::CredentialIndex;
    use crate::{HostKey, UrlTarget};

    fn index(keys: &[&str]) -> CredentialIndex<()> {
        let mut index = CredentialIndex::new();
        for key in keys {
            index.insert(HostKey::parse(key).unwrap(), ());
        }
        index
    }

    fn check(keys: &[&str], urls: &[&str]) -> String {
        let index = index(keys);
        let mut out = String::new();
        for url in urls {
            let target = UrlTarget::parse(url).unwrap();
            let found = index.find(&target).map_or("-", |(key, ())| key.as_str());
            writeln!(out, "{url:<44} {found}").unwrap();
        }
        out
    }

    #[test]
    fn most_specific_key_wins() {
        let keys = [
            "*.prefix.dev",
            "*.repo.prefix.dev",
            "repo.prefix.dev",
            "repo.prefix.dev:8443",
            "repo.prefix.dev/channels/private",
            "repo.prefix.dev/channels/private/sub",
            "example.com/a",
            "s3://bucket",
            "s3://bucket/team",
            "http://insecure.test",
        ];
        let urls = [
            "https://prefix.dev/x",
            "https://other.prefix.dev/x",
            "https://deep.repo.prefix.dev/x",
            "https://repo.prefix.dev/x",
            "https://repo.prefix.dev:8443/x",
            "https://repo.prefix.dev/channels/private/pkg",
            "https://repo.prefix.dev/channels/private/sub/pkg",
            "https://repo.prefix.dev/channels/privately",
            "https://xprefix.dev/x",
            "https://prefix.dev.evil.test/x",
            "https://example.com/a/b",
            "https://example.com/b",
            "s3://bucket/team/file",
            "s3://bucket/other/file",
            "http://insecure.test/x",
            "https://insecure.test/x",
        ];
        insta::assert_snapshot!(check(&keys, &urls), @r"
        https://prefix.dev/x                         *.prefix.dev
        https://other.prefix.dev/x                   *.prefix.dev
        https://deep.repo.prefix.dev/x               *.repo.prefix.dev
        https://repo.prefix.dev/x                    repo.prefix.dev
        https://repo.prefix.dev:8443/x               repo.prefix.dev:8443
        https://repo.prefix.dev/channels/private/pkg repo.prefix.dev/channels/private
        https://repo.prefix.dev/channels/private/sub/pkg repo.prefix.dev/channels/private/sub
        https://repo.prefix.dev/channels/privately   repo.prefix.dev
        https://xprefix.dev/x                        -
        https://prefix.dev.evil.test/x               -
        https://example.com/a/b                      example.com/a
        https://example.com/b                        -
        s3://bucket/team/file                        s3://bucket/team
        s3://bucket/other/file                       s3://bucket
        http://insecure.test/x                       http://insecure.test
        https://insecure.test/x                      -
        ");
    }

    #[test]
    fn a_key_for_any_host_answers_last() {
        let mut index = index(&["*.example.com"]);
        index.insert(HostKey::any_host("default"), ());
        let target = UrlTarget::parse("https://a.example.com/").unwrap();
        assert_eq!(index.find(&target).unwrap().0.as_str(), "*.example.com");
        let target = UrlTarget::parse("https://elsewhere.test/").unwrap();
        assert_eq!(index.find(&target).unwrap().0.as_str(), "default");
        let target = UrlTarget::parse("s3://bucket/key").unwrap();
        assert!(index.find(&target).is_none(), "never for s3");
        assert_eq!(index.remove(&HostKey::any_host("default")), Some(()));
        assert_eq!(index.len(), 1);
    }

    #[test]
    fn insert_replaces_and_remove_forgets() {
        let mut index = index(&["a.example.com", "*.example.com"]);
        let key = HostKey::parse("a.example.com").unwrap();
        assert_eq!(index.insert(key.clone(), ()), Some(()));
        assert_eq!(index.len(), 2);
        assert_eq!(index.remove(&key), Some(()));
        assert_eq!(index.remove(&key), None);
        assert_eq!(index.len(), 1);
        let target = UrlTarget::parse("https://a.example.com/").unwrap();
        assert_eq!(index.find(&target).unwrap().0.as_str(), "*.example.com");
    }
}
