use super::*;

const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (k, v) in pairs {
        map.append(
            http::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    map
}

fn tracer(ratio: f64) -> RequestTracer {
    RequestTracer::new(&TracingConfig {
        sampling_ratio: ratio,
        ..TracingConfig::default()
    })
}

#[test]
fn a_valid_traceparent_parses_and_encodes_back() {
    let parent = TraceParent::parse(VALID.as_bytes()).unwrap();
    assert_eq!(
        TraceIdHex(parent.trace_id).to_string(),
        "4bf92f3577b34da6a3ce929d0e0e4736"
    );
    assert_eq!(
        parent.parent_id,
        [0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7]
    );
    assert!(parent.sampled);
    assert_eq!(&parent.encode()[..], VALID.as_bytes());
}

#[test]
fn invalid_traceparents_are_refused_with_their_reason() {
    use TraceParentError::*;
    let cases = [
        ("", Format),
        (
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",
            Format,
        ),
        (
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",
            Format,
        ),
        (
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            Format,
        ),
        (
            "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
            Format,
        ),
        (
            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            Format,
        ),
        (
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            ForbiddenVersion,
        ),
        (
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            ZeroTraceId,
        ),
        (
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            ZeroParentId,
        ),
        (
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
            Format,
        ),
    ];
    for (text, why) in cases {
        assert_eq!(TraceParent::parse(text.as_bytes()), Err(why), "{text:?}");
    }
}

#[test]
fn a_later_version_is_read_by_its_version_00_prefix() {
    let later = "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09-whatever";
    let parent = TraceParent::parse(later.as_bytes()).unwrap();
    assert!(parent.sampled);
    // Passed on as version 00 with only the sampled flag.
    assert_eq!(&parent.encode()[..], VALID.as_bytes());
}

#[test]
fn a_request_continues_the_callers_trace_under_a_new_span() {
    let trace = tracer(0.0).start(
        &headers(&[("traceparent", VALID), ("tracestate", "congo=t61rcWkgMzE")]),
        "v3",
        "query",
    );
    let parent = trace.upstream_parent();
    assert_eq!(
        trace.trace_id().to_string(),
        "4bf92f3577b34da6a3ce929d0e0e4736"
    );
    assert_eq!(
        parent.trace_id,
        TraceParent::parse(VALID.as_bytes()).unwrap().trace_id
    );
    assert_ne!(
        parent.parent_id,
        [0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7]
    );
    assert_ne!(parent.parent_id, [0; 8]);
    // The caller sampled it; the local ratio does not overrule that.
    assert!(parent.sampled);
    assert_eq!(trace.tracestate.as_ref().unwrap(), "congo=t61rcWkgMzE");
}

#[test]
fn without_a_valid_traceparent_a_fresh_trace_starts_and_tracestate_is_dropped() {
    let t = tracer(1.0);
    let first = t.start(&headers(&[("tracestate", "a=b")]), "v3", "query");
    let second = t.start(
        &headers(&[("traceparent", "00-zz"), ("tracestate", "a=b")]),
        "v3",
        "query",
    );
    for trace in [&first, &second] {
        let p = trace.upstream_parent();
        assert_ne!(p.trace_id, [0; 16]);
        assert_ne!(p.parent_id, [0; 8]);
        assert!(p.sampled, "ratio 1.0 samples every trace started here");
        assert!(trace.tracestate.is_none());
        TraceParent::parse(&p.encode()).unwrap();
    }
    assert_ne!(first.trace_id, second.trace_id);
}

#[test]
fn a_repeated_traceparent_starts_a_fresh_trace() {
    let trace = tracer(1.0).start(
        &headers(&[("traceparent", VALID), ("traceparent", VALID)]),
        "v3",
        "query",
    );
    assert_ne!(
        trace.trace_id().to_string(),
        "4bf92f3577b34da6a3ce929d0e0e4736"
    );
}

#[test]
fn the_ratio_samples_about_its_share_of_fresh_traces() {
    let none = tracer(0.0);
    let half = tracer(0.5);
    let empty = HeaderMap::new();
    let sampled_at_half = (0..2000)
        .filter(|_| half.start(&empty, "v3", "query").upstream_parent().sampled)
        .count();
    assert!(
        (800..1200).contains(&sampled_at_half),
        "{sampled_at_half} of 2000"
    );
    assert!((0..100).all(|_| !none.start(&empty, "v3", "query").upstream_parent().sampled));
}

#[test]
fn tracestate_lines_are_joined_and_bounded() {
    let joined = incoming_tracestate(&headers(&[("tracestate", "a=1"), ("tracestate", "b=2")]));
    assert_eq!(joined.unwrap(), "a=1,b=2");
    let long = format!("a={}", "x".repeat(MAX_TRACESTATE_BYTES));
    assert!(incoming_tracestate(&headers(&[("tracestate", &long)])).is_none());
}

#[tokio::test]
async fn the_upstream_call_carries_the_request_trace_only_inside_its_scope() {
    let mut outside = MetadataMap::new();
    UpstreamCallTrace::start("store", "QueryItems").add_metadata(&mut outside);
    assert!(outside.is_empty(), "a health check belongs to no request");

    let trace = tracer(1.0).start(
        &headers(&[("traceparent", VALID), ("tracestate", "a=1")]),
        "v3",
        "query",
    );
    let expected = String::from_utf8(trace.upstream_parent().encode().to_vec()).unwrap();
    let metadata = trace
        .scope(async {
            let mut map = MetadataMap::new();
            UpstreamCallTrace::start("store", "QueryItems").add_metadata(&mut map);
            map
        })
        .await;
    assert_eq!(metadata.get("traceparent").unwrap(), expected.as_str());
    assert_eq!(metadata.get("tracestate").unwrap(), "a=1");
}

#[test]
fn ratio_thresholds_cover_the_ends() {
    assert_eq!(ratio_threshold(0.0), 0);
    assert_eq!(ratio_threshold(1.0), u64::MAX);
    assert_eq!(ratio_threshold(0.5), 1u64 << 62);
}
