//! Property tests: the host encoding round-trips, and no value ever shows in a problem, a
//! `Debug` print or a listing's keys.

use std::fmt::Write as _;

use auth_core::{CredentialStore, HostKey};
use auth_store_env::{EnvStore, decode_host, encode_host};
use proptest::prelude::*;

use super::map;

/// A DNS label: letters, digits and inner hyphens (doubled hyphens included, as in `xn--`).
fn label() -> impl Strategy<Value = String> {
    "[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?"
}

/// A host name whose last label has a letter (so it is no IPv4 address), or an IPv4 address.
fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        (prop::collection::vec(label(), 0..4), "[a-z][a-z0-9]{0,5}").prop_map(
            |(mut labels, tld)| {
                labels.push(tld);
                labels.join(".")
            }
        ),
        (any::<u8>(), any::<u8>(), any::<u8>(), any::<u8>())
            .prop_map(|(a, b, c, d)| format!("{a}.{b}.{c}.{d}")),
    ]
}

/// A value with anything in it: letters, the characters of encodings, controls, non-ASCII.
fn value() -> impl Strategy<Value = String> {
    "[A-Ya-p0-9+/=:@%_ .\\-\n\r\t\u{1b}é]{1,24}"
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, rng_seed: proptest::test_runner::RngSeed::Fixed(11), ..ProptestConfig::default() })]

    #[test]
    fn encode_then_decode_gives_the_host_back(
        host in host(),
        port in proptest::option::of(1u16..),
        upper in any::<bool>(),
    ) {
        let encoded = encode_host(false, &host, port).unwrap();
        let encoded = if upper { encoded.to_ascii_uppercase() } else { encoded };
        prop_assert!(encoded.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
        let decoded = decode_host(&encoded).unwrap();
        prop_assert_eq!(&decoded.host, &host);
        prop_assert_eq!(decoded.port, port);
        prop_assert!(!decoded.wildcard);
        // The key the store would make is the key `auth login` would be given.
        let key = HostKey::parse(&decoded.key_text()).unwrap();
        prop_assert_eq!(key.canonical().as_str().to_owned(), decoded.key_text());
    }

    #[test]
    fn a_wildcard_round_trips(host in host().prop_filter("not an address", |h| h.parse::<std::net::Ipv4Addr>().is_err())) {
        let encoded = encode_host(true, &host, None).unwrap();
        let decoded = decode_host(&encoded).unwrap();
        prop_assert!(decoded.wildcard);
        prop_assert_eq!(decoded.host, host);
    }

    #[test]
    fn no_value_shows_in_problems_debug_or_keys(
        names in prop::collection::vec(
            prop_oneof![
                "AUTH_TOKEN_[A-Za-z0-9_]{0,12}",
                "AUTH_CONDA_TOKEN_[A-Za-z0-9_]{0,12}",
                "AUTH_(USER|PASS)(NAME|WORD)_[a-z_]{0,8}",
                "TF_TOKEN_[A-Za-z0-9_]{0,12}",
                "UV_INDEX_[A-Z]{1,3}_(USERNAME|PASSWORD)",
                "CARGO_REGISTRIES_[A-Z]{1,3}_(TOKEN|INDEX)",
                Just("GH_TOKEN".to_owned()),
                Just("GH_ENTERPRISE_TOKEN".to_owned()),
                Just("GH_HOST".to_owned()),
            ],
            1..8,
        ),
        values in prop::collection::vec(value(), 8),
    ) {
        // Values are made distinct from every name, reason and other value by markers.
        let vars: Vec<(String, String)> = names
            .iter()
            .zip(values.iter())
            .enumerate()
            .map(|(i, (name, value))| (name.clone(), format!("Zq{i}q{value}q{i}qZ")))
            .collect();
        let pairs: Vec<(&str, &str)> = vars.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let store = EnvStore::from_vars(&map(&pairs));
        let mut shown = format!("{store:?}");
        for problem in store.problems() {
            shown.push_str(&problem.variable);
            shown.push_str(&problem.reason);
        }
        for credential in store.list().unwrap() {
            shown.push_str(credential.key.as_str());
            let _ = write!(shown, "{credential:?}");
        }
        for (name, value) in &vars {
            // A user name is shown (status lists it), a host or URL only in the variables
            // that name one; every other value never.
            if name.contains("USERNAME") || name.ends_with("_INDEX") || name == "GH_HOST" {
                continue;
            }
            let secret = value.trim_end_matches(['\n', '\r']);
            prop_assert!(!shown.contains(secret), "{name}'s value shows in {shown}");
        }
    }
}
