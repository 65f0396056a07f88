//! Properties of the parser and the store, over arbitrary bytes and over generated text that is
//! almost a `.netrc`: nothing panics, and no error or log line (at any level) quotes a password,
//! account or login of the file. A fixed seed and 256 cases in the normal suite; `cargo xtask
//! fuzz` runs them longer (`PROPTEST_CASES`, and `PROPTEST_RNG_SEED` for another seed).

use std::io;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use auth_core::CredentialStore as _;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

use crate::parse;
use crate::store::NetrcStore;

/// The suite's config: proptest's defaults (which read `PROPTEST_CASES`), a fixed seed unless
/// `PROPTEST_RNG_SEED` gives one, and no failure files written into the source tree.
fn config() -> Config {
    let mut config = Config::default();
    if config.rng_seed == RngSeed::Random {
        config.rng_seed = RngSeed::Fixed(0x0e7_4c00);
    }
    config.failure_persistence = None;
    config
}

/// A log sink for one case: every event, at every level, as text.
#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Everything the store says about this input: its error (`Display` and `Debug`), its own
/// `Debug`, and every log event of opening and listing it. The `Debug` of the credentials it
/// read shows their user names, as `auth status` does, and is checked for passwords apart.
fn everything_said(bytes: &[u8]) -> String {
    let sink = Sink::default();
    let writer = sink.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let mut said = tracing::subscriber::with_default(subscriber, || {
        match NetrcStore::from_bytes(PathBuf::from("netrc-under-test"), bytes.to_vec()) {
            Ok(store) => {
                let listed = format!("{:?}", store.list().unwrap());
                for password in passwords(bytes) {
                    assert!(!listed.contains(&password), "{password:?} is in {listed}");
                }
                format!("{store:?}")
            }
            Err(err) => format!("{err} {err:?}"),
        }
    });
    said.push_str(&String::from_utf8_lossy(&sink.0.lock().unwrap()));
    said
}

/// The values the parser reads as a login, account or password: what must never be said. A
/// value that is also one of the file's machine names may be said as that, and one that is a
/// piece of our own wording ("password" read as a login, say) proves nothing.
fn read_secrets(text: &str) -> Vec<String> {
    const WORDING: &str = "skipped a .netrc entry: it has no password; its machine name is not a \
                           plain host name (a wildcard, scheme, user, port or path) NetrcStore \
                           path netrc-under-test entries machine line Credential key auth \
                           BasicHTTP username password Secret(<redacted>) default";
    let Ok(entries) = parse::parse(text) else {
        return Vec::new();
    };
    let machines: Vec<&str> = entries
        .iter()
        .filter_map(|e| e.machine.as_deref())
        .collect();
    entries
        .iter()
        .flat_map(|e| [&e.login, &e.account, &e.password])
        .flatten()
        .filter(|value| value.chars().count() >= 6)
        .filter(|value| !WORDING.contains(value.as_str()))
        .filter(|value| !machines.iter().any(|m| m.contains(value.as_str())))
        .cloned()
        .collect()
}

/// The passwords the parser reads, of six characters or more.
fn passwords(bytes: &[u8]) -> Vec<String> {
    let Some(entries) = std::str::from_utf8(bytes)
        .ok()
        .and_then(|text| parse::parse(text).ok())
    else {
        return Vec::new();
    };
    // A password that is also a user or machine name may be shown as that.
    let names: Vec<&str> = entries
        .iter()
        .flat_map(|e| [&e.login, &e.machine])
        .filter_map(Option::as_deref)
        .collect();
    entries
        .iter()
        .filter_map(|e| e.password.clone())
        .filter(|password| password.chars().count() >= 6)
        .filter(|password| !names.iter().any(|name| name.contains(password.as_str())))
        .collect()
}

fn assert_unsaid(said: &str, secrets: &[String]) -> Result<(), TestCaseError> {
    for secret in secrets {
        prop_assert!(
            !said.contains(secret.as_str()),
            "{secret:?} was said in: {said}"
        );
    }
    Ok(())
}

/// A secret as the generator writes it: no message of ours has six capitals and digits in a row.
fn core() -> impl Strategy<Value = String> {
    "[A-Z][A-Z0-9]{5,9}"
}

fn space() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just(" "),
        Just("\t"),
        Just("\n"),
        Just("\r\n"),
        Just("  \n\n "),
        Just("\u{b}"),
        Just("\u{c}"),
        Just("\n   \n"),
    ]
}

fn keyword(words: &'static [&'static str]) -> impl Strategy<Value = String> {
    (prop::sample::select(words), any::<bool>()).prop_map(|(word, upper)| {
        if upper {
            word.to_uppercase()
        } else {
            word.to_owned()
        }
    })
}

