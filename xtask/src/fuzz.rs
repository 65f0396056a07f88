//! `cargo xtask fuzz --minutes N`: the workspace's proptest properties (tests whose name has
//! `prop` in it), run for N minutes with many cases and a new seed each round.
//!
//! The suite runs each property with a fixed seed and a few hundred cases, so it is quick and
//! never flaky; here `PROPTEST_CASES` makes each run long and `PROPTEST_RNG_SEED` makes each
//! round try new inputs. A failing round stops the task with the command that repeats it.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use crate::cmd::{self, cargo};

/// Cases per property and round unless `--cases` says otherwise.
const DEFAULT_CASES: u64 = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Options {
    pub(crate) minutes: u64,
    pub(crate) cases: u64,
}

/// `--minutes N [--cases N]`.
pub(crate) fn parse(args: &[String]) -> Result<Options> {
    let mut minutes = None;
    let mut cases = DEFAULT_CASES;
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        let value = args.next().map(String::as_str);
        let number = |name: &str| match value.map(str::parse::<u64>) {
            Some(Ok(number)) if number > 0 => Ok(number),
            _ => {
                bail!("{name} takes a whole number above 0, as in `cargo xtask fuzz --minutes 10`")
            }
        };
        match flag.as_str() {
            "--minutes" => minutes = Some(number("--minutes")?),
            "--cases" => cases = number("--cases")?,
            other => bail!("`cargo xtask fuzz` takes --minutes N and --cases N, not `{other}`"),
        }
    }
    let Some(minutes) = minutes else {
        bail!("`cargo xtask fuzz` needs --minutes N, as in `cargo xtask fuzz --minutes 10`");
    };
    Ok(Options { minutes, cases })
}

pub(crate) fn run(options: Options, first_seed: u64) -> Result<()> {
    let Options { minutes, cases } = options;
    // Built before the clock starts: the minutes are for the properties.
    cmd::run(cargo().args(["test", "--workspace", "--release", "--no-run"]))?;
    let deadline = Instant::now() + Duration::from_secs(minutes * 60);
    let mut rounds: BTreeMap<String, u64> = BTreeMap::new();
    for round in 1.. {
        let seed = first_seed.wrapping_add(round);
        eprintln!("fuzz: round {round}, PROPTEST_RNG_SEED={seed}, {cases} cases per property");
        let mut passed = Vec::new();
        let result = cmd::run_watching(
            cargo()
                .args(["test", "--workspace", "--release", "--", "prop"])
                .env("PROPTEST_CASES", cases.to_string())
                .env("PROPTEST_RNG_SEED", seed.to_string()),
            |line| passed.extend(passed_test(line)),
        );
        for name in passed {
            *rounds.entry(name).or_default() += 1;
        }
        if result.is_err() {
            print_summary(&rounds, cases);
            bail!(
                "a property failed in round {round} (its smallest failing input is above); \
                 repeat the round with: PROPTEST_CASES={cases} PROPTEST_RNG_SEED={seed} \
                 cargo test --workspace --release -- prop"
            );
        }
        if rounds.is_empty() {
            bail!("no test with `prop` in its name ran: there is nothing to fuzz");
        }
        if Instant::now() >= deadline {
            break;
        }
    }
    print_summary(&rounds, cases);
    Ok(())
}

/// The name of the test a libtest line says passed: `test store::prop_x ... ok`.
fn passed_test(line: &str) -> Option<String> {
    let name = line.strip_prefix("test ")?.strip_suffix(" ... ok")?;
    Some(name.to_owned())
}

fn print_summary(rounds: &BTreeMap<String, u64>, cases: u64) {
    println!("fuzz: cases run per property (rounds x PROPTEST_CASES={cases}):");
    for (name, count) in rounds {
        println!("  {:>12}  {name} ({count} rounds)", count * cases);
    }
}

#[cfg(test)]
mod tests {
    use super::{Options, parse, passed_test};

    fn args(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn options() {
        assert_eq!(
            parse(&args("--minutes 5")).unwrap(),
            Options {
                minutes: 5,
                cases: 10_000
            }
        );
        assert_eq!(
            parse(&args("--cases 7 --minutes 1")).unwrap(),
            Options {
                minutes: 1,
                cases: 7
            }
        );
        for bad in [
            "",
            "--minutes",
            "--minutes 0",
            "--minutes x",
            "--cases 3",
            "--hours 1",
        ] {
            assert!(parse(&args(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn passed_tests_are_read_from_libtest_lines() {
        assert_eq!(
            passed_test("test properties::prop_keys_round_trip ... ok").as_deref(),
            Some("properties::prop_keys_round_trip")
        );
        assert_eq!(passed_test("test properties::x ... FAILED"), None);
        assert_eq!(passed_test("running 3 tests"), None);
    }
}
