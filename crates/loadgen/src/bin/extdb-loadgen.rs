//! `extdb-loadgen`: benchmarks the sidecar against the direct gRPC path.
//! See BENCHMARKS.md for how to run it and what the numbers mean.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use extdb_loadgen::chaos::{self, ChaosPlan};
use extdb_loadgen::driver::{ClientSocket, Load};
use extdb_loadgen::guard::{STALL_RATIO_LIMIT, SmallCall};
use extdb_loadgen::harness::{self, Compare, Plan, SidecarChoice, UpstreamChoice};
use extdb_loadgen::scenarios::Scenario;

#[derive(Parser)]
#[command(
    version,
    about = "Load generator: the sidecar over HTTP/1.1 vs the same upstream over gRPC"
)]
struct Cli {
    /// A few seconds of every scenario against the canned backend with an
    /// in-process sidecar, then of the `--compare aip` run, then the stall
    /// guard: query-one at concurrency 1 through the sidecar's embedded
    /// store must stay within a few times the direct path's p50 (CI);
    /// other options are ignored.
    #[arg(long)]
    smoke: bool,
    /// Test-only: the sidecar path's connections send with Nagle on and
    /// the request head and body in two writes, which stalls every call
    /// on a delayed ACK: the smoke run's stall guard must then fail.
    #[arg(long, hide = true)]
    inject_stall: bool,
    /// What the sidecar path is compared with: `direct` (the same upstream
    /// over gRPC) or `aip` (query-one and query-page through the sidecar's
    /// `kind: aip` upstream on a canned library.v1 backend vs its
    /// `kind: grpc` upstream on the canned contract backend, one sidecar).
    #[arg(long, default_value = "direct")]
    compare: String,
    /// Scenarios to run (default: all).
    #[arg(long, value_enum, value_delimiter = ',')]
    scenario: Vec<Scenario>,
    /// Fixed-rate loads in requests/s (open loop). Default, with neither
    /// --rate nor --concurrency: --rate 1000 --concurrency 16.
    #[arg(long, value_delimiter = ',')]
    rate: Vec<f64>,
    /// Closed-loop loads: workers (one connection each) sending back to back.
    #[arg(long, value_delimiter = ',')]
    concurrency: Vec<usize>,
    /// Workers (connections) for the fixed-rate loads.
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// Measured seconds per path per round.
    #[arg(long, default_value_t = 5.0)]
    duration: f64,
    /// Unmeasured seconds per path before each load.
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// Rounds per scenario and load; the order of the two paths alternates.
    #[arg(long, default_value_t = 2)]
    rounds: u32,
    /// `canned` (in-process canned backend), `store` (the reference store
    /// on a fresh SQLite file, in-process), `embedded` (the sidecar's own
    /// embedded store; direct: the same SQLite file served over gRPC
    /// in-process) or the URL of any upstream implementing the contract.
    /// Real upstreams are seeded first.
    #[arg(long, default_value = "canned")]
    upstream: String,
    /// With `--upstream store` or `embedded`: the store runs on this PostgreSQL database
    /// (`postgres://…`, a fresh schema of it each run) instead of a SQLite
    /// file.
    #[arg(long)]
    store_database: Option<String>,
    /// With a seeded store: also create an index on (genre ASC, pages DESC),
    /// which query-page filters and sorts on, as a user serving it would.
    #[arg(long)]
    page_index: bool,
    /// Run the sidecar as a child `process` (memory and CPU are measured)
    /// or `inproc` (inside this process).
    #[arg(long, default_value = "process")]
    sidecar: String,
    /// The sidecar binary (default: extdb-bridge next to this executable).
    #[arg(long)]
    sidecar_bin: Option<PathBuf>,
    /// RUST_LOG for the sidecar process (its logs go to /dev/null).
    #[arg(long, default_value = "info")]
    sidecar_log: String,
    /// Distinct pre-signed requests per scenario.
    #[arg(long, default_value_t = 64)]
    pool: usize,
    /// Worker threads of the load generator's runtime.
    #[arg(long, default_value_t = 2)]
    client_threads: usize,
    /// Chaos run instead of a benchmark (RELIABILITY.md): a separate
    /// extdb-store behind the sidecar is paused, killed and restarted under
    /// a steady load (--rate, default 50/s); exits non-zero on any answer a
    /// backend fault must not produce (500, other 5xx but 503/504, 429) or
    /// when requests do not succeed again after the faults.
    #[arg(long)]
    chaos: bool,
    /// The extdb-store binary of --chaos (default: next to this executable).
    #[arg(long)]
    store_bin: Option<PathBuf>,
    /// --chaos: seconds of each steady phase (before the pause, after
    /// SIGCONT, after the restart).
    #[arg(long, default_value_t = 3.0)]
    chaos_steady: f64,
    /// --chaos: seconds the store stays stopped (SIGSTOP).
    #[arg(long, default_value_t = 3.0)]
    chaos_pause: f64,
    /// --chaos: seconds the store stays dead after SIGKILL.
    #[arg(long, default_value_t = 2.0)]
    chaos_down: f64,
    /// Start-up run instead of a benchmark: starts the sidecar process
    /// (--sidecar-bin, --sidecar-log) this many times in front of the
    /// canned backend; time from spawn to listening and to the first
    /// answered request, and idle RSS.
    #[arg(long)]
    startup: Option<usize>,
    /// --chaos: the sidecar's upstream deadline (timeout_ms), shorter than
    /// the pause so calls time out while it lasts.
    #[arg(long, default_value_t = 1000)]
    chaos_timeout_ms: u64,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.chaos {
        return chaos(&cli);
    }
    if let Some(runs) = cli.startup {
        return startup(&cli, runs);
    }
    let plans = match plans(&cli) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match client_runtime(&cli) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let mut requests = 0;
    for plan in &plans {
        let report = match benchmark(&cli, &runtime, plan) {
            Ok(r) => r,
            Err(code) => return code,
        };
        requests += report
            .results
            .iter()
            .map(|r| r.baseline.requests + r.sidecar.requests)
            .sum::<u64>();
        if cli.smoke && plan.upstream == UpstreamChoice::Embedded {
            match SmallCall::from_report(&report).and_then(|call| Ok((call, call.judge()?))) {
                Ok((call, ratio)) => eprintln!(
                    "stall guard: ok: query-one p50 {:.3} ms through the sidecar, {:.3} ms direct ({ratio:.2}x, limit {STALL_RATIO_LIMIT}x)",
                    call.sidecar_p50_ms, call.direct_p50_ms
                ),
                Err(e) => {
                    eprintln!("FAILED: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
    }
    eprintln!("ok: {requests} requests, no errors");
    ExitCode::SUCCESS
}

/// Runs one plan and prints its report; the report, or the exit code of a
/// failed run.
fn benchmark(
    cli: &Cli,
    runtime: &tokio::runtime::Runtime,
    plan: &Plan,
) -> Result<harness::Report, ExitCode> {
    let load_before = load_average();
    let report = runtime.block_on(harness::run(plan, &mut |line| eprintln!("{line}")));
    let load_after = load_average();
    let report = match report {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return Err(ExitCode::FAILURE);
        }
    };
    println!(
        "## extdb-loadgen{}{}\n",
        if cli.smoke { " --smoke" } else { "" },
        match plan.compare {
            Compare::Direct => "",
            Compare::Aip => " --compare aip",
        }
    );
    println!(
        "machine: {} cores, {}; load average before {load_before}, after {load_after}",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0),
        cpu_model(),
    );
    println!(
        "plan: {:.1} s x {} rounds per path, warm-up {:.1} s, {} pre-signed requests per scenario\n",
        plan.duration.as_secs_f64(),
        plan.rounds,
        plan.warmup.as_secs_f64(),
        plan.pool
    );
    // Targets apply to full runs against the canned backend only.
    print!(
        "{}",
        report.to_markdown(plan.upstream.is_canned() && !cli.smoke)
    );
    let errors = report.errors();
    if errors > 0 {
        eprintln!("FAILED: {errors} errors");
        return Err(ExitCode::FAILURE);
    }
    Ok(report)
}

fn plans(cli: &Cli) -> Result<Vec<Plan>, String> {
    let client_socket = if cli.inject_stall {
        ClientSocket::NagleSplitWrites
    } else {
        ClientSocket::NoDelay
    };
    if cli.smoke {
        return Ok([Plan::smoke(), Plan::smoke_aip(), Plan::smoke_guard()]
            .into_iter()
            .map(|plan| Plan {
                client_socket,
                ..plan
            })
            .collect());
    }
    let compare = match cli.compare.as_str() {
        "direct" => Compare::Direct,
        "aip" => Compare::Aip,
        other => return Err(format!("--compare {other}: expected direct or aip")),
    };
    let seconds = |s: f64, name: &str| {
        Duration::try_from_secs_f64(s).map_err(|_| format!("--{name} must be a positive number"))
    };
    let mut loads: Vec<Load> = cli
        .rate
        .iter()
        .map(|&per_second| Load::Rate {
            per_second,
            connections: cli.connections,
        })
        .chain(
            cli.concurrency
                .iter()
                .map(|&concurrency| Load::Closed { concurrency }),
        )
        .collect();
    if loads.is_empty() {
        loads = vec![
            Load::Rate {
                per_second: 1000.0,
                connections: cli.connections,
            },
            Load::Closed { concurrency: 16 },
        ];
    }
    if loads
        .iter()
        // Also refuses NaN, which compares false with everything.
        .any(|l| matches!(l, Load::Rate { per_second, .. } if per_second.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater)))
    {
        return Err("--rate must be positive".into());
    }
    Ok(vec![Plan {
        scenarios: match (cli.scenario.is_empty(), compare) {
            (false, _) => cli.scenario.clone(),
            (true, Compare::Direct) => Scenario::ALL.to_vec(),
            (true, Compare::Aip) => Compare::AIP_SCENARIOS.to_vec(),
        },
        loads,
        duration: seconds(cli.duration, "duration")?,
        warmup: seconds(cli.warmup, "warmup")?,
        rounds: cli.rounds.max(1),
        upstream: match cli.upstream.as_str() {
            "canned" => UpstreamChoice::Canned,
            "store" => match &cli.store_database {
                Some(url) => UpstreamChoice::StoreOnPostgres(url.clone()),
                None => UpstreamChoice::Store,
            },
            "embedded" => match &cli.store_database {
                Some(url) => UpstreamChoice::EmbeddedOnPostgres(url.clone()),
                None => UpstreamChoice::Embedded,
            },
            url => UpstreamChoice::Url(url.to_owned()),
        },
        sidecar: sidecar_choice(cli)?,
        pool: cli.pool.max(1),
        compare,
        client_socket,
        page_index: cli.page_index,
    }])
}

fn sidecar_choice(cli: &Cli) -> Result<SidecarChoice, String> {
    match cli.sidecar.as_str() {
        "process" => Ok(SidecarChoice::Process {
            bin: cli.sidecar_bin.clone(),
            log: cli.sidecar_log.clone(),
        }),
        "inproc" => Ok(SidecarChoice::InProcess),
        other => Err(format!("--sidecar {other}: expected process or inproc")),
    }
}

fn chaos_plan(cli: &Cli) -> Result<ChaosPlan, String> {
    let seconds = |s: f64, name: &str| {
        Duration::try_from_secs_f64(s)
            .ok()
            .filter(|d| !d.is_zero())
            .ok_or_else(|| format!("--{name} must be a positive number"))
    };
    let rate = cli.rate.first().copied().unwrap_or(50.0);
    // Also refuses NaN.
    if rate.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
        return Err("--rate must be positive".into());
    }
    Ok(ChaosPlan {
        rate,
        steady: seconds(cli.chaos_steady, "chaos-steady")?,
        pause: seconds(cli.chaos_pause, "chaos-pause")?,
        down: seconds(cli.chaos_down, "chaos-down")?,
        upstream_timeout: Duration::from_millis(cli.chaos_timeout_ms.max(1)),
        store_bin: cli.store_bin.clone(),
        sidecar: sidecar_choice(cli)?,
    })
}

