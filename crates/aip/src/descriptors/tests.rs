use std::cell::RefCell;

use super::*;
use crate::testing::library_proto_root;

fn library_set() -> Vec<u8> {
    compile_protos(&[library_proto_root()], &["library/v1/library.proto"]).expect("compiles")
}

#[test]
fn a_compiled_set_keeps_imports_and_custom_options() {
    let files = split_file_descriptor_set(&library_set()).expect("splits");
    for name in [
        "library/v1/library.proto",
        "google/api/resource.proto",
        "google/api/field_behavior.proto",
        "google/protobuf/descriptor.proto",
        "google/protobuf/timestamp.proto",
    ] {
        assert!(
            files.contains_key(name),
            "{name} missing from {:?}",
            files.keys()
        );
    }
    let descriptors = decode(files, "test".into()).expect("decodes");
    let book = descriptors
        .pool
        .get_message_by_name("library.v1.Book")
        .expect("Book");
    let resource = descriptors
        .pool
        .get_extension_by_name("google.api.resource")
        .expect("extension");
    assert!(
        book.options().has_extension(&resource),
        "custom options survive decoding"
    );
    assert_eq!(descriptors.digest.len(), 64);
}

#[test]
fn the_digest_names_the_exact_files() {
    let files = split_file_descriptor_set(&library_set()).expect("splits");
    let a = decode(files.clone(), "a".into()).expect("decodes").digest;
    let b = decode(files.clone(), "b".into()).expect("decodes").digest;
    assert_eq!(a, b, "the source does not change the digest");
    let mut changed = files;
    let bytes = changed
        .get_mut("library/v1/library.proto")
        .expect("present");
    let mut proto = <prost_types::FileDescriptorProto as prost::Message>::decode(bytes.as_slice())
        .expect("decodes");
    let publisher = proto
        .message_type
        .iter_mut()
        .find(|m| m.name() == "Publisher")
        .expect("Publisher");
    publisher.field[1].name = Some("town".into());
    *bytes = prost::Message::encode_to_vec(&proto);
    // One field renamed: still a valid set, a different API.
    let c = decode(changed, "c".into()).expect("decodes").digest;
    assert_ne!(a, c);
}

#[test]
fn broken_sets_and_sources_are_refused() {
    let set = library_set();
    assert!(matches!(
        split_file_descriptor_set(&set[..set.len() - 3]),
        Err(DescriptorError::Invalid(_))
    ));
    assert!(matches!(
        split_file_descriptor_set(&[0x10, 0x01]),
        Err(DescriptorError::Invalid(_))
    ));
    let mut files = split_file_descriptor_set(&set).expect("splits");
    files.remove("google/protobuf/timestamp.proto");
    assert!(matches!(
        decode(files, "x".into()),
        Err(DescriptorError::Invalid(_))
    ));
    let missing = compile_protos(&[library_proto_root()], &["library/v1/nope.proto"]);
    assert!(matches!(missing, Err(DescriptorError::Compile(_))));
}

#[tokio::test]
async fn imports_are_fetched_by_name_until_closed() {
    let all = split_file_descriptor_set(&library_set()).expect("splits");
    let start: BTreeMap<String, Vec<u8>> = all
        .iter()
        .filter(|(name, _)| *name == "library/v1/library.proto")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let asked = RefCell::new(Vec::new());
    let closed = close_over_imports(start.clone(), 100, |name| {
        asked.borrow_mut().push(name.clone());
        let answer = all
            .get(&name)
            .map(|b| vec![(name.clone(), b.clone())])
            .unwrap_or_default();
        async move { Ok(answer) }
    })
    .await
    .expect("closes");
    assert_eq!(closed, all);
    let asked = asked.into_inner();
    let mut unique = asked.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        asked.len(),
        "each file fetched once: {asked:?}"
    );

    let missing = close_over_imports(start.clone(), 100, |_| async { Ok(Vec::new()) }).await;
    assert!(matches!(missing, Err(DescriptorError::Reflection(m)) if m.contains("did not return")));
    let limited = close_over_imports(start, 2, |name| {
        let answer = all
            .get(&name)
            .map(|b| vec![(name.clone(), b.clone())])
            .unwrap_or_default();
        async move { Ok(answer) }
    })
    .await;
    assert!(
        matches!(limited, Err(DescriptorError::Reflection(m)) if m.contains("more than 2 files"))
    );
}
