use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use serde_json::json;

use super::*;
use crate::legacy::{CallFacts, LegacyEndpoint, LegacyProtocol, LegacySettings};
use crate::{Dispatch, Endpoint, Operation, Reply};
use extdb_contract::pb;

/// The one violation of a `VALIDATION_ERROR`: (fieldPath, rejectedValue).
fn violation(error: &ApiError) -> (String, String) {
    match error {
        ApiError::Validation { violations, .. } if violations.len() == 1 => (
            violations[0].field_path.clone(),
            violations[0].rejected_value.clone(),
        ),
        other => panic!("expected one violation, got {other:?}"),
    }
}

fn root(value: &Value) -> JsonObject<'_> {
    JsonObject::root(value).unwrap()
}

#[test]
fn null_and_absent_members_read_as_defaults() {
    let value = json!({"a": null});
    let object = root(&value);
    for key in ["a", "missing"] {
        assert_eq!(object.string(key).unwrap(), "");
        assert_eq!(object.optional_string(key).unwrap(), None);
        assert!(!object.bool(key).unwrap());
        assert_eq!(object.uint(key).unwrap(), None);
        assert!(object.object(key).unwrap().is_none());
        assert!(object.array(key).unwrap().is_none());
        assert!(object.string_elements(key).unwrap().is_empty());
        assert_eq!(object.wire_enum::<pb::Role>(key).unwrap(), None);
    }
}

#[test]
fn unknown_members_are_ignored() {
    let value = json!({"known": "x", "unknown": {"deeply": [1, 2]}});
    assert_eq!(root(&value).string("known").unwrap(), "x");
}

#[test]
fn wrong_types_are_validation_errors_naming_the_full_path() {
    let value = json!({"outer": {"list": [1, "x", true], "flag": "yes", "n": -1}});
    let outer = root(&value).required_object("outer").unwrap();
    let cases = [
        (
            outer.string_elements("list"),
            "outer.list[0]",
            "1",
            "must be a string",
        ),
        (
            outer.bool("flag").map(|_| Vec::new()),
            "outer.flag",
            "yes",
            "must be a boolean",
        ),
        (
            outer.string("list").map(|_| Vec::new()),
            "outer.list",
            "[1,\"x\",true]",
            "must be a string",
        ),
        (
            outer.string_elements("flag"),
            "outer.flag",
            "yes",
            "must be an array",
        ),
        (
            outer.uint("n").map(|_| Vec::new()),
            "outer.n",
            "-1",
            "must be a non-negative integer",
        ),
    ];
    for (result, path, rejected, problem) in cases {
        let error = result.unwrap_err();
        assert_eq!(error.error_code(), "VALIDATION_ERROR", "{path}");
        assert_eq!(error.http_status(), 400, "{path}");
        assert_eq!(violation(&error), (path.to_owned(), rejected.to_owned()));
        assert_eq!(error.to_string(), format!("{path}: {problem}"));
    }
}

#[test]
fn nested_objects_and_elements_carry_their_paths() {
    let value = json!({"collection": {"fields": [{"key": "a"}, {"key": "b", "type": 3}]}});
    let fields = root(&value)
        .required_object("collection")
        .unwrap()
        .object_elements("fields")
        .unwrap();
    assert_eq!(fields[1].path(), "collection.fields[1]");
    let error = fields[1].string("type").unwrap_err();
    assert_eq!(violation(&error).0, "collection.fields[1].type");

    let value = json!({"list": [{}, 7]});
    let error = root(&value).object_elements("list").unwrap_err();
    assert_eq!(error.to_string(), "list[1]: must be an object");
}

#[test]
fn required_strings_and_objects() {
    let value = json!({"s": "x", "empty": "", "number": 7, "o": {}});
    let object = root(&value);
    assert_eq!(object.required_string("s").unwrap(), "x");
    // Absent, empty and wrong type are one and the same error.
    for key in ["missing", "empty", "number"] {
        let error = object.required_string(key).unwrap_err();
        assert_eq!(error.error_code(), "VALIDATION_ERROR");
        assert_eq!(
            error.to_string(),
            format!("{key}: is required and must be a non-empty string")
        );
    }
    assert!(object.required_object("o").is_ok());
    let error = object.required_object("missing").unwrap_err();
    assert_eq!(error.to_string(), "missing: is required");
    let error = object.required_object("s").unwrap_err();
    assert_eq!(error.to_string(), "s: must be an object");
}

#[test]
fn unsigned_integers_take_every_proto3_form_and_bounds() {
    let value = json!({"a": 25, "b": 25.0, "c": "25", "d": 2.5, "e": "x", "big": 5_000_000_000u64});
    let object = root(&value);
    for key in ["a", "b", "c"] {
        assert_eq!(object.uint(key).unwrap(), Some(25), "{key}");
    }
    for key in ["d", "e"] {
        let error = object.uint(key).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!("{key}: must be a non-negative integer")
        );
    }
    assert_eq!(object.uint("big").unwrap(), Some(5_000_000_000));
    let error = object.u32("big").unwrap_err();
    assert_eq!(violation(&error), ("big".into(), "5000000000".into()));
    assert_eq!(error.to_string(), "big: is too large");
}

