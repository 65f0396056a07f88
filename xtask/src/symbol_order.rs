//! `cargo xtask symbol-order`: writes `crates/auth-cli/symbol-order.txt`, the functions that the
//! commands git, cargo and docker start `auth` for actually run, so the linker places them side
//! by side (docs/performance.md, "Start-up, memory and size").
//!
//! The kernel maps a program's code in 64 kB windows around each page it touches. Laid out in
//! the order of the crates, the few hundred functions a lookup runs are spread over most of the
//! 11 MB of code, and a `token` process had 3.4 MB of it resident. Listed in this file, lld
//! puts them first, in one stretch.
//!
//! How the list is made: the release binary is linked once more with a link map
//! (`AUTH_LINK_MAP`, see `crates/auth-cli/build.rs`), each command below runs under
//! `valgrind --tool=callgrind`, and every instruction address callgrind saw is looked up in the
//! map. The list holds the first command's functions first, then what each later one adds.
//! The names are the linker's mangled ones: they change when a dependency or the compiler does,
//! and a name that no longer exists is skipped, so a stale list costs speed, never correctness.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context as _, Result, bail};

use crate::cmd::{self, cargo};

/// The file `crates/auth-cli/build.rs` hands to the linker.
fn order_file() -> PathBuf {
    cmd::root().join("crates/auth-cli/symbol-order.txt")
}

/// One command to profile: its arguments and what it reads on stdin.
struct Workload {
    args: Vec<String>,
    stdin: &'static str,
}

/// The commands that run once per operation of another tool, on a file store of 1,000 entries.
fn workloads(file: &Path) -> Vec<Workload> {
    let file = file.display().to_string();
    let with_file = |rest: &[&str], stdin: &'static str| Workload {
        args: ["--auth-file", file.as_str()]
            .iter()
            .chain(rest)
            .map(|arg| (*arg).to_owned())
            .collect(),
        stdin,
    };
    vec![
        Workload {
            args: vec!["--version".to_owned()],
            stdin: "",
        },
        with_file(&["token", "host500.example.com"], ""),
        with_file(&["token", "https://host20.example.com/sub/dir/file"], ""),
        with_file(&["token", "not-stored.example.org"], ""),
        with_file(&["status"], ""),
        with_file(
            &["helper", "git", "get"],
            "protocol=https\nhost=host500.example.com\n\n",
        ),
        with_file(&["helper", "docker", "get"], "host500.example.com\n"),
        with_file(&["helper", "docker", "list"], ""),
    ]
}

/// A credentials file of `count` entries: exact hosts, wildcards and path-scoped keys.
fn credentials(count: usize) -> String {
    let mut text = String::from("{\n");
    for i in 0..count {
        let key = match i % 20 {
            7 => format!("*.wild{i}.example.com"),
            0 => format!("host{i}.example.com/sub"),
            _ => format!("host{i}.example.com"),
        };
        let comma = if i + 1 == count { "" } else { "," };
        let _ = writeln!(
            text,
            "  \"{key}\": {{ \"BearerToken\": \"token-{i:04}-0123456789abcdef\" }}{comma}"
        );
    }
    text.push('}');
    text
}

