//! `auth helper install|uninstall cargo`: our entry in `registry.global-credential-providers` of
//! cargo's `config.toml`, added and removed with `toml_edit` so that every other byte of the file
//! (comments, order, spacing, other keys) stays as it was.
//!
//! Cargo's default provider list is `["cargo:token"]`, and later entries take precedence. When
//! the key is absent we write `["cargo:token", OURS]`, so that tokens cargo already holds keep
//! working behind ours; when it is there we append ours. A table or key we created carries a
//! marker comment, and uninstall removes exactly that: our entry, then the key if only
//! `cargo:token` is left in a key we created, then the `[registry]` table if it is empty and we
//! created it. Install then uninstall gives back the file byte for byte.

use std::path::Path;

use anyhow::{Context as _, bail};
use toml_edit::{Array, DocumentMut, Item, Table, Value};

/// The table and key cargo reads the global provider list from.
const TABLE: &str = "registry";
const KEY: &str = "global-credential-providers";
/// Cargo's own default list, kept in front of ours when we create the key.
const CARGO_DEFAULT: &str = "cargo:token";
/// The comment on a table or key we created; uninstall removes only what carries it.
const MARKER: &str =
    "# Added by `auth helper install cargo`; `auth helper uninstall cargo` removes it.\n";

/// What an edit did, for the message.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Change {
    /// Our entry was added; the text is the new file.
    Added { entry: String, text: String },
    /// One of ours was there already (the entry as written).
    AlreadyThere(String),
    /// Our entries were removed (as written); the text is the new file.
    Removed { entries: Vec<String>, text: String },
    /// There was nothing of ours to remove.
    NothingToRemove,
}

/// The provider entry for the binary at `exe`: `EXE helper cargo`. Cargo splits a
/// `global-credential-providers` entry on whitespace, so a path with a space cannot be one.
pub(super) fn entry_for(exe: &Path) -> anyhow::Result<String> {
    let shown = exe.display().to_string();
    let Some(path) = exe.to_str() else {
        bail!(
            "the path of auth ({shown}) is not UTF-8, which cargo's config cannot hold; add \"auth helper cargo\" to registry.global-credential-providers yourself, with auth on PATH"
        );
    };
    if path.chars().any(char::is_whitespace) {
        bail!(
            "the path of auth ({shown}) holds a space, and cargo splits each entry of registry.global-credential-providers on spaces; add `[credential-alias]` `auth = [\"{path}\", \"helper\", \"cargo\"]` and \"auth\" to the list yourself, or install auth in a directory without spaces"
        );
    }
    Ok(format!("{path} helper cargo"))
}

/// Whether a provider entry is an `auth` of ours, wherever it was installed from:
/// `…/auth helper cargo` or the multi-call name `cargo-credential-auth`.
fn is_ours(entry: &str) -> bool {
    let words: Vec<&str> = entry.split_whitespace().collect();
    let name = |program: &str| {
        Path::new(program)
            .file_stem()
            .and_then(|stem| stem.to_str())
            .map(str::to_owned)
    };
    match words.as_slice() {
        [program, "helper", "cargo"] => name(program).as_deref() == Some("auth"),
        [program] => name(program).as_deref() == Some("cargo-credential-auth"),
        _ => false,
    }
}

/// Adds `entry` to the provider list of the config text `text` (empty for a file that does not
/// exist). `file` names the file in errors.
pub(super) fn add(text: &str, entry: &str, file: &Path) -> anyhow::Result<Change> {
    let mut doc = parse(text, file)?;
    if !doc.contains_key(TABLE) {
        let mut table = Table::new();
        table.decor_mut().set_prefix(if text.is_empty() {
            MARKER.to_owned()
        } else {
            format!("\n{MARKER}")
        });
        doc.insert(TABLE, Item::Table(table));
    }
    let registry = doc[TABLE].as_table_like_mut().with_context(|| {
        format!(
            "`{TABLE}` in {} is not a table; cargo would not read it either: fix it and run `auth helper install cargo` again",
            file.display()
        )
    })?;
    match registry.get_mut(KEY) {
        None => {
            let mut list = Array::new();
            list.push(CARGO_DEFAULT);
            list.push(entry);
            registry.insert(KEY, Item::Value(Value::Array(list)));
            // A new table already says who made it; a key in the user's table says it itself.
            if !registry_is_ours(&doc)
                && let Some(mut key) = doc[TABLE]
                    .as_table_like_mut()
                    .and_then(|table| table.key_mut(KEY))
            {
                key.leaf_decor_mut().set_prefix(MARKER);
            }
        }
        Some(item) => {
            let list = item.as_array_mut().with_context(|| not_a_list(file))?;
            if let Some(existing) = list.iter().filter_map(Value::as_str).find(|e| is_ours(e)) {
                return Ok(Change::AlreadyThere(existing.to_owned()));
            }
            list.push(entry);
        }
    }
    Ok(Change::Added {
        entry: entry.to_owned(),
        text: doc.to_string(),
    })
}

