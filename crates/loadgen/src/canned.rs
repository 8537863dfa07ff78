//! The canned backend: a gRPC server of the upstream contract that answers
//! prebuilt, pre-encoded responses, so that it costs next to nothing and a
//! benchmark against it measures the sidecar's own overhead.
//!
//! It reads only what decides the answer's size: a query's `_id` filter and
//! limit (1 or up to 50 items), an insert's item count (one result each).
//! Count and aggregate answers are fixed. Other methods are UNIMPLEMENTED.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use prost::Message as _;
use serde_json::json;
use tokio::net::TcpListener;
use tonic::server::{Grpc, NamedService, UnaryService};
use tonic::{Request, Response, Status};

use super::raw::RawCodec;
use super::scenarios::{BULK_INSERT, PAGE_SIZE, stored_book, to_pb_item};
use extdb_contract::{Rpc, pb};
use extdb_protocol::error::ApiError;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// The part of a `QueryItemsRequest` that decides the answer; prost skips
/// the other fields without decoding them.
#[derive(Clone, PartialEq, prost::Message)]
struct QueryShape {
    #[prost(message, optional, tag = "3")]
    filter: Option<pb::Filter>,
    #[prost(message, optional, tag = "6")]
    paging: Option<pb::Paging>,
}

/// An `InsertItemsRequest`'s items, left as undecoded bytes to count them.
#[derive(Clone, PartialEq, prost::Message)]
struct InsertShape {
    #[prost(bytes = "bytes", repeated, tag = "3")]
    items: Vec<Bytes>,
}

/// Encoded answers. A response whose only field is a repeated message is
/// the concatenation of its entries, so `n` items are a prefix of `items`.
struct Answers {
    /// `QueryItemsResponse.items` entries for PAGE_SIZE items, back to back.
    items: Bytes,
    /// End offset of each entry in `items`.
    item_ends: Vec<usize>,
    /// `InsertItemsResponse.results` entries for BULK_INSERT items.
    results: Bytes,
    result_ends: Vec<usize>,
    count: Bytes,
    aggregate: Bytes,
}

impl Answers {
    fn build() -> Result<Answers, ApiError> {
        let mut items = Vec::new();
        let mut item_ends = Vec::new();
        for n in 0..PAGE_SIZE {
            pb::QueryItemsResponse {
                items: vec![to_pb_item(&stored_book(n))?],
                paging_metadata: None,
            }
            .encode(&mut items)
            .map_err(encode_failed)?;
            item_ends.push(items.len());
        }
        let mut results = Vec::new();
        let mut result_ends = Vec::new();
        for n in 0..BULK_INSERT {
            pb::InsertItemsResponse {
                results: vec![pb::ItemResult {
                    result: Some(pb::item_result::Result::Item(to_pb_item(&stored_book(
                        1_000_000 + n,
                    ))?)),
                }],
            }
            .encode(&mut results)
            .map_err(encode_failed)?;
            result_ends.push(results.len());
        }
        let genres = [
            "poetry", "history", "fiction", "science", "travel", "cooking", "drama", "essays",
        ];
        let rows = genres
            .iter()
            .enumerate()
            .map(|(i, genre)| {
                to_pb_item(&json!({
                    "_id": format!("{i:040x}"),
                    "genre": genre,
                    "avgPages": 420.5 + i as f64,
                    "n": 1250 - i as u64,
                }))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Answers {
            items: items.into(),
            item_ends,
            results: results.into(),
            result_ends,
            count: pb::CountItemsResponse { total_count: 4_321 }
                .encode_to_vec()
                .into(),
            aggregate: pb::AggregateItemsResponse {
                rows,
                paging_metadata: None,
            }
            .encode_to_vec()
            .into(),
        })
    }

    fn query(&self, request: &[u8]) -> Result<Bytes, Status> {
        use pb::paging::Kind;
        let shape = QueryShape::decode(request)
            .map_err(|e| Status::invalid_argument(format!("QueryItemsRequest: {e}")))?;
        let by_id = matches!(
            shape.filter.as_ref().and_then(|f| f.kind.as_ref()),
            Some(pb::filter::Kind::Condition(c))
                if c.field_path == "_id" && c.operator == pb::Operator::Eq as i32
        );
        let limit = match shape.paging.and_then(|p| p.kind) {
            Some(Kind::Offset(o)) => o.limit,
            Some(Kind::Cursor(c)) => c.limit,
            None => PAGE_SIZE as u32,
        } as usize;
        let n = if by_id { 1 } else { limit.min(PAGE_SIZE) };
        Ok(prefix(&self.items, &self.item_ends, n))
    }

    fn insert(&self, request: &[u8]) -> Result<Bytes, Status> {
        let shape = InsertShape::decode(request)
            .map_err(|e| Status::invalid_argument(format!("InsertItemsRequest: {e}")))?;
        Ok(prefix(&self.results, &self.result_ends, shape.items.len()))
    }
}

/// The first `n` entries of a repeated field (`all`, entries ending at
/// `ends`); repeats the whole set when more are asked for than were
/// prebuilt.
fn prefix(all: &Bytes, ends: &[usize], n: usize) -> Bytes {
    if n == 0 {
        return Bytes::new();
    }
    if let Some(&end) = ends.get(n - 1) {
        return all.slice(..end);
    }
    let mut out = BytesMut::with_capacity(all.len() * n.div_ceil(ends.len()));
    let mut left = n;
    while left > 0 {
        let take = left.min(ends.len());
        out.extend_from_slice(&all[..ends[take - 1]]);
        left -= take;
    }
    out.freeze()
}

fn encode_failed(e: prost::EncodeError) -> ApiError {
    ApiError::Internal {
        message: format!("canned answer: {e}"),
    }
}

/// The benchmarked RPCs (the only ones answered).
#[derive(Debug, Clone, Copy)]
enum Method {
    Query,
    Count,
    Insert,
    Aggregate,
}

impl CannedAnswers for Answers {
    type Method = Method;
    const SERVICE: &'static str = extdb_contract::rpc::SERVICE;
    const ONLY: &'static str = "the canned backend answers only the benchmarked methods";

