//! The naming table: which variables give which keys and kinds, and which are problems.

use auth_core::{Authentication, CredentialStore, HostKey, Secret, UrlTarget};

use super::{render, store};

fn check(vars: &[(&str, &str)], expect: &str) {
    assert_eq!(render(&store(vars)).trim(), expect.trim(), "for {vars:?}");
}

fn auth_for(vars: &[(&str, &str)], url: &str) -> Option<Authentication> {
    let store = store(vars);
    let target = UrlTarget::parse(url).unwrap();
    store.find(&target).unwrap().map(|found| found.auth.clone())
}

#[test]
fn terraform_names_are_bearer_tokens_for_exactly_that_host() {
    check(
        &[
            ("TF_TOKEN_app_terraform_io", "a"),
            ("TF_TOKEN_MY__REGISTRY_EXAMPLE_COM", "b"),
        ],
        "
app.terraform.io BearerToken <- TF_TOKEN_app_terraform_io
my-registry.example.com BearerToken <- TF_TOKEN_MY__REGISTRY_EXAMPLE_COM",
    );
    let vars = [("TF_TOKEN_app_terraform_io", "tok")];
    assert_eq!(
        auth_for(&vars, "https://app.terraform.io/api"),
        Some(Authentication::BearerToken(Secret::from("tok")))
    );
    // Exactly the host: no subdomain, no look-alike.
    assert_eq!(auth_for(&vars, "https://x.app.terraform.io/"), None);
    assert_eq!(auth_for(&vars, "https://app.terraform.io.evil.com/"), None);
}

#[test]
fn our_family_says_basic_conda_wildcards_and_ports() {
    check(
        &[
            ("AUTH_TOKEN__prefix_dev", "t"),
            ("AUTH_CONDA_TOKEN_conda_anaconda_org", "c"),
            ("AUTH_USERNAME_localhost_8080", "alice"),
            ("AUTH_PASSWORD_LOCALHOST_8080", "pw"),
            ("AUTH_TOKEN_127_0_0_1_8443", "ip"),
        ],
        "
*.prefix.dev BearerToken <- AUTH_TOKEN__prefix_dev
127.0.0.1:8443 BearerToken <- AUTH_TOKEN_127_0_0_1_8443
conda.anaconda.org CondaToken <- AUTH_CONDA_TOKEN_conda_anaconda_org
localhost:8080 BasicHTTP (alice) <- AUTH_USERNAME_localhost_8080 AUTH_PASSWORD_LOCALHOST_8080",
    );
    let vars = [("AUTH_TOKEN__prefix_dev", "t")];
    assert!(auth_for(&vars, "https://repo.prefix.dev/x").is_some());
    assert!(auth_for(&vars, "https://prefix.dev/x").is_some());
    assert!(auth_for(&vars, "https://notprefix.dev/x").is_none());
    let port = [("AUTH_TOKEN_127_0_0_1_8443", "ip")];
    assert!(auth_for(&port, "https://127.0.0.1:8443/").is_some());
    assert!(auth_for(&port, "https://127.0.0.1:8444/").is_none());
}

