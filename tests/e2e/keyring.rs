//! The OS keyring, against a real Secret Service (gnome-keyring on a private D-Bus session), and
//! what happens when there is none, or one that never answers.

use std::fs;

use auth_tests::Sandbox;

const TOKEN: &str = "keyring-token-31c7";

#[test]
fn login_stores_in_the_secret_service_exactly_as_rattler_does() {
    let sandbox = Sandbox::with_keyring();
    let login = sandbox.run(&["login", "prefix.dev", "--token", TOKEN]);
    assert_eq!(login.code, 0, "{login:?}");
    assert!(!login.stderr.contains("warning"), "{}", login.stderr);
    assert!(
        login.stderr.contains("saved in the keyring"),
        "{}",
        login.stderr
    );
    assert!(
        !sandbox.default_file().exists(),
        "a keyring login must not write the plain-text file"
    );

    // Read back from outside our code: service `rattler`, account = the key, secret = the JSON.
    let lookup = sandbox.system_tool(
        "secret-tool",
        &["lookup", "service", "rattler", "username", "*.prefix.dev"],
        None,
    );
    assert_eq!(lookup.code, 0, "{lookup:?}");
    assert_eq!(lookup.stdout, format!(r#"{{"BearerToken":"{TOKEN}"}}"#));

    let token = sandbox.run(&["token", "repo.prefix.dev"]);
    assert_eq!(token.stdout, format!("{TOKEN}\n"));
    let status = sandbox.run(&["status"]);
    insta::assert_snapshot!(sandbox.show(&status), @r"
    exit: 0
    --- stdout
    KEY           KIND         STORE    EXPIRES
    *.prefix.dev  BearerToken  keyring  -

    keyring: Secret Service, service `rattler`
    file: [HOME]/.rattler/credentials.json
    netrc: [HOME]/.netrc
    --- stderr
    ");

    let logout = sandbox.run(&["logout", "prefix.dev"]);
    assert_eq!(logout.code, 0, "{logout:?}");
    let gone = sandbox.system_tool(
        "secret-tool",
        &["lookup", "service", "rattler", "username", "*.prefix.dev"],
        None,
    );
    assert_eq!(
        gone.code, 1,
        "the entry must be deleted from the keyring: {gone:?}"
    );
    for run in [&login, &status, &logout] {
        assert!(!run.all_output().contains(TOKEN));
    }
}

#[test]
fn an_entry_stored_by_another_tool_in_rattlers_format_is_used() {
    let sandbox = Sandbox::with_keyring();
    let json = r#"{"BasicHTTP":{"username":"alice","password":"pw-from-secret-tool"}}"#;
    let store = sandbox.system_tool(
        "secret-tool",
        &[
            "store",
            "--label=rattler",
            "service",
            "rattler",
            "username",
            "repo.example.com",
        ],
        Some(json),
    );
    assert_eq!(store.code, 0, "{store:?}");
    let token = sandbox.run(&["token", "https://repo.example.com/simple/"]);
    assert_eq!(token.stdout, "pw-from-secret-tool\n", "{token:?}");
    let status = sandbox.run(&["status", "--json"]);
    let status: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    let rows = &status["entries"];
    assert_eq!(rows[0]["key"], "repo.example.com");
    assert_eq!(rows[0]["store"], "keyring");
    assert_eq!(rows[0]["username"], "alice");
}

#[test]
fn the_keyring_shadows_the_file_and_status_says_so() {
    let sandbox = Sandbox::with_keyring();
    let file = sandbox.default_file();
    fs::create_dir_all(file.parent().unwrap()).unwrap();
    fs::write(
        &file,
        r#"{"*.prefix.dev": {"BearerToken": "from-the-file"}}"#,
    )
    .unwrap();
    #[cfg(unix)]
    fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    assert_eq!(
        sandbox.run(&["login", "prefix.dev", "--token", TOKEN]).code,
        0
    );
    assert_eq!(
        sandbox.run(&["token", "prefix.dev"]).stdout,
        format!("{TOKEN}\n")
    );
    let status = sandbox.run(&["status"]);
    insta::assert_snapshot!(sandbox.show(&status), @r"
    exit: 0
    --- stdout
    KEY           KIND         STORE                                EXPIRES
    *.prefix.dev  BearerToken  keyring                              -
    *.prefix.dev  BearerToken  file (shadowed by an earlier store)  -

    keyring: Secret Service, service `rattler`
    file: [HOME]/.rattler/credentials.json
    netrc: [HOME]/.netrc
    --- stderr
    ");
}

#[test]
fn without_a_session_bus_login_falls_back_to_the_file_and_says_why() {
    let sandbox = Sandbox::new();
    let login = sandbox.run(&["login", "prefix.dev", "--token", TOKEN]);
    assert_eq!(login.code, 0, "{login:?}");
    insta::assert_snapshot!(sandbox.show(&login), @r"
    exit: 0
    --- stdout
    --- stderr
    warning: the keyring is unavailable: cannot reach the Secret Service on the D-Bus session bus (zbus error: Failed to connect to address `unix:path=[HOME]/no-session-bus`: No such file or directory (os error 2))
    warning: the credentials were saved in plain text in [HOME]/.rattler/credentials.json instead; anyone who can read that file can use them
    Logged in to *.prefix.dev: BearerToken saved in the file [HOME]/.rattler/credentials.json.
    ");
    assert_eq!(
        sandbox.run(&["token", "prefix.dev"]).stdout,
        format!("{TOKEN}\n")
    );
}

#[test]
fn a_bus_that_never_answers_is_given_up_on_within_the_timeout() {
    let mut sandbox = Sandbox::new();
    // A socket that accepts connections (the kernel does, up to its backlog) and never answers.
    let socket = sandbox.home().join("silent-bus");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    sandbox.set_bus_address(format!("unix:path={}", socket.display()));
    let login = sandbox.run(&["login", "prefix.dev", "--token", TOKEN]);
    assert_eq!(login.code, 0, "{login:?}");
    insta::assert_snapshot!(sandbox.show(&login), @r"
    exit: 0
    --- stdout
    --- stderr
    warning: the keyring is unavailable: the keyring did not answer within 1.0 s
    warning: the credentials were saved in plain text in [HOME]/.rattler/credentials.json instead; anyone who can read that file can use them
    Logged in to *.prefix.dev: BearerToken saved in the file [HOME]/.rattler/credentials.json.
    ");
    assert!(sandbox.default_file().exists());
    // Reads give up the same way and still find the file's entry.
    assert_eq!(
        sandbox.run(&["token", "prefix.dev"]).stdout,
        format!("{TOKEN}\n")
    );
}

#[test]
fn a_locked_collection_is_not_used_when_nobody_can_answer_the_prompt() {
    let sandbox = Sandbox::with_keyring();
    let lock = sandbox.system_tool(
        "dbus-send",
        &[
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.secrets",
            "/org/freedesktop/secrets",
            "org.freedesktop.Secret.Service.Lock",
            "array:objpath:/org/freedesktop/secrets/aliases/default",
        ],
        None,
    );
    assert_eq!(lock.code, 0, "{lock:?}");
    // stdin is not a terminal here, as in CI: no prompt can be answered.
    let login = sandbox.run(&["login", "prefix.dev", "--token", TOKEN]);
    assert_eq!(login.code, 0, "{login:?}");
    insta::assert_snapshot!(sandbox.show(&login), @r"
    exit: 0
    --- stdout
    --- stderr
    warning: the keyring is unavailable: the default keyring collection is locked, and unlocking it needs a prompt that nobody can answer (standard input is not a terminal); unlock it (log in to the desktop session or unlock it in your keyring app; without a desktop, start gnome-keyring with `gnome-keyring-daemon --unlock`, which reads its password on standard input) and try again
    warning: the credentials were saved in plain text in [HOME]/.rattler/credentials.json instead; anyone who can read that file can use them
    Logged in to *.prefix.dev: BearerToken saved in the file [HOME]/.rattler/credentials.json.
    ");
    assert!(sandbox.default_file().exists());
}
