//! Traces across the hop: every request gets a W3C trace context (the
//! caller's `traceparent`/`tracestate` when valid, else a fresh one), the
//! backend call carries it as gRPC metadata with the sidecar's span as
//! parent, and the access log names the trace id.
//!
//! Propagation alone (the default) costs a few random bytes and a header
//! per request: no `tracing` span is made. With `tracing.otlp` the request
//! and its upstream call become spans (target [`SPAN_TARGET`]) that the
//! OpenTelemetry layer from [`init_subscriber`] exports; their ids are the
//! ones sent upstream, so the backend's spans join them.

use std::fmt;
use std::time::Duration;

use http::HeaderMap;
use http::header::HeaderValue;
use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState, TracerProvider as _,
};
use opentelemetry_sdk::trace::{BatchSpanProcessor, Sampler, SdkTracerProvider};
use tonic::metadata::{AsciiMetadataValue, MetadataMap};
use tracing::field::Empty;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _};

use crate::config::{LogConfig, LogFormat, TracingConfig};

/// The `tracing` target of the spans made for export; only these reach the
/// OpenTelemetry layer, and the log output never shows them.
pub const SPAN_TARGET: &str = "extdb_bridge::trace";

/// Length of a version-00 `traceparent`: `00-<32 hex>-<16 hex>-<2 hex>`.
const TRACEPARENT_LEN: usize = 55;
/// Longest `tracestate` passed on: the W3C limit a vendor must propagate
/// (32 members); longer ones are dropped rather than grow the backend's
/// headers at the caller's will.
pub const MAX_TRACESTATE_BYTES: usize = 512;
const SAMPLED: u8 = 0x01;

/// Why a `traceparent` header was not taken (a fresh trace starts then).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TraceParentError {
    #[error("sent more than once")]
    Repeated,
    #[error(
        "not `version-traceid-parentid-flags` with lower-case hex fields of 2, 32, 16 and 2 digits"
    )]
    Format,
    #[error("version ff is invalid")]
    ForbiddenVersion,
    #[error("trace id is all zeros")]
    ZeroTraceId,
    #[error("parent id is all zeros")]
    ZeroParentId,
}

/// A valid `traceparent`: whose trace this is, the caller's span, and
/// whether the caller sampled it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceParent {
    pub trace_id: [u8; 16],
    pub parent_id: [u8; 8],
    pub sampled: bool,
}

impl TraceParent {
    /// Parses a `traceparent` value (W3C Trace Context level 1, §3.2):
    /// version 00 exactly 55 characters; a later version at least that,
    /// its first four fields read as version 00's (what it adds after a
    /// `-` is ignored). Upper-case hex is invalid.
    pub fn parse(value: &[u8]) -> Result<TraceParent, TraceParentError> {
        if value.len() < TRACEPARENT_LEN
            || value[2] != b'-'
            || value[35] != b'-'
            || value[52] != b'-'
        {
            return Err(TraceParentError::Format);
        }
        let version = hex_byte(&value[0..2]).ok_or(TraceParentError::Format)?;
        if version == 0xff {
            return Err(TraceParentError::ForbiddenVersion);
        }
        let exact = value.len() == TRACEPARENT_LEN;
        if !exact && (version == 0 || value[TRACEPARENT_LEN] != b'-') {
            return Err(TraceParentError::Format);
        }
        let mut trace_id = [0u8; 16];
        hex_into(&value[3..35], &mut trace_id).ok_or(TraceParentError::Format)?;
        let mut parent_id = [0u8; 8];
        hex_into(&value[36..52], &mut parent_id).ok_or(TraceParentError::Format)?;
        let flags = hex_byte(&value[53..55]).ok_or(TraceParentError::Format)?;
        if trace_id == [0; 16] {
            return Err(TraceParentError::ZeroTraceId);
        }
        if parent_id == [0; 8] {
            return Err(TraceParentError::ZeroParentId);
        }
        Ok(TraceParent {
            trace_id,
            parent_id,
            sampled: flags & SAMPLED != 0,
        })
    }

