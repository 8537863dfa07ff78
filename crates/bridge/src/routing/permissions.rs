//! The per-collection permissions policy (`permissions` in the YAML, spec
//! envelope §3.2b/§3.3): which callers may read, write and change the
//! schema of a collection, checked by the router before any backend call,
//! for both protocol families.
//!
//! * What a call does (read, write, schema) is the contract's per-RPC
//!   table ([`Rpc::ACCESS`]), not a list kept here.
//! * Who calls is the call context's identity type: v3 `identityType`, or
//!   the legacy `role`/`memberRole` as the protocol stage maps it (OWNER ->
//!   WIX_USER, BACKEND_CODE -> APP, MEMBER -> MEMBER, VISITOR ->
//!   ANONYMOUS_VISITOR). A call without an identity (v3 UNKNOWN or none,
//!   legacy without a role) counts as an anonymous visitor (§3.3); refused,
//!   it is a 401 (no identity), where a named caller is a 403.
//! * Calls about no one collection (capabilities, `collections/get`,
//!   provision) are not restricted: Wix reads schemas to plan every call
//!   and caches them across callers, so the policy guards items and schema
//!   changes, not the list of collections.
//!
//! A legacy endpoint that makes several backend calls has each checked:
//! adding a column reads the collection (a read) and then updates it
//! (refused before it is sent when schema changes are not allowed).

use std::collections::HashMap;

use extdb_contract::{Access, Rpc, pb};
use extdb_protocol::Operation;
use extdb_protocol::error::ApiError;

use super::glob_matches;
use crate::config::{PermissionRule, PermissionsConfig};

/// The `reason` label of `auth_failures` for a call the policy refused.
pub const DENIED_REASON: &str = "permission_denied";

/// The caller names the YAML accepts, with the identity types each stands
/// for. v3 identity types, the legacy roles they map from, and two groups
/// (ADMIN as in §3.3's Velo column, ANYONE).
const CALLER_NAMES: [(&str, &[pb::IdentityType]); 9] = {
    use pb::IdentityType::{AnonymousVisitor, App, Member, WixUser};
    [
        ("WIX_USER", &[WixUser]),
        ("APP", &[App]),
        ("MEMBER", &[Member]),
        ("ANONYMOUS_VISITOR", &[AnonymousVisitor]),
        ("OWNER", &[WixUser]),
        ("BACKEND_CODE", &[App]),
        ("VISITOR", &[AnonymousVisitor]),
        ("ADMIN", &[WixUser, App]),
        ("ANYONE", &[WixUser, App, Member, AnonymousVisitor]),
    ]
};

/// One caller name of the YAML, resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallerName(Callers);

impl CallerName {
    /// Resolves a caller name (ASCII case ignored); the error says why not,
    /// for the config's problem list.
    pub fn parse(name: &str) -> Result<CallerName, String> {
        let upper = name.trim().to_ascii_uppercase();
        if let Some((_, types)) = CALLER_NAMES.iter().find(|(known, _)| *known == upper) {
            return Ok(CallerName(types.iter().copied().collect()));
        }
        if upper == "UNKNOWN" {
            return Err(
                "UNKNOWN is not a caller name: a call without an identity counts as an anonymous visitor (spec envelope §3.3); list ANONYMOUS_VISITOR (or VISITOR) to admit it".into(),
            );
        }
        let known: Vec<&str> = CALLER_NAMES.iter().map(|(known, _)| *known).collect();
        Err(format!(
            "unknown caller \"{name}\" (known: {})",
            known.join(", ")
        ))
    }
}

/// A set of identity types.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Callers(u8);

impl Callers {
    fn contains(self, identity: pb::IdentityType) -> bool {
        self.0 & Self::bit(identity) != 0
    }

    fn bit(identity: pb::IdentityType) -> u8 {
        1 << (identity as i32 as u32 & 7)
    }
}

impl FromIterator<pb::IdentityType> for Callers {
    fn from_iter<I: IntoIterator<Item = pb::IdentityType>>(types: I) -> Callers {
        Callers(types.into_iter().fold(0, |bits, t| bits | Callers::bit(t)))
    }
}

/// One rule: `None` leaves an action unrestricted.
#[derive(Debug, Clone, Default)]
struct Rule {
    read: Option<Callers>,
    write: Option<Callers>,
    schema: Option<Callers>,
}

impl Rule {
    /// The rule as configured; names that do not resolve (the config's
    /// validation refuses them at start-up) admit nobody.
    fn new(config: &PermissionRule) -> Rule {
        let callers = |list: &Option<Vec<String>>| {
            list.as_ref().map(|names| {
                Callers(
                    names
                        .iter()
                        .filter_map(|name| CallerName::parse(name).ok())
                        .fold(0, |bits, name| bits | name.0.0),
                )
            })
        };
        Rule {
            read: callers(&config.read),
            write: callers(&config.write),
            schema: callers(&config.schema),
        }
    }

    fn callers(&self, access: Access) -> Option<Callers> {
        match access {
            Access::Read => self.read,
            Access::Write => self.write,
            Access::Schema => self.schema,
        }
    }
}

