use serde_json::json;

use super::*;
use crate::testing::{books, resolve_one};

#[test]
fn defaults_come_from_aip_names_and_annotations() {
    let mapping = resolve_one(
        "books",
        json!({"service": "library.v1.BookService", "parent": {"shelf": "main"}}),
    )
    .expect("resolves");
    let books = &mapping.collections["books"];
    assert_eq!(books.resource.full_name(), "library.v1.Book");
    // The pattern comes from google.api.resource; the id is its last variable.
    assert_eq!(
        books.pattern.name("b1", &Default::default()).as_deref(),
        Ok("shelves/main/books/b1")
    );
    let list = books.list.as_ref().expect("ListBooks");
    assert_eq!(list.method.name(), "ListBooks");
    for (found, name) in [
        (&list.filter, "filter"),
        (&list.order_by, "order_by"),
        (&list.skip, "skip"),
        (&list.read_mask, "read_mask"),
        (&list.total_size, "total_size"),
    ] {
        assert_eq!(found.as_ref().map(|f| f.name()), Some(name));
    }
    let create = books.create.as_ref().expect("CreateBook");
    assert_eq!(create.id.as_ref().map(|f| f.name()), Some("book_id"));
    assert_eq!(
        create.request_id.as_ref().map(|f| f.name()),
        Some("request_id")
    );
    assert_eq!(
        books
            .update
            .as_ref()
            .and_then(|u| u.mask.as_ref())
            .map(|f| f.name()),
        Some("update_mask")
    );
    assert_eq!(
        books
            .delete
            .as_ref()
            .and_then(|d| d.etag.as_ref())
            .map(|f| f.name()),
        Some("etag")
    );
    assert_eq!(
        books.data_operations(),
        vec![
            DataOperation::Query,
            DataOperation::Count,
            DataOperation::Insert,
            DataOperation::Update,
            DataOperation::Remove,
            DataOperation::Truncate
        ]
    );
    let purge = books.purge.as_ref().expect("PurgeBooks (AIP-165)");
    assert_eq!(purge.method.name(), "PurgeBooks");
    assert_eq!(purge.parent.as_ref().map(|f| f.name()), Some("parent"));
    // Without `fields`: every top-level field under its own name, the
    // AIP-148 timestamps under Wix's keys, the etag hidden, nothing
    // filterable or sortable (that cannot be discovered).
    let keys: Vec<&str> = books.fields.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "_createdDate",
            "_updatedDate",
            "author",
            "available",
            "etag",
            "extra",
            "genre",
            "isbn",
            "page_count",
            "publish_time",
            "publisher",
            "rating",
            "shelf_code",
            "subtitle",
            "tags",
            "title"
        ]
    );
    assert!(books.field("etag").is_none(), "hidden");
    assert!(
        books
            .fields
            .values()
            .all(|f| f.operators.is_empty() && !f.sortable)
    );
    // field_behavior: OUTPUT_ONLY is read-only, IMMUTABLE stays out of masks.
    assert!(books.fields["_createdDate"].read_only);
    assert!(books.fields["_updatedDate"].read_only);
    assert!(!books.fields["title"].read_only);
    assert!(books.fields["shelf_code"].immutable && !books.fields["shelf_code"].read_only);
    assert_eq!(books.fields["tags"].wix_type, FieldType::ArrayString);
    assert_eq!(books.fields["publisher"].wix_type, FieldType::Object);
    assert_eq!(books.fields["extra"].wix_type, FieldType::Any);
    assert_eq!(books.fields["publish_time"].wix_type, FieldType::Datetime);
    assert_eq!(books.fields["genre"].wix_type, FieldType::Text);
}

#[test]
fn a_minimal_api_maps_to_fewer_operations() {
    let mapping =
        resolve_one("shelves", json!({"service": "library.v1.ShelfService"})).expect("resolves");
    let shelves = &mapping.collections["shelves"];
    let list = shelves.list.as_ref().expect("ListShelves");
    assert!(list.filter.is_none() && list.order_by.is_none() && list.skip.is_none());
    assert!(list.total_size.is_none() && list.parent.is_none());
    assert!(
        shelves
            .pattern
            .parent(&Default::default())
            .expect("no context needed")
            .is_none()
    );
    // No total_size: no count; no UpdateShelf: no update.
    assert_eq!(
        shelves.data_operations(),
        vec![
            DataOperation::Query,
            DataOperation::Insert,
            DataOperation::Remove
        ]
    );
}

#[test]
fn configured_fields_resolve_paths_operators_and_sorting() {
    let books = books();
    let city = books.field("city").expect("mapped");
    assert_eq!(city.backend_path(), "publisher.city");
    assert_eq!(city.operators, [FilterOp::Eq].into_iter().collect());
    assert_eq!(books.fields["pages"].backend_path(), "page_count");
    assert!(books.fields["pages"].sortable);
    assert_eq!(
        books
            .field_at_backend_path("page_count")
            .map(|f| f.key.as_str()),
        Some("pages")
    );
    assert!(books.field("etag").is_none() && books.fields.contains_key("etag"));
    assert_eq!(books.paging_mode(), PagingMode::Cursor);
}

