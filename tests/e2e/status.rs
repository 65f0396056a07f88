//! `auth status`: the table and the JSON list what could be read and every store's state, also
//! when a store or the config file is broken; the JSON always parses and always matches the
//! published schema, `docs/status.schema.json`.

use std::fs;
use std::path::Path;

use auth_tests::{Run, Sandbox};
use serde_json::Value;

/// The published schema, read from the docs so the test and the docs cannot drift apart.
fn schema() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/status.schema.json");
    serde_json::from_str(&fs::read_to_string(&path).expect("docs/status.schema.json"))
        .expect("the schema is JSON")
}

/// Checks `value` against the part of JSON Schema (2020-12) that `docs/status.schema.json`
/// uses: `type`, `const`, `enum`, `required`, `properties`, `additionalProperties: false`,
/// `items`, `$ref` to `#/$defs/…`, `allOf`, `not`, `if`/`then`/`else`. A keyword it does not
/// know fails the check, so the schema cannot grow past what is checked. Returns every
/// violation, each with its JSON path.
fn violations(root: &Value, schema: &Value, value: &Value, at: &str) -> Vec<String> {
    let mut found = Vec::new();
    let Some(schema) = schema.as_object() else {
        return vec![format!("{at}: the schema is not an object")];
    };
    for (keyword, rule) in schema {
        match keyword.as_str() {
            // Read by `$ref`, and by `if`.
            "$schema" | "title" | "description" | "$defs" | "then" | "else" => {}
            "$ref" => {
                let name = rule
                    .as_str()
                    .and_then(|r| r.strip_prefix("#/$defs/"))
                    .expect("a $ref into $defs");
                found.extend(violations(root, &root["$defs"][name], value, at));
            }
            "type" => {
                if !has_type(rule, value) {
                    found.push(format!("{at}: {value} is not of type {rule}"));
                }
            }
            "const" => {
                if value != rule {
                    found.push(format!("{at}: {value} is not {rule}"));
                }
            }
            "enum" => {
                if !rule.as_array().unwrap().contains(value) {
                    found.push(format!("{at}: {value} is not one of {rule}"));
                }
            }
            "required" => {
                for name in rule.as_array().unwrap() {
                    let name = name.as_str().unwrap();
                    if value.get(name).is_none() {
                        found.push(format!("{at}: `{name}` is missing"));
                    }
                }
            }
            "properties" => {
                if let Some(object) = value.as_object() {
                    for (name, property) in rule.as_object().unwrap() {
                        if let Some(field) = object.get(name) {
                            found.extend(violations(
                                root,
                                property,
                                field,
                                &format!("{at}.{name}"),
                            ));
                        }
                    }
                }
            }
            "additionalProperties" => {
                assert_eq!(rule, &Value::Bool(false), "{at}: only `false` is checked");
                let known = schema["properties"].as_object().unwrap();
                for name in value.as_object().map(|o| o.keys()).into_iter().flatten() {
                    if !known.contains_key(name) {
                        found.push(format!("{at}: `{name}` is not in the schema"));
                    }
                }
            }
            "items" => {
                for (index, item) in value.as_array().into_iter().flatten().enumerate() {
                    found.extend(violations(root, rule, item, &format!("{at}[{index}]")));
                }
            }
            "allOf" => {
                for part in rule.as_array().unwrap() {
                    found.extend(violations(root, part, value, at));
                }
            }
            "not" => {
                if violations(root, rule, value, at).is_empty() {
                    found.push(format!("{at}: {value} matches `not` {rule}"));
                }
            }
            "if" => {
                let branch = if violations(root, rule, value, at).is_empty() {
                    "then"
                } else {
                    "else"
                };
                if let Some(branch) = schema.get(branch) {
                    found.extend(violations(root, branch, value, at));
                }
            }
            other => panic!("{at}: the schema uses `{other}`, which this check does not know"),
        }
    }
    found
}

/// Whether `value` is of the type (or one of the types) `rule` names.
fn has_type(rule: &Value, value: &Value) -> bool {
    let types: Vec<&str> = match rule {
        Value::String(one) => vec![one.as_str()],
        Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
        _ => panic!("bad type rule {rule}"),
    };
    types.iter().any(|name| match *name {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        other => panic!("unknown type {other}"),
    })
}