/// The runtime of the load's clients (`--client-threads` workers).
fn client_runtime(cli: &Cli) -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cli.client_threads.max(1))
        .enable_all()
        .build()
        .map_err(|e| {
            eprintln!("error: cannot start the runtime: {e}");
            ExitCode::FAILURE
        })
}

/// `--chaos`: runs the phases, prints the table, exits 1 on a failed run.
fn chaos(cli: &Cli) -> ExitCode {
    let plan = match chaos_plan(cli) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match client_runtime(cli) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let report = match runtime.block_on(chaos::run(&plan, &mut |line| eprintln!("{line}"))) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("## extdb-loadgen --chaos\n");
    println!(
        "plan: {} req/s (one write in four), steady phases {:.1} s, pause {:.1} s, down {:.1} s, upstream timeout {} ms, sidecar {}\n",
        plan.rate,
        plan.steady.as_secs_f64(),
        plan.pause.as_secs_f64(),
        plan.down.as_secs_f64(),
        plan.upstream_timeout.as_millis(),
        match &plan.sidecar {
            SidecarChoice::Process { .. } => "process",
            SidecarChoice::InProcess => "in-process",
        }
    );
    print!("{}", report.to_markdown());
    let failures = report.failures();
    if failures.is_empty() {
        println!("\nverdict: PASS");
        eprintln!(
            "ok: {} requests, no answer a fault must not produce",
            report.outcomes.len()
        );
        return ExitCode::SUCCESS;
    }
    println!("\nverdict: FAIL");
    for f in &failures {
        println!("- {f}");
    }
    eprintln!("FAILED: {} problems", failures.len());
    ExitCode::FAILURE
}

/// `--startup`: starts the sidecar `runs` times, prints the table.
fn startup(cli: &Cli, runs: usize) -> ExitCode {
    let runtime = match client_runtime(cli) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let load_before = load_average();
    let samples = runtime.block_on(extdb_loadgen::startup::run(
        runs,
        cli.sidecar_bin.clone(),
        &cli.sidecar_log,
        &mut |line| eprintln!("{line}"),
    ));
    match samples {
        Ok(samples) => {
            println!(
                "## extdb-loadgen --startup {runs}
"
            );
            println!(
                "load average before {load_before}, after {}; RUST_LOG={}
",
                load_average(),
                cli.sidecar_log
            );
            print!("{}", extdb_loadgen::startup::to_markdown(&samples));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The 1-, 5- and 15-minute load averages, as `uptime` shows them.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".into())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}
