//! Request JSON text straight into `pb::Value`s and `pb::Item`s, in one
//! pass, with no `serde_json::Value` tree (issue 14), by the rules of
//! `value.rs` (shared with the `Value` path, not copied).
//!
//! A one-pass decoder accepts only what the `Value` path accepts and
//! decodes it to the same values. On anything else it stops with a serde
//! error ([`refused`]) and its caller decodes the same text the `Value`
//! way, which words the 400 exactly as before: errors are rare, and only
//! success has to be one pass.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Number;

use super::{
    DATE_KEY, ITEM_FIELD_DEPTH, depth_allowed, null_kind, number_value, parse_timestamp,
    sole_date_member,
};
use extdb_contract::pb;
use extdb_contract::pb::value::Kind;

/// The one-pass decoder leaves this input to the `Value` path.
fn refused<E: de::Error>() -> E {
    E::custom("left to the Value path")
}

/// One JSON value as a `pb::Value` kind; `depth` = arrays/objects already
/// entered above it (as in `kind_at`).
pub(crate) struct KindSeed {
    pub depth: usize,
}

impl<'de> DeserializeSeed<'de> for KindSeed {
    type Value = Kind;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Kind, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for KindSeed {
    type Value = Kind;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Kind, E> {
        Ok(null_kind())
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Kind, E> {
        Ok(Kind::BoolValue(b))
    }

    // Numbers as a `Value` holds them, then the one number rule.
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Kind, E> {
        number(&Number::from(n))
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Kind, E> {
        number(&Number::from(n))
    }

    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Kind, E> {
        number(&Number::from_f64(n).ok_or_else(refused::<E>)?)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Kind, E> {
        Ok(Kind::StringValue(text.to_owned()))
    }

    fn visit_string<E: de::Error>(self, text: String) -> Result<Kind, E> {
        Ok(Kind::StringValue(text))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Kind, A::Error> {
        if !depth_allowed(self.depth) {
            return Err(refused());
        }
        let mut values = Vec::new();
        while let Some(kind) = seq.next_element_seed(KindSeed {
            depth: self.depth + 1,
        })? {
            values.push(pb::Value { kind: Some(kind) });
        }
        Ok(Kind::ListValue(pb::ListValue { values }))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Kind, A::Error> {
        // Whether it is a date literal is known only at its end (a later
        // duplicate key may replace the `$date`), so the members are read
        // first, one level down, and the literal recognised after.
        let fields = fields(map, self.depth + 1)?;
        if let Some(date) = sole_date_member(fields.len(), fields.get(DATE_KEY)) {
            return match &date.kind {
                Some(Kind::StringValue(text)) => parse_timestamp(text)
                    .map(Kind::TimestampValue)
                    .ok_or_else(refused),
                _ => Err(refused()),
            };
        }
        if !depth_allowed(self.depth) {
            return Err(refused());
        }
        Ok(Kind::ObjectValue(pb::ObjectValue { fields }))
    }
}

fn number<E: de::Error>(n: &Number) -> Result<Kind, E> {
    number_value(n).map(Kind::NumberValue).ok_or_else(refused)
}

/// The members of an object, each at `depth`; a repeated key's last value
/// wins, as in a `serde_json::Map`.
fn fields<'de, A: MapAccess<'de>>(
    mut map: A,
    depth: usize,
) -> Result<BTreeMap<String, pb::Value>, A::Error> {
    let mut fields = BTreeMap::new();
    while let Some(key) = map.next_key::<String>()? {
        let kind = map.next_value_seed(KindSeed { depth })?;
        fields.insert(key, pb::Value { kind: Some(kind) });
    }
    Ok(fields)
}

/// One item: a JSON object (as in `item_at`).
pub(crate) struct ItemSeed;

impl<'de> DeserializeSeed<'de> for ItemSeed {
    type Value = pb::Item;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<pb::Item, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ItemSeed {
    type Value = pb::Item;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an item (a JSON object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<pb::Item, A::Error> {
        Ok(pb::Item {
            fields: fields(map, ITEM_FIELD_DEPTH)?,
        })
    }
}

/// Any JSON value, read as strictly as into a `Value` (serde_json parses
/// each string, number and container: what it would refuse, it refuses
/// here too), and dropped: the members a decoder does not read.
pub(crate) struct Skip;

impl<'de> de::Deserialize<'de> for Skip {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(Skip)
    }
}

impl<'de> Visitor<'de> for Skip {
    type Value = Skip;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Skip, A::Error> {
        // serde_json parses a key in full even for `IgnoredAny`.
        while map.next_key::<IgnoredAny>()?.is_some() {
            map.next_value::<Skip>()?;
        }
        Ok(Skip)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Skip, A::Error> {
        while seq.next_element::<Skip>()?.is_some() {}
        Ok(Skip)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Skip, E> {
        Ok(Skip)
    }
}
