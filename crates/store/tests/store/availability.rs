//! A PostgreSQL store while its database comes and goes (issue 12, item
//! 5): started while the database is unreachable it serves, reports
//! NOT_SERVING and answers UNAVAILABLE; once the database answers it is
//! SERVING; a database lost mid-traffic is UNAVAILABLE for each call, and
//! the store recovers without a restart. The database sits behind a TCP
//! relay on loopback that the test opens and cuts. PostgreSQL only (SQLite
//! has no server to lose): on SQLite these tests return at once, after the
//! suite said loudly that PostgreSQL was skipped.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use extdb_contract::pb::{self, FieldType};
use extdb_store::{PostgresOptions, ReferenceStore};
use extdb_testkit::builders::*;
use extdb_testkit::store::*;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tonic::Code;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

/// How long a state change may take to show.
const WITHIN: Duration = Duration::from_secs(15);

/// A TCP relay from a loopback port to the database, cut on `stop`.
struct Relay {
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Relay {
    async fn start(port: u16, upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let tasks: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let accepted = Arc::clone(&tasks);
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let relay = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                accepted.lock().unwrap().push(relay);
            }
        });
        tasks.lock().unwrap().push(accept);
        Self { tasks }
    }

    /// Closes the port and every relayed connection.
    fn stop(self) {
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }
}

/// `EXTDB_TEST_POSTGRES` with its host and port replaced by
/// 127.0.0.1:`port`, and the address it named.
fn via_port(url: &str, port: u16) -> (String, SocketAddr) {
    let (scheme_user, rest) = url.rsplit_once('@').unwrap();
    let (host_port, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host_port = if host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:5432")
    };
    let host_port = host_port.replace("localhost", "127.0.0.1");
    (
        format!("{scheme_user}@127.0.0.1:{port}/{path}"),
        host_port.parse().unwrap(),
    )
}

async fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

async fn health(addr: SocketAddr) -> Vec<i32> {
    let channel = tonic::transport::Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = HealthClient::new(channel);
    let mut statuses = Vec::new();
    for service in ["", "extdb.v1.ExternalDatabase"] {
        let response = client
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap();
        statuses.push(response.into_inner().status);
    }
    statuses
}

