//! The upstream stage: one typed operation -> one gRPC call on a backend,
//! with a deadline and the calling context as metadata. The backend is
//! remote (a channel) or a contract service in this process
//! ([`LocalUpstream`], called directly).

mod codec;
mod local;
pub mod status;
mod transcode;

pub use local::LocalUpstream;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tonic::metadata::{AsciiMetadataKey, AsciiMetadataValue, MetadataMap};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};

use crate::config::UpstreamConfig;
use crate::metrics::Metrics;
use crate::trace::UpstreamCallTrace;
use extdb_contract::pb::external_database_client::ExternalDatabaseClient;
use extdb_protocol::error::ApiError;
use extdb_protocol::{Operation, Reply};

use extdb_contract::limits::{MAX_MESSAGE_BYTES, MAX_METADATA_VALUE_BYTES};
use extdb_contract::{Rpc, pb};

/// Why an upstream could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamSetupError {
    #[error("upstreams.{name}.endpoint: {detail}")]
    Endpoint { name: String, detail: String },
    #[error("upstreams.{name}.tls: {detail}")]
    Tls { name: String, detail: String },
}

impl UpstreamSetupError {
    fn endpoint(name: &str, detail: String) -> Self {
        UpstreamSetupError::Endpoint {
            name: name.to_owned(),
            detail,
        }
    }
}

/// A lazily connecting channel to a backend at `endpoint`, with the
/// upstream's connect timeout and TLS settings.
pub fn backend_channel(
    name: &str,
    endpoint: &str,
    config: &UpstreamConfig,
) -> Result<Channel, UpstreamSetupError> {
    Ok(backend_endpoint(name, endpoint, config)?.connect_lazy())
}

/// The settings [`backend_channel`] connects with; each channel made from
/// them is its own connection, driven by the runtime it was made on.
fn backend_endpoint(
    name: &str,
    endpoint: &str,
    config: &UpstreamConfig,
) -> Result<Endpoint, UpstreamSetupError> {
    let endpoint_err = |detail| UpstreamSetupError::endpoint(name, detail);
    let mut ep = Endpoint::from_shared(endpoint.to_owned())
        .map_err(|e| endpoint_err(e.to_string()))?
        .connect_timeout(Duration::from_millis(config.connect_timeout_ms))
        .tcp_nodelay(true)
        .http2_keep_alive_interval(Duration::from_secs(30))
        .keep_alive_while_idle(true);
    if endpoint.starts_with("https://") || config.tls.is_some() {
        let tls_err = |detail: String| UpstreamSetupError::Tls {
            name: name.to_owned(),
            detail,
        };
        let mut tls = ClientTlsConfig::new().with_native_roots();
        if let Some(t) = &config.tls {
            if let Some(ca) = &t.ca_file {
                let pem = std::fs::read(ca)
                    .map_err(|e| tls_err(format!("ca_file {}: {e}", ca.display())))?;
                tls = tls.ca_certificate(Certificate::from_pem(pem));
            }
            if let Some(domain) = &t.domain {
                tls = tls.domain_name(domain.clone());
            }
        }
        ep = ep.tls_config(tls).map_err(|e| tls_err(e.to_string()))?;
    }
    Ok(ep)
}

/// How calls reach a backend.
// One per upstream (cloned per call): its size costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
enum Transport {
    /// A lazily connected gRPC channel.
    Remote {
        /// What the channel was made from, to make another one on another
        /// runtime ([`UpstreamClient::for_this_runtime`]).
        endpoint: Endpoint,
        channel: Channel,
        client: ExternalDatabaseClient<Channel>,
        /// The same channel, for the RPCs whose answers are transcoded
        /// ([`codec`]).
        grpc: tonic::client::Grpc<Channel>,
    },
    /// A contract service in this process.
    Local(LocalUpstream),
}

impl Transport {
    /// A lazily connecting channel from `endpoint`, on the current runtime.
    fn remote(endpoint: Endpoint) -> Transport {
        let channel = endpoint.connect_lazy();
        // tonic's default (4 MiB) is below what a page of 1000 rich items
        // can weigh; both directions use the contract's limit, which the
        // reference store also accepts.
        let client = ExternalDatabaseClient::new(channel.clone())
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES);
        let grpc = tonic::client::Grpc::new(channel.clone())
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES);
        Transport::Remote {
            endpoint,
            channel,
            client,
            grpc,
        }
    }
}

/// A named backend: how to reach it plus the call settings.
#[derive(Clone)]
pub struct UpstreamClient {
    name: String,
    transport: Transport,
    timeout: Duration,
    extra_metadata: Vec<(AsciiMetadataKey, AsciiMetadataValue)>,
    metrics: Arc<Metrics>,
}

