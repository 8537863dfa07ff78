use super::*;

#[test]
fn round_trip() {
    let seal = CursorSeal::new(&[7; 32]);
    let sealed = seal.seal("QueryItems", "books", "inner-cursor");
    assert_eq!(
        seal.open(&sealed, "QueryItems", "books"),
        Ok("inner-cursor".to_owned())
    );
    // Wix may pad; the cursor is still ours.
    assert_eq!(
        seal.open(&format!("{sealed}=="), "QueryItems", "books"),
        Ok("inner-cursor".to_owned())
    );
}

#[test]
fn bound_to_operation_and_collection() {
    let seal = CursorSeal::new(&[7; 32]);
    let sealed = seal.seal("AggregateItems", "books", "c");
    assert_eq!(
        seal.open(&sealed, "QueryDistinctValues", "books"),
        Err(CursorError::OtherOperation)
    );
    assert_eq!(
        seal.open(&sealed, "AggregateItems", "secrets"),
        Err(CursorError::OtherCollection)
    );
    // A collection id that is a prefix of another one is another one.
    assert_eq!(
        seal.open(&sealed, "AggregateItems", "book"),
        Err(CursorError::OtherCollection)
    );
}

#[test]
fn forged_or_foreign_keys_refused() {
    let seal = CursorSeal::new(&[7; 32]);
    let other = CursorSeal::new(&[8; 32]);
    let sealed = other.seal("QueryItems", "books", "c");
    assert_eq!(
        seal.open(&sealed, "QueryItems", "books"),
        Err(CursorError::Forged)
    );
    // Flip one bit of the inner cursor.
    let mut bytes = URL_SAFE_NO_PAD
        .decode(seal.seal("QueryItems", "books", "c"))
        .unwrap();
    let inner_at = bytes.len() - TAG_LEN - 1;
    bytes[inner_at] ^= 1;
    assert_eq!(
        seal.open(&URL_SAFE_NO_PAD.encode(bytes), "QueryItems", "books"),
        Err(CursorError::Forged)
    );
    // A hand-made backend cursor (what the probe sent) is not ours.
    let handmade = URL_SAFE_NO_PAD.encode(br#"{"v":1,"op":"aggregate","q":"","o":0}"#);
    assert!(seal.open(&handmade, "AggregateItems", "books").is_err());
    for junk in ["", "!!!", "a"] {
        assert_eq!(
            seal.open(junk, "QueryItems", "books"),
            Err(CursorError::Malformed),
            "{junk:.10}"
        );
    }
}

#[test]
fn long_ids_and_cursors_round_trip() {
    let seal = CursorSeal::new(&[7; 32]);
    let id = "c".repeat(70_000);
    let inner = "i".repeat(200_000);
    let sealed = seal.seal("QueryItems", &id, &inner);
    let opened = seal.open(&sealed, "QueryItems", &id);
    assert!(
        opened.as_ref().is_ok_and(|o| *o == inner),
        "{:?}",
        opened.map(|o| o.len())
    );
    // A prefix of the id is another collection.
    assert_eq!(
        seal.open(&sealed, "QueryItems", &id[..65_535]),
        Err(CursorError::OtherCollection)
    );
}

#[test]
fn random_keys_differ() {
    let a = CursorSeal::random();
    let b = CursorSeal::random();
    let sealed = a.seal("QueryItems", "books", "c");
    assert!(a.open(&sealed, "QueryItems", "books").is_ok());
    assert_eq!(
        b.open(&sealed, "QueryItems", "books"),
        Err(CursorError::Forged)
    );
}

#[test]
fn refusal_is_a_400_naming_the_field() {
    let e = ApiError::from(CursorError::OtherCollection);
    assert_eq!((e.http_status(), e.error_code()), (400, "BAD_REQUEST"));
    assert!(e.to_string().starts_with("cursorPaging.cursor: "));
}
