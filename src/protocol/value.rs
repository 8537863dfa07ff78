//! JSON values and items <-> `pb::Value` / `pb::Item`, including Wix's
//! `{"$date": "..."}` dates <-> `google.protobuf.Timestamp`.
//!
//! STUB: to be written (owner: protocol-data).
