//! Errors of starting and seeding the example service.

/// Why the library could not start or take seeded data.
#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    #[error("the compiled-in descriptors are unusable: {0}")]
    Descriptors(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot build the reflection service: {0}")]
    Reflection(String),
    #[error("`{0}` is not a book name (shelves/{{shelf}}/books/{{book}})")]
    BadBookName(String),
}