    /// The version-00 header value. Only the sampled flag is passed on:
    /// the others are not defined for version 00.
    pub fn encode(&self) -> [u8; TRACEPARENT_LEN] {
        let mut out = [b'-'; TRACEPARENT_LEN];
        out[0] = b'0';
        out[1] = b'0';
        hex_write(&self.trace_id, &mut out[3..35]);
        hex_write(&self.parent_id, &mut out[36..52]);
        hex_write(&[u8::from(self.sampled)], &mut out[53..55]);
        out
    }
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

fn hex_byte(two: &[u8]) -> Option<u8> {
    Some(hex_digit(two[0])? << 4 | hex_digit(two[1])?)
}

fn hex_into(text: &[u8], out: &mut [u8]) -> Option<()> {
    for (byte, pair) in out.iter_mut().zip(text.chunks_exact(2)) {
        *byte = hex_byte(pair)?;
    }
    Some(())
}

fn hex_write(bytes: &[u8], out: &mut [u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for (byte, pair) in bytes.iter().zip(out.chunks_exact_mut(2)) {
        pair[0] = HEX[usize::from(byte >> 4)];
        pair[1] = HEX[usize::from(byte & 0x0f)];
    }
}

/// A trace id as 32 lower-case hex digits (for logs), without allocating.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TraceIdHex(pub [u8; 16]);

impl fmt::Display for TraceIdHex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = [0u8; 32];
        hex_write(&self.0, &mut out);
        f.write_str(std::str::from_utf8(&out).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for TraceIdHex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Starts each request's trace: the sampling of traces started here and
/// whether spans are made for export.
#[derive(Debug, Clone)]
pub struct RequestTracer {
    /// A fresh trace is sampled when the top 63 bits of its id's low half
    /// are below this (the OpenTelemetry `TraceIdRatioBased` rule, so both
    /// modes decide alike).
    sample_below: u64,
    export: bool,
}

impl RequestTracer {
    pub fn new(config: &TracingConfig) -> RequestTracer {
        RequestTracer {
            sample_below: ratio_threshold(config.sampling_ratio),
            export: config.otlp.is_some(),
        }
    }

    /// Whether requests become exported spans.
    pub fn exports(&self) -> bool {
        self.export
    }

    /// The trace of a request with these headers. `endpoint` and
    /// `protocol` name the span (export only).
    pub fn start(&self, headers: &HeaderMap, protocol: &str, endpoint: &str) -> RequestTrace {
        let parent = match incoming_parent(headers) {
            Ok(parent) => parent,
            Err(why) => {
                // The caller's context is discarded whole (W3C §3.3.2);
                // its own value may be hostile, so only the reason is
                // logged.
                tracing::debug!(reason = %why, "traceparent ignored; starting a new trace");
                None
            }
        };
        // Trace state belongs to a trace context: with no valid parent it
        // is dropped.
        let tracestate = parent.and_then(|_| incoming_tracestate(headers));
        if self.export {
            return self.start_span(parent, tracestate, protocol, endpoint);
        }
        let mut random = [0u8; 24];
        let fresh = parent.is_none();
        let filled = if fresh {
            &mut random[..]
        } else {
            &mut random[..8]
        };
        // `fill` fails only if the system has no randomness; a zero id is
        // then not valid, and tells the backend nothing wrong.
        let _ = aws_lc_rs::rand::fill(filled);
        let mut span_id = [0u8; 8];
        span_id.copy_from_slice(&random[..8]);
        let (trace_id, sampled) = match parent {
            Some(p) => (p.trace_id, p.sampled),
            None => {
                let mut id = [0u8; 16];
                id.copy_from_slice(&random[8..24]);
                (id, self.samples(&id))
            }
        };
        RequestTrace {
            trace_id,
            upstream_parent: TraceParent {
                trace_id,
                parent_id: span_id,
                sampled,
            },
            tracestate,
            span: None,
        }
    }

    fn samples(&self, trace_id: &[u8; 16]) -> bool {
        let mut low = [0u8; 8];
        low.copy_from_slice(&trace_id[8..]);
        (u64::from_be_bytes(low) >> 1) < self.sample_below
    }

    /// Export mode: the request span, child of the caller's span when
    /// there is one; the OpenTelemetry layer gives it its ids.
    fn start_span(
        &self,
        parent: Option<TraceParent>,
        tracestate: Option<HeaderValue>,
        protocol: &str,
        endpoint: &str,
    ) -> RequestTrace {
        // A root: the caller's context (below) is its only parent, never
        // whatever span happens to be current.
        let span = tracing::info_span!(
            target: SPAN_TARGET,
            parent: None,
            "request",
            otel.name = %format_args!("{protocol} {endpoint}"),
            otel.kind = "server",
            otel.status_code = Empty,
            protocol,
            endpoint,
            collection = Empty,
            wix.request_id = Empty,
            http.response.status_code = Empty,
        );
        if let Some(p) = parent {
            let remote = SpanContext::new(
                TraceId::from_bytes(p.trace_id),
                SpanId::from_bytes(p.parent_id),
                if p.sampled {
                    TraceFlags::SAMPLED
                } else {
                    TraceFlags::default()
                },
                true,
                TraceState::default(),
            );
            let _ = span.set_parent(opentelemetry::Context::new().with_remote_span_context(remote));
        }
        let context = span.context();
        let ids = context.span().span_context().clone();
        let trace_id = if ids.is_valid() {
            ids.trace_id().to_bytes()
        } else {
            // No OpenTelemetry layer (export configured but the subscriber
            // was made elsewhere): keep the caller's trace at least.
            parent.map_or([0; 16], |p| p.trace_id)
        };
        RequestTrace {
            trace_id,
            upstream_parent: TraceParent {
                trace_id,
                parent_id: ids.span_id().to_bytes(),
                sampled: ids.is_sampled(),
            },
            tracestate,
            span: Some(span),
        }
    }
}

/// `ratio` of the 63-bit space `TraceIdRatioBased` compares against.
fn ratio_threshold(ratio: f64) -> u64 {
    if ratio >= 1.0 {
        u64::MAX
    } else if ratio > 0.0 {
        (ratio * (1u64 << 63) as f64) as u64
    } else {
        0
    }
}

fn incoming_parent(headers: &HeaderMap) -> Result<Option<TraceParent>, TraceParentError> {
    let mut values = headers.get_all("traceparent").iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(TraceParentError::Repeated);
    }
    TraceParent::parse(value.as_bytes()).map(Some)
}

/// The caller's `tracestate`, to pass on unchanged (several header lines
/// are one list, W3C §3.3.1.1); dropped when too long or not sendable as
/// gRPC metadata.
fn incoming_tracestate(headers: &HeaderMap) -> Option<HeaderValue> {
    let mut values = headers.get_all("tracestate").iter();
    let first = values.next()?;
    let Some(second) = values.next() else {
        return (first.len() <= MAX_TRACESTATE_BYTES && is_visible_ascii(first.as_bytes()))
            .then(|| first.clone());
    };
    let mut joined = Vec::with_capacity(first.len() + second.len() + 1);
    for value in [first, second].into_iter().chain(values) {
        if !joined.is_empty() {
            joined.push(b',');
        }
        joined.extend_from_slice(value.as_bytes());
        if joined.len() > MAX_TRACESTATE_BYTES {
            return None;
        }
    }
    if !is_visible_ascii(&joined) {
        return None;
    }
    HeaderValue::from_bytes(&joined).ok()
}

fn is_visible_ascii(bytes: &[u8]) -> bool {
    bytes.iter().all(|b| (0x20..0x7f).contains(b))
}

/// One request's trace context, from [`RequestTracer::start`].
#[derive(Debug, Clone)]
pub struct RequestTrace {
    trace_id: [u8; 16],
    /// What the backend call carries: this trace, the sidecar's span as
    /// parent (export: the upstream call's own span instead).
    upstream_parent: TraceParent,
    tracestate: Option<HeaderValue>,
    /// The request span (export only).
    span: Option<tracing::Span>,
}

tokio::task_local! {
    /// The trace of the request this task serves, for the upstream call
    /// (which runs in the same task, several stages down).
    static CURRENT: RequestTrace;
}

impl RequestTrace {
    pub fn trace_id(&self) -> TraceIdHex {
        TraceIdHex(self.trace_id)
    }

    /// The parent the backend call names when no span is exported.
    pub fn upstream_parent(&self) -> TraceParent {
        self.upstream_parent
    }

    /// Runs `fut` (the request's stages) with this trace as the current
    /// one, so the upstream call finds it.
    pub async fn scope<F: Future>(&self, fut: F) -> F::Output {
        CURRENT.scope(self.clone(), fut).await
    }

    /// Whether this request is an exported span (then [`Self::finish`]
    /// records on it).
    pub fn is_exported(&self) -> bool {
        self.span.is_some()
    }

    /// Records what the request came to on its span (export only).
    /// `collection` is the bounded metric label, never the caller's text.
    pub fn finish(&self, collection: &str, request_id: Option<&str>, status: u16) {
        let Some(span) = &self.span else {
            return;
        };
        span.record("collection", collection);
        if let Some(id) = request_id {
            span.record("wix.request_id", metadata_safe(id));
        }
        span.record("http.response.status_code", status);
        if status >= 500 {
            span.record("otel.status_code", "ERROR");
        }
    }
}

/// A request id as a span attribute: the caller's text, so bounded like
/// the metadata the backend gets.
fn metadata_safe(id: &str) -> &str {
    if id.len() <= extdb_contract::limits::MAX_METADATA_VALUE_BYTES {
        id
    } else {
        "(too long)"
    }
}

/// The trace side of one upstream call: the metadata it carries and, in
/// export mode, its span.
pub struct UpstreamCallTrace {
    traceparent: Option<AsciiMetadataValue>,
    tracestate: Option<AsciiMetadataValue>,
    span: Option<tracing::Span>,
}

impl UpstreamCallTrace {
    /// For a call to `upstream`'s `method` from the current request; empty
    /// outside a request (health checks).
    pub fn start(upstream: &str, method: &'static str) -> UpstreamCallTrace {
        CURRENT
            .try_with(|request| {
                let (parent, span) = match &request.span {
                    None => (request.upstream_parent, None),
                    Some(request_span) => {
                        let span = tracing::info_span!(
                            target: SPAN_TARGET,
                            parent: request_span,
                            "upstream",
                            otel.name = method,
                            otel.kind = "client",
                            otel.status_code = Empty,
                            upstream,
                            rpc.system = "grpc",
                            rpc.method = method,
                            rpc.grpc.status_code = Empty,
                        );
                        let ids = span.context().span().span_context().clone();
                        let parent = if ids.is_valid() {
                            TraceParent {
                                trace_id: ids.trace_id().to_bytes(),
                                parent_id: ids.span_id().to_bytes(),
                                sampled: ids.is_sampled(),
                            }
                        } else {
                            request.upstream_parent
                        };
                        (parent, Some(span))
                    }
                };
                let traceparent = (parent.trace_id != [0; 16] && parent.parent_id != [0; 8])
                    .then(|| AsciiMetadataValue::try_from(&parent.encode()[..]).ok())
                    .flatten();
                let tracestate = request
                    .tracestate
                    .as_ref()
                    .and_then(|v| AsciiMetadataValue::try_from(v.as_bytes()).ok());
                UpstreamCallTrace {
                    traceparent,
                    tracestate,
                    span,
                }
            })
            .unwrap_or(UpstreamCallTrace {
                traceparent: None,
                tracestate: None,
                span: None,
            })
    }

    /// Adds `traceparent` (and `tracestate`) to a call's metadata.
    pub fn add_metadata(&self, metadata: &mut MetadataMap) {
        if let Some(v) = &self.traceparent {
            metadata.insert("traceparent", v.clone());
        }
        if let Some(v) = &self.tracestate {
            metadata.insert("tracestate", v.clone());
        }
    }

    /// Records the call's outcome (the metric's gRPC code label).
    pub fn finish(&self, grpc_code: &'static str) {
        if let Some(span) = &self.span {
            span.record("rpc.grpc.status_code", grpc_code);
            if grpc_code != "OK" {
                span.record("otel.status_code", "ERROR");
            }
        }
    }
}

/// Why logging or export could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("tracing.otlp: {0}")]
    Exporter(#[from] opentelemetry_otlp::ExporterBuildError),
    #[error("a global log subscriber is already set: {0}")]
    AlreadySet(#[from] tracing_subscriber::util::TryInitError),
}

/// What must outlive the process's requests: the span exporter, flushed
/// by [`Telemetry::shutdown`].
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Sends the spans still queued (bounded by the export timeout).
    pub fn shutdown(self) {
        if let Some(provider) = self.provider
            && let Err(e) = provider.shutdown()
        {
            tracing::warn!(error = %e, "tracing.otlp: spans not sent at shutdown");
        }
    }
}

/// The sampler of exported spans: a caller's decision is kept, traces
/// started here are sampled at `ratio` (the same rule as propagation-only).
pub fn sampler(ratio: f64) -> Sampler {
    Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(ratio)))
}

