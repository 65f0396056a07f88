//! Properties, run with a fixed seed and 256 cases in the normal suite; `cargo xtask fuzz` runs
//! them longer (`PROPTEST_CASES`, and `PROPTEST_RNG_SEED` for another seed).

use auth_core::{CredentialIndex, HostKey, HostSpec, SafeUrl, UrlTarget, redact_url};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

/// The suite's config: proptest's defaults (which read `PROPTEST_CASES`), a fixed seed unless
/// `PROPTEST_RNG_SEED` gives one, and no failure files written into the source tree.
fn config() -> Config {
    let mut config = Config::default();
    if config.rng_seed == RngSeed::Random {
        config.rng_seed = RngSeed::Fixed(0x00a7_1105);
    }
    config.failure_persistence = None;
    config
}

fn label() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z0-9]{0,6}",
        "[a-z]{1,3}-[a-z]{1,3}",
        Just("xn--bcher-kva".to_owned()),
        Just("prefix".to_owned()),
        Just("dev".to_owned()),
    ]
}

/// A registrable-looking domain: two or three labels under a real suffix.
fn domain() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(label(), 1..3),
        prop_oneof![Just("com"), Just("dev"), Just("co.uk"), Just("org")],
    )
        .prop_map(|(labels, suffix)| format!("{}.{suffix}", labels.join(".")))
}

