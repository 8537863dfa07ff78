//! The v3 protocol over HTTP against scripted backends: auth, every endpoint, errors, routing, TLS upstreams, the HTTP front under abuse, operations (metrics, health, CLI), deployment files.

// Tests may unwrap: a failed set-up is a failed test.
#![allow(clippy::unwrap_used)]

mod auth;
mod body_framing;
mod branches;
mod check_embedded;
mod cli;
mod cli_failures;
mod deploy;
mod drain;
mod endpoints;
mod env_switches;
mod errors;
mod fault_http;
mod http_front;
mod identity;
mod ops;
mod oracles;
mod permissions;
mod routing;
mod spec_vector;
mod status_branches;
mod upstream_tls;