/// Removes every entry of ours from the provider list of `text`, and what we created for it.
pub(super) fn remove(text: &str, file: &Path) -> anyhow::Result<Change> {
    let mut doc = parse(text, file)?;
    let table_is_ours = registry_is_ours(&doc);
    let Some(registry) = doc.get_mut(TABLE).and_then(Item::as_table_like_mut) else {
        return Ok(Change::NothingToRemove);
    };
    let key_is_ours = registry
        .key(KEY)
        .and_then(|key| key.leaf_decor().prefix())
        .and_then(|prefix| prefix.as_str())
        .is_some_and(|prefix| prefix.contains(MARKER.trim_end()));
    let Some(item) = registry.get_mut(KEY) else {
        return Ok(Change::NothingToRemove);
    };
    let list = item.as_array_mut().with_context(|| not_a_list(file))?;
    let mut entries = Vec::new();
    list.retain(|value| match value.as_str() {
        Some(entry) if is_ours(entry) => {
            entries.push(entry.to_owned());
            false
        }
        _ => true,
    });
    if entries.is_empty() {
        return Ok(Change::NothingToRemove);
    }
    let only_default =
        list.len() == 1 && list.get(0).and_then(Value::as_str) == Some(CARGO_DEFAULT);
    if (key_is_ours || table_is_ours) && (only_default || list.is_empty()) {
        registry.remove(KEY);
    } else if list.is_empty() {
        // The user's own key, emptied: leave `[]`, which is what it said before without us.
    } else {
        list.fmt();
    }
    if table_is_ours && registry.is_empty() {
        doc.remove(TABLE);
    }
    Ok(Change::Removed {
        entries,
        text: doc.to_string(),
    })
}

/// Whether the `[registry]` table is one we created.
fn registry_is_ours(doc: &DocumentMut) -> bool {
    doc.get(TABLE)
        .and_then(Item::as_table)
        .and_then(|table| table.decor().prefix())
        .and_then(|prefix| prefix.as_str())
        .is_some_and(|prefix| prefix.contains(MARKER.trim_end()))
}

fn parse(text: &str, file: &Path) -> anyhow::Result<DocumentMut> {
    text.parse::<DocumentMut>().with_context(|| {
        format!(
            "{} is not valid TOML, so auth leaves it alone; fix it (`cargo config get` shows what cargo reads) and run this again",
            file.display()
        )
    })
}

