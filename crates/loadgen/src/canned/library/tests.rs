use super::*;

fn list(page_size: i32) -> Vec<u8> {
    library::ListBooksRequest {
        parent: format!("shelves/{SHELF}"),
        page_size,
        filter: "genre = POETRY".into(),
        ..Default::default()
    }
    .encode_to_vec()
}

#[test]
fn answers_decode_as_library_v1_says() {
    let answers = Answers::build().unwrap();
    let page = library::ListBooksResponse::decode(answers.list(&list(50)).unwrap()).unwrap();
    assert_eq!(page.books.len(), PAGE_SIZE);
    assert!(page.next_page_token.is_empty());
    let two = library::ListBooksResponse::decode(answers.list(&list(2)).unwrap()).unwrap();
    assert_eq!(two.books, page.books[..2]);
    let unsized_page = library::ListBooksResponse::decode(answers.list(&list(0)).unwrap()).unwrap();
    assert_eq!(unsized_page.books.len(), PAGE_SIZE);
    let one = library::Book::decode(answers.one.clone()).unwrap();
    assert_eq!(one, page.books[0]);
    assert_eq!(one.name, "shelves/main/books/b-000000");
}

#[test]
fn a_book_carries_every_field_a_contract_item_does() {
    let b = book(7).unwrap();
    let wix = new_book(7);
    assert_eq!(b.title, wix["title"]);
    assert_eq!(b.author, wix["author"]);
    assert_eq!(i64::from(b.page_count), wix["pages"].as_i64().unwrap());
    assert_eq!(b.rating, wix["price"].as_f64().unwrap());
    assert_eq!(b.available, wix["inStock"].as_bool().unwrap());
    assert_eq!(b.tags.len(), 3);
    assert_ne!(b.genre, library::Genre::Unspecified as i32);
    assert!(b.publish_time.is_some() && b.create_time.is_some() && b.update_time.is_some());
    assert_eq!(b.shelf_code, OWNER);
}

#[test]
fn only_get_and_list_are_answered() {
    assert!(matches!(
        <Answers as CannedAnswers>::method_of("/library.v1.BookService/GetBook"),
        Some(Method::Get)
    ));
    assert!(matches!(
        <Answers as CannedAnswers>::method_of("/library.v1.BookService/ListBooks"),
        Some(Method::List)
    ));
    assert!(<Answers as CannedAnswers>::method_of("/library.v1.BookService/CreateBook").is_none());
    assert!(<Answers as CannedAnswers>::method_of("/library.v1.ShelfService/GetShelf").is_none());
}
