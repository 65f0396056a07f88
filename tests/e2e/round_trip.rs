//! login → status → token → logout for every kind of credential.

use auth_tests::Sandbox;

/// One login, then what `status`, `token` and `logout` make of it.
struct Case {
    login: &'static [&'static str],
    stdin: Option<&'static str>,
    /// What `auth token` is asked for, and the secret it must print.
    token_for: &'static str,
    secret: &'static str,
    logout: &'static str,
}

const CASES: &[Case] = &[
    Case {
        login: &["login", "prefix.dev", "--token", "bearer-secret-1"],
        stdin: None,
        token_for: "repo.prefix.dev",
        secret: "bearer-secret-1",
        logout: "prefix.dev",
    },
    Case {
        login: &[
            "login",
            "https://nexus.example.com:8443/repo/",
            "--username",
            "alice",
            "--password",
            "-",
        ],
        stdin: Some("p:ss@word-2\n"),
        token_for: "https://nexus.example.com:8443/repo/simple/pkg/",
        secret: "p:ss@word-2",
        logout: "nexus.example.com:8443/repo",
    },
    Case {
        login: &[
            "login",
            "conda.anaconda.org",
            "--conda-token",
            "conda-secret-3",
        ],
        stdin: None,
        token_for: "https://conda.anaconda.org/t/conda-secret-3/conda-forge",
        secret: "conda-secret-3",
        logout: "conda.anaconda.org",
    },
    Case {
        login: &[
            "login",
            "s3://my-bucket",
            "--s3-access-key-id",
            "AKIDEXAMPLE",
            "--s3-secret-access-key",
            "-",
            "--s3-session-token",
            "session-secret-4b",
        ],
        stdin: Some("s3-secret-4a"),
        token_for: "s3://my-bucket/linux-64/repodata.json",
        secret: "s3-secret-4a",
        logout: "s3://my-bucket",
    },
];

#[test]
fn every_method_round_trips() {
    let mut shown = String::new();
    for case in CASES {
        let sandbox = Sandbox::new();
        let login = match case.stdin {
            Some(input) => sandbox.run_with_stdin(case.login, input),
            None => sandbox.run(case.login),
        };
        assert_eq!(login.code, 0, "{}", login.stderr);
        let status = sandbox.run(&["status"]);
        let token = sandbox.run(&["token", case.token_for]);
        assert_eq!(token.code, 0, "{}", token.stderr);
        assert_eq!(token.stdout, format!("{}\n", case.secret));
        let logout = sandbox.run(&["logout", case.logout]);
        assert_eq!(logout.code, 0, "{}", logout.stderr);
        let after = sandbox.run(&["token", case.token_for]);
        assert_eq!(after.code, 4, "{}", after.stderr);
        for run in [&login, &status, &logout] {
            assert!(
                !run.all_output().contains(case.secret),
                "secret in output: {run:?}"
            );
            shown.push_str(&sandbox.show(run));
        }
        shown.push_str("=====\n");
    }
    insta::assert_snapshot!(shown);
}

#[test]
fn the_file_is_what_pixi_writes() {
    let sandbox = Sandbox::new();
    for case in CASES {
        let run = match case.stdin {
            Some(input) => sandbox.run_with_stdin(case.login, input),
            None => sandbox.run(case.login),
        };
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    let text = std::fs::read_to_string(sandbox.default_file()).unwrap();
    insta::assert_snapshot!(text, @r#"
    {
      "*.prefix.dev": {
        "BearerToken": "bearer-secret-1"
      },
      "conda.anaconda.org": {
        "CondaToken": "conda-secret-3"
      },
      "nexus.example.com:8443/repo": {
        "BasicHTTP": {
          "username": "alice",
          "password": "p:ss@word-2"
        }
      },
      "s3://my-bucket": {
        "S3Credentials": {
          "access_key_id": "AKIDEXAMPLE",
          "secret_access_key": "s3-secret-4a",
          "session_token": "session-secret-4b"
        }
      }
    }
    "#);
    let status = sandbox.run(&["status", "--json"]);
    let report: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    let keys: Vec<&str> = report["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            "*.prefix.dev",
            "conda.anaconda.org",
            "nexus.example.com:8443/repo",
            "s3://my-bucket"
        ]
    );
    assert!(
        !status.stdout.contains("secret") && !status.stdout.contains("p:ss"),
        "{}",
        status.stdout
    );

    let all = sandbox.run(&["logout", "--all"]);
    assert_eq!(all.stderr, "Removed 4 credentials.\n");
    assert_eq!(
        std::fs::read_to_string(sandbox.default_file()).unwrap(),
        "{}\n"
    );
}

#[test]
fn the_most_specific_key_answers() {
    let sandbox = Sandbox::new();
    for (host, token) in [
        ("prefix.dev", "wild"),
        ("repo.prefix.dev", "exact"),
        ("repo.prefix.dev/channels/private", "path"),
        ("repo.prefix.dev:8443", "port"),
    ] {
        assert_eq!(sandbox.run(&["login", host, "--token", token]).code, 0);
    }
    let ask = |what: &str| {
        let run = sandbox.run(&["token", what]);
        if run.code == 0 {
            run.stdout.trim().to_owned()
        } else {
            format!("exit {}", run.code)
        }
    };
    let answers: Vec<String> = [
        "prefix.dev",
        "other.prefix.dev",
        "repo.prefix.dev",
        "https://repo.prefix.dev/channels/private/noarch/repodata.json",
        "https://repo.prefix.dev/channels/privateer",
        "repo.prefix.dev:8443",
        "*.prefix.dev",
        "prefix.dev.evil.test",
        "xprefix.dev",
        "https://prefix.dev@evil.test/",
    ]
    .iter()
    .map(|what| format!("{what} -> {}", ask(what)))
    .collect();
    insta::assert_snapshot!(answers.join("\n"), @r"
    prefix.dev -> wild
    other.prefix.dev -> wild
    repo.prefix.dev -> exact
    https://repo.prefix.dev/channels/private/noarch/repodata.json -> path
    https://repo.prefix.dev/channels/privateer -> exact
    repo.prefix.dev:8443 -> port
    *.prefix.dev -> wild
    prefix.dev.evil.test -> exit 4
    xprefix.dev -> exit 4
    https://prefix.dev@evil.test/ -> exit 4
    ");
}
