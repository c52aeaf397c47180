//! The output contract every command follows.

use crate::support::{Sandbox, error_code, json_of};

#[test]
fn state_show_json_parses_and_names_the_state_file() {
    let sb = Sandbox::new();
    let (doc, code) = json_of(sb.pm().args(["state", "show"]));
    assert_eq!(code, 0);
    assert_eq!(doc["path"], sb.state_path().display().to_string());
    assert!(doc["schema_version"].as_i64().unwrap() >= 1);
}

#[test]
fn usage_errors_are_json_with_exit_code_2() {
    let sb = Sandbox::new();
    let (doc, code) = json_of(sb.pm().args(["state", "frobnicate"]));
    assert_eq!(code, 2);
    assert_eq!(error_code(&doc), "usage");
}
