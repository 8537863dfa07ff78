use super::*;
use crate::pb;
use crate::pb::filter::Kind;

fn condition(values: usize) -> pb::Filter {
    let list = pb::ListValue {
        values: vec![pb::Value::default(); values],
    };
    pb::Filter {
        kind: Some(Kind::Condition(pb::Condition {
            field_path: "f".into(),
            operator: pb::Operator::In as i32,
            value: Some(pb::Value {
                kind: Some(pb::value::Kind::ListValue(list)),
            }),
            pattern: None,
        })),
    }
}

fn and(filters: Vec<pb::Filter>) -> pb::Filter {
    pb::Filter {
        kind: Some(Kind::And(pb::FilterList { filters })),
    }
}

fn not(inner: pb::Filter) -> pb::Filter {
    pb::Filter {
        kind: Some(Kind::Not(Box::new(inner))),
    }
}

fn nested(levels: usize) -> pb::Filter {
    let mut f = condition(1);
    for i in 0..levels {
        f = if i % 2 == 0 { and(vec![f]) } else { not(f) };
    }
    f
}

#[test]
fn depth_counts_logical_levels() {
    assert_eq!(check_filter(&nested(MAX_FILTER_DEPTH)), Ok(()));
    assert_eq!(
        check_filter(&nested(MAX_FILTER_DEPTH + 1)),
        Err(LimitExceeded::FilterDepth)
    );
}

#[test]
fn nodes_and_list_operands_are_bounded() {
    assert_eq!(
        check_filter(&and(vec![condition(1); MAX_FILTER_NODES - 1])),
        Ok(())
    );
    assert_eq!(
        check_filter(&and(vec![condition(1); MAX_FILTER_NODES])),
        Err(LimitExceeded::FilterNodes)
    );
    assert_eq!(check_filter(&condition(MAX_LIST_OPERAND)), Ok(()));
    assert_eq!(
        check_filter(&condition(MAX_LIST_OPERAND + 1)),
        Err(LimitExceeded::ListOperand)
    );
}

/// The arithmetic of the module doc: the deepest filter and operand the
/// limits allow still decodes with prost's default recursion limit.
#[test]
fn deepest_allowed_request_decodes_with_prost() {
    use prost::Message;
    let mut operand = pb::Value {
        kind: Some(pb::value::Kind::StringValue("x".into())),
    };
    for _ in 0..MAX_VALUE_DEPTH {
        operand = pb::Value {
            kind: Some(pb::value::Kind::ObjectValue(pb::ObjectValue {
                fields: [("k".to_owned(), operand)].into(),
            })),
        };
    }
    let mut filter = pb::Filter {
        kind: Some(Kind::Condition(pb::Condition {
            field_path: "f".into(),
            operator: pb::Operator::Eq as i32,
            value: Some(operand),
            pattern: None,
        })),
    };
    for _ in 0..MAX_FILTER_DEPTH {
        filter = and(vec![filter]);
    }
    assert_eq!(check_filter(&filter), Ok(()));
    let request = pb::QueryItemsRequest {
        filter: Some(filter.clone()),
        ..Default::default()
    };
    let decoded = pb::QueryItemsRequest::decode(request.encode_to_vec().as_slice());
    assert!(decoded.is_ok(), "{decoded:?}");
    // One more level of either kind is what prost refuses, so the limits
    // are not needlessly low.
    let deeper = pb::QueryItemsRequest {
        filter: Some(and(vec![and(vec![filter])])),
        ..Default::default()
    };
    assert!(pb::QueryItemsRequest::decode(deeper.encode_to_vec().as_slice()).is_err());
}
