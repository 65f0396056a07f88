//! Keys: one canonical form, and what can never match is refused at login with the reason.

use std::fs;
use std::os::unix::fs::PermissionsExt as _;

use auth_tests::Sandbox;

#[test]
fn login_refuses_keys_and_credentials_that_can_never_work() {
    let sandbox = Sandbox::new();
    let long_label = format!("{}.example.com", "a".repeat(64));
    let long_host = format!("{}.com", vec!["a".repeat(60); 5].join("."));
    let cases: Vec<Vec<&str>> = vec![
        vec!["login", "*.*.example.com", "--token", "t0k-1"],
        vec!["login", "*.*.com", "--token", "t0k-2"],
        vec!["login", "example.com/org/../other", "--token", "t0k-3"],
        vec!["login", "example.com/./org", "--token", "t0k-4"],
        vec![
            "login",
            "ex\u{1b}]0;PWNED\u{7}ample.com",
            "--token",
            "t0k-5",
        ],
        vec!["login", &long_label, "--token", "t0k-6"],
        vec!["login", &long_host, "--token", "t0k-7"],
        vec!["login", "example.com", "--token", ""],
        vec!["login", "example.com", "--conda-token", ""],
        vec!["login", "example.com", "--username", "", "--password", "p"],
        vec![
            "login",
            "example.com",
            "--username",
            "a:b",
            "--password",
            "p",
        ],
        vec!["login", "example.com", "--token", "line\nX-Injected: 1"],
    ];
    let mut out = String::new();
    for args in &cases {
        let run = sandbox.run(args);
        assert_eq!(run.code, 1, "{}", sandbox.show(&run));
        let message = run.stderr.clone();
        assert!(message.starts_with("error: "), "{}", sandbox.show(&run));
        assert!(
            !run.stderr.contains('\u{1b}'),
            "a raw escape reached the terminal"
        );
        out.push_str(
            &message
                .replace(&long_host, "[LONG]")
                .replace(&long_label, "[LONG-LABEL]"),
        );
    }
    assert!(!sandbox.default_file().exists(), "nothing may be stored");
    insta::assert_snapshot!(out, @r"
    error: cannot log in to `*.*.example.com`: it is not a host name, URL or s3://BUCKET
      caused by: a wildcard must be the whole first label, as in `*.example.com`
    error: cannot log in to `*.*.com`: it is not a host name, URL or s3://BUCKET
      caused by: a wildcard must be the whole first label, as in `*.example.com`
    error: cannot log in to `example.com/org/../other`: it is not a host name, URL or s3://BUCKET
      caused by: a host key's path cannot have `.` or `..` segments; write the path it leads to
    error: cannot log in to `example.com/./org`: it is not a host name, URL or s3://BUCKET
      caused by: a host key's path cannot have `.` or `..` segments; write the path it leads to
    error: cannot log in to `ex\u{1b}]0;PWNED\u{7}ample.com`: it is not a host name, URL or s3://BUCKET
      caused by: a host key cannot contain control characters
    error: cannot log in to `[LONG-LABEL]`: it is not a host name, URL or s3://BUCKET
      caused by: the host name is longer than DNS allows (253 bytes, 63 a label)
    error: cannot log in to `[LONG]`: it is not a host name, URL or s3://BUCKET
      caused by: the host name is longer than DNS allows (253 bytes, 63 a label)
    error: could not save the credentials for *.example.com
      caused by: the token is empty
    error: could not save the credentials for *.example.com
      caused by: the token is empty
    error: could not save the credentials for *.example.com
      caused by: the user name is empty
    error: could not save the credentials for *.example.com
      caused by: the user name contains `:`, which HTTP Basic authentication cannot carry (RFC 7617)
    error: could not save the credentials for *.example.com
      caused by: the secret contains a control character (a newline, say), which cannot be sent in a header
    ");
}

// `HTTPS://example.com`, `Http://…` and `S3://bkt` were listed by `status` but never found by
// `token`: the cold prefilter compared the scheme case-sensitively.
#[test]
fn schemes_in_stored_keys_are_case_insensitive() {
    let sandbox = Sandbox::new();
    let path = sandbox.default_file();
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(
        &path,
        r#"{
  "HTTPS://upper.example.com": {"BearerToken": "upper-1"},
  "Http://127.0.0.1:8080": {"BearerToken": "mixed-2"},
  "S3://bkt": {"S3Credentials": {"access_key_id": "AK", "secret_access_key": "s3-3", "session_token": null}}
}"#,
    )
    .unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    for (url, expected) in [
        ("https://upper.example.com/x", "upper-1\n"),
        ("http://127.0.0.1:8080/x", "mixed-2\n"),
        ("s3://bkt/key", "s3-3\n"),
    ] {
        let run = sandbox.run(&["token", url]);
        assert_eq!(run.stdout, expected, "{}", sandbox.show(&run));
    }
}
