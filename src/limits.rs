//! Limits of the contract, shared by the sidecar's decoders and the
//! reference store, so that whatever one accepts the other can serve: a
//! request beyond any of them is refused where it is decoded, with a 400
//! naming the limit, never passed on to fail deeper (a protobuf decoder's
//! recursion limit, SQLite's expression depth) as a 500.
//!
//! The numbers follow from the protobuf decoders a backend uses: prost (and
//! the C++/Java runtimes) refuse messages nested more than 100 deep. A
//! logical filter level costs two message levels (`Filter` -> `FilterList`),
//! an object level in a value three (`ObjectValue` -> map entry -> `Value`),
//! a list level two; with the request and the condition around them, a
//! filter [`MAX_FILTER_DEPTH`] deep whose operand is [`MAX_VALUE_DEPTH`]
//! deep still decodes: 2 + 2 x 24 + 2 + 3 x 16 = 100.

/// Deepest nesting of `$and` / `$or` / `$not` in one filter.
pub const MAX_FILTER_DEPTH: usize = 24;

/// Deepest nesting of objects and arrays inside one value: an item's field,
/// a filter operand, an aggregation's group key.
pub const MAX_VALUE_DEPTH: usize = 16;

/// Most nodes (conditions plus `$and` / `$or` / `$not`) in one filter.
pub const MAX_FILTER_NODES: usize = 1_000;

/// Most values in one list operand (`$in`, `$hasSome`, `$hasAll`).
pub const MAX_LIST_OPERAND: usize = 1_000;

/// Largest protobuf message either side sends or accepts on the contract.
/// The sidecar's body cap is at most an eighth of it (a JSON body grows at
/// most ~8x as protobuf: `1,` is two bytes of JSON and up to ~16 of
/// `Value` in a map entry).
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;

/// Longest value the sidecar passes on as a gRPC metadata entry (request
/// id, instance id, identity id); longer ones are replaced by a digest. The
/// whole header block of a call stays far below the 16 KiB many servers
/// accept.
pub const MAX_METADATA_VALUE_BYTES: usize = 256;
