//! `extdb-loadgen --chaos`: the sidecar under a steady request rate while
//! its backend, a separate `extdb-store` process, is paused (SIGSTOP),
//! resumed, killed (SIGKILL) and restarted on the same port and database
//! file (issue 9, item 5). Prints the HTTP statuses per phase and fails
//! when an answer is one a backend fault must never produce, or when
//! requests do not succeed again once the backend is back.
//!
//! Verdict (see [`ChaosReport::failures`]):
//! * 503 and 504 are the right answers while the backend is paused or down
//!   (unavailable / deadline exceeded): Wix retries them.
//! * Any other 5xx (500 above all) fails the run: a backend fault is not a
//!   bug of the sidecar. So does 429: a backend's reset-flood protection
//!   tripped by the sidecar's own cancellations is not the caller's
//!   overload.
//! * A request the sidecar never answers (connection refused or reset, no
//!   answer within [`CLIENT_TIMEOUT`]) fails the run.
//! * Every request of the first (steady) phase must succeed, or the set-up
//!   is broken; and every request sent in the last [`RECOVERY_WINDOW`] of
//!   the phases after SIGCONT and after the restart must succeed: the
//!   sidecar reconnects by itself.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use serde_json::Value;
use tokio::time::Instant;

use super::harness::{self, AUDIENCE, Sidecar, SidecarChoice};
use super::scenarios::{self, Scenario};
use extdb_auth::{RequestSigner, request_claims};

/// Longest the client waits for the sidecar's answer. Far above the
/// upstream deadline the chaos config sets, so only a sidecar that hangs
/// reaches it.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(15);
/// The tail of a recovery phase in which every request must succeed.
pub const RECOVERY_WINDOW: Duration = Duration::from_secs(1);
/// Items seeded before the run (the reads find some of them).
const SEED_ITEMS: usize = 200;
/// How long the store process may take to accept connections.
const STORE_START_TIMEOUT: Duration = Duration::from_secs(15);

/// What a chaos run does.
#[derive(Debug, Clone)]
pub struct ChaosPlan {
    /// Requests per second, offered whatever the answers' speed (open loop:
    /// a stalled backend does not slow the offered load down).
    pub rate: f64,
    /// Length of the steady phases (before the pause, after SIGCONT, after
    /// the restart).
    pub steady: Duration,
    /// How long the store stays stopped (SIGSTOP).
    pub pause: Duration,
    /// How long the store stays dead after SIGKILL before it is restarted.
    pub down: Duration,
    /// The sidecar's upstream deadline (`timeout_ms`): shorter than the
    /// pause, so that calls time out and are cancelled while it lasts.
    pub upstream_timeout: Duration,
    /// `extdb-store`; default: next to this executable.
    pub store_bin: Option<PathBuf>,
    pub sidecar: SidecarChoice,
}

impl ChaosPlan {
    /// The documented run: 50 req/s, 3 s phases, 2 s down, 1 s deadline.
    pub fn standard(sidecar: SidecarChoice) -> ChaosPlan {
        ChaosPlan {
            rate: 50.0,
            steady: Duration::from_secs(3),
            pause: Duration::from_secs(3),
            down: Duration::from_secs(2),
            upstream_timeout: Duration::from_secs(1),
            store_bin: None,
            sidecar,
        }
    }
}

/// The phases of a run, in order, and what starts each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Steady,
    Paused,
    Resumed,
    Killed,
    Restarted,
}

impl Phase {
    pub const ALL: [Phase; 5] = [
        Phase::Steady,
        Phase::Paused,
        Phase::Resumed,
        Phase::Killed,
        Phase::Restarted,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Phase::Steady => "steady",
            Phase::Paused => "store paused (SIGSTOP)",
            Phase::Resumed => "resumed (SIGCONT)",
            Phase::Killed => "store killed (SIGKILL)",
            Phase::Restarted => "store restarted",
        }
    }

    fn length(self, plan: &ChaosPlan) -> Duration {
        match self {
            Phase::Steady | Phase::Resumed | Phase::Restarted => plan.steady,
            Phase::Paused => plan.pause,
            Phase::Killed => plan.down,
        }
    }

    /// Phases whose tail must be all successes.
    fn must_recover(self) -> bool {
        matches!(self, Phase::Resumed | Phase::Restarted)
    }
}