/// A stored key for `domain`, as users and pixi write them: odd case, schemes, ports, paths.
fn key_text(domain: String) -> impl Strategy<Value = String> {
    (
        prop_oneof![
            Just(""),
            Just("https://"),
            Just("HTTPS://"),
            Just("http://"),
            Just("Http://")
        ],
        any::<bool>(),
        prop_oneof![
            Just(String::new()),
            Just(":8443".to_owned()),
            Just(":80".to_owned())
        ],
        prop_oneof![
            Just(String::new()),
            Just("/org".to_owned()),
            Just("/org/sub/".to_owned())
        ],
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(move |(scheme, wildcard, port, path, upper, trailing_dot)| {
            let host = if upper {
                domain.to_uppercase()
            } else {
                domain.clone()
            };
            let dot = if trailing_dot { "." } else { "" };
            let star = if wildcard { "*." } else { "" };
            format!("{scheme}{star}{host}{dot}{port}{path}")
        })
}

/// A request URL aimed at `domain` or at something that only looks like it.
fn url_near(domain: &str) -> impl Strategy<Value = String> + use<> {
    let tricks = vec![
        format!("https://{domain}/org/x"),
        format!("https://repo.{domain}/org/sub/file"),
        format!("http://{domain}:8443/org"),
        format!("https://{domain}./org"),
        format!("HTTPS://{}/ORG", domain.to_uppercase()),
        format!("https://evil-{domain}/org"),
        format!("https://x{domain}/org"),
        format!("https://{domain}.evil.test/org"),
        format!("https://{domain}@evil.test/org"),
        format!("https://user:pw@evil.test/{domain}"),
        format!("https://evil.test#@{domain}/org"),
        format!("https://evil.test?@{domain}/org"),
        format!("https://evil.test\\@{domain}/org"),
        format!("https://evil.test\\.{domain}/org"),
        format!("https://evil.test%2e{domain}/org"),
        format!("https://{domain}%2eevil.test/org"),
        format!("https://{domain}:443/orgx"),
        format!("https://{domain}/org/../other"),
        format!("https://{domain}/%6Frg/x"),
        format!("s3://{domain}/org/key"),
    ];
    prop::sample::select(tricks)
}

/// The host a WHATWG client connects to, from the `url` crate: the oracle.
fn real_host(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    let host = parsed.host_str()?.trim_end_matches('.').to_owned();
    Some(host)
}

proptest! {
    #![proptest_config(config())]

    /// Parse, print canonically, parse again: the same key, matching the same way.
    #[test]
    fn prop_host_key_round_trips(text in domain().prop_flat_map(key_text)) {
        // A generated wildcard can land on a public suffix (`*.br.com`), which is refused.
        let Ok(key) = HostKey::parse(&text) else { return Ok(()) };
        let canonical = key.canonical();
        let again = HostKey::parse(canonical.as_str()).unwrap();
        let twice = again.canonical();
        prop_assert_eq!(twice.as_str(), canonical.as_str());
        prop_assert_eq!(again.host(), key.host());
        prop_assert_eq!(again.scheme(), key.scheme());
        prop_assert_eq!(again.specificity(), key.specificity());
    }

    /// A key never matches a URL whose real host (as a WHATWG parser reads it) it does not cover,
    /// and an exact or wildcard key without port or path matches every https URL it covers.
    #[test]
    fn prop_a_key_matches_only_hosts_it_covers(
        (text, url) in domain().prop_flat_map(|d| (key_text(d.clone()), url_near(&d)))
    ) {
        let Ok(key) = HostKey::parse(&text) else { return Ok(()) };
        let Ok(target) = UrlTarget::parse(&url) else { return Ok(()) };
        let host = if url.starts_with("s3://") {
            Some(target.host().to_owned())
        } else {
            real_host(&url)
        };
        let Some(host) = host else { return Ok(()) };
        prop_assert_eq!(target.host(), host.as_str(), "UrlTarget and the WHATWG parser disagree on {}", url);
        let covered = match key.host() {
            HostSpec::Exact(exact) => host == **exact,
            HostSpec::Wildcard(base) => host == **base || host.ends_with(&format!(".{base}")),
            HostSpec::Any => true,
        };
        if key.matches(&target) {
            prop_assert!(covered, "{} matched {} (host {})", text, url, host);
        }
    }

    /// The index finds what a linear scan for the most specific matching key finds.
    #[test]
    fn prop_the_index_agrees_with_a_linear_scan(
        (keys, url) in domain().prop_flat_map(|d| {
            (prop::collection::vec(key_text(d.clone()), 1..8), url_near(&d))
        })
    ) {
        let keys: Vec<HostKey> = keys.iter().filter_map(|k| HostKey::parse(k).ok()).collect();
        let mut index = CredentialIndex::new();
        for key in &keys {
            index.insert(key.clone(), ());
        }
        let Ok(target) = UrlTarget::parse(&url) else { return Ok(()) };
        // The index holds one entry per distinct key string; among equals the later insert wins.
        let best = keys
            .iter()
            .filter(|key| key.matches(&target))
            .map(HostKey::specificity)
            .max();
        let found = index.find(&target).map(|(key, ())| key.specificity());
        prop_assert_eq!(found, best, "{:?} for {}", keys, url);
    }

    /// No redaction shows the password, a lone user name, a conda token or a query value, whether
    /// or not the text parses as a URL.
    #[test]
    fn prop_redaction_never_shows_userinfo(
        scheme in prop_oneof![Just("https://"), Just("http://"), Just("s3://"), Just("HTTPS://"), Just("")],
        user in "[a-z]{0,5}",
        password in "[a-zA-Z0-9@:#/?%&=\\\\ \\[\\]!$'()*+,;.~-]{1,12}",
        host in prop_oneof![Just("host.example"), Just("127.0.0.1:8080"), Just("[::1"), Just("[::1]")],
        path in prop_oneof![Just(""), Just("/x"), Just("/t/"), Just("/a/t/")],
        query in prop_oneof![Just(""), Just("?token="), Just("?a=1&b="), Just("#frag=")],
        lone_user in any::<bool>(),
    ) {
        // A marker no other part of the text contains, so any sign of it is a leak.
        let secret = format!("QZ{password}");
        let userinfo = if lone_user { secret.clone() } else { format!("{user}:{secret}") };
        let tail = match (path, query) {
            // A conda token is one path segment (the middleware percent-encodes a `/` in it).
            ("/t/" | "/a/t/", _) => format!("{path}{}/rest", secret.replace(['/', '\\', '?', '#'], "-")),
            (_, "") => path.to_owned(),
            _ => format!("{path}{query}{secret}"),
        };
        for text in [format!("{scheme}{userinfo}@{host}{tail}"), format!("{scheme}{host}{tail}")] {
            let shown = redact_url(&text);
            prop_assert!(!shown.contains("QZ"), "{} -> {}", text, shown);
            prop_assert!(!shown.contains("qz") && !shown.contains("%51Z"), "{} -> {}", text, shown);
            prop_assert_eq!(SafeUrl::new(&text).to_string(), shown);
        }
    }
}
