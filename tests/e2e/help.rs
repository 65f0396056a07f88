//! `--help` of every command, so a change to the interface shows up in review.

use auth_tests::Sandbox;

fn help(args: &[&str]) -> String {
    let sandbox = Sandbox::new();
    let run = sandbox.run(args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.stdout
}

#[test]
fn top_level_help() {
    insta::assert_snapshot!(help(&["--help"]));
}

#[test]
fn login_help() {
    insta::assert_snapshot!(help(&["login", "--help"]));
}

#[test]
fn logout_help() {
    insta::assert_snapshot!(help(&["logout", "--help"]));
}

#[test]
fn status_help() {
    insta::assert_snapshot!(help(&["status", "--help"]));
}

#[test]
fn token_help() {
    insta::assert_snapshot!(help(&["token", "--help"]));
}

#[test]
fn usage_errors_exit_2() {
    let sandbox = Sandbox::new();
    let run = sandbox.run(&["login"]);
    assert_eq!(run.code, 2);
    insta::assert_snapshot!(sandbox.show(&run), @r"
    exit: 2
    --- stdout
    --- stderr
    error: the following required arguments were not provided:
      <HOST>

    Usage: auth login <HOST>

    For more information, try '--help'.
    ");
    assert_eq!(sandbox.run(&["logout"]).code, 2);
    assert_eq!(sandbox.run(&["logout", "a.example.com", "--all"]).code, 2);
    assert_eq!(sandbox.run(&["status", "-v", "-q"]).code, 2);
}

/// `auth --version` alone is answered before clap is built (`cli::version_only`): the real
/// binary prints clap's line, and a version flag after a subcommand still goes to clap.
#[test]
fn version_alone_is_answered_as_clap_would() {
    let sandbox = Sandbox::new();
    for flag in ["--version", "-V"] {
        let run = sandbox.run(&[flag]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(
            run.stdout,
            concat!("auth ", env!("CARGO_PKG_VERSION"), "\n")
        );
        assert_eq!(run.stderr, "");
    }
    assert_eq!(sandbox.run(&["token", "--version"]).code, 2);
}

/// `crates/auth-cli/build.rs` links `auth` as a position-dependent executable on Linux, so the
/// loader has no relative relocations to apply (docs/performance.md). ELF `e_type` 2 is
/// `ET_EXEC`; a PIE is 3 (`ET_DYN`). A build with `AUTH_PIE=1` fails here on purpose.
#[cfg(target_os = "linux")]
#[test]
fn the_binary_is_position_dependent_on_linux() {
    let bytes = std::fs::read(auth_tests::auth_bin()).expect("read the auth binary");
    assert_eq!(&bytes[..4], b"\x7fELF");
    let e_type = u16::from_le_bytes([bytes[16], bytes[17]]);
    assert_eq!(
        e_type, 2,
        "auth is not an ET_EXEC executable (was it built with AUTH_PIE=1?)"
    );
}

/// `crates/auth-cli/src/libm.rs` defines `pow`, the one libm function the binary calls, so the
/// loader does not map `libm.so.6` in every process (docs/performance.md, "Third pass"). Fails
/// when that file is removed or a dependency starts calling another libm function.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn the_binary_does_not_load_libm() {
    let out = std::process::Command::new("ldd")
        .arg(auth_tests::auth_bin())
        .output()
        .expect("run ldd (Debian's libc-bin)");
    assert!(out.status.success(), "ldd failed: {out:?}");
    let libs = String::from_utf8_lossy(&out.stdout);
    assert!(libs.contains("libc.so.6"), "ldd listed no libc: {libs}");
    assert!(
        !libs.contains("libm.so"),
        "auth needs libm; see which function with \
         `nm -D --undefined-only`, and whether libm.rs should define it too: {libs}"
    );
}