impl UpstreamClient {
    /// Builds the client; no connection is made until the first call, so the
    /// sidecar starts even while a backend is still starting.
    pub fn new(
        name: &str,
        endpoint: &str,
        config: &UpstreamConfig,
        metrics: Arc<Metrics>,
    ) -> Result<UpstreamClient, UpstreamSetupError> {
        let endpoint = backend_endpoint(name, endpoint, config)?;
        Self::with_transport(name, Transport::remote(endpoint), config, metrics)
    }

    /// This client with, for a remote backend, a connection of its own
    /// driven by the current runtime (a serving thread's), so a request and
    /// its upstream call never wait for another thread. In-process
    /// backends are shared as they are.
    pub fn for_this_runtime(&self) -> UpstreamClient {
        let transport = match &self.transport {
            Transport::Remote { endpoint, .. } => Transport::remote(endpoint.clone()),
            Transport::Local(local) => Transport::Local(local.clone()),
        };
        UpstreamClient {
            transport,
            ..self.clone()
        }
    }

    /// Builds the client of a contract service in this process (the
    /// embedded store, an `aip` adapter).
    pub fn local(
        name: &str,
        local: LocalUpstream,
        config: &UpstreamConfig,
        metrics: Arc<Metrics>,
    ) -> Result<UpstreamClient, UpstreamSetupError> {
        Self::with_transport(name, Transport::Local(local), config, metrics)
    }