pub(crate) fn run() -> Result<()> {
    let dir = cmd::root().join("target/symbol-order");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("remove {}", dir.display()))?;
    }
    let home = dir.join("home");
    std::fs::create_dir_all(&home).with_context(|| format!("create {}", home.display()))?;
    let map = dir.join("auth.map");
    cmd::run(
        cargo()
            .args(["build", "--release", "-p", "auth-cli"])
            .env("AUTH_LINK_MAP", &map),
    )?;
    let binary = cmd::root().join(format!(
        "target/release/auth{}",
        std::env::consts::EXE_SUFFIX
    ));
    let symbols = TextSymbols::read(&map)?;

    let file = dir.join("credentials.json");
    std::fs::write(&file, credentials(1000)).context("write the credentials file")?;
    set_private(&file)?;
    let mut profiles = Vec::new();
    for (i, workload) in workloads(&file).iter().enumerate() {
        let profile = dir.join(format!("callgrind.{i}"));
        profile_one(&binary, workload, &home, &profile)?;
        profiles.push(
            std::fs::read_to_string(&profile)
                .with_context(|| format!("read {}", profile.display()))?,
        );
    }
    let executed = in_workload_order(&symbols, &profiles);
    if executed.is_empty() {
        bail!(
            "callgrind saw none of auth's functions: is {} stripped of its map?",
            map.display()
        );
    }

    let previous: HashSet<String> = std::fs::read_to_string(order_file())
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect();
    let kept = executed
        .iter()
        .filter(|name| previous.contains(**name))
        .count();
    let mut out = String::new();
    for name in &executed {
        out.push_str(name);
        out.push('\n');
    }
    std::fs::write(order_file(), out)
        .with_context(|| format!("write {}", order_file().display()))?;
    println!(
        "{}: {} functions ({kept} of them were in the previous list); \
         rebuild with `cargo build --release -p auth-cli` to use it",
        order_file().display(),
        executed.len()
    );
    Ok(())
}

/// The functions the profiles ran, each once, for the linker (which keeps the file's order):
/// the first profile's functions first, then what each later one adds, so that the commonest
/// commands (`--version`, `token`) touch one short stretch; within one profile in address order,
/// since functions that call each other were already near each other.
fn in_workload_order<'a>(symbols: &'a TextSymbols, profiles: &[String]) -> Vec<&'a str> {
    let mut seen = HashSet::new();
    let mut executed = Vec::new();
    for profile in profiles {
        let mut added = BTreeMap::new();
        for address in hex_addresses(profile) {
            if let Some((start, name)) = symbols.containing(address)
                && seen.insert(start)
            {
                added.insert(start, name);
            }
        }
        executed.extend(added.into_values());
    }
    executed
}

/// Runs `workload` under callgrind, writing its profile to `out`; its exit code is the
/// command's business (a lookup of a host that is not stored exits 4).
fn profile_one(binary: &Path, workload: &Workload, home: &Path, out: &Path) -> Result<()> {
    let mut command = Command::new("valgrind");
    command
        .arg("--tool=callgrind")
        // Every executed instruction's address, written out in full: without symbols, callgrind
        // counts a function entered by a jump (a tail call) as the caller, and would hide it.
        .args(["--dump-instr=yes", "--compress-pos=no"])
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(binary)
        .args(&workload.args)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env_remove("RATTLER_AUTH_FILE")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = command
        .spawn()
        .context("could not start valgrind (Debian package `valgrind`)")?;
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().context("valgrind's stdin")?;
        stdin
            .write_all(workload.stdin.as_bytes())
            .context("write to the command's stdin")?;
    }
    child.wait().context("wait for valgrind")?;
    if !out.exists() {
        bail!(
            "valgrind wrote no profile for `auth {}`",
            workload.args.join(" ")
        );
    }
    Ok(())
}

#[cfg(unix)]
fn set_private(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("chmod {}", path.display()))
}

#[cfg(not(unix))]
fn set_private(_: &Path) -> Result<()> {
    Ok(())
}

/// Every `0x…` address in a callgrind profile: a stripped binary's functions are named by
/// their address there.
fn hex_addresses(text: &str) -> impl Iterator<Item = u64> + '_ {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter_map(|word| word.strip_prefix("0x"))
        .filter_map(|digits| u64::from_str_radix(digits, 16).ok())
}

/// The symbols of the `.text` output section in an lld link map, by address.
struct TextSymbols {
    starts: Vec<u64>,
    names: Vec<String>,
    end: u64,
}

