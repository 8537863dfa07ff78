//! Calls to the backend's own API: one unary call of a method known by its
//! descriptor, carrying the metadata of the Wix call (request id, identity,
//! the upstream's configured metadata) and what is left of its deadline.

use std::time::Instant;

use bytes::Bytes;
use http::uri::PathAndQuery;
use prost_reflect::MethodDescriptor;
use tonic::metadata::{KeyAndValueRef, MetadataMap};
use tonic::transport::Channel;
use tonic::{Request, Status};

use extdb_contract::limits::MAX_MESSAGE_BYTES;

use crate::codec::RawCodec;

/// Headers of the incoming call that are the transport's, not the caller's.
const NOT_FORWARDED: &[&str] = &[
    "grpc-timeout",
    "te",
    "content-type",
    "user-agent",
    "grpc-encoding",
    "grpc-accept-encoding",
    "content-length",
    "host",
];

/// What every backend call made for one Wix call carries.
#[derive(Debug, Clone)]
pub struct CallScope {
    metadata: MetadataMap,
    deadline: Option<Instant>,
}

impl CallScope {
    /// The scope of an incoming contract call: its metadata (minus
    /// transport headers) and its deadline (`grpc-timeout`).
    pub fn of<T>(request: &Request<T>) -> CallScope {
        let incoming = request.metadata();
        let mut metadata = MetadataMap::new();
        for entry in incoming.iter() {
            match entry {
                KeyAndValueRef::Ascii(key, value) => {
                    if !NOT_FORWARDED.contains(&key.as_str()) {
                        metadata.append(key.clone(), value.clone());
                    }
                }
                KeyAndValueRef::Binary(key, value) => {
                    metadata.append_bin(key.clone(), value.clone());
                }
            }
        }
        let deadline = incoming
            .get("grpc-timeout")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_grpc_timeout)
            .map(|timeout| Instant::now() + timeout);
        CallScope { metadata, deadline }
    }

    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }
}

/// How close to the deadline a CANCELLED answer counts as the backend's
/// own timeout (its clock and ours start a network hop apart).
const DEADLINE_SLACK: std::time::Duration = std::time::Duration::from_millis(50);

/// `grpc-timeout` (gRPC over HTTP/2: an integer of at most 8 digits and a
/// unit).
fn parse_grpc_timeout(value: &str) -> Option<std::time::Duration> {
    use std::time::Duration;
    if value.len() < 2 || value.len() > 9 {
        return None;
    }
    let (digits, unit) = value.split_at(value.len() - 1);
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n.saturating_mul(3600)),
        "M" => Duration::from_secs(n.saturating_mul(60)),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

/// The backend, reached over one channel.
#[derive(Debug, Clone)]
pub struct Backend {
    channel: Channel,
}

impl Backend {
    pub fn new(channel: Channel) -> Backend {
        Backend { channel }
    }

    pub fn channel(&self) -> Channel {
        self.channel.clone()
    }

    /// Calls `method` with an encoded request; the answer comes back
    /// encoded. Its status is the backend's own (mapped to the contract by
    /// the caller); a deadline already past is DEADLINE_EXCEEDED without a
    /// call.
    pub async fn call(
        &self,
        method: &MethodDescriptor,
        message: Vec<u8>,
        scope: &CallScope,
    ) -> Result<Bytes, Status> {
        let mut request = Request::new(message);
        *request.metadata_mut() = scope.metadata.clone();
        let remaining = match scope.deadline {
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(Status::deadline_exceeded("the call's deadline has passed"));
                }
                request.set_timeout(left);
                Some(left)
            }
            None => None,
        };
        let path = PathAndQuery::try_from(format!(
            "/{}/{}",
            method.parent_service().full_name(),
            method.name()
        ))
        .map_err(|e| Status::internal(format!("method path: {e}")))?;
        let mut grpc = tonic::client::Grpc::new(self.channel.clone())
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES);
        let call = async move {
            grpc.ready()
                .await
                .map_err(|e| Status::unavailable(format!("backend not reachable: {e}")))?;
            grpc.unary(request, path, RawCodec)
                .await
                .map(tonic::Response::into_inner)
        };
        let answer = match remaining {
            // The deadline is enforced here too: a backend that ignores
            // grpc-timeout must not hold the call.
            Some(left) => tokio::time::timeout(left, call).await.unwrap_or_else(|_| {
                Err(Status::deadline_exceeded(
                    "the backend did not answer in time",
                ))
            }),
            None => call.await,
        };
        match answer {
            // A tonic server whose grpc-timeout runs out answers CANCELLED
            // ("Timeout expired"): for Wix that is a timeout (504), not a
            // cancelled call.
            Err(status)
                if status.code() == tonic::Code::Cancelled
                    && scope
                        .deadline
                        .is_some_and(|d| Instant::now() + DEADLINE_SLACK >= d) =>
            {
                Err(Status::deadline_exceeded(format!(
                    "the backend did not answer in time ({})",
                    status.message()
                )))
            }
            other => other,
        }
    }
}
