//! pixi's global config files: a pixi user's override file, `[pypi-config]` and `s3-options`
//! read from `$PIXI_HOME`, `~/.pixi`, and the XDG locations in pixi's order, below auth's own
//! config; strict for the keys `auth` reads, silent about pixi's other keys.

use std::fs;
use std::path::{Path, PathBuf};

use auth_tests::Sandbox;
use auth_tests::peers::Nginx;

use crate::leaks;

const TOKEN: &str = "tk-pixi-config-secret-31";
const FILE: &[u8] = b"the pixi package\n";

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

/// A credentials file (rattler's format) holding `TOKEN` for `host`, at `path`.
fn credentials(path: &Path, host: &str) {
    write(
        path,
        &format!("{{\"{host}\": {{\"BearerToken\": \"{TOKEN}\"}}}}\n"),
    );
}

fn override_line(path: &Path) -> String {
    format!(
        "authentication-override-file = {:?}\n",
        path.to_str().unwrap()
    )
}

fn assert_no_leak(output: &str) {
    for form in leaks::forms_for(TOKEN, &[]) {
        assert!(!output.contains(&form), "{form:?} leaked:\n{output}");
    }
}

#[test]
fn a_pixi_user_with_only_pixi_home_config_gets_an_authenticated_download() {
    let mut builder = Nginx::builder();
    let root = builder.dir().join("www");
    write(
        &root.join("pkg/file.bin"),
        std::str::from_utf8(FILE).unwrap(),
    );
    let server = builder.bearer(TOKEN, &root);
    let nginx = builder.start();
    let host = format!("127.0.0.1:{}", nginx.port(server));
    let url = nginx.url(server, "/pkg/file.bin");

    let mut sandbox = Sandbox::new();
    let pixi_home = sandbox.home().join("pixi-home");
    let creds = sandbox.home().join("pixi-credentials.json");
    credentials(&creds, &host);
    // pixi's other keys, top level and inside a table we read, are pixi's business.
    let pixi_config = pixi_home.join("config.toml");
    write(
        &pixi_config,
        &format!(
            "default-channels = [\"conda-forge\"]\nchange-ps1 = false\n{}\
             [pypi-config]\nindex-url = \"https://pypi.example.com/simple\"\n\
             [repodata-config]\ndisable-zst = true\n",
            override_line(&creds)
        ),
    );
    sandbox.env("PIXI_HOME", &pixi_home);

    let fetched = sandbox.run(&["fetch", &url, "-v"]);
    assert_eq!(fetched.code, 0, "{fetched:?}");
    assert_eq!(fetched.stdout.as_bytes(), FILE);
    assert_no_leak(&fetched.all_output());

    // `status` names pixi's file it read, and lists the override file as the only store.
    let status = sandbox.run(&["status"]);
    assert_eq!(status.code, 0, "{status:?}");
    assert!(
        status
            .stdout
            .contains(&format!("config: {}", pixi_config.display())),
        "{}",
        status.stdout
    );
    assert!(status.stdout.contains(&host), "{}", status.stdout);
    assert_no_leak(&status.all_output());
}

/// The file `auth` uses for the override, given pixi files at `present` (each naming its own
/// credentials file): the store `auth status` lists.
fn chosen(sandbox: &Sandbox, present: &[&PathBuf]) -> String {
    for (index, config) in present.iter().enumerate() {
        let creds = sandbox.home().join(format!("creds-{index}.json"));
        write(config, &override_line(&creds));
    }
    let status = sandbox.run(&["status"]);
    assert_eq!(status.code, 0, "{status:?}");
    let store = status
        .stdout
        .lines()
        .find(|line| line.starts_with("file: "))
        .unwrap_or_else(|| panic!("no file store in:\n{}", status.stdout));
    store.trim_start_matches("file: ").to_owned()
}

#[test]
fn pixi_files_are_consulted_in_pixis_order_below_auths_own_config() {
    let mut sandbox = Sandbox::new();
    let home = sandbox.home().to_owned();
    let pixi_home = home.join("ph").join("config.toml");
    let dot_pixi = home.join(".pixi").join("config.toml");
    let xdg = home.join("xdg").join("pixi").join("config.toml");
    let dot_config = home.join(".config").join("pixi").join("config.toml");
    sandbox.env("PIXI_HOME", home.join("ph"));
    sandbox.env("XDG_CONFIG_HOME", home.join("xdg"));
    let creds = |index: usize| {
        home.join(format!("creds-{index}.json"))
            .display()
            .to_string()
    };

    // Each location alone is found; with several, the one pixi reads last wins.
    assert_eq!(chosen(&sandbox, &[&dot_config]), creds(0));
    assert_eq!(chosen(&sandbox, &[&dot_config, &xdg]), creds(1));
    assert_eq!(chosen(&sandbox, &[&dot_config, &xdg, &dot_pixi]), creds(2));
    assert_eq!(
        chosen(&sandbox, &[&dot_config, &xdg, &dot_pixi, &pixi_home]),
        creds(3)
    );

    // auth's own config wins over every pixi file.
    let own = home.join("xdg").join("auth").join("config.toml");
    assert_eq!(
        chosen(&sandbox, &[&dot_config, &xdg, &dot_pixi, &pixi_home, &own]),
        creds(4)
    );
    let status = sandbox.run(&["status"]);
    let configs: Vec<&str> = status
        .stdout
        .lines()
        .filter(|line| line.starts_with("config: "))
        .collect();
    let expected: Vec<String> = [&own, &pixi_home, &dot_pixi, &xdg, &dot_config]
        .iter()
        .map(|path| format!("config: {}", path.display()))
        .collect();
    assert_eq!(configs, expected, "{}", status.stdout);
}

#[test]
fn a_wrong_type_in_a_key_auth_reads_names_pixis_file_and_line() {
    let mut sandbox = Sandbox::new();
    let pixi_home = sandbox.home().join("pixi-home");
    let config = pixi_home.join("config.toml");
    write(
        &config,
        "change-ps1 = false\n\n[pypi-config]\nkeyring-provider = 3\n",
    );
    sandbox.env("PIXI_HOME", &pixi_home);
    for args in [&["token", "a.example.com"][..], &["status"]] {
        let run = sandbox.run(args);
        assert_ne!(run.code, 0, "{args:?}: {run:?}");
        let wanted = format!("pixi's config file {} is not valid", config.display());
        assert!(run.stderr.contains(&wanted), "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("line 4"), "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("keyring-provider"),
            "{args:?}: {}",
            run.stderr
        );
    }
}