    fn build() -> Result<Answers, ApiError> {
        Answers::build()
    }

    /// The benchmarked RPC a gRPC path names (paths from the contract's
    /// per-RPC table).
    fn method_of(path: &str) -> Option<Method> {
        [
            (<pb::QueryItemsRequest as Rpc>::PATH, Method::Query),
            (<pb::CountItemsRequest as Rpc>::PATH, Method::Count),
            (<pb::InsertItemsRequest as Rpc>::PATH, Method::Insert),
            (<pb::AggregateItemsRequest as Rpc>::PATH, Method::Aggregate),
        ]
        .into_iter()
        .find_map(|(p, method)| (p == path).then_some(method))
    }

    fn answer(&self, method: Method, request: &[u8]) -> Result<Bytes, Status> {
        match method {
            Method::Query => self.query(request),
            Method::Insert => self.insert(request),
            Method::Count => Ok(self.count.clone()),
            Method::Aggregate => Ok(self.aggregate.clone()),
        }
    }
}

/// What one canned gRPC service answers: the methods it knows, by path, and
/// the prebuilt bytes of each answer. The contract backend and the canned
/// library ([`library`]) are served by the same [`CannedServer`].
trait CannedAnswers: Send + Sync + Sized + 'static {
    type Method: Copy + Send + 'static;
    /// The gRPC service's full name.
    const SERVICE: &'static str;
    /// The message of the UNIMPLEMENTED answer to any other path.
    const ONLY: &'static str;
    fn build() -> Result<Self, ApiError>;
    fn method_of(path: &str) -> Option<Self::Method>;
    fn answer(&self, method: Self::Method, request: &[u8]) -> Result<Bytes, Status>;
}

/// A canned service as a tonic service (added to a
/// `tonic::transport::Server` by [`serve`]).
struct CannedServer<A> {
    answers: Arc<A>,
}

impl<A> Clone for CannedServer<A> {
    fn clone(&self) -> Self {
        CannedServer {
            answers: self.answers.clone(),
        }
    }
}

impl<A: CannedAnswers> NamedService for CannedServer<A> {
    const NAME: &'static str = A::SERVICE;
}

struct CannedMethod<A: CannedAnswers> {
    method: A::Method,
    answers: Arc<A>,
}

impl<A: CannedAnswers> UnaryService<Bytes> for CannedMethod<A> {
    type Response = Bytes;
    type Future = std::future::Ready<Result<Response<Bytes>, Status>>;

    fn call(&mut self, request: Request<Bytes>) -> Self::Future {
        let body = request.into_inner();
        let answer = self.answers.answer(self.method, &body);
        std::future::ready(answer.map(Response::new))
    }
}

impl<A, B> tonic::codegen::Service<http::Request<B>> for CannedServer<A>
where
    A: CannedAnswers,
    B: hyper::body::Body + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>> + Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let method = A::method_of(req.uri().path());
        let answers = self.answers.clone();
        Box::pin(async move {
            Ok(match method {
                Some(method) => {
                    Grpc::new(RawCodec)
                        .unary(CannedMethod { method, answers }, req)
                        .await
                }
                None => Status::unimplemented(A::ONLY).into_http(),
            })
        })
    }
}

/// Serves the canned service `A` on `listener` until `shutdown` resolves.
async fn serve<A: CannedAnswers>(
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> Result<(), String> {
    let server = CannedServer {
        answers: Arc::new(A::build().map_err(|e| e.to_string())?),
    };
    let incoming = tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
    tonic::transport::Server::builder()
        .add_service(server)
        .serve_with_incoming_shutdown(incoming, shutdown)
        .await
        .map_err(|e| e.to_string())
}

/// Serves the canned contract backend on `listener` until `shutdown`
/// resolves.
pub async fn serve_canned(
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> Result<(), String> {
    serve::<Answers>(listener, shutdown).await
}

pub mod library;

#[cfg(test)]
mod tests;
