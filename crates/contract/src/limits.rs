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

/// Page size when a request names none (or 0): Wix's own SDK default.
pub const DEFAULT_PAGE_LIMIT: u32 = 50;

/// Largest page an external collection serves; larger requested limits are
/// capped to it.
pub const MAX_PAGE_LIMIT: u32 = 1_000;

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

/// A limit a request went beyond.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LimitExceeded {
    #[error("filter nests deeper than {MAX_FILTER_DEPTH} levels of $and/$or/$not")]
    FilterDepth,
    #[error("filter has more than {MAX_FILTER_NODES} conditions and operators")]
    FilterNodes,
    #[error("list operand has more than {MAX_LIST_OPERAND} values")]
    ListOperand,
}

/// Checks a decoded filter against the filter limits, without recursion
/// (a tree decoded by someone else may be deep).
pub fn check_filter(filter: &crate::pb::Filter) -> Result<(), LimitExceeded> {
    use crate::pb::filter::Kind;
    use crate::pb::value::Kind as ValueKind;
    // (node, logical operators above it)
    let mut pending = vec![(filter, 0usize)];
    let mut nodes = 0usize;
    while let Some((node, depth)) = pending.pop() {
        nodes += 1;
        if nodes > MAX_FILTER_NODES {
            return Err(LimitExceeded::FilterNodes);
        }
        match &node.kind {
            Some(Kind::And(list) | Kind::Or(list)) => {
                if depth >= MAX_FILTER_DEPTH {
                    return Err(LimitExceeded::FilterDepth);
                }
                pending.extend(list.filters.iter().map(|f| (f, depth + 1)));
            }
            Some(Kind::Not(inner)) => {
                if depth >= MAX_FILTER_DEPTH {
                    return Err(LimitExceeded::FilterDepth);
                }
                pending.push((inner.as_ref(), depth + 1));
            }
            Some(Kind::Condition(condition)) => {
                if let Some(ValueKind::ListValue(list)) =
                    condition.value.as_ref().and_then(|v| v.kind.as_ref())
                    && list.values.len() > MAX_LIST_OPERAND
                {
                    return Err(LimitExceeded::ListOperand);
                }
            }
            None => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
