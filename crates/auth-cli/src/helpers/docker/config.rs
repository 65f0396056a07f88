//! The `credHelpers` entries of docker's `config.json` (which podman, skopeo and buildah read
//! too), added and removed by splicing the file's text, so that every other key keeps its place
//! and its bytes.
//!
//! The file is read with `serde_json`'s `RawValue`, which gives each top-level value as the slice
//! of the file it was written in; only the `credHelpers` object is written anew, in the file's
//! own indentation (docker writes `json.MarshalIndent` with a tab). Install adds
//! `"REGISTRY": "auth"` for each registry that has no helper yet and leaves one that names
//! another helper alone; uninstall removes every entry whose helper is `auth`, and the
//! `credHelpers` key when that leaves it empty. Install then uninstall gives back the file byte
//! for byte when docker wrote it (or when it had no `credHelpers`).

use std::path::Path;

use anyhow::{Context as _, bail};
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

/// The key docker reads per-registry helpers from.
const KEY: &str = "credHelpers";
/// Our helper's name: docker runs `docker-credential-auth`.
pub(super) const HELPER: &str = "auth";

/// What an edit did.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Edit {
    /// The new text of the file.
    pub(super) text: String,
    /// The registries whose entry was added (install) or removed (uninstall).
    pub(super) changed: Vec<String>,
    /// The registries that were already ours (install).
    pub(super) already: Vec<String>,
    /// The registries that already name another helper, left alone (install): (registry,
    /// helper).
    pub(super) others: Vec<(String, String)>,
}

/// Adds `"REGISTRY": "auth"` to `credHelpers` for each of `registries` that has no helper.
pub(super) fn add(text: &str, registries: &[String], file: &Path) -> anyhow::Result<Edit> {
    let doc = Document::parse(text, file)?;
    let mut entries = doc.helpers(file)?;
    let mut edit = Edit::default();
    for registry in registries {
        match entries.iter().find(|(name, _)| name == registry) {
            Some((_, raw)) if helper_name(raw).as_deref() == Some(HELPER) => {
                edit.already.push(registry.clone());
            }
            Some((_, raw)) => edit.others.push((
                registry.clone(),
                helper_name(raw).unwrap_or_else(|| raw.clone()),
            )),
            None => {
                entries.push((registry.clone(), quoted(HELPER)));
                edit.changed.push(registry.clone());
            }
        }
    }
    edit.text = if edit.changed.is_empty() {
        text.to_owned()
    } else {
        doc.with_helpers(&entries)
    };
    Ok(edit)
}

/// Removes every `credHelpers` entry whose helper is `auth`, and the key when it is left empty.
pub(super) fn remove(text: &str, file: &Path) -> anyhow::Result<Edit> {
    let doc = Document::parse(text, file)?;
    let mut entries = doc.helpers(file)?;
    let mut edit = Edit::default();
    entries.retain(|(name, raw)| {
        let ours = helper_name(raw).as_deref() == Some(HELPER);
        if ours {
            edit.changed.push(name.clone());
        }
        !ours
    });
    edit.text = if edit.changed.is_empty() {
        text.to_owned()
    } else {
        doc.with_helpers(&entries)
    };
    Ok(edit)
}

/// The helper a `credHelpers` value names, when it is a string.
fn helper_name(raw: &str) -> Option<String> {
    serde_json::from_str::<String>(raw).ok()
}

/// `text` as a JSON string.
fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

/// A top-level member: its key and the span of its value in the file.
#[derive(Debug)]
struct Member {
    key: String,
    start: usize,
    end: usize,
}

/// The file's text and where its top-level members are.
#[derive(Debug)]
struct Document<'a> {
    text: &'a str,
    /// The `{` of the top-level object.
    open: usize,
    /// Its `}`.
    close: usize,
    members: Vec<Member>,
    /// The indentation of a top-level key (`"\t"` as docker writes it); `None` when the file is
    /// on one line.
    indent: Option<String>,
}

impl<'a> Document<'a> {
    fn parse(text: &'a str, file: &Path) -> anyhow::Result<Self> {
        // A missing or empty file is an empty config, as docker reads it.
        let text = if text.trim().is_empty() { "{}" } else { text };
        let members = RawMembers::parse(text).with_context(|| {
            format!(
                "{} is not a JSON object, so auth cannot add to it; fix it (or move it away) and run again",
                file.display()
            )
        })?;
        let open = text.find('{').unwrap_or(0);
        let close = text.rfind('}').unwrap_or(text.len());
        let members: Vec<Member> = members
            .0
            .into_iter()
            .map(|(key, raw)| {
                // The value borrows from `text`: its offset is where it was written.
                let start = raw.get().as_ptr().addr() - text.as_ptr().addr();
                Member {
                    key,
                    start,
                    end: start + raw.get().len(),
                }
            })
            .collect();
        let indent = members.first().and_then(|first| {
            let before = &text[open + 1..first.start];
            let key_start = before
                .rfind('"')
                .and_then(|quote| before[..quote].rfind('"'));
            let space = &before[..key_start.unwrap_or(0)];
            space.rfind('\n').map(|line| space[line + 1..].to_owned())
        });
        Ok(Self {
            text,
            open,
            close,
            members,
            indent,
        })
    }

