//! Aggregations and distinct-value queries the store cannot answer are
//! refused as BAD_REQUEST, naming what was wrong, before any SQL runs.

use extdb_contract::pb::{self, AggregateFunction, FieldType};
use extdb_testkit::builders::*;
use extdb_testkit::store::*;
use tonic::Code;

fn op(name: &str, function: i32, field: &str) -> pb::AggregateOperation {
    pb::AggregateOperation {
        result_field_name: name.into(),
        function,
        item_field_name: field.into(),
    }
}

async fn books(c: &mut Client) {
    create_collection(c, "authors", vec![field("name", FieldType::Text)]).await;
    create_collection(
        c,
        "books",
        vec![
            field("genre", FieldType::Text),
            field("pages", FieldType::Number),
            field("info", FieldType::Object),
            multi_ref("authors", "authors"),
        ],
    )
    .await;
    insert_ok(
        c,
        "books",
        vec![item(&[
            ("_id", s("1")),
            ("genre", s("poetry")),
            ("pages", n(10.0)),
        ])],
    )
    .await;
}

/// The status of a refused call: its code, ErrorInfo reason and message.
fn refusal(status: &tonic::Status) -> (Code, String, String) {
    (
        status.code(),
        error_info(status).0,
        status.message().to_owned(),
    )
}

#[tokio::test]
async fn aggregations_that_cannot_be_computed_are_bad_requests_naming_the_cause() {
    let store = crate::backend::start().await;
    let mut c = store.client.clone();
    books(&mut c).await;
    let cases: Vec<(Vec<String>, Vec<pb::AggregateOperation>, &str)> = vec![
        (
            vec![],
            vec![op("total", AggregateFunction::Sum as i32, "genre")],
            "is not supported on genre",
        ),
        (
            vec![],
            vec![op("mean", AggregateFunction::Average as i32, "info")],
            "is not supported on info",
        ),
        (
            vec![],
            vec![op("n", AggregateFunction::Max as i32, "authors")],
            "cannot aggregate authors",
        ),
        (
            vec![],
            vec![op("x", 99, "pages")],
            "unknown aggregate function for x",
        ),
        (
            vec![],
            vec![
                op("n", AggregateFunction::Count as i32, ""),
                op("n", AggregateFunction::Max as i32, "pages"),
            ],
            "result field name \"n\" is empty or already used",
        ),
        (
            vec![],
            vec![op("", AggregateFunction::Count as i32, "")],
            "result field name \"\" is empty or already used",
        ),
        (
            vec!["genre".into()],
            vec![op("genre", AggregateFunction::Count as i32, "")],
            "result field name \"genre\" is empty or already used",
        ),
        (
            vec!["authors".into()],
            vec![op("n", AggregateFunction::Count as i32, "")],
            "cannot group by authors",
        ),
    ];
    for (grouping_fields, operations, message) in cases {
        let request = pb::AggregateItemsRequest {
            collection_id: "books".into(),
            grouping_fields,
            operations,
            ..Default::default()
        };
        let status = c.aggregate_items(request).await.unwrap_err();
        let (code, reason, text) = refusal(&status);
        assert_eq!(
            (code, reason.as_str()),
            (Code::InvalidArgument, "BAD_REQUEST"),
            "{message}: {status:?}"
        );
        assert!(text.contains(message), "{message}: {text}");
    }
}

#[tokio::test]
async fn distinct_values_of_a_multi_reference_are_refused() {
    let store = crate::backend::start().await;
    let mut c = store.client.clone();
    books(&mut c).await;
    let status = c
        .query_distinct_values(pb::QueryDistinctValuesRequest {
            collection_id: "books".into(),
            field_path: "authors".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    let (code, reason, text) = refusal(&status);
    assert_eq!(
        (code, reason.as_str()),
        (Code::InvalidArgument, "BAD_REQUEST")
    );
    assert!(text.contains("no distinct values for authors"), "{text}");
}
