//! The upstream stage: one typed operation -> one gRPC call on a backend,
//! with a deadline and the calling context as metadata.

pub mod status;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tonic::metadata::{AsciiMetadataKey, AsciiMetadataValue, MetadataMap};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};

use crate::config::UpstreamConfig;
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::pb;
use crate::pb::external_database_client::ExternalDatabaseClient;
use crate::protocol::{Operation, Reply};

/// Largest response accepted from a backend. tonic's default (4 MiB) is
/// below what a page of 1000 rich items can weigh.
const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

/// Why an upstream could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamSetupError {
    #[error("upstreams.{name}.endpoint: {detail}")]
    Endpoint { name: String, detail: String },
    #[error("upstreams.{name}.tls: {detail}")]
    Tls { name: String, detail: String },
}

/// A named backend: a lazily connected channel plus the call settings.
#[derive(Clone)]
pub struct UpstreamClient {
    name: String,
    channel: Channel,
    client: ExternalDatabaseClient<Channel>,
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
        let endpoint_err = |detail: String| UpstreamSetupError::Endpoint {
            name: name.to_owned(),
            detail,
        };
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
        let mut extra_metadata = Vec::new();
        for (k, v) in &config.metadata {
            let key = AsciiMetadataKey::from_bytes(k.as_bytes())
                .map_err(|e| endpoint_err(format!("metadata key {k}: {e}")))?;
            let value = AsciiMetadataValue::try_from(v.as_str())
                .map_err(|e| endpoint_err(format!("metadata value of {k}: {e}")))?;
            extra_metadata.push((key, value));
        }
        let channel = ep.connect_lazy();
        let client = ExternalDatabaseClient::new(channel.clone())
            .max_decoding_message_size(MAX_RESPONSE_BYTES)
            .max_encoding_message_size(usize::MAX);
        Ok(UpstreamClient {
            name: name.to_owned(),
            channel,
            client,
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
        let mut client = HealthClient::new(self.channel.clone());
        let mut request = tonic::Request::new(HealthCheckRequest {
            service: String::new(),
        });
        request.set_timeout(timeout);
        match tokio::time::timeout(timeout, client.check(request)).await {
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
    pub async fn call(
        &self,
        mut op: Operation,
        wix_collection_id: Option<&str>,
    ) -> Result<Reply, ApiError> {
        let method = op.method();
        let metadata = self.metadata_for(op.context_mut().map(|c| &*c));
        let mut client = self.client.clone();

        macro_rules! rpc {
            ($method:ident, $req:expr, $reply:path) => {{
                let mut request = tonic::Request::new($req);
                *request.metadata_mut() = metadata;
                // Tells the backend the deadline (grpc-timeout); the local
                // timer below enforces it whatever the backend does.
                request.set_timeout(self.timeout);
                let started = Instant::now();
                let call = client.$method(request);
                let (result, code) = match tokio::time::timeout(self.timeout, call).await {
                    Ok(Ok(response)) => (Ok($reply(response.into_inner())), "OK"),
                    Ok(Err(status)) => (
                        Err(self.translate(&status, wix_collection_id, method)),
                        grpc_code_label(&status),
                    ),
                    Err(_elapsed) => (Err(self.timed_out()), "DEADLINE_EXCEEDED"),
                };
                self.metrics.observe_upstream(
                    &self.name,
                    method,
                    code,
                    started.elapsed().as_secs_f64(),
                );
                result
            }};
        }

        match op {
            Operation::GetCapabilities(r) => rpc!(get_capabilities, r, Reply::Capabilities),
            Operation::ListCollections(r) => rpc!(list_collections, r, Reply::Collections),
            Operation::CreateCollection(r) => {
                rpc!(create_collection, r, Reply::CreatedCollection)
            }
            Operation::UpdateCollection(r) => {
                rpc!(update_collection, r, Reply::UpdatedCollection)
            }
            Operation::DeleteCollection(r) => {
                rpc!(delete_collection, r, Reply::DeletedCollection)
            }
            Operation::ListIndexes(r) => rpc!(list_indexes, r, Reply::Indexes),
            Operation::CreateIndex(r) => rpc!(create_index, r, Reply::CreatedIndex),
            Operation::RemoveIndex(r) => rpc!(remove_index, r, Reply::RemovedIndex),
            Operation::QueryItems(r) => rpc!(query_items, r, Reply::Items),
            Operation::CountItems(r) => rpc!(count_items, r, Reply::Count),
            Operation::AggregateItems(r) => rpc!(aggregate_items, r, Reply::Aggregated),
            Operation::QueryDistinctValues(r) => {
                rpc!(query_distinct_values, r, Reply::DistinctValues)
            }
            Operation::InsertItems(r) => rpc!(insert_items, r, Reply::Inserted),
            Operation::UpdateItems(r) => rpc!(update_items, r, Reply::Updated),
            Operation::RemoveItems(r) => rpc!(remove_items, r, Reply::Removed),
            Operation::TruncateItems(r) => rpc!(truncate_items, r, Reply::Truncated),
            Operation::QueryReferencedItems(r) => {
                rpc!(query_referenced_items, r, Reply::ReferencedItems)
            }
            Operation::InsertReferences(r) => {
                rpc!(insert_references, r, Reply::InsertedReferences)
            }
            Operation::RemoveReferences(r) => {
                rpc!(remove_references, r, Reply::RemovedReferences)
            }
            Operation::Provision => Ok(Reply::Provisioned),
        }
    }

    fn translate(
        &self,
        status: &tonic::Status,
        wix_collection_id: Option<&str>,
        method: &str,
    ) -> ApiError {
        // A deadline the backend (or tonic) reported is the same 504 as
        // our own timer firing.
        // tonic's client reports its own expiry of grpc-timeout as
        // CANCELLED "Timeout expired".
        let local_expiry =
            status.code() == tonic::Code::Cancelled && status.message() == "Timeout expired";
        if status.code() == tonic::Code::DeadlineExceeded || local_expiry {
            return self.timed_out();
        }
        status::api_error_from_status(&self.name, status, wix_collection_id, method)
    }

    fn timed_out(&self) -> ApiError {
        ApiError::UpstreamTimeout {
            upstream: self.name.clone(),
            timeout_ms: self.timeout.as_millis() as u64,
        }
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
                ("x-extdb-identity-type", identity_type_name(identity.r#type)),
                ("x-extdb-identity-id", identity.id.as_str()),
            ];
            for (key, value) in entries {
                // Values come from the caller: skip (rather than fail on)
                // anything that is not valid ASCII metadata. The request body
                // carries the same facts unmangled.
                if value.is_empty() {
                    continue;
                }
                if let Ok(v) = AsciiMetadataValue::try_from(value) {
                    map.insert(key, v);
                }
            }
        }
        map
    }
}

/// The gRPC status code as a metric label (the canonical upper-case name).
fn grpc_code_label(status: &tonic::Status) -> &'static str {
    use tonic::Code;
    match status.code() {
        Code::Ok => "OK",
        Code::Cancelled if status.message() == "Timeout expired" => "DEADLINE_EXCEEDED",
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

fn identity_type_name(t: i32) -> &'static str {
    match pb::IdentityType::try_from(t).unwrap_or(pb::IdentityType::Unknown) {
        pb::IdentityType::Unknown => "UNKNOWN",
        pb::IdentityType::AnonymousVisitor => "ANONYMOUS_VISITOR",
        pb::IdentityType::Member => "MEMBER",
        pb::IdentityType::WixUser => "WIX_USER",
        pb::IdentityType::App => "APP",
    }
}
