//! The Wix filter language (spec data-operations §4.1-4.3) -> `pb::Filter`.
//!
//! STUB: to be written (owner: protocol-data).
