//! `.netrc`: read as the last store of the default chain, never written.

use std::fs;

use auth_tests::Sandbox;

const NETRC: &str = "\
# A comment, then a machine whose password has a quote and a space.
machine repo.example.com login alice password \"netrc pw\\\"1\"
machine other.example.com
  login bob
  password netrc-pw-2
default login anonymous password netrc-default-pw
";

fn with_netrc() -> Sandbox {
    let sandbox = Sandbox::new();
    fs::write(sandbox.home().join(".netrc"), NETRC).unwrap();
    sandbox
}

#[test]
fn netrc_entries_answer_and_status_lists_them() {
    let sandbox = with_netrc();
    assert_eq!(
        sandbox
            .run(&["token", "https://repo.example.com/simple/"])
            .stdout,
        "netrc pw\"1\n"
    );
    assert_eq!(
        sandbox.run(&["token", "other.example.com"]).stdout,
        "netrc-pw-2\n"
    );
    // `default` answers any other host, as curl does ...
    assert_eq!(
        sandbox.run(&["token", "anywhere.test"]).stdout,
        "netrc-default-pw\n"
    );
    // ... but never over a key of a store that names the host.
    assert_eq!(
        sandbox
            .run(&["login", "anywhere.test", "--token", "from-the-file"])
            .code,
        0
    );
    assert_eq!(
        sandbox.run(&["token", "anywhere.test"]).stdout,
        "from-the-file\n"
    );
    let status = sandbox.run(&["status"]);
    insta::assert_snapshot!(sandbox.show(&status), @r"
    exit: 0
    --- stdout
    KEY                KIND                   STORE  EXPIRES
    anywhere.test      BearerToken            file   -
    default            BasicHTTP (anonymous)  netrc  -
    other.example.com  BasicHTTP (bob)        netrc  -
    repo.example.com   BasicHTTP (alice)      netrc  -

    keyring: unavailable: cannot reach the Secret Service on the D-Bus session bus (zbus error: Failed to connect to address `unix:path=[HOME]/no-session-bus`: No such file or directory (os error 2))
    file: [HOME]/.rattler/credentials.json
    netrc: [HOME]/.netrc
    --- stderr
    ");
    assert!(
        !status.all_output().contains("netrc pw") && !status.all_output().contains("netrc-pw-2")
    );
}

#[test]
fn netrc_is_never_written_and_logout_says_where_the_credential_is() {
    let sandbox = with_netrc();
    let logout = sandbox.run(&["logout", "repo.example.com"]);
    assert_eq!(logout.code, 1, "{logout:?}");
    insta::assert_snapshot!(sandbox.show(&logout), @r"
    exit: 1
    --- stdout
    --- stderr
    error: the credentials for repo.example.com come from the .netrc file [HOME]/.netrc, which auth only reads; remove them from that file
    ");
    assert_eq!(
        fs::read_to_string(sandbox.home().join(".netrc")).unwrap(),
        NETRC
    );
    // A login for a netrc host goes to a writable store and wins from then on.
    assert_eq!(
        sandbox
            .run(&["login", "repo.example.com", "--token", "new"])
            .code,
        0
    );
    assert_eq!(sandbox.run(&["token", "repo.example.com"]).stdout, "new\n");
    assert_eq!(
        fs::read_to_string(sandbox.home().join(".netrc")).unwrap(),
        NETRC
    );
}

#[test]
fn the_netrc_variable_names_the_file_and_a_broken_one_is_skipped_with_a_warning() {
    let sandbox = Sandbox::new();
    let custom = sandbox.home().join("custom-netrc");
    fs::write(
        &custom,
        "machine custom.example.com login u password custom-pw\n",
    )
    .unwrap();
    let mut token = sandbox.command(&["token", "custom.example.com"]);
    token.env("NETRC", &custom);
    assert_eq!(sandbox.run_command(token, None).stdout, "custom-pw\n");

    fs::write(
        sandbox.home().join(".netrc"),
        "machine broken.example.com login u password \"unclosed\n",
    )
    .unwrap();
    let token = sandbox.run(&["token", "broken.example.com"]);
    assert_eq!(
        token.code, 4,
        "a broken .netrc must not stop other commands: {token:?}"
    );
    assert!(
        token
            .stderr
            .starts_with("warning: could not parse the .netrc file"),
        "{token:?}"
    );
    // `status` reports it as a store it could not read, and exits 1.
    let status = sandbox.run(&["status"]);
    insta::assert_snapshot!(sandbox.show(&status), @r#"
    exit: 1
    --- stdout
    No credentials could be read.

    keyring: unavailable: cannot reach the Secret Service on the D-Bus session bus (zbus error: Failed to connect to address `unix:path=[HOME]/no-session-bus`: No such file or directory (os error 2))
    file: [HOME]/.rattler/credentials.json
    netrc: error: could not parse the .netrc file [HOME]/.netrc at line 1: a double-quoted value is never closed; add the closing `"`. No credential was read from it; fix that line
    --- stderr
    error: could not parse the .netrc file [HOME]/.netrc at line 1: a double-quoted value is never closed; add the closing `"`. No credential was read from it; fix that line
    "#);
    assert!(!status.all_output().contains("unclosed"));
    assert!(!token.all_output().contains("unclosed"));
}