#[test]
fn enums_by_wire_name() {
    let value = json!({"good": "ADMIN", "bad": "EVERYONE", "number": 1});
    let object = root(&value);
    assert_eq!(
        object.wire_enum::<pb::Role>("good").unwrap(),
        Some(pb::Role::Admin)
    );
    let error = object.wire_enum::<pb::Role>("bad").unwrap_err();
    assert_eq!(violation(&error), ("bad".into(), "EVERYONE".into()));
    assert!(
        error.to_string().starts_with("bad: must be one of "),
        "{error}"
    );
    let error = object.wire_enum::<pb::Role>("number").unwrap_err();
    assert_eq!(error.to_string(), "number: must be a string");
}

#[test]
fn a_request_that_is_not_an_object_is_a_bad_request() {
    // There is no field to name, so no violation to carry.
    let error = JsonObject::root(&json!([])).err().unwrap();
    assert_eq!(error.error_code(), "BAD_REQUEST");
    assert_eq!(error.to_string(), "request must be a JSON object");
}

// ------------------------------------------- one convention on every decoder

/// Errors of every decoder for the same problem: a v3 items endpoint, a v3
/// schema endpoint and a legacy endpoint.
fn v3_items(request: Value) -> ApiError {
    crate::items::decode(Endpoint::ItemsRemove, &request, pb::CallContext::default())
        .expect_err("items decoded")
}

fn v3_schema(request: Value) -> ApiError {
    crate::schema::decode(
        Endpoint::CollectionsGet,
        &request,
        pb::CallContext::default(),
    )
    .expect_err("schema decoded")
}

/// Answers nothing: every request here fails before it is dispatched.
struct NoBackend;

impl Dispatch for NoBackend {
    fn dispatch(&self, op: Operation) -> impl Future<Output = Result<Reply, ApiError>> + Send {
        std::future::ready(Err(ApiError::Internal {
            message: format!("dispatched {op:?}"),
        }))
    }
}

fn legacy(endpoint: LegacyEndpoint, request: Value) -> ApiError {
    let protocol = LegacyProtocol::new(LegacySettings::default());
    let call = protocol
        .parse(endpoint, request.to_string().as_bytes())
        .unwrap();
    // Every caller passes: only decoding is under test here.
    let call = protocol.authorize(call, |_, _| Ok(())).unwrap();
    let mut facts = CallFacts::default();
    let future = pin!(protocol.serve(call, &NoBackend, &mut facts));
    // Nothing here waits (the backend answers at once): one poll ends it.
    match future.poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(result) => result.expect_err("legacy served"),
        Poll::Pending => panic!("legacy serve did not finish"),
    }
}

fn assert_same_convention(errors: [(ApiError, &str); 3], problem: &str) {
    for (error, path) in errors {
        assert_eq!(error.error_code(), "VALIDATION_ERROR", "{path}: {error}");
        assert_eq!(error.http_status(), 400, "{path}");
        assert_eq!(crate::legacy::legacy_status(&error), 400, "{path}");
        assert_eq!(violation(&error).0, path);
        assert_eq!(error.to_string(), format!("{path}: {problem}"));
    }
}

#[test]
fn a_number_where_a_string_is_expected_reads_the_same_everywhere() {
    assert_same_convention(
        [
            (
                v3_items(json!({"collectionId": "c", "itemIds": ["a", 7]})),
                "itemIds[1]",
            ),
            (
                v3_schema(json!({"collectionIds": ["a", 7]})),
                "collectionIds[1]",
            ),
            (
                legacy(
                    LegacyEndpoint::DataRemoveBulk,
                    json!({"collectionName": "c", "itemIds": ["a", 7]}),
                ),
                "itemIds[1]",
            ),
        ],
        "must be a string",
    );
}

#[test]
fn a_string_where_an_array_is_expected_reads_the_same_everywhere() {
    assert_same_convention(
        [
            (
                v3_items(json!({"collectionId": "c", "itemIds": "a"})),
                "itemIds",
            ),
            (v3_schema(json!({"collectionIds": "a"})), "collectionIds"),
            (
                legacy(LegacyEndpoint::SchemasFind, json!({"schemaIds": "a"})),
                "schemaIds",
            ),
        ],
        "must be an array",
    );
}

#[test]
fn a_missing_required_string_reads_the_same_everywhere() {
    assert_same_convention(
        [
            (v3_items(json!({"collectionId": 7})), "collectionId"),
            (
                crate::schema::decode(
                    Endpoint::CollectionsDelete,
                    &json!({}),
                    pb::CallContext::default(),
                )
                .expect_err("schema decoded"),
                "collectionId",
            ),
            (
                legacy(LegacyEndpoint::DataFind, json!({"collectionName": ""})),
                "collectionName",
            ),
        ],
        "is required and must be a non-empty string",
    );
}
