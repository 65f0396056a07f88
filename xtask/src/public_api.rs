//! `cargo xtask public-api [--check]`: each library crate's public API as text
//! (`crates/<crate>/public-api.txt`), made from rustdoc's JSON output, so that a change to it
//! shows in review and an accidental one fails `cargo xtask lint`.
//!
//! rustdoc's JSON is unstable: it is asked for with `RUSTC_BOOTSTRAP=1` on the pinned stable
//! toolchain, in a target directory of its own. The listing is ours (neither `cargo public-api`
//! nor `cargo-semver-checks` builds against this toolchain's JSON format without a nightly): one
//! line per public item, reached from the crate root through public modules and re-exports,
//! with the signatures of functions and methods, the public fields of structs, the variants of
//! enums, and the traits each type implements (auto traits and blanket impls left out).

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use serde_json::Value;

use crate::cmd;

/// The library crates whose API is checked: every crate a downstream project may depend on.
const CRATES: &[&str] = &[
    "auth-core",
    "auth-store-file",
    "auth-store-keyring",
    "auth-store-netrc",
    "auth-store-env",
    "auth-s3",
    "auth-keyring-cli",
    "auth-middleware",
    "auth-oauth",
    "auth-chain",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Write,
    Check,
}

/// `cargo doc --workspace --no-deps` with every rustdoc warning an error (broken links, bad
/// code blocks), in the same target directory as the JSON, so the two share their dependencies.
pub(crate) fn docs() -> Result<()> {
    cmd::run(
        cmd::cargo()
            .args(["doc", "-q", "--workspace", "--no-deps", "--target-dir"])
            .arg(target_dir())
            .env("RUSTDOCFLAGS", "-D warnings")
            .env("RUSTC_BOOTSTRAP", "1"),
    )
}

fn target_dir() -> PathBuf {
    cmd::root().join("target").join("public-api")
}

pub(crate) fn run(mode: Mode) -> Result<()> {
    let root = cmd::root();
    let target = target_dir();
    let mut stale = Vec::new();
    for krate in CRATES {
        let dir = root.join("crates").join(krate);
        if !dir.is_dir() {
            continue;
        }
        let json = rustdoc_json(krate, &target)?;
        let listing =
            render(&json).with_context(|| format!("could not read the API of {krate}"))?;
        let path = dir.join("public-api.txt");
        let current = std::fs::read_to_string(&path).ok();
        match mode {
            Mode::Write => {
                if current.as_deref() != Some(listing.as_str()) {
                    std::fs::write(&path, &listing)
                        .with_context(|| format!("could not write {}", path.display()))?;
                    eprintln!("public-api: wrote crates/{krate}/public-api.txt");
                }
            }
            Mode::Check if current.as_deref() == Some(listing.as_str()) => {}
            Mode::Check => stale.push(describe_change(krate, current.as_deref(), &listing)),
        }
    }
    if !stale.is_empty() {
        bail!(
            "the public API changed:\n{}\nif that is intended, run `cargo xtask public-api` and commit the listings (a removal or a changed signature is a breaking change)",
            stale.join("\n")
        );
    }
    if mode == Mode::Check {
        eprintln!("public-api: every listing is up to date");
    }
    Ok(())
}

/// What changed in one crate's listing: the lines added and removed.
fn describe_change(krate: &str, current: Option<&str>, listing: &str) -> String {
    let Some(current) = current else {
        return format!("  {krate}: crates/{krate}/public-api.txt is missing");
    };
    let old: BTreeSet<&str> = current.lines().collect();
    let new: BTreeSet<&str> = listing.lines().collect();
    let mut text = format!("  {krate}:");
    for line in old.difference(&new) {
        let _ = write!(text, "\n    - {line}");
    }
    for line in new.difference(&old) {
        let _ = write!(text, "\n    + {line}");
    }
    text
}

