//! Shared by the integration binaries: a started library and clients over a
//! real socket.

#![allow(dead_code)]

use extdb_example_library::pb::book_service_client::BookServiceClient;
use extdb_example_library::pb::shelf_service_client::ShelfServiceClient;
use extdb_example_library::pb::{Book, ListBooksRequest};
use extdb_example_library::{LibraryOptions, RunningLibrary};
use tonic::transport::Channel;

pub async fn start(options: LibraryOptions) -> RunningLibrary {
    RunningLibrary::start(options).await.expect("start")
}

pub async fn seeded(n: usize) -> RunningLibrary {
    let library = start(LibraryOptions::default()).await;
    library.seed_demo(n).expect("seed");
    library
}

pub async fn channel(library: &RunningLibrary) -> Channel {
    Channel::from_shared(library.endpoint())
        .expect("endpoint")
        .connect()
        .await
        .expect("connect")
}

pub async fn books(library: &RunningLibrary) -> BookServiceClient<Channel> {
    BookServiceClient::new(channel(library).await)
}

pub async fn shelves(library: &RunningLibrary) -> ShelfServiceClient<Channel> {
    ShelfServiceClient::new(channel(library).await)
}

/// Every page of a list, following next_page_token; also the number of
/// pages and each page's total_size.
pub async fn list_all(
    client: &mut BookServiceClient<Channel>,
    request: ListBooksRequest,
) -> (Vec<Book>, usize, Vec<i32>) {
    let mut request = request;
    let mut out = Vec::new();
    let mut pages = 0;
    let mut totals = Vec::new();
    loop {
        let page = client
            .list_books(request.clone())
            .await
            .expect("list")
            .into_inner();
        pages += 1;
        assert!(pages < 10_000, "paging does not end");
        out.extend(page.books);
        totals.push(page.total_size);
        if page.next_page_token.is_empty() {
            return (out, pages, totals);
        }
        request.page_token = page.next_page_token;
    }
}

pub fn names(books: &[Book]) -> Vec<String> {
    books.iter().map(|b| b.name.clone()).collect()
}

pub fn list(parent: &str) -> ListBooksRequest {
    ListBooksRequest {
        parent: parent.into(),
        ..ListBooksRequest::default()
    }
}
