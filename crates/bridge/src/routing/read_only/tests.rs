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
