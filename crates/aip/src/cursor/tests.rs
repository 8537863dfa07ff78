use base64::Engine;

use super::*;

fn state() -> CursorState {
    CursorState {
        collection: "books".into(),
        page_token: "backend-token".into(),
        filter: "rating >= 4".into(),
        order_by: "title".into(),
        read_mask: vec!["title".into()],
        limit: 25,
        fields: vec!["title".into()],
        parent: "shelves/main".into(),
    }
}

fn bad(result: Result<CursorState, AipError>) -> String {
    match result {
        Err(AipError::BadCursor(why)) => why,
        other => panic!("expected a bad cursor, got {other:?}"),
    }
}

#[test]
fn a_sealed_cursor_opens_to_the_same_state() {
    let key = CursorKey::new(b"secret");
    let cursor = key.seal(&state());
    assert!(
        cursor
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    assert_eq!(key.open(&cursor, "books").expect("opens"), state());
}

#[test]
fn any_change_is_refused() {
    let key = CursorKey::new(b"secret");
    let cursor = key.seal(&state());
    let mut bytes = URL_SAFE_NO_PAD.decode(&cursor).expect("base64url");
    // Flip one bit in every position in turn: none may open.
    for at in 0..bytes.len() {
        bytes[at] ^= 1;
        let tampered = URL_SAFE_NO_PAD.encode(&bytes);
        assert!(
            key.open(&tampered, "books").is_err(),
            "byte {at} changed but accepted"
        );
        bytes[at] ^= 1;
    }
    assert_eq!(
        bad(CursorKey::new(b"other").open(&cursor, "books")),
        "signature mismatch"
    );
    assert_eq!(
        bad(key.open(&cursor, "shelves")),
        "issued for another collection"
    );
    assert_eq!(bad(key.open("not base64!", "books")), "not base64url");
    assert_eq!(bad(key.open("AAAA", "books")), "unknown format");
    assert_eq!(
        bad(key.open(&cursor[..cursor.len() - 4], "books")),
        "signature mismatch"
    );
}

#[test]
fn random_keys_differ() {
    let a = CursorKey::random().expect("entropy");
    let b = CursorKey::random().expect("entropy");
    let cursor = a.seal(&state());
    assert!(a.open(&cursor, "books").is_ok());
    assert!(b.open(&cursor, "books").is_err());
}