/// The policy, built once from `permissions`. Empty (the default): every
/// call is allowed.
#[derive(Debug, Clone, Default)]
pub struct Permissions {
    exact: HashMap<String, Rule>,
    /// Most specific (most literal characters) first.
    patterns: Vec<(String, Rule)>,
}

impl Permissions {
    pub fn new(config: &PermissionsConfig) -> Permissions {
        let mut exact = HashMap::new();
        let mut patterns = Vec::new();
        for (id, rule) in &config.0 {
            if id.contains('*') {
                patterns.push((id.clone(), Rule::new(rule)));
            } else {
                exact.insert(id.clone(), Rule::new(rule));
            }
        }
        patterns.sort_by_key(|(pattern, _)| std::cmp::Reverse(literal_len(pattern)));
        Permissions { exact, patterns }
    }

    pub fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.patterns.is_empty()
    }

    /// The rule for a collection: its exact entry, else the most specific
    /// matching pattern.
    fn rule(&self, collection_id: &str) -> Option<&Rule> {
        self.exact.get(collection_id).or_else(|| {
            self.patterns
                .iter()
                .find(|(pattern, _)| glob_matches(pattern, collection_id))
                .map(|(_, rule)| rule)
        })
    }

    /// Whether the caller of `op` may make it; the error is the protocol's
    /// 401 (no identity) or 403 (an identity the rule leaves out).
    pub fn check(&self, op: &Operation) -> Result<(), ApiError> {
        if self.is_empty() {
            return Ok(());
        }
        let (Some(access), Some(collection_id)) = (access(op), op.collection_id()) else {
            return Ok(());
        };
        let Some(allowed) = self
            .rule(collection_id)
            .and_then(|rule| rule.callers(access))
        else {
            return Ok(());
        };
        let identity = identity_type(op);
        // No identity: an anonymous visitor's rights at most (§3.3).
        let acting_as = match identity {
            pb::IdentityType::Unknown => pb::IdentityType::AnonymousVisitor,
            named => named,
        };
        if allowed.contains(acting_as) {
            return Ok(());
        }
        Err(ApiError::PermissionDenied {
            collection_id: collection_id.to_owned(),
            access: access.as_str(),
            identity: match identity {
                pb::IdentityType::Unknown => None,
                named => Some(named.wix_name()),
            },
        })
    }
}

/// What a call does and who makes it, from the contract's per-RPC table.
macro_rules! access_and_identity {
    ($( $(#[$doc:meta])* $rpc:ident {
        method: $method:ident,
        request: $req:ident,
        response: $resp:ident,
        reply: $reply:ident,
        $($facts:tt)*
    } )*) => {
        /// Read, write or schema change; `None` for `Provision`, which no
        /// backend answers.
        fn access(op: &Operation) -> Option<Access> {
            match op {
                $(Operation::$rpc(_) => Some(<pb::$req as Rpc>::ACCESS),)*
                Operation::Provision => None,
            }
        }

        /// The caller's identity type (UNKNOWN when the call names none).
        fn identity_type(op: &Operation) -> pb::IdentityType {
            let context = match op {
                $(Operation::$rpc(r) => Rpc::context(r),)*
                Operation::Provision => None,
            };
            context
                .and_then(|c| c.identity.as_ref())
                .and_then(|i| pb::IdentityType::try_from(i.r#type).ok())
                .unwrap_or(pb::IdentityType::Unknown)
        }
    };
}

extdb_contract::for_each_rpc!(access_and_identity);

/// The v3 name of an identity type, as messages show it.
fn literal_len(pattern: &str) -> usize {
    pattern.chars().filter(|c| *c != '*').count()
}

/// Whether two patterns are equally specific and some id matches both:
/// then neither would win for that id, so the config refuses the pair.
pub fn equally_specific_overlap(a: &str, b: &str) -> bool {
    literal_len(a) == literal_len(b) && globs_intersect(a.as_bytes(), b.as_bytes())
}

/// Whether some text matches both `*`-globs (on bytes: a multi-byte
/// character is a run of literal bytes to both patterns alike). A search
/// over pairs of positions, each visited once.
fn globs_intersect(a: &[u8], b: &[u8]) -> bool {
    let mut seen = vec![false; (a.len() + 1) * (b.len() + 1)];
    let mut stack = vec![(0usize, 0usize)];
    while let Some((i, j)) = stack.pop() {
        let slot = i * (b.len() + 1) + j;
        if seen[slot] {
            continue;
        }
        seen[slot] = true;
        match (a.get(i), b.get(j)) {
            (None, None) => return true,
            // A star may match nothing, or take the next byte the other
            // side produces (a literal, or anything its own star does).
            (Some(b'*'), other) => {
                stack.push((i + 1, j));
                if other.is_some() {
                    stack.push((i, j + 1));
                }
            }
            (other, Some(b'*')) => {
                stack.push((i, j + 1));
                if other.is_some() {
                    stack.push((i + 1, j));
                }
            }
            (Some(x), Some(y)) if x == y => stack.push((i + 1, j + 1)),
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests;
