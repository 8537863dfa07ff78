//! The read-only route policy (`collections.<id>.read_only`): writes are
//! refused before any upstream call (the router), and the collection is
//! shown to Wix with read operations only, so Wix never offers the rest.

use extdb_contract::pb;

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
mod tests;
