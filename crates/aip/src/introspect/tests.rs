use super::*;
use crate::testing::library_pool;

fn descriptors() -> Descriptors {
    Descriptors {
        pool: library_pool(),
        digest: "d1g3st".into(),
        source: "test".into(),
    }
}

fn starter() -> String {
    let source = DescriptorSourceConfig {
        reflection: true,
        ..Default::default()
    };
    starter_yaml(&descriptors(), "library", "http://127.0.0.1:50061", &source)
}

#[test]
fn every_resource_service_gets_a_collection() {
    let yaml = starter();
    for line in [
        "upstreams:",
        "  library:",
        "    kind: aip",
        "    endpoint: http://127.0.0.1:50061",
        "        reflection: true",
        "        books:",
        "          service: library.v1.BookService",
        "          resource: library.v1.Book",
        "          # pattern from google.api.resource",
        "            shelf: CHANGE-ME",
        "          # methods (AIP names): list: ListBooks, get: GetBook, create: CreateBook, update: UpdateBook, delete: DeleteBook",
        "          # ListBooksRequest has: filter, order_by, skip, read_mask, total_size",
        "          paging: cursor  # offset also possible: the List request has skip",
        "        shelves:",
        "          service: library.v1.ShelfService",
        "          # methods (AIP names): list: ListShelves, get: GetShelf, create: CreateShelf, update: -, delete: DeleteShelf",
        "          # ListShelvesRequest has: page_size and page_token only",
    ] {
        assert!(
            yaml.lines().any(|l| l == line),
            "missing line {line:?} in\n{yaml}"
        );
    }
    assert!(yaml.contains("d1g3st"), "the digest is recorded");
}

#[test]
fn fields_promise_nothing_the_backend_has_not_confirmed() {
    let yaml = starter();
    let line = |key: &str| {
        yaml.lines()
            .find(|l| l.trim_start().starts_with(&format!("{key}: {{")))
            .unwrap_or_else(|| panic!("no field line for {key} in\n{yaml}"))
            .to_owned()
    };
    assert!(line("title").contains(
        "{ path: title }  # TEXT; filter possible: eq, ne, lt, lte, gt, gte, in; sortable possible"
    ));
    assert!(line("available").contains("filter possible: eq, ne;"));
    assert!(line("tags").contains("ARRAY_STRING; filter possible: has_some, has_all"));
    assert!(!line("tags").contains("sortable"));
    assert!(
        line("_createdDate").contains("path: create_time")
            && line("_createdDate").contains("read-only")
    );
    assert!(line("shelf_code").contains("IMMUTABLE"));
    assert!(line("etag").contains("hidden: true"));
    // Shelves cannot be filtered or ordered at all: no promises there.
    let theme = yaml
        .lines()
        .filter(|l| l.contains("{ path: theme }"))
        .collect::<Vec<_>>();
    assert_eq!(theme.len(), 1);
    assert!(!theme[0].contains("possible"), "{}", theme[0]);
    // Nothing is switched on.
    assert!(!yaml.contains("sortable: true") && !yaml.contains("filter: ["));
}

#[test]
fn the_descriptor_source_is_written_back() {
    let source = DescriptorSourceConfig {
        proto: Some(crate::config::ProtoSourceConfig {
            include: vec!["proto".into(), "third party".into()],
            files: vec!["library/v1/library.proto".into()],
        }),
        ..Default::default()
    };
    let yaml = starter_yaml(&descriptors(), "lib", "http://x:1", &source);
    assert!(
        yaml.contains("          include: [proto, \"third party\"]\n"),
        "{yaml}"
    );
    assert!(
        yaml.contains("          files: [library/v1/library.proto]\n"),
        "{yaml}"
    );
}

#[test]
fn a_pool_without_resources_says_so() {
    let bytes = crate::descriptors::compile_protos(
        &[crate::testing::library_proto_root()],
        &["google/api/field_behavior.proto"],
    )
    .expect("compiles");
    let descriptors = Descriptors {
        pool: DescriptorPool::decode(bytes.as_slice()).expect("decodes"),
        digest: "x".into(),
        source: "test".into(),
    };
    let yaml = starter_yaml(
        &descriptors,
        "u",
        "http://x:1",
        &DescriptorSourceConfig::default(),
    );
    assert!(yaml.contains("collections: {}"), "{yaml}");
}
