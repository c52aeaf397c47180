//! The versioned JSON contract (`pm schema`).
//!
//! [`assert_conforms`] is the check every helper that reads pm's stdout
//! runs (`support::json_of`, `support::document`): the document must match
//! `pm schema NOUN VERB` for the command the arguments name. The schemas
//! come from the binary under test, compiled once per command and test
//! process. `PM_SCHEMA_TALLY=FILE` appends each checked command path to FILE,
//! to count what a run covered.

use crate::support::{Sandbox, json_of};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::sync::{Mutex, OnceLock};

/// Asserts that `doc`, printed by `pm ARGS`, matches its command's schema.
pub fn assert_conforms<S: AsRef<OsStr>>(args: impl IntoIterator<Item = S>, doc: &Value) {
    let args: Vec<String> = args
        .into_iter()
        .map(|a| a.as_ref().to_string_lossy().into_owned())
        .collect();
    let path = command_path(&args);
    let verdict = {
        let mut validator = validator().lock().unwrap_or_else(|e| e.into_inner());
        validator.check(&path, doc)
    };
    if let Err(why) = verdict {
        let mut shown = doc.to_string();
        if shown.len() > 4000 {
            shown.truncate(shown.floor_char_boundary(4000));
            shown.push_str("...");
        }
        panic!(
            "`pm {}` printed a document `pm schema {path}` does not allow:\n{why}\n{shown}",
            args.join(" ")
        );
    }
    tally(&path);
}

/// The command path (`image fetch`) the arguments run: the subcommand words
/// of the clap tree, skipping options and their values; `""` for `pm`
/// itself, a noun alone for a command line clap refused at the noun.
pub fn command_path(args: &[String]) -> String {
    // `setpriv ... /path/to/pm image fetch`: pm's own arguments follow it.
    let args = match args.iter().rposition(|a| a.ends_with("/pm")) {
        Some(at) => &args[at + 1..],
        None => args,
    };
    let root = cli();
    let mut command = root;
    let mut path: Vec<&str> = Vec::new();
    let mut words = args.iter();
    while let Some(word) = words.next() {
        if word == "--" {
            break;
        }
        if word.starts_with('-') {
            if !word.contains('=') && (takes_value(root, word) || takes_value(command, word)) {
                words.next();
            }
            continue;
        }
        match command.find_subcommand(word) {
            Some(sub) => {
                path.push(sub.get_name());
                command = sub;
            }
            None => break,
        }
    }
    path.join(" ")
}

fn cli() -> &'static clap::Command {
    static CLI: OnceLock<clap::Command> = OnceLock::new();
    CLI.get_or_init(pm::cli::command)
}

/// Whether `--flag` or `-f` is an option of `command` that takes a value.
fn takes_value(command: &clap::Command, word: &str) -> bool {
    command.get_arguments().any(|arg| {
        let named = match word.strip_prefix("--") {
            Some(long) => arg.get_long() == Some(long),
            None => word.len() == 2 && arg.get_short() == word.chars().nth(1),
        };
        named && arg.get_action().takes_values()
    })
}

/// The compiled schemas, by command path.
struct Validator {
    schemas: boon::Schemas,
    compiled: BTreeMap<String, boon::SchemaIndex>,
    catalog: Value,
}

fn validator() -> &'static Mutex<Validator> {
    static VALIDATOR: OnceLock<Mutex<Validator>> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        Mutex::new(Validator {
            schemas: boon::Schemas::new(),
            compiled: BTreeMap::new(),
            catalog: pm_schema(&[]),
        })
    })
}

/// `pm schema ARGS --json`, read directly: the schemas are what is checked
/// against, not something to check here.
fn pm_schema(args: &[&str]) -> Value {
    let out = Sandbox::new()
        .pm()
        .arg("schema")
        .args(args)
        .arg("--json")
        .output()
        .expect("run pm schema");
    assert!(out.status.success(), "pm schema {args:?}: {out:?}");
    serde_json::from_slice(&out.stdout).expect("pm schema prints JSON")
}

impl Validator {
    fn check(&mut self, path: &str, doc: &Value) -> Result<(), String> {
        let index = self.index(path, doc)?;
        self.schemas
            .validate(doc, index)
            .map_err(|e| format!("{e:#}"))?;
        if let Some(code) = doc.pointer("/error/code").and_then(Value::as_str) {
            let known = self.catalog["error_codes"]
                .as_array()
                .is_some_and(|codes| codes.iter().any(|c| c["code"] == code));
            if !known {
                return Err(format!(
                    "error code {code:?} is not listed by `pm schema` (error/details.rs samples)"
                ));
            }
        }
        Ok(())
    }

