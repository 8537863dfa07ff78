//! Sets up a benchmark (upstream, keys, sidecar, payloads), checks every
//! scenario answers correctly on both paths, then measures the direct and
//! the sidecar path back to back, alternating their order every round.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use prost::Message as _;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tonic::metadata::{AsciiMetadataValue, MetadataMap};
use tonic::transport::{Channel, Endpoint};

use super::driver::{self, ClientSocket, GrpcPayload, HttpPayloads, Load, PhaseResult, Target};
use super::scenarios::{self, Scenario};
use extdb_auth::{RequestSigner, request_claims};
use extdb_bridge::config::Config;
use extdb_contract::pb;

/// The `aud` the loadgen signs for and configures the sidecar with.
pub const AUDIENCE: &str = "extdb-loadgen";
/// Long enough that pre-signed tokens outlive any run.
const TOKEN_LIFETIME_SECONDS: u64 = 6 * 3600;
/// How long a sidecar or backend may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(15);

/// Which upstream the scenarios run against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpstreamChoice {
    /// The canned backend, in this process on its own thread.
    Canned,
    /// The reference store (SQLite) on a fresh database file, in this
    /// process on its own thread, seeded with the benchmark collection.
    Store,
    /// The reference store on this PostgreSQL database (a fresh schema of
    /// it), in this process on its own thread, seeded like `Store`.
    StoreOnPostgres(String),
    /// Any implementation of the contract at this URL (seeded first).
    Url(String),
    /// The sidecar's own `kind: embedded` store; the direct path is the
    /// reference store serving the same SQLite file over gRPC in this
    /// process (seeded through it before the sidecar opens the file).
    Embedded,
    /// The sidecar's own `kind: embedded` store on this PostgreSQL
    /// database (a fresh schema of it); the direct path is the reference
    /// store on the same schema over gRPC in this process.
    EmbeddedOnPostgres(String),
}

/// What the sidecar path is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compare {
    /// The same upstream called directly over gRPC (ISSUE 6).
    Direct,
    /// The same sidecar's `kind: grpc` upstream on the canned contract
    /// backend (baseline) vs its `kind: aip` upstream on the canned library
    /// (ISSUE 11): one sidecar process serves both, so both paths' CPU is
    /// measured the same way. Canned upstream, query-one and query-page only.
    Aip,
}

impl Compare {
    /// The names of the baseline and the measured path.
    pub fn path_names(self) -> [&'static str; 2] {
        match self {
            Compare::Direct => ["direct", "sidecar"],
            Compare::Aip => ["contract", "aip"],
        }
    }
}

/// The collection the `kind: aip` upstream maps (the contract's is
/// [`scenarios::COLLECTION`]).
pub const AIP_COLLECTION: &str = "aip_books";

/// How the sidecar runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SidecarChoice {
    /// `extdb-bridge --config FILE` as a child process, as users run it;
    /// `bin` defaults to `extdb-bridge` next to this executable. `log` is
    /// its RUST_LOG (logs go to /dev/null but are still formatted).
    Process { bin: Option<PathBuf>, log: String },
    /// `app::start` in this process, on its own 2-thread runtime (no
    /// logging subscriber; no memory figures).
    InProcess,
}

/// What to run.
#[derive(Debug, Clone)]
pub struct Plan {
    pub scenarios: Vec<Scenario>,
    pub loads: Vec<Load>,
    /// Measured time per target per round.
    pub duration: Duration,
    /// Unmeasured time per target before the first round of each load.
    pub warmup: Duration,
    /// Rounds per scenario and load; odd rounds run the sidecar first.
    pub rounds: u32,
    pub upstream: UpstreamChoice,
    pub sidecar: SidecarChoice,
    /// Distinct pre-signed requests per scenario (used round-robin).
    pub pool: usize,
    pub compare: Compare,
    /// How the sidecar path's connections send (test-only stalls).
    pub client_socket: ClientSocket,
    /// Seeded stores also get an index on `(genre ASC, pages DESC)`, the
    /// query-page filter and sort, created through the contract's
    /// CreateIndex as a user serving that query would; off, every page
    /// scans the collection.
    pub page_index: bool,
}

impl Plan {
    /// A few seconds of every scenario against the canned backend, with an
    /// in-process sidecar: proves the harness works (CI).
    pub fn smoke() -> Plan {
        Plan {
            scenarios: Scenario::ALL.to_vec(),
            loads: vec![
                Load::Closed { concurrency: 2 },
                Load::Rate {
                    per_second: 200.0,
                    connections: 2,
                },
            ],
            duration: Duration::from_millis(200),
            warmup: Duration::ZERO,
            rounds: 1,
            upstream: UpstreamChoice::Canned,
            sidecar: SidecarChoice::InProcess,
            pool: 8,
            compare: Compare::Direct,
            client_socket: ClientSocket::NoDelay,
            page_index: false,
        }
    }

