//! Assembles the sidecar from its configuration and runs it.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::net::TcpListener;

use crate::aip::start_aip_upstream;
use crate::config::{Config, ServingRuntime, UpstreamKind};
use crate::embedded::start_embedded_store;
use crate::http::{
    self, AdminState, BodyLimits, ConnectionSlots, FrontLimits, LegacyFront, Sidecar,
};
use crate::metrics::{Metrics, MetricsSeed};
use crate::routing::{CursorSeal, Permissions, UpstreamRouter};
use crate::trace::RequestTracer;
use crate::upstream::UpstreamClient;
use extdb_auth::{AuthFailure, V3Verifier};
use extdb_protocol::legacy::LegacyEndpoint;
use extdb_protocol::{Endpoint, Operation};

/// Why the sidecar could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("auth.v3.keys: {0}")]
    Keys(String),
    #[error("{0}")]
    Config(String),
    #[error(transparent)]
    Upstream(#[from] crate::upstream::UpstreamSetupError),
    #[error("upstreams.{name}: {detail}")]
    /// An in-process upstream (`kind: embedded` or `kind: aip`) could not be built.
    InProcess { name: String, detail: String },
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A started sidecar: its addresses and the task serving it (it ends once
/// shutdown has drained everything).
pub struct RunningSidecar {
    pub addr: SocketAddr,
    pub admin_addr: Option<SocketAddr>,
    pub task: tokio::task::JoinHandle<()>,
}

async fn bind(addr: SocketAddr) -> Result<(TcpListener, SocketAddr), StartError> {
    let listen_err = |source| StartError::Listen { addr, source };
    let listener = TcpListener::bind(addr).await.map_err(listen_err)?;
    let local = listener.local_addr().map_err(listen_err)?;
    Ok((listener, local))
}

/// Builds the request path from `config` (upstream channels connect
/// lazily), binds the protocol and admin listeners and serves until
/// `shutdown` resolves. Shutdown order: readiness turns false, the protocol
/// listener serves on for `http.shutdown_delay_ms`, then stops accepting
/// and drains (up to `shutdown_grace_ms`), then the admin listener stops
/// (in-process upstreams close with the last request that holds them).
pub async fn start(
    config: &Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<RunningSidecar, StartError> {
    let body = BodyLimits::new(&config.http);
    let metrics = Arc::new(Metrics::new(metrics_seed(config, &body)));
    let sidecar = build_sidecar(config, metrics.clone(), body).await?;
    let admin = Arc::new(AdminState {
        metrics,
        upstreams: sidecar.router.upstreams().cloned().collect(),
        health_timeout: Duration::from_millis(config.admin.health_timeout_ms),
        shutting_down: AtomicBool::new(false),
    });
    let (listener, addr) = bind(config.listen).await?;
    let front = FrontLimits::protocol(&config.http);
    let slots = ConnectionSlots::new(&front, Some(addr));
    let sidecar = Arc::new(sidecar);
    let grace = Duration::from_millis(config.shutdown_grace_ms);
    let serving = match config.http.runtime {
        ServingRuntime::Shared => Serving::Shared(listener),
        ServingRuntime::PerCore => Serving::PerCore(PerCoreServers::start(
            listener,
            config.http.serving_threads(),
            &sidecar,
            &front,
            &slots,
            grace,
        )?),
    };
    let (admin_stop, admin_stopped) = tokio::sync::oneshot::channel::<()>();
    let admin_addr = if config.admin.enabled {
        let (admin_listener, admin_addr) = bind(config.admin.listen).await?;
        let admin_limits = FrontLimits::admin(&config.http);
        let admin_slots = ConnectionSlots::new(&admin_limits, Some(admin_addr));
        tokio::spawn(http::serve(
            admin_listener,
            admin.clone(),
            admin_limits,
            admin_slots,
            None,
            async {
                let _ = admin_stopped.await;
            },
            Duration::from_secs(1),
        ));
        Some(admin_addr)
    } else {
        None
    };
    let delay = Duration::from_millis(config.http.shutdown_delay_ms);
    let task = tokio::spawn(async move {
        let drain_started = {
            let admin = admin.clone();
            async move {
                shutdown.await;
                admin.shutting_down.store(true, Ordering::Release);
                // Readiness is 503 from here; serving on during the delay
                // lets a load balancer notice and send elsewhere first.
                if !delay.is_zero() {
                    tracing::info!(
                        delay_ms = delay.as_millis() as u64,
                        "shutdown requested: readiness is 503, still serving until the delay is over"
                    );
                    tokio::time::sleep(delay).await;
                }
                tracing::info!(
                    grace_ms = grace.as_millis() as u64,
                    "draining in-flight requests"
                );
            }
        };
        match serving {
            Serving::Shared(listener) => {
                http::serve(listener, sidecar, front, slots, None, drain_started, grace).await;
            }
            Serving::PerCore(servers) => servers.serve_until(drain_started).await,
        }
        let _ = admin_stop.send(());
        tracing::info!("stopped");
    });
    Ok(RunningSidecar {
        addr,
        admin_addr,
        task,
    })
}

/// Where the protocol listener's connections are served.
enum Serving {
    /// On the runtime `start` was called on.
    Shared(TcpListener),
    /// On threads of their own (`http.runtime: per_core`).
    PerCore(PerCoreServers),
}

/// One thread per CPU (or `http.serving_threads`), each with a
/// single-threaded runtime that accepts on the same listening socket and
/// runs its connections' requests start to finish, with its own
/// connection to each remote upstream
/// ([`Sidecar::for_this_runtime`]). A new connection goes to the thread
/// with the fewest open ([`http::AcceptBalance`]); among those tied, to
/// whichever accepts first.
struct PerCoreServers {
    stop: tokio::sync::watch::Sender<bool>,
    stopped: Vec<tokio::sync::oneshot::Receiver<()>>,
}

impl PerCoreServers {
    /// Starts the threads; they serve until [`PerCoreServers::serve_until`]
    /// tells them to drain.
    fn start(
        listener: TcpListener,
        threads: usize,
        sidecar: &Arc<Sidecar>,
        front: &FrontLimits,
        slots: &ConnectionSlots,
        grace: Duration,
    ) -> Result<PerCoreServers, StartError> {
        let addr = listener.local_addr().ok();
        let failed = |what: &str, e: std::io::Error| {
            StartError::Config(format!(
                "http.runtime per_core: cannot {what} (listener {}): {e}",
                addr.map(|a| a.to_string()).unwrap_or_default()
            ))
        };
        let listener = listener
            .into_std()
            .map_err(|e| failed("share the listener", e))?;
        let (stop, stop_rx) = tokio::sync::watch::channel(false);
        let balance = http::AcceptBalance::new(threads);
        let mut stopped = Vec::with_capacity(threads);
        for index in 0..threads {
            // The same socket: one accept queue, shared by every thread.
            let listener = listener
                .try_clone()
                .map_err(|e| failed("share the listener", e))?;
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| failed("build a runtime", e))?;
            let (done, done_rx) = tokio::sync::oneshot::channel();
            let (sidecar, front, slots) = (sidecar.clone(), front.clone(), slots.clone());
            let turn = balance.turn(index);
            let mut stop_rx = stop_rx.clone();
            // Logs and spans go where the starting thread's go (the
            // process's subscriber; a test's scoped one).
            let dispatch = tracing::dispatcher::get_default(Clone::clone);
            std::thread::Builder::new()
                .name(format!("extdb-serve-{index}"))
                .spawn(move || {
                    let _logs = tracing::dispatcher::set_default(&dispatch);
                    runtime.block_on(async move {
                        let listener = match TcpListener::from_std(listener) {
                            Ok(listener) => listener,
                            Err(e) => {
                                tracing::error!(error = %e, "serving thread cannot accept");
                                return;
                            }
                        };
                        // Ends with the runtime.
                        tokio::spawn(timer_heartbeat());
                        let sidecar = Arc::new(sidecar.for_this_runtime());
                        let drain = async move {
                            let _ = stop_rx.wait_for(|stop| *stop).await;
                        };
                        http::serve(listener, sidecar, front, slots, Some(turn), drain, grace)
                            .await;
                    });
                    // Dropping the runtime ends what the drain left behind.
                    drop(runtime);
                    let _ = done.send(());
                })
                .map_err(|e| failed("start a serving thread", e))?;
            stopped.push(done_rx);
        }
        Ok(PerCoreServers { stop, stopped })
    }

    /// Serves until `drain` resolves, then drains every thread (each as
    /// [`http::serve`] does) and returns once all have stopped.
    async fn serve_until(self, drain: impl Future<Output = ()>) {
        drain.await;
        let _ = self.stop.send(true);
        for stopped in self.stopped {
            // An error means the thread ended early (it logged why).
            let _ = stopped.await;
        }
    }
}

/// How often [`timer_heartbeat`] wakes its runtime's timer driver.
const TIMER_HEARTBEAT: Duration = Duration::from_secs(1);

/// Keeps a timer due within [`TIMER_HEARTBEAT`] on the runtime it runs
/// on. tokio wakes its driver (a write to the runtime's eventfd, then an
/// extra `epoll_wait` round) whenever a new timer is due before the
/// driver's next planned wake. Without this, each request's deadlines (its
/// upstream call's, and tonic's for the `grpc-timeout` it sends), seconds
/// away, were each the earliest timer, and every upstream call cost two
/// such wakes. With a timer always at most a second away, deadlines
/// further than that wake nothing (BENCHMARKS.md, "Timer wake-ups").
async fn timer_heartbeat() {
    let mut tick = tokio::time::interval(TIMER_HEARTBEAT);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
    }
}

/// The label values known from the config, so their series start at 0.
fn metrics_seed(config: &Config, body: &BodyLimits) -> MetricsSeed<'static> {
    let legacy_on = config.auth.legacy.is_some();
    let legacy_endpoints: &[LegacyEndpoint] = if legacy_on { &LegacyEndpoint::ALL } else { &[] };
    let legacy_reasons: &[&str] = if legacy_on {
        &crate::http::LEGACY_FAILURE_REASONS
    } else {
        &[]
    };
    MetricsSeed {
        body_budget: Some(Box::new(body.held_bytes_source())),
        collections: config
            .collections
            .keys()
            .filter(|id| !id.contains('*'))
            .cloned()
            .collect(),
        endpoints: Endpoint::ALL
            .iter()
            .map(|e| ("v3", e.name()))
            .chain(legacy_endpoints.iter().map(|e| ("legacy", e.name())))
            .collect(),
        upstreams: config.upstreams.keys().cloned().collect(),
        methods: Operation::UPSTREAM_METHODS.to_vec(),
        auth_reasons: AuthFailure::REASONS
            .iter()
            .chain(legacy_reasons)
            .copied()
            .chain(
                (!config.permissions.0.is_empty())
                    .then_some(crate::routing::permissions::DENIED_REASON),
            )
            .collect(),
        upstream_timeouts: config
            .upstreams
            .iter()
            .map(|(name, up)| (name.clone(), up.timeout_ms as f64 / 1000.0))
            .collect(),
    }
}

