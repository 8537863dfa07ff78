//! Cursors are signed and bound to their operation and collection: forged,
//! tampered and foreign cursors are INVALID_ARGUMENT, valid ones page
//! through everything, and a key shared by two store instances makes their
//! cursors interchangeable.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use extdb_contract::pb::{self, AggregateFunction, FieldType};
use extdb_testkit::builders::*;
use extdb_testkit::store::*;
use prost::Message;
use tonic::Code;

const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

/// `public` (4 items) is what the caller may read; `secret` (1 item) is
/// the collection forged cursors try to reach. Both reference `people`.
async fn collections(c: &mut Client) {
    create_collection(c, "people", vec![field("name", FieldType::Text)]).await;
    insert_ok(
        c,
        "people",
        vec![
            item(&[("_id", s("p1")), ("name", s("Ada"))]),
            item(&[("_id", s("p2")), ("name", s("Bo"))]),
        ],
    )
    .await;
    for id in ["public", "secret"] {
        create_collection(
            c,
            id,
            vec![
                field("word", FieldType::Text),
                multi_ref("people", "people"),
            ],
        )
        .await;
    }
    let items = (0..4)
        .map(|i| {
            item(&[
                ("_id", s(&format!("pub{i}"))),
                ("word", s(&format!("w{i}"))),
            ])
        })
        .collect();
    insert_ok(c, "public", items).await;
    insert_ok(
        c,
        "secret",
        vec![item(&[("_id", s("sec")), ("word", s("password123"))])],
    )
    .await;
    for (collection, referring) in [("public", "pub0"), ("secret", "sec")] {
        c.insert_references(pb::InsertReferencesRequest {
            collection_id: collection.into(),
            referring_field_key: "people".into(),
            references: vec![pb::Reference {
                referring_item_id: referring.into(),
                referenced_item_id: "p1".into(),
            }],
            ..Default::default()
        })
        .await
        .unwrap();
    }
}

fn pack<M: Message>(message: &M) -> String {
    URL_SAFE_NO_PAD.encode(message.encode_to_vec())
}

/// Hand-made cursors naming `secret` inside a request on `public`: the
/// unsigned format of before, and the signed format with a made-up MAC.
fn forged(op: &str, packed: &str) -> Vec<String> {
    let v1 = serde_json::json!({"v": 1, "op": op, "q": packed, "o": 0});
    let v2 = serde_json::json!({"v": 2, "op": op, "c": "public", "b": {"q": packed, "o": 0}});
    vec![
        URL_SAFE_NO_PAD.encode(v1.to_string()),
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(v2.to_string()),
            URL_SAFE_NO_PAD.encode([7u8; 32])
        ),
    ]
}

fn assert_invalid_cursor(status: &tonic::Status, what: &str) {
    assert_eq!(status.code(), Code::InvalidArgument, "{what}: {status:?}");
    assert_eq!(status.message(), "invalid cursor", "{what}");
    assert_eq!(error_info(status).0, "BAD_REQUEST", "{what}");
}

fn count_op() -> pb::AggregateOperation {
    pb::AggregateOperation {
        result_field_name: "n".into(),
        function: AggregateFunction::Count as i32,
        item_field_name: String::new(),
    }
}

fn aggregate_request(collection: &str) -> pb::AggregateItemsRequest {
    pb::AggregateItemsRequest {
        collection_id: collection.into(),
        grouping_fields: vec!["word".into()],
        operations: vec![count_op()],
        sort: vec![asc("word")],
        ..Default::default()
    }
}

fn distinct_request(collection: &str) -> pb::QueryDistinctValuesRequest {
    pb::QueryDistinctValuesRequest {
        collection_id: collection.into(),
        field_path: "word".into(),
        order: pb::SortOrder::Asc as i32,
        ..Default::default()
    }
}

fn referenced_request(collection: &str) -> pb::QueryReferencedItemsRequest {
    pb::QueryReferencedItemsRequest {
        collection_id: collection.into(),
        referring_field_key: "people".into(),
        order: pb::SortOrder::Asc as i32,
        include_referenced_items: true,
        ..Default::default()
    }
}