fn problems_of(collection: serde_json::Value) -> Vec<String> {
    match resolve_one("books", collection) {
        Ok(_) => panic!("expected problems"),
        Err(problems) => problems,
    }
}

fn assert_reported(problems: &[String], path: &str, words: &str) {
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with(&format!("{path}: ")) && p.contains(words)),
        "expected a problem at {path} mentioning {words:?}; got {problems:#?}"
    );
}

#[test]
fn every_mistake_is_reported_at_once_by_its_config_path() {
    let problems = problems_of(json!({
        "service": "library.v1.BookService",
        "parent": {"shelf": "main"},
        "methods": {"get": "FetchBook"},
        "list": {"filter": "query", "total_size": "count"},
        "fields": {
            "title": {"filter": ["lt", "has_some"]},
            "available": {"filter": ["gt"]},
            "tags": {"sortable": true, "filter": ["eq"]},
            "ghost": {"path": "no_such_field"},
            "deep": {"path": "tags.inner"},
            "name": {"path": "name"},
            "_id": {"filter": ["lt"]},
        },
    }));
    let at = |key: &str| format!("aip.collections.books.{key}");
    assert_reported(&problems, &at("methods.get"), "has no method \"FetchBook\"");
    assert_reported(&problems, &at("list.filter"), "has no field \"query\"");
    assert_reported(&problems, &at("list.total_size"), "has no field \"count\"");
    assert_reported(
        &problems,
        &at("fields.title.filter"),
        "`has_some` cannot be pushed down",
    );
    assert_reported(
        &problems,
        &at("fields.available.filter"),
        "`gt` cannot be pushed down on available (bool)",
    );
    assert_reported(
        &problems,
        &at("fields.tags.filter"),
        "`eq` cannot be pushed down",
    );
    assert_reported(
        &problems,
        &at("fields.tags.sortable"),
        "cannot be ordered by",
    );
    assert_reported(
        &problems,
        &at("fields.ghost.path"),
        "no field path \"no_such_field\"",
    );
    assert_reported(
        &problems,
        &at("fields.deep.path"),
        "no field path \"tags.inner\"",
    );
    assert_reported(
        &problems,
        &at("fields.name.path"),
        "the name field is _id already",
    );
    assert_reported(
        &problems,
        &at("fields._id.filter"),
        "`lt` is not supported on _id",
    );
    assert_eq!(problems.len(), 11, "{problems:#?}");
}

#[test]
fn the_service_the_pattern_and_its_parent_are_checked() {
    let problems = problems_of(json!({"service": "library.v1.Bookz"}));
    assert_reported(
        &problems,
        "aip.collections.books.service",
        "no service \"library.v1.Bookz\"",
    );
    assert_reported(
        &problems,
        "aip.collections.books.service",
        "library.v1.BookService",
    );

    let problems = problems_of(json!({"service": "library.v1.BookService"}));
    assert_reported(
        &problems,
        "aip.collections.books.parent.shelf",
        "needs a value",
    );

    let problems = problems_of(json!({
        "service": "library.v1.BookService",
        "parent": {"shelf": "{context.nope}", "other": "x"},
    }));
    assert_reported(
        &problems,
        "aip.collections.books.parent.shelf",
        "unknown placeholder {context.nope}",
    );
    assert_reported(
        &problems,
        "aip.collections.books.parent.other",
        "not a parent variable",
    );

    let problems = problems_of(json!({
        "service": "library.v1.BookService",
        "parent": {"shelf": "main"},
        "id_variable": "volume",
    }));
    assert_reported(
        &problems,
        "aip.collections.books.id_variable",
        "\"volume\" is not a variable",
    );

    let problems = problems_of(json!({
        "service": "library.v1.BookService",
        "resource": "library.v1.Shelf",
        "methods": {"list": "ListBooks", "get": "GetBook", "create": "", "update": "", "delete": ""},
    }));
    assert_reported(
        &problems,
        "aip.collections.books.methods.list",
        "no repeated library.v1.Shelf field",
    );
    assert_reported(
        &problems,
        "aip.collections.books.methods.get",
        "returns library.v1.Book, not the resource library.v1.Shelf",
    );
}

#[test]
fn offset_paging_needs_skip_and_update_needs_a_mask() {
    let problems = problems_of(json!({
        "service": "library.v1.ShelfService",
        "paging": "offset",
        "methods": {"update": "CreateShelf"},
    }));
    assert_reported(
        &problems,
        "aip.collections.books.paging",
        "needs the List request's `skip`",
    );
    assert_reported(
        &problems,
        "aip.collections.books.update.mask_field",
        "has no FieldMask update_mask",
    );
}

