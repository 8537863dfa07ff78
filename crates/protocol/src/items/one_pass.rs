//! `/v3/items/insert` and `/v3/items/update` decoded in one pass from the
//! request's JSON text (issue 14): the items go straight into `pb::Item`s
//! (`value::one_pass`), with no `serde_json::Value` tree and no second
//! walk. What this decoder does not accept it leaves to `items::decode`,
//! which answers the same request exactly as before (see
//! `value::one_pass`).

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::Endpoint;
use crate::Operation;
use crate::value::one_pass::{ItemSeed, Skip};
use extdb_contract::pb;

/// The operation of an insert or update request, or `None` when the
/// `Value` path has to decode it (an error to word, or an input this
/// decoder does not take). `endpoint` must be one of the two.
pub(crate) fn decode_write(
    endpoint: Endpoint,
    request: &str,
    context: &pb::CallContext,
) -> Option<Operation> {
    let mut de = serde_json::Deserializer::from_str(request);
    let WriteRequest {
        collection_id,
        items,
    } = de.deserialize_map(WriteVisitor).ok()?;
    de.end().ok()?;
    // `required_string`: present, a string, not empty.
    let collection_id = collection_id.filter(|id| !id.is_empty())?;
    let context = Some(context.clone());
    match endpoint {
        Endpoint::ItemsInsert => Some(Operation::InsertItems(pb::InsertItemsRequest {
            context,
            collection_id,
            items,
        })),
        Endpoint::ItemsUpdate => Some(Operation::UpdateItems(pb::UpdateItemsRequest {
            context,
            collection_id,
            items,
        })),
        _ => None,
    }
}

/// What `items::decode` reads of an insert or update request.
struct WriteRequest {
    collection_id: Option<String>,
    items: Vec<pb::Item>,
}

struct WriteVisitor;

impl<'de> Visitor<'de> for WriteVisitor {
    type Value = WriteRequest;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<WriteRequest, A::Error> {
        let mut request = WriteRequest {
            collection_id: None,
            items: Vec::new(),
        };
        // A repeated member's last occurrence wins, as in a `Map`.
        while let Some(member) = map.next_key::<Member>()? {
            match member {
                // Anything but a string is an error to word.
                Member::CollectionId => request.collection_id = Some(map.next_value()?),
                Member::Items => request.items = map.next_value_seed(ItemsSeed)?,
                Member::Other => {
                    map.next_value::<Skip>()?;
                }
            }
        }
        Ok(request)
    }
}

/// A member name of the request, matched without allocating it.
enum Member {
    CollectionId,
    Items,
    Other,
}

impl<'de> de::Deserialize<'de> for Member {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MemberVisitor;
        impl Visitor<'_> for MemberVisitor {
            type Value = Member;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }

            fn visit_str<E: de::Error>(self, name: &str) -> Result<Member, E> {
                Ok(match name {
                    "collectionId" => Member::CollectionId,
                    "items" => Member::Items,
                    _ => Member::Other,
                })
            }
        }
        deserializer.deserialize_str(MemberVisitor)
    }
}

/// `items`: `null` is none (proto3 JSON); otherwise an array of objects.
struct ItemsSeed;

impl<'de> DeserializeSeed<'de> for ItemsSeed {
    type Value = Vec<pb::Item>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ItemsSeed {
    type Value = Vec<pb::Item>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of items")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(ItemSeed)? {
            items.push(item);
        }
        Ok(items)
    }
}

#[cfg(test)]
mod tests;