    /// The smoke run's stall guard (see [`crate::guard`]): small calls
    /// (query-one) one at a time through the sidecar's embedded store and
    /// directly to the same store over gRPC, two rounds each, ABBA.
    pub fn smoke_guard() -> Plan {
        Plan {
            scenarios: vec![Scenario::QueryOne],
            loads: vec![Load::Closed { concurrency: 1 }],
            duration: Duration::from_millis(400),
            warmup: Duration::from_millis(100),
            rounds: 2,
            upstream: UpstreamChoice::Embedded,
            ..Plan::smoke()
        }
    }

    /// The smoke run of the `kind: aip` comparison (its two scenarios).
    pub fn smoke_aip() -> Plan {
        Plan {
            scenarios: Compare::AIP_SCENARIOS.to_vec(),
            compare: Compare::Aip,
            ..Plan::smoke()
        }
    }
}

impl Compare {
    /// The scenarios the `kind: aip` comparison runs.
    pub const AIP_SCENARIOS: [Scenario; 2] = [Scenario::QueryOne, Scenario::QueryPage];
}

/// Both paths' numbers for one scenario under one load.
pub struct ScenarioResult {
    pub scenario: Scenario,
    pub load: Load,
    /// The path compared with: direct gRPC, or the sidecar on the contract
    /// (`Compare::Aip`).
    pub baseline: PhaseResult,
    pub sidecar: PhaseResult,
    /// CPU time the sidecar process used during the measured phases of
    /// each path (the baseline's only when it goes through the sidecar).
    pub baseline_cpu: Option<Duration>,
    pub sidecar_cpu: Option<Duration>,
}

/// Sidecar process memory (KiB, from /proc/PID/status).
#[derive(Debug, Clone, Copy)]
pub struct Memory {
    pub idle_rss_kib: u64,
    pub after_rss_kib: u64,
    pub peak_rss_kib: u64,
}

pub struct Report {
    pub compare: Compare,
    pub upstream: String,
    /// What `upstream` describes.
    pub upstream_choice: UpstreamChoice,
    pub sidecar: String,
    pub results: Vec<ScenarioResult>,
    pub memory: Option<Memory>,
    /// Problems found before measuring (wrong answers).
    pub check_failures: Vec<String>,
}

impl Report {
    /// Failed requests plus failed answer checks; any fails the run.
    pub fn errors(&self) -> u64 {
        self.check_failures.len() as u64
            + self
                .results
                .iter()
                .map(|r| r.baseline.errors + r.sidecar.errors)
                .sum::<u64>()
    }
}

