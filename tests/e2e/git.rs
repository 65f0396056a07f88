//! `auth helper git`: the real git asks auth for credentials over git's credential helper
//! protocol, against a real git host (nginx + fcgiwrap + git-http-backend behind `auth_basic`
//! or a bearer token, `peers::GitHttp`): clone and push with what only auth holds, `erase` of a
//! rejected password, nothing for a look-alike host or plain http, bearer tokens as
//! `authtype=Bearer`, protocol errors, `auth helper install git`, and a leak sweep.

use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::process::Stdio;

use auth_tests::peers::GitHttp;
use auth_tests::peers::git::{git_command, git_version};
use auth_tests::{Run, Sandbox, auth_bin};

use crate::leaks::forms_for;

/// `credential.helper` naming the binary under test.
fn helper() -> String {
    format!("credential.helper=!{} helper git", auth_bin().display())
}

/// The real git with the sandbox's environment (HOME, the bus that does not exist, what
/// `Sandbox::env` and `prepend_path` added), none of the machine's config, no prompts.
fn git(sandbox: &Sandbox, args: &[&str], stdin: Option<&str>) -> Run {
    let mut command = git_command(sandbox.home());
    for (key, value) in sandbox.command(&[]).get_envs() {
        if let Some(value) = value {
            command.env(key, value);
        }
    }
    command.args(args);
    if stdin.is_some() {
        command.stdin(Stdio::piped());
    }
    sandbox.run_command(command, stdin)
}

/// `git -c credential.helper=… ARGS`.
fn git_with_helper(sandbox: &Sandbox, args: &[&str], stdin: Option<&str>) -> Run {
    let helper = helper();
    let mut all = vec!["-c", helper.as_str()];
    all.extend_from_slice(args);
    git(sandbox, &all, stdin)
}

fn login_password(sandbox: &Sandbox, host: &str, user: &str, password: &str) {
    let run = sandbox.run_with_stdin(
        &["login", host, "--username", user, "--password", "-"],
        &format!("{password}\n"),
    );
    assert_eq!(run.code, 0, "{}", sandbox.show(&run));
}

fn write_credentials(sandbox: &Sandbox, json: &str) {
    let path = sandbox.default_file();
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, json).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
}

fn credentials(sandbox: &Sandbox) -> String {
    fs::read_to_string(sandbox.default_file()).unwrap_or_default()
}

/// Whether git is new enough to take `authtype=Bearer` from a helper.
fn git_takes_bearer() -> bool {
    git_version() >= (2, 46)
}

#[test]
fn clone_and_push_with_the_password_only_auth_holds() {
    let password = "git-pw:with@odd%chars";
    let server = GitHttp::start("git-user", password, "unused-token");
    let mut sandbox = Sandbox::new();
    login_password(&sandbox, &server.basic_host(), "git-user", password);
    let install = sandbox.run(&["helper", "install", "git"]);
    assert_eq!(install.code, 0, "{}", sandbox.show(&install));

    // Through what `auth helper install git` wrote to ~/.gitconfig.
    let clone = git(
        &sandbox,
        &["clone", "--quiet", &server.basic_url(), "work"],
        None,
    );
    assert_eq!(clone.code, 0, "{}", sandbox.show(&clone));
    let work = sandbox.home().join("work");
    let work = work.to_str().unwrap();
    fs::write(sandbox.home().join("work/pushed.txt"), "pushed\n").unwrap();
    for args in [
        &["-C", work, "add", "pushed.txt"][..],
        &[
            "-C",
            work,
            "commit",
            "--quiet",
            "-m",
            "pushed by auth-tests",
        ],
        &["-C", work, "push", "--quiet", "origin", "main"],
    ] {
        let run = git(&sandbox, args, None);
        assert_eq!(run.code, 0, "git {args:?}: {}", sandbox.show(&run));
    }
    assert_eq!(server.head_subject(), "pushed by auth-tests");
    assert!(
        server.basic_requests().contains("authorization=Basic "),
        "git sent no Basic credentials:\n{}",
        server.basic_requests()
    );
    // A credential that worked is kept (git calls `store`, which must not rewrite or drop it).
    assert!(
        credentials(&sandbox).contains(&server.basic_host()),
        "{}",
        credentials(&sandbox)
    );

    // The multi-call name: `credential.helper=auth` makes git run `git-credential-auth`.
    let bin = sandbox.home().join("bin");
    fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(auth_bin(), bin.join("git-credential-auth")).unwrap();
    sandbox.prepend_path(&bin);
    let clone = git(
        &sandbox,
        &[
            "-c",
            "credential.helper=",
            "-c",
            "credential.helper=auth",
            "clone",
            "--quiet",
            &server.basic_url(),
            "work2",
        ],
        None,
    );
    assert_eq!(clone.code, 0, "{}", sandbox.show(&clone));
    assert!(sandbox.home().join("work2/pushed.txt").is_file());
}

