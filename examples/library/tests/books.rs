//! BookService over a real socket with the generated client: listing
//! (paging, tokens, skip, total_size, filters, order_by, read_mask) and the
//! write methods (create, update, delete) with their AIP rules.

mod support;

use extdb_example_library::LibraryOptions;
use extdb_example_library::pb::{
    Book, CreateBookRequest, CreateShelfRequest, DeleteBookRequest, Genre, GetBookRequest,
    ListBooksRequest, Publisher, PurgeBooksRequest, Shelf, UpdateBookRequest,
};
use prost_types::{FieldMask, Timestamp};
use support::{list, list_all, names};
use tonic::Code;
use tonic_types::StatusExt;

/// An independent check of what a filter selects.
type Check = Box<dyn Fn(&Book) -> bool>;

fn mask(paths: &[&str]) -> Option<FieldMask> {
    Some(FieldMask {
        paths: paths.iter().map(|p| (*p).to_owned()).collect(),
    })
}

fn new_book(title: &str) -> Book {
    Book {
        title: title.into(),
        author: "Someone".into(),
        page_count: 120,
        rating: 3.5,
        tags: vec!["new".into()],
        genre: Genre::Poetry as i32,
        publisher: Some(Publisher {
            name: "Small Press".into(),
            city: "Lyon".into(),
        }),
        shelf_code: "S1".into(),
        ..Book::default()
    }
}

#[tokio::test]
async fn paging_returns_every_match_once_in_name_order() {
    let library = support::seeded(137).await;
    let mut client = support::books(&library).await;
    let (books, pages, totals) = list_all(
        &mut client,
        ListBooksRequest {
            page_size: 10,
            ..list("shelves/main")
        },
    )
    .await;
    assert_eq!(pages, 14);
    assert!(totals.iter().all(|t| *t == 137), "{totals:?}");
    let mut expected = names(&library.books());
    expected.sort();
    assert_eq!(names(&books), expected);
    assert_eq!(books, library.books(), "full books without a read mask");
    library.stop().await;
}

#[tokio::test]
async fn short_pages_answer_half_and_clients_must_follow_the_token() {
    let library = support::start(LibraryOptions {
        short_pages: true,
        ..LibraryOptions::default()
    })
    .await;
    library.seed_demo(37).expect("seed");
    let mut client = support::books(&library).await;
    let first = client
        .list_books(ListBooksRequest {
            page_size: 10,
            ..list("shelves/main")
        })
        .await
        .expect("list")
        .into_inner();
    assert_eq!(first.books.len(), 5);
    assert!(!first.next_page_token.is_empty());
    let (books, pages, _) = list_all(
        &mut client,
        ListBooksRequest {
            page_size: 10,
            ..list("shelves/main")
        },
    )
    .await;
    assert_eq!(pages, 8, "37 books five at a time");
    assert_eq!(names(&books), names(&library.books()));
    // A page size of 1 still answers one.
    let one = client
        .list_books(ListBooksRequest {
            page_size: 1,
            ..list("shelves/main")
        })
        .await
        .expect("list")
        .into_inner();
    assert_eq!(one.books.len(), 1);
    library.stop().await;
}

#[tokio::test]
async fn page_size_defaults_clamps_and_refuses_negatives() {
    let library = support::seeded(137).await;
    let mut client = support::books(&library).await;
    let page = |size: i32| ListBooksRequest {
        page_size: size,
        ..list("shelves/main")
    };
    let default = client.list_books(page(0)).await.expect("list").into_inner();
    assert_eq!(default.books.len(), 50);
    let clamped = client
        .list_books(page(1000))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(clamped.books.len(), 100);
    let negative = client.list_books(page(-1)).await.expect_err("negative");
    assert_eq!(negative.code(), Code::InvalidArgument);
    assert!(negative.message().contains("page_size"), "{negative:?}");
    library.stop().await;
}

