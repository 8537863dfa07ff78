//! Starting, steering and stopping the example service.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

use crate::books::Library;
use crate::fields::Schema;
use crate::pb::book_service_server::BookServiceServer;
use crate::pb::shelf_service_server::ShelfServiceServer;
use crate::pb::{Book, Shelf};
use crate::recorder::{Fault, RecordedCall};
use crate::store::{State, now};
use crate::{FILE_DESCRIPTOR_SET, LibraryError, seed};

/// Which gRPC server reflection versions are served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reflection {
    None,
    V1,
    V1Alpha,
    #[default]
    Both,
}

/// How the service is started.
#[derive(Debug, Clone)]
pub struct LibraryOptions {
    /// Where to listen; the default is an ephemeral port on 127.0.0.1.
    pub listen: SocketAddr,
    pub reflection: Reflection,
    /// Larger page sizes are clamped to this (default 100).
    pub max_page_size: usize,
    /// The page size when a request gives 0 (default 50).
    pub default_page_size: usize,
    /// Answer at most half the page size (at least 1), to prove clients
    /// loop on `next_page_token` rather than on a short page.
    pub short_pages: bool,
}

impl Default for LibraryOptions {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            reflection: Reflection::Both,
            max_page_size: 100,
            default_page_size: 50,
            short_pages: false,
        }
    }
}

const SERVICES: [&str; 2] = ["library.v1.BookService", "library.v1.ShelfService"];

/// A running library service; dropping it stops serving too.
#[derive(Debug)]
pub struct RunningLibrary {
    addr: SocketAddr,
    state: Arc<State>,
    health: HealthReporter,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), tonic::transport::Error>>>,
}

impl RunningLibrary {
    /// Binds `options.listen` and serves BookService, ShelfService, gRPC
    /// health (SERVING) and the chosen reflection versions.
    pub async fn start(options: LibraryOptions) -> Result<Self, LibraryError> {
        let schema = Schema::load()?;
        let listener =
            TcpListener::bind(options.listen)
                .await
                .map_err(|source| LibraryError::Bind {
                    addr: options.listen,
                    source,
                })?;
        let addr = listener.local_addr().map_err(|source| LibraryError::Bind {
            addr: options.listen,
            source,
        })?;
        let (v1, v1alpha) = match options.reflection {
            Reflection::None => (None, None),
            Reflection::V1 => (Some(reflection_v1()?), None),
            Reflection::V1Alpha => (None, Some(reflection_v1alpha()?)),
            Reflection::Both => (Some(reflection_v1()?), Some(reflection_v1alpha()?)),
        };
        let state = Arc::new(State::new(schema, options));
        let library = Library {
            state: state.clone(),
        };
        let (health, health_service) = tonic_health::server::health_reporter();
        for service in SERVICES {
            health
                .set_service_status(service, ServingStatus::Serving)
                .await;
        }
        let router = Server::builder()
            .add_service(health_service)
            .add_service(BookServiceServer::new(library.clone()))
            .add_service(ShelfServiceServer::new(library))
            .add_optional_service(v1)
            .add_optional_service(v1alpha);
        let (shutdown, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(router.serve_with_incoming_shutdown(
            incoming(listener),
            async move {
                let _ = stopped.await;
            },
        ));
        Ok(Self {
            addr,
            state,
            health,
            shutdown: Some(shutdown),
            task: Some(task),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<RecordedCall> {
        self.state.recorder.calls()
    }

    pub fn clear_calls(&self) {
        self.state.recorder.clear_calls();
    }

    /// Injects `fault` into every later call of `method` (a short name such
    /// as `"GetBook"`), or of every method for `None`, until changed;
    /// `Fault::None` clears it. A method's own fault wins over the
    /// every-method one.
    pub fn set_fault(&self, method: Option<&str>, fault: Fault) {
        self.state.recorder.set_fault(method, fault, None);
    }

    /// Like [`set_fault`](Self::set_fault), for the next `times` calls only.
    pub fn set_fault_times(&self, method: Option<&str>, fault: Fault, times: usize) {
        self.state.recorder.set_fault(method, fault, Some(times));
    }

    /// Every book, by name.
    pub fn books(&self) -> Vec<Book> {
        self.state.books()
    }

    /// Stores books exactly as given (no validation, stamps or etags),
    /// creating the shelves they are on.
    pub fn insert_books(&self, books: Vec<Book>) -> Result<(), LibraryError> {
        self.state.insert_books(books)
    }

    /// Creates `shelves/main` and `n` deterministic books on it
    /// (`shelves/main/books/book-0001`, ...).
    pub fn seed_demo(&self, n: usize) -> Result<(), LibraryError> {
        self.state
            .data()
            .shelves
            .entry("shelves/main".to_owned())
            .or_insert_with(|| Shelf {
                name: "shelves/main".to_owned(),
                theme: "Everything".to_owned(),
                create_time: Some(now()),
            });
        self.state
            .insert_books((0..n).map(seed::demo_book).collect())
    }

    /// What gRPC health answers, for the server and both services.
    pub async fn set_serving(&self, serving: bool) {
        let status = if serving {
            ServingStatus::Serving
        } else {
            ServingStatus::NotServing
        };
        for service in [""].into_iter().chain(SERVICES) {
            self.health.set_service_status(service, status).await;
        }
    }

    /// Stops accepting, lets calls in flight finish (at most 5 s), and
    /// releases the port.
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(Duration::from_secs(5), &mut task)
                .await
                .is_err()
        {
            task.abort();
            let _ = task.await;
        }
    }
}

impl Drop for RunningLibrary {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

/// Accepted connections, with TCP_NODELAY: without it small answers wait
/// on delayed ACKs (~40 ms a call).
fn incoming(listener: TcpListener) -> TcpIncoming {
    TcpIncoming::from(listener).with_nodelay(Some(true))
}

fn reflection_v1() -> Result<
    tonic_reflection::server::v1::ServerReflectionServer<
        impl tonic_reflection::server::v1::ServerReflection,
    >,
    LibraryError,
> {
    tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(FILE_DESCRIPTOR_SET)
        .build_v1()
        .map_err(|e| LibraryError::Reflection(e.to_string()))
}

fn reflection_v1alpha() -> Result<
    tonic_reflection::server::v1alpha::ServerReflectionServer<
        impl tonic_reflection::server::v1alpha::ServerReflection,
    >,
    LibraryError,
> {
    tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(FILE_DESCRIPTOR_SET)
        .build_v1alpha()
        .map_err(|e| LibraryError::Reflection(e.to_string()))
}

#[cfg(test)]
mod tests;