/// Runs `plan`. `progress` gets one line per finished phase.
pub async fn run(plan: &Plan, progress: &mut dyn FnMut(&str)) -> Result<Report, String> {
    if plan.compare == Compare::Aip {
        if plan.upstream != UpstreamChoice::Canned {
            return Err("the kind: aip comparison runs on the canned backends only".into());
        }
        if let Some(s) = plan
            .scenarios
            .iter()
            .find(|s| !Compare::AIP_SCENARIOS.contains(s))
        {
            return Err(format!(
                "the kind: aip comparison runs query-one and query-page, not {}",
                s.name()
            ));
        }
    }
    let upstream = match &plan.upstream {
        UpstreamChoice::Canned => Upstream::Canned(start_canned()?),
        UpstreamChoice::Store | UpstreamChoice::Embedded => start_store(None)?,
        UpstreamChoice::StoreOnPostgres(url) | UpstreamChoice::EmbeddedOnPostgres(url) => {
            start_store(Some(url))?
        }
        UpstreamChoice::Url(url) => Upstream::External(url.clone()),
    };
    let endpoint = upstream.endpoint();
    let channel = Endpoint::from_shared(endpoint.clone())
        .map_err(|e| format!("upstream {endpoint}: {e}"))?
        .tcp_nodelay(true)
        .connect_timeout(Duration::from_secs(2))
        .connect()
        .await
        .map_err(|e| format!("cannot connect to the upstream {endpoint}: {e}"))?;
    if !matches!(upstream, Upstream::Canned(_)) {
        seed(&channel, scenarios::SEED_ITEMS, progress).await?;
        if plan.page_index {
            create_page_index(&channel, progress).await?;
        }
    }

    // The aip comparison's second backend, and the descriptor set its
    // upstream reads (no reflection at start-up); both live for the run.
    let library = match plan.compare {
        Compare::Aip => Some(start_canned_library()?),
        Compare::Direct => None,
    };
    let descriptors = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    let aip_yaml = match &library {
        Some(library) => {
            let path = descriptors.path().join("library.binpb");
            std::fs::write(&path, extdb_example_library::FILE_DESCRIPTOR_SET)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            aip_upstream_yaml(&format!("http://{}", library.addr), &path)
        }
        None => String::new(),
    };

    let pair = extdb_bridge::devtools::generate_key_pair().map_err(|e| e.to_string())?;
    let signer = RequestSigner::from_pem(&pair.private_pem).map_err(|e| e.to_string())?;
    let backend = match (&plan.upstream, &upstream) {
        (UpstreamChoice::Embedded, Upstream::Store { db, .. }) => Backend::Embedded(db),
        (
            UpstreamChoice::EmbeddedOnPostgres(url),
            Upstream::Store {
                pg_schema: Some(schema),
                ..
            },
        ) => Backend::EmbeddedOnPostgres { url, schema },
        _ => Backend::Grpc(&endpoint),
    };
    let yaml = sidecar_yaml(
        &pair.public_base64,
        backend,
        Duration::from_secs(5),
        Duration::from_secs(1),
        &aip_yaml,
    );
    let sidecar = Sidecar::start(&plan.sidecar, &yaml).await?;
    let idle_rss = sidecar.pid().and_then(|pid| proc_status_kib(pid, "VmRSS"));

    let pool = plan.pool.max(1);
    let mut targets = Vec::new();
    for &scenario in &plan.scenarios {
        let (sidecar_target, baseline_target) = match plan.compare {
            Compare::Direct => {
                let (http, grpc) = payloads(scenario, &signer, pool)?;
                (
                    Target::Sidecar {
                        addr: sidecar.addr,
                        payloads: Arc::new(http),
                        socket: plan.client_socket,
                    },
                    Target::Direct {
                        channel: channel.clone(),
                        payloads: Arc::new(grpc),
                    },
                )
            }
            Compare::Aip => {
                let on = |collection: &str| -> Result<Target, String> {
                    let requests: Vec<Value> = (0..pool)
                        .map(|seq| scenario.compare_request(seq, collection))
                        .collect();
                    Ok(Target::Sidecar {
                        addr: sidecar.addr,
                        payloads: Arc::new(HttpPayloads {
                            path: scenario.endpoint().path(),
                            tokens: signed_tokens(&requests, &signer)?,
                        }),
                        socket: plan.client_socket,
                    })
                };
                (on(AIP_COLLECTION)?, on(scenarios::COLLECTION)?)
            }
        };
        targets.push((scenario, sidecar_target, baseline_target));
    }

    let real_store = !matches!(upstream, Upstream::Canned(_));
    let mut check_failures = Vec::new();
    for (scenario, sidecar_target, baseline_target) in &targets {
        if let Err(e) = check_answers(*scenario, sidecar_target, baseline_target, real_store).await
        {
            check_failures.push(format!("{}: {e}", scenario.name()));
        }
    }

    let mut results = Vec::new();
    if check_failures.is_empty() {
        let [baseline_name, sidecar_name] = plan.compare.path_names();
        for (scenario, sidecar_target, baseline_target) in &targets {
            for &load in &plan.loads {
                let r = measure(
                    plan,
                    *scenario,
                    load,
                    sidecar_target,
                    baseline_target,
                    sidecar.pid(),
                )
                .await;
                progress(&format!(
                    "{:<12} {:<22} {baseline_name} {:>9.0}/s p50 {:.3} ms | {sidecar_name} {:>9.0}/s p50 {:.3} ms | errors {}",
                    scenario.name(),
                    load.describe(),
                    r.baseline.per_second(),
                    r.baseline.quantile_ms(0.5),
                    r.sidecar.per_second(),
                    r.sidecar.quantile_ms(0.5),
                    r.baseline.errors + r.sidecar.errors,
                ));
                results.push(r);
            }
        }
    }

    let memory = match (sidecar.pid(), idle_rss) {
        (Some(pid), Some(idle_rss_kib)) => Some(Memory {
            idle_rss_kib,
            after_rss_kib: proc_status_kib(pid, "VmRSS").unwrap_or(0),
            peak_rss_kib: proc_status_kib(pid, "VmHWM").unwrap_or(0),
        }),
        _ => None,
    };
    let sidecar_name = match &plan.sidecar {
        SidecarChoice::Process { log, .. } => format!("process (RUST_LOG={log})"),
        SidecarChoice::InProcess => "in-process".to_owned(),
    };
    sidecar.stop();
    drop(upstream);
    drop(library);
    Ok(Report {
        compare: plan.compare,
        upstream: match &plan.upstream {
            UpstreamChoice::Canned if plan.compare == Compare::Aip => {
                "canned contract backend (kind: grpc) and canned library.v1 (kind: aip)".to_owned()
            }
            UpstreamChoice::Canned => "canned".to_owned(),
            UpstreamChoice::Store => "reference store (SQLite, in-process)".to_owned(),
            UpstreamChoice::Embedded => {
                "the sidecar's embedded store (SQLite); direct: the same file over gRPC".to_owned()
            }
            UpstreamChoice::StoreOnPostgres(url) => format!(
                "reference store (PostgreSQL {}, in-process)",
                extdb_store::ReferenceStore::describe_postgres_url(url).unwrap_or_default()
            ),
            UpstreamChoice::EmbeddedOnPostgres(url) => format!(
                "the sidecar's embedded store (PostgreSQL {}); direct: the same schema over gRPC",
                extdb_store::ReferenceStore::describe_postgres_url(url).unwrap_or_default()
            ),
            UpstreamChoice::Url(url) => url.clone(),
        },
        upstream_choice: plan.upstream.clone(),
        sidecar: sidecar_name,
        results,
        memory,
        check_failures,
    })
}