#[tokio::test]
async fn page_tokens_are_bound_to_their_parameters() {
    let library = support::seeded(60).await;
    let mut client = support::books(&library).await;
    let request = ListBooksRequest {
        page_size: 5,
        filter: "rating >= 2".into(),
        order_by: "title desc".into(),
        ..list("shelves/main")
    };
    let first = client
        .list_books(request.clone())
        .await
        .expect("list")
        .into_inner();
    let token = first.next_page_token;
    assert!(!token.is_empty());
    // The same parameters with another page size continue.
    let next = client
        .list_books(ListBooksRequest {
            page_token: token.clone(),
            page_size: 7,
            ..request.clone()
        })
        .await
        .expect("continue")
        .into_inner();
    assert_eq!(next.books.len(), 7);
    assert!(
        names(&first.books)
            .iter()
            .all(|n| !names(&next.books).contains(n))
    );
    for changed in [
        ListBooksRequest {
            filter: "rating >= 3".into(),
            ..request.clone()
        },
        ListBooksRequest {
            order_by: "title".into(),
            ..request.clone()
        },
        ListBooksRequest {
            read_mask: mask(&["title"]),
            ..request.clone()
        },
        ListBooksRequest {
            parent: "shelves/-".into(),
            ..request.clone()
        },
    ] {
        let refused = client
            .list_books(ListBooksRequest {
                page_token: token.clone(),
                ..changed.clone()
            })
            .await
            .expect_err("changed parameters");
        assert_eq!(refused.code(), Code::InvalidArgument, "{changed:?}");
        assert!(refused.message().contains("page_token"), "{refused:?}");
    }
    for garbage in ["nope", "bGlicmFyeS52MTp4eXo", "%%%"] {
        let refused = client
            .list_books(ListBooksRequest {
                page_token: garbage.into(),
                ..request.clone()
            })
            .await
            .expect_err("garbage token");
        assert_eq!(refused.code(), Code::InvalidArgument);
    }
    library.stop().await;
}

#[tokio::test]
async fn skip_applies_after_filter_and_order_and_total_size_ignores_paging() {
    let library = support::seeded(90).await;
    let mut client = support::books(&library).await;
    let base = ListBooksRequest {
        filter: "genre = FICTION OR genre = HISTORY".into(),
        order_by: "page_count desc".into(),
        page_size: 100,
        ..list("shelves/main")
    };
    let all = client
        .list_books(base.clone())
        .await
        .expect("list")
        .into_inner();
    let expected_count = library
        .books()
        .iter()
        .filter(|b| b.genre == Genre::Fiction as i32 || b.genre == Genre::History as i32)
        .count();
    assert_eq!(all.books.len(), expected_count);
    assert_eq!(all.total_size as usize, expected_count);
    // AIP-158: skip counts from the token's position and may change
    // between pages (page one from the 8th match, then straight on, then
    // 3 more skipped).
    let first = client
        .list_books(ListBooksRequest {
            skip: 7,
            page_size: 4,
            ..base.clone()
        })
        .await
        .expect("list")
        .into_inner();
    assert_eq!(names(&first.books), names(&all.books[7..11]));
    assert_eq!(first.total_size as usize, expected_count);
    let second = client
        .list_books(ListBooksRequest {
            page_size: 4,
            page_token: first.next_page_token.clone(),
            ..base.clone()
        })
        .await
        .expect("continue")
        .into_inner();
    assert_eq!(names(&second.books), names(&all.books[11..15]));
    let third = client
        .list_books(ListBooksRequest {
            skip: 3,
            page_size: 4,
            page_token: second.next_page_token.clone(),
            ..base.clone()
        })
        .await
        .expect("continue with skip")
        .into_inner();
    assert_eq!(names(&third.books), names(&all.books[18..22]));
    let past_end = client
        .list_books(ListBooksRequest {
            skip: 1000,
            ..base.clone()
        })
        .await
        .expect("list")
        .into_inner();
    assert!(past_end.books.is_empty());
    assert!(past_end.next_page_token.is_empty());
    assert_eq!(past_end.total_size as usize, expected_count);
    let negative = client
        .list_books(ListBooksRequest { skip: -1, ..base })
        .await
        .expect_err("negative skip");
    assert_eq!(negative.code(), Code::InvalidArgument);
    library.stop().await;
}

