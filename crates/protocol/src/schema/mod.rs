//! Capabilities, collections and indexes: request decoding and response
//! encoding (spec envelope §4.2-4.8).
//!
//! Requests are read by hand rather than through serde derives so that every
//! error names the offending field path (`collection.fields[2].type`), and so
//! the proto3 JSON conventions hold everywhere: absent and `null` members mean
//! the default, unknown members are ignored (data-operations §1.1).

mod decode;
mod encode;
pub(crate) mod names;

use serde_json::Value;

use super::{Endpoint, Operation, Reply};
use crate::error::ApiError;
use extdb_contract::pb;

/// Decodes the `data.request` of a capabilities/collections/indexes endpoint.
pub fn decode(
    endpoint: Endpoint,
    request: &Value,
    context: pb::CallContext,
) -> Result<Operation, ApiError> {
    decode::decode(endpoint, request, context)
}

/// Encodes the reply of a capabilities/collections/indexes endpoint.
pub fn encode(reply: &Reply) -> Value {
    encode::encode(reply)
}

/// Data operations that only read; what a read-only route may advertise.
const READ_OPERATIONS: [pb::DataOperation; 5] = [
    pb::DataOperation::Query,
    pb::DataOperation::Count,
    pb::DataOperation::Aggregate,
    pb::DataOperation::Distinct,
    pb::DataOperation::QueryReferenced,
];

/// Narrows a collection's advertised data operations to the read ones, so Wix
/// never offers writes on a read-only route (Wix only calls what is listed).
pub fn restrict_to_reads(collection: &mut pb::Collection) {
    if let Some(capabilities) = collection.capabilities.as_mut() {
        capabilities.data_operations.retain(|raw| {
            pb::DataOperation::try_from(*raw).is_ok_and(|op| READ_OPERATIONS.contains(&op))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pb::DataOperation as Op;

    #[test]
    fn restrict_to_reads_keeps_only_read_operations_in_order() {
        let all = [
            Op::Query,
            Op::Count,
            Op::QueryReferenced,
            Op::Aggregate,
            Op::Distinct,
            Op::Insert,
            Op::Update,
            Op::Remove,
            Op::Truncate,
            Op::InsertReferences,
            Op::RemoveReferences,
            Op::Unspecified,
        ];
        let mut collection = pb::Collection {
            id: "inventory".into(),
            capabilities: Some(pb::CollectionCapabilities {
                data_operations: all.iter().map(|op| *op as i32).chain([99]).collect(),
            }),
            ..Default::default()
        };
        restrict_to_reads(&mut collection);
        let kept = collection.capabilities.unwrap().data_operations;
        assert_eq!(
            kept,
            vec![
                Op::Query as i32,
                Op::Count as i32,
                Op::QueryReferenced as i32,
                Op::Aggregate as i32,
                Op::Distinct as i32,
            ]
        );
    }

    #[test]
    fn restrict_to_reads_leaves_a_collection_without_capabilities_alone() {
        let mut collection = pb::Collection {
            id: "inventory".into(),
            ..Default::default()
        };
        restrict_to_reads(&mut collection);
        assert_eq!(collection.capabilities, None);
    }
}
