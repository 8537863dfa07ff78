//! Connection-level defences: a watchdog that closes connections which
//! send their headers too slowly or stay idle too long (HTTP/1 and HTTP/2
//! alike), the socket wrapper that tells it when an idle HTTP/1 connection
//! starts a new request, the response body that tells it when a request is
//! over, and rate-limited logging for the accept loop.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::Version;
use hyper::body::{Body, Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;
use tokio::time::Instant;

/// Why the watchdog closed a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expiry {
    /// A request's headers did not arrive within `header_read_timeout`.
    Headers,
    /// No request for `idle_timeout`.
    Idle,
    /// A response made no sending progress for `idle_timeout` (a client
    /// that stopped reading, or an HTTP/2 window held at zero).
    Send,
}

impl Expiry {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Expiry::Headers => "header_read_timeout",
            Expiry::Idle => "idle_timeout",
            Expiry::Send => "idle_timeout (response not being read)",
        }
    }
}

/// What one connection is doing, as far as its deadlines are concerned.
pub(crate) struct Activity {
    state: Mutex<State>,
    changed: Notify,
    /// Armed while an HTTP/1 connection is idle: the next bytes read start
    /// a request, whose headers then have `header_read_timeout` to arrive.
    /// An atomic so that reads cost no lock while a request is in flight.
    watch_reads: AtomicBool,
}

struct State {
    accepted: Instant,
    requests: u64,
    in_flight: usize,
    /// Requests in flight whose response is not ready yet (their upstream
    /// call has its own deadline); the others are being sent.
    handling: usize,
    /// The last time a response was ready or bytes were written.
    sent_at: Instant,
    h2: bool,
    idle_since: Instant,
    request_began: Option<Instant>,
}

impl Activity {
    pub(crate) fn new() -> Arc<Activity> {
        let now = Instant::now();
        Arc::new(Activity {
            state: Mutex::new(State {
                accepted: now,
                requests: 0,
                in_flight: 0,
                handling: 0,
                sent_at: now,
                h2: false,
                idle_since: now,
                request_began: None,
            }),
            changed: Notify::new(),
            watch_reads: AtomicBool::new(false),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is plain data updated in single steps: a panic
        // elsewhere cannot leave it half-written.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A request's headers have arrived; it is in flight until the
    /// returned guard (held by its response body) is dropped.
    pub(crate) fn request_started(self: &Arc<Self>, version: Version) -> InFlight {
        {
            let mut s = self.lock();
            s.in_flight += 1;
            s.handling += 1;
            s.requests += 1;
            s.h2 = version == Version::HTTP_2;
            s.request_began = None;
        }
        self.watch_reads.store(false, Ordering::Release);
        self.changed.notify_one();
        InFlight {
            activity: self.clone(),
            responded: false,
        }
    }

    /// Called by the socket wrapper after each write that took bytes.
    fn bytes_written(&self) {
        self.lock().sent_at = Instant::now();
    }

    /// Called by the socket wrapper after each read that returned bytes.
    fn bytes_read(&self) {
        if !self.watch_reads.swap(false, Ordering::AcqRel) {
            return;
        }
        {
            let mut s = self.lock();
            if s.in_flight == 0 && s.request_began.is_none() {
                s.request_began = Some(Instant::now());
            }
        }
        self.changed.notify_one();
    }

    /// When the connection must close if nothing changes, and why; `None`
    /// while a request is in flight (its body read and its upstream call
    /// have their own deadlines).
    fn deadline(&self, header_read: Duration, idle: Duration) -> Option<(Instant, Expiry)> {
        let s = self.lock();
        if s.handling > 0 {
            return None;
        }
        if s.in_flight > 0 {
            // Only responses being sent: they must make progress.
            return Some((s.sent_at + idle, Expiry::Send));
        }
        if s.requests == 0 {
            // HTTP/1 and HTTP/2 alike: the first request's headers must
            // arrive in time, which also reaps connections that send
            // nothing (the protocol is not even known yet).
            return Some((s.accepted + header_read, Expiry::Headers));
        }
        let idle_end = s.idle_since + idle;
        match s.request_began {
            // HTTP/2 streams bytes while idle (pings, window updates):
            // only HTTP/1 arms `watch_reads`.
            Some(began) if began + header_read < idle_end => {
                Some((began + header_read, Expiry::Headers))
            }
            _ => Some((idle_end, Expiry::Idle)),
        }
    }

    /// Resolves once a deadline has passed.
    pub(crate) async fn expired(&self, header_read: Duration, idle: Duration) -> Expiry {
        loop {
            // `notify_one` stores a permit, so a change between reading the
            // deadline and waiting is not lost.
            match self.deadline(header_read, idle) {
                None => self.changed.notified().await,
                Some((at, why)) => {
                    tokio::select! {
                        () = tokio::time::sleep_until(at) => {
                            if self.deadline(header_read, idle).is_some_and(|(d, _)| d <= Instant::now()) {
                                return why;
                            }
                        }
                        () = self.changed.notified() => {}
                    }
                }
            }
        }
    }
}

/// A request in flight; dropping it makes the connection idle again.
pub(crate) struct InFlight {
    activity: Arc<Activity>,
    /// Whether its response is ready (it no longer counts as handling).
    responded: bool,
}

impl InFlight {
    /// The response is ready; from now on it must be sent with progress.
    fn responded(&mut self) {
        if !self.responded {
            self.responded = true;
            let mut s = self.activity.lock();
            s.handling = s.handling.saturating_sub(1);
            s.sent_at = Instant::now();
        }
        self.activity.changed.notify_one();
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let activity = &self.activity;
        let h1_idle = {
            let mut s = activity.lock();
            if !self.responded {
                s.handling = s.handling.saturating_sub(1);
            }
            s.in_flight = s.in_flight.saturating_sub(1);
            if s.in_flight == 0 {
                s.idle_since = Instant::now();
                s.request_began = None;
            }
            s.in_flight == 0 && !s.h2
        };
        if h1_idle {
            activity.watch_reads.store(true, Ordering::Release);
        }
        activity.changed.notify_one();
    }
}

/// A response body that keeps its request in flight until hyper has
/// finished sending it (a client that stops reading is still busy, not
/// idle, until then).
pub struct TrackedBody {
    body: Full<Bytes>,
    _in_flight: InFlight,
}

impl TrackedBody {
    pub(crate) fn new(body: Full<Bytes>, mut in_flight: InFlight) -> TrackedBody {
        in_flight.responded();
        TrackedBody {
            body,
            _in_flight: in_flight,
        }
    }
}

impl Body for TrackedBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// A socket that reports reads to its connection's [`Activity`].
pub(crate) struct Watched<T> {
    inner: T,
    activity: Arc<Activity>,
}

impl<T> Watched<T> {
    pub(crate) fn new(inner: T, activity: Arc<Activity>) -> Watched<T> {
        Watched { inner, activity }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let result = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.activity.bytes_read();
        }
        result
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.inner).poll_write(cx, buf);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.bytes_written();
        }
        result
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.bytes_written();
        }
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// Lets one log line through per interval and counts the rest, so a flood
/// (refused connections, accept errors) cannot flood the log.
pub(crate) struct LogThrottle {
    interval: Duration,
    last: Option<Instant>,
    suppressed: u64,
}

impl LogThrottle {
    pub(crate) fn new(interval: Duration) -> LogThrottle {
        LogThrottle {
            interval,
            last: None,
            suppressed: 0,
        }
    }