#[tokio::test]
async fn filters_select_what_an_independent_check_selects() {
    let library = support::seeded(120).await;
    let mut client = support::books(&library).await;
    let all = library.books();
    let cases: Vec<(&str, Check)> = vec![
        (
            "genre = HISTORY AND rating >= 3",
            Box::new(|b: &Book| b.genre == Genre::History as i32 && b.rating >= 3.0),
        ),
        (
            "tags:\"classic\" OR available = false",
            Box::new(|b: &Book| b.tags.iter().any(|t| t == "classic") || !b.available),
        ),
        (
            "NOT subtitle:* AND publisher.city = \"Paris\"",
            Box::new(|b: &Book| {
                b.subtitle.is_none() && b.publisher.as_ref().is_some_and(|p| p.city == "Paris")
            }),
        ),
        (
            "title = \"the*\"",
            Box::new(|b: &Book| b.title.to_lowercase().starts_with("the")),
        ),
        (
            "isbn > 9007199254740992",
            Box::new(|b: &Book| b.isbn > 9_007_199_254_740_992),
        ),
        (
            "publish_time < \"2005-01-01T00:00:00Z\"",
            Box::new(|b: &Book| {
                b.publish_time
                    .as_ref()
                    .is_some_and(|t| t.seconds < 1_104_537_600)
            }),
        ),
        (
            "extra.edition >= 3",
            Box::new(|b: &Book| {
                b.extra
                    .as_ref()
                    .and_then(|e| e.fields.get("edition"))
                    .and_then(|v| match v.kind {
                        Some(prost_types::value::Kind::NumberValue(n)) => Some(n),
                        _ => None,
                    })
                    .is_some_and(|n| n >= 3.0)
            }),
        ),
    ];
    for (filter, check) in cases {
        let (got, _, _) = list_all(
            &mut client,
            ListBooksRequest {
                filter: filter.into(),
                page_size: 25,
                ..list("shelves/main")
            },
        )
        .await;
        let expected: Vec<Book> = all.iter().filter(|b| check(b)).cloned().collect();
        assert!(!expected.is_empty(), "{filter}: the seed has no match");
        assert!(expected.len() < all.len(), "{filter}: the seed has no miss");
        assert_eq!(names(&got), names(&expected), "{filter}");
    }
    let refused = client
        .list_books(ListBooksRequest {
            filter: "colour = \"red\"".into(),
            ..list("shelves/main")
        })
        .await
        .expect_err("unknown field");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(refused.message().contains("colour"), "{refused:?}");
    let violation = refused
        .get_details_bad_request()
        .expect("a google.rpc.BadRequest");
    assert_eq!(violation.field_violations[0].field, "filter");
    library.stop().await;
}

#[tokio::test]
async fn order_by_sorts_with_ties_broken_by_name() {
    let library = support::seeded(80).await;
    let mut client = support::books(&library).await;
    let (got, _, _) = list_all(
        &mut client,
        ListBooksRequest {
            order_by: "rating desc, publisher.city".into(),
            page_size: 9,
            ..list("shelves/main")
        },
    )
    .await;
    let mut expected = library.books();
    let city = |b: &Book| b.publisher.as_ref().map(|p| p.city.clone());
    expected.sort_by(|a, b| {
        b.rating
            .total_cmp(&a.rating)
            .then_with(|| city(a).cmp(&city(b)))
            .then_with(|| a.name.cmp(&b.name))
    });
    assert_eq!(names(&got), names(&expected));
    for bad in [
        "colour",
        "tags",
        "publisher",
        "title sideways",
        "title desc desc",
        "",
    ] {
        if bad.is_empty() {
            continue;
        }
        let refused = client
            .list_books(ListBooksRequest {
                order_by: bad.into(),
                ..list("shelves/main")
            })
            .await
            .expect_err(bad);
        assert_eq!(refused.code(), Code::InvalidArgument, "{bad}");
        assert!(refused.message().contains("order_by"), "{refused:?}");
    }
    library.stop().await;
}