#[tokio::test]
async fn forged_cursors_naming_another_collection_are_refused() {
    let store = crate::backend::start().await;
    let mut c = store.client.clone();
    collections(&mut c).await;

    for token in forged("aggregate", &pack(&aggregate_request("secret"))) {
        let mut request = aggregate_request("public");
        request.paging = cursor(10, &token);
        let status = c.aggregate_items(request).await.unwrap_err();
        assert_invalid_cursor(&status, "aggregate");
    }
    for token in forged("distinct", &pack(&distinct_request("secret"))) {
        let mut request = distinct_request("public");
        request.paging = cursor(10, &token);
        let status = c.query_distinct_values(request).await.unwrap_err();
        assert_invalid_cursor(&status, "distinct");
    }
    for token in forged("queryReferenced", &pack(&referenced_request("secret"))) {
        let mut request = referenced_request("public");
        request.paging = cursor(10, &token);
        let status = c.query_referenced_items(request).await.unwrap_err();
        assert_invalid_cursor(&status, "queryReferenced");
    }
    let query = pb::QueryItemsRequest {
        collection_id: "secret".into(),
        sort: vec![asc("_id")],
        ..Default::default()
    };
    let v2 = serde_json::json!({"v": 2, "op": "query", "c": "public",
        "b": {"q": pack(&query), "d": "next", "k": [""]}});
    let token = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(v2.to_string()),
        URL_SAFE_NO_PAD.encode([7u8; 32])
    );
    let request = pb::QueryItemsRequest {
        collection_id: "public".into(),
        paging: cursor(10, &token),
        ..Default::default()
    };
    let status = c.query_items(request).await.unwrap_err();
    assert_invalid_cursor(&status, "query");
}

/// The first page's `next` cursor of each cursor-paged operation on
/// `collection`, with pages of one row.
async fn next_cursors(c: &mut Client, collection: &str) -> [String; 4] {
    let next = |meta: Option<pb::PagingMetadata>| meta.unwrap().cursors.unwrap().next.unwrap();
    let mut request = query_request(collection, None);
    request.paging = cursor(1, "");
    let query = next(
        c.query_items(request)
            .await
            .unwrap()
            .into_inner()
            .paging_metadata,
    );
    let mut request = aggregate_request(collection);
    request.paging = cursor(1, "");
    let aggregate = next(
        c.aggregate_items(request)
            .await
            .unwrap()
            .into_inner()
            .paging_metadata,
    );
    let mut request = distinct_request(collection);
    request.paging = cursor(1, "");
    let distinct = next(
        c.query_distinct_values(request)
            .await
            .unwrap()
            .into_inner()
            .paging_metadata,
    );
    // Referenced items have a second page only with two references or more:
    // then the fourth cursor, else an empty string.
    let mut request = referenced_request(collection);
    request.paging = cursor(1, "");
    let referenced = c
        .query_referenced_items(request)
        .await
        .unwrap()
        .into_inner()
        .paging_metadata
        .unwrap()
        .cursors
        .unwrap()
        .next;
    [query, aggregate, distinct, referenced.unwrap_or_default()]
}

/// Calls each operation on `collection` with the matching cursor; returns
/// the status codes (OK or the error's).
async fn follow(c: &mut Client, collection: &str, cursors: &[String; 4]) -> Vec<Code> {
    let code = |r: Result<(), tonic::Status>| r.map_or_else(|s| s.code(), |()| Code::Ok);
    let request = pb::QueryItemsRequest {
        collection_id: collection.into(),
        paging: cursor(1, &cursors[0]),
        ..Default::default()
    };
    let query = code(c.query_items(request).await.map(drop));
    let mut request = aggregate_request(collection);
    request.paging = cursor(1, &cursors[1]);
    let aggregate = code(c.aggregate_items(request).await.map(drop));
    let mut request = distinct_request(collection);
    request.paging = cursor(1, &cursors[2]);
    let distinct = code(c.query_distinct_values(request).await.map(drop));
    let mut codes = vec![query, aggregate, distinct];
    if !cursors[3].is_empty() {
        let mut request = referenced_request(collection);
        request.paging = cursor(1, &cursors[3]);
        codes.push(code(c.query_referenced_items(request).await.map(drop)));
    }
    codes
}

