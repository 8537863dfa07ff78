use super::*;

fn query(filter: Option<pb::Filter>, limit: u32) -> Vec<u8> {
    pb::QueryItemsRequest {
        collection_id: "c".into(),
        filter,
        paging: Some(pb::Paging {
            kind: Some(pb::paging::Kind::Offset(pb::OffsetPaging {
                limit,
                offset: 0,
            })),
        }),
        ..Default::default()
    }
    .encode_to_vec()
}

#[test]
fn answers_decode_as_the_contract_says() {
    let answers = Answers::build().unwrap();
    let page = pb::QueryItemsResponse::decode(answers.query(&query(None, 50)).unwrap()).unwrap();
    assert_eq!(page.items.len(), 50);
    let two = pb::QueryItemsResponse::decode(answers.query(&query(None, 2)).unwrap()).unwrap();
    assert_eq!(two.items, page.items[..2]);
    let by_id = pb::Filter {
        kind: Some(pb::filter::Kind::Condition(pb::Condition {
            field_path: "_id".into(),
            operator: pb::Operator::Eq as i32,
            ..Default::default()
        })),
    };
    let one =
        pb::QueryItemsResponse::decode(answers.query(&query(Some(by_id), 50)).unwrap()).unwrap();
    assert_eq!(one.items.len(), 1);

    for n in [0, 1, 100, 250] {
        let request = pb::InsertItemsRequest {
            items: vec![pb::Item::default(); n],
            ..Default::default()
        };
        let inserted =
            pb::InsertItemsResponse::decode(answers.insert(&request.encode_to_vec()).unwrap())
                .unwrap();
        assert_eq!(inserted.results.len(), n);
    }
    assert_eq!(
        pb::CountItemsResponse::decode(answers.count.clone())
            .unwrap()
            .total_count,
        4_321
    );
    assert_eq!(
        pb::AggregateItemsResponse::decode(answers.aggregate.clone())
            .unwrap()
            .rows
            .len(),
        8
    );
}

#[test]
fn garbage_requests_are_refused_not_panicked_on() {
    let answers = Answers::build().unwrap();
    assert!(answers.query(&[0xff, 0xff, 0xff]).is_err());
    assert!(answers.insert(&[0x1a, 0x7f]).is_err());
}
