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