    fn with_transport(
        name: &str,
        transport: Transport,
        config: &UpstreamConfig,
        metrics: Arc<Metrics>,
    ) -> Result<UpstreamClient, UpstreamSetupError> {
        let endpoint_err = |detail| UpstreamSetupError::endpoint(name, detail);
        let mut extra_metadata = Vec::new();
        for (k, v) in &config.metadata {
            let key = AsciiMetadataKey::from_bytes(k.as_bytes())
                .map_err(|e| endpoint_err(format!("metadata key {k}: {e}")))?;
            let value = AsciiMetadataValue::try_from(v.as_str())
                .map_err(|e| endpoint_err(format!("metadata value of {k}: {e}")))?;
            extra_metadata.push((key, value));
        }
        Ok(UpstreamClient {
            name: name.to_owned(),
            transport,
            timeout: Duration::from_millis(config.timeout_ms),
            extra_metadata,
            metrics,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Asks the upstream's `grpc.health.v1` service about the whole server.
    /// `Err` says why it is not ready.
    pub async fn check_health(&self, timeout: Duration) -> Result<(), String> {
        use tonic_health::pb::health_check_response::ServingStatus;
        use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
        let mut request = tonic::Request::new(HealthCheckRequest {
            service: String::new(),
        });
        request.set_timeout(timeout);
        let check = async {
            match &self.transport {
                Transport::Remote { channel, .. } => {
                    HealthClient::new(channel.clone()).check(request).await
                }
                Transport::Local(local) => local::contained(local.check_health(request)).await,
            }
        };
        match tokio::time::timeout(timeout, check).await {
            Ok(Ok(response)) => {
                let status = response.into_inner().status;
                if status == ServingStatus::Serving as i32 {
                    Ok(())
                } else {
                    let name = ServingStatus::try_from(status)
                        .map(|s| s.as_str_name())
                        .unwrap_or("UNKNOWN");
                    Err(format!("health status {name}"))
                }
            }
            Ok(Err(status)) => Err(format!(
                "health check failed: {} {}",
                grpc_code_label(&status),
                status.message()
            )),
            Err(_) => Err(format!(
                "no health answer within {} ms",
                timeout.as_millis()
            )),
        }
    }

    /// Calls the RPC of `op`. `wix_collection_id` names the collection as
    /// Wix knows it, for error data.
    ///
    /// A read whose call failed in transport (connection refused, reset,
    /// GOAWAY: the backend never answered it) is tried once more within the
    /// same deadline; the channel reconnects by itself. Writes are never
    /// repeated: a write that may have reached the backend is reported as
    /// 503, not silently done twice.
    pub async fn call(
        &self,
        mut op: Operation,
        wix_collection_id: Option<&str>,
    ) -> Result<Reply, ApiError> {
        let metadata = self.metadata_for(op.context_mut().map(|c| &*c));
        self.send(op, &metadata, wix_collection_id).await
    }

    /// [`Self::call`] for the v3 protocol: a remote answer with items
    /// (query items, distinct values, referenced items, per-item write
    /// results) comes back as
    /// [`Reply::Json`], transcoded from its wire bytes; everything else as
    /// [`Self::call`] answers it.
    pub async fn call_json(
        &self,
        mut op: Operation,
        wix_collection_id: Option<&str>,
    ) -> Result<Reply, ApiError> {
        let metadata = self.metadata_for(op.context_mut().map(|c| &*c));
        if matches!(self.transport, Transport::Remote { .. }) {
            let wix = wix_collection_id;
            match op {
                Operation::QueryItems(r) => {
                    return self.transcoded(r, &metadata, wix, Reply::Items).await;
                }
                Operation::QueryDistinctValues(r) => {
                    return self
                        .transcoded(r, &metadata, wix, Reply::DistinctValues)
                        .await;
                }
                Operation::QueryReferencedItems(r) => {
                    return self
                        .transcoded(r, &metadata, wix, Reply::ReferencedItems)
                        .await;
                }
                Operation::InsertItems(r) => {
                    return self.transcoded(r, &metadata, wix, Reply::Inserted).await;
                }
                Operation::UpdateItems(r) => {
                    return self.transcoded(r, &metadata, wix, Reply::Updated).await;
                }
                Operation::RemoveItems(r) => {
                    return self.transcoded(r, &metadata, wix, Reply::Removed).await;
                }
                other => op = other,
            }
        }
        self.send(op, &metadata, wix_collection_id).await
    }

    /// One RPC of a remote upstream through the transcoding codec;
    /// `typed` wraps an answer prost had to decode.
    async fn transcoded<Req>(
        &self,
        request: Req,
        metadata: &MetadataMap,
        wix_collection_id: Option<&str>,
        typed: fn(Req::Response) -> Reply,
    ) -> Result<Reply, ApiError>
    where
        Req: Rpc + Send,
        Req::Response: codec::Transcoded,
    {
        let answer = self
            .unary(
                Req::NAME,
                request,
                !Req::ACCESS.is_write(),
                metadata,
                wix_collection_id,
                |transport, request| async move {
                    let Transport::Remote { mut grpc, .. } = transport else {
                        return Err(tonic::Status::internal(
                            "transcoded call on an in-process upstream",
                        ));
                    };
                    // As the generated client does.
                    grpc.ready().await.map_err(|e| {
                        let e: tonic::codegen::StdError = e.into();
                        tonic::Status::unknown(format!("Service was not ready: {e}"))
                    })?;
                    let mut request = request;
                    request.extensions_mut().insert(tonic::GrpcMethod::new(
                        extdb_contract::rpc::SERVICE,
                        Req::NAME,
                    ));
                    let path = tonic::codegen::http::uri::PathAndQuery::from_static(Req::PATH);
                    grpc.unary(request, path, codec::TranscodingCodec::default())
                        .await
                },
            )
            .await?;
        Ok(match answer {
            codec::Answer::Json(json) => Reply::Json(json),
            codec::Answer::Typed(response) => typed(response),
        })
    }

    /// One unary RPC with the deadline, metrics and the one retry of a
    /// read that failed in transport (see [`Self::call`]). `idempotent`
    /// says the call is a read, so a call lost on the way may be repeated.
    async fn unary<Req, Rep, Fut>(
        &self,
        method: &'static str,
        request: Req,
        idempotent: bool,
        metadata: &MetadataMap,
        wix_collection_id: Option<&str>,
        send: impl Fn(Transport, tonic::Request<Req>) -> Fut,
    ) -> Result<Rep, ApiError>
    where
        Req: Clone,
        Fut: Future<Output = Result<tonic::Response<Rep>, tonic::Status>>,
    {
        let deadline = Instant::now() + self.timeout;
        let mut spare = idempotent.then(|| request.clone());
        let mut request = request;
        // The request's trace continues here: the backend's spans join it.
        let trace = UpstreamCallTrace::start(&self.name, method);
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            let mut call = tonic::Request::new(request);
            *call.metadata_mut() = metadata.clone();
            trace.add_metadata(call.metadata_mut());
            // Tells the backend the deadline (grpc-timeout); the local timer
            // below enforces it whatever the backend does.
            call.set_timeout(remaining);
            let started = Instant::now();
            let outcome = tokio::time::timeout(remaining, send(self.transport.clone(), call)).await;
            let elapsed = started.elapsed().as_secs_f64();
            let status = match outcome {
                Ok(Ok(response)) => {
                    self.metrics
                        .observe_upstream(&self.name, method, "OK", elapsed);
                    trace.finish("OK");
                    return Ok(response.into_inner());
                }
                Ok(Err(status)) => status,
                Err(_elapsed) => {
                    self.metrics
                        .observe_upstream(&self.name, method, "DEADLINE_EXCEEDED", elapsed);
                    trace.finish("DEADLINE_EXCEEDED");
                    return Err(self.timed_out());
                }
            };
            let failure = self.classify(&status, wix_collection_id, method);
            let label = if failure.in_transport {
                "TRANSPORT_ERROR"
            } else {
                grpc_code_label(&status)
            };
            self.metrics
                .observe_upstream(&self.name, method, label, elapsed);
            trace.finish(label);
            match spare.take() {
                Some(again) if failure.retry.allows(idempotent) && Instant::now() < deadline => {
                    tracing::debug!(
                        upstream = %self.name,
                        method,
                        error = %failure.error,
                        "read failed in transport; trying once more"
                    );
                    request = again;
                }
                _ => return Err(failure.error),
            }
        }
    }

    fn classify(
        &self,
        status: &tonic::Status,
        wix_collection_id: Option<&str>,
        method: &str,
    ) -> status::UpstreamFailure {
        status::classify(&self.name, self.timeout, status, wix_collection_id, method)
    }

    fn timed_out(&self) -> ApiError {
        status::timed_out(&self.name, self.timeout)
    }

    /// The calling context as gRPC metadata, plus the configured extras.
    fn metadata_for(&self, context: Option<&pb::CallContext>) -> MetadataMap {
        let mut map = MetadataMap::with_capacity(4 + self.extra_metadata.len());
        for (k, v) in &self.extra_metadata {
            map.insert(k.clone(), v.clone());
        }
        if let Some(ctx) = context {
            let identity = ctx.identity.clone().unwrap_or_default();
            let entries = [
                ("x-request-id", ctx.request_id.as_str()),
                ("x-extdb-instance-id", ctx.instance_id.as_str()),
                (
                    "x-extdb-identity-type",
                    pb::IdentityType::try_from(identity.r#type)
                        .unwrap_or(pb::IdentityType::Unknown)
                        .wix_name(),
                ),
                ("x-extdb-identity-id", identity.id.as_str()),
            ];
            for (key, value) in entries {
                // Values come from the caller: skip (rather than fail on)
                // anything that is not valid ASCII metadata, and replace long
                // ones by a digest, so no caller can make the headers of a
                // call too large for the shared connection. The request body
                // carries the same facts unmangled.
                if value.is_empty() {
                    continue;
                }
                if let Ok(v) = AsciiMetadataValue::try_from(metadata_value(value).as_ref()) {
                    map.insert(key, v);
                }
            }
        }
        map
    }
}

/// Generates [`UpstreamClient::send`]: each operation's RPC through
/// [`UpstreamClient::unary`], from the contract's per-RPC table.
macro_rules! upstream_dispatch {
    ($( $(#[$doc:meta])* $rpc:ident {
        method: $method:ident,
        request: $req:ident,
        response: $resp:ident,
        reply: $reply:ident,
        $($facts:tt)*
    } )*) => {
        impl UpstreamClient {
            /// Sends `op` as its RPC; a read may be retried (see
            /// [`Self::call`]).
            async fn send(
                &self,
                op: Operation,
                metadata: &MetadataMap,
                wix_collection_id: Option<&str>,
            ) -> Result<Reply, ApiError> {
                match op {
                    $(Operation::$rpc(request) => self
                        .unary(
                            <pb::$req as Rpc>::NAME,
                            request,
                            !<pb::$req as Rpc>::ACCESS.is_write(),
                            metadata,
                            wix_collection_id,
                            |transport, request| async move {
                                match transport {
                                    Transport::Remote { mut client, .. } => {
                                        client.$method(request).await
                                    }
                                    Transport::Local(local) => {
                                        local::contained(local.service().$method(request)).await
                                    }
                                }
                            },
                        )
                        .await
                        .map(Reply::$reply),)*
                    Operation::Provision => Ok(Reply::Provisioned),
                }
            }
        }
    };
}

extdb_contract::for_each_rpc!(upstream_dispatch);

/// A value as it may travel in metadata: itself when short, else
/// `sha256:` and the hex digest of it (documented in service.proto), so a
/// backend can still correlate equal values.
fn metadata_value(value: &str) -> std::borrow::Cow<'_, str> {
    if value.len() <= MAX_METADATA_VALUE_BYTES {
        return value.into();
    }
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, value.as_bytes());
    let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}").into()
}

/// The gRPC status code as a metric label (the canonical upper-case name).
fn grpc_code_label(status: &tonic::Status) -> &'static str {
    use tonic::Code;
    match status.code() {
        Code::Ok => "OK",
        Code::Cancelled if status::is_local_expiry(status) => "DEADLINE_EXCEEDED",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

#[cfg(test)]
mod tests;
