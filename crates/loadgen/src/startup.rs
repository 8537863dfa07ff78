//! `--startup`: how long the sidecar process takes from `exec` to its
//! first answered request, and its resident memory once idle (issue 14).
//! The sidecar runs as users run it (a child process on a config file)
//! in front of the canned backend.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::time::Instant;

use super::driver;
use super::harness::{self, Backend};
use super::scenarios::Scenario;
use extdb_auth::RequestSigner;

/// How long one start may take before the run fails.
const START_TIMEOUT: Duration = Duration::from_secs(15);
/// How often the listener and the first request are tried.
const POLL: Duration = Duration::from_millis(1);
/// Idle time before the RSS is read (start-up allocations settle), as the
/// benchmark reads its idle RSS.
const SETTLE: Duration = Duration::from_millis(300);

/// One start of the sidecar.
#[derive(Debug, Clone, Copy)]
pub struct StartSample {
    /// From spawn to the first accepted TCP connection.
    pub listening: Duration,
    /// From spawn to the first request answered 200.
    pub ready: Duration,
    pub idle_rss_kib: u64,
}

/// Starts the sidecar `runs` times and measures each start.
pub async fn run(
    runs: usize,
    bin: Option<PathBuf>,
    log: &str,
    progress: &mut dyn FnMut(&str),
) -> Result<Vec<StartSample>, String> {
    let bin = match bin {
        Some(b) => b,
        None => std::env::current_exe()
            .map_err(|e| e.to_string())?
            .with_file_name("extdb-bridge"),
    };
    let canned = harness::start_canned()?;
    let pair = extdb_bridge::devtools::generate_key_pair().map_err(|e| e.to_string())?;
    let signer = RequestSigner::from_pem(&pair.private_pem).map_err(|e| e.to_string())?;
    let token = harness::signed_tokens(&[Scenario::QueryOne.request(0)], &signer)?
        .pop()
        .ok_or("no token")?;
    let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    let mut samples = Vec::with_capacity(runs);
    for run in 0..runs.max(1) {
        let addr = free_port()?;
        let yaml = harness::sidecar_yaml(
            &pair.public_base64,
            Backend::Grpc(&format!("http://{}", canned.addr)),
            Duration::from_secs(5),
            Duration::from_secs(1),
            "",
        )
        .replacen("127.0.0.1:0", &addr.to_string(), 1);
        let config = dir.path().join(format!("sidecar-{run}.yaml"));
        std::fs::write(&config, yaml).map_err(|e| format!("{}: {e}", config.display()))?;
        let started = Instant::now();
        let child = Command::new(&bin)
            .arg("--config")
            .arg(&config)
            .env("RUST_LOG", log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
        let mut child = KillOnDrop(child);
        let sample = measure_start(&mut child.0, addr, started, &token).await?;
        progress(&format!(
            "start {}: listening after {:.1} ms, first answer after {:.1} ms, idle RSS {:.1} MiB",
            run + 1,
            sample.listening.as_secs_f64() * 1e3,
            sample.ready.as_secs_f64() * 1e3,
            sample.idle_rss_kib as f64 / 1024.0
        ));
        samples.push(sample);
    }
    Ok(samples)
}

async fn measure_start(
    child: &mut Child,
    addr: SocketAddr,
    started: Instant,
    token: &bytes::Bytes,
) -> Result<StartSample, String> {
    let deadline = started + START_TIMEOUT;
    let mut listening = None;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("the sidecar exited during start-up ({status})"));
        }
        if Instant::now() > deadline {
            return Err(format!(
                "the sidecar did not answer on {addr} within {START_TIMEOUT:?}"
            ));
        }
        if let Ok(mut sender) = driver::connect_http(addr).await {
            listening.get_or_insert_with(|| started.elapsed());
            let path = Scenario::QueryOne.endpoint().path();
            if let Ok((status, _)) = driver::post_token(&mut sender, path, token.clone()).await
                && status == http::StatusCode::OK
            {
                let ready = started.elapsed();
                tokio::time::sleep(SETTLE).await;
                let idle_rss_kib = harness::proc_status_kib(child.id(), "VmRSS")
                    .ok_or("cannot read the sidecar's VmRSS")?;
                return Ok(StartSample {
                    listening: listening.unwrap_or(ready),
                    ready,
                    idle_rss_kib,
                });
            }
        }
        tokio::time::sleep(POLL).await;
    }
}

fn free_port() -> Result<SocketAddr, String> {
    let probe = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| format!("cannot find a free port: {e}"))?;
    probe.local_addr().map_err(|e| e.to_string())
}

/// The sidecar child, killed (by its pid) however the run ends.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The samples' minimum, median and maximum as a Markdown table.
pub fn to_markdown(samples: &[StartSample]) -> String {
    let mut out = String::from("| measure | min | median | max |\n| --- | ---: | ---: | ---: |\n");
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let rows: [(&str, Vec<f64>); 3] = [
        (
            "spawn to listening, ms",
            samples.iter().map(|s| ms(s.listening)).collect(),
        ),
        (
            "spawn to first answer (query-one), ms",
            samples.iter().map(|s| ms(s.ready)).collect(),
        ),
        (
            "idle RSS, MiB",
            samples
                .iter()
                .map(|s| s.idle_rss_kib as f64 / 1024.0)
                .collect(),
        ),
    ];
    for (name, mut values) in rows {
        values.sort_by(f64::total_cmp);
        let (Some(min), Some(max)) = (values.first(), values.last()) else {
            continue;
        };
        let median = values[values.len() / 2];
        let _ = writeln!(out, "| {name} | {min:.1} | {median:.1} | {max:.1} |");
    }
    let _ = write!(
        out,
        "\n{} starts, RSS read {} ms after the first answer\n",
        samples.len(),
        SETTLE.as_millis()
    );
    out
}
