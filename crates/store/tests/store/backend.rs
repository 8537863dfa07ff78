//! Which database the suite runs on. One suite, two backends: SQLite by
//! default; PostgreSQL when `EXTDB_TEST_POSTGRES` names one
//! (`postgres://user:password@host/database`), each test's store in a
//! fresh schema of it. `.ci/run` runs the suite once per backend.
//!
//! PostgreSQL is never skipped silently: named but unreachable, or not
//! named while `EXTDB_REQUIRE_POSTGRES=1`, the tests fail when it is
//! required and otherwise say loudly that they ran on SQLite instead.

use std::path::PathBuf;
use std::time::Duration;

use extdb_store::{PostgresOptions, ReferenceStore};
use extdb_testkit::store::TestStore;

/// The PostgreSQL URL the suite runs on, checked once per process.
static POSTGRES: tokio::sync::OnceCell<Option<String>> = tokio::sync::OnceCell::const_new();

/// How long the first test waits for the named PostgreSQL to answer.
const REACH_TIMEOUT: Duration = Duration::from_secs(10);

async fn postgres_url() -> Option<String> {
    POSTGRES
        .get_or_init(|| async {
            let required = std::env::var("EXTDB_REQUIRE_POSTGRES").is_ok_and(|v| v == "1");
            let Some(url) = std::env::var("EXTDB_TEST_POSTGRES")
                .ok()
                .filter(|u| !u.is_empty())
            else {
                assert!(
                    !required,
                    "EXTDB_REQUIRE_POSTGRES=1 but EXTDB_TEST_POSTGRES names no database"
                );
                say(
                    "\n*** PostgreSQL store tests SKIPPED: EXTDB_TEST_POSTGRES is not set; \
                     the suite runs on SQLite ***\n",
                );
                return None;
            };
            let probe = ReferenceStore::connect_postgres(&url, &options("extdb_probe"))
                .expect("EXTDB_TEST_POSTGRES is a valid PostgreSQL URL");
            let deadline = tokio::time::Instant::now() + REACH_TIMEOUT;
            while !probe.is_ready().await {
                if tokio::time::Instant::now() >= deadline {
                    assert!(
                        !required,
                        "EXTDB_REQUIRE_POSTGRES=1 but PostgreSQL (EXTDB_TEST_POSTGRES) is \
                         unreachable"
                    );
                    say(
                        "\n*** PostgreSQL store tests SKIPPED: EXTDB_TEST_POSTGRES is \
                         unreachable; the suite runs on SQLite ***\n",
                    );
                    return None;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            say("store suite: running on PostgreSQL (EXTDB_TEST_POSTGRES)");
            Some(url)
        })
        .await
        .clone()
}

/// Writes past the test harness's output capture (which takes only
/// `print!` / `eprint!`), so that the line shows even when tests pass.
fn say(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

fn options(schema: &str) -> PostgresOptions {
    PostgresOptions {
        max_connections: 4,
        schema: Some(schema.to_owned()),
        ..PostgresOptions::default()
    }
}

/// A place for one test's data: a SQLite file or a PostgreSQL schema.
/// Stores opened on it again see the same data (a restart, a replica).
pub enum TestDb {
    Sqlite {
        _dir: tempfile::TempDir,
        path: PathBuf,
    },
    Postgres {
        url: String,
        schema: String,
    },
}

impl TestDb {
    /// A new, empty place on the suite's backend.
    pub async fn new() -> Self {
        match postgres_url().await {
            Some(url) => Self::Postgres {
                url,
                schema: format!("t_{}", uuid_hex()),
            },
            None => {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join("store.sqlite");
                Self::Sqlite { _dir: dir, path }
            }
        }
    }

    /// A store on it.
    pub fn open(&self) -> ReferenceStore {
        match self {
            Self::Sqlite { path, .. } => ReferenceStore::open(path).unwrap(),
            Self::Postgres { url, schema } => {
                ReferenceStore::connect_postgres(url, &options(schema)).unwrap()
            }
        }
    }

    /// What `TestStore` reports as its database path.
    pub fn path(&self) -> PathBuf {
        match self {
            Self::Sqlite { path, .. } => path.clone(),
            Self::Postgres { schema, .. } => PathBuf::from(schema),
        }
    }

    /// Serves `store` (opened on this place).
    pub async fn serve(&self, store: ReferenceStore) -> TestStore {
        TestStore::serve(store, &self.path()).await
    }
}

fn uuid_hex() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{:x}_{}_{}",
        nanos,
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A store on the suite's backend, served on loopback, on a new place
/// (a SQLite file that lives as long as the store, or a new schema).
pub async fn start() -> TestStore {
    match TestDb::new().await {
        db @ TestDb::Postgres { .. } => db.serve(db.open()).await,
        TestDb::Sqlite { .. } => TestStore::start().await,
    }
}

/// Whether the suite runs on PostgreSQL.
pub async fn is_postgres() -> bool {
    postgres_url().await.is_some()
}
