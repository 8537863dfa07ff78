//! Prometheus metrics: RED for both sides of the sidecar (requests from Wix,
//! calls to upstreams), authentication failures, in-flight requests and
//! build info. Label values are bounded: collections the config does not
//! name fold into `other`.

use std::collections::HashSet;

use prometheus::{
    Encoder, GaugeVec, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};

use crate::http::ConnectionEvent;

/// Latency buckets (seconds) shared by both sides, so they compare: fine
/// below a millisecond, where the sidecar's own cost lives, up to the
/// longest sensible deadline.
const BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0, 30.0,
];

/// The `collection` label for requests about no single collection.
pub const NO_COLLECTION: &str = "";
/// The `collection` label for collections the config does not name.
pub const OTHER_COLLECTION: &str = "other";

/// The `reason` of `extdb_http_requests_shed_total` for a body refused
/// because `http.max_body_bytes_in_flight` was spent.
pub const SHED_BODY_BUDGET: &str = "body_budget";
/// Every `reason` of `extdb_http_requests_shed_total`.
pub const SHED_REASONS: [&str; 1] = [SHED_BODY_BUDGET];

/// The `result` of a `/readyz` answer in `extdb_readiness_checks_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readiness {
    Ready,
    NotReady,
    /// 503 on purpose: the sidecar is draining.
    ShuttingDown,
}

impl Readiness {
    pub const ALL: [Readiness; 3] = [
        Readiness::Ready,
        Readiness::NotReady,
        Readiness::ShuttingDown,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Readiness::Ready => "ready",
            Readiness::NotReady => "not_ready",
            Readiness::ShuttingDown => "shutting_down",
        }
    }
}

/// All metrics of one sidecar, in their own registry.
pub struct Metrics {
    registry: Registry,
    http_requests: IntCounterVec,
    http_duration: HistogramVec,
    upstream_requests: IntCounterVec,
    upstream_duration: HistogramVec,
    auth_failures: IntCounterVec,
    inflight: IntGauge,
    connections_open: IntGauge,
    connections_refused: IntCounter,
    requests_shed: IntCounterVec,
    body_budget_held: IntGauge,
    /// Reads the body budget in use when the metrics are rendered (the
    /// request path never touches the gauge).
    body_budget_source: Option<BodyBudgetSource>,
    readiness_checks: IntCounterVec,
    known_collections: HashSet<String>,
}

/// Reads how many bytes of the shared body budget are held right now.
pub type BodyBudgetSource = Box<dyn Fn() -> u64 + Send + Sync>;

/// What the metrics know in advance, so their series start at 0.
#[derive(Default)]
pub struct MetricsSeed<'a> {
    /// Where `extdb_http_body_budget_bytes_held` is read from.
    pub body_budget: Option<BodyBudgetSource>,
    /// Collection ids named in the config (exact routes).
    pub collections: Vec<String>,
    /// (protocol, endpoint) pairs served.
    pub endpoints: Vec<(&'a str, &'a str)>,
    /// Upstream names.
    pub upstreams: Vec<String>,
    /// RPC method names.
    pub methods: Vec<&'a str>,
    /// Authentication failure reasons.
    pub auth_reasons: Vec<&'a str>,
    /// Each upstream's call deadline in seconds (alerts compare latency
    /// with it).
    pub upstream_timeouts: Vec<(String, f64)>,
}

