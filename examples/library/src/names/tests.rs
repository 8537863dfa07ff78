use super::*;

#[test]
fn ids_follow_aip_122() {
    for ok in ["a", "A9", "book-0001", "a.b_c~d-e", &"x".repeat(128)] {
        assert!(valid_id(ok), "{ok}");
    }
    for bad in ["", "-a", ".a", "_a", "a/b", "a b", "é", &"x".repeat(129)] {
        assert!(!valid_id(bad), "{bad}");
    }
}

#[test]
fn names_split_into_ids() {
    assert_eq!(shelf_id("parent", "shelves/main").expect("shelf"), "main");
    assert_eq!(
        book_ids("name", "shelves/main/books/b1").expect("book"),
        ("main", "b1")
    );
    for bad in [
        "",
        "shelves/",
        "shelves/-",
        "books/b1",
        "shelves/main/books",
    ] {
        assert!(shelf_id("parent", bad).is_err(), "{bad}");
        assert!(book_ids("name", bad).is_err(), "{bad}");
    }
    let refused = book_ids("book.name", "shelves/a/books/-").expect_err("bad id");
    assert!(refused.message().contains("book.name"));
    assert_eq!(parent_of("shelves/a/books/b"), Some("shelves/a"));
}
