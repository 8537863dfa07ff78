//! The canned library: `library.v1.BookService` (the example "existing
//! service" of `examples/library`) answering prebuilt bytes, so that the
//! sidecar's `kind: aip` upstream can be measured against its `kind: grpc`
//! upstream on the canned contract backend with backend costs ~zero on both.
//!
//! Its books carry what the contract backend's items carry (same count and
//! kinds of fields, values from the same [`new_book`]): `GetBook` answers
//! one book whatever the name, `ListBooks` the first `page_size` (at most
//! PAGE_SIZE) books and no next page token, as the contract backend answers
//! no cursor. Other methods are UNIMPLEMENTED.

use std::future::Future;
use std::str::FromStr as _;

use bytes::Bytes;
use prost::Message as _;
use serde_json::Value;
use tokio::net::TcpListener;
use tonic::Status;

use super::{CannedAnswers, encode_failed, prefix};
use crate::scenarios::{PAGE_SIZE, item_id, new_book};
use extdb_example_library::pb as library;
use extdb_protocol::error::ApiError;

/// The service the canned library serves.
pub const SERVICE: &str = "library.v1.BookService";
/// The shelf every canned book is on (the mapping's literal parent).
pub const SHELF: &str = "main";
/// What the contract items carry as `_owner`, here in `shelf_code`.
const OWNER: &str = "00000000-0000-0000-0000-000000000001";
const CREATED: &str = "2025-11-03T10:15:30.123Z";
const UPDATED: &str = "2025-11-04T09:00:00.456Z";

/// The part of a `ListBooksRequest` that decides the answer.
#[derive(Clone, PartialEq, prost::Message)]
struct ListShape {
    #[prost(int32, tag = "2")]
    page_size: i32,
}

/// Book `n`, with the values of the contract backend's item `n`.
pub fn book(n: usize) -> Result<library::Book, ApiError> {
    let wix = new_book(n);
    let text = |key: &str| wix[key].as_str().unwrap_or_default().to_owned();
    let timestamp = |s: &str| {
        prost_types::Timestamp::from_str(s).map_err(|e| ApiError::Internal {
            message: format!("canned book {n}: {s}: {e}"),
        })
    };
    let genres = [
        library::Genre::Fiction,
        library::Genre::History,
        library::Genre::Poetry,
        library::Genre::Science,
    ];
    Ok(library::Book {
        name: format!("shelves/{SHELF}/books/{}", item_id(n)),
        title: text("title"),
        author: text("author"),
        page_count: wix["pages"].as_i64().unwrap_or_default() as i32,
        rating: wix["price"].as_f64().unwrap_or_default(),
        available: wix["inStock"].as_bool().unwrap_or_default(),
        publish_time: Some(timestamp(
            wix["published"]["$date"].as_str().unwrap_or_default(),
        )?),
        tags: wix["tags"]
            .as_array()
            .map(|tags| {
                tags.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
        genre: genres[n % genres.len()] as i32,
        shelf_code: OWNER.to_owned(),
        create_time: Some(timestamp(CREATED)?),
        update_time: Some(timestamp(UPDATED)?),
        ..Default::default()
    })
}

/// Encoded answers.
struct Answers {
    /// A `Book` (the GetBook answer).
    one: Bytes,
    /// `ListBooksResponse.books` entries for PAGE_SIZE books, back to back.
    books: Bytes,
    book_ends: Vec<usize>,
}

impl Answers {
    fn build() -> Result<Answers, ApiError> {
        let mut books = Vec::new();
        let mut book_ends = Vec::new();
        for n in 0..PAGE_SIZE {
            library::ListBooksResponse {
                books: vec![book(n)?],
                ..Default::default()
            }
            .encode(&mut books)
            .map_err(encode_failed)?;
            book_ends.push(books.len());
        }
        Ok(Answers {
            one: book(0)?.encode_to_vec().into(),
            books: books.into(),
            book_ends,
        })
    }

    fn list(&self, request: &[u8]) -> Result<Bytes, Status> {
        let shape = ListShape::decode(request)
            .map_err(|e| Status::invalid_argument(format!("ListBooksRequest: {e}")))?;
        let n = match shape.page_size {
            size if size <= 0 => PAGE_SIZE,
            size => (size as usize).min(PAGE_SIZE),
        };
        Ok(prefix(&self.books, &self.book_ends, n))
    }
}

#[derive(Debug, Clone, Copy)]
enum Method {
    Get,
    List,
}

impl CannedAnswers for Answers {
    type Method = Method;
    const SERVICE: &'static str = SERVICE;
    const ONLY: &'static str = "the canned library answers only GetBook and ListBooks";

    fn build() -> Result<Answers, ApiError> {
        Answers::build()
    }

    fn method_of(path: &str) -> Option<Method> {
        let method = path.strip_prefix('/')?.strip_prefix(SERVICE)?;
        match method {
            "/GetBook" => Some(Method::Get),
            "/ListBooks" => Some(Method::List),
            _ => None,
        }
    }

    fn answer(&self, method: Method, request: &[u8]) -> Result<Bytes, Status> {
        match method {
            Method::Get => Ok(self.one.clone()),
            Method::List => self.list(request),
        }
    }
}

/// Serves the canned library on `listener` until `shutdown` resolves.
pub async fn serve_canned_library(
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> Result<(), String> {
    super::serve::<Answers>(listener, shutdown).await
}

#[cfg(test)]
mod tests;