/// Runs rustdoc for the crate's library and reads its JSON.
fn rustdoc_json(krate: &str, target: &Path) -> Result<Value> {
    cmd::run(
        cmd::cargo()
            .args(["rustdoc", "-q", "--lib", "-p", krate, "--target-dir"])
            .arg(target)
            .args(["--", "-Z", "unstable-options", "--output-format", "json"])
            .env("RUSTC_BOOTSTRAP", "1"),
    )?;
    let path: PathBuf = target
        .join("doc")
        .join(format!("{}.json", krate.replace('-', "_")));
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("rustdoc wrote no {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))
}

/// The listing: sorted, one item a line.
fn render(json: &Value) -> Result<String> {
    let index = json.get("index").context("no `index`")?;
    let root = json
        .get("root")
        .and_then(Value::as_u64)
        .context("no `root`")?;
    let crate_name = item(index, root)
        .and_then(|root| root.get("name"))
        .and_then(Value::as_str)
        .context("no crate name")?;
    let mut lines = BTreeSet::new();
    let mut walker = Walker {
        index,
        lines: &mut lines,
        seen: BTreeSet::new(),
    };
    walker.module(root, crate_name);
    let mut text = String::new();
    for line in lines {
        text.push_str(&line);
        text.push('\n');
    }
    Ok(text)
}

fn item(index: &Value, id: u64) -> Option<&Value> {
    index.get(id.to_string())
}

fn inner_kind(item: &Value) -> Option<(&str, &Value)> {
    item.get("inner")?
        .as_object()?
        .iter()
        .next()
        .map(|(kind, value)| (kind.as_str(), value))
}

fn is_public(item: &Value) -> bool {
    item.get("visibility").and_then(Value::as_str) == Some("public")
}

fn ids(value: Option<&Value>) -> Vec<u64> {
    value
        .and_then(Value::as_array)
        .map(|ids| ids.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default()
}

struct Walker<'a> {
    index: &'a Value,
    lines: &'a mut BTreeSet<String>,
    /// (item, path) pairs already listed: a type re-exported twice is listed under each path.
    seen: BTreeSet<(u64, String)>,
}

impl Walker<'_> {
    fn module(&mut self, id: u64, path: &str) {
        let Some(module) = item(self.index, id) else {
            return;
        };
        let Some(("module", inner)) = inner_kind(module) else {
            return;
        };
        for child in ids(inner.get("items")) {
            let Some(child_item) = item(self.index, child) else {
                continue;
            };
            if !is_public(child_item) {
                continue;
            }
            if let Some(("use", used)) = inner_kind(child_item) {
                self.reexport(used, path);
            } else {
                let name = child_item
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("_");
                self.item(child, &format!("{path}::{name}"));
            }
        }
    }

    fn reexport(&mut self, used: &Value, path: &str) {
        let name = used.get("name").and_then(Value::as_str).unwrap_or("_");
        let source = used.get("source").and_then(Value::as_str).unwrap_or("_");
        let is_glob = used.get("is_glob").and_then(Value::as_bool) == Some(true);
        match used.get("id").and_then(Value::as_u64) {
            // A local item: listed where it is re-exported, as users name it.
            Some(target) if item(self.index, target).is_some() => {
                if is_glob {
                    self.module(target, path);
                } else {
                    self.item(target, &format!("{path}::{name}"));
                }
            }
            // Another crate's item: the re-export itself is the API.
            _ => {
                let glob = if is_glob { "::*" } else { "" };
                self.lines
                    .insert(format!("pub use {path}::{name} = {source}{glob}"));
            }
        }
    }

    fn item(&mut self, id: u64, path: &str) {
        if !self.seen.insert((id, path.to_owned())) {
            return;
        }
        let Some(found) = item(self.index, id) else {
            return;
        };
        let Some((kind, inner)) = inner_kind(found) else {
            return;
        };
        match kind {
            "module" => {
                self.lines.insert(format!("pub mod {path}"));
                self.module(id, path);
            }
            "function" => {
                let name = path.rsplit("::").next().unwrap_or(path);
                let prefix = &path[..path.len() - name.len()];
                self.lines.insert(format!(
                    "pub {}",
                    function(inner, &format!("{prefix}{name}"))
                ));
            }
            "struct" => {
                let generics = generics(inner.get("generics"));
                self.lines.insert(format!("pub struct {path}{generics}"));
                if let Some(fields) = inner
                    .get("kind")
                    .and_then(|kind| kind.get("plain"))
                    .and_then(|plain| plain.get("fields"))
                {
                    for field in ids(Some(fields)) {
                        self.field(field, path);
                    }
                }
                if let Some(fields) = inner.get("kind").and_then(|kind| kind.get("tuple")) {
                    for field in fields
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_u64)
                    {
                        self.field(field, path);
                    }
                }
                self.impls(inner, path);
            }
            "enum" => {
                let generics = generics(inner.get("generics"));
                self.lines.insert(format!("pub enum {path}{generics}"));
                for variant in ids(inner.get("variants")) {
                    self.variant(variant, path);
                }
                self.impls(inner, path);
            }
            "trait" => {
                let generics = generics(inner.get("generics"));
                self.lines.insert(format!("pub trait {path}{generics}"));
                for member in ids(inner.get("items")) {
                    let Some(member_item) = item(self.index, member) else {
                        continue;
                    };
                    let name = member_item
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or("_");
                    match inner_kind(member_item) {
                        Some(("function", sig)) => {
                            self.lines.insert(format!(
                                "trait {}",
                                function(sig, &format!("{path}::{name}"))
                            ));
                        }
                        Some((other, _)) => {
                            self.lines.insert(format!("trait {other} {path}::{name}"));
                        }
                        None => {}
                    }
                }
            }
            "type_alias" => {
                let target = inner.get("type").map(ty).unwrap_or_default();
                self.lines.insert(format!("pub type {path} = {target}"));
            }
            "constant" => {
                let target = inner.get("type").map(ty).unwrap_or_default();
                self.lines.insert(format!("pub const {path}: {target}"));
            }
            "static" => {
                let target = inner.get("type").map(ty).unwrap_or_default();
                self.lines.insert(format!("pub static {path}: {target}"));
            }
            "macro" => {
                self.lines.insert(format!("pub macro {path}!"));
            }
            other => {
                self.lines.insert(format!("pub {other} {path}"));
            }
        }
    }

    fn field(&mut self, id: u64, path: &str) {
        let Some(field) = item(self.index, id) else {
            return;
        };
        if !is_public(field) {
            return;
        }
        let name = field.get("name").and_then(Value::as_str).unwrap_or("_");
        let field_type = field_type(field);
        self.lines
            .insert(format!("pub {path}.{name}: {field_type}"));
    }

    fn variant(&mut self, id: u64, path: &str) {
        let Some(variant) = item(self.index, id) else {
            return;
        };
        let name = variant.get("name").and_then(Value::as_str).unwrap_or("_");
        let kind = variant
            .get("inner")
            .and_then(|inner| inner.get("variant"))
            .and_then(|inner| inner.get("kind"));
        let fields = match kind {
            Some(Value::Object(kind)) if kind.contains_key("tuple") => {
                let types: Vec<String> = kind["tuple"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(
                        |field| match field.as_u64().and_then(|id| item(self.index, id)) {
                            Some(field) => field_type(field),
                            None => "_".to_owned(),
                        },
                    )
                    .collect();
                format!("({})", types.join(", "))
            }
            Some(Value::Object(kind)) if kind.contains_key("struct") => {
                let fields: Vec<String> = ids(kind["struct"].get("fields"))
                    .into_iter()
                    .filter_map(|id| item(self.index, id))
                    .map(|field| {
                        let name = field.get("name").and_then(Value::as_str).unwrap_or("_");
                        format!("{name}: {}", field_type(field))
                    })
                    .collect();
                format!(" {{ {} }}", fields.join(", "))
            }
            _ => String::new(),
        };
        self.lines.insert(format!("pub {path}::{name}{fields}"));
    }

    /// The inherent methods and the trait impls of a type (auto traits and blanket impls left
    /// out: they follow from the fields and from other crates).
    fn impls(&mut self, inner: &Value, path: &str) {
        for impl_id in ids(inner.get("impls")) {
            let Some(found) = item(self.index, impl_id) else {
                continue;
            };
            let Some(("impl", imp)) = inner_kind(found) else {
                continue;
            };
            if imp.get("is_synthetic").and_then(Value::as_bool) == Some(true)
                || imp
                    .get("blanket_impl")
                    .is_some_and(|blanket| !blanket.is_null())
            {
                continue;
            }
            match imp.get("trait").filter(|t| !t.is_null()) {
                Some(implemented) => {
                    let name = path_name(implemented);
                    self.lines.insert(format!("impl {name} for {path}"));
                }
                None => {
                    for method in ids(imp.get("items")) {
                        let Some(method_item) = item(self.index, method) else {
                            continue;
                        };
                        if !is_public(method_item) {
                            continue;
                        }
                        let name = method_item
                            .get("name")
                            .and_then(Value::as_str)
                            .unwrap_or("_");
                        match inner_kind(method_item) {
                            Some(("function", sig)) => {
                                self.lines.insert(format!(
                                    "pub {}",
                                    function(sig, &format!("{path}::{name}"))
                                ));
                            }
                            Some(("assoc_const", constant)) => {
                                let constant_type =
                                    constant.get("type").map(ty).unwrap_or_default();
                                self.lines
                                    .insert(format!("pub const {path}::{name}: {constant_type}"));
                            }
                            _ => {}
                        }
                    }
                }
            }
        }
    }
}