/// Warm-up, then `rounds` rounds of baseline and sidecar back to back
/// (ABBA order), so that slow drifts of the machine's load hit both. The
/// sidecar process's CPU is measured over every phase that goes through
/// it (both, with `Compare::Aip`).
async fn measure(
    plan: &Plan,
    scenario: Scenario,
    load: Load,
    sidecar: &Target,
    baseline: &Target,
    sidecar_pid: Option<u32>,
) -> ScenarioResult {
    if !plan.warmup.is_zero() {
        driver::run_phase(baseline, load, plan.warmup).await;
        driver::run_phase(sidecar, load, plan.warmup).await;
    }
    let through_sidecar = |target: &Target| matches!(target, Target::Sidecar { .. });
    let mut baseline_total = PhaseResult::empty();
    let mut sidecar_total = PhaseResult::empty();
    let mut baseline_cpu = sidecar_pid
        .filter(|_| through_sidecar(baseline))
        .map(|_| Duration::ZERO);
    let mut sidecar_cpu = sidecar_pid.map(|_| Duration::ZERO);
    for round in 0..plan.rounds.max(1) {
        for sidecar_turn in [round % 2 == 1, round % 2 == 0] {
            let (target, total, cpu) = if sidecar_turn {
                (sidecar, &mut sidecar_total, &mut sidecar_cpu)
            } else {
                (baseline, &mut baseline_total, &mut baseline_cpu)
            };
            let before = sidecar_pid.and_then(proc_cpu_time);
            let r = driver::run_phase(target, load, plan.duration).await;
            let after = sidecar_pid.and_then(proc_cpu_time);
            if let (Some(cpu), Some(b), Some(a)) = (cpu.as_mut(), before, after) {
                *cpu += a.saturating_sub(b);
            }
            total.merge(&r);
        }
    }
    ScenarioResult {
        scenario,
        load,
        baseline: baseline_total,
        sidecar: sidecar_total,
        baseline_cpu,
        sidecar_cpu,
    }
}

/// The pre-signed sidecar requests and the equivalent direct calls.
fn payloads(
    scenario: Scenario,
    signer: &RequestSigner,
    pool: usize,
) -> Result<(HttpPayloads, Vec<GrpcPayload>), String> {
    let requests: Vec<Value> = (0..pool).map(|seq| scenario.request(seq)).collect();
    let tokens = signed_tokens(&requests, signer)?;
    let mut calls = Vec::with_capacity(pool);
    for (seq, request) in requests.iter().enumerate() {
        let context = scenarios::call_context(seq, AUDIENCE);
        let metadata = grpc_metadata(&context)?;
        let call = scenarios::direct_call(scenario, request, context)
            .map_err(|e| format!("{}: {e}", scenario.name()))?;
        calls.push(GrpcPayload {
            path: call.path,
            body: call.body,
            metadata,
        });
    }
    Ok((
        HttpPayloads {
            path: scenario.endpoint().path(),
            tokens,
        },
        calls,
    ))
}

/// Request number `seq` of `requests`, signed as Wix signs it (with
/// `scenarios::metadata(seq)`).
pub(crate) fn signed_tokens(
    requests: &[Value],
    signer: &RequestSigner,
) -> Result<Vec<Bytes>, String> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    requests
        .iter()
        .enumerate()
        .map(|(seq, request)| {
            let claims = request_claims(
                request.clone(),
                scenarios::metadata(seq),
                AUDIENCE,
                now,
                TOKEN_LIFETIME_SECONDS,
            );
            let token = signer.sign(&claims, None).map_err(|e| e.to_string())?;
            Ok(Bytes::from(token))
        })
        .collect()
}

/// The metadata the sidecar adds to every call (see `upstream`).
fn grpc_metadata(context: &pb::CallContext) -> Result<MetadataMap, String> {
    let mut map = MetadataMap::new();
    let identity = context.identity.clone().unwrap_or_default();
    for (key, value) in [
        ("x-request-id", context.request_id.as_str()),
        ("x-extdb-instance-id", context.instance_id.as_str()),
        ("x-extdb-identity-type", "MEMBER"),
        ("x-extdb-identity-id", identity.id.as_str()),
    ] {
        let value = AsciiMetadataValue::try_from(value).map_err(|e| format!("{key}: {e}"))?;
        map.insert(key, value);
    }
    Ok(map)
}

/// One call on each path: both must succeed and hold what the scenario
/// expects, so that a fast benchmark of wrong answers cannot pass. Two
/// sidecar paths (`Compare::Aip`) must also answer items with the same keys.
async fn check_answers(
    scenario: Scenario,
    sidecar: &Target,
    baseline: &Target,
    real_store: bool,
) -> Result<(), String> {
    let body = driver::fetch_once(sidecar, 0)
        .await
        .map_err(|e| format!("sidecar: {e}"))?;
    let (sidecar_len, sidecar_keys) =
        json_answer(scenario, &body).map_err(|e| format!("sidecar: {e}"))?;
    let body = driver::fetch_once(baseline, 0)
        .await
        .map_err(|e| format!("baseline: {e}"))?;
    let baseline_len = match baseline {
        Target::Sidecar { .. } => {
            let (len, keys) = json_answer(scenario, &body).map_err(|e| format!("baseline: {e}"))?;
            if keys != sidecar_keys {
                return Err(format!(
                    "the items differ in their keys: {sidecar_keys:?} vs the baseline's {keys:?}"
                ));
            }
            len
        }
        Target::Direct { .. } => grpc_answer_len(scenario, body)?,
    };
    if sidecar_len != baseline_len {
        return Err(format!(
            "the sidecar answered {sidecar_len:?} entries, the baseline {baseline_len:?}"
        ));
    }
    match (scenario.expected_len(real_store), sidecar_len) {
        (Some(expected), Some(got)) if expected != got => {
            Err(format!("expected {expected} entries, got {got}"))
        }
        (None, _) if real_store && scenario == Scenario::Aggregate => match sidecar_len {
            Some(0) => Err("the aggregation returned no groups".into()),
            _ => Ok(()),
        },
        _ => Ok(()),
    }
}

