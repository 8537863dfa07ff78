//! Text matching done in Rust and registered as SQLite functions, so that no
//! pattern language (LIKE, GLOB, regular expressions) is ever built from
//! request text:
//!
//! * `extdb_contains(text, needle)`, `extdb_starts_with(...)`,
//!   `extdb_ends_with(...)`: case-insensitive (Unicode lower-casing).
//! * `extdb_matches(text, pattern)`: MATCHES and URLIZED. `pattern` is the
//!   JSON form of [`Pattern`], bound as a parameter; it is parsed once per
//!   statement (SQLite auxiliary data) and matched in linear time: a pattern
//!   is a fixed sequence of literal runs and one-character classes, so there
//!   is no backtracking.
//!
//! Each function returns 0 for non-text input and never NULL, which keeps
//! every filter condition two-valued.

use rusqlite::Connection;
use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::ValueRef;
use serde::{Deserialize, Serialize};

/// One element of an anchored pattern.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum PatternPart {
    /// Exactly this text.
    Literal(String),
    /// Exactly one character out of this set.
    AnyOf(String),
}

/// A whole-value pattern: the concatenation of the parts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Pattern {
    pub ignore_case: bool,
    pub parts: Vec<PatternPart>,
}

impl Pattern {
    /// Lower-cases the pattern once when matching ignores case.
    fn normalized(mut self) -> Self {
        if self.ignore_case {
            for part in &mut self.parts {
                match part {
                    PatternPart::Literal(text) | PatternPart::AnyOf(text) => {
                        *text = text.to_lowercase();
                    }
                }
            }
        }
        self
    }

    /// Whether the whole `text` matches. Expects a normalized pattern.
    pub(crate) fn is_match(&self, text: &str) -> bool {
        let lowered;
        let text = if self.ignore_case {
            lowered = text.to_lowercase();
            lowered.as_str()
        } else {
            text
        };
        let mut rest = text;
        for part in &self.parts {
            match part {
                PatternPart::Literal(literal) => match rest.strip_prefix(literal.as_str()) {
                    Some(after) => rest = after,
                    None => return false,
                },
                PatternPart::AnyOf(set) => {
                    let mut chars = rest.chars();
                    match chars.next() {
                        Some(c) if set.contains(c) => rest = chars.as_str(),
                        _ => return false,
                    }
                }
            }
        }
        rest.is_empty()
    }

    /// URLIZED: the lower-cased value equals the words joined by '-' or ' '.
    pub(crate) fn urlized(words: &[String]) -> Self {
        let mut parts = Vec::with_capacity(words.len() * 2);
        for (i, word) in words.iter().enumerate() {
            if i > 0 {
                parts.push(PatternPart::AnyOf("- ".to_owned()));
            }
            parts.push(PatternPart::Literal(word.clone()));
        }
        Self {
            ignore_case: true,
            parts,
        }
    }
}

fn text_arg<'a>(ctx: &'a Context<'_>, idx: usize) -> Option<&'a str> {
    match ctx.get_raw(idx) {
        ValueRef::Text(bytes) => std::str::from_utf8(bytes).ok(),
        _ => None,
    }
}

fn text_test(ctx: &Context<'_>, test: fn(&str, &str) -> bool) -> rusqlite::Result<i64> {
    Ok(match (text_arg(ctx, 0), text_arg(ctx, 1)) {
        (Some(text), Some(needle)) => i64::from(test(&text.to_lowercase(), &needle.to_lowercase())),
        _ => 0,
    })
}

/// Registers the matching functions on a connection.
pub(crate) fn register(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8
        | FunctionFlags::SQLITE_DETERMINISTIC
        | FunctionFlags::SQLITE_INNOCUOUS;
    conn.create_scalar_function("extdb_contains", 2, flags, |ctx| {
        text_test(ctx, |t, n| t.contains(n))
    })?;
    conn.create_scalar_function("extdb_starts_with", 2, flags, |ctx| {
        text_test(ctx, |t, n| t.starts_with(n))
    })?;
    conn.create_scalar_function("extdb_ends_with", 2, flags, |ctx| {
        text_test(ctx, |t, n| t.ends_with(n))
    })?;
    conn.create_scalar_function("extdb_matches", 2, flags, |ctx| {
        let pattern = ctx.get_or_create_aux(1, |raw| -> Result<Pattern, serde_json::Error> {
            let text = match raw {
                ValueRef::Text(bytes) => bytes,
                _ => b"null",
            };
            serde_json::from_slice::<Pattern>(text).map(Pattern::normalized)
        })?;
        Ok(match text_arg(ctx, 0) {
            Some(text) => i64::from(pattern.is_match(text)),
            None => 0,
        })
    })?;
    Ok(())
}

#[cfg(test)]
mod tests;