/// One request's fate.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub phase: usize,
    /// When it was sent, from the start of its phase.
    pub at: Duration,
    /// When its answer (or failure) came, from the start of its phase: a
    /// request still in flight when the next fault starts shares that
    /// fault's fate, so the success checks skip it.
    pub done: Duration,
    pub write: bool,
    /// The HTTP status, or why there was none.
    pub status: Result<u16, String>,
    /// `errorCode` and `errorMessage` of a failed answer (cut short).
    pub detail: Option<String>,
}

/// Statuses counted per phase.
#[derive(Debug, Clone, Default)]
pub struct PhaseCounts {
    pub statuses: BTreeMap<u16, u64>,
    pub no_answer: u64,
    pub writes: u64,
    pub requests: u64,
    /// The first failing answer of each status (examples).
    pub examples: Vec<(Outcome, String)>,
}

pub struct ChaosReport {
    pub plan: ChaosPlan,
    pub outcomes: Vec<Outcome>,
    /// Durations of the phases as they actually ran.
    pub phase_lengths: Vec<Duration>,
}

/// Whether a status may be answered while the backend is faulty.
pub fn acceptable_status(status: u16) -> bool {
    status < 500 && status != 429 || status == 503 || status == 504
}

impl ChaosReport {
    pub fn counts(&self) -> Vec<PhaseCounts> {
        let mut counts = vec![PhaseCounts::default(); Phase::ALL.len()];
        for o in &self.outcomes {
            let Some(c) = counts.get_mut(o.phase) else {
                continue;
            };
            c.requests += 1;
            c.writes += u64::from(o.write);
            let bad = match &o.status {
                Ok(s) => {
                    *c.statuses.entry(*s).or_default() += 1;
                    !acceptable_status(*s)
                }
                Err(_) => {
                    c.no_answer += 1;
                    true
                }
            };
            // One example per distinct failing status.
            let seen = |e: &Outcome| match (&e.status, &o.status) {
                (Ok(a), Ok(b)) => a == b,
                (Err(_), Err(_)) => true,
                _ => false,
            };
            if bad && !c.examples.iter().any(|(e, _)| seen(e)) {
                c.examples.push((o.clone(), describe(o)));
            }
        }
        counts
    }

    /// Why the run failed; empty when it passed.
    pub fn failures(&self) -> Vec<String> {
        let mut failures = Vec::new();
        let counts = self.counts();
        for (phase, c) in Phase::ALL.iter().zip(&counts) {
            let bad: u64 = c
                .statuses
                .iter()
                .filter(|(s, _)| !acceptable_status(**s))
                .map(|(_, n)| n)
                .sum();
            if bad > 0 {
                failures.push(format!(
                    "{}: {bad} answers with a status a backend fault must not produce (e.g. {})",
                    phase.name(),
                    c.examples.first().map(|(_, d)| d.as_str()).unwrap_or("?")
                ));
            }
            if c.no_answer > 0 {
                failures.push(format!(
                    "{}: {} requests got no answer from the sidecar",
                    phase.name(),
                    c.no_answer
                ));
            }
            if c.requests == 0 {
                failures.push(format!("{}: no requests were sent", phase.name()));
            }
        }
        let ok = |o: &&Outcome| matches!(o.status, Ok(s) if (200..300).contains(&s));
        let length = |phase: usize| self.phase_lengths.get(phase).copied().unwrap_or_default();
        let steady: Vec<&Outcome> = self
            .outcomes
            .iter()
            .filter(|o| o.phase == 0 && o.done <= length(0))
            .collect();
        if let Some(bad) = steady.iter().find(|o| !ok(o)) {
            failures.push(format!(
                "{}: failed before any fault (set-up broken?): {}",
                Phase::Steady.name(),
                describe(bad)
            ));
        }
        for (index, phase) in Phase::ALL.iter().enumerate() {
            if !phase.must_recover() {
                continue;
            }
            let end = length(index);
            let from = end.saturating_sub(RECOVERY_WINDOW);
            let tail: Vec<&Outcome> = self
                .outcomes
                .iter()
                .filter(|o| o.phase == index && o.at >= from && o.done <= end)
                .collect();
            let failed = tail.iter().filter(|o| !ok(o)).count();
            if tail.is_empty() || failed > 0 {
                failures.push(format!(
                    "{}: not recovered: {failed} of the {} requests answered in its last {} s failed{}",
                    phase.name(),
                    tail.len(),
                    RECOVERY_WINDOW.as_secs_f64(),
                    tail.iter()
                        .find(|o| !ok(o))
                        .map(|o| format!(" (e.g. {})", describe(o)))
                        .unwrap_or_default()
                ));
            }
        }
        failures
    }

