//! The bulk writes, `/v3/items/insert`, `/v3/items/update` and
//! `/v3/items/remove`, decoded in one pass from the request's JSON text
//! (issue 14): items go straight into `pb::Item`s (`value::one_pass`), ids
//! into strings, with no `serde_json::Value` tree and no second walk. What
//! this decoder does not accept it leaves to `items::decode`, which answers
//! the same request exactly as before (see `value::one_pass`).

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::Endpoint;
use crate::Operation;
use crate::value::one_pass::{ItemSeed, Skip};
use extdb_contract::pb;

/// The endpoints decoded here.
fn decodes(endpoint: Endpoint) -> bool {
    matches!(
        endpoint,
        Endpoint::ItemsInsert | Endpoint::ItemsUpdate | Endpoint::ItemsRemove
    )
}

/// The operation of a bulk write request, or `None` when the `Value` path
/// has to decode it (an error to word, an input this decoder does not
/// take, an endpoint not decoded here).
pub(crate) fn decode_write(
    endpoint: Endpoint,
    request: &str,
    context: &pb::CallContext,
) -> Option<Operation> {
    if !decodes(endpoint) {
        return None;
    }
    let mut de = serde_json::Deserializer::from_str(request);
    let WriteRequest {
        collection_id,
        items,
        item_ids,
    } = de.deserialize_map(WriteVisitor { endpoint }).ok()?;
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
        Endpoint::ItemsRemove => Some(Operation::RemoveItems(pb::RemoveItemsRequest {
            context,
            collection_id,
            item_ids,
        })),
        _ => None,
    }
}

/// What `items::decode` reads of a bulk write request.
struct WriteRequest {
    collection_id: Option<String>,
    /// Of an insert or update.
    items: Vec<pb::Item>,
    /// Of a remove.
    item_ids: Vec<String>,
}

struct WriteVisitor {
    endpoint: Endpoint,
}

impl<'de> Visitor<'de> for WriteVisitor {
    type Value = WriteRequest;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<WriteRequest, A::Error> {
        let mut request = WriteRequest {
            collection_id: None,
            items: Vec::new(),
            item_ids: Vec::new(),
        };
        let removes = self.endpoint == Endpoint::ItemsRemove;
        // A repeated member's last occurrence wins, as in a `Map`. A member
        // the endpoint does not read is skipped, as `items::decode` ignores
        // it.
        while let Some(member) = map.next_key::<Member>()? {
            match member {
                // Anything but a string is an error to word.
                Member::CollectionId => request.collection_id = Some(map.next_value()?),
                Member::Items if !removes => request.items = map.next_value_seed(ItemsSeed)?,
                // `string_elements`: `null` is none, else strings only.
                Member::ItemIds if removes => {
                    request.item_ids = map.next_value::<Option<Vec<String>>>()?.unwrap_or_default();
                }
                Member::Items | Member::ItemIds | Member::Other => {
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
    ItemIds,
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
                    "itemIds" => Member::ItemIds,
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