/// A value holding the secret `core`, written in one of the ways a file may write it.
fn value(core: &str) -> impl Strategy<Value = String> + use<> {
    prop_oneof![
        Just(core.to_owned()),
        Just(format!("\"{core}\"")),
        Just(format!("\"{core} with space\"")),
        Just(format!("\"{core}\\\" \\n\\t\\\\\"")),
        Just(format!("\\\"{core}")),
        Just(format!("#{core}")),
        Just(format!("{core}\\")),
        Just(format!("{core}é\u{a0}x")),
        // Unquoted with a space: the second half stands where a keyword is expected.
        Just(format!("{core} {core}Z")),
        // Never closed.
        Just(format!("\"{core}")),
    ]
}

fn host(core: &str) -> impl Strategy<Value = String> + use<> {
    prop_oneof![
        Just("h.example".to_owned()),
        Just("Mirror.Example.".to_owned()),
        Just("*.dev".to_owned()),
        Just("h.example:8443".to_owned()),
        Just("127.0.0.1".to_owned()),
        Just("[::1]".to_owned()),
        Just("xn--bcher-kva.example".to_owned()),
        // A machine written as a URL with a password in it: the name is never logged.
        Just(format!("https://u:{core}@s.example/x")),
        Just(format!("u:{core}@h.example")),
        Just(format!("\"{core}@q.example\"")),
    ]
}

/// One piece of a file, and the secrets written in it.
fn piece() -> impl Strategy<Value = (String, Vec<String>)> {
    let field = (
        keyword(&["login", "user", "password", "account"]),
        space(),
        core().prop_flat_map(|core| (value(&core), Just(core))),
    )
        .prop_map(|(keyword, space, (value, core))| (format!("{keyword}{space}{value}"), core));
    let fields = prop::collection::vec((space(), field), 0..4);
    let entry = (
        prop_oneof![
            core()
                .prop_flat_map(|core| (keyword(&["machine"]), space(), host(&core), Just(core)))
                .prop_map(|(kw, space, host, core)| (format!("{kw}{space}{host}"), vec![core])),
            keyword(&["default"]).prop_map(|kw| (kw, Vec::new())),
        ],
        fields,
    )
        .prop_map(|((mut text, mut secrets), fields)| {
            for (space, (field, core)) in fields {
                text.push_str(space);
                text.push_str(&field);
                secrets.push(core);
            }
            (text, secrets)
        });
    prop_oneof![
        4 => entry,
        1 => (core(), prop::collection::vec("[ -~]{0,12}", 0..3), any::<bool>()).prop_map(
            |(core, lines, closed)| {
                let body: String = lines.iter().flat_map(|line| [line.as_str(), "\n"]).collect();
                let end = if closed { "\n" } else { "" };
                (format!("macdef m\n{core}\n{body}{end}"), vec![core])
            }
        ),
        1 => core().prop_map(|core| (format!("# {core} machine x password {core}\n"), vec![core])),
        1 => core().prop_map(|core| (core.clone(), vec![core])),
        1 => core().prop_map(|core| (format!("\"{core}"), vec![core])),
        1 => Just(("\\".to_owned(), Vec::new())),
        1 => Just(("#".to_owned(), Vec::new())),
        1 => Just(("\"\"".to_owned(), Vec::new())),
    ]
}

/// Text that is almost a `.netrc`: entries, fields in any order and case, odd whitespace,
/// comments, macros, stray words and quotes, with the secrets written in it.
fn near_netrc() -> impl Strategy<Value = (String, Vec<String>)> {
    prop::collection::vec((space(), piece()), 0..10).prop_map(|pieces| {
        let mut text = String::new();
        let mut secrets = Vec::new();
        for (space, (piece, cores)) in pieces {
            text.push_str(space);
            text.push_str(&piece);
            secrets.extend(cores);
        }
        (text, secrets)
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_never_panic_and_no_secret_is_said(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let said = everything_said(&bytes);
        let secrets = std::str::from_utf8(&bytes).map(read_secrets).unwrap_or_default();
        assert_unsaid(&said, &secrets)?;
    }

    #[test]
    fn arbitrary_text_never_panics_and_no_secret_is_said(text in "(?s).{0,300}") {
        let said = everything_said(text.as_bytes());
        assert_unsaid(&said, &read_secrets(&text))?;
    }

    #[test]
    fn near_netrc_text_never_panics_and_no_secret_is_said((text, written) in near_netrc()) {
        let said = everything_said(text.as_bytes());
        // A secret the parser reads as a machine name is one; any other is never said.
        let machines: Vec<String> = parse::parse(&text)
            .map(|entries| entries.into_iter().filter_map(|e| e.machine).collect())
            .unwrap_or_default();
        let secrets: Vec<String> = written
            .into_iter()
            .filter(|core| !machines.iter().any(|m| m == core))
            .chain(read_secrets(&text))
            .collect();
        assert_unsaid(&said, &secrets)?;
    }
}
