//! The credentials file: which one is used, what happens to a corrupt one, concurrent writers,
//! permissions, and entries from other tools.

use std::fmt::Write as _;
use std::fs;

use auth_tests::{Deadline, Sandbox, Watched};

#[test]
fn rattler_auth_file_wins_over_the_flag_and_is_the_only_source() {
    let sandbox = Sandbox::new();
    let from_env = sandbox.home().join("env.json");
    let from_flag = sandbox.home().join("flag.json");
    // A credential in the default file must not be seen once an override is set.
    assert_eq!(
        sandbox
            .run(&["login", "default.example.com", "--token", "t0"])
            .code,
        0
    );

    let mut login = sandbox.command(&["login", "a.example.com", "--token", "t1", "--auth-file"]);
    login.arg(&from_flag).env("RATTLER_AUTH_FILE", &from_env);
    assert_eq!(sandbox.run_command(login, None).code, 0);
    assert!(from_env.exists());
    assert!(
        !from_flag.exists(),
        "--auth-file was used although RATTLER_AUTH_FILE is set"
    );

    let mut token = sandbox.command(&["token", "default.example.com"]);
    token.env("RATTLER_AUTH_FILE", &from_env);
    assert_eq!(sandbox.run_command(token, None).code, 4);

    let flag = from_flag.to_str().unwrap();
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
    let run = sandbox.run(&["token", "default.example.com", "--auth-file", flag]);
    assert_eq!(run.code, 4, "--auth-file must be the only source");
    let run = sandbox.run(&["token", "b.example.com", "--auth-file", flag]);
    assert_eq!(run.stdout, "t2\n");

    let mut status = sandbox.command(&["status", "--json"]);
    status.env("RATTLER_AUTH_FILE", &from_env);
    let run = sandbox.run_command(status, None);
    let status: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let rows = &status["entries"];
    assert_eq!(rows.as_array().unwrap().len(), 1);
    assert_eq!(rows[0]["key"], "a.example.com");
    assert_eq!(rows[0]["location"], from_env.to_str().unwrap());
}

const CORRUPT: &str = "{\n  \"a.example.com\": {\"BearerToken\": \"corrupt-file-secret\"}\n  \"b.example.com\": {}\n}\n";

#[test]
fn a_corrupt_file_is_left_byte_identical_by_every_command() {
    let sandbox = Sandbox::new();
    let file = sandbox.default_file();
    fs::create_dir_all(file.parent().unwrap()).unwrap();
    fs::write(&file, CORRUPT).unwrap();
    let commands: &[&[&str]] = &[
        &["login", "c.example.com", "--token", "new-token"],
        &["logout", "a.example.com"],
        &["logout", "--all"],
        &["status"],
        &["status", "--json"],
        &["token", "a.example.com"],
    ];
    let mut shown = String::new();
    for args in commands {
        let run = sandbox.run(args);
        assert_eq!(run.code, 1, "{args:?}: {run:?}");
        assert!(!run.all_output().contains("corrupt-file-secret"), "{run:?}");
        assert_eq!(
            fs::read_to_string(&file).unwrap(),
            CORRUPT,
            "{args:?} changed the file"
        );
        writeln!(
            shown,
            "$ auth {}\n{}",
            args.join(" "),
            sandbox.show(&run).trim_end()
        )
        .unwrap();
    }
    insta::assert_snapshot!(shown);
}

#[test]
fn sixteen_processes_logging_in_at_once_lose_no_entry() {
    let sandbox = Sandbox::new();
    let children: Vec<_> = (0..16)
        .map(|n| {
            let host = format!("host{n}.example.com");
            let token = format!("token-{n}");
            Watched::spawn(&mut sandbox.command(&["login", &host, "--token", &token]))
        })
        .collect();
    for child in children {
        let output = child.finish("a concurrent login to finish", Deadline::start());
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let text = fs::read_to_string(sandbox.default_file()).unwrap();
    let entries: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(entries.len(), 16, "{text}");
    for n in 0..16 {
        let run = sandbox.run(&["token", &format!("host{n}.example.com")]);
        assert_eq!(run.stdout, format!("token-{n}\n"));
    }
}

#[cfg(unix)]
#[test]
fn files_are_private_and_a_readable_one_gets_a_warning() {
    use std::os::unix::fs::PermissionsExt as _;
    let sandbox = Sandbox::new();
    assert_eq!(
        sandbox
            .run(&["login", "a.example.com", "--token", "t"])
            .code,
        0
    );
    let file = sandbox.default_file();
    let mode = |path: &std::path::Path| fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&file), 0o600);
    assert_eq!(mode(file.parent().unwrap()), 0o700);

    fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();
    let run = sandbox.run(&["token", "a.example.com"]);
    assert_eq!(run.stdout, "t\n");
    insta::assert_snapshot!(sandbox.show(&run), @r"
    exit: 0
    --- stdout
    t
    --- stderr
    warning: the credentials file [HOME]/.rattler/credentials.json can be read by other users (mode 644); run `chmod 600 [HOME]/.rattler/credentials.json`
    ");
    // -q hides warnings.
    assert_eq!(sandbox.run(&["-q", "token", "a.example.com"]).stderr, "");
    // A rewrite makes the file private again.
    assert_eq!(
        sandbox
            .run(&["login", "b.example.com", "--token", "t"])
            .code,
        0
    );
    assert_eq!(mode(&file), 0o600);
}

/// The example file of the pixi authentication page, as printed there.
const SEED_EXAMPLE: &str = include_str!("../fixtures/pixi-credentials.json");

#[test]
fn reads_pixis_file_and_keeps_what_it_does_not_understand() {
    let sandbox = Sandbox::new();
    let file = sandbox.home().join("pixi.json");
    let with_future_entry = SEED_EXAMPLE.replacen(
        '{',
        "{\n\"future.example.com\": {\"Kerberos\": {\"ticket\": \"t\"}},",
        1,
    );
    fs::write(&file, &with_future_entry).unwrap();
    #[cfg(unix)]
    fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let path = file.to_str().unwrap();

    let status = sandbox.run(&["status", "--auth-file", path]);
    insta::assert_snapshot!(sandbox.show(&status), @r"
    exit: 0
    --- stdout
    KEY                 KIND                       STORE  EXPIRES
    *.prefix.dev        BearerToken                file   -
    conda.anaconda.org  CondaToken                 file   -
    otherhost.com       BasicHTTP (your_username)  file   -
    s3://my-bucket      S3Credentials              file   -

    file: [HOME]/pixi.json
    --- stderr
    warning: [HOME]/pixi.json: the entry `future.example.com` is kept but not used: the credential is not understood: an unknown credential kind (expected one of BearerToken, BasicHTTP, CondaToken, S3Credentials, OAuth)
    ");
    assert_eq!(
        sandbox
            .run(&["token", "otherhost.com", "--auth-file", path])
            .stdout,
        "your_password\n"
    );
    assert_eq!(
        sandbox
            .run(&["token", "s3://my-bucket/x", "--auth-file", path])
            .stdout,
        "my-secret-access-key\n"
    );

    assert_eq!(
        sandbox
            .run(&["logout", "otherhost.com", "--auth-file", path])
            .code,
        0
    );
    let after: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&fs::read_to_string(&file).unwrap()).unwrap();
    let keys: Vec<&String> = after.keys().collect();
    assert_eq!(
        keys,
        [
            "*.prefix.dev",
            "conda.anaconda.org",
            "future.example.com",
            "s3://my-bucket"
        ]
    );
    assert_eq!(
        after["future.example.com"],
        serde_json::json!({"Kerberos": {"ticket": "t"}})
    );
}
