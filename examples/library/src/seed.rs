//! Deterministic demo data: shelf `shelves/main` and n varied books.

use prost_types::{Struct, Timestamp, Value, value::Kind};

use crate::pb::{Book, Genre, Publisher};

const TITLES: &[&str] = &[
    "The Silent River",
    "A Brief History of Salt",
    "Songs of the North",
    "Quantum Gardens",
    "The Last Cartographer",
    "Iron and Ivy",
    "Letters from Lisbon",
    "The Glass Orchard",
    "Measuring the Sky",
    "Winter Harvest",
    "dune road",
    "Ünder the Linden",
];

const AUTHORS: &[&str] = &[
    "Ada Lovelace",
    "Jorge Borges",
    "Mary Shelley",
    "Chinua Achebe",
    "Italo Calvino",
    "Wisława Szymborska",
    "Carl Sagan",
    "Toni Morrison",
];

const TAGS: &[&str] = &["classic", "award", "translated", "illustrated", "series"];

const CITIES: &[(&str, &str)] = &[
    ("Penguin", "London"),
    ("Gallimard", "Paris"),
    ("Knopf", "New York"),
    ("Suhrkamp", "Berlin"),
];

const GENRES: &[Genre] = &[
    Genre::Fiction,
    Genre::History,
    Genre::Poetry,
    Genre::Science,
    Genre::Unspecified,
];

/// Book `i` (0-based) of the demo set: every field type varies, some
/// books have no subtitle (unset, distinct from the empty one some have),
/// no publisher, no tags or no `extra`; a few ISBNs are beyond 2^53.
pub(crate) fn demo_book(i: usize) -> Book {
    let n = i as i64;
    let title = TITLES[i % TITLES.len()];
    let volume = i / TITLES.len();
    let title = if volume == 0 {
        title.to_owned()
    } else {
        format!("{title} {}", volume + 1)
    };
    let tags: Vec<String> = TAGS
        .iter()
        .enumerate()
        .filter(|(t, _)| (i + t).is_multiple_of(t + 2))
        .map(|(_, tag)| (*tag).to_owned())
        .collect();
    let subtitle = match (i / 2) % 3 {
        0 => None,
        1 => Some(String::new()),
        _ => Some(format!("Volume {}", i % 9 + 1)),
    };
    let publisher = (i % 5 != 4).then(|| {
        let (name, city) = CITIES[i % CITIES.len()];
        Publisher {
            name: name.to_owned(),
            city: city.to_owned(),
        }
    });
    let extra = i.is_multiple_of(3).then(|| Struct {
        fields: [
            (
                "edition".to_owned(),
                Value {
                    kind: Some(Kind::NumberValue((i % 4 + 1) as f64)),
                },
            ),
            (
                "signed".to_owned(),
                Value {
                    kind: Some(Kind::BoolValue(i.is_multiple_of(2))),
                },
            ),
            (
                "note".to_owned(),
                Value {
                    kind: Some(Kind::StringValue(format!("note {i}"))),
                },
            ),
        ]
        .into_iter()
        .collect(),
    });
    // Past 2^53 every 7th book: a client using doubles loses these.
    let isbn = if i % 7 == 3 {
        9_007_199_254_740_993 + n * 2
    } else {
        9_780_000_000_000 + n * 7919
    };
    // 2001-01-01 plus ~71 days per book; created 2024-01-01 plus an hour
    // per book.
    let publish = 978_307_200 + n * 6_151_680 % 788_400_000;
    let created = 1_704_067_200 + n * 3600;
    Book {
        name: format!("shelves/main/books/book-{:04}", i + 1),
        title,
        author: AUTHORS[(i * 3) % AUTHORS.len()].to_owned(),
        page_count: 80 + ((i * 37) % 900) as i32,
        rating: ((i * 13) % 41) as f64 / 10.0 + 1.0,
        available: i % 3 != 1,
        publish_time: Some(Timestamp {
            seconds: publish,
            nanos: ((i % 10) * 100_000_000) as i32,
        }),
        tags,
        genre: GENRES[i % GENRES.len()] as i32,
        publisher,
        isbn,
        subtitle,
        extra,
        etag: format!("seed-{:04}", i + 1),
        create_time: Some(Timestamp {
            seconds: created,
            nanos: 0,
        }),
        update_time: Some(Timestamp {
            seconds: created + 60,
            nanos: 0,
        }),
        shelf_code: format!("MAIN-{}", i % 7),
    }
}
