//! Resource names: `shelves/{shelf}` and `shelves/{shelf}/books/{book}`,
//! with AIP-122 ids.

use tonic::Status;
use tonic_types::{ErrorDetails, StatusExt};

/// `^[A-Za-z0-9][A-Za-z0-9._~-]{0,127}$`.
pub(crate) fn valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && id.len() <= 128
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '~' | '-'))
}

/// INVALID_ARGUMENT naming the request field, with a `google.rpc.BadRequest`
/// violation so a client can map it back.
pub(crate) fn invalid(field: &str, message: impl Into<String>) -> Status {
    let message = message.into();
    Status::with_error_details(
        tonic::Code::InvalidArgument,
        message.clone(),
        ErrorDetails::with_bad_request_violation(field, message),
    )
}

const ID_RULE: &str = "ids match ^[A-Za-z0-9][A-Za-z0-9._~-]{0,127}$";

/// The shelf id of a `shelves/{shelf}` name.
pub(crate) fn shelf_id<'a>(field: &str, name: &'a str) -> Result<&'a str, Status> {
    if name.is_empty() {
        return Err(invalid(field, format!("{field} is required")));
    }
    match name.strip_prefix("shelves/") {
        Some(id) if valid_id(id) => Ok(id),
        _ => Err(invalid(
            field,
            format!("{field} {name:?} is not a shelf name (shelves/{{shelf}}; {ID_RULE})"),
        )),
    }
}

/// The shelf and book ids of a `shelves/{shelf}/books/{book}` name.
pub(crate) fn book_ids<'a>(field: &str, name: &'a str) -> Result<(&'a str, &'a str), Status> {
    if name.is_empty() {
        return Err(invalid(field, format!("{field} is required")));
    }
    let parts: Vec<&str> = name.split('/').collect();
    match parts.as_slice() {
        ["shelves", shelf, "books", book] if valid_id(shelf) && valid_id(book) => Ok((shelf, book)),
        _ => Err(invalid(
            field,
            format!(
                "{field} {name:?} is not a book name (shelves/{{shelf}}/books/{{book}}; {ID_RULE})"
            ),
        )),
    }
}

/// The shelf a book name is under (`shelves/{shelf}`), for a name already
/// checked or seeded.
pub(crate) fn parent_of(book_name: &str) -> Option<&str> {
    let (parent, _) = book_name.split_once("/books/")?;
    Some(parent)
}

#[cfg(test)]
mod tests;
