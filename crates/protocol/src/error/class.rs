//! Where a failure comes from and whether the same call may be repeated:
//! the classification pingora's `pingora-error` gives every error
//! (`ErrorSource`, `RetryType`), here as methods of [`super::ApiError`].

use std::fmt;

/// Who the failure is attributed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorSource {
    /// The caller: a request that is malformed, unauthenticated, too large,
    /// too slow, or asks for something that is not offered.
    Downstream,
    /// The backend: its answer, or its absence (unreachable, too slow).
    Upstream,
    /// The sidecar itself: a bug or an unexpected condition.
    Internal,
}

impl ErrorSource {
    /// The name used in logs (`source=`).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorSource::Downstream => "downstream",
            ErrorSource::Upstream => "upstream",
            ErrorSource::Internal => "internal",
        }
    }
}

impl fmt::Display for ErrorSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether repeating the same call could succeed, and is safe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Retry {
    /// Repeating would fail the same way, or the backend has already
    /// answered it: no retry.
    Never,
    /// Nothing was done, and the condition is passing: the same call may be
    /// repeated as is.
    Safe,
    /// The backend may or may not have acted (the call was lost on the way
    /// or timed out): only a call that is harmless to do twice, a read,
    /// may be repeated.
    IdempotentOnly,
}

impl Retry {
    /// Whether a call of this idempotency may be repeated.
    pub fn allows(self, idempotent: bool) -> bool {
        match self {
            Retry::Never => false,
            Retry::Safe => true,
            Retry::IdempotentOnly => idempotent,
        }
    }
}