/// `fn path<G>(inputs) -> output`, with `async`/`const`/`unsafe` where they apply.
fn function(inner: &Value, path: &str) -> String {
    let header = inner.get("header");
    let flag = |name: &str| {
        header
            .and_then(|header| header.get(name))
            .and_then(Value::as_bool)
            == Some(true)
    };
    let mut text = String::new();
    if flag("is_const") {
        text.push_str("const ");
    }
    if flag("is_async") {
        text.push_str("async ");
    }
    if flag("is_unsafe") {
        text.push_str("unsafe ");
    }
    let sig = inner.get("sig");
    let inputs: Vec<String> = sig
        .and_then(|sig| sig.get("inputs"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|input| {
            let name = input.get(0).and_then(Value::as_str).unwrap_or("_");
            let input_type = input.get(1).map(ty).unwrap_or_default();
            match (name, input_type.as_str()) {
                ("self", "Self") => "self".to_owned(),
                ("self", "&Self") => "&self".to_owned(),
                ("self", "&mut Self") => "&mut self".to_owned(),
                _ => format!("{name}: {input_type}"),
            }
        })
        .collect();
    let output = sig
        .and_then(|sig| sig.get("output"))
        .filter(|output| !output.is_null())
        .map(|output| format!(" -> {}", ty(output)))
        .unwrap_or_default();
    let generics = generics(inner.get("generics"));
    let _ = write!(text, "fn {path}{generics}({}){output}", inputs.join(", "));
    text
}

/// `<T: Bound, 'a>` from rustdoc's generics (where clauses inlined as bounds are not).
fn generics(generics: Option<&Value>) -> String {
    let params: Vec<String> = generics
        .and_then(|generics| generics.get("params"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|param| {
            // `impl Trait` arguments show in the argument itself.
            param
                .get("kind")
                .and_then(|kind| kind.get("type"))
                .and_then(|kind| kind.get("is_synthetic"))
                .and_then(Value::as_bool)
                != Some(true)
        })
        .map(|param| {
            let name = param.get("name").and_then(Value::as_str).unwrap_or("_");
            let bounds = param
                .get("kind")
                .and_then(|kind| kind.get("type"))
                .map(|kind| bounds(kind.get("bounds")))
                .unwrap_or_default();
            if bounds.is_empty() {
                name.to_owned()
            } else {
                format!("{name}: {bounds}")
            }
        })
        .collect();
    if params.is_empty() {
        String::new()
    } else {
        format!("<{}>", params.join(", "))
    }
}

fn bounds(bounds: Option<&Value>) -> String {
    let rendered: Vec<String> = bounds
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|bound| {
            if let Some(trait_bound) = bound.get("trait_bound") {
                trait_bound.get("trait").map(path_name).unwrap_or_default()
            } else if let Some(outlives) = bound.get("outlives").and_then(Value::as_str) {
                outlives.to_owned()
            } else if bound.get("use").is_some() {
                "use<..>".to_owned()
            } else {
                "_".to_owned()
            }
        })
        .collect();
    rendered.join(" + ")
}

/// A path with its generic arguments: `Result<Option<Found>, StoreError>`.
fn path_name(path: &Value) -> String {
    let name = path
        .get("path")
        .and_then(Value::as_str)
        .unwrap_or("_")
        .to_owned();
    let args = path.get("args").filter(|args| !args.is_null());
    match args.and_then(|args| args.get("angle_bracketed")) {
        Some(angle) => {
            let mut parts: Vec<String> = angle
                .get("args")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|arg| {
                    if let Some(arg_type) = arg.get("type") {
                        ty(arg_type)
                    } else if let Some(lifetime) = arg.get("lifetime").and_then(Value::as_str) {
                        lifetime.to_owned()
                    } else if let Some(constant) = arg.get("const") {
                        constant
                            .get("expr")
                            .and_then(Value::as_str)
                            .unwrap_or("_")
                            .to_owned()
                    } else {
                        "_".to_owned()
                    }
                })
                .collect();
            for constraint in angle
                .get("constraints")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let name = constraint
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("_");
                let binding = constraint.get("binding");
                let value = binding
                    .and_then(|binding| binding.get("equality"))
                    .and_then(|equality| equality.get("type"))
                    .map(ty)
                    .unwrap_or_default();
                parts.push(format!("{name} = {value}"));
            }
            if parts.is_empty() {
                name
            } else {
                format!("{name}<{}>", parts.join(", "))
            }
        }
        None => match args.and_then(|args| args.get("parenthesized")) {
            Some(paren) => {
                let inputs: Vec<String> = paren
                    .get("inputs")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .map(ty)
                    .collect();
                let output = paren
                    .get("output")
                    .filter(|output| !output.is_null())
                    .map(|output| format!(" -> {}", ty(output)))
                    .unwrap_or_default();
                format!("{name}({}){output}", inputs.join(", "))
            }
            None => name,
        },
    }
}