#[test]
fn a_rejected_password_fails_the_clone_and_git_erases_it() {
    let server = GitHttp::start("git-user", "the-right-password", "unused-token");
    let sandbox = Sandbox::new();
    login_password(
        &sandbox,
        &server.basic_host(),
        "git-user",
        "a-wrong-password",
    );
    assert!(credentials(&sandbox).contains(&server.basic_host()));

    let clone = git_with_helper(
        &sandbox,
        &["clone", "--quiet", &server.basic_url(), "work"],
        None,
    );
    assert_ne!(clone.code, 0, "{}", sandbox.show(&clone));
    assert!(
        clone.stderr.contains("Authentication failed"),
        "{}",
        sandbox.show(&clone)
    );
    // git called `erase` with the password we gave it, and it matched.
    assert!(
        !credentials(&sandbox).contains(&server.basic_host()),
        "the rejected password is still stored:\n{}",
        credentials(&sandbox)
    );
    let token = sandbox.run(&["token", &server.basic_url()]);
    assert_eq!(token.code, 4, "{}", sandbox.show(&token));
}

/// `git credential fill` for `protocol`/`host`: the password git got, if any.
fn fill(sandbox: &Sandbox, protocol: &str, host: &str) -> Option<String> {
    fill_input(sandbox, &format!("protocol={protocol}\nhost={host}\n\n"))
}

/// `git credential fill` with this description: the password git got, if any.
fn fill_input(sandbox: &Sandbox, input: &str) -> Option<String> {
    let run = git_with_helper(sandbox, &["credential", "fill"], Some(input));
    let password = run
        .stdout
        .lines()
        .find_map(|line| line.strip_prefix("password="))
        .map(str::to_owned);
    match &password {
        Some(_) => assert_eq!(run.code, 0, "{}", sandbox.show(&run)),
        // Nothing from us, and no prompt: git gives up.
        None => assert!(
            run.code != 0 && run.stderr.contains("terminal prompts disabled"),
            "{}",
            sandbox.show(&run)
        ),
    }
    password
}

#[test]
fn look_alike_hosts_and_plain_http_get_nothing() {
    let sandbox = Sandbox::new();
    write_credentials(
        &sandbox,
        r#"{
  "example.test": {"BasicHTTP": {"username": "u", "password": "pw-exact-41"}},
  "*.corp.test": {"BasicHTTP": {"username": "u", "password": "pw-wild-42"}},
  "http://opted-in.test": {"BasicHTTP": {"username": "u", "password": "pw-http-43"}}
}"#,
    );
    let cases: [(&str, &str, Option<&str>); 10] = [
        ("https", "example.test", Some("pw-exact-41")),
        ("https", "example.test.evil.test", None),
        ("https", "evil-example.test", None),
        ("https", "example.test@evil.test", None),
        ("https", "git.corp.test", Some("pw-wild-42")),
        ("https", "corp.test.evil.test", None),
        ("https", "evilcorp.test", None),
        // Plain http to a host that is not loopback, unless the key names http://.
        ("http", "example.test", None),
        ("http", "opted-in.test", Some("pw-http-43")),
        // Not a protocol auth answers for.
        ("cert", "example.test", None),
    ];
    for (protocol, host, expected) in cases {
        assert_eq!(
            fill(&sandbox, protocol, host).as_deref(),
            expected,
            "{protocol}://{host}"
        );
    }
    // git asks for a user (`https://bob@example.test/`): another user's password is not it.
    for (user, expected) in [("u", Some("pw-exact-41")), ("bob", None)] {
        let input = format!("protocol=https\nhost=example.test\nusername={user}\n\n");
        assert_eq!(fill_input(&sandbox, &input).as_deref(), expected, "{user}");
    }
}