    /// `Some(lines suppressed since the last one)` when a line may be
    /// written now.
    pub(crate) fn allow(&mut self) -> Option<u64> {
        let now = Instant::now();
        match self.last {
            Some(last) if now < last + self.interval => {
                self.suppressed += 1;
                None
            }
            _ => {
                self.last = Some(now);
                Some(std::mem::take(&mut self.suppressed))
            }
        }
    }
}

/// File descriptors kept for everything but the listener's connections:
/// upstream channels, database files, the admin listener, the runtime.
const FD_RESERVE: u64 = 160;

/// `max_connections`, lowered if the process's open-files limit could not
/// hold that many connections: running out of descriptors makes `accept`
/// fail for everyone, while the cap refuses only the excess.
pub(crate) fn fit_to_open_files(max_connections: usize, listener: Option<SocketAddr>) -> usize {
    let Some(limit) = open_files_limit() else {
        return max_connections;
    };
    let room = if limit > 2 * FD_RESERVE {
        limit - FD_RESERVE
    } else {
        (limit / 2).max(1)
    };
    let room = usize::try_from(room).unwrap_or(usize::MAX);
    if max_connections > room {
        // Info, not a warning: a default cap on a default `ulimit -n 1024`
        // lands here, and adapting is the intended behaviour.
        tracing::info!(
            listener = listener.map(|a| a.to_string()).unwrap_or_default(),
            max_connections,
            open_files_limit = limit,
            effective = room,
            "http.max_connections does not fit the open-files limit (ulimit -n); using a lower cap"
        );
        room
    } else {
        max_connections
    }
}

/// The soft `RLIMIT_NOFILE`, where the platform tells it (Linux `/proc`).
fn open_files_limit() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line.trim_start_matches("Max open files")
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests;