#[tokio::test]
async fn read_mask_returns_only_the_masked_fields_and_the_name() {
    let library = support::seeded(8).await;
    let mut client = support::books(&library).await;
    let page = client
        .list_books(ListBooksRequest {
            read_mask: mask(&["title", "publisher.city", "subtitle"]),
            ..list("shelves/main")
        })
        .await
        .expect("list")
        .into_inner();
    let full = library.books();
    assert_eq!(page.books.len(), full.len());
    for (got, full) in page.books.iter().zip(&full) {
        let expected = Book {
            name: full.name.clone(),
            title: full.title.clone(),
            subtitle: full.subtitle.clone(),
            publisher: full.publisher.as_ref().map(|p| Publisher {
                name: String::new(),
                city: p.city.clone(),
            }),
            ..Book::default()
        };
        assert_eq!(got, &expected);
    }
    for bad in ["colour", "publisher.country", "extra.edition"] {
        let refused = client
            .list_books(ListBooksRequest {
                read_mask: mask(&[bad]),
                ..list("shelves/main")
            })
            .await
            .expect_err(bad);
        assert_eq!(refused.code(), Code::InvalidArgument, "{bad}");
        assert!(refused.message().contains("read_mask"), "{refused:?}");
    }
    library.stop().await;
}

#[tokio::test]
async fn parents_dash_lists_across_shelves_and_missing_shelves_are_not_found() {
    let library = support::seeded(5).await;
    let mut client = support::books(&library).await;
    let mut shelves = support::shelves(&library).await;
    shelves
        .create_shelf(CreateShelfRequest {
            shelf: Some(Shelf {
                theme: "Other".into(),
                ..Shelf::default()
            }),
            shelf_id: "other".into(),
        })
        .await
        .expect("shelf");
    client
        .create_book(CreateBookRequest {
            parent: "shelves/other".into(),
            book: Some(new_book("Elsewhere")),
            book_id: "elsewhere".into(),
            request_id: String::new(),
        })
        .await
        .expect("create");
    let across = client
        .list_books(list("shelves/-"))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(across.total_size, 6);
    let main = client
        .list_books(list("shelves/main"))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(main.total_size, 5);
    let other = client
        .list_books(list("shelves/other"))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(names(&other.books), ["shelves/other/books/elsewhere"]);
    let missing = client
        .list_books(list("shelves/nowhere"))
        .await
        .expect_err("missing shelf");
    assert_eq!(missing.code(), Code::NotFound);
    for bad in ["", "shelf/main", "shelves/-bad", "shelves/main/books"] {
        let refused = client.list_books(list(bad)).await.expect_err(bad);
        assert_eq!(refused.code(), Code::InvalidArgument, "{bad:?}");
    }
    library.stop().await;
}

