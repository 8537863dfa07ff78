//! A gRPC channel to a server in the same process, over in-memory pipes: the
//! embedded store is reachable by the sidecar and by nobody else (no port,
//! no socket file), and no TCP hop (Nagle, delayed ACKs) sits on the path.

use std::convert::Infallible;
use std::time::Duration;

use futures_util::Stream;
use hyper_util::rt::TokioIo;
use tokio::io::DuplexStream;
use tokio::sync::mpsc;
use tonic::transport::{Channel, Endpoint};

/// Bytes buffered in each direction of one in-memory connection; gRPC's
/// own flow control bounds what is in flight above it.
const PIPE_BYTES: usize = 256 * 1024;

/// The server's side: every connection the channel opens, as a stream to
/// serve (e.g. with `store::serve_store_on`). It ends when the channel is
/// dropped.
pub struct InProcessIncoming {
    connections: mpsc::Receiver<DuplexStream>,
}

impl InProcessIncoming {
    pub fn into_stream(self) -> impl Stream<Item = Result<DuplexStream, Infallible>> + Send {
        futures_util::stream::unfold(self.connections, |mut connections| async move {
            let connection = connections.recv().await?;
            Some((Ok(connection), connections))
        })
    }
}

/// A lazily connecting channel whose connections are in-memory pipes handed
/// to the returned incoming stream.
pub fn in_process_channel(connect_timeout: Duration) -> (Channel, InProcessIncoming) {
    let (sender, connections) = mpsc::channel::<DuplexStream>(16);
    let connector = tower::service_fn(move |_uri| {
        let sender = sender.clone();
        async move {
            let (client, server) = tokio::io::duplex(PIPE_BYTES);
            sender.send(server).await.map_err(|_| {
                std::io::Error::new(
                    std::io::ErrorKind::ConnectionRefused,
                    "the in-process server has stopped",
                )
            })?;
            Ok::<_, std::io::Error>(TokioIo::new(client))
        }
    });
    // The URI only names the peer in logs; nothing resolves it.
    let channel = Endpoint::from_static("http://in-process.invalid")
        .connect_timeout(connect_timeout)
        .connect_with_connector_lazy(connector);
    (channel, InProcessIncoming { connections })
}

/// A server running on in-process connections (the embedded store, an
/// `aip` adapter): stopped after the HTTP drain, since requests in flight
/// may still be calling it until then.
pub struct InProcessServer {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl InProcessServer {
    /// Spawns `serve`, handing it the future that completes at stop.
    pub fn spawn<S, F>(serve: S) -> InProcessServer
    where
        S: FnOnce(futures_util::future::BoxFuture<'static, ()>) -> F,
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let shutdown = Box::pin(async move {
            let _ = stopped.await;
        });
        let task = tokio::spawn(serve(shutdown));
        InProcessServer { stop, task }
    }

    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}