#[test]
fn a_bearer_token_goes_to_git_as_authtype_bearer() {
    let token = "git-bearer-tok-51";
    let server = GitHttp::start("git-user", "unused-password", token);
    let sandbox = Sandbox::new();
    let login = sandbox.run_with_stdin(
        &["login", &server.bearer_host(), "--token", "-"],
        &format!("{token}\n"),
    );
    assert_eq!(login.code, 0, "{}", sandbox.show(&login));

    // The protocol itself: only to a git that offers the capability.
    let host = server.bearer_host();
    let offered = sandbox.run_with_stdin(
        &["helper", "git", "get"],
        &format!("capability[]=authtype\nprotocol=http\nhost={host}\n\n"),
    );
    assert_eq!(offered.code, 0, "{}", sandbox.show(&offered));
    assert_eq!(
        offered.stdout,
        format!("capability[]=authtype\nauthtype=Bearer\ncredential={token}\n")
    );
    let not_offered = sandbox.run_with_stdin(
        &["helper", "git", "get"],
        &format!("protocol=http\nhost={host}\n\n"),
    );
    assert_eq!(not_offered.code, 0, "{}", sandbox.show(&not_offered));
    assert_eq!(not_offered.stdout, "");
    assert!(
        not_offered.stderr.contains("capability[]=authtype"),
        "{}",
        sandbox.show(&not_offered)
    );

    // A real clone: git 2.46 and later offer the capability and send the token as a Bearer
    // header; an older git cannot, and the helper says why.
    let clone = git_with_helper(
        &sandbox,
        &["clone", "--quiet", &server.bearer_url(), "work"],
        None,
    );
    if git_takes_bearer() {
        assert_eq!(clone.code, 0, "{}", sandbox.show(&clone));
        assert!(sandbox.home().join("work/README").is_file());
        assert!(
            server
                .bearer_requests()
                .contains(&format!("authorization=Bearer {token}")),
            "{}",
            server.bearer_requests()
        );
        // git's `store` of what we gave it changes nothing.
        let stored: serde_json::Value = serde_json::from_str(&credentials(&sandbox)).unwrap();
        assert_eq!(
            stored[server.bearer_host()],
            serde_json::json!({"BearerToken": token})
        );
    } else {
        assert_ne!(clone.code, 0, "{}", sandbox.show(&clone));
        assert!(
            clone.stderr.contains("capability[]=authtype"),
            "{}",
            sandbox.show(&clone)
        );
    }
}

#[test]
fn an_oauth_token_is_ephemeral_and_carries_its_expiry() {
    let sandbox = Sandbox::new();
    write_credentials(
        &sandbox,
        r#"{"oauth.example.test": {"OAuth": {"access_token": "git-oauth-at-61", "refresh_token": "git-oauth-rt-62", "expires_at": 4102444800, "token_endpoint": "https://oauth.example.test/token", "revocation_endpoint": null, "client_id": "c"}}}"#,
    );
    let get = sandbox.run_with_stdin(
        &["helper", "git", "get"],
        "capability[]=authtype\nprotocol=https\nhost=oauth.example.test\n\n",
    );
    assert_eq!(get.code, 0, "{}", sandbox.show(&get));
    assert_eq!(
        get.stdout,
        "capability[]=authtype\nauthtype=Bearer\ncredential=git-oauth-at-61\nephemeral=true\n\
         password_expiry_utc=4102444800\n"
    );
    // git's `store` and `erase` of it leave the login alone (`auth logout` revokes it).
    let before = credentials(&sandbox);
    for operation in ["store", "erase"] {
        let run = sandbox.run_with_stdin(
            &["helper", "git", operation],
            "capability[]=authtype\nprotocol=https\nhost=oauth.example.test\nauthtype=Bearer\n\
             credential=git-oauth-at-61\nephemeral=true\n\n",
        );
        assert_eq!(run.code, 0, "{operation}: {}", sandbox.show(&run));
        assert_eq!(credentials(&sandbox), before, "{operation}");
    }
}