    /// A command's own schema; the error document's for a command line
    /// refused before a command was found, `--version`'s for `pm` alone.
    fn index(&mut self, path: &str, doc: &Value) -> Result<boon::SchemaIndex, String> {
        let key = if self.catalog["commands"].get(path).is_some() {
            path.to_string()
        } else if doc.get("error").is_some() {
            "(error)".to_string()
        } else if path.is_empty() {
            "(version)".to_string()
        } else {
            return Err(format!("`pm {path}` is not a command of `pm schema`"));
        };
        if let Some(index) = self.compiled.get(&key) {
            return Ok(*index);
        }
        let schema = match key.as_str() {
            "(error)" => self.catalog["error_schema"].clone(),
            "(version)" => self.catalog["version_schema"].clone(),
            _ => pm_schema(&path.split(' ').collect::<Vec<_>>()),
        };
        // A compiler per schema: boon's is not Send, the compiled ones are.
        let index = compile(&mut boon::Compiler::new(), &mut self.schemas, schema)?;
        self.compiled.insert(key, index);
        Ok(index)
    }
}

/// Compiles a schema under its `$id`; boon also checks it against the
/// draft 2020-12 metaschema, which it carries (nothing is fetched).
fn compile(
    compiler: &mut boon::Compiler,
    schemas: &mut boon::Schemas,
    schema: Value,
) -> Result<boon::SchemaIndex, String> {
    let id = schema["$id"]
        .as_str()
        .ok_or("a schema without $id")?
        .to_string();
    compiler
        .add_resource(&id, schema)
        .map_err(|e| format!("{e:#}"))?;
    compiler
        .compile(&id, schemas)
        .map_err(|e| format!("{id}: {e:#}"))
}

fn tally(path: &str) {
    let Some(file) = std::env::var_os("PM_SCHEMA_TALLY") else {
        return;
    };
    use std::io::Write;
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
    {
        let _ = writeln!(f, "{}", if path.is_empty() { "pm" } else { path });
    }
}

/// Every command path of the CLI: its leaves (and `report`, which prints
/// on its own as well as through `report fleet`).
fn cli_paths(command: &clap::Command, prefix: &str, out: &mut BTreeSet<String>) {
    let runs_alone = !command.is_subcommand_required_set();
    if !prefix.is_empty() && (!command.has_subcommands() || runs_alone) {
        out.insert(prefix.to_string());
    }
    for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
        let path = format!("{prefix} {}", sub.get_name());
        cli_paths(sub, path.trim_start(), out);
    }
}

#[test]
fn every_command_of_the_cli_has_a_schema_and_no_other() {
    let mut expected = BTreeSet::new();
    cli_paths(cli(), "", &mut expected);
    assert!(
        expected.contains("image fetch") && expected.contains("report"),
        "{expected:?}"
    );
    let (catalog, code) = json_of(Sandbox::new().pm().arg("schema"));
    assert_eq!(code, 0, "{catalog}");
    let listed: BTreeSet<String> = catalog["commands"]
        .as_object()
        .expect("commands")
        .keys()
        .cloned()
        .collect();
    assert_eq!(listed, expected);
}

#[test]
fn every_schema_is_valid_json_schema_with_its_version_and_id() {
    let (catalog, _) = json_of(Sandbox::new().pm().arg("schema"));
    let version = catalog["schema_version"].as_u64().expect("schema_version");
    let mut compiler = boon::Compiler::new();
    let mut schemas = boon::Schemas::new();
    let mut ids = BTreeSet::new();
    let mut all: Vec<(&str, &Value)> = catalog["commands"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.as_str(), v))
        .collect();
    all.extend([
        ("(error)", &catalog["error_schema"]),
        ("(version)", &catalog["version_schema"]),
    ]);
    for (path, schema) in all {
        assert_eq!(
            schema["$schema"], "https://json-schema.org/draft/2020-12/schema",
            "{path}"
        );
        assert_eq!(schema["x-pm-schema-version"], version, "{path}");
        let id = schema["$id"].as_str().unwrap();
        assert!(id.contains(&format!("/v{version}/")), "{path}: {id}");
        assert!(ids.insert(id.to_string()), "{path}: $id {id} twice");
        compile(&mut compiler, &mut schemas, schema.clone())
            .unwrap_or_else(|e| panic!("{path}: {e}"));
    }
}

#[test]
fn one_command_prints_the_schema_the_catalog_holds() {
    let (catalog, _) = json_of(Sandbox::new().pm().arg("schema"));
    let (one, code) = json_of(Sandbox::new().pm().args(["schema", "image", "fetch"]));
    assert_eq!(code, 0, "{one}");
    assert_eq!(one, catalog["commands"]["image fetch"]);
    assert_eq!(one["x-pm-command"], "image fetch");
    // A noun: the catalog of its verbs.
    let (pool, _) = json_of(Sandbox::new().pm().args(["schema", "pool"]));
    let verbs: Vec<&String> = pool["commands"].as_object().unwrap().keys().collect();
    assert_eq!(verbs, ["pool create", "pool destroy", "pool status"]);
    let (doc, code) = json_of(Sandbox::new().pm().args(["schema", "image", "frobnicate"]));
    assert_eq!(
        (code, &doc["error"]["code"]),
        (2, &Value::from("usage")),
        "{doc}"
    );
}

