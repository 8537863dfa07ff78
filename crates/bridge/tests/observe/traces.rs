//! A request's trace reaches the backend as `traceparent`/`tracestate`
//! metadata, over real sockets: the caller's trace continued under the
//! sidecar's span, or a fresh one.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use extdb_bridge::trace::{TraceParent, otel_layer, sampler};
use extdb_contract::pb;
use extdb_protocol::Reply;
use extdb_testkit::backend::ScriptedBackend;
use extdb_testkit::{AUDIENCE, TestSidecar, WixSigner, config_yaml, test_key};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use opentelemetry::trace::{SpanKind, TraceId};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use serde_json::json;
use tracing_subscriber::Layer as _;
use tracing_subscriber::layer::SubscriberExt as _;

const CALLER: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const CALLER_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";

async fn sidecar(backend: &ScriptedBackend, extra: &str) -> TestSidecar {
    let key = test_key("test-only-ec-p256-a.public.pem").replace('\n', "\\n");
    let extra = format!("collections:\n  books:\n    upstream: backend\n{extra}");
    TestSidecar::start(&config_yaml(&key, AUDIENCE, &backend.endpoint(), &extra)).await
}

/// POSTs a signed count request with these extra headers; returns the
/// status.
async fn count(sidecar: &TestSidecar, headers: &[(&str, &str)]) -> u16 {
    let token = WixSigner::es256().sign(json!({"collectionId": "books"}));
    let mut request = hyper::Request::builder()
        .method("POST")
        .uri(sidecar.url("/v3/items/count"))
        .header("content-type", "text/plain");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request.body(Full::new(Bytes::from(token))).unwrap();
    let client = Client::builder(TokioExecutor::new()).build_http();
    let response = tokio::time::timeout(Duration::from_secs(20), client.request(request))
        .await
        .expect("sidecar answers within 20 s")
        .unwrap();
    let status = response.status().as_u16();
    let _ = response.into_body().collect().await.unwrap();
    status
}

