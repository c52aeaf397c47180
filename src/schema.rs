//! The versioned JSON contract behind `pm schema`: a JSON Schema (draft
//! 2020-12) of what each command prints with `--json`, generated from the
//! result types it serialises (schemars), so the contract cannot drift from
//! the output.
//!
//! A command's schema covers both documents it can print, told apart by the
//! `error` key: its result (for a mutating command also a dry run's, with
//! `"dry_run": true`, which may be a planned type of its own) and the error
//! document, where each known code adds its own fields. Objects are closed
//! (`additionalProperties: false`) so that a field added without the schema
//! knowing, or renamed, fails the suite rather than a consumer.
//!
//! The version rule (README, "JSON schemas") is about readers: a new field,
//! error code or command keeps [`SCHEMA_VERSION`]; removing, renaming or
//! retyping a field, making it optional or nullable, a new value of an
//! enumeration, or a change of meaning bumps it (and the `/vN/` of `$id`).

use crate::error::details::{CodeSpec, SchemaFn};
use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// The version of the JSON contract. See the module docs for when it changes.
pub const SCHEMA_VERSION: u32 = 1;

/// The dialect every schema is written in.
pub const META_SCHEMA: &str = "https://json-schema.org/draft/2020-12/schema";

/// What a command prints on success, as the types it serialises.
pub struct Output {
    path: &'static str,
    mutating: bool,
    /// What a run prints (and a dry run too, unless `planned` says otherwise).
    results: Vec<SchemaFn>,
    /// What only a dry run prints.
    planned: Vec<SchemaFn>,
}

impl Output {
    /// A command that changes nothing: no `dry_run` in its result.
    pub fn read_only<T: JsonSchema>(path: &'static str) -> Output {
        Output {
            path,
            mutating: false,
            results: vec![T::json_schema],
            planned: Vec::new(),
        }
    }

    /// A command that changes state: its result may carry `"dry_run": true`.
    pub fn mutating<T: JsonSchema>(path: &'static str) -> Output {
        Output {
            mutating: true,
            ..Output::read_only::<T>(path)
        }
    }

    /// Another result the command may print instead.
    pub fn or<T: JsonSchema>(mut self) -> Output {
        self.results.push(T::json_schema);
        self
    }

    /// What `--dry-run` prints instead of the result: always `"dry_run": true`.
    pub fn planned<T: JsonSchema>(mut self) -> Output {
        self.planned.push(T::json_schema);
        self
    }

    /// `image fetch`, `inspect`, `report fleet`.
    pub fn path(&self) -> &'static str {
        self.path
    }
}

/// `https://pm.invalid/schema/v1/image-fetch.json`: a name, never fetched
/// (`.invalid` cannot resolve); `pm schema` is where the schemas are.
pub fn id(name: &str) -> String {
    format!(
        "https://pm.invalid/schema/v{SCHEMA_VERSION}/{}.json",
        name.replace(' ', "-")
    )
}

/// Every command's schema, the error document's and `pm --version`'s.
#[derive(Serialize, JsonSchema)]
pub struct Catalog {
    pub schema_version: u32,
    pub pm_version: String,
    /// Keyed by command path (`image fetch`), as `pm schema image fetch`
    /// prints each.
    pub commands: BTreeMap<String, SchemaDocument>,
    /// Every error code: its exit code and whether a retry can help.
    pub error_codes: Vec<CodeRow>,
    /// The error document any command prints on failure, usage errors
    /// included. (Not `error`: a document with that key is an error.)
    pub error_schema: SchemaDocument,
    /// `pm --version --json`.
    pub version_schema: SchemaDocument,
}

/// One error code of the contract.
#[derive(Serialize, JsonSchema)]
pub struct CodeRow {
    pub code: &'static str,
    /// pm's exit code with this error (`interrupted`: one per signal).
    pub exit_codes: Vec<u8>,
    pub retryable: bool,
}

/// One JSON Schema document, as `pm schema NOUN VERB` prints it.
#[derive(Serialize)]
#[serde(transparent)]
pub struct SchemaDocument(pub Value);

impl JsonSchema for SchemaDocument {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "SchemaDocument".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        schemars::json_schema!({
            "description": "A JSON Schema (draft 2020-12) with pm's version and command",
            "type": "object",
            "properties": {
                "$schema": {"const": META_SCHEMA},
                "$id": {"type": "string"},
                "x-pm-schema-version": {"const": SCHEMA_VERSION},
            },
            "required": ["$schema", "$id", "x-pm-schema-version"],
            // Its keywords are JSON Schema's, not pm's to close.
            "additionalProperties": true,
        })
    }
}

/// `pm --version --json`.
#[derive(Serialize, JsonSchema)]
pub struct Version {
    pub name: &'static str,
    pub version: &'static str,
}