/// The JSON of a `status --json` run, checked against the schema, its `errors` agreeing with
/// the exit code.
fn checked_report(sandbox: &Sandbox, run: &Run) -> Value {
    let value: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|err| panic!("stdout is not JSON ({err}):\n{}", sandbox.show(run)));
    let schema = schema();
    let wrong = violations(&schema, &schema, &value, "$");
    assert!(wrong.is_empty(), "{wrong:#?}\n{}", sandbox.show(run));
    let errors = value["errors"].as_array().unwrap();
    assert_eq!(
        run.code,
        i32::from(!errors.is_empty()),
        "the exit code says whether `errors` is empty:\n{}",
        sandbox.show(run)
    );
    value
}

fn store<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["stores"]
        .as_array()
        .unwrap()
        .iter()
        .find(|store| store["name"] == name)
        .unwrap_or_else(|| panic!("no store `{name}` in {report:#}"))
}

fn keys(report: &Value) -> Vec<&str> {
    report["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["key"].as_str().unwrap())
        .collect()
}

const NETRC: &str = "machine netrc.example.com login nu password netrc-status-pw\n";

/// A HOME with one entry in the file and one in `.netrc`.
fn with_entries() -> Sandbox {
    let sandbox = Sandbox::new();
    let login = sandbox.run(&["login", "file.example.com", "--token", "file-status-token"]);
    assert_eq!(login.code, 0, "{}", sandbox.show(&login));
    fs::write(sandbox.home().join(".netrc"), NETRC).unwrap();
    sandbox
}

fn secrets_absent(run: &Run) {
    for secret in [
        "file-status-token",
        "netrc-status-pw",
        "corrupt-status-secret",
    ] {
        assert!(
            !run.all_output().contains(secret),
            "{secret} leaked: {run:?}"
        );
    }
}

#[test]
fn the_json_of_healthy_stores_matches_the_schema() {
    let sandbox = with_entries();
    let run = sandbox.run(&["status", "--json"]);
    secrets_absent(&run);
    let report = checked_report(&sandbox, &run);
    assert_eq!(run.code, 0);
    assert_eq!(keys(&report), ["file.example.com", "netrc.example.com"]);
    assert_eq!(store(&report, "keyring")["state"], "unavailable");
    assert!(
        store(&report, "keyring")["reason"]
            .as_str()
            .unwrap()
            .contains("D-Bus")
    );
    assert_eq!(store(&report, "file")["state"], "ok");
    assert_eq!(store(&report, "netrc")["state"], "ok");
    assert_eq!(report["config"]["state"], "ok");
    assert_eq!(report["entries"][1]["username"], "nu");
}

/// Ways to break the default credentials file, each a thing a user can end up with.
fn break_file(sandbox: &Sandbox, how: &str) {
    let file = sandbox.default_file();
    fs::create_dir_all(file.parent().unwrap()).unwrap();
    fs::remove_file(&file).unwrap();
    match how {
        "corrupt" => fs::write(
            &file,
            "{\"a.example.com\": {\"BearerToken\": \"corrupt-status-secret\"}\n",
        )
        .unwrap(),
        "not UTF-8" => fs::write(&file, b"{\"a.example.com\": \"\xff\xfe\"}\n").unwrap(),
        "a directory" => fs::create_dir(&file).unwrap(),
        // Unreadable even for root (chmod 000 is not): the path goes through a regular file.
        "unreadable" => {
            let blocker = file.parent().unwrap().join("blocker");
            fs::write(&blocker, "").unwrap();
            std::os::unix::fs::symlink(blocker.join("credentials.json"), &file).unwrap();
        }
        other => panic!("{other}"),
    }
}

// `auth status --json` printed nothing on stdout when the credentials file was broken: a script
// reading it got no JSON at all, and did not see what the other stores held.
#[test]
fn a_broken_file_still_gives_json_with_the_other_stores_entries() {
    for how in ["corrupt", "not UTF-8", "a directory", "unreadable"] {
        let sandbox = with_entries();
        break_file(&sandbox, how);
        let run = sandbox.run(&["status", "--json"]);
        secrets_absent(&run);
        let report = checked_report(&sandbox, &run);
        assert_eq!(run.code, 1, "{how}: {}", sandbox.show(&run));
        assert_eq!(keys(&report), ["netrc.example.com"], "{how}");
        let file = store(&report, "file");
        assert_eq!(file["state"], "error", "{how}: {report:#}");
        let message = file["message"].as_str().unwrap();
        assert!(
            message.contains(&sandbox.default_file().display().to_string()),
            "{how}: the message names the file: {message}"
        );
        assert_eq!(report["errors"][0], *message, "{how}");
        // The table says the same, and the error line on stderr says what to fix.
        let table = sandbox.run(&["status"]);
        secrets_absent(&table);
        assert_eq!(table.code, 1, "{how}: {}", sandbox.show(&table));
        assert!(
            table.stdout.contains("netrc.example.com"),
            "{how}: {}",
            sandbox.show(&table)
        );
        assert!(
            table.stdout.contains(&format!("file: error: {message}")),
            "{how}: {}",
            sandbox.show(&table)
        );
        assert!(
            table.stderr.starts_with("error: "),
            "{how}: {}",
            sandbox.show(&table)
        );
    }
}

#[test]
fn a_broken_netrc_is_an_error_in_status_and_the_file_is_listed() {
    let sandbox = with_entries();
    fs::write(
        sandbox.home().join(".netrc"),
        "machine x login u password \"unclosed-status-pw\n",
    )
    .unwrap();
    let run = sandbox.run(&["status", "--json"]);
    let report = checked_report(&sandbox, &run);
    assert_eq!(run.code, 1);
    assert_eq!(keys(&report), ["file.example.com"]);
    assert_eq!(store(&report, "netrc")["state"], "error");
    assert!(!run.all_output().contains("unclosed-status-pw"), "{run:?}");
    // Other commands go on without it, with a warning.
    let token = sandbox.run(&["token", "file.example.com"]);
    assert_eq!(
        token.stdout,
        "file-status-token\n",
        "{}",
        sandbox.show(&token)
    );
}

#[test]
fn a_broken_config_gives_json_and_a_file_named_outside_it_is_still_listed() {
    let sandbox = with_entries();
    let config = sandbox
        .home()
        .join(".config")
        .join("auth")
        .join("config.toml");
    fs::create_dir_all(config.parent().unwrap()).unwrap();
    fs::write(&config, "no-such-setting = 1\n").unwrap();
    let run = sandbox.run(&["status", "--json"]);
    let report = checked_report(&sandbox, &run);
    assert_eq!(run.code, 1);
    assert_eq!(report["config"]["state"], "error");
    assert!(
        report["config"]["message"]
            .as_str()
            .unwrap()
            .contains("no-such-setting"),
        "{report:#}"
    );
    // The config may name the only file to use, so the default chain is not claimed.
    assert_eq!(report["stores"], serde_json::json!([]));
    let table = sandbox.run(&["status"]);
    assert_eq!(table.code, 1);
    assert!(
        table.stderr.contains("no-such-setting"),
        "{}",
        sandbox.show(&table)
    );

    let file = sandbox.default_file();
    let run = sandbox.run(&["status", "--json", "--auth-file", file.to_str().unwrap()]);
    let report = checked_report(&sandbox, &run);
    assert_eq!(run.code, 1);
    assert_eq!(keys(&report), ["file.example.com"]);
    assert_eq!(store(&report, "file")["state"], "ok");
}

#[test]
fn the_json_marks_a_shadowed_entry_and_lists_unknown_ones() {
    let sandbox = Sandbox::new();
    let file = sandbox.default_file();
    fs::create_dir_all(file.parent().unwrap()).unwrap();
    fs::write(
        &file,
        r#"{
  "netrc.example.com": {"BearerToken": "file-status-token"},
  "https://user:corrupt-status-secret@future.example.com": {"BearerToken": "t"},
  "conda.example.com/t/corrupt-status-secret/x": {"CondaToken": "t"},
  "kerberos.example.com": {"Kerberos": {"ticket": "t"}},
  "ftp://corrupt-status-secret@bad.example.com": {"BearerToken": "t"}
}"#,
    )
    .unwrap();
    fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    fs::write(sandbox.home().join(".netrc"), NETRC).unwrap();
    let run = sandbox.run(&["status", "--json"]);
    secrets_absent(&run);
    let report = checked_report(&sandbox, &run);
    let entries = report["entries"].as_array().unwrap();
    let shown: Vec<(&str, &str, bool)> = entries
        .iter()
        .map(|e| {
            (
                e["key"].as_str().unwrap(),
                e["store"].as_str().unwrap(),
                e["shadowed"].as_bool().unwrap(),
            )
        })
        .collect();
    // A key's user information and conda token are masked, as in every URL auth prints.
    assert_eq!(
        shown,
        [
            ("conda.example.com/t/****/x", "file", false),
            ("https://****@future.example.com", "file", false),
            ("netrc.example.com", "file", false),
            ("netrc.example.com", "netrc", true)
        ]
    );
    let unknown: Vec<&str> = report["unknown_entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        unknown,
        ["kerberos.example.com", "ftp://****@bad.example.com"],
        "{report:#}"
    );
    // The table masks them too.
    let table = sandbox.run(&["status"]);
    secrets_absent(&table);
    assert!(
        table.stdout.contains("https://****@future.example.com"),
        "{}",
        sandbox.show(&table)
    );
}

