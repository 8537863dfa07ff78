//! `permissions`: an opt-in, per-collection policy of which callers may
//! read, write and change the schema of a collection (spec envelope
//! §3.2b/§3.3). Without it, every call Wix sends is served: Wix applies its
//! own collection permissions first.
//!
//! ```yaml
//! permissions:
//!   orders:                        # a collection id ...
//!     read: [ADMIN, MEMBER]
//!     write: [ADMIN]
//!     schema: [WIX_USER]
//!   "audit_*":                     # ... or a pattern (`*`: any run of characters)
//!     write: []                    # an empty list: no caller
//! ```
//!
//! The policy itself (names, matching, the check) is
//! [`crate::routing::Permissions`]; this is its YAML and its validation.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::ConfigProblem;
use crate::routing::permissions::{CallerName, equally_specific_overlap};

/// Collection id or pattern -> its rule. Which rule applies to an id: its
/// exact entry, else the matching pattern with the most literal
/// characters (as for `collections` routes); two patterns that are equally
/// specific and can match the same id are refused at start-up.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct PermissionsConfig(pub BTreeMap<String, PermissionRule>);

/// Who may do what to the collections one entry matches. An action left
/// out is not restricted; `[]` allows no caller.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PermissionRule {
    /// Queries, counts, aggregations, distinct values, referenced items,
    /// index lists.
    #[serde(default)]
    pub read: Option<Vec<String>>,
    /// Inserts, updates, removals, truncation, references.
    #[serde(default)]
    pub write: Option<Vec<String>>,
    /// Creating, changing and deleting the collection and its indexes.
    #[serde(default)]
    pub schema: Option<Vec<String>>,
}

impl PermissionRule {
    /// The rule's lists by action name, as in the YAML.
    pub fn lists(&self) -> [(&'static str, Option<&Vec<String>>); 3] {
        [
            ("read", self.read.as_ref()),
            ("write", self.write.as_ref()),
            ("schema", self.schema.as_ref()),
        ]
    }
}

impl PermissionsConfig {
    /// Problems with the `permissions` section, each named by its path.
    pub fn problems(&self) -> Vec<ConfigProblem> {
        let mut problems = Vec::new();
        let mut problem = |path: String, message: String| {
            problems.push(ConfigProblem { path, message });
        };
        for (id, rule) in &self.0 {
            if id.is_empty() {
                problem("permissions".into(), "empty collection id".into());
                continue;
            }
            if rule.lists().iter().all(|(_, list)| list.is_none()) {
                problem(
                    format!("permissions.{id}"),
                    "empty rule: it restricts nothing; give read, write and/or schema (lists of callers, e.g. [ADMIN, MEMBER])".into(),
                );
            }
            for (action, list) in rule.lists() {
                for (index, name) in list.into_iter().flatten().enumerate() {
                    if let Err(why) = CallerName::parse(name) {
                        problem(format!("permissions.{id}.{action}[{index}]"), why);
                    }
                }
            }
        }
        let patterns: Vec<&String> = self.0.keys().filter(|id| id.contains('*')).collect();
        for (index, later) in patterns.iter().enumerate() {
            for earlier in &patterns[..index] {
                if equally_specific_overlap(earlier, later) {
                    problem(
                        format!("permissions.{later}"),
                        format!(
                            "overlaps pattern \"{earlier}\": some ids match both and neither is more specific (has more literal characters); add an exact entry or a more specific pattern for those ids, or merge the two"
                        ),
                    );
                }
            }
        }
        problems
    }
}

#[cfg(test)]
mod tests;