impl Version {
    pub fn current() -> Version {
        Version {
            name: "pm",
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

/// The catalog of `outputs` (every command, or a selection).
pub fn catalog(outputs: &[Output], codes: &[CodeSpec]) -> Catalog {
    Catalog {
        schema_version: SCHEMA_VERSION,
        pm_version: env!("CARGO_PKG_VERSION").to_string(),
        commands: outputs
            .iter()
            .map(|o| (o.path.to_string(), command_schema(o, codes)))
            .collect(),
        error_codes: codes
            .iter()
            .map(|c| CodeRow {
                code: c.code,
                exit_codes: c.exits.iter().map(|e| *e as u8).collect(),
                retryable: c.retryable,
            })
            .collect(),
        error_schema: error_schema(codes),
        version_schema: version_schema(),
    }
}

/// The schema of one command's `--json` output: its result or an error.
pub fn command_schema(output: &Output, codes: &[CodeSpec]) -> SchemaDocument {
    let mut g = generator();
    let mut variants: Vec<Value> = Vec::new();
    for result in &output.results {
        let mut schema = top_level(result, &mut g);
        if output.mutating {
            add_dry_run(&mut schema, false);
        }
        variants.push(schema);
    }
    for planned in &output.planned {
        let mut schema = top_level(planned, &mut g);
        add_dry_run(&mut schema, true);
        variants.push(schema);
    }
    let success = match variants.len() {
        1 => variants.remove(0),
        _ => json!({ "anyOf": variants }),
    };
    let (error, error_body) = error_parts(&mut g, codes);
    let mut defs = definitions(g);
    defs.insert("success".to_string(), success);
    defs.insert("error".to_string(), error);
    defs.insert("error_body".to_string(), error_body);
    let what = if output.mutating {
        "its result (with `\"dry_run\": true` after --dry-run)"
    } else {
        "its result"
    };
    document(
        output.path,
        json!({
            "title": format!("pm {} --json", output.path),
            "description": format!("What `pm {} --json` prints: {what}, or an error document.", output.path),
            "x-pm-command": output.path,
            "x-pm-mutating": output.mutating,
            "if": { "type": "object", "required": ["error"] },
            "then": { "$ref": "#/$defs/error" },
            "else": { "$ref": "#/$defs/success" },
        }),
        defs,
    )
}

/// The error document alone: what any command prints on failure.
pub fn error_schema(codes: &[CodeSpec]) -> SchemaDocument {
    let mut g = generator();
    let (error, error_body) = error_parts(&mut g, codes);
    let mut defs = definitions(g);
    defs.insert("error_body".to_string(), error_body);
    let mut root = json!({
        "title": "pm error document",
        "description": "What any pm command prints with --json when it fails.",
    });
    merge(&mut root, error);
    document("error", root, defs)
}

/// `pm --version --json`.
pub fn version_schema() -> SchemaDocument {
    let mut g = generator();
    let mut root = json!({ "title": "pm --version --json" });
    merge(
        &mut root,
        top_level(&(Version::json_schema as SchemaFn), &mut g),
    );
    let defs = definitions(g);
    document("version", root, defs)
}

/// Schemas of what is serialised, not of what could be deserialised:
/// an `Option` field that is always written is required (and nullable).
fn generator() -> SchemaGenerator {
    SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator()
}

/// A type's schema inline (not a `$ref`), closed, its parts in `g`.
fn top_level(schema: &SchemaFn, g: &mut SchemaGenerator) -> Value {
    let mut value = schema(g).to_value();
    // A transparent wrapper yields a bare `$ref`; its target is wanted.
    if let Some(name) = value
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/$defs/"))
        && let Some(target) = g.definitions().get(name)
    {
        value = target.clone();
    }
    close_objects(&mut value);
    value
}

/// The generated definitions, closed.
fn definitions(mut g: SchemaGenerator) -> Map<String, Value> {
    let mut defs = g.take_definitions(false);
    for def in defs.values_mut() {
        close_objects(def);
    }
    defs
}

/// `{"$schema", "$id", "x-pm-schema-version", ...root, "$defs"}`, with only
/// the definitions the root reaches.
fn document(name: &str, root: Value, mut defs: Map<String, Value>) -> SchemaDocument {
    let mut doc = json!({
        "$schema": META_SCHEMA,
        "$id": id(name),
        "x-pm-schema-version": SCHEMA_VERSION,
    });
    merge(&mut doc, root);
    let reached = reachable(&doc, &defs);
    defs.retain(|name, _| reached.contains(name));
    if !defs.is_empty()
        && let Value::Object(map) = &mut doc
    {
        map.insert("$defs".to_string(), Value::Object(defs));
    }
    SchemaDocument(doc)
}

fn merge(into: &mut Value, from: Value) {
    if let (Value::Object(into), Value::Object(from)) = (into, from) {
        into.extend(from);
    }
}

/// The names of the definitions `root` refers to, directly or through
/// other definitions.
fn reachable(root: &Value, defs: &Map<String, Value>) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo = Vec::new();
    refs(root, &mut todo);
    while let Some(name) = todo.pop() {
        if seen.insert(name.clone())
            && let Some(def) = defs.get(&name)
        {
            refs(def, &mut todo);
        }
    }
    seen
}

fn refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("$ref", Value::String(r)) => {
                        if let Some(name) = r.strip_prefix("#/$defs/") {
                            out.push(name.to_string());
                        }
                    }
                    _ => refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

/// Every object schema with `properties` and nothing said about others
/// gets `additionalProperties: false` (and its description loses rustdoc's
/// link brackets): a field pm starts printing must be
/// added to the type, and so to the schema, first. Maps (`BTreeMap`) say
/// `additionalProperties` themselves and stay open; a schema that combines
/// others (`allOf`, ...) is left alone, since its parts' fields would not
/// count as "its own".
fn close_objects(schema: &mut Value) {
    let Value::Object(map) = schema else { return };
    // Descriptions are the types' doc comments: rustdoc's links
    // ([`display_path`]) mean nothing to a reader of the schema.
    if let Some(Value::String(about)) = map.get_mut("description") {
        *about = about.replace("[`", "`").replace("`]", "`");
    }
    let combines = ["allOf", "anyOf", "oneOf", "$ref"]
        .iter()
        .any(|k| map.contains_key(*k));
    if map.contains_key("properties")
        && !map.contains_key("additionalProperties")
        && !map.contains_key("unevaluatedProperties")
        && !combines
    {
        map.insert("additionalProperties".to_string(), Value::Bool(false));
    }
    for_each_subschema(map, close_objects);
}

/// Calls `f` on the schemas directly inside `schema`, by keyword (values
/// such as `const` or `enum` are not schemas, and a property may be named
/// like a keyword).
fn for_each_subschema(schema: &mut Map<String, Value>, f: fn(&mut Value)) {
    for (key, value) in schema.iter_mut() {
        match key.as_str() {
            "properties" | "patternProperties" | "$defs" => {
                if let Value::Object(named) = value {
                    named.values_mut().for_each(f);
                }
            }
            "allOf" | "anyOf" | "oneOf" | "prefixItems" => {
                if let Value::Array(items) = value {
                    items.iter_mut().for_each(f);
                }
            }
            "items"
            | "additionalProperties"
            | "unevaluatedProperties"
            | "not"
            | "if"
            | "then"
            | "else"
            | "contains"
            | "propertyNames" => f(value),
            _ => {}
        }
    }
}

/// `dry_run` on a mutating command's result: optional `false`/`true` on a
/// result a real run prints too, required `true` on a planned one.
fn add_dry_run(schema: &mut Value, planned: bool) {
    let Value::Object(map) = schema else { return };
    for combined in ["anyOf", "oneOf"] {
        if let Some(Value::Array(branches)) = map.get_mut(combined) {
            branches.iter_mut().for_each(|b| add_dry_run(b, planned));
            return;
        }
    }
    let properties = map
        .entry("properties")
        .or_insert_with(|| json!({}))
        .as_object_mut();
    let Some(properties) = properties else { return };
    if planned {
        properties.insert(
            "dry_run".to_string(),
            json!({"const": true, "description": "Printed by --dry-run: nothing was changed."}),
        );
        let required = map.entry("required").or_insert_with(|| json!([]));
        if let Value::Array(names) = required
            && !names.iter().any(|n| n == "dry_run")
        {
            names.push(json!("dry_run"));
        }
    } else {
        properties.entry("dry_run").or_insert_with(|| {
            json!({"type": "boolean", "description": "true after --dry-run: nothing was changed."})
        });
    }
}

/// The four fields every error has.
const ERROR_FIELDS: [&str; 4] = ["code", "message", "hint", "retryable"];

/// `$defs/error` (the document) and `$defs/error_body` (its `error`): the
/// common fields, then a branch per code with fields of its own, one for
/// the codes without (by `retryable`), and one for codes this version does
/// not know (a new code is an additive change and may bring fields).
fn error_parts(g: &mut SchemaGenerator, codes: &[CodeSpec]) -> (Value, Value) {
    let mut branches = Vec::new();
    let mut plain: BTreeMap<bool, Vec<&str>> = BTreeMap::new();
    for spec in codes {
        let details = (spec.details)(g).to_value();
        match details.get("properties").and_then(Value::as_object) {
            Some(own) if !own.is_empty() => branches.push(code_branch(spec, &details, own)),
            _ => plain.entry(spec.retryable).or_default().push(spec.code),
        }
    }
    for (retryable, names) in plain {
        branches.push(json!({
            "description": "Codes with no fields of their own.",
            "properties": {
                "code": { "enum": names },
                "retryable": { "const": retryable },
            },
            "propertyNames": { "enum": ERROR_FIELDS },
        }));
    }
    let known: Vec<&str> = codes.iter().map(|c| c.code).collect();
    branches.push(json!({
        "description": "A code this schema version does not list yet.",
        "properties": { "code": { "not": { "enum": known } } },
    }));
    let document = json!({
        "description": "A failure: exit code non-zero.",
        "type": "object",
        "properties": { "error": { "$ref": "#/$defs/error_body" } },
        "required": ["error"],
        "additionalProperties": false,
    });
    let body = json!({
        "type": "object",
        "properties": {
            "code": {
                "description": "Stable snake_case identifier scripts match on.",
                "type": "string",
                "pattern": "^[a-z][a-z0-9_]*$",
            },
            "message": { "description": "One sentence.", "type": "string", "minLength": 1 },
            "hint": { "description": "What to do about it.", "type": ["string", "null"] },
            "retryable": {
                "description": "Whether the same command can succeed later (transient failures, a busy lock).",
                "type": "boolean",
            },
        },
        "required": ERROR_FIELDS,
        "oneOf": branches,
    });
    (document, body)
}

/// One code with fields of its own: its `code` and `retryable`, its fields
/// (required as the type says) and no others.
fn code_branch(spec: &CodeSpec, details: &Value, own: &Map<String, Value>) -> Value {
    let mut properties = Map::new();
    properties.insert("code".to_string(), json!({ "const": spec.code }));
    properties.insert("retryable".to_string(), json!({ "const": spec.retryable }));
    let mut names: Vec<Value> = ERROR_FIELDS.iter().map(|f| json!(f)).collect();
    for (name, schema) in own {
        let mut schema = schema.clone();
        close_objects(&mut schema);
        properties.insert(name.clone(), schema);
        names.push(json!(name));
    }
    let mut branch = json!({
        "properties": properties,
        "propertyNames": { "enum": names },
    });
    if let Value::Object(map) = &mut branch {
        for key in ["description", "required"] {
            if let Some(value) = details.get(key) {
                map.insert(key.to_string(), value.clone());
            }
        }
    }
    branch
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, JsonSchema)]
    struct Sample {
        name: String,
        size: Option<u64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        note: Option<String>,
        tags: BTreeMap<String, u64>,
    }

