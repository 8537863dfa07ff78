use super::*;
use pb::AggregateFunction as F;
use serde_json::json;

fn op(alias: &str, f: F, field: &str) -> pb::AggregateOperation {
    pb::AggregateOperation {
        result_field_name: alias.into(),
        function: f as i32,
        item_field_name: field.into(),
    }
}

fn decode(json: Value) -> Result<(Vec<String>, Vec<pb::AggregateOperation>), ApiError> {
    processing_step(Some(&json), &Path::Root("processingStep"))
}

#[test]
fn grouping_and_every_function() {
    let (grouping, operations) = decode(json!({
        "_id": "$genre",
        "avgPages": {"$avg": "$pages"},
        "maxPages": {"$max": "$pages"},
        "minPages": {"$min": "$pages"},
        "sumPages": {"$sum": "$pages"},
        "n": {"$sum": 1},
        "m": {"$count": {}}
    }))
    .unwrap();
    assert_eq!(grouping, ["genre"]);
    // serde_json orders keys; the contract does not care about order.
    assert_eq!(
        operations,
        vec![
            op("avgPages", F::Average, "pages"),
            op("m", F::Count, ""),
            op("maxPages", F::Max, "pages"),
            op("minPages", F::Min, "pages"),
            op("n", F::Count, ""),
            op("sumPages", F::Sum, "pages"),
        ]
    );
}

#[test]
fn grouping_shapes() {
    let fields = |id: Value| decode(json!({"_id": id})).unwrap().0;
    assert_eq!(
        fields(json!({"g": "$genre", "a": "$author"})),
        ["author", "genre"]
    );
    assert!(fields(json!(null)).is_empty());
    assert!(decode(json!({})).unwrap().0.is_empty());
    assert_eq!(
        processing_step(None, &Path::Root("processingStep")).unwrap(),
        (vec![], vec![])
    );
}

#[test]
fn malformed_steps_are_400_naming_the_path() {
    let cases = [
        (json!([]), "processingStep"),
        (json!({"_id": "genre"}), "processingStep._id"),
        (json!({"_id": 5}), "processingStep._id"),
        (json!({"_id": {"g": "$"}}), "processingStep._id.g"),
        (json!({"x": {"$median": "$a"}}), "processingStep.x"),
        (
            json!({"x": {"$avg": "$a", "$max": "$a"}}),
            "processingStep.x",
        ),
        (json!({"x": "$a"}), "processingStep.x"),
        (json!({"x": {"$avg": "a"}}), "processingStep.x.$avg"),
        (json!({"x": {"$sum": 2}}), "processingStep.x.$sum"),
    ];
    for (json, path) in cases {
        let e = decode(json.clone()).unwrap_err();
        assert_eq!(e.http_status(), 400, "{json}");
        assert!(
            e.to_string().starts_with(&format!("{path}:")),
            "{json}: {e}"
        );
    }
}
