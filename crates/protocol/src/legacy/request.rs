//! What every legacy request body shares. Its members are read with the
//! crate's one reader ([`crate::json`]): like v3, `null` means absent,
//! unknown members are ignored, and a wrong or missing field is the same
//! 400 naming it.

use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::json::JsonObject;

/// A legacy request body, already known to be a JSON object.
pub type Object = Map<String, Value>;

/// `collectionName`, which every data and column call names.
pub fn collection_name(request: &JsonObject) -> Result<String, ApiError> {
    request.required_string("collectionName")
}