    #[derive(Serialize, JsonSchema)]
    struct Plan {
        changed: bool,
    }

    fn doc(output: &Output) -> Value {
        command_schema(output, &crate::error::details::codes()).0
    }

    #[test]
    fn fields_always_printed_are_required_and_objects_are_closed() {
        let d = doc(&Output::read_only::<Sample>("sample"));
        let success = &d["$defs"]["success"];
        assert_eq!(success["required"], json!(["name", "size", "tags"]));
        assert_eq!(success["additionalProperties"], false);
        // A map stays open to any key.
        assert_eq!(
            success["properties"]["tags"]["additionalProperties"]["type"],
            "integer"
        );
        assert!(success["properties"].get("dry_run").is_none());
    }

    #[test]
    fn a_mutating_command_may_say_dry_run_and_a_planned_result_must() {
        let d = doc(&Output::mutating::<Sample>("sample").planned::<Plan>());
        let variants = d["$defs"]["success"]["anyOf"].as_array().unwrap();
        assert_eq!(variants[0]["properties"]["dry_run"]["type"], "boolean");
        assert_eq!(variants[1]["properties"]["dry_run"]["const"], true);
        assert!(
            variants[1]["required"]
                .as_array()
                .unwrap()
                .contains(&json!("dry_run"))
        );
    }

    #[test]
    fn each_code_has_its_own_fields_and_nothing_else() {
        let d = doc(&Output::read_only::<Plan>("sample"));
        let branches = d["$defs"]["error_body"]["oneOf"].as_array().unwrap();
        let lock = branches
            .iter()
            .find(|b| b["properties"]["code"]["const"] == "lock_busy")
            .unwrap();
        assert_eq!(lock["properties"]["retryable"]["const"], true);
        assert!(
            lock["required"]
                .as_array()
                .unwrap()
                .contains(&json!("holder"))
        );
        assert!(
            lock["propertyNames"]["enum"]
                .as_array()
                .unwrap()
                .contains(&json!("message"))
        );
    }

    #[test]
    fn only_reachable_definitions_are_kept() {
        let d = doc(&Output::read_only::<Plan>("sample"));
        let defs = d["$defs"].as_object().unwrap();
        // Violation is reached through image_rejected's fields.
        assert!(defs.contains_key("Violation"), "{:?}", defs.keys());
        assert!(!defs.contains_key("Plan"));
    }
}