#[tokio::test]
async fn a_valid_cursor_is_refused_on_another_collection_and_when_tampered() {
    let store = crate::backend::start().await;
    let mut c = store.client.clone();
    collections(&mut c).await;
    // A second reference, so that referenced items have a next page.
    c.insert_references(pb::InsertReferencesRequest {
        collection_id: "public".into(),
        referring_field_key: "people".into(),
        references: vec![pb::Reference {
            referring_item_id: "pub1".into(),
            referenced_item_id: "p2".into(),
        }],
        ..Default::default()
    })
    .await
    .unwrap();
    let cursors = next_cursors(&mut c, "public").await;
    assert!(cursors.iter().all(|c| !c.is_empty()));
    assert_eq!(follow(&mut c, "public", &cursors).await, vec![Code::Ok; 4]);
    // Each cursor on the right collection but the wrong operation.
    let rotated = [
        cursors[1].clone(),
        cursors[2].clone(),
        cursors[3].clone(),
        cursors[0].clone(),
    ];
    assert_eq!(
        follow(&mut c, "public", &rotated).await,
        vec![Code::InvalidArgument; 4]
    );
    // The same cursors presented on another collection.
    assert_eq!(
        follow(&mut c, "secret", &cursors).await,
        vec![Code::InvalidArgument; 4]
    );
    // One bit flipped in the MAC, in the payload, or the MAC cut off.
    let tamper = |token: &String, at: usize| {
        let mut bytes = token.clone().into_bytes();
        bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
        String::from_utf8(bytes).unwrap()
    };
    let tampered_mac = cursors.clone().map(|t| tamper(&t, t.len() - 2));
    let tampered_payload = cursors.clone().map(|t| tamper(&t, 5));
    let unsigned = cursors
        .clone()
        .map(|t| t.split_once('.').unwrap().0.to_owned());
    for set in [tampered_mac, tampered_payload, unsigned] {
        assert_eq!(
            follow(&mut c, "public", &set).await,
            vec![Code::InvalidArgument; 4],
            "{set:?}"
        );
    }
}

#[tokio::test]
async fn cursor_pages_still_cover_every_row() {
    let store = crate::backend::start().await;
    let mut c = store.client.clone();
    collections(&mut c).await;
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let mut request = aggregate_request("public");
        request.paging = cursor(1, &token);
        let response = c.aggregate_items(request).await.unwrap().into_inner();
        seen.extend(response.rows.iter().map(|r| r.fields["word"].clone()));
        match response.paging_metadata.unwrap().cursors.unwrap().next {
            Some(next) => token = next,
            None => break,
        }
    }
    assert_eq!(seen, vec![s("w0"), s("w1"), s("w2"), s("w3")]);
    let mut ids = Vec::new();
    let mut token = String::new();
    loop {
        let mut request = query_request("public", None);
        request.paging = cursor(3, &token);
        if !token.is_empty() {
            request.sort.clear();
        }
        let response = query(&mut c, request).await;
        ids.extend(response.items.iter().map(id_of));
        match response.paging_metadata.unwrap().cursors.unwrap().next {
            Some(next) => token = next,
            None => break,
        }
    }
    assert_eq!(ids, vec!["pub0", "pub1", "pub2", "pub3"]);
}

#[tokio::test]
async fn instances_sharing_a_key_accept_each_others_cursors() {
    let db = crate::backend::TestDb::new().await;
    let a = db.serve(db.open().with_cursor_key(KEY).unwrap()).await;
    let mut ca = a.client.clone();
    collections(&mut ca).await;
    let cursors = next_cursors(&mut ca, "public").await;

    // Same database, same key: a replica serves the cursors.
    let b = db.serve(db.open().with_cursor_key(KEY).unwrap()).await;
    let mut cb = b.client.clone();
    assert_eq!(follow(&mut cb, "public", &cursors).await, vec![Code::Ok; 3]);

    // Same database, another key, or the random default: refused.
    let other = db
        .serve(db.open().with_cursor_key(&[b'x'; 32]).unwrap())
        .await;
    let mut co = other.client.clone();
    assert_eq!(
        follow(&mut co, "public", &cursors).await,
        vec![Code::InvalidArgument; 3]
    );
    let random = db.serve(db.open()).await;
    let mut cr = random.client.clone();
    assert_eq!(
        follow(&mut cr, "public", &cursors).await,
        vec![Code::InvalidArgument; 3]
    );

    // Short keys are refused.
    let short = db.open().with_cursor_key(b"short");
    assert!(short.is_err());
}
