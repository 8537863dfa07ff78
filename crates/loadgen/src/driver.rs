//! Drives one target (the sidecar over HTTP/1.1, or the upstream directly
//! over gRPC) with one scenario's pre-built payloads, at a fixed
//! concurrency (closed loop) or a fixed rate (open loop), and records every
//! latency in an HDR histogram.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hdrhistogram::Histogram;
use http::uri::PathAndQuery;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tonic::metadata::MetadataMap;
use tonic::transport::Channel;

use super::raw::RawCodec;

/// Longest latency the histograms hold (longer ones are clamped to it).
const MAX_RECORDED: Duration = Duration::from_secs(60);
/// Error messages kept per phase (the count is always exact).
const KEPT_ERRORS: usize = 5;
/// Deadline of a direct call, as the sidecar sets one on its own calls.
const DIRECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How requests are offered.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Load {
    /// `concurrency` workers, each sending its next request as soon as the
    /// previous one is answered.
    Closed { concurrency: usize },
    /// `per_second` requests spread over `connections` workers on a fixed
    /// schedule, whatever the answers' speed.
    Rate { per_second: f64, connections: usize },
}

impl Load {
    pub fn workers(self) -> usize {
        match self {
            Load::Closed { concurrency } => concurrency.max(1),
            Load::Rate { connections, .. } => connections.max(1),
        }
    }

    pub fn describe(self) -> String {
        match self {
            Load::Closed { concurrency } => format!("closed c={concurrency}"),
            Load::Rate {
                per_second,
                connections,
            } => format!("rate {per_second}/s c={connections}"),
        }
    }
}

/// One request of the sidecar path: the method path and a signed body.
pub struct HttpPayloads {
    pub path: &'static str,
    pub tokens: Vec<Bytes>,
}

/// One request of the direct path: gRPC method, encoded message and the
/// metadata the sidecar would send with it.
#[derive(Clone)]
pub struct GrpcPayload {
    pub path: &'static str,
    pub body: Bytes,
    pub metadata: MetadataMap,
}

/// How the load's HTTP/1.1 connections to the sidecar send.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ClientSocket {
    /// `TCP_NODELAY`, head and body in one write: as every real client
    /// should, so only the sidecar's own waits show.
    #[default]
    NoDelay,
    /// Test-only (the hidden `--inject-stall` of the smoke run): Nagle on,
    /// and the request head and body in two writes. The body then waits
    /// for the ACK of the head, which the sidecar delays (~40 ms on Linux)
    /// while it waits for the body: the stall the smoke guard must catch.
    NagleSplitWrites,
}

/// Where a phase sends its requests.
#[derive(Clone)]
pub enum Target {
    Sidecar {
        addr: SocketAddr,
        payloads: Arc<HttpPayloads>,
        socket: ClientSocket,
    },
    Direct {
        channel: Channel,
        payloads: Arc<Vec<GrpcPayload>>,
    },
}

/// What one phase measured.
pub struct PhaseResult {
    /// Latencies in nanoseconds.
    pub latency: Histogram<u64>,
    pub requests: u64,
    pub errors: u64,
    pub first_errors: Vec<String>,
    /// From the scheduled start to the last answer.
    pub elapsed: Duration,
    /// Response bytes received (bodies only).
    pub bytes: u64,
}

impl PhaseResult {
    pub fn empty() -> PhaseResult {
        PhaseResult {
            latency: new_histogram(),
            requests: 0,
            errors: 0,
            first_errors: Vec::new(),
            elapsed: Duration::ZERO,
            bytes: 0,
        }
    }

    /// Adds another phase's numbers (rounds of the same target).
    pub fn merge(&mut self, other: &PhaseResult) {
        // Both histograms have the same bounds, so adding cannot fail.
        let _ = self.latency.add(&other.latency);
        self.requests += other.requests;
        self.errors += other.errors;
        self.bytes += other.bytes;
        self.elapsed += other.elapsed;
        for e in &other.first_errors {
            if self.first_errors.len() < KEPT_ERRORS {
                self.first_errors.push(e.clone());
            }
        }
    }

    pub fn per_second(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.requests as f64 / secs
        } else {
            0.0
        }
    }

    /// A latency quantile in milliseconds.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        self.latency.value_at_quantile(q) as f64 / 1e6
    }

    pub fn max_ms(&self) -> f64 {
        self.latency.max() as f64 / 1e6
    }
}

fn new_histogram() -> Histogram<u64> {
    // 3 significant digits from 1 µs to 60 s. The bounds are constants that
    // satisfy hdrhistogram's rules, so creation cannot fail.
    Histogram::new_with_bounds(1_000, MAX_RECORDED.as_nanos() as u64, 3)
        .expect("constant histogram bounds are valid")
}

