//! The legacy protocol (STANDALONE connections) over HTTP: auth, every endpoint, errors, and against the reference store.

// Tests may unwrap: a failed set-up is a failed test.
#![allow(clippy::unwrap_used)]

mod auth;
mod endpoints;
mod errors;
mod permissions;
mod store;