#[test]
fn uv_indexes_give_basic_credentials_for_the_index_url() {
    check(
        &[
            (
                "UV_INDEX",
                "internal-proxy=https://pypi.example.com/simple  https://unnamed.example.com/simple",
            ),
            (
                "UV_DEFAULT_INDEX",
                "art=https://art.example.com/api/pypi/repo/simple/",
            ),
            ("UV_INDEX_INTERNAL_PROXY_USERNAME", "bob"),
            ("UV_INDEX_INTERNAL_PROXY_PASSWORD", "pw"),
            ("UV_INDEX_ART_USERNAME", "carol"),
            ("UV_INDEX_ART_PASSWORD", "pw2"),
            ("UV_INDEX_URL", "https://ignored.example.com/simple"),
            ("UV_INDEX_STRATEGY", "unsafe-best-match"),
        ],
        "
https://art.example.com/api/pypi/repo BasicHTTP (carol) <- UV_INDEX_ART_USERNAME UV_INDEX_ART_PASSWORD
https://pypi.example.com BasicHTTP (bob) <- UV_INDEX_INTERNAL_PROXY_USERNAME UV_INDEX_INTERNAL_PROXY_PASSWORD",
    );
    let vars = [
        (
            "UV_DEFAULT_INDEX",
            "art=https://art.example.com/api/pypi/repo/simple/",
        ),
        ("UV_INDEX_ART_USERNAME", "carol"),
        ("UV_INDEX_ART_PASSWORD", "pw2"),
    ];
    // The files beside `/simple/` get them too; another repository on the host does not.
    assert!(
        auth_for(
            &vars,
            "https://art.example.com/api/pypi/repo/packages/a.whl"
        )
        .is_some()
    );
    assert!(auth_for(&vars, "https://art.example.com/api/pypi/other/simple/").is_none());
    assert!(auth_for(&vars, "http://art.example.com/api/pypi/repo/simple/").is_none());
}

#[test]
fn cargo_registries_give_the_token_for_the_index_host() {
    check(
        &[
            (
                "CARGO_REGISTRIES_MY_REG_INDEX",
                "sparse+https://cargo.example.com:8443/index/",
            ),
            ("CARGO_REGISTRIES_MY_REG_TOKEN", "Bearer abc"),
            ("CARGO_REGISTRIES_MY_REG_CREDENTIAL_PROVIDER", "cargo:token"),
            (
                "CARGO_REGISTRIES_OTHER_INDEX",
                "sparse+https://other.example.com/",
            ),
        ],
        "cargo.example.com:8443 BearerToken <- CARGO_REGISTRIES_MY_REG_TOKEN CARGO_REGISTRIES_MY_REG_INDEX",
    );
    // The token is kept as cargo sends it, scheme included (what `cargo login` stores).
    assert_eq!(
        auth_for(
            &[
                ("CARGO_REGISTRIES_R_INDEX", "sparse+https://c.example.com/"),
                ("CARGO_REGISTRIES_R_TOKEN", "Bearer abc"),
            ],
            "https://c.example.com/config.json"
        ),
        Some(Authentication::BearerToken(Secret::from("Bearer abc")))
    );
}

#[test]
fn gh_token_covers_what_gh_sends_it_to() {
    check(
        &[("GH_TOKEN", "gh"), ("GITHUB_TOKEN", "ignored")],
        "
*.ghe.com BearerToken <- GH_TOKEN
api.github.com BearerToken <- GH_TOKEN
github.com BearerToken <- GH_TOKEN
uploads.github.com BearerToken <- GH_TOKEN",
    );
    let only_github = [("GITHUB_TOKEN", "g")];
    assert_eq!(
        auth_for(&only_github, "https://api.github.com/repos/o/r"),
        Some(Authentication::BearerToken(Secret::from("g")))
    );
    // Not to the redirect targets of downloads.
    assert!(auth_for(&only_github, "https://objects.githubusercontent.com/x").is_none());
    assert!(auth_for(&only_github, "https://raw.githubusercontent.com/x").is_none());
    check(
        &[
            ("GH_ENTERPRISE_TOKEN", "e"),
            ("GH_HOST", "GitHub.Corp.Example"),
        ],
        "github.corp.example BearerToken <- GH_ENTERPRISE_TOKEN GH_HOST",
    );
    check(
        &[("GITHUB_ENTERPRISE_TOKEN", "e")],
        "\n! GITHUB_ENTERPRISE_TOKEN: set GH_HOST to the GitHub Enterprise Server host it is for, as gh needs",
    );
}

#[test]
fn a_trailing_line_break_is_not_part_of_the_value() {
    let vars = [("AUTH_TOKEN_example_com", "tok\r\n")];
    assert_eq!(
        auth_for(&vars, "https://example.com/"),
        Some(Authentication::BearerToken(Secret::from("tok")))
    );
    // Other whitespace is kept: a password may end with a space.
    let vars = [
        ("AUTH_USERNAME_example_com", "u"),
        ("AUTH_PASSWORD_example_com", " pw "),
    ];
    assert_eq!(
        auth_for(&vars, "https://example.com/"),
        Some(Authentication::BasicHTTP {
            username: "u".into(),
            password: Secret::from(" pw ")
        })
    );
}

