//! Link options of the `auth` binary that make it quick to start and light in memory: a
//! position-dependent executable on Linux, and the functions of its common commands placed side
//! by side (docs/performance.md, "Start-up, memory and size").
//!
//! - **`-no-pie`.** A position-independent `auth` carried 22,000 relative relocations (vtables,
//!   panic locations, string tables): the loader spent 40 % of `auth --version` applying them
//!   and dirtied the relocated data in every process, and git, cargo and docker start the binary
//!   once per operation. The libraries, the heap and the stack stay randomized; only the
//!   executable's own image is at a fixed address, as with Go's default executables on Linux
//!   (gh, docker and its credential helpers). `AUTH_PIE=1` at build time keeps a
//!   position-independent executable for packagers whose policy requires one.
//! - **`--symbol-ordering-file=symbol-order.txt`** (release builds with rustc's own lld, the
//!   default linker of `x86_64-unknown-linux-gnu`): the list `cargo xtask symbol-order` makes.
//!   A name the build does not have is skipped silently, so a stale list only costs memory.
//!   `AUTH_SYMBOL_ORDER=0` leaves it out.
//! - **`AUTH_LINK_MAP=PATH`** writes lld's link map there, with mangled names: what
//!   `cargo xtask symbol-order` reads.

#[allow(
    clippy::disallowed_methods,
    reason = "a build script learns its target and options from cargo's environment"
)]
fn main() {
    for var in [
        "AUTH_PIE",
        "AUTH_SYMBOL_ORDER",
        "AUTH_LINK_MAP",
        "RUSTC_LINKER",
    ] {
        println!("cargo::rerun-if-env-changed={var}");
    }
    println!("cargo::rerun-if-changed=symbol-order.txt");
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let linux = var("CARGO_CFG_TARGET_OS") == "linux";
    if linux && var("AUTH_PIE") != "1" {
        println!("cargo::rustc-link-arg-bin=auth=-no-pie");
    }

    // rustc links x86_64-unknown-linux-gnu with its own lld unless told otherwise; GNU ld knows
    // neither option below, so they are passed only when nothing names another linker (any
    // rustflag mentioning "link" counts: the options only save memory, so when in doubt, not).
    let own_lld = var("TARGET") == "x86_64-unknown-linux-gnu"
        && std::env::var_os("RUSTC_LINKER").is_none()
        && !var("CARGO_ENCODED_RUSTFLAGS").contains("link");
    if !own_lld {
        return;
    }
    if let Ok(map) = std::env::var("AUTH_LINK_MAP") {
        println!("cargo::rustc-link-arg-bin=auth=-Wl,-Map={map},--no-demangle");
    }
    if var("PROFILE") == "release" && var("AUTH_SYMBOL_ORDER") != "0" {
        let order = std::path::Path::new(&var("CARGO_MANIFEST_DIR")).join("symbol-order.txt");
        if order.is_file() {
            println!(
                "cargo::rustc-link-arg-bin=auth=-Wl,--symbol-ordering-file={},--no-warn-symbol-ordering",
                order.display()
            );
        }
    }
}