/// A worker's connection to its target.
enum Sender {
    Http {
        addr: SocketAddr,
        payloads: Arc<HttpPayloads>,
        socket: ClientSocket,
        conn: Option<http1::SendRequest<Full<Bytes>>>,
    },
    Grpc {
        grpc: tonic::client::Grpc<Channel>,
        payloads: Arc<Vec<GrpcPayload>>,
    },
}

impl Sender {
    async fn open(target: &Target) -> Result<Sender, String> {
        Ok(match target {
            Target::Sidecar {
                addr,
                payloads,
                socket,
            } => Sender::Http {
                addr: *addr,
                payloads: payloads.clone(),
                socket: *socket,
                conn: Some(connect_http_with(*addr, *socket).await?),
            },
            Target::Direct { channel, payloads } => Sender::Grpc {
                grpc: tonic::client::Grpc::new(channel.clone()),
                payloads: payloads.clone(),
            },
        })
    }

    /// Sends payload `seq` (modulo the pool) and reads the whole answer;
    /// returns its body. Anything but a success is an error.
    async fn send(&mut self, seq: usize) -> Result<Bytes, String> {
        match self {
            Sender::Http {
                addr,
                payloads,
                socket,
                conn,
            } => {
                // A connection that failed is replaced before the next call.
                let mut sender = match conn.take() {
                    Some(c) if !c.is_closed() => c,
                    _ => connect_http_with(*addr, *socket).await?,
                };
                let token = payloads
                    .tokens
                    .get(seq % payloads.tokens.len().max(1))
                    .cloned()
                    .unwrap_or_default();
                let (status, body) = post_token(&mut sender, payloads.path, token).await?;
                *conn = Some(sender);
                if status != http::StatusCode::OK {
                    let text = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
                    return Err(format!("HTTP {status}: {text}"));
                }
                Ok(body)
            }
            Sender::Grpc { grpc, payloads } => {
                let Some(payload) = payloads.get(seq % payloads.len().max(1)) else {
                    return Err("no direct payloads".into());
                };
                let mut request = tonic::Request::new(payload.body.clone());
                *request.metadata_mut() = payload.metadata.clone();
                request.set_timeout(DIRECT_TIMEOUT);
                grpc.ready().await.map_err(|e| format!("grpc: {e}"))?;
                let response = grpc
                    .unary(request, PathAndQuery::from_static(payload.path), RawCodec)
                    .await
                    .map_err(|s| format!("grpc {:?}: {}", s.code(), s.message()))?;
                Ok(response.into_inner())
            }
        }
    }
}

/// POSTs a signed token to `path` on an HTTP/1.1 connection; the status and
/// the whole body.
pub(crate) async fn post_token(
    sender: &mut http1::SendRequest<Full<Bytes>>,
    path: &str,
    token: Bytes,
) -> Result<(http::StatusCode, Bytes), String> {
    let request = http::Request::post(path)
        .header(http::header::HOST, "127.0.0.1")
        .header(http::header::CONTENT_TYPE, "text/plain")
        .body(Full::new(token))
        .map_err(|e| e.to_string())?;
    sender.ready().await.map_err(|e| format!("http: {e}"))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("http: {e}"))?;
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("http body: {e}"))?
        .to_bytes();
    Ok((status, body))
}

pub(crate) async fn connect_http(
    addr: SocketAddr,
) -> Result<http1::SendRequest<Full<Bytes>>, String> {
    connect_http_with(addr, ClientSocket::NoDelay).await
}

async fn connect_http_with(
    addr: SocketAddr,
    socket: ClientSocket,
) -> Result<http1::SendRequest<Full<Bytes>>, String> {
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect {addr}: {e}"))?;
    let handshake = match socket {
        ClientSocket::NoDelay => {
            let _ = stream.set_nodelay(true);
            http1::handshake(TokioIo::new(SplitWrites::no(stream))).await
        }
        ClientSocket::NagleSplitWrites => {
            let _ = stream.set_nodelay(false);
            // hyper's queued writes on a socket that cannot write vectors
            // send the head and then the body, one write each.
            http1::Builder::new()
                .writev(true)
                .handshake(TokioIo::new(SplitWrites::yes(stream)))
                .await
        }
    };
    let (sender, connection) = handshake.map_err(|e| format!("http handshake: {e}"))?;
    tokio::spawn(async move {
        // Ends when the sender is dropped or the peer closes; an error
        // there shows up as a failed request.
        let _ = connection.await;
    });
    Ok(sender)
}

