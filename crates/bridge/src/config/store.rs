//! The database of a `kind: embedded` upstream: a SQLite file (`db_path`,
//! the default) or a PostgreSQL server (`database: postgres://…` and an
//! optional `postgres:` block), and the checks of those keys.

use std::path::PathBuf;

use serde::Deserialize;

use super::{UpstreamConfig, UpstreamKind};

/// Connection settings of an embedded store on PostgreSQL (`postgres:`
/// beside `database:`). TLS is chosen in the URL: `?sslmode=require`
/// connects over TLS (rustls) and checks the server's certificate; without
/// it the connection is plain TCP.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostgresConfig {
    /// Connections the store keeps open at most.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// How long opening a connection may take.
    #[serde(default = "default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    /// How long a call waits for a free connection before it fails
    /// UNAVAILABLE.
    #[serde(default = "default_acquire_timeout_ms")]
    pub acquire_timeout_ms: u64,
    /// Statement timeout of calls without a deadline (every call from the
    /// sidecar has one: its `timeout_ms`, which then cancels the statement
    /// server-side). 0: the server's own setting.
    #[serde(default = "default_statement_timeout_ms")]
    pub statement_timeout_ms: u64,
    /// Schema holding the store's tables, created when missing (default:
    /// the connection's `search_path`, usually `public`).
    #[serde(default)]
    pub schema: Option<String>,
    /// PEM file of certificates trusted for the server beside the system's
    /// roots (with `sslmode=require`).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

fn default_max_connections() -> usize {
    16
}

fn default_connect_timeout_ms() -> u64 {
    5_000
}

fn default_acquire_timeout_ms() -> u64 {
    5_000
}

fn default_statement_timeout_ms() -> u64 {
    30_000
}

impl Default for PostgresConfig {
    fn default() -> Self {
        Self {
            max_connections: default_max_connections(),
            connect_timeout_ms: default_connect_timeout_ms(),
            acquire_timeout_ms: default_acquire_timeout_ms(),
            statement_timeout_ms: default_statement_timeout_ms(),
            schema: None,
            ca_file: None,
        }
    }
}

/// Whether `database` is a PostgreSQL URL (the only kind `database:`
/// takes; a SQLite file goes in `db_path`).
pub fn is_postgres_url(database: &str) -> bool {
    database.starts_with("postgres://") || database.starts_with("postgresql://")
}

/// Problems of the store keys (`db_path`, `database`, `postgres`) of one
/// upstream, as (key under the upstream, message).
pub(super) fn store_key_problems(up: &UpstreamConfig) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    let mut problem =
        |key: &str, message: &str| problems.push((key.to_owned(), message.to_owned()));
    if up.kind != UpstreamKind::Embedded {
        if up.database.is_some() {
            problem("database", "only for an embedded upstream");
        }
        if up.postgres.is_some() {
            problem("postgres", "only for an embedded upstream");
        }
        return problems;
    }
    match (&up.db_path, &up.database) {
        (None, None) => problem(
            "db_path",
            "required for an embedded upstream: db_path (a SQLite file) or database (a postgres:// URL)",
        ),
        (Some(_), Some(_)) => problem(
            "database",
            "give either db_path (a SQLite file) or database (a postgres:// URL), not both",
        ),
        (None, Some(url)) if !is_postgres_url(url) => problem(
            "database",
            "must be a postgres:// or postgresql:// URL (a SQLite file goes in db_path)",
        ),
        _ => {}
    }
    if let Some(pg) = &up.postgres {
        if up.database.is_none() {
            problem("postgres", "only with database: postgres://…");
        }
        if pg.max_connections == 0 {
            problem("postgres.max_connections", "must be greater than 0");
        }
        if pg.connect_timeout_ms == 0 {
            problem("postgres.connect_timeout_ms", "must be greater than 0");
        }
        if pg.acquire_timeout_ms == 0 {
            problem("postgres.acquire_timeout_ms", "must be greater than 0");
        }
        if let Some(schema) = &pg.schema {
            let valid = !schema.is_empty()
                && schema.len() <= 63
                && schema
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                problem(
                    "postgres.schema",
                    "1 to 63 ASCII letters, digits and _ (it is used as an identifier)",
                );
            }
        }
    }
    problems
}