#[tokio::test]
async fn create_validates_ignores_output_only_and_replays_request_ids() {
    let library = support::seeded(3).await;
    let mut client = support::books(&library).await;
    let mut input = new_book("Fresh");
    input.etag = "client-etag".into();
    input.create_time = Some(Timestamp {
        seconds: 1,
        nanos: 0,
    });
    input.name = "shelves/elsewhere/books/ignored".into();
    let created = client
        .create_book(CreateBookRequest {
            parent: "shelves/main".into(),
            book: Some(input.clone()),
            book_id: "fresh".into(),
            request_id: String::new(),
        })
        .await
        .expect("create")
        .into_inner();
    assert_eq!(created.name, "shelves/main/books/fresh");
    assert_ne!(created.etag, "client-etag");
    assert!(!created.etag.is_empty());
    let create_time = created.create_time.expect("create_time");
    assert!(create_time.seconds > 1_700_000_000, "server-set");
    assert_eq!(created.update_time, Some(create_time));
    assert_eq!(created.title, "Fresh");
    assert_eq!(created.shelf_code, "S1");
    let got = client
        .get_book(GetBookRequest {
            name: created.name.clone(),
        })
        .await
        .expect("get")
        .into_inner();
    assert_eq!(got, created);

    // The longest id, and every allowed character.
    let longest: String = format!("a{}", "Z9._~-".repeat(22))
        .chars()
        .take(128)
        .collect();
    client
        .create_book(CreateBookRequest {
            parent: "shelves/main".into(),
            book: Some(new_book("Long")),
            book_id: longest,
            request_id: String::new(),
        })
        .await
        .expect("a 128-character id");

    // A server-chosen id, never one a client already took.
    client
        .create_book(CreateBookRequest {
            parent: "shelves/main".into(),
            book: Some(new_book("Squatter")),
            book_id: "book-g1".into(),
            request_id: String::new(),
        })
        .await
        .expect("create");
    let generated = client
        .create_book(CreateBookRequest {
            parent: "shelves/main".into(),
            book: Some(new_book("Unnamed")),
            book_id: String::new(),
            request_id: String::new(),
        })
        .await
        .expect("create")
        .into_inner();
    assert_eq!(generated.name, "shelves/main/books/book-g2");

    let exists = client
        .create_book(CreateBookRequest {
            parent: "shelves/main".into(),
            book: Some(new_book("Again")),
            book_id: "fresh".into(),
            request_id: String::new(),
        })
        .await
        .expect_err("exists");
    assert_eq!(exists.code(), Code::AlreadyExists);

    let untitled = client
        .create_book(CreateBookRequest {
            parent: "shelves/main".into(),
            book: Some(Book::default()),
            book_id: "untitled".into(),
            request_id: String::new(),
        })
        .await
        .expect_err("no title");
    assert_eq!(untitled.code(), Code::InvalidArgument);
    assert_eq!(untitled.message(), "book.title is required");
    let violation = untitled.get_details_bad_request().expect("BadRequest");
    assert_eq!(violation.field_violations[0].field, "book.title");

    for (parent, id, code) in [
        ("shelves/main", "-bad", Code::InvalidArgument),
        ("shelves/main", "has/slash", Code::InvalidArgument),
        ("shelves/nowhere", "x", Code::NotFound),
        ("nowhere", "x", Code::InvalidArgument),
        ("shelves/main", &"x".repeat(129), Code::InvalidArgument),
    ] {
        let refused = client
            .create_book(CreateBookRequest {
                parent: parent.into(),
                book: Some(new_book("X")),
                book_id: id.into(),
                request_id: String::new(),
            })
            .await
            .expect_err(id);
        assert_eq!(refused.code(), code, "{parent} {id}");
    }

    // AIP-155: the same request id answers the first result, creating
    // nothing, even if the retry differs.
    let count = library.books().len();
    let first = client
        .create_book(CreateBookRequest {
            parent: "shelves/main".into(),
            book: Some(new_book("Once")),
            book_id: String::new(),
            request_id: "req-1".into(),
        })
        .await
        .expect("create")
        .into_inner();
    let again = client
        .create_book(CreateBookRequest {
            parent: "shelves/main".into(),
            book: Some(new_book("Twice")),
            book_id: "other-id".into(),
            request_id: "req-1".into(),
        })
        .await
        .expect("replay")
        .into_inner();
    assert_eq!(again, first);
    assert_eq!(library.books().len(), count + 1);
    library.stop().await;
}

