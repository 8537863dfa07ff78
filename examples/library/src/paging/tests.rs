use super::*;

fn options(short_pages: bool) -> LibraryOptions {
    LibraryOptions {
        short_pages,
        ..LibraryOptions::default()
    }
}

#[test]
fn tokens_round_trip_and_are_bound_to_the_fingerprint() {
    let print = fingerprint(&["books", "shelves/main", "genre = HISTORY"]);
    let token = encode(40, print);
    assert_eq!(decode(&token, print).expect("decode"), 40);
    assert_eq!(decode("", print).expect("no token"), 0);
    let other = fingerprint(&["books", "shelves/main", "genre = POETRY"]);
    let refused = decode(&token, other).expect_err("other parameters");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    assert!(refused.message().contains("different request"));
    for garbage in ["x", "!!!", &URL_SAFE_NO_PAD.encode("library.v1:ten:00")] {
        let refused = decode(garbage, print).expect_err(garbage);
        assert!(refused.message().contains("not a token"), "{garbage}");
    }
}

#[test]
fn fingerprints_separate_their_parts() {
    assert_ne!(fingerprint(&["ab", "c"]), fingerprint(&["a", "bc"]));
    assert_ne!(fingerprint(&["", "x"]), fingerprint(&["x", ""]));
    assert_eq!(fingerprint(&["a", "b"]), fingerprint(&["a", "b"]));
}

#[test]
fn page_sizes_default_clamp_halve_and_refuse_negatives() {
    assert_eq!(page_size(0, &options(false)).expect("default"), 50);
    assert_eq!(page_size(7, &options(false)).expect("as asked"), 7);
    assert_eq!(page_size(101, &options(false)).expect("clamped"), 100);
    assert_eq!(page_size(10, &options(true)).expect("short"), 5);
    assert_eq!(page_size(1, &options(true)).expect("at least one"), 1);
    assert_eq!(page_size(0, &options(true)).expect("short default"), 25);
    assert!(page_size(-1, &options(false)).is_err());
    let small_max = LibraryOptions {
        max_page_size: 10,
        ..LibraryOptions::default()
    };
    assert_eq!(page_size(0, &small_max).expect("default clamped"), 10);
}
