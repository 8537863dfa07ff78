//! A scripted gRPC backend: a real tonic server on a loopback port that
//! records every call it receives (request message and metadata) and
//! answers what the test scripted.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use extdb_contract::pb::external_database_server::{ExternalDatabase, ExternalDatabaseServer};
use extdb_contract::{Rpc, pb};
use extdb_protocol::{Operation, Reply};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tonic::metadata::MetadataMap;
use tonic::{Request, Response, Status};

/// One scripted answer.
pub struct Answer {
    pub result: Result<Reply, Status>,
    pub delay: Duration,
}

/// One call the backend received.
#[derive(Debug, Clone)]
pub struct Received {
    pub operation: Operation,
    pub metadata: MetadataMap,
    /// The caller's address: which of the sidecar's connections it came on.
    pub peer: Option<SocketAddr>,
}

#[derive(Default)]
struct State {
    received: Vec<Received>,
    answers: VecDeque<Answer>,
}

#[derive(Clone, Default)]
struct Scripted {
    state: Arc<Mutex<State>>,
}

/// A running scripted backend.
pub struct ScriptedBackend {
    pub addr: SocketAddr,
    health: tonic_health::server::HealthReporter,
    state: Arc<Mutex<State>>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl ScriptedBackend {
    pub async fn start() -> ScriptedBackend {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self::start_on(listener).await
    }

    pub async fn start_on(listener: TcpListener) -> ScriptedBackend {
        Self::start_with(listener, None).await
    }

    /// Serves over TLS with the given certificate chain and key (PEM).
    pub async fn start_tls(cert_pem: &str, key_pem: &str) -> ScriptedBackend {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let identity = tonic::transport::Identity::from_pem(cert_pem, key_pem);
        Self::start_with(listener, Some(identity)).await
    }

    async fn start_with(
        listener: TcpListener,
        tls: Option<tonic::transport::Identity>,
    ) -> ScriptedBackend {
        let addr = listener.local_addr().unwrap();
        let scripted = Scripted::default();
        let state = scripted.state.clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
        let (health, health_service) = tonic_health::server::health_reporter();
        health
            .set_service_status("", tonic_health::ServingStatus::Serving)
            .await;
        let mut server = tonic::transport::Server::builder();
        if let Some(identity) = tls {
            server = server
                .tls_config(tonic::transport::ServerTlsConfig::new().identity(identity))
                .unwrap();
        }
        let task = tokio::spawn(async move {
            server
                .add_service(health_service)
                .add_service(ExternalDatabaseServer::new(scripted))
                .serve_with_incoming_shutdown(incoming, async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        ScriptedBackend {
            addr,
            health,
            state,
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// What the backend's `grpc.health.v1` reports for the whole server.
    pub async fn set_serving(&self, serving: bool) {
        let status = if serving {
            tonic_health::ServingStatus::Serving
        } else {
            tonic_health::ServingStatus::NotServing
        };
        self.health.set_service_status("", status).await;
    }

    /// Queues the answer to the next call.
    pub fn answer(&self, reply: Reply) {
        self.push(Ok(reply), Duration::ZERO);
    }

    pub fn fail(&self, status: Status) {
        self.push(Err(status), Duration::ZERO);
    }

    pub fn answer_after(&self, delay: Duration, reply: Reply) {
        self.push(Ok(reply), delay);
    }

    fn push(&self, result: Result<Reply, Status>, delay: Duration) {
        self.state
            .lock()
            .unwrap()
            .answers
            .push_back(Answer { result, delay });
    }

    /// Every call so far, oldest first.
    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    /// The only call so far (panics otherwise).
    pub fn single_call(&self) -> Received {
        let calls = self.received();
        assert_eq!(
            calls.len(),
            1,
            "expected exactly one upstream call, got {calls:#?}"
        );
        calls.into_iter().next().unwrap()
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Scripted {
    async fn serve<T>(
        &self,
        request: Request<T>,
        record: impl FnOnce(T) -> Operation,
        extract: impl FnOnce(Reply) -> Option<T::Response>,
    ) -> Result<Response<T::Response>, Status>
    where
        T: Rpc,
    {
        let metadata = request.metadata().clone();
        let peer = request.remote_addr();
        let operation = record(request.into_inner());
        let answer = {
            let mut state = self.state.lock().unwrap();
            state.received.push(Received {
                operation,
                metadata,
                peer,
            });
            state.answers.pop_front()
        };
        let Some(answer) = answer else {
            return Err(Status::internal("scripted backend: no answer scripted"));
        };
        if !answer.delay.is_zero() {
            tokio::time::sleep(answer.delay).await;
        }
        match answer.result {
            Ok(reply) => extract(reply)
                .map(Response::new)
                .ok_or_else(|| Status::internal("scripted backend: answer of the wrong kind")),
            Err(status) => Err(status),
        }
    }
}

/// Generates the scripted `ExternalDatabase` server from the contract's
/// per-RPC table: every RPC records its request as its [`Operation`] and
/// answers with the scripted [`Reply`] of its kind.
macro_rules! scripted_rpcs {
    ($( $(#[$doc:meta])* $rpc:ident {
        method: $method:ident,
        request: $req:ident,
        response: $resp:ident,
        reply: $reply:ident,
        $($facts:tt)*
    } )*) => {
        #[tonic::async_trait]
        impl ExternalDatabase for Scripted {
            $(async fn $method(
                &self,
                request: Request<pb::$req>,
            ) -> Result<Response<pb::$resp>, Status> {
                self.serve(request, Operation::$rpc, |r| match r {
                    Reply::$reply(x) => Some(x),
                    _ => None,
                })
                .await
            })*
        }
    };
}

extdb_contract::for_each_rpc!(scripted_rpcs);