async fn build_sidecar(
    config: &Config,
    metrics: Arc<Metrics>,
    body: BodyLimits,
) -> Result<Sidecar, StartError> {
    let v3 = match &config.auth.v3 {
        Some(v3) => {
            let verifier = V3Verifier::new(v3).map_err(|e| StartError::Keys(e.to_string()))?;
            for key in verifier.keys_without_audience() {
                tracing::warn!(key, "auth.v3: this key accepts tokens for any audience");
            }
            Some(Arc::new(verifier))
        }
        None => None,
    };
    let cursor_key = config
        .cursors
        .key_bytes()
        .map_err(|problem| StartError::Config(problem.to_string()))?;
    let cursor_key = cursor_key.as_deref();
    let mut upstreams = BTreeMap::new();
    for (name, up) in &config.upstreams {
        let client = match up.kind {
            UpstreamKind::Grpc => {
                let endpoint = up.endpoint.clone().unwrap_or_default();
                UpstreamClient::new(name, &endpoint, up, metrics.clone())?
            }
            UpstreamKind::Embedded => {
                let key = cursor_key.map(|k| derive_key(k, "extdb embedded store cursors", name));
                let store = start_embedded_store(name, up, key.as_deref()).await?;
                UpstreamClient::local(name, store, up, metrics.clone())?
            }
            UpstreamKind::Aip => {
                let key = cursor_key.map(|k| derive_key(k, "extdb aip cursors", name));
                let adapter = start_aip_upstream(name, up, key.as_deref()).await?;
                UpstreamClient::local(name, adapter, up, metrics.clone())?
            }
        };
        upstreams.insert(name.clone(), Arc::new(client));
    }
    let router = UpstreamRouter::new(
        upstreams,
        &config.routes(),
        config.default_upstream.clone(),
        cursor_seal(cursor_key),
    )
    .with_permissions(Permissions::new(&config.permissions));
    let legacy = config.auth.legacy.as_ref().map(|legacy| {
        if legacy.provision_without_key {
            tracing::warn!(
                "auth.legacy.provision_without_key is on: /provision answers callers without a secret key"
            );
        }
        Arc::new(LegacyFront::new(legacy))
    });
    let sidecar = Sidecar {
        router,
        metrics,
        v3,
        legacy,
        body,
        tracer: RequestTracer::new(&config.tracing),
    };
    Ok(sidecar)
}

/// A key of its own for one in-process upstream's cursors, from the
/// sidecar's configured cursor key: `HMAC(key, "<purpose>: <upstream>")`.
fn derive_key(key: &[u8], purpose: &str, upstream: &str) -> Vec<u8> {
    aws_lc_rs::hmac::sign(
        &aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key),
        format!("{purpose}: {upstream}").as_bytes(),
    )
    .as_ref()
    .to_vec()
}

/// The cursor seal: the configured key, else a random one.
fn cursor_seal(key: Option<&[u8]>) -> CursorSeal {
    match key {
        Some(key) => CursorSeal::new(key),
        None => {
            tracing::info!(
                "cursors are signed with a random per-process key: they stop working on restart and on other replicas (set cursors.key to keep them)"
            );
            CursorSeal::random()
        }
    }
}