/// A socket that can hide its vectored writes (see
/// [`ClientSocket::NagleSplitWrites`]).
struct SplitWrites {
    stream: TcpStream,
    split: bool,
}

impl SplitWrites {
    fn no(stream: TcpStream) -> SplitWrites {
        SplitWrites {
            stream,
            split: false,
        }
    }

    fn yes(stream: TcpStream) -> SplitWrites {
        SplitWrites {
            stream,
            split: true,
        }
    }
}

impl AsyncRead for SplitWrites {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for SplitWrites {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.split {
            // One buffer per write: the default of AsyncWrite.
            let first = bufs
                .iter()
                .find(|b| !b.is_empty())
                .map_or(&[][..], |b| &**b);
            return Pin::new(&mut this.stream).poll_write(cx, first);
        }
        Pin::new(&mut this.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        !self.split && self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// Sends payload `seq` once on a fresh connection and returns the answer's
/// body (to check what a scenario gets back before measuring it).
pub async fn fetch_once(target: &Target, seq: usize) -> Result<Bytes, String> {
    Sender::open(target).await?.send(seq).await
}

/// Runs `load` against `target` for `duration` after all connections are
/// open.
pub async fn run_phase(target: &Target, load: Load, duration: Duration) -> PhaseResult {
    let workers = load.workers();
    let mut senders = Vec::with_capacity(workers);
    let mut result = PhaseResult::empty();
    for _ in 0..workers {
        match Sender::open(target).await {
            Ok(s) => senders.push(s),
            Err(e) => {
                result.errors += 1;
                result.first_errors.push(e);
                return result;
            }
        }
    }
    // Every worker starts from the same instant, after all have connected.
    let start = Instant::now() + Duration::from_millis(20);
    let end = start + duration;
    let tasks: Vec<_> = senders
        .into_iter()
        .enumerate()
        .map(|(index, sender)| tokio::spawn(worker(sender, index, workers, load, start, end)))
        .collect();
    let mut last_done = start;
    for task in tasks {
        match task.await {
            Ok((r, done)) => {
                last_done = last_done.max(done);
                result.merge(&r);
            }
            Err(e) => {
                result.errors += 1;
                result.first_errors.push(format!("worker failed: {e}"));
            }
        }
    }
    result.elapsed = last_done.saturating_duration_since(start);
    result
}

/// One worker: its own connection, requests `index`, `index + workers`, ..
/// of the payload pool. Returns its numbers and when it finished.
async fn worker(
    mut sender: Sender,
    index: usize,
    workers: usize,
    load: Load,
    start: Instant,
    end: Instant,
) -> (PhaseResult, Instant) {
    let mut r = PhaseResult::empty();
    let mut seq = index;
    let record = |r: &mut PhaseResult, outcome: Result<Bytes, String>, latency: Duration| {
        r.requests += 1;
        match outcome {
            Ok(body) => {
                r.bytes += body.len() as u64;
                let ns = (latency.as_nanos() as u64).min(MAX_RECORDED.as_nanos() as u64);
                r.latency.saturating_record(ns);
            }
            Err(e) => {
                r.errors += 1;
                if r.first_errors.len() < KEPT_ERRORS {
                    r.first_errors.push(e);
                }
            }
        }
    };
    tokio::time::sleep_until(start).await;
    let mut last_done = Instant::now();
    match load {
        Load::Closed { .. } => loop {
            let sent = Instant::now();
            if sent >= end {
                break;
            }
            let outcome = sender.send(seq).await;
            last_done = Instant::now();
            record(&mut r, outcome, last_done - sent);
            seq += workers;
        },
        Load::Rate {
            per_second,
            connections,
        } => {
            let per_second = per_second.max(0.001);
            // Worker i owns slots i, i + n, i + 2n, .. of one global schedule.
            let interval = Duration::from_secs_f64(connections.max(1) as f64 / per_second);
            let mut scheduled = start + Duration::from_secs_f64(index as f64 / per_second);
            let mut free_at = start;
            while scheduled < end {
                // Latency counts from the scheduled time when the previous
                // answer made this request late (no coordinated omission),
                // but from the actual send when the worker was idle and only
                // the timer's wake-up slop (~1 ms in tokio) delayed it.
                let late = free_at > scheduled;
                if !late {
                    tokio::time::sleep_until(scheduled).await;
                }
                let sent = Instant::now();
                let from = if late { scheduled } else { sent };
                let outcome = sender.send(seq).await;
                last_done = Instant::now();
                record(&mut r, outcome, last_done - from);
                free_at = last_done;
                seq += workers;
                scheduled += interval;
            }
        }
    }
    (r, last_done)
}
