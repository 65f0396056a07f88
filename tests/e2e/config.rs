//! The config file: the override file and its place in the precedence, the keyring timeout, and
//! what a bad config file gets.

use std::fs;

use auth_tests::Sandbox;

fn write_config(sandbox: &Sandbox, text: &str) {
    let path = sandbox
        .home()
        .join(".config")
        .join("auth")
        .join("config.toml");
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

#[test]
fn the_configs_override_file_is_the_only_source_below_the_flag_and_the_variable() {
    let sandbox = Sandbox::new();
    let from_config = sandbox.home().join("from-config.json");
    write_config(
        &sandbox,
        &format!(
            "authentication-override-file = {:?}\n",
            from_config.to_str().unwrap()
        ),
    );

    // The user chose that file: no keyring attempt, no plain-text warning.
    let login = sandbox.run(&["login", "a.example.com", "--token", "t1"]);
    assert_eq!(login.code, 0, "{login:?}");
    assert!(!login.stderr.contains("warning"), "{}", login.stderr);
    assert!(from_config.exists());
    assert!(!sandbox.default_file().exists());

    // --auth-file wins over the config, RATTLER_AUTH_FILE over both.
    let flag = sandbox.home().join("flag.json");
    let flag = flag.to_str().unwrap();
    assert_eq!(
        sandbox
            .run(&[
                "login",
                "b.example.com",
                "--token",
                "t2",
                "--auth-file",
                flag
            ])
            .code,
        0
    );
    assert_eq!(
        sandbox.run(&["token", "b.example.com"]).code,
        4,
        "the config's file is the only source"
    );
    let from_env = sandbox.home().join("env.json");
    let mut login = sandbox.command(&[
        "login",
        "c.example.com",
        "--token",
        "t3",
        "--auth-file",
        flag,
    ]);
    login.env("RATTLER_AUTH_FILE", &from_env);
    assert_eq!(sandbox.run_command(login, None).code, 0);
    let keys = |path: &std::path::Path| -> Vec<String> {
        let text = fs::read_to_string(path).unwrap();
        serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&text)
            .unwrap()
            .keys()
            .cloned()
            .collect()
    };
    assert_eq!(keys(&from_config), ["a.example.com"]);
    assert_eq!(keys(std::path::Path::new(flag)), ["b.example.com"]);
    assert_eq!(keys(&from_env), ["c.example.com"]);
}

#[test]
fn xdg_config_home_is_where_the_config_lives() {
    let sandbox = Sandbox::new();
    let xdg = sandbox.home().join("xdg");
    fs::create_dir_all(xdg.join("auth")).unwrap();
    let file = sandbox.home().join("chosen.json");
    fs::write(
        xdg.join("auth").join("config.toml"),
        format!(
            "authentication-override-file = {:?}\n",
            file.to_str().unwrap()
        ),
    )
    .unwrap();
    let mut login = sandbox.command(&["login", "a.example.com", "--token", "t"]);
    login.env("XDG_CONFIG_HOME", &xdg);
    assert_eq!(sandbox.run_command(login, None).code, 0);
    assert!(file.exists());
}

#[test]
fn a_bad_config_file_is_an_error_with_its_path_and_line() {
    let sandbox = Sandbox::new();
    let mut shown = String::new();
    for config in [
        "authentication-override-file = \"/x.json\"\nkeyring-timeout-seconds = \n",
        "authentication-override-file = \"/x.json\"\nkeyring-timout-seconds = 2\n",
        "[pypi-config]\nkeyring-provider = \"sometimes\"\n",
        "keyring-timeout-seconds = -1\n",
    ] {
        write_config(&sandbox, config);
        let run = sandbox.run(&["status"]);
        assert_eq!(run.code, 1, "{run:?}");
        shown.push_str(&sandbox.show(&run));
    }
    insta::assert_snapshot!(shown, @r#"
    exit: 1
    --- stdout
    --- stderr
    error: the config file [HOME]/.config/auth/config.toml is not valid: TOML parse error at line 2, column 27
      |
    2 | keyring-timeout-seconds = 
      |                           ^
    string values must be quoted, expected literal string
    Fix it (see docs/guide.md for the settings), or move it away.
    exit: 1
    --- stdout
    --- stderr
    error: the config file [HOME]/.config/auth/config.toml is not valid: TOML parse error at line 2, column 1
      |
    2 | keyring-timout-seconds = 2
      | ^^^^^^^^^^^^^^^^^^^^^^
    unknown field `keyring-timout-seconds`, expected one of `authentication-override-file`, `keyring-timeout-seconds`, `oauth-refresh-margin-seconds`, `connect-timeout-seconds`, `read-timeout-seconds`, `pypi-config`, `s3-options`, `mirrors`
    Fix it (see docs/guide.md for the settings), or move it away.
    exit: 1
    --- stdout
    --- stderr
    error: the config file [HOME]/.config/auth/config.toml is not valid: TOML parse error at line 2, column 20
      |
    2 | keyring-provider = "sometimes"
      |                    ^^^^^^^^^^^
    unknown variant `sometimes`, expected `subprocess` or `disabled`
    Fix it (see docs/guide.md for the settings), or move it away.
    exit: 1
    --- stdout
    --- stderr
    error: the config file [HOME]/.config/auth/config.toml: keyring-timeout-seconds must be a number of seconds between 0 and 600, not -1
    "#);
}

#[test]
fn the_keyring_timeout_comes_from_the_config() {
    let mut sandbox = Sandbox::new();
    write_config(&sandbox, "keyring-timeout-seconds = 0.3\n");
    let socket = sandbox.home().join("silent-bus");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    sandbox.set_bus_address(format!("unix:path={}", socket.display()));
    let login = sandbox.run(&["login", "prefix.dev", "--token", "t"]);
    assert_eq!(login.code, 0, "{login:?}");
    assert!(
        login.stderr.contains("did not answer within 0.3 s"),
        "{}",
        login.stderr
    );
}
