//! AIP-158 paging: page sizes and opaque page tokens. A token carries the
//! offset of the next page and a fingerprint of the request's other
//! parameters; a token used with different parameters, or one this
//! service never issued, is INVALID_ARGUMENT.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use tonic::Status;

use crate::names::invalid;
use crate::server::LibraryOptions;

const PREFIX: &str = "library.v1:";

/// FNV-1a over the parameters, each followed by a separator so that
/// ("ab", "c") and ("a", "bc") differ. Not a MAC: a client that forges a
/// token only pages its own results.
pub(crate) fn fingerprint(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain([0xff]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

pub(crate) fn encode(offset: usize, fingerprint: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{PREFIX}{offset}:{fingerprint:016x}"))
}

/// The offset a token resumes at (0 for no token).
pub(crate) fn decode(token: &str, fingerprint: u64) -> Result<usize, Status> {
    if token.is_empty() {
        return Ok(0);
    }
    let garbage = || {
        invalid(
            "page_token",
            "page_token is not a token this service issued (pass next_page_token back unchanged)",
        )
    };
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| garbage())?;
    let text = String::from_utf8(bytes).map_err(|_| garbage())?;
    let rest = text.strip_prefix(PREFIX).ok_or_else(garbage)?;
    let (offset, print) = rest.split_once(':').ok_or_else(garbage)?;
    let offset: usize = offset.parse().map_err(|_| garbage())?;
    let print = u64::from_str_radix(print, 16).map_err(|_| garbage())?;
    if print != fingerprint {
        return Err(invalid(
            "page_token",
            "page_token was issued for a different request: every parameter but page_size must stay the same while paging",
        ));
    }
    Ok(offset)
}

/// The number of results to answer: 0 → the default, above the maximum →
/// the maximum, negative → INVALID_ARGUMENT; halved (at least 1) when the
/// options ask for short pages.
pub(crate) fn page_size(requested: i32, options: &LibraryOptions) -> Result<usize, Status> {
    let requested = usize::try_from(requested).map_err(|_| {
        invalid(
            "page_size",
            format!("page_size must not be negative (got {requested})"),
        )
    })?;
    let max = options.max_page_size.max(1);
    let size = match requested {
        0 => options.default_page_size.clamp(1, max),
        n => n.min(max),
    };
    Ok(if options.short_pages {
        (size / 2).max(1)
    } else {
        size
    })
}

#[cfg(test)]
mod tests;
