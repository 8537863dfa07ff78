//! The Grafana dashboard and the Prometheus alert rules in config/ parse,
//! every `extdb_*` metric they query exists in a running sidecar's
//! `/metrics`, every alert has a runbook line in the README, and
//! docker-compose.yml provisions both with pinned images.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use extdb_contract::pb;
use extdb_protocol::Reply;
use extdb_testkit::backend::ScriptedBackend;
use extdb_testkit::{AUDIENCE, TestSidecar, WixSigner, config_yaml, test_key};
use serde_json::{Value, json};

const DASHBOARD: &str = "config/grafana/dashboards/extdb-bridge.json";
const RULES: &str = "config/prometheus/extdb-alerts.yml";

fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn yaml(path: &Path) -> Value {
    config::Config::builder()
        .add_source(config::File::from(path).format(config::FileFormat::Yaml))
        .build()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .try_deserialize()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every string under a key named `expr`, anywhere in `v`.
fn exprs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                match (k.as_str(), child) {
                    ("expr", Value::String(e)) => out.push(e.clone()),
                    _ => exprs(child, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| exprs(i, out)),
        _ => {}
    }
}

/// The `extdb_*` metric names an expression reads.
fn metric_names(expr: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let bytes = expr.as_bytes();
    let mut i = 0;
    while let Some(at) = expr[i..].find("extdb_") {
        let start = i + at;
        let boundary =
            start == 0 || !(bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_');
        let end = expr[start..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(expr.len(), |n| start + n);
        if boundary {
            names.insert(expr[start..end].to_owned());
        }
        i = end;
    }
    names
}

fn dashboard() -> Value {
    serde_json::from_str(&read(DASHBOARD)).unwrap_or_else(|e| panic!("{DASHBOARD}: {e}"))
}

/// (alert name, expression) of every rule.
fn rules() -> Vec<(String, String)> {
    let rules = yaml(&root().join(RULES));
    let groups = rules["groups"].as_array().expect("groups");
    let mut out = Vec::new();
    for group in groups {
        for rule in group["rules"].as_array().expect("rules") {
            let name = rule["alert"]
                .as_str()
                .expect("every rule is an alert")
                .to_owned();
            let expr = rule["expr"].as_str().expect("expr").to_owned();
            for key in ["for", "labels", "annotations"] {
                assert!(!rule[key].is_null(), "{name}: no `{key}`");
            }
            assert!(
                ["page", "warn"].contains(&rule["labels"]["severity"].as_str().unwrap_or("")),
                "{name}: severity page or warn"
            );
            assert!(
                rule["annotations"]["summary"].is_string(),
                "{name}: summary"
            );
            out.push((name, expr));
        }
    }
    out
}

#[test]
fn the_dashboard_covers_what_an_operator_needs() {
    let d = dashboard();
    assert_eq!(d["uid"], "extdb-bridge");
    let mut all = Vec::new();
    exprs(&d["panels"], &mut all);
    let names: BTreeSet<String> = all.iter().flat_map(|e| metric_names(e)).collect();
    for needed in [
        "extdb_http_requests_total",
        "extdb_http_request_duration_seconds_bucket",
        "extdb_upstream_request_duration_seconds_bucket",
        "extdb_upstream_requests_total",
        "extdb_auth_failures_total",
        "extdb_inflight_requests",
        "extdb_http_requests_shed_total",
        "extdb_http_connections_refused_total",
    ] {
        assert!(
            names.contains(needed),
            "the dashboard does not show {needed}"
        );
    }
    // Every panel queries the provisioned data source.
    for panel in d["panels"].as_array().unwrap() {
        if panel["type"] != "row" {
            assert_eq!(
                panel["datasource"]["uid"], "prometheus",
                "{}",
                panel["title"]
            );
        }
    }
}

#[test]
fn the_alerts_are_the_issue_list_and_each_has_a_runbook_line() {
    let readme = read("README.md");
    let names: Vec<String> = rules().into_iter().map(|(n, _)| n).collect();
    for expected in [
        "ExtdbHigh5xxRatio",
        "ExtdbUpstreamSlow",
        "ExtdbAuthFailureSpike",
        "ExtdbNotReady",
        "ExtdbSheddingLoad",
    ] {
        assert!(names.iter().any(|n| n == expected), "no alert {expected}");
    }
    for name in &names {
        assert!(
            readme
                .lines()
                .any(|l| l.starts_with("- **") && l.contains(&format!("`{name}`"))),
            "README has no runbook line (\"- **... `{name}`\") for {name}"
        );
    }
}

#[tokio::test]
async fn every_metric_the_dashboard_and_rules_query_is_exposed() {
    let backend = ScriptedBackend::start().await;
    let key = test_key("test-only-ec-p256-a.public.pem").replace('\n', "\\n");
    let sidecar = TestSidecar::start(&config_yaml(
        &key,
        AUDIENCE,
        &backend.endpoint(),
        "collections:\n  books:\n    upstream: backend\n",
    ))
    .await;
    // A few requests: served, refused by auth, and a readiness probe.
    backend.answer(Reply::Count(pb::CountItemsResponse { total_count: 1 }));
    let token = WixSigner::es256().sign(json!({"collectionId": "books"}));
    assert_eq!(sidecar.post("/v3/items/count", token).await.status, 200);
    assert_eq!(
        sidecar.post("/v3/items/count", "not-a-token").await.status,
        401
    );
    assert_eq!(sidecar.admin_get("/readyz").await.0, 200);
    let (status, exposition) = sidecar.admin_get("/metrics").await;
    assert_eq!(status, 200);
    sidecar.stop().await;
    backend.stop().await;

    let exposed: BTreeSet<&str> = exposition
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| l.split(['{', ' ']).next())
        .collect();
    let mut queried = Vec::new();
    let mut all = Vec::new();
    exprs(&dashboard(), &mut all);
    queried.extend(all.iter().map(|e| (DASHBOARD, e.clone())));
    queried.extend(rules().into_iter().map(|(_, e)| (RULES, e)));
    let mut checked = 0;
    for (file, expr) in &queried {
        for name in metric_names(expr) {
            assert!(
                exposed.contains(name.as_str()),
                "{file} queries {name}, which /metrics does not have:\n{expr}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 30, "only {checked} metric references found");
    assert!(metric_names("rate(extdb_a_total[5m]) / xextdb_b + extdb_c_bucket").len() == 2);
}

#[test]
fn compose_provisions_prometheus_rules_and_grafana_with_pinned_images() {
    let compose = yaml(&root().join("docker-compose.yml"));
    let services = compose["services"].as_object().unwrap();
    for (name, service) in services {
        if let Some(image) = service["image"].as_str()
            && !image.starts_with("extdb-bridge:")
        {
            let tag = image.rsplit_once(':').map(|(_, t)| t).unwrap_or("");
            assert!(
                !tag.is_empty() && tag != "latest" && tag.chars().any(|c| c.is_ascii_digit()),
                "{name}: image {image} is not pinned to a version"
            );
        }
    }
    let mounts = |service: &str| -> Vec<(PathBuf, String)> {
        services[service]["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                let v = v.as_str().unwrap();
                let mut parts = v.split(':');
                let host = root().join(parts.next().unwrap());
                (host, parts.next().unwrap().to_owned())
            })
            .collect()
    };
    // Prometheus loads the rules file through the rule_files glob.
    let prometheus = mounts("prometheus");
    let rules_dir = prometheus
        .iter()
        .find(|(host, _)| host.ends_with("config/prometheus"))
        .expect("the rules folder is mounted");
    let config = yaml(&root().join("config/prometheus.yml"));
    let globs: Vec<&str> = config["rule_files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g.as_str().unwrap())
        .collect();
    assert_eq!(globs, [format!("{}/*.yml", rules_dir.1)]);
    assert!(rules_dir.0.join("extdb-alerts.yml").is_file());
    // Grafana: data source and dashboard provider, the dashboard where the
    // provider looks.
    let grafana = mounts("grafana");
    let provisioning = grafana
        .iter()
        .find(|(_, inside)| inside == "/etc/grafana/provisioning")
        .expect("provisioning mounted");
    let datasource = yaml(&provisioning.0.join("datasources/prometheus.yml"));
    assert_eq!(datasource["datasources"][0]["uid"], "prometheus");
    assert_eq!(
        datasource["datasources"][0]["url"],
        "http://prometheus:9090"
    );
    let provider = yaml(&provisioning.0.join("dashboards/extdb.yml"));
    let path = provider["providers"][0]["options"]["path"]
        .as_str()
        .unwrap()
        .to_owned();
    let dashboards = grafana
        .iter()
        .find(|(_, inside)| *inside == path)
        .expect("the provider's path is mounted");
    assert!(dashboards.0.join("extdb-bridge.json").is_file());
}
