use std::collections::HashMap;

use super::*;
use crate::config::{Config, ConfigError};

const BASE: &str = r#"
auth:
  legacy:
    secret_keys: ["k"]
upstreams:
  store:
    endpoint: http://127.0.0.1:1
default_upstream: store
"#;

fn problems(permissions_yaml: &str) -> Vec<String> {
    match Config::from_yaml(&format!("{BASE}{permissions_yaml}"), &HashMap::new()) {
        Ok(_) => Vec::new(),
        Err(ConfigError::Invalid(problems)) => problems.iter().map(|p| p.to_string()).collect(),
        Err(other) => panic!("{other}"),
    }
}

#[test]
fn absent_means_no_policy() {
    let config = Config::from_yaml(BASE, &HashMap::new()).unwrap();
    assert_eq!(config.permissions, PermissionsConfig::default());
}

#[test]
fn a_valid_policy_loads_as_written() {
    let yaml = r#"
permissions:
  orders:
    read: [ADMIN, member]
    write: [ADMIN]
    schema: []
  "audit_*":
    write: [APP]
"#;
    let config = Config::from_yaml(&format!("{BASE}{yaml}"), &HashMap::new()).unwrap();
    let orders = &config.permissions.0["orders"];
    assert_eq!(orders.read, Some(vec!["ADMIN".into(), "member".into()]));
    assert_eq!(orders.schema, Some(vec![]));
    assert_eq!(config.permissions.0["audit_*"].read, None);
}

#[test]
fn every_problem_is_named_by_its_path() {
    let found = problems(
        r#"
permissions:
  orders:
    read: [ADMIN, ADMN]
    schema: [UNKNOWN]
  books: {}
  "a*":
    read: [ANYONE]
  "*b":
    read: [ANYONE]
  "*":
    read: [ANYONE]
"#,
    );
    assert_eq!(found.len(), 4, "{found:#?}");
    assert!(
        found.iter().any(|p| p
            .starts_with("permissions.orders.read[1]: unknown caller \"ADMN\" (known: WIX_USER,")),
        "{found:#?}"
    );
    assert!(
        found
            .iter()
            .any(|p| p.starts_with("permissions.orders.schema[0]: UNKNOWN is not a caller name")),
        "{found:#?}"
    );
    assert!(
        found
            .iter()
            .any(|p| p.starts_with("permissions.books: empty rule")),
        "{found:#?}"
    );
    // "a*" and "*b" both match "ab" with one literal character each; "*"
    // is less specific than both and conflicts with neither.
    assert!(
        found
            .iter()
            .any(|p| p.starts_with("permissions.a*: overlaps pattern \"*b\"")),
        "{found:#?}"
    );
}

#[test]
fn unknown_keys_in_a_rule_are_refused() {
    let yaml = format!("{BASE}permissions:\n  orders:\n    delete: [ADMIN]\n");
    let error = Config::from_yaml(&yaml, &HashMap::new()).unwrap_err();
    assert!(error.to_string().contains("delete"), "{error}");
}

#[test]
fn the_readme_example_is_valid() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let start = readme
        .find("\npermissions:")
        .expect("README shows permissions");
    let block: String = readme[start + 1..]
        .lines()
        .take_while(|line| line.starts_with("permissions:") || line.starts_with(' '))
        .map(|line| format!("{line}\n"))
        .collect();
    assert!(block.contains("schema:"), "{block}");
    let config = Config::from_yaml(&format!("{BASE}{block}"), &HashMap::new())
        .unwrap_or_else(|e| panic!("{e}\n{block}"));
    assert_eq!(config.permissions.0["audit_*"].write, Some(vec![]));
}