    /// The per-phase table, Markdown.
    pub fn to_markdown(&self) -> String {
        let counts = self.counts();
        let mut statuses: Vec<u16> = counts
            .iter()
            .flat_map(|c| c.statuses.keys().copied())
            .collect();
        statuses.sort_unstable();
        statuses.dedup();
        let mut out = String::new();
        let _ = write!(out, "| phase | length | requests (writes) |");
        for s in &statuses {
            let _ = write!(out, " {s} |");
        }
        let _ = writeln!(out, " no answer |");
        let _ = write!(out, "|---|---|---|");
        for _ in &statuses {
            let _ = write!(out, "---|");
        }
        let _ = writeln!(out, "---|");
        for ((phase, c), length) in Phase::ALL.iter().zip(&counts).zip(&self.phase_lengths) {
            let _ = write!(
                out,
                "| {} | {:.1} s | {} ({}) |",
                phase.name(),
                length.as_secs_f64(),
                c.requests,
                c.writes
            );
            for s in &statuses {
                let n = c.statuses.get(s).copied().unwrap_or(0);
                let _ = write!(out, " {n} |");
            }
            let _ = writeln!(out, " {} |", c.no_answer);
        }
        let examples: Vec<String> = Phase::ALL
            .iter()
            .zip(&counts)
            .flat_map(|(p, c)| {
                c.examples
                    .iter()
                    .map(move |(_, e)| format!("{}: {e}", p.name()))
            })
            .collect();
        if !examples.is_empty() {
            let _ = writeln!(out, "\nExamples of failing answers:\n");
            for e in examples {
                let _ = writeln!(out, "- {e}");
            }
        }
        out
    }
}

fn describe(o: &Outcome) -> String {
    let kind = if o.write { "write" } else { "read" };
    match &o.status {
        Ok(s) => format!(
            "{kind} sent at +{:.2} s, answered at +{:.2} s: HTTP {s} {}",
            o.at.as_secs_f64(),
            o.done.as_secs_f64(),
            o.detail.as_deref().unwrap_or("")
        ),
        Err(e) => format!(
            "{kind} sent at +{:.2} s: no answer at +{:.2} s: {e}",
            o.at.as_secs_f64(),
            o.done.as_secs_f64()
        ),
    }
}

// ------------------------------------------------------------ the store process

/// `extdb-store` as a child process, killed (by its pid) when dropped.
struct StoreProcess {
    bin: PathBuf,
    db: PathBuf,
    addr: SocketAddr,
    log: PathBuf,
    child: Option<Child>,
}

impl StoreProcess {
    fn start(bin: PathBuf, db: PathBuf, addr: SocketAddr, log: PathBuf) -> StoreProcess {
        StoreProcess {
            bin,
            db,
            addr,
            log,
            child: None,
        }
    }