#[test]
fn bad_variables_are_problems_that_name_the_variable() {
    check(
        &[
            ("AUTH_TOKEN___bad", "v1"),
            ("AUTH_TOKEN_example_com_", "v2"),
            ("AUTH_TOKEN__com", "v3"),
            ("AUTH_TOKEN_ok_example", "line1\nline2"),
            ("AUTH_CONDA_TOKEN_empty_example", "\n"),
            ("AUTH_USERNAME_lonely_example", "u"),
            ("AUTH_PASSWORD_orphan_example", "p"),
            ("AUTH_USERNAME_colon_example", "a:b"),
            ("AUTH_PASSWORD_colon_example", "p"),
            ("UV_INDEX_NOWHERE_PASSWORD", "p"),
            ("CARGO_REGISTRIES_X_TOKEN", "t"),
            ("AUTH_LOG", "debug"),
            ("AUTH_TOKEN_fine_example", "ok"),
        ],
        "
fine.example BearerToken <- AUTH_TOKEN_fine_example
! AUTH_CONDA_TOKEN_empty_example: it is empty
! AUTH_PASSWORD_orphan_example: there is no AUTH_USERNAME_orphan_example to go with it
! AUTH_TOKEN___bad: its name cannot be read: a host cannot start with `-` (`__` at the start)
! AUTH_TOKEN__com: its name gives the key `*.com`: `*.com` would match every site under the public suffix `com`; use the registry's own domain, such as `*.example.com`
! AUTH_TOKEN_example_com_: its name cannot be read: it does not decode to a host name (`_` is `.`, `__` is `-`, a leading `_` is `*.`, a final `_NUMBER` is the port)
! AUTH_TOKEN_ok_example: its value cannot be sent: the secret contains a control character (a newline, say), which cannot be sent in a header
! AUTH_USERNAME_colon_example: its value cannot be sent: the user name contains `:`, which HTTP Basic authentication cannot carry (RFC 7617)
! AUTH_USERNAME_lonely_example: there is no AUTH_PASSWORD_lonely_example to go with it
! CARGO_REGISTRIES_X_TOKEN: there is no CARGO_REGISTRIES_X_INDEX to say which registry it is for (auth does not read .cargo/config.toml)
! UV_INDEX_NOWHERE_PASSWORD: no index named NOWHERE is in UV_INDEX or UV_DEFAULT_INDEX (as `name=URL`), so auth does not know its URL",
    );
}

#[test]
fn one_key_from_several_variables_takes_the_first_family_and_says_so() {
    check(
        &[
            ("TF_TOKEN_github_com", "tf"),
            ("AUTH_TOKEN_GITHUB_COM", "a1"),
            ("AUTH_TOKEN_github_com", "a2"),
            ("GH_TOKEN", "gh"),
        ],
        "
*.ghe.com BearerToken <- GH_TOKEN
api.github.com BearerToken <- GH_TOKEN
github.com BearerToken <- AUTH_TOKEN_GITHUB_COM
uploads.github.com BearerToken <- GH_TOKEN
! AUTH_TOKEN_github_com: AUTH_TOKEN_GITHUB_COM gives the same key `github.com` and is used
! GH_TOKEN: AUTH_TOKEN_GITHUB_COM gives the same key `github.com` and is used
! TF_TOKEN_github_com: AUTH_TOKEN_GITHUB_COM gives the same key `github.com` and is used",
    );
    let key = HostKey::parse("github.com").unwrap();
    let store = store(&[
        ("TF_TOKEN_github_com", "tf"),
        ("AUTH_TOKEN_github_com", "a"),
    ]);
    assert_eq!(
        store.get(&key).unwrap().unwrap().auth,
        Authentication::BearerToken(Secret::from("a"))
    );
}