#[test]
fn a_purge_must_be_aip165_shaped() {
    let problems = problems_of(json!({
        "service": "library.v1.BookService",
        "parent": {"shelf": "main"},
        "methods": {"purge": "DeleteBook"},
    }));
    assert_reported(
        &problems,
        "aip.collections.books.methods.purge",
        "needs a string `filter` and a bool `force`",
    );
}

#[test]
fn an_empty_method_name_switches_the_operation_off() {
    let mapping = resolve_one(
        "books",
        json!({
            "service": "library.v1.BookService",
            "parent": {"shelf": "main"},
            "methods": {"create": "", "update": "", "delete": "", "purge": ""},
            "list": {"total_size": ""},
        }),
    )
    .expect("resolves");
    assert_eq!(
        mapping.collections["books"].data_operations(),
        vec![DataOperation::Query]
    );
    let problems = problems_of(json!({
        "service": "library.v1.BookService",
        "parent": {"shelf": "main"},
        "methods": {"list": "", "get": ""},
    }));
    assert_reported(
        &problems,
        "aip.collections.books.methods",
        "nothing can be read",
    );
}

#[test]
fn static_problems_need_no_descriptors() {
    let config = crate::testing::aip_config(json!({
        "descriptors": {"reflection": true, "descriptor_set": "x.pb"},
        "write_concurrency": 0,
        "collections": {"books": {
            "service": "library.v1.BookService",
            "max_terms": 0,
            "wildcards": {"mode": "prefix_suffix"},
            "fields": {"a.b": {}, "title": {"filter": ["like"]}},
        }},
    }));
    let problems: Vec<String> = config.problems().iter().map(ToString::to_string).collect();
    assert_reported(&problems, "aip.descriptors", "exactly one");
    assert_reported(&problems, "aip.write_concurrency", "between 1 and 256");
    assert_reported(
        &problems,
        "aip.collections.books.max_terms",
        "between 1 and 1000",
    );
    assert_reported(
        &problems,
        "aip.collections.books.wildcards.case_insensitive",
        "case-insensitive",
    );
    assert_reported(&problems, "aip.collections.books.fields.a.b", "plain name");
    assert_reported(
        &problems,
        "aip.collections.books.fields.title.filter",
        "unknown operator `like`",
    );
    assert_eq!(problems.len(), 6, "{problems:#?}");
}

#[test]
fn wix_types_of_backend_fields() {
    let pool = crate::testing::library_pool();
    let book = pool.get_message_by_name("library.v1.Book").expect("Book");
    let ty = |name: &str| wix_type(&book.get_field_by_name(name).expect("field"));
    assert_eq!(ty("title"), Some(FieldType::Text));
    assert_eq!(ty("page_count"), Some(FieldType::Number));
    assert_eq!(ty("isbn"), Some(FieldType::Number));
    assert_eq!(ty("available"), Some(FieldType::Boolean));
    assert_eq!(ty("create_time"), Some(FieldType::Datetime));
    let empty = pool
        .get_message_by_name("google.protobuf.Empty")
        .expect("Empty");
    let mask = pool
        .get_message_by_name("google.protobuf.FieldMask")
        .expect("FieldMask");
    assert!(empty.fields().next().is_none());
    assert_eq!(
        wix_type(&mask.get_field_by_name("paths").expect("paths")),
        Some(FieldType::ArrayString)
    );
}

#[test]
fn the_resource_its_name_field_and_the_methods_requests_are_checked() {
    let at = |key: &str| format!("aip.collections.books.{key}");
    let problems = problems_of(json!({
        "service": "library.v1.BookService",
        "resource": "library.v1.Nope",
    }));
    assert_reported(&problems, &at("resource"), "no message \"library.v1.Nope\"");

    let problems = problems_of(json!({
        "service": "library.v1.BookService",
        "name_field": "title_of_the_book",
    }));
    assert_reported(
        &problems,
        &at("name_field"),
        "library.v1.Book has no field \"title_of_the_book\"",
    );

    let problems = problems_of(json!({
        "service": "library.v1.BookService",
        "name_field": "page_count",
        "parent": {"shelf": "main"},
    }));
    assert_reported(
        &problems,
        &at("name_field"),
        "\"page_count\" is not a string field",
    );

    // A message without a google.api.resource annotation needs a pattern.
    let problems = problems_of(json!({
        "service": "library.v1.BookService",
        "resource": "library.v1.Publisher",
    }));
    assert_reported(
        &problems,
        &at("pattern"),
        "library.v1.Publisher has no google.api.resource pattern",
    );

    // A Get whose request has no `name`.
    let problems = problems_of(json!({
        "service": "library.v1.BookService",
        "parent": {"shelf": "main"},
        "methods": {"get": "PurgeBooks"},
    }));
    assert_reported(
        &problems,
        &at("methods.get"),
        "library.v1.PurgeBooksRequest has no field \"name\"",
    );
}