impl TextSymbols {
    /// Reads lld's map: `VMA LMA Size Align` then the name, indented by one space for an output
    /// section, nine for an input section and seventeen for a symbol.
    fn read(map: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(map).with_context(|| format!("read {}", map.display()))?;
        let mut in_text = false;
        let mut end = 0;
        let mut symbols = Vec::new();
        for line in text.lines() {
            let Some((address, size, indent, name)) = map_line(line) else {
                continue;
            };
            match indent {
                0 => {
                    in_text = name == ".text";
                    if in_text {
                        end = address + size;
                    }
                }
                16.. if in_text => symbols.push((address, name.to_owned())),
                _ => {}
            }
        }
        if symbols.is_empty() {
            bail!("{} lists no symbols in .text", map.display());
        }
        symbols.sort();
        let (starts, names) = symbols.into_iter().unzip();
        Ok(Self { starts, names, end })
    }

    /// The symbol whose code holds `address`, with its start.
    fn containing(&self, address: u64) -> Option<(u64, &str)> {
        if address >= self.end {
            return None;
        }
        let index = self.starts.partition_point(|start| *start <= address);
        let index = index.checked_sub(1)?;
        Some((self.starts[index], &self.names[index]))
    }
}

/// `(address, size, indentation after the Align column, name)` of one map line.
fn map_line(line: &str) -> Option<(u64, u64, usize, &str)> {
    let mut rest = line;
    let mut fields = [0_u64; 4];
    for (i, field) in fields.iter_mut().enumerate() {
        let trimmed = rest.trim_start();
        let word_end = trimmed.find(' ')?;
        let word = &trimmed[..word_end];
        *field = if i == 3 {
            word.parse().ok()?
        } else {
            u64::from_str_radix(word, 16).ok()?
        };
        rest = &trimmed[word_end + 1..];
    }
    let name = rest.trim_start();
    Some((fields[0], fields[2], rest.len() - name.len(), name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_lines_give_address_size_depth_and_name() {
        let output = "          462380           462380   ad939c    64 .text";
        let input = "          462380           462380       31    16         /x/crt1.o:(.text)";
        let symbol = "          4623b0           4623b0        1     1                 _ZN4auth4main17h0123456789abcdefE";
        assert_eq!(map_line(output), Some((0x46_2380, 0xad_939c, 0, ".text")));
        assert_eq!(map_line(input).map(|l| l.2), Some(8));
        assert_eq!(
            map_line(symbol),
            Some((0x46_23b0, 1, 16, "_ZN4auth4main17h0123456789abcdefE"))
        );
        assert_eq!(
            map_line("             VMA              LMA     Size Align Out"),
            None
        );
    }

    #[test]
    fn an_address_belongs_to_the_symbol_before_it_inside_text() {
        let symbols = TextSymbols {
            starts: vec![0x100, 0x200],
            names: vec!["a".to_owned(), "b".to_owned()],
            end: 0x300,
        };
        assert_eq!(symbols.containing(0x0ff), None);
        assert_eq!(symbols.containing(0x100), Some((0x100, "a")));
        assert_eq!(symbols.containing(0x1ff), Some((0x100, "a")));
        assert_eq!(symbols.containing(0x2ff), Some((0x200, "b")));
        assert_eq!(symbols.containing(0x300), None);
    }

    #[test]
    fn functions_come_in_workload_order_then_address_order_each_once() {
        let symbols = TextSymbols {
            starts: vec![0x100, 0x200, 0x300, 0x400],
            names: ["a", "b", "c", "d"].map(str::to_owned).to_vec(),
            end: 0x500,
        };
        let profiles = [
            "fn=(1) 0x300\n0x304 1\nfn=(2) 0x200\n".to_owned(),
            "fn=(1) 0x100\n0x304 1\n0x410 2\n0x900 1\n".to_owned(),
        ];
        assert_eq!(
            in_workload_order(&symbols, &profiles),
            vec!["b", "c", "a", "d"]
        );
    }

    #[test]
    fn addresses_are_found_in_callgrind_names() {
        let text =
            "fn=(12) 0x0000000000462380\n0x462384 3\ncfn=(13) 0x00000000004623b0 'x'\ncalls=1 0\n";
        assert_eq!(
            hex_addresses(text).collect::<Vec<_>>(),
            vec![0x46_2380, 0x46_2384, 0x46_23b0]
        );
    }
}