impl Metrics {
    pub fn new(seed: MetricsSeed<'_>) -> Metrics {
        let registry = Registry::new();
        let http_requests = IntCounterVec::new(
            Opts::new(
                "extdb_http_requests_total",
                "Protocol requests answered, by outcome.",
            ),
            &["protocol", "endpoint", "collection", "code"],
        )
        .expect("valid metric definition");
        let http_duration = HistogramVec::new(
            HistogramOpts::new(
                "extdb_http_request_duration_seconds",
                "Time from request received to response ready.",
            )
            .buckets(BUCKETS.to_vec()),
            &["protocol", "endpoint"],
        )
        .expect("valid metric definition");
        let upstream_requests = IntCounterVec::new(
            Opts::new(
                "extdb_upstream_requests_total",
                "Calls to upstreams, by gRPC status.",
            ),
            &["upstream", "method", "grpc_code"],
        )
        .expect("valid metric definition");
        let upstream_duration = HistogramVec::new(
            HistogramOpts::new(
                "extdb_upstream_request_duration_seconds",
                "Duration of calls to upstreams.",
            )
            .buckets(BUCKETS.to_vec()),
            &["upstream", "method"],
        )
        .expect("valid metric definition");
        let auth_failures = IntCounterVec::new(
            Opts::new(
                "extdb_auth_failures_total",
                "Requests refused by authentication.",
            ),
            &["reason"],
        )
        .expect("valid metric definition");
        let inflight = IntGauge::new("extdb_inflight_requests", "Protocol requests in progress.")
            .expect("valid metric definition");
        let connections_open = IntGauge::new(
            "extdb_http_connections_open",
            "Connections open on the protocol port.",
        )
        .expect("valid metric definition");
        let connections_refused = IntCounter::new(
            "extdb_http_connections_refused_total",
            "Connections closed at once because http.max_connections was reached.",
        )
        .expect("valid metric definition");
        let requests_shed = IntCounterVec::new(
            Opts::new(
                "extdb_http_requests_shed_total",
                "Requests refused at once for lack of capacity (a shared limit was spent), by limit.",
            ),
            &["reason"],
        )
        .expect("valid metric definition");
        let body_budget_held = IntGauge::new(
            "extdb_http_body_budget_bytes_held",
            "Request body bytes being received that count against http.max_body_bytes_in_flight.",
        )
        .expect("valid metric definition");
        let readiness_checks = IntCounterVec::new(
            Opts::new(
                "extdb_readiness_checks_total",
                "Answers of /readyz, by result.",
            ),
            &["result"],
        )
        .expect("valid metric definition");
        let upstream_timeout = GaugeVec::new(
            Opts::new(
                "extdb_upstream_timeout_seconds",
                "Each upstream's configured call deadline (timeout_ms).",
            ),
            &["upstream"],
        )
        .expect("valid metric definition");
        let build_info = IntGaugeVec::new(
            Opts::new(
                "extdb_build_info",
                "Always 1; the labels say which build runs.",
            ),
            &["version"],
        )
        .expect("valid metric definition");
        build_info
            .with_label_values(&[env!("CARGO_PKG_VERSION")])
            .set(1);

        for metric in [
            Box::new(http_requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(http_duration.clone()),
            Box::new(upstream_requests.clone()),
            Box::new(upstream_duration.clone()),
            Box::new(auth_failures.clone()),
            Box::new(inflight.clone()),
            Box::new(connections_open.clone()),
            Box::new(connections_refused.clone()),
            Box::new(requests_shed.clone()),
            Box::new(body_budget_held.clone()),
            Box::new(readiness_checks.clone()),
            Box::new(upstream_timeout.clone()),
            Box::new(build_info),
        ] {
            registry.register(metric).expect("metric names are unique");
        }

        for (protocol, endpoint) in &seed.endpoints {
            http_duration.with_label_values(&[protocol, endpoint]);
        }
        for upstream in &seed.upstreams {
            for method in &seed.methods {
                upstream_requests.with_label_values(&[upstream.as_str(), method, "OK"]);
                upstream_duration.with_label_values(&[upstream.as_str(), method]);
            }
        }
        for reason in &seed.auth_reasons {
            auth_failures.with_label_values(&[reason]);
        }
        for reason in SHED_REASONS {
            requests_shed.with_label_values(&[reason]);
        }
        for result in Readiness::ALL {
            readiness_checks.with_label_values(&[result.label()]);
        }
        for (upstream, seconds) in &seed.upstream_timeouts {
            upstream_timeout
                .with_label_values(&[upstream.as_str()])
                .set(*seconds);
        }
        Metrics {
            registry,
            http_requests,
            http_duration,
            upstream_requests,
            upstream_duration,
            auth_failures,
            inflight,
            connections_open,
            connections_refused,
            requests_shed,
            body_budget_held,
            body_budget_source: seed.body_budget,
            readiness_checks,
            known_collections: seed.collections.into_iter().collect(),
        }
    }

    pub fn connection_event(&self, event: ConnectionEvent) {
        match event {
            ConnectionEvent::Opened => self.connections_open.inc(),
            ConnectionEvent::Closed => self.connections_open.dec(),
            ConnectionEvent::Refused => self.connections_refused.inc(),
        }
    }

    /// The `collection` label value for a collection id.
    pub fn collection_label<'a>(&self, collection: Option<&'a str>) -> &'a str {
        match collection {
            None => NO_COLLECTION,
            Some(c) if self.known_collections.contains(c) => c,
            Some(_) => OTHER_COLLECTION,
        }
    }

    pub fn observe_http(
        &self,
        protocol: &str,
        endpoint: &str,
        collection: Option<&str>,
        status: u16,
        seconds: f64,
    ) {
        let collection = self.collection_label(collection);
        let code = status.to_string();
        self.http_requests
            .with_label_values(&[protocol, endpoint, collection, code.as_str()])
            .inc();
        self.http_duration
            .with_label_values(&[protocol, endpoint])
            .observe(seconds);
    }

    pub fn observe_upstream(&self, upstream: &str, method: &str, grpc_code: &str, seconds: f64) {
        self.upstream_requests
            .with_label_values(&[upstream, method, grpc_code])
            .inc();
        self.upstream_duration
            .with_label_values(&[upstream, method])
            .observe(seconds);
    }

    pub fn auth_failure(&self, reason: &str) {
        self.auth_failures.with_label_values(&[reason]).inc();
    }

    /// A request refused for lack of capacity (`reason`: one of
    /// [`SHED_REASONS`]).
    pub fn shed(&self, reason: &str) {
        self.requests_shed.with_label_values(&[reason]).inc();
    }

    pub fn readiness_checked(&self, result: Readiness) {
        self.readiness_checks
            .with_label_values(&[result.label()])
            .inc();
    }

    /// Counts a request in flight until the guard drops.
    pub fn inflight(&self) -> InflightGuard<'_> {
        self.inflight.inc();
        InflightGuard(&self.inflight)
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        if let Some(source) = &self.body_budget_source {
            self.body_budget_held
                .set(i64::try_from(source()).unwrap_or(i64::MAX));
        }
        let mut out = Vec::new();
        // Encoding our own registry into memory cannot fail.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

/// Decrements the in-flight gauge when dropped (also on cancellation).
pub struct InflightGuard<'a>(&'a IntGauge);

impl Drop for InflightGuard<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[cfg(test)]
mod tests;
