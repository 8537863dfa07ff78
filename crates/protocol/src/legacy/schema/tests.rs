use super::*;
use pb::DataOperation as D;
use pb::FieldType as T;
use pb::Operator as O;

fn field(key: &str, t: T, ops: &[O]) -> pb::Field {
    pb::Field {
        key: key.into(),
        r#type: t as i32,
        capabilities: Some(pb::FieldCapabilities {
            sortable: true,
            query_operators: ops.iter().map(|o| *o as i32).collect(),
        }),
        ..Default::default()
    }
}

fn style(dialect: LegacyDialect) -> SchemaStyle {
    SchemaStyle {
        ttl_seconds: 600,
        dialect,
    }
}

#[test]
fn schema_object_from_a_collection() {
    let collection = pb::Collection {
        id: "suppliers".into(),
        display_name: "Suppliers".into(),
        fields: vec![
            field(
                "_id",
                T::Text,
                &[O::Eq, O::Ne, O::HasSome, O::StartsWith, O::In],
            ),
            pb::Field {
                display_name: "Since".into(),
                ..field("since", T::Datetime, &[O::Eq, O::Gt, O::Exists, O::HasAll])
            },
            field("tags", T::ArrayString, &[]),
            pb::Field {
                capabilities: None,
                ..field("n", T::Number, &[])
            },
        ],
        capabilities: Some(pb::CollectionCapabilities {
            data_operations: [
                D::Query,
                D::Count,
                D::Insert,
                D::Update,
                D::Remove,
                D::Aggregate,
            ]
            .iter()
            .map(|o| *o as i32)
            .collect(),
        }),
        ..Default::default()
    };
    assert_eq!(
        schema(&collection, style(LegacyDialect::V2)),
        json!({
            "id": "suppliers",
            "displayName": "Suppliers",
            "allowedOperations": ["get", "find", "count", "update", "insert", "remove", "bulkInsert", "bulkUpdate", "bulkRemove"],
            "maxPageSize": 50,
            "ttl": 600,
            "fields": {
                "_id": {"displayName": "_id", "type": "text", "queryOperators": ["eq", "ne", "hasSome", "startsWith"]},
                "since": {"displayName": "Since", "type": "datetime", "queryOperators": ["eq", "gt", "isEmpty", "isNotEmpty"]},
                "tags": {"displayName": "tags", "type": "object", "queryOperators": []},
                "n": {"displayName": "n", "type": "number", "queryOperators": []},
            }
        })
    );
    assert_eq!(
        schema(&collection, style(LegacyDialect::V1))["allowedOperations"],
        json!(["get", "find", "count", "update", "insert", "remove"])
    );
    assert_eq!(
        header(&collection, style(LegacyDialect::V2)),
        json!({"id": "suppliers", "displayName": "Suppliers", "maxPageSize": 50, "ttl": 600})
    );
}

#[test]
fn read_only_and_capability_less_collections() {
    let mut c = pb::Collection {
        id: "audit".into(),
        capabilities: Some(pb::CollectionCapabilities {
            data_operations: vec![D::Query as i32, D::Count as i32],
        }),
        ..Default::default()
    };
    assert_eq!(
        allowed_operations(&c, LegacyDialect::V2),
        ["get", "find", "count"]
    );
    c.capabilities = None;
    assert!(allowed_operations(&c, LegacyDialect::V2).is_empty());
}

#[test]
fn every_type_has_a_legacy_name() {
    let expected = [
        (T::Unspecified, "object"),
        (T::Text, "text"),
        (T::Number, "number"),
        (T::Date, "text"),
        (T::Datetime, "datetime"),
        (T::Image, "image"),
        (T::Boolean, "boolean"),
        (T::Document, "text"),
        (T::Url, "url"),
        (T::RichText, "text"),
        (T::Video, "text"),
        (T::Any, "object"),
        (T::ArrayString, "object"),
        (T::ArrayDocument, "object"),
        (T::Audio, "text"),
        (T::Time, "text"),
        (T::Language, "text"),
        (T::RichContent, "object"),
        (T::MediaGallery, "object"),
        (T::Address, "object"),
        (T::Reference, "text"),
        (T::MultiReference, "object"),
        (T::Object, "object"),
        (T::Array, "object"),
    ];
    for (t, name) in expected {
        assert_eq!(legacy_type(&field("f", t, &[])), name, "{t:?}");
    }
    // A type from a newer contract.
    let newer = pb::Field {
        r#type: 99,
        ..Default::default()
    };
    assert_eq!(legacy_type(&newer), "object");
}

#[test]
fn column_types_map_back() {
    let ty = |json: Value| {
        let column = JsonObject::with_expectation(&json, "column".into(), COLUMN_SHAPE)?;
        column_field(&column).map(|f| f.r#type)
    };
    let cases = [
        (
            json!({"name": "a", "type": "text", "subtype": "string"}),
            T::Text,
        ),
        (json!({"name": "a", "type": "string"}), T::Text),
        (
            json!({"name": "a", "type": "NUMBER", "subtype": "int", "precision": 5}),
            T::Number,
        ),
        (json!({"name": "a", "type": "boolean"}), T::Boolean),
        (json!({"name": "a", "type": "url"}), T::Url),
        (json!({"name": "a", "type": "image"}), T::Image),
        (json!({"name": "a", "type": "object"}), T::Object),
        (json!({"name": "a", "type": "datetime"}), T::Datetime),
        (
            json!({"name": "a", "type": "datetime", "subtype": "timestamp"}),
            T::Datetime,
        ),
        (
            json!({"name": "a", "type": "datetime", "subtype": "date"}),
            T::Date,
        ),
        (
            json!({"name": "a", "type": "datetime", "subtype": "time"}),
            T::Time,
        ),
    ];
    for (json, expected) in cases {
        assert_eq!(ty(json.clone()).unwrap(), expected as i32, "{json}");
    }
    for (bad, at) in [
        (json!({"name": "a", "type": "blob"}), "column.type"),
        (json!({"name": "a"}), "column.type"),
        (json!({"type": "text"}), "column.name"),
        (json!({"name": "", "type": "text"}), "column.name"),
        (json!("a"), "column"),
    ] {
        let e = ty(bad.clone()).unwrap_err();
        assert_eq!(e.http_status(), 400, "{bad}");
        assert!(e.to_string().starts_with(&format!("{at}:")), "{bad}: {e}");
    }
}
