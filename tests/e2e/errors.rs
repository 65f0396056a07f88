//! What a user reads when something is wrong: what failed, for which host or file, what to run.

use std::fmt::Write as _;

use auth_tests::Sandbox;

#[test]
fn errors_say_what_to_do() {
    let sandbox = Sandbox::new();
    let cases: &[&[&str]] = &[
        &["login", "example.com"],
        &["login", "example.com", "--token", "a", "--conda-token", "b"],
        &["login", "example.com", "--password", "p"],
        &["login", "example.com", "--username", "u"],
        &[
            "login",
            "example.com",
            "--s3-access-key-id",
            "AK",
            "--s3-secret-access-key",
            "SK",
        ],
        &["login", "s3://bucket", "--token", "t"],
        &["login", "*.co.uk", "--token", "t"],
        &["login", "ftp://example.com", "--token", "t"],
        &["login", "example.com", "--token", "-"],
        &["token", "example.com"],
        &["token", "https://user:hunter2@example.com/t/c0nda-s3cr3t/x"],
        &["logout", "example.com"],
        &["status"],
        &["logout", "--all"],
    ];
    let mut shown = String::new();
    for args in cases {
        let run = sandbox.run(args);
        assert!(
            !run.all_output().contains("hunter2") && !run.all_output().contains("c0nda-s3cr3t"),
            "{args:?}: {run:?}"
        );
        // The command line is ours, not output; mask its secrets so a grep of snapshots stays clean.
        let command = args
            .join(" ")
            .replace("hunter2", "[SECRET]")
            .replace("c0nda-s3cr3t", "[SECRET]");
        writeln!(shown, "$ auth {command}\n{}", sandbox.show(&run).trim_end()).unwrap();
    }
    insta::assert_snapshot!(shown);
}

#[test]
fn color_follows_the_flag() {
    let sandbox = Sandbox::new();
    let always = sandbox.run(&["--color", "always", "token", "example.com"]);
    assert!(always.stderr.contains("\u{1b}["), "{:?}", always.stderr);
    let never = sandbox.run(&["--color", "never", "token", "example.com"]);
    assert!(!never.stderr.contains('\u{1b}'));
    // `auto` never colors a pipe, and NO_COLOR keeps it that way.
    let mut auto = sandbox.command(&["token", "example.com"]);
    auto.env("NO_COLOR", "1");
    assert!(!sandbox.run_command(auto, None).stderr.contains('\u{1b}'));
}
