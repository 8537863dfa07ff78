//! Protobuf wire bytes of an items answer -> the protocol's JSON, in one
//! walk: the protocol stage's [`ReplyJsonWriter`] writes, this module only
//! reads the wire format (no `pb::Item`, map or `String` per field).
//!
//! The walk takes the encodings every backend produces. Anything else it
//! meets (a oneof or map entry field given twice, which prost would merge;
//! a known field with another wire type; groups; invalid UTF-8; nesting
//! deeper than [`MAX_WALK_DEPTH`]) makes it give up with [`Unusual`], and
//! the caller decodes the message with prost instead: the same answer, or
//! the same decode error, as before transcoding. Map entries out of key
//! order or repeated (other encoders than prost) are handled here: sorted,
//! the last value of a key kept, as prost's `BTreeMap` would.

use prost::Message as _;

use extdb_contract::pb;
use extdb_protocol::{JsonReply, JsonReplyKind, ReplyJsonWriter};

/// Message nesting the walk follows before it hands over to prost. Below
/// prost's own recursion limit (100) however prost counts, so a message
/// the walk takes is one prost takes too.
const MAX_WALK_DEPTH: usize = 64;

const VARINT: u8 = 0;
const I64: u8 = 1;
const LEN: u8 = 2;
const I32: u8 = 5;

/// The walk met an encoding it leaves to prost (see the module docs).
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Unusual;

/// Transcodes one answer of `kind`: `QueryItemsResponse`,
/// `QueryDistinctValuesResponse`, `QueryReferencedItemsResponse` (a list
/// at field 1, paging metadata at field 2) or
/// `Insert/Update/RemoveItemsResponse` (results at field 1).
pub(super) fn transcode(kind: JsonReplyKind, wire: &[u8]) -> Result<JsonReply, Unusual> {
    let mut walk = Walk::default();
    let mut writer = ReplyJsonWriter::new(kind, wire.len());
    let mut metadata: Option<pb::PagingMetadata> = None;
    let mut reader = Reader::new(wire);
    while !reader.done() {
        match (kind, reader.key()?) {
            (_, (1, LEN)) => {
                let element = reader.bytes()?;
                writer.element();
                match kind {
                    JsonReplyKind::Items => walk.object(&mut writer, element, 1)?,
                    JsonReplyKind::DistinctValues => walk.value(&mut writer, element, 1)?,
                    JsonReplyKind::ReferencedItems => {
                        walk.referenced_item(&mut writer, element)?;
                    }
                    JsonReplyKind::Results => walk.item_result(&mut writer, element)?,
                }
            }
            // Small and typed: routing seals its cursors. Repeated, prost
            // merges it: so does `merge`.
            (kind, (2, LEN)) if kind != JsonReplyKind::Results => metadata
                .get_or_insert_default()
                .merge(reader.bytes()?)
                .map_err(|_| Unusual)?,
            (_, (1, _)) => return Err(Unusual),
            (kind, (2, _)) if kind != JsonReplyKind::Results => return Err(Unusual),
            (_, (_, wire_type)) => reader.skip(wire_type)?,
        }
    }
    Ok(writer.finish(metadata))
}

/// One map entry of an object, borrowed from the wire: key and encoded
/// value (`None`: the entry has no value, which is null).
type Entry<'a> = (&'a str, Option<&'a [u8]>);

/// Entry lists reused across objects, one per nesting level in use.
#[derive(Default)]
struct Walk<'a> {
    spare: Vec<Vec<Entry<'a>>>,
}

impl<'a> Walk<'a> {
    /// An `ItemResult`: `{"item": ...}` or `{"error": ...}`.
    fn item_result(&mut self, w: &mut ReplyJsonWriter, wire: &'a [u8]) -> Result<(), Unusual> {
        let mut found = None;
        let mut reader = Reader::new(wire);
        while !reader.done() {
            match reader.key()? {
                // A oneof member given twice: prost merges or replaces.
                (1 | 2, LEN) if found.is_some() => return Err(Unusual),
                (field @ (1 | 2), LEN) => found = Some((field, reader.bytes()?)),
                (1 | 2, _) => return Err(Unusual),
                (_, wire_type) => reader.skip(wire_type)?,
            }
        }
        w.begin_object();
        match found {
            Some((1, item)) => {
                w.key("item");
                self.object(w, item, 2)?;
            }
            // Rare: decoded, and rendered by the typed path's code.
            Some((_, error)) => {
                let error = pb::ItemError::decode(error).map_err(|_| Unusual)?;
                w.key("error");
                w.item_error(Some(&error));
            }
            None => {
                w.key("error");
                w.item_error(None);
            }
        }
        w.end_object();
        Ok(())
    }