fn not_a_list(file: &Path) -> String {
    format!(
        "`{TABLE}.{KEY}` in {} is not a list of strings; cargo would not read it either: fix it and run this again",
        file.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENTRY: &str = "/opt/bin/auth helper cargo";

    fn added(text: &str) -> String {
        match add(text, ENTRY, Path::new("config.toml")).unwrap() {
            Change::Added { text, .. } => text,
            other => panic!("expected an addition, got {other:?}"),
        }
    }

    fn removed(text: &str) -> String {
        match remove(text, Path::new("config.toml")).unwrap() {
            Change::Removed { text, .. } => text,
            other => panic!("expected a removal, got {other:?}"),
        }
    }

    /// Install, then uninstall: the new text as expected, then the original byte for byte.
    fn check(before: &str, expect: &str) {
        let after = added(before);
        assert_eq!(after, expect);
        assert_eq!(removed(&after), before);
    }

    #[test]
    fn an_empty_file_gets_a_table_of_ours() {
        check(
            "",
            "# Added by `auth helper install cargo`; `auth helper uninstall cargo` removes it.\n[registry]\nglobal-credential-providers = [\"cargo:token\", \"/opt/bin/auth helper cargo\"]\n",
        );
    }

    #[test]
    fn other_tables_and_comments_stay() {
        check(
            "# my settings\n[net]\ngit-fetch-with-cli = true # yes\n\n[registries.private]\nindex = \"sparse+http://127.0.0.1:1/index/\"\n",
            "# my settings\n[net]\ngit-fetch-with-cli = true # yes\n\n[registries.private]\nindex = \"sparse+http://127.0.0.1:1/index/\"\n\n# Added by `auth helper install cargo`; `auth helper uninstall cargo` removes it.\n[registry]\nglobal-credential-providers = [\"cargo:token\", \"/opt/bin/auth helper cargo\"]\n",
        );
    }

    #[test]
    fn a_registry_table_of_the_users_gets_a_key_of_ours() {
        check(
            "[registry]\ndefault = \"private\"  # mine\n\n[http]\ntimeout = 5\n",
            "[registry]\ndefault = \"private\"  # mine\n# Added by `auth helper install cargo`; `auth helper uninstall cargo` removes it.\nglobal-credential-providers = [\"cargo:token\", \"/opt/bin/auth helper cargo\"]\n\n[http]\ntimeout = 5\n",
        );
    }

    #[test]
    fn a_list_of_the_users_gets_our_entry_last() {
        check(
            "[registry]\nglobal-credential-providers = [\"cargo:token\", \"cargo:libsecret\"] # keep\n",
            "[registry]\nglobal-credential-providers = [\"cargo:token\", \"cargo:libsecret\", \"/opt/bin/auth helper cargo\"] # keep\n",
        );
        // Only `cargo:token` in the user's own list: the key is theirs and stays.
        check(
            "[registry]\nglobal-credential-providers = [\"cargo:token\"]\n",
            "[registry]\nglobal-credential-providers = [\"cargo:token\", \"/opt/bin/auth helper cargo\"]\n",
        );
    }

    #[test]
    fn a_dotted_key_at_the_top_is_edited_in_place() {
        check(
            "registry.global-credential-providers = [\"cargo:token\"]\n[net]\noffline = false\n",
            "registry.global-credential-providers = [\"cargo:token\", \"/opt/bin/auth helper cargo\"]\n[net]\noffline = false\n",
        );
    }

    #[test]
    fn installing_twice_changes_nothing() {
        let once = added("[net]\noffline = false\n");
        assert_eq!(
            add(&once, ENTRY, Path::new("config.toml")).unwrap(),
            Change::AlreadyThere(ENTRY.to_owned())
        );
        // Another installation of auth (moved, or on PATH) counts as ours.
        let text = "[registry]\nglobal-credential-providers = [\"auth helper cargo\"]\n";
        assert_eq!(
            add(text, ENTRY, Path::new("config.toml")).unwrap(),
            Change::AlreadyThere("auth helper cargo".to_owned())
        );
    }

    #[test]
    fn uninstall_without_our_entry_changes_nothing() {
        for text in [
            "",
            "[net]\noffline = true\n",
            "[registry]\nglobal-credential-providers = [\"cargo:token\", \"other helper cargo\"]\n",
        ] {
            assert_eq!(
                remove(text, Path::new("config.toml")).unwrap(),
                Change::NothingToRemove,
                "{text}"
            );
        }
    }

    #[test]
    fn entries_that_only_look_like_ours_are_not_ours() {
        for entry in [
            "cargo:token",
            "/bin/auth-helper helper cargo",
            "/bin/auth helper git",
            "/bin/auth helper cargo --extra",
            "/bin/cargo-credential-authx",
        ] {
            assert!(!is_ours(entry), "{entry}");
        }
        for entry in [
            "auth helper cargo",
            "/usr/local/bin/auth helper cargo",
            "cargo-credential-auth",
        ] {
            assert!(is_ours(entry), "{entry}");
        }
    }

    #[test]
    fn broken_files_are_refused_with_what_to_do() {
        let err = add("[registry\n", ENTRY, Path::new("/h/.cargo/config.toml")).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("/h/.cargo/config.toml is not valid TOML, so auth leaves it alone"),
            "{err}"
        );
        let err = add(
            "[registry]\nglobal-credential-providers = \"cargo:token\"\n",
            ENTRY,
            Path::new("config.toml"),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("is not a list of strings"),
            "{err}"
        );
    }

    #[test]
    fn a_path_with_a_space_cannot_be_an_entry() {
        assert_eq!(
            entry_for(Path::new("/opt/bin/auth")).unwrap(),
            "/opt/bin/auth helper cargo"
        );
        let err = entry_for(Path::new("/opt/my tools/auth")).unwrap_err();
        assert!(err.to_string().contains("[credential-alias]"), "{err}");
    }
}