#[test]
fn broken_protocol_lines_get_an_error_on_stderr_and_no_answer() {
    let sandbox = Sandbox::new();
    write_credentials(
        &sandbox,
        r#"{"example.test": {"BasicHTTP": {"username": "u", "password": "pw-proto-71"}},
            "inject.example.test": {"BasicHTTP": {"username": "u", "password": "pw\nhost=evil.test"}}}"#,
    );
    // A stored value with a newline would add an attribute of its own to the answer.
    let run = sandbox.run_with_stdin(
        &["helper", "git", "get"],
        "protocol=https\nhost=inject.example.test\n\n",
    );
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, ""),
        "{}",
        sandbox.show(&run)
    );
    assert!(
        run.stderr.contains("control character"),
        "{}",
        sandbox.show(&run)
    );
    let head = "protocol=https\nhost=example.test\n";
    let long = format!("{head}path={}\n\n", "p".repeat(70_000));
    let huge = format!("{head}{}\n", "k=v\n".repeat(300_000));
    let cases = [
        (
            "no `=`",
            format!("{head}pw-proto-71\n\n"),
            "line 3 of git's input has no `=`",
        ),
        (
            "a NUL",
            format!("{head}username=u\0\n\n"),
            "line 3 of git's input contains a NUL byte",
        ),
        (
            "a long line",
            long,
            "line 3 of git's input is longer than 65535 bytes",
        ),
        (
            "long input",
            huge,
            "git's input is longer than 1048576 bytes",
        ),
    ];
    for (name, input, message) in cases {
        let run = sandbox.run_with_stdin(&["helper", "git", "get"], &input);
        assert_eq!(run.code, 1, "{name}: {}", sandbox.show(&run));
        assert_eq!(run.stdout, "", "{name}");
        assert!(
            run.stderr.contains(message),
            "{name}: {}",
            sandbox.show(&run)
        );
        assert!(
            !run.stderr.contains("pw-proto-71"),
            "{name}: {}",
            run.stderr
        );
    }
    // The same description without the broken line is answered: the errors above are the
    // lines', not a missing credential's.
    let run = sandbox.run_with_stdin(&["helper", "git", "get"], &format!("{head}future=1\n\n"));
    assert_eq!(run.code, 0, "{}", sandbox.show(&run));
    assert_eq!(run.stdout, "username=u\npassword=pw-proto-71\n");
    // An operation the helper does not know is ignored, as the protocol asks.
    let run = sandbox.run_with_stdin(&["helper", "git", "frobnicate"], head);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, ""),
        "{}",
        sandbox.show(&run)
    );
}