    /// The entries of `credHelpers` (the last one, as docker reads duplicate keys), each as its
    /// registry and its value's JSON text.
    fn helpers(&self, file: &Path) -> anyhow::Result<Vec<(String, String)>> {
        let Some(member) = self.members.iter().rfind(|member| member.key == KEY) else {
            return Ok(Vec::new());
        };
        let raw = &self.text[member.start..member.end];
        let Ok(entries) = RawMembers::parse(raw) else {
            bail!(
                "`{KEY}` in {} is not a JSON object of registry names and helpers; fix it and run again",
                file.display()
            );
        };
        Ok(entries
            .0
            .into_iter()
            .map(|(key, value)| (key, value.get().to_owned()))
            .collect())
    }

    /// The file with `credHelpers` holding `entries` (removed when there are none).
    fn with_helpers(&self, entries: &[(String, String)]) -> String {
        let text = self.text;
        let existing = self
            .members
            .iter()
            .enumerate()
            .rfind(|(_, member)| member.key == KEY);
        let unit = self.indent.clone().unwrap_or_else(|| "\t".to_owned());
        let compact = self.indent.is_none() && !self.members.is_empty();
        let object = render(entries, &unit, compact);
        match (existing, entries.is_empty()) {
            (Some((_, member)), false) => {
                format!("{}{object}{}", &text[..member.start], &text[member.end..])
            }
            (Some((index, member)), true) => {
                let key_start = text[..member.start]
                    .rfind(&quoted(KEY))
                    .unwrap_or(member.start);
                if self.members.len() == 1 {
                    format!("{}{}", &text[..=self.open], &text[self.close..])
                } else if index + 1 == self.members.len() {
                    let previous = &self.members[index - 1];
                    format!("{}{}", &text[..previous.end], &text[member.end..])
                } else {
                    let after = &text[member.end..];
                    let rest = after.trim_start();
                    let rest = rest.strip_prefix(',').unwrap_or(rest).trim_start();
                    let next = text.len() - rest.len();
                    format!("{}{}", &text[..key_start], &text[next..])
                }
            }
            (None, true) => text.to_owned(),
            (None, false) => {
                let member = format!("{}: {object}", quoted(KEY));
                match self.members.last() {
                    None => format!(
                        "{}\n{unit}{member}\n{}",
                        &text[..=self.open],
                        &text[self.close..]
                    ),
                    Some(last) => {
                        let separator = if compact {
                            " ".to_owned()
                        } else {
                            format!("\n{unit}")
                        };
                        format!(
                            "{},{separator}{member}{}",
                            &text[..last.end],
                            &text[last.end..]
                        )
                    }
                }
            }
        }
    }
}

/// The `credHelpers` object: one entry a line, indented one level deeper than the top-level
/// keys, or on one line in a one-line file.
fn render(entries: &[(String, String)], unit: &str, compact: bool) -> String {
    if entries.is_empty() {
        return "{}".to_owned();
    }
    let lines: Vec<String> = entries
        .iter()
        .map(|(name, value)| format!("{}: {value}", quoted(name)))
        .collect();
    if compact {
        format!("{{{}}}", lines.join(", "))
    } else {
        format!(
            "{{\n{unit}{unit}{}\n{unit}}}",
            lines.join(&format!(",\n{unit}{unit}"))
        )
    }
}

/// The members of a JSON object in the order written, each value as the text it was written
/// in.
struct RawMembers<'a>(Vec<(String, &'a RawValue)>);

impl<'a> RawMembers<'a> {
    fn parse(text: &'a str) -> serde_json::Result<Self> {
        serde_json::from_str(text)
    }
}

