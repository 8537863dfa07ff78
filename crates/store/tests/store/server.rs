//! The store's gRPC server: message sizes up to the contract's limit, and
//! a client's deadline cancellations after a pause are not taken for a
//! reset flood.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use extdb_contract::pb::{self, FieldType};
use extdb_store::MAX_PENDING_ACCEPT_RESET_STREAMS;
use extdb_testkit::builders::*;
use extdb_testkit::store::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

#[tokio::test]
async fn a_six_mib_insert_is_served() {
    let store = crate::backend::start().await;
    let mut c = store.client.clone();
    create_collection(&mut c, "big", vec![field("text", FieldType::Text)]).await;
    // tonic's default decoding limit is 4 MiB; the sidecar lets in more.
    let items: Vec<pb::Item> = (0..6)
        .map(|i| {
            let text = format!("{i}").repeat(1024 * 1024);
            item(&[("_id", s(&format!("i{i}"))), ("text", s(&text))])
        })
        .collect();
    let stored = insert_ok(&mut c, "big", items).await;
    assert_eq!(stored.len(), 6);
    // And the 6 MiB page comes back.
    let page = query(&mut c, query_request("big", None)).await;
    assert_eq!(page.items.len(), 6);
    assert_eq!(page.items[5].fields["text"], s(&"5".repeat(1024 * 1024)));
}

/// A TCP proxy in front of the store whose client-to-store direction can be
/// paused, as a SIGSTOPped store would stop reading its socket.
struct PausingProxy {
    addr: std::net::SocketAddr,
    paused: watch::Sender<bool>,
    connections: Arc<AtomicUsize>,
}

impl PausingProxy {
    async fn start(target: std::net::SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (paused, _) = watch::channel(false);
        let connections = Arc::new(AtomicUsize::new(0));
        let (gate, count) = (paused.clone(), connections.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                let store = TcpStream::connect(target).await.unwrap();
                client.set_nodelay(true).unwrap();
                store.set_nodelay(true).unwrap();
                let (mut client_read, mut client_write) = client.into_split();
                let (mut store_read, mut store_write) = store.into_split();
                tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut store_read, &mut client_write).await;
                });
                let mut gate = gate.subscribe();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 64 * 1024];
                    loop {
                        let n = match client_read.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => n,
                        };
                        // Bytes read during a pause wait for its end.
                        while *gate.borrow_and_update() {
                            if gate.changed().await.is_err() {
                                return;
                            }
                        }
                        if store_write.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Self {
            addr,
            paused,
            connections,
        }
    }
}

#[tokio::test]
async fn deadline_cancellations_during_a_pause_do_not_close_the_connection() {
    let store = crate::backend::start().await;
    let mut direct = store.client.clone();
    create_collection(&mut direct, "c", vec![field("n", FieldType::Number)]).await;
    let proxy = PausingProxy::start(store.addr).await;
    let client = connect(proxy.addr).await;
    let count = |mut c: Client| async move {
        c.count_items(pb::CountItemsRequest {
            collection_id: "c".into(),
            ..Default::default()
        })
        .await
        .map(|r| r.into_inner().total_count)
    };
    // The connection is up before the pause.
    assert_eq!(count(client.clone()).await.unwrap(), 0);

    proxy.paused.send_replace(true);
    // 150 calls (50 req/s for 3 s), each cancelled by its deadline while the
    // store reads nothing: well over h2's default of 20 pending resets.
    let calls = (0..150).map(|_| {
        let c = client.clone();
        tokio::time::timeout(Duration::from_millis(300), count(c))
    });
    let results = futures_util::future::join_all(calls).await;
    assert!(results.iter().all(Result::is_err), "all cancelled");
    const { assert!(150 < MAX_PENDING_ACCEPT_RESET_STREAMS) };
    proxy.paused.send_replace(false);

    // After the pause the same connection serves again: no GOAWAY
    // ENHANCE_YOUR_CALM, no reconnect.
    assert_eq!(count(client.clone()).await.unwrap(), 0);
    assert_eq!(count(client).await.unwrap(), 0);
    assert_eq!(proxy.connections.load(Ordering::SeqCst), 1);
}

/// Opens an in-process connection per connect: one end to the client, the
/// other to the store's incoming stream.
#[derive(Clone)]
struct Duplexer(tokio::sync::mpsc::UnboundedSender<tokio::io::DuplexStream>);

impl tonic::codegen::Service<http::Uri> for Duplexer {
    type Response = hyper_util::rt::TokioIo<tokio::io::DuplexStream>;
    type Error = std::io::Error;
    type Future = std::future::Ready<Result<Self::Response, Self::Error>>;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: http::Uri) -> Self::Future {
        let (client, server) = tokio::io::duplex(1 << 20);
        let sent = self
            .0
            .send(server)
            .map_err(|_| std::io::Error::other("store stopped"));
        std::future::ready(sent.map(|()| hyper_util::rt::TokioIo::new(client)))
    }
}

#[tokio::test]
async fn the_store_serves_in_process_streams() {
    use extdb_contract::pb::external_database_client::ExternalDatabaseClient;
    use extdb_store::{ReferenceStore, serve_store_on};
    use futures_util::StreamExt;

    let dir = tempfile::tempdir().unwrap();
    let store = ReferenceStore::open(dir.path().join("s.sqlite")).unwrap();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let incoming =
        tokio_stream::wrappers::UnboundedReceiverStream::new(rx).map(Ok::<_, std::io::Error>);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve_store_on(store, incoming, async {
        let _ = stopped.await;
    }));
    let channel = tonic::transport::Endpoint::from_static("http://in-process")
        .connect_with_connector(Duplexer(tx))
        .await
        .unwrap();
    let mut c = ExternalDatabaseClient::new(channel);
    create_collection(&mut c, "d", vec![field("n", FieldType::Number)]).await;
    insert_ok(&mut c, "d", vec![item(&[("_id", s("1")), ("n", n(1.0))])]).await;
    assert_eq!(ids(&mut c, "d", eq("n", n(1.0))).await, vec!["1"]);
    drop(c);
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}
