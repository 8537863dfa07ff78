//! AIP-132 `order_by`: `path [asc|desc], ...` over scalar fields (dotted
//! paths allowed). Ties are broken by name so paging is stable.

use std::cmp::Ordering;

use prost_reflect::{DynamicMessage, MessageDescriptor};
use tonic::Status;

use crate::fields::{self, Datum, Leaf, Step};
use crate::names::invalid;

#[derive(Debug, Clone)]
struct Key {
    steps: Vec<Step>,
    descending: bool,
}

/// A parsed `order_by`.
#[derive(Debug, Clone, Default)]
pub(crate) struct OrderBy {
    keys: Vec<Key>,
}

impl OrderBy {
    pub fn parse(text: &str, message: &MessageDescriptor) -> Result<Self, Status> {
        let mut keys = Vec::new();
        if text.trim().is_empty() {
            return Ok(Self { keys });
        }
        for part in text.split(',') {
            let words: Vec<&str> = part.split_whitespace().collect();
            let (path, descending) = match words.as_slice() {
                [path] => (*path, false),
                [path, "asc"] => (*path, false),
                [path, "desc"] => (*path, true),
                _ => {
                    return Err(invalid(
                        "order_by",
                        format!(
                            "order_by: {:?} is not `field` or `field desc` (AIP-132)",
                            part.trim()
                        ),
                    ));
                }
            };
            let field = fields::resolve(message, path, false)
                .map_err(|e| invalid("order_by", format!("order_by: {e}")))?;
            let sortable = !field.repeated
                && matches!(
                    field.leaf,
                    Leaf::String
                        | Leaf::Int
                        | Leaf::Float
                        | Leaf::Bool
                        | Leaf::Enum(_)
                        | Leaf::Timestamp
                );
            if !sortable {
                return Err(invalid(
                    "order_by",
                    format!(
                        "order_by: `{path}` cannot be sorted by ({}{})",
                        if field.repeated { "repeated " } else { "" },
                        field.leaf.describe()
                    ),
                ));
            }
            keys.push(Key {
                steps: field.steps,
                descending,
            });
        }
        Ok(Self { keys })
    }

    /// No keys: the default order, by name.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The sort key of one book, read once per list rather than once per
    /// comparison.
    pub fn key(&self, message: &DynamicMessage) -> Vec<Datum> {
        self.keys
            .iter()
            .map(|key| fields::get(message, &key.steps))
            .collect()
    }

    /// Compares two sort keys (ties are left to the caller: by name).
    pub fn compare(&self, a: &[Datum], b: &[Datum]) -> Ordering {
        for ((key, a), b) in self.keys.iter().zip(a).zip(b) {
            let ordering = compare_data(a, b);
            let ordering = if key.descending {
                ordering.reverse()
            } else {
                ordering
            };
            if ordering != Ordering::Equal {
                return ordering;
            }
        }
        Ordering::Equal
    }
}

/// Unset values sort first.
fn compare_data(a: &Datum, b: &Datum) -> Ordering {
    match (a, b) {
        (Datum::Absent, Datum::Absent) => Ordering::Equal,
        (Datum::Absent, _) => Ordering::Less,
        (_, Datum::Absent) => Ordering::Greater,
        (Datum::Str(a), Datum::Str(b)) => a.cmp(b),
        (Datum::Int(a), Datum::Int(b)) => a.cmp(b),
        (Datum::Float(a), Datum::Float(b)) => a.total_cmp(b),
        (Datum::Bool(a), Datum::Bool(b)) => a.cmp(b),
        (Datum::Enum(a), Datum::Enum(b)) => a.cmp(b),
        (Datum::Time(a, an), Datum::Time(b, bn)) => (a, an).cmp(&(b, bn)),
        _ => Ordering::Equal,
    }
}
