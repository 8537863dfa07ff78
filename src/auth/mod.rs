//! The auth stage: who may call. v3 requests are compact JWS bodies verified
//! against configured public keys (spec envelope §2.7-2.9).
//!
//! STUB: to be written (owner: auth).
