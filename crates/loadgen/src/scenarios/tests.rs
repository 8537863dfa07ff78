use super::*;

#[test]
fn every_scenario_decodes_to_a_direct_call() {
    for scenario in Scenario::ALL {
        for seq in [0, 1, 12_345] {
            let call = direct_call(scenario, &scenario.request(seq), pb::CallContext::default())
                .unwrap_or_else(|e| panic!("{}: {e}", scenario.name()));
            assert!(!call.body.is_empty());
        }
    }
}

#[test]
fn books_decode_as_items() {
    let item = to_pb_item(&stored_book(7)).unwrap();
    assert_eq!(item.fields.len(), 12);
    assert!(to_pb_item(&new_book(7)).is_ok());
}