#[tokio::test]
async fn update_applies_masks_and_guards_immutable_fields_and_etags() {
    let library = support::seeded(0).await;
    let mut client = support::books(&library).await;
    let created = client
        .create_book(CreateBookRequest {
            parent: "shelves/main".into(),
            book: Some(new_book("Original")),
            book_id: "b1".into(),
            request_id: String::new(),
        })
        .await
        .expect("create")
        .into_inner();
    let name = created.name.clone();
    let update = |book: Book, paths: &[&str]| UpdateBookRequest {
        book: Some(book),
        update_mask: if paths.is_empty() { None } else { mask(paths) },
        allow_missing: false,
    };

    // A mask: only those fields, dotted paths included.
    let patch = Book {
        name: name.clone(),
        title: "Renamed".into(),
        page_count: 999,
        publisher: Some(Publisher {
            name: "ignored".into(),
            city: "Porto".into(),
        }),
        ..Book::default()
    };
    let updated = client
        .update_book(update(patch.clone(), &["title", "publisher.city"]))
        .await
        .expect("update")
        .into_inner();
    assert_eq!(updated.title, "Renamed");
    assert_eq!(updated.page_count, 120, "not in the mask");
    assert_eq!(
        updated.publisher,
        Some(Publisher {
            name: "Small Press".into(),
            city: "Porto".into()
        })
    );
    assert_ne!(updated.etag, created.etag, "a new etag every write");
    assert_eq!(updated.create_time, created.create_time);

    // No mask: every populated field.
    let updated = client
        .update_book(update(
            Book {
                name: name.clone(),
                rating: 1.25,
                tags: vec!["x".into(), "y".into()],
                ..Book::default()
            },
            &[],
        ))
        .await
        .expect("update")
        .into_inner();
    assert_eq!(updated.rating, 1.25);
    assert_eq!(updated.tags, ["x", "y"]);
    assert_eq!(updated.title, "Renamed");
    assert_eq!(updated.page_count, 120);

    // Output-only paths are ignored, not refused.
    let before = updated.etag.clone();
    let updated = client
        .update_book(update(
            Book {
                name: name.clone(),
                etag: before.clone(),
                create_time: Some(Timestamp {
                    seconds: 5,
                    nanos: 0,
                }),
                ..Book::default()
            },
            &["create_time", "etag"],
        ))
        .await
        .expect("update")
        .into_inner();
    assert_eq!(updated.create_time, created.create_time);
    assert_ne!(updated.etag, before);

    // A stale etag is ABORTED; the current one passes.
    let stale = client
        .update_book(update(
            Book {
                name: name.clone(),
                title: "Stale".into(),
                etag: created.etag.clone(),
                ..Book::default()
            },
            &["title"],
        ))
        .await
        .expect_err("stale etag");
    assert_eq!(stale.code(), Code::Aborted);
    client
        .update_book(update(
            Book {
                name: name.clone(),
                title: "Fresh etag".into(),
                etag: updated.etag.clone(),
                ..Book::default()
            },
            &["title"],
        ))
        .await
        .expect("current etag");

    // IMMUTABLE shelf_code: the same value passes, another is refused.
    client
        .update_book(update(
            Book {
                name: name.clone(),
                shelf_code: "S1".into(),
                ..Book::default()
            },
            &["shelf_code"],
        ))
        .await
        .expect("unchanged immutable field");
    let immutable = client
        .update_book(update(
            Book {
                name: name.clone(),
                shelf_code: "S2".into(),
                ..Book::default()
            },
            &["shelf_code"],
        ))
        .await
        .expect_err("immutable");
    assert_eq!(immutable.code(), Code::InvalidArgument);
    assert!(immutable.message().contains("shelf_code"), "{immutable:?}");

    // Unknown paths are refused.
    let unknown = client
        .update_book(update(patch.clone(), &["colour"]))
        .await
        .expect_err("unknown path");
    assert_eq!(unknown.code(), Code::InvalidArgument);
    assert!(unknown.message().contains("update_mask"), "{unknown:?}");

    // `*`: a full replace (unset fields cleared); the title is required.
    let replaced = client
        .update_book(update(
            Book {
                name: name.clone(),
                title: "Replaced".into(),
                shelf_code: "S1".into(),
                ..Book::default()
            },
            &["*"],
        ))
        .await
        .expect("replace")
        .into_inner();
    assert_eq!(replaced.title, "Replaced");
    assert_eq!(replaced.page_count, 0);
    assert!(replaced.tags.is_empty());
    assert_eq!(replaced.publisher, None);
    assert_eq!(replaced.create_time, created.create_time);
    let untitled = client
        .update_book(update(Book::default_named(&name), &["title"]))
        .await
        .expect_err("title cleared");
    assert_eq!(untitled.message(), "book.title is required");

    // Missing: NOT_FOUND, or created with allow_missing.
    let missing_name = "shelves/main/books/missing".to_owned();
    let missing = client
        .update_book(update(
            Book {
                name: missing_name.clone(),
                title: "Missing".into(),
                ..Book::default()
            },
            &[],
        ))
        .await
        .expect_err("missing");
    assert_eq!(missing.code(), Code::NotFound);
    let upserted = client
        .update_book(UpdateBookRequest {
            book: Some(Book {
                name: missing_name.clone(),
                title: "Upserted".into(),
                shelf_code: "S9".into(),
                ..Book::default()
            }),
            update_mask: None,
            allow_missing: true,
        })
        .await
        .expect("allow_missing")
        .into_inner();
    assert_eq!(upserted.name, missing_name);
    assert_eq!(upserted.shelf_code, "S9");
    assert!(upserted.create_time.is_some());
    library.stop().await;
}