#[test]
fn store_saves_what_git_learned_once_and_erase_removes_only_a_match() {
    let sandbox = Sandbox::new();
    let describe = |user: &str, password: &str| {
        format!("protocol=http\nhost=127.0.0.1:5\nusername={user}\npassword={password}\n\n")
    };
    let approve = git_with_helper(
        &sandbox,
        &["credential", "approve"],
        Some(&describe("alice", "pw-stored-81")),
    );
    assert_eq!(approve.code, 0, "{}", sandbox.show(&approve));
    let stored = credentials(&sandbox);
    assert!(
        stored.contains(r#""127.0.0.1:5""#) && stored.contains("pw-stored-81"),
        "{stored}"
    );
    let modified = fs::metadata(sandbox.default_file())
        .unwrap()
        .modified()
        .unwrap();
    // The same again writes nothing.
    let again = git_with_helper(
        &sandbox,
        &["credential", "approve"],
        Some(&describe("alice", "pw-stored-81")),
    );
    assert_eq!(again.code, 0, "{}", sandbox.show(&again));
    assert_eq!(
        fs::metadata(sandbox.default_file())
            .unwrap()
            .modified()
            .unwrap(),
        modified
    );
    assert_eq!(
        fill(&sandbox, "http", "127.0.0.1:5").as_deref(),
        Some("pw-stored-81")
    );

    // A reject of another password, or of another user, erases nothing.
    for (user, password) in [("alice", "pw-other"), ("bob", "pw-stored-81")] {
        let reject = git_with_helper(
            &sandbox,
            &["credential", "reject"],
            Some(&describe(user, password)),
        );
        assert_eq!(reject.code, 0, "{}", sandbox.show(&reject));
        assert_eq!(credentials(&sandbox), stored, "{user}");
    }
    let reject = git_with_helper(
        &sandbox,
        &["credential", "reject"],
        Some(&describe("alice", "pw-stored-81")),
    );
    assert_eq!(reject.code, 0, "{}", sandbox.show(&reject));
    assert!(
        !credentials(&sandbox).contains("127.0.0.1:5"),
        "{}",
        credentials(&sandbox)
    );
}

#[test]
fn store_keys_follow_use_http_path_and_plain_http_or_read_only_stores_are_left_alone() {
    let mut sandbox = Sandbox::new();
    // With credential.useHttpPath, the key has git's path.
    let approve = git_with_helper(
        &sandbox,
        &["-c", "credential.useHttpPath=true", "credential", "approve"],
        Some(
            "protocol=http\nhost=127.0.0.1:5\npath=org/repo.git\nusername=a\npassword=pw-path-82\n\n",
        ),
    );
    assert_eq!(approve.code, 0, "{}", sandbox.show(&approve));
    assert!(
        credentials(&sandbox).contains(r#""127.0.0.1:5/org/repo.git""#),
        "{}",
        credentials(&sandbox)
    );

    // Plain http to a host that is not loopback: not stored, since it would never be handed
    // out.
    let before = credentials(&sandbox);
    let approve = git_with_helper(
        &sandbox,
        &["credential", "approve"],
        Some("protocol=http\nhost=plain.example.test\nusername=a\npassword=pw-plain-83\n\n"),
    );
    assert_eq!(approve.code, 0, "{}", sandbox.show(&approve));
    assert_eq!(credentials(&sandbox), before);
    assert!(
        approve.stderr.contains("plain http"),
        "{}",
        sandbox.show(&approve)
    );

    // A bearer token through the protocol (authtype=Bearer), under the exact host.
    let store = sandbox.run_with_stdin(
        &["helper", "git", "store"],
        "capability[]=authtype\nprotocol=https\nhost=tok.example.test\nauthtype=Bearer\n\
         credential=pw-bearer-84\n\n",
    );
    assert_eq!(store.code, 0, "{}", sandbox.show(&store));
    let stored: serde_json::Value = serde_json::from_str(&credentials(&sandbox)).unwrap();
    assert_eq!(
        stored["tok.example.test"],
        serde_json::json!({"BearerToken": "pw-bearer-84"}),
        "{stored}"
    );

    // `.netrc` is read-only: a matching reject leaves it as it is.
    let netrc = "machine netrc.example.test login n password pw-netrc-85\n";
    fs::write(sandbox.home().join(".netrc"), netrc).unwrap();
    sandbox.env("NETRC", sandbox.home().join(".netrc"));
    assert_eq!(
        fill(&sandbox, "https", "netrc.example.test").as_deref(),
        Some("pw-netrc-85")
    );
    let reject = git_with_helper(
        &sandbox,
        &["credential", "reject"],
        Some("protocol=https\nhost=netrc.example.test\nusername=n\npassword=pw-netrc-85\n\n"),
    );
    assert_eq!(reject.code, 0, "{}", sandbox.show(&reject));
    assert_eq!(
        fs::read_to_string(sandbox.home().join(".netrc")).unwrap(),
        netrc
    );
}

#[test]
fn install_adds_one_entry_and_uninstall_removes_exactly_it() {
    let sandbox = Sandbox::new();
    let config = sandbox.home().join(".gitconfig");
    let original =
        "# mine\n[user]\n\tname = Me\n[credential]\n\thelper = store\n[alias]\n\tst = status\n";
    fs::write(&config, original).unwrap();
    let value = format!("!{} helper git", auth_bin().display());
    let read = || fs::read_to_string(&config).unwrap();

    let dry = sandbox.run(&["helper", "install", "git", "--dry-run"]);
    assert_eq!(dry.code, 0, "{}", sandbox.show(&dry));
    assert_eq!(read(), original);
    assert!(
        dry.stderr
            .contains("would run: git config --global --add credential.helper '!"),
        "{}",
        sandbox.show(&dry)
    );

    let install = sandbox.run(&["helper", "install", "git"]);
    assert_eq!(install.code, 0, "{}", sandbox.show(&install));
    assert!(
        install.stderr.contains(&format!(
            "Added credential.helper = {value} to git's global config ({})",
            config.display()
        )),
        "{}",
        sandbox.show(&install)
    );
    let installed = read();
    let helpers = git(
        &sandbox,
        &["config", "--global", "--get-all", "credential.helper"],
        None,
    );
    assert_eq!(helpers.stdout, format!("store\n{value}\n"));
    // Only one line was added, inside the existing section.
    assert_eq!(
        installed,
        original.replace(
            "\thelper = store\n",
            &format!("\thelper = store\n\thelper = {value}\n")
        )
    );

    let again = sandbox.run(&["helper", "install", "git"]);
    assert_eq!(again.code, 0, "{}", sandbox.show(&again));
    assert!(
        again.stderr.contains("nothing changed"),
        "{}",
        sandbox.show(&again)
    );
    assert_eq!(read(), installed);

    let dry = sandbox.run(&["helper", "uninstall", "git", "--dry-run"]);
    assert_eq!(dry.code, 0, "{}", sandbox.show(&dry));
    assert!(
        dry.stderr
            .contains("would run: git config --global --fixed-value --unset-all")
    );
    assert_eq!(read(), installed);

    let uninstall = sandbox.run(&["helper", "uninstall", "git"]);
    assert_eq!(uninstall.code, 0, "{}", sandbox.show(&uninstall));
    assert_eq!(read(), original);
    let again = sandbox.run(&["helper", "uninstall", "git"]);
    assert_eq!(again.code, 0, "{}", sandbox.show(&again));
    assert!(
        again.stderr.contains("nothing changed"),
        "{}",
        sandbox.show(&again)
    );
    assert_eq!(read(), original);
}

#[test]
fn install_follows_git_config_global_and_leaves_no_empty_section() {
    let mut sandbox = Sandbox::new();
    let other = sandbox.home().join("elsewhere.gitconfig");
    fs::write(&other, "[user]\n\tname = Me\n").unwrap();
    sandbox.env("GIT_CONFIG_GLOBAL", &other);
    let install = sandbox.run(&["helper", "install", "git"]);
    assert_eq!(install.code, 0, "{}", sandbox.show(&install));
    assert!(!sandbox.home().join(".gitconfig").exists());
    assert!(
        fs::read_to_string(&other).unwrap().contains("[credential]"),
        "{}",
        fs::read_to_string(&other).unwrap()
    );
    let uninstall = sandbox.run(&["helper", "uninstall", "git"]);
    assert_eq!(uninstall.code, 0, "{}", sandbox.show(&uninstall));
    assert_eq!(fs::read_to_string(&other).unwrap(), "[user]\n\tname = Me\n");
}

#[test]
fn no_secret_reaches_any_output_of_the_git_helper() {
    let password = "leak-git-p@ss:w%rd#91";
    let token = "leak-git-bearer-92";
    let server = GitHttp::start("git-user", password, token);
    let mut sandbox = Sandbox::new();
    sandbox.env("AUTH_LOG", "trace");
    login_password(&sandbox, &server.basic_host(), "git-user", password);
    let login = sandbox.run_with_stdin(
        &["login", &server.bearer_host(), "--token", "-"],
        &format!("{token}\n"),
    );
    assert_eq!(login.code, 0, "{}", sandbox.show(&login));
    let mut forms = forms_for(password, &["git-user"]);
    forms.extend(forms_for(token, &["git-user", "x-access-token"]));

    let host = server.basic_host();
    let bearer = server.bearer_host();
    // (what, run, whether its stdout is an answer that holds the secret on purpose)
    let mut runs: Vec<(String, Run, bool)> = Vec::new();
    let clone = git_with_helper(
        &sandbox,
        &["clone", "--quiet", &server.basic_url(), "w1"],
        None,
    );
    assert_eq!(clone.code, 0, "{}", sandbox.show(&clone));
    runs.push(("clone".into(), clone, false));
    let clone = git_with_helper(
        &sandbox,
        &["clone", "--quiet", &server.bearer_url(), "w2"],
        None,
    );
    assert_eq!(
        clone.code == 0,
        git_takes_bearer(),
        "{}",
        sandbox.show(&clone)
    );
    runs.push(("bearer clone".into(), clone, false));
    let inputs = helper_inputs(&host, &bearer, password);
    for (operation, input, code, answers) in inputs {
        let run = sandbox.run_with_stdin(&["helper", "git", operation], &input);
        assert_eq!(
            run.code,
            code,
            "{operation} {input:?}: {}",
            sandbox.show(&run)
        );
        runs.push((format!("{operation} {input:?}"), run, answers));
    }
    assert!(
        // At trace level, each event names its target.
        runs[2].1.stderr.contains("DEBUG auth::helpers::git:"),
        "AUTH_LOG=trace was not applied: {}",
        runs[2].1.stderr
    );
    // The last erase matched: the password is gone, and a clone fails.
    let clone = git_with_helper(
        &sandbox,
        &["clone", "--quiet", &server.basic_url(), "w3"],
        None,
    );
    assert_ne!(clone.code, 0, "{}", sandbox.show(&clone));
    runs.push(("clone after erase".into(), clone, false));

    for (what, run, answers) in &runs {
        let output = if *answers {
            run.stderr.clone()
        } else {
            run.all_output()
        };
        for form in &forms {
            assert!(
                !output.contains(form.as_str()),
                "{what} printed {form:?}:\n{output}"
            );
        }
    }
}

/// `auth helper git OPERATION` inputs for the leak sweep: (operation, stdin, exit code, whether
/// stdout is an answer that holds a secret on purpose). The last one erases the password.
fn helper_inputs(
    host: &str,
    bearer: &str,
    password: &str,
) -> Vec<(&'static str, String, i32, bool)> {
    vec![
        ("get", format!("protocol=http\nhost={host}\n\n"), 0, true),
        (
            "get",
            format!("capability[]=authtype\nprotocol=http\nhost={bearer}\n\n"),
            0,
            true,
        ),
        ("get", format!("protocol=http\nhost={bearer}\n\n"), 0, false),
        (
            "get",
            format!("protocol=http\nhost={host}.evil.test\n\n"),
            0,
            false,
        ),
        (
            "store",
            format!("protocol=http\nhost={host}\nusername=git-user\npassword={password}\n\n"),
            0,
            false,
        ),
        (
            "store",
            format!("protocol=http\nhost=plain.example.test\nusername=u\npassword={password}\n\n"),
            0,
            false,
        ),
        (
            "erase",
            format!("protocol=http\nhost={host}\nusername=git-user\npassword=other\n\n"),
            0,
            false,
        ),
        (
            "get",
            format!("protocol=http\nhost={host}\n{password}\n\n"),
            1,
            false,
        ),
        (
            "get",
            format!("protocol=http\nhost={host}\npassword={password}\0\n\n"),
            1,
            false,
        ),
        (
            "erase",
            format!("protocol=http\nhost={host}\nusername=git-user\npassword={password}\n\n"),
            0,
            false,
        ),
    ]
}