/// The `traceparent` the backend received on its only call since the last
/// look, parsed, and its `tracestate`.
fn received_trace(backend: &ScriptedBackend, seen: &mut usize) -> (TraceParent, Option<String>) {
    let calls = backend.received();
    assert_eq!(calls.len(), *seen + 1, "one backend call per request");
    *seen += 1;
    let metadata = &calls[calls.len() - 1].metadata;
    let text = metadata
        .get("traceparent")
        .expect("the backend call carries traceparent")
        .to_str()
        .unwrap();
    assert_eq!(text.len(), 55, "{text}");
    let parent = TraceParent::parse(text.as_bytes())
        .unwrap_or_else(|e| panic!("the sidecar sent an invalid traceparent {text:?}: {e}"));
    let state = metadata
        .get("tracestate")
        .map(|v| v.to_str().unwrap().to_owned());
    (parent, state)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn answer(backend: &ScriptedBackend) {
    backend.answer(Reply::Count(pb::CountItemsResponse { total_count: 3 }));
}

#[tokio::test]
async fn the_backend_joins_the_callers_trace_or_a_fresh_one() {
    let backend = ScriptedBackend::start().await;
    let sidecar = sidecar(&backend, "").await;
    let mut seen = 0;

    // The caller's trace continues; the parent is the sidecar's span.
    answer(&backend);
    let status = count(
        &sidecar,
        &[
            ("traceparent", CALLER),
            ("tracestate", "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"),
        ],
    )
    .await;
    assert_eq!(status, 200);
    let (parent, state) = received_trace(&backend, &mut seen);
    assert_eq!(hex(&parent.trace_id), CALLER_TRACE);
    assert_ne!(
        hex(&parent.parent_id),
        CALLER_SPAN,
        "the sidecar's own span is the parent"
    );
    assert!(parent.sampled, "the caller's sampling decision is kept");
    assert_eq!(
        state.as_deref(),
        Some("congo=t61rcWkgMzE,rojo=00f067aa0ba902b7")
    );

    // The same caller span twice: a new sidecar span each time.
    answer(&backend);
    assert_eq!(count(&sidecar, &[("traceparent", CALLER)]).await, 200);
    let (again, state) = received_trace(&backend, &mut seen);
    assert_eq!(hex(&again.trace_id), CALLER_TRACE);
    assert_ne!(again.parent_id, parent.parent_id);
    assert_eq!(state, None);

    // None sent: a fresh, valid trace per request.
    let mut fresh = Vec::new();
    for _ in 0..2 {
        answer(&backend);
        assert_eq!(count(&sidecar, &[]).await, 200);
        let (p, state) = received_trace(&backend, &mut seen);
        assert_ne!(hex(&p.trace_id), CALLER_TRACE);
        assert!(
            p.sampled,
            "the default ratio (1.0) samples traces started here"
        );
        assert_eq!(state, None);
        fresh.push(p.trace_id);
    }
    assert_ne!(fresh[0], fresh[1]);

    // Invalid ones: a fresh trace, and their tracestate is not passed on.
    let invalid = [
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
    ];
    for bad in invalid {
        answer(&backend);
        assert_eq!(
            count(
                &sidecar,
                &[("traceparent", bad), ("tracestate", "congo=t61rcWkgMzE")]
            )
            .await,
            200,
            "{bad}"
        );
        let (p, state) = received_trace(&backend, &mut seen);
        assert_ne!(hex(&p.trace_id), CALLER_TRACE, "{bad}");
        assert_ne!(p.trace_id, [0; 16], "{bad}");
        assert_eq!(state, None, "{bad}");
    }
    sidecar.stop().await;
    backend.stop().await;
}

#[tokio::test]
async fn a_zero_ratio_flags_fresh_traces_unsampled_but_keeps_the_callers_decision() {
    let backend = ScriptedBackend::start().await;
    let sidecar = sidecar(&backend, "tracing:\n  sampling_ratio: 0.0\n").await;
    let mut seen = 0;
    answer(&backend);
    assert_eq!(count(&sidecar, &[]).await, 200);
    assert!(!received_trace(&backend, &mut seen).0.sampled);
    answer(&backend);
    assert_eq!(count(&sidecar, &[("traceparent", CALLER)]).await, 200);
    assert!(received_trace(&backend, &mut seen).0.sampled);
    sidecar.stop().await;
    backend.stop().await;
}

/// A `MakeWriter` into a shared buffer: the log lines a test reads back.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Export on, with an in-memory exporter in place of the OTLP one (the
/// same layer `init_subscriber` installs). One thread: the subscriber is
/// this thread's, and every task of the sidecar and backend runs on it.
#[tokio::test(flavor = "current_thread")]
async fn exported_spans_are_the_ones_the_backend_joins_and_the_log_names_the_trace() {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .with_sampler(sampler(1.0))
        .build();
    let logs = Captured::default();
    let subscriber = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .json()
                .flatten_event(true)
                .with_writer(logs.clone())
                .with_filter(tracing_subscriber::filter::filter_fn(|m| {
                    m.target().starts_with("extdb_bridge::http")
                })),
        )
        .with(otel_layer(&provider));
    let _default = tracing::subscriber::set_default(subscriber);

    let backend = ScriptedBackend::start().await;
    // The endpoint is not used here: main's subscriber would send there.
    let sidecar = sidecar(
        &backend,
        "tracing:\n  otlp:\n    endpoint: http://127.0.0.1:4317\n",
    )
    .await;
    let mut seen = 0;
    answer(&backend);
    assert_eq!(count(&sidecar, &[("traceparent", CALLER)]).await, 200);
    let (sent, _) = received_trace(&backend, &mut seen);
    answer(&backend);
    assert_eq!(count(&sidecar, &[]).await, 200);
    let (fresh, _) = received_trace(&backend, &mut seen);
    sidecar.stop().await;
    backend.stop().await;

    let spans = exporter.get_finished_spans().unwrap();
    let find = |kind: SpanKind, trace: [u8; 16]| {
        spans
            .iter()
            .find(|s| {
                s.span_kind == kind && s.span_context.trace_id() == TraceId::from_bytes(trace)
            })
            .unwrap_or_else(|| panic!("no {kind:?} span of trace {} in {spans:#?}", hex(&trace)))
    };
    for (parent, from_caller) in [(sent, true), (fresh, false)] {
        let server = find(SpanKind::Server, parent.trace_id);
        let client = find(SpanKind::Client, parent.trace_id);
        // The backend's parent is the exported upstream span, itself a
        // child of the request span, itself the caller's child.
        assert_eq!(client.span_context.span_id().to_bytes(), parent.parent_id);
        assert_eq!(client.parent_span_id, server.span_context.span_id());
        if from_caller {
            assert_eq!(hex(&server.parent_span_id.to_bytes()), CALLER_SPAN);
            assert!(server.parent_span_is_remote);
        }
        assert_eq!(server.name, "v3 items/count");
        assert_eq!(client.name, "CountItems");
        let attr = |span: &opentelemetry_sdk::trace::SpanData, key: &str| {
            span.attributes
                .iter()
                .find(|kv| kv.key.as_str() == key)
                .map(|kv| kv.value.to_string())
        };
        assert_eq!(attr(server, "endpoint").as_deref(), Some("items/count"));
        assert_eq!(attr(server, "collection").as_deref(), Some("books"));
        assert_eq!(attr(server, "wix.request_id").as_deref(), Some("req-1"));
        assert_eq!(
            attr(server, "http.response.status_code").as_deref(),
            Some("200")
        );
        assert_eq!(attr(client, "upstream").as_deref(), Some("backend"));
        assert_eq!(attr(client, "rpc.grpc.status_code").as_deref(), Some("OK"));
        // Names and labels only: no log events, no request text.
        assert!(server.events.is_empty() && client.events.is_empty());
        let log = logs.text();
        let line = log
            .lines()
            .find(|l| l.contains(&hex(&parent.trace_id)))
            .unwrap_or_else(|| {
                panic!(
                    "no access log line names trace {}:\n{log}",
                    hex(&parent.trace_id)
                )
            });
        assert!(line.contains("\"trace_id\":"), "{line}");
        assert!(line.contains("request served"), "{line}");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn the_access_log_names_the_trace_without_export() {
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_writer(logs.clone())
        .finish();
    let _default = tracing::subscriber::set_default(subscriber);
    let backend = ScriptedBackend::start().await;
    let sidecar = sidecar(&backend, "").await;
    answer(&backend);
    assert_eq!(count(&sidecar, &[("traceparent", CALLER)]).await, 200);
    sidecar.stop().await;
    backend.stop().await;
    let log = logs.text();
    let line = log
        .lines()
        .find(|l| l.contains("request served"))
        .unwrap_or_else(|| panic!("no access log line:\n{log}"));
    assert!(
        line.contains(&format!("\"trace_id\":\"{CALLER_TRACE}\"")),
        "{line}"
    );
}