    /// A `ReferencedItem`: `{referencedItem?, referencedItemId,
    /// referringItemId}` (the typed path's key order).
    fn referenced_item(&mut self, w: &mut ReplyJsonWriter, wire: &'a [u8]) -> Result<(), Unusual> {
        let (mut referring, mut referenced, mut item) = ("", "", None);
        let mut reader = Reader::new(wire);
        while !reader.done() {
            match reader.key()? {
                // Strings: the last wins, as in prost.
                (1, LEN) => referring = utf8(reader.bytes()?)?,
                (2, LEN) => referenced = utf8(reader.bytes()?)?,
                // A message given twice: prost merges.
                (3, LEN) if item.is_some() => return Err(Unusual),
                (3, LEN) => item = Some(reader.bytes()?),
                (1..=3, _) => return Err(Unusual),
                (_, wire_type) => reader.skip(wire_type)?,
            }
        }
        w.begin_object();
        if let Some(item) = item {
            w.key("referencedItem");
            self.object(w, item, 2)?;
        }
        w.key("referencedItemId");
        w.string(referenced);
        w.key("referringItemId");
        w.string(referring);
        w.end_object();
        Ok(())
    }

    /// An `Item` or `ObjectValue` (both `map<string, Value> fields = 1`):
    /// a JSON object, keys sorted.
    fn object(
        &mut self,
        w: &mut ReplyJsonWriter,
        wire: &'a [u8],
        depth: usize,
    ) -> Result<(), Unusual> {
        if depth > MAX_WALK_DEPTH {
            return Err(Unusual);
        }
        let mut entries = self.spare.pop().unwrap_or_default();
        entries.clear();
        let mut reader = Reader::new(wire);
        let mut sorted = true;
        while !reader.done() {
            match reader.key()? {
                (1, LEN) => {
                    let entry = entry(reader.bytes()?)?;
                    if let Some(last) = entries.last() {
                        sorted &= last.0 < entry.0;
                    }
                    entries.push(entry);
                }
                (1, _) => return Err(Unusual),
                (_, wire_type) => reader.skip(wire_type)?,
            }
        }
        if !sorted {
            sort_keeping_last(&mut entries);
        }
        w.begin_object();
        for &(key, value) in &entries {
            w.key(key);
            match value {
                Some(value) => self.value(w, value, depth + 2)?,
                None => w.null(),
            }
        }
        w.end_object();
        self.spare.push(entries);
        Ok(())
    }

    /// A `Value`: exactly one `kind` member (none: null).
    fn value(
        &mut self,
        w: &mut ReplyJsonWriter,
        wire: &'a [u8],
        depth: usize,
    ) -> Result<(), Unusual> {
        if depth > MAX_WALK_DEPTH {
            return Err(Unusual);
        }
        let mut kind = None;
        let mut reader = Reader::new(wire);
        while !reader.done() {
            let (field, wire_type) = reader.key()?;
            let member = match (field, wire_type) {
                (1 | 2, VARINT) => Member::Varint(reader.varint()?),
                (3, I64) => Member::Fixed(reader.fixed64()?),
                (4..=7, LEN) => Member::Bytes(reader.bytes()?),
                (1..=7, _) => return Err(Unusual),
                (_, wire_type) => {
                    reader.skip(wire_type)?;
                    continue;
                }
            };
            // A oneof given twice: prost keeps the last, merging messages.
            if kind.is_some() {
                return Err(Unusual);
            }
            kind = Some((field, member));
        }
        match kind {
            None | Some((1, _)) => w.null(),
            Some((2, Member::Varint(flag))) => w.bool(flag != 0),
            Some((3, Member::Fixed(bits))) => w.number(f64::from_bits(bits)),
            Some((4, Member::Bytes(text))) => w.string(utf8(text)?),
            Some((5, Member::Bytes(timestamp))) => {
                let (seconds, nanos) = self::timestamp(timestamp)?;
                w.timestamp(seconds, nanos);
            }
            Some((6, Member::Bytes(list))) => {
                w.begin_array();
                let mut reader = Reader::new(list);
                while !reader.done() {
                    match reader.key()? {
                        (1, LEN) => self.value(w, reader.bytes()?, depth + 2)?,
                        (1, _) => return Err(Unusual),
                        (_, wire_type) => reader.skip(wire_type)?,
                    }
                }
                w.end_array();
            }
            Some((7, Member::Bytes(object))) => self.object(w, object, depth + 1)?,
            Some(_) => return Err(Unusual),
        }
        Ok(())
    }
}