// `auth status` with nothing stored named the file and .netrc but not the keyring it could not
// reach, though it did when entries existed.
#[test]
fn the_table_lists_every_store_with_its_state_even_when_nothing_is_stored() {
    let sandbox = Sandbox::new();
    let run = sandbox.run(&["status"]);
    assert_eq!(run.code, 0);
    insta::assert_snapshot!(sandbox.show(&run), @r"
    exit: 0
    --- stdout
    No credentials are stored. Run `auth login HOST` to add one.

    keyring: unavailable: cannot reach the Secret Service on the D-Bus session bus (zbus error: Failed to connect to address `unix:path=[HOME]/no-session-bus`: No such file or directory (os error 2))
    file: [HOME]/.rattler/credentials.json
    netrc: [HOME]/.netrc
    --- stderr
    ");
}

#[test]
fn the_json_schema_check_catches_what_it_claims_to() {
    let schema = schema();
    let good = serde_json::json!({
        "version": 1,
        "config": {"path": null, "state": "ok"},
        "stores": [{"name": "file", "location": "/f", "state": "error", "message": "m"}],
        "entries": [{"key": "k", "kind": "BearerToken", "username": null, "store": "file",
                     "location": "/f", "expires_at": null, "scopes": null, "shadowed": false}],
        "unknown_entries": [],
        "errors": ["m"]
    });
    assert_eq!(
        violations(&schema, &schema, &good, "$"),
        Vec::<String>::new()
    );
    let broken = |path: &str, replace: Value| {
        let mut value = good.clone();
        *value.pointer_mut(path).unwrap() = replace;
        violations(&schema, &schema, &value, "$")
    };
    assert!(!broken("/version", 2.into()).is_empty());
    assert!(
        !broken("/stores/0/state", "unavailable".into()).is_empty(),
        "reason is required"
    );
    assert!(
        !broken("/stores/0/state", "ok".into()).is_empty(),
        "no message when ok"
    );
    assert!(!broken("/entries/0/shadowed", "no".into()).is_empty());
    assert!(!broken("/entries/0/kind", "Kerberos".into()).is_empty());
    assert!(!broken("/config", serde_json::json!({"path": null})).is_empty());
    assert!(!broken("/entries/0", serde_json::json!({"key": "k", "extra": 1})).is_empty());
}

#[test]
fn the_table_warns_about_the_first_unknown_entries_and_counts_the_rest() {
    let sandbox = Sandbox::new();
    let file = sandbox.default_file();
    fs::create_dir_all(file.parent().unwrap()).unwrap();
    let entries: Vec<String> = (0..25)
        .map(|i| format!("\"h{i:02}.example.com\": {{\"Kerberos\": {{}}}}"))
        .collect();
    fs::write(&file, format!("{{{}}}", entries.join(",\n"))).unwrap();
    fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let run = sandbox.run(&["status"]);
    assert_eq!(run.code, 0, "{}", sandbox.show(&run));
    let warnings: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(warnings.len(), 21, "{}", run.stderr);
    assert!(
        warnings[0].contains("`h00.example.com` is kept but not used"),
        "{}",
        run.stderr
    );
    assert_eq!(
        warnings[20],
        "warning: 5 more entries are kept but not used; `auth status --json` lists them all"
    );
    let json = sandbox.run(&["status", "--json"]);
    let report = checked_report(&sandbox, &json);
    assert_eq!(report["unknown_entries"].as_array().unwrap().len(), 25);
    assert!(json.stderr.is_empty(), "{}", json.stderr);
}
