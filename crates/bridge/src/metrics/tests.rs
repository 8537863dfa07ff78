use super::*;

fn metrics() -> Metrics {
    Metrics::new(MetricsSeed {
        body_budget: None,
        collections: vec!["books".into()],
        endpoints: vec![("v3", "items/query")],
        upstreams: vec!["store".into()],
        methods: vec!["QueryItems"],
        auth_reasons: vec!["bad_signature"],
        upstream_timeouts: vec![("store".into(), 2.5)],
    })
}

#[test]
fn known_series_start_at_zero() {
    let text = metrics().render();
    assert!(
        text.contains(r#"extdb_auth_failures_total{reason="bad_signature"} 0"#),
        "{text}"
    );
    assert!(text.contains(r#"extdb_upstream_requests_total{grpc_code="OK",method="QueryItems",upstream="store"} 0"#), "{text}");
    assert!(
        text.contains(
            r#"extdb_http_request_duration_seconds_count{endpoint="items/query",protocol="v3"} 0"#
        ),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            r#"extdb_build_info{{version="{}"}} 1"#,
            env!("CARGO_PKG_VERSION")
        )),
        "{text}"
    );
    assert!(text.contains("extdb_inflight_requests 0"), "{text}");
    assert!(
        text.contains(r#"extdb_http_requests_shed_total{reason="body_budget"} 0"#),
        "{text}"
    );
    for result in ["ready", "not_ready", "shutting_down"] {
        assert!(
            text.contains(&format!(
                r#"extdb_readiness_checks_total{{result="{result}"}} 0"#
            )),
            "{text}"
        );
    }
    assert!(
        text.contains(r#"extdb_upstream_timeout_seconds{upstream="store"} 2.5"#),
        "{text}"
    );
}

#[test]
fn shed_requests_and_readiness_answers_are_counted() {
    let m = metrics();
    m.shed(SHED_BODY_BUDGET);
    m.readiness_checked(Readiness::NotReady);
    m.readiness_checked(Readiness::NotReady);
    let text = m.render();
    assert!(
        text.contains(r#"extdb_http_requests_shed_total{reason="body_budget"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"extdb_readiness_checks_total{result="not_ready"} 2"#),
        "{text}"
    );
}

#[test]
fn unknown_collections_fold_into_other() {
    let m = metrics();
    m.observe_http("v3", "items/query", Some("books"), 200, 0.001);
    m.observe_http("v3", "items/query", Some("secret_project_x"), 404, 0.001);
    m.observe_http("v3", "capabilities/get", None, 200, 0.001);
    let text = m.render();
    assert!(text.contains(r#"extdb_http_requests_total{code="200",collection="books",endpoint="items/query",protocol="v3"} 1"#), "{text}");
    assert!(text.contains(r#"extdb_http_requests_total{code="404",collection="other",endpoint="items/query",protocol="v3"} 1"#), "{text}");
    assert!(text.contains(r#"extdb_http_requests_total{code="200",collection="",endpoint="capabilities/get",protocol="v3"} 1"#), "{text}");
    assert!(!text.contains("secret_project_x"));
}

#[test]
fn inflight_guard_counts_down_on_drop() {
    let m = metrics();
    let a = m.inflight();
    let b = m.inflight();
    assert!(m.render().contains("extdb_inflight_requests 2"));
    drop(a);
    drop(b);
    assert!(m.render().contains("extdb_inflight_requests 0"));
}

/// The body budget gauge is read from its source when rendered, each time.
#[test]
fn the_body_budget_gauge_reads_its_source_at_render() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    let held = Arc::new(AtomicU64::new(0));
    let source = held.clone();
    let m = Metrics::new(MetricsSeed {
        body_budget: Some(Box::new(move || source.load(Ordering::Relaxed))),
        ..MetricsSeed::default()
    });
    assert!(
        m.render()
            .contains("\nextdb_http_body_budget_bytes_held 0\n")
    );
    held.store(3 * 1024, Ordering::Relaxed);
    let text = m.render();
    assert!(
        text.contains("\nextdb_http_body_budget_bytes_held 3072\n"),
        "{text}"
    );
}