impl<'de> Deserialize<'de> for RawMembers<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        /// Collects the members in order.
        struct Members;
        impl<'de> Visitor<'de> for Members {
            type Value = RawMembers<'de>;
            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut members = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    let value: &'de RawValue = map.next_value()?;
                    members.push((key, value));
                }
                Ok(RawMembers(members))
            }
        }
        deserializer.deserialize_map(Members)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registries(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| (*name).to_owned()).collect()
    }

    /// Install for `names`, then uninstall: the new text as expected, then the original byte for
    /// byte.
    fn check(before: &str, names: &[&str], expect: &str) {
        let added = add(before, &registries(names), Path::new("config.json")).unwrap();
        assert_eq!(added.text, expect);
        let removed = remove(&added.text, Path::new("config.json")).unwrap();
        let original = if before.trim().is_empty() {
            "{}"
        } else {
            before
        };
        assert_eq!(removed.text, original);
        assert_eq!(removed.changed, added.changed);
    }

    #[test]
    fn a_missing_file_gets_credhelpers() {
        check(
            "",
            &["127.0.0.1:5000"],
            "{\n\t\"credHelpers\": {\n\t\t\"127.0.0.1:5000\": \"auth\"\n\t}\n}",
        );
    }

    #[test]
    fn an_empty_object_gets_credhelpers() {
        check(
            "{}\n",
            &["a.example"],
            "{\n\t\"credHelpers\": {\n\t\t\"a.example\": \"auth\"\n\t}\n}\n",
        );
    }

    #[test]
    fn other_keys_keep_their_order_and_bytes() {
        let before = "{\n\t\"auths\": {\n\t\t\"z.example\": {\n\t\t\t\"auth\": \"eDp5\"\n\t\t}\n\t},\n\t\"psFormat\": \"table {{.ID}}\",\n\t\"aliases\": {\"builder\": \"buildx\"}\n}";
        check(
            before,
            &["a.example", "b.example:5000"],
            "{\n\t\"auths\": {\n\t\t\"z.example\": {\n\t\t\t\"auth\": \"eDp5\"\n\t\t}\n\t},\n\t\"psFormat\": \"table {{.ID}}\",\n\t\"aliases\": {\"builder\": \"buildx\"},\n\t\"credHelpers\": {\n\t\t\"a.example\": \"auth\",\n\t\t\"b.example:5000\": \"auth\"\n\t}\n}",
        );
    }

    #[test]
    fn two_space_indentation_is_followed() {
        check(
            "{\n  \"credsStore\": \"desktop\"\n}\n",
            &["a.example"],
            "{\n  \"credsStore\": \"desktop\",\n  \"credHelpers\": {\n    \"a.example\": \"auth\"\n  }\n}\n",
        );
    }

    #[test]
    fn a_one_line_file_stays_on_one_line() {
        check(
            "{\"credsStore\":\"desktop\"}",
            &["a.example"],
            "{\"credsStore\":\"desktop\", \"credHelpers\": {\"a.example\": \"auth\"}}",
        );
    }

    #[test]
    fn existing_helpers_are_kept_and_another_helper_wins() {
        let before = "{\n\t\"credHelpers\": {\n\t\t\"gcr.io\": \"gcloud\",\n\t\t\"a.example\": \"ecr-login\"\n\t},\n\t\"auths\": {}\n}";
        let added = add(
            before,
            &registries(&["a.example", "b.example"]),
            Path::new("config.json"),
        )
        .unwrap();
        assert_eq!(
            added.text,
            "{\n\t\"credHelpers\": {\n\t\t\"gcr.io\": \"gcloud\",\n\t\t\"a.example\": \"ecr-login\",\n\t\t\"b.example\": \"auth\"\n\t},\n\t\"auths\": {}\n}"
        );
        assert_eq!(added.changed, ["b.example"]);
        assert_eq!(
            added.others,
            [("a.example".to_owned(), "ecr-login".to_owned())]
        );
        let removed = remove(&added.text, Path::new("config.json")).unwrap();
        assert_eq!(removed.text, before);
    }

    #[test]
    fn credhelpers_first_of_several_is_removed_with_its_comma() {
        let with = "{\n\t\"credHelpers\": {\n\t\t\"a.example\": \"auth\"\n\t},\n\t\"auths\": {}\n}";
        let removed = remove(with, Path::new("config.json")).unwrap();
        assert_eq!(removed.text, "{\n\t\"auths\": {}\n}");
    }

    #[test]
    fn a_second_install_changes_nothing() {
        let once = add("", &registries(&["a.example"]), Path::new("c")).unwrap();
        let twice = add(&once.text, &registries(&["a.example"]), Path::new("c")).unwrap();
        assert_eq!(twice.text, once.text);
        assert!(twice.changed.is_empty());
        assert_eq!(twice.already, ["a.example"]);
    }

    #[test]
    fn nothing_of_ours_is_nothing_removed() {
        let before = "{\"credHelpers\": {\"gcr.io\": \"gcloud\"}}";
        let removed = remove(before, Path::new("c")).unwrap();
        assert_eq!(removed.text, before);
        assert!(removed.changed.is_empty());
    }

    #[test]
    fn a_file_that_is_not_an_object_is_refused() {
        let err = add(
            "[1]",
            &registries(&["a"]),
            Path::new("/h/.docker/config.json"),
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("/h/.docker/config.json is not a JSON object"),
            "{err}"
        );
        let err = add(
            "{\"credHelpers\": []}",
            &registries(&["a"]),
            Path::new("/h/config.json"),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("`credHelpers` in /h/config.json"),
            "{err}"
        );
    }
}