/// The type of a struct field or a variant's field.
fn field_type(field: &Value) -> String {
    field
        .get("inner")
        .and_then(|inner| inner.get("struct_field"))
        .map(ty)
        .unwrap_or_default()
}

/// A type as Rust spells it, near enough to read a change.
fn ty(value: &Value) -> String {
    let Some((kind, inner)) = value.as_object().and_then(|object| object.iter().next()) else {
        return "_".to_owned();
    };
    match kind.as_str() {
        "resolved_path" => path_name(inner),
        "generic" | "primitive" => inner.as_str().unwrap_or("_").to_owned(),
        "borrowed_ref" => {
            let lifetime = inner
                .get("lifetime")
                .and_then(Value::as_str)
                .map(|lifetime| format!("{lifetime} "))
                .unwrap_or_default();
            let mutable = if inner.get("is_mutable").and_then(Value::as_bool) == Some(true) {
                "mut "
            } else {
                ""
            };
            format!(
                "&{lifetime}{mutable}{}",
                inner.get("type").map(ty).unwrap_or_default()
            )
        }
        "raw_pointer" => {
            let mutable = if inner.get("is_mutable").and_then(Value::as_bool) == Some(true) {
                "mut"
            } else {
                "const"
            };
            format!(
                "*{mutable} {}",
                inner.get("type").map(ty).unwrap_or_default()
            )
        }
        "tuple" => {
            let parts: Vec<String> = inner.as_array().into_iter().flatten().map(ty).collect();
            format!("({})", parts.join(", "))
        }
        "slice" => format!("[{}]", ty(inner)),
        "array" => format!(
            "[{}; {}]",
            inner.get("type").map(ty).unwrap_or_default(),
            inner.get("len").and_then(Value::as_str).unwrap_or("_")
        ),
        "impl_trait" => format!("impl {}", bounds(Some(inner))),
        "dyn_trait" => {
            let traits: Vec<String> = inner
                .get("traits")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|poly| poly.get("trait").map(path_name))
                .collect();
            let lifetime = inner
                .get("lifetime")
                .and_then(Value::as_str)
                .map(|lifetime| format!(" + {lifetime}"))
                .unwrap_or_default();
            format!("dyn {}{lifetime}", traits.join(" + "))
        }
        "qualified_path" => {
            let name = inner.get("name").and_then(Value::as_str).unwrap_or("_");
            let self_type = inner.get("self_type").map(ty).unwrap_or_default();
            match inner.get("trait").filter(|t| !t.is_null()) {
                Some(implemented) => format!("<{self_type} as {}>::{name}", path_name(implemented)),
                None => format!("{self_type}::{name}"),
            }
        }
        "function_pointer" => "fn(..)".to_owned(),
        "infer" => "_".to_owned(),
        other => format!("<{other}>"),
    }
}