/// A sidecar answer's entry count (`None` for count) and its first item's
/// keys (empty when it has none).
fn json_answer(scenario: Scenario, body: &[u8]) -> Result<(Option<usize>, Vec<String>), String> {
    let json: Value =
        serde_json::from_slice(body).map_err(|e| format!("the answer is not JSON: {e}"))?;
    let len = match scenario {
        Scenario::Count => json
            .get("totalCount")
            .and_then(Value::as_u64)
            .map(|_| None)
            .ok_or("the answer has no totalCount")?,
        Scenario::InsertOne | Scenario::InsertMany => {
            let results = json
                .get("results")
                .and_then(Value::as_array)
                .ok_or("the answer has no results")?;
            if let Some(bad) = results.iter().find(|r| r.get("item").is_none()) {
                return Err(format!("an insert failed: {bad}"));
            }
            Some(results.len())
        }
        _ => Some(
            json.get("items")
                .and_then(Value::as_array)
                .ok_or("the answer has no items")?
                .len(),
        ),
    };
    let mut keys: Vec<String> = json
        .pointer("/items/0")
        .and_then(Value::as_object)
        .map(|item| item.keys().cloned().collect())
        .unwrap_or_default();
    keys.sort();
    Ok((len, keys))
}

/// A direct (contract) answer's entry count (`None` for count).
fn grpc_answer_len(scenario: Scenario, body: Bytes) -> Result<Option<usize>, String> {
    let decode_err = |e: prost::DecodeError| format!("direct answer: {e}");
    Ok(match scenario {
        Scenario::QueryOne | Scenario::QueryPage => Some(
            pb::QueryItemsResponse::decode(body)
                .map_err(decode_err)?
                .items
                .len(),
        ),
        Scenario::Count => {
            pb::CountItemsResponse::decode(body).map_err(decode_err)?;
            None
        }
        Scenario::InsertOne | Scenario::InsertMany => Some(
            pb::InsertItemsResponse::decode(body)
                .map_err(decode_err)?
                .results
                .len(),
        ),
        Scenario::Aggregate => Some(
            pb::AggregateItemsResponse::decode(body)
                .map_err(decode_err)?
                .rows
                .len(),
        ),
    })
}