async fn wait_for_health(addr: SocketAddr, status: ServingStatus) {
    let deadline = tokio::time::Instant::now() + WITHIN;
    loop {
        let now = health(addr).await;
        if now == vec![status as i32; 2] {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "health stayed {now:?}, expected {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn list(client: &mut Client) -> Result<Vec<String>, tonic::Status> {
    client
        .list_collections(pb::ListCollectionsRequest::default())
        .await
        .map(|r| {
            r.into_inner()
                .collections
                .into_iter()
                .map(|c| c.id)
                .collect()
        })
}

#[tokio::test]
async fn not_ready_until_the_database_answers_unavailable_while_lost_then_recovers() {
    if !crate::backend::is_postgres().await {
        return;
    }
    let url = std::env::var("EXTDB_TEST_POSTGRES").unwrap();
    let port = free_port().await;
    let (relayed, upstream) = via_port(&url, port);
    let options = PostgresOptions {
        max_connections: 4,
        connect_timeout: Duration::from_secs(1),
        acquire_timeout: Duration::from_secs(1),
        schema: Some(format!("avail_{port}_{}", std::process::id())),
        ..PostgresOptions::default()
    };
    // Nothing listens on the port yet: the store starts all the same.
    let store = ReferenceStore::connect_postgres(&relayed, &options).unwrap();
    let served = TestStore::serve(store, std::path::Path::new("relayed")).await;
    let mut c = served.client.clone();
    assert_eq!(
        health(served.addr).await,
        vec![ServingStatus::NotServing as i32; 2]
    );
    assert_eq!(list(&mut c).await.unwrap_err().code(), Code::Unavailable);

    // The database appears: SERVING, and calls work, without a restart.
    let relay = Relay::start(port, upstream).await;
    wait_for_health(served.addr, ServingStatus::Serving).await;
    create_collection(&mut c, "kept", vec![field("name", FieldType::Text)]).await;
    insert_ok(
        &mut c,
        "kept",
        vec![item(&[("_id", s("a")), ("name", s("x"))])],
    )
    .await;

    // Lost mid-traffic: each call is UNAVAILABLE (never a hang, never an
    // internal error), and health turns NOT_SERVING.
    relay.stop();
    for _ in 0..3 {
        let status = list(&mut c).await.unwrap_err();
        assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    }
    wait_for_health(served.addr, ServingStatus::NotServing).await;

    // Back: the same store serves again, the committed data intact.
    let relay = Relay::start(port, upstream).await;
    wait_for_health(served.addr, ServingStatus::Serving).await;
    assert_eq!(list(&mut c).await.unwrap(), vec!["kept".to_owned()]);
    let items = query(&mut c, query_request("kept", None)).await.items;
    assert_eq!(items.len(), 1);
    relay.stop();
}

/// The self-signed certificate (for `localhost`) Debian's PostgreSQL serves
/// TLS with.
const SERVER_CERT: &str = "/etc/ssl/certs/ssl-cert-snakeoil.pem";

/// `EXTDB_TEST_POSTGRES` on `localhost` (the certificate's name) with
/// `sslmode=require`.
fn tls_url(url: &str) -> String {
    let (relayed, upstream) = via_port(url, 0);
    let relayed = relayed.replace("127.0.0.1:0", &format!("localhost:{}", upstream.port()));
    let separator = if relayed.contains('?') { '&' } else { '?' };
    format!("{relayed}{separator}sslmode=require")
}

#[tokio::test]
async fn tls_is_used_with_sslmode_require_and_a_server_not_matching_its_certificate_is_refused() {
    if !crate::backend::is_postgres().await {
        return;
    }
    if !std::path::Path::new(SERVER_CERT).exists() {
        eprintln!("no {SERVER_CERT}: the PostgreSQL TLS test cannot run here");
        return;
    }
    let url = tls_url(&std::env::var("EXTDB_TEST_POSTGRES").unwrap());
    let options = |ca_file: Option<&str>| PostgresOptions {
        max_connections: 2,
        connect_timeout: Duration::from_secs(2),
        acquire_timeout: Duration::from_secs(2),
        schema: Some(format!("tls_{}", std::process::id())),
        ca_file: ca_file.map(Into::into),
        ..PostgresOptions::default()
    };
    // The server's certificate is trusted: calls work over TLS.
    let trusted = ReferenceStore::connect_postgres(&url, &options(Some(SERVER_CERT))).unwrap();
    let served = TestStore::serve(trusted, std::path::Path::new("tls")).await;
    let mut c = served.client.clone();
    create_collection(&mut c, "over_tls", vec![]).await;
    assert_eq!(list(&mut c).await.unwrap(), vec!["over_tls".to_owned()]);

    // The certificate does not name the host (127.0.0.1, not localhost):
    // verified and refused, no silent fall-back to plain TCP; the database
    // is unavailable.
    let mismatched = url.replace("@localhost:", "@127.0.0.1:");
    assert_ne!(mismatched, url);
    let untrusted =
        ReferenceStore::connect_postgres(&mismatched, &options(Some(SERVER_CERT))).unwrap();
    assert!(!untrusted.is_ready().await);
    let served = TestStore::serve(untrusted, std::path::Path::new("tls")).await;
    let mut c = served.client.clone();
    assert_eq!(list(&mut c).await.unwrap_err().code(), Code::Unavailable);
}

#[tokio::test]
async fn the_callers_deadline_cancels_the_query_on_the_server() {
    if !crate::backend::is_postgres().await {
        return;
    }
    let url = std::env::var("EXTDB_TEST_POSTGRES").unwrap();
    let schema = format!("deadline_{}", std::process::id());
    let options = PostgresOptions {
        max_connections: 2,
        schema: Some(schema.clone()),
        ..PostgresOptions::default()
    };
    let store = ReferenceStore::connect_postgres(&url, &options).unwrap();
    assert!(store.is_ready().await, "migrations applied");
    let served = TestStore::serve(store, std::path::Path::new("deadline")).await;

    // Another session holds the schema lock: a schema change waits on it.
    let (holder, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    holder
        .batch_execute(&format!(
            "SET search_path = \"{schema}\"; BEGIN; \
             SELECT name FROM extdb_locks WHERE name = 'schema' FOR UPDATE"
        ))
        .await
        .unwrap();

    let mut request = tonic::Request::new(pb::CreateCollectionRequest {
        collection: Some(pb::Collection {
            id: "late".into(),
            ..Default::default()
        }),
        ..Default::default()
    });
    request.set_timeout(Duration::from_millis(300));
    let mut c = served.client.clone();
    let status = c.create_collection(request).await.unwrap_err();
    assert!(
        matches!(status.code(), Code::DeadlineExceeded | Code::Cancelled),
        "{status:?}"
    );

    // The store's statement stops waiting on the server soon after the
    // deadline (its statement_timeout, or the abandoned call closing its
    // connection), though the lock is still held: without either it would
    // wait for the lock for the default 30 s.
    let waiting = "SELECT count(*) FROM pg_stat_activity \
                   WHERE application_name = 'extdb-store' AND wait_event_type = 'Lock'";
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let n: i64 = holder.query_one(waiting, &[]).await.unwrap().get(0);
        if n == 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the store's query still waits on the server"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    holder.batch_execute("ROLLBACK").await.unwrap();
    // Nothing was created by the cancelled call.
    assert!(list(&mut c).await.unwrap().is_empty());
}
