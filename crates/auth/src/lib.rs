//! The auth stage: who may call. v3 requests are compact JWS bodies verified
//! against configured public keys (spec envelope §2.7-2.9).
//!
//! * [`V3AuthConfig`]: the `auth.v3` configuration.
//! * [`V3Verifier`]: built once from it (keys parsed at load); its
//!   [`V3Verifier::verify`] turns a request body into a
//!   [`VerifiedRequest`] or an [`AuthFailure`] (the front turns it into a
//!   401, or a 400 when [`AuthFailure::is_request_problem`]). Its
//!   `data.request` stays JSON text ([`RequestJson`]), parsed but not built
//!   into a tree: the protocol stage reads it once, into the typed request.
//! * [`RequestSigner`] / [`sign_request`]: produce tokens as Wix does, for
//!   tests, the `sign` CLI and load generation (feature `sign`).
//!
//! * [`SecretKeys`]: the legacy protocol's shared secrets, compared in
//!   constant time.
//!
//! Crypto is aws-lc-rs (already linked for TLS); the choice is measured in
//! BENCHMARKS.md.

mod clock;
mod config;
mod der;
mod jws;
mod keys;
mod secret;
#[cfg(feature = "sign")]
mod sign;

pub use clock::{Clock, ClockSource, FixedClock, SystemClock};
pub use config::{DEFAULT_LEEWAY_SECONDS, KeyConfig, V3AuthConfig};
pub use jws::{
    AuthFailure, MAX_PAYLOAD_DEPTH, RequestJson, V3Verifier, VerifiedRequest, WIX_ISSUER,
};
pub use keys::{JwsAlgorithm, KeyError, KeyProblem, public_key_spki};
pub use secret::{SecretKeyFailure, SecretKeys};
#[cfg(feature = "sign")]
pub use sign::{
    RequestSigner, SignError, assemble_token, request_claims, sign_request, signing_input,
};

#[cfg(test)]
mod tests;