/// Creates the benchmark collection (if missing) and seeds it with `count`
/// items through the contract, so any implementation of it can be
/// benchmarked.
pub(crate) async fn seed(
    channel: &Channel,
    count: usize,
    progress: &mut dyn FnMut(&str),
) -> Result<(), String> {
    use extdb_contract::pb::external_database_client::ExternalDatabaseClient;
    let mut client = ExternalDatabaseClient::new(channel.clone());
    let context = Some(scenarios::call_context(0, AUDIENCE));
    let existing = client
        .count_items(pb::CountItemsRequest {
            context: context.clone(),
            collection_id: scenarios::COLLECTION.into(),
            ..Default::default()
        })
        .await;
    let have = match existing {
        Ok(r) => r.into_inner().total_count as usize,
        Err(s) if s.code() == tonic::Code::NotFound => {
            client
                .create_collection(pb::CreateCollectionRequest {
                    context: context.clone(),
                    collection: Some(scenarios::collection()),
                })
                .await
                .map_err(|s| format!("CreateCollection: {:?} {}", s.code(), s.message()))?;
            0
        }
        Err(s) => return Err(format!("CountItems: {:?} {}", s.code(), s.message())),
    };
    if have >= count {
        return Ok(());
    }
    progress(&format!("seeding {count} items"));
    for chunk in (0..count).collect::<Vec<_>>().chunks(500) {
        let items = chunk
            .iter()
            .map(|&n| scenarios::to_pb_item(&scenarios::stored_book(n)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        let answer = client
            .insert_items(pb::InsertItemsRequest {
                context: context.clone(),
                collection_id: scenarios::COLLECTION.into(),
                items,
            })
            .await
            .map_err(|s| format!("InsertItems: {:?} {}", s.code(), s.message()))?
            .into_inner();
        // A re-run finds its seed items already there: that is fine.
        if let Some(pb::item_result::Result::Error(e)) = answer
            .results
            .iter()
            .filter_map(|r| r.result.clone())
            .find(|r| matches!(r, pb::item_result::Result::Error(e) if e.reason != "ITEM_ALREADY_EXISTS"))
        {
            return Err(format!("seeding: {} {}", e.reason, e.message));
        }
    }
    Ok(())
}

/// Creates the index query-page's filter and sort can use (see
/// [`Plan::page_index`]); one that already exists is fine.
async fn create_page_index(
    channel: &Channel,
    progress: &mut dyn FnMut(&str),
) -> Result<(), String> {
    use extdb_contract::pb::external_database_client::ExternalDatabaseClient;
    progress("creating the index (genre ASC, pages DESC)");
    let field = |path: &str, order: pb::SortOrder| pb::IndexField {
        path: path.into(),
        order: order as i32,
    };
    let created = ExternalDatabaseClient::new(channel.clone())
        .create_index(pb::CreateIndexRequest {
            context: Some(scenarios::call_context(0, AUDIENCE)),
            collection_id: scenarios::COLLECTION.into(),
            index: Some(pb::Index {
                name: "loadgen_genre_pages".into(),
                fields: vec![
                    field("genre", pb::SortOrder::Asc),
                    field("pages", pb::SortOrder::Desc),
                ],
                ..Default::default()
            }),
        })
        .await;
    match created {
        Ok(answer) => match answer.into_inner().index.and_then(|i| i.failure) {
            Some(failure) => Err(format!(
                "CreateIndex: {} {}",
                failure.error_code, failure.message
            )),
            None => Ok(()),
        },
        Err(s) if s.code() == tonic::Code::AlreadyExists => Ok(()),
        Err(s) => Err(format!("CreateIndex: {:?} {}", s.code(), s.message())),
    }
}

/// What the sidecar's `backend` upstream is.
#[derive(Clone, Copy)]
pub(crate) enum Backend<'a> {
    /// A gRPC server at this endpoint.
    Grpc(&'a str),
    /// `kind: embedded` on this database file.
    Embedded(&'a std::path::Path),
    /// `kind: embedded` on this PostgreSQL database and schema.
    EmbeddedOnPostgres { url: &'a str, schema: &'a str },
}

/// The sidecar's config for the load generator: the test key, one upstream
/// (`backend`) with its deadline and connect timeout, the default for
/// every collection; `more_upstreams` are added under `upstreams:`
/// (indented by two spaces).
pub(crate) fn sidecar_yaml(
    public_key_base64: &str,
    backend: Backend<'_>,
    timeout: Duration,
    connect_timeout: Duration,
    more_upstreams: &str,
) -> String {
    let backend = match backend {
        Backend::Grpc(endpoint) => format!("endpoint: {endpoint}"),
        Backend::Embedded(db) => format!("kind: embedded\n    db_path: \"{}\"", db.display()),
        Backend::EmbeddedOnPostgres { url, schema } => format!(
            "kind: embedded\n    database: \"{url}\"\n    postgres:\n      schema: \"{schema}\""
        ),
    };
    format!(
        r#"listen: 127.0.0.1:0
auth:
  v3:
    keys:
      - public_key: "{public_key_base64}"
    audiences: ["{AUDIENCE}"]
upstreams:
  backend:
    {backend}
    timeout_ms: {timeout_ms}
    connect_timeout_ms: {connect_timeout_ms}
{more_upstreams}default_upstream: backend
# Ephemeral, so that sidecars of concurrent runs (tests) do not collide.
admin:
  listen: 127.0.0.1:0
"#,
        timeout_ms = timeout.as_millis().max(1),
        connect_timeout_ms = connect_timeout.as_millis().max(1),
    )
}

/// The `kind: aip` upstream (`library`) of the comparison: the canned
/// library at `endpoint`, descriptors from the set at `descriptor_set`, and
/// AIP_COLLECTION mapping a Book field for each field of the contract's
/// items (`_owner` from `shelf_code`), with the filter operators and the
/// sort of query-page; the same deadlines as `backend`.
fn aip_upstream_yaml(endpoint: &str, descriptor_set: &std::path::Path) -> String {
    format!(
        r#"  library:
    kind: aip
    endpoint: {endpoint}
    timeout_ms: 5000
    connect_timeout_ms: 1000
    aip:
      descriptors:
        descriptor_set: "{descriptor_set}"
      collections:
        {AIP_COLLECTION}:
          service: {service}
          parent: {{shelf: {shelf}}}
          fields:
            title: {{}}
            author: {{}}
            genre: {{filter: [eq]}}
            pages: {{path: page_count, sortable: true, filter: [gte]}}
            price: {{path: rating}}
            inStock: {{path: available}}
            published: {{path: publish_time}}
            tags: {{}}
            _owner: {{path: shelf_code}}
            _createdDate: {{path: create_time}}
            _updatedDate: {{path: update_time}}
"#,
        descriptor_set = descriptor_set.display(),
        service = super::canned::library::SERVICE,
        shelf = super::canned::library::SHELF,
    )
}

// ------------------------------------------------------------ processes

/// A server running on its own thread and runtime, stopped on drop.
pub(crate) struct ServerThread {
    pub(crate) addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ServerThread {
    /// Binds a loopback port on a new `threads`-worker runtime and serves
    /// `serve(listener, shutdown)` there.
    fn spawn<F, Fut>(name: &str, threads: usize, serve: F) -> Result<ServerThread, String>
    where
        F: FnOnce(TcpListener, oneshot::Receiver<()>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), String>>,
    {
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = oneshot::channel();
        let thread_name = name.to_owned();
        let thread = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                let runtime = if threads <= 1 {
                    tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                } else {
                    tokio::runtime::Builder::new_multi_thread()
                        .worker_threads(threads)
                        .thread_name(thread_name.clone())
                        .enable_all()
                        .build()
                };
                let runtime = match runtime {
                    Ok(r) => r,
                    Err(e) => {
                        let _ = addr_tx.send(Err(format!("{thread_name}: runtime: {e}")));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let listener = match TcpListener::bind("127.0.0.1:0").await {
                        Ok(l) => l,
                        Err(e) => {
                            let _ = addr_tx.send(Err(format!("{thread_name}: bind: {e}")));
                            return;
                        }
                    };
                    let _ = addr_tx.send(listener.local_addr().map_err(|e| e.to_string()));
                    if let Err(e) = serve(listener, stopped).await {
                        eprintln!("{thread_name}: {e}");
                    }
                });
            })
            .map_err(|e| format!("{name}: cannot start a thread: {e}"))?;
        let addr = addr_rx
            .recv_timeout(START_TIMEOUT)
            .map_err(|_| format!("{name} did not start"))??;
        Ok(ServerThread {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl ServerThread {
    /// Stops the server and waits for its thread (idempotent).
    fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for ServerThread {
    fn drop(&mut self) {
        self.stop();
    }
}

enum Upstream {
    Canned(ServerThread),
    Store {
        server: ServerThread,
        /// The database file, in `_dir` (removed when dropped).
        db: PathBuf,
        /// The PostgreSQL schema, when the store is on PostgreSQL.
        pg_schema: Option<String>,
        _dir: tempfile::TempDir,
    },
    External(String),
}

impl Upstream {
    fn endpoint(&self) -> String {
        match self {
            Upstream::Canned(t) | Upstream::Store { server: t, .. } => format!("http://{}", t.addr),
            Upstream::External(url) => url.clone(),
        }
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        if let Upstream::Store { server, .. } = self {
            // The database files go (with `_dir`, dropped after this) once
            // the server no longer uses them.
            server.stop();
        }
    }
}

/// The reference store on a fresh SQLite file, or on a fresh schema of the
/// PostgreSQL database at `postgres` (left behind: use a throwaway
/// database).
fn start_store(postgres: Option<&str>) -> Result<Upstream, String> {
    // A directory of its own: runs in one process (tests) do not share it.
    let dir = tempfile::Builder::new()
        .prefix("extdb-loadgen-store-")
        .tempdir()
        .map_err(|e| format!("temp dir: {e}"))?;
    let db = dir.path().join("bench.db");
    let pg_schema = postgres.map(|_| {
        let started = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        format!("loadgen_{started}_{}", std::process::id())
    });
    let store = match postgres {
        Some(url) => {
            let options = extdb_store::PostgresOptions {
                schema: pg_schema.clone(),
                ..extdb_store::PostgresOptions::default()
            };
            extdb_store::ReferenceStore::connect_postgres(url, &options)
        }
        None => extdb_store::ReferenceStore::open(&db),
    }
    .map_err(|e| format!("reference store: {e}"))?;
    // One worker thread like the canned backend; SQLite work runs where
    // the store puts it.
    let server = ServerThread::spawn("reference-store", 1, move |listener, stopped| async move {
        extdb_store::serve_store(store, listener, async {
            let _ = stopped.await;
        })
        .await
        .map_err(|e| e.to_string())
    })?;
    Ok(Upstream::Store {
        server,
        db,
        pg_schema,
        _dir: dir,
    })
}

pub(crate) fn start_canned() -> Result<ServerThread, String> {
    // One thread: it answers prebuilt bytes, and should take as little of
    // the machine from the paths under test as it can.
    ServerThread::spawn("canned-backend", 1, |listener, stopped| {
        super::canned::serve_canned(listener, async {
            let _ = stopped.await;
        })
    })
}

fn start_canned_library() -> Result<ServerThread, String> {
    // One thread, as the canned contract backend.
    ServerThread::spawn("canned-library", 1, |listener, stopped| {
        super::canned::library::serve_canned_library(listener, async {
            let _ = stopped.await;
        })
    })
}

/// The sidecar under test, in this process or as a child process.
pub(crate) struct Sidecar {
    pub(crate) addr: SocketAddr,
    kind: SidecarRun,
}

enum SidecarRun {
    Process { child: Child, dir: PathBuf },
    InProcess(ServerThread),
}

impl Sidecar {
    pub(crate) async fn start(choice: &SidecarChoice, yaml: &str) -> Result<Sidecar, String> {
        match choice {
            SidecarChoice::InProcess => {
                let config = Config::from_yaml(yaml, &HashMap::<String, String>::new())
                    .map_err(|e| e.to_string())?;
                // app::start binds its own listener; the one ServerThread
                // bound is only used to learn a free port.
                let (addr_tx, addr_rx) = std::sync::mpsc::channel();
                let thread = ServerThread::spawn("sidecar", 2, move |listener, stopped| {
                    let mut config = config;
                    async move {
                        config.listen = listener.local_addr().map_err(|e| e.to_string())?;
                        drop(listener);
                        let running = extdb_bridge::app::start(&config, async {
                            let _ = stopped.await;
                        })
                        .await
                        .map_err(|e| e.to_string());
                        match running {
                            Ok(r) => {
                                let _ = addr_tx.send(Ok(r.addr));
                                let _ = r.task.await;
                                Ok(())
                            }
                            Err(e) => {
                                let _ = addr_tx.send(Err(e.clone()));
                                Err(e)
                            }
                        }
                    }
                })?;
                let addr = addr_rx
                    .recv_timeout(START_TIMEOUT)
                    .map_err(|_| "the in-process sidecar did not start".to_owned())??;
                Ok(Sidecar {
                    addr,
                    kind: SidecarRun::InProcess(thread),
                })
            }
            SidecarChoice::Process { bin, log } => {
                let bin = match bin {
                    Some(b) => b.clone(),
                    None => std::env::current_exe()
                        .map_err(|e| e.to_string())?
                        .with_file_name("extdb-bridge"),
                };
                let port = {
                    let probe = std::net::TcpListener::bind("127.0.0.1:0")
                        .map_err(|e| format!("cannot find a free port: {e}"))?;
                    probe.local_addr().map_err(|e| e.to_string())?.port()
                };
                let addr = SocketAddr::from(([127, 0, 0, 1], port));
                let dir = std::env::temp_dir()
                    .join(format!("extdb-loadgen-{}-{port}", std::process::id()));
                std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
                let config_path = dir.join("sidecar.yaml");
                // The sidecar's own listener comes first; the admin one stays
                // ephemeral.
                std::fs::write(
                    &config_path,
                    yaml.replacen("127.0.0.1:0", &addr.to_string(), 1),
                )
                .map_err(|e| format!("{}: {e}", config_path.display()))?;
                let stderr_path = dir.join("sidecar.stderr");
                let stderr = std::fs::File::create(&stderr_path)
                    .map_err(|e| format!("{}: {e}", stderr_path.display()))?;
                let child = Command::new(&bin)
                    .arg("--config")
                    .arg(&config_path)
                    .env("RUST_LOG", log)
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(stderr)
                    .spawn()
                    .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
                let mut sidecar = Sidecar {
                    addr,
                    kind: SidecarRun::Process { child, dir },
                };
                sidecar.wait_until_listening(&stderr_path).await?;
                Ok(sidecar)
            }
        }
    }

    async fn wait_until_listening(&mut self, stderr_path: &std::path::Path) -> Result<(), String> {
        let deadline = tokio::time::Instant::now() + START_TIMEOUT;
        loop {
            if tokio::net::TcpStream::connect(self.addr).await.is_ok() {
                // Let start-up allocations settle before reading idle RSS.
                tokio::time::sleep(Duration::from_millis(300)).await;
                return Ok(());
            }
            if let SidecarRun::Process { child, .. } = &mut self.kind
                && let Ok(Some(status)) = child.try_wait()
            {
                let stderr = std::fs::read_to_string(stderr_path).unwrap_or_default();
                return Err(format!("the sidecar exited ({status}): {stderr}"));
            }
            if tokio::time::Instant::now() > deadline {
                return Err(format!("the sidecar did not listen on {}", self.addr));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn pid(&self) -> Option<u32> {
        match &self.kind {
            SidecarRun::Process { child, .. } => Some(child.id()),
            SidecarRun::InProcess(_) => None,
        }
    }

    pub(crate) fn stop(self) {
        match self.kind {
            SidecarRun::Process { mut child, dir } => {
                // SIGTERM first so the sidecar shuts down as in production
                // (and a profiler wrapping it writes its output); SIGKILL
                // if it has not exited within 5 s. Only our own child, by
                // its pid.
                let _ = Command::new("kill")
                    .arg("-TERM")
                    .arg(child.id().to_string())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
                let deadline = std::time::Instant::now() + Duration::from_secs(5);
                while matches!(child.try_wait(), Ok(None)) && std::time::Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(20));
                }
                let _ = child.kill();
                let _ = child.wait();
                let _ = std::fs::remove_dir_all(dir);
            }
            SidecarRun::InProcess(thread) => drop(thread),
        }
    }
}

/// A `kB` line of /proc/PID/status (VmRSS, VmHWM), in KiB.
pub fn proc_status_kib(pid: u32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|line| {
        let rest = line.strip_prefix(key)?.strip_prefix(':')?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

/// User plus system CPU time of a process, from /proc/PID/stat.
pub fn proc_cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may contain spaces: fields are counted
    // after its closing parenthesis. utime and stime are fields 14 and 15.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    // Linux reports these in USER_HZ, which is 100 on every architecture
    // it exposes to user space.
    Some(Duration::from_millis((utime + stime) * 10))
}