trait DefaultNamed {
    fn default_named(name: &str) -> Self;
}

impl DefaultNamed for Book {
    fn default_named(name: &str) -> Self {
        Book {
            name: name.into(),
            ..Book::default()
        }
    }
}

#[tokio::test]
async fn delete_checks_etags_and_allow_missing() {
    let library = support::seeded(2).await;
    let mut client = support::books(&library).await;
    let name = "shelves/main/books/book-0001".to_owned();
    let current = client
        .get_book(GetBookRequest { name: name.clone() })
        .await
        .expect("get")
        .into_inner();
    let stale = client
        .delete_book(DeleteBookRequest {
            name: name.clone(),
            etag: "stale".into(),
            allow_missing: false,
        })
        .await
        .expect_err("stale");
    assert_eq!(stale.code(), Code::Aborted);
    client
        .delete_book(DeleteBookRequest {
            name: name.clone(),
            etag: current.etag.clone(),
            allow_missing: false,
        })
        .await
        .expect("delete");
    let gone = client
        .get_book(GetBookRequest { name: name.clone() })
        .await
        .expect_err("deleted");
    assert_eq!(gone.code(), Code::NotFound);
    let missing = client
        .delete_book(DeleteBookRequest {
            name: name.clone(),
            etag: String::new(),
            allow_missing: false,
        })
        .await
        .expect_err("missing");
    assert_eq!(missing.code(), Code::NotFound);
    client
        .delete_book(DeleteBookRequest {
            name: name.clone(),
            etag: String::new(),
            allow_missing: true,
        })
        .await
        .expect("allow_missing");
    let bad = client
        .delete_book(DeleteBookRequest {
            name: "books/1".into(),
            etag: String::new(),
            allow_missing: true,
        })
        .await
        .expect_err("bad name");
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert_eq!(library.books().len(), 1);
    library.stop().await;
}

#[tokio::test]
async fn purge_previews_without_force_and_deletes_with_it() {
    let library = support::seeded(30).await;
    let mut client = support::books(&library).await;
    let purge = |filter: &str, force: bool| PurgeBooksRequest {
        parent: "shelves/main".into(),
        filter: filter.into(),
        force,
    };
    let history = library
        .books()
        .iter()
        .filter(|b| b.genre == Genre::History as i32)
        .count();
    assert!(history > 0);
    let preview = client
        .purge_books(purge("genre = HISTORY", false))
        .await
        .expect("preview")
        .into_inner();
    assert_eq!(preview.purge_count as usize, history);
    assert_eq!(library.books().len(), 30, "a preview deletes nothing");
    let done = client
        .purge_books(purge("genre = HISTORY", true))
        .await
        .expect("purge")
        .into_inner();
    assert_eq!(done.purge_count as usize, history);
    assert_eq!(done.purge_sample.len(), history);
    assert_eq!(library.books().len(), 30 - history);
    let missing = client
        .purge_books(purge("", true))
        .await
        .expect_err("filter required");
    assert_eq!(missing.code(), Code::InvalidArgument);
    client
        .purge_books(purge("*", true))
        .await
        .expect("everything");
    assert!(library.books().is_empty());
    library.stop().await;
}