    /// (Re)starts the process on the same address and database file and
    /// waits until it accepts connections.
    async fn spawn(&mut self) -> Result<(), String> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .map_err(|e| format!("{}: {e}", self.log.display()))?;
        let child = Command::new(&self.bin)
            .arg("--db")
            .arg(&self.db)
            .arg("--listen")
            .arg(self.addr.to_string())
            .env("RUST_LOG", "warn")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", self.bin.display()))?;
        self.child = Some(child);
        let deadline = Instant::now() + STORE_START_TIMEOUT;
        loop {
            if tokio::net::TcpStream::connect(self.addr).await.is_ok() {
                return Ok(());
            }
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                let log = std::fs::read_to_string(&self.log).unwrap_or_default();
                return Err(format!("extdb-store exited ({status}): {log}"));
            }
            if Instant::now() > deadline {
                return Err(format!("extdb-store did not listen on {}", self.addr));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Sends a signal with the `kill` command, to our own child only.
    fn signal(&self, signal: &str) -> Result<(), String> {
        let pid = self
            .child
            .as_ref()
            .map(Child::id)
            .ok_or("extdb-store is not running")?;
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(pid.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(|e| format!("kill -{signal} {pid}: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("kill -{signal} {pid}: {status}"))
        }
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SIGKILL works on a stopped process too.
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for StoreProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A private temp directory, removed on drop.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn free_port() -> Result<SocketAddr, String> {
    let probe = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| format!("cannot find a free port: {e}"))?;
    probe.local_addr().map_err(|e| e.to_string())
}

// ------------------------------------------------------------ the run

/// Runs `plan`; `progress` gets a line per phase.
pub async fn run(plan: &ChaosPlan, progress: &mut dyn FnMut(&str)) -> Result<ChaosReport, String> {
    let dir = std::env::temp_dir().join(format!("extdb-loadgen-chaos-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let dir = TempDir(dir);
    let bin = match &plan.store_bin {
        Some(b) => b.clone(),
        None => std::env::current_exe()
            .map_err(|e| e.to_string())?
            .with_file_name("extdb-store"),
    };
    let store_addr = free_port()?;
    let mut store = StoreProcess::start(
        bin,
        dir.0.join("chaos.sqlite"),
        store_addr,
        dir.0.join("extdb-store.log"),
    );
    store.spawn().await?;
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{store_addr}"))
        .map_err(|e| e.to_string())?
        .connect()
        .await
        .map_err(|e| format!("cannot connect to extdb-store: {e}"))?;
    harness::seed(&channel, SEED_ITEMS, &mut |_| {}).await?;

    let pair = extdb_bridge::devtools::generate_key_pair().map_err(|e| e.to_string())?;
    let signer = RequestSigner::from_pem(&pair.private_pem).map_err(|e| e.to_string())?;
    let yaml = harness::sidecar_yaml(
        &pair.public_base64,
        harness::Backend::Grpc(&format!("http://{store_addr}")),
        plan.upstream_timeout,
        Duration::from_millis(500),
        "",
    );
    let sidecar = Sidecar::start(&plan.sidecar, &yaml).await?;

    let result = drive(plan, sidecar.addr, Arc::new(signer), &mut store, progress).await;
    sidecar.stop();
    store.kill();
    let (outcomes, phase_lengths) = result?;
    Ok(ChaosReport {
        plan: plan.clone(),
        outcomes,
        phase_lengths,
    })
}

/// The request mix: one write in four.
fn scenario_of(seq: usize) -> Scenario {
    match seq % 4 {
        0 => Scenario::InsertOne,
        1 => Scenario::QueryOne,
        2 => Scenario::QueryPage,
        _ => Scenario::Count,
    }
}

type Outcomes = Arc<Mutex<Vec<Outcome>>>;

/// Offers the load and runs the phases; returns every outcome and the
/// phases' actual lengths.
async fn drive(
    plan: &ChaosPlan,
    sidecar: SocketAddr,
    signer: Arc<RequestSigner>,
    store: &mut StoreProcess,
    progress: &mut dyn FnMut(&str),
) -> Result<(Vec<Outcome>, Vec<Duration>), String> {
    let outcomes: Outcomes = Arc::new(Mutex::new(Vec::new()));
    let interval = Duration::from_secs_f64(1.0 / plan.rate.max(0.1));
    let mut tasks = Vec::new();
    let mut phase_lengths = Vec::new();
    let mut seq = 0usize;
    for (index, phase) in Phase::ALL.iter().enumerate() {
        // The fault that starts the phase.
        match phase {
            Phase::Steady => {}
            Phase::Paused => store.signal("STOP")?,
            Phase::Resumed => store.signal("CONT")?,
            Phase::Killed => store.kill(),
            // The restart counts in the phase: requests sent while the
            // store starts are part of the recovery.
            Phase::Restarted => {}
        }
        let start = Instant::now();
        if *phase == Phase::Restarted {
            store.spawn().await?;
        }
        let end = start + phase.length(plan);
        let mut next = start;
        while next < end {
            tokio::time::sleep_until(next).await;
            let outcomes = outcomes.clone();
            let signer = signer.clone();
            let this = seq;
            tasks.push(tokio::spawn(async move {
                let outcome = one_request(sidecar, &signer, this, index, start).await;
                if let Ok(mut all) = outcomes.lock() {
                    all.push(outcome);
                }
            }));
            seq += 1;
            next += interval;
        }
        let length = start.elapsed();
        phase_lengths.push(length);
        progress(&format!(
            "phase {:<24} {:.1} s, {} requests sent so far",
            phase.name(),
            length.as_secs_f64(),
            seq
        ));
    }
    for task in tasks {
        let _ = task.await;
    }
    let outcomes = match Arc::try_unwrap(outcomes) {
        Ok(m) => m.into_inner().unwrap_or_default(),
        Err(shared) => shared.lock().map(|v| v.clone()).unwrap_or_default(),
    };
    Ok((outcomes, phase_lengths))
}

/// One signed request on a fresh connection (so a fault never hides
/// behind a connection the client reuses).
async fn one_request(
    sidecar: SocketAddr,
    signer: &RequestSigner,
    seq: usize,
    phase: usize,
    phase_start: Instant,
) -> Outcome {
    let scenario = scenario_of(seq);
    let write = matches!(scenario, Scenario::InsertOne | Scenario::InsertMany);
    let mut outcome = Outcome {
        phase,
        at: phase_start.elapsed(),
        done: Duration::ZERO,
        write,
        status: Err(String::new()),
        detail: None,
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let claims = request_claims(
        scenario.request(seq),
        scenarios::metadata(seq),
        AUDIENCE,
        now,
        600,
    );
    let token = match signer.sign(&claims, None) {
        Ok(t) => t,
        Err(e) => {
            outcome.status = Err(format!("signing: {e}"));
            return outcome;
        }
    };
    let call = async {
        let mut sender = super::driver::connect_http(sidecar).await?;
        let (status, body) =
            super::driver::post_token(&mut sender, scenario.endpoint().path(), Bytes::from(token))
                .await?;
        Ok::<_, String>((status.as_u16(), body))
    };
    match tokio::time::timeout(CLIENT_TIMEOUT, call).await {
        Err(_) => outcome.status = Err(format!("no answer within {CLIENT_TIMEOUT:?}")),
        Ok(Err(e)) => outcome.status = Err(e),
        Ok(Ok((status, body))) => {
            outcome.status = Ok(status);
            if !(200..300).contains(&status) {
                outcome.detail = Some(error_detail(&body));
            }
        }
    }
    outcome.done = phase_start.elapsed();
    outcome
}

/// `errorCode: errorMessage` of a v3 error body, cut short.
fn error_detail(body: &[u8]) -> String {
    let text = match serde_json::from_slice::<Value>(body) {
        Ok(json) => {
            let field = |k: &str| json.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
            format!("{}: {}", field("errorCode"), field("errorMessage"))
        }
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    };
    text.chars().take(160).collect()
}

#[cfg(test)]
mod tests;