enum Member<'a> {
    Varint(u64),
    Fixed(u64),
    Bytes(&'a [u8]),
}

/// One map entry: `key = 1`, `value = 2`; either may be absent.
fn entry(wire: &[u8]) -> Result<Entry<'_>, Unusual> {
    let mut key = None;
    let mut value = None;
    let mut reader = Reader::new(wire);
    while !reader.done() {
        match reader.key()? {
            (1, LEN) if key.is_none() => key = Some(utf8(reader.bytes()?)?),
            (2, LEN) if value.is_none() => value = Some(reader.bytes()?),
            (1 | 2, _) => return Err(Unusual),
            (_, wire_type) => reader.skip(wire_type)?,
        }
    }
    Ok((key.unwrap_or_default(), value))
}

/// `google.protobuf.Timestamp`: `int64 seconds = 1`, `int32 nanos = 2`
/// (a repeated scalar: the last wins, as in prost).
fn timestamp(wire: &[u8]) -> Result<(i64, i32), Unusual> {
    let (mut seconds, mut nanos) = (0, 0);
    let mut reader = Reader::new(wire);
    while !reader.done() {
        match reader.key()? {
            (1, VARINT) => seconds = reader.varint()? as i64,
            (2, VARINT) => nanos = reader.varint()? as i32,
            (1 | 2, _) => return Err(Unusual),
            (_, wire_type) => reader.skip(wire_type)?,
        }
    }
    Ok((seconds, nanos))
}

/// Byte order is `String`'s order, so sorting the borrowed keys gives the
/// `BTreeMap` order; of a repeated key, the last entry wins.
fn sort_keeping_last(entries: &mut Vec<Entry<'_>>) {
    // Stable: equal keys stay in wire order.
    entries.sort_by(|a, b| a.0.cmp(b.0));
    let mut kept = 0;
    for i in 0..entries.len() {
        if entries
            .get(i + 1)
            .is_some_and(|next| next.0 == entries[i].0)
        {
            continue;
        }
        entries.swap(kept, i);
        kept += 1;
    }
    entries.truncate(kept);
}

fn utf8(bytes: &[u8]) -> Result<&str, Unusual> {
    std::str::from_utf8(bytes).map_err(|_| Unusual)
}

/// A cursor over one message's bytes.
struct Reader<'a> {
    wire: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(wire: &'a [u8]) -> Self {
        Reader { wire }
    }

    fn done(&self) -> bool {
        self.wire.is_empty()
    }

    /// A field key: (field number, wire type). Invalid keys (field 0,
    /// beyond u32, wire types 6 and 7) are prost's to report.
    fn key(&mut self) -> Result<(u32, u8), Unusual> {
        let key = self.varint()?;
        let field = u32::try_from(key >> 3).map_err(|_| Unusual)?;
        if field == 0 {
            return Err(Unusual);
        }
        Ok((field, (key & 7) as u8))
    }

    fn varint(&mut self) -> Result<u64, Unusual> {
        let mut value = 0u64;
        for (i, &byte) in self.wire.iter().enumerate().take(10) {
            // The tenth byte may only carry the top bit of a u64.
            if i == 9 && byte > 1 {
                return Err(Unusual);
            }
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte < 0x80 {
                self.wire = &self.wire[i + 1..];
                return Ok(value);
            }
        }
        Err(Unusual)
    }

    fn fixed64(&mut self) -> Result<u64, Unusual> {
        let (bytes, rest) = self.wire.split_first_chunk::<8>().ok_or(Unusual)?;
        self.wire = rest;
        Ok(u64::from_le_bytes(*bytes))
    }

    fn bytes(&mut self) -> Result<&'a [u8], Unusual> {
        let len = usize::try_from(self.varint()?).map_err(|_| Unusual)?;
        if len > self.wire.len() {
            return Err(Unusual);
        }
        let (bytes, rest) = self.wire.split_at(len);
        self.wire = rest;
        Ok(bytes)
    }

    /// Skips an unknown field's value (groups are left to prost).
    fn skip(&mut self, wire_type: u8) -> Result<(), Unusual> {
        match wire_type {
            VARINT => self.varint().map(drop),
            I64 => self.fixed64().map(drop),
            LEN => self.bytes().map(drop),
            I32 => {
                let (_, rest) = self.wire.split_first_chunk::<4>().ok_or(Unusual)?;
                self.wire = rest;
                Ok(())
            }
            _ => Err(Unusual),
        }
    }
}

#[cfg(test)]
mod tests;