/// The OpenTelemetry layer over `provider`: only the spans of
/// [`SPAN_TARGET`], no log events (their text may quote the caller).
pub fn otel_layer<S>(
    provider: &SdkTracerProvider,
) -> impl tracing_subscriber::Layer<S> + Send + Sync + 'static
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a> + Send + Sync,
{
    tracing_opentelemetry::layer()
        .with_tracer(provider.tracer("extdb-bridge"))
        .with_tracked_inactivity(false)
        .with_threads(false)
        .with_location(false)
        .with_level(false)
        .with_target(false)
        .with_filter(filter_fn(|meta| {
            meta.is_span() && meta.target() == SPAN_TARGET
        }))
}

/// Installs the process's log output (stdout, text or JSON; `RUST_LOG`
/// wins over `log.level`) and, with `tracing.otlp`, the span exporter.
/// Must run inside the Tokio runtime: the gRPC exporter's channel lives
/// there.
pub fn init_subscriber(
    log: &LogConfig,
    tracing_config: &TracingConfig,
) -> Result<Telemetry, TelemetryError> {
    // One global filter, as a plain `fmt()` subscriber has: callsites it
    // turns off (the libraries' debug and trace spans) are never built.
    // (A per-layer filter on the log output would let every span of every
    // library reach the registry: measured at ~4% of the request path.)
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&log.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    // Colours only for a human at a terminal, never in collected logs.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let fmt = tracing_subscriber::fmt::layer().with_ansi(ansi);
    let fmt = match log.format {
        LogFormat::Text => fmt.boxed(),
        LogFormat::Json => fmt.json().flatten_event(true).boxed(),
    };
    let Some(otlp) = &tracing_config.otlp else {
        tracing_subscriber::registry()
            .with(filter)
            .with(fmt)
            .try_init()?;
        return Ok(Telemetry { provider: None });
    };
    use opentelemetry_otlp::WithExportConfig as _;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(otlp.endpoint.clone())
        .with_timeout(Duration::from_millis(otlp.timeout_ms))
        .build()?;
    let provider = SdkTracerProvider::builder()
        .with_span_processor(BatchSpanProcessor::builder(exporter).build())
        .with_sampler(sampler(tracing_config.sampling_ratio))
        .with_resource(
            opentelemetry_sdk::Resource::builder()
                .with_service_name(tracing_config.service_name.clone())
                .build(),
        )
        .build();
    // The request spans whatever the log level. They are never entered, so
    // log lines do not show them (their `trace_id` is there already).
    let filter = match format!("{SPAN_TARGET}=info").parse() {
        Ok(directive) => filter.add_directive(directive),
        Err(_) => filter,
    };
    tracing_subscriber::registry()
        .with(filter)
        .with(fmt)
        .with(otel_layer(&provider))
        .try_init()?;
    Ok(Telemetry {
        provider: Some(provider),
    })
}

#[cfg(test)]
mod tests;