#[test]
fn a_dry_run_validates_against_its_planned_shape() {
    let (schema, _) = json_of(Sandbox::new().pm().args(["schema", "image", "fetch"]));
    let mut compiler = boon::Compiler::new();
    let mut schemas = boon::Schemas::new();
    let index = compile(&mut compiler, &mut schemas, schema).unwrap();
    let digest = format!("sha256:{}", "0".repeat(64));
    let planned = serde_json::json!({
        "id": null, "digest": null, "size": null, "path": null,
        "source": "s3://b/k", "changed": true, "dry_run": true,
    });
    assert!(schemas.validate(&planned, index).is_ok());
    // A planned result without "dry_run": true is not a real result either.
    let mut undeclared = planned.clone();
    undeclared.as_object_mut().unwrap().remove("dry_run");
    assert!(schemas.validate(&undeclared, index).is_err());
    let fetched = serde_json::json!({
        "id": "000000000000", "digest": digest, "size": 1, "path": "/p",
        "source": "/src", "changed": true, "duration_ms": 1,
        "bytes_downloaded": 1, "bytes_resumed": 0,
    });
    assert!(schemas.validate(&fetched, index).is_ok());
    // Drift: a field the type does not have, or one it lost.
    let mut extra = fetched.clone();
    extra["surprise"] = Value::from(1);
    assert!(schemas.validate(&extra, index).is_err());
    let mut missing = fetched;
    missing.as_object_mut().unwrap().remove("digest");
    assert!(schemas.validate(&missing, index).is_err());
}

#[test]
fn an_error_carries_the_fields_of_its_code() {
    let (schema, _) = json_of(Sandbox::new().pm().args(["schema", "state", "prune"]));
    let mut compiler = boon::Compiler::new();
    let mut schemas = boon::Schemas::new();
    let index = compile(&mut compiler, &mut schemas, schema).unwrap();
    let busy = serde_json::json!({"error": {
        "code": "lock_busy", "message": "m", "hint": null, "retryable": true,
        "lock": "/s.lock", "holder": "pid 1", "waited_secs": 0.5,
    }});
    assert!(schemas.validate(&busy, index).is_ok());
    let mut wrong = busy.clone();
    wrong["error"]["retryable"] = Value::from(false);
    assert!(
        schemas.validate(&wrong, index).is_err(),
        "lock_busy is retryable"
    );
    let mut bare = busy.clone();
    bare["error"].as_object_mut().unwrap().remove("holder");
    assert!(
        schemas.validate(&bare, index).is_err(),
        "lock_busy has a holder"
    );
    let no_pool = serde_json::json!({"error": {
        "code": "no_pool", "message": "m", "hint": "h", "retryable": false, "extra": 1,
    }});
    assert!(
        schemas.validate(&no_pool, index).is_err(),
        "no_pool has no fields"
    );
    // A code a later pm adds is an additive change: old schemas accept it.
    let newer = serde_json::json!({"error": {
        "code": "something_new", "message": "m", "hint": null, "retryable": false, "x": 1,
    }});
    assert!(schemas.validate(&newer, index).is_ok());
}

#[test]
fn command_paths_skip_options_and_their_values() {
    let path =
        |args: &[&str]| command_path(&args.iter().map(|a| a.to_string()).collect::<Vec<_>>());
    assert_eq!(
        path(&["--state", "image", "image", "fetch", "x", "--json"]),
        "image fetch"
    );
    assert_eq!(
        path(&["-v", "--lock-timeout=3", "state", "prune"]),
        "state prune"
    );
    assert_eq!(path(&["report", "--format", "fleet"]), "report");
    assert_eq!(path(&["report", "fleet", "a.json"]), "report fleet");
    assert_eq!(path(&["state", "frobnicate"]), "state");
    assert_eq!(path(&["--version", "--json"]), "");
    assert_eq!(
        path(&["--reuid=1", "/x/target/debug/pm", "pool", "status"]),
        "pool status"
    );
}

#[test]
fn the_readme_lists_every_error_code_with_its_exit_code() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let (catalog, _) = json_of(Sandbox::new().pm().arg("schema"));
    for row in catalog["error_codes"].as_array().unwrap() {
        let exits: Vec<String> = row["exit_codes"]
            .as_array()
            .unwrap()
            .iter()
            .map(Value::to_string)
            .collect();
        let line = format!(
            "| `{}` | {} |",
            row["code"].as_str().unwrap(),
            exits.join(", ")
        );
        assert!(
            readme.contains(&line),
            "README's error-code table lacks {line}"
        );
    }
}
